"""The Python API: boot a guest, run it to the end, get its status and output.

``umlpy.run`` is what the CLI and the tests call: it assembles a machine
(physical memory, platform, kernel, file namespace, console), starts the
first process and runs the guest until that process exits.
"""

import os
import stat

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.record import record
from umlpy.abi.signal import SIG_IGN, Sig
from umlpy.errors import SyscallError, UmlpyError
from umlpy.fs.console import ConsoleIO, ConsoleTty, std_files
from umlpy.fs.fdtable import FdTable
from umlpy.fs.vfs import VFS
from umlpy.kernel import aspace as kaspace, exec as kexec
from umlpy.kernel.clock import SeededRandom, VirtualClock
from umlpy.kernel.kernel import Kernel
from umlpy.kernel.procinfo import ProcInfo
from umlpy.kernel.task import Creds, FsContext, SignalHandlers, default_rlimits
from umlpy.kernel.ttyjob import TtyJobHost
from umlpy.mm.frames import FrameAllocator
from umlpy.platform import CpuPin, get_platform
from umlpy.platform.hostfds import guard_std_fds
from umlpy.platform.physmem import PhysMem
from umlpy.syscalls import default_table, install_proc_mm

DEFAULT_MEMORY = 1 << 30
_HERE = os.path.dirname(os.path.abspath(__file__))


def host_memory() -> int:
    """The host's RAM plus swap in bytes (0 if unknown): the most a guest could ever use."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("SwapTotal:"):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return total


def parse_size(text) -> int:
    """A memory size: an int, or text such as ``512M``, ``1G``, ``65536``, ``64k`` (binary units).

    ValueError (one line) for anything else or a size that is not positive."""
    if isinstance(text, int):
        value = text
    else:
        units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
        t = str(text).strip().lower()
        if t.endswith("ib"):
            t = t[:-2]
        elif t.endswith("b"):
            t = t[:-1]
        mult = 1
        if t and t[-1] in units:
            mult = units[t[-1]]
            t = t[:-1]
        if not t.isdigit():
            raise ValueError("bad size %r (e.g. 512M, 1G)" % text)
        value = int(t) * mult
    if value <= 0:
        raise ValueError("size must be positive")
    return value


def default_image() -> str:
    """The built-in default root image (a directory)."""
    env = os.environ.get("UMLPY_IMAGE")
    if env:
        if not os.path.isdir(os.path.join(env, ".")):
            raise UmlpyError("UMLPY_IMAGE=%s is not a directory" % env)
        return env
    installed = os.path.join(_HERE, "_image", "rootfs")
    source = os.path.join(os.path.dirname(_HERE), "guest_images", "build", "rootfs")
    for cand in (installed, source):
        if os.path.isdir(cand):
            return cand
    if os.path.isdir(os.path.join(os.path.dirname(_HERE), "guest_images")):
        raise UmlpyError("the default guest image is not built: run 'make images'")
    raise UmlpyError("this umlpy was installed without its default guest image (musl-gcc was "
                     "missing when it was built): install musl-tools and reinstall umlpy, set "
                     "UMLPY_IMAGE=DIR, or give a PROGRAM to run")



def host_ignored_signals() -> list:
    """The signals umlpy was started with ignored (SigIgn of /proc/self/status), which
    the guest's first process inherits as a program inherits them across exec.

    SIGPIPE and SIGXFSZ are left out: CPython ignores them at start-up, so their
    dispositions tell nothing about umlpy's parent (subprocess resets them alike);
    SIGKILL and SIGSTOP cannot be ignored."""
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"SigIgn:"):
                    mask = int(line.split()[1], 16)
                    break
            else:
                return []
    except (OSError, ValueError, IndexError):
        return []
    skip = {int(Sig.SIGPIPE), int(Sig.SIGXFSZ), int(Sig.SIGKILL), int(Sig.SIGSTOP)}
    return [n for n in range(1, 65) if mask >> (n - 1) & 1 and n not in skip]

@record(norepr=("kernel",))
class RunResult:
    """How a guest run ended."""

    status: int                 # wait(2) status of the first process
    stdout: bytes = b""
    stderr: bytes = b""
    kernel: object = None
    trace: bytes = b""

    @property
    def exit_code(self) -> int:
        """As a shell reports it: the exit code, or 128 + the signal number."""
        if self.status & 0x7F:
            return 128 + (self.status & 0x7F)
        return (self.status >> 8) & 0xFF

    @property
    def signal(self) -> int:
        return self.status & 0x7F

    @property
    def returncode(self) -> int:
        """As subprocess reports it: the exit code, or -signal."""
        return -self.signal if self.signal else (self.status >> 8) & 0xFF


def guest_env(env=None) -> list:
    """The minimal environment: PATH, HOME, TERM (from the host) plus ``env``.

    What a guest of a root image gets, and a host program with ``clean_env``
    (or a deterministic run)."""
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root"}
    if os.environ.get("TERM"):
        base["TERM"] = os.environ["TERM"]
    if env:
        base.update(env)
    return [("%s=%s" % (k, v)).encode() for k, v in base.items()]


def host_env(env=None) -> list:
    """The user's environment as strace passes it to a host program, plus ``env``."""
    base = dict(os.environb)
    for k, v in (env or {}).items():
        base[os.fsencode(k)] = os.fsencode(v)
    return [k + b"=" + v for k, v in base.items()]


