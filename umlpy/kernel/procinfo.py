"""The kernel's answers to /proc (the fs layer's ProcProvider protocol)."""

import errno

from umlpy.abi.fcntl import SEEK_CUR, SEEK_SET
from umlpy.abi.memory import PAGE_SIZE, VSYSCALL_ADDR, VSYSCALL_SIZE
from umlpy.errors import SyscallError
from umlpy.fs.file import File

from . import ptrace as kptrace
from .signals import SIG_DFL, SIG_IGN, bit
from .task import RLIM_INFINITY, TaskState

_M64 = (1 << 64) - 1
#: USER_HZ: the unit of every time in /proc (and of AT_CLKTCK).
HZ = 100
_RLIM_INF = (1 << 64) - 1
#: Every capability of Linux 6.1 (CAP_LAST_CAP 40), as a root process holds them.
_CAPS = "000001ffffffffff"
_LIMITS = (("Max cpu time", "seconds"), ("Max file size", "bytes"), ("Max data size", "bytes"),
           ("Max stack size", "bytes"), ("Max core file size", "bytes"), ("Max resident set", "bytes"),
           ("Max processes", "processes"), ("Max open files", "files"), ("Max locked memory", "bytes"),
           ("Max address space", "bytes"), ("Max file locks", "locks"), ("Max pending signals", "signals"),
           ("Max msgqueue size", "bytes"), ("Max nice priority", ""), ("Max realtime priority", ""),
           ("Max realtime timeout", "us"))


def cpu_ticks(g, t=None) -> tuple:
    """(utime, stime, cutime, cstime) of process ``g`` (of its thread ``t`` for the first
    two when given) in clock ticks: the one place /proc reads CPU accounting from, the
    kernel's ``cpu_times()`` (ns) of the process or thread and ``g.times`` (ns) of its
    waited-for children; 0 where the kernel keeps no figure."""
    tick = 10 ** 9 // HZ
    times = getattr(t if t is not None else g, "cpu_times", None)
    u, s = times() if times is not None else (0, 0)
    cu, cs = g.times
    return u // tick, s // tick, cu // tick, cs // tick


