"""Inodes: the guest's file objects, independent of how they are opened.

Every node answers ``stat()`` and ``kind``.  Directories add ``lookup``,
``entries`` and the namespace operations; symlinks add ``readlink``/``follow``;
everything that can be opened adds ``open(flags, caller, path) -> File``.

Invariants:
- A directory knows its ``parent``; the root of a mount points at the
  directory it is mounted on, and the guest root points at itself, so ``..``
  needs no mount table.
- Nodes never touch host paths they were not built from (see ``hostfs``).
"""

from __future__ import annotations

import errno
import itertools
import time

from umlpy.abi import stat as st
from umlpy.abi.record import factory, record
from umlpy.errors import SyscallError

# Guest device numbers of the guest kernel's own filesystems.
DEV_ROOT = st.makedev(0, 0x20)   # the rootfs overlay
#: The overlay over the host's own root (host programs, as strace runs them): its files
#: show their host owners, where a root image's files all belong to the guest's root.
DEV_HOSTROOT = st.makedev(0, 0x1F)
DEV_TMP = st.makedev(0, 0x21)
DEV_DEVFS = st.makedev(0, 0x05)
DEV_PROC = st.makedev(0, 0x16)
DEV_PIPE = st.makedev(0, 0x0C)
DEV_SHM = st.makedev(0, 0x01)     # the kernel's internal tmpfs (memfd files)

# In-memory inode numbers start far above what host filesystems hand out in
# practice, so copied-up files may keep their host inode number.
_next_ino = itertools.count(1 << 40)


def new_ino() -> int:
    return next(_next_ino)


def now() -> tuple:
    ns = time.time_ns()
    return (ns // 1_000_000_000, ns % 1_000_000_000)


@record
class Meta:
    """Mutable metadata of an in-memory node."""

    mode: int
    uid: int = 0
    gid: int = 0
    ino: int = factory(new_ino)
    dev: int = DEV_ROOT
    rdev: int = 0
    nlink: int = 1
    atime: tuple = factory(now)
    mtime: tuple = factory(now)
    ctime: tuple = factory(now)

    def touch(self, *, modify=False, change=True):
        t = now()
        if modify:
            self.mtime = t
        if change or modify:
            self.ctime = t

    def to_stat(self, size=0, blksize=4096) -> st.Stat:
        return st.Stat(st_dev=self.dev, st_ino=self.ino, st_nlink=self.nlink,
                       st_mode=self.mode, st_uid=self.uid, st_gid=self.gid,
                       st_rdev=self.rdev, st_size=size, st_blksize=blksize,
                       st_blocks=(size + 511) // 512,
                       st_atime=self.atime, st_mtime=self.mtime, st_ctime=self.ctime)


class Inode:
    """Base of all guest nodes."""

    #: Set on directories: the containing directory.
    parent: "Inode | None" = None
    #: Set by nodes whose namespace the guest may change.
    writable_fs = False

    def stat(self) -> st.Stat:
        raise NotImplementedError

    @property
    def mode(self) -> int:
        return self.stat().st_mode

    def owner_mode(self) -> tuple:
        """(st_mode, st_uid, st_gid): what permission checks need, cheaper than a stat
        where a node knows them (a path walk asks every directory on the way)."""
        s = self.stat()
        return s.st_mode, s.st_uid, s.st_gid

    @property
    def kind(self) -> int:
        """S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFIFO..."""
        return self.mode & st.S_IFMT

    def is_dir(self) -> bool:
        return self.kind == st.S_IFDIR

    def is_symlink(self) -> bool:
        return self.kind == st.S_IFLNK

    # -- opened nodes --------------------------------------------------
    def open(self, flags: int, caller, path: bytes):
        raise SyscallError(errno.ENXIO)

    # -- symlinks ------------------------------------------------------
    def readlink(self, caller) -> bytes:
        raise SyscallError(errno.EINVAL)

    def follow(self, caller):
        """Where the link leads: its target text (bytes), or for /proc
        "magic" links a node to use directly."""
        return self.readlink(caller)

    # -- directories ---------------------------------------------------
    def lookup(self, name: bytes, caller) -> "Inode":
        raise SyscallError(errno.ENOTDIR)

    def entries(self, caller) -> list:
        """[(name, ino, d_type)] excluding . and .."""
        raise SyscallError(errno.ENOTDIR)

    def create(self, name, node, caller):
        """Link a new ``node`` in as ``name`` (EEXIST if taken)."""
        raise SyscallError(errno.EROFS if self.is_dir() else errno.ENOTDIR)

    def remove(self, name, caller):
        raise SyscallError(errno.EROFS if self.is_dir() else errno.ENOTDIR)

    def new_file(self, mode, caller) -> "Inode":
        """A new, unlinked regular file of this directory's filesystem."""
        raise SyscallError(errno.EROFS)

    def new_dir(self, mode, caller) -> "Inode":
        raise SyscallError(errno.EROFS)

    def new_symlink(self, target, caller) -> "Inode":
        raise SyscallError(errno.EROFS)

    # -- metadata changes (chmod/chown/utimes/truncate) -----------------
    def set_meta(self, *, mode=None, uid=None, gid=None, atime=None, mtime=None):
        raise SyscallError(errno.EROFS)

    def truncate(self, size: int):
        raise SyscallError(errno.EINVAL)


def dtype_of(node: Inode) -> int:
    return st.mode_to_dtype(node.mode)
