"""The host mappings of one address space: a bounded cache of its page table.

:class:`HostCache` is the only code that calls ``host.map/unmap/protect``
for an :class:`~umlpy.mm.mm.MM`.  It keeps ``mapped: {vpn: frame | prot}``,
what the stub has mapped (as queued: the platform flushes the queue, in
order, before the guest runs), and ``runs``, the number of maximal runs of
``mapped`` (consecutive pages with the same protection and contiguous
frames).  A run is what one host VMA can hold; the host kernel merges
adjacent compatible VMAs, so ``runs`` is an upper bound of the host VMAs our
mappings make, exact when the host merges everything it can.

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
from umlpy.mm.pagetable import PTE_FRAME, PTE_PROT, host_runs, present

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


def default_budget() -> int:
    """UMLPY_HOST_MAP_BUDGET if set, else the host's max_map_count less a margin."""
    env = os.environ.get(BUDGET_ENV)
    if env:
        return max(int(env), MIN_BUDGET)
    mmc = host_max_map_count()
    return max(mmc - HOST_MARGIN if mmc > 2 * HOST_MARGIN else mmc // 2, MIN_BUDGET)


class HostCache:
    """The host mappings of one mm, at most ``budget`` runs of them."""

    __slots__ = ("host", "budget", "mapped", "runs", "evictions")

    def __init__(self, host: HostAddressSpace, budget: int | None = None):
        self.host = host
        self.budget = default_budget() if budget is None else max(budget, MIN_BUDGET)
        self.mapped: dict[int, int] = {}
        self.runs = 0
        #: How many times everything was evicted (for tests and benchmarks).
        self.evictions = 0

    def __contains__(self, vpn: int) -> bool:
        return vpn in self.mapped

    def _starts(self, lo: int, hi: int) -> int:
        """How many runs start at a page of [lo, hi)."""
        m = self.mapped
        get = m.get
        return sum(1 for v in present(m, lo, hi) if get(v - 1) != m[v] - PAGE_SIZE)

    # --- operations ------------------------------------------------------------
    def map_run(self, vpn: int, value: int, n: int) -> None:
        """Host-map ``n`` pages from ``vpn``: ``value`` (frame | prot) and the frames after it."""
        m = self.mapped
        end = vpn + n
        if vpn not in m and (n == 1 or m.keys().isdisjoint(range(vpn + 1, end))):
            before = 1 if end in m else 0     # its predecessor was not mapped
        else:
            before = self._starts(vpn, end + 1)
        last = value + (n - 1) * PAGE_SIZE
        if n == 1:
            m[vpn] = value
        else:
            m.update(zip(range(vpn, end), range(value, last + 1, PAGE_SIZE)))
        nxt = m.get(end)
        after = (m.get(vpn - 1) != value - PAGE_SIZE) + (nxt is not None and nxt != last + PAGE_SIZE)
        self.runs += after - before
        if self.runs > self.budget:
            self.evict(vpn, end)
            m.update(zip(range(vpn, end), range(value, last + 1, PAGE_SIZE)))
            self.runs = 1
        self.host.map(vpn << PAGE_SHIFT, n << PAGE_SHIFT, value & PTE_PROT, value & PTE_FRAME)

    def map_pages(self, items, bounded: bool = False) -> None:
        """Host-map sorted ``(vpn, frame | prot)`` pairs.

        ``bounded``: map only while there is room, never evict (an eager
        prefill, e.g. a fork child's pages, that refaults can complete).
        """
        for vpn, value, n in host_runs(items):
            if bounded and self.runs + 2 > self.budget:
                return
            self.map_run(vpn, value, n)

    def update(self, items) -> None:
        """Pages of sorted ``(vpn, frame | prot)`` pairs changed; fix those host-mapped.

        Pages not in the cache are left alone (their next fault maps them).
        """
        m = self.mapped
        todo = [(v, x, m[v]) for v, x in items if v in m and m[v] != x]
        if not todo:
            return
        lo, hi = todo[0][0], todo[-1][0] + 1
        before = self._starts(lo, hi + 1)
        for v, x, _ in todo:
            m[v] = x
        self.runs += self._starts(lo, hi + 1) - before
        if self.runs > self.budget:
            self.evict(lo, hi)
            return
        remap = [(v, x) for v, x, old in todo if (x ^ old) & PTE_FRAME]
        host = self.host
        if len(remap) < len(todo):
            # Protection changes: one protect per run of consecutive pages, same prot.
            run = None
            for v, x, old in todo:
                if (x ^ old) & PTE_FRAME:
                    continue
                p = x & PTE_PROT
                if run is not None and run[0] + run[1] == v and run[2] == p:
                    run[1] += 1
                    continue
                if run is not None:
                    host.protect(run[0] << PAGE_SHIFT, run[1] << PAGE_SHIFT, run[2])
                run = [v, 1, p]
            host.protect(run[0] << PAGE_SHIFT, run[1] << PAGE_SHIFT, run[2])
        for v, x, n in host_runs(remap):
            host.map(v << PAGE_SHIFT, n << PAGE_SHIFT, x & PTE_PROT, x & PTE_FRAME)

    def unmap_range(self, lo: int, hi: int) -> None:
        """Host-unmap every cached page of vpns [lo, hi)."""
        m = self.mapped
        vs = present(m, lo, hi)
        if not vs:
            return
        get = m.get
        before = sum(1 for v in vs if get(v - 1) != m[v] - PAGE_SIZE)
        nxt = get(hi)
        if nxt is not None and get(hi - 1) != nxt - PAGE_SIZE:
            before += 1
        for v in vs:
            del m[v]
        self.runs += (nxt is not None) - before
        self.host.unmap(vs[0] << PAGE_SHIFT, (vs[-1] + 1 - vs[0]) << PAGE_SHIFT)
        if self.runs > self.budget:
            self.evict()

    def evict(self, lo: int | None = None, hi: int | None = None) -> None:
        """Unmap everything from the host (and vpns [lo, hi) too, if given)."""
        m = self.mapped
        if m:
            a, b = min(m), max(m) + 1
            if lo is not None:
                a, b = min(a, lo), max(b, hi)
        elif lo is not None:
            a, b = lo, hi
        else:
            return
        self.host.unmap(a << PAGE_SHIFT, (b - a) << PAGE_SHIFT)
        m.clear()
        self.runs = 0
        self.evictions += 1

    def forget(self) -> None:
        """Drop every entry without touching the host (its stub is gone)."""
        self.mapped = {}
        self.runs = 0
