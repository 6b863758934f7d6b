"""timerfd: a timer whose expirations are read as a count (fs/timerfd.c).

A :class:`TimerFile` runs on the guest kernel's timers through a
:class:`TimerHost` (the kernel): its clock is CLOCK_MONOTONIC-like
(MONOTONIC, BOOTTIME) or CLOCK_REALTIME-like (REALTIME), and deadlines on
the latter are turned into monotonic ones when armed (the guest's realtime
clock is never set, so they stay right).  Deterministic runs use the virtual
clock like every other timer.

As Linux does, an expiry only counts one tick and leaves a periodic timer
"expired"; read and timerfd_gettime forward it past now, adding the
intervals that went by (hrtimer_forward_now) and re-arm it.  read gives the
count (8 bytes, EINVAL for a shorter buffer) and clears it, waiting while it
is zero.  Setting the timer clears the count; an absolute deadline already
past counts one expiry at once.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.events import TFD_IOC_SET_TICKS, TFD_TIMER_ABSTIME
from umlpy.abi.poll import POLLIN, POLLRDNORM
from umlpy.errors import SyscallError
from umlpy.fs.anon import AnonFile
from umlpy.waiter import WouldBlock

_U64 = struct.Struct("<Q")


class TimerHost:
    """What a timerfd needs of the kernel."""

    def now_ns(self) -> int: ...                   # CLOCK_MONOTONIC
    def realtime_ns(self) -> int: ...              # CLOCK_REALTIME
    def add_timer(self, deadline_ns: int, callback): ...   # -> waiter.Timer (monotonic)


class TimerFile(AnonFile):
    kind = "timerfd"

    def __init__(self, host: TimerHost, realtime: bool, flags: int):
        super().__init__(flags)
        self.host = host
        self.realtime = realtime
        self.value = None          # next expiry on this timer's clock (ns), None: disarmed
        self.interval = 0
        self.ticks = 0
        self.expired = False       # fired and not yet forwarded (periodic timers)
        self._timer = None

    def now(self) -> int:
        return self.host.realtime_ns() if self.realtime else self.host.now_ns()

    # -- arming ------------------------------------------------------------------------
    def _arm(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.value is None:
            return
        deadline = self.value
        if self.realtime:
            deadline -= self.host.realtime_ns() - self.host.now_ns()
        self._timer = self.host.add_timer(deadline, self._fire)

    def _fire(self):
        self._timer = None
        self.ticks += 1
        self.expired = True
        if not self.interval:
            self.value = None
        self.waitq.notify(POLLIN | POLLRDNORM)

    def _forward(self):
        """A fired periodic timer moves past now, counting the intervals missed."""
        if self.expired and self.interval and self.value is not None:
            now = self.now()
            if now >= self.value:
                orun = (now - self.value) // self.interval + 1
                self.value += orun * self.interval
                self.ticks += orun - 1
            self._arm()
        self.expired = False

    def settime(self, flags: int, interval: int, value: int) -> tuple:
        """timerfd_settime: returns the old (interval, remaining) pair."""
        old = self.gettime()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.ticks = 0
        self.expired = False
        self.interval = interval
        if value == 0:
            self.value = None
            return old
        now = self.now()
        self.value = value if flags & TFD_TIMER_ABSTIME else now + value
        if self.value <= now:
            self._fire()          # already due: one expiry, as the hrtimer fires at once
        else:
            self._arm()
        return old

    def gettime(self) -> tuple:
        """(interval, time to the next expiry) in ns; 0 when disarmed."""
        if self.expired and self.interval:
            self._forward()
        if self.value is None:
            return self.interval, 0
        return self.interval, max(self.value - self.now(), 0)

    # -- file --------------------------------------------------------------------------
    def read(self, n):
        self.check_readable()
        if n < 8:
            raise SyscallError(errno.EINVAL)
        if self.expired and self.interval:
            self._forward()
        if self.ticks == 0:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq)
        ticks, self.ticks = self.ticks, 0
        return _U64.pack(ticks)

    def write(self, data):
        raise SyscallError(errno.EINVAL)

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def poll(self):
        return POLLIN if self.ticks else 0

    def ioctl(self, request, arg, mem=None):
        if request == TFD_IOC_SET_TICKS:
            ticks = _U64.unpack(mem.read(arg, 8))[0]
            if not ticks:
                raise SyscallError(errno.EINVAL)
            self.ticks = ticks
            self.waitq.notify(POLLIN | POLLRDNORM)
            return 0
        raise SyscallError(errno.ENOTTY)

    def release(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
