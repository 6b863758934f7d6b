"""Stub processes: starting them, ordering their mapping batches, a pool of ready ones.

Shared by both ptrace platforms.  A stub is started with ``posix_spawn`` (the
stub binary is exec'd: it holds nothing of the supervisor), gets the physmem
file as fd 3 and nothing else, runs in a session of its own so terminal
signals reach only the supervisor, and becomes our tracee itself
(csrc/stub.c).  It is two host processes in one address space: the main one
runs guest code, the mapper runs host mmap/munmap/mprotect batches.

A batch is written into the stub's STUB_REQ slot through the supervisor's
own mapping of physmem (the stub maps it read-only: the guest can never
forge an order) and run by the mapper; the platform waits for it with a
futex (csrc/shim.c: shim_batch), never a ptrace round trip.

:class:`StubPool` keeps stubs ready so that fork and exec do not wait for
one to start: stubs spawned ahead (when the guest kernel is idle, and one at
start-up) and stubs of address spaces that were released, reset to a blank
state (every guest mapping removed, FPU state back to its initial value,
control pages zeroed), so that nothing of one guest process reaches the next.
"""

import collections
import errno
import os
import signal
import struct
import time

from umlpy.abi.mman import MAP_FIXED, MAP_SHARED
from umlpy.abi.stub import (STUB_CODE, STUB_DATA_LAYOUT, STUB_DATA_SIZE, STUB_MAX_OPS, STUB_OP,
                            STUB_PHYSMEM_FD, STUB_REQ_LAYOUT, STUB_SLOT_SIZE)
from umlpy.abi.syscall_nr import NR
from umlpy.errors import PlatformError

from .base import HostAddressSpace

STUB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "umlpy-stub")
#: Offset of the STUB_REQ pages in a stub's physmem slot.
REQ_OFF = STUB_DATA_SIZE
_DATA = {name: (struct.Struct(STUB_DATA_LAYOUT.field_format(name)), STUB_DATA_LAYOUT.offset(name))
         for name, _ in STUB_DATA_LAYOUT.fields if name != "reserved"}
_REQ = {name: (struct.Struct(STUB_REQ_LAYOUT.field_format(name)), REQ_OFF + STUB_REQ_LAYOUT.offset(name))
        for name in ("seq", "nops")}
_OPS_OFF = REQ_OFF + STUB_REQ_LAYOUT.offset("ops")
_OP = struct.Struct(STUB_OP.format)
assert [name for name, _ in STUB_OP.fields] == ["nr", "args", "result"]     # _OP.pack_into's order
_HOST_NR = {"map": int(NR.mmap), "protect": int(NR.mprotect), "unmap": int(NR.munmap)}
_MAP_SHARED_FIXED = int(MAP_SHARED | MAP_FIXED)

#: run_batch's results below -BATCH_BROKEN: the batch machinery failed (as SHIM_BATCH_BROKEN).
BATCH_BROKEN = 4096

#: Stubs the pool keeps started ahead, and released stubs it keeps for reuse.
POOL_AHEAD = 2
POOL_KEEP = 4


def data_field(physmem, slot: int, name: str) -> int:
    """A field of a stub's ``struct stub_data`` (STUB_DATA), read through physmem."""
    fmt, off = _DATA[name]
    return fmt.unpack_from(physmem.view, slot + off)[0]


def req_field(physmem, slot: int, name: str) -> int:
    fmt, off = _REQ[name]
    return fmt.unpack_from(physmem.view, slot + off)[0]


def _put_req(physmem, slot: int, name: str, value: int):
    fmt, off = _REQ[name]
    fmt.pack_into(physmem.view, slot + off, value)


def spawn_stub(physmem, slot: int) -> int:
    """Start a stub whose control pages are physmem[slot:slot+STUB_SLOT_SIZE]; return its pid."""
    if not os.path.exists(STUB_PATH):
        raise PlatformError("stub executable %s is missing: run 'make' (or pip install .)" % STUB_PATH)
    try:
        return os.posix_spawn(
            STUB_PATH, [STUB_PATH, hex(slot), str(os.getpid())], {},
            # Only the physmem file, as fd 3: not even the supervisor's 0-2 (a terminal).
            file_actions=[(os.POSIX_SPAWN_DUP2, physmem.fd, STUB_PHYSMEM_FD),
                          (os.POSIX_SPAWN_CLOSE, 0), (os.POSIX_SPAWN_CLOSE, 1),
                          (os.POSIX_SPAWN_CLOSE, 2)],
            setsid=True)
    except OSError as e:
        raise PlatformError("cannot start the stub: %s" % e.strerror) from None


