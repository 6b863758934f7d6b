"""Pipes: an in-memory 64 KiB buffer with a read end and a write end.

Blocking is the scheduler's business: an operation that must wait raises
:class:`~umlpy.fs.file.WouldBlock` carrying the pipe's wait queue (or
EAGAIN under O_NONBLOCK); the kernel parks the task and restarts the call
when the queue is notified.  A write with no reader gives EPIPE: the write
handler sends SIGPIPE, as it does for every EPIPE from write.

Simplification: a blocking write larger than the free space writes what
fits and returns the short count (writes up to PIPE_BUF are atomic: all or
wait); callers loop on short writes.
"""

from __future__ import annotations

import errno
import itertools
import os

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.abi.poll import POLLRDNORM, POLLWRNORM
from umlpy.fs.file import POLLERR, POLLHUP, POLLIN, POLLOUT, File
from umlpy.waiter import Queue, WouldBlock
from umlpy.fs.node import DEV_PIPE, Inode, Meta

#: What a pipe's notifications say (epoll counts one edge per notification that
#: meets an item's events, as Linux's separate rd_wait/wr_wait wake-ups do).
_DATA = POLLIN | POLLRDNORM
_ROOM = POLLOUT | POLLWRNORM
_HANGUP = POLLIN | POLLOUT | POLLHUP | POLLERR

PIPE_BUF = 4096
PIPE_SIZE = 65536
_pipe_ino = itertools.count(0x3000)


class Pipe(Inode):
    """The pipe object (also the inode both ends fstat)."""

    def __init__(self, capacity: int = PIPE_SIZE):
        self.buf = bytearray()
        self.capacity = capacity
        self.readers = 0
        self.writers = 0
        self.waitq = Queue()
        self.meta = Meta(mode=st.S_IFIFO | 0o600, dev=DEV_PIPE, ino=next(_pipe_ino))
        self.fifo = None             # the MemFifo node of a named pipe

    def stat(self):
        s = self.meta.to_stat(0)
        s.st_blocks = 0
        return s

    @property
    def name(self) -> str:
        return "pipe:[%d]" % self.meta.ino

    def open_end(self, flags: int, inode=None, path=None):
        """A new description of this pipe (pipe2, a FIFO's open, reopen via /proc)."""
        acc = flags & os.O_ACCMODE
        cls = PipeReader if acc == os.O_RDONLY else PipeWriter if acc == os.O_WRONLY else PipeRdWr
        return cls(self, flags, inode, path)

    def open(self, flags, caller, path):
        return self.open_end(flags)


def open_fifo(node, flags: int, path: bytes):
    """open(2) of a FIFO node (fs/pipe.c fifo_open): a reader waits for a writer and a
    writer for a reader unless O_NONBLOCK (a non-blocking writer without readers
    gets ENXIO); O_RDWR never waits.  The caller waits while ``open_wait()`` says so."""
    acc = flags & os.O_ACCMODE
    p = node.pipe
    if acc == os.O_WRONLY and flags & os.O_NONBLOCK and (p is None or p.readers == 0):
        raise SyscallError(errno.ENXIO)
    if p is None:
        p = node.pipe = Pipe()
        p.fifo = node
    end = p.open_end(flags & ~os.O_TRUNC, inode=node, path=path)
    if end.readable:
        node.r_counter += 1
    if end.writable:
        node.w_counter += 1
    if acc == os.O_RDONLY and p.writers == 0 and not flags & os.O_NONBLOCK:
        end.partner = ("w_counter", node.w_counter)
    elif acc == os.O_WRONLY and p.readers == 0:
        end.partner = ("r_counter", node.r_counter)
    p.waitq.notify()
    return end


def make_pipe(flags: int = 0):
    """(read end, write end) for pipe2(flags); O_CLOEXEC is the fd table's."""
    p = Pipe()
    keep = flags & (os.O_NONBLOCK | os.O_DIRECT)
    return p.open_end(os.O_RDONLY | keep), p.open_end(os.O_WRONLY | keep)


