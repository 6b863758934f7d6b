"""File system calls: open, read, write, stat, directories, fds, pipes, ioctl.

The work is :mod:`umlpy.fs`'s; these handlers copy arguments in and out of
guest memory and manage the fd table.  Paths longer than PATH_MAX give
ENAMETOOLONG; unreadable pointers give EFAULT (raised by ``mm``).
"""

import errno
import struct

from umlpy.abi.fcntl import (AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_SYMLINK_FOLLOW,
                             AT_SYMLINK_NOFOLLOW, F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD,
                             F_GETFL, F_GETLK, F_GETOWN, F_GETPIPE_SZ, F_SETFD, F_SETFL, F_SETLK, F_SETLKW, F_SETOWN,
                             F_SETPIPE_SZ, O_ACCMODE, O_CLOEXEC, O_NONBLOCK, F)
from umlpy.abi import stat as abi_stat
from umlpy.abi.fs import IOV_MAX, PATH_MAX
from umlpy.abi.fs import MAX_RW_COUNT as MAX_RW
from umlpy.abi.signal import Sig
from umlpy.abi.time import UTIME_NOW, UTIME_OMIT
from umlpy.errors import SyscallError
from umlpy.abi.errno_tab import ERESTARTSYS
from umlpy.abi.fcntl import DN_MULTISHOT, PIPE_MAX_SIZE
from umlpy.abi.fcntl import (F_ALL_SEALS, F_SEAL_SEAL, F_SEAL_WRITE, MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_HUGE_MASK,
                             MFD_HUGE_SHIFT, MFD_HUGETLB, MFD_NAME_MAX_LEN, O_LARGEFILE, O_RDWR)
from umlpy.abi.stat import S_IFREG
from umlpy.fs.memfs import MemfdFile, MemfdNode
from umlpy.fs.node import DEV_SHM, Meta
from umlpy.fs.pty import TIOCGPTPEER, PtyMaster
from umlpy.kernel import restart as krestart
from umlpy.kernel.restart import REGS_SET, RestartBlock
from umlpy.fs.inotify import IN_ACCESS, IN_MODIFY
from .inotify import notifying
from .locks import LOCK_CMDS, fcntl_lock
from umlpy.waiter import WouldBlock
from umlpy.fs.pipe import make_pipe, pipe_of

from .table import partial, supported

E = SyscallError
SIGPIPE = Sig.SIGPIPE
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = F.F_OFD_GETLK, F.F_OFD_SETLK, F.F_OFD_SETLKW
F_NOTIFY = int(F.F_NOTIFY)


def _path(t, ptr) -> bytes:
    p = t.mm.read_cstring(ptr, PATH_MAX + 1)
    if len(p) > PATH_MAX - 1:
        raise E(errno.ENAMETOOLONG)
    return p


def _dirfd(t, dirfd: int, path: bytes):
    """The dirfd's File for an *at() call, or None for AT_FDCWD / absolute paths."""
    if dirfd == AT_FDCWD or path.startswith(b"/"):
        return None
    return t.files.get(dirfd)


def _caller(t):
    return t.kernel.caller(t)


# --- read and write ------------------------------------------------------------
def read(t, a):
    """Read implements read(2)."""
    f = t.files.get(a.fd(0))
    n = min(a.size(2), MAX_RW)
    buf = a.ptr(1)
    if n and not t.mm.check_range(buf & ~4095, ((buf + n + 4095) & ~4095) - (buf & ~4095), 2):
        raise E(errno.EFAULT)
    _wait_host_input(t, f)
    data = f.read_for(t, n)
    if data:
        t.mm.write(buf, data)
    return len(data)


def _wait_host_input(t, f):
    """A console read with no input yet parks the task (the others go on) until the
    host fd is readable, instead of blocking the whole guest in the supervisor."""
    io = getattr(f, "io", None)
    if io is None or io.read_fd is None or f.nonblocking:
        return
    if not io.input_ready():
        raise WouldBlock(t.kernel.wait_host_fd(io.read_fd))