class StubProc:
    """One stub (its main process and its mapper): the part both platforms share.

    A platform subclass gives :meth:`attach`, :meth:`run_batch`, :meth:`alive`, :meth:`kill`,
    :meth:`get_xstate`/:meth:`set_xstate`, :meth:`preempt` and the ``dead``,
    ``running`` and ``host_signals`` properties.
    """

    def __init__(self, physmem):
        self.physmem = physmem
        self.slot = physmem.alloc_stub_slot()
        try:
            self.pid = spawn_stub(physmem, self.slot)
        except BaseException:
            physmem.free_stub_slot(self.slot)
            raise
        self.attached = False
        #: The stub's FPU/SSE/AVX state as it started (what a recycled stub gets back).
        self.init_xstate = None
        #: A debugger set a debug register: they are cleared before the stub is reused
        #: (otherwise they were never touched, and clearing them would cost six ptrace calls).
        self.debugregs_set = False

    def _check_started(self):
        if data_field(self.physmem, self.slot, "magic") == 0:
            raise PlatformError("stub %d did not start (bad control page)" % self.pid)

    # --- batches ----------------------------------------------------------------
    def write_ops(self, ops):
        """Write ``ops`` (HostMapOp-like: op, addr, length, prot, offset) as the next order."""
        pm, base = self.physmem, self.slot
        view = pm.view
        for i, op in enumerate(ops):
            if op.op == "map":
                args = (op.addr, op.length, op.prot, _MAP_SHARED_FIXED, STUB_PHYSMEM_FD, op.offset)
            elif op.op == "protect":
                args = (op.addr, op.length, op.prot, 0, 0, 0)
            else:
                args = (op.addr, op.length, 0, 0, 0, 0)
            _OP.pack_into(view, base + _OPS_OFF + i * _OP.size, _HOST_NR[op.op], *args, 0)
        _put_req(pm, base, "nops", len(ops))

    def batch(self, ops):
        """Run ``ops`` (at most STUB_MAX_OPS) in the stub; raise PlatformError on failure.

        ``run_batch`` returns 0, the -errno of the op that failed, or
        -(BATCH_BROKEN + errno) when the batch could not be run at all (the
        stub is dead or busy, its mapper does not answer)."""
        self.write_ops(ops)
        err = self.run_batch()
        if not err:
            return
        if err <= -BATCH_BROKEN:
            raise PlatformError("stub %d: batch failed: %s" % (self.pid, os.strerror(-err - BATCH_BROKEN)))
        ndone = data_field(self.physmem, self.slot, "ndone")
        op = ops[ndone] if 0 <= ndone < len(ops) else None
        what = "%s(%#x, %#x)" % (op.op, op.addr, op.length) if op is not None else "batch"
        raise PlatformError("host %s failed in stub %d: %s" % (what, self.pid, os.strerror(-err)))

    # --- the pool's side --------------------------------------------------------
    def reset(self) -> bool:
        """Make a released stub blank again, for another address space; False if it cannot be."""
        if self.dead or self.running or not self.attached or self.init_xstate is None:
            return False
        try:
            self.batch([_Unmap(0, STUB_CODE)])          # every guest mapping
            self.set_xstate(self.init_xstate)
            self.clear_debugregs()
        except (PlatformError, OSError):
            return False
        # Nothing the last guest process left (fault reports, handler frames, orders).
        self.physmem.zero(self.slot, STUB_SLOT_SIZE)
        self.forget()
        return True

    def share_cpu(self):
        """Run where the supervisor may run (its affinity: one CPU when pinned).

        The first stub starts before the supervisor pins itself, so that it comes up
        on another CPU while umlpy is still loading; taken, it joins the supervisor's
        CPU (with its mapper), where a ptrace round trip costs the least."""
        try:
            cpus = os.sched_getaffinity(0)
            if os.sched_getaffinity(self.pid) != cpus:
                os.sched_setaffinity(self.pid, cpus)
                mapper = data_field(self.physmem, self.slot, "mapper_pid")
                if mapper > 0:
                    os.sched_setaffinity(mapper, cpus)
        except OSError:
            pass

    def forget(self):
        """Drop per-guest bookkeeping (a subclass's pending preempt, fault stop...)."""

    def clear_debugregs(self):
        """No hardware watchpoint of the last guest's debugger survives into the next guest."""
        if not self.debugregs_set:
            return
        from .debugregs import set_debugreg
        for n in (7, 0, 1, 2, 3, 6):        # DR7 first: disabled before the addresses change
            set_debugreg(self.pid, n, 0)
        self.debugregs_set = False

    def free_slot(self):
        if self.slot is not None:
            self.physmem.free_stub_slot(self.slot)
            self.slot = None


class _Unmap:
    __slots__ = ("op", "addr", "length", "prot", "offset")

    def __init__(self, addr, length):
        self.op, self.addr, self.length, self.prot, self.offset = "unmap", addr, length, 0, 0


