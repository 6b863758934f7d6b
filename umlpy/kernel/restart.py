"""What a system-call handler may return, and the state a call keeps across a wait.

A handler returns one of three things:

- an int: the call's result, stored in rax (negative values are the
  handler's business only when the call really returns them, e.g. lseek
  offsets; errors are raised as :class:`~umlpy.errors.SyscallError`);
- :data:`REGS_SET`: the handler has set the registers itself (execve,
  rt_sigreturn, vfork's parent, switch_mm): rax is not touched;
- it raises :class:`~umlpy.waiter.WouldBlock`: the task waits; the call is
  run again from the start when a queue it waits on is notified or its
  deadline passes.

``-errno`` is made in one place, ``Kernel._invoke``.

Per-call state that survives a wait lives in one :class:`RestartBlock` on
the task (``task.restart_block``, Linux's ``restart_block``), created by the
handler on its first run and found again on the next.  The kernel owns its
end: when the call completes the block is dropped; when a signal interrupts
the wait, :meth:`RestartBlock.cancel` undoes its registrations and
:meth:`RestartBlock.interrupted` gives the call's result (-EINTR unless the
call says otherwise, e.g. a partial write's byte count).
"""

import errno

from umlpy.errors import SyscallError


class _RegsSet:
    __slots__ = ()

    def __repr__(self):
        return "REGS_SET"


#: A handler's return value meaning "the registers are already set; rax is not the result".
REGS_SET = _RegsSet()


class RestartBlock:
    """Base of the per-call state kept across a wait."""

    __slots__ = ()

    def cancel(self) -> None:
        """The call is abandoned (a signal, the task's death): drop every registration."""

    def interrupted(self):
        """The call's result when a signal ends the wait (raise SyscallError for an errno)."""
        raise SyscallError(errno.EINTR)
