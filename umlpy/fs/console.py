"""The guest's console: /dev/console, /dev/tty and the first process's fds 0-2.

A :class:`ConsoleIO` is one endpoint: input from a host fd or from given
bytes, output to a host fd (unbuffered, partial writes retried) or to a
Python callable, so the API can capture guest output.  :class:`Console` is
the open file description over it.

Terminal ioctls read the host's terminal (TCGETS, TIOCGWINSZ) but settings
the guest makes (TCSETS*) stay in the ConsoleIO: the guest never changes
the host terminal.  ioctl numbers come from the host's ``termios`` module,
which on x86-64 Linux are the guest's.
"""

from __future__ import annotations

import errno
import fcntl as host_fcntl
import os
import select
import stat as host_stat
import struct
import termios

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs.file import POLLIN, POLLOUT, File
from umlpy.waiter import Queue

#: sizeof(struct termios) as the kernel copies it for TCGETS/TCSETS
#: (asm-generic/termbits.h: 4 tcflag_t, c_line, c_cc[19]).  glibc's
#: user-space struct termios is 60 bytes but starts with the same 36.
KERNEL_TERMIOS_SIZE = 36
WINSIZE_SIZE = 8
_TCSETS = (termios.TCSETS, termios.TCSETSW, termios.TCSETSF)


class ConsoleIO:
    """One console endpoint.

    read_fd / write_fd: host fds (not closed by umlpy).  write: a callable
    taking bytes (used instead of write_fd).  input: bytes the guest reads
    before EOF (used instead of read_fd).  tty_fd: the host fd whose terminal
    settings TCGETS/TIOCGWINSZ report (default: read_fd, else write_fd).
    """

    def __init__(self, *, read_fd=None, write_fd=None, write=None, input=None, tty_fd=None):
        self.read_fd = read_fd
        self.write_fd = write_fd
        self._write_cb = write
        self._input = bytearray(input) if input is not None else None
        if tty_fd is None:
            tty_fd = read_fd if read_fd is not None else write_fd
        self.tty_fd = tty_fd
        self.termios = None       # guest's own settings after TCSETS
        self.winsize = None       # guest's own after TIOCSWINSZ
        self.pgrp = None          # foreground process group, set by the kernel
        self.waitq = Queue()

    @classmethod
    def host(cls, fd: int) -> "ConsoleIO":
        """An endpoint over host fd 0, 1 or 2 of the supervisor."""
        if fd == 0:
            return cls(read_fd=0)
        return cls(write_fd=fd)

    def feed(self, data: bytes):
        """Append input (for buffer-backed consoles)."""
        if self._input is None:
            self._input = bytearray()
        self._input += data
        self.waitq.notify()

    # -- data ----------------------------------------------------------
    def read(self, n: int, nonblocking: bool = False) -> bytes:
        if self._input is not None:
            data = bytes(self._input[:n])
            del self._input[:n]
            return data
        if self.read_fd is None:
            return b""
        if nonblocking and not self.input_ready():
            raise SyscallError(errno.EAGAIN)
        while True:
            try:
                return os.read(self.read_fd, n)
            except BlockingIOError:
                select.select([self.read_fd], [], [])
            except InterruptedError:
                continue
            except OSError as e:
                raise SyscallError(e.errno or errno.EIO) from None

    def write(self, data: bytes) -> int:
        if self._write_cb is not None:
            self._write_cb(bytes(data))
            return len(data)
        if self.write_fd is None:
            return len(data)  # no sink: discard, like a console nobody reads
        view = memoryview(data)
        done = 0
        while done < len(view):
            try:
                done += os.write(self.write_fd, view[done:])
            except BlockingIOError:
                select.select([], [self.write_fd], [])
            except InterruptedError:
                continue
            except BrokenPipeError:
                if done:
                    return done
                raise SyscallError(errno.EPIPE) from None
            except OSError as e:
                if done:
                    return done
                raise SyscallError(e.errno or errno.EIO) from None
        return done

    def input_ready(self) -> bool:
        if self._input is not None:
            return True  # data, or EOF
        if self.read_fd is None:
            return True
        r, _, _ = select.select([self.read_fd], [], [], 0)
        return bool(r)

    def host_view(self):
        """The host's stat of the fd behind this endpoint when that is no terminal (a
        pipe, a file, /dev/null), so that the guest's fd looks like it, as a program
        run by strace sees its own fds; None for a terminal or a Python-side endpoint."""
        if self._write_cb is not None or self._input is not None:
            return None
        fd = self.read_fd if self.read_fd is not None else self.write_fd
        if fd is None:
            return None
        try:
            hs = os.fstat(fd)
        except OSError:
            return None
        if host_stat.S_ISCHR(hs.st_mode) and os.isatty(fd):
            return None
        return hs

    def lseek(self, off: int, whence: int) -> int:
        """lseek on a host file or device behind the endpoint; ESPIPE on a pipe or terminal."""
        hs = self.host_view()
        if hs is None or not (host_stat.S_ISREG(hs.st_mode) or host_stat.S_ISCHR(hs.st_mode)):
            raise SyscallError(errno.ESPIPE)
        fd = self.read_fd if self.read_fd is not None else self.write_fd
        try:
            return os.lseek(fd, off, whence)
        except OSError as e:
            raise SyscallError(e.errno or errno.EINVAL) from None

    # -- terminal ----------------------------------------------------------
    def isatty(self) -> bool:
        return self.tty_fd is not None and self._write_cb is None and os.isatty(self.tty_fd)

    def _host_ioctl(self, req, size) -> bytes:
        if not self.isatty():
            raise SyscallError(errno.ENOTTY)
        try:
            return host_fcntl.ioctl(self.tty_fd, req, bytes(size))
        except OSError as e:
            raise SyscallError(e.errno or errno.ENOTTY) from None

    def tcgets(self) -> bytes:
        if self.termios is not None:
            return self.termios
        return self._host_ioctl(termios.TCGETS, KERNEL_TERMIOS_SIZE)

    def get_winsize(self) -> bytes:
        if self.winsize is not None:
            return self.winsize
        return self._host_ioctl(termios.TIOCGWINSZ, WINSIZE_SIZE)

    def ioctl(self, request: int, arg: int, mem) -> int:
        if request == termios.TCGETS:
            mem.write(arg, self.tcgets())
            return 0
        if request in _TCSETS:
            self.tcgets()  # ENOTTY unless a terminal
            self.termios = bytes(mem.read(arg, KERNEL_TERMIOS_SIZE))
            return 0
        if request == termios.TIOCGWINSZ:
            mem.write(arg, self.get_winsize())
            return 0
        if request == termios.TIOCSWINSZ:
            self.get_winsize()
            self.winsize = bytes(mem.read(arg, WINSIZE_SIZE))
            return 0
        if request == termios.TIOCGPGRP:
            self.tcgets()
            mem.write(arg, struct.pack("<i", self.pgrp or 1))
            return 0
        if request == termios.TIOCSPGRP:
            self.tcgets()
            self.pgrp = struct.unpack("<i", mem.read(arg, 4))[0]
            return 0
        if request == termios.FIONREAD:
            if self._input is not None:
                n = len(self._input)
            elif self.read_fd is not None:
                try:
                    n = struct.unpack("i", host_fcntl.ioctl(self.read_fd, termios.FIONREAD,
                                                            bytes(4)))[0]
                except OSError:
                    n = 0
            else:
                n = 0
            mem.write(arg, struct.pack("<i", n))
            return 0
        raise SyscallError(errno.ENOTTY)


