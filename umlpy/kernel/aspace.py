"""Making guest address spaces and moving tasks between them.

Every MM the guest kernel uses is made here (:func:`new_mm`, :func:`fork_mm`)
and every change of the address space a task runs in goes through
:func:`switch_mm`, so that one function keeps right what such a change
touches:

- reference counts, kept on the MM: ``users`` (tasks whose active mm it is,
  Linux's mm_users) and ``holders`` (everything else that keeps it alive: a
  task's home mm, an fd naming it, a context of a process).  An MM is
  released when both are zero (:func:`put_user`, :func:`put_holder`);
- the FPU/SSE/AVX state: a context's xstate may still live in the stub it
  last ran in, so it is pulled out before the context runs in another stub;
- the fast path (its trace ring is drained first) and the tracer's hooks.

Invariant: ``task.mm`` (active) counts one ``user``; ``task.home_mm`` counts
one ``holder``, whichever mm the task runs in.
"""

import errno

from umlpy.errors import PlatformError, SyscallError
from umlpy.mm.mm import MM


def _adopt(mm):
    mm.users = 0
    mm.holders = 0
    return mm


def new_mm(k, what: str = "a new address space") -> MM:
    """An empty MM realised by a new stub; ENOMEM when no stub can be started."""
    try:
        host = k.platform.new_address_space()
    except PlatformError as e:
        k.warn("cannot start a host process for %s: %s" % (what, e))
        raise SyscallError(errno.ENOMEM) from None
    return _adopt(MM(k.frames, host))


def fork_mm(k, parent: MM) -> MM:
    """A copy-on-write copy of ``parent`` in a new stub; EAGAIN when none can be started."""
    try:
        host = k.platform.new_address_space()
    except PlatformError as e:
        k.warn("cannot start a host process for fork: %s" % e)
        raise SyscallError(errno.EAGAIN) from None
    try:
        return _adopt(parent.fork(host))
    except BaseException:
        host.release()
        raise


def _maybe_release(mm) -> None:
    if mm.users == 0 and mm.holders == 0:
        mm.release()


def get_holder(mm) -> None:
    mm.holders += 1


def put_holder(mm) -> None:
    mm.holders -= 1
    _maybe_release(mm)


def put_user(mm) -> None:
    mm.users -= 1
    _maybe_release(mm)


def attach_task(t, mm) -> None:
    """A new task starts with ``mm`` as both its home and active mm."""
    t.mm = t.home_mm = mm
    mm.users += 1
    mm.holders += 1


def switch_mm(t, mm) -> None:
    """Make ``mm`` the address space ``t`` runs in (its registers are kept)."""
    old = t.mm
    if old is mm:
        return
    k = t.kernel
    if k is not None and k.tracing:
        k.hooks.drain_fast(t)      # answers recorded while running in ``old`` come first
    if old is not None:
        # The context's FPU state may still be loaded in the old stub: take it along.
        t.ctx.save_state(old.host)
    mm.users += 1
    t.mm = mm
    if k is not None:
        k.hooks.mm_switched(t, old, mm)
    if old is not None:
        put_user(old)


def exec_mm(t, mm) -> None:
    """exec: ``mm`` becomes both the home and the active mm of ``t``."""
    old_home = t.home_mm
    switch_mm(t, mm)
    if old_home is not mm:
        mm.holders += 1
        t.home_mm = mm
        if old_home is not None:
            put_holder(old_home)


def detach_task(t) -> None:
    """A dying task gives up its active and home mm."""
    mm, home = t.mm, t.home_mm
    if mm is not None:
        put_user(mm)
    if home is not None:
        put_holder(home)


class borrowed_mm:
    """``with borrowed_mm(t, mm):`` the kernel acts for ``t`` as if ``mm`` were its
    address space (mm_indirect, /proc/mm writes): no guest code runs meanwhile,
    so registers and FPU state stay where they are."""

    __slots__ = ("t", "mm", "old")

    def __init__(self, t, mm):
        self.t, self.mm = t, mm

    def __enter__(self):
        t, mm = self.t, self.mm
        self.old = t.mm
        mm.users += 1
        t.mm = mm
        return mm

    def __exit__(self, *exc):
        t = self.t
        t.mm = self.old
        put_user(self.mm)
        return False