def _write_file(t, f, data: bytes) -> int:
    try:
        return f.write_for(t, data)
    except SyscallError as e:
        if e.errno == errno.EPIPE:
            t.kernel.send_signal(t, SIGPIPE)
        raise


class WriteBlock(RestartBlock):
    """A blocking pipe write in progress: how much it has written so far."""

    __slots__ = ("done",)

    def __init__(self):
        self.done = 0

    def interrupted(self):
        if self.done:
            return self.done     # a write cut by a signal returns what it wrote
        raise E(errno.EINTR)


def write(t, a):
    """Write implements write(2).

    A blocking write to a pipe returns only when everything is written (or a
    signal comes): the task parks between chunks, keeping its progress.
    """
    f = t.files.get(a.fd(0))
    n = min(a.size(2), MAX_RW)
    if not f.writable:
        raise E(errno.EBADF)
    rb = t.restart_block
    done = rb.done if isinstance(rb, WriteBlock) else 0
    data = t.mm.read(a.ptr(1) + done, n - done) if n > done else b""
    try:
        done += _write_file(t, f, data)
    except WouldBlock:
        _progress(t, done)
        raise
    except SyscallError:
        if done:
            return done
        raise
    if done < n and f.blocking_stream and not f.nonblocking:
        _progress(t, done)
        raise WouldBlock(f.waitq)
    return done


def _progress(t, done):
    rb = t.restart_block
    if not isinstance(rb, WriteBlock):
        rb = t.restart_block = WriteBlock()
    rb.done = done


def _iovecs(t, ptr, cnt):
    if cnt < 0 or cnt > IOV_MAX:
        raise E(errno.EINVAL)
    if cnt == 0:
        return []
    raw = t.mm.read(ptr, 16 * cnt)
    vec = list(struct.iter_unpack("<QQ", raw))
    total = 0
    for base, ln in vec:
        if ln > 0x7FFFFFFFFFFFFFFF:
            raise E(errno.EINVAL)
        total += ln
    if total > 0x7FFFFFFFFFFFFFFF:
        raise E(errno.EINVAL)
    return vec


def readv(t, a):
    f = t.files.get(a.fd(0))
    vec = _iovecs(t, a.ptr(1), a.int(2))
    total = min(sum(ln for _, ln in vec), MAX_RW)
    _wait_host_input(t, f)
    data = f.read_for(t, total)
    return _scatter(t, vec, data)


def _scatter(t, vec, data):
    off = 0
    for base, ln in vec:
        if off >= len(data):
            break
        chunk = data[off:off + ln]
        t.mm.write(base, chunk)
        off += len(chunk)
    return off


def _gather(t, vec):
    parts, total = [], 0
    for base, ln in vec:
        ln = min(ln, MAX_RW - total)
        if ln:
            parts.append(t.mm.read(base, ln))
            total += ln
    return b"".join(parts)


def writev(t, a):
    f = t.files.get(a.fd(0))
    vec = _iovecs(t, a.ptr(1), a.int(2))
    if not f.writable:
        raise E(errno.EBADF)
    data = _gather(t, vec)
    if not data:
        return 0
    return _write_file(t, f, data)


def pread64(t, a):
    f = t.files.get(a.fd(0))
    off = a.s64(3)
    data = f.pread(min(a.size(2), MAX_RW), off)
    if data:
        t.mm.write(a.ptr(1), data)
    return len(data)


def pwrite64(t, a):
    f = t.files.get(a.fd(0))
    n = min(a.size(2), MAX_RW)
    return f.pwrite(t.mm.read(a.ptr(1), n) if n else b"", a.s64(3))


def preadv(t, a):
    f = t.files.get(a.fd(0))
    vec = _iovecs(t, a.ptr(1), a.int(2))
    data = f.pread(min(sum(ln for _, ln in vec), MAX_RW), a.s64(3))
    return _scatter(t, vec, data)


def pwritev(t, a):
    f = t.files.get(a.fd(0))
    vec = _iovecs(t, a.ptr(1), a.int(2))
    return f.pwrite(_gather(t, vec), a.s64(3))


def lseek(t, a):
    return t.files.get(a.fd(0)).lseek(a.s64(1), a.int(2))


