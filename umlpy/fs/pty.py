"""Pseudo-terminals: /dev/ptmx, the devpts filesystem (/dev/pts/N) and pty pairs.

Opening /dev/ptmx makes a :class:`PtyPair`: the lowest free index N, a
master description (:class:`PtyMaster`) and a slave :class:`~umlpy.fs.tty.Tty`
that /dev/pts/N opens (:class:`PtySlave`) once TIOCSPTLCK unlocked it, as
Linux's drivers/tty/pty.c does.  What the slave writes (after output
processing and echo) waits in the pair's buffer for the master's reads; what
the master writes is the slave's input, cooked by its line discipline.

The master's ioctls act on the slave tty (termios, window size, process
groups: tty_pair_get_tty) besides its own: TIOCGPTN, TIOCSPTLCK,
TIOCGPTLCK, TIOCGPTPEER (a new slave description), TIOCPKT, TIOCGPKT,
TIOCSIG.  When every slave description is closed, the master reads what is
left and then EIO, and polls POLLHUP; closing the master hangs the slave up
(SIGHUP and SIGCONT to the session leader) and frees the index.

/dev/pts/N is a character device 136+N/256, N%256 owned by the uid that
opened /dev/ptmx, group tty (5), mode 0620 (devpts mounted gid=5,mode=620 as
Debian does), so glibc's grantpt/ptsname checks hold; /dev/pts/ptmx is c
5,2 mode 0000.
"""

from __future__ import annotations

import errno
import os
import struct

from umlpy.abi import stat as st
from umlpy.abi.poll import POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from umlpy.errors import SyscallError
from umlpy.fs.file import File
from umlpy.fs.memfs import MemDir, MemNode
from umlpy.fs.node import Meta
from umlpy.fs.tty import JobHost, Termios, Tty, TtyFile
from umlpy.waiter import Queue, WouldBlock

DEV_DEVPTS = st.makedev(0, 0x18)
RDEV_PTMX = st.makedev(5, 2)
UNIX98_PTY_SLAVE_MAJOR = 136
TTY_GID = 5
#: How much slave output waits for the master's reads before slave writers wait.
PTY_BUF_SIZE = 65536
NR_UNIX98_PTY_MAX = 4096

TIOCGPTN = 0x80045430
TIOCSPTLCK = 0x40045431
TIOCGPTLCK = 0x80045439
TIOCGPTPEER = 0x5441
TIOCPKT = 0x5420
TIOCGPKT = 0x80045438
TIOCSIG = 0x40045436
FIONREAD = 0x541B
TIOCPKT_DATA = 0
_NSIG = 64
_INT = struct.Struct("<i")
_UINT = struct.Struct("<I")

#: A slave's (pts init_termios): the standard one without HUPCL.
SLAVE_CFLAG = 0x0F | 0x30 | 0x80


