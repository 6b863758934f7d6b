"""Linux x86-64 signals: numbers, default actions, si_codes, sigaction flags.

Sources: uapi asm/signal.h, asm-generic/signal-defs.h, asm-generic/siginfo.h;
default actions as in signal(7).
"""

import enum

from .flags import names_of


class Sig(enum.IntEnum):
    """Signal numbers (x86-64)."""

    SIGHUP = 1
    SIGINT = 2
    SIGQUIT = 3
    SIGILL = 4
    SIGTRAP = 5
    SIGABRT = 6
    SIGBUS = 7
    SIGFPE = 8
    SIGKILL = 9
    SIGUSR1 = 10
    SIGSEGV = 11
    SIGUSR2 = 12
    SIGPIPE = 13
    SIGALRM = 14
    SIGTERM = 15
    SIGSTKFLT = 16
    SIGCHLD = 17
    SIGCONT = 18
    SIGSTOP = 19
    SIGTSTP = 20
    SIGTTIN = 21
    SIGTTOU = 22
    SIGURG = 23
    SIGXCPU = 24
    SIGXFSZ = 25
    SIGVTALRM = 26
    SIGPROF = 27
    SIGWINCH = 28
    SIGIO = 29
    SIGPWR = 30
    SIGSYS = 31
    SIGRTMIN = 32
    SIGRTMAX = 64
    # aliases
    SIGIOT = 6
    SIGPOLL = 29
    SIGUNUSED = 31


SIGRTMIN = 32
SIGRTMAX = 64
#: Number of signals (valid signal numbers are 1.._NSIG-1 ... up to 64).
NSIG = 64

#: number -> name for 1..31 (canonical names), 32 SIGRTMIN, 64 SIGRTMAX.
SIGNAL_NAMES: dict[int, str] = names_of(Sig)


def signal_name(sig: int) -> str:
    """Name of a signal as strace prints it (SIGRT_3 for real-time signal 35)."""
    if sig in SIGNAL_NAMES:
        return SIGNAL_NAMES[sig]
    if SIGRTMIN < sig < SIGRTMAX:
        return "SIGRT_%d" % (sig - SIGRTMIN)
    return str(sig)


class Action(enum.Enum):
    """Default disposition of a signal (signal(7))."""

    TERM = "term"
    CORE = "core"
    IGN = "ign"
    STOP = "stop"
    CONT = "cont"


_CORE = (Sig.SIGQUIT, Sig.SIGILL, Sig.SIGTRAP, Sig.SIGABRT, Sig.SIGBUS, Sig.SIGFPE,
         Sig.SIGSEGV, Sig.SIGXCPU, Sig.SIGXFSZ, Sig.SIGSYS)
_IGN = (Sig.SIGCHLD, Sig.SIGURG, Sig.SIGWINCH)
_STOP = (Sig.SIGSTOP, Sig.SIGTSTP, Sig.SIGTTIN, Sig.SIGTTOU)


def default_action(sig: int) -> Action:
    """Default action of signal ``sig`` (real-time signals terminate)."""
    if sig in _CORE:
        return Action.CORE
    if sig in _IGN:
        return Action.IGN
    if sig in _STOP:
        return Action.STOP
    if sig == Sig.SIGCONT:
        return Action.CONT
    return Action.TERM


#: signal -> default action, for 1..64.
DEFAULT_ACTIONS: dict[int, Action] = {s: default_action(s) for s in range(1, NSIG + 1)}

#: Signals that cannot be caught, blocked or ignored.
UNCATCHABLE = frozenset((Sig.SIGKILL, Sig.SIGSTOP))
#: Signals raised synchronously by a fault of the current instruction.
SYNCHRONOUS = frozenset((Sig.SIGSEGV, Sig.SIGBUS, Sig.SIGILL, Sig.SIGFPE, Sig.SIGTRAP, Sig.SIGSYS))


def sigmask(sig: int) -> int:
    """The bit of ``sig`` in a 64-bit sigset_t."""
    return 1 << (sig - 1)


# --- siginfo si_code values -------------------------------------------------

class SiCode(enum.IntEnum):
    """Generic si_code values (any signal)."""

    SI_USER = 0
    SI_KERNEL = 0x80
    SI_QUEUE = -1
    SI_TIMER = -2
    SI_MESGQ = -3
    SI_ASYNCIO = -4
    SI_SIGIO = -5
    SI_TKILL = -6
    SI_DETHREAD = -7
    SI_ASYNCNL = -60


class SegvCode(enum.IntEnum):
    SEGV_MAPERR = 1
    SEGV_ACCERR = 2
    SEGV_BNDERR = 3
    SEGV_PKUERR = 4
    SEGV_ACCADI = 5
    SEGV_ADIDERR = 6
    SEGV_ADIPERR = 7
    SEGV_MTEAERR = 8
    SEGV_MTESERR = 9
    SEGV_CPERR = 10


class BusCode(enum.IntEnum):
    BUS_ADRALN = 1
    BUS_ADRERR = 2
    BUS_OBJERR = 3
    BUS_MCEERR_AR = 4
    BUS_MCEERR_AO = 5


