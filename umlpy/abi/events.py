"""Event files: epoll, eventfd, timerfd, signalfd, inotify (uapi linux/eventpoll.h,
linux/eventfd.h, linux/timerfd.h, linux/signalfd.h, linux/inotify.h; fs/eventpoll.c's
limits)."""

import enum
import struct

# --- epoll -------------------------------------------------------------------------


class EPOLL(enum.IntFlag):
    """epoll_event.events bits."""

    EPOLLIN = 0x001
    EPOLLPRI = 0x002
    EPOLLOUT = 0x004
    EPOLLERR = 0x008
    EPOLLHUP = 0x010
    EPOLLNVAL = 0x020
    EPOLLRDNORM = 0x040
    EPOLLRDBAND = 0x080
    EPOLLWRNORM = 0x100
    EPOLLWRBAND = 0x200
    EPOLLMSG = 0x400
    EPOLLRDHUP = 0x2000
    EPOLLEXCLUSIVE = 1 << 28
    EPOLLWAKEUP = 1 << 29
    EPOLLONESHOT = 1 << 30
    EPOLLET = 1 << 31


EPOLLIN = int(EPOLL.EPOLLIN)
EPOLLOUT = int(EPOLL.EPOLLOUT)
EPOLLERR = int(EPOLL.EPOLLERR)
EPOLLHUP = int(EPOLL.EPOLLHUP)
EPOLLRDHUP = int(EPOLL.EPOLLRDHUP)
EPOLLEXCLUSIVE = int(EPOLL.EPOLLEXCLUSIVE)
EPOLLWAKEUP = int(EPOLL.EPOLLWAKEUP)
EPOLLONESHOT = int(EPOLL.EPOLLONESHOT)
EPOLLET = int(EPOLL.EPOLLET)
#: Bits of an item's mode rather than events (fs/eventpoll.c EP_PRIVATE_BITS).
EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
#: What EPOLLEXCLUSIVE may be combined with (fs/eventpoll.c EPOLLEXCLUSIVE_OK_BITS).
EPOLLEXCLUSIVE_OK_BITS = (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET
                          | EPOLLEXCLUSIVE)
#: How deep epolls may watch epolls.
EPOLL_MAX_NESTS = 4
#: maxevents above this is EINVAL (INT_MAX / sizeof(struct epoll_event)).
EP_MAX_EVENTS = 0x7FFFFFFF // 12
EPOLL_CLOEXEC = 0o2000000


class EpollOp(enum.IntEnum):
    EPOLL_CTL_ADD = 1
    EPOLL_CTL_DEL = 2
    EPOLL_CTL_MOD = 3


EPOLL_CTL_ADD = int(EpollOp.EPOLL_CTL_ADD)
EPOLL_CTL_DEL = int(EpollOp.EPOLL_CTL_DEL)
EPOLL_CTL_MOD = int(EpollOp.EPOLL_CTL_MOD)

#: struct epoll_event is packed on x86-64: __u32 events, __u64 data.
EPOLL_EVENT = struct.Struct("<IQ")

# --- eventfd -----------------------------------------------------------------------


class EFD(enum.IntFlag):
    EFD_SEMAPHORE = 1
    EFD_NONBLOCK = 0o4000
    EFD_CLOEXEC = 0o2000000


EFD_SEMAPHORE = int(EFD.EFD_SEMAPHORE)
EFD_NONBLOCK = int(EFD.EFD_NONBLOCK)
EFD_CLOEXEC = int(EFD.EFD_CLOEXEC)

# --- timerfd -----------------------------------------------------------------------


class TFD(enum.IntFlag):
    """timerfd_create flags (TFD_NONBLOCK, TFD_CLOEXEC) and timerfd_settime flags."""

    TFD_NONBLOCK = 0o4000
    TFD_CLOEXEC = 0o2000000


class TFD_TIMER(enum.IntFlag):
    TFD_TIMER_ABSTIME = 1
    TFD_TIMER_CANCEL_ON_SET = 2


TFD_NONBLOCK = int(TFD.TFD_NONBLOCK)
TFD_CLOEXEC = int(TFD.TFD_CLOEXEC)
TFD_TIMER_ABSTIME = int(TFD_TIMER.TFD_TIMER_ABSTIME)
TFD_TIMER_CANCEL_ON_SET = int(TFD_TIMER.TFD_TIMER_CANCEL_ON_SET)
#: TFD_IOC_SET_TICKS = _IOW('T', 0, __u64)
TFD_IOC_SET_TICKS = 0x40085400
#: struct itimerspec: it_interval then it_value, each a timespec.
ITIMERSPEC = struct.Struct("<qqqq")

# --- signalfd ----------------------------------------------------------------------


class SFD(enum.IntFlag):
    SFD_NONBLOCK = 0o4000
    SFD_CLOEXEC = 0o2000000


SFD_NONBLOCK = int(SFD.SFD_NONBLOCK)
SFD_CLOEXEC = int(SFD.SFD_CLOEXEC)
#: struct signalfd_siginfo (128 bytes): ssi_signo, errno, code, pid, uid, fd, tid, band,
#: overrun, trapno, status, int, ptr, utime, stime, addr, addr_lsb, pad2, syscall,
#: call_addr, arch, then padding to 128.
SIGNALFD_SIGINFO = struct.Struct("<IiiIIiIIIIiiQQQQHHiQI")
SIGNALFD_SIGINFO_SIZE = 128

# --- inotify -----------------------------------------------------------------------


class IN(enum.IntFlag):
    IN_ACCESS = 0x00000001
    IN_MODIFY = 0x00000002
    IN_ATTRIB = 0x00000004
    IN_CLOSE_WRITE = 0x00000008
    IN_CLOSE_NOWRITE = 0x00000010
    IN_OPEN = 0x00000020
    IN_MOVED_FROM = 0x00000040
    IN_MOVED_TO = 0x00000080
    IN_CREATE = 0x00000100
    IN_DELETE = 0x00000200
    IN_DELETE_SELF = 0x00000400
    IN_MOVE_SELF = 0x00000800
    IN_UNMOUNT = 0x00002000
    IN_Q_OVERFLOW = 0x00004000
    IN_IGNORED = 0x00008000
    IN_ONLYDIR = 0x01000000
    IN_DONT_FOLLOW = 0x02000000
    IN_EXCL_UNLINK = 0x04000000
    IN_MASK_CREATE = 0x10000000
    IN_MASK_ADD = 0x20000000
    IN_ISDIR = 0x40000000
    IN_ONESHOT = 0x80000000


IN_ALL_EVENTS = 0xFFF
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
