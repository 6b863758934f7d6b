"""Spec-level formatters: calls whose printed arguments depend on an argument.

clone's flags decide which pointers it prints, futex's op how many
arguments follow, fcntl's and ioctl's command what the third one is.  Such
a call's spec has a :class:`Custom` instead of one decoder per argument;
like the decoders it has an entry and an exit part, so the line can still be
cut as ``<unfinished ...>`` / ``<... resumed>``.
"""

from __future__ import annotations

import struct

from umlpy.abi.clone import CLONE_ARGS_SIZE_VER0, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_PARENT_SETTID, \
    CLONE_SETTLS
from umlpy.abi.fcntl import F, IOCTL, O
from umlpy.abi.futex import FUTEX, FUTEX_BITSET_MATCH_ANY
from umlpy.abi.mman import MREMAP
from umlpy.abi.prctl import ARCH_GET_FS, ARCH_GET_GS, PR, TASK_COMM_LEN

from .args import DIRFD, INT_OUT, PATH, WAIT_STATUS_OUT, IntOut
from .format import fmt_enum, fmt_flags, fmt_hex, fmt_octal, fmt_ptr, fmt_struct
from .guest import MAX_ARRAY, M64, failed, fd_text, read_mem, read_struct, s32, str_at, xmode_of
from .structs import fmt_flock, fmt_rusage, fmt_termios, fmt_timespec, fmt_timeval, fmt_winsize, mode_text
from .tables import (ARCH_CODES, CLONE_FLAGS, FCNTL_CMDS, FD_FLAGS, MREMAP_FLAGS, PR_OPTIONS, S_IFMT_NAMES,
                     POLL_EVENTS, SEAL_FLAGS, WAIT_OPTIONS)

_MKNOD_KINDS = {v for v, _ in S_IFMT_NAMES}
from .values import fmt_clone_flags, fmt_futex_op, fmt_futex_wake_op, fmt_ioctl_request, fmt_open_flags, \
    fmt_sigset, fmt_signal


class Custom:
    """A call whose printed arguments are not one per register.

    ``enter``/``exit`` return the argument strings of each phase; ``retval``
    may give a decorated return value (or None for the spec's ``ret``).
    """

    def enter(self, ctx, args) -> list[str]:
        return []

    def exit(self, ctx, args, ret) -> list[str]:
        return []

    def retval(self, ctx, args, ret) -> str | None:
        return None

    def has_exit(self, args) -> bool:
        """Whether :meth:`exit` prints anything (so the entry part ends with ", ")."""
        return False


# --- processes -----------------------------------------------------------------------

class CloneCall(Custom):
    """clone(child_stack=..., flags=...) then, at exit, parent_tid/tls/child_tidptr."""

    def enter(self, ctx, args):
        return ["child_stack=" + fmt_ptr(args[1]), "flags=" + fmt_clone_flags(args[0], xmode_of(ctx))]

    def has_exit(self, args):
        return bool(args[0] & (CLONE_PARENT_SETTID | CLONE_SETTLS | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID))

    def exit(self, ctx, args, ret):
        f = args[0]
        out = []
        if f & CLONE_PARENT_SETTID:
            out.append("parent_tid=" + fmt_ptr(args[2]))
        if f & CLONE_SETTLS:
            out.append("tls=" + fmt_ptr(args[4]))
        if f & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
            out.append("child_tidptr=" + fmt_ptr(args[3]))
        return out