def pts_rdev(index: int) -> int:
    return st.makedev(UNIX98_PTY_SLAVE_MAJOR + index // 256, index % 256)


class PtsNode(MemNode):
    """/dev/pts/N."""

    def __init__(self, pair: "PtyPair", uid: int):
        super().__init__(Meta(mode=st.S_IFCHR | 0o620, uid=uid, gid=TTY_GID, dev=DEV_DEVPTS,
                              rdev=pts_rdev(pair.index), ino=pair.index + 3))
        self.pair = pair

    def open(self, flags, caller, path):
        return self.pair.open_slave(flags, path)


class PtmxNode(MemNode):
    """/dev/ptmx and /dev/pts/ptmx."""

    def __init__(self, devpts: "Devpts", meta: Meta):
        super().__init__(meta)
        self.devpts = devpts

    def open(self, flags, caller, path):
        return self.devpts.new_pair(flags, caller)


class Devpts(MemDir):
    """The devpts filesystem mounted on /dev/pts."""

    def __init__(self, host: JobHost, parent):
        super().__init__(Meta(mode=st.S_IFDIR | 0o755, dev=DEV_DEVPTS, ino=1), parent=parent)
        self.host = host
        self.pairs: dict = {}        # index -> PtyPair
        self.children[b"ptmx"] = PtmxNode(self, Meta(mode=st.S_IFCHR, dev=DEV_DEVPTS, rdev=RDEV_PTMX, ino=2))

    def ptmx_node(self, meta: Meta) -> PtmxNode:
        """The /dev/ptmx node of devfs (same device, devfs's own inode)."""
        return PtmxNode(self, meta)

    def new_pair(self, flags, caller) -> "PtyMaster":
        index = 0
        while index in self.pairs:
            index += 1
        if index >= NR_UNIX98_PTY_MAX:
            raise SyscallError(errno.ENOSPC)
        pair = PtyPair(self, index, caller.euid if hasattr(caller, "euid") else 0)
        self.pairs[index] = pair
        self.children[str(index).encode()] = pair.node
        return pair.open_master(flags)

    def remove(self, name, caller, *, keep_links=False):
        raise SyscallError(errno.EPERM)

    def create(self, name, node, caller):
        raise SyscallError(errno.EACCES)

    def drop(self, pair: "PtyPair"):
        if self.pairs.get(pair.index) is pair:
            del self.pairs[pair.index]
            self.children.pop(str(pair.index).encode(), None)


class PtyPair:
    """A master and its slave tty."""

    def __init__(self, devpts: Devpts, index: int, uid: int):
        self.devpts = devpts
        self.index = index
        self.name = b"/dev/pts/%d" % index
        self.node = PtsNode(self, uid)
        self.locked = True
        self.to_master = bytearray()
        self.master_waitq = Queue()
        self.master_open = False
        self.slave_opens = 0
        self.slave_ever = False
        self.packet = False
        self.tty = Tty(devpts.host, self.name, self._slave_output, self._slave_room,
                       Termios(cflag=SLAVE_CFLAG))
        self.tty.flush_output = self._flush_output
        self.tty.on_input_room = lambda: self.master_waitq.notify(POLLOUT | POLLWRNORM)
        self.tty.open_file = self.open_slave

    # -- the slave's driver -------------------------------------------------------------
    def _slave_output(self, data: bytes) -> int:
        room = PTY_BUF_SIZE - len(self.to_master)
        take = data[:room]
        if take:
            self.to_master += take
            self.master_waitq.notify(POLLIN | POLLRDNORM)
        return len(take)

    def _slave_room(self) -> int:
        return PTY_BUF_SIZE - len(self.to_master)

    def _flush_output(self):
        """Output flushes (ISIG without NOFLSH, TCOFLUSH) drop nothing: on Linux they
        flush the master's flip buffer only, which its line discipline empties into the
        master's read buffer as soon as data arrives; here data is there at once."""

    @property
    def other_closed(self) -> bool:
        """Every slave description is closed after one was opened (TTY_OTHER_CLOSED)."""
        return self.slave_ever and self.slave_opens == 0

    # -- opening and closing -----------------------------------------------------------------
    def open_master(self, flags) -> "PtyMaster":
        self.master_open = True
        return PtyMaster(self, flags)

    def open_slave(self, flags, path=None) -> "PtySlave":
        if self.locked or not self.master_open or self.tty.hung_up:
            raise SyscallError(errno.EIO)
        host = self.devpts.host
        self.tty.open_by(host.current(), bool(flags & os.O_NOCTTY))
        return PtySlave(self, flags, path or self.name)

    def slave_opened(self):
        self.slave_opens += 1
        self.slave_ever = True

    def slave_closed(self):
        self.slave_opens -= 1
        if self.slave_opens == 0:
            self.master_waitq.notify(POLLHUP | POLLIN)

    def master_closed(self):
        self.master_open = False
        self.devpts.drop(self)
        self.tty.hangup()


class PtyMaster(File):
    """An open /dev/ptmx."""

    seekable = False
    blocking_stream = True

    def __init__(self, pair: PtyPair, flags):
        super().__init__(pair.devpts.children[b"ptmx"], flags, b"/dev/ptmx")
        self.pair = pair
        self.waitq = pair.master_waitq

    def release(self):
        self.pair.master_closed()

    def read(self, n):
        self.check_readable()
        p = self.pair
        if not p.to_master:
            if p.other_closed:
                raise SyscallError(errno.EIO)
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(p.master_waitq)
        if p.packet:
            n -= 1
            if n <= 0:
                return b"\0"
        data = bytes(p.to_master[:n])
        del p.to_master[:n]
        p.tty.waitq.notify(POLLOUT | POLLWRNORM)
        return (bytes([TIOCPKT_DATA]) + data) if p.packet else data

    def write(self, data):
        self.check_writable()
        if not data:
            return 0
        n = self.pair.tty.receive(data)
        if n == 0:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.pair.master_waitq)
        return n

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def lseek(self, off, whence):
        raise SyscallError(errno.ESPIPE)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def isatty(self):
        return True

    def poll(self):
        p = self.pair
        ev = 0
        if p.to_master:
            ev |= POLLIN | POLLRDNORM
        if p.other_closed:
            ev |= POLLHUP
        if p.tty.input_room() > 0:
            ev |= POLLOUT | POLLWRNORM
        return ev

    def open_peer(self, flags) -> "PtySlave":
        """TIOCGPTPEER: a slave description without going through /dev/pts."""
        if flags & ~(os.O_ACCMODE | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC):
            raise SyscallError(errno.EINVAL)
        return self.pair.open_slave(flags)

    def ioctl(self, request, arg, mem=None):
        p = self.pair
        if request == TIOCGPTN:
            mem.write(arg, _UINT.pack(p.index))
            return 0
        if request == TIOCSPTLCK:
            p.locked = bool(_INT.unpack(mem.read(arg, 4))[0])
            return 0
        if request == TIOCGPTLCK:
            mem.write(arg, _INT.pack(int(p.locked)))
            return 0
        if request == TIOCPKT:
            p.packet = bool(_INT.unpack(mem.read(arg, 4))[0])
            return 0
        if request == TIOCGPKT:
            mem.write(arg, _INT.pack(int(p.packet)))
            return 0
        if request == TIOCSIG:
            if not 0 < arg < _NSIG + 1:
                raise SyscallError(errno.EINVAL)
            if p.tty.pgrp is not None:
                p.tty.host.signal_pgrp(p.tty.pgrp, arg)
            return 0
        if request == FIONREAD:
            mem.write(arg, _INT.pack(len(p.to_master)))
            return 0
        return p.tty.ioctl(request, arg, mem, readable=self.readable, master=True)

    def fstat(self):
        return self.inode.stat()

    def reopen(self, flags, caller):
        raise SyscallError(errno.EIO)


class PtySlave(TtyFile):
    """An open /dev/pts/N."""

    def __init__(self, pair: PtyPair, flags, path):
        super().__init__(pair.tty, pair.node, flags, path)
        self.pair = pair
        pair.slave_opened()

    def release(self):
        self.pair.slave_closed()

    def reopen(self, flags, caller):
        return self.pair.open_slave(flags, self.path)