# --- open, close, dup -------------------------------------------------------------
class OpenWait(RestartBlock):
    """An open waiting for a FIFO's other side: the half-open description (counted as a
    reader or writer, as Linux counts it while it waits)."""

    __slots__ = ("file",)

    def __init__(self, file):
        self.file = file.get_ref()

    def cancel(self):
        self.file.put_ref()


def _open(t, dirfd, path, flags, mode):
    rb = t.restart_block
    if isinstance(rb, OpenWait):
        f = rb.file
    else:
        f = t.kernel.vfs.open(_caller(t), path, flags, mode & 0o7777, dirfd_file=_dirfd(t, dirfd, path))
    q = f.open_wait()
    if q is not None:
        if not isinstance(rb, OpenWait):
            t.restart_block = OpenWait(f)
        raise WouldBlock(q)
    if not isinstance(rb, OpenWait):
        f.get_ref()              # ours until the fd table has its own
    try:
        return t.files.install(f, cloexec=bool(flags & O_CLOEXEC))
    finally:
        if isinstance(rb, OpenWait):
            rb.file = None
        f.put_ref()


def openat(t, a):
    path = _path(t, a.ptr(1))
    return _open(t, a.dirfd(0), path, a.int(2), a.uint(3))


def open_(t, a):
    return _open(t, AT_FDCWD, _path(t, a.ptr(0)), a.int(1), a.uint(2))


def creat(t, a):
    return _open(t, AT_FDCWD, _path(t, a.ptr(0)), 0o1 | 0o100 | 0o1000, a.uint(1))


def close(t, a):
    t.files.close(a.fd(0))
    return 0


def close_range(t, a):
    first, last, flags = a.uint(0), a.uint(1), a.uint(2)
    if first > last or flags & ~(2 | 4):
        raise E(errno.EINVAL)
    t.files.close_range(first, last, cloexec_only=bool(flags & 4))
    return 0


def dup(t, a):
    return t.files.dup(a.fd(0))


def dup2(t, a):
    return t.files.dup2(a.fd(0), a.fd(1))


def dup3(t, a):
    flags = a.int(2)
    if flags & ~O_CLOEXEC:
        raise E(errno.EINVAL)
    return t.files.dup3(a.fd(0), a.fd(1), flags)




def fcntl(t, a):
    fd, cmd, arg = a.fd(0), a.int(1), a.u64(2)
    files = t.files
    f = files.get(fd)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        return files.dup(fd, min_fd=a.int(2), cloexec=cmd == F_DUPFD_CLOEXEC)
    if cmd == F_GETFD:
        return 1 if files.get_cloexec(fd) else 0
    if cmd == F_SETFD:
        files.set_cloexec(fd, bool(arg & 1))
        return 0
    if cmd == F_GETFL:
        return f.get_fl()
    if cmd == F_SETFL:
        f.set_fl(a.int(2))
        return 0
    if cmd in LOCK_CMDS:
        return fcntl_lock(t, f, cmd, a.ptr(2))
    if cmd in (F_ADD_SEALS, F_GET_SEALS):
        return _seals(t, f, cmd, a.uint(2))
    if cmd == F_GETOWN:
        return getattr(f, "owner_pid", 0)
    if cmd == F_SETOWN:
        f.owner_pid = a.int(2)         # kept for F_GETOWN; no SIGIO is ever sent
        return 0
    if cmd in (F_GETPIPE_SZ, F_SETPIPE_SZ):
        return _pipe_size(t, f, cmd, a.uint(2))
    if cmd == F_NOTIFY:
        # dnotify: clearing (no event bits, DN_MULTISHOT aside) works; asking for events
        # is EINVAL here (no SIGIO to send them with).
        if f.inode is None or not f.inode.is_dir():
            raise E(errno.ENOTDIR)
        if a.uint(2) & ~DN_MULTISHOT:
            raise E(errno.EINVAL)
        return 0
    raise E(errno.EINVAL)