class _PipeEnd(File):
    seekable = False
    blocking_stream = True

    def __init__(self, pipe: Pipe, flags: int, inode=None, path=None):
        super().__init__(inode or pipe, flags, path or pipe.name.encode())
        self.pipe = pipe
        self.waitq = pipe.waitq
        self.partner = None      # a FIFO open waiting for: ("r_counter"|"w_counter", value)
        if self.readable:
            pipe.readers += 1
        if self.writable:
            pipe.writers += 1

    def release(self):
        p = self.pipe
        if self.readable:
            p.readers -= 1
        if self.writable:
            p.writers -= 1
        fifo = p.fifo
        if fifo is not None and p.readers == 0 and p.writers == 0 and fifo.pipe is p:
            fifo.pipe = None         # the last end of a FIFO: its data goes
        p.waitq.notify(_HANGUP)

    def open_wait(self):
        if self.partner is None:
            return None
        name, value = self.partner
        if getattr(self.pipe.fifo, name) != value:
            self.partner = None
            return None
        return self.pipe.waitq

    def fstat(self):
        return self.inode.stat()

    def _read_stream(self, n):
        p = self.pipe
        if not p.buf:
            if p.writers == 0 or n == 0:
                return b""
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(p.waitq)
        data = bytes(p.buf[:n])
        del p.buf[:n]
        p.waitq.notify(_ROOM)
        return data

    def _write_stream(self, data):
        p = self.pipe
        if p.readers == 0:
            raise SyscallError(errno.EPIPE)
        if not data:
            return 0
        free = p.capacity - len(p.buf)
        if free < len(data) and (len(data) <= PIPE_BUF or free == 0):
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(p.waitq)
        chunk = data[:free]
        p.buf += chunk
        p.waitq.notify(_DATA)
        return len(chunk)

    def lseek(self, off, whence):
        raise SyscallError(errno.ESPIPE)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def poll(self):
        p = self.pipe
        ev = 0
        if self.readable:
            if p.buf:
                ev |= POLLIN
            if p.writers == 0:
                ev |= POLLHUP
        if self.writable:
            if p.readers == 0:
                ev |= POLLERR
            elif len(p.buf) < p.capacity:
                ev |= POLLOUT
        return ev

    def ioctl(self, request, arg, mem=None):
        import struct
        import termios
        if request == termios.FIONREAD:
            mem.write(arg, struct.pack("<i", len(self.pipe.buf)))
            return 0
        raise SyscallError(errno.ENOTTY)

    def reopen(self, flags, caller):
        if self.pipe.fifo is not None:
            return open_fifo(self.pipe.fifo, flags, self.path)
        return self.pipe.open_end(flags)


class PipeReader(_PipeEnd):
    pass


class PipeWriter(_PipeEnd):
    pass


class PipeRdWr(_PipeEnd):
    """A FIFO opened O_RDWR (or /proc/self/fd reopened read-write)."""


# --- splice, tee and vmsplice: pipes as kernel buffers -------------------------------------

def pipe_of(f):
    """The Pipe behind a pipe or FIFO description, else None."""
    return f.pipe if isinstance(f, _PipeEnd) else None


def pipe_take(f, n: int, nonblock: bool, peek: bool = False) -> bytes:
    """Up to ``n`` bytes out of the pipe of read end ``f`` (left in place with ``peek``,
    for tee): b"" at end of file, EAGAIN or a wait when empty."""
    if not f.readable:
        raise SyscallError(errno.EBADF)
    p = f.pipe
    if not p.buf:
        if p.writers == 0:
            return b""
        if nonblock:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock(p.waitq)
    data = bytes(p.buf[:n])
    if not peek:
        del p.buf[:n]
        p.waitq.notify(_ROOM)
    return data


def pipe_room(f, nonblock: bool) -> int:
    """Free space in the pipe of write end ``f``: EPIPE without readers, EAGAIN or a
    wait when full."""
    if not f.writable:
        raise SyscallError(errno.EBADF)
    p = f.pipe
    if p.readers == 0:
        raise SyscallError(errno.EPIPE)
    room = p.capacity - len(p.buf)
    if room <= 0:
        if nonblock:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock(p.waitq)
    return room


def pipe_put(f, data: bytes) -> int:
    """Append what fits (after :func:`pipe_room`)."""
    p = f.pipe
    chunk = data[:p.capacity - len(p.buf)]
    if chunk:
        p.buf += chunk
        p.waitq.notify(_DATA)
    return len(chunk)
