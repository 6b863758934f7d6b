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

A process's other address spaces (``ThreadGroup.spaces``, a
:class:`ProcessSpaces`): its new_as contexts (Chubb 2007; slot 0 is the
process's own mm, each other slot a copy-on-write duplicate, each held as a
``holder``) and its VAS attachments (``umlpy.kernel.vas``).  They belong to
the process: fork copies only the address space the caller runs in (the child
starts with none of them), exec and the exit of its last thread drop them all
(:func:`drop_spaces`).  Contexts and VAS views are made without a stub
(``mm.hostcache.DeferredHost``); the first switch into one starts it.
"""

import errno

from umlpy.abi.extensions import MAX_AS_CONTEXTS
from umlpy.errors import PlatformError, SyscallError
from umlpy.mm.hostcache import DeferredHost
from umlpy.mm.mm import MM


def adopt(mm):
    """A new MM, with no reference counted yet."""
    mm.users = 0
    mm.holders = 0
    return mm


_adopt = adopt


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


def deferred_mm(k) -> MM:
    """An empty MM without a stub yet (a VAS's own mappings)."""
    return _adopt(MM(k.frames, DeferredHost()))


def realize(k, mm) -> None:
    """Give ``mm`` its stub if it has none yet; ENOMEM when none can be started."""
    if mm.host_deferred:
        try:
            host = k.platform.new_address_space()
        except PlatformError as e:
            k.warn("cannot start a host process for an address space: %s" % e)
            raise SyscallError(errno.ENOMEM) from None
        mm.adopt_host(host)


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
    if k is not None and mm.host_deferred:
        realize(k, mm)
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
    """exec: ``mm`` becomes both the home and the active mm of ``t``; the process's
    contexts and VAS attachments go."""
    old_home = t.home_mm
    switch_mm(t, mm)
    if old_home is not mm:
        mm.holders += 1
        t.home_mm = mm
        if old_home is not None:
            put_holder(old_home)
    drop_spaces(t.group)


def rehome(t, home) -> None:
    """A new thread's home is its process's, whatever mm it starts running in."""
    if t.home_mm is not home:
        old, t.home_mm = t.home_mm, home
        home.holders += 1
        put_holder(old)


def detach_task(t) -> None:
    """A dying task gives up its active and home mm (and, the last of its process,
    the process's contexts and VAS attachments)."""
    mm, home = t.mm, t.home_mm
    if mm is not None:
        put_user(mm)
    if home is not None:
        put_holder(home)
    g = t.group
    if g.spaces is not None and all(x is t for x in g.tasks):   # the process's last task
        drop_spaces(g)


# --- new_as / switch_as contexts and VAS attachments of a process ----------------------

class ProcessSpaces:
    """The address spaces of a process beyond its own (see the module docstring)."""

    __slots__ = ("contexts", "vas")

    def __init__(self):
        #: new_as contexts by index; slot 0 is set at the first new_as.
        self.contexts: list = [None] * MAX_AS_CONTEXTS
        #: vid -> the process's attachment of that VAS (umlpy.kernel.vas.Attachment).
        self.vas: dict = {}


def spaces_of(g) -> ProcessSpaces:
    if g.spaces is None:
        g.spaces = ProcessSpaces()
    return g.spaces


def new_context(t) -> int:
    """new_as: a copy-on-write duplicate of the address space ``t`` runs in, as the
    process's lowest free context; its index, or ENOENT when all are used."""
    sp = spaces_of(t.group)
    ctxs = sp.contexts
    try:
        n = ctxs.index(None, 1)
    except ValueError:
        raise SyscallError(errno.ENOENT) from None
    mm = _adopt(t.mm.fork(DeferredHost()))
    if ctxs[0] is None:
        ctxs[0] = t.home_mm
        get_holder(t.home_mm)
    ctxs[n] = mm
    get_holder(mm)
    return n


def switch_context(t, n: int) -> None:
    """switch_as: ``t`` runs in its process's context ``n`` (ENOENT if there is none)."""
    sp = t.group.spaces
    if not 0 <= n < MAX_AS_CONTEXTS:
        raise SyscallError(errno.ENOENT)
    mm = sp.contexts[n] if sp is not None else None
    if mm is None:
        if n == 0:
            mm = t.home_mm        # no context made yet: 0 is the process's own
        else:
            raise SyscallError(errno.ENOENT)
    switch_mm(t, mm)


def context_of(t) -> int:
    """The index of the context ``t`` runs in (0 when none, or not a context)."""
    sp = t.group.spaces
    if sp is not None:
        for i, mm in enumerate(sp.contexts):
            if mm is t.mm:
                return i
    return 0


def drop_spaces(g) -> None:
    """Free a process's contexts and VAS attachments (exec, exit)."""
    sp, g.spaces = g.spaces, None
    if sp is None:
        return
    for att in list(sp.vas.values()):
        att.drop()
    for mm in sp.contexts:
        if mm is not None:
            put_holder(mm)


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