class StubPool:
    """Stubs ready for new address spaces: started ahead, or released and reset."""

    def __init__(self, make, ahead: int = POOL_AHEAD, keep: int = POOL_KEEP):
        self.make = make                        # () -> a spawned, not yet attached StubProc
        self.ahead, self.keep = ahead, keep
        self.spawned = collections.deque()      # started; attached when taken
        self.recycled = []                      # attached and reset
        self.spawns = 0                         # stubs started (tests, benchmarks)
        self.reuses = 0                         # released stubs given out again

    def take(self) -> StubProc:
        """A ready stub: a recycled one, else one started ahead, else a new one (waited for)."""
        while self.recycled:
            proc = self.recycled.pop()
            if proc.alive():            # killed while it waited here? never given out
                self.reuses += 1
                return proc
            proc.kill()
        while self.spawned:
            proc = self.spawned.popleft()
            try:
                proc.attach()
                proc.share_cpu()
                return proc
            except PlatformError:
                proc.kill()
        proc = self._spawn()
        proc.attach()
        proc.share_cpu()
        return proc

    def give(self, proc: StubProc):
        """A stub whose address space was released: kept for reuse, or killed."""
        if len(self.recycled) < self.keep and proc.reset():
            self.recycled.append(proc)
        else:
            proc.kill()

    def fill(self, n: int | None = None):
        """Start stubs until ``n`` (default: ``ahead``) are ready or on their way."""
        want = self.ahead if n is None else n
        while len(self.spawned) + len(self.recycled) < want:
            try:
                self.spawned.append(self._spawn())
            except (PlatformError, MemoryError):
                return

    def _spawn(self):
        proc = self.make()
        self.spawns += 1
        return proc

    def close(self):
        for proc in list(self.spawned) + self.recycled:
            proc.kill()
        self.spawned.clear()
        self.recycled.clear()


class StubAddressSpace(HostAddressSpace):
    """A host address space realised by a stub taken from a pool (and given back)."""

    def __init__(self, proc, pool, owner: set | None = None):
        super().__init__()
        self.proc = proc
        self.pool = pool
        self.owner = owner              # the platform's set of live address spaces
        if owner is not None:
            owner.add(self)
        self.physmem = proc.physmem
        self.pid = proc.pid
        #: The context whose xstate is currently loaded in this stub.
        self.loaded_ctx = None

    @property
    def dead(self):
        return self.proc.dead

    @property
    def host_signals(self):
        return self.proc.host_signals

    def _run_batch(self, ops):
        proc = self.proc
        for i in range(0, len(ops), STUB_MAX_OPS):
            proc.batch(ops[i:i + STUB_MAX_OPS])

    def preempt(self):
        """SIGSTOP the stub: its stop comes back as PREEMPT and is never delivered."""
        self.proc.preempt()

    def get_debugreg(self, n: int) -> int:
        """Debug register DRn of this stub's guest process (see ``umlpy.platform.debugregs``)."""
        from .debugregs import get_debugreg
        return get_debugreg(self.pid, n)

    def set_debugreg(self, n: int, value: int) -> None:
        """Set DRn of this stub's guest process; OSError when the host refuses the value."""
        from .debugregs import set_debugreg
        self.proc.debugregs_set = True
        set_debugreg(self.pid, n, value)

    def release(self):
        if self.released:
            return
        self.released = True
        self.loaded_ctx = None
        self.queue.take()
        proc, self.proc = self.proc, _GONE
        self._detach()
        if self.owner is not None:
            self.owner.discard(self)
        if self.pool is not None:
            self.pool.give(proc)
        else:
            proc.kill()

    def _detach(self):
        """A subclass drops its own references to the process."""


class _GoneProc:
    """What a released address space points at: a dead stub."""

    dead = True
    running = False
    host_signals = 0
    pid = -1
    status = 0

    def preempt(self):
        pass

    def batch(self, ops):
        raise PlatformError("the address space was released")


_GONE = _GoneProc()


class SliceTimer:
    """A time-slice clock for the supervisor: SIGALRM every ``seconds`` while armed.

    While a guest runs, the supervisor sleeps in waitpid; the alarm makes that
    wait return (EINTR: Python installs its handlers without SA_RESTART), and
    the guest kernel checks :meth:`expired` to preempt a task that never makes
    a system call.  The alarm repeats rather than firing once: a signal that
    lands just before the supervisor enters waitpid interrupts nothing, and
    the next one, a slice later, still does.  Whether the slice is over is
    read from the clock, never from the handler (which Python may run late).
    The previous SIGALRM disposition is put back by close().
    """

    def __init__(self):
        self._old = signal.signal(signal.SIGALRM, self._on_alarm)
        self.armed = False
        self.deadline = 0.0

    @staticmethod
    def _on_alarm(signo, frame):
        pass            # its only job is to interrupt waitpid

    def arm(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        if not self.armed:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, seconds, seconds)

    def expired(self) -> bool:
        return self.armed and time.monotonic() >= self.deadline

    def disarm(self):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.armed = False

    def close(self):
        self.disarm()
        if self._old is not None:
            signal.signal(signal.SIGALRM, self._old)
            self._old = None
