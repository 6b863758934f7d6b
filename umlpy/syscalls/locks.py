"""File locking calls: flock(2) and fcntl(2)'s F_GETLK/F_SETLK/F_SETLKW and their OFD forms.

The lock state is :mod:`umlpy.fs.locks`'s; these handlers read and write
``struct flock``, turn (l_whence, l_start, l_len) into a byte range as Linux's
flock_to_posix_lock does, and wait in a :class:`LockWait` restart block that
keeps the machine's wait-for graph right when the wait ends for any reason.
"""

import errno
import struct

from umlpy.abi.fcntl import F_GETLK, F_RDLCK, F_SETLK, F_SETLKW, F_UNLCK, F_WRLCK, SEEK_CUR, SEEK_END, SEEK_SET, F
from umlpy.errors import SyscallError
from umlpy.fs.file import PathFile
from umlpy.fs.locks import LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, OFFSET_MAX, locks_of
from umlpy.kernel.restart import RestartBlock
from umlpy.waiter import WouldBlock

from .table import supported

E = SyscallError
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = int(F.F_OFD_GETLK), int(F.F_OFD_SETLK), int(F.F_OFD_SETLKW)
#: struct flock on x86-64: l_type, l_whence (short), l_start, l_len (off_t), l_pid.
FLOCK = struct.Struct("<hh4xqqi4x")
LOCK_CMDS = frozenset((int(F_GETLK), int(F_SETLK), int(F_SETLKW), F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW))


class LockWait(RestartBlock):
    """A lock request waiting for a conflicting lock to go."""

    __slots__ = ("ctx", "owner")

    def __init__(self, ctx, owner):
        self.ctx, self.owner = ctx, owner

    def cancel(self):
        self.ctx.done_waiting(self.owner)


def _range(f, whence, start, length):
    """(first, last) byte of a struct flock's range (flock_to_posix_lock)."""
    if whence == SEEK_SET:
        base = 0
    elif whence == SEEK_CUR:
        base = f.pos
    elif whence == SEEK_END:
        base = f.size() if f.seekable else 0
    else:
        raise E(errno.EINVAL)
    if start > OFFSET_MAX - base:
        raise E(errno.EOVERFLOW)
    first = base + start
    if first < 0:
        raise E(errno.EINVAL)
    if length > 0:
        if length - 1 > OFFSET_MAX - first:
            raise E(errno.EOVERFLOW)
        last = first + length - 1
    elif length < 0:
        last = first - 1
        first += length
        if first < 0:
            raise E(errno.EINVAL)
    else:
        last = OFFSET_MAX
    return first, last


def fcntl_lock(t, f, cmd: int, ptr: int) -> int:
    """fcntl's record-lock commands on description ``f``."""
    ofd = cmd in (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW)
    raw = t.mm.read(ptr, FLOCK.size)
    l_type, whence, start, length, pid = FLOCK.unpack(raw)
    if ofd and pid != 0:
        raise E(errno.EINVAL)
    owner = f if ofd else t.files
    if cmd in (F_GETLK, F_OFD_GETLK):
        if l_type not in (F_RDLCK, F_WRLCK):
            raise E(errno.EINVAL)
        first, last = _range(f, whence, start, length)
        locks = locks_of(f)
        lk = locks.conflict(owner, l_type, first, last) if locks is not None else None
        if lk is None:
            out = FLOCK.pack(F_UNLCK, whence, start, length, pid)
        else:
            out = FLOCK.pack(lk.type, SEEK_SET, lk.start, 0 if lk.end == OFFSET_MAX else lk.end - lk.start + 1,
                             -1 if lk.ofd else lk.pid)
        t.mm.write(ptr, out)
        return 0
    if l_type == F_RDLCK:
        if not f.readable:
            raise E(errno.EBADF)
    elif l_type == F_WRLCK:
        if not f.writable:
            raise E(errno.EBADF)
    elif l_type != F_UNLCK:
        raise E(errno.EINVAL)
    first, last = _range(f, whence, start, length)
    locks = locks_of(f, create=True)
    if ofd:
        f.has_locks = True
    ctx = t.kernel.vfs.locks
    if l_type != F_UNLCK:
        lk = locks.conflict(owner, l_type, first, last)
        if lk is not None:
            if cmd not in (F_SETLKW, F_OFD_SETLKW):
                raise E(errno.EAGAIN)
            if not ofd and not lk.ofd and ctx.would_deadlock(owner, lk.owner):
                ctx.done_waiting(owner)
                raise E(errno.EDEADLK)
            ctx.set_waiting(owner, lk.owner)
            if not isinstance(t.restart_block, LockWait):
                t.restart_block = LockWait(ctx, owner)
            raise WouldBlock(locks.waitq)
    ctx.done_waiting(owner)
    locks.set(owner, t.group.tgid, l_type, first, last, ofd)
    return 0


def flock(t, a):
    """Flock implements flock(2): whole-file locks owned by the open file description."""
    f = t.files.get(a.fd(0))
    if isinstance(f, PathFile):
        raise E(errno.EBADF)
    op = a.int(1)
    kind = op & ~LOCK_NB
    if kind not in (LOCK_SH, LOCK_EX, LOCK_UN):
        raise E(errno.EINVAL)
    locks = locks_of(f, create=True)
    f.has_locks = True
    try:
        locks.flock(f, kind)
    except SyscallError as e:
        if e.errno != errno.EAGAIN or op & LOCK_NB:
            raise
        raise WouldBlock(locks.waitq) from None
    return 0


FAMILY = [supported("flock", flock)]
