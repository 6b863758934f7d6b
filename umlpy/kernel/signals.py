"""Helpers for guest signal masks; the tables live in :mod:`umlpy.abi.signal`.

Signals are bitmasks (bit ``sig - 1``) of pending signals per task and per
thread group.  Delivery happens on the way back to guest user mode
(:meth:`umlpy.kernel.kernel.Kernel.deliver_signals`), as in Linux's
``exit_to_user_mode``; a caught signal gets an ``rt_sigframe`` on the guest
stack (:mod:`umlpy.kernel.sigframe`).
"""

from umlpy.abi.signal import SIG_DFL, SIG_IGN, Action as Default, Sig, default_action  # noqa: F401
from umlpy.abi.signal import sigmask as bit

SIGKILL, SIGSTOP, SIGCHLD, SIGCONT = int(Sig.SIGKILL), int(Sig.SIGSTOP), int(Sig.SIGCHLD), int(Sig.SIGCONT)
UNBLOCKABLE = bit(SIGKILL) | bit(SIGSTOP)


def lowest(mask: int) -> int:
    """The lowest signal number in a non-empty mask."""
    return (mask & -mask).bit_length()


#: si_code values of a signal a process sent (kill, sigqueue, tkill): si_pid and si_uid.
_FROM_PROCESS = (0, -1, -6)


def sender_uid(k, t, signo: int, info) -> int:
    """si_uid of a signal for ``t``: the real uid of the process that sent it (kill,
    tkill, sigqueue) or of the child a SIGCHLD is about.  The signal's info names the
    process by pid; if it is gone, the receiver's own uid stands in (one user per guest
    unless a process changed its ids)."""
    _, code, _, pid, _ = info
    if code not in _FROM_PROCESS and not (signo == SIGCHLD and code > 0):
        return 0
    g = k.groups.get(pid)
    if g is not None:
        return g.creds.uid
    return t.group.creds.uid
