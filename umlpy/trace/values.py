"""Scalar values as strace spells them: signals and sigsets, flag words whose
layout is more than a table (open, mmap, statx, clone, futex, ioctl request),
wait statuses, rlimit values, syscall names and error returns.

Each function takes the raw value (and the ``-X`` mode) and reads no guest
memory; the tables come from :mod:`.tables`, the numbers from :mod:`umlpy.abi`.
"""

from __future__ import annotations

from umlpy.abi.clone import CSIGNAL
from umlpy.abi.errno_tab import ERRNO_MESSAGES, ERRNO_NAMES
from umlpy.abi.extensions import EXTENSION_NAMES
from umlpy.abi.fcntl import AT_STATX_SYNC_TYPE, O_ACCMODE
from umlpy.abi.futex import FUTEX_CLOCK_REALTIME, FUTEX_PRIVATE_FLAG
from umlpy.abi.mman import MAP_HUGE_SHIFT, MAP_TYPE
from umlpy.abi.resource import RLIM64_INFINITY
from umlpy.abi.signal import SIGNAL_NAMES, SIGRTMAX, SIGRTMIN, SI_KERNEL, ChldCode, Sig, si_code_name
from umlpy.abi.syscall_nr import SYSCALL_NAMES
from umlpy.abi.wait import W_CONTINUED, W_SIGMASK, W_STOPPED, WCOREFLAG

from .format import comment, flag_names, fmt_enum, fmt_flags, fmt_hex, fmt_ptr, fmt_struct
from .guest import M64, s32
from .tables import (ACCMODES, AT_FLAGS, CLONE_FLAGS, FUTEX_CMDS, FUTEX_OP_CMPS, FUTEX_OP_OPS, IOCTL_ALIASES,
                     IOCTL_REQUESTS, MAP_FLAGS, MAP_TYPES, OPEN_FLAGS, STATX_SYNC)

# --- signals -------------------------------------------------------------------

#: Signals whose siginfo carries a fault address (si_addr).
_FAULT_SIGNALS = (Sig.SIGILL, Sig.SIGTRAP, Sig.SIGBUS, Sig.SIGFPE, Sig.SIGSEGV)


def signame(sig: int) -> str | None:
    """``SIGUSR1``, ``SIGRTMIN``, ``SIGRT_3``; None if not a signal number."""
    if sig == SIGRTMIN:
        return "SIGRTMIN"
    if SIGRTMIN < sig <= SIGRTMAX:
        return "SIGRT_%d" % (sig - SIGRTMIN)
    if 0 < sig < SIGRTMIN:
        return SIGNAL_NAMES.get(sig)
    return None


def fmt_signal(sig: int, xmode: str = "abbrev") -> str:
    """A signal number argument: ``SIGKILL``, ``0``, ``-1``, ``70``."""
    sig = s32(sig)
    name = signame(sig)
    if name is None or xmode == "raw":
        return str(sig)
    return comment(str(sig), name) if xmode == "verbose" else name


def fmt_sigset(mask: int, xmode: str = "abbrev", nsig: int = 64) -> str:
    """A sigset: ``[USR1 USR2]``, or ``~[KILL STOP]`` when more than half the bits are set."""
    mask &= (1 << nsig) - 1
    prefix = ""
    if bin(mask).count("1") > nsig // 2:
        prefix, mask = "~", ~mask & ((1 << nsig) - 1)
    items = []
    for sig in range(1, nsig + 1):
        if mask >> (sig - 1) & 1:
            name = signame(sig)
            short = name[3:] if name else str(sig)
            if xmode == "raw":
                items.append(str(sig))
            elif xmode == "verbose":
                items.append(comment(str(sig), short))
            else:
                items.append(short)
    return prefix + "[" + " ".join(items) + "]"


