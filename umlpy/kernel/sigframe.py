"""Signal frames: delivering a caught signal to a guest handler, and rt_sigreturn.

The frame is Linux x86-64's ``struct rt_sigframe``: the return address
(``sa_restorer``), a ``ucontext`` whose ``uc_mcontext`` is the interrupted
register set, and the ``siginfo``.  The FPU/SSE state is not written into the
frame (``fpstate`` is NULL): the guest kernel keeps it on a per-task stack and
restores it at rt_sigreturn, so handlers cannot clobber the interrupted
code's vector registers.
"""

import struct

from umlpy.abi.regs import USER_CS, USER_SS
from umlpy.abi.ptrace import FLAG_MASK
from umlpy.abi.signal import SA, SIGINFO_SIZE, SS_DISABLE, SS_ONSTACK
from umlpy.errors import SyscallError

from . import signals as sigs
from .restart import REGS_SET

# struct sigcontext (x86-64): r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags,
# cs, gs, fs, ss (u16), err, trapno, oldmask, cr2, fpstate, reserved1[8].
_SC_REGS = ("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp", "rbx",
            "rdx", "rax", "rcx", "rsp", "rip", "eflags")
_SIGCONTEXT = struct.Struct("<18Q4H5Q64x")
_UC_HEAD = struct.Struct("<QQQi4xQ")        # uc_flags, uc_link, uc_stack{ss_sp, ss_flags, ss_size}
UCONTEXT_SIZE = _UC_HEAD.size + _SIGCONTEXT.size + 8
FRAME_SIZE = 8 + UCONTEXT_SIZE + SIGINFO_SIZE
#: Where uc_sigmask lies from the ucontext's start (what rsp points at in rt_sigreturn).
UC_SIGMASK_OFFSET = _UC_HEAD.size + _SIGCONTEXT.size
assert _SIGCONTEXT.size == 256 and UCONTEXT_SIZE == 304
_EFLAGS_USER = FLAG_MASK   # CF PF AF ZF SF TF DF OF NT RF AC: what sigreturn may change


def pack_siginfo(signo: int, code: int, addr: int = 0, pid: int = 0, status: int = 0, uid: int = 0) -> bytes:
    head = struct.pack("<iii4x", signo, 0, code)
    if signo in (4, 7, 8, 11, 5):      # SIGILL SIGBUS SIGFPE SIGSEGV SIGTRAP: si_addr
        body = struct.pack("<Q", addr)
    elif signo == 17:                  # SIGCHLD: pid, uid, status, utime, stime
        body = struct.pack("<iii4xqq", pid, uid, status, 0, 0)
    else:                              # kill/tkill: pid, uid
        body = struct.pack("<ii", pid, uid)
    return (head + body).ljust(SIGINFO_SIZE, b"\0")


def setup_frame(kernel, t, signo: int, act, info):
    """Push an rt_sigframe and point the task at its handler."""
    regs = t.ctx.regs
    _, code, addr, pid, status = info
    sp = regs.rsp - 128                     # the x86-64 red zone
    ss_sp, ss_flags, ss_size = t.sigaltstack
    if act.flags & SA.SA_ONSTACK and not ss_flags & SS_DISABLE and not (ss_sp < sp <= ss_sp + ss_size):
        sp = ss_sp + ss_size
    frame = ((sp - FRAME_SIZE) & ~15) - 8
    uc = frame + 8
    info_addr = uc + UCONTEXT_SIZE
    old_mask = t.sigmask
    if t.saved_sigmask is not None:     # rt_sigsuspend's (ppoll's...) mask ends here
        old_mask, t.saved_sigmask = t.saved_sigmask, None
    sc = _SIGCONTEXT.pack(*(getattr(regs, r) for r in _SC_REGS), USER_CS, 0, 0, USER_SS,
                          0, 14 if signo in (7, 11) else 0, old_mask, addr if signo in (7, 11) else 0, 0)
    on_alt = 1 if ss_sp < sp <= ss_sp + ss_size else 0
    head = _UC_HEAD.pack(0, 0, ss_sp, SS_ONSTACK if on_alt else (ss_flags & SS_DISABLE), ss_size)
    blob = struct.pack("<Q", act.restorer) + head + sc + struct.pack("<Q", t.sigmask) \
        + pack_siginfo(signo, code, addr, pid, status, sigs.sender_uid(kernel, t, signo, info))
    blob = blob[:8 + _UC_HEAD.size + _SIGCONTEXT.size] + struct.pack("<Q", old_mask) \
        + blob[8 + _UC_HEAD.size + _SIGCONTEXT.size + 8:]
    if not act.flags & SA.SA_RESTORER or not act.restorer:
        kernel.exit_group(t, 11, signaled=True)   # no way back from the handler
        return
    try:
        t.mm.write(frame, blob)
    except SyscallError:
        # Cannot build the frame: the task dies of SIGSEGV, as on Linux.
        kernel.exit_group(t, 11, signaled=True)
        return
    saved = t.ctx.xstate_snapshot(t.mm.host)
    t.sigframes.append(saved)
    regs.rsp = frame
    regs.rip = act.handler
    regs.rdi = signo
    regs.rsi = info_addr
    regs.rdx = uc
    regs.rax = 0
    regs.eflags &= ~0x400       # DF clear for the handler, as the ABI wants
    t.sigmask |= act.mask
    if not act.flags & SA.SA_NODEFER:
        t.sigmask |= sigs.bit(signo)
    t.sigmask &= ~sigs.UNBLOCKABLE
    if act.flags & SA.SA_RESETHAND:
        act.handler = sigs.SIG_DFL


def sigreturn(kernel, t):
    """rt_sigreturn: restore what setup_frame saved.  Returns REGS_SET."""
    regs = t.ctx.regs
    uc = regs.rsp   # the handler's `ret` popped pretcode
    try:
        raw = t.mm.read(uc, UCONTEXT_SIZE)
    except SyscallError:
        kernel.exit_group(t, 11, signaled=True)
        return REGS_SET
    vals = _SIGCONTEXT.unpack_from(raw, _UC_HEAD.size)
    for name, v in zip(_SC_REGS, vals):
        if name == "eflags":
            regs.eflags = (regs.eflags & ~_EFLAGS_USER) | (v & _EFLAGS_USER)
        else:
            setattr(regs, name, v)
    regs.cs, regs.ss = USER_CS, USER_SS
    regs.orig_rax = (1 << 64) - 1
    mask = struct.unpack_from("<Q", raw, _UC_HEAD.size + _SIGCONTEXT.size)[0]
    t.sigmask = mask & ~sigs.UNBLOCKABLE
    if t.sigframes:
        t.ctx.xstate_restore(t.mm.host, t.sigframes.pop())
    return REGS_SET
