"""Run a command as a child subreaper and report every process it leaves behind.

    python reaper.py REPORT COMMAND [ARGS...]

The reaper becomes a child subreaper (PR_SET_CHILD_SUBREAPER), so that any
process of the command's tree that outlives its parent (a stub whose
supervisor died, a daemon) is re-parented to it instead of init.  It passes
its stdin, stdout and stderr to COMMAND, waits for it, gives orphans a moment
to die (stubs die by PR_SET_PDEATHSIG, which takes a few milliseconds), then
writes JSON to REPORT: the command's wait status and the pid/exe/cmdline of
every process still alive under it, kills those and exits 0.
"""

import ctypes
import json
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children(pid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append((int(name), fields[0]))
    return out


def describe(pid):
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        exe = None
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        cmdline = None
    return {"pid": pid, "exe": exe, "cmdline": cmdline}


def main():
    report, argv = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("reaper: PR_SET_CHILD_SUBREAPER failed")
    pid = os.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    _, status = os.waitpid(pid, 0)
    me = os.getpid()
    deadline = time.monotonic() + 2.0
    left = []
    while True:
        # Reap zombies (dead orphans); what is still alive is left behind.
        alive = []
        for cpid, state in children(me):
            if state == "Z":
                try:
                    os.waitpid(cpid, os.WNOHANG)
                except ChildProcessError:
                    pass
            else:
                alive.append(cpid)
        if not alive or time.monotonic() > deadline:
            left = [describe(p) for p in alive]
            break
        time.sleep(0.02)
    for d in left:
        try:
            os.kill(d["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
    with open(report, "w") as f:
        json.dump({"status": status, "left": left}, f)


if __name__ == "__main__":
    main()