def find_program(name: str, path=None) -> str:
    """The host file a host PROGRAM names, as strace finds it.

    A name with a slash is used as it is; one without is looked up in the
    directories of ``path`` (default: $PATH), the first regular file with an
    execute bit winning.  UmlpyError when nothing is found."""
    if "/" in name:
        return name
    if not name:
        raise UmlpyError("an empty program name")
    dirs = (os.environ.get("PATH", os.defpath) if path is None else path).split(os.pathsep)
    for d in dirs:
        cand = os.path.join(d or ".", name)
        try:
            s = os.stat(cand)
        except OSError:
            continue
        if stat.S_ISREG(s.st_mode) and s.st_mode & 0o111:
            return cand
    raise UmlpyError("%s: command not found (looked up in $PATH)" % name)


def _find_in_guest(k, caller, name: bytes, path: bytes) -> bytes:
    """A PROGRAM without a slash inside a root image: looked up in the guest's $PATH."""
    for d in path.split(b":"):
        cand = (d or b".").rstrip(b"/") + b"/" + name
        try:
            s = k.vfs.stat(caller, cand)
        except SyscallError:
            continue
        if stat.S_ISREG(s.st_mode) and s.st_mode & 0o111:
            return cand
    raise UmlpyError("%s: command not found in the guest's root (looked up in $PATH)"
                     % name.decode(errors="replace"))


def _check_program(path: str, st_mode: int, st_size: int, limit: int):
    """A PROGRAM that cannot be an executable fails at once, in one line."""
    if stat.S_ISDIR(st_mode):
        raise UmlpyError("%s: is a directory" % path)
    if not stat.S_ISREG(st_mode):
        kind = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
                stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}.get(stat.S_IFMT(st_mode), "not a file")
        raise UmlpyError("%s: is %s, not a program (Permission denied)" % (path, kind))
    if st_size > limit:
        raise UmlpyError("%s: too large to load (%d bytes, more than the guest's memory of %d)"
                         % (path, st_size, limit))


def _parse_binds(specs) -> list:
    """``--bind`` strings (or ready (host, guest, ro) tuples) -> [(host, guest, ro)]."""
    from umlpy.fs.bindfs import parse_bind
    out = []
    for spec in specs or ():
        if isinstance(spec, tuple):
            out.append(spec)
            continue
        try:
            out.append(parse_bind(spec))
        except ValueError as e:
            raise UmlpyError(str(e)) from None
    return out


