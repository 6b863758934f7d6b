"""The Python API: boot a guest, run it to the end, get its status and output.

``umlpy.run`` is what the CLI and the tests call: it assembles a machine
(physical memory, platform, kernel, file namespace, console), starts the
first process and runs the guest until that process exits.
"""

import os
from dataclasses import dataclass, field

from umlpy.abi.memory import PAGE_SIZE
from umlpy.errors import SyscallError, UmlpyError
from umlpy.fs.console import ConsoleIO, std_files
from umlpy.fs.fdtable import FdTable
from umlpy.fs.vfs import VFS
from umlpy.kernel import aspace as kaspace, exec as kexec
from umlpy.kernel.clock import SeededRandom, VirtualClock
from umlpy.kernel.kernel import Kernel
from umlpy.kernel.procinfo import ProcInfo
from umlpy.kernel.task import Creds, FsContext, SignalHandlers, default_rlimits
from umlpy.mm.frames import FrameAllocator
from umlpy.platform import CpuPin, get_platform
from umlpy.platform.hostfds import guard_std_fds
from umlpy.platform.physmem import PhysMem
from umlpy.syscalls import default_table
from umlpy.syscalls.mmext import install_proc_mm

DEFAULT_MEMORY = 1 << 30
_HERE = os.path.dirname(os.path.abspath(__file__))


def default_image() -> str:
    """The built-in default root image (a directory)."""
    for cand in (os.environ.get("UMLPY_IMAGE"),
                 os.path.join(_HERE, "_image", "rootfs"),
                 os.path.join(os.path.dirname(_HERE), "guest_images", "build", "rootfs")):
        if cand and os.path.isdir(cand):
            return cand
    raise UmlpyError("the default guest image is not built: run 'make images'")


@dataclass
class RunResult:
    """How a guest run ended."""

    status: int                 # wait(2) status of the first process
    stdout: bytes = b""
    stderr: bytes = b""
    kernel: object = field(default=None, repr=False)
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
    """The first process's environment: PATH, HOME, TERM (from the host) plus ``env``."""
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/root"}
    if os.environ.get("TERM"):
        base["TERM"] = os.environ["TERM"]
    if env:
        base.update(env)
    return [("%s=%s" % (k, v)).encode() for k, v in base.items()]


