"""The C ptrace platform: the run loop, batches and fault reports in csrc/shim.c."""

import errno
import os
import signal
import struct

from umlpy.errors import PlatformError

from . import _shim
from .base import Context, Platform, Stop, StopKind
from .stub import REQ_OFF, StubAddressSpace, StubPool, StubProc

ffi, lib = _shim.ffi, _shim.lib

XSTATE_MAX = 16384
_KINDS = {k.value: k for k in StopKind}
_SYSCALL = StopKind.SYSCALL
#: r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax: contiguous in user_regs_struct.
_FRAME = struct.Struct("<9Q")
_FRAME_OFF = 7 * 8
FAST_BUDGET = 1 << 20
#: The wait status of a process killed by SIGKILL (what a stub that failed is reported as).
KILLED = signal.SIGKILL


class ShimStub(StubProc):
    """A stub driven by csrc/shim.c (``struct shim_as``)."""

    def __init__(self, physmem, base):
        super().__init__(physmem)
        c = self.c = ffi.new("struct shim_as *")
        c.pid = self.pid
        c.data = base + self.slot
        c.req = base + self.slot + REQ_OFF

    def attach(self):
        r = lib.shim_attach(self.c)
        if r < 0:
            self.kill()
            raise PlatformError("cannot take control of the stub: %s" % os.strerror(-r))
        self._check_started()
        self.init_xstate = self.get_xstate()
        self.attached = True

    def run_batch(self) -> int:
        return lib.shim_batch(self.c)

    def alive(self) -> bool:
        return bool(lib.shim_alive(self.c))

    @property
    def dead(self):
        return bool(self.c.dead)

    @property
    def running(self):
        return bool(self.c.running)

    @property
    def status(self):
        return self.c.status

    @property
    def host_signals(self):
        return self.c.host_signals

    def preempt(self):
        lib.shim_preempt(self.c)

    def get_xstate(self):
        buf = bytearray(XSTATE_MAX)
        n = lib.shim_get_xstate(self.pid, ffi.from_buffer(buf), XSTATE_MAX)
        if n < 0:
            raise PlatformError("cannot read the stub's FPU state: %s" % os.strerror(-n))
        return bytes(buf[:n])

    def set_xstate(self, data):
        r = lib.shim_set_xstate(self.pid, ffi.from_buffer(data), len(data))
        if r < 0:
            raise PlatformError("cannot set the stub's FPU state: %s" % os.strerror(-r))

    def forget(self):
        c = self.c
        c.preempt_pending = 0
        c.fault_stop = 0
        c.shadow_ok = 0

    def kill(self):
        lib.shim_kill(self.c)
        self.free_slot()


#: What a released address space's ``c`` is: a dead stub (a stale switch gets EXIT).
_DEAD_C = ffi.new("struct shim_as *")
_DEAD_C.dead = 1
_DEAD_C.pid = -1
_DEAD_C.status = KILLED


class ShimAddressSpace(StubAddressSpace):
    def __init__(self, proc, pool, owner):
        super().__init__(proc, pool, owner)
        self.c = proc.c

    def _detach(self):
        self.c = _DEAD_C

    def fail(self, err: int) -> Stop:
        """The stub can no longer be trusted (a batch failed): kill it; that guest process ends."""
        self.proc.kill()
        return Stop(StopKind.EXIT, status=KILLED, err=err)


