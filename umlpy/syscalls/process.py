"""Process and thread system calls: identity, exit, clone/fork/vfork, execve, wait, limits.

Handlers take ``(t, a)``: the calling :class:`~umlpy.kernel.task.Task` and its
:class:`~umlpy.abi.sysargs.SysArgs`.  They return the result, or None when
they have set the registers themselves (execve, exit).
"""

import errno
import struct

from umlpy.abi.wait import P_PIDFD
from umlpy.abi.wait import (WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WSTOPPED, WUNTRACED,
                             __WALL as _WALL, __WCLONE as _WCLONE, __WNOTHREAD as _WNOTHREAD)

from umlpy.abi.clone import (CLONE3_FLAGS, CLONE_ARGS_FIELDS, CLONE_ARGS_SIZE_VER0, CLONE_ARGS_SIZE_VER2,
                             CLONE_INTO_CGROUP, CLONE_PARENT, CLONE_THREAD, CSIGNAL, MAX_PID_NS_LEVEL)
from umlpy.abi.rseq import ID_NOCHANGE, RSEQ_FLAG_UNREGISTER, RSEQ_SIZE
from umlpy.errors import SyscallError
from umlpy.kernel import exec as kexec
from umlpy.kernel import fork as kfork
from umlpy.kernel import ptrace as kptrace
from umlpy.kernel.pidfd import pidfd_group
from umlpy.kernel.restart import REGS_SET
from umlpy.kernel.task import RLIM_INFINITY, Rlimit

from .table import partial, supported

E = SyscallError


def getpid(t, a):
    """Getpid implements getpid(2)."""
    return t.group.tgid


def gettid(t, a):
    return t.tid


def getppid(t, a):
    p = t.group.parent
    return p.tgid if p is not None else 0


def getuid(t, a):
    return t.creds.uid


def geteuid(t, a):
    return t.creds.euid


def getgid(t, a):
    return t.creds.gid


def getegid(t, a):
    return t.creds.egid


def getresuid(t, a):
    c = t.creds
    for ptr, v in zip(a[:3], (c.uid, c.euid, c.suid)):
        t.mm.write(ptr, struct.pack("<I", v))
    return 0


def getresgid(t, a):
    c = t.creds
    for ptr, v in zip(a[:3], (c.gid, c.egid, c.sgid)):
        t.mm.write(ptr, struct.pack("<I", v))
    return 0


def getgroups(t, a):
    size = a.int(0)
    groups = t.creds.groups
    if size < 0:
        raise E(errno.EINVAL)
    if size == 0:
        return len(groups)
    if size < len(groups):
        raise E(errno.EINVAL)
    if groups:
        t.mm.write(a.ptr(1), struct.pack("<%dI" % len(groups), *groups))
    return len(groups)


def setgroups(t, a):
    n = a.int(0)
    if t.creds.euid != 0:
        raise E(errno.EPERM)
    if n < 0 or n > 65536:
        raise E(errno.EINVAL)
    data = t.mm.read(a.ptr(1), 4 * n) if n else b""
    t.creds.groups = struct.unpack("<%dI" % n, data)
    return 0


_NOCHANGE = ID_NOCHANGE


def _set_ids(t, kind, r, e, s):
    """setres[ug]id semantics; setuid/setreuid are built from it."""
    c = t.creds
    cur = (c.uid, c.euid, c.suid) if kind == "u" else (c.gid, c.egid, c.sgid)
    privileged = c.euid == 0
    for v in (r, e, s):
        if v != _NOCHANGE and not privileged and v not in cur:
            raise E(errno.EPERM)
    new = [cur[i] if v == _NOCHANGE else v for i, v in enumerate((r, e, s))]
    if kind == "u":
        c.uid, c.euid, c.suid = new
        c.fsuid = c.euid
    else:
        c.gid, c.egid, c.sgid = new
        c.fsgid = c.egid
    for tt in t.group.tasks:
        t.kernel.update_fast(tt)
    return 0


