"""Signal numbers of gdb's remote protocol (gdb's own enum, the same on every host) and
Linux's.  The first 15 agree; the rest do not (SIGUSR1 is 10 on Linux, 30 for gdb)."""

from umlpy.abi.signal import Sig

#: Linux name -> gdb's number, for the names both have (gdb: include/gdb/signals.def).
_GDB_NUMBERS = {
    "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGFPE": 8,
    "SIGKILL": 9, "SIGBUS": 10, "SIGSEGV": 11, "SIGSYS": 12, "SIGPIPE": 13, "SIGALRM": 14,
    "SIGTERM": 15, "SIGURG": 16, "SIGSTOP": 17, "SIGTSTP": 18, "SIGCONT": 19, "SIGCHLD": 20,
    "SIGTTIN": 21, "SIGTTOU": 22, "SIGIO": 23, "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26,
    "SIGPROF": 27, "SIGWINCH": 28, "SIGUSR1": 30, "SIGUSR2": 31, "SIGPWR": 32,
}
#: gdb's numbers of the real-time signals: SIG33..SIG63 are 45..75, SIG32 77, SIG64 78.
_GDB_RT = {32: 77, 64: 78}
#: gdb's GDB_SIGNAL_UNKNOWN, for a Linux signal gdb has no name for (SIGSTKFLT).
GDB_UNKNOWN = 143

_TO_GDB = {int(Sig[name]): n for name, n in _GDB_NUMBERS.items() if name in Sig.__members__}
_TO_GDB.update(_GDB_RT)
_TO_GDB.update({s: 45 + s - 33 for s in range(33, 64)})
_TO_LINUX = {g: s for s, g in _TO_GDB.items()}


def gdb_signal(linux: int) -> int:
    """gdb's number for Linux signal ``linux`` (0 stays 0)."""
    if linux == 0:
        return 0
    return _TO_GDB.get(linux, GDB_UNKNOWN)


def linux_signal(gdb: int) -> int:
    """Linux's number for gdb's signal ``gdb`` (0: none, or one Linux does not have)."""
    return _TO_LINUX.get(gdb, 0)
