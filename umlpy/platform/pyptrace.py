"""The pure-Python ptrace platform, on python-ptrace and ctypes.

It has the same interface and the same behaviour as the C platform in
``umlpy.platform.shim`` (csrc/shim.c): the run loop of :meth:`PyPtraceContext.switch`
is shim_switch() line for line, the batch is shim_batch().  It exists so that
umlpy runs where the C shim cannot be built, and as a reference to test the C
one against; it is several times slower per guest stop.

Invariants shared with the C platform:

- A stub is either stopped under our control (``running`` false: its
  registers may be read and written) or running guest code (``running``
  true: only waitpid may touch it).  A switch interrupted by a host signal
  (INTERRUPT) leaves it running; the next switch just waits for it.
- The stub holds the FPU/SSE/AVX state of one context at a time
  (``loaded_ctx``); switching another context in saves the previous one's
  xstate first, since PTRACE_SETREGS does not cover it.
- A dead stub has been reaped; its pid is never signalled again (the pid may
  already belong to another process).
"""

import ctypes
import errno
import os
import signal
import time

from ptrace.binding import func as _pt
from ptrace.binding.linux_struct import siginfo, user_regs_struct
from ptrace.error import PtraceError

from umlpy.abi.memory import STUB_DATA, STUB_DATA_SIZE
from umlpy.errors import PlatformError

from .base import Context, Platform, Stop, StopKind
from .stub import StubAddressSpace

# Host ptrace ABI (include/uapi/linux/ptrace.h, arch/x86/include/uapi/asm/ptrace-abi.h).
PTRACE_PEEKUSER = 3
PTRACE_POKEUSER = 6
PTRACE_CONT = 7
PTRACE_GETREGS = 12
PTRACE_SETREGS = 13
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETSIGINFO = 0x4202
PTRACE_GETREGSET = 0x4204
PTRACE_SETREGSET = 0x4205
PTRACE_SYSEMU = 31
PTRACE_O_TRACESYSGOOD = 1
PTRACE_O_EXITKILL = 1 << 20
NT_X86_XSTATE = 0x202
_WALL = 0x40000000           # __WALL (include/uapi/linux/wait.h)

#: Fast-path table size, as SHIM_NR_FAST in csrc/shim.h.
NR_FAST = 512
XSTATE_MAX = 16384
FAST_BUDGET = 1 << 20
#: Default capacity of a context's fast-path trace ring.
TRACE_RING_CAP = 4096

_RAX_OFF = user_regs_struct.rax.offset
_ORIG_RAX_OFF = user_regs_struct.orig_rax.offset
_REGS_SIZE = ctypes.sizeof(user_regs_struct)
_MASK64 = (1 << 64) - 1
_SYSCALL_STOP = signal.SIGTRAP | 0x80


class _Iovec(ctypes.Structure):
    _fields_ = (("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t))


# waitpid through libc rather than os.waitpid: os.waitpid retries on EINTR
# (PEP 475), and the run loop must return INTERRUPT instead so that the
# supervisor's signal handler runs while the guest keeps running.
_libc = ctypes.CDLL(None, use_errno=True)
_waitpid = _libc.waitpid
_waitpid.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int)
_waitpid.restype = ctypes.c_int


def _wait_stub(pid: int):
    """One waitpid(pid, __WALL): ``(0, status)``, or ``(-errno, 0)`` (EINTR included)."""
    status = ctypes.c_int()
    while True:
        r = _waitpid(pid, ctypes.byref(status), _WALL)
        if r == pid:
            return 0, status.value
        if r < 0:
            return -ctypes.get_errno(), 0


def _wait_stub_retry(pid: int):
    """waitpid(pid, __WALL), retried on EINTR."""
    while True:
        r, status = _wait_stub(pid)
        if r != -errno.EINTR:
            return r, status


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def get_xstate(pid: int):
    """The stub's xstate (PTRACE_GETREGSET NT_X86_XSTATE) as bytes."""
    buf = ctypes.create_string_buffer(XSTATE_MAX)
    iov = _Iovec(ctypes.addressof(buf), XSTATE_MAX)
    _pt.ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, ctypes.addressof(iov))
    return buf.raw[:iov.iov_len]


def set_xstate(pid: int, data: bytes):
    buf = ctypes.create_string_buffer(data, len(data))
    iov = _Iovec(ctypes.addressof(buf), len(data))
    _pt.ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, ctypes.addressof(iov))