class Clone3Call(Custom):
    _ARGS = struct.Struct("<11Q")

    def enter(self, ctx, args):
        v = read_struct(ctx, args[0], self._ARGS) if args[1] >= CLONE_ARGS_SIZE_VER0 else None
        if v is None:
            return [fmt_ptr(args[0]), str(args[1])]
        flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls = v[:8]
        xm = xmode_of(ctx)
        fields = [("flags", fmt_flags(flags, CLONE_FLAGS, None, xm))]
        if flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID):
            fields.append(("child_tid", fmt_ptr(child_tid)))
        if flags & CLONE_PARENT_SETTID:
            fields.append(("parent_tid", fmt_ptr(parent_tid)))
        fields += [("exit_signal", fmt_signal(exit_signal, xm)), ("stack", fmt_ptr(stack)),
                   ("stack_size", fmt_hex(stack_size))]
        if flags & CLONE_SETTLS:
            fields.append(("tls", fmt_ptr(tls)))
        return [fmt_struct(fields), str(args[1])]


class Wait4Call(Custom):
    """wait4(pid, status, options, rusage): rusage is filled only on success."""

    def enter(self, ctx, args):
        return [str(s32(args[0]))]

    def has_exit(self, args):
        return True

    def exit(self, ctx, args, ret):
        xm = xmode_of(ctx)
        opts = fmt_flags(args[2] & 0xFFFFFFFF, WAIT_OPTIONS, None, xm)
        ru = "NULL" if not args[3] else fmt_ptr(args[3]) if failed(ret) else fmt_rusage(ctx, args[3])
        return [WAIT_STATUS_OUT.format(ctx, args, 1, ret), opts, ru]


_ARCH_GET = (ARCH_GET_FS, ARCH_GET_GS)


class ArchPrctlCall(Custom):
    def enter(self, ctx, args):
        code = args[0] & 0xFFFFFFFF
        out = [fmt_enum(code, ARCH_CODES, xmode_of(ctx), "ARCH_???")]
        if code not in _ARCH_GET:
            out.append(fmt_hex(args[1]))
        return out

    def has_exit(self, args):
        return args[0] & 0xFFFFFFFF in _ARCH_GET

    def exit(self, ctx, args, ret):
        if args[0] & 0xFFFFFFFF in _ARCH_GET:
            return [IntOut(size=8, hexa=True).format(ctx, args, 1, ret)]
        return []


# prctl options by argument shape.
_PR_OUT = (PR.PR_GET_PDEATHSIG, PR.PR_GET_NAME)
_PR_NOARG = (PR.PR_GET_DUMPABLE, PR.PR_GET_KEEPCAPS, PR.PR_GET_SECCOMP, PR.PR_GET_TIMERSLACK,
             PR.PR_GET_CHILD_SUBREAPER, PR.PR_GET_NO_NEW_PRIVS, PR.PR_GET_THP_DISABLE)
_PR_ULONG = (PR.PR_SET_DUMPABLE, PR.PR_SET_KEEPCAPS, PR.PR_SET_TIMERSLACK, PR.PR_SET_CHILD_SUBREAPER)


class PrctlCall(Custom):
    def enter(self, ctx, args):
        opt = args[0] & 0xFFFFFFFF
        out = [fmt_enum(opt, PR_OPTIONS, xmode_of(ctx), "PR_???")]
        if opt == PR.PR_SET_NAME:
            out.append(str_at(ctx, args[1], TASK_COMM_LEN))
        elif opt == PR.PR_SET_PDEATHSIG:
            out.append(fmt_signal(args[1], xmode_of(ctx)))
        elif opt in _PR_OUT:
            pass
        elif opt in _PR_NOARG:
            pass
        elif opt in _PR_ULONG:
            out.append(str(args[1] & M64))
        else:
            out += [fmt_hex(a) for a in args[1:5]]
        return out

    def has_exit(self, args):
        return args[0] & 0xFFFFFFFF in _PR_OUT

    def exit(self, ctx, args, ret):
        opt = args[0] & 0xFFFFFFFF
        if opt == PR.PR_GET_NAME:
            return [fmt_ptr(args[1]) if failed(ret) else str_at(ctx, args[1], TASK_COMM_LEN)]
        if opt == PR.PR_GET_PDEATHSIG:
            if failed(ret):
                return [fmt_ptr(args[1])]
            v = read_mem(ctx, args[1], 4)
            return [fmt_ptr(args[1]) if v is None else "[%s]" % fmt_signal(int.from_bytes(v, "little"))]
        return []


