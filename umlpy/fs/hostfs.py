"""Read-only views of host files under the guest's rootfs (the overlay's lower layer).

Safety: a host path is only ever built by ``join_host`` from a directory
path we built the same way (starting at the rootfs or a bind) and one
component checked to be a plain name.  Each component was ``lstat``-ed
before it was used, symlinks are never followed by the host (they become
guest symlinks, resolved by ``umlpy.fs.path`` against the guest root), and
files are opened with O_NOFOLLOW and their (dev, ino) compared with what
lookup saw.  The guest runs one system call at a time, so nothing the guest
does can swap a directory for a symlink between the lstat and the open.
"""

from __future__ import annotations

import errno
import os
import stat as host_stat

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs.file import RegularFile
from umlpy.fs.node import DEV_HOSTROOT, DEV_ROOT, Inode


def check_name(name: bytes):
    if not name or name in (b".", b"..") or b"/" in name or b"\0" in name:
        raise SyscallError(errno.EINVAL)


def join_host(dirpath: bytes, name: bytes) -> bytes:
    check_name(name)
    return dirpath.rstrip(b"/") + b"/" + name


def host_errno(e: OSError) -> SyscallError:
    return SyscallError(e.errno or errno.EIO)


def _ts(ns: int) -> tuple:
    return (ns // 1_000_000_000, ns % 1_000_000_000)


def host_owner(s: os.stat_result, dev: int) -> tuple:
    """(uid, gid) of a host file as the guest sees it: its own on the host's root
    (``DEV_HOSTROOT``), root's in a root image."""
    return (s.st_uid, s.st_gid) if dev == DEV_HOSTROOT else (0, 0)


def host_to_stat(s: os.stat_result, dev: int) -> st.Stat:
    """A host stat as the guest sees it: on a guest device, owned as host_owner says."""
    uid, gid = host_owner(s, dev)
    return st.Stat(st_dev=dev, st_ino=s.st_ino, st_nlink=s.st_nlink,
                   st_mode=s.st_mode, st_uid=uid, st_gid=gid, st_rdev=0,
                   st_size=s.st_size, st_blksize=4096, st_blocks=s.st_blocks,
                   st_atime=_ts(s.st_atime_ns), st_mtime=_ts(s.st_mtime_ns),
                   st_ctime=_ts(s.st_ctime_ns))


class HostNode(Inode):
    """A non-directory host file seen read-only; ``host`` is its host path."""

    def __init__(self, host: bytes, hstat: os.stat_result, dev: int = DEV_ROOT):
        self.host = host
        self._hstat = hstat
        self.dev = dev
        self._stat = None
        #: Its user.* extended attributes, read on first use (umlpy.fs.xattr).
        self.host_xattrs = None

    def stat(self):
        # Made once: the node stands for what lookup saw (its lstat), and a Stat a
        # node returns is never changed by its callers (they get fresh ones elsewhere).
        s = self._stat
        if s is None:
            s = self._stat = host_to_stat(self._hstat, self.dev)
        return s

    @property
    def mode(self):
        return self._hstat.st_mode

    def owner_mode(self):
        return (self._hstat.st_mode,) + host_owner(self._hstat, self.dev)

    def open_host_fd(self) -> int:
        try:
            fd = os.open(self.host, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
                         | os.O_NONBLOCK)
        except OSError as e:
            raise host_errno(e) from None
        s = os.fstat(fd)
        if (s.st_dev, s.st_ino) != (self._hstat.st_dev, self._hstat.st_ino):
            os.close(fd)
            raise SyscallError(errno.ESTALE)
        return fd

    def read_bytes(self) -> bytes:
        fd = self.open_host_fd()
        try:
            chunks = []
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    return b"".join(chunks)
                chunks.append(b)
        finally:
            os.close(fd)


class HostFile(HostNode):
    """A regular host file: opens read-only (the overlay copies it up before
    any write)."""

    # The type is fixed by the class: answered without reading the mode (path walks ask
    # every component).
    def is_dir(self):
        return False

    def is_symlink(self):
        return False

    def open(self, flags, caller, path):
        if (flags & os.O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EROFS)  # the VFS copies up first
        return HostFileHandle(self, flags, path, self.open_host_fd())

    def size(self):
        return self._hstat.st_size


class HostFileHandle(RegularFile):
    def __init__(self, inode, flags, path, fd):
        super().__init__(inode, flags, path)
        self.fd = fd

    def read_at(self, off, n):
        try:
            return os.pread(self.fd, n, off)
        except OSError as e:
            raise host_errno(e) from None

    def write_at(self, off, data):
        raise SyscallError(errno.EBADF)

    def size(self):
        return os.fstat(self.fd).st_size

    def fstat(self):
        return host_to_stat(os.fstat(self.fd), self.inode.dev)

    def release(self):
        os.close(self.fd)
        self.fd = -1

    def mapping_source(self):
        return HostMappingSource(os.dup(self.fd))

    def host_fileobj(self):
        """A seekable Python binary file on a duplicate of the host fd."""
        return os.fdopen(os.dup(self.fd), "rb")


class HostSymlink(HostNode):

    # The type is fixed by the class: answered without reading the mode (path walks ask
    # every component).
    def is_dir(self):
        return False

    def is_symlink(self):
        return True

    def __init__(self, host, hstat, dev=DEV_ROOT):
        super().__init__(host, hstat, dev)
        try:
            self.target = os.readlink(host)
        except OSError as e:
            raise host_errno(e) from None

    def readlink(self, caller):
        return self.target


class HostSpecial(HostNode):
    """A device node, fifo or socket in the rootfs: visible, not openable
    (the guest's devices live in /dev)."""

    def open(self, flags, caller, path):
        raise SyscallError(errno.EACCES)


def lstat_host(host: bytes):
    """lstat that answers None for a missing name."""
    try:
        return os.lstat(host)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None
    except OSError as e:
        raise host_errno(e) from None


def host_leaf(host: bytes, hstat: os.stat_result, dev=DEV_ROOT) -> HostNode:
    """The node for a non-directory host entry."""
    m = hstat.st_mode
    if host_stat.S_ISREG(m):
        return HostFile(host, hstat, dev)
    if host_stat.S_ISLNK(m):
        return HostSymlink(host, hstat, dev)
    return HostSpecial(host, hstat, dev)


def list_host_dir(host: bytes) -> list:
    """[(name, ino, d_type)] of a host directory, in the host's order.

    The inode number and type are readdir's own (d_ino, d_type), as the host gives
    them to a native getdents64: no lstat per entry, except for the types readdir
    does not tell (DT_UNKNOWN on some file systems, and devices, fifos, sockets)."""
    out = []
    try:
        with os.scandir(host) as it:
            for e in it:
                try:
                    if e.is_symlink():
                        dtype = st.DT_LNK
                    elif e.is_dir(follow_symlinks=False):
                        dtype = st.DT_DIR
                    elif e.is_file(follow_symlinks=False):
                        dtype = st.DT_REG
                    else:
                        dtype = st.mode_to_dtype(e.stat(follow_symlinks=False).st_mode)
                except OSError:
                    continue
                out.append((e.name, e.inode(), dtype))
    except FileNotFoundError:
        return []
    except OSError as e:
        raise host_errno(e) from None
    return out


class HostMappingSource:
    """Pages of a host file for a guest mapping; owns its own fd, closed with it."""

    def __init__(self, fd: int):
        self.fd = fd

    def read_at(self, off, n):
        try:
            return os.pread(self.fd, n, off)
        except OSError as e:
            raise host_errno(e) from None

    def size(self):
        return os.fstat(self.fd).st_size

    def __del__(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
