"""The guest's mount namespace and the file system calls' common work.

``VFS`` puts together the rootfs overlay (host directory read-only, writes in
memory), the guest kernel's own /proc, /dev and /tmp mounted over the
rootfs's directories of those names, and (later) read-write binds.  Every
method takes the :class:`~umlpy.fs.perm.Caller` and guest paths as bytes;
``dirfd_file`` is the File of an *at() call's dirfd (None for AT_FDCWD).
Methods raise SyscallError with the errno Linux gives.
"""

from __future__ import annotations

import errno
import io
import os

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs import hostfs, perm
from umlpy.fs.devfs import new_devfs
from umlpy.fs.file import PathFile
from umlpy.fs import inotify
from umlpy.fs.inotify import (IN_ATTRIB, IN_MODIFY, IN_OPEN, fsnotify, fsnotify_create, fsnotify_delete,
                              fsnotify_file, fsnotify_move)
from umlpy.fs.bindfs import Bind, BindDir
from umlpy.fs.locks import LockContext
from umlpy.fs.memfs import MemDir, MemFile, new_overlay_root, new_tmpfs
from umlpy.fs.node import DEV_DEVFS, DEV_HOSTROOT, DEV_PROC, DEV_ROOT, DEV_TMP
from umlpy.fs.path import NAME_MAX, resolve
from umlpy.fs.procfs import ProcFS, ProcNode

#: Binds get devices (0, DEV_BIND_MINOR + i), in --bind order.
DEV_BIND_MINOR = 0x40
#: Who makes the directories a bind is mounted on.
_ROOT_CALLER = perm.Caller()

RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
RENAME_WHITEOUT = 4

_FS_MAGIC = {DEV_ROOT: st.OVERLAYFS_SUPER_MAGIC, DEV_HOSTROOT: st.OVERLAYFS_SUPER_MAGIC, DEV_TMP: st.TMPFS_MAGIC,
             DEV_DEVFS: st.TMPFS_MAGIC, DEV_PROC: st.PROC_SUPER_MAGIC}


def _default_random_bytes(n: int) -> bytes:
    return os.urandom(n)


