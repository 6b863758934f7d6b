"""File locks: flock(2) and fcntl(2) record locks, POSIX and open-file-description (fs/locks.c).

Every inode that was ever locked carries an :class:`InodeLocks` (``inode.file_locks``):
its flock locks, its record locks and the queue lock waiters park on.  Owners are
Linux's: a POSIX record lock belongs to the fd table of the process that took it
(``current->files``: threads sharing their fds share their locks, a fork's child
has none), an OFD lock and a flock lock to the open file description.  POSIX and
OFD record locks conflict with each other; flock locks only with flock locks.

Releases are Linux's too: closing *any* fd of an inode drops the closing fd
table's POSIX locks on it (:meth:`InodeLocks.remove_posix`, from the fd table),
and the last reference to a description drops its OFD and flock locks
(:func:`file_released`).

Waiting: a conflicting F_SETLKW, F_OFD_SETLKW or flock without LOCK_NB parks on
the inode's queue (woken by every unlock) and tries again.  Before a POSIX waiter
parks, :meth:`LockContext.would_deadlock` follows who waits for whom (each owner
waits for at most one other, as Linux's blocked_hash records it) and refuses a
wait that closes a cycle with EDEADLK.
"""

from __future__ import annotations

import errno

from umlpy.abi.fcntl import F_RDLCK, F_UNLCK, F_WRLCK, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN
from umlpy.errors import SyscallError
from umlpy.waiter import Queue

#: The largest offset (OFFSET_MAX): a lock with l_len 0 reaches it.
OFFSET_MAX = (1 << 63) - 1
#: How far deadlock detection follows waiters (fs/locks.c MAX_DEADLK_ITERATIONS).
MAX_DEADLK_ITERATIONS = 10


class RecordLock:
    """A POSIX or OFD byte-range lock: [start, end] inclusive."""

    __slots__ = ("owner", "pid", "type", "start", "end", "ofd")

    def __init__(self, owner, pid, type_, start, end, ofd):
        self.owner, self.pid, self.type, self.start, self.end, self.ofd = owner, pid, type_, start, end, ofd

    def overlaps(self, start, end) -> bool:
        return self.start <= end and start <= self.end

    def conflicts(self, owner, type_, start, end) -> bool:
        return (self.owner is not owner and self.overlaps(start, end)
                and (self.type == F_WRLCK or type_ == F_WRLCK))


class LockContext:
    """The machine's lock state that spans inodes: who waits for whom."""

    def __init__(self):
        self.waits_for: dict = {}      # id(owner) -> (owner, blocking owner)

    def would_deadlock(self, owner, blocker) -> bool:
        """posix_locks_deadlock: does ``blocker`` (transitively) wait for ``owner``?"""
        seen = 0
        while seen < MAX_DEADLK_ITERATIONS:
            if blocker is owner:
                return True
            nxt = self.waits_for.get(id(blocker))
            if nxt is None:
                return False
            blocker = nxt[1]
            seen += 1
        return False

    def set_waiting(self, owner, blocker):
        self.waits_for[id(owner)] = (owner, blocker)

    def done_waiting(self, owner):
        self.waits_for.pop(id(owner), None)


class InodeLocks:
    """The locks of one inode."""

    def __init__(self):
        self.records: list = []     # RecordLock, sorted by start
        self.flocks: list = []      # (file, LOCK_SH or LOCK_EX)
        self.waitq = Queue()

    # -- record locks ----------------------------------------------------------------
    def conflict(self, owner, type_, start, end):
        """The first lock that keeps ``owner`` from taking ``type_`` on [start, end]."""
        for lk in self.records:
            if lk.conflicts(owner, type_, start, end):
                return lk
        return None

    def set(self, owner, pid, type_, start, end, ofd):
        """Apply a lock or an unlock (F_UNLCK) for ``owner`` over [start, end]: the
        owner's own locks there are replaced or split, and a new lock merges with the
        owner's locks of the same type that it touches (no conflict check here)."""
        kept = []
        for lk in self.records:
            if lk.owner is not owner or not lk.overlaps(start, end):
                kept.append(lk)
                continue
            if lk.start < start:
                kept.append(RecordLock(owner, lk.pid, lk.type, lk.start, start - 1, lk.ofd))
            if lk.end > end:
                kept.append(RecordLock(owner, lk.pid, lk.type, end + 1, lk.end, lk.ofd))
        if type_ != F_UNLCK:
            new = RecordLock(owner, pid, type_, start, end, ofd)
            rest = []
            for lk in kept:
                if (lk.owner is owner and lk.type == type_
                        and (lk.end + 1 == new.start or new.end + 1 == lk.start)):
                    new.start, new.end = min(new.start, lk.start), max(new.end, lk.end)
                else:
                    rest.append(lk)
            kept = rest + [new]
        self.records = sorted(kept, key=lambda lk: (lk.start, lk.end))
        self.waitq.notify()

    def remove_posix(self, owner):
        """Every POSIX lock of ``owner`` goes (a close of any fd of the inode)."""
        before = len(self.records)
        self.records = [lk for lk in self.records if lk.owner is not owner or lk.ofd]
        if len(self.records) != before:
            self.waitq.notify()

    def remove_file(self, file):
        """The description's OFD and flock locks go (its last reference)."""
        before = len(self.records) + len(self.flocks)
        self.records = [lk for lk in self.records if lk.owner is not file]
        self.flocks = [(f, k) for f, k in self.flocks if f is not file]
        if len(self.records) + len(self.flocks) != before:
            self.waitq.notify()

    # -- flock -------------------------------------------------------------------------
    def flock(self, file, op: int):
        """LOCK_SH/LOCK_EX/LOCK_UN for ``file``; raises EWOULDBLOCK (EAGAIN) on conflict.
        A conversion drops the old lock first, as Linux does."""
        had = [k for f, k in self.flocks if f is file]
        if had:
            self.flocks = [(f, k) for f, k in self.flocks if f is not file]
            self.waitq.notify()
        if op == LOCK_UN:
            return
        for f, k in self.flocks:
            if k == LOCK_EX or op == LOCK_EX:
                raise SyscallError(errno.EAGAIN)
        self.flocks.append((file, op))


def _holder(file):
    """What carries a file's locks: its inode (the description itself for the few
    files without one, the console)."""
    return file.inode if file.inode is not None else file


def locks_of(file, create=False) -> InodeLocks | None:
    """The lock state of ``file``'s inode (made on first use with ``create``)."""
    holder = _holder(file)
    locks = getattr(holder, "file_locks", None)
    if locks is None and create:
        locks = holder.file_locks = InodeLocks()
    return locks


def file_released(file):
    """The last reference to ``file`` went: its OFD and flock locks go."""
    locks = getattr(_holder(file), "file_locks", None)
    if locks is not None:
        locks.remove_file(file)


def fd_closed(files, file):
    """An fd of ``files`` (an fd table) naming ``file`` was closed: the table's POSIX
    locks on the inode go (locks_remove_posix)."""
    locks = getattr(_holder(file), "file_locks", None)
    if locks is not None and locks.records:
        locks.remove_posix(files)


__all__ = ["InodeLocks", "LockContext", "RecordLock", "locks_of", "file_released", "fd_closed",
           "OFFSET_MAX", "LOCK_SH", "LOCK_EX", "LOCK_NB", "LOCK_UN", "F_RDLCK", "F_WRLCK", "F_UNLCK"]
