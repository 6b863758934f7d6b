"""Event-file system calls: eventfd, eventfd2, timerfd_create/settime/gettime,
signalfd, signalfd4.

The files are :mod:`umlpy.fs.eventfd`, :mod:`umlpy.fs.timerfd` and
:mod:`umlpy.kernel.signalfd`; the handlers check arguments in Linux's order
(flags, then values, then the fd) and install the new descriptions.
"""

import errno
import struct

from umlpy.abi.events import (EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, ITIMERSPEC, SFD_CLOEXEC, SFD_NONBLOCK,
                              TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET)
from umlpy.abi.fcntl import O_RDWR
from umlpy.abi.time import CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM
from umlpy.errors import SyscallError
from umlpy.fs.eventfd import EventFile
from umlpy.fs.timerfd import TimerFile
from umlpy.kernel.signalfd import SignalFile

from .table import partial, supported

E = SyscallError
NS = 10 ** 9


# --- eventfd -------------------------------------------------------------------------
def eventfd2(t, a):
    """Eventfd2 implements eventfd2(2)."""
    initval, flags = a.uint(0), a.int(1)
    if flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE):
        raise E(errno.EINVAL)
    f = EventFile(initval, O_RDWR | (flags & EFD_NONBLOCK), bool(flags & EFD_SEMAPHORE))
    return t.files.install(f, cloexec=bool(flags & EFD_CLOEXEC))


def eventfd(t, a):
    return eventfd2(t, type(a)((a[0], 0, 0, 0, 0, 0)))


# --- timerfd -------------------------------------------------------------------------
_REALTIME_CLOCKS = (CLOCK_REALTIME, CLOCK_REALTIME_ALARM)
_TIMERFD_CLOCKS = (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM)


def timerfd_create(t, a):
    """Timerfd_create implements timerfd_create(2) (the alarm clocks need root's CAP_WAKE_ALARM)."""
    clockid, flags = a.int(0), a.int(1)
    if flags & ~(TFD_CLOEXEC | TFD_NONBLOCK):
        raise E(errno.EINVAL)
    if clockid not in _TIMERFD_CLOCKS:
        raise E(errno.EINVAL)
    if clockid in (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM) and t.creds.euid != 0:
        raise E(errno.EPERM)
    f = TimerFile(t.kernel, clockid in _REALTIME_CLOCKS, O_RDWR | (flags & TFD_NONBLOCK))
    return t.files.install(f, cloexec=bool(flags & TFD_CLOEXEC))


def _timerfd(t, fd):
    f = t.files.get(fd)
    if not isinstance(f, TimerFile):
        raise E(errno.EINVAL)
    return f


def _pack_itimerspec(interval, value):
    return ITIMERSPEC.pack(interval // NS, interval % NS, value // NS, value % NS)


def timerfd_settime(t, a):
    """Timerfd_settime implements timerfd_settime(2)."""
    fd, flags, new, old = a.fd(0), a.int(1), a.ptr(2), a.ptr(3)
    isec, insec, vsec, vnsec = ITIMERSPEC.unpack(t.mm.read(new, ITIMERSPEC.size))
    if flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET):
        raise E(errno.EINVAL)
    for sec, nsec in ((isec, insec), (vsec, vnsec)):
        if sec < 0 or not 0 <= nsec < NS:
            raise E(errno.EINVAL)
    f = _timerfd(t, fd)
    if old and not t.mm.check_range(old, ITIMERSPEC.size, 2):
        raise E(errno.EFAULT)
    prev = f.settime(flags, isec * NS + insec, vsec * NS + vnsec)
    if old:
        t.mm.write(old, _pack_itimerspec(*prev))
    return 0


def timerfd_gettime(t, a):
    f = _timerfd(t, a.fd(0))
    t.mm.write(a.ptr(1), _pack_itimerspec(*f.gettime()))
    return 0


# --- signalfd ------------------------------------------------------------------------
def signalfd4(t, a):
    """Signalfd4 implements signalfd4(2): fd -1 makes a new signalfd, else changes its mask."""
    fd, maskp, size, flags = a.fd(0), a.ptr(1), a.size(2), a.int(3)
    if flags & ~(SFD_CLOEXEC | SFD_NONBLOCK):
        raise E(errno.EINVAL)
    if size != 8:
        raise E(errno.EINVAL)
    mask = struct.unpack("<Q", t.mm.read(maskp, 8))[0]
    if fd == -1:
        f = SignalFile(t.kernel, t, mask, O_RDWR | (flags & SFD_NONBLOCK))
        return t.files.install(f, cloexec=bool(flags & SFD_CLOEXEC))
    f = t.files.get(fd)
    if not isinstance(f, SignalFile):
        raise E(errno.EINVAL)
    f.set_mask(mask)
    return fd


def signalfd(t, a):
    return signalfd4(t, type(a)((a[0], a[1], a[2], 0, 0, 0)))


FAMILY = [
    supported("eventfd", eventfd), supported("eventfd2", eventfd2),
    supported("timerfd_create", timerfd_create), supported("timerfd_settime", timerfd_settime),
    supported("timerfd_gettime", timerfd_gettime),
    partial("signalfd", signalfd, "siginfo fields beyond signo, code, pid, status and addr read 0"),
    partial("signalfd4", signalfd4, "siginfo fields beyond signo, code, pid, status and addr read 0"),
]
