"""The host mappings of one address space: a bounded cache of its page table.

:class:`HostCache` is the only code that calls ``host.map/unmap/protect``
for an :class:`~umlpy.mm.mm.MM`.  It keeps ``mapped``, an
:class:`~umlpy.mm.extents.ExtentMap` of vpn -> ``frame | prot``: what the
stub has mapped (as queued: the platform flushes the queue, in order, before
the guest runs).  Its extents are maximal runs (consecutive pages with the
same protection and contiguous frames): a run is what one host VMA can
hold, and ``runs`` (the number of extents) is an upper bound of the host VMAs
our mappings make, exact when the host merges everything it can.  Every
operation costs per run, never per page: a fork maps a 256 MiB region in
one host operation.

Invariants:

- every page in ``mapped`` is present in the page table and mapped at its
  pte's frame with its pte's effective protection (:func:`pte_host`); a
  present page may be absent from ``mapped`` (evicted, or never host-mapped):
  the guest's fault on it refills it;
- ``runs <= budget`` after every operation, so the stub never holds more
  than ``budget`` of our mappings (plus its own few), far below the host's
  vm.max_map_count: a host map never fails for lack of room.

When an operation would leave more than ``budget`` runs, the cache evicts
everything (one host munmap over the whole mapped range, as a TLB flush does)
and, for a map, then maps just the requested run, so the faulting access
makes progress.  Kernel I/O does not go through host mappings (it uses the
supervisor's own mapping of physmem), so eviction never affects it.
"""

import os

from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE
from umlpy.platform.base import HostAddressSpace
from umlpy.mm.extents import ExtentMap
from umlpy.mm.pagetable import PTE_FRAME, PTE_PROT

#: The smallest budget: one instruction may need a handful of pages at once
#: (fetch, operands and stack, each straddling a page boundary), each refill
#: maps a fault-around window of up to 16 runs, and an eviction must leave room
#: for all of them or the guest could refault forever.
MIN_BUDGET = 128
#: Host VMAs left to the stub itself and to the host's imperfect merging.
HOST_MARGIN = 1000
#: Environment override of the default budget (tests and benchmarks).
BUDGET_ENV = "UMLPY_HOST_MAP_BUDGET"

_host_max_map_count = None


def host_max_map_count() -> int:
    """The host's vm.max_map_count, read once (65530, Linux's default, if unreadable)."""
    global _host_max_map_count
    if _host_max_map_count is None:
        try:
            with open("/proc/sys/vm/max_map_count") as f:
                _host_max_map_count = int(f.read())
        except (OSError, ValueError):
            _host_max_map_count = 65530
    return _host_max_map_count


#: The most runs the cache holds by default, whatever the host allows: the runs live in
#: sorted lists (an ExtentMap), where an insertion costs a memmove of the whole list, so
#: a refill into a full cache of 64,000 runs costs about twice one into 16,384 (measured
#: on a 100,000-page nonuniform mapping: 0.99 ms against 0.44 ms per refill fault, the
#: extra evictions included).
DEFAULT_CAP = 16384