# --- futexes ----------------------------------------------------------------------------

class FutexCall(Custom):
    def enter(self, ctx, args):
        uaddr, op, val, timeout, uaddr2, val3 = args[:6]
        # The bits below FUTEX_PRIVATE_FLAG; fmt_futex_op already shows unknown high bits.
        cmd = op & 0x7F
        out = [fmt_ptr(uaddr), fmt_futex_op(op, xmode_of(ctx))]
        val_s, val2_s = str(s32(val)), str(s32(timeout))
        to = fmt_timespec(ctx, timeout) if timeout else "NULL"
        bitset = "FUTEX_BITSET_MATCH_ANY" if val3 & 0xFFFFFFFF == FUTEX_BITSET_MATCH_ANY \
            else fmt_hex(val3 & 0xFFFFFFFF)
        if cmd == FUTEX.FUTEX_WAIT:
            out += [val_s, to]
        elif cmd in (FUTEX.FUTEX_WAKE, FUTEX.FUTEX_FD):
            out += [val_s]
        elif cmd == FUTEX.FUTEX_REQUEUE:
            out += [val_s, val2_s, fmt_ptr(uaddr2)]
        elif cmd in (FUTEX.FUTEX_CMP_REQUEUE, FUTEX.FUTEX_CMP_REQUEUE_PI):
            out += [val_s, val2_s, fmt_ptr(uaddr2), str(s32(val3))]
        elif cmd == FUTEX.FUTEX_WAKE_OP:
            out += [val_s, val2_s, fmt_ptr(uaddr2), fmt_futex_wake_op(val3)]
        elif cmd in (FUTEX.FUTEX_LOCK_PI, FUTEX.FUTEX_LOCK_PI2):
            out += [to]
        elif cmd in (FUTEX.FUTEX_UNLOCK_PI, FUTEX.FUTEX_TRYLOCK_PI):
            pass
        elif cmd == FUTEX.FUTEX_WAIT_BITSET:
            out += [val_s, to, bitset]
        elif cmd == FUTEX.FUTEX_WAKE_BITSET:
            out += [val_s, bitset]
        elif cmd == FUTEX.FUTEX_WAIT_REQUEUE_PI:
            out += [val_s, to, fmt_ptr(uaddr2)]
        else:
            out += [val_s, fmt_hex(timeout), fmt_ptr(uaddr2), fmt_hex(val3)]
        return out


# --- files ------------------------------------------------------------------------------

class OpenCall(Custom):
    """open/openat: the mode is printed only with O_CREAT or O_TMPFILE."""

    def __init__(self, at: bool):
        self.at = at

    def enter(self, ctx, args):
        k = 1 if self.at else 0
        out = [DIRFD.format(ctx, args, 0, None)] if self.at else []
        out += [PATH.format(ctx, args, k, None), fmt_open_flags(args[k + 1], xmode_of(ctx))]
        flags = args[k + 1]
        if flags & int(O.O_CREAT) or flags & int(O.O_TMPFILE) == int(O.O_TMPFILE):
            out.append(fmt_octal(args[k + 2]))
        return out


_FCNTL_NOARG = {int(F.F_GETFD), int(F.F_GETFL), int(F.F_GETOWN), int(F.F_GETSIG), int(F.F_GETLEASE),
                int(F.F_GETPIPE_SZ), int(F.F_GET_SEALS)}
_FCNTL_GETLK = (int(F.F_GETLK), int(F.F_OFD_GETLK))
_FCNTL_SETLK = (int(F.F_SETLK), int(F.F_SETLKW), int(F.F_OFD_SETLK), int(F.F_OFD_SETLKW))


