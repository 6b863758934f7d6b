"""A task's file descriptor table.

Slots hold (File, close-on-exec).  Each slot owns one reference to its File
(``File.get_ref``/``put_ref``), so a description shared by dup or fork is
released when its last slot closes.  Threads created with CLONE_FILES share
the FdTable object itself; ``fork()`` copies it.
"""

from __future__ import annotations

import errno
import os

from umlpy.errors import SyscallError
from umlpy.fs.locks import fd_closed

#: RLIMIT_NOFILE's default soft limit.
NOFILE_DEFAULT = 1024


class FdTable:
    def __init__(self, limit: int = NOFILE_DEFAULT):
        self.limit = limit
        self._slots: dict = {}   # fd -> [File, cloexec]

    def __len__(self):
        return len(self._slots)

    def __contains__(self, fd):
        return fd in self._slots

    def _free_fd(self, min_fd: int) -> int:
        fd = max(min_fd, 0)
        while fd in self._slots:
            fd += 1
        if fd >= self.limit:
            raise SyscallError(errno.EMFILE)
        return fd

    def install(self, file, cloexec: bool = False, min_fd: int = 0) -> int:
        """Put ``file`` in the lowest free fd >= ``min_fd``; takes a reference."""
        fd = self._free_fd(min_fd)
        self._slots[fd] = [file.get_ref(), bool(cloexec)]
        return fd

    def install_at(self, fd: int, file, cloexec: bool = False):
        """Put ``file`` at ``fd``, closing what was there (dup2 semantics)."""
        if fd < 0 or fd >= self.limit:
            raise SyscallError(errno.EBADF)
        file.get_ref()
        old = self._slots.get(fd)
        self._slots[fd] = [file, bool(cloexec)]
        if old is not None:
            self._closed(old[0])

    def get(self, fd: int):
        slot = self._slots.get(fd)
        if slot is None:
            raise SyscallError(errno.EBADF)
        return slot[0]

    def close(self, fd: int):
        slot = self._slots.pop(fd, None)
        if slot is None:
            raise SyscallError(errno.EBADF)
        self._closed(slot[0])

    def _closed(self, file):
        """filp_close: this table's POSIX locks on the file's inode go, then the reference."""
        fd_closed(self, file)
        file.put_ref()

    def dup(self, fd: int, min_fd: int = 0, cloexec: bool = False) -> int:
        """dup(2), and F_DUPFD/F_DUPFD_CLOEXEC with ``min_fd``."""
        file = self.get(fd)
        if min_fd < 0 or min_fd >= self.limit:
            raise SyscallError(errno.EINVAL)
        return self.install(file, cloexec, min_fd)

    def dup2(self, old: int, new: int) -> int:
        file = self.get(old)
        if old == new:
            return new
        self.install_at(new, file)
        return new

    def dup3(self, old: int, new: int, flags: int = 0) -> int:
        if flags & ~os.O_CLOEXEC:
            raise SyscallError(errno.EINVAL)
        if old == new:
            raise SyscallError(errno.EINVAL)
        file = self.get(old)
        self.install_at(new, file, bool(flags & os.O_CLOEXEC))
        return new

    def get_cloexec(self, fd: int) -> bool:
        self.get(fd)
        return self._slots[fd][1]

    def set_cloexec(self, fd: int, on: bool):
        self.get(fd)
        self._slots[fd][1] = bool(on)

    def fork(self) -> "FdTable":
        """A copy sharing the same open file descriptions."""
        t = FdTable(self.limit)
        for fd, (file, cloexec) in self._slots.items():
            t._slots[fd] = [file.get_ref(), cloexec]
        return t

    def close_on_exec(self):
        for fd in [fd for fd, s in self._slots.items() if s[1]]:
            self.close(fd)

    def close_all(self):
        for fd in sorted(self._slots):
            self.close(fd)

    def close_range(self, first: int, last: int, cloexec_only: bool = False):
        """close_range(2) (CLOSE_RANGE_CLOEXEC when ``cloexec_only``)."""
        for fd in sorted(fd for fd in self._slots if first <= fd <= last):
            if cloexec_only:
                self._slots[fd][1] = True
            else:
                self.close(fd)

    def items(self):
        """[(fd, File)] in fd order."""
        return [(fd, self._slots[fd][0]) for fd in sorted(self._slots)]

    def paths(self) -> dict:
        """{fd: guest path text} for /proc/<pid>/fd."""
        return {fd: f.path.decode("utf-8", "surrogateescape") if isinstance(f.path, bytes)
                else str(f.path) for fd, f in self.items()}
