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