def format_siginfo(signo: int, code: int, addr: int = 0, pid: int = 0, uid: int = 0,
                   status: int = 0) -> str:
    """The ``{si_signo=..., si_code=..., ...}`` of a ``--- SIGxxx ... ---`` line.

    Faults show si_addr; SIGCHLD shows pid, uid, status (a signal name for
    CLD_KILLED/CLD_DUMPED) and zero times; signals sent by a process show
    its pid and uid.
    """
    code = s32(code)
    fields = [("si_signo", signame(signo) or str(signo)), ("si_code", si_code_name(signo, code))]
    if code > 0 and code != SI_KERNEL and signo in _FAULT_SIGNALS:
        fields.append(("si_addr", fmt_ptr(addr)))
    elif code > 0 and signo == Sig.SIGCHLD:
        killed = code in (ChldCode.CLD_KILLED, ChldCode.CLD_DUMPED)
        st = (signame(status) or str(status)) if killed else str(status)
        fields += [("si_pid", str(pid)), ("si_uid", str(uid)), ("si_status", st),
                   ("si_utime", "0"), ("si_stime", "0")]
    elif code == SI_KERNEL:
        if signo in _FAULT_SIGNALS:
            fields.append(("si_addr", fmt_ptr(addr)))
    else:
        fields += [("si_pid", str(pid)), ("si_uid", str(uid))]
    return fmt_struct(fields)


# --- flag words with a layout ----------------------------------------------------

def fmt_open_flags(flags: int, xmode: str = "abbrev") -> str:
    """open flags: ``O_RDONLY|O_CLOEXEC`` (the access mode always named)."""
    flags &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(flags)
    acc = dict(ACCMODES)[flags & O_ACCMODE]
    rest = flags & ~O_ACCMODE
    text = acc if not rest else acc + "|" + fmt_flags(rest, OPEN_FLAGS)
    if xmode == "verbose":
        return comment(fmt_hex(flags), text)
    return text


def fmt_mmap_flags(flags: int, xmode: str = "abbrev") -> str:
    """mmap flags: ``MAP_PRIVATE|MAP_ANONYMOUS``, ``21<<MAP_HUGE_SHIFT``."""
    flags &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(flags)
    kind = flags & MAP_TYPE
    parts = [fmt_enum(kind, MAP_TYPES, "abbrev", "MAP_???")]
    huge = flags >> MAP_HUGE_SHIFT
    rest = flags & ~MAP_TYPE & ((1 << MAP_HUGE_SHIFT) - 1)
    if rest:
        names, left = flag_names(rest, MAP_FLAGS)
        parts += names
        if left:
            parts.append(fmt_hex(left))
    if huge:
        parts.append("%d<<MAP_HUGE_SHIFT" % huge)
    text = "|".join(parts)
    return comment(fmt_hex(flags), text) if xmode == "verbose" else text


def fmt_statx_flags(flags: int, xmode: str = "abbrev") -> str:
    """statx's flags: the sync type first (``AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH``)."""
    flags &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(flags)
    parts = [fmt_enum(flags & AT_STATX_SYNC_TYPE, STATX_SYNC, "abbrev")]
    rest = flags & ~AT_STATX_SYNC_TYPE
    if rest:
        parts.append(fmt_flags(rest, AT_FLAGS))
    text = "|".join(parts)
    return comment(fmt_hex(flags), text) if xmode == "verbose" else text


def fmt_clone_flags(flags: int, xmode: str = "abbrev") -> str:
    """clone's flags: ``CLONE_VM|...|SIGCHLD`` (the exit signal in the low byte)."""
    flags &= M64
    if xmode == "raw":
        return fmt_hex(flags)
    sig = flags & CSIGNAL
    parts = []
    if flags & ~CSIGNAL:
        parts.append(fmt_flags(flags & ~CSIGNAL, CLONE_FLAGS))
    if sig:
        parts.append(signame(sig) or str(sig))
    text = "|".join(parts) or "0"
    return comment(fmt_hex(flags), text) if xmode == "verbose" and flags else text


def fmt_futex_op(op: int, xmode: str = "abbrev") -> str:
    """futex's op: ``FUTEX_WAIT_PRIVATE``, ``FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME``."""
    op &= 0xFFFFFFFF
    cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
    name = dict(FUTEX_CMDS).get(cmd)
    if xmode == "raw":
        return fmt_hex(op)
    if name is None:
        return comment(fmt_hex(op), "FUTEX_???")
    if op & FUTEX_PRIVATE_FLAG:
        name += "_PRIVATE"
    if op & FUTEX_CLOCK_REALTIME:
        name += "|FUTEX_CLOCK_REALTIME"
    return comment(fmt_hex(op), name) if xmode == "verbose" else name