def _pipe_size(t, f, cmd, arg):
    """F_GETPIPE_SZ / F_SETPIPE_SZ: a pipe's capacity, set in whole pages rounded up to a
    power of two (fs/pipe.c round_pipe_size), at most pipe-max-size without root, never
    below what the pipe holds (EBUSY)."""
    p = pipe_of(f)
    if p is None:
        raise E(errno.EBADF)
    if cmd == F_GETPIPE_SZ:
        return p.capacity
    size = max(arg, 4096)
    if size > 1 << 31:
        raise E(errno.EINVAL)
    size = 1 << (size - 1).bit_length()
    if size > PIPE_MAX_SIZE and t.creds.euid != 0:
        raise E(errno.EPERM)
    if size < len(p.buf):
        raise E(errno.EBUSY)
    p.capacity = size
    p.waitq.notify()
    return size


class _MemAdapter:
    """Guest memory as the fs layer's ioctl sees it."""

    __slots__ = ("mm",)

    def __init__(self, mm):
        self.mm = mm

    def read(self, addr, n):
        return self.mm.read(addr, n)

    def write(self, addr, data):
        self.mm.write(addr, data)


FIOCLEX, FIONCLEX, FIONBIO = 0x5451, 0x5450, 0x5421


def ioctl(t, a):
    fd, req, arg = a.fd(0), a.uint(1), a.u64(2)
    f = t.files.get(fd)
    if req == FIOCLEX:
        t.files.set_cloexec(fd, True)
        return 0
    if req == FIONCLEX:
        t.files.set_cloexec(fd, False)
        return 0
    if req == FIONBIO:
        on = struct.unpack("<i", t.mm.read(arg, 4))[0]
        f.set_fl((f.get_fl() | O_NONBLOCK) if on else (f.get_fl() & ~O_NONBLOCK))
        return 0
    if req == TIOCGPTPEER and isinstance(f, PtyMaster):
        return t.files.install(f.open_peer(arg & 0xFFFFFFFF), cloexec=bool(arg & O_CLOEXEC))
    return f.ioctl(req, arg, _MemAdapter(t.mm))


#: Whether the kernel decides restarts itself from ERESTARTSYS (the signals work);
#: until then, :func:`_restarting` rewinds the call (always a restart).
_KERNEL_RESTARTS = hasattr(krestart, "ERESTARTSYS")


def _restarting(handler):
    """A handler whose file may ask for the call to be restarted after a signal
    (ERESTARTSYS: a terminal's job control stops a background reader).  The call
    is rewound to its syscall instruction, so it runs again when the task next
    returns to user mode, after the signal was dealt with.  A kernel that handles
    ERESTARTSYS itself (EINTR after a handler without SA_RESTART) gets the handler
    unwrapped."""
    if _KERNEL_RESTARTS:
        return handler

    def call(t, a):
        try:
            return handler(t, a)
        except SyscallError as e:
            if e.errno != ERESTARTSYS:
                raise
            regs = t.ctx.regs
            regs.rax = regs.orig_rax
            regs.rip -= 2
            return REGS_SET
    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


def pipe2(t, a):
    flags = a.int(1)
    if flags & ~(O_CLOEXEC | O_NONBLOCK | 0o40000):
        raise E(errno.EINVAL)
    ptr = a.ptr(0)
    if not t.mm.check_range(ptr & ~4095, 4096, 2):
        raise E(errno.EFAULT)
    r, w = make_pipe(flags)
    cloexec = bool(flags & O_CLOEXEC)
    rfd = t.files.install(r, cloexec=cloexec)
    try:
        wfd = t.files.install(w, cloexec=cloexec)
    except SyscallError:
        t.files.close(rfd)
        raise
    try:
        t.mm.write(ptr, struct.pack("<ii", rfd, wfd))
    except SyscallError:
        t.files.close(rfd)
        t.files.close(wfd)
        raise
    return 0


def pipe(t, a):
    return pipe2(t, type(a)((a[0], 0, 0, 0, 0, 0)))


# --- stat ---------------------------------------------------------------------------
def fstat(t, a):
    st = t.files.get(a.fd(0)).fstat()
    t.mm.write(a.ptr(1), st.pack_stat())
    return 0


