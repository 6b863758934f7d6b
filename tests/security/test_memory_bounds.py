"""Issue 14, item 3 (memory): work proportional to a guest-chosen size is bounded, and
guest frames stay within ``--memory`` with Linux's answers.

- ``hugemem``: mincore, madvise (WILLNEED, DONTFORK/DOFORK, DONTNEED), mprotect and munmap
  over a 256 GiB reservation and MAP_POPULATE of a large PROT_READ mapping: the same output
  as natively, and under umlpy also with a 1 TiB MAP_POPULATE (which Linux would take
  minutes to populate with zero pages), with the supervisor's peak RSS within the guest's
  memory plus a fixed overhead (a per-page list of 256 GiB or 1 TiB would be gigabytes).
- ``memhog``: a process that touches more memory than the machine has is killed with
  SIGKILL (the OOM killer), with one line on umlpy's stderr; the others go on; nothing
  is left behind.
"""

import os
import subprocess
import sys

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO

MEMORY = 128 << 20
#: What the supervisor may use beyond the guest's memory: the interpreter, umlpy, a
#: stub's peak, a bounded mincore step.
OVERHEAD = 160 << 20

#: Runs a command and reports the largest RSS among its descendants (ru_maxrss of the
#: reaped children: umlpy, and the stubs it reaped) on stderr's last line.
_RSS_WRAPPER = r"""
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.stderr.write("PEAK_RSS_KB %d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(p.returncode)
"""


def native_env() -> dict:
    return dict(item.decode().split("=", 1) for item in guest_env())


def run_cli_with_peak_rss(args, timeout=120):
    """(CompletedProcess, peak RSS in bytes) of ``umlpy run ARGS``."""
    cmd = [sys.executable, "-c", _RSS_WRAPPER, sys.executable, "-m", "umlpy", "run"] + args
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    lines = p.stderr.decode(errors="replace").splitlines()
    assert lines and lines[-1].startswith("PEAK_RSS_KB "), p.stderr
    p.stderr = "\n".join(lines[:-1]).encode()
    return p, int(lines[-1].split()[1]) * 1024


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_huge_ranges_are_bounded_work(guest_bin, platform, libc):
    path = os.path.join(guest_bin, "hugemem-" + libc)
    native = subprocess.run([path], stdout=subprocess.PIPE, env=native_env(), timeout=60)
    assert native.returncode == 0 and b"mincore 256 GiB: 0\n" in native.stdout
    for size in ("4", "1024"):
        guest, peak = run_cli_with_peak_rss(["--platform", platform, "--memory", str(MEMORY),
                                             path, size])
        assert guest.stdout == native.stdout, guest.stderr
        assert guest.returncode == 0
        assert b"Traceback" not in guest.stderr and b"internal error" not in guest.stderr
        assert peak < MEMORY + OVERHEAD, peak


def run_counted(argv, platform, memory):
    out, err = bytearray(), bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=err.extend))
    with Machine(platform=platform, console=console, memory=memory) as m:
        m.start(argv[0], argv, guest_env(), host_program=True)
        status = m.run()
        frames = m.kernel.frames.used_pages
        live = [a for a in m.platform.spaces if not a.released]
    return status, bytes(out), frames, live


@pytest.mark.parametrize("mode", ["child", "shared"])
def test_oom_kills_the_process_that_ran_out(guest_bin, platform, mode, capfd):
    status, out, frames, live = run_counted([os.path.join(guest_bin, "memhog"), mode, "200"],
                                            platform, 64 << 20)
    assert out == b"child killed by signal 9\nparent touched 1 MiB after it\n"
    assert status == 0
    assert frames == 0 and live == []
    assert capfd.readouterr().err.count("out of guest memory: killing process") == 1


def test_oom_of_the_first_process(guest_bin, platform):
    p, peak = run_cli_with_peak_rss(["--platform", platform, "--memory", "64M",
                                     os.path.join(guest_bin, "memhog"), "self", "200"])
    assert p.returncode == 128 + 9
    assert p.stdout == b""
    assert p.stderr.strip() == b"umlpy: out of guest memory: killing process 1"
    assert peak < (64 << 20) + OVERHEAD
