"""The pure-Python ptrace platform, on python-ptrace and ctypes.

It has the same interface and the same behaviour as the C platform in
``umlpy.platform.shim`` (csrc/shim.c): the run loop of :meth:`PyPtraceContext.switch`
is shim_switch() line for line, :meth:`PyStub.run_batch` is shim_batch() and
:meth:`PyPtraceContext.fault_access` shim_fault_info().  It exists so that
umlpy runs where the C shim cannot be built, and as a reference to test the C
one against; it is several times slower per guest stop.

Invariants shared with the C platform:

- A stub is either stopped under our control (``running`` false: its
  registers may be read and written, a batch may run) or running guest code
  (``running`` true: only waitpid may touch it).  A switch interrupted by a
  host signal (INTERRUPT) leaves it running; the next switch just waits.
- The stub holds the FPU/SSE/AVX state of one context at a time
  (``loaded_ctx``); switching another context in saves the previous one's
  xstate first, since PTRACE_SETREGS does not cover it.
- A dead stub has been reaped; its pid is never signalled again (the pid may
  already belong to another process).
- A signal the guest's own instruction did not raise (si_code <= 0, or not
  a synchronous signal) is a host signal sent to the stub: it is dropped,
  never delivered to the guest; the supervisor's own SIGSTOP ends a slice.
"""

import ctypes
import errno
import os
import signal
import time

from ptrace.binding import func as _pt
from ptrace.binding.linux_struct import user_regs_struct
from ptrace.error import PtraceError

from umlpy.abi.stub import STUB_DATA_LAYOUT, STUB_REQ_LAYOUT
from umlpy.errors import PlatformError

from .base import Context, Entry, Platform, Stop, StopKind
from .stub import BATCH_BROKEN, REQ_OFF, StubAddressSpace, StubPool, StubProc, data_field

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
PTRACE_GET_SYSCALL_INFO = 0x420e
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSEMU = 31
PTRACE_O_TRACESYSGOOD = 1
PTRACE_O_EXITKILL = 1 << 20
NT_X86_XSTATE = 0x202
_WALL = 0x40000000           # __WALL (include/uapi/linux/wait.h)
AUDIT_ARCH_X86_64 = 0xC000003E
SI_USER, SI_KERNEL = 0, 0x80
SYS_SECCOMP = 1
VSYSCALL_PAGE = 0xFFFFFFFFFF600000
SYS_futex = 202
FUTEX_WAIT, FUTEX_WAKE = 0, 1
BATCH_CHECK_S = 0.001        # csrc/shim.c: BATCH_CHECK_NS
BATCH_GIVE_UP_S = 5.0
_DONE_OFF = STUB_DATA_LAYOUT.offset("done_seq")
_NOPS_OFF = REQ_OFF + STUB_REQ_LAYOUT.offset("nops")

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
_SYNC = frozenset((signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP,
                   signal.SIGSYS))
_ENOSYS = (-errno.ENOSYS) & _MASK64


