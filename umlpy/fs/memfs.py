"""In-memory nodes: tmpfs, and the writable upper layer of the rootfs overlay.

:class:`MemDir` is both a tmpfs directory and an overlay directory: when it
has a ``lower`` host directory, names not in its own table are looked up
there (read-only, through ``hostfs``) and cached, and removing a name that
the lower layer has leaves a whiteout.  A directory created by the guest has
no lower layer, so it is opaque even where a whiteout was.  The host is
never written.

Copy-up: ``MemDir.copy_up(name)`` replaces a cached lower file with a
:class:`MemFile` holding its bytes and metadata; the VFS calls it before a
write-open, truncate or metadata change.  Descriptions already open on the
host file keep reading the host file.
"""

from __future__ import annotations

import errno
import os
import stat as host_stat

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs import hostfs
from umlpy.abi.fcntl import F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SHRINK, F_SEAL_WRITE
from umlpy.fs.file import DirFile, RegularFile
from umlpy.fs.inotify import move_watches
from umlpy.fs.xattr import copy_up as xattr_copy_up
from umlpy.fs.pipe import open_fifo
from umlpy.fs.node import DEV_ROOT, Inode, Meta, dtype_of, now

#: The largest size of an in-memory file (tmpfs's MAX_LFS_FILESIZE); only the blocks
#: written take memory, so a write at a 5 GiB offset costs one block.
MAX_MEM_FILE = (1 << 63) - 1
#: Bytes per block of a file's contents (holes have none).
_BLOCK = 1 << 20


