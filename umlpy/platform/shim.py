"""The C ptrace platform: the run loop and batch execution in csrc/shim.c."""

import os
import struct

from umlpy.errors import PlatformError

from . import _shim
from .base import Context, Platform, Stop, StopKind
from .stub import StubAddressSpace

ffi, lib = _shim.ffi, _shim.lib

XSTATE_MAX = 16384
_KINDS = {k.value: k for k in StopKind}
#: r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax: contiguous in user_regs_struct.
_FRAME = struct.Struct("<9Q")
_FRAME_OFF = 7 * 8
FAST_BUDGET = 1 << 20


class ShimAddressSpace(StubAddressSpace):
    def __init__(self, physmem):
        super().__init__(physmem)
        self.c = ffi.new("struct shim_as *")
        self.c.pid = self.pid
        r = lib.shim_attach(self.c)
        if r < 0:
            self.release()
            raise PlatformError("cannot take control of the stub: %s" % os.strerror(-r))
        self.c.entry_batch = self.check_started()

    def _exec_batch(self):
        r = lib.shim_batch(self.c)
        if r < 0:
            raise PlatformError("stub %d: batch failed: %s" % (self.pid, os.strerror(-r)))

    @property
    def dead(self):
        return bool(self.c.dead)

    def release(self):
        if not self.released:
            self.released = True
            lib.shim_kill(self.c)
            self._free_slot()


class ShimContext(Context):
    __slots__ = ("c", "regs", "xstate", "xstate_len", "_ring", "_cstop", "_stop", "_regs_buf")

    def __init__(self):
        self.c = ffi.new("struct shim_ctx *")
        self.c.fast_budget = FAST_BUDGET
        self.regs = self.c.regs
        self.xstate = None          # bytes of the saved xstate, None: never saved
        self.xstate_len = 0
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
        if aspace.c.dead:
            return Stop(StopKind.EXIT, status=aspace.c.status)
        if aspace.loaded_ctx is not self:
            self._load_xstate(aspace)
        if aspace.queue.ops:
            aspace.flush()
        kind = lib.shim_switch(aspace.c, self.c, self._cstop)
        stop = self._stop
        stop.kind = _KINDS[kind]
        if kind != 1:
            st = self._cstop
            stop.signo, stop.code, stop.addr = st.signo, st.code, st.addr
            stop.is_write, stop.trap_no, stop.status = st.is_write, st.trap_no, st.status
        return stop

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
        self.spaces = []

    def new_address_space(self):
        a = ShimAddressSpace(self.physmem)
        self.spaces.append(a)
        return a

    def new_context(self):
        return ShimContext()

    def close(self):
        for a in self.spaces:
            a.release()
        self.spaces.clear()
