"""epoll system calls: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
epoll_pwait2.

The instance is :class:`umlpy.fs.epoll.EpollFile`; these handlers check the
arguments in the order Linux does (fs/eventpoll.c) and wait like poll:
parked on the epoll's queue (and the host-fd queues of console items) with
the call's deadline kept in a :class:`~umlpy.syscalls.poll.PollBlock`.  A
signal ends the wait with EINTR, never a restart, as on Linux.
"""

import errno

from umlpy.abi.events import (EP_MAX_EVENTS, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
                              EPOLL_EVENT, EPOLLEXCLUSIVE, EPOLLEXCLUSIVE_OK_BITS)
from umlpy.abi.memory import HOST_TASK_SIZE
from umlpy.errors import SyscallError
from umlpy.fs.epoll import EpollFile, check_nesting
from umlpy.fs.file import PathFile
from umlpy.waiter import WouldBlock

from .poll import PollBlock, _expired, _restore_sigmask, _timespec, _with_sigmask
from .table import enosys, supported

E = SyscallError
_EV = EPOLL_EVENT


def _new(t, flags):
    return t.files.install(EpollFile(0), cloexec=bool(flags & EPOLL_CLOEXEC))


def epoll_create(t, a):
    """Epoll_create implements epoll_create(2): ``size`` must be positive and is ignored."""
    if a.int(0) <= 0:
        raise E(errno.EINVAL)
    return _new(t, 0)


def epoll_create1(t, a):
    flags = a.int(0)
    if flags & ~EPOLL_CLOEXEC:
        raise E(errno.EINVAL)
    return _new(t, flags)


def _epoll_of(t, fd):
    f = t.files.get(fd)
    if not isinstance(f, EpollFile):
        raise E(errno.EINVAL)
    return f


def epoll_ctl(t, a):
    """Epoll_ctl implements epoll_ctl(2)."""
    epfd, op, fd, evp = a.fd(0), a.int(1), a.fd(2), a.ptr(3)
    has_event = op != EPOLL_CTL_DEL
    events = data = 0
    if has_event:
        events, data = _EV.unpack(t.mm.read(evp, _EV.size))
    ep = t.files.get(epfd)
    target = t.files.get(fd)
    if isinstance(target, PathFile):
        raise E(errno.EBADF)
    if not target.pollable:
        raise E(errno.EPERM)
    if has_event and events & EPOLLEXCLUSIVE:
        if op == EPOLL_CTL_MOD:
            raise E(errno.EINVAL)
        if op == EPOLL_CTL_ADD and (isinstance(target, EpollFile) or events & ~EPOLLEXCLUSIVE_OK_BITS):
            raise E(errno.EINVAL)
    if not isinstance(ep, EpollFile) or ep is target:
        raise E(errno.EINVAL)
    if op == EPOLL_CTL_ADD:
        if isinstance(target, EpollFile):
            check_nesting(ep, target)
        ep.add(target, fd, events, data)
    elif op == EPOLL_CTL_DEL:
        ep.delete(target, fd)
    elif op == EPOLL_CTL_MOD:
        ep.modify(target, fd, events, data)
    else:
        raise E(errno.EINVAL)
    return 0


def _do_wait(t, epfd, evp, maxevents, timeout_ns):
    if maxevents <= 0 or maxevents > EP_MAX_EVENTS:
        raise E(errno.EINVAL)
    if evp + maxevents * _EV.size > HOST_TASK_SIZE:      # access_ok
        raise E(errno.EFAULT)
    ep = _epoll_of(t, epfd)
    out = ep.collect(maxevents)
    if out:
        try:
            t.mm.write(evp, b"".join(_EV.pack(ev, data) for ev, data, _ in out))
        except SyscallError:
            ep.requeue([item for _, _, item in out])     # nothing was reported
            raise
        return len(out)
    if timeout_ns == 0:
        return 0
    deadline = _deadline(t, timeout_ns)
    if _expired(t, deadline):
        return 0
    if ep.host_items:
        k = t.kernel
        raise WouldBlock(ep.waitq, *(k.wait_host_fd(fd) for fd in ep.host_fds()), deadline=deadline)
    raise WouldBlock(ep.waitq, deadline=deadline)


class EpollWait(PollBlock):
    """An epoll_wait in progress: its deadline; a signal ends it with EINTR, never a
    restart (whatever SA_RESTART says), as on Linux."""

    __slots__ = ()

    def interrupted(self):
        raise E(errno.EINTR)


def _deadline(t, timeout_ns):
    rb = t.restart_block
    if not isinstance(rb, EpollWait):
        rb = t.restart_block = EpollWait(None if timeout_ns is None else t.kernel.now_ns() + timeout_ns)
    return rb.deadline


def _ms(ms):
    return None if ms < 0 else ms * 1_000_000


def epoll_wait(t, a):
    """Epoll_wait implements epoll_wait(2): a negative timeout waits without end."""
    return _do_wait(t, a.fd(0), a.ptr(1), a.int(2), _ms(a.int(3)))


def epoll_pwait(t, a):
    if a.ptr(4):
        _with_sigmask(t, a.ptr(4), a.size(5))
    ret = _do_wait(t, a.fd(0), a.ptr(1), a.int(2), _ms(a.int(3)))
    _restore_sigmask(t)
    return ret


def epoll_pwait2(t, a):
    """Epoll_pwait2 implements epoll_pwait2(2): a timespec timeout, NULL waits without end."""
    timeout = _timespec(t, a.ptr(3))
    if a.ptr(4):
        _with_sigmask(t, a.ptr(4), a.size(5))
    ret = _do_wait(t, a.fd(0), a.ptr(1), a.int(2), timeout)
    _restore_sigmask(t)
    return ret


FAMILY = [
    supported("epoll_create", epoll_create), supported("epoll_create1", epoll_create1),
    supported("epoll_ctl", epoll_ctl), supported("epoll_wait", epoll_wait),
    supported("epoll_pwait", epoll_pwait), supported("epoll_pwait2", epoll_pwait2),
    enosys("epoll_ctl_old", "ENOSYS on Linux too (never implemented on x86-64)"),
    enosys("epoll_wait_old", "ENOSYS on Linux too (never implemented on x86-64)"),
]
