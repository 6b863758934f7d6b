"""Host directories bound into the guest (``--bind HOST:GUEST[:ro|rw]``): the only way a
guest changes a host file.

A :class:`Bind` is one host directory mounted at a guest path, read-write or read-only.
Its nodes (:class:`BindDir`, :class:`BindFile`, :class:`BindSymlink`, :class:`BindOther`)
name host files by their path *relative to the bind's root*, and every host operation
walks that path from the root's fd one component at a time with ``O_NOFOLLOW`` (openat),
so nothing reaches outside the bound directory: ``..`` is the guest's own (the parent
pointer of the bind's root is the guest directory it is mounted on), a symlink inside the
bind is read and followed as a guest path by the guest's namei, and a host-side symlink
swapped in for a directory makes the walk fail (ENOENT) instead of being followed.

Files keep their host owners and modes; the host's permission checks apply on top of the
guest's (the supervisor's uid does the writes).  Writes go straight to the host file
(no overlay).  A read-only bind answers EROFS to every change.
"""

from __future__ import annotations

import errno
import os
import stat as host_stat

from umlpy.errors import SyscallError
from umlpy.fs.file import DirFile
from umlpy.fs.hostfs import HostFileHandle, host_errno, host_to_stat
from umlpy.fs.node import Inode

_O_PATH = getattr(os, "O_PATH", 0o10000000)
_DIR_FLAGS = _O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class _Meta:
    """What the VFS reads of a directory's ``meta`` (its device, for EXDEV)."""

    __slots__ = ("dev",)

    def __init__(self, dev):
        self.dev = dev


class Bind:
    """A host directory ``host`` mounted at guest path ``guest`` (read-only when ``ro``)."""

    def __init__(self, host: bytes, guest: bytes, ro: bool, dev: int):
        self.host = os.path.realpath(host)
        if not os.path.isdir(self.host):
            raise SyscallError(errno.ENOTDIR)
        self.guest = guest
        self.ro = ro
        self.dev = dev
        self.root = BindDir(self, b"", None)

    def dir_fd(self, rel: bytes) -> int:
        """An O_PATH fd of directory ``rel`` (b"" is the root), walked without following
        any symlink; the caller closes it."""
        try:
            fd = os.open(self.host, _DIR_FLAGS)
        except OSError as e:
            raise host_errno(e) from None
        try:
            for comp in rel.split(b"/") if rel else ():
                nfd = os.open(comp, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = nfd
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise SyscallError(errno.ENOENT) from None   # changed under us: never followed
            raise host_errno(e) from None
        return fd

    def writable(self):
        if self.ro:
            raise SyscallError(errno.EROFS)


def _join(rel: bytes, name: bytes) -> bytes:
    return rel + b"/" + name if rel else name


class BindNode(Inode):
    """A host file of a bind: its directory's relative path and its name."""

    def __init__(self, bind: Bind, rel: bytes, parent):
        self.bind = bind
        self.rel = rel
        self.parent = parent
        self.meta = _Meta(bind.dev)

    @property
    def dev(self) -> int:
        return self.bind.dev

    @property
    def name(self) -> bytes:
        return self.rel.rsplit(b"/", 1)[-1]

    def _at(self, fn):
        """Run ``fn(dir_fd, name)`` on this node's entry in its host directory."""
        head, _, name = self.rel.rpartition(b"/")
        fd = self.bind.dir_fd(head)
        try:
            return fn(fd, name)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)

    def lstat_host(self) -> os.stat_result:
        if not self.rel:
            fd = self.bind.dir_fd(b"")
            try:
                return os.fstat(fd)
            finally:
                os.close(fd)
        return self._at(lambda fd, name: os.stat(name, dir_fd=fd, follow_symlinks=False))

    def stat(self):
        return host_to_stat(self.lstat_host(), self.bind.dev)

    @property
    def mode(self):
        return self.lstat_host().st_mode

    def _path_fd(self) -> int:
        """An O_PATH fd of the node itself (not followed)."""
        if not self.rel:
            return self.bind.dir_fd(b"")
        return self._at(lambda fd, name: os.open(name, _O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd))

    def set_meta(self, *, mode=None, uid=None, gid=None, atime=None, mtime=None):
        self.bind.writable()
        fd = self._path_fd()
        via = "/proc/self/fd/%d" % fd          # the O_PATH fd's file, never a path walk
        try:
            link = host_stat.S_ISLNK(os.fstat(fd).st_mode)
            if mode is not None and not link:
                os.chmod(via, mode & 0o7777)
            if uid not in (None, -1) or gid not in (None, -1):
                os.chown(via, -1 if uid is None else uid, -1 if gid is None else gid,
                         follow_symlinks=not link)
            if (atime is not None or mtime is not None) and not link:
                s = os.fstat(fd)
                a = atime[0] * 10 ** 9 + atime[1] if atime is not None else s.st_atime_ns
                m = mtime[0] * 10 ** 9 + mtime[1] if mtime is not None else s.st_mtime_ns
                os.utime(via, ns=(a, m))
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)


