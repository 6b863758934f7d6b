"""Process file descriptors (pidfd_open(2), CLONE_PIDFD): a file naming a process.

A :class:`PidFile` holds the :class:`~umlpy.kernel.task.ThreadGroup` it names.  It is
readable (POLLIN) once the process has exited and hung up (POLLHUP) once it is reaped,
as Linux's pidfd_poll says; the group's ``exitq`` is notified at both moments
(``Kernel._group_dead``, ``Kernel._reap``).  Reads and writes are EINVAL.
"""

import errno

from umlpy.abi.clone import PIDFD_NONBLOCK
from umlpy.abi.fcntl import O_RDWR
from umlpy.abi.poll import POLLHUP, POLLIN, POLLRDNORM
from umlpy.errors import SyscallError
from umlpy.fs.anon import AnonFile
from umlpy.waiter import Queue


class PidFile(AnonFile):
    kind = "pidfd"

    def __init__(self, group, flags: int):
        super().__init__(flags)
        self.group = group
        if group.exitq is None:
            group.exitq = Queue()
        self.waitq = group.exitq

    def read(self, n):
        raise SyscallError(errno.EINVAL)

    def write(self, data):
        raise SyscallError(errno.EINVAL)

    def poll(self):
        g = self.group
        if g.reaped:
            return POLLIN | POLLRDNORM | POLLHUP
        return POLLIN | POLLRDNORM if g.zombie else 0


def install_pidfd(t, group, flags: int) -> int:
    """A new close-on-exec fd of ``t`` naming ``group`` (PIDFD_NONBLOCK: O_NONBLOCK)."""
    return t.files.install(PidFile(group, O_RDWR | (flags & PIDFD_NONBLOCK)), cloexec=True)


def pidfd_group(t, fd: int):
    """The process a pidfd of ``t`` names; EBADF for any other file."""
    f = t.files.get(fd)
    if not isinstance(f, PidFile):
        raise SyscallError(errno.EBADF)
    return f.group, f