class _Iovec(ctypes.Structure):
    _fields_ = (("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t))


class _SyscallInfoHead(ctypes.Structure):
    """The head of struct ptrace_syscall_info, up to entry.nr."""
    _fields_ = (("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3), ("arch", ctypes.c_uint32),
                ("instruction_pointer", ctypes.c_uint64), ("stack_pointer", ctypes.c_uint64),
                ("nr", ctypes.c_uint64))


class _Siginfo(ctypes.Structure):
    """The x86-64 siginfo_t fields the run loop reads."""
    _fields_ = (("si_signo", ctypes.c_int), ("si_errno", ctypes.c_int), ("si_code", ctypes.c_int),
                ("_pad0", ctypes.c_int),
                ("f0", ctypes.c_uint64),      # si_pid|si_uid, si_addr, si_call_addr
                ("f1", ctypes.c_uint64),      # si_syscall|si_arch (SIGSYS)
                ("_rest", ctypes.c_uint8 * 96))

    @property
    def si_pid(self):
        return ctypes.c_int32(self.f0 & 0xFFFFFFFF).value

    @property
    def si_addr(self):
        return self.f0

    @property
    def si_syscall(self):
        return ctypes.c_int32(self.f1 & 0xFFFFFFFF).value

    @property
    def si_arch(self):
        return self.f1 >> 32


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


# waitpid through libc rather than os.waitpid: os.waitpid retries on EINTR
# (PEP 475), and the run loop must return INTERRUPT instead so that the
# supervisor's signal handler runs while the guest keeps running.
_libc = ctypes.CDLL(None, use_errno=True)
_waitpid = _libc.waitpid
_waitpid.argtypes = (ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int)
_waitpid.restype = ctypes.c_int
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _wait_stub(pid: int, options: int = _WALL):
    """One waitpid(pid, __WALL): ``(0, status)``, or ``(-errno, 0)`` (EINTR included)."""
    status = ctypes.c_int()
    while True:
        r = _waitpid(pid, ctypes.byref(status), options)
        if r == pid:
            return 0, status.value
        if r == 0:
            return 1, 0
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


def _getsiginfo(pid: int):
    si = _Siginfo()
    _pt.ptrace(PTRACE_GETSIGINFO, pid, 0, ctypes.addressof(si))
    return si


def _host_signal(sig: int, si) -> bool:
    """Not raised by the guest's own instruction (see the module docstring)."""
    return sig not in _SYNC or si.si_code <= 0


class PyStub(StubProc):
    """A stub driven from Python; see csrc/shim.c for the C twin (struct shim_as)."""

    def __init__(self, physmem, base_addr):
        super().__init__(physmem)
        self.running = False    # the stub runs guest code; do not touch registers
        self._dead = False
        self.status = 0         # wait status once dead
        self.mapper_pid = 0
        self.preempt_pending = False
        self.fault_stop = False
        self.fault_info_broken = False
        self.supervisor_pid = os.getpid()
        self.seq = 0
        self.host_signals = 0
        self.batches = 0
        self._req_seq = base_addr + self.slot + REQ_OFF
        self._done = base_addr + self.slot + _DONE_OFF

    @property
    def dead(self):
        return self._dead

    def mark_dead(self, status: int):
        self._dead = True
        self.running = False
        self.status = status
        self.fault_stop = False

    def attach(self):
        """Wait for the stub's start-up trap and take control of it."""
        try:
            r, status = _wait_stub_retry(self.pid)
            if r < 0:
                raise PlatformError("cannot take control of the stub: %s" % os.strerror(-r))
            if not os.WIFSTOPPED(status):
                self.mark_dead(status)
                raise PlatformError("stub %d died at start-up (wait status %#x)" % (self.pid, status))
            if os.WSTOPSIG(status) != signal.SIGTRAP:
                raise PlatformError("stub %d stopped by signal %d at start-up"
                                    % (self.pid, os.WSTOPSIG(status)))
            _pt.ptrace(PTRACE_SETOPTIONS, self.pid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)
            self._check_started()
            self.mapper_pid = data_field(self.physmem, self.slot, "mapper_pid")
            if self.mapper_pid <= 0:
                raise PlatformError("stub %d did not start its mapper" % self.pid)
            self.init_xstate = get_xstate(self.pid)
        except PtraceError as e:
            self.kill()
            raise PlatformError("cannot take control of the stub: %s"
                                % os.strerror(e.errno or errno.EIO)) from None
        except PlatformError:
            self.kill()
            raise
        self.attached = True

    # --- batches (csrc/shim.c: shim_batch) ------------------------------------
    def run_batch(self) -> int:
        if self._dead:
            return -BATCH_BROKEN - errno.ESRCH
        if self.running:
            return -BATCH_BROKEN - errno.EBUSY
        self.seq = (self.seq + 1) & 0xFFFFFFFF or 1
        seq = self.seq
        done = ctypes.c_uint32.from_address(self._done)
        done.value = ~seq & 0xFFFFFFFF          # only the mapper can make it seq now
        ctypes.c_uint32.from_address(self._req_seq).value = seq
        _syscall(SYS_futex, ctypes.c_void_p(self._req_seq), FUTEX_WAKE, 1, None, None, 0)
        start = time.monotonic()
        next_check = start + BATCH_CHECK_S
        while True:
            cur = done.value
            if cur == seq:
                break
            left = next_check - time.monotonic()
            if left > 0:
                # Woken, timed out or interrupted: look again.
                ts = _Timespec(0, int(left * 1e9))
                _syscall(SYS_futex, ctypes.c_void_p(self._done), FUTEX_WAIT, cur, ctypes.byref(ts),
                         None, 0)
                continue
            now = time.monotonic()
            r, status = _wait_stub(self.pid, _WALL | os.WNOHANG)
            if r == 0:
                self.mark_dead(status)
                return -BATCH_BROKEN - errno.ESRCH
            state = _proc_state(self.mapper_pid)
            if state is None:
                return -BATCH_BROKEN - errno.ESRCH
            if state in "Tt":
                os.kill(self.mapper_pid, signal.SIGCONT)     # stopped by somebody: go on
            if now - start >= BATCH_GIVE_UP_S:
                return -BATCH_BROKEN - errno.ETIMEDOUT
            next_check = now + BATCH_CHECK_S
        self.physmem.view[self.slot + _NOPS_OFF:self.slot + _NOPS_OFF + 8] = b"\0" * 8
        self.batches += 1
        return data_field(self.physmem, self.slot, "err")

    def alive(self) -> bool:
        if self._dead:
            return False
        r, status = _wait_stub(self.pid, _WALL | os.WNOHANG)
        if r == 0 and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
            self.mark_dead(status)
            return False
        return True

    def preempt(self):
        if not self._dead:
            self.preempt_pending = True
            try:
                os.kill(self.pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass

    def get_xstate(self):
        try:
            return get_xstate(self.pid)
        except PtraceError as e:
            raise PlatformError("cannot read the stub's FPU state: %s"
                                % os.strerror(e.errno or errno.EIO)) from None

    def set_xstate(self, data):
        try:
            set_xstate(self.pid, data)
        except PtraceError as e:
            raise PlatformError("cannot set the stub's FPU state: %s"
                                % os.strerror(e.errno or errno.EIO)) from None

    def forget(self):
        self.preempt_pending = False
        self.fault_stop = False

    def kill(self):
        if self.pid > 0 and not self._dead:
            # Its mapper dies with it (PR_SET_PDEATHSIG).
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            r, status = _wait_stub_retry(self.pid)
            self.mark_dead(status if r == 0 else 0)
        self.free_slot()


def _proc_state(pid: int):
    """The state letter of /proc/PID/stat; None when gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            st = f.read().rsplit(b")", 1)[1][1:2].decode()
    except (OSError, IndexError):
        return None
    return None if st in ("Z", "X", "") else st


class PyPtraceAddressSpace(StubAddressSpace):
    """A stub's address space, driven from Python."""

    def fail(self, err: int) -> Stop:
        """The stub can no longer be trusted (a batch failed): kill it; that guest process ends."""
        self.proc.kill()
        return Stop(StopKind.EXIT, status=signal.SIGKILL, err=err)


class PyPtraceContext(Context):
    """A guest register set (a ctypes ``user_regs_struct``) plus xstate and fast answers."""

    __slots__ = ("regs", "xstate", "fast", "fast_budget", "fast_count", "entry", "last_stop",
                 "trace_ring", "trace_ring_cap")

    def __init__(self):
        self.regs = user_regs_struct()
        self.xstate = None          # bytes of the saved xstate, None: never saved
        self.fast = {}              # nr -> constant result, 0 <= nr < NR_FAST
        self.fast_budget = FAST_BUDGET
        self.fast_count = 0         # fast answers given in the last switch
        self.entry = 0
        self.last_stop = None
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
        proc = aspace.proc
        if proc.dead:
            return Stop(StopKind.EXIT, status=proc.status)
        if aspace.loaded_ctx is not self:
            self._load_xstate(aspace)
        if aspace.queue.ops and not proc.running:
            try:
                aspace.flush()
            except PlatformError:
                return aspace.fail(errno.EIO)
        pid = proc.pid
        regs_addr = ctypes.addressof(self.regs)
        try:
            if not proc.running:
                self._set_regs(pid, regs_addr)
                _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)
                proc.running = True
                proc.fault_stop = False
            stop = self._run(proc, pid, regs_addr)
        except PtraceError as e:
            stop = self._ptrace_failed(proc, e)
        self.entry = stop.entry
        self.last_stop = stop
        return stop

    def _set_regs(self, pid, regs_addr):
        regs = self.regs
        if -516 <= _signed(regs.rax) <= -512:
            # A restart code in rax: never let the host rewind rip (csrc/shim.c: set_regs).
            copy = user_regs_struct.from_buffer_copy(regs)
            copy.orig_rax = _MASK64
            _pt.ptrace(PTRACE_SETREGS, pid, 0, ctypes.addressof(copy))
        else:
            _pt.ptrace(PTRACE_SETREGS, pid, 0, regs_addr)

    @staticmethod
    def _syscall_nr(pid):
        """(nr, arch) of the syscall the stub stopped at."""
        head = _SyscallInfoHead()
        try:
            n = _pt.ptrace(PTRACE_GET_SYSCALL_INFO, pid, ctypes.sizeof(head), ctypes.addressof(head))
            if n >= ctypes.sizeof(head) and head.op == PTRACE_SYSCALL_INFO_ENTRY:
                return _signed(head.nr), head.arch
        except PtraceError as e:
            if e.errno != errno.EIO:
                raise
        return _signed(_pt.ptrace_peekuser(pid, _ORIG_RAX_OFF)), AUDIT_ARCH_X86_64

    def _run(self, proc, pid, regs_addr) -> Stop:
        budget = self.fast_budget
        fast = self.fast
        ring = self.trace_ring
        while True:
            r, status = _wait_stub(pid)
            if r == -errno.EINTR:
                return Stop(StopKind.INTERRUPT)
            if r < 0:
                proc.mark_dead(0)
                return Stop(StopKind.EXIT, err=-r)
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                proc.mark_dead(status)
                return Stop(StopKind.EXIT, status=status)
            proc.running = False
            sig = os.WSTOPSIG(status)
            if sig == _SYSCALL_STOP:
                nr, arch = self._syscall_nr(pid)
                if (arch == AUDIT_ARCH_X86_64 and nr in fast and budget > 0
                        and (ring is None or len(ring) < self.trace_ring_cap)):
                    val = fast[nr]
                    _pt.ptrace(PTRACE_POKEUSER, pid, _RAX_OFF, val & _MASK64)
                    _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)
                    proc.running = True
                    budget -= 1
                    self.fast_count += 1
                    if ring is not None:
                        ring.append((nr, val, time.monotonic_ns()))
                    continue
                _pt.ptrace(PTRACE_GETREGS, pid, 0, regs_addr)
                proc.preempt_pending = False
                if arch != AUDIT_ARCH_X86_64:
                    self.regs.orig_rax = nr & 0xFFFFFFFF
                    return Stop(StopKind.SYSCALL, entry=Entry.INT80)
                return Stop(StopKind.SYSCALL)
            if status >> 16:
                _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)      # a ptrace event: none is asked for
                proc.running = True
                continue
            try:
                si = _getsiginfo(pid)
            except PtraceError as e:
                if e.errno != errno.EINVAL:
                    raise
                proc.host_signals += 1                    # a group-stop: job control from outside
                _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)
                proc.running = True
                continue
            if _host_signal(sig, si):
                ours = (sig == signal.SIGSTOP and si.si_code == SI_USER
                        and si.si_pid == proc.supervisor_pid)
                if ours and proc.preempt_pending:
                    proc.preempt_pending = False
                    _pt.ptrace(PTRACE_GETREGS, pid, 0, regs_addr)
                    return Stop(StopKind.PREEMPT, signo=sig)
                if not ours:
                    proc.host_signals += 1
                _pt.ptrace(PTRACE_SYSEMU, pid, 0, 0)      # dropped
                proc.running = True
                continue
            _pt.ptrace(PTRACE_GETREGS, pid, 0, regs_addr)
            proc.preempt_pending = False
            regs = self.regs
            if (sig == signal.SIGSYS and si.si_code == SYS_SECCOMP and si.si_arch == AUDIT_ARCH_X86_64
                    and si.si_addr & ~0xFFF == VSYSCALL_PAGE):
                regs.rip = si.si_addr
                regs.rsp = (regs.rsp - 8) & _MASK64
                regs.orig_rax = si.si_syscall
                regs.rax = _ENOSYS
                return Stop(StopKind.SYSCALL, entry=Entry.VSYSCALL)
            stop = Stop(StopKind.SIGNAL, signo=sig, code=si.si_code, addr=si.si_addr)
            if sig in (signal.SIGSEGV, signal.SIGBUS) and si.si_code != SI_KERNEL:
                stop.kind = StopKind.FAULT
                stop.trap_no = 14
                proc.fault_stop = sig == signal.SIGSEGV
            else:
                stop.addr = regs.rip
                if sig == signal.SIGSEGV:
                    stop.trap_no = 13
            return stop

    def fault_access(self, aspace, stop):
        """csrc/shim.c: shim_fault_info."""
        if stop.is_write >= 0 or stop.kind is not StopKind.FAULT:
            return stop.is_write
        proc = aspace.proc
        if proc.dead or proc.running or not proc.fault_stop or proc.fault_info_broken:
            return -1
        proc.fault_stop = False
        pid = proc.pid
        pm, slot = proc.physmem, proc.slot
        count = data_field(pm, slot, "fault_count")
        resend_stop = False
        try:
            saved = get_xstate(pid)
            _pt.ptrace(PTRACE_CONT, pid, 0, signal.SIGSEGV)
            while True:
                r, status = _wait_stub_retry(pid)
                if r < 0 or os.WIFEXITED(status) or os.WIFSIGNALED(status):
                    proc.mark_dead(status if r == 0 else 0)
                    return -1
                sig = os.WSTOPSIG(status)
                try:
                    si = _getsiginfo(pid)
                except PtraceError:
                    si = None
                if si is not None and _host_signal(sig, si):
                    if sig == signal.SIGSTOP and si.si_code == SI_USER and si.si_pid == proc.supervisor_pid:
                        resend_stop = proc.preempt_pending
                    else:
                        proc.host_signals += 1
                    _pt.ptrace(PTRACE_CONT, pid, 0, 0)
                    continue
                break
            ok = (sig == signal.SIGTRAP and si is not None and si.si_code == SI_KERNEL
                  and data_field(pm, slot, "fault_count") != count)
            if ok:
                err = data_field(pm, slot, "fault_err")
                stop.is_write = (err >> 1) & 1
                stop.trap_no = data_field(pm, slot, "fault_trapno")
            else:
                proc.fault_info_broken = True
            set_xstate(pid, saved)
        except PtraceError:
            return -1
        if resend_stop:
            os.kill(pid, signal.SIGSTOP)
        return stop.is_write

    @staticmethod
    def _ptrace_failed(proc, e) -> Stop:
        stop = Stop(StopKind.EXIT, err=e.errno or errno.EIO)
        if e.errno == errno.ESRCH:
            # The stub died under us (SIGKILL from outside): collect it.
            r, status = _wait_stub_retry(proc.pid)
            if r == 0:
                stop.status = status
            proc.mark_dead(stop.status)
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
        self.spaces = set()
        # The supervisor's mapping of physmem, as an address (futexes on the stubs' pages).
        self._anchor = ctypes.c_char.from_buffer(physmem.map)
        base = ctypes.addressof(self._anchor)
        self.pool = StubPool(lambda: PyStub(physmem, base))
        # One stub started now, ahead: it comes up while the guest's image is loaded.
        self.pool.fill(1)

    def new_address_space(self):
        return PyPtraceAddressSpace(self.pool.take(), self.pool, self.spaces)

    def new_context(self):
        return PyPtraceContext()

    def idle(self):
        self.pool.fill()

    def vsyscall_perms(self):
        from . import host_vsyscall_perms
        return host_vsyscall_perms()

    def close(self):
        for a in list(self.spaces):
            a.pool = None               # killed, not kept
            a.release()
        self.pool.close()
        self._anchor = None             # lets physmem close its mapping
