"""Signal system calls: sigaction, sigprocmask, sigreturn, kill, sigaltstack, pause."""

import errno
import struct

from umlpy.abi.signal import NSIG
from umlpy.abi.signal import MINSIGSTKSZ, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SS_DISABLE, SS_ONSTACK
from umlpy.errors import SyscallError
from umlpy.waiter import WouldBlock
from umlpy.kernel import signals as sigs
from umlpy.kernel.sigframe import sigreturn

from .table import partial, supported

E = SyscallError
_KSA = struct.Struct("<QQQQ")     # handler, flags, restorer, mask


def rt_sigaction(t, a):
    """Rt_sigaction implements rt_sigaction(2)."""
    sig, act, oact, size = a.int(0), a.ptr(1), a.ptr(2), a.size(3)
    if size != 8:
        raise E(errno.EINVAL)
    if sig < 1 or sig > NSIG:
        raise E(errno.EINVAL)
    actions = t.group.handlers.actions
    cur = actions[sig]
    new = None
    if act:
        new = _KSA.unpack(t.mm.read(act, 32))
        if sig in (sigs.SIGKILL, sigs.SIGSTOP):
            raise E(errno.EINVAL)
    if oact:
        t.mm.write(oact, _KSA.pack(cur.handler, cur.flags, cur.restorer, cur.mask))
    if new is not None:
        cur.handler, cur.flags, cur.restorer, cur.mask = new[0], new[1] & 0xFFFFFFFF, new[2], \
            new[3] & ~sigs.UNBLOCKABLE
        if cur.handler == sigs.SIG_IGN or (cur.handler == sigs.SIG_DFL
                                           and sigs.default_action(sig) == sigs.Default.IGN):
            bit = sigs.bit(sig)
            t.group.pending &= ~bit
            for tt in t.group.tasks:
                tt.pending &= ~bit
    return 0


def rt_sigprocmask(t, a):
    how, set_, oset, size = a.int(0), a.ptr(1), a.ptr(2), a.size(3)
    if size != 8:
        raise E(errno.EINVAL)
    old = t.sigmask
    if set_:
        new = struct.unpack("<Q", t.mm.read(set_, 8))[0]
        if how == SIG_BLOCK:
            mask = old | new
        elif how == SIG_UNBLOCK:
            mask = old & ~new
        elif how == SIG_SETMASK:
            mask = new
        else:
            raise E(errno.EINVAL)
    if oset:
        t.mm.write(oset, struct.pack("<Q", old))
    if set_:
        t.sigmask = mask & ~sigs.UNBLOCKABLE
    return 0


def rt_sigpending(t, a):
    if a.size(1) > 8:
        raise E(errno.EINVAL)
    t.mm.write(a.ptr(0), struct.pack("<Q", (t.pending | t.group.pending) & t.sigmask)[:a.size(1)])
    return 0


def rt_sigreturn(t, a):
    return sigreturn(t.kernel, t)


def sigaltstack(t, a):
    ss, oss = a.ptr(0), a.ptr(1)
    cur_sp, cur_flags, cur_size = t.sigaltstack
    rsp = t.ctx.regs.rsp
    on = cur_size and cur_sp < rsp <= cur_sp + cur_size
    if oss:
        t.mm.write(oss, struct.pack("<Qi4xQ", cur_sp, SS_ONSTACK if on else cur_flags & SS_DISABLE, cur_size))
    if ss:
        sp, flags, size = struct.unpack("<Qi4xQ", t.mm.read(ss, 24))
        if on:
            raise E(errno.EPERM)
        if flags & ~(SS_DISABLE | (1 << 31)):
            raise E(errno.EINVAL)
        if flags & SS_DISABLE:
            t.sigaltstack = (0, SS_DISABLE, 0)
        else:
            if size < MINSIGSTKSZ:
                raise E(errno.ENOMEM)
            t.sigaltstack = (sp, 0, size)
    return 0


def _target_group(t, pid):
    k = t.kernel
    if pid > 0:
        g = k.groups.get(pid)
        if g is None or g.zombie:
            if g is not None and g.zombie:
                return []
            raise E(errno.ESRCH)
        return [g]
    if pid == 0:
        return [g for g in k.groups.values() if g.pgid == t.group.pgid and not g.zombie]
    if pid == -1:
        return [g for g in k.groups.values() if g.tgid != 1 and g is not t.group and not g.zombie]
    groups = [g for g in k.groups.values() if g.pgid == -pid and not g.zombie]
    if not groups:
        raise E(errno.ESRCH)
    return groups


def kill(t, a):
    pid, sig = a.int(0), a.int(1)
    if sig < 0 or sig > NSIG:
        raise E(errno.EINVAL)
    groups = _target_group(t, pid)
    for g in groups:
        t.kernel.send_signal(g, sig, (sig, 0, 0, t.group.tgid, 0))
    return 0


def tgkill(t, a):
    tgid, tid, sig = a.int(0), a.int(1), a.int(2)
    if sig < 0 or sig > NSIG or tid <= 0 or tgid <= 0:
        raise E(errno.EINVAL)
    tt = t.kernel.tasks.get(tid)
    if tt is None or tt.group.tgid != tgid:
        raise E(errno.ESRCH)
    t.kernel.send_signal(tt, sig, (sig, -6, 0, t.group.tgid, 0))
    return 0


def tkill(t, a):
    tid, sig = a.int(0), a.int(1)
    if sig < 0 or sig > NSIG or tid <= 0:
        raise E(errno.EINVAL)
    tt = t.kernel.tasks.get(tid)
    if tt is None:
        raise E(errno.ESRCH)
    t.kernel.send_signal(tt, sig, (sig, -6, 0, t.group.tgid, 0))
    return 0


def pause(t, a):
    raise WouldBlock()     # only a signal ends it (EINTR)


def rt_sigsuspend(t, a):
    if a.size(1) != 8:
        raise E(errno.EINVAL)
    mask = struct.unpack("<Q", t.mm.read(a.ptr(0), 8))[0]
    # The mask applies while waiting and during the delivery of the signal;
    # then the old one is back (kept for sigreturn through the frame).
    if t.saved_sigmask is None:
        t.saved_sigmask = t.sigmask
    t.sigmask = mask & ~sigs.UNBLOCKABLE
    raise WouldBlock()


FAMILY = [
    supported("rt_sigaction", rt_sigaction), supported("rt_sigprocmask", rt_sigprocmask),
    supported("rt_sigpending", rt_sigpending), supported("rt_sigreturn", rt_sigreturn),
    supported("sigaltstack", sigaltstack), supported("kill", kill), supported("tgkill", tgkill),
    supported("tkill", tkill), supported("pause", pause),
    partial("rt_sigsuspend", rt_sigsuspend, "the mask stays until the next sigprocmask"),
]