class IllCode(enum.IntEnum):
    ILL_ILLOPC = 1
    ILL_ILLOPN = 2
    ILL_ILLADR = 3
    ILL_ILLTRP = 4
    ILL_PRVOPC = 5
    ILL_PRVREG = 6
    ILL_COPROC = 7
    ILL_BADSTK = 8
    ILL_BADIADDR = 9


class FpeCode(enum.IntEnum):
    FPE_INTDIV = 1
    FPE_INTOVF = 2
    FPE_FLTDIV = 3
    FPE_FLTOVF = 4
    FPE_FLTUND = 5
    FPE_FLTRES = 6
    FPE_FLTINV = 7
    FPE_FLTSUB = 8
    FPE_FLTUNK = 14
    FPE_CONDTRAP = 15


class TrapCode(enum.IntEnum):
    TRAP_BRKPT = 1
    TRAP_TRACE = 2
    TRAP_BRANCH = 3
    TRAP_HWBKPT = 4
    TRAP_UNK = 5
    TRAP_PERF = 6


class ChldCode(enum.IntEnum):
    CLD_EXITED = 1
    CLD_KILLED = 2
    CLD_DUMPED = 3
    CLD_TRAPPED = 4
    CLD_STOPPED = 5
    CLD_CONTINUED = 6


class SysCode(enum.IntEnum):
    SYS_SECCOMP = 1
    SYS_USER_DISPATCH = 2


SI_USER = SiCode.SI_USER
SI_KERNEL = SiCode.SI_KERNEL
SI_QUEUE = SiCode.SI_QUEUE
SI_TIMER = SiCode.SI_TIMER
SI_TKILL = SiCode.SI_TKILL
SEGV_MAPERR = SegvCode.SEGV_MAPERR
SEGV_ACCERR = SegvCode.SEGV_ACCERR

#: signal -> its own si_code table (positive codes depend on the signal).
SI_CODES_BY_SIGNAL: dict[int, type[enum.IntEnum]] = {
    Sig.SIGSEGV: SegvCode,
    Sig.SIGBUS: BusCode,
    Sig.SIGILL: IllCode,
    Sig.SIGFPE: FpeCode,
    Sig.SIGTRAP: TrapCode,
    Sig.SIGCHLD: ChldCode,
    Sig.SIGSYS: SysCode,
}


def si_code_name(sig: int, code: int) -> str:
    """strace-style name of ``code`` for signal ``sig`` (a number if unknown)."""
    if code <= 0 or code == SI_KERNEL:
        try:
            return SiCode(code).name
        except ValueError:
            return str(code)
    table = SI_CODES_BY_SIGNAL.get(sig)
    if table is not None:
        try:
            return table(code).name
        except ValueError:
            pass
    return str(code)


# --- sigaction / sigprocmask ------------------------------------------------

class SA(enum.IntFlag):
    """sa_flags bits."""

    SA_NOCLDSTOP = 0x00000001
    SA_NOCLDWAIT = 0x00000002
    SA_SIGINFO = 0x00000004
    SA_UNSUPPORTED = 0x00000400
    SA_EXPOSE_TAGBITS = 0x00000800
    SA_RESTORER = 0x04000000
    SA_ONSTACK = 0x08000000
    SA_RESTART = 0x10000000
    SA_NODEFER = 0x40000000
    SA_RESETHAND = 0x80000000


SA_NOCLDSTOP = SA.SA_NOCLDSTOP
SA_NOCLDWAIT = SA.SA_NOCLDWAIT
SA_SIGINFO = SA.SA_SIGINFO
SA_RESTORER = SA.SA_RESTORER
SA_ONSTACK = SA.SA_ONSTACK
SA_RESTART = SA.SA_RESTART
SA_NODEFER = SA.SA_NODEFER
SA_RESETHAND = SA.SA_RESETHAND

#: sa_flags bit names, for format_flags.
SA_FLAG_NAMES: dict[int, str] = names_of(SA)

SIG_DFL = 0
SIG_IGN = 1
SIG_ERR = -1


class How(enum.IntEnum):
    """rt_sigprocmask ``how``."""

    SIG_BLOCK = 0
    SIG_UNBLOCK = 1
    SIG_SETMASK = 2


SIG_BLOCK = How.SIG_BLOCK
SIG_UNBLOCK = How.SIG_UNBLOCK
SIG_SETMASK = How.SIG_SETMASK

#: The only sigsetsize rt_sig* accept on x86-64 (else EINVAL).
SIGSET_SIZE = 8
#: struct k_sigaction as rt_sigaction reads it: handler, flags, restorer, mask.
K_SIGACTION_FORMAT = "<QQQQ"
K_SIGACTION_SIZE = 32

#: sigaltstack: struct { void *ss_sp; int ss_flags; size_t ss_size; } (24 bytes).
STACK_T_FORMAT = "<Qi4xQ"
STACK_T_SIZE = 24
SS_ONSTACK = 1
SS_DISABLE = 2
SS_AUTODISARM = 1 << 31
MINSIGSTKSZ = 2048
SIGSTKSZ = 8192

#: sizeof(siginfo_t).
SIGINFO_SIZE = 128

#: An obsolete sa_flags bit (the opposite of SA_RESTART) that strace still names;
#: not part of SA so that SA's names stay the ones the kernel accepts.
SA_INTERRUPT = 0x20000000
