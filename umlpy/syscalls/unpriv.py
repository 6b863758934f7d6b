"""unprivilege(2) (1005): run a register set in another address space until it traps.

The split-privilege call of the 2002 uml-devel thread, shaped as KVM_RUN: the
privileged caller hands over ``struct umlpy_vcpu``; its ``regs`` run in
``mm_fd``'s address space in a context of their own (a second register set
of the calling task) until the first system call, fault, signal or timeout;
then the call returns to the caller, in the caller's own address space,
with the full register state and the exit reason written back.  With
``mm_fd == -1`` the context runs in the caller's own address space as
unprivileged code sees it: only the UMLPY_PROT_UNPRIV mappings
(umlpy.mm.unpriv.UnprivView); a touch of anything else is EXIT_FAULT.

- EXIT_SYSCALL: rip is past the syscall instruction, orig_rax the number, rax
  -ENOSYS (a Linux syscall-entry stop); the call was not run.
- EXIT_FAULT: a page fault the target mm cannot resolve (demand paging and
  copy-on-write inside it are resolved on the way, invisibly).
- EXIT_SIGNAL: another synchronous trap (ud2, int3, divide error...).
- EXIT_TIMEOUT: ``timeout_ns`` of running time passed.
- A signal for the caller interrupts the run: -EINTR, with the unprivileged
  state saved in ``vcpu->regs``, and the caller's handler runs as usual.

The run yields the virtual CPU at time-slice ends like any task: it is then
parked for an instant (its state kept in the restart block) and goes on
when it is scheduled again.
"""

import errno
import struct
import time

from umlpy.abi import extensions as X
from umlpy.abi.regs import USER_REGS
from umlpy.errors import PlatformError, SyscallError
from umlpy.kernel import signals as sigs
from umlpy.kernel.restart import RestartBlock
from umlpy.mm.unpriv import UnprivView
from umlpy.platform.base import StopKind
from umlpy.waiter import WouldBlock

from .mmext import load_user_regs, mm_of_fd, pack_user_regs, read_user_regs
from .table import supported

E = SyscallError
_M64 = (1 << 64) - 1
_ENOSYS = (-errno.ENOSYS) & _M64
_REGS_OFF = X.UMLPY_VCPU.offset("regs")
_INFO_OFF = X.UMLPY_VCPU.offset("info")
_EXIT_OFF = X.UMLPY_VCPU.offset("exit_reason")
#: struct umlpy_vcpu's head (mm_fd, exit_reason, timeout_ns) and regs, and its info member.
_HEAD = struct.Struct("<iiQ")
_INFO = struct.Struct(X.UMLPY_VCPU_INFO.format)
assert _HEAD.size == _REGS_OFF and _INFO.size == X.UMLPY_VCPU_INFO.size
assert _INFO_OFF == _REGS_OFF + X.UMLPY_VCPU.field_size("regs")     # written in one piece
#: How long the unprivileged context runs before others get the CPU (as kernel.TIME_SLICE_S).
SLICE_S = 0.01


class VcpuRun(RestartBlock):
    """An unprivilege() in progress: the unprivileged register set and where it runs
    (``space``: an MM, or the caller's UnprivView; both have ``host`` and ``handle_fault``)."""

    __slots__ = ("t", "ctx", "space", "mm", "vcpu_addr", "deadline")

    def __init__(self, t, ctx, space, mm, vcpu_addr, deadline):
        self.t, self.ctx, self.space, self.mm = t, ctx, space, mm
        self.vcpu_addr, self.deadline = vcpu_addr, deadline

    def interrupted(self):
        # A signal for the caller: the state so far goes back to vcpu->regs.
        try:
            self.t.mm.write(self.vcpu_addr + _REGS_OFF, pack_user_regs(self.ctx))
        except SyscallError:
            pass
        raise E(errno.EINTR)


def _vcpu_context(t):
    """The task's second register set, for unprivileged runs (made once, reused)."""
    k = t.kernel
    cache = k.vcpu_contexts
    ctx = cache.get(t.tid)
    if ctx is None:
        ctx = cache[t.tid] = k.platform.new_context()
    return ctx


def _signal_pending(t) -> bool:
    p = (t.pending | t.group.pending) & (~t.sigmask | sigs.UNBLOCKABLE)
    return bool(p)