class SparseData:
    """A file's bytes: blocks of up to _BLOCK bytes, absent where nothing was written and
    no longer than what was written into them (holes and tails read as zeros, so a small
    file holds only its bytes), and a logical size."""

    __slots__ = ("blocks", "size")

    def __init__(self, data=b""):
        self.blocks = {}
        self.size = 0
        if data:
            self.write(0, data)

    def __len__(self):
        return self.size

    def read(self, off: int, n: int) -> bytes:
        end = min(off + n, self.size)
        if off >= end:
            return b""
        i, j = divmod(off, _BLOCK)
        if j + (end - off) <= _BLOCK:                      # one block: the common case
            blk = self.blocks.get(i)
            if blk is not None and j + (end - off) <= len(blk):
                return bytes(blk[j:j + end - off])
        out = bytearray()
        pos = off
        while pos < end:
            i, j = divmod(pos, _BLOCK)
            k = min(_BLOCK - j, end - pos)
            blk = self.blocks.get(i)
            piece = b"" if blk is None else blk[j:j + k]
            out += piece
            if len(piece) < k:
                out += bytes(k - len(piece))
            pos += k
        return bytes(out)

    def write(self, off: int, data) -> None:
        mv = memoryview(data).cast("B")
        pos, done, n = off, 0, len(mv)
        blocks = self.blocks
        while done < n:
            i, j = divmod(pos, _BLOCK)
            k = min(_BLOCK - j, n - done)
            blk = blocks.get(i)
            if blk is None:
                blk = blocks[i] = bytearray()
            if len(blk) < j:
                blk.extend(bytes(j - len(blk)))
            blk[j:j + k] = mv[done:done + k]
            pos += k
            done += k
        if off + n > self.size:
            self.size = off + n

    def truncate(self, size: int) -> None:
        if size < self.size:
            last = -(-size // _BLOCK)                       # blocks at or past it go
            for i in [i for i in self.blocks if i >= last]:
                del self.blocks[i]
            if size % _BLOCK and (size // _BLOCK) in self.blocks:
                del self.blocks[size // _BLOCK][size % _BLOCK:]
        self.size = size

    def allocated(self) -> int:
        """Bytes held, in whole pages as tmpfs counts them (st_blocks)."""
        return sum(-(-len(b) // 4096) * 4096 for b in self.blocks.values())

    def __bytes__(self):
        return self.read(0, self.size)


class MemNode(Inode):
    writable_fs = True

    def __init__(self, meta: Meta):
        self.meta = meta

    def stat(self):
        return self.meta.to_stat(self.size())

    @property
    def mode(self):
        return self.meta.mode

    def owner_mode(self):
        m = self.meta
        return m.mode, m.uid, m.gid

    def size(self) -> int:
        return 0

    def set_meta(self, *, mode=None, uid=None, gid=None, atime=None, mtime=None):
        m = self.meta
        if mode is not None:
            m.mode = (m.mode & st.S_IFMT) | (mode & 0o7777)
        if uid is not None and uid != -1:
            m.uid = uid
        if gid is not None and gid != -1:
            m.gid = gid
        if atime is not None:
            m.atime = atime
        if mtime is not None:
            m.mtime = mtime
        m.ctime = now()


class MemFile(MemNode):
    """A regular file held in a bytearray."""

    # The type is fixed by the class: answered without reading the mode (path walks ask
    # every component).
    def is_dir(self):
        return False

    def is_symlink(self):
        return False

    def __init__(self, meta: Meta, data: bytes = b""):
        super().__init__(meta)
        self.data = SparseData(data)

    def size(self):
        return self.data.size

    def stat(self):
        s = self.meta.to_stat(self.data.size)
        s.st_blocks = min(s.st_blocks, self.data.allocated() // 512)
        return s

    def read_at(self, off, n):
        return self.data.read(off, n)

    def write_at(self, off, data):
        end = off + len(data)
        if end > MAX_MEM_FILE:
            raise SyscallError(errno.EFBIG)
        self.data.write(off, data)
        self.meta.touch(modify=True)
        return len(data)

    def truncate(self, size):
        if size > MAX_MEM_FILE:
            raise SyscallError(errno.EFBIG)
        self.data.truncate(size)
        self.meta.touch(modify=True)

    def open(self, flags, caller, path):
        f = RegularFile(self, flags, path)
        if flags & os.O_TRUNC and f.writable:
            self.truncate(0)
        return f


class MemfdNode(MemFile):
    """The file of memfd_create: a tmpfs file with no name, and seals."""

    def __init__(self, meta: Meta, seals: int):
        super().__init__(meta)
        self.seals = seals

    def open(self, flags, caller, path):
        f = MemfdFile(self, flags, path)
        if flags & os.O_TRUNC and f.writable:
            f.ftruncate(0)
        return f


class MemfdFile(RegularFile):
    """An open memfd: writes and size changes obey the seals (mm/memfd.c, shmem)."""

    def _check_write(self, off: int, n: int):
        seals = self.inode.seals
        if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE):
            raise SyscallError(errno.EPERM)
        if seals & F_SEAL_GROW and off + n > self.inode.size():
            raise SyscallError(errno.EPERM)

    def pwrite(self, data, off):
        self.check_writable()
        if off >= 0 and data:
            self._check_write(off, len(data))
        return super().pwrite(data, off)

    def ftruncate(self, size):
        if self.writable and size >= 0:
            seals, cur = self.inode.seals, self.inode.size()
            if (size < cur and seals & F_SEAL_SHRINK) or (size > cur and seals & F_SEAL_GROW):
                raise SyscallError(errno.EPERM)
        super().ftruncate(size)

    def mmap_may_write(self) -> bool:
        return not self.inode.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)


class MemFifo(MemNode):
    """A named pipe (mknod S_IFIFO).  While any end is open its opens share one
    :class:`~umlpy.fs.pipe.Pipe`; the counters say how many readers and writers ever
    opened it, which is what a blocked open waits to see change (fs/pipe.c)."""

    def __init__(self, meta: Meta):
        super().__init__(meta)
        self.pipe = None
        self.r_counter = 0
        self.w_counter = 0

    def open(self, flags, caller, path):
        return open_fifo(self, flags, path)


class MemSocket(MemNode):
    """A socket inode (mknod S_IFSOCK, or the bind of an AF_UNIX path socket).

    The hook for the socket layer: ``socket`` is what is bound there (set by bind,
    looked up by connect and sendto), None when nothing is.  open(2) of a socket
    gives ENXIO, as on Linux."""

    def __init__(self, meta: Meta):
        super().__init__(meta)
        self.socket = None

    def open(self, flags, caller, path):
        raise SyscallError(errno.ENXIO)


class MemSymlink(MemNode):

    # The type is fixed by the class: answered without reading the mode (path walks ask
    # every component).
    def is_dir(self):
        return False

    def is_symlink(self):
        return True

    def __init__(self, meta: Meta, target: bytes):
        super().__init__(meta)
        self.target = target

    def size(self):
        return len(self.target)

    def readlink(self, caller):
        return self.target


class MemDir(MemNode):
    """A directory in memory, optionally merged over a host directory."""

    # The type is fixed by the class: answered without reading the mode (path walks ask
    # every component).
    def is_dir(self):
        return True

    def is_symlink(self):
        return False

    def __init__(self, meta: Meta, parent: "Inode | None" = None, lower: bytes | None = None):
        super().__init__(meta)
        self.parent = parent if parent is not None else self
        self.lower = lower
        self.children: dict = {}     # name -> node (own entries and cached lower ones)
        self.whiteouts: set = set()  # lower names the guest removed

    def size(self):
        if self.lower is not None:
            hs = hostfs.lstat_host(self.lower)
            if hs is not None:
                return hs.st_size
        return 4096

    def stat(self):
        s = super().stat()
        own = sum(1 for c in self.children.values() if isinstance(c, MemDir) and c.lower is None)
        hs = hostfs.lstat_host(self.lower) if self.lower is not None else None
        if hs is not None:
            # A host directory seen through the overlay: the host's link count and size
            # (as overlayfs shows a lower directory), with the guest's own changes.
            gone = sum(1 for n in self.whiteouts
                       if (h := hostfs.lstat_host(hostfs.join_host(self.lower, n))) is not None
                       and host_stat.S_ISDIR(h.st_mode))
            s.st_nlink = hs.st_nlink + own - gone
            s.st_blocks = hs.st_blocks
        else:
            s.st_nlink = 2 + sum(1 for c in self.children.values() if isinstance(c, MemDir))
            s.st_blocks = 8
        return s

    def open(self, flags, caller, path):
        if (flags & os.O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EISDIR)
        return DirFile(self, flags, path, caller)

    # -- the merged view ---------------------------------------------------
    def _lower_node(self, name):
        if self.lower is None or name in self.whiteouts:
            return None
        host = hostfs.join_host(self.lower, name)
        hs = hostfs.lstat_host(host)
        if hs is None:
            return None
        if host_stat.S_ISDIR(hs.st_mode):
            uid, gid = hostfs.host_owner(hs, self.meta.dev)
            meta = Meta(mode=hs.st_mode, uid=uid, gid=gid, ino=hs.st_ino, dev=self.meta.dev,
                        atime=hostfs._ts(hs.st_atime_ns), mtime=hostfs._ts(hs.st_mtime_ns),
                        ctime=hostfs._ts(hs.st_ctime_ns))
            return MemDir(meta, parent=self, lower=host)
        return hostfs.host_leaf(host, hs, self.meta.dev)

    def lookup(self, name, caller):
        node = self.children.get(name)
        if node is None:
            node = self._lower_node(name)
            if node is None:
                raise SyscallError(errno.ENOENT)
            self.children[name] = node
        return node

    def has(self, name, caller) -> bool:
        try:
            self.lookup(name, caller)
            return True
        except SyscallError:
            return False

    def entries(self, caller):
        out, seen = [], set()
        if self.lower is not None:
            for name, ino, dtype in hostfs.list_host_dir(self.lower):
                if name in self.whiteouts:
                    continue
                node = self.children.get(name)
                if node is not None:
                    out.append((name, node.stat().st_ino, dtype_of(node)))
                else:
                    out.append((name, ino, dtype))
                seen.add(name)
        for name, node in self.children.items():
            if name not in seen:
                out.append((name, node.stat().st_ino, dtype_of(node)))
        return out

    def is_empty(self, caller) -> bool:
        return not self.entries(caller)

    # -- namespace changes -------------------------------------------------
    def create(self, name, node, caller):
        if self.has(name, caller):
            raise SyscallError(errno.EEXIST)
        self.children[name] = node
        self.whiteouts.discard(name)
        if isinstance(node, MemDir):
            node.parent = self
        self.meta.touch(modify=True)

    def remove(self, name, caller, *, keep_links=False):
        """Unlink ``name`` (whatever it is; callers check the type);
        ``keep_links`` for rename, which moves the link instead."""
        self.lookup(name, caller)
        node = self.children.pop(name)
        if not keep_links and isinstance(node, MemNode) and not isinstance(node, MemDir):
            node.meta.nlink = max(0, node.meta.nlink - 1)
            node.meta.touch()
        if self.lower is not None and hostfs.lstat_host(hostfs.join_host(self.lower, name)):
            self.whiteouts.add(name)
        self.meta.touch(modify=True)
        return node

    def new_file(self, mode, caller):
        return MemFile(Meta(mode=st.S_IFREG | (mode & 0o7777), uid=caller.fsuid,
                            gid=caller.fsgid, dev=self.meta.dev))

    def new_dir(self, mode, caller):
        return MemDir(Meta(mode=st.S_IFDIR | (mode & 0o7777), uid=caller.fsuid,
                           gid=caller.fsgid, dev=self.meta.dev), parent=self)

    def new_special(self, mode, caller, rdev=0):
        """A FIFO or socket inode of this filesystem (mknod)."""
        meta = Meta(mode=mode, uid=caller.fsuid, gid=caller.fsgid, dev=self.meta.dev, rdev=rdev)
        kind = mode & st.S_IFMT
        if kind == st.S_IFIFO:
            return MemFifo(meta)
        if kind == st.S_IFSOCK:
            return MemSocket(meta)
        raise SyscallError(errno.EPERM)

    def new_symlink(self, target, caller):
        return MemSymlink(Meta(mode=st.S_IFLNK | 0o777, uid=caller.fsuid, gid=caller.fsgid,
                               dev=self.meta.dev), target)

    def copy_up(self, name, caller, *, with_data=True) -> Inode:
        """Make ``name`` an in-memory node if it is a lower file; returns it."""
        node = self.lookup(name, caller)
        if isinstance(node, hostfs.HostNode):
            s = node.stat()
            meta = Meta(mode=s.st_mode, uid=s.st_uid, gid=s.st_gid, ino=s.st_ino, dev=self.meta.dev,
                        atime=s.st_atime, mtime=s.st_mtime, ctime=s.st_ctime)
            if isinstance(node, hostfs.HostFile):
                new = MemFile(meta, node.read_bytes() if with_data else b"")
            elif isinstance(node, hostfs.HostSymlink):
                new = MemSymlink(meta, node.target)
            else:
                raise SyscallError(errno.EACCES)
            self.children[name] = new
            xattr_copy_up(node, new)
            move_watches(node, new)
            locks = getattr(node, "file_locks", None)
            if locks is not None:
                new.file_locks = locks          # locks and watches follow the copy
            node = new
        return node

    def contains(self, other: Inode) -> bool:
        """Whether ``other`` is this directory or below it (rename loop check)."""
        seen = 0
        while seen < 4096:
            if other is self:
                return True
            if other.parent is None or other.parent is other:
                return False
            other = other.parent
            seen += 1
        return False


def new_tmpfs(dev: int, parent=None, mode=0o1777) -> MemDir:
    return MemDir(Meta(mode=st.S_IFDIR | mode, dev=dev), parent=parent)


def new_overlay_root(rootfs: bytes, dev: int = DEV_ROOT) -> MemDir:
    hs = os.stat(rootfs)
    uid, gid = hostfs.host_owner(hs, dev)
    meta = Meta(mode=hs.st_mode, uid=uid, gid=gid, ino=hs.st_ino, dev=dev,
                atime=hostfs._ts(hs.st_atime_ns), mtime=hostfs._ts(hs.st_mtime_ns),
                ctime=hostfs._ts(hs.st_ctime_ns))
    return MemDir(meta, parent=None, lower=rootfs)