def setresuid(t, a):
    return _set_ids(t, "u", a.uint(0), a.uint(1), a.uint(2))


def setresgid(t, a):
    return _set_ids(t, "g", a.uint(0), a.uint(1), a.uint(2))


def setuid(t, a):
    uid = a.uint(0)
    if t.creds.euid == 0:
        return _set_ids(t, "u", uid, uid, uid)
    return _set_ids(t, "u", _NOCHANGE, uid, _NOCHANGE)


def setgid(t, a):
    gid = a.uint(0)
    if t.creds.euid == 0:
        return _set_ids(t, "g", gid, gid, gid)
    return _set_ids(t, "g", _NOCHANGE, gid, _NOCHANGE)


def setreuid(t, a):
    return _set_ids(t, "u", a.uint(0), a.uint(1), _NOCHANGE)


def setregid(t, a):
    return _set_ids(t, "g", a.uint(0), a.uint(1), _NOCHANGE)


def setfsuid(t, a):
    old = t.creds.fsuid
    if t.creds.euid == 0:
        t.creds.fsuid = a.uint(0)
    return old


def setfsgid(t, a):
    old = t.creds.fsgid
    if t.creds.euid == 0:
        t.creds.fsgid = a.uint(0)
    return old


def getpgrp(t, a):
    return t.group.pgid


def _group(t, pid):
    if pid == 0:
        return t.group
    g = t.kernel.groups.get(pid)
    if g is None or g.reaped:
        raise E(errno.ESRCH)
    return g


def getpgid(t, a):
    return _group(t, a.int(0)).pgid


def setpgid(t, a):
    g = _group(t, a.int(0))
    pgid = a.int(1)
    if pgid < 0:
        raise E(errno.EINVAL)
    g.pgid = pgid or g.tgid
    for tt in g.tasks:
        t.kernel.update_fast(tt)
    return 0


def getsid(t, a):
    return _group(t, a.int(0)).sid


def setsid(t, a):
    g = t.group
    # EPERM when a process group with the caller's pid exists, its own included
    # (a process-group leader cannot start a session).
    if any(x.pgid == g.tgid and not x.reaped for x in t.kernel.groups.values()):
        raise E(errno.EPERM)
    g.sid = g.pgid = g.tgid
    g.tty = None          # a new session has no controlling terminal
    t.kernel.update_fast(t)
    return g.sid


def exit(t, a):
    """Exit implements exit(2): ends the calling thread only."""
    if t.ptrace is None or not kptrace.exit_stop(t.kernel, t, a.int(0) & 0xFF):
        t.kernel.exit_task(t, a.int(0) & 0xFF)
    return REGS_SET


def exit_group(t, a):
    t.kernel.exit_group(t, a.int(0) & 0xFF)     # a traced thread stops first (PTRACE_EVENT_EXIT)
    return REGS_SET


def set_tid_address(t, a):
    t.clear_child_tid = a.ptr(0)
    return t.tid


def set_robust_list(t, a):
    if a.size(1) != 24:
        raise E(errno.EINVAL)
    t.robust_list = (a.ptr(0), a.size(1))
    return 0


def get_robust_list(t, a):
    pid = a.int(0)
    tt = t if pid == 0 else t.kernel.tasks.get(pid)
    if tt is None:
        raise E(errno.ESRCH)
    t.mm.write(a.ptr(1), struct.pack("<Q", tt.robust_list[0]))
    t.mm.write(a.ptr(2), struct.pack("<Q", tt.robust_list[1] or 24))
    return 0