class PyPtraceAddressSpace(StubAddressSpace):
    """A stub driven from Python; see csrc/shim.c for the C twin."""

    def __init__(self, physmem):
        super().__init__(physmem)
        self.running = False    # the stub runs guest code; do not touch registers
        self._dead = False
        self.status = 0         # wait status once dead
        self.batch_regs = user_regs_struct()  # the stub's own registers at start
        self.entry_batch = 0
        try:
            self._attach()
        except PtraceError as e:
            self.release()
            raise PlatformError("cannot take control of the stub: %s"
                                % os.strerror(e.errno or errno.EIO)) from None
        except PlatformError:
            self.release()
            raise
        self.entry_batch = self.check_started()

    def _attach(self):
        """Wait for the stub's start-up trap and take control of it."""
        r, status = _wait_stub_retry(self.pid)
        if r < 0:
            raise PlatformError("cannot take control of the stub: %s" % os.strerror(-r))
        if not os.WIFSTOPPED(status):
            self._mark_dead(status)
            raise PlatformError("stub %d died at start-up (wait status %#x)" % (self.pid, status))
        if os.WSTOPSIG(status) != signal.SIGTRAP:
            raise PlatformError("stub %d stopped by signal %d at start-up"
                                % (self.pid, os.WSTOPSIG(status)))
        _pt.ptrace(PTRACE_SETOPTIONS, self.pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)
        _pt.ptrace(PTRACE_GETREGS, self.pid, 0, ctypes.addressof(self.batch_regs))

    def _mark_dead(self, status: int):
        self._dead = True
        self.running = False
        self.status = status

    @property
    def dead(self):
        return self._dead

    def _exec_batch(self):
        """Run the ops written in the control page: one SETREGS + CONT + wait."""
        if self._dead:
            err = errno.ESRCH
        elif self.running:
            err = errno.EBUSY
        else:
            err = self._batch_round_trip()
        if err:
            raise PlatformError("stub %d: batch failed: %s" % (self.pid, os.strerror(err)))

    def _batch_round_trip(self) -> int:
        regs = user_regs_struct.from_buffer_copy(self.batch_regs)
        regs.rip = self.entry_batch
        regs.rsp = STUB_DATA + STUB_DATA_SIZE
        try:
            _pt.ptrace(PTRACE_SETREGS, self.pid, 0, ctypes.addressof(regs))
            _pt.ptrace(PTRACE_CONT, self.pid, 0, 0)
        except PtraceError as e:
            return e.errno or errno.EIO
        r, status = _wait_stub_retry(self.pid)
        if r < 0:
            return -r
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            self._mark_dead(status)
            return errno.ESRCH
        if os.WSTOPSIG(status) != signal.SIGTRAP:
            return errno.EPROTO
        return 0

    def release(self):
        if self.released:
            return
        self.released = True
        if not self._dead:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            r, status = _wait_stub_retry(self.pid)
            self._mark_dead(status if r == 0 else 0)
        self._free_slot()


