"""The kernel's answers to /proc (the fs layer's ProcProvider protocol)."""

from umlpy.abi.memory import VSYSCALL_ADDR, VSYSCALL_SIZE


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

    def cmdline(self, pid):
        g = self._group(pid)
        return g.cmdline if g is not None and not g.zombie else b""

    def status(self, pid):
        g = self._group(pid)
        if g is None:
            return ""
        t = g.leader
        name = (t.comm if t is not None else b"").decode(errors="replace")
        c = g.creds
        ppid = g.parent.tgid if g.parent is not None else 0
        state = "Z (zombie)" if g.zombie else ("R (running)" if t is self.k.current else "S (sleeping)")
        mm = t.mm if t is not None else None
        rss = mm.rss_pages * 4 if mm is not None else 0
        vm = mm.total_vm * 4 if mm is not None else 0
        return ("Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
                "Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\nThreads:\t%d\nVmSize:\t%8d kB\nVmRSS:\t%8d kB\n"
                "SigPnd:\t%016x\nSigBlk:\t%016x\n"
                % (name, g.umask, state, g.tgid, g.tgid, ppid, c.uid, c.euid, c.suid, c.fsuid,
                   c.gid, c.egid, c.sgid, c.fsgid, len(g.tasks), vm, rss, g.pending,
                   t.sigmask if t is not None else 0))

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


def _vsyscall_line(perms) -> str:
    """The legacy vsyscall page that guests may call (kernel/entry.py), as the host
    shows its own in /proc/PID/maps (xonly "--xp", emulate "r-xp"), or nothing."""
    if not perms:
        return ""
    head = "%08x-%08x %s 00000000 00:00 0 " % (VSYSCALL_ADDR, VSYSCALL_ADDR + VSYSCALL_SIZE, perms)
    return head.ljust(72) + " [vsyscall]\n"