class ProcInfo:
    """Process facts for procfs, read from the kernel's task tables."""

    def __init__(self, kernel):
        self.k = kernel

    def _group(self, pid):
        g = self.k.groups.get(pid)
        if g is None or g.reaped:
            return None
        return g

    def pids(self):
        return sorted(g.tgid for g in self.k.groups.values() if not g.reaped)

    def exe(self, pid):
        g = self._group(pid)
        return g.exe if g is not None else None

    def tids(self, pid):
        g = self._group(pid)
        return [t.tid for t in g.tasks] if g is not None else []

    def tgid_of(self, tid):
        t = self.k.tasks.get(tid)
        return t.group.tgid if t is not None else None

    def _task(self, g, tid):
        if tid is None:
            return g.leader
        t = self.k.tasks.get(tid)
        return t if t is not None and t.group is g else None

    def cmdline(self, pid):
        g = self._group(pid)
        return g.cmdline if g is not None and not g.zombie else b""

    def environ(self, pid):
        g = self._group(pid)
        return g.environ if g is not None and not g.zombie else b""

    def comm(self, pid, tid=None):
        g = self._group(pid)
        t = self._task(g, tid) if g is not None else None
        return (t.comm if t is not None else b"") + b"\n"

    def _state(self, g, t) -> str:
        """Linux's task_state letter: R running or runnable, S sleeping, T stopped by job
        control, t in a ptrace stop, Z zombie."""
        if g.zombie or t is None:
            return "Z (zombie)"
        if t.state == TaskState.STOPPED:
            if t.ptrace is not None and t.ptrace.stopped:
                return "t (tracing stop)"
            return "T (stopped)"
        if t.state == TaskState.BLOCKED:
            return "S (sleeping)"
        return "R (running)"

    def status(self, pid, tid=None):
        g = self._group(pid)
        if g is None:
            return ""
        t = self._task(g, tid)
        name = (t.comm if t is not None else b"").decode(errors="replace")
        c = g.creds
        ppid = g.parent.tgid if g.parent is not None else 0
        tracer = t.ptrace.tracer.tgid if t is not None and t.ptrace is not None else 0
        acts = g.handlers.actions
        ign = cgt = 0
        for signo in range(1, len(acts)):
            h = acts[signo].handler
            if h == SIG_IGN:
                ign |= bit(signo)
            elif h != SIG_DFL:
                cgt |= bit(signo)
        fdsize = t.files.limit if t is not None and hasattr(t.files, "limit") else 64
        lines = ["Name:\t%s" % name, "Umask:\t%04o" % g.umask, "State:\t%s" % self._state(g, t),
                 "Tgid:\t%d" % g.tgid, "Ngid:\t0", "Pid:\t%d" % (t.tid if t is not None else g.tgid),
                 "PPid:\t%d" % ppid, "TracerPid:\t%d" % tracer,
                 "Uid:\t%d\t%d\t%d\t%d" % (c.uid, c.euid, c.suid, c.fsuid),
                 "Gid:\t%d\t%d\t%d\t%d" % (c.gid, c.egid, c.sgid, c.fsgid),
                 "FDSize:\t%d" % min(fdsize, 1 << 20),
                 "Groups:\t%s" % "".join("%d " % x for x in c.groups),
                 "NStgid:\t%d" % g.tgid, "NSpid:\t%d" % (t.tid if t is not None else g.tgid),
                 "NSpgid:\t%d" % g.pgid, "NSsid:\t%d" % g.sid]
        mm = t.home_mm if t is not None and not g.zombie else None
        if mm is not None:
            vm, rss = mm.total_vm * 4, mm.rss_pages * 4
            lines += ["VmPeak:\t%8d kB" % vm, "VmSize:\t%8d kB" % vm, "VmLck:\t       0 kB",
                      "VmPin:\t       0 kB", "VmHWM:\t%8d kB" % rss, "VmRSS:\t%8d kB" % rss,
                      "RssAnon:\t%8d kB" % rss, "RssFile:\t       0 kB", "RssShmem:\t       0 kB",
                      "VmData:\t%8d kB" % vm, "VmStk:\t     132 kB", "VmExe:\t       0 kB",
                      "VmLib:\t       0 kB", "VmPTE:\t       0 kB", "VmSwap:\t       0 kB"]
        queued = bin(g.pending).count("1") + sum(bin(x.pending).count("1") for x in g.tasks)
        lines += ["Threads:\t%d" % len(g.tasks),
                  "SigQ:\t%d/%d" % (queued, g.rlimits[11].cur),
                  "SigPnd:\t%016x" % (t.pending if t is not None else 0), "ShdPnd:\t%016x" % g.pending,
                  "SigBlk:\t%016x" % (t.sigmask if t is not None else 0),
                  "SigIgn:\t%016x" % ign, "SigCgt:\t%016x" % cgt,
                  "CapInh:\t0000000000000000",
                  "CapPrm:\t%s" % (_CAPS if c.euid == 0 else "0000000000000000"),
                  "CapEff:\t%s" % (_CAPS if c.euid == 0 else "0000000000000000"),
                  "CapBnd:\t%s" % _CAPS, "CapAmb:\t0000000000000000",
                  "NoNewPrivs:\t0", "Seccomp:\t0", "Seccomp_filters:\t0",
                  "Cpus_allowed:\t1", "Cpus_allowed_list:\t0",
                  "voluntary_ctxt_switches:\t0", "nonvoluntary_ctxt_switches:\t0"]
        return "\n".join(lines) + "\n"

    def stat(self, pid, tid=None):
        """/proc/PID/stat (fs/proc/array.c do_task_stat): 52 fields, times in clock ticks."""
        g = self._group(pid)
        if g is None:
            return ""
        t = self._task(g, tid)
        k = self.k
        name = (t.comm if t is not None else b"").decode(errors="replace")
        state = self._state(g, t)[0]
        ppid = g.parent.tgid if g.parent is not None else 0
        utime, stime, cutime, cstime = cpu_ticks(g, t if tid is not None else None)
        start = g.start_ns * HZ // 10 ** 9
        mm = t.home_mm if t is not None and not g.zombie else None
        vsize = mm.total_vm * 4096 if mm is not None else 0
        rss = mm.rss_pages if mm is not None else 0
        start_brk = mm.start_brk if mm is not None else 0
        brk = mm.brk if mm is not None else 0
        sigmask = t.sigmask if t is not None else 0
        pending = (t.pending if t is not None else 0) | g.pending
        acts = g.handlers.actions
        ign = sum(bit(s) for s in range(1, len(acts)) if acts[s].handler == SIG_IGN)
        cgt = sum(bit(s) for s in range(1, len(acts)) if acts[s].handler not in (SIG_DFL, SIG_IGN))
        exit_code = g.exit_status if g.zombie else 0
        fields = [t.tid if t is not None else g.tgid, "(%s)" % name, state, ppid, g.pgid, g.sid,
                  0, -1, 0x400000, 0, 0, 0, 0, utime, stime, cutime, cstime,
                  20 + g.nice, g.nice, len(g.tasks), 0, start, vsize, rss, _RLIM_INF,
                  0, 0, 0, 0, 0, pending, sigmask, ign, cgt, 0, 0, 0, g.exit_signal, 0, 0, 0, 0, 0, 0,
                  start_brk, brk, start_brk, 0, 0, 0, 0, exit_code]
        return " ".join(str(x) for x in fields) + "\n"

    def statm(self, pid):
        g = self._group(pid)
        if g is None or g.zombie or g.leader is None:
            return "0 0 0 0 0 0 0\n"
        mm = g.leader.home_mm
        return "%d %d 0 0 0 %d 0\n" % (mm.total_vm, mm.rss_pages, mm.total_vm)

    def limits(self, pid):
        g = self._group(pid)
        if g is None:
            return ""
        out = ["%-25s %-20s %-20s %-10s\n" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
        for res, (label, unit) in enumerate(_LIMITS):
            lim = g.rlimits[res]
            cur, mx = ("unlimited" if v == RLIM_INFINITY else str(v) for v in (lim.cur, lim.max))
            out.append("%-25s %-20s %-20s %s\n" % (label, cur, mx, "%-10s" % unit if unit else ""))
        return "".join(out)

    def system(self):
        """Machine-wide facts for /proc/stat, /proc/uptime, /proc/loadavg, /proc/meminfo."""
        k = self.k
        up_ns = k.now_ns()               # the guest's CLOCK_MONOTONIC counts from its boot
        busy = sum(sum(cpu_ticks(g)[:2]) for g in k.groups.values() if not g.reaped)
        idle = max(up_ns * HZ // 10 ** 9 - busy, 0)
        running = sum(1 for t in k.tasks.values() if t.state == TaskState.RUNNABLE)
        free_kb = max((k.memory_limit - k.frames.used_pages * 4096) // 1024, 0)
        return {"uptime": up_ns / 1e9, "user": busy, "system": 0, "idle": idle, "ctxt": 0,
                "btime": (k.realtime_ns() - up_ns) // 10 ** 9, "forks": k.last_pid(),
                "running": running, "threads": len(k.tasks), "last_pid": k.last_pid(),
                "load": (0.0, 0.0, 0.0), "free_kb": free_kb}

    def maps(self, pid):
        g = self._group(pid)
        if g is None or g.leader is None:
            return ""
        return g.leader.mm.maps_text() + _vsyscall_line(self.k.platform.vsyscall_perms())

    def fds(self, pid):
        g = self._group(pid)
        if g is None or g.leader is None:
            return {}
        return g.leader.files.paths()

    def fd_file(self, pid, fd):
        g = self._group(pid)
        if g is None or g.leader is None:
            return None
        try:
            return g.leader.files.get(fd)
        except Exception:
            return None

    def cwd(self, pid):
        g = self._group(pid)
        if g is None or g.leader is None:
            return "/"
        t = g.leader
        try:
            return self.k.vfs.getcwd(self.k.caller(t)).decode(errors="replace")
        except Exception:
            return "/"

    def hostname(self):
        return self.k.hostname.decode(errors="replace")

    def owner(self, pid):
        g = self._group(pid)
        return (g.creds.euid, g.creds.egid) if g is not None else (0, 0)

    def open_mem(self, pid, flags, caller, path, node=None):
        """/proc/PID/mem: the opener needs ptrace-attach rights over the process (its own
        process always); the file keeps the address space the process had at open."""
        g = self._group(pid)
        if g is None or g.leader is None or g.leader.mm is None:
            raise SyscallError(errno.ESRCH)
        opener = self.k.groups.get(caller.pid)
        if opener is None or opener.leader is None:
            raise SyscallError(errno.EACCES)
        if opener is not g and not kptrace.may_attach(opener.leader, g.leader):
            raise SyscallError(errno.EACCES)
        return MemFile(node, flags, path, g.leader.home_mm)


class MemFile(File):
    """An open /proc/PID/mem: reads and writes at offset = guest address, page by page,
    ignoring protections as ptrace does (FOLL_FORCE); an unmapped first page is EIO, a
    later one ends the transfer short; an address space that is gone reads 0 bytes."""

    pollable = False

    def __init__(self, inode, flags, path, mm):
        super().__init__(inode, flags, path)
        self.mm = mm

    def _transfer(self, off: int, n: int, data=None):
        mm = self.mm
        if mm.released:
            return b"" if data is None else 0
        out = bytearray()
        done = 0
        while done < n:
            pos = (off + done) & _M64
            chunk = min(PAGE_SIZE - (pos & (PAGE_SIZE - 1)), n - done)
            try:
                if data is None:
                    out += mm.read(pos, chunk)
                else:
                    mm.poke(pos, data[done:done + chunk])
            except (SyscallError, OverflowError):
                if done == 0:
                    raise SyscallError(errno.EIO) from None
                break
            done += chunk
        return bytes(out) if data is None else done

    def read_at(self, off, n):
        return self._transfer(off, n)

    def write_at(self, off, data):
        return self._transfer(off, len(data), bytes(data))

    def size(self):
        return 0

    def lseek(self, off, whence):
        """mem_lseek: SEEK_SET and SEEK_CUR only; any address is a valid position."""
        if whence == SEEK_SET:
            self.pos = off & _M64
        elif whence == SEEK_CUR:
            self.pos = (self.pos + off) & _M64
        else:
            raise SyscallError(errno.EINVAL)
        return self.pos


def _vsyscall_line(perms) -> str:
    """The legacy vsyscall page that guests may call (kernel/entry.py), as the host
    shows its own in /proc/PID/maps (xonly "--xp", emulate "r-xp"), or nothing."""
    if not perms:
        return ""
    head = "%08x-%08x %s 00000000 00:00 0 " % (VSYSCALL_ADDR, VSYSCALL_ADDR + VSYSCALL_SIZE, perms)
    return head.ljust(72) + " [vsyscall]\n"
