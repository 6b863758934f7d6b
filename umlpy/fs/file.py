"""Open file descriptions.

A :class:`File` is what an fd points at: shared by ``dup`` and ``fork``,
holding the file position and the status flags.  ``get_ref``/``put_ref``
count the holders (fd table slots, mappings...); the last ``put_ref`` calls
``release``.

Subclasses: :class:`RegularFile` (any node with ``read_at``/``write_at``),
:class:`DirFile` (getdents64), :class:`BytesFile` (a snapshot of generated
text, for /proc), plus the devices, pipes and console in their modules.

ioctl takes a ``mem`` object with ``read(addr, n) -> bytes`` and
``write(addr, data)`` so an ioctl can copy in and out of guest memory without
fs knowing about mm.

Readiness (what poll, select, epoll and blocking calls rely on; sockets follow
the same contract):

- ``poll() -> mask``: the events ready right now (``umlpy.abi.poll`` bits:
  POLLIN, POLLOUT, POLLPRI, POLLERR, POLLHUP, POLLRDHUP...).  It must not
  block and has no side effect.
- ``waitq``: a :class:`~umlpy.waiter.Queue` notified whenever ``poll()`` may
  have changed, with the events that may have become true as the mask
  (``notify(POLLIN | POLLRDNORM)`` after data arrives, ``notify(POLLOUT |
  POLLWRNORM)`` after room was made, ``notify(POLLHUP | ...)`` on hang-up;
  ``notify()`` with no mask when unsure).  epoll's edge-triggered mode
  counts each notification whose mask meets an item's events as one edge,
  so a file must not notify when nothing changed.  None: poll() never
  changes (regular files, always ready).
- ``host_fds()``: host fds whose readability changes ``poll()`` without any
  notification (the console reading the host's stdin); waiters also wait on
  the kernel's host-fd queue for each.
- ``pollable``: False for files epoll refuses (EPERM), as Linux's files
  without a ``->poll`` (regular files, directories, /dev/null).
- ``watchers``: the epoll items watching this description (managed by
  :mod:`umlpy.fs.epoll`); the last ``put_ref`` removes them, as Linux's
  eventpoll_release does when a struct file goes away.

A blocking operation raises :class:`~umlpy.waiter.WouldBlock` naming the
queue(s) to wait on (or SyscallError(EAGAIN) under O_NONBLOCK); the kernel
runs the call again when woken.  ``read_for``/``write_for`` receive the
calling task (opaque to fs) for files whose behaviour depends on who calls
(terminal job control, /proc/mm).
"""

from __future__ import annotations

import errno
import os

from umlpy.abi import stat as st
from umlpy.abi.events import IN
from umlpy.abi.fcntl import SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET
from umlpy.abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT  # noqa: F401  (fs's files use them)
from umlpy.errors import SyscallError
from umlpy.waiter import WouldBlock  # noqa: F401  (raised by files that must wait)

# O_* flags: os.O_* (identical on x86-64 Linux) until umlpy.abi.fcntl exists.
O_ACCMODE = os.O_ACCMODE
#: Flags F_SETFL may change (fs/fcntl.c SETFL_MASK).
SETFL_MASK = os.O_APPEND | os.O_NONBLOCK | os.O_ASYNC | os.O_DIRECT | os.O_NOATIME
#: Flags that are only meaningful at open time and are not kept.
OPEN_ONLY_FLAGS = os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_CLOEXEC

MAX_LFS_FILESIZE = (1 << 63) - 1

#: ``(file, mask)`` -> None: set by :mod:`umlpy.fs.inotify` while any watch exists, so
#: that the last close of a description reports IN_CLOSE_WRITE/IN_CLOSE_NOWRITE.
notify_hook = None
_IN_CLOSE_WRITE, _IN_CLOSE_NOWRITE = int(IN.IN_CLOSE_WRITE), int(IN.IN_CLOSE_NOWRITE)

# Linux caps one read/write at MAX_RW_COUNT (INT_MAX & PAGE_MASK).
MAX_RW_COUNT = 0x7FFFF000



