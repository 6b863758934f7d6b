"""/proc: generated from the kernel's process facts.

The kernel implements :class:`ProcProvider`; procfs never looks up "the
current task" itself: ``self`` resolves to ``caller.pid`` of each lookup.
File contents are generated when the file is opened (a snapshot, as with
seq_file on Linux for small files).  ``/proc/<pid>/fd/N`` are "magic" links:
following one gives the open file itself when the provider can hand it out
(``fd_file``), so pipes and the console reopen correctly.

The kernel can add entries at the top level with :meth:`ProcFS.register`
(``/proc/mm`` is one).
"""

from __future__ import annotations

import errno
import os

from umlpy.abi import stat as st
from umlpy.errors import SyscallError
from umlpy.fs.file import BytesFile, DirFile
from umlpy.fs.node import DEV_PROC, Inode, Meta


class ProcProvider:
    """Process facts procfs asks the kernel for."""

    def pids(self) -> list[int]: ...
    def tids(self, pid: int) -> list[int]: ...
    def tgid_of(self, tid: int) -> int | None: ...
    def exe(self, pid: int) -> str | None: ...
    def cmdline(self, pid: int) -> bytes: ...
    def environ(self, pid: int) -> bytes: ...
    def comm(self, pid: int, tid: int | None) -> bytes: ...
    def status(self, pid: int, tid: int | None = None) -> str: ...
    def stat(self, pid: int, tid: int | None = None) -> str: ...
    def statm(self, pid: int) -> str: ...
    def limits(self, pid: int) -> str: ...
    def system(self) -> dict: ...    # /proc/stat, uptime, loadavg facts (see ProcFS._stat)
    def maps(self, pid: int) -> str: ...
    def fds(self, pid: int) -> dict[int, str]: ...
    def fd_file(self, pid: int, fd: int): ...          # -> File | None
    def cwd(self, pid: int) -> str: ...
    def hostname(self) -> str: ...
    def owner(self, pid: int) -> tuple: ...              # (euid, egid) of the process
    def open_mem(self, pid: int, flags: int, caller, path: bytes, node): ...   # -> File (/proc/PID/mem)


class ProcNode(Inode):
    def __init__(self, procfs: "ProcFS", key: str, mode: int):
        self.procfs = procfs
        self.key = key
        self.meta = Meta(mode=mode, dev=DEV_PROC, ino=procfs.ino(key))

    def stat(self):
        return self.meta.to_stat(blksize=1024)     # procfs's block size (stdio buffers /proc reads in 1 KiB)

    @property
    def mode(self):
        return self.meta.mode


class ProcFile(ProcNode):
    def __init__(self, procfs, key, content: Callable[[], bytes], mode=0o444):
        super().__init__(procfs, key, st.S_IFREG | mode)
        self._content = content

    def open(self, flags, caller, path):
        if (flags & os.O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EACCES)
        return BytesFile(self, flags, path, self._content())


class ProcMem(ProcNode):
    """/proc/<pid>/mem: the process's memory at file offset = address (the provider's file)."""

    def __init__(self, procfs, key, pid):
        super().__init__(procfs, key, st.S_IFREG | 0o600)
        self.pid = pid
        self.meta.uid, self.meta.gid = procfs.provider.owner(pid)

    def stat(self):
        return self.meta.to_stat()

    def open(self, flags, caller, path):
        return self.procfs.provider.open_mem(self.pid, flags, caller, path, self)


class ProcLink(ProcNode):
    def __init__(self, procfs, key, target: Callable[[], "bytes | None"]):
        super().__init__(procfs, key, st.S_IFLNK | 0o777)
        self._target = target

    def readlink(self, caller):
        t = self._target()
        if t is None:
            raise SyscallError(errno.ENOENT)
        return t


class FileRef(Inode):
    """What a /proc/<pid>/fd/N magic link leads to: the open file itself."""

    def __init__(self, file):
        self.file = file

    def stat(self):
        return self.file.fstat()

    def open(self, flags, caller, path):
        return self.file.reopen(flags, caller)


class ProcFdLink(ProcLink):
    def __init__(self, procfs, key, pid, fd):
        prov = procfs.provider
        super().__init__(procfs, key, lambda: _enc(prov.fds(pid).get(fd)))
        self.pid, self.fd = pid, fd

    def follow(self, caller):
        f = self.procfs.provider.fd_file(self.pid, self.fd)
        if f is not None:
            return FileRef(f)
        return self.readlink(caller)


