"""The one-vCPU scheduler: tasks that never trap are preempted on a time slice."""

import os
import subprocess

import pytest

import umlpy
from umlpy.api import guest_env


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_spinning_parent_is_preempted(guest_bin, platform, libc):
    """The parent busy-waits on shared memory for its child: without preemption
    the child would never run and the guest would hang."""
    prog = os.path.join(guest_bin, "preempt-" + libc)
    env = dict(kv.decode().split("=", 1) for kv in guest_env())
    native = subprocess.run([prog], stdout=subprocess.PIPE, env=env, timeout=30)
    res = umlpy.run([prog], platform=platform)
    assert res.stdout == native.stdout == b"parent saw the child's flag; child status 0\n"
    assert res.returncode == native.returncode == 0


def test_alarm_disposition_is_restored(guest_bin):
    """The slice timer borrows SIGALRM while a guest runs and gives it back."""
    import signal

    def mine(signo, frame):
        pass

    old = signal.signal(signal.SIGALRM, mine)
    try:
        res = umlpy.run([os.path.join(guest_bin, "preempt-musl")])
        assert res.exit_code == 0
        assert signal.getsignal(signal.SIGALRM) is mine
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    finally:
        signal.signal(signal.SIGALRM, old)