def default_budget() -> int:
    """UMLPY_HOST_MAP_BUDGET if set, else the host's max_map_count less a margin, at
    most DEFAULT_CAP."""
    env = os.environ.get(BUDGET_ENV)
    if env:
        return max(int(env), MIN_BUDGET)
    mmc = host_max_map_count()
    return min(max(mmc - HOST_MARGIN if mmc > 2 * HOST_MARGIN else mmc // 2, MIN_BUDGET),
               DEFAULT_CAP)


class HostCache:
    """The host mappings of one mm, at most ``budget`` runs of them."""

    __slots__ = ("host", "budget", "mapped", "evictions")

    def __init__(self, host: HostAddressSpace, budget: int | None = None):
        self.host = host
        self.budget = default_budget() if budget is None else max(budget, MIN_BUDGET)
        self.mapped = ExtentMap(PAGE_SIZE)
        #: How many times everything was evicted (for tests and benchmarks).
        self.evictions = 0

    @property
    def runs(self) -> int:
        return len(self.mapped)

    def __contains__(self, vpn: int) -> bool:
        return vpn in self.mapped

    # --- operations ------------------------------------------------------------
    def map_run(self, vpn: int, value: int, n: int) -> None:
        """Host-map ``n`` pages from ``vpn``: ``value`` (frame | prot) and the frames after it."""
        m = self.mapped
        end = vpn + n
        m.remove(vpn, end)
        m.insert(vpn, end, value)
        if len(m.starts) > self.budget:
            self.evict(vpn, end)
            m.insert(vpn, end, value)
        self.host.map(vpn << PAGE_SHIFT, n << PAGE_SHIFT, value & PTE_PROT, value & PTE_FRAME)

    def map_extents(self, items, bounded: bool = False) -> None:
        """Host-map ``(start, end, frame | prot)`` extents, in address order.

        ``bounded``: map only while there is room, never evict (an eager
        prefill, e.g. a fork child's pages, that refaults can complete).
        """
        for s, e, v in items:
            if bounded and len(self.mapped.starts) + 2 > self.budget:
                return
            self.map_run(s, v, e - s)

    def refresh(self, lo: int, hi: int, items) -> None:
        """The pages of [lo, hi) now want the ``(start, end, frame | prot)`` extents ``items``
        (which cover them): fix those that are host-mapped (a protect where only the
        protection changed, a map where the frame did), leave the others alone."""
        cached = self.mapped.items(lo, hi)
        if not cached:
            return
        remap, reprot = [], []
        for cs, ce, cv in cached:
            for s, e, v in items:
                a, b = max(s, cs), min(e, ce)
                if a < b:
                    new = v + (a - s) * PAGE_SIZE
                    old = cv + (a - cs) * PAGE_SIZE
                    if (new ^ old) & PTE_FRAME:
                        remap.append((a, b, new))
                    elif new != old:
                        reprot.append((a, b, new & PTE_PROT))
        for a, b, p in reprot:
            self.protect(a, b, p)
        self.map_extents(remap)

    def protect(self, lo: int, hi: int, prot: int) -> None:
        """The host-mapped pages of [lo, hi) get protection ``prot`` (frames unchanged)."""
        m = self.mapped
        cached = m.items(lo, hi)
        if not cached:
            return
        m.apply(lo, hi, lambda v: (v & ~PTE_PROT) | prot)
        if len(m.starts) > self.budget:
            self.evict()
            return
        host = self.host
        for s, e, v in cached:
            if v & PTE_PROT != prot:
                host.protect(s << PAGE_SHIFT, (e - s) << PAGE_SHIFT, prot)

    def unmap_range(self, lo: int, hi: int) -> None:
        """Host-unmap every cached page of vpns [lo, hi)."""
        m = self.mapped
        gone = m.remove(lo, hi)
        if not gone:
            return
        self.host.unmap(gone[0][0] << PAGE_SHIFT, (gone[-1][1] - gone[0][0]) << PAGE_SHIFT)
        if len(m.starts) > self.budget:
            self.evict()

    def evict(self, lo: int | None = None, hi: int | None = None) -> None:
        """Unmap everything from the host (and vpns [lo, hi) too, if given)."""
        m = self.mapped
        if m:
            a, b = m.first(), m.last()
            if lo is not None:
                a, b = min(a, lo), max(b, hi)
        elif lo is not None:
            a, b = lo, hi
        else:
            return
        self.host.unmap(a << PAGE_SHIFT, (b - a) << PAGE_SHIFT)
        m.clear()
        self.evictions += 1

    def forget(self) -> None:
        """Drop every entry without touching the host (its stub is gone)."""
        self.mapped.clear()


class DeferredHost(HostAddressSpace):
    """The host of an address space that has not needed a stub yet.

    new_as contexts and VAS views are made without a host process: their
    host mappings are a cache, so everything queued for them may simply be
    dropped, and the stub is started the first time a task runs there
    (``MM.adopt_host``).  Nothing here touches the host.
    """

    loaded_ctx = None
    dead = False

    def map(self, addr, length, prot, offset):
        pass

    def unmap(self, addr, length):
        pass

    def protect(self, addr, length, prot):
        pass

    def _run_batch(self, ops):
        pass

    def release(self):
        self.released = True

    def preempt(self):
        pass