def _stat_at(t, dirfd, path, flags):
    k = t.kernel
    if flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | 0x6000):
        raise E(errno.EINVAL)
    if not path:
        if not flags & AT_EMPTY_PATH:
            raise E(errno.ENOENT)
        if dirfd == AT_FDCWD:
            return k.vfs.stat(_caller(t), b".", True)
        return t.files.get(dirfd).fstat()
    return k.vfs.stat(_caller(t), path, not flags & AT_SYMLINK_NOFOLLOW, dirfd_file=_dirfd(t, dirfd, path))


def stat(t, a):
    st = t.kernel.vfs.stat(_caller(t), _path(t, a.ptr(0)), True)
    t.mm.write(a.ptr(1), st.pack_stat())
    return 0


def lstat(t, a):
    st = t.kernel.vfs.stat(_caller(t), _path(t, a.ptr(0)), False)
    t.mm.write(a.ptr(1), st.pack_stat())
    return 0


def newfstatat(t, a):
    path = _path(t, a.ptr(1))
    st = _stat_at(t, a.dirfd(0), path, a.int(3))
    t.mm.write(a.ptr(2), st.pack_stat())
    return 0


def statx(t, a):
    path = _path(t, a.ptr(1))
    flags, mask = a.int(2), a.uint(3)
    if mask & 0x80000000:      # STATX__RESERVED
        raise E(errno.EINVAL)
    st = _stat_at(t, a.dirfd(0), path, flags & ~0x6000)
    t.mm.write(a.ptr(4), st.pack_statx())
    return 0


def statfs(t, a):
    t.mm.write(a.ptr(1), t.kernel.vfs.statfs(_caller(t), _path(t, a.ptr(0))))
    return 0


def fstatfs(t, a):
    f = t.files.get(a.fd(0))
    node = f.inode if f.inode is not None else t.kernel.vfs.dev   # consoles, pipes: devfs-like
    t.mm.write(a.ptr(1), t.kernel.vfs.statfs(_caller(t), node=node))
    return 0


def _readlink(t, dirfd, path, buf, size):
    if size <= 0:
        raise E(errno.EINVAL)
    target = t.kernel.vfs.readlink(_caller(t), path, dirfd_file=_dirfd(t, dirfd, path))
    data = target[:size]
    t.mm.write(buf, data)
    return len(data)


def readlink(t, a):
    return _readlink(t, AT_FDCWD, _path(t, a.ptr(0)), a.ptr(1), a.int(2))


def readlinkat(t, a):
    return _readlink(t, a.dirfd(0), _path(t, a.ptr(1)), a.ptr(2), a.int(3))


def _access(t, dirfd, path, mode, flags):
    if mode & ~7:
        raise E(errno.EINVAL)
    if flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH):
        raise E(errno.EINVAL)
    t.kernel.vfs.access(_caller(t), path, mode, dirfd_file=_dirfd(t, dirfd, path),
                        follow=not flags & AT_SYMLINK_NOFOLLOW, effective=bool(flags & AT_EACCESS))
    return 0


def access(t, a):
    return _access(t, AT_FDCWD, _path(t, a.ptr(0)), a.int(1), 0)


def faccessat(t, a):
    return _access(t, a.dirfd(0), _path(t, a.ptr(1)), a.int(2), 0)


def faccessat2(t, a):
    return _access(t, a.dirfd(0), _path(t, a.ptr(1)), a.int(2), a.int(3))


# --- directories -----------------------------------------------------------------------
def getdents64(t, a):
    f = t.files.get(a.fd(0))
    data = f.getdents64(a.uint(2))
    if data:
        t.mm.write(a.ptr(1), data)
    return len(data)


def getcwd(t, a):
    cwd = t.kernel.vfs.getcwd(_caller(t)) + b"\0"
    if a.size(1) < len(cwd):
        raise E(errno.ERANGE)
    t.mm.write(a.ptr(0), cwd)
    return len(cwd)


def chdir(t, a):
    node = t.kernel.vfs.chdir(_caller(t), _path(t, a.ptr(0)))
    t.fs.cwd = node
    return 0


