"""The guest kernel's hooks: the protocol a tracer (and later guest ptrace) implements.

The kernel calls these from a few named places only.  :class:`KernelHooks`
does nothing; the kernel holds an instance of it when nothing is attached,
so a call site never tests for None.  The hot path (system-call dispatch,
the run loop) checks ``Kernel.tracing`` once instead, so that tracing off
costs nothing there.
"""


class KernelHooks:
    """Do-nothing hooks; subclasses override what they observe."""

    #: Whether the kernel must call the per-syscall hooks (enter/exit/blocked, drain_fast).
    active = False

    def attach(self, kernel) -> None:
        """The hooks are installed in ``kernel``."""

    def close(self) -> None:
        """The guest machine ends."""

    def fast_ok(self, nr: int) -> bool:
        """May the platform answer ``nr`` without telling the hooks first?"""
        return True

    def initial_exec(self, t, program: bytes, argv: list, envc: int, envp_addr: int, raw=None) -> None:
        """The first process starts, as if by execve(2)."""

    def syscall_enter(self, t, nr: int, args, restarted: bool = False):
        """A system call begins; a non-None return is an injected result (the handler is not run)."""
        return None

    def syscall_blocked(self, t, nr: int, args) -> None:
        """The call parked its task; it resumes (or is interrupted) later."""

    def syscall_exit(self, t, nr: int, args, ret) -> None:
        """The call ended with ``ret`` (its signed result, or None: the registers were set)."""

    def drain_fast(self, t) -> None:
        """Report the calls the platform answered on its own since the last stop."""

    def signal(self, t, signo: int, info) -> None:
        """A signal is delivered to ``t`` (or discarded as ignored)."""

    def signal_stop(self, t, signo: int, info) -> int:
        """A signal was dequeued for ``t``, before a guest tracer or its action sees it.

        An external debugger (the gdb stub) stops the machine here: nothing runs
        until it returns, and it may change ``t``'s registers and memory.  Returns
        the signal to deliver (``signo``, another one, or 0 to discard it)."""
        return signo

    def task_created(self, parent, child) -> None:
        """clone(2) made ``child``."""

    def exec_done(self, t) -> None:
        """execve(2) replaced ``t``'s image."""

    def mm_switched(self, t, old, new) -> None:
        """``t`` now runs in the address space ``new`` (was ``old``)."""

    def task_exit(self, t) -> None:
        """``t`` ends."""

    def group_exit(self, g) -> None:
        """The last task of thread group ``g`` ended."""


#: The hooks of a kernel that nothing observes.
NO_HOOKS = KernelHooks()