def _finish(t, run, reason, signo=0, code=0, addr=0, is_write=0, trap_no=0):
    """Write the exit back to the caller's vcpu (exit_reason, regs, info); the call's result."""
    reason = int(reason)
    base = run.vcpu_addr
    mem = t.mm
    mem.write(base + _EXIT_OFF, reason.to_bytes(4, "little"))
    mem.write(base + _REGS_OFF, pack_user_regs(run.ctx)
              + _INFO.pack(signo, code - (1 << 32) if code >= 1 << 31 else code, addr & _M64,
                           is_write, trap_no))
    return reason


def unprivilege(t, a):
    """Unprivilege implements the split-privilege call (see the module docstring)."""
    k = t.kernel
    run = t.restart_block
    if not isinstance(run, VcpuRun):
        vaddr = a.ptr(0)
        mm_fd, _, timeout = _HEAD.unpack(t.mm.read(vaddr, _HEAD.size))
        regs = read_user_regs(t, vaddr + _REGS_OFF)
        if mm_fd == -1:
            mm = t.mm
            space = mm.unpriv_view
            if space is None:
                try:
                    host = k.platform.new_address_space()
                except PlatformError as e:
                    k.warn("cannot start a host process for unprivilege: %s" % e)
                    raise E(errno.ENOMEM) from None
                space = mm.unpriv_view = UnprivView(mm, host)
        else:
            mm = space = mm_of_fd(t, mm_fd)
        ctx = _vcpu_context(t)
        load_user_regs(ctx, regs)
        ctx.regs.orig_rax = _M64
        deadline = time.monotonic() + timeout / 1e9 if timeout else None
        run = VcpuRun(t, ctx, space, mm, vaddr, deadline)
    ctx, mm, space = run.ctx, run.mm, run.space
    if space is not mm:
        space.sync()            # the caller may have changed its marked mappings meanwhile
    host = space.host
    timer = k.timer
    slice_end = time.monotonic() + SLICE_S
    in_flight = False         # the context still runs in the stub (an INTERRUPT stop)
    while True:
        if not in_flight:
            if _signal_pending(t):
                run.interrupted()       # -EINTR, the state so far saved in vcpu->regs
            now = time.monotonic()
            if run.deadline is not None and now >= run.deadline:
                return _finish(t, run, X.UMLPY_EXIT_TIMEOUT)
            if now >= slice_end and k.others_waiting():
                t.restart_block = run
                raise WouldBlock(deadline=k.now_ns())     # let the others run; go on after them
            if timer is not None and (k.runq or k.timers or run.deadline is not None):
                left = slice_end - now
                if run.deadline is not None:
                    left = min(left, run.deadline - now)
                timer.arm(max(0.0005, left))
            if mm.released:
                raise E(errno.EINVAL)
        stop = ctx.switch(host)
        kind = stop.kind
        in_flight = kind is StopKind.INTERRUPT
        if timer is not None and not in_flight:
            timer.disarm()
        if kind is StopKind.SYSCALL:
            return _finish(t, run, X.UMLPY_EXIT_SYSCALL)
        if kind is StopKind.FAULT:
            res = space.handle_fault(stop.addr, stop.is_write)
            if res is None:
                continue
            signo, code = res
            if signo == sigs.SIGKILL:
                raise E(errno.ENOMEM)
            is_write = ctx.fault_access(host, stop)      # the CPU's word, for this exit only
            return _finish(t, run, X.UMLPY_EXIT_FAULT, signo, code, stop.addr,
                           is_write if is_write >= 0 else 0, stop.trap_no or 14)
        if kind is StopKind.SIGNAL:
            return _finish(t, run, X.UMLPY_EXIT_SIGNAL, stop.signo, stop.code, stop.addr, 0,
                           stop.trap_no)
        if in_flight:
            # A host signal woke the supervisor; stop the context (PREEMPT follows) only
            # when its slice or its timeout is over.
            if ((timer is not None and timer.expired())
                    or (run.deadline is not None and time.monotonic() >= run.deadline)):
                host.preempt()
            continue
        if kind is StopKind.PREEMPT:
            continue              # the loop top decides: timeout, yield, or go on
        # EXIT: the stub of the target mm died.
        return _finish(t, run, X.UMLPY_EXIT_SIGNAL, sigs.SIGKILL)


FAMILY = [
    supported("unprivilege", unprivilege),
]
