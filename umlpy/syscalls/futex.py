"""futex(2).  The waiters and their keys are the kernel's (umlpy.kernel.futex);
a waiting call's restart block is its FutexWaiter."""

import errno
import struct

from umlpy.errors import SyscallError
from umlpy.kernel.futex import FutexWaiter, futex_key
from umlpy.waiter import WouldBlock

from .table import partial

E = SyscallError
from umlpy.abi.futex import (FUTEX_BITSET_MATCH_ANY, FUTEX_CLOCK_REALTIME, FUTEX_CMP_REQUEUE,
                              FUTEX_PRIVATE_FLAG, FUTEX_REQUEUE, FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_WAKE,
                              FUTEX_WAKE_BITSET, FUTEX_WAKE_OP)


def futex(t, a):
    """Futex implements futex(2): WAIT, WAKE, the BITSET variants, REQUEUE, WAKE_OP."""
    addr, op, val, timeout, addr2, val3 = a.ptr(0), a.int(1), a.uint(2), a.ptr(3), a.ptr(4), a.uint(5)
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    private = bool(op & FUTEX_PRIVATE_FLAG)
    if addr % 4:
        raise E(errno.EINVAL)
    mm = t.mm
    k = t.kernel
    table = k.futexes
    if cmd in (FUTEX_WAIT, FUTEX_WAIT_BITSET):
        w = t.restart_block
        if isinstance(w, FutexWaiter):
            # Run again after a wake-up, the deadline, or a spurious notification.
            if w.woken:
                return 0
            if w.deadline is not None and k.now_ns() >= w.deadline:
                table.remove(w)
                raise E(errno.ETIMEDOUT)
            raise WouldBlock(w.queue, deadline=w.deadline)
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAIT else val3
        if bitset == 0:
            raise E(errno.EINVAL)
        deadline = None
        if timeout:
            sec, nsec = struct.unpack("<qq", mm.read(timeout, 16))
            if sec < 0 or not 0 <= nsec < 10 ** 9:
                raise E(errno.EINVAL)
            ns = sec * 10 ** 9 + nsec
            if cmd == FUTEX_WAIT_BITSET:       # absolute
                now = k.realtime_ns() if op & FUTEX_CLOCK_REALTIME else k.now_ns()
                ns = max(0, ns - now)
            deadline = k.now_ns() + ns
        cur = struct.unpack("<I", mm.read(addr, 4))[0]
        if cur != val:
            raise E(errno.EAGAIN)
        w = FutexWaiter(table, futex_key(mm, addr, private), bitset, deadline)
        table.enqueue(w)
        t.restart_block = w
        raise WouldBlock(w.queue, deadline=deadline)
    if cmd in (FUTEX_WAKE, FUTEX_WAKE_BITSET):
        bitset = FUTEX_BITSET_MATCH_ANY if cmd == FUTEX_WAKE else val3
        if bitset == 0:
            raise E(errno.EINVAL)
        return table.wake(mm, addr, val, bitset, private)
    if cmd in (FUTEX_REQUEUE, FUTEX_CMP_REQUEUE):
        if cmd == FUTEX_CMP_REQUEUE:
            cur = struct.unpack("<I", mm.read(addr, 4))[0]
            if cur != val3:
                raise E(errno.EAGAIN)
        return table.requeue(futex_key(mm, addr, private), futex_key(mm, addr2, private),
                             val, timeout & 0x7FFFFFFF)
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
        woken = table.wake(mm, addr, val, private=private)
        s_old = old - (1 << 32) if old & 0x80000000 else old
        ok = {0: s_old == cmparg, 1: s_old != cmparg, 2: s_old < cmparg, 3: s_old <= cmparg,
              4: s_old > cmparg, 5: s_old >= cmparg}.get(cmp_)
        if ok is None:
            raise E(errno.ENOSYS)
        if ok:
            woken += table.wake(mm, addr2, timeout & 0x7FFFFFFF, private=private)
        return woken
    raise E(errno.ENOSYS)


FAMILY = [
    partial("futex", futex, "no PI futexes, no FUTEX_FD"),
]
