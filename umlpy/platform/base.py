"""The platform interface: the only door between the guest kernel and the host.

A :class:`Platform` makes :class:`HostAddressSpace` objects (one host stub
process each) and :class:`Context` objects (one guest register set each), and
runs a context in an address space until the guest stops (:meth:`Context.switch`).

Everything above this package sees guest memory as offsets into the
supervisor's :class:`~umlpy.platform.physmem.PhysMem` file and asks the host
address space to map those offsets with ``map``/``unmap``/``protect``.  These
calls are queued and merged (UML SKAS0 style): they reach the host in one
batch, in one ptrace round trip, when :meth:`HostAddressSpace.flush` runs,
which the platform does before the guest runs again.  The first failure of a
batch is sticky and raised by ``flush``.

Nothing in this module touches the host: the ptrace implementations live in
``umlpy.platform.shim`` (C, cffi) and ``umlpy.platform.pyptrace`` (python-ptrace).
"""

import enum
import sys

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.record import record


class StopKind(enum.IntEnum):
    """Why :meth:`Context.switch` returned."""

    SYSCALL = 1     # the guest executed a system call; it was NOT run by the host
    FAULT = 2       # a memory access fault (SIGSEGV/SIGBUS from the MMU)
    SIGNAL = 3      # another synchronous trap (SIGILL, SIGFPE, SIGTRAP, a general protection fault...)
    EXIT = 4        # the host stub died or failed (Stop.status, Stop.err): that guest process's end
    PREEMPT = 5     # the stub was stopped (SIGSTOP) to give the CPU to another task
    INTERRUPT = 6   # a host signal for the supervisor arrived; the guest is still running
    TRACE_FULL = 7  # reserved; a full trace ring or spent fast budget gives a SYSCALL stop


class Entry(enum.IntEnum):
    """How the guest entered the kernel at a SYSCALL stop (Stop.entry, Context.entry)."""

    SYSCALL = 0     # the syscall instruction: x86-64 numbers, rdi rsi rdx r10 r8 r9
    INT80 = 1       # int $0x80 from 64-bit code: i386 numbers (orig_rax), ebx ecx edx esi edi ebp
    VSYSCALL = 2    # a call into the legacy vsyscall page: rip is the entry point called
                    # (0xffffffffff600000 + 0, 0x400 or 0x800), the return address at [rsp],
                    # orig_rax the x86-64 number of the call the host identified


@record(slots=True)
class Stop:
    """A guest stop, as classified by the platform's run loop."""

    kind: StopKind
    signo: int = 0        # host signal number for FAULT / SIGNAL
    code: int = 0         # si_code
    addr: int = 0         # si_addr (faulting address or faulting rip)
    is_write: int = -1    # 1 write, 0 read, -1 unknown (Context.fault_access finds it)
    trap_no: int = 0      # x86 trap number when known (14 = page fault)
    status: int = 0       # wait status for EXIT
    err: int = 0          # host errno for EXIT when a host request failed (a batch, ptrace)
    entry: int = 0        # Entry, for SYSCALL


class Prot(enum.IntFlag):
    NONE = 0
    READ = 1
    WRITE = 2
    EXEC = 4


@record(slots=True)
class HostMapOp:
    """One queued host memory operation of a stub (merged when contiguous)."""

    op: str          # "map", "unmap" or "protect"
    addr: int
    length: int
    prot: int = 0
    offset: int = 0  # physmem offset, for "map"


class HostMapQueue:
    """Queue of host mmap/munmap/mprotect operations, merged when contiguous.

    Merging rule (as UML's ``add_mmap``/``add_munmap``/``add_mprotect``): an
    operation extends the previous one when it is of the same kind, starts
    where the previous ends, has the same protection and (for "map") continues
    the previous one's physmem offset.
    """

    __slots__ = ("ops",)

    def __init__(self):
        self.ops: list[HostMapOp] = []

    def add(self, op: str, addr: int, length: int, prot: int = 0, offset: int = 0):
        assert addr % PAGE_SIZE == 0 and length % PAGE_SIZE == 0 and length > 0, (op, hex(addr), length)
        ops = self.ops
        if ops:
            last = ops[-1]
            if (last.op == op and last.addr + last.length == addr and last.prot == prot
                    and (op != "map" or last.offset + last.length == offset)):
                last.length += length
                return
        ops.append(HostMapOp(op, addr, length, prot, offset))

    def take(self) -> list:
        ops, self.ops = self.ops, []
        return ops

    def __len__(self):
        return len(self.ops)