def fchdir(t, a):
    f = t.files.get(a.fd(0))
    t.fs.cwd = t.kernel.vfs.check_dir(_caller(t), f.inode)
    return 0


def chroot(t, a):
    if t.creds.euid != 0:
        raise E(errno.EPERM)
    t.fs.root = t.kernel.vfs.chdir(_caller(t), _path(t, a.ptr(0)))
    return 0


def mkdirat(t, a):
    path = _path(t, a.ptr(1))
    t.kernel.vfs.mkdir(_caller(t), path, a.uint(2) & 0o7777, dirfd_file=_dirfd(t, a.dirfd(0), path))
    return 0


def mkdir(t, a):
    t.kernel.vfs.mkdir(_caller(t), _path(t, a.ptr(0)), a.uint(1) & 0o7777)
    return 0


def unlinkat(t, a):
    path, flags = _path(t, a.ptr(1)), a.int(2)
    if flags & ~AT_REMOVEDIR:
        raise E(errno.EINVAL)
    d = _dirfd(t, a.dirfd(0), path)
    if flags & AT_REMOVEDIR:
        t.kernel.vfs.rmdir(_caller(t), path, dirfd_file=d)
    else:
        t.kernel.vfs.unlink(_caller(t), path, dirfd_file=d)
    return 0


def unlink(t, a):
    t.kernel.vfs.unlink(_caller(t), _path(t, a.ptr(0)))
    return 0


def rmdir(t, a):
    t.kernel.vfs.rmdir(_caller(t), _path(t, a.ptr(0)))
    return 0


def renameat2(t, a):
    old, new = _path(t, a.ptr(1)), _path(t, a.ptr(3))
    t.kernel.vfs.rename(_caller(t), old, new, olddir_file=_dirfd(t, a.dirfd(0), old),
                        newdir_file=_dirfd(t, a.dirfd(2), new), flags=a.uint(4))
    return 0


def renameat(t, a):
    return renameat2(t, type(a)((a[0], a[1], a[2], a[3], 0, 0)))


def rename(t, a):
    t.kernel.vfs.rename(_caller(t), _path(t, a.ptr(0)), _path(t, a.ptr(1)))
    return 0


def symlinkat(t, a):
    target, path = _path(t, a.ptr(0)), _path(t, a.ptr(2))
    t.kernel.vfs.symlink(_caller(t), target, path, dirfd_file=_dirfd(t, a.dirfd(1), path))
    return 0


def symlink(t, a):
    t.kernel.vfs.symlink(_caller(t), _path(t, a.ptr(0)), _path(t, a.ptr(1)))
    return 0


def linkat(t, a):
    old, new, flags = _path(t, a.ptr(1)), _path(t, a.ptr(3)), a.int(4)
    t.kernel.vfs.link(_caller(t), old, new, olddir_file=_dirfd(t, a.dirfd(0), old),
                      newdir_file=_dirfd(t, a.dirfd(2), new), follow=bool(flags & AT_SYMLINK_FOLLOW))
    return 0


def link(t, a):
    t.kernel.vfs.link(_caller(t), _path(t, a.ptr(0)), _path(t, a.ptr(1)))
    return 0


def fchmodat(t, a):
    path = _path(t, a.ptr(1))
    t.kernel.vfs.chmod(_caller(t), path, a.uint(2) & 0o7777, dirfd_file=_dirfd(t, a.dirfd(0), path))
    return 0


def chmod(t, a):
    t.kernel.vfs.chmod(_caller(t), _path(t, a.ptr(0)), a.uint(1) & 0o7777)
    return 0


def fchmod(t, a):
    f = t.files.get(a.fd(0))
    t.kernel.vfs.chmod(_caller(t), f.path, a.uint(1) & 0o7777)
    return 0


def _owner_id(v: int) -> int:
    """A uid_t/gid_t argument of chown: 0..2**32-2, or -1 ((uid_t)-1: leave it)."""
    return -1 if v == 0xFFFFFFFF else v


def fchownat(t, a):
    path = _path(t, a.ptr(1))
    t.kernel.vfs.chown(_caller(t), path, _owner_id(a.uint(2)), _owner_id(a.uint(3)),
                       dirfd_file=_dirfd(t, a.dirfd(0), path), follow=not a.int(4) & AT_SYMLINK_NOFOLLOW)
    return 0


