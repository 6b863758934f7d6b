"""A scripted fake Platform for kernel unit tests, and a one-task machine built on it.

``FakeContext.switch`` plays a script: each entry is a Stop, or a callable ``f(regs)`` that
may change the registers (the guest "running") and returns the Stop.  Before each entry the
registers are recorded in ``ctx.seen`` so that tests can check what the guest saw (results of
the previous system call in rax...).
"""


from umlpy.abi.memory import PAGE_SIZE, STACK_SIZE, STACK_TOP
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE
from umlpy.abi.regs import USER_REGS_FIELDS
from umlpy.fs.console import ConsoleIO, std_files
from umlpy.fs.fdtable import FdTable
from umlpy.fs.vfs import VFS
from umlpy.kernel.kernel import Kernel
from umlpy.kernel.procinfo import ProcInfo
from umlpy.kernel.task import Creds, FsContext, SignalHandlers, default_rlimits
from umlpy.mm.mm import MM
from umlpy.platform.base import Context, Platform, Stop, StopKind



from umlpy_test_fakes import FakeHostAddressSpace  # noqa: E402  (tests/unit/conftest.py)
M64 = (1 << 64) - 1
TEXT = 0x400000
DATA = 0x600000


class Regs:
    """struct user_regs_struct as attributes; every value must already be an unsigned 64-bit int."""

    __slots__ = USER_REGS_FIELDS

    def __init__(self):
        for f in USER_REGS_FIELDS:
            object.__setattr__(self, f, 0)

    def __setattr__(self, name, value):
        assert isinstance(value, int) and 0 <= value <= M64, (name, value)
        object.__setattr__(self, name, value)

    def as_dict(self):
        return {f: getattr(self, f) for f in USER_REGS_FIELDS}

    def load(self, d):
        for f, v in d.items():
            setattr(self, f, v)


class ScriptExhausted(AssertionError):
    pass


class FakeContext(Context):
    def __init__(self, platform):
        self.platform = platform
        self.regs = Regs()
        self.script = []
        self.seen = []              # registers at each switch, before the script entry ran
        self.fast = {}
        self.fast_clears = 0
        self.xstate = None
        self.xstate_counter = 0
        self.restored = []
        self.saved_from = []

    def feed(self, *entries):
        self.script.extend(entries)

    def switch(self, aspace):
        assert isinstance(aspace, FakeHostAddressSpace)
        aspace.flush()
        self.seen.append(self.regs.as_dict())
        if not self.script:
            raise ScriptExhausted("the kernel ran the guest past the end of the script")
        entry = self.script.pop(0)
        stop = entry(self.regs) if callable(entry) else entry
        assert isinstance(stop, Stop), stop
        return stop

    def copy_from(self, other):
        self.regs.load(other.regs.as_dict())
        self.xstate = other.xstate

    def save_state(self, aspace):
        self.saved_from.append(aspace)

    def xstate_snapshot(self, aspace):
        self.xstate_counter += 1
        self.xstate = ("xstate", self.xstate_counter)
        return self.xstate

    def xstate_restore(self, aspace, state):
        self.restored.append(state)
        self.xstate = state

    def set_fast_result(self, nr, value):
        self.fast[nr] = value

    def clear_fast_results(self):
        self.fast_clears += 1
        self.fast = {}


class FakePlatform(Platform):
    name = "fake"

    def __init__(self, physmem):
        super().__init__(physmem)
        self.spaces = []
        self.contexts = []
        self.closed = False

    def new_address_space(self):
        a = FakeHostAddressSpace()
        self.spaces.append(a)
        return a

    def new_context(self):
        c = FakeContext(self)
        self.contexts.append(c)
        return c

    def close(self):
        self.closed = True


# --- script entries -----------------------------------------------------------------------------

def syscall(nr, *args, check=None):
    """A script entry: the guest executes ``syscall`` with number ``nr`` and ``args``.

    ``check(regs)`` (optional) runs first, on the registers the guest sees.
    """
    def run(regs):
        if check is not None:
            check(regs)
        regs.orig_rax = nr & M64
        regs.rax = nr & M64
        for name, v in zip(("rdi", "rsi", "rdx", "r10", "r8", "r9"), args + (0,) * (6 - len(args))):
            setattr(regs, name, v & M64)
        regs.rip = (regs.rip + 2) & M64
        return Stop(StopKind.SYSCALL)
    return run


def fault(addr, is_write=0, signo=11, code=1):
    return Stop(StopKind.FAULT, signo=signo, code=code, addr=addr, is_write=is_write, trap_no=14)


# --- a machine with one task -------------------------------------------------------------------

class Machine:
    """A Kernel on a FakePlatform with pid 1 in a small address space (text, data, stack)."""

    def __init__(self, frames, rootfs, table, creds=None):
        self.out = bytearray()
        self.platform = FakePlatform(frames.physmem)
        console = ConsoleIO(write=self.out.extend)

        def vfs_factory(k):
            return VFS(str(rootfs), ProcInfo(k), console=console, random_bytes=lambda n: b"\x5a" * n)

        self.kernel = k = Kernel(platform=self.platform, frames=frames, vfs_factory=vfs_factory, table=table,
                                 random_bytes=lambda n: b"\x11" * n)
        g = k.new_group(None, creds or Creds(), SignalHandlers(), default_rlimits(k.memory_limit))
        k.init = g
        files = FdTable()
        files.users = 1
        for fd, f in enumerate(std_files(ConsoleIO(input=b""), console, console)):
            files.install_at(fd, f)
        self.ctx = ctx = self.platform.new_context()
        mm = MM(frames, self.platform.new_address_space())
        mm.mmap(TEXT, PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        mm.mmap(DATA, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        mm.mmap(STACK_TOP - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        mm.start_brk = mm.brk = DATA + 4 * PAGE_SIZE
        self.mm = mm
        self.task = t = k.new_task(g.tgid, g, ctx, mm, files, FsContext())
        r = ctx.regs
        r.rip, r.rsp, r.cs, r.ss, r.eflags = TEXT, STACK_TOP - 0x1000, 0x33, 0x2B, 0x202
        r.orig_rax = M64
        k.update_fast(t)
        k.runq.append(t)

    def run(self, *script):
        self.ctx.feed(*script)
        return self.kernel.run()