class HostAddressSpace:
    """A host address space (one stub process) holding guest mappings.

    ``map``/``unmap``/``protect`` are queued; ``flush`` runs them in the stub.
    Subclasses implement :meth:`_run_batch` and :meth:`release`.
    """

    def __init__(self):
        self.queue = HostMapQueue()
        self.released = False

    def map(self, addr: int, length: int, prot: int, offset: int):
        """Map physmem [offset, offset+length) at guest ``addr`` (MAP_SHARED|MAP_FIXED)."""
        self.queue.add("map", addr, length, prot, offset)

    def unmap(self, addr: int, length: int):
        self.queue.add("unmap", addr, length)

    def protect(self, addr: int, length: int, prot: int):
        self.queue.add("protect", addr, length, prot)

    def flush(self):
        """Run the queued operations in the stub; raise PlatformError on failure."""
        if self.queue.ops:
            self._run_batch(self.queue.take())

    def _run_batch(self, ops):
        raise NotImplementedError

    def release(self):
        """Kill the stub and free its resources (idempotent)."""
        raise NotImplementedError

    def preempt(self):
        """Stop the guest running in this address space; the next switch returns PREEMPT."""
        raise NotImplementedError

    @property
    def host_signals(self) -> int:
        """Host signals that others sent to this stub and that were dropped (never the guest's)."""
        return 0

    def get_debugreg(self, n: int) -> int:
        """x86 debug register DRn as the guest code of this address space sees it
        (hardware watchpoints for an external debugger).  NotImplementedError where
        the platform has none."""
        raise NotImplementedError

    def set_debugreg(self, n: int, value: int) -> None:
        """Set DRn (0-3 addresses, 6 status, 7 control); OSError if the host refuses it."""
        raise NotImplementedError


class Context:
    """A guest register set: general registers (with fs_base/gs_base) and xstate.

    ``regs`` exposes ``struct user_regs_struct`` fields as attributes
    (``rax``, ``orig_rax``, ``rip``, ``rsp``, ``fs_base`` ...).
    """

    regs = None

    def switch(self, aspace: HostAddressSpace) -> Stop:
        """Run this context in ``aspace`` until the guest stops."""
        raise NotImplementedError

    #: Entry of the last SYSCALL stop (an Entry value): 0 for the syscall instruction.
    entry = 0

    def syscall_frame(self):
        """(nr, (rdi, rsi, rdx, r10, r8, r9)) at a syscall stop."""
        r = self.regs
        return r.orig_rax, (r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9)

    def fault_access(self, aspace: HostAddressSpace, stop: Stop) -> int:
        """Whether the page fault ``stop`` (the last stop of this context) was a write: 1 or 0.

        Asks the stub for the CPU's page-fault error code, which costs one
        more round trip, so the kernel asks only for faults it reports (a
        signal, PTRACE_FAULTINFO, unprivilege); fills ``stop.is_write`` and
        ``stop.trap_no``.  Call it before the context runs again.  -1 when the
        stub cannot tell (it died, or is no longer at that fault)."""
        return stop.is_write

    def copy_from(self, other: "Context"):
        """Copy all registers (general and xstate) of ``other`` into this context."""
        raise NotImplementedError

    def save_state(self, aspace: HostAddressSpace):
        """Pull this context's FPU state out of ``aspace`` (before it goes away)."""

    def xstate_snapshot(self, aspace: HostAddressSpace):
        """A copy of this context's FPU/SSE/AVX state (None: the initial state)."""
        raise NotImplementedError

    def xstate_restore(self, aspace: HostAddressSpace, state):
        """Make ``state`` (from xstate_snapshot) this context's FPU state again."""
        raise NotImplementedError

    # Fast path: constant-result syscalls answered without returning to Python.
    def set_fast_result(self, nr: int, value: int):
        """Answer syscall ``nr`` with ``value`` inside the run loop from now on."""

    def clear_fast_results(self):
        """Forget every fast-path answer (identity changed: exec, fork, setuid...)."""

    def enable_trace_ring(self, cap: int):
        """Record fast-path answers (for the tracer) in a ring of ``cap`` entries.

        A full ring sends the next syscall to Python, which drains it first."""

    def take_trace_ring(self) -> list:
        """The recorded fast-path answers as (nr, ret, t_ns), oldest first; empties the ring."""
        return []


class Platform:
    """Makes host address spaces and contexts; owns the physmem file."""

    name = "abstract"

    def __init__(self, physmem):
        self.physmem = physmem

    def new_address_space(self) -> HostAddressSpace:
        raise NotImplementedError

    def new_context(self) -> Context:
        raise NotImplementedError

    def slice_timer(self):
        """A SliceTimer for preempting guests, or None where signals cannot be used
        (a thread other than the main one)."""
        # A process that never imported threading has only its main thread (and
        # importing it here would cost every start-up).
        threading = sys.modules.get("threading")
        if threading is not None and threading.current_thread() is not threading.main_thread():
            return None
        from .stub import SliceTimer
        return SliceTimer()

    def vsyscall_perms(self):
        """The host's vsyscall page as /proc/PID/maps shows it ("--xp", "r-xp"), or None:
        guests calling into it are served (kernel/entry.py), and see it listed."""
        return None

    def idle(self):
        """The guest kernel has nothing to run: prepare what the next fork or exec needs
        (ready stubs), off the critical path."""

    def close(self):
        """Release every address space this platform made."""
