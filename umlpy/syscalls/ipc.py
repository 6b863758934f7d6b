"""System V IPC: shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
msgget/msgsnd/msgrcv/msgctl.

The objects and their namespace are :mod:`umlpy.kernel.ipc`; here are the calls, with
Linux's argument checks and errnos (ipc/shm.c, ipc/sem.c, ipc/msg.c).  Only the 64-bit
structures exist on x86-64: the IPC_64 bit libc adds to ctl commands is ignored.
"""

import errno
import struct

from umlpy.abi import ipc as I
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE
from umlpy.errors import SyscallError
from umlpy.kernel.ipc import IpcNamespace, MsgQueue, SemSet, ShmSegment
from umlpy.kernel.restart import RestartBlock
from umlpy.mm.shared import SharedObject
from umlpy.waiter import Queue, WouldBlock

from .table import enosys, partial, supported

E = SyscallError
PAGE = 4096
_R, _W = 0o444, 0o222


def _ns(t) -> IpcNamespace:
    k = t.kernel
    if k.ipc is None:
        k.ipc = IpcNamespace(k)
    return k.ipc


def _cmd(a, i) -> int:
    return a.int(i) & ~I.IPC_64


# --- shared memory ---------------------------------------------------------------------

def shmget(t, a):
    """Shmget implements shmget(2)."""
    key, size, flags = a.int(0), a.u64(1), a.int(2)
    ns = _ns(t)

    def make(perm, oid):
        if size < I.SHMMIN or size > I.SHMMAX:
            raise E(errno.EINVAL)
        npages = -(-size // PAGE)
        if npages * PAGE > t.kernel.memory_limit:
            raise E(errno.ENOMEM)
        seg = ShmSegment(oid, perm, ns.now())
        seg.size = size
        seg.so = SharedObject(t.kernel.frames, name="/SYSV%08x (deleted)" % (perm.key & 0xFFFFFFFF))
        seg.so.size_pages = npages
        seg.so.get()                         # the namespace's reference
        seg.atime = seg.dtime = 0
        seg.cpid, seg.lpid = t.group.tgid, 0
        return seg

    def existing(seg):
        if size > seg.size:
            raise E(errno.EINVAL)

    return ns.get(ns.shm, t, key, flags, make, existing)


def _segment(t, shmid):
    seg = _ns(t).shm.find(shmid)
    if seg.so.released:                      # removed and last detached: gone
        _ns(t).shm.drop(seg)
        raise E(errno.EINVAL)
    return seg


def shmat(t, a):
    """Shmat implements shmat(2): the segment mapped MAP_SHARED (read-only with
    SHM_RDONLY); an address rounded down with SHM_RND, replacing mappings only with
    SHM_REMAP."""
    shmid, addr, flags = a.int(0), a.ptr(1), a.int(2)
    ns = _ns(t)
    seg = _segment(t, shmid)
    if addr:
        if addr & (I.SHMLBA - 1):
            if not flags & I.SHM_RND:
                raise E(errno.EINVAL)
            addr &= ~(I.SHMLBA - 1)
            if not addr:
                raise E(errno.EINVAL)
    elif flags & I.SHM_REMAP:
        raise E(errno.EINVAL)
    if flags & I.SHM_RDONLY:
        prot, want = PROT_READ, _R
    else:
        prot, want = PROT_READ | PROT_WRITE, _R | _W
    if flags & I.SHM_EXEC:
        prot |= PROT_EXEC
    ns.check(t, seg, want)
    length = -(-seg.size // PAGE) * PAGE
    mflags = MAP_SHARED | MAP_ANONYMOUS
    if addr:
        if not flags & I.SHM_REMAP and not t.mm.vmas.is_free(addr, addr + length):
            raise E(errno.EINVAL)
        mflags |= MAP_FIXED
    got = t.mm.mmap(addr, length, prot, mflags, shared_obj=seg.so, max_prot=prot,
                    name=seg.so.name)
    seg.atime = ns.now()
    seg.lpid = t.group.tgid
    return got


def shmdt(t, a):
    """Shmdt implements shmdt(2): unmaps the attachment that starts at ``addr``."""
    addr = a.ptr(0)
    if addr & (PAGE - 1):
        raise E(errno.EINVAL)
    ns = _ns(t)
    vma = t.mm.find_vma(addr)
    seg = None
    if vma is not None and vma.start == addr and vma.shared_obj is not None:
        seg = next((s for s in ns.shm.objects.values() if s.so is vma.shared_obj), None)
    if seg is None:
        raise E(errno.EINVAL)
    end = addr + -(-seg.size // PAGE) * PAGE
    # Every mapping of the segment from addr to its size's end (an attachment split by
    # mprotect is several VMAs).
    pos = addr
    while pos < end:
        v = t.mm.find_vma(pos)
        if v is None or v.start != pos or v.shared_obj is not seg.so:
            break
        pos = min(v.end, end)
    t.mm.munmap(addr, pos - addr)
    seg.dtime = ns.now()
    seg.lpid = t.group.tgid
    if seg.so.released:
        ns.shm.drop(seg)
    return 0


def _pack_shm(seg) -> bytes:
    return seg.perm.pack() + I.SHMID64_DS_TAIL.pack(seg.size, seg.atime, seg.dtime, seg.ctime, seg.cpid,
                                                    seg.lpid, seg.nattch, 0, 0)


def shmctl(t, a):
    """Shmctl implements shmctl(2): IPC_STAT/SET/RMID/INFO, SHM_INFO/STAT/STAT_ANY,
    SHM_LOCK/UNLOCK (bookkeeping: guest memory is never swapped)."""
    shmid, cmd, buf = a.int(0), _cmd(a, 1), a.ptr(2)
    ns = _ns(t)
    if cmd == I.IPC_INFO:
        t.mm.write(buf, I.SHMINFO64.pack(I.SHMMAX, I.SHMMIN, I.SHMMNI, I.SHMSEG, I.SHMALL, 0, 0, 0, 0))
        return ns.shm.max_index()
    if cmd == I.SHM_INFO:
        segs = [s for s in ns.shm.objects.values() if not s.so.released]
        rss = sum(len(s.so.pages) for s in segs)
        tot = sum(-(-s.size // PAGE) for s in segs)
        t.mm.write(buf, I.SHM_INFO_STRUCT.pack(len(segs), tot, rss, 0, 0, 0))
        return ns.shm.max_index()
    if cmd in (I.SHM_STAT, I.SHM_STAT_ANY):
        seg = ns.shm.objects.get(shmid)
        if seg is None or seg.so.released:
            raise E(errno.EINVAL)
        if cmd == I.SHM_STAT:
            ns.check(t, seg, _R)
        t.mm.write(buf, _pack_shm(seg))
        return seg.id
    seg = _segment(t, shmid)
    if cmd == I.IPC_STAT:
        ns.check(t, seg, _R)
        t.mm.write(buf, _pack_shm(seg))
        return 0
    if cmd == I.IPC_SET:
        _, uid, gid, _, _, mode = I.IPC64_PERM.unpack(t.mm.read(buf, I.IPC64_PERM.size))[:6]
        ns.set_perm(t, seg, uid, gid, mode)
        return 0
    if cmd == I.IPC_RMID:
        ns.check_owner(t, seg)
        if not seg.removed:
            seg.removed = True
            seg.perm.mode |= I.SHM_DEST
            if ns.shm.by_key.get(seg.perm.key) is seg:
                del ns.shm.by_key[seg.perm.key]
            seg.perm.key = I.IPC_PRIVATE
            seg.so.put()                     # the frames go with the last mapping
            if seg.so.released:
                ns.shm.drop(seg)
        return 0
    if cmd in (I.SHM_LOCK, I.SHM_UNLOCK):
        if t.creds.euid != 0 and t.creds.euid not in (seg.perm.uid, seg.perm.cuid):
            raise E(errno.EPERM)
        if cmd == I.SHM_LOCK:
            seg.perm.mode |= I.SHM_LOCKED
        else:
            seg.perm.mode &= ~I.SHM_LOCKED
        return 0
    raise E(errno.EINVAL)


# --- semaphores --------------------------------------------------------------------------

def semget(t, a):
    """Semget implements semget(2)."""
    key, nsems, flags = a.int(0), a.int(1), a.int(2)
    ns = _ns(t)
    if nsems < 0 or nsems > I.SEMMSL:
        raise E(errno.EINVAL)

    def make(perm, oid):
        if nsems == 0:
            raise E(errno.EINVAL)
        s = SemSet(oid, perm, ns.now())
        s.values = [0] * nsems
        s.pids = [0] * nsems
        s.otime = 0
        s.waitq = Queue()
        s.waiting = []                      # (task, ops) of the tasks waiting in semop
        return s

    def existing(s):
        if nsems > len(s.values):
            raise E(errno.EINVAL)

    return ns.get(ns.sem, t, key, flags, make, existing)


class _SemWait(RestartBlock):
    """A semop waiting for its set to change: its deadline (semtimedop) and its entry in
    the set's list of waiters (GETNCNT/GETZCNT)."""

    __slots__ = ("deadline", "entry", "sems")

    def __init__(self, deadline):
        self.deadline = deadline
        self.entry = None
        self.sems = None

    def cancel(self):
        if self.entry is not None and self.entry in self.sems.waiting:
            self.sems.waiting.remove(self.entry)
        self.entry = None


def _semop(t, semid, sops_ptr, nsops, timeout_ptr):
    if nsops < 1:
        raise E(errno.EINVAL)
    if nsops > I.SEMOPM:
        raise E(errno.E2BIG)
    raw = t.mm.read(sops_ptr, I.SEMBUF.size * nsops)
    ops = [I.SEMBUF.unpack_from(raw, i * I.SEMBUF.size) for i in range(nsops)]
    k = t.kernel
    rb = t.restart_block
    if not isinstance(rb, _SemWait):
        deadline = None
        if timeout_ptr:
            sec, nsec = struct.unpack("<qq", t.mm.read(timeout_ptr, 16))
            if sec < 0 or not 0 <= nsec < 10 ** 9:
                raise E(errno.EINVAL)
            deadline = k.now_ns() + sec * 10 ** 9 + nsec
        rb = None
    ns = _ns(t)
    try:
        s = ns.sem.find(semid)
    except SyscallError:
        if rb is not None:
            raise E(errno.EIDRM) from None      # removed while we waited
        raise
    if rb is not None:
        rb.cancel()
    n = len(s.values)
    if any(num >= n for num, _, _ in ops):
        raise E(errno.EFBIG)
    alters = any(op for _, op, _ in ops)
    ns.check(t, s, _R | _W if alters else _R)
    # Try the whole array on a copy: all or nothing.
    vals = list(s.values)
    for num, op, flg in ops:
        if op > 0:
            if vals[num] + op > I.SEMVMX:
                raise E(errno.ERANGE)
            vals[num] += op
        elif op < 0:
            if vals[num] < -op:
                break
            vals[num] += op
        elif vals[num] != 0:
            break
    else:
        s.values = vals
        tgid = t.group.tgid
        for num, op, flg in ops:
            s.pids[num] = tgid
            if flg & I.SEM_UNDO and op:
                undo = ns.undo.setdefault(tgid, {})
                undo[(s.id, num)] = undo.get((s.id, num), 0) - op
        s.otime = ns.now()
        if alters:
            s.waitq.notify()
        return 0
    blocking = (num, op, flg)
    if blocking[2] & I.IPC_NOWAIT:
        raise E(errno.EAGAIN)
    if rb is None:
        rb = t.restart_block = _SemWait(deadline)
    if rb.deadline is not None and k.now_ns() >= rb.deadline:
        raise E(errno.EAGAIN)
    rb.sems = s
    rb.entry = (t, blocking[0], blocking[1])
    s.waiting.append(rb.entry)
    raise WouldBlock(s.waitq, deadline=rb.deadline)


def semop(t, a):
    """Semop implements semop(2): every operation or none; EINTR when a signal ends the wait."""
    return _semop(t, a.int(0), a.ptr(1), a.size(2), 0)


def semtimedop(t, a):
    """Semtimedop implements semtimedop(2): EAGAIN when the timeout passes."""
    return _semop(t, a.int(0), a.ptr(1), a.size(2), a.ptr(3))


def _pack_sem(s) -> bytes:
    return s.perm.pack() + I.SEMID64_DS_TAIL.pack(s.otime, 0, s.ctime, 0, len(s.values), 0, 0)


def semctl(t, a):
    """Semctl implements semctl(2)."""
    semid, num, cmd, arg = a.int(0), a.int(1), _cmd(a, 2), a.u64(3)
    ns = _ns(t)
    if cmd in (I.IPC_INFO, I.SEM_INFO):
        used = len(ns.sem.objects)
        info = I.SEMINFO.pack(I.SEMMAP if cmd == I.IPC_INFO else used, I.SEMMNI, I.SEMMNS,
                              I.SEMMNU, I.SEMMSL, I.SEMOPM, I.SEMUME, 16,
                              I.SEMVMX, I.SEMAEM if cmd == I.IPC_INFO else
                              sum(len(s.values) for s in ns.sem.objects.values()))
        t.mm.write(arg, info)
        return ns.sem.max_index()
    if cmd in (I.SEM_STAT, I.SEM_STAT_ANY):
        s = ns.sem.objects.get(semid)
        if s is None:
            raise E(errno.EINVAL)
        if cmd == I.SEM_STAT:
            ns.check(t, s, _R)
        t.mm.write(arg, _pack_sem(s))
        return s.id
    s = ns.sem.find(semid)
    n = len(s.values)
    if cmd == I.IPC_STAT:
        ns.check(t, s, _R)
        t.mm.write(arg, _pack_sem(s))
        return 0
    if cmd == I.IPC_SET:
        _, uid, gid, _, _, mode = I.IPC64_PERM.unpack(t.mm.read(arg, I.IPC64_PERM.size))[:6]
        ns.set_perm(t, s, uid, gid, mode)
        return 0
    if cmd == I.IPC_RMID:
        ns.check_owner(t, s)
        ns.sem.drop(s)
        s.removed = True
        for undo in ns.undo.values():
            for key in [key for key in undo if key[0] == s.id]:
                del undo[key]
        s.waitq.notify()                    # waiters find it gone: EIDRM
        return 0
    if cmd in (I.GETVAL, I.GETPID, I.GETNCNT, I.GETZCNT):
        ns.check(t, s, _R)
        if not 0 <= num < n:
            raise E(errno.EINVAL)
        if cmd == I.GETVAL:
            return s.values[num]
        if cmd == I.GETPID:
            return s.pids[num]
        neg = cmd == I.GETNCNT
        return sum(1 for _, wnum, op in s.waiting if wnum == num and ((op < 0) if neg else (op == 0)))
    if cmd == I.GETALL:
        ns.check(t, s, _R)
        t.mm.write(arg, struct.pack("<%dH" % n, *s.values))
        return 0
    if cmd in (I.SETVAL, I.SETALL):
        ns.check(t, s, _W)
        if cmd == I.SETVAL:
            if not 0 <= num < n:
                raise E(errno.EINVAL)
            val = arg & 0xFFFFFFFF
            val = val - (1 << 32) if val >> 31 else val
            if not 0 <= val <= I.SEMVMX:
                raise E(errno.ERANGE)
            s.values[num] = val
            s.pids[num] = t.group.tgid
            changed = [num]
        else:
            vals = list(struct.unpack("<%dH" % n, t.mm.read(arg, 2 * n)))
            if any(v > I.SEMVMX for v in vals):
                raise E(errno.ERANGE)
            s.values = vals
            s.pids = [t.group.tgid] * n
            changed = range(n)
        for undo in ns.undo.values():          # set values cancel pending adjustments
            for c in changed:
                undo.pop((s.id, c), None)
        s.ctime = ns.now()
        s.waitq.notify()
        return 0
    raise E(errno.EINVAL)


# --- message queues --------------------------------------------------------------------

def msgget(t, a):
    """Msgget implements msgget(2)."""
    key, flags = a.int(0), a.int(1)
    ns = _ns(t)

    def make(perm, oid):
        q = MsgQueue(oid, perm, ns.now())
        q.messages = []                     # [(mtype, bytes)]
        q.qbytes, q.cbytes = I.MSGMNB, 0
        q.stime = q.rtime = 0
        q.lspid = q.lrpid = 0
        q.waitq = Queue()
        return q

    return ns.get(ns.msg, t, key, flags, make)


def _queue(t, msqid, was_waiting):
    try:
        return _ns(t).msg.find(msqid)
    except SyscallError:
        if was_waiting:
            raise E(errno.EIDRM) from None
        raise


class _MsgWait(RestartBlock):
    __slots__ = ()


def msgsnd(t, a):
    """Msgsnd implements msgsnd(2): waits while the queue is full (EAGAIN with IPC_NOWAIT)."""
    msqid, ptr, size, flags = a.int(0), a.ptr(1), a.long(2), a.int(3)
    waited = isinstance(t.restart_block, _MsgWait)
    if size < 0 or size > I.MSGMAX:
        raise E(errno.EINVAL)
    ns = _ns(t)
    q = _queue(t, msqid, waited)
    mtype = struct.unpack("<q", t.mm.read(ptr, 8))[0]
    if mtype < 1:
        raise E(errno.EINVAL)
    ns.check(t, q, _W)
    text = t.mm.read(ptr + 8, size)
    if q.cbytes + size > q.qbytes or len(q.messages) + 1 > q.qbytes:
        if flags & I.IPC_NOWAIT:
            raise E(errno.EAGAIN)
        t.restart_block = _MsgWait()
        raise WouldBlock(q.waitq)
    q.messages.append((mtype, text))
    q.cbytes += size
    q.lspid, q.stime = t.group.tgid, ns.now()
    q.waitq.notify()
    return 0


def _pick(q, msgtyp, flags):
    for i, (mtype, _) in enumerate(q.messages):
        if msgtyp == 0:
            return i
        if msgtyp > 0 and ((mtype != msgtyp) if flags & I.MSG_EXCEPT else (mtype == msgtyp)):
            return i
    if msgtyp < 0:
        best = None
        for i, (mtype, _) in enumerate(q.messages):
            if mtype <= -msgtyp and (best is None or mtype < q.messages[best][0]):
                best = i
        return best
    return None


def msgrcv(t, a):
    """Msgrcv implements msgrcv(2): by type (0: the first, > 0: that type or with
    MSG_EXCEPT any other, < 0: the lowest type up to |msgtyp|); E2BIG for a longer message
    unless MSG_NOERROR truncates it; ENOMSG with IPC_NOWAIT; MSG_COPY with IPC_NOWAIT
    copies message number ``msgtyp`` without taking it."""
    msqid, ptr, size, msgtyp, flags = a.int(0), a.ptr(1), a.long(2), a.long(3), a.int(4)
    waited = isinstance(t.restart_block, _MsgWait)
    if size < 0:
        raise E(errno.EINVAL)
    if flags & I.MSG_COPY and (not flags & I.IPC_NOWAIT or flags & I.MSG_EXCEPT):
        raise E(errno.EINVAL)
    ns = _ns(t)
    q = _queue(t, msqid, waited)
    ns.check(t, q, _R)
    if flags & I.MSG_COPY:
        i = msgtyp if 0 <= msgtyp < len(q.messages) else None
    else:
        i = _pick(q, msgtyp, flags)
    if i is None:
        if flags & I.IPC_NOWAIT:
            raise E(errno.ENOMSG)
        t.restart_block = _MsgWait()
        raise WouldBlock(q.waitq)
    mtype, text = q.messages[i]
    if len(text) > size:
        if not flags & I.MSG_NOERROR:
            raise E(errno.E2BIG)
        text = text[:size]
    t.mm.write(ptr, struct.pack("<q", mtype) + text)
    if not flags & I.MSG_COPY:
        full = q.messages.pop(i)[1]
        q.cbytes -= len(full)
        q.lrpid, q.rtime = t.group.tgid, ns.now()
        q.waitq.notify()
    return len(text)


def _pack_msq(q) -> bytes:
    return q.perm.pack() + I.MSQID64_DS_TAIL.pack(q.stime, q.rtime, q.ctime, q.cbytes, len(q.messages),
                                                  q.qbytes, q.lspid, q.lrpid, 0, 0)


def msgctl(t, a):
    """Msgctl implements msgctl(2): IPC_STAT/SET (qbytes above MSGMNB needs root)/RMID/INFO,
    MSG_INFO/STAT/STAT_ANY."""
    msqid, cmd, buf = a.int(0), _cmd(a, 1), a.ptr(2)
    ns = _ns(t)
    if cmd in (I.IPC_INFO, I.MSG_INFO):
        qs = list(ns.msg.objects.values())
        if cmd == I.IPC_INFO:
            info = I.MSGINFO.pack(I.MSGPOOL, I.MSGMAP, I.MSGMAX, I.MSGMNB, I.MSGMNI, I.MSGSSZ, I.MSGTQL, I.MSGSEG)
        else:
            info = I.MSGINFO.pack(len(qs), sum(len(q.messages) for q in qs), I.MSGMAX, I.MSGMNB, I.MSGMNI,
                                  I.MSGSSZ, sum(q.cbytes for q in qs), I.MSGSEG)
        t.mm.write(buf, info)
        return ns.msg.max_index()
    if cmd in (I.MSG_STAT, I.MSG_STAT_ANY):
        q = ns.msg.objects.get(msqid)
        if q is None:
            raise E(errno.EINVAL)
        if cmd == I.MSG_STAT:
            ns.check(t, q, _R)
        t.mm.write(buf, _pack_msq(q))
        return q.id
    q = ns.msg.find(msqid)
    if cmd == I.IPC_STAT:
        ns.check(t, q, _R)
        t.mm.write(buf, _pack_msq(q))
        return 0
    if cmd == I.IPC_SET:
        raw = t.mm.read(buf, 48 + I.MSQID64_DS_TAIL.size)
        _, uid, gid, _, _, mode = I.IPC64_PERM.unpack_from(raw)[:6]
        qbytes = I.MSQID64_DS_TAIL.unpack_from(raw, 48)[5]
        ns.check_owner(t, q)
        if qbytes > I.MSGMNB and t.creds.euid != 0:
            raise E(errno.EPERM)
        ns.set_perm(t, q, uid, gid, mode)
        q.qbytes = qbytes
        q.waitq.notify()
        return 0
    if cmd == I.IPC_RMID:
        ns.check_owner(t, q)
        ns.msg.drop(q)
        q.removed = True
        q.waitq.notify()                    # waiters find it gone: EIDRM
        return 0
    raise E(errno.EINVAL)


FAMILY = [
    partial("shmget", shmget, "no SHM_HUGETLB; segments count against the guest's memory only as touched"),
    supported("shmat", shmat),
    supported("shmdt", shmdt),
    partial("shmctl", shmctl, "SHM_LOCK/SHM_UNLOCK only mark the segment (guest memory is never swapped)"),
    supported("semget", semget),
    supported("semop", semop),
    supported("semtimedop", semtimedop),
    supported("semctl", semctl),
    supported("msgget", msgget),
    supported("msgsnd", msgsnd),
    supported("msgrcv", msgrcv),
    supported("msgctl", msgctl),
] + [enosys(name, "POSIX message queues are not implemented (System V message queues are: msgget...)")
     for name in ("mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr")]
