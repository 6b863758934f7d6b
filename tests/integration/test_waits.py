"""Waits that a signal interrupts leave nothing behind; a futex in shared memory is one futex.

``guests/interrupted_waits.c`` blocks in poll, futex, nanosleep and a pipe
write, each ended by a SIGUSR1 from a child, then waits on a MAP_SHARED
futex that a forked child wakes from its own address space.  It runs
natively and under umlpy (same stdout and status); under umlpy a hook looks
at the kernel right when each interrupted call returns: no futex waiter, no
live timer, no pipe-queue registration may be left.
"""

import os
import shutil
import subprocess

import pytest

import umlpy
from umlpy.abi.syscall_nr import NR
from umlpy.kernel.hooks import KernelHooks

GUESTS = os.path.join(os.path.dirname(__file__), "guests")
SOURCE = os.path.join(GUESTS, "interrupted_waits.c")
EINTR = 4


def _build(tmp_path_factory, source):
    cc = shutil.which("musl-gcc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    out = str(tmp_path_factory.mktemp("waits") / os.path.basename(source)[:-2])
    subprocess.run([cc, "-static", "-O2", "-o", out, source], check=True)
    return out


@pytest.fixture(scope="module")
def waits_prog(tmp_path_factory):
    return _build(tmp_path_factory, SOURCE)


def test_a_sleeper_wakes_while_another_task_spins(tmp_path_factory, platform):
    """A task that never traps must not keep a sleeping task's timer from firing."""
    prog = _build(tmp_path_factory, os.path.join(GUESTS, "spin_vs_sleeper.c"))
    native = subprocess.run([prog], stdout=subprocess.PIPE, timeout=60)
    guest = umlpy.run([prog], platform=platform)
    assert guest.stdout == native.stdout == b"the sleeper woke while the parent spun: yes\n"
    assert guest.returncode == native.returncode == 0


class LeakCheck(KernelHooks):
    """At the exit of every interrupted wait, records what the kernel still holds for it."""

    active = True

    def __init__(self):
        self.seen = []

    def attach(self, kernel):
        self.kernel = kernel

    def drain_fast(self, t):
        t.ctx.take_trace_ring()

    def syscall_exit(self, t, nr, args, ret):
        k = self.kernel
        if nr in (NR.poll, NR.futex, NR.nanosleep, NR.write) and (ret == -EINTR or nr == NR.write):
            pipe_regs = 0
            if nr in (NR.poll, NR.write):
                fd = args[0] if nr == NR.write else int.from_bytes(t.mm.read(args[0], 4), "little")
                pipe_regs = len(t.files.get(fd).waitq)
            live_timers = sum(1 for _, _, tm in k.timers if not tm.cancelled)
            self.seen.append((nr, ret, len(k.futexes),
                              live_timers, pipe_regs, t.restart_block, len(t.waits)))


def test_interrupted_waits_match_native(waits_prog, platform):
    native = subprocess.run([waits_prog], stdout=subprocess.PIPE, timeout=60)
    guest = umlpy.run([waits_prog], platform=platform)
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode == 0
    assert b"shared futex: 0 word 1 child 0" in guest.stdout


def test_interrupted_waits_leave_no_registration(waits_prog, platform):
    hooks = LeakCheck()
    res = umlpy.run([waits_prog], platform=platform, tracer=hooks)
    assert res.exit_code == 0, res.stdout
    rets = [s[1] for s in hooks.seen]
    # poll, futex and nanosleep end in EINTR; the big pipe write returns its partial count.
    assert rets.count(-EINTR) == 3 and 65536 in rets, hooks.seen
    for _nr, _ret, futex_waiters, live_timers, pipe_regs, restart_block, waits in hooks.seen:
        assert futex_waiters == 0
        assert live_timers == 0          # the other tasks are parked in wait4, which has no timer
        assert pipe_regs == 0
        assert restart_block is None and waits == 0
