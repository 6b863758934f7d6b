"""Scheduling queries and priorities: get/setpriority, the sched_* calls, capget/capset.

umlpy has one virtual CPU and a round-robin scheduler that ignores priorities, so these
calls keep and report what a process asked for (its nice value, its policy and real-time
priority) with Linux's validation and errnos, without changing how it is scheduled.
Capabilities are derived from the effective uid (root holds every one, others none), as
DESIGN says (no capability sets of their own); capset may only keep or drop, and drops
are remembered per process.
"""

import errno
import struct

from umlpy.abi.sched import (_LINUX_CAPABILITY_VERSION_1, _LINUX_CAPABILITY_VERSION_2,
                             _LINUX_CAPABILITY_VERSION_3, CAP_FULL_SET, MAX_NICE, MAX_USER_RT_PRIO,
                             MIN_NICE, PRIO_PGRP, PRIO_PROCESS, PRIO_USER, RR_TIMESLICE_NS,
                             SCHED_BATCH, SCHED_DEADLINE, SCHED_FIFO, SCHED_IDLE, SCHED_OTHER,
                             SCHED_RESET_ON_FORK, SCHED_RR, SCHED_ATTR_SIZE_VER0, SCHED_ATTR_SIZE_VER1,
                             SCHED_FLAG_ALL, SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_RESET_ON_FORK)
from umlpy.errors import SyscallError

from .table import partial, supported

E = SyscallError
_RT = (SCHED_FIFO, SCHED_RR)
_NORMAL = (SCHED_OTHER, SCHED_BATCH, SCHED_IDLE)
#: The slice sched_rr_get_interval reports for the fair class (one tick of a 250 Hz kernel).
_FAIR_SLICE_NS = 4_000_000


def _process(t, pid: int):
    """The process of task ``pid`` (0: the caller's); ESRCH."""
    if pid == 0:
        return t.group
    tt = t.kernel.tasks.get(pid)
    if tt is None:
        raise E(errno.ESRCH)
    return tt.group


def _prio_targets(t, which: int, who: int) -> list:
    k = t.kernel
    live = [g for g in k.groups.values() if not g.zombie]
    if which == PRIO_PROCESS:
        if who == 0:
            return [t.group]
        tt = k.tasks.get(who)
        return [tt.group] if tt is not None else []
    if which == PRIO_PGRP:
        pgid = who or t.group.pgid
        return [g for g in live if g.pgid == pgid]
    if which == PRIO_USER:
        uid = who if who else t.creds.uid
        return [g for g in live if g.creds.uid == uid]
    raise E(errno.EINVAL)


def getpriority(t, a):
    """Getpriority implements getpriority(2): 20 - nice of the highest-priority target
    (the raw system call's form; libc turns it back into a nice value)."""
    groups = _prio_targets(t, a.int(0), a.int(1))
    if not groups:
        raise E(errno.ESRCH)
    return max(20 - g.nice for g in groups)


def setpriority(t, a):
    """Setpriority implements setpriority(2): nice values clamped to [-20, 19]; lowering
    one needs root (CAP_SYS_NICE) or RLIMIT_NICE; another user's process needs root."""
    which, who, nice = a.int(0), a.int(1), a.int(2)
    groups = _prio_targets(t, which, who)
    if not groups:
        raise E(errno.ESRCH)
    nice = min(max(nice, MIN_NICE), MAX_NICE)
    c = t.creds
    err = 0
    for g in groups:
        gc = g.creds
        if c.euid != 0 and c.euid not in (gc.uid, gc.euid):
            err = errno.EPERM
            continue
        if nice < g.nice and c.euid != 0 and 20 - nice > t.group.rlimits[13].cur:
            err = errno.EACCES
            continue
        g.nice = nice
    if err:
        raise E(err)
    return 0


def _check_param(policy: int, prio: int, t):
    if policy in _RT:
        if not 1 <= prio <= MAX_USER_RT_PRIO:
            raise E(errno.EINVAL)
        if t.creds.euid != 0 and prio > t.group.rlimits[14].cur:
            raise E(errno.EPERM)
    elif policy in _NORMAL:
        if prio != 0:
            raise E(errno.EINVAL)
    else:
        raise E(errno.EINVAL)


def _set_sched(t, pid: int, policy: int, param_ptr: int, keep_policy: bool):
    if pid < 0 or not param_ptr:
        raise E(errno.EINVAL)
    prio = struct.unpack("<i", t.mm.read(param_ptr, 4))[0]
    g = _process(t, pid)
    if keep_policy:
        policy = g.sched[0]
    reset = policy & SCHED_RESET_ON_FORK if policy >= 0 else 0
    policy &= ~SCHED_RESET_ON_FORK
    _check_param(policy, prio, t)
    gc = g.creds
    if t.creds.euid != 0 and t.creds.euid not in (gc.uid, gc.euid):
        raise E(errno.EPERM)
    g.sched = (policy | reset, prio)
    return 0


