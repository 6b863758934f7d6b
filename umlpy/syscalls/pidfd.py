"""Process file descriptors: pidfd_open, pidfd_send_signal, pidfd_getfd.

The file itself is :mod:`umlpy.kernel.pidfd` (clone's CLONE_PIDFD makes them too);
``waitid(P_PIDFD)`` is in :mod:`umlpy.syscalls.process`.
"""

import errno
import struct

from umlpy.abi.clone import (PIDFD_NONBLOCK, PIDFD_SIGNAL_PROCESS_GROUP, PIDFD_SIGNAL_SCOPES,
                             PIDFD_SIGNAL_THREAD)
from umlpy.abi.signal import NSIG, SiCode
from umlpy.errors import SyscallError
from umlpy.kernel import ptrace as kptrace
from umlpy.kernel.pidfd import install_pidfd, pidfd_group

from .table import supported

E = SyscallError
_SI_TKILL = int(SiCode.SI_TKILL)


def pidfd_open(t, a):
    """Pidfd_open implements pidfd_open(2): a pidfd for thread-group leader ``pid``."""
    pid, flags = a.int(0), a.uint(1)
    if flags & ~PIDFD_NONBLOCK or pid <= 0:
        raise E(errno.EINVAL)
    k = t.kernel
    g = k.groups.get(pid)
    if g is None or g.reaped:
        tt = k.tasks.get(pid)
        # A thread that is not its process's leader: ENOENT (no PIDFD_THREAD here).
        raise E(errno.ENOENT if tt is not None else errno.ESRCH)
    return install_pidfd(t, g, flags)


def pidfd_send_signal(t, a):
    """Pidfd_send_signal implements pidfd_send_signal(2): kill(2) through a pidfd, with an
    optional siginfo that may not pose as the kernel's (EPERM) when sent elsewhere; at
    most one of the scopes PIDFD_SIGNAL_THREAD (the thread the pidfd names: its leader),
    _THREAD_GROUP (the default) and _PROCESS_GROUP (Linux 6.9)."""
    fd, sig, info_ptr, flags = a.int(0), a.int(1), a.ptr(2), a.uint(3)
    if flags & ~PIDFD_SIGNAL_SCOPES or flags & (flags - 1):
        raise E(errno.EINVAL)
    g, _ = pidfd_group(t, fd)
    if sig < 0 or sig > NSIG:
        raise E(errno.EINVAL)
    info = (sig, 0, 0, t.group.tgid, 0)
    if info_ptr:
        signo, _, code, pid = struct.unpack("<iii4xi", t.mm.read(info_ptr, 20))
        if signo != sig:
            raise E(errno.EINVAL)
        if g is not t.group and (code >= 0 or code == _SI_TKILL):
            raise E(errno.EPERM)
        info = (sig, code, 0, pid, 0)
    if g.reaped:
        raise E(errno.ESRCH)
    k = t.kernel
    if flags == PIDFD_SIGNAL_THREAD:
        if g.leader is not None:
            k.send_signal(g.leader, sig, info)
    elif flags == PIDFD_SIGNAL_PROCESS_GROUP:
        for x in [x for x in k.groups.values() if x.pgid == g.pgid and not x.zombie]:
            k.send_signal(x, sig, info)
    else:
        k.send_signal(g, sig, info)          # nothing happens to a zombie, as with kill
    return 0


def pidfd_getfd(t, a):
    """Pidfd_getfd implements pidfd_getfd(2): a duplicate (close-on-exec) of another
    process's fd, for a caller with ptrace-attach rights over it."""
    fd, target_fd, flags = a.int(0), a.int(1), a.uint(2)
    if flags:
        raise E(errno.EINVAL)
    g, _ = pidfd_group(t, fd)
    leader = g.leader
    if g.zombie or leader is None:
        raise E(errno.ESRCH)
    if g is not t.group and not kptrace.may_attach(t, leader):
        raise E(errno.EPERM)
    f = leader.files.get(target_fd)
    return t.files.install(f, cloexec=True)


FAMILY = [
    supported("pidfd_open", pidfd_open),
    supported("pidfd_send_signal", pidfd_send_signal),
    supported("pidfd_getfd", pidfd_getfd),
]
