"""Anonymous-inode files: eventfd, epoll, timerfd, signalfd, inotify.

On Linux these descriptions share one inode of the internal anon_inodefs
(mode 0600 without a file type, owned by root); ``/proc/PID/fd/N`` names
them ``anon_inode:[eventfd]`` and so on.  :class:`AnonFile` is their common
base: not seekable, no truncate, no exec, readiness from ``poll()`` and
``waitq`` as :mod:`umlpy.fs.file` describes.
"""

from __future__ import annotations

import errno

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs.file import File
from umlpy.fs.node import Inode, Meta
from umlpy.waiter import Queue

#: anon_inodefs's device (an unnamed superblock, as Linux numbers them).
DEV_ANON = st.makedev(0, 0x0E)
_ANON_INO = 0x2A0


class AnonInode(Inode):
    """The one inode every anonymous file shares."""

    def __init__(self):
        self.meta = Meta(mode=0o600, dev=DEV_ANON, ino=_ANON_INO)

    def stat(self):
        s = self.meta.to_stat(0)
        s.st_blocks = 0
        return s

    @property
    def mode(self):
        return self.meta.mode

    def open(self, flags, caller, path):
        raise SyscallError(errno.ENXIO)


ANON_INODE = AnonInode()


class AnonFile(File):
    """Base of the anonymous-inode files; ``kind`` names it (``eventfd``...)."""

    seekable = False
    kind = "anon"

    def __init__(self, flags: int):
        super().__init__(ANON_INODE, flags, ("anon_inode:[%s]" % self.kind).encode())
        self.waitq = Queue()

    def lseek(self, off, whence):
        raise SyscallError(errno.ESPIPE)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def _read_stream(self, n):
        raise SyscallError(errno.EINVAL)

    def _write_stream(self, data):
        raise SyscallError(errno.EINVAL)

    def reopen(self, flags, caller):
        # open("/proc/self/fd/N") of an anonymous file: Linux refuses (no ->open path).
        raise SyscallError(errno.ENXIO)

    def poll(self):
        return 0