class FcntlCall(Custom):
    def enter(self, ctx, args):
        cmd = args[1] & 0xFFFFFFFF
        xm = xmode_of(ctx)
        out = [fd_text(ctx, args[0]), fmt_enum(cmd, FCNTL_CMDS, xm, "F_???")]
        if cmd in _FCNTL_NOARG or cmd in _FCNTL_GETLK:
            return out
        if cmd == int(F.F_SETFD):
            out.append(fmt_flags(args[2] & 0xFFFFFFFF, FD_FLAGS, None, xm))
        elif cmd == int(F.F_SETFL):
            out.append(fmt_open_flags(args[2], xm))
        elif cmd in _FCNTL_SETLK:
            out.append(fmt_flock(ctx, args[2], False))
        elif cmd == int(F.F_ADD_SEALS):
            out.append(fmt_flags(args[2] & 0xFFFFFFFF, SEAL_FLAGS, None, xm, "F_SEAL_???"))
        elif cmd in dict(FCNTL_CMDS):
            out.append(str(s32(args[2])))
        else:
            out.append(fmt_hex(args[2]))
        return out

    def has_exit(self, args):
        return args[1] & 0xFFFFFFFF in _FCNTL_GETLK

    def exit(self, ctx, args, ret):
        cmd = args[1] & 0xFFFFFFFF
        if cmd in _FCNTL_GETLK:
            return [fmt_ptr(args[2]) if failed(ret) else fmt_flock(ctx, args[2], True)]
        return []

    def retval(self, ctx, args, ret):
        cmd = args[1] & 0xFFFFFFFF
        xm = xmode_of(ctx)
        if cmd == int(F.F_GETFL):
            return "%s (flags %s)" % (fmt_hex(ret), fmt_open_flags(ret, "abbrev"))
        if cmd == int(F.F_GETFD):
            return "0" if ret == 0 else "%s (flags %s)" % (fmt_hex(ret), fmt_flags(ret, FD_FLAGS, None, xm))
        if cmd in (int(F.F_DUPFD), int(F.F_DUPFD_CLOEXEC)):
            return fd_text(ctx, ret)
        if cmd == int(F.F_GET_SEALS):
            return "0" if ret == 0 else "%s (seals %s)" % (fmt_hex(ret), fmt_flags(ret, SEAL_FLAGS, None, xm))
        return None


class MknodCall(Custom):
    """mknod/mknodat: the device number only for character and block devices."""

    def __init__(self, at: bool):
        self.at = at

    def enter(self, ctx, args):
        i = 1 if self.at else 0
        out = [DIRFD.format(ctx, args, 0, None)] if self.at else []
        mode = args[i + 1] & 0xFFFFFFFF
        xm = xmode_of(ctx)
        kind = mode & 0o170000
        if xm == "raw" or (kind and kind not in _MKNOD_KINDS):
            text = "0%o" % mode
        else:
            text = mode_text(mode, xm)
        out += [PATH.format(ctx, args, i, None), text]
        if kind in (0o020000, 0o060000):            # S_IFCHR, S_IFBLK
            dev = args[i + 2] & 0xFFFFFFFF
            out.append("makedev(%s, %s)" % (fmt_hex((dev >> 8) & 0xFFF), fmt_hex((dev & 0xFF) | ((dev >> 12) & 0xFFF00))))
        return out


_IOCTL_OUT = {int(IOCTL.TCGETS): fmt_termios, int(IOCTL.TIOCGWINSZ): fmt_winsize}
_IOCTL_IN = {int(IOCTL.TCSETS): fmt_termios, int(IOCTL.TCSETSW): fmt_termios, int(IOCTL.TCSETSF): fmt_termios,
             int(IOCTL.TIOCSWINSZ): fmt_winsize}
_IOCTL_INT_OUT = {int(IOCTL.FIONREAD), int(IOCTL.TIOCGPGRP), int(IOCTL.TIOCOUTQ), int(IOCTL.TIOCGSID),
                  int(IOCTL.TIOCGPTN), int(IOCTL.TIOCGETD)}
