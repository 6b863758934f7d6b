"""wait4(2)/waitid(2) options, waitid's id types (uapi ``linux/wait.h``), and
the encoding of a wait status (``kernel/exit.c``; glibc's ``bits/waitstatus.h``
names the parts).

A status is one of: ``exitcode << 8`` (exited), ``sig | WCOREFLAG?``
(killed), ``sig << 8 | W_STOPPED`` (stopped; ptrace events above bit 16),
or ``W_CONTINUED``.  The option names with two leading underscores are not
valid Enum member names, so the options are plain constants and a table.
"""

import enum

WNOHANG = 0x00000001
WUNTRACED = 0x00000002
WSTOPPED = WUNTRACED
WEXITED = 0x00000004
WCONTINUED = 0x00000008
WNOWAIT = 0x01000000
__WNOTHREAD = 0x20000000
__WALL = 0x40000000
__WCLONE = 0x80000000

#: Every option by the name strace prints (WSTOPPED, not WUNTRACED), in bit order.
WAIT_OPTION_NAMES: dict[int, str] = {
    WNOHANG: "WNOHANG", WSTOPPED: "WSTOPPED", WEXITED: "WEXITED", WCONTINUED: "WCONTINUED",
    WNOWAIT: "WNOWAIT", __WNOTHREAD: "__WNOTHREAD", __WALL: "__WALL", __WCLONE: "__WCLONE"}


class P(enum.IntEnum):
    """waitid(2)'s idtype."""

    P_ALL = 0
    P_PID = 1
    P_PGID = 2
    P_PIDFD = 3


P_ALL = P.P_ALL
P_PID = P.P_PID
P_PGID = P.P_PGID
P_PIDFD = P.P_PIDFD

#: The low 7 bits of a status: 0 (exited), the signal (killed) or W_STOPPED.
W_SIGMASK = 0x7F
W_STOPPED = 0x7F
#: Set with the killing signal when a core was dumped.
WCOREFLAG = 0x80
#: The whole status of a continued child.
W_CONTINUED = 0xFFFF


def w_exitcode(code: int, sig: int) -> int:
    """The status of a child that exited with ``code`` (``sig`` 0) or was killed by ``sig``."""
    return (code & 0xFF) << 8 | sig


def w_stopcode(sig: int) -> int:
    """The status of a child stopped by ``sig``."""
    return sig << 8 | W_STOPPED