def fmt_futex_wake_op(v: int) -> str:
    """FUTEX_WAKE_OP's encoded operation: ``FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1``."""
    v &= 0xFFFFFFFF
    op, cmp_, oparg, cmparg = (v >> 28) & 7, (v >> 24) & 15, (v >> 12) & 0xFFF, v & 0xFFF
    ops = dict(FUTEX_OP_OPS).get(op)
    opt = (ops + "<<28") if ops else "%s<<28 /* FUTEX_OP_??? */" % fmt_hex(op)
    if v >> 31:                                     # FUTEX_OP_OPARG_SHIFT in the op field
        opt = "FUTEX_OP_OPARG_SHIFT<<28|" + opt
    cmps = dict(FUTEX_OP_CMPS).get(cmp_)
    cmpt = (cmps + "<<24") if cmps else "%s<<24 /* FUTEX_OP_CMP_??? */" % fmt_hex(cmp_)
    return "%s|%s<<12|%s|%s" % (opt, fmt_hex(oparg), cmpt, fmt_hex(cmparg))


def fmt_ioctl_request(req: int, xmode: str = "abbrev") -> str:
    """An ioctl request: ``TCGETS``, else its ``_IOC(dir, type, nr, size)`` fields."""
    req &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(req)
    name = IOCTL_ALIASES.get(req) or dict(IOCTL_REQUESTS).get(req)
    if name is None:
        # asm-generic/ioctl.h: dir:2 (bit 30) size:14 (bit 16) type:8 (bit 8) nr:8
        d = req >> 30
        dirs = ("_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE")[d]
        name = "_IOC(%s, %s, %s, %s)" % (dirs, fmt_hex((req >> 8) & 0xFF), fmt_hex(req & 0xFF),
                                        fmt_hex((req >> 16) & 0x3FFF))
        return name
    return comment(fmt_hex(req), name) if xmode == "verbose" else name


# --- wait statuses and limits ------------------------------------------------------

def fmt_wait_status(status: int, xmode: str = "abbrev") -> str:
    """A wait status as strace spells it: ``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]``."""
    status &= 0xFFFFFFFF
    if xmode == "raw":
        return "[%s]" % fmt_hex(status)
    low = status & W_SIGMASK
    if status == W_CONTINUED:
        text = "WIFCONTINUED(s)"
    elif low == 0:
        text = "WIFEXITED(s) && WEXITSTATUS(s) == %d" % ((status >> 8) & 0xFF)
    elif low == W_STOPPED:
        text = "WIFSTOPPED(s) && WSTOPSIG(s) == %s" % fmt_signal((status >> 8) & 0xFF)
    else:
        text = "WIFSIGNALED(s) && WTERMSIG(s) == %s" % fmt_signal(low)
        if status & WCOREFLAG:
            text += " && WCOREDUMP(s)"
    extra = status >> 16                            # a ptrace event, for a stop
    tail = " | %s<<16" % fmt_hex(extra) if extra and low == W_STOPPED else ""
    return "[{%s}%s]" % (text, tail)


def fmt_rlim(v: int, xmode: str) -> str:
    """One rlimit value: ``RLIM64_INFINITY``, ``8192*1024``, ``1023``."""
    if v == RLIM64_INFINITY:
        text = "RLIM64_INFINITY"
    elif v > 1024 and v % 1024 == 0:
        text = "%d*1024" % (v // 1024)
    else:
        return str(v)
    if xmode == "raw":
        return str(v)
    return comment(str(v), text) if xmode == "verbose" else text


# --- names and errors --------------------------------------------------------------

# strace's spelling of the kernel-internal restart codes (never seen by the guest).
_RESTART = {512: "? ERESTARTSYS (To be restarted if SA_RESTART is set)",
            513: "? ERESTARTNOINTR (To be restarted)",
            514: "? ERESTARTNOHAND (To be restarted if no handler)",
            516: "? ERESTART_RESTARTBLOCK (Interrupted by signal)"}


def format_error(errno: int) -> str:
    """A failed call's result: ``-1 ENOENT (No such file or directory)``."""
    if errno in _RESTART:
        return _RESTART[errno]
    name = ERRNO_NAMES.get(errno, "E%d" % errno if errno not in ERRNO_NAMES else "")
    msg = ERRNO_MESSAGES.get(errno, "Unknown error %d" % errno)
    if errno not in ERRNO_NAMES:
        return "-1 %d (%s)" % (errno, msg)
    return "-1 %s (%s)" % (name, msg)


def syscall_name(nr: int) -> str:
    """``read``, an extension's name (``create_mm``), or ``syscall_0x1f4`` as strace prints unknowns."""
    name = SYSCALL_NAMES.get(nr) or EXTENSION_NAMES.get(nr)
    if name is not None:
        return name
    return "syscall_%#x" % (nr & M64) if nr else "syscall_0"