def rseq(t, a):
    """Rseq implements rseq(2) registration: one vCPU, so cpu_id is always 0.

    Critical sections are not aborted on preemption (no guest preemption
    inside the run of one stub yet), which the note on the row says.
    """
    addr, length, flags, sig = a.ptr(0), a.uint(1), a.int(2), a.uint(3)
    if flags & RSEQ_FLAG_UNREGISTER:
        if t.rseq is None or t.rseq[0] != addr or t.rseq[1] != length:
            raise E(errno.EINVAL)
        if t.rseq[2] != sig:
            raise E(errno.EPERM)
        t.mm.write(addr + 4, struct.pack("<I", 0xFFFFFFFF))   # RSEQ_CPU_ID_UNINITIALIZED
        t.rseq = None
        return 0
    if flags:
        raise E(errno.EINVAL)
    if t.rseq is not None:
        if t.rseq[0] != addr or t.rseq[1] != length:
            raise E(errno.EINVAL)
        if t.rseq[2] != sig:
            raise E(errno.EPERM)
        raise E(errno.EBUSY)
    if length < RSEQ_SIZE or addr % 32:
        raise E(errno.EINVAL)
    # cpu_id_start, cpu_id, rseq_cs (u64), flags, node_id, mm_cid
    t.mm.write(addr, struct.pack("<II", 0, 0))
    t.rseq = (addr, length, sig)
    return 0


def arch_prctl(t, a):
    """Arch_prctl implements arch_prctl(2) for FS/GS bases and CPUID faulting queries."""
    code, addr = a.int(0), a.ptr(1)
    regs = t.ctx.regs
    if code == 0x1002:          # ARCH_SET_FS
        if addr >= (1 << 47):
            raise E(errno.EPERM)
        regs.fs_base = addr
        return 0
    if code == 0x1001:          # ARCH_SET_GS
        if addr >= (1 << 47):
            raise E(errno.EPERM)
        regs.gs_base = addr
        return 0
    if code == 0x1003:          # ARCH_GET_FS
        t.mm.write(addr, struct.pack("<Q", regs.fs_base))
        return 0
    if code == 0x1004:          # ARCH_GET_GS
        t.mm.write(addr, struct.pack("<Q", regs.gs_base))
        return 0
    if code == 0x1011:          # ARCH_GET_CPUID
        return 1
    raise E(errno.EINVAL)


def _uname_field(s: bytes) -> bytes:
    return s[:64].ljust(65, b"\0")


def uname(t, a):
    k = t.kernel
    data = b"".join(_uname_field(x) for x in (b"Linux", k.hostname, b"6.1.0-umlpy",
                                              b"#1 SMP umlpy", b"x86_64", k.domainname))
    t.mm.write(a.ptr(0), data)
    return 0


def sethostname(t, a):
    n = a.int(1)
    if t.creds.euid != 0:
        raise E(errno.EPERM)
    if n < 0 or n > 64:
        raise E(errno.EINVAL)
    t.kernel.hostname = t.mm.read(a.ptr(0), n)
    return 0


def setdomainname(t, a):
    n = a.int(1)
    if t.creds.euid != 0:
        raise E(errno.EPERM)
    if n < 0 or n > 64:
        raise E(errno.EINVAL)
    t.kernel.domainname = t.mm.read(a.ptr(0), n)
    return 0


_RLIM = struct.Struct("<QQ")


def prlimit64(t, a):
    pid, res, new, old = a.int(0), a.uint(1), a.ptr(2), a.ptr(3)
    g = _group(t, pid)
    if res >= 16:
        raise E(errno.EINVAL)
    lim = g.rlimits[res]
    if new:
        cur, mx = _RLIM.unpack(t.mm.read(new, 16))
        if cur > mx:
            raise E(errno.EINVAL)
        if mx > lim.max and t.creds.euid != 0:
            raise E(errno.EPERM)
    if old:
        t.mm.write(old, _RLIM.pack(lim.cur, lim.max))
    if new:
        g.rlimits[res] = Rlimit(cur, mx)
        if res == 7:
            t.files.limit = cur if cur != RLIM_INFINITY else 1 << 20
    return 0


def getrlimit(t, a):
    res = a.uint(0)
    if res >= 16:
        raise E(errno.EINVAL)
    lim = t.group.rlimits[res]
    t.mm.write(a.ptr(1), _RLIM.pack(lim.cur, lim.max))
    return 0


