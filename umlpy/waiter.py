"""Wait queues and readiness: the leaf every blocking object and waiter shares.

A :class:`Queue` belongs to something that can become ready (a pipe, a
console, a child-exit event, a futex word, a timer).  A waiter
:meth:`Queue.register`\\ s a callback with an event mask and gets an
:class:`Entry` back; :meth:`Queue.notify` calls the callbacks whose mask
meets the events that happened.  Registrations stay until their owner
removes them (:meth:`Entry.unregister`, idempotent): a task that is woken,
interrupted or killed drops every entry it holds, so nothing leaks into a
queue that outlives the wait.  poll, select, epoll and every blocking call
use the same mechanism.

Masks are Linux's poll event bits (``umlpy.abi.poll``); :data:`ALL_EVENTS`
matches anything.  This module imports nothing of umlpy: fs, mm and the
kernel all build on it.
"""

#: A mask that every notification meets.
ALL_EVENTS = 0xFFFFFFFF


class WouldBlock(Exception):
    """The operation must wait on ``queues`` (each a :class:`Queue`, or a
    ``(queue, mask)`` pair) and/or until ``deadline`` (guest CLOCK_MONOTONIC
    ns).  Nothing at all: only a signal ends the wait.  The kernel parks the
    task and runs its system call again when woken."""

    def __init__(self, *queues, deadline=None):
        super().__init__()
        self.queues = queues
        self.deadline = deadline


class Entry:
    """One registration of a callback on a queue."""

    __slots__ = ("queue", "callback", "mask")

    def __init__(self, queue, callback, mask):
        self.queue = queue
        self.callback = callback
        self.mask = mask

    def unregister(self) -> None:
        """Remove this registration (no-op when already removed)."""
        q = self.queue
        if q is not None:
            self.queue = None
            try:
                q._entries.remove(self)
            except ValueError:
                pass


class Queue:
    """Callbacks to run when an object's readiness changes."""

    __slots__ = ("_entries",)

    def __init__(self):
        self._entries: list[Entry] = []

    def register(self, callback, mask: int = ALL_EVENTS) -> Entry:
        e = Entry(self, callback, mask)
        self._entries.append(e)
        return e

    def notify(self, events: int = ALL_EVENTS) -> None:
        """Call every callback whose mask meets ``events`` (registrations stay)."""
        if not self._entries:
            return
        for e in list(self._entries):
            if e.mask & events and e.queue is self:
                e.callback(events)

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        # A queue is an object, true even when nobody waits on it.
        return True


class Timer:
    """A deadline registration (guest monotonic ns) kept by the kernel's timer heap.

    The heap deletes lazily: :meth:`cancel` marks the timer so that it never fires.
    """

    __slots__ = ("deadline", "callback", "cancelled")

    def __init__(self, deadline: int, callback):
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True
        self.callback = None

    def unregister(self) -> None:
        """Same as :meth:`cancel`, so a timer can stand among a waiter's entries."""
        self.cancel()