class Machine:
    """One guest: its memory, platform, kernel and files.  Use as a context manager."""

    def __init__(self, *, rootfs=None, platform="auto", memory=DEFAULT_MEMORY, console=None,
                 tracer=None, clock=None, random_bytes=None, hostname=b"umlpy", pin_cpu=None,
                 vas_store=None):
        if memory < 16 * PAGE_SIZE or memory % PAGE_SIZE:
            raise UmlpyError("--memory must be a multiple of 4096 and at least 64 KiB")
        #: Which of the host's fds 0-2 were closed when umlpy started: the guest's are too.
        self.closed_std_fds = guard_std_fds()
        self.rootfs = rootfs if rootfs is not None else default_image()
        if not os.path.isdir(self.rootfs):
            raise UmlpyError("root image %s is not a directory" % self.rootfs)
        self.console = console or (ConsoleIO(read_fd=0), ConsoleIO(write_fd=1), ConsoleIO(write_fd=2))
        if pin_cpu is None:
            pin_cpu = os.environ.get("UMLPY_PIN_CPU", "1") != "0"
        self.pin = CpuPin() if pin_cpu else None
        self.physmem = PhysMem(memory)
        try:
            self.platform = get_platform(platform, self.physmem)
        except BaseException:
            self.physmem.close()
            if self.pin is not None:
                self.pin.release()
            raise
        frames = FrameAllocator(self.physmem)

        def vfs_factory(k):
            return VFS(self.rootfs, ProcInfo(k), console=self.console[1], random_bytes=k.random_bytes,
                       mem_total_kb=memory // 1024)

        self.kernel = Kernel(platform=self.platform, frames=frames, vfs_factory=vfs_factory,
                             table=default_table(), hostname=hostname, memory_limit=memory,
                             clock=clock, random_bytes=random_bytes, tracer=tracer)
        install_proc_mm(self.kernel)
        if vas_store is not None:
            self.kernel.vas.open_store(vas_store)
        self.kernel.hooks.attach(self.kernel)

    def start(self, program: str, argv: list, env: list, *, host_program: bool):
        """Create the first process (pid 1) running ``program``."""
        k = self.kernel
        creds = Creds()
        g = k.new_group(None, creds, SignalHandlers(), default_rlimits(k.memory_limit))
        k.init = g
        files = FdTable()
        files.users = 1
        for fd, (io, f) in enumerate(zip(self.console, std_files(*self.console))):
            if io.read_fd in self.closed_std_fds or io.write_fd in self.closed_std_fds:
                continue        # closed on the host (umlpy run prog <&-): closed in the guest
            files.install_at(fd, f)
        ctx = self.platform.new_context()
        fs = FsContext()
        # A placeholder MM until the image is loaded (exec replaces it).
        t = k.new_task(g.tgid, g, ctx, None, files, fs)
        bargv = [a.encode() if isinstance(a, str) else a for a in argv]
        bprog = program.encode() if isinstance(program, str) else program
        if host_program:
            try:
                with open(program, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise UmlpyError("%s: %s" % (program, e.strerror)) from None
            guest_path = os.path.abspath(program).encode()
        else:
            try:
                data, guest_path = kexec.read_image(t, bprog)
            except SyscallError as e:
                raise UmlpyError("%s: %s (in the guest's root %s)"
                                 % (program, os.strerror(e.errno), self.rootfs)) from None
        try:
            img, interp = kexec.prepare_image(t, data, program)
        except SyscallError as e:
            raise UmlpyError("%s: its interpreter: %s" % (program, os.strerror(e.errno))) from None
        try:
            mm, res = kexec.load_into_new_mm(t, img, interp, bargv, env, bprog)
        except SyscallError as e:
            raise UmlpyError("%s: cannot be loaded: %s" % (program, os.strerror(e.errno))) from None
        kaspace.exec_mm(t, mm)
        g.exe = guest_path.decode(errors="surrogateescape")
        g.cmdline = b"".join(a + b"\0" for a in bargv)
        g.image = (g.exe, data, res.load_bias)
        t.comm = guest_path.rsplit(b"/", 1)[-1][:15]
        kexec.start_regs(ctx, res.entry, res.sp)
        k.update_fast(t)
        # The pointers as the new image has them: AT_EXECFN, argv and envp on its stack.
        envp_addr = res.sp + 8 * (len(bargv) + 2)
        execfn = dict(res.auxv).get(31, 0)
        k.hooks.initial_exec(t, bprog, bargv, len(env), envp_addr, (execfn, res.sp + 8, envp_addr))
        k.runq.append(t)
        return t

    def run(self) -> int:
        return self.kernel.run()

    def close(self):
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
        deterministic=False, trace=None, vas_store=None) -> RunResult:
    """Run ``argv`` as the guest's first process and return how it ended.

    Without ``rootfs``, ``argv[0]`` is a host file and the guest's root is the
    default image; with it, ``argv[0]`` is a path inside the guest's root.
    ``capture``: collect the guest's stdout/stderr in the result (else they go
    to the host's).  ``stdin``: bytes for the guest's stdin (None: empty when
    capturing, else the host's).  ``deterministic``: virtual clock and seeded
    randomness, so that two runs behave (and trace) byte for byte the same.
    ``vas_store``: a directory that keeps VAS segments across runs (``--vas-store``).
    """
    if not argv:
        raise UmlpyError("nothing to run")
    if trace is not None:
        return run_traced(argv, trace, rootfs=rootfs, platform=platform, env=env, memory=memory,
                          stdin=stdin, capture=capture, clock=clock, random_bytes=random_bytes,
                          pin_cpu=pin_cpu, deterministic=deterministic, vas_store=vas_store)
    if deterministic:
        clock = clock or VirtualClock()
        random_bytes = random_bytes or SeededRandom(0)
    out, err = bytearray(), bytearray()
    if capture:
        console = (ConsoleIO(input=stdin or b""), ConsoleIO(write=out.extend), ConsoleIO(write=err.extend))
    else:
        console = (ConsoleIO(input=stdin) if stdin is not None else ConsoleIO(read_fd=0),
                   ConsoleIO(write_fd=1), ConsoleIO(write_fd=2))
    host_program = rootfs is None
    program = argv[0]
    with Machine(rootfs=rootfs, platform=platform, memory=memory, console=console, tracer=tracer,
                 clock=clock, random_bytes=random_bytes, pin_cpu=pin_cpu, vas_store=vas_store) as m:
        m.start(program, list(argv), guest_env(env), host_program=host_program)
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