class ShimContext(Context):
    __slots__ = ("c", "regs", "xstate", "xstate_len", "entry", "_ring", "_cstop", "_stop", "_regs_buf")

    def __init__(self):
        self.c = ffi.new("struct shim_ctx *")
        self.c.fast_budget = FAST_BUDGET
        self.regs = self.c.regs
        self.xstate = None          # bytes of the saved xstate, None: never saved
        self.xstate_len = 0
        self.entry = 0
        self._ring = None
        self._cstop = ffi.addressof(self.c, "stop")
        self._stop = Stop(StopKind.SYSCALL)
        self._regs_buf = ffi.buffer(ffi.addressof(self.c, "regs"))

    def enable_trace_ring(self, cap):
        if self._ring is None:
            self._ring = ffi.new("struct shim_trace_ent[]", cap)
            self.c.ring = self._ring
            self.c.ring_cap = cap
            self.c.ring_len = 0

    def take_trace_ring(self):
        c = self.c
        n = c.ring_len
        if not n:
            return []
        r = self._ring
        out = [(r[i].nr, r[i].ret, r[i].t_ns) for i in range(n)]
        c.ring_len = 0
        return out

    def _load_xstate(self, aspace):
        """Make the stub's FPU/SSE/AVX state this context's."""
        prev = aspace.loaded_ctx
        if prev is self:
            return
        pid = aspace.pid
        if prev is not None:
            prev._save_xstate_from(pid)
        if self.xstate is not None:
            buf = ffi.from_buffer(self.xstate)
            r = lib.shim_set_xstate(pid, buf, self.xstate_len)
            if r < 0:
                raise PlatformError("cannot set FPU state: %s" % os.strerror(-r))
        aspace.loaded_ctx = self

    def _save_xstate_from(self, pid):
        buf = bytearray(XSTATE_MAX)
        n = lib.shim_get_xstate(pid, ffi.from_buffer(buf), XSTATE_MAX)
        if n >= 0:
            self.xstate = buf
            self.xstate_len = n

    def switch(self, aspace) -> Stop:
        """Run until the guest stops; the Stop returned is reused by the next switch."""
        c = aspace.c
        if c.dead:
            return Stop(StopKind.EXIT, status=c.status)
        if aspace.loaded_ctx is not self:
            self._load_xstate(aspace)
        if aspace.queue.ops and not c.running:
            try:
                aspace.flush()
            except PlatformError:
                return aspace.fail(errno.EIO)
        kind = lib.shim_switch(c, self.c, self._cstop)
        stop = self._stop
        if kind == 1:
            stop.kind = _SYSCALL
            if self.entry:
                self.entry = stop.entry = 0
            return stop
        st = self._cstop
        stop.kind = _KINDS[st.kind]
        stop.signo, stop.code, stop.addr = st.signo, st.code, st.addr
        stop.is_write, stop.trap_no, stop.status = st.is_write, st.trap_no, st.status
        stop.err = st.err
        self.entry = stop.entry = st.entry
        return stop

    def fault_access(self, aspace, stop):
        if stop.is_write >= 0 or stop.kind is not StopKind.FAULT:
            return stop.is_write
        st = self._cstop
        if lib.shim_fault_info(aspace.c, st) < 0:
            return -1
        stop.is_write, stop.trap_no = st.is_write, st.trap_no
        return stop.is_write

    def syscall_frame(self):
        """(nr, (rdi, rsi, rdx, r10, r8, r9)) at a syscall stop, in one unpack."""
        r10, r9, r8, _rax, _rcx, rdx, rsi, rdi, nr = _FRAME.unpack_from(self._regs_buf, _FRAME_OFF)
        return nr, (rdi, rsi, rdx, r10, r8, r9)

    def copy_from(self, other):
        ffi.memmove(ffi.addressof(self.c, "regs"), ffi.addressof(other.c, "regs"),
                    ffi.sizeof("struct user_regs_struct"))
        self.xstate = bytearray(other.xstate) if other.xstate is not None else None
        self.xstate_len = other.xstate_len

    def save_state(self, aspace):
        """Pull this context's xstate out of the stub (before the stub goes away)."""
        if aspace.loaded_ctx is self and not aspace.dead:
            self._save_xstate_from(aspace.pid)
            aspace.loaded_ctx = None

    def xstate_snapshot(self, aspace):
        if aspace.loaded_ctx is self and not aspace.dead:
            self._save_xstate_from(aspace.pid)
        return bytes(self.xstate[:self.xstate_len]) if self.xstate is not None else None

    def xstate_restore(self, aspace, state):
        if state is None:
            return
        self.xstate = bytearray(state)
        self.xstate_len = len(state)
        if aspace.loaded_ctx is self:
            aspace.loaded_ctx = None

    def set_fast_result(self, nr, value):
        if 0 <= nr < lib.SHIM_NR_FAST:
            self.c.fast_val[nr] = value
            self.c.fast_ok[nr] = 1

    def clear_fast_results(self):
        ffi.memmove(self.c.fast_ok, b"\0" * lib.SHIM_NR_FAST, lib.SHIM_NR_FAST)

    @property
    def fast_count(self):
        return self.c.fast_count


class ShimPlatform(Platform):
    name = "c"

    def __init__(self, physmem):
        super().__init__(physmem)
        self.spaces = set()
        self._map = ffi.from_buffer(physmem.map)      # kept: the stubs' control pages are in it
        base = ffi.cast("char *", self._map)
        self.pool = StubPool(lambda: ShimStub(physmem, base))
        # One stub started now, ahead: it comes up while the guest's image is loaded.
        self.pool.fill(1)

    def new_address_space(self):
        return ShimAddressSpace(self.pool.take(), self.pool, self.spaces)

    def new_context(self):
        return ShimContext()

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