class PyPtraceContext(Context):
    """A guest register set (a ctypes ``user_regs_struct``) plus xstate and fast answers."""

    __slots__ = ("regs", "xstate", "fast", "fast_budget", "fast_count",
                 "trace_ring", "trace_ring_cap")

    def __init__(self):
        self.regs = user_regs_struct()
        self.xstate = None          # bytes of the saved xstate, None: never saved
        self.fast = {}              # nr -> constant result, 0 <= nr < NR_FAST
        self.fast_budget = FAST_BUDGET
        self.fast_count = 0         # fast answers given in the last switch
        #: Fast-path answers as (nr, ret, t_ns) for the tracer; None: tracing off.
        #: When it holds trace_ring_cap entries, syscalls go to Python again.
        self.trace_ring = None
        self.trace_ring_cap = TRACE_RING_CAP

    @property
    def xstate_len(self):
        return 0 if self.xstate is None else len(self.xstate)

    # --- xstate -------------------------------------------------------------
    def _load_xstate(self, aspace):
        """Make the stub's FPU/SSE/AVX state this context's."""
        prev = aspace.loaded_ctx
        if prev is self:
            return
        if prev is not None:
            prev._save_xstate_from(aspace.pid)
        if self.xstate is not None:
            try:
                set_xstate(aspace.pid, self.xstate)
            except PtraceError as e:
                raise PlatformError("cannot set FPU state: %s"
                                    % os.strerror(e.errno or errno.EIO)) from None
        aspace.loaded_ctx = self

    def _save_xstate_from(self, pid):
        try:
            self.xstate = get_xstate(pid)
        except PtraceError:
            pass  # the stub is gone: keep the last saved state

    def save_state(self, aspace):
        """Pull this context's xstate out of the stub (before the stub goes away)."""
        if aspace.loaded_ctx is self and not aspace.dead:
            self._save_xstate_from(aspace.pid)
            aspace.loaded_ctx = None

    def enable_trace_ring(self, cap):
        if self.trace_ring is None:
            self.trace_ring = []
            self.trace_ring_cap = cap

    def take_trace_ring(self):
        ring = self.trace_ring
        if not ring:
            return []
        self.trace_ring = []
        return ring

    def xstate_snapshot(self, aspace):
        if aspace.loaded_ctx is self and not aspace.dead:
            self._save_xstate_from(aspace.pid)
        return bytes(self.xstate) if self.xstate is not None else None

    def xstate_restore(self, aspace, state):
        if state is None:
            return
        self.xstate = bytes(state)
        if aspace.loaded_ctx is self:
            aspace.loaded_ctx = None

    # --- the run loop -------------------------------------------------------
    def switch(self, aspace) -> Stop:
        """Run in ``aspace`` until the guest stops (csrc/shim.c: shim_switch)."""
        self.fast_count = 0
        if aspace.dead:
            return Stop(StopKind.EXIT, status=aspace.status)
        if aspace.loaded_ctx is not self:
            self._load_xstate(aspace)
        if aspace.queue.ops:
            aspace.flush()
        pid = aspace.pid
        regs_addr = ctypes.addressof(self.regs)
        try:
            if not aspace.running:
                _pt.ptrace(PTRACE_SETREGS, pid, 0, regs_addr)
                _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)
                aspace.running = True
            return self._run(aspace, pid, regs_addr)
        except PtraceError as e:
            return self._ptrace_failed(aspace, e)

    def _run(self, aspace, pid, regs_addr) -> Stop:
        budget = self.fast_budget
        fast = self.fast
        ring = self.trace_ring
        while True:
            r, status = _wait_stub(pid)
            if r == -errno.EINTR:
                return Stop(StopKind.INTERRUPT)
            if r < 0:
                aspace._mark_dead(0)
                return Stop(StopKind.EXIT)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                aspace._mark_dead(status)
                return Stop(StopKind.EXIT, status=status)
            aspace.running = False
            sig = os.WSTOPSIG(status)
            if sig == _SYSCALL_STOP:
                nr = _signed(_pt.ptrace_peekuser(pid, _ORIG_RAX_OFF))
                if (nr in fast and budget > 0
                        and (ring is None or len(ring) < self.trace_ring_cap)):
                    val = fast[nr]
                    _pt.ptrace(PTRACE_POKEUSER, pid, _RAX_OFF, val & _MASK64)
                    _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)
                    aspace.running = True
                    budget -= 1
                    self.fast_count += 1
                    if ring is not None:
                        ring.append((nr, val, time.monotonic_ns()))
                    continue
                _pt.ptrace(PTRACE_GETREGS, pid, 0, regs_addr)
                return Stop(StopKind.SYSCALL)
            _pt.ptrace(PTRACE_GETREGS, pid, 0, regs_addr)
            stop = Stop(StopKind.SIGNAL, signo=sig)
            try:
                si = siginfo()
                _pt.ptrace(PTRACE_GETSIGINFO, pid, 0, ctypes.addressof(si))
                stop.code = si.si_code
                stop.addr = si._sigfault._addr or 0
            except PtraceError:
                pass
            if sig in (signal.SIGSEGV, signal.SIGBUS):
                stop.kind = StopKind.FAULT
                stop.trap_no = 14
            elif sig == signal.SIGSTOP:
                stop.kind = StopKind.PREEMPT
            else:
                stop.addr = self.regs.rip
            return stop

    @staticmethod
    def _ptrace_failed(aspace, e) -> Stop:
        stop = Stop(StopKind.EXIT)
        if e.errno == errno.ESRCH:
            # The stub died under us (SIGKILL from outside): collect it.
            r, status = _wait_stub_retry(aspace.pid)
            if r == 0:
                stop.status = status
            aspace._mark_dead(stop.status)
        return stop

    # --- the rest of the Context interface ----------------------------------
    def copy_from(self, other):
        ctypes.memmove(ctypes.addressof(self.regs), ctypes.addressof(other.regs), _REGS_SIZE)
        self.xstate = bytes(other.xstate) if other.xstate is not None else None

    def set_fast_result(self, nr, value):
        if 0 <= nr < NR_FAST:
            self.fast[nr] = value

    def clear_fast_results(self):
        self.fast.clear()


class PyPtracePlatform(Platform):
    name = "python"

    def __init__(self, physmem):
        super().__init__(physmem)
        self.spaces = []

    def new_address_space(self):
        a = PyPtraceAddressSpace(self.physmem)
        self.spaces.append(a)
        return a

    def new_context(self):
        return PyPtraceContext()

    def close(self):
        for a in self.spaces:
            a.release()
        self.spaces.clear()