class File:
    """An open file description."""

    #: Whether lseek works (False gives ESPIPE).
    seekable = True
    #: Whether epoll accepts this file (False: EPERM, as for Linux files without ->poll).
    pollable = True
    #: epoll items watching this description (a list once one registers).
    watchers = ()
    #: Whether a flock or OFD lock was ever taken through this description.
    has_locks = False
    #: A blocking write(2) waits until it has written everything (pipes, terminals):
    #: short writes park the task and carry on (syscalls.fs.write).
    blocking_stream = False

    def __init__(self, inode, flags: int, path: bytes):
        self.inode = inode
        # A plain int: flags built from umlpy.abi's IntFlags would make every later
        # test of them an enum operation (microseconds on hot paths).
        self.flags = int(flags) & ~OPEN_ONLY_FLAGS
        self.path = path
        self.pos = 0
        self.refs = 0
        self.closed = False

    def __repr__(self):
        return "<%s %r flags=%#o>" % (type(self).__name__, self.path, self.flags)

    # -- refcounting ---------------------------------------------------
    def get_ref(self):
        self.refs += 1
        return self

    def put_ref(self):
        self.refs -= 1
        if self.refs <= 0 and not self.closed:
            self.closed = True
            if self.watchers:
                for item in list(self.watchers):
                    item.file_released()
            if self.has_locks:
                from umlpy.fs.locks import file_released
                file_released(self)
            if notify_hook is not None and self.inode is not None:
                notify_hook(self, _IN_CLOSE_WRITE if self.writable else _IN_CLOSE_NOWRITE)
            self.release()

    def release(self):
        """The last reference went away."""

    def close(self):
        """Drop one reference (for holders that did not go through FdTable)."""
        self.put_ref()

    # -- access mode ---------------------------------------------------
    @property
    def readable(self) -> bool:
        return (self.flags & O_ACCMODE) in (os.O_RDONLY, os.O_RDWR) and not self.flags & os.O_PATH

    @property
    def writable(self) -> bool:
        return (self.flags & O_ACCMODE) in (os.O_WRONLY, os.O_RDWR) and not self.flags & os.O_PATH

    @property
    def nonblocking(self) -> bool:
        return bool(self.flags & os.O_NONBLOCK)

    def check_readable(self):
        if not self.readable:
            raise SyscallError(errno.EBADF)

    def check_writable(self):
        if not self.writable:
            raise SyscallError(errno.EBADF)

    def get_fl(self) -> int:
        """F_GETFL."""
        return self.flags | (os.O_LARGEFILE if hasattr(os, "O_LARGEFILE") else 0)

    def set_fl(self, flags: int):
        """F_SETFL: only SETFL_MASK bits change."""
        self.flags = (self.flags & ~SETFL_MASK) | (int(flags) & SETFL_MASK)

    # -- I/O: the defaults are for read/write-less files ------------------
    def read(self, n: int) -> bytes:
        self.check_readable()
        data = self.pread(n, self.pos) if self.seekable else self._read_stream(n)
        if self.seekable:
            self.pos += len(data)
        return data

    def write(self, data: bytes) -> int:
        self.check_writable()
        if not self.seekable:
            return self._write_stream(data)
        if self.flags & os.O_APPEND:
            self.pos = self.fstat().st_size
        n = self.pwrite(data, self.pos)
        self.pos += n
        return n

    def read_for(self, caller, n: int) -> bytes:
        """read(2) by ``caller`` (an opaque task): :meth:`read` for every file but
        those whose effect depends on who reads (a terminal's job control)."""
        return self.read(n)

    def write_for(self, caller, data: bytes) -> int:
        """write(2) by ``caller`` (an opaque task): the same as :meth:`write` for every file
        but those whose effect depends on who writes (/proc/mm acts on the writer's fds)."""
        return self.write(data)

    def _read_stream(self, n):
        raise SyscallError(errno.EINVAL)

    def _write_stream(self, data):
        raise SyscallError(errno.EINVAL)

    def pread(self, n: int, off: int) -> bytes:
        if not self.seekable:
            raise SyscallError(errno.ESPIPE)
        self.check_readable()
        if off < 0:
            raise SyscallError(errno.EINVAL)
        return self.read_at(off, min(n, MAX_RW_COUNT))

    def pwrite(self, data: bytes, off: int) -> int:
        if not self.seekable:
            raise SyscallError(errno.ESPIPE)
        self.check_writable()
        if off < 0:
            raise SyscallError(errno.EINVAL)
        return self.write_at(off, data[:MAX_RW_COUNT])

    def read_at(self, off: int, n: int) -> bytes:
        raise SyscallError(errno.EINVAL)

    def write_at(self, off: int, data: bytes) -> int:
        raise SyscallError(errno.EINVAL)

    def size(self) -> int:
        return self.fstat().st_size

    def lseek(self, off: int, whence: int) -> int:
        if not self.seekable:
            raise SyscallError(errno.ESPIPE)
        if whence == SEEK_SET:
            new = off
        elif whence == SEEK_CUR:
            new = self.pos + off
        elif whence == SEEK_END:
            new = self.size() + off
        elif whence in (SEEK_DATA, SEEK_HOLE):
            size = self.size()
            if off < 0 or off >= size:
                raise SyscallError(errno.ENXIO)
            new = off if whence == SEEK_DATA else size
        else:
            raise SyscallError(errno.EINVAL)
        if new < 0 or new > MAX_LFS_FILESIZE:
            raise SyscallError(errno.EINVAL)
        self.pos = new
        return new

    def read_all(self) -> bytes:
        """The whole content (for the loader), independent of the position."""
        out, off = [], 0
        while True:
            chunk = self.read_at(off, 1 << 20)
            if not chunk:
                return b"".join(out)
            out.append(chunk)
            off += len(chunk)

    def getdents64(self, bufsize: int) -> bytes:
        raise SyscallError(errno.ENOTDIR)

    def fstat(self) -> st.Stat:
        if self.inode is None:
            raise SyscallError(errno.EBADF)
        return self.inode.stat()

    def ftruncate(self, size: int):
        if not self.writable:
            raise SyscallError(errno.EINVAL)
        if size < 0:
            raise SyscallError(errno.EINVAL)
        if self.inode is None:
            raise SyscallError(errno.EINVAL)
        self.inode.truncate(size)

    def ioctl(self, request: int, arg: int, mem=None) -> int:
        raise SyscallError(errno.ENOTTY)

    def isatty(self) -> bool:
        return False

    def poll(self) -> int:
        """Ready events (POLLIN/POLLOUT/POLLHUP...) right now."""
        return POLLIN | POLLOUT

    #: Wait queue notified when poll() may change; None if it never does.
    waitq = None

    def open_wait(self):
        """After open: a queue to wait on before the open may complete (a FIFO end
        waiting for its partner), or None."""
        return None

    def mmap_may_write(self) -> bool:
        """Whether a MAP_SHARED mapping of this file may be writable (False: a sealed memfd)."""
        return True

    def host_fds(self) -> tuple:
        """Host fds whose readability changes poll() unnotified (see the module doc)."""
        return ()

    def reopen(self, flags: int, caller):
        """open() of /proc/<pid>/fd/N naming this file."""
        if self.inode is None:
            raise SyscallError(errno.ENXIO)
        return self.inode.open(flags, caller, self.path)


