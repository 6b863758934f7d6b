"""Time system calls: clocks, sleeps, and getrandom (the guest kernel's entropy).

There is no vDSO in the guest, so every clock read is a system call that
lands here.  The clock may be virtual (``--deterministic``).
"""

import errno
import struct

from umlpy.errors import SyscallError
from umlpy.kernel.restart import RestartBlock
from umlpy.waiter import WouldBlock

from .table import partial, supported

E = SyscallError
from umlpy.abi import random as _grnd, time as _clk

# Plain ints: IntEnum/IntFlag arithmetic costs microseconds on this hot path.
GRND_INSECURE, GRND_RANDOM = int(_grnd.GRND_INSECURE), int(_grnd.GRND_RANDOM)
(CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW,
 CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_REALTIME_COARSE, CLOCK_TAI,
 CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME) = map(int, (
    _clk.CLOCK_BOOTTIME, _clk.CLOCK_BOOTTIME_ALARM, _clk.CLOCK_MONOTONIC, _clk.CLOCK_MONOTONIC_COARSE,
    _clk.CLOCK_MONOTONIC_RAW, _clk.CLOCK_PROCESS_CPUTIME_ID, _clk.CLOCK_REALTIME, _clk.CLOCK_REALTIME_ALARM,
    _clk.CLOCK_REALTIME_COARSE, _clk.CLOCK_TAI, _clk.CLOCK_THREAD_CPUTIME_ID, _clk.TIMER_ABSTIME))

_TS = struct.Struct("<qq")


def _clock_ns(t, clk):
    k = t.kernel
    if clk in (CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_REALTIME_ALARM, CLOCK_TAI):
        return k.realtime_ns()
    if clk in (CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME,
               CLOCK_BOOTTIME_ALARM):
        return k.now_ns()
    if clk in (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID):
        return k.now_ns() - 10 ** 9
    if clk < 0:
        return k.now_ns()       # CPU-clock ids of other processes: close enough
    raise E(errno.EINVAL)


def clock_gettime(t, a):
    ns = _clock_ns(t, a.int(0))
    t.mm.write(a.ptr(1), _TS.pack(ns // 10 ** 9, ns % 10 ** 9))
    return 0


def clock_getres(t, a):
    _clock_ns(t, a.int(0))
    if a.ptr(1):
        t.mm.write(a.ptr(1), _TS.pack(0, 1))
    return 0


def gettimeofday(t, a):
    ns = t.kernel.realtime_ns()
    if a.ptr(0):
        t.mm.write(a.ptr(0), _TS.pack(ns // 10 ** 9, (ns % 10 ** 9) // 1000))
    if a.ptr(1):
        t.mm.write(a.ptr(1), b"\0" * 8)
    return 0


def time(t, a):
    s = t.kernel.realtime_ns() // 10 ** 9
    if a.ptr(0):
        t.mm.write(a.ptr(0), struct.pack("<q", s))
    return s


def _read_ts(t, ptr):
    sec, nsec = _TS.unpack(t.mm.read(ptr, 16))
    if sec < 0 or not 0 <= nsec < 10 ** 9:
        raise E(errno.EINVAL)
    return sec * 10 ** 9 + nsec


class SleepBlock(RestartBlock):
    """A sleep in progress: its deadline (guest CLOCK_MONOTONIC) and where the
    time left goes when a signal interrupts it (nanosleep's ``rem``)."""

    __slots__ = ("kernel", "deadline", "rem_ptr", "mm")

    def __init__(self, t, deadline, rem_ptr):
        self.kernel = t.kernel
        self.mm = t.mm
        self.deadline = deadline
        self.rem_ptr = rem_ptr

    def interrupted(self):
        if self.rem_ptr:
            left = max(0, self.deadline - self.kernel.now_ns())
            try:
                self.mm.write(self.rem_ptr, _TS.pack(left // 10 ** 9, left % 10 ** 9))
            except SyscallError:
                pass      # Linux too reports only EINTR when rem is unwritable
        raise E(errno.EINTR)


def _sleep(t, deadline, rem_ptr):
    """Block until ``deadline`` (guest monotonic ns); the deadline survives the wait."""
    rb = t.restart_block
    if isinstance(rb, SleepBlock):
        deadline = rb.deadline
    if t.kernel.now_ns() >= deadline:
        return 0
    if not isinstance(rb, SleepBlock):
        t.restart_block = SleepBlock(t, deadline, rem_ptr)
    raise WouldBlock(deadline=deadline)


def nanosleep(t, a):
    if isinstance(t.restart_block, SleepBlock):
        return _sleep(t, 0, 0)
    return _sleep(t, t.kernel.now_ns() + _read_ts(t, a.ptr(0)), a.ptr(1))


def clock_nanosleep(t, a):
    if isinstance(t.restart_block, SleepBlock):
        return _sleep(t, 0, 0)
    clk, flags = a.int(0), a.int(1)
    if clk in (CLOCK_THREAD_CPUTIME_ID,):
        raise E(errno.EINVAL)
    _clock_ns(t, clk)
    ns = _read_ts(t, a.ptr(2))
    absolute = bool(flags & TIMER_ABSTIME)
    if absolute:
        ns = max(0, ns - _clock_ns(t, clk))
    # An absolute sleep is not told how much was left (Linux writes rem only for relative ones).
    return _sleep(t, t.kernel.now_ns() + ns, 0 if absolute else a.ptr(3))


def getrandom(t, a):
    buf, n, flags = a.ptr(0), a.size(1), a.uint(2)
    if flags & ~7 or (flags & GRND_RANDOM and flags & GRND_INSECURE):
        raise E(errno.EINVAL)
    n = min(n, 33554431)
    if n:
        t.mm.write(buf, t.kernel.random_bytes(n))
    return n


def times(t, a):
    ticks = t.kernel.now_ns() // 10 ** 7
    if a.ptr(0):
        t.mm.write(a.ptr(0), bytes(32))
    return ticks


FAMILY = [
    supported("clock_gettime", clock_gettime), supported("clock_getres", clock_getres),
    supported("gettimeofday", gettimeofday), supported("time", time),
    supported("nanosleep", nanosleep),
    partial("clock_nanosleep", clock_nanosleep, "every clock sleeps on the monotonic clock"),
    supported("getrandom", getrandom),
    partial("times", times, "CPU times are 0"),
]