class VFS:
    """The guest's file namespace.

    rootfs: host directory of the guest's root (never written).
    proc: the kernel's ProcProvider.  console: the ConsoleIO behind
    /dev/console and /dev/tty (None: ENXIO).  tty_host: the kernel's
    ``umlpy.fs.tty.JobHost`` (None: no ptys).  console_tty: the
    ``console.ConsoleTty`` when the console is a terminal.  random_bytes: n -> bytes for
    /dev/[u]random.  binds: [(host_dir, guest_path, read_only)] mounted over the guest's
    tree (``umlpy.fs.bindfs``), in order.
    """

    def __init__(self, rootfs: str, proc, console=None, random_bytes=None, binds=None,
                 mem_total_kb: int = 1 << 20, tty_host=None, console_tty=None):
        self.rootfs = os.fsencode(os.path.realpath(rootfs))
        if not os.path.isdir(self.rootfs):
            raise SyscallError(errno.ENOENT)
        # The host's own root keeps its files' owners (DEV_HOSTROOT); an image's are root's.
        self.root = new_overlay_root(self.rootfs, DEV_HOSTROOT if self.rootfs == b"/" else DEV_ROOT)
        self.root.parent = self.root
        self.tmp = new_tmpfs(DEV_TMP, parent=self.root)
        self.dev = new_devfs(self.root, console, random_bytes or _default_random_bytes, tty_host, console_tty)
        self.procfs = ProcFS(proc, self.root, self.mounts_text, mem_total_kb)
        self.mounts = {b"/proc": self.procfs.root, b"/dev": self.dev}
        # A guest root image gets a /tmp of its own; when the guest's root is the host's,
        # its /tmp is the host's under the overlay (read-through, writes stay in the guest),
        # so host programs find the files they were given there (DESIGN.md, "Guest files").
        self.host_root = self.rootfs == b"/"
        if not self.host_root:
            self.mounts[b"/tmp"] = self.tmp
        for path, node in self.mounts.items():
            self.root.children[path[1:]] = node
        self.binds = []
        for i, (host, guest, ro) in enumerate(binds or ()):
            self._mount_bind(Bind(host, guest, ro, st.makedev(0, DEV_BIND_MINOR + i)))
        self._mount_roots = ({id(n) for n in self.mounts.values()} | {id(self.root)}
                             | {id(b.root) for b in self.binds})
        #: The machine's file-lock state that spans inodes (who waits for whom).
        self.locks = LockContext()

    def _mount_bind(self, b):
        """Mount bind ``b`` at its guest path: the directories on the way are the
        overlay's (made in it when missing), the last name is replaced by the bind."""
        comps = [c for c in b.guest.split(b"/") if c]
        if comps[0] in (b"proc", b"dev"):
            raise SyscallError(errno.EBUSY)
        cur = self.root
        for comp in comps[:-1]:
            try:
                nxt = cur.lookup(comp, None)
            except SyscallError:
                nxt = cur.new_dir(0o755, _ROOT_CALLER)
                cur.create(comp, nxt, _ROOT_CALLER)
            if not isinstance(nxt, MemDir):
                raise SyscallError(errno.ENOTDIR)
            cur = nxt
        if not isinstance(cur, MemDir):
            raise SyscallError(errno.ENOTDIR)
        cur.children[comps[-1]] = b.root
        cur.whiteouts.discard(comps[-1])
        b.root.parent = cur
        self.binds.append(b)

    # -- helpers -------------------------------------------------------
    def mounts_text(self) -> str:
        return ("/dev/root / overlay rw,relatime 0 0\n"
                "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
                "devtmpfs /dev devtmpfs rw,nosuid,relatime,mode=755 0 0\n"
                + ("" if self.host_root else "tmpfs /tmp tmpfs rw,nosuid,nodev,relatime 0 0\n")
                + "".join("%s %s hostfs %s,relatime 0 0\n" % (os.fsdecode(b.host), os.fsdecode(b.guest),
                                                             "ro" if b.ro else "rw") for b in self.binds))

    def _root_of(self, caller):
        return caller.root if caller.root is not None else self.root

    def resolve(self, caller, path: bytes, *, follow=True, dirfd_file=None, want_parent=False):
        root = self._root_of(caller)
        if dirfd_file is not None and not path.startswith(b"/"):
            start = dirfd_file.inode
            if start is None or not start.is_dir():
                raise SyscallError(errno.ENOTDIR)
        else:
            start = caller.cwd if caller.cwd is not None else root
        return resolve(caller, root, start, bytes(path), follow=follow, want_parent=want_parent)

    def dir_path(self, node, caller=None) -> bytes | None:
        """The guest path of directory ``node`` as the caller's root sees it
        (None if it is no longer reachable)."""
        root = self._root_of(caller) if caller is not None else self.root
        parts = []
        for _ in range(4096):
            if node is root or node is self.root:
                return b"/" + b"/".join(reversed(parts))
            if isinstance(node, ProcNode):
                key = node.key.strip("/").encode()
                parts.extend(reversed(key.split(b"/")) if key else ())
                return b"/proc/" + b"/".join(reversed(parts)) if parts else b"/proc"
            parent = node.parent
            if parent is None or parent is node:
                return None
            name = _name_in(parent, node)
            if name is None:
                return None
            parts.append(name)
            node = parent
        return None

    def _guest_path(self, caller, r) -> bytes:
        if r.name in (b".", b"..") or r.node is not None and r.node.is_dir():
            if r.node is not None:
                p = self.dir_path(r.node, caller)
                if p is not None:
                    return p
        base = self.dir_path(r.parent, caller) or b"?"
        return (base.rstrip(b"/") + b"/" + r.name) if r.name not in (b".", b"..") else base

    def _mutable_dir(self, d):
        if isinstance(d, BindDir):
            d.bind.writable()
            return d
        if not isinstance(d, MemDir):
            raise SyscallError(errno.EACCES if isinstance(d, ProcNode) else errno.EROFS)
        return d

    # -- open / stat -------------------------------------------------------
    def open(self, caller, path: bytes, flags: int, mode: int = 0o666, dirfd_file=None):
        """open/openat/creat: a new File (the caller installs it in its fd table)."""
        if flags & os.O_PATH:
            r = self.resolve(caller, path, follow=not flags & os.O_NOFOLLOW, dirfd_file=dirfd_file)
            if flags & os.O_DIRECTORY and not r.node.is_dir():
                raise SyscallError(errno.ENOTDIR)
            return PathFile(r.node, flags & (os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW
                                             | os.O_CLOEXEC), self._guest_path(caller, r))
        acc = flags & os.O_ACCMODE
        if acc == os.O_ACCMODE:
            raise SyscallError(errno.EINVAL)
        tmpfile = getattr(os, "O_TMPFILE", 0) & ~os.O_DIRECTORY
        if flags & tmpfile:
            return self._open_tmpfile(caller, path, flags, mode, dirfd_file)
        created = False
        if flags & os.O_CREAT:
            nofollow = flags & (os.O_EXCL | os.O_NOFOLLOW)
            r = self.resolve(caller, path, follow=not nofollow, dirfd_file=dirfd_file,
                             want_parent=True)
            if r.node is None:
                if r.trailing_slash:
                    raise SyscallError(errno.EISDIR)
                parent = self._mutable_dir(r.parent)
                perm.check(caller, parent.stat(), perm.W_OK | perm.X_OK)
                node = parent.new_file(mode & ~caller.umask, caller)
                parent.create(r.name, node, caller)
                fsnotify_create(parent, r.name, node)
                r = r._replace(node=node)
                created = True
            elif flags & os.O_EXCL:
                raise SyscallError(errno.EEXIST)
        else:
            r = self.resolve(caller, path, follow=not flags & os.O_NOFOLLOW, dirfd_file=dirfd_file)
        node = r.node
        if node.is_symlink():
            raise SyscallError(errno.ELOOP)
        if node.is_dir():
            if acc != os.O_RDONLY or flags & os.O_CREAT:
                raise SyscallError(errno.EISDIR)
        elif flags & os.O_DIRECTORY:
            raise SyscallError(errno.ENOTDIR)
        wants_write = acc != os.O_RDONLY or flags & os.O_TRUNC
        if not created:
            want = (perm.R_OK if acc != os.O_WRONLY else 0) | (perm.W_OK if wants_write else 0)
            perm.check(caller, node.stat(), want)
        if wants_write and isinstance(node, hostfs.HostNode):
            if not isinstance(node, hostfs.HostFile):
                raise SyscallError(errno.EACCES)
            node = self._mutable_dir(r.parent).copy_up(r.name, caller,
                                                      with_data=not flags & os.O_TRUNC)
        f = node.open(flags, caller, self._guest_path(caller, r))
        if inotify.active:
            f.dentry = (r.parent, r.name)
            fsnotify_file(f, IN_OPEN)
        return f

    def _open_tmpfile(self, caller, path, flags, mode, dirfd_file):
        r = self.resolve(caller, path, dirfd_file=dirfd_file)
        if not r.node.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if flags & os.O_ACCMODE == os.O_RDONLY:
            raise SyscallError(errno.EINVAL)
        d = self._mutable_dir(r.node)
        perm.check(caller, d.stat(), perm.W_OK | perm.X_OK)
        node = d.new_file(mode & ~caller.umask, caller)
        node.meta.nlink = 0
        base = self._guest_path(caller, r)
        return node.open(flags, caller, base.rstrip(b"/") + b"/#%d (deleted)" % node.meta.ino)

    def stat(self, caller, path: bytes, follow: bool = True, dirfd_file=None) -> st.Stat:
        """stat/lstat/newfstatat/statx (AT_EMPTY_PATH is the handler's: file.fstat())."""
        return self.resolve(caller, path, follow=follow, dirfd_file=dirfd_file).node.stat()

    def readlink(self, caller, path: bytes, dirfd_file=None) -> bytes:
        node = self.resolve(caller, path, follow=False, dirfd_file=dirfd_file).node
        if not node.is_symlink():
            raise SyscallError(errno.EINVAL)
        return node.readlink(caller)

    def access(self, caller, path: bytes, mode: int, dirfd_file=None, follow=True,
               effective=False):
        """access/faccessat(2): real ids unless ``effective`` (AT_EACCESS)."""
        if mode & ~7:
            raise SyscallError(errno.EINVAL)
        who = caller if effective else caller.real()
        node = self.resolve(who, path, follow=follow, dirfd_file=dirfd_file).node
        perm.check(who, node.stat(), mode)

    # -- namespace changes -------------------------------------------------
    def _parent_for_create(self, caller, path, dirfd_file):
        r = self.resolve(caller, path, follow=False, dirfd_file=dirfd_file, want_parent=True)
        if r.node is not None:
            raise SyscallError(errno.EEXIST)
        parent = self._mutable_dir(r.parent)
        perm.check(caller, parent.stat(), perm.W_OK | perm.X_OK)
        return parent, r.name

    def mkdir(self, caller, path: bytes, mode: int = 0o777, dirfd_file=None):
        parent, name = self._parent_for_create(caller, path, dirfd_file)
        node = parent.new_dir(mode & ~caller.umask & 0o7777, caller)
        parent.create(name, node, caller)
        fsnotify_create(parent, name, node)

    def mknod(self, caller, path: bytes, mode: int, rdev: int = 0, dirfd_file=None):
        """mknod/mknodat: a regular file, a FIFO or a socket inode; returns the new node.

        The socket layer binds AF_UNIX path sockets through this with S_IFSOCK and
        keeps its listener in the node's ``socket`` (``memfs.MemSocket``).  Devices
        give EPERM (no CAP_MKNOD in the guest), directories EPERM, anything else EINVAL.
        """
        kind = mode & st.S_IFMT
        if kind == st.S_IFDIR:
            raise SyscallError(errno.EPERM)
        if kind not in (0, st.S_IFREG, st.S_IFIFO, st.S_IFSOCK, st.S_IFCHR, st.S_IFBLK):
            raise SyscallError(errno.EINVAL)
        if kind in (st.S_IFCHR, st.S_IFBLK):
            self._parent_for_create(caller, path, dirfd_file)     # ENOENT, EEXIST, EACCES first
            raise SyscallError(errno.EPERM)
        r = self.resolve(caller, path, follow=False, dirfd_file=dirfd_file, want_parent=True)
        if r.node is not None:
            raise SyscallError(errno.EEXIST)
        if r.trailing_slash:
            raise SyscallError(errno.ENOENT)
        parent = self._mutable_dir(r.parent)
        perm.check(caller, parent.stat(), perm.W_OK | perm.X_OK)
        perms = mode & 0o7777 & ~caller.umask
        if kind in (0, st.S_IFREG):
            node = parent.new_file(perms, caller)
        else:
            node = parent.new_special(kind | perms, caller)
        parent.create(r.name, node, caller)
        fsnotify_create(parent, r.name, node)
        return node

    def symlink(self, caller, target: bytes, linkpath: bytes, dirfd_file=None):
        if not target:
            raise SyscallError(errno.ENOENT)
        if len(target) >= 4096:
            raise SyscallError(errno.ENAMETOOLONG)
        r = self.resolve(caller, linkpath, follow=False, dirfd_file=dirfd_file, want_parent=True)
        if r.node is not None:
            raise SyscallError(errno.EEXIST)
        if r.trailing_slash:
            raise SyscallError(errno.ENOENT)
        parent = self._mutable_dir(r.parent)
        perm.check(caller, parent.stat(), perm.W_OK | perm.X_OK)
        node = parent.new_symlink(bytes(target), caller)
        parent.create(r.name, node, caller)
        fsnotify_create(parent, r.name, node)

    def _victim(self, caller, path, dirfd_file):
        r = self.resolve(caller, path, follow=False, dirfd_file=dirfd_file, want_parent=True)
        if r.node is None:
            raise SyscallError(errno.ENOENT)
        return r

    def unlink(self, caller, path: bytes, dirfd_file=None):
        r = self._victim(caller, path, dirfd_file)
        if r.node.is_dir():
            raise SyscallError(errno.EISDIR)
        if r.trailing_slash:
            raise SyscallError(errno.ENOTDIR)
        parent = self._mutable_dir(r.parent)
        perm.may_delete(caller, parent.stat(), r.node.stat())
        parent.remove(r.name, caller)
        fsnotify_delete(parent, r.name, r.node, gone=getattr(getattr(r.node, "meta", None), "nlink", 0) == 0)

    def rmdir(self, caller, path: bytes, dirfd_file=None):
        r = self._victim(caller, path, dirfd_file)
        if r.name == b".":
            raise SyscallError(errno.EINVAL)
        if r.name == b"..":
            raise SyscallError(errno.ENOTEMPTY)
        if not r.node.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if id(r.node) in self._mount_roots or r.node is self._root_of(caller):
            raise SyscallError(errno.EBUSY)
        parent = self._mutable_dir(r.parent)
        perm.may_delete(caller, parent.stat(), r.node.stat())
        if r.node.entries(caller):
            raise SyscallError(errno.ENOTEMPTY)
        parent.remove(r.name, caller)
        fsnotify_delete(parent, r.name, r.node, gone=True)

    def rename(self, caller, old: bytes, new: bytes, olddir_file=None, newdir_file=None,
               flags: int = 0):
        """rename/renameat/renameat2 (RENAME_NOREPLACE; EXCHANGE and WHITEOUT: EINVAL)."""
        if flags & ~RENAME_NOREPLACE:
            raise SyscallError(errno.EINVAL)
        ro = self._victim(caller, old, olddir_file)
        rn = self.resolve(caller, new, follow=False, dirfd_file=newdir_file, want_parent=True)
        if ro.name in (b".", b"..") or rn.name in (b".", b".."):
            raise SyscallError(errno.EBUSY)
        src, dst = ro.node, rn.node
        if id(src) in self._mount_roots or (dst is not None and id(dst) in self._mount_roots):
            raise SyscallError(errno.EBUSY)
        op, np_ = self._mutable_dir(ro.parent), self._mutable_dir(rn.parent)
        if op.meta.dev != np_.meta.dev:
            raise SyscallError(errno.EXDEV)
        if src.is_dir() and isinstance(src, MemDir) and src.lower is not None:
            # Like overlayfs without redirect_dir: mv falls back to copying.
            raise SyscallError(errno.EXDEV)
        if ro.trailing_slash and not src.is_dir() or rn.trailing_slash and not src.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if src is dst:
            return
        perm.may_delete(caller, op.stat(), src.stat())
        perm.check(caller, np_.stat(), perm.W_OK | perm.X_OK)
        if src.is_dir() and src.contains(np_):
            raise SyscallError(errno.EINVAL)
        if isinstance(op, BindDir):            # both in one bind (same dev): the host renames
            op.rename_to(ro.name, np_, rn.name, bool(flags & RENAME_NOREPLACE))
            fsnotify_move(op, ro.name, np_, rn.name, src)
            return
        if dst is not None:
            if flags & RENAME_NOREPLACE:
                raise SyscallError(errno.EEXIST)
            if src.is_dir():
                if not dst.is_dir():
                    raise SyscallError(errno.ENOTDIR)
                if dst.entries(caller):
                    raise SyscallError(errno.ENOTEMPTY)
            elif dst.is_dir():
                raise SyscallError(errno.EISDIR)
            perm.may_delete(caller, np_.stat(), dst.stat())
            np_.remove(rn.name, caller)
        node = op.remove(ro.name, caller, keep_links=True)
        np_.create(rn.name, node, caller)
        fsnotify_move(op, ro.name, np_, rn.name, node)

    def link(self, caller, old: bytes, new: bytes, olddir_file=None, newdir_file=None,
             follow: bool = False):
        ro = self.resolve(caller, old, follow=follow, dirfd_file=olddir_file)
        if ro.node.is_dir():
            raise SyscallError(errno.EPERM)
        r = self.resolve(caller, new, follow=False, dirfd_file=newdir_file, want_parent=True)
        if r.node is not None:
            raise SyscallError(errno.EEXIST)
        np_ = self._mutable_dir(r.parent)
        if ro.node.stat().st_dev != np_.meta.dev:
            raise SyscallError(errno.EXDEV)
        perm.check(caller, np_.stat(), perm.W_OK | perm.X_OK)
        node = ro.node
        if isinstance(np_, BindDir):
            np_.link_from(node, r.name)
            fsnotify_create(np_, r.name, node)
            return
        if isinstance(node, hostfs.HostNode):
            node = self._mutable_dir(ro.parent).copy_up(ro.name, caller)
        if not hasattr(node, "meta") or not isinstance(ro.parent, MemDir):
            raise SyscallError(errno.EPERM)
        np_.create(r.name, node, caller)
        node.meta.nlink += 1
        node.meta.touch()
        fsnotify(node, IN_ATTRIB)
        fsnotify_create(np_, r.name, node)

    # -- metadata ----------------------------------------------------------
    def _meta_node(self, caller, path, dirfd_file, follow):
        r = self.resolve(caller, path, follow=follow, dirfd_file=dirfd_file)
        node = r.node
        if isinstance(node, hostfs.HostNode):
            node = self._mutable_dir(r.parent).copy_up(r.name, caller)
        return node, (r.parent, r.name)

    @staticmethod
    def _attrib(node, where):
        fsnotify(node, IN_ATTRIB, *where)

    def xattr_node(self, caller, path: bytes, follow=True, write=False):
        """The node whose extended attributes a *xattr call reads, or changes (``write``:
        a host file is copied up first, as overlayfs does)."""
        if write:
            return self._meta_node(caller, path, None, follow)
        return self.resolve(caller, path, follow=follow).node, None

    def chmod(self, caller, path: bytes, mode: int, dirfd_file=None, follow=True):
        node, where = self._meta_node(caller, path, dirfd_file, follow)
        self._check_owner(caller, node)
        node.set_meta(mode=mode)
        self._attrib(node, where)

    def chown(self, caller, path: bytes, uid: int, gid: int, dirfd_file=None, follow=True):
        node, where = self._meta_node(caller, path, dirfd_file, follow)
        if caller.fsuid != 0:
            s = node.stat()
            if uid not in (-1, s.st_uid) or (gid != -1 and not caller.in_group(gid)):
                raise SyscallError(errno.EPERM)
            self._check_owner(caller, node)
        node.set_meta(uid=uid, gid=gid)
        self._attrib(node, where)

    def utimens(self, caller, path: bytes, atime, mtime, dirfd_file=None, follow=True):
        """atime/mtime: (sec, nsec), or None to leave unchanged (UTIME_OMIT);
        the handler turns UTIME_NOW into the current time."""
        node, where = self._meta_node(caller, path, dirfd_file, follow)
        if caller.fsuid != 0 and caller.fsuid != node.stat().st_uid:
            perm.check(caller, node.stat(), perm.W_OK)
        node.set_meta(atime=atime, mtime=mtime)
        self._attrib(node, where)

    @staticmethod
    def _check_owner(caller, node):
        if caller.fsuid != 0 and caller.fsuid != node.stat().st_uid:
            raise SyscallError(errno.EPERM)

    def truncate(self, caller, path: bytes, length: int):
        if length < 0:
            raise SyscallError(errno.EINVAL)
        r = self.resolve(caller, path)
        if r.node.is_dir():
            raise SyscallError(errno.EISDIR)
        perm.check(caller, r.node.stat(), perm.W_OK)
        node = r.node
        if isinstance(node, hostfs.HostNode):
            node = self._mutable_dir(r.parent).copy_up(r.name, caller)
        node.truncate(length)
        fsnotify(node, IN_MODIFY, r.parent, r.name)

    # -- cwd ---------------------------------------------------------------
    def chdir(self, caller, path: bytes, dirfd_file=None):
        """The directory node to keep as the caller's cwd (chdir/chroot)."""
        node = self.resolve(caller, path, dirfd_file=dirfd_file).node
        return self.check_dir(caller, node)

    @staticmethod
    def check_dir(caller, node):
        """fchdir's checks on ``file.inode``."""
        if node is None or not node.is_dir():
            raise SyscallError(errno.ENOTDIR)
        perm.check(caller, node.stat(), perm.X_OK)
        return node

    def getcwd(self, caller) -> bytes:
        cwd = caller.cwd if caller.cwd is not None else self._root_of(caller)
        p = self.dir_path(cwd, caller)
        if p is None:
            raise SyscallError(errno.ENOENT)
        return p

    def statfs(self, caller, path: bytes = None, node=None) -> bytes:
        """``struct statfs`` for the filesystem of ``path`` (or ``node``, fstatfs)."""
        if node is None:
            node = self.resolve(caller, path).node
        dev = node.stat().st_dev
        magic = _FS_MAGIC.get(dev, st.OVERLAYFS_SUPER_MAGIC)
        flags = st.ST_NOSUID | st.ST_NODEV | st.ST_NOEXEC if dev == DEV_PROC else 0
        big = 1 << 18
        return st.pack_statfs(magic, blocks=big, bfree=big // 2, bavail=big // 2,
                              files=big, ffree=big // 2, namelen=NAME_MAX, flags=flags,
                              fsid=(dev & 0xFFFFFFFF, 0))

    # -- exec --------------------------------------------------------------
    def open_exec(self, caller, path: bytes, dirfd_file=None):
        """(seekable binary file object, guest path) of an executable image.

        EACCES for anything but a regular file with an x bit the caller may
        use (root included).  The caller closes the file object."""
        r = self.resolve(caller, path, dirfd_file=dirfd_file)
        return self._exec_node(caller, r.node), self._guest_path(caller, r)

    def read_exec_file(self, caller, file):
        """(bytes, guest path) of the executable an open file is (execveat AT_EMPTY_PATH),
        with open_exec's checks; O_PATH descriptors count."""
        node = file.inode
        if node is None:
            raise SyscallError(errno.EACCES)
        f = self._exec_node(caller, node)
        try:
            return f.read(), file.path
        finally:
            f.close()

    def _exec_node(self, caller, node):
        s = node.stat()
        if (s.st_mode & st.S_IFMT) != st.S_IFREG:
            raise SyscallError(errno.EACCES)
        perm.check(caller, s, perm.X_OK)
        if isinstance(node, hostfs.HostFile):
            return os.fdopen(node.open_host_fd(), "rb")
        if isinstance(node, MemFile):
            return io.BytesIO(bytes(node.data))
        raise SyscallError(errno.EACCES)


def _name_in(parent, node):
    children = getattr(parent, "children", None)
    if not children:
        return None
    # A directory of the overlay's lower layer is, unless the guest moved it, under
    # its host name: checked in one lookup instead of a walk over the parent's entries
    # (every open of a host file names each directory above it).
    lower = getattr(node, "lower", None)
    if lower is not None:
        hint = lower.rpartition(b"/")[2]
        if children.get(hint) is node:
            return hint
    for name, child in children.items():
        if child is node:
            return name
    return None