class ProcDir(ProcNode):
    """A directory whose entries come from ``table()``: {name: () -> node}."""

    def __init__(self, procfs, key, parent, table: Callable[[], dict]):
        super().__init__(procfs, key, st.S_IFDIR | 0o555)
        self.parent = parent
        self._table = table

    def lookup(self, name, caller):
        make = self._table().get(name)
        if make is None:
            raise SyscallError(errno.ENOENT)
        return make()

    def entries(self, caller):
        out = []
        for name, make in self._table().items():
            node = make()
            out.append((name, node.stat().st_ino, st.mode_to_dtype(node.mode)))
        return out

    def open(self, flags, caller, path):
        if (flags & os.O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EISDIR)
        return DirFile(self, flags, path, caller)


class ProcRoot(ProcDir):
    """The top of /proc.  ``self`` depends on the caller, so lookup and
    entries take it."""

    def __init__(self, procfs, parent):
        super().__init__(procfs, "/", parent, procfs.top_table)

    def lookup(self, name, caller):
        if name == b"self":
            return ProcLink(self.procfs, "self", lambda: str(caller.pid).encode())
        if name == b"thread-self":
            tid = getattr(caller, "tid", None) or caller.pid
            return ProcLink(self.procfs, "thread-self", lambda: b"%d/task/%d" % (caller.pid, tid))
        if name.isdigit() and name not in self._table():
            # A thread's tid works as /proc/<tid> too (Linux lists only the leaders).
            pid = self.procfs.provider.tgid_of(int(name))
            if pid is not None:
                return self.procfs.pid_dir(pid, int(name))
        return super().lookup(name, caller)

    def entries(self, caller):
        return [(b"self", self.procfs.ino("self"), st.DT_LNK),
                (b"thread-self", self.procfs.ino("thread-self"), st.DT_LNK)] + super().entries(caller)


def _enc(s):
    return None if s is None else (s if isinstance(s, bytes) else s.encode())


#: The file system types the guest kernel has (what its mounts are made of).
_FILESYSTEMS = "nodev\tproc\nnodev\ttmpfs\nnodev\tdevtmpfs\nnodev\tpipefs\nnodev\toverlay\n"

_CPUINFO = (
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 0\n"
    "model name\t: umlpy virtual CPU\nstepping\t: 0\ncpu MHz\t\t: 1000.000\n"
    "cache size\t: 0 KB\nphysical id\t: 0\nsiblings\t: 1\ncore id\t\t: 0\ncpu cores\t: 1\n"
    "fpu\t\t: yes\nflags\t\t: fpu tsc cx8 cmov mmx fxsr sse sse2 syscall nx lm\n"
    "bogomips\t: 2000.00\naddress sizes\t: 46 bits physical, 48 bits virtual\n\n")


_VERSION = "Linux version 6.1.0-umlpy (umlpy) #1 SMP umlpy\n"


