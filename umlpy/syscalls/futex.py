"""futex(2): wait queues keyed by (address space, address).

One vCPU runs one task at a time, so the compare-and-block of FUTEX_WAIT is
atomic by construction: no other guest code runs between the read of the
futex word and the parking of the task.
"""

import errno
import struct

from umlpy.errors import SyscallError
from umlpy.fs.file import WaitQueue, WouldBlock

from .table import partial

E = SyscallError
from umlpy.abi.futex import (FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE,
                              FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE,
                              FUTEX_WAKE_BITSET, FUTEX_WAKE_OP)


class _Waiter:
    __slots__ = ("wq", "bitset", "task")

    def __init__(self, task, bitset):
        self.wq = WaitQueue()
        self.bitset = bitset
        self.task = task

    def notify(self):
        self.wq.notify()


def _queues(mm):
    q = getattr(mm, "futex_queues", None)
    if q is None:
        q = mm.futex_queues = {}
    return q


def _wake(mm, addr, n, bitset=FUTEX_BITSET_MATCH_ANY):
    q = _queues(mm)
    waiters = q.get(addr)
    if not waiters:
        return 0
    woken = 0
    keep = []
    for w in waiters:
        if woken < n and w.bitset & bitset:
            w.task.futex_woken = True
            w.notify()
            woken += 1
        else:
            keep.append(w)
    if keep:
        q[addr] = keep
    else:
        del q[addr]
    return woken


def futex(t, a):
    """Futex implements futex(2): WAIT, WAKE, the BITSET variants, REQUEUE, WAKE_OP."""
    addr, op, val, timeout, addr2, val3 = a.ptr(0), a.int(1), a.uint(2), a.ptr(3), a.ptr(4), a.uint(5)
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    if addr % 4:
        raise E(errno.EINVAL)
    mm = t.mm
    k = t.kernel
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else val3
        if bitset == 0:
            raise E(errno.EINVAL)
        w = getattr(t, "futex_wait", None)
        if w is not None:
            # Re-run after a wake-up or the timeout.
            t.futex_wait = None
            if getattr(t, "futex_woken", False):
                t.futex_woken = False
                return 0
            raise E(errno.ETIMEDOUT)
        cur = struct.unpack("<I", mm.read(addr, 4))[0]
        if cur != val:
            raise E(errno.EAGAIN)
        waiter = _Waiter(t, bitset)
        _queues(mm).setdefault(addr, []).append(waiter)
        t.futex_wait = waiter
        t.futex_woken = False
        if timeout:
            sec, nsec = struct.unpack("<qq", mm.read(timeout, 16))
            if sec < 0 or not 0 <= nsec < 10 ** 9:
                _drop(mm, addr, waiter)
                t.futex_wait = None
                raise E(errno.EINVAL)
            ns = sec * 10 ** 9 + nsec
            if cmd == FUTEX_WAIT_BITSET:       # absolute
                now = k.realtime_ns() if op & FUTEX_CLOCK_REALTIME else k.now_ns()
                ns = max(0, ns - now)
            tw = k.add_timer(k.now_ns() + ns)
            tw.add(lambda: _timeout(mm, addr, waiter))
        t.futex_cleanup = lambda: _drop(mm, addr, waiter)
        raise WouldBlock(waiter.wq)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3
        if bitset == 0:
            raise E(errno.EINVAL)
        return _wake(mm, addr, val, bitset)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        if cmd == FUTEX_CMP_REQUEUE:
            cur = struct.unpack("<I", mm.read(addr, 4))[0]
            if cur != val3:
                raise E(errno.EAGAIN)
        nwake, nreq = val, timeout & 0x7FFFFFFF
        woken = _wake(mm, addr, nwake)
        q = _queues(mm)
        moved = q.pop(addr, [])[:nreq]
        rest = q.get(addr, [])
        if moved:
            q.setdefault(addr2, []).extend(moved)
        if rest == []:
            q.pop(addr, None)
        return woken + len(moved)
    if cmd == FUTEX_WAKE_OP:
        old = struct.unpack("<I", mm.read(addr2, 4))[0]
        opc, cmp_, oparg, cmparg = (val3 >> 28) & 0xF, (val3 >> 24) & 0xF, (val3 >> 12) & 0xFFF, val3 & 0xFFF
        if opc & 8:
            oparg = 1 << oparg
            opc &= 7
        new = {0: oparg, 1: old + oparg, 2: old | oparg, 3: old & ~oparg, 4: old ^ oparg}.get(opc)
        if new is None:
            raise E(errno.ENOSYS)
        mm.write(addr2, struct.pack("<I", new & 0xFFFFFFFF))
        woken = _wake(mm, addr, val)
        s_old = old - (1 << 32) if old & 0x80000000 else old
        ok = {0: s_old == cmparg, 1: s_old != cmparg, 2: s_old < cmparg, 3: s_old <= cmparg,
              4: s_old > cmparg, 5: s_old >= cmparg}.get(cmp_)
        if ok is None:
            raise E(errno.ENOSYS)
        if ok:
            woken += _wake(mm, addr2, timeout & 0x7FFFFFFF)
        return woken
    raise E(errno.ENOSYS)


def _drop(mm, addr, waiter):
    q = _queues(mm)
    lst = q.get(addr)
    if lst and waiter in lst:
        lst.remove(waiter)
        if not lst:
            del q[addr]


def _timeout(mm, addr, waiter):
    _drop(mm, addr, waiter)
    waiter.notify()


FAMILY = [
    partial("futex", futex, "no PI futexes, no FUTEX_FD"),
]
