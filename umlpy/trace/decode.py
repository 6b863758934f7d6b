"""Decoding of system-call arguments and results into strace's syntax.

A syscall's spec (``umlpy.trace.specs.SPECS``) lists one argument decoder per
argument.  A decoder has a ``phase``: ``"in"`` arguments are printed when the
call enters, ``"out"`` ones when it returns, because the kernel fills them
(read's buffer, fstat's struct).  Once one argument is ``"out"``, all later
ones print at exit too, so a line can be cut as ``read(3, <unfinished ...>``
and resumed as ``<... read resumed>"data", 4096) = 4``.  Calls whose layout
depends on an argument (clone, futex, fcntl, ioctl, ...) have a spec-level
``custom`` formatter with the same two phases.

Decoders never raise on bad guest memory: an unreadable pointer prints as
its address, as strace does.  All spelling goes through :mod:`.format`.
"""

from __future__ import annotations

import struct
import time
from typing import Protocol

from umlpy.abi import stat as abi_stat
from umlpy.abi.errno_tab import ERRNO_MESSAGES, ERRNO_NAMES
from umlpy.abi.extensions import EXTENSION_NAMES, UMLPY_SYSCALL, VAS_ATTR
from umlpy.abi.fcntl import AT, AT_FDCWD, F, IOCTL, O, O_ACCMODE, SEEK
from umlpy.abi.mman import MADV, MAP, MAP_TYPE, MCL, MREMAP, MS, PROT
from umlpy.abi.signal import SA, SIGRTMIN, SIGNAL_NAMES, How, si_code_name
from umlpy.abi.syscall_nr import SYSCALL_NAMES

from .format import (comment, flag_names, fmt_enum, fmt_flags, fmt_hex, fmt_int, fmt_list,
                     fmt_octal, fmt_ptr, fmt_struct, pairs, quote_bytes)

M64 = (1 << 64) - 1
#: strace's longest path string (PATH_MAX): paths are not cut at -s.
PATH_MAX = 4096
#: How many argv/envp entries strace prints before ``...``.
MAX_ARRAY = 32


class DecodeContext(Protocol):
    """What the decoders may ask of the traced task (the tracer implements it)."""

    strsize: int            # -s: longest string shown (default 32)
    xmode: str              # -X: "abbrev", "raw" or "verbose"
    show_paths: bool        # -y: fds print as 3</path>
    verbose: bool           # -v: structures unabbreviated

    def read_mem(self, addr: int, n: int) -> bytes | None: ...        # None: EFAULT
    def read_cstring(self, addr: int, limit: int) -> tuple[bytes, bool] | None: ...
    def fd_path(self, fd: int) -> str | None: ...


# --- small helpers ------------------------------------------------------------

def s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def failed(ret: int | None) -> bool:
    """True if the call did not return a success value (an error, or no return)."""
    return ret is None or -4096 < s64(ret) < 0


def _xmode(ctx) -> str:
    return getattr(ctx, "xmode", "abbrev") or "abbrev"


def _mem(ctx, addr: int, n: int) -> bytes | None:
    if addr == 0:
        return None
    try:
        data = ctx.read_mem(addr, n)
    except Exception:
        return None
    return data if data is not None and len(data) >= n else None


def _cstring(ctx, addr: int, limit: int):
    if addr == 0:
        return None
    try:
        return ctx.read_cstring(addr, limit)
    except Exception:
        return None


def _unpack(ctx, addr: int, st: struct.Struct):
    data = _mem(ctx, addr, st.size)
    return None if data is None else st.unpack(data[:st.size])


def _ordered(cls, names: str) -> tuple[tuple[int, str], ...]:
    """(value, name) pairs of ``cls`` members in the order strace prints them."""
    return tuple((int(cls[n]), n) for n in names.split())


def _tab(text: str) -> tuple[tuple[int, str], ...]:
    """A table written as ``"NAME=value NAME=value"`` (for names not in umlpy.abi yet)."""
    out = []
    for item in text.split():
        n, v = item.split("=")
        out.append((int(v, 0), n))
    return tuple(out)


# --- tables (order = strace's printing order) ---------------------------------

OPEN_FLAGS = _ordered(O, "O_CREAT O_EXCL O_NOCTTY O_TRUNC O_APPEND O_NONBLOCK O_SYNC O_DSYNC O_DIRECT "
                         "O_LARGEFILE O_NOFOLLOW O_NOATIME O_CLOEXEC O_PATH O_TMPFILE O_DIRECTORY FASYNC")
ACCMODES = ((0, "O_RDONLY"), (1, "O_WRONLY"), (2, "O_RDWR"), (3, "O_ACCMODE"))
PROT_FLAGS = _ordered(PROT, "PROT_READ PROT_WRITE PROT_EXEC PROT_SEM PROT_GROWSDOWN PROT_GROWSUP")
MAP_TYPES = ((0, "MAP_FILE"), (1, "MAP_SHARED"), (2, "MAP_PRIVATE"), (3, "MAP_SHARED_VALIDATE"))
MAP_FLAGS = _ordered(
    MAP, "MAP_FIXED MAP_ANONYMOUS MAP_32BIT MAP_NORESERVE MAP_POPULATE MAP_NONBLOCK MAP_GROWSDOWN "
    "MAP_DENYWRITE MAP_EXECUTABLE MAP_LOCKED MAP_STACK MAP_HUGETLB MAP_SYNC MAP_FIXED_NOREPLACE")
MAP_HUGE_SHIFT = 26
# SA_INTERRUPT (0x20000000) is an obsolete bit strace still names.
SA_FLAGS = _ordered(SA, "SA_RESTORER SA_ONSTACK SA_RESTART") + ((0x20000000, "SA_INTERRUPT"),) + \
    _ordered(SA, "SA_NODEFER SA_RESETHAND SA_SIGINFO SA_NOCLDSTOP SA_NOCLDWAIT")
AT_FLAGS = _ordered(AT, "AT_SYMLINK_NOFOLLOW AT_REMOVEDIR AT_SYMLINK_FOLLOW AT_NO_AUTOMOUNT "
                        "AT_EMPTY_PATH AT_RECURSIVE")