class ProcFS:
    """The /proc filesystem.  ``mounts()`` gives /proc/mounts text;
    ``mem_total_kb`` is what /proc/meminfo reports."""

    def __init__(self, provider: ProcProvider, parent, mounts: Callable[[], str],
                 mem_total_kb: int = 1 << 20):
        self.provider = provider
        self._mounts = mounts
        self.mem_total_kb = mem_total_kb
        self._inos: dict = {}
        self._extra: dict = {}
        self.root = ProcRoot(self, parent)

    def ino(self, key: str) -> int:
        n = self._inos.get(key)
        if n is None:
            n = self._inos[key] = 0x1000 + len(self._inos)
        return n

    def register(self, name: bytes, node_factory: Callable[["ProcFS"], Inode]):
        """Add a top-level entry, e.g. ``register(b"mm", make_mm_node)``."""
        self._extra[name] = node_factory

    def file(self, key, content, mode=0o444):
        return lambda: ProcFile(self, key, content, mode)

    def top_table(self) -> dict:
        p = self.provider
        t = {}
        for pid in sorted(p.pids()):
            t[str(pid).encode()] = (lambda pid=pid: self.pid_dir(pid))
        t[b"mounts"] = self.file("mounts", lambda: self._mounts().encode())
        t[b"cpuinfo"] = self.file("cpuinfo", lambda: _CPUINFO.encode())
        t[b"meminfo"] = self.file("meminfo", self._meminfo)
        t[b"stat"] = self.file("stat", self._stat)
        t[b"uptime"] = self.file("uptime", self._uptime)
        t[b"loadavg"] = self.file("loadavg", self._loadavg)
        t[b"version"] = self.file("version", lambda: _VERSION.encode())
        t[b"filesystems"] = self.file("filesystems", lambda: _FILESYSTEMS.encode())
        t[b"sys"] = lambda: self.sys_dir()
        for name, make in self._extra.items():
            t[name] = (lambda make=make: make(self))
        return t

    def _meminfo(self):
        kb = self.mem_total_kb
        free = self.provider.system().get("free_kb", kb // 2)
        rows = (("MemTotal", kb), ("MemFree", free), ("MemAvailable", free), ("Buffers", 0),
                ("Cached", 0), ("SwapCached", 0), ("Active", kb - free), ("Inactive", 0),
                ("SwapTotal", 0), ("SwapFree", 0), ("Dirty", 0), ("Shmem", 0), ("Slab", 0),
                ("SReclaimable", 0), ("SUnreclaim", 0))
        return "".join("%-15s %8d kB\n" % (name + ":", v) for name, v in rows).encode()

    def _stat(self):
        """/proc/stat: one virtual CPU; times in clock ticks (USER_HZ 100)."""
        s = self.provider.system()
        cpu = "%d 0 %d %d 0 0 0 0 0 0" % (s["user"], s["system"], s["idle"])
        return ("cpu  %s\ncpu0 %s\nintr 0\nctxt %d\nbtime %d\nprocesses %d\nprocs_running %d\n"
                "procs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"
                % (cpu, cpu, s["ctxt"], s["btime"], s["forks"], s["running"])).encode()

    def _uptime(self):
        s = self.provider.system()
        return ("%.2f %.2f\n" % (s["uptime"], s["idle"] / 100)).encode()

    def _loadavg(self):
        s = self.provider.system()
        return ("%.2f %.2f %.2f %d/%d %d\n" % (s["load"] + (s["running"], s["threads"], s["last_pid"]))).encode()

    def sys_dir(self):
        hostname = self.file("sys/kernel/hostname",
                             lambda: (self.provider.hostname() + "\n").encode(), 0o644)
        kernel = lambda: ProcDir(self, "sys/kernel", sys_node, lambda: {  # noqa: E731
            b"hostname": hostname,
            b"ostype": self.file("sys/kernel/ostype", lambda: b"Linux\n"),
            b"pid_max": self.file("sys/kernel/pid_max", lambda: b"32768\n"),
        })
        sys_node = ProcDir(self, "sys", self.root, lambda: {b"kernel": kernel})
        return sys_node

    def pid_dir(self, pid: int, tid: int | None = None, parent=None) -> ProcDir:
        """/proc/<pid>, or /proc/<pid>/task/<tid> when ``tid`` is given (the thread's view:
        its own stat, status and comm; no task/ inside)."""
        p = self.provider
        k = "%d/" % pid if tid is None else "%d/task/%d/" % (pid, tid)
        d = ProcDir(self, k, parent or self.root, lambda: table)
        fd_dir = lambda: ProcDir(self, k + "fd", d, lambda: {  # noqa: E731
            str(fd).encode(): (lambda fd=fd: ProcFdLink(self, "%sfd/%d" % (k, fd), pid, fd))
            for fd in sorted(p.fds(pid))})
        table = {
            b"exe": lambda: ProcLink(self, k + "exe", lambda: _enc(p.exe(pid))),
            b"cwd": lambda: ProcLink(self, k + "cwd", lambda: _enc(p.cwd(pid))),
            b"root": lambda: ProcLink(self, k + "root", lambda: b"/"),
            b"cmdline": self.file(k + "cmdline", lambda: p.cmdline(pid)),
            b"environ": self.file(k + "environ", lambda: p.environ(pid), 0o400),
            b"comm": self.file(k + "comm", lambda: p.comm(pid, tid), 0o644),
            b"stat": self.file(k + "stat", lambda: p.stat(pid, tid).encode()),
            b"statm": self.file(k + "statm", lambda: p.statm(pid).encode()),
            b"status": self.file(k + "status", lambda: p.status(pid, tid).encode()),
            b"limits": self.file(k + "limits", lambda: p.limits(pid).encode()),
            b"maps": self.file(k + "maps", lambda: p.maps(pid).encode()),
            b"mem": lambda: ProcMem(self, k + "mem", pid),
            b"mounts": self.file(k + "mounts", lambda: self._mounts().encode()),
            b"fd": fd_dir,
        }
        if tid is None:
            table[b"task"] = lambda: ProcDir(self, k + "task", d, lambda: {
                str(x).encode(): (lambda x=x: self.pid_dir(pid, x, d)) for x in p.tids(pid)})
        return d