def sched_setscheduler(t, a):
    """Sched_setscheduler implements sched_setscheduler(2) (kept, not acted on)."""
    return _set_sched(t, a.int(0), a.int(1), a.ptr(2), False)


def sched_setparam(t, a):
    return _set_sched(t, a.int(0), 0, a.ptr(1), True)


def sched_getscheduler(t, a):
    pid = a.int(0)
    if pid < 0:
        raise E(errno.EINVAL)
    return _process(t, pid).sched[0]


def sched_getparam(t, a):
    pid, ptr = a.int(0), a.ptr(1)
    if pid < 0 or not ptr:
        raise E(errno.EINVAL)
    t.mm.write(ptr, struct.pack("<i", _process(t, pid).sched[1]))
    return 0


def sched_get_priority_max(t, a):
    policy = a.int(0)
    if policy in _RT:
        return MAX_USER_RT_PRIO
    if policy in _NORMAL or policy == SCHED_DEADLINE:
        return 0
    raise E(errno.EINVAL)


def sched_get_priority_min(t, a):
    policy = a.int(0)
    if policy in _RT:
        return 1
    if policy in _NORMAL or policy == SCHED_DEADLINE:
        return 0
    raise E(errno.EINVAL)


def sched_rr_get_interval(t, a):
    pid, ptr = a.int(0), a.ptr(1)
    if pid < 0:
        raise E(errno.EINVAL)
    policy = _process(t, pid).sched[0] & ~SCHED_RESET_ON_FORK
    ns = RR_TIMESLICE_NS if policy == SCHED_RR else 0 if policy == SCHED_FIFO else _FAIR_SLICE_NS
    t.mm.write(ptr, struct.pack("<qq", ns // 10 ** 9, ns % 10 ** 9))
    return 0


_SCHED_ATTR = struct.Struct("<IIQiIQQQII")


def sched_getattr(t, a):
    """Sched_getattr implements sched_getattr(2): the policy, nice value and priority kept."""
    pid, ptr, size, flags = a.int(0), a.ptr(1), a.uint(2), a.uint(3)
    if pid < 0 or not ptr or flags or size < SCHED_ATTR_SIZE_VER0 or size > 4096:
        raise E(errno.EINVAL)
    g = _process(t, pid)
    policy, prio = g.sched
    n = min(size, SCHED_ATTR_SIZE_VER1)
    reset = SCHED_FLAG_RESET_ON_FORK if policy & SCHED_RESET_ON_FORK else 0
    policy &= ~SCHED_RESET_ON_FORK
    raw = _SCHED_ATTR.pack(n, policy, reset, g.nice if policy in _NORMAL else 0, prio, 0, 0, 0, 0, 1024)
    t.mm.write(ptr, raw[:n])
    return 0


def sched_setattr(t, a):
    """Sched_setattr implements sched_setattr(2) for the policies sched_setscheduler takes
    (with the nice value of SCHED_OTHER/BATCH/IDLE); SCHED_DEADLINE is EINVAL (no
    deadline scheduler to admit it)."""
    pid, ptr, flags = a.int(0), a.ptr(1), a.uint(2)
    if pid < 0 or not ptr or flags:
        raise E(errno.EINVAL)
    size = struct.unpack("<I", t.mm.read(ptr, 4))[0] or SCHED_ATTR_SIZE_VER0
    if size < SCHED_ATTR_SIZE_VER0 or size > 4096:
        t.mm.write(ptr, struct.pack("<I", SCHED_ATTR_SIZE_VER1))
        raise E(errno.E2BIG)
    raw = t.mm.read(ptr, size)
    if size > SCHED_ATTR_SIZE_VER1 and any(raw[SCHED_ATTR_SIZE_VER1:]):
        t.mm.write(ptr, struct.pack("<I", SCHED_ATTR_SIZE_VER1))
        raise E(errno.E2BIG)
    _, policy, sflags, nice, prio = _SCHED_ATTR.unpack(raw[:56].ljust(56, b"\0"))[:5]
    if sflags & ~SCHED_FLAG_ALL:
        raise E(errno.EINVAL)
    g = _process(t, pid)
    if sflags & SCHED_FLAG_KEEP_POLICY:
        policy = g.sched[0] & ~SCHED_RESET_ON_FORK
    if policy == SCHED_DEADLINE:
        raise E(errno.EINVAL)
    _check_param(policy, prio, t)
    gc = g.creds
    if t.creds.euid != 0 and t.creds.euid not in (gc.uid, gc.euid):
        raise E(errno.EPERM)
    if policy in _NORMAL:
        nice = min(max(nice, MIN_NICE), MAX_NICE)
        if nice < g.nice and t.creds.euid != 0 and 20 - nice > t.group.rlimits[13].cur:
            raise E(errno.EPERM)
        g.nice = nice
    reset = SCHED_RESET_ON_FORK if sflags & SCHED_FLAG_RESET_ON_FORK else 0
    g.sched = (policy | reset, prio)
    return 0


# --- capabilities ------------------------------------------------------------------------

_CAP_WORDS = {_LINUX_CAPABILITY_VERSION_1: 1, _LINUX_CAPABILITY_VERSION_2: 2, _LINUX_CAPABILITY_VERSION_3: 2}


def _cap_header(t, hdr: int):
    version, pid = struct.unpack("<Ii", t.mm.read(hdr, 8))
    words = _CAP_WORDS.get(version)
    if words is None:
        t.mm.write(hdr, struct.pack("<I", _LINUX_CAPABILITY_VERSION_3))
    return words, pid


def caps_of(g) -> tuple:
    """(effective, permitted, inheritable) of process ``g``: root's full set or nothing,
    less what capset dropped (kept in ``g.caps`` while the euid stays)."""
    base = CAP_FULL_SET if g.creds.euid == 0 else 0
    kept = g.caps
    if kept is not None and kept[0] == g.creds.euid:
        return kept[1]
    return base, base, 0


def capget(t, a):
    """Capget implements capget(2) (versions 1-3; an unknown version is answered with
    version 3 in the header, and EINVAL unless the data pointer is NULL)."""
    hdr, data = a.ptr(0), a.ptr(1)
    words, pid = _cap_header(t, hdr)
    if words is None:
        if not data:
            return 0
        raise E(errno.EINVAL)
    if pid < 0:
        raise E(errno.EINVAL)
    if not data:
        return 0
    g = _process(t, pid)
    eff, prm, inh = caps_of(g)
    out = b"".join(struct.pack("<III", (eff >> s) & 0xFFFFFFFF, (prm >> s) & 0xFFFFFFFF,
                               (inh >> s) & 0xFFFFFFFF) for s in (0, 32)[:words])
    t.mm.write(data, out)
    return 0


def capset(t, a):
    """Capset implements capset(2) for the caller: the new sets may only keep or drop
    (permitted within the old permitted, effective within the new permitted,
    inheritable within the old inheritable and permitted); EPERM otherwise."""
    hdr, data = a.ptr(0), a.ptr(1)
    words, pid = _cap_header(t, hdr)
    if words is None:
        raise E(errno.EINVAL)
    if pid not in (0, t.tid, t.group.tgid):
        raise E(errno.EPERM)
    raw = t.mm.read(data, 12 * words)
    eff = prm = inh = 0
    for i in range(words):
        e, p, h = struct.unpack_from("<III", raw, 12 * i)
        eff |= e << (32 * i)
        prm |= p << (32 * i)
        inh |= h << (32 * i)
    g = t.group
    old_eff, old_prm, old_inh = caps_of(g)
    if prm & ~old_prm or eff & ~prm or inh & ~(old_inh | old_prm):
        raise E(errno.EPERM)
    g.caps = (g.creds.euid, (eff & CAP_FULL_SET, prm & CAP_FULL_SET, inh & CAP_FULL_SET))
    return 0


FAMILY = [
    partial("getpriority", getpriority, "nice values are kept per process and reported; the "
            "scheduler (one vCPU, round robin) does not weigh them"),
    partial("setpriority", setpriority, "nice values are kept per process, not acted on"),
    partial("sched_setscheduler", sched_setscheduler, "policy and priority are kept, not acted on"),
    partial("sched_setparam", sched_setparam, "the priority is kept, not acted on"),
    supported("sched_getscheduler", sched_getscheduler),
    supported("sched_getparam", sched_getparam),
    supported("sched_get_priority_max", sched_get_priority_max),
    supported("sched_get_priority_min", sched_get_priority_min),
    partial("sched_getattr", sched_getattr, "what sched_setattr kept; no deadline or utilization clamps"),
    partial("sched_setattr", sched_setattr, "kept, not acted on; SCHED_DEADLINE is EINVAL"),
    partial("sched_rr_get_interval", sched_rr_get_interval, "SCHED_OTHER reports a 4 ms slice"),
    partial("capget", capget, "root holds every capability, other users none, less what capset dropped"),
    partial("capset", capset, "keeps or drops capabilities of the caller; the drops are "
            "bookkeeping (umlpy's permission checks look at the euid)"),
]