class Console(File):
    """An open description of a console endpoint."""

    seekable = False

    def __init__(self, io: ConsoleIO, flags: int, path: bytes = b"/dev/console"):
        super().__init__(None, flags, path)
        self.io = io
        self.waitq = io.waitq

    def _read_stream(self, n):
        return self.io.read(n, self.nonblocking)

    def _write_stream(self, data):
        return self.io.write(data)

    def lseek(self, off, whence):
        return self.io.lseek(off, whence)

    def fstat(self):
        hs = self.io.host_view()
        if hs is None:
            from umlpy.fs.devfs import console_stat
            return console_stat()
        return host_fd_stat(hs)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def isatty(self):
        return self.io.isatty()

    def ioctl(self, request, arg, mem=None):
        return self.io.ioctl(request, arg, mem)

    def poll(self):
        ev = POLLOUT
        if self.io.input_ready():
            ev |= POLLIN
        return ev

    def reopen(self, flags, caller):
        return Console(self.io, flags, self.path)

    def read_all(self):
        raise SyscallError(errno.EACCES)


def std_files(stdin: ConsoleIO, stdout: ConsoleIO, stderr: ConsoleIO,
              path: bytes = b"/dev/console") -> list:
    """Descriptions for the first process's fds 0, 1, 2."""
    return [Console(stdin, os.O_RDWR, path), Console(stdout, os.O_RDWR, path),
            Console(stderr, os.O_RDWR, path)]


def host_fd_stat(hs) -> st.Stat:
    """A host pipe, file or device behind fds 0-2 as the guest sees it: its type, mode,
    size and device number, owned by root (as host files are, ``hostfs``)."""
    return st.Stat(st_dev=hs.st_dev, st_ino=hs.st_ino, st_nlink=hs.st_nlink, st_mode=hs.st_mode,
                   st_rdev=hs.st_rdev, st_size=hs.st_size, st_blksize=hs.st_blksize,
                   st_blocks=hs.st_blocks,
                   st_atime=divmod(hs.st_atime_ns, 10 ** 9), st_mtime=divmod(hs.st_mtime_ns, 10 ** 9),
                   st_ctime=divmod(hs.st_ctime_ns, 10 ** 9))