def chown(t, a):
    t.kernel.vfs.chown(_caller(t), _path(t, a.ptr(0)), _owner_id(a.uint(1)), _owner_id(a.uint(2)))
    return 0


def lchown(t, a):
    t.kernel.vfs.chown(_caller(t), _path(t, a.ptr(0)), _owner_id(a.uint(1)), _owner_id(a.uint(2)),
                       follow=False)
    return 0


def fchown(t, a):
    f = t.files.get(a.fd(0))
    t.kernel.vfs.chown(_caller(t), f.path, _owner_id(a.uint(1)), _owner_id(a.uint(2)))
    return 0


def mknodat(t, a):
    """Mknodat implements mknodat(2): regular files, FIFOs and socket inodes (devices: EPERM)."""
    path = _path(t, a.ptr(1))
    t.kernel.vfs.mknod(_caller(t), path, a.uint(2), a.uint(3), dirfd_file=_dirfd(t, a.dirfd(0), path))
    return 0


def mknod(t, a):
    t.kernel.vfs.mknod(_caller(t), _path(t, a.ptr(0)), a.uint(1), a.uint(2))
    return 0


def memfd_create(t, a):
    """Memfd_create implements memfd_create(2) (MFD_CLOEXEC, MFD_ALLOW_SEALING; MFD_HUGETLB: EINVAL)."""
    name = t.mm.read_cstring(a.ptr(0), MFD_NAME_MAX_LEN + 2)
    flags = a.uint(1)
    if flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | (MFD_HUGE_MASK << MFD_HUGE_SHIFT)):
        raise E(errno.EINVAL)
    if flags & (MFD_HUGE_MASK << MFD_HUGE_SHIFT) and not flags & MFD_HUGETLB:
        raise E(errno.EINVAL)
    if len(name) > MFD_NAME_MAX_LEN:
        raise E(errno.EINVAL)
    if flags & MFD_HUGETLB:
        raise E(errno.EINVAL)          # no hugetlbfs in the guest
    node = MemfdNode(Meta(mode=S_IFREG | 0o777, uid=t.creds.fsuid, gid=t.creds.fsgid, dev=DEV_SHM, nlink=0),
                     0 if flags & MFD_ALLOW_SEALING else F_SEAL_SEAL)
    f = node.open(O_RDWR | O_LARGEFILE, _caller(t), b"/memfd:" + name + b" (deleted)")
    return t.files.install(f, cloexec=bool(flags & MFD_CLOEXEC))


def _seals(t, f, cmd, arg):
    if not isinstance(f, MemfdFile):
        raise E(errno.EINVAL)
    node = f.inode
    if cmd == F_GET_SEALS:
        return node.seals
    if not f.writable:
        raise E(errno.EPERM)
    if arg & ~F_ALL_SEALS:
        raise E(errno.EINVAL)
    if node.seals & F_SEAL_SEAL:
        raise E(errno.EPERM)
    if arg & F_SEAL_WRITE and not node.seals & F_SEAL_WRITE:
        so = t.kernel.page_cache.get(id(node))
        if so is not None and not so.released and so.refs:
            raise E(errno.EBUSY)       # shared mappings may still write
    node.seals |= arg
    return 0


def umask(t, a):
    old = t.fs.umask
    t.fs.umask = a.uint(0) & 0o777
    return old


def truncate(t, a):
    length = a.s64(1)
    if length < 0:
        raise E(errno.EINVAL)
    t.kernel.vfs.truncate(_caller(t), _path(t, a.ptr(0)), length)
    return 0


def ftruncate(t, a):
    length = a.s64(1)
    if length < 0:
        raise E(errno.EINVAL)
    t.files.get(a.fd(0)).ftruncate(length)
    return 0


def fsync(t, a):
    t.files.get(a.fd(0))
    return 0


def sync(t, a):
    return 0