AT_ACCESS_FLAGS = ((0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_EACCESS"), (0x1000, "AT_EMPTY_PATH"))
STATX_SYNC = ((0, "AT_STATX_SYNC_AS_STAT"), (0x2000, "AT_STATX_FORCE_SYNC"), (0x4000, "AT_STATX_DONT_SYNC"))
STATX_MASK = ((0xFFF, "STATX_ALL"), (abi_stat.STATX_BASIC_STATS, "STATX_BASIC_STATS")) + tuple(
    (getattr(abi_stat, n), n) for n in
    "STATX_TYPE STATX_MODE STATX_NLINK STATX_UID STATX_GID STATX_ATIME STATX_MTIME STATX_CTIME "
    "STATX_INO STATX_SIZE STATX_BLOCKS STATX_BTIME STATX_MNT_ID".split()) + ((0x2000, "STATX_DIOALIGN"),)
FCNTL_CMDS = tuple(sorted(pairs(F)))
SEEK_WHENCE = pairs(SEEK)
MADV_ADVICE = pairs(MADV)
MREMAP_FLAGS = pairs(MREMAP)
MSYNC_FLAGS = _ordered(MS, "MS_ASYNC MS_SYNC MS_INVALIDATE")
MLOCKALL_FLAGS = pairs(MCL)
SIGPROCMASK_HOW = pairs(How)
S_IFMT_NAMES = ((abi_stat.S_IFREG, "S_IFREG"), (abi_stat.S_IFDIR, "S_IFDIR"), (abi_stat.S_IFCHR, "S_IFCHR"),
                (abi_stat.S_IFBLK, "S_IFBLK"), (abi_stat.S_IFIFO, "S_IFIFO"), (abi_stat.S_IFLNK, "S_IFLNK"),
                (abi_stat.S_IFSOCK, "S_IFSOCK"))
DT_NAMES = ((0, "DT_UNKNOWN"), (1, "DT_FIFO"), (2, "DT_CHR"), (4, "DT_DIR"), (6, "DT_BLK"), (8, "DT_REG"),
            (10, "DT_LNK"), (12, "DT_SOCK"))

# Names umlpy.abi does not have yet (uapi values; they belong in abi/).
CLONE_FLAGS = _tab(
    "CLONE_VM=0x100 CLONE_FS=0x200 CLONE_FILES=0x400 CLONE_SIGHAND=0x800 CLONE_PIDFD=0x1000 "
    "CLONE_PTRACE=0x2000 CLONE_VFORK=0x4000 CLONE_PARENT=0x8000 CLONE_THREAD=0x10000 CLONE_NEWNS=0x20000 "
    "CLONE_SYSVSEM=0x40000 CLONE_SETTLS=0x80000 CLONE_PARENT_SETTID=0x100000 CLONE_CHILD_CLEARTID=0x200000 "
    "CLONE_DETACHED=0x400000 CLONE_UNTRACED=0x800000 CLONE_CHILD_SETTID=0x1000000 CLONE_NEWCGROUP=0x2000000 "
    "CLONE_NEWUTS=0x4000000 CLONE_NEWIPC=0x8000000 CLONE_NEWUSER=0x10000000 CLONE_NEWPID=0x20000000 "
    "CLONE_NEWNET=0x40000000 CLONE_IO=0x80000000")
CLONE_PARENT_SETTID, CLONE_SETTLS = 0x100000, 0x80000
CLONE_CHILD_SETTID, CLONE_CHILD_CLEARTID = 0x1000000, 0x200000
FUTEX_CMDS = _tab(
    "FUTEX_WAIT=0 FUTEX_WAKE=1 FUTEX_FD=2 FUTEX_REQUEUE=3 FUTEX_CMP_REQUEUE=4 FUTEX_WAKE_OP=5 "
    "FUTEX_LOCK_PI=6 FUTEX_UNLOCK_PI=7 FUTEX_TRYLOCK_PI=8 FUTEX_WAIT_BITSET=9 FUTEX_WAKE_BITSET=10 "
    "FUTEX_WAIT_REQUEUE_PI=11 FUTEX_CMP_REQUEUE_PI=12 FUTEX_LOCK_PI2=13")
FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME = 128, 256
FUTEX_OP_OPS = _tab("FUTEX_OP_SET=0 FUTEX_OP_ADD=1 FUTEX_OP_OR=2 FUTEX_OP_ANDN=3 FUTEX_OP_XOR=4")
FUTEX_OP_CMPS = _tab("FUTEX_OP_CMP_EQ=0 FUTEX_OP_CMP_NE=1 FUTEX_OP_CMP_LT=2 FUTEX_OP_CMP_LE=3 "
                     "FUTEX_OP_CMP_GT=4 FUTEX_OP_CMP_GE=5")
ARCH_CODES = _tab(
    "ARCH_SET_GS=0x1001 ARCH_SET_FS=0x1002 ARCH_GET_FS=0x1003 ARCH_GET_GS=0x1004 ARCH_GET_CPUID=0x1011 "
    "ARCH_SET_CPUID=0x1012 ARCH_GET_XCOMP_SUPP=0x1021 ARCH_GET_XCOMP_PERM=0x1022 ARCH_REQ_XCOMP_PERM=0x1023 "
    "ARCH_MAP_VDSO_X32=0x2001 ARCH_MAP_VDSO_32=0x2002 ARCH_MAP_VDSO_64=0x2003")
RLIMITS = _tab(
    "RLIMIT_CPU=0 RLIMIT_FSIZE=1 RLIMIT_DATA=2 RLIMIT_STACK=3 RLIMIT_CORE=4 RLIMIT_RSS=5 RLIMIT_NPROC=6 "
    "RLIMIT_NOFILE=7 RLIMIT_MEMLOCK=8 RLIMIT_AS=9 RLIMIT_LOCKS=10 RLIMIT_SIGPENDING=11 RLIMIT_MSGQUEUE=12 "
    "RLIMIT_NICE=13 RLIMIT_RTPRIO=14 RLIMIT_RTTIME=15")
CLOCKS = _tab(
    "CLOCK_REALTIME=0 CLOCK_MONOTONIC=1 CLOCK_PROCESS_CPUTIME_ID=2 CLOCK_THREAD_CPUTIME_ID=3 "
    "CLOCK_MONOTONIC_RAW=4 CLOCK_REALTIME_COARSE=5 CLOCK_MONOTONIC_COARSE=6 CLOCK_BOOTTIME=7 "
    "CLOCK_REALTIME_ALARM=8 CLOCK_BOOTTIME_ALARM=9 CLOCK_TAI=11")
TIMER_FLAGS = _tab("TIMER_ABSTIME=1")
GRND_FLAGS = _tab("GRND_NONBLOCK=1 GRND_RANDOM=2 GRND_INSECURE=4")
ACCESS_MODES = _tab("R_OK=4 W_OK=2 X_OK=1")
WAIT_OPTIONS = _tab("WNOHANG=1 WSTOPPED=2 WEXITED=4 WCONTINUED=8 WNOWAIT=0x1000000 __WNOTHREAD=0x20000000 "
                    "__WALL=0x40000000 __WCLONE=0x80000000")
IDTYPES = _tab("P_ALL=0 P_PID=1 P_PGID=2 P_PIDFD=3")
RUSAGE_WHO = _tab("RUSAGE_SELF=0 RUSAGE_CHILDREN=-1 RUSAGE_THREAD=1")
FD_FLAGS = _tab("FD_CLOEXEC=1")
RENAME_FLAGS = _tab("RENAME_NOREPLACE=1 RENAME_EXCHANGE=2 RENAME_WHITEOUT=4")
CLOSE_RANGE_FLAGS = _tab("CLOSE_RANGE_UNSHARE=2 CLOSE_RANGE_CLOEXEC=4")
SS_FLAGS = _tab("SS_ONSTACK=1 SS_DISABLE=2 SS_AUTODISARM=0x80000000")
PR_OPTIONS = _tab(
    "PR_SET_PDEATHSIG=1 PR_GET_PDEATHSIG=2 PR_GET_DUMPABLE=3 PR_SET_DUMPABLE=4 PR_GET_KEEPCAPS=7 "
    "PR_SET_KEEPCAPS=8 PR_SET_NAME=15 PR_GET_NAME=16 PR_GET_SECCOMP=21 PR_SET_SECCOMP=22 "
    "PR_CAPBSET_READ=23 PR_GET_TIMERSLACK=30 PR_SET_TIMERSLACK=29 PR_SET_MM=35 PR_SET_CHILD_SUBREAPER=36 "
    "PR_GET_CHILD_SUBREAPER=37 PR_SET_NO_NEW_PRIVS=38 PR_GET_NO_NEW_PRIVS=39 PR_SET_THP_DISABLE=41 "
    "PR_GET_THP_DISABLE=42 PR_SET_VMA=0x53564d41")
UTIME_NOW, UTIME_OMIT = (1 << 30) - 1, (1 << 30) - 2
# termios (asm-generic/termbits.h)
TC_IFLAG = _tab("IGNBRK=1 BRKINT=2 IGNPAR=4 PARMRK=8 INPCK=0x10 ISTRIP=0x20 INLCR=0x40 IGNCR=0x80 ICRNL=0x100 "
                "IUCLC=0x200 IXON=0x400 IXANY=0x800 IXOFF=0x1000 IMAXBEL=0x2000 IUTF8=0x4000")
TC_ODELAYS = ((0x100, ("NL0", "NL1")), (0x600, ("CR0", "CR1", "CR2", "CR3")),
              (0x1800, ("TAB0", "TAB1", "TAB2", "TAB3")), (0x2000, ("BS0", "BS1")),
              (0x4000, ("VT0", "VT1")), (0x8000, ("FF0", "FF1")))
TC_OFLAG = _tab("OPOST=1 OLCUC=2 ONLCR=4 OCRNL=8 ONOCR=0x10 ONLRET=0x20 OFILL=0x40 OFDEL=0x80")
TC_BAUD = tuple((i, "B%d" % b) for i, b in enumerate(
    (0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400))) + tuple(
    (0x1000 + i, "B%d" % b) for i, b in enumerate(
        (0, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
         2000000, 2500000, 3000000, 3500000, 4000000)) if i)
TC_CSIZE = ((0, "CS5"), (0x10, "CS6"), (0x20, "CS7"), (0x30, "CS8"))
TC_CFLAG = _tab("CSTOPB=0x40 CREAD=0x80 PARENB=0x100 PARODD=0x200 HUPCL=0x400 CLOCAL=0x800 "
                "CMSPAR=0x40000000 CRTSCTS=0x80000000")
TC_LFLAG = _tab("ISIG=1 ICANON=2 XCASE=4 ECHO=8 ECHOE=0x10 ECHOK=0x20 ECHONL=0x40 NOFLSH=0x80 TOSTOP=0x100 "
                "IEXTEN=0x8000 ECHOCTL=0x200 ECHOPRT=0x400 ECHOKE=0x800 FLUSHO=0x1000 PENDIN=0x4000 "
                "EXTPROC=0x10000")
# Request numbers that collide with an OSS sound ioctl: strace names both.
IOCTL_ALIASES = {0x5402: "SNDCTL_TMR_START or TCSETS", 0x5403: "SNDCTL_TMR_STOP or TCSETSW",
                 0x5404: "SNDCTL_TMR_CONTINUE or TCSETSF"}
IOCTL_REQUESTS = pairs(IOCTL)


# --- signals --------------------------------------------------------------------

def signame(sig: int) -> str | None:
    """``SIGUSR1``, ``SIGRTMIN``, ``SIGRT_3``; None if not a signal number."""
    if sig == SIGRTMIN:
        return "SIGRTMIN"
    if SIGRTMIN < sig <= 64:
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
    if code > 0 and code != 0x80 and signo in (4, 5, 7, 8, 11):          # ILL TRAP BUS FPE SEGV
        fields.append(("si_addr", fmt_ptr(addr)))
    elif code > 0 and signo == 17:                                       # SIGCHLD
        st = (signame(status) or str(status)) if code in (2, 3) else str(status)
        fields += [("si_pid", str(pid)), ("si_uid", str(uid)), ("si_status", st),
                   ("si_utime", "0"), ("si_stime", "0")]
    elif code == 0x80:                                                   # SI_KERNEL
        if signo in (4, 5, 7, 8, 11):
            fields.append(("si_addr", fmt_ptr(addr)))
    else:
        fields += [("si_pid", str(pid)), ("si_uid", str(uid))]
    return fmt_struct(fields)


# --- argument decoders -----------------------------------------------------------

class Arg:
    """An argument decoder; subclasses override :meth:`format`."""

    phase = "in"

    def format(self, ctx, args, i, ret):
        return fmt_hex(args[i])

    def __repr__(self):
        return type(self).__name__


class _Int(Arg):
    def __init__(self, bits=32, signed=True):
        self.bits, self.signed = bits, signed

    def format(self, ctx, args, i, ret):
        return fmt_int(args[i], self.bits, self.signed)


class _Hex(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_hex(args[i])


class _Ptr(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_ptr(args[i])


class _Oct(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_octal(args[i])


def _fd_text(ctx, fd: int) -> str:
    fd = s32(fd)
    text = str(fd)
    if getattr(ctx, "show_paths", False) and fd >= 0:
        path = ctx.fd_path(fd)
        if path is not None:
            text += "<%s>" % path
    return text


class _Fd(Arg):
    def format(self, ctx, args, i, ret):
        return _fd_text(ctx, args[i])


class _Dirfd(Arg):
    def format(self, ctx, args, i, ret):
        fd = s32(args[i])
        if fd != AT_FDCWD:
            return _fd_text(ctx, fd)
        xm = _xmode(ctx)
        text = "-100" if xm == "raw" else comment("-100", "AT_FDCWD") if xm == "verbose" else "AT_FDCWD"
        if getattr(ctx, "show_paths", False):
            path = ctx.fd_path(AT_FDCWD)
            if path is not None:
                text += "<%s>" % path
        return text


def _str_at(ctx, addr: int, limit: int) -> str:
    if addr == 0:
        return "NULL"
    got = _cstring(ctx, addr, limit)
    if got is None:
        return fmt_ptr(addr)
    data, complete = got
    return quote_bytes(data, limit, complete=complete)


class _Path(Arg):
    """A path: a C string, never cut at -s (only at PATH_MAX)."""

    def format(self, ctx, args, i, ret):
        return _str_at(ctx, args[i], PATH_MAX)


class _Str(Arg):
    """A C string cut at -s (names, argv elements)."""

    def __init__(self, phase="in"):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return _str_at(ctx, args[i], ctx.strsize)


def _buf(ctx, addr: int, n: int, hexall=False) -> str:
    if addr == 0:
        return "NULL"
    n = max(n, 0)
    shown = min(n, ctx.strsize)
    data = _mem(ctx, addr, shown) if shown else b""
    if data is None:
        return fmt_ptr(addr)
    return quote_bytes(data + (b"\0" if n > shown else b""), shown, complete=True, hexall=hexall)


class INBUF(Arg):
    """A buffer the caller fills (write's): its length is argument ``len_arg``."""

    def __init__(self, len_arg: int):
        self.len_arg = len_arg

    def format(self, ctx, args, i, ret):
        n = s64(args[self.len_arg])
        return _buf(ctx, args[i], n if n >= 0 else 1 << 62)


class OUTBUF(Arg):
    """A buffer the kernel fills (read's): as long as the return value; the
    address on error.  ``hexall`` for random bytes (getrandom)."""

    phase = "out"

    def __init__(self, hexall: bool = False):
        self.hexall = hexall

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        return _buf(ctx, args[i], s64(ret), self.hexall)


class _Iovec(Arg):
    """readv/writev's ``[{iov_base="...", iov_len=5}, ...]``; count from ``cnt_arg``."""

    _IOV = struct.Struct("<QQ")

    def __init__(self, cnt_arg: int, phase: str):
        self.cnt_arg, self.phase = cnt_arg, phase

    def format(self, ctx, args, i, ret):
        addr, cnt = args[i], args[self.cnt_arg] & M64
        if addr == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(addr)
        budget = s64(ret) if self.phase == "out" else None
        shown = min(cnt, MAX_ARRAY)
        raw = _mem(ctx, addr, 16 * shown) if shown else b""
        if raw is None or cnt > 1024:
            return fmt_ptr(addr)
        items = []
        for k in range(shown):
            base, length = self._IOV.unpack_from(raw, 16 * k)
            n = length if budget is None else max(0, min(length, budget))
            if budget is not None:
                budget -= n
            items.append("{iov_base=%s, iov_len=%d}" % (_buf(ctx, base, n), length))
        if cnt > shown:
            items.append("...")
        return fmt_list(items)


def IOVEC_IN(cnt_arg: int = 2) -> Arg:
    return _Iovec(cnt_arg, "in")


def IOVEC_OUT(cnt_arg: int = 2) -> Arg:
    return _Iovec(cnt_arg, "out")


class FLAGS(Arg):
    """A flag word argument (32 bits unless ``bits``)."""

    def __init__(self, table, zero=None, dflt=None, bits=32):
        self.table, self.zero, self.dflt, self.mask = pairs(table), zero, dflt, (1 << bits) - 1

    def format(self, ctx, args, i, ret):
        return fmt_flags(args[i] & self.mask, self.table, self.zero, _xmode(ctx), self.dflt)


class ENUM(Arg):
    """An enumerated argument; unknown values print ``0x4d /* dflt */``."""

    def __init__(self, table, dflt=None, signed=False, number=fmt_hex):
        self.table, self.dflt, self.signed, self.number = pairs(table), dflt, signed, number

    def format(self, ctx, args, i, ret):
        v = s32(args[i]) if self.signed else args[i] & 0xFFFFFFFF
        return fmt_enum(v, self.table, _xmode(ctx), self.dflt, self.number)


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


class _OpenFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_open_flags(args[i], _xmode(ctx))


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


class _MmapFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_mmap_flags(args[i], _xmode(ctx))


class _Signum(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_signal(args[i], _xmode(ctx))


class _Sigset(Arg):
    """A ``sigset_t *``; its size is argument ``size_arg`` (8, else the address)."""

    def __init__(self, size_arg, phase):
        self.size_arg, self.phase = size_arg, phase

    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        if (self.phase == "out" and failed(ret)) or (self.size_arg is not None and args[self.size_arg] != 8):
            return fmt_ptr(addr)
        data = _mem(ctx, addr, 8)
        return fmt_ptr(addr) if data is None else fmt_sigset(int.from_bytes(data, "little"), _xmode(ctx))


def SIGSET_IN(size_arg: int | None = None) -> Arg:
    return _Sigset(size_arg, "in")


def SIGSET_OUT(size_arg: int | None = None) -> Arg:
    return _Sigset(size_arg, "out")


def fmt_sigaction(ctx, addr: int) -> str:
    vals = _unpack(ctx, addr, struct.Struct("<QQQQ"))
    if vals is None:
        return fmt_ptr(addr)
    handler, flags, restorer, mask = vals
    xm = _xmode(ctx)
    h = fmt_enum(handler, ((0, "SIG_DFL"), (1, "SIG_IGN")), xm, None, fmt_hex) if handler < 2 else fmt_hex(handler)
    fields = [("sa_handler", h), ("sa_mask", fmt_sigset(mask, xm)),
              ("sa_flags", fmt_flags(flags, SA_FLAGS, None, xm))]
    if flags & int(SA.SA_RESTORER):
        fields.append(("sa_restorer", fmt_ptr(restorer)))
    return fmt_struct(fields)


class _Sigaction(Arg):
    def __init__(self, phase):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return fmt_sigaction(ctx, args[i])


def _mode_text(mode: int, xmode: str) -> str:
    if xmode == "raw":
        return "0%o" % mode
    ftype = mode & abi_stat.S_IFMT
    parts = []
    if ftype:
        parts.append(dict(S_IFMT_NAMES).get(ftype, "%#o" % ftype))
    for bit, name in ((abi_stat.S_ISUID, "S_ISUID"), (abi_stat.S_ISGID, "S_ISGID"), (abi_stat.S_ISVTX, "S_ISVTX")):
        if mode & bit:
            parts.append(name)
    parts.append(fmt_octal(mode & 0o777))
    return "|".join(parts)


def _dev(major: int, minor: int) -> str:
    return "makedev(%s, %s)" % (fmt_hex(major), fmt_hex(minor))


def _time_field(name: str, sec: int, nsec: int):
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%09d+0000" % nsec
    return [(name, comment(str(sec), iso)), (name + "_nsec", str(nsec))]


_STAT = struct.Struct("<QQQIIIiQqqqqqqqqq24x")


def fmt_stat(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, _STAT)
    if v is None:
        return fmt_ptr(addr)
    dev, ino, nlink, mode, uid, gid, _, rdev, size, blksize, blocks, at, atn, mt, mtn, ct, ctn = v
    xm = _xmode(ctx)
    is_dev = mode & abi_stat.S_IFMT in (abi_stat.S_IFCHR, abi_stat.S_IFBLK)
    sz = [("st_rdev", _dev(abi_stat.dev_major(rdev), abi_stat.dev_minor(rdev)))] if is_dev else \
        [("st_size", str(size))]
    if not getattr(ctx, "verbose", False):
        return fmt_struct([("st_mode", _mode_text(mode, xm))] + sz, more=True)
    fields = [("st_dev", _dev(abi_stat.dev_major(dev), abi_stat.dev_minor(dev))), ("st_ino", str(ino)),
              ("st_mode", _mode_text(mode, xm)), ("st_nlink", str(nlink)), ("st_uid", str(uid)),
              ("st_gid", str(gid)), ("st_blksize", str(blksize)), ("st_blocks", str(blocks))] + sz
    fields += _time_field("st_atime", at, atn) + _time_field("st_mtime", mt, mtn) + _time_field("st_ctime", ct, ctn)
    return fmt_struct(fields)


class _OutStruct(Arg):
    """An output struct printed by ``fn(ctx, addr)``; the address on error."""

    phase = "out"

    def __init__(self, fn, phase="out"):
        self.fn, self.phase = fn, phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return self.fn(ctx, args[i])


_STATX = struct.Struct("<IIQIIIHHQQQQ")


def fmt_statx(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, _STATX)
    if v is None:
        return fmt_ptr(addr)
    mask, blksize, attrs, nlink, uid, gid, mode, _, ino, size, blocks, amask = v
    xm = _xmode(ctx)
    m = fmt_flags(mask, STATX_MASK, None, xm)
    if not getattr(ctx, "verbose", False):
        return fmt_struct([("stx_mask", m), ("stx_attributes", fmt_hex(attrs)),
                           ("stx_mode", _mode_text(mode, xm)), ("stx_size", str(size))], more=True)
    return fmt_struct([("stx_mask", m), ("stx_blksize", str(blksize)), ("stx_attributes", fmt_hex(attrs)),
                       ("stx_nlink", str(nlink)), ("stx_uid", str(uid)), ("stx_gid", str(gid)),
                       ("stx_mode", _mode_text(mode, xm)), ("stx_ino", str(ino)), ("stx_size", str(size)),
                       ("stx_blocks", str(blocks)), ("stx_attributes_mask", fmt_hex(amask))], more=True)


def fmt_statx_flags(flags: int, xmode: str = "abbrev") -> str:
    """statx's flags: the sync type first (``AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH``)."""
    flags &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(flags)
    parts = [fmt_enum(flags & 0x6000, STATX_SYNC, "abbrev")]
    rest = flags & ~0x6000
    if rest:
        parts.append(fmt_flags(rest, AT_FLAGS))
    text = "|".join(parts)
    return comment(fmt_hex(flags), text) if xmode == "verbose" else text


class _StatxFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_statx_flags(args[i], _xmode(ctx))


def fmt_timespec(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<qq"))
    return fmt_ptr(addr) if v is None else "{tv_sec=%d, tv_nsec=%d}" % v


def fmt_timeval(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<qq"))
    return fmt_ptr(addr) if v is None else "{tv_sec=%d, tv_usec=%d}" % v


def fmt_utsname(ctx, addr: int) -> str:
    data = _mem(ctx, addr, 6 * 65)
    if data is None:
        return fmt_ptr(addr)
    names = ("sysname", "nodename", "release", "version", "machine", "domainname")
    fields = []
    for k, n in enumerate(names):
        raw = data[65 * k: 65 * (k + 1)]
        s = raw.split(b"\0", 1)[0]
        fields.append((n, quote_bytes(s, ctx.strsize, complete=True)))
    if getattr(ctx, "verbose", False):
        return fmt_struct(fields)
    return fmt_struct(fields[:2], more=True)


def fmt_rlim(v: int, xmode: str) -> str:
    """One rlimit value: ``RLIM64_INFINITY``, ``8192*1024``, ``1023``."""
    if v == M64:
        text = "RLIM64_INFINITY"
    elif v > 1024 and v % 1024 == 0:
        text = "%d*1024" % (v // 1024)
    else:
        return str(v)
    if xmode == "raw":
        return str(v)
    return comment(str(v), text) if xmode == "verbose" else text


def fmt_rlimit(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<QQ"))
    if v is None:
        return fmt_ptr(addr)
    xm = _xmode(ctx)
    return fmt_struct([("rlim_cur", fmt_rlim(v[0], xm)), ("rlim_max", fmt_rlim(v[1], xm))])


def fmt_wait_status(status: int, xmode: str = "abbrev") -> str:
    """A wait status as strace spells it: ``[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]``."""
    status &= 0xFFFFFFFF
    if xmode == "raw":
        return "[%s]" % fmt_hex(status)
    low = status & 0x7F
    if status == 0xFFFF:
        text = "WIFCONTINUED(s)"
    elif low == 0:
        text = "WIFEXITED(s) && WEXITSTATUS(s) == %d" % ((status >> 8) & 0xFF)
    elif low == 0x7F:
        text = "WIFSTOPPED(s) && WSTOPSIG(s) == %s" % fmt_signal((status >> 8) & 0xFF)
    else:
        text = "WIFSIGNALED(s) && WTERMSIG(s) == %s" % fmt_signal(low)
        if status & 0x80:
            text += " && WCOREDUMP(s)"
    extra = status >> 16
    tail = " | %s<<16" % fmt_hex(extra) if extra and low == 0x7F else ""
    return "[{%s}%s]" % (text, tail)


def _wait_status(ctx, addr):
    v = _mem(ctx, addr, 4)
    return fmt_ptr(addr) if v is None else fmt_wait_status(int.from_bytes(v, "little"), _xmode(ctx))


class _WaitStatus(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if failed(ret) or s64(ret) == 0:
            return fmt_ptr(args[i])
        return _wait_status(ctx, args[i])


def fmt_rusage(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<qqqq14q"))
    if v is None:
        return fmt_ptr(addr)
    head = [("ru_utime", "{tv_sec=%d, tv_usec=%d}" % v[0:2]), ("ru_stime", "{tv_sec=%d, tv_usec=%d}" % v[2:4])]
    if not getattr(ctx, "verbose", False):
        return fmt_struct(head, more=True)
    names = ("ru_maxrss ru_ixrss ru_idrss ru_isrss ru_minflt ru_majflt ru_nswap ru_inblock ru_oublock "
             "ru_msgsnd ru_msgrcv ru_nsignals ru_nvcsw ru_nivcsw").split()
    return fmt_struct(head + [(n, str(x)) for n, x in zip(names, v[4:])])


class _PipeFds(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        data = _mem(ctx, args[i], 8)
        if data is None:
            return fmt_ptr(args[i])
        a, b = struct.unpack("<ii", data)
        return "[%s, %s]" % (_fd_text(ctx, a), _fd_text(ctx, b))


class _IntOut(Arg):
    """``[value]`` of an ``int *`` (or ``long *`` with ``size`` 8) the kernel fills."""

    def __init__(self, size=4, hexa=False, phase="out", signed=True):
        self.size, self.hexa, self.phase, self.signed = size, hexa, phase, signed

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        data = _mem(ctx, args[i], self.size)
        if data is None:
            return fmt_ptr(args[i])
        v = int.from_bytes(data, "little", signed=self.signed and not self.hexa)
        return "[%s]" % (fmt_hex(v) if self.hexa else v)


def _read_ptr_array(ctx, addr: int, limit: int):
    """Pointers of a NULL-terminated array, at most ``limit`` (+1 to know there are more)."""
    out = []
    while len(out) <= limit:
        p = _mem(ctx, addr + 8 * len(out), 8)
        if p is None:
            return None if not out else out
        v = int.from_bytes(p, "little")
        if v == 0:
            break
        out.append(v)
    return out


class _Argv(Arg):
    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        ptrs = _read_ptr_array(ctx, addr, MAX_ARRAY)
        if ptrs is None:
            return fmt_ptr(addr)
        items = [_str_at(ctx, p, ctx.strsize) for p in ptrs[:MAX_ARRAY]]
        if len(ptrs) > MAX_ARRAY:
            items.append("...")
        return fmt_list(items)


class _Envp(Arg):
    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        if getattr(ctx, "verbose", False):
            return ARGV.format(ctx, args, i, ret)
        ptrs = _read_ptr_array(ctx, addr, 1 << 16)
        if ptrs is None:
            return fmt_ptr(addr)
        n = len(ptrs)
        return comment(fmt_ptr(addr), "%d var%s" % (n, "" if n == 1 else "s"))


class _Dirents(Arg):
    """getdents64's buffer: ``0x... /* 5 entries */`` (every entry with -v)."""

    phase = "out"

    def format(self, ctx, args, i, ret):
        addr = args[i]
        if failed(ret):
            return fmt_ptr(addr)
        n = s64(ret)
        data = _mem(ctx, addr, n) if n else b""
        if data is None:
            return fmt_ptr(addr)
        entries = []
        off = 0
        head = struct.Struct("<QqHB")
        while off + head.size <= n:
            ino, d_off, reclen, dtype = head.unpack_from(data, off)
            if reclen == 0:
                break
            name = data[off + head.size: off + reclen].split(b"\0", 1)[0]
            entries.append((ino, d_off, reclen, dtype, name))
            off += reclen
        if not getattr(ctx, "verbose", False):
            return comment(fmt_ptr(addr), "%d entries" % len(entries))
        return fmt_list("{d_ino=%d, d_off=%d, d_reclen=%d, d_type=%s, d_name=%s}" % (
            ino, d_off, reclen, fmt_enum(dt, DT_NAMES, _xmode(ctx)), quote_bytes(nm, ctx.strsize, complete=True))
            for ino, d_off, reclen, dt, nm in entries)


def fmt_stack_t(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<Qi4xQ"))
    if v is None:
        return fmt_ptr(addr)
    return fmt_struct([("ss_sp", fmt_ptr(v[0])), ("ss_flags", fmt_flags(v[1] & 0xFFFFFFFF, SS_FLAGS, None, _xmode(ctx))),
                       ("ss_size", str(v[2]))])


def fmt_tms(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<qqqq"))
    if v is None:
        return fmt_ptr(addr)
    return "{tms_utime=%d, tms_stime=%d, tms_cutime=%d, tms_cstime=%d}" % v


def fmt_sysinfo(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<q3QQQQQQQH6xQQI"))
    if v is None:
        return fmt_ptr(addr)
    up, l1, l2, l3, tot, free, shared, buf, tswap, fswap, procs, thigh, fhigh, unit = v
    return ("{uptime=%d, loads=[%d, %d, %d], totalram=%d, freeram=%d, sharedram=%d, bufferram=%d, "
            "totalswap=%d, freeswap=%d, procs=%d, totalhigh=%d, freehigh=%d, mem_unit=%d}"
            % (up, l1, l2, l3, tot, free, shared, buf, tswap, fswap, procs, thigh, fhigh, unit))


def fmt_utimes(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<qqqq"))
    if v is None:
        return fmt_ptr(addr)
    out = []
    for sec, nsec in ((v[0], v[1]), (v[2], v[3])):
        if nsec == UTIME_NOW:
            out.append("UTIME_NOW")
        elif nsec == UTIME_OMIT:
            out.append("UTIME_OMIT")
        else:
            out.append("{tv_sec=%d, tv_nsec=%d}" % (sec, nsec))
    return fmt_list(out)


def _cpuset(ctx, addr, n):
    data = _mem(ctx, addr, n)
    if data is None:
        return fmt_ptr(addr)
    bits = int.from_bytes(data, "little")
    return "[" + " ".join(str(k) for k in range(8 * n) if bits >> k & 1) + "]"


class _CpuSet(Arg):
    """sched_getaffinity's mask: ``[0 1]`` (the kernel's size is the return value)."""

    def __init__(self, phase, size_arg=1):
        self.phase, self.size_arg = phase, size_arg

    def format(self, ctx, args, i, ret):
        if self.phase == "out":
            if failed(ret):
                return fmt_ptr(args[i])
            return _cpuset(ctx, args[i], s64(ret))
        return _cpuset(ctx, args[i], min(args[self.size_arg], 1024))


class _Mincore(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        n = min((args[1] + 4095) // 4096, MAX_ARRAY)
        data = _mem(ctx, args[i], n)
        if data is None:
            return fmt_ptr(args[i])
        more = (args[1] + 4095) // 4096 > n
        return "[" + ", ".join(str(b & 1) for b in data) + (", ..." if more else "") + "]"


def fmt_vas_attr(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<" + "III"))
    if v is None:
        return fmt_ptr(addr)
    return fmt_struct([("mode", fmt_octal(v[0])), ("user", str(v[1])), ("group", str(v[2]))])


assert VAS_ATTR.size == 12


def fmt_umlpy_syscall(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<q6Q"))
    if v is None:
        return fmt_ptr(addr)
    nr = v[0]
    name = syscall_name(nr) if nr >= 0 else None
    nrs = "__NR_" + name if name and not name.startswith("syscall_") else str(nr)
    return "{nr=%s, args=[%s]}" % (nrs, ", ".join(fmt_hex(a) for a in v[1:]))


assert UMLPY_SYSCALL.size == 56


_STATFS = struct.Struct("<qqQQQQQiiqqq32x")
FS_MAGICS = ((abi_stat.TMPFS_MAGIC, "TMPFS_MAGIC"), (abi_stat.PROC_SUPER_MAGIC, "PROC_SUPER_MAGIC"),
             (abi_stat.OVERLAYFS_SUPER_MAGIC, "OVERLAYFS_SUPER_MAGIC"), (0xEF53, "EXT2_SUPER_MAGIC"))
ST_FLAGS = _tab("ST_RDONLY=1 ST_NOSUID=2 ST_NODEV=4 ST_NOEXEC=8 ST_SYNCHRONOUS=0x10 ST_VALID=0x20 "
                "ST_MANDLOCK=0x40 ST_NOATIME=0x400 ST_NODIRATIME=0x800 ST_RELATIME=0x1000")


def fmt_statfs(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, _STATFS)
    if v is None:
        return fmt_ptr(addr)
    ftype, bsize, blocks, bfree, bavail, files, ffree, fsid0, fsid1, namelen, frsize, flags = v
    xm = _xmode(ctx)
    return fmt_struct([
        ("f_type", fmt_enum(ftype, FS_MAGICS, xm)), ("f_bsize", str(bsize)), ("f_blocks", str(blocks)),
        ("f_bfree", str(bfree)), ("f_bavail", str(bavail)), ("f_files", str(files)), ("f_ffree", str(ffree)),
        ("f_fsid", "{val=[%s, %s]}" % (fmt_hex(fsid0 & 0xFFFFFFFF), fmt_hex(fsid1 & 0xFFFFFFFF))),
        ("f_namelen", str(namelen)), ("f_frsize", str(frsize)), ("f_flags", fmt_flags(flags, ST_FLAGS, None, xm))])


class _Groups(Arg):
    """getgroups/setgroups' gid list: ``[0, 10]``; its length is argument 0
    (the return value for getgroups)."""

    def __init__(self, phase):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out":
            if failed(ret) or s32(args[0]) == 0:
                return fmt_ptr(args[i])
            n = s64(ret)
        else:
            n = s32(args[0])
        shown = max(0, min(n, MAX_ARRAY))
        data = _mem(ctx, args[i], 4 * shown) if shown else b""
        if data is None:
            return fmt_ptr(args[i])
        items = [str(g) for g in struct.unpack("<%dI" % shown, data)]
        if n > shown:
            items.append("...")
        return fmt_list(items)


def fmt_siginfo_at(ctx, addr: int) -> str:
    data = _mem(ctx, addr, 48)
    if data is None:
        return fmt_ptr(addr)
    signo, _, code = struct.unpack_from("<iii", data, 0)
    if signo == 0:
        return "{}"
    pid, uid, status = struct.unpack_from("<iIi", data, 16)
    faddr = struct.unpack_from("<Q", data, 16)[0]
    return format_siginfo(signo, code, faddr, pid, uid, status)


class _Rem(Arg):
    """nanosleep's ``rem``: filled only when the sleep was interrupted."""

    phase = "out"

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if ret is not None and s64(ret) in (-4, -516):
            return fmt_timespec(ctx, args[i])
        return fmt_ptr(args[i])


# Singletons, by the names the specs use.
INT = _Int(32, True)
UINT = _Int(32, False)
LONG = _Int(64, True)
ULONG = _Int(64, False)
SIZE = ULONG
HEX = _Hex()
PTR = _Ptr()
OCT = _Oct()
FD = _Fd()
DIRFD = _Dirfd()
PATH = _Path()
STR = _Str("in")
STR_OUT = _Str("out")
OPEN_FLAGS_ARG = _OpenFlags()
MMAP_PROT = FLAGS(PROT_FLAGS, zero="PROT_NONE", dflt="PROT_???")
MMAP_FLAGS = _MmapFlags()
SIGNUM = _Signum()
SIGACTION_IN = _Sigaction("in")
SIGACTION_OUT = _Sigaction("out")
STAT_OUT = _OutStruct(fmt_stat)
STATX_OUT = _OutStruct(fmt_statx)
STATX_FLAGS = _StatxFlags()
TIMESPEC_IN = _OutStruct(fmt_timespec, "in")
TIMESPEC_OUT = _OutStruct(fmt_timespec)
TIMEVAL_OUT = _OutStruct(fmt_timeval)
UTSNAME_OUT = _OutStruct(fmt_utsname)
RLIMIT_IN = _OutStruct(fmt_rlimit, "in")
RLIMIT_OUT = _OutStruct(fmt_rlimit)
RUSAGE_OUT = _OutStruct(fmt_rusage)
WAIT_STATUS_OUT = _WaitStatus()
PIPEFDS_OUT = _PipeFds()
ARGV = _Argv()
ENVP = _Envp()
DIRENTS_OUT = _Dirents()
INT_OUT = _IntOut()
UINT_OUT = _IntOut(signed=False)
STACK_T_IN = _OutStruct(fmt_stack_t, "in")
STACK_T_OUT = _OutStruct(fmt_stack_t)
TMS_OUT = _OutStruct(fmt_tms)
SYSINFO_OUT = _OutStruct(fmt_sysinfo)
UTIMES_IN = _OutStruct(fmt_utimes, "in")
CPUSET_IN = _CpuSet("in")
CPUSET_OUT = _CpuSet("out")
MINCORE_OUT = _Mincore()
VAS_ATTR_IN = _OutStruct(fmt_vas_attr, "in")
VAS_ATTR_OUT = _OutStruct(fmt_vas_attr)
UMLPY_SYSCALL_IN = _OutStruct(fmt_umlpy_syscall, "in")
STATFS_OUT = _OutStruct(fmt_statfs)
GROUPS_IN = _Groups("in")
GROUPS_OUT = _Groups("out")
PTR_OUT = _IntOut(size=8, hexa=True)
ULONG_OUT = _IntOut(size=8, signed=False)
TIME_OUT = _IntOut(size=8)
SIGINFO_OUT = _OutStruct(fmt_siginfo_at)
REM_OUT = _Rem()
CLOCKID = ENUM(CLOCKS, "CLOCK_???")
RLIMIT_RESOURCE = ENUM(RLIMITS, "RLIMIT_???")
WHENCE = ENUM(SEEK_WHENCE, "SEEK_???")
AT_FLAGS_ARG = FLAGS(AT_FLAGS)
ACCESS_MODE = FLAGS(ACCESS_MODES, zero="F_OK", dflt="?_OK")


# --- spec-level formatters (the layout depends on an argument) ----------------

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


def fmt_clone_flags(flags: int, xmode: str = "abbrev") -> str:
    flags &= M64
    if xmode == "raw":
        return fmt_hex(flags)
    sig = flags & 0xFF
    parts = []
    if flags & ~0xFF:
        parts.append(fmt_flags(flags & ~0xFF, CLONE_FLAGS))
    if sig:
        parts.append(signame(sig) or str(sig))
    text = "|".join(parts) or "0"
    return comment(fmt_hex(flags), text) if xmode == "verbose" and flags else text


class CloneCall(Custom):
    """clone(child_stack=..., flags=...) then, at exit, parent_tid/tls/child_tidptr."""

    def enter(self, ctx, args):
        return ["child_stack=" + fmt_ptr(args[1]), "flags=" + fmt_clone_flags(args[0], _xmode(ctx))]

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
        v = _unpack(ctx, args[0], self._ARGS) if args[1] >= 64 else None
        if v is None:
            return [fmt_ptr(args[0]), str(args[1])]
        flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls = v[:8]
        xm = _xmode(ctx)
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


def fmt_futex_op(op: int, xmode: str = "abbrev") -> str:
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
    if v >> 31:
        opt = "FUTEX_OP_OPARG_SHIFT<<28|" + opt
    cmps = dict(FUTEX_OP_CMPS).get(cmp_)
    cmpt = (cmps + "<<24") if cmps else "%s<<24 /* FUTEX_OP_CMP_??? */" % fmt_hex(cmp_)
    return "%s|%s<<12|%s|%s" % (opt, fmt_hex(oparg), cmpt, fmt_hex(cmparg))


class FutexCall(Custom):
    def enter(self, ctx, args):
        uaddr, op, val, timeout, uaddr2, val3 = args[:6]
        cmd = op & 0x7F
        out = [fmt_ptr(uaddr), fmt_futex_op(op, _xmode(ctx))]
        val_s, val2_s = str(s32(val)), str(s32(timeout))
        to = fmt_timespec(ctx, timeout) if timeout else "NULL"
        bitset = "FUTEX_BITSET_MATCH_ANY" if val3 & 0xFFFFFFFF == 0xFFFFFFFF else fmt_hex(val3 & 0xFFFFFFFF)
        if cmd in (0,):
            out += [val_s, to]
        elif cmd in (1, 2):
            out += [val_s]
        elif cmd == 3:
            out += [val_s, val2_s, fmt_ptr(uaddr2)]
        elif cmd in (4, 12):
            out += [val_s, val2_s, fmt_ptr(uaddr2), str(s32(val3))]
        elif cmd == 5:
            out += [val_s, val2_s, fmt_ptr(uaddr2), fmt_futex_wake_op(val3)]
        elif cmd in (6, 13):
            out += [to]
        elif cmd in (7, 8):
            pass
        elif cmd == 9:
            out += [val_s, to, bitset]
        elif cmd == 10:
            out += [val_s, bitset]
        elif cmd == 11:
            out += [val_s, to, fmt_ptr(uaddr2)]
        else:
            out += [val_s, fmt_hex(timeout), fmt_ptr(uaddr2), fmt_hex(val3)]
        return out


class OpenCall(Custom):
    """open/openat: the mode is printed only with O_CREAT or O_TMPFILE."""

    def __init__(self, at: bool):
        self.at = at

    def enter(self, ctx, args):
        k = 1 if self.at else 0
        out = [DIRFD.format(ctx, args, 0, None)] if self.at else []
        out += [PATH.format(ctx, args, k, None), fmt_open_flags(args[k + 1], _xmode(ctx))]
        flags = args[k + 1]
        if flags & int(O.O_CREAT) or flags & int(O.O_TMPFILE) == int(O.O_TMPFILE):
            out.append(fmt_octal(args[k + 2]))
        return out


_FCNTL_NOARG = {int(F.F_GETFD), int(F.F_GETFL), int(F.F_GETOWN), 11, int(F.F_GETLEASE),
                int(F.F_GETPIPE_SZ), int(F.F_GET_SEALS)}
_FLOCK = struct.Struct("<hhqqi4x")
_LOCK_TYPES = _tab("F_RDLCK=0 F_WRLCK=1 F_UNLCK=2")


def fmt_flock(ctx, addr: int, with_pid: bool) -> str:
    v = _unpack(ctx, addr, _FLOCK)
    if v is None:
        return fmt_ptr(addr)
    fields = [("l_type", fmt_enum(v[0], _LOCK_TYPES, _xmode(ctx), "F_???")),
              ("l_whence", fmt_enum(v[1], SEEK_WHENCE, _xmode(ctx), "SEEK_???")),
              ("l_start", str(v[2])), ("l_len", str(v[3]))]
    if with_pid:
        fields.append(("l_pid", str(v[4])))
    return fmt_struct(fields)


class FcntlCall(Custom):
    def enter(self, ctx, args):
        cmd = args[1] & 0xFFFFFFFF
        xm = _xmode(ctx)
        out = [_fd_text(ctx, args[0]), fmt_enum(cmd, FCNTL_CMDS, xm, "F_???")]
        if cmd in _FCNTL_NOARG or cmd in (int(F.F_GETLK), 36):
            return out
        if cmd == int(F.F_SETFD):
            out.append(fmt_flags(args[2] & 0xFFFFFFFF, FD_FLAGS, None, xm))
        elif cmd == int(F.F_SETFL):
            out.append(fmt_open_flags(args[2], xm))
        elif cmd in (int(F.F_SETLK), int(F.F_SETLKW), 37, 38):
            out.append(fmt_flock(ctx, args[2], False))
        elif cmd in dict(FCNTL_CMDS):
            out.append(str(s32(args[2])))
        else:
            out.append(fmt_hex(args[2]))
        return out

    def has_exit(self, args):
        return args[1] & 0xFFFFFFFF in (int(F.F_GETLK), 36)

    def exit(self, ctx, args, ret):
        cmd = args[1] & 0xFFFFFFFF
        if cmd in (int(F.F_GETLK), 36):
            return [fmt_ptr(args[2]) if failed(ret) else fmt_flock(ctx, args[2], True)]
        return []

    def retval(self, ctx, args, ret):
        cmd = args[1] & 0xFFFFFFFF
        xm = _xmode(ctx)
        if cmd == int(F.F_GETFL):
            return "%s (flags %s)" % (fmt_hex(ret), fmt_open_flags(ret, "abbrev"))
        if cmd == int(F.F_GETFD):
            return "0" if ret == 0 else "%s (flags %s)" % (fmt_hex(ret), fmt_flags(ret, FD_FLAGS, None, xm))
        if cmd in (int(F.F_DUPFD), int(F.F_DUPFD_CLOEXEC)):
            return _fd_text(ctx, ret)
        return None


def fmt_ioctl_request(req: int, xmode: str = "abbrev") -> str:
    req &= 0xFFFFFFFF
    if xmode == "raw":
        return fmt_hex(req)
    name = IOCTL_ALIASES.get(req) or dict(IOCTL_REQUESTS).get(req)
    if name is None:
        d = req >> 30
        dirs = ("_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE")[d]
        name = "_IOC(%s, %s, %s, %s)" % (dirs, fmt_hex((req >> 8) & 0xFF), fmt_hex(req & 0xFF),
                                        fmt_hex((req >> 16) & 0x3FFF))
        return name
    return comment(fmt_hex(req), name) if xmode == "verbose" else name


def fmt_termios(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<IIII"))
    if v is None:
        return fmt_ptr(addr)
    iflag, oflag, cflag, lflag = v
    xm = _xmode(ctx)
    if xm == "raw":
        return "{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s, ...}" % tuple(fmt_hex(x) for x in v)
    o = []
    for mask, names in TC_ODELAYS:
        shift = (mask & -mask).bit_length() - 1
        o.append(names[(oflag & mask) >> shift])
    rest = oflag & ~sum(m for m, _ in TC_ODELAYS)
    if rest:
        o.append(fmt_flags(rest, TC_OFLAG))
    c = [fmt_enum(cflag & 0x100F, TC_BAUD, "abbrev"), dict(TC_CSIZE)[cflag & 0x30]]
    ibaud = (cflag >> 16) & 0x100F
    if ibaud:
        c.append("%s<<IBSHIFT" % fmt_enum(ibaud, TC_BAUD, "abbrev"))
    crest = cflag & ~0x100F & ~0x30 & ~(0x100F << 16)
    if crest:
        c.append(fmt_flags(crest, TC_CFLAG))
    return "{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s, ...}" % (
        fmt_flags(iflag, TC_IFLAG), "|".join(o), "|".join(c), fmt_flags(lflag, TC_LFLAG))


def fmt_winsize(ctx, addr: int) -> str:
    v = _unpack(ctx, addr, struct.Struct("<HHHH"))
    if v is None:
        return fmt_ptr(addr)
    return "{ws_row=%d, ws_col=%d, ws_xpixel=%d, ws_ypixel=%d}" % v


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
        out = [_fd_text(ctx, args[0]), fmt_ioctl_request(req, _xmode(ctx))]
        if req in _IOCTL_NOARG:
            return out
        if req in _IOCTL_IN:
            out.append("NULL" if not args[2] else _IOCTL_IN[req](ctx, args[2]))
        elif req in _IOCTL_INT_IN:
            out.append(_IntOut(phase="in").format(ctx, args, 2, None))
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


class ArchPrctlCall(Custom):
    def enter(self, ctx, args):
        code = args[0] & 0xFFFFFFFF
        out = [fmt_enum(code, ARCH_CODES, _xmode(ctx), "ARCH_???")]
        if code not in (0x1003, 0x1004):
            out.append(fmt_hex(args[1]))
        return out

    def has_exit(self, args):
        return args[0] & 0xFFFFFFFF in (0x1003, 0x1004)

    def exit(self, ctx, args, ret):
        if args[0] & 0xFFFFFFFF in (0x1003, 0x1004):
            return [_IntOut(size=8, hexa=True).format(ctx, args, 1, ret)]
        return []


class PrctlCall(Custom):
    def enter(self, ctx, args):
        opt = args[0] & 0xFFFFFFFF
        out = [fmt_enum(opt, PR_OPTIONS, _xmode(ctx), "PR_???")]
        if opt == 15:                                   # PR_SET_NAME
            out.append(_str_at(ctx, args[1], 16))
        elif opt in (1,):                               # PR_SET_PDEATHSIG
            out.append(fmt_signal(args[1], _xmode(ctx)))
        elif opt in (2, 16):                            # out arguments
            pass
        elif opt in (3, 7, 21, 30, 37, 39, 42):          # PR_GET_*: no argument
            pass
        elif opt in (4, 8, 29, 36):
            out.append(str(args[1] & M64))
        else:
            out += [fmt_hex(a) for a in args[1:5]]
        return out

    def has_exit(self, args):
        return args[0] & 0xFFFFFFFF in (2, 16)

    def exit(self, ctx, args, ret):
        opt = args[0] & 0xFFFFFFFF
        if opt == 16:
            return [fmt_ptr(args[1]) if failed(ret) else _str_at(ctx, args[1], 16)]
        if opt == 2:
            if failed(ret):
                return [fmt_ptr(args[1])]
            v = _mem(ctx, args[1], 4)
            return [fmt_ptr(args[1]) if v is None else "[%s]" % fmt_signal(int.from_bytes(v, "little"))]
        return []


class SigreturnCall(Custom):
    """rt_sigreturn({mask=[...]}): the mask comes from the signal frame, which
    only the tracer can find (optional ``ctx.sigreturn_mask() -> int | None``)."""

    def enter(self, ctx, args):
        get = getattr(ctx, "sigreturn_mask", None)
        mask = get() if get is not None else None
        return [] if mask is None else ["{mask=%s}" % fmt_sigset(mask, _xmode(ctx))]


class MremapCall(Custom):
    """mremap: new_address is printed only with MREMAP_FIXED."""

    def enter(self, ctx, args):
        out = [fmt_ptr(args[0]), str(args[1]), str(args[2]),
               fmt_flags(args[3] & 0xFFFFFFFF, MREMAP_FLAGS, None, _xmode(ctx))]
        if args[3] & int(MREMAP.MREMAP_FIXED):
            out.append(fmt_ptr(args[4]))
        return out


class Wait4Call(Custom):
    """wait4(pid, status, options, rusage): rusage is filled only on success."""

    def enter(self, ctx, args):
        return [str(s32(args[0]))]

    def has_exit(self, args):
        return True

    def exit(self, ctx, args, ret):
        xm = _xmode(ctx)
        opts = fmt_flags(args[2] & 0xFFFFFFFF, WAIT_OPTIONS, None, xm)
        ru = "NULL" if not args[3] else fmt_ptr(args[3]) if failed(ret) else fmt_rusage(ctx, args[3])
        return [WAIT_STATUS_OUT.format(ctx, args, 1, ret), opts, ru]


# --- return values and names ----------------------------------------------------

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


def _spec(name_or_nr):
    from .specs import SPECS, unknown_spec
    name = name_or_nr if isinstance(name_or_nr, str) else syscall_name(name_or_nr)
    spec = SPECS.get(name)
    return spec if spec is not None else unknown_spec()


def nargs(name_or_nr) -> int:
    """How many arguments the call has (the kernel's SYSCALL_DEFINE)."""
    return _spec(name_or_nr).nargs


def has_exit_args(name_or_nr, args) -> bool:
    """Whether arguments follow at exit: the entry part then ends with ", "
    (``read(3, <unfinished ...>``); use this rather than comparing with
    :func:`nargs`, since some calls print fewer arguments than they have."""
    spec = _spec(name_or_nr)
    if spec.custom is not None:
        return spec.custom.has_exit(_norm(args))
    return _split(spec) < spec.nargs


def _norm(args) -> tuple:
    a = tuple(int(x) & M64 for x in args)
    return a + (0,) * (6 - len(a))


def _split(spec) -> int:
    for k, dec in enumerate(spec.args[:spec.nargs]):
        if dec.phase == "out":
            return k
    return min(spec.nargs, len(spec.args))


def decode_enter(name_or_nr, ctx, args) -> list[str]:
    """The arguments printed when the call enters (all up to the first ``out`` one)."""
    spec = _spec(name_or_nr)
    args = _norm(args)
    if spec.custom is not None:
        return spec.custom.enter(ctx, args)
    return [dec.format(ctx, args, k, None) for k, dec in enumerate(spec.args[:_split(spec)])]


def decode_exit(name_or_nr, ctx, args, ret) -> list[str]:
    """The remaining arguments, printed when the call returns ``ret`` (-errno on failure)."""
    spec = _spec(name_or_nr)
    args = _norm(args)
    ret = None if ret is None else s64(ret)
    if spec.custom is not None:
        return spec.custom.exit(ctx, args, ret)
    k0 = _split(spec)
    return [dec.format(ctx, args, k, ret) for k, dec in enumerate(spec.args[:spec.nargs]) if k >= k0]


def format_retval(name_or_nr, ctx, args, ret) -> str:
    """A successful call's result: ``3``, ``0x7f0000``, ``3</etc/hostname>``, ``022``, ``?``."""
    spec = _spec(name_or_nr)
    if ret is None or spec.ret == "none":
        return "?"
    args = _norm(args)
    ret = s64(ret)
    if spec.custom is not None:
        text = spec.custom.retval(ctx, args, ret)
        if text is not None:
            return text
    kind = spec.ret
    if kind == "hex":
        return fmt_hex(ret)
    if kind == "oct":
        return fmt_octal(ret)
    if kind == "fd":
        return _fd_text(ctx, ret) if ret >= 0 else str(ret)
    if kind == "time":
        return "%d (%s)" % (ret, time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ret)))
    if kind == "personality":
        return "%s (%s)" % (fmt_hex(ret), "PER_LINUX") if ret else "0 (PER_LINUX)"
    return str(ret)