class Machine:
    """One guest: its memory, platform, kernel and files.  Use as a context manager."""

    def __init__(self, *, rootfs=None, platform="auto", memory=DEFAULT_MEMORY, console=None,
                 tracer=None, clock=None, random_bytes=None, hostname=b"umlpy", pin_cpu=None,
                 vas_store=None, binds=(), net="loopback"):
        if memory < 16 * PAGE_SIZE or memory % PAGE_SIZE:
            raise UmlpyError("--memory must be a multiple of 4096 and at least 64 KiB")
        #: Which of the host's fds 0-2 were closed when umlpy started: the guest's are too.
        self.closed_std_fds = guard_std_fds()
        self.rootfs = rootfs if rootfs is not None else default_image()
        if not os.path.isdir(self.rootfs):
            raise UmlpyError("root image %s is not a directory" % self.rootfs)
        #: The guest's root is the host's (host programs, as strace runs them).
        self.host_root = os.path.realpath(self.rootfs) == "/"
        #: With console="terminal" the host terminal on fds 0/1 becomes a guest terminal
        #: (``ConsoleTty``: raw host mode, the guest's own line discipline and job control).
        self.terminal = console == "terminal"
        self.console_tty = None
        if self.terminal:
            console = None
        self.console = console or (ConsoleIO(read_fd=0), ConsoleIO(write_fd=1), ConsoleIO(write_fd=2))
        if pin_cpu is None:
            pin_cpu = os.environ.get("UMLPY_PIN_CPU", "1") != "0"
        host = host_memory()
        if host and memory > host:
            raise UmlpyError("--memory %d: more than this host has (RAM and swap: %d MiB)"
                             % (memory, host >> 20))
        try:
            self.physmem = PhysMem(memory)
        except (OSError, OverflowError, MemoryError) as e:
            raise UmlpyError("cannot reserve %d bytes of guest memory on this host (%s): "
                             "give a smaller --memory" % (memory, getattr(e, "strerror", None) or e)) from None
        try:
            # The platform starts a stub ahead; made before the supervisor pins itself
            # to one CPU, the stub comes up on another one while the machine is built
            # (it joins the supervisor's CPU when it is taken: StubProc.share_cpu).
            self.platform = get_platform(platform, self.physmem)
        except BaseException:
            self.physmem.close()
            raise
        try:
            self.pin = CpuPin() if pin_cpu else None
        except BaseException:
            self.platform.close()
            self.physmem.close()
            raise
        frames = FrameAllocator(self.physmem)
        self.binds = _parse_binds(binds)

        def vfs_factory(k):
            host = TtyJobHost(k)
            if self.terminal:
                self.console_tty = ConsoleTty(host, 0, 1)
            try:
                return VFS(self.rootfs, ProcInfo(k), console=self.console[1], random_bytes=k.random_bytes,
                           mem_total_kb=memory // 1024, tty_host=host, console_tty=self.console_tty,
                           binds=self.binds)
            except SyscallError as e:
                if not self.binds:
                    raise
                raise UmlpyError("--bind: cannot mount %s: %s" % (
                    ", ".join(os.fsdecode(g) for _, g, _ in self.binds), os.strerror(e.errno))) from None

        self.kernel = Kernel(platform=self.platform, frames=frames, vfs_factory=vfs_factory,
                             table=default_table(), hostname=hostname, memory_limit=memory,
                             clock=clock, random_bytes=random_bytes, tracer=tracer)
        install_proc_mm(self.kernel)
        if net not in ("loopback", "none"):
            raise UmlpyError("--net %s: loopback or none" % net)
        self.kernel.net_mode = net
        if vas_store is not None:
            self.kernel.vas.open_store(vas_store)
        self.kernel.hooks.attach(self.kernel)

    def start(self, program: str, argv: list, env: list, *, host_program: bool, cwd=None):
        """Create the first process (pid 1) running ``program``.

        ``host_program``: ``program`` is a host file.  When the guest's root is
        the host's (``rootfs="/"``) it is found through the guest's own file
        namespace, relative to ``cwd``; with another root image it is read from
        the host as it is.  Otherwise it is a path in the guest's root (looked up
        in the guest's $PATH when it has no slash).  ``cwd``: the guest
        directory the process starts in (default ``/``).
        """
        k = self.kernel
        if host_program and self.host_root:
            # A host program runs as the user who starts it, as under strace, and sees
            # host files with their owners (fs: DEV_HOSTROOT); a root image's guest is root.
            uid, gid = os.getuid(), os.getgid()
            groups = tuple(x for x in os.getgroups() if x != gid)
            creds = Creds(uid=uid, euid=uid, suid=uid, fsuid=uid, gid=gid, egid=gid, sgid=gid, fsgid=gid,
                          groups=groups)
        else:
            creds = Creds()
        handlers = SignalHandlers()
        for signo in host_ignored_signals():
            # As exec keeps ignored signals ignored: `nohup umlpy run prog` or a
            # background job's prog starts with SIGHUP or SIGINT ignored, as natively.
            handlers.actions[signo].handler = SIG_IGN
        g = k.new_group(None, creds, handlers, default_rlimits(k.memory_limit))
        k.init = g
        files = FdTable()
        files.users = 1
        ct = self.console_tty
        closed = self.closed_std_fds
        if ct is not None:
            # The console is pid 1's controlling terminal (as a login's terminal is).
            f = ct.open_file(os.O_RDWR)
            files.install_at(0, f)
            files.install_at(1, f)
            if ConsoleTty.usable(0, 2):
                files.install_at(2, f)
            elif self.console[2].write_fd not in closed:
                files.install_at(2, std_files(*self.console)[2])
            g.tty, ct.tty.session, ct.tty.pgrp = ct.tty, g.sid, g.pgid
            k.watch_host_fd(ct.read_fd, ct.pump)
            winch = ct.watch_resizes()
            if winch is not None:
                k.watch_host_fd(winch, ct.resized)
        else:
            for fd, (io, f) in enumerate(zip(self.console, std_files(*self.console))):
                if io.read_fd in closed or io.write_fd in closed:
                    continue        # closed on the host (umlpy run prog <&-): closed in the guest
                files.install_at(fd, f)
        ctx = self.platform.new_context()
        fs = FsContext()
        # A placeholder MM until the image is loaded (exec replaces it).
        t = k.new_task(g.tgid, g, ctx, None, files, fs)
        bargv = [a.encode() if isinstance(a, str) else a for a in argv]
        bprog = program.encode() if isinstance(program, str) else program
        if cwd is not None:
            try:
                fs.cwd = k.vfs.chdir(k.caller(t), os.fsencode(cwd))
            except SyscallError as e:
                raise UmlpyError("cannot start in %s: %s" % (cwd, os.strerror(e.errno))) from None
        if host_program and not self.host_root:
            try:
                s = os.stat(program)
                _check_program(program, s.st_mode, s.st_size, k.memory_limit)
                with open(program, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise UmlpyError("%s: %s" % (program, e.strerror)) from None
            guest_path = os.path.abspath(program).encode()
            stack_argv = bargv
        else:
            caller = k.caller(t)
            if not host_program and b"/" not in bprog:
                path = next((e[5:] for e in env if e.startswith(b"PATH=")), b"")
                bprog = _find_in_guest(k, caller, bprog, path)
            where = "" if self.host_root else " (in the guest's root %s)" % self.rootfs
            try:
                s = k.vfs.stat(caller, bprog)
                _check_program(program, s.st_mode, s.st_size, k.memory_limit)
                data, guest_path = kexec.read_image(t, bprog)
                data, guest_path, stack_argv = kexec.follow_scripts(t, data, guest_path, bprog, bargv)
            except SyscallError as e:
                raise UmlpyError("%s: %s%s" % (program, os.strerror(e.errno), where)) from None
        try:
            img, interp = kexec.prepare_image(t, data, program)
        except SyscallError as e:
            raise UmlpyError("%s: its interpreter: %s" % (program, os.strerror(e.errno))) from None
        try:
            mm, res = kexec.load_into_new_mm(t, img, interp, stack_argv, env, bprog)
        except SyscallError as e:
            raise UmlpyError("%s: cannot be loaded: %s" % (program, os.strerror(e.errno))) from None
        kaspace.exec_mm(t, mm)
        g.exe = guest_path.decode(errors="surrogateescape")
        g.cmdline = b"".join(a + b"\0" for a in stack_argv)
        g.environ = b"".join(e + b"\0" for e in env)
        g.image = (g.exe, data, res.load_bias)
        t.comm = bprog.rsplit(b"/", 1)[-1][:15]     # the name run, as Linux's comm (not a link's target)
        kexec.start_regs(ctx, res.entry, res.sp)
        k.update_fast(t)
        # The pointers as the new image has them: AT_EXECFN, argv and envp on its stack.
        envp_addr = res.sp + 8 * (len(stack_argv) + 2)
        execfn = dict(res.auxv).get(31, 0)
        k.hooks.initial_exec(t, bprog, bargv, len(env), envp_addr, (execfn, res.sp + 8, envp_addr))
        k.runq.append(t)
        return t

    def run(self) -> int:
        if self.console_tty is not None:
            self.console_tty.raw()
        try:
            return self.kernel.run()
        finally:
            if self.console_tty is not None:
                self.console_tty.restore()

    def close(self):
        if self.console_tty is not None:
            self.console_tty.restore()
            self.console_tty.unwatch_resizes()
        try:
            self.kernel.hooks.close()
            self.kernel.vas.close()
            self.kernel.shutdown()
            self.physmem.close()
        finally:
            if self.pin is not None:
                self.pin.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def run(argv, *, rootfs=None, platform="auto", env=None, memory=DEFAULT_MEMORY, stdin=None,
        capture=True, tracer=None, clock=None, random_bytes=None, pin_cpu=None,
        deterministic=False, trace=None, clean_env=None, cwd=None, gdb=None,
        vas_store=None, binds=(), net="loopback") -> RunResult:
    """Run ``argv`` as the guest's first process and return how it ended.

    Without ``rootfs``, ``argv[0]`` is a host program, run as strace runs it:
    looked up in $PATH when it has no slash; the guest's root is the host's
    (read-only: the guest's writes stay in its overlay), it starts in ``cwd``
    (default: the current directory) and gets the user's environment.  With
    ``rootfs`` (a directory), ``argv[0]`` is a path inside the guest's root (or
    a name looked up in the guest's $PATH), the guest starts in ``/`` and gets
    the minimal environment (:func:`guest_env`).  ``env``: variables added to
    either.  ``clean_env``: the minimal environment for a host program too
    (always so with ``deterministic``).  ``capture``: collect the guest's
    stdout/stderr in the result (else they go to the host's).  ``stdin``:
    bytes for the guest's stdin (None: empty when capturing, else the
    host's).  ``deterministic``: virtual clock and seeded randomness, so that
    two runs behave (and trace) byte for byte the same.  ``gdb``: a TCP port:
    before the first instruction, wait for gdb's remote protocol on
    localhost:``gdb`` and let gdb debug the first process (``umlpy.gdbstub``).
    ``vas_store``: a directory that keeps VAS segments across runs (``--vas-store``).
    ``binds``: ``HOST:GUEST[:ro|rw]`` strings (``--bind``): host directories the guest sees
    at GUEST and may change (read-write unless ``:ro``), the only way it changes host files.
    ``net``: what inet sockets reach (``--net``): ``loopback``, the guest's own private
    127.0.0.1/::1 (default), or ``none`` (EAFNOSUPPORT).
    """
    if not argv:
        raise UmlpyError("nothing to run")
    if gdb is not None and (trace is not None or tracer is not None):
        raise UmlpyError("--gdb cannot be combined with tracing (yet)")
    if trace is not None:
        return run_traced(argv, trace, rootfs=rootfs, platform=platform, env=env, memory=memory,
                          stdin=stdin, capture=capture, clock=clock, random_bytes=random_bytes,
                          pin_cpu=pin_cpu, deterministic=deterministic, clean_env=clean_env, cwd=cwd,
                          vas_store=vas_store, binds=binds, net=net)
    if gdb is not None:
        from umlpy.gdbstub.server import GdbStub
        tracer = GdbStub(gdb)
    if deterministic:
        clock = clock or VirtualClock()
        random_bytes = random_bytes or SeededRandom(0)
    host_program = rootfs is None
    program = argv[0]
    if host_program:
        program = find_program(os.fsdecode(program))
        rootfs = "/"
        cwd = os.getcwd() if cwd is None else cwd
        clean = deterministic or bool(clean_env)
    else:
        clean = True
    envp = guest_env(env) if clean else host_env(env)
    out, err = bytearray(), bytearray()
    if capture:
        console = (ConsoleIO(input=stdin or b""), ConsoleIO(write=out.extend), ConsoleIO(write=err.extend))
    elif stdin is None and ConsoleTty.usable(0, 1):
        console = "terminal"           # the host terminal becomes the guest's console tty
    else:
        console = (ConsoleIO(input=stdin) if stdin is not None else ConsoleIO(read_fd=0),
                   ConsoleIO(write_fd=1), ConsoleIO(write_fd=2))
    with Machine(rootfs=rootfs, platform=platform, memory=memory, console=console, tracer=tracer,
                 clock=clock, random_bytes=random_bytes, pin_cpu=pin_cpu, vas_store=vas_store,
                 binds=binds, net=net) as m:
        m.start(program, list(argv), envp, host_program=host_program, cwd=cwd)
        status = m.run()
        return RunResult(status, bytes(out), bytes(err), m.kernel)


def run_traced(argv, options=None, **kwargs) -> RunResult:
    """Run ``argv`` like :func:`run`, traced with ``options`` (a TraceOptions).

    Trace lines go to ``options.output`` or, by default, into the result's
    ``trace`` attribute (bytes).
    """
    from umlpy.trace.options import TraceOptions
    from umlpy.trace.tracer import Tracer
    options = options or TraceOptions()
    buf = bytearray()
    tracer = Tracer(options, stderr=None if options.output else buf.extend)
    if options.deterministic:
        kwargs["deterministic"] = True
    res = run(argv, tracer=tracer, **kwargs)
    res.trace = bytes(buf)
    return res