class BindDir(BindNode):
    """A host directory of a bind.  ``children`` caches the nodes looked up (the VFS
    finds a node's name there); a cached node is dropped when the host entry changed."""

    def __init__(self, bind, rel, parent):
        super().__init__(bind, rel, parent)
        self.children = {}

    def is_dir(self):
        return True

    def is_symlink(self):
        return False

    def lookup(self, name, caller):
        rel = _join(self.rel, name)
        fd = self.bind.dir_fd(self.rel)
        try:
            s = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            self.children.pop(name, None)
            raise host_errno(e) from None
        finally:
            os.close(fd)
        node = self.children.get(name)
        if node is not None and getattr(node, "ident", None) == (s.st_dev, s.st_ino, host_stat.S_IFMT(s.st_mode)):
            return node
        node = _node_for(self.bind, rel, self, s)
        self.children[name] = node
        return node

    def entries(self, caller):
        pfd = self.bind.dir_fd(self.rel)
        try:
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=pfd)   # O_PATH cannot list
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(pfd)
        try:
            names = os.listdir(fd)
            out = []
            for name in names:
                try:
                    s = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except OSError:
                    continue
                out.append((os.fsencode(name), s.st_ino, _dtype(s.st_mode)))
            return out
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)

    def open(self, flags, caller, path):
        if (flags & os.O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EISDIR)
        return DirFile(self, flags, path, caller)

    # --- changes (the VFS checked the guest's permissions) ------------------------------
    def new_file(self, mode, caller):
        self.bind.writable()
        return _Pending(self, "file", mode)

    def new_dir(self, mode, caller):
        self.bind.writable()
        return _Pending(self, "dir", mode)

    def new_symlink(self, target, caller):
        self.bind.writable()
        return _Pending(self, "symlink", target)

    def new_special(self, mode, caller, rdev=0):
        self.bind.writable()
        return _Pending(self, "fifo" if host_stat.S_ISFIFO(mode) else "sock", mode)

    def create(self, name, node, caller):
        """Make the pending ``node`` on the host as ``name`` (EEXIST if taken); it becomes
        that host file's node."""
        self.bind.writable()
        if not isinstance(node, _Pending):
            raise SyscallError(errno.EXDEV)
        fd = self.bind.dir_fd(self.rel)
        try:
            if node.what == "file":
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                 node.arg & 0o7777, dir_fd=fd))
            elif node.what == "dir":
                os.mkdir(name, node.arg & 0o7777, dir_fd=fd)
            elif node.what == "symlink":
                os.symlink(node.arg, name, dir_fd=fd)
            elif node.what == "fifo":
                os.mkfifo(name, node.arg & 0o7777, dir_fd=fd)
            else:
                raise SyscallError(errno.EPERM)         # a socket inode needs a host socket
            s = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)
        real = _node_for(self.bind, _join(self.rel, name), self, s)
        node.become(real)
        self.children[name] = real

    def remove(self, name, caller, keep_links=False):
        self.bind.writable()
        node = self.children.pop(name, None)
        fd = self.bind.dir_fd(self.rel)
        try:
            s = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if host_stat.S_ISDIR(s.st_mode):
                os.rmdir(name, dir_fd=fd)
            else:
                os.unlink(name, dir_fd=fd)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)
        return node

    def rename_to(self, name, other: "BindDir", new_name, noreplace=False):
        """rename(2) within one bind, on the host."""
        self.bind.writable()
        src = self.bind.dir_fd(self.rel)
        try:
            dst = self.bind.dir_fd(other.rel)
            try:
                if noreplace:
                    try:
                        os.stat(new_name, dir_fd=dst, follow_symlinks=False)
                        raise SyscallError(errno.EEXIST)
                    except FileNotFoundError:
                        pass
                os.rename(name, new_name, src_dir_fd=src, dst_dir_fd=dst)
            finally:
                os.close(dst)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(src)
        self.children.pop(name, None)
        other.children.pop(new_name, None)

    def link_from(self, node: BindNode, name):
        """link(2) of ``node`` (in this bind) as ``name`` here."""
        self.bind.writable()
        head, _, old = node.rel.rpartition(b"/")
        src = self.bind.dir_fd(head)
        try:
            dst = self.bind.dir_fd(self.rel)
            try:
                os.link(old, name, src_dir_fd=src, dst_dir_fd=dst, follow_symlinks=False)
            finally:
                os.close(dst)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(src)

    def contains(self, other) -> bool:
        for _ in range(4096):
            if other is self:
                return True
            parent = getattr(other, "parent", None)
            if parent is None or parent is other:
                return False
            other = parent
        return False


