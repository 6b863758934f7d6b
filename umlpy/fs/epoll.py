"""epoll instances (fs/eventpoll.c): an interest list and a ready list.

An :class:`EpollFile` keeps one :class:`EpItem` per watched (file, fd)
pair.  Each item registers a callback on its file's ``waitq``: a
notification whose mask meets the item's events (or is an error/hang-up)
puts the item on the ready list and notifies the epoll's own queue, which
wakes ``epoll_wait`` callers and anything watching the epoll itself
(nested epolls, poll).  ``collect`` is ep_send_events: it polls each ready
item again, reports those with events, drops those without, keeps
level-triggered items on the list (at its tail, so readiness is served
round-robin) and disarms EPOLLONESHOT ones until the next EPOLL_CTL_MOD.

Items are keyed by (file, fd) as on Linux: closing one fd of a dup'ed file
leaves the item in place; it goes when the file itself is released
(``File.watchers``), or by EPOLL_CTL_DEL.  Files whose readiness follows a
host fd (``host_fds()``) are polled again on every scan, since nothing
notifies them.

Nesting: adding an epoll to another must not make a loop, and the chain of
epolls it makes may be at most EPOLL_MAX_NESTS deep (ELOOP), as Linux 6.x
checks it.  EPOLLEXCLUSIVE is accepted and behaves as a plain registration
(every waiter is woken; Linux allows spurious wake-ups).  EPOLLWAKEUP is
dropped, as for a caller without CAP_BLOCK_SUSPEND.
"""

from __future__ import annotations

import collections
import errno

from umlpy.abi.events import (EP_PRIVATE_BITS, EPOLL_MAX_NESTS, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE,
                              EPOLLHUP, EPOLLONESHOT, EPOLLWAKEUP)
from umlpy.abi.poll import POLLIN, POLLRDNORM
from umlpy.errors import SyscallError
from umlpy.fs.anon import AnonFile

_ALWAYS = EPOLLERR | EPOLLHUP


class EpItem:
    """One watched (file, fd) of an epoll instance."""

    __slots__ = ("ep", "file", "fd", "events", "data", "entry", "ready", "oneshot_fired")

    def __init__(self, ep: "EpollFile", file, fd: int, events: int, data: int):
        self.ep = ep
        self.file = file
        self.fd = fd
        self.events = events
        self.data = data
        self.entry = None
        self.ready = False
        self.oneshot_fired = 0     # the events of a oneshot item just reported

    def wake(self, events: int = 0xFFFFFFFF):
        """The file's queue was notified (ep_poll_callback)."""
        if not self.events & ~EP_PRIVATE_BITS:
            return          # a fired EPOLLONESHOT item: disabled until EPOLL_CTL_MOD
        if events & (self.events | _ALWAYS):
            self.ep.make_ready(self)

    def poll(self) -> int:
        return self.file.poll() & (self.events | _ALWAYS)

    def file_released(self):
        """The watched file's last reference went: the item goes (eventpoll_release)."""
        self.ep.remove_item(self)


