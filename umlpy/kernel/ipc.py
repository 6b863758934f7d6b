"""System V IPC objects of the guest machine (one IPC namespace): shared memory
segments, semaphore sets and message queues (ipc/shm.c, ipc/sem.c, ipc/msg.c).

Every object has an id (``index + seq * IPCMNI``, as ipc_buildid makes them, so a
removed id is not soon given out again), a key (IPC_PRIVATE objects are found by id
only) and an :class:`IpcPerm`.  The system calls are :mod:`umlpy.syscalls.ipc`.

- A shared memory segment is an anonymous :class:`~umlpy.mm.shared.SharedObject`;
  shmat maps it MAP_SHARED into the caller.  The namespace holds one reference while the
  segment is not removed; every VMA that maps it holds one more (fork and VMA splits
  included, as Linux's shm_open counts them), so ``shm_nattch`` is the reference count
  less the namespace's own.  IPC_RMID drops that reference: the segment's frames go with
  its last mapping, and its id stays valid (key IPC_PRIVATE, SHM_DEST) until then.
- A semaphore set's values change atomically for a whole semop; a task whose
  operations cannot all proceed waits on the set's queue and tries again when it
  changes.  SEM_UNDO adjustments are kept per process and applied at its exit.
- A message queue holds (type, bytes) messages up to ``qbytes`` bytes.
"""

import errno

from umlpy.abi import ipc as I
from umlpy.errors import SyscallError
from umlpy.waiter import Queue

E = SyscallError


class IpcPerm:
    """struct kern_ipc_perm: key, owner, creator, mode, seq."""

    __slots__ = ("key", "uid", "gid", "cuid", "cgid", "mode", "seq")

    def __init__(self, key, creds, mode, seq):
        self.key = key
        self.uid = self.cuid = creds.euid
        self.gid = self.cgid = creds.egid
        self.mode = mode & 0o777
        self.seq = seq

    def pack(self) -> bytes:
        return I.IPC64_PERM.pack(self.key, self.uid, self.gid, self.cuid, self.cgid, self.mode, 0,
                                 self.seq, 0, 0, 0, 0)


class IpcObject:
    __slots__ = ("id", "perm", "ctime", "removed")

    def __init__(self, oid, perm, now):
        self.id = oid
        self.perm = perm
        self.ctime = now
        self.removed = False


class ShmSegment(IpcObject):
    __slots__ = ("size", "so", "atime", "dtime", "cpid", "lpid")

    @property
    def nattch(self) -> int:
        return self.so.refs - (0 if self.removed else 1)


class SemSet(IpcObject):
    __slots__ = ("values", "pids", "otime", "waitq", "waiting")


class MsgQueue(IpcObject):
    __slots__ = ("messages", "qbytes", "cbytes", "stime", "rtime", "lspid", "lrpid", "waitq")


class IpcTable:
    """The objects of one kind, by index."""

    def __init__(self):
        self.objects = {}           # index -> IpcObject
        self.by_key = {}            # key -> IpcObject (not IPC_PRIVATE, not removed)
        self.seq = 0

    def new_id(self) -> tuple:
        idx = 0
        while idx in self.objects:
            idx += 1
        if idx >= I.IPCMNI:
            raise E(errno.ENOSPC)
        self.seq = (self.seq + 1) % 0x10000
        return idx, idx + self.seq * I.IPCMNI

    def find(self, oid: int):
        """The live object of id ``oid`` (EINVAL if none: Linux's ipc_obtain_object_check)."""
        if oid < 0:
            raise E(errno.EINVAL)
        obj = self.objects.get(oid % I.IPCMNI)
        if obj is None or obj.id != oid:
            raise E(errno.EINVAL)
        return obj

    def drop(self, obj):
        self.objects.pop(obj.id % I.IPCMNI, None)
        if self.by_key.get(obj.perm.key) is obj:
            del self.by_key[obj.perm.key]

    def max_index(self) -> int:
        return max(self.objects, default=0)


class IpcNamespace:
    """The guest's System V IPC objects and the per-process SEM_UNDO adjustments."""

    def __init__(self, kernel):
        self.k = kernel
        self.shm = IpcTable()
        self.sem = IpcTable()
        self.msg = IpcTable()
        self.undo = {}              # tgid -> {(semid, semnum): adjustment}

    # --- shared helpers -------------------------------------------------------------
    def now(self) -> int:
        return self.k.realtime_ns() // 10 ** 9

    def get(self, table, t, key: int, flags: int, make, check_existing=None):
        """ipcget: the id of the object of ``key``, made by ``make(perm, idx, oid)`` when
        IPC_CREAT asks; EEXIST, ENOENT, EACCES as Linux."""
        if key != I.IPC_PRIVATE:
            obj = table.by_key.get(key)
            if obj is not None:
                if flags & I.IPC_CREAT and flags & I.IPC_EXCL:
                    raise E(errno.EEXIST)
                if check_existing is not None:
                    check_existing(obj)
                self.check(t, obj, flags & 0o777)
                return obj.id
            if not flags & I.IPC_CREAT:
                raise E(errno.ENOENT)
        idx, oid = table.new_id()
        obj = make(IpcPerm(key, t.creds, flags, oid // I.IPCMNI), oid)
        table.objects[idx] = obj
        if key != I.IPC_PRIVATE:
            table.by_key[key] = obj
        return oid

    @staticmethod
    def allowed(t, obj, want: int) -> bool:
        """ipcperms: ``want`` (rwx bits in the low 3 of each class, as 0o444/0o222) against
        the owner's, group's or others' bits; root passes (CAP_IPC_OWNER)."""
        c = t.creds
        if c.euid == 0:
            return True
        p = obj.perm
        mode = p.mode
        if c.euid in (p.uid, p.cuid):
            granted = mode >> 6
        elif c.egid in (p.gid, p.cgid) or p.gid in c.groups or p.cgid in c.groups:
            granted = mode >> 3
        else:
            granted = mode
        req = (want | (want >> 3) | (want >> 6)) & 7
        return req & ~granted & 7 == 0

    def check(self, t, obj, want: int):
        if not self.allowed(t, obj, want):
            raise E(errno.EACCES)

    @staticmethod
    def check_owner(t, obj):
        """IPC_SET/IPC_RMID: the owner, the creator or root; EPERM."""
        c = t.creds
        if c.euid != 0 and c.euid not in (obj.perm.uid, obj.perm.cuid):
            raise E(errno.EPERM)

    def set_perm(self, t, obj, uid: int, gid: int, mode: int):
        self.check_owner(t, obj)
        obj.perm.uid, obj.perm.gid = uid, gid
        obj.perm.mode = (obj.perm.mode & ~0o777) | (mode & 0o777)
        obj.ctime = self.now()

    # --- exit ---------------------------------------------------------------------------
    def process_exit(self, g):
        """A process ended: apply its SEM_UNDO adjustments (clamped to [0, SEMVMX])."""
        undo = self.undo.pop(g.tgid, None)
        if not undo:
            return
        for (semid, num), adj in undo.items():
            try:
                s = self.sem.find(semid)
            except SyscallError:
                continue
            s.values[num] = min(max(s.values[num] + adj, 0), I.SEMVMX)
            s.pids[num] = g.tgid
            s.waitq.notify()