_IOCTL_INT_IN = {int(IOCTL.FIONBIO), int(IOCTL.TIOCSPGRP), int(IOCTL.FIOASYNC), int(IOCTL.TIOCSPTLCK),
                 int(IOCTL.TIOCSETD)}
_IOCTL_NOARG = {int(IOCTL.FIOCLEX), int(IOCTL.FIONCLEX), int(IOCTL.TIOCNOTTY), int(IOCTL.TIOCEXCL),
                int(IOCTL.TIOCNXCL)}


class IoctlCall(Custom):
    def enter(self, ctx, args):
        req = args[1] & 0xFFFFFFFF
        out = [fd_text(ctx, args[0]), fmt_ioctl_request(req, xmode_of(ctx))]
        if req in _IOCTL_NOARG:
            return out
        if req in _IOCTL_IN:
            out.append("NULL" if not args[2] else _IOCTL_IN[req](ctx, args[2]))
        elif req in _IOCTL_INT_IN:
            out.append(IntOut(phase="in").format(ctx, args, 2, None))
        elif req not in _IOCTL_OUT and req not in _IOCTL_INT_OUT:
            out.append(fmt_hex(args[2]))
        return out

    def has_exit(self, args):
        req = args[1] & 0xFFFFFFFF
        return req in _IOCTL_OUT or req in _IOCTL_INT_OUT

    def exit(self, ctx, args, ret):
        req = args[1] & 0xFFFFFFFF
        if req in _IOCTL_OUT:
            return [fmt_ptr(args[2]) if failed(ret) else _IOCTL_OUT[req](ctx, args[2])]
        if req in _IOCTL_INT_OUT:
            return [INT_OUT.format(ctx, args, 2, ret)]
        return []


# --- memory and signals --------------------------------------------------------------

class MremapCall(Custom):
    """mremap: new_address is printed only with MREMAP_FIXED."""

    def enter(self, ctx, args):
        out = [fmt_ptr(args[0]), str(args[1]), str(args[2]),
               fmt_flags(args[3] & 0xFFFFFFFF, MREMAP_FLAGS, None, xmode_of(ctx))]
        if args[3] & int(MREMAP.MREMAP_FIXED):
            out.append(fmt_ptr(args[4]))
        return out


class SigreturnCall(Custom):
    """rt_sigreturn({mask=[...]}): the mask comes from the signal frame, which
    only the tracer can find (optional ``ctx.sigreturn_mask() -> int | None``)."""

    def enter(self, ctx, args):
        get = getattr(ctx, "sigreturn_mask", None)
        mask = get() if get is not None else None
        return [] if mask is None else ["{mask=%s}" % fmt_sigset(mask, xmode_of(ctx))]


# --- I/O multiplexing ------------------------------------------------------------------

_POLLFD = struct.Struct("<ihh")


def _pollfds(ctx, addr, n, revents):
    """poll's array: ``[{fd=3, events=POLLIN}]``, or at exit the entries with revents."""
    shown = min(n, MAX_ARRAY)
    data = read_mem(ctx, addr, shown * _POLLFD.size) if shown else b""
    if data is None:
        return None
    xm = xmode_of(ctx)
    items = []
    for k in range(shown):
        fd, ev, rev = _POLLFD.unpack_from(data, k * _POLLFD.size)
        if revents:
            if rev:
                items.append("{fd=%s, revents=%s}" % (fd_text(ctx, fd), fmt_flags(rev & 0xFFFF, POLL_EVENTS, None, xm)))
        else:
            items.append("{fd=%s, events=%s}" % (fd_text(ctx, fd), fmt_flags(ev & 0xFFFF, POLL_EVENTS, None, xm)))
    if n > shown and not revents:
        items.append("...")
    return "[" + ", ".join(items) + "]"