class RegularFile(File):
    """A file over a node with ``read_at``/``write_at``/``size``."""

    pollable = False

    def mapping_source(self):
        """What mmap reads pages from: an object with ``read_at(off, n)`` and
        ``size()`` that stays valid after this description is closed (a guest
        may close an fd right after mapping it)."""
        return self.inode

    def read_at(self, off, n):
        return self.inode.read_at(off, n)

    def write_at(self, off, data):
        return self.inode.write_at(off, data)

    def size(self):
        return self.inode.size()


class BytesFile(File):
    """Read-only snapshot of generated content (proc files)."""

    pollable = False

    def __init__(self, inode, flags, path, data: bytes):
        super().__init__(inode, flags, path)
        self.data = data

    def read_at(self, off, n):
        return self.data[off:off + n]

    def size(self):
        return len(self.data)


class DirFile(File):
    """An open directory: getdents64 over a snapshot taken at position 0.

    The position is the index of the next entry in the snapshot (entry 0 is
    ".", 1 is ".."), which is also what d_off reports."""

    pollable = False

    def __init__(self, inode, flags, path, caller):
        super().__init__(inode, flags, path)
        self._caller = caller
        self._snapshot = None

    def read(self, n):
        raise SyscallError(errno.EISDIR)

    def write(self, data):
        raise SyscallError(errno.EBADF)

    def pread(self, n, off):
        raise SyscallError(errno.EISDIR)

    def pwrite(self, data, off):
        raise SyscallError(errno.EBADF)

    def size(self):
        return self.inode.stat().st_size

    def lseek(self, off, whence):
        if whence == SEEK_SET:
            new = off
        elif whence == SEEK_CUR:
            new = self.pos + off
        else:
            raise SyscallError(errno.EINVAL)
        if new < 0:
            raise SyscallError(errno.EINVAL)
        if new == 0:
            self._snapshot = None
        self.pos = new
        return new

    def list_all(self) -> list:
        """[(name, ino, d_type)] including . and .."""
        me = self.inode
        parent = me.parent if me.parent is not None else me
        return [(b".", me.stat().st_ino, st.DT_DIR),
                (b"..", parent.stat().st_ino, st.DT_DIR)] + list(me.entries(self._caller))

    def getdents64(self, bufsize: int) -> bytes:
        if self._snapshot is None or self.pos == 0:
            self._snapshot = self.list_all()
        out = bytearray()
        while self.pos < len(self._snapshot):
            name, ino, dtype = self._snapshot[self.pos]
            rec = st.pack_dirent64(ino, self.pos + 1, dtype, name)
            if len(out) + len(rec) > bufsize:
                if not out:
                    raise SyscallError(errno.EINVAL)
                break
            out += rec
            self.pos += 1
        return bytes(out)


class PathFile(File):
    """An O_PATH descriptor: names a node, allows no I/O."""

    seekable = False
    pollable = False

    def read(self, n):
        raise SyscallError(errno.EBADF)

    def write(self, data):
        raise SyscallError(errno.EBADF)

    def pread(self, n, off):
        raise SyscallError(errno.EBADF)

    def pwrite(self, data, off):
        raise SyscallError(errno.EBADF)

    def lseek(self, off, whence):
        raise SyscallError(errno.EBADF)

    def getdents64(self, bufsize):
        raise SyscallError(errno.EBADF)

    def ioctl(self, request, arg, mem=None):
        raise SyscallError(errno.EBADF)
