#!/usr/bin/env python3
"""Run the sysfuzz guest over many seeds and report any seed where umlpy fails.

    python3 tools/fuzz_syscalls.py [FIRST LAST [CALLS]] [--platform c|python]

A failure is an internal error of the supervisor (UMLPY_DEBUG=1 makes it a
traceback), a hang (no exit within the time limit), or umlpy's own exit
status 125.  Guest deaths by signal are normal: the guest writes garbage
through its own pointers.
"""

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "guest_images", "build", "bin", "sysfuzz")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", type=int, nargs="?", default=1)
    ap.add_argument("last", type=int, nargs="?", default=100)
    ap.add_argument("calls", type=int, nargs="?", default=3000)
    ap.add_argument("--platform", default="c")
    ap.add_argument("--timeout", type=float, default=60)
    ns = ap.parse_args()
    env = dict(os.environ, UMLPY_DEBUG="1", PYTHONPATH=ROOT)
    bad = 0
    for seed in range(ns.first, ns.last + 1):
        cmd = [sys.executable, "-m", "umlpy", "run", "--platform", ns.platform, FUZZ, str(seed), str(ns.calls)]
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=ns.timeout, env=env)
        except subprocess.TimeoutExpired:
            print("seed %d: hang" % seed)
            bad += 1
            continue
        if b"Traceback" in p.stderr or p.returncode == 125:
            print("seed %d: exit %d\n%s" % (seed, p.returncode, p.stderr.decode(errors="replace")[-2000:]))
            bad += 1
    print("%d seeds, %d failures" % (ns.last - ns.first + 1, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