def setrlimit(t, a):
    res = a.uint(0)
    if res >= 16:
        raise E(errno.EINVAL)
    cur, mx = _RLIM.unpack(t.mm.read(a.ptr(1), 16))
    if cur > mx:
        raise E(errno.EINVAL)
    t.group.rlimits[res] = Rlimit(cur, mx)
    return 0


def getrusage(t, a):
    who = a.int(0)
    if who not in (0, -1, 1):   # RUSAGE_SELF, RUSAGE_CHILDREN, RUSAGE_THREAD
        raise E(errno.EINVAL)
    rss_kb = t.mm.rss_pages * 4
    t.mm.write(a.ptr(1), struct.pack("<4q14q", 0, 0, 0, 0, rss_kb, *([0] * 13)))
    return 0


def _affinity_task(t, pid: int):
    if pid < 0:
        raise E(errno.ESRCH)
    if pid and pid not in t.kernel.tasks:
        raise E(errno.ESRCH)


def sched_getaffinity(t, a):
    size = a.uint(1)
    _affinity_task(t, a.int(0))
    if size < 8 or size % 8:
        raise E(errno.EINVAL)
    t.mm.write(a.ptr(2), struct.pack("<Q", 1))   # one virtual CPU
    return 8


def sched_setaffinity(t, a):
    size = a.uint(1)
    _affinity_task(t, a.int(0))
    if size == 0:
        raise E(errno.EINVAL)
    mask = t.mm.read(a.ptr(2), min(size, 128))
    if not mask[0] & 1:
        raise E(errno.EINVAL)
    return 0


def sched_yield(t, a):
    t.kernel.yield_cpu(t)
    return 0


def getcpu(t, a):
    if a.ptr(0):
        t.mm.write(a.ptr(0), b"\0\0\0\0")
    if a.ptr(1):
        t.mm.write(a.ptr(1), b"\0\0\0\0")
    return 0


def sysinfo(t, a):
    k = t.kernel
    up = k.now_ns() // 10 ** 9
    total = k.memory_limit
    free = total - k.frames.used_pages * 4096
    procs = len(k.tasks)
    # uptime, loads[3], totalram, freeram, sharedram, bufferram, totalswap, freeswap,
    # procs (u16), totalhigh, freehigh, mem_unit
    data = struct.pack("<q3Q6QH6xQQI", up, 0, 0, 0, total, max(free, 0), 0, 0, 0, 0, procs, 0, 0, 1)
    t.mm.write(a.ptr(0), data.ljust(112, b"\0"))
    return 0


def personality(t, a):
    return 0


def prctl(t, a):
    opt = a.int(0)
    if opt == 15:            # PR_SET_NAME
        t.comm = t.mm.read_cstring(a.ptr(1), 16)[:15]
        return 0
    if opt == 16:            # PR_GET_NAME
        t.mm.write(a.ptr(1), t.comm[:15].ljust(16, b"\0"))
        return 0
    if opt in (1, 2, 4, 3, 36, 37, 38, 39):  # PDEATHSIG, DUMPABLE, CHILD_SUBREAPER, NO_NEW_PRIVS
        return 0
    raise E(errno.EINVAL)


# --- clone, fork, vfork, execve, wait ------------------------------------------------
def clone(t, a):
    """Clone implements clone(2) (x86-64 argument order: flags, stack, ptid, ctid, tls)."""
    return kfork.do_clone(t, a.u64(0), a.ptr(1), a.ptr(2), a.ptr(3), a.ptr(4))


_CLONE_ARGS = struct.Struct("<11Q")