def utimensat(t, a):
    dirfd, pathp, times, flags = a.dirfd(0), a.ptr(1), a.ptr(2), a.int(3)
    now = t.kernel.realtime_ns()
    now_t = (now // 10 ** 9, now % 10 ** 9)
    if times:
        s1, n1, s2, n2 = struct.unpack("<qqqq", t.mm.read(times, 32))
        conv = lambda s, n: now_t if n == UTIME_NOW else (None if n == UTIME_OMIT else (s, n))  # noqa: E731
        at, mt = conv(s1, n1), conv(s2, n2)
    else:
        at = mt = now_t
    if not pathp:
        f = t.files.get(dirfd)
        path, d = f.path, None
    else:
        path = _path(t, pathp)
        d = _dirfd(t, dirfd, path)
    t.kernel.vfs.utimens(_caller(t), path, at, mt, dirfd_file=d, follow=not flags & AT_SYMLINK_NOFOLLOW)
    return 0


FAMILY = [
    supported("read", notifying(_restarting(read), IN_ACCESS)),
    supported("write", notifying(_restarting(write), IN_MODIFY)),
    supported("readv", notifying(_restarting(readv), IN_ACCESS)),
    supported("writev", notifying(_restarting(writev), IN_MODIFY)),
    supported("pread64", notifying(pread64, IN_ACCESS)), supported("pwrite64", notifying(pwrite64, IN_MODIFY)),
    supported("preadv", notifying(preadv, IN_ACCESS)), supported("pwritev", notifying(pwritev, IN_MODIFY)),
    supported("lseek", lseek),
    supported("openat", openat), supported("open", open_), supported("creat", creat),
    supported("close", close), supported("close_range", close_range),
    supported("dup", dup), supported("dup2", dup2), supported("dup3", dup3),
    partial("fcntl", fcntl, "F_SETOWN is kept for F_GETOWN but no SIGIO is sent; F_SETSIG, leases: "
            "EINVAL; F_NOTIFY (dnotify) only clears: asking for events is EINVAL"),
    partial("ioctl", _restarting(ioctl), "terminals (ptys: every termios, job-control and pty request; the "
            "console: termios kept, not applied), FIONREAD, FIONBIO/FIOCLEX/FIONCLEX, timerfd's TFD_IOC_SET_TICKS"),
    supported("pipe", pipe), supported("pipe2", pipe2),
    supported("fstat", fstat), supported("stat", stat), supported("lstat", lstat),
    supported("newfstatat", newfstatat), supported("statx", statx),
    supported("statfs", statfs), supported("fstatfs", fstatfs),
    supported("readlink", readlink), supported("readlinkat", readlinkat),
    supported("access", access), supported("faccessat", faccessat), supported("faccessat2", faccessat2),
    supported("getdents64", getdents64), supported("getcwd", getcwd), supported("chdir", chdir),
    supported("fchdir", fchdir), supported("chroot", chroot),
    supported("mkdir", mkdir), supported("mkdirat", mkdirat), supported("unlink", unlink),
    supported("unlinkat", unlinkat), supported("rmdir", rmdir), supported("rename", rename),
    supported("renameat", renameat), partial("renameat2", renameat2, "RENAME_NOREPLACE only"),
    supported("symlink", symlink), supported("symlinkat", symlinkat), supported("link", link),
    supported("linkat", linkat), supported("chmod", chmod), supported("fchmod", fchmod),
    supported("fchmodat", fchmodat), supported("chown", chown), supported("fchown", fchown),
    supported("lchown", lchown), supported("fchownat", fchownat), supported("umask", umask),
    supported("truncate", truncate), supported("ftruncate", notifying(ftruncate, IN_MODIFY, on_zero=True)),
    supported("mknod", mknod), supported("mknodat", mknodat),
    partial("memfd_create", memfd_create, "MFD_HUGETLB: EINVAL (no hugetlbfs); F_SEAL_WRITE's EBUSY "
            "counts every shared mapping, read-only ones of O_RDONLY fds too"),
    partial("fsync", fsync, "guest files live in memory"), partial("fdatasync", fsync, "guest files live in memory"),
    partial("sync", sync, "guest files live in memory"), supported("utimensat", utimensat),
]
