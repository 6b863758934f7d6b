"""Issue 14, finding 1: umlpy started with stdin, stdout or stderr closed.

The physical-memory file used to land on the closed fd: a guest reading its
stdin read every guest's frames, its console writes went into guest memory.
Now the guest finds the same fds closed as the program would natively (EBADF),
its console never reaches a file of the supervisor, and the supervisor's own
fds stay off 0-2 and are close-on-exec.
"""

import os
import shlex
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REDIRECTIONS = ["<&-", ">&-", "2>&-", "<&- >&-", "<&- 2>&-", ">&- 2>&-", "<&- >&- 2>&-"]


@pytest.mark.parametrize("redir", REDIRECTIONS)
def test_closed_std_fds_as_natively(guest_bin, platform, contained, umlpy_cmd, tmp_path, tree_snapshot,
                                    redir):
    prog = shlex.quote(os.path.join(guest_bin, "stdfds"))
    before = tree_snapshot(tmp_path)
    native = contained("exec %s %s" % (prog, redir))
    guest = contained("exec %s run --platform %s %s %s" % (umlpy_cmd, platform, prog, redir))
    assert (guest.returncode, guest.stdout, guest.stderr) == (native.returncode, native.stdout,
                                                             native.stderr)
    assert native.returncode & 1 == (0 if "<&-" in redir else 1)     # the program saw it closed
    assert guest.left == [] and native.left == []
    after = tree_snapshot(tmp_path)
    assert {p: v for p, v in after.items() if "reaper-" not in p} == before


def test_console_never_reads_guest_memory(guest_bin, platform, contained, umlpy_cmd):
    # cat with stdin closed: natively EBADF at once; before the fix it printed the
    # physmem file (its own ELF image first) and never ended.
    prog = shlex.quote(os.path.join(guest_bin, "cat"))
    native = contained("exec %s <&-" % prog)
    guest = contained("exec %s run --platform %s %s <&-" % (umlpy_cmd, platform, prog), timeout=30)
    assert (guest.returncode, guest.stdout, guest.stderr) == (native.returncode, b"", native.stderr)
    assert guest.left == []


PROBE = r"""
import fcntl, json, os, sys
report = sys.argv[1]
for fd in (0, 1, 2):
    os.close(fd)
from umlpy.api import Machine
with Machine(platform=sys.argv[2]) as m:
    fds = {}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            fds[fd] = (os.readlink("/proc/self/fd/" + name), fcntl.fcntl(fd, fcntl.F_GETFD))
        except OSError:
            pass
    with open(report, "w") as f:
        json.dump({"physmem": m.physmem.fd, "closed": sorted(m.closed_std_fds), "fds": fds}, f)
"""


def test_supervisor_fds_off_std_and_cloexec(platform, tmp_path):
    import json
    report = tmp_path / "fds.json"
    env = dict(os.environ, PYTHONPATH=REPO)
    subprocess.run([sys.executable, "-c", PROBE, str(report), platform], env=env, check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=60)
    with open(report) as f:
        rep = json.load(f)
    assert rep["closed"] == [0, 1, 2]
    assert rep["physmem"] > 2
    fds = {int(k): v for k, v in rep["fds"].items()}
    for fd in (0, 1, 2):
        assert fds[fd][0] == "/dev/null", fds       # parked, so nothing of ours lands there
    for fd, (target, flags) in fds.items():
        if fd > 2:
            assert flags & fcntl_cloexec(), (fd, target)     # never inherited by a stub


def fcntl_cloexec():
    import fcntl
    return fcntl.FD_CLOEXEC