def clone3(t, a):
    """Clone3 implements clone3(2): struct clone_args of any size Linux accepts (64, 80 or
    88 bytes, or more with zeros past what it knows), the exit signal apart from the flags,
    a stack given as base and size, CLONE_PIDFD's fd at ``pidfd``, CLONE_CLEAR_SIGHAND;
    set_tid (one pid namespace: one pid) needs root; CLONE_INTO_CGROUP has no cgroupfs
    directory to name (EBADF)."""
    ptr, size = a.ptr(0), a.ulong(1)
    if size < CLONE_ARGS_SIZE_VER0:
        raise E(errno.EINVAL)
    if size > 4096:
        raise E(errno.E2BIG)
    raw = t.mm.read(ptr, size)
    if size > CLONE_ARGS_SIZE_VER2 and any(raw[CLONE_ARGS_SIZE_VER2:]):
        raise E(errno.E2BIG)
    ca = dict(zip(CLONE_ARGS_FIELDS, _CLONE_ARGS.unpack(raw[:88].ljust(88, b"\0"))))
    flags, exit_signal = ca["flags"], ca["exit_signal"]
    if flags & ~CLONE3_FLAGS or exit_signal & ~CSIGNAL or exit_signal > 64:
        raise E(errno.EINVAL)
    if (ca["set_tid"] == 0) != (ca["set_tid_size"] == 0) or ca["set_tid_size"] > MAX_PID_NS_LEVEL:
        raise E(errno.EINVAL)
    if flags & (CLONE_THREAD | CLONE_PARENT) and exit_signal:
        raise E(errno.EINVAL)
    stack, stack_size = ca["stack"], ca["stack_size"]
    if (stack == 0) != (stack_size == 0):
        raise E(errno.EINVAL)
    set_tid = 0
    if ca["set_tid_size"]:
        if ca["set_tid_size"] > 1:               # deeper than our one pid namespace
            raise E(errno.EINVAL)
        set_tid = struct.unpack("<i", t.mm.read(ca["set_tid"], 4))[0]
        if set_tid <= 0:
            raise E(errno.EINVAL)
        if t.creds.euid != 0:
            raise E(errno.EPERM)
    if flags & CLONE_INTO_CGROUP:
        if ca["cgroup"] > 0x7FFFFFFF:
            raise E(errno.EINVAL)
        t.files.get(ca["cgroup"])                # EBADF when not open
        raise E(errno.EBADF)                     # open, but not a cgroup2 directory
    return kfork.do_clone(t, (flags & ~CSIGNAL) | exit_signal, stack + stack_size if stack else 0,
                          ca["parent_tid"], ca["child_tid"], ca["tls"], pidfd_ptr=ca["pidfd"],
                          set_tid=set_tid)


def fork(t, a):
    return kfork.do_clone(t, 17, 0, 0, 0, 0)


def vfork(t, a):
    return kfork.do_clone(t, 0x4000 | 0x100 | 17, 0, 0, 0, 0)   # CLONE_VFORK|CLONE_VM|SIGCHLD


def _read_strv(t, ptr, limit=0x20000):
    out = []
    if not ptr:
        return out
    while True:
        p = struct.unpack("<Q", t.mm.read(ptr + 8 * len(out), 8))[0]
        if not p:
            return out
        out.append(t.mm.read_cstring(p, 0x20000))
        if len(out) > limit:
            raise E(errno.E2BIG)


def execve(t, a):
    path = t.mm.read_cstring(a.ptr(0), 4096)
    argv = _read_strv(t, a.ptr(1))
    envp = _read_strv(t, a.ptr(2))
    return kexec.do_execve(t, path, argv, envp, dirfd=-100, flags=0)


def execveat(t, a):
    path = t.mm.read_cstring(a.ptr(1), 4096)
    argv = _read_strv(t, a.ptr(2))
    envp = _read_strv(t, a.ptr(3))
    return kexec.do_execve(t, path, argv, envp, dirfd=a.dirfd(0), flags=a.int(4))