class EpollFile(AnonFile):
    """An epoll instance."""

    kind = "eventpoll"

    def __init__(self, flags: int):
        super().__init__(flags)
        self.items: dict = {}                     # (id(file), fd) -> EpItem
        #: Items polled on every scan: files following host fds, and nested epolls
        #: (whose own items may follow host fds).
        self.host_items: list = []
        self.rdlist: collections.deque = collections.deque()
        self.scanned = False       # inside our own poll(): a loop guard for nested epolls

    # -- interest list -------------------------------------------------------------
    def _key(self, file, fd):
        return (id(file), fd)

    def lookup(self, file, fd) -> EpItem | None:
        return self.items.get(self._key(file, fd))

    def add(self, file, fd: int, events: int, data: int):
        """EPOLL_CTL_ADD (arguments checked by the caller, loops included)."""
        if self._key(file, fd) in self.items:
            raise SyscallError(errno.EEXIST)
        item = EpItem(self, file, fd, events & ~EPOLLWAKEUP, data)
        self.items[self._key(file, fd)] = item
        if not isinstance(file.watchers, list):
            file.watchers = []
        file.watchers.append(item)
        q = file.waitq
        if q is not None:
            item.entry = q.register(item.wake)
        if isinstance(file, EpollFile) or file.host_fds():
            self.host_items.append(item)
        if item.poll():
            self.make_ready(item)

    def modify(self, file, fd: int, events: int, data: int):
        item = self.lookup(file, fd)
        if item is None:
            raise SyscallError(errno.ENOENT)
        if item.events & EPOLLEXCLUSIVE:
            raise SyscallError(errno.EINVAL)
        item.events = events & ~EPOLLWAKEUP
        item.data = data
        if item.poll():
            self.make_ready(item)

    def delete(self, file, fd: int):
        item = self.lookup(file, fd)
        if item is None:
            raise SyscallError(errno.ENOENT)
        self.remove_item(item)

    def remove_item(self, item: EpItem):
        if self.items.get(self._key(item.file, item.fd)) is not item:
            return
        del self.items[self._key(item.file, item.fd)]
        if item.entry is not None:
            item.entry.unregister()
            item.entry = None
        try:
            item.file.watchers.remove(item)
        except ValueError:
            pass
        if item in self.host_items:
            self.host_items.remove(item)
        if item.ready:
            item.ready = False
            try:
                self.rdlist.remove(item)
            except ValueError:
                pass

    def release(self):
        for item in list(self.items.values()):
            self.remove_item(item)

    # -- readiness -------------------------------------------------------------------
    def make_ready(self, item: EpItem):
        if not item.ready:
            item.ready = True
            self.rdlist.append(item)
        self.waitq.notify(POLLIN | POLLRDNORM)

    def _rescan_host_items(self):
        """Items following host fds have no notifications: look at them now."""
        for item in self.host_items:
            if not item.ready and item.file.host_fds() and item.events & ~EP_PRIVATE_BITS:
                if item.poll():
                    item.ready = True
                    self.rdlist.append(item)

    def requeue(self, items):
        """Events collected but not delivered (the caller's buffer faulted): as they were."""
        for item in reversed(items):
            if item.oneshot_fired:
                item.events, item.oneshot_fired = item.oneshot_fired, 0
            if item.ready:
                self.rdlist.remove(item)
            item.ready = True
            self.rdlist.appendleft(item)

    def collect(self, maxevents: int) -> list:
        """Up to ``maxevents`` (events, data, item) ready now (ep_send_events)."""
        if self.host_items:
            self._rescan_host_items()
        out, requeue = [], []
        n = len(self.rdlist)
        while self.rdlist and n and len(out) < maxevents:
            n -= 1
            item = self.rdlist.popleft()
            item.ready = False
            if not item.events & ~EP_PRIVATE_BITS:
                continue
            revents = item.poll()
            if not revents:
                continue
            out.append((revents, item.data, item))
            if item.events & EPOLLONESHOT:
                item.oneshot_fired = item.events
                item.events &= EP_PRIVATE_BITS
            elif not item.events & EPOLLET:
                requeue.append(item)
        for item in requeue:
            if not item.ready:
                item.ready = True
                self.rdlist.append(item)
        return out

    def poll(self):
        """Readable when an item on the ready list has events (ep_eventpoll_poll)."""
        if self.scanned:
            return 0
        self.scanned = True
        try:
            self._rescan_host_items()
            for item in list(self.rdlist):
                if item.events & ~EP_PRIVATE_BITS and item.poll():
                    return POLLIN | POLLRDNORM
                item.ready = False
                self.rdlist.remove(item)
            return 0
        finally:
            self.scanned = False

    def host_fds(self) -> tuple:
        if self.scanned:
            return ()
        self.scanned = True
        try:
            fds = []
            for item in self.host_items:
                fds.extend(item.file.host_fds())
            return tuple(fds)
        finally:
            self.scanned = False

    # -- nesting ---------------------------------------------------------------------
    def nested(self) -> list:
        return [i.file for i in self.items.values() if isinstance(i.file, EpollFile)]

    def parents(self) -> list:
        return [i.ep for i in self.watchers if isinstance(i, EpItem)]

    def read(self, n):
        raise SyscallError(errno.EINVAL)

    def write(self, data):
        raise SyscallError(errno.EINVAL)


def _depth_down(ep: EpollFile, target: EpollFile, seen: set) -> int:
    """How deep the epolls below ``ep`` go; -1 when ``target`` is among them (a loop)."""
    if ep is target:
        return -1
    if id(ep) in seen:
        return 0
    seen.add(id(ep))
    depth = 0
    for child in ep.nested():
        d = _depth_down(child, target, seen)
        if d < 0:
            return -1
        depth = max(depth, d + 1)
    return depth


def _depth_up(ep: EpollFile, seen: set) -> int:
    if id(ep) in seen:
        return 0
    seen.add(id(ep))
    return max((_depth_up(p, seen) + 1 for p in ep.parents()), default=0)


def check_nesting(ep: EpollFile, target: EpollFile):
    """ELOOP if watching ``target`` from ``ep`` makes a loop or too deep a chain (ep_loop_check)."""
    depth = _depth_down(target, ep, set())
    if depth < 0 or depth > EPOLL_MAX_NESTS:
        raise SyscallError(errno.ELOOP)
    if depth + 1 + _depth_up(ep, set()) > EPOLL_MAX_NESTS:
        raise SyscallError(errno.ELOOP)


__all__ = ["EpollFile", "EpItem", "check_nesting"]