class BindFile(BindNode):
    """A regular host file of a bind: opened on the host (writable unless the bind is
    read-only)."""

    def is_dir(self):
        return False

    def is_symlink(self):
        return False

    def open(self, flags, caller, path):
        acc = flags & os.O_ACCMODE
        if acc != os.O_RDONLY or flags & os.O_TRUNC:
            self.bind.writable()
        host_flags = acc | (flags & (os.O_APPEND | os.O_TRUNC)) | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = self._at(lambda dfd, name: os.open(name, host_flags, dir_fd=dfd))
        return BindFileHandle(self, flags, path, fd)

    def size(self):
        return self.lstat_host().st_size

    def read_at(self, off, n):
        f = self.open(os.O_RDONLY, None, b"")
        try:
            return f.read_at(off, n)
        finally:
            f.release()

    def truncate(self, size):
        self.bind.writable()
        fd = self._at(lambda dfd, name: os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd))
        try:
            os.ftruncate(fd, size)
        except OSError as e:
            raise host_errno(e) from None
        finally:
            os.close(fd)


class BindFileHandle(HostFileHandle):
    """An open host file of a bind: reads and writes go to the host file."""

    def write_at(self, off, data):
        try:
            if self.flags & os.O_APPEND:
                return os.write(self.fd, data)
            return os.pwrite(self.fd, data, off)
        except OSError as e:
            raise host_errno(e) from None

    def ftruncate(self, size):
        if not self.writable or size < 0:
            raise SyscallError(errno.EINVAL)
        try:
            os.ftruncate(self.fd, size)
        except OSError as e:
            raise host_errno(e) from None


class BindSymlink(BindNode):
    def is_dir(self):
        return False

    def is_symlink(self):
        return True

    def readlink(self, caller):
        return self._at(lambda fd, name: os.readlink(name, dir_fd=fd))


class BindOther(BindNode):
    """A FIFO, socket or device of a bind: visible, not opened (EACCES)."""

    def is_dir(self):
        return False

    def is_symlink(self):
        return False

    def open(self, flags, caller, path):
        raise SyscallError(errno.EACCES)


class _Pending(Inode):
    """What new_file/new_dir/new_symlink give before create() makes it on the host; then
    it stands for that host file (the VFS goes on with the object it made)."""

    def __init__(self, parent, kind, arg):
        self.parent = parent
        self.what = kind
        self.arg = arg
        self.real = None

    def become(self, real):
        self.real = real

    def __getattr__(self, name):
        real = self.__dict__.get("real")
        if real is None:
            raise AttributeError(name)
        return getattr(real, name)

    def stat(self):
        return self.real.stat()

    @property
    def mode(self):
        return self.real.mode

    @property
    def kind(self):
        return self.real.kind

    def is_dir(self):
        return self.real.is_dir()

    def is_symlink(self):
        return self.real.is_symlink()

    def open(self, flags, caller, path):
        return self.real.open(flags & ~os.O_TRUNC, caller, path)

    def lookup(self, name, caller):
        return self.real.lookup(name, caller)

    def entries(self, caller):
        return self.real.entries(caller)


def _node_for(bind, rel, parent, s: os.stat_result) -> BindNode:
    fmt = host_stat.S_IFMT(s.st_mode)
    cls = {host_stat.S_IFDIR: BindDir, host_stat.S_IFREG: BindFile, host_stat.S_IFLNK: BindSymlink}.get(fmt, BindOther)
    node = cls(bind, rel, parent)
    node.ident = (s.st_dev, s.st_ino, fmt)
    return node


def _dtype(mode: int) -> int:
    return {host_stat.S_IFDIR: 4, host_stat.S_IFREG: 8, host_stat.S_IFLNK: 10, host_stat.S_IFIFO: 1,
            host_stat.S_IFSOCK: 12, host_stat.S_IFCHR: 2, host_stat.S_IFBLK: 6}.get(host_stat.S_IFMT(mode), 0)


def parse_bind(spec: str) -> tuple:
    """``HOST:GUEST[:ro|rw]`` -> (host, guest, ro); ValueError with a one-line reason."""
    parts = spec.split(":")
    mode = "rw"
    if len(parts) == 3 and parts[2] in ("ro", "rw"):
        mode = parts.pop()
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise ValueError("--bind wants HOST:GUEST[:ro|rw], not %r" % spec)
    host, guest = parts
    if not guest.startswith("/") or guest == "/":
        raise ValueError("--bind %s: the guest path must be absolute and not /" % spec)
    if not os.path.isdir(host):
        raise ValueError("--bind %s: %s is not a host directory" % (spec, host))
    return os.fsencode(host), os.fsencode(os.path.normpath(guest)), mode == "ro"