def wait4(t, a):
    pid, status_ptr, options, rusage = a.int(0), a.ptr(1), a.int(2), a.ptr(3)
    if options & ~(WNOHANG | WUNTRACED | WCONTINUED | WNOWAIT | _WALL | _WCLONE | _WNOTHREAD):
        raise E(errno.EINVAL)
    res = t.kernel.wait4(t, pid, options | WEXITED)
    if res is None:
        return 0
    pid, status = res[0], res[1]
    if status_ptr:
        t.mm.write(status_ptr, struct.pack("<i", status))
    if rusage:
        t.mm.write(rusage, bytes(144))
    return pid


def waitid(t, a):
    idtype, id_, infop, options = a.int(0), a.int(1), a.ptr(2), a.int(3)
    pid = {0: -1, 1: id_, 2: -id_ if id_ else 0}.get(idtype)   # P_ALL, P_PID, P_PGID
    if idtype == P_PIDFD:
        g, f = pidfd_group(t, id_)
        pid = g.tgid
        if f.nonblocking:
            options |= WNOHANG                 # and EAGAIN below when nothing is ready
    if pid is None:
        raise E(errno.EINVAL)
    if not options & (WEXITED | WSTOPPED | WCONTINUED):
        raise E(errno.EINVAL)
    res = t.kernel.wait4(t, pid, options)
    if res is None and idtype == P_PIDFD and f.nonblocking:
        raise E(errno.EAGAIN)
    if infop:
        if res is None:
            t.mm.write(infop, bytes(128))
        else:
            pid, _, code, st = res
            uid = t.kernel.groups[pid].creds.uid if pid in t.kernel.groups else 0
            t.mm.write(infop, struct.pack("<iii4xiii", 17, 0, code, pid, uid, st).ljust(128, b"\0"))
    return 0


FAMILY = [
    supported("getpid", getpid), supported("gettid", gettid), supported("getppid", getppid),
    supported("getuid", getuid), supported("geteuid", geteuid), supported("getgid", getgid),
    supported("getegid", getegid), supported("getresuid", getresuid), supported("getresgid", getresgid),
    supported("getgroups", getgroups), supported("setgroups", setgroups),
    supported("setuid", setuid), supported("setgid", setgid), supported("setreuid", setreuid),
    supported("setregid", setregid), supported("setresuid", setresuid), supported("setresgid", setresgid),
    supported("setfsuid", setfsuid), supported("setfsgid", setfsgid),
    supported("getpgrp", getpgrp), supported("getpgid", getpgid), supported("setpgid", setpgid),
    supported("getsid", getsid), supported("setsid", setsid),
    supported("exit", exit), supported("exit_group", exit_group),
    supported("set_tid_address", set_tid_address), supported("set_robust_list", set_robust_list),
    supported("get_robust_list", get_robust_list),
    partial("rseq", rseq, "registration only; cpu_id is 0 (one vCPU); critical sections never abort"),
    partial("arch_prctl", arch_prctl, "FS/GS base; no CPUID faulting"),
    supported("uname", uname), supported("sethostname", sethostname),
    supported("setdomainname", setdomainname),
    supported("prlimit64", prlimit64), supported("getrlimit", getrlimit), supported("setrlimit", setrlimit),
    partial("getrusage", getrusage, "times are 0; maxrss is the current RSS"),
    supported("sched_getaffinity", sched_getaffinity), supported("sched_setaffinity", sched_setaffinity),
    supported("sched_yield", sched_yield), supported("getcpu", getcpu), supported("sysinfo", sysinfo),
    partial("personality", personality, "accepts and ignores"),
    partial("prctl", prctl, "PR_SET_NAME/PR_GET_NAME; a few accepted and ignored"),
    partial("clone", clone, "no namespaces, no CLONE_PTRACE"),
    partial("clone3", clone3, "no namespaces; CLONE_INTO_CGROUP is EBADF (no cgroupfs)"),
    supported("fork", fork), supported("vfork", vfork),
    supported("execve", execve), supported("execveat", execveat),
    partial("wait4", wait4, "rusage is zeroed"),
    partial("waitid", waitid, "utime/stime are 0"),
]