class PollCall(Custom):
    """poll and ppoll: ``= 1 ([{fd=4, revents=POLLOUT}])``, ``= 0 (Timeout)``, and
    ppoll's time left."""

    def __init__(self, ppoll: bool):
        self.ppoll = ppoll

    def enter(self, ctx, args):
        n = args[1] & 0xFFFFFFFF
        arr = "NULL" if not args[0] else (_pollfds(ctx, args[0], n, False) or fmt_ptr(args[0]))
        out = [arr, str(n)]
        if not self.ppoll:
            out.append(str(s32(args[2])))
            return out
        out.append("NULL" if not args[2] else fmt_timespec(ctx, args[2]))
        if not args[3]:
            out.append("NULL")
        elif args[4] != 8:
            out.append(fmt_ptr(args[3]))
        else:
            data = read_mem(ctx, args[3], 8)
            out.append(fmt_ptr(args[3]) if data is None else fmt_sigset(int.from_bytes(data, "little"),
                                                                       xmode_of(ctx)))
        out.append(str(args[4]))
        return out

    def retval(self, ctx, args, ret):
        if ret == 0:
            return "0 (Timeout)"
        if ret < 0:
            return None
        ready = _pollfds(ctx, args[0], args[1] & 0xFFFFFFFF, True)
        if ready is None:
            return None
        if self.ppoll and args[2]:
            return "%d (%s, left %s)" % (ret, ready, fmt_timespec(ctx, args[2]))
        return "%d (%s)" % (ret, ready)


def _fdset(ctx, addr, nfds):
    if not addr:
        return "NULL"
    if nfds <= 0:
        return fmt_ptr(addr)
    nbytes = ((min(nfds, 1 << 20) + 63) // 64) * 8
    data = read_mem(ctx, addr, nbytes)
    if data is None:
        return fmt_ptr(addr)
    bits = int.from_bytes(data, "little")
    return "[" + " ".join(str(fd) for fd in range(nfds) if bits >> fd & 1) + "]"


class SelectCall(Custom):
    """select and pselect6: the fd sets as ``[3 4]`` on entry; at exit ``= 1 (in [3], out
    [4], left {...})`` or ``= 0 (Timeout)``."""

    def __init__(self, pselect: bool):
        self.pselect = pselect

    def enter(self, ctx, args):
        n = s32(args[0])
        out = [str(n)] + [_fdset(ctx, args[k], n) for k in (1, 2, 3)]
        if not args[4]:
            out.append("NULL")
        else:
            out.append(fmt_timespec(ctx, args[4]) if self.pselect else fmt_timeval(ctx, args[4]))
        if self.pselect:
            if not args[5]:
                out.append("NULL")
            else:
                v = read_struct(ctx, args[5], struct.Struct("<QQ"))
                if v is None:
                    out.append(fmt_ptr(args[5]))
                else:
                    mask = "NULL"
                    if v[0]:
                        data = read_mem(ctx, v[0], 8) if v[1] == 8 else None
                        mask = fmt_ptr(v[0]) if data is None else fmt_sigset(int.from_bytes(data, "little"),
                                                                             xmode_of(ctx))
                    out.append("{sigmask=%s, sigsetsize=%d}" % (mask, v[1]))
        return out

    def retval(self, ctx, args, ret):
        if ret == 0:
            return "0 (Timeout)"
        if ret < 0:
            return None
        n = s32(args[0])
        parts = []
        for k, name in ((1, "in"), (2, "out"), (3, "except")):
            if args[k]:
                text = _fdset(ctx, args[k], n)
                if text not in ("[]", "NULL") and text.startswith("["):
                    parts.append("%s %s" % (name, text))
        if args[4]:
            parts.append("left " + (fmt_timespec(ctx, args[4]) if self.pselect else fmt_timeval(ctx, args[4])))
        return "%d (%s)" % (ret, ", ".join(parts))
