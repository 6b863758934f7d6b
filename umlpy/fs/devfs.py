"""/dev: a tmpfs holding the guest kernel's character devices.

null, zero, full, random, urandom (bytes from the kernel's ``random_bytes(n)``
callback, so deterministic runs can seed it), console, tty (the opener's
controlling terminal; the console for a process without one), ptmx and the
devpts filesystem on /dev/pts (when the kernel gives a tty ``JobHost``), the
stdin/stdout/stderr and fd links, and an empty shm directory.
"""

from __future__ import annotations

import errno
import os

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs.console import Console
from umlpy.fs.file import File
from umlpy.fs.memfs import MemDir, MemNode, MemSymlink, new_tmpfs
from umlpy.fs.node import DEV_DEVFS, Meta

RDEV_NULL = st.makedev(1, 3)
RDEV_ZERO = st.makedev(1, 5)
RDEV_FULL = st.makedev(1, 7)
RDEV_RANDOM = st.makedev(1, 8)
RDEV_URANDOM = st.makedev(1, 9)
RDEV_TTY = st.makedev(5, 0)
RDEV_CONSOLE = st.makedev(5, 1)
RDEV_PTMX = st.makedev(5, 2)

_CONSOLE_INO = 0x600


def console_stat() -> st.Stat:
    return Meta(mode=st.S_IFCHR | 0o620, ino=_CONSOLE_INO, dev=DEV_DEVFS,
                rdev=RDEV_CONSOLE).to_stat()


class _ConsoleNode(MemNode):
    """What a console tty's descriptions fstat (and lock through)."""


def new_console_node():
    return _ConsoleNode(Meta(mode=st.S_IFCHR | 0o620, ino=_CONSOLE_INO, dev=DEV_DEVFS, rdev=RDEV_CONSOLE))


class CharDevFile(File):
    """Base of the memory devices: reads/writes ignore the position and
    lseek succeeds and reports 0, as on Linux (which gives them no ->poll:
    epoll refuses them)."""

    pollable = False

    def read(self, n):
        self.check_readable()
        return self.read_at(0, n)

    def write(self, data):
        self.check_writable()
        return self.write_at(0, data)

    def lseek(self, off, whence):
        self.pos = 0
        return 0

    def size(self):
        return 0

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)


class NullFile(CharDevFile):
    def read_at(self, off, n):
        return b""

    def write_at(self, off, data):
        return len(data)


class ZeroFile(CharDevFile):
    def read_at(self, off, n):
        return bytes(n)

    def write_at(self, off, data):
        return len(data)


class FullFile(ZeroFile):
    def write_at(self, off, data):
        raise SyscallError(errno.ENOSPC)


class RandomFile(CharDevFile):
    def __init__(self, inode, flags, path, random_bytes, pollable=False):
        super().__init__(inode, flags, path)
        self._random_bytes = random_bytes
        self.pollable = pollable      # /dev/random has ->poll, /dev/urandom not

    def read_at(self, off, n):
        return self._random_bytes(n)

    def write_at(self, off, data):
        return len(data)  # "adds entropy": accepted and ignored


class CharDev(MemNode):
    """A device node; ``opener(node, flags, caller, path) -> File``."""

    def __init__(self, meta: Meta, opener):
        super().__init__(meta)
        self._opener = opener

    def open(self, flags, caller, path):
        return self._opener(self, flags, caller, path)


def new_devfs(parent, console_io, random_bytes, tty_host=None, console_tty=None) -> MemDir:
    """The /dev directory, mounted on ``parent`` (the guest root)."""
    root = new_tmpfs(DEV_DEVFS, parent=parent, mode=0o755)
    devpts = None
    if tty_host is not None:
        from umlpy.fs.pty import Devpts
        devpts = Devpts(tty_host, root)
        root.children[b"pts"] = devpts
        root.children[b"ptmx"] = devpts.ptmx_node(Meta(mode=st.S_IFCHR | 0o666, dev=DEV_DEVFS,
                                                       rdev=RDEV_PTMX))

    def dev(name, rdev, opener, perm=0o666, ino=None):
        meta = Meta(mode=st.S_IFCHR | perm, dev=DEV_DEVFS, rdev=rdev)
        if ino is not None:
            meta.ino = ino
        root.children[name] = CharDev(meta, opener)

    dev(b"null", RDEV_NULL, lambda n, f, c, p: NullFile(n, f, p))
    dev(b"zero", RDEV_ZERO, lambda n, f, c, p: ZeroFile(n, f, p))
    dev(b"full", RDEV_FULL, lambda n, f, c, p: FullFile(n, f, p))
    dev(b"random", RDEV_RANDOM, lambda n, f, c, p: RandomFile(n, f, p, random_bytes, pollable=True))
    dev(b"urandom", RDEV_URANDOM, lambda n, f, c, p: RandomFile(n, f, p, random_bytes))

    def open_console(node, flags, caller, path):
        if console_tty is not None:
            return console_tty.open_file(flags, path)
        if console_io is None:
            raise SyscallError(errno.ENXIO)
        return Console(console_io, flags, path)

    def open_tty(node, flags, caller, path):
        if tty_host is not None:
            tty = tty_host.ctty(tty_host.current())
            if tty is None:
                raise SyscallError(errno.ENXIO)       # no controlling terminal
            return tty.open_file(flags | os.O_NOCTTY, path)
        return open_console(node, flags, caller, path)

    dev(b"tty", RDEV_TTY, open_tty)
    dev(b"console", RDEV_CONSOLE, open_console, perm=0o620, ino=_CONSOLE_INO)
    for i, name in enumerate((b"stdin", b"stdout", b"stderr")):
        root.children[name] = MemSymlink(Meta(mode=st.S_IFLNK | 0o777, dev=DEV_DEVFS),
                                         b"/proc/self/fd/%d" % i)
    root.children[b"fd"] = MemSymlink(Meta(mode=st.S_IFLNK | 0o777, dev=DEV_DEVFS),
                                      b"/proc/self/fd")
    shm = new_tmpfs(DEV_DEVFS, parent=root, mode=0o1777)
    root.children[b"shm"] = shm
    return root


__all__ = ["new_devfs", "CharDev", "CharDevFile", "NullFile", "ZeroFile", "FullFile",
           "RandomFile", "console_stat"]
