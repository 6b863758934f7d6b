"""The host cache: bounded host mappings, eviction and refill on fault."""

import random

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE
from umlpy.mm.hostcache import MIN_BUDGET, HostCache
from umlpy.mm.mm import MM

from .fake import FakeHostAddressSpace, check_consistent

P = PAGE_SIZE
ANON = MAP_PRIVATE | MAP_ANONYMOUS
BASE = 0x400000


class CountingHost(FakeHostAddressSpace):
    """A fake host that checks the number of host mappings after every operation."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.peak = 0

    def _run_batch(self, ops):
        for op in ops:
            super()._run_batch([op])
            self.peak = max(self.peak, self.runs())
            assert self.peak <= self.limit, (op, self.peak)


def guest_access(mm, addr, write):
    """What the MMU and the kernel do for one guest access: fault until host-mapped enough."""
    need = 2 if write else 1
    for _ in range(3):
        mm.host.flush()
        m = mm.host.mapped.get(addr >> 12)
        if m is not None and m[0] & need:
            return
        assert mm.handle_fault(addr, 1 if write else 0) is None
    raise AssertionError("no progress at %#x" % addr)


def striped_mm(frames, budget, npages=2000):
    """An mm with ``npages`` present pages of alternating protection: one run per page."""
    host = CountingHost(budget)
    mm = MM(frames, host, host_budget=budget)
    a = mm.mmap(BASE, npages * P, 3, ANON | MAP_FIXED)
    for i in range(npages):
        mm.write(a + i * P, i.to_bytes(4, "little"))
    for i in range(0, npages, 2):
        mm.mprotect(a + i * P, P, 1)
    host.flush()
    return mm, host, a


def test_budget_floor_and_default():
    assert HostCache(FakeHostAddressSpace(), 5).budget == MIN_BUDGET
    assert HostCache(FakeHostAddressSpace()).budget >= MIN_BUDGET


def test_budget_from_env(monkeypatch):
    monkeypatch.setenv("UMLPY_HOST_MAP_BUDGET", "300")
    assert HostCache(FakeHostAddressSpace()).budget == 300


def test_budget_from_frame_allocator(frames):
    frames.host_map_budget = 200
    assert MM(frames, FakeHostAddressSpace()).hostcache.budget == 200


def test_eviction_keeps_the_host_within_budget(frames):
    mm, host, a = striped_mm(frames, 128)
    assert mm.pages.units == 2000                       # the page table keeps everything
    assert mm.hostcache.evictions > 0
    assert len(host.mapped) < 2000 and host.peak <= 128
    check_consistent(mm, exact=False)


def test_fault_on_evicted_page_refills_and_resumes(frames):
    mm, host, a = striped_mm(frames, 128)
    vpn = next(v for v in mm.pages if v not in host.mapped)
    used = frames.used_pages
    assert mm.handle_fault(vpn << 12, 0) is None
    host.flush()
    assert vpn in host.mapped and frames.used_pages == used   # a refill allocates nothing
    # The refill maps the present pages of its fault-around window.
    lo = vpn & ~15
    assert all(v in host.mapped for v in range(lo, lo + 16) if v in mm.pages)
    check_consistent(mm, exact=False)


def test_refill_keeps_protection_checks(frames):
    mm, host, a = striped_mm(frames, 128)
    ro = next(v for v in mm.pages if v not in host.mapped and mm.page_prot(v) == 1)
    assert mm.handle_fault(ro << 12, 1) == (11, 2)            # write to a read-only page
    assert ro not in host.mapped
    assert mm.handle_fault(ro << 12, 0) is None


def test_random_faults_never_exceed_budget(frames):
    mm, host, a = striped_mm(frames, 128)
    rng = random.Random(7)
    for _ in range(3000):
        i = rng.randrange(2000)
        guest_access(mm, a + i * P, i % 2 == 1 and rng.random() < 0.3)  # odd pages: writable
    assert host.peak <= 128 and mm.hostcache.evictions > 10
    for i in range(2000):
        assert mm.read(a + i * P, 4) == i.to_bytes(4, "little")
    check_consistent(mm, exact=False)


def test_cow_after_fork_with_tiny_budget(frames):
    mm, host, a = striped_mm(frames, 128, npages=600)
    child = mm.fork(CountingHost(128))
    chost = child.host
    rng = random.Random(3)
    for _ in range(2000):
        i = rng.randrange(300) * 2 + 1                # the writable pages
        vaddr = a + i * P
        guest_access(child, vaddr, True)
        f = child.frame_of(vaddr >> 12)
        child.physmem.write(f + 8, b"c")              # the guest's store, through its mapping
        guest_access(mm, a + rng.randrange(600) * P, False)
    assert chost.peak <= 128 and host.peak <= 128
    for i in range(600):
        assert mm.read(a + i * P, 4) == i.to_bytes(4, "little")
        assert mm.read(a + i * P + 8, 1) == b"\0"
        assert child.read(a + i * P, 4) == i.to_bytes(4, "little")
    check_consistent(mm, exact=False)
    check_consistent(child, exact=False)
    child.release()
    mm.release()
    assert frames.used_pages == 0


def test_unmap_and_release_forget_cached_pages(frames):
    mm, host, a = striped_mm(frames, 128, npages=100)
    mm.munmap(a, 50 * P)
    host.flush()
    assert not any(v < (a >> 12) + 50 for v in host.mapped)
    check_consistent(mm, exact=False)
    mm.release()
    assert not mm.hostcache.mapped and mm.hostcache.runs == 0


def test_untouched_munmap_issues_no_host_op(mm):
    a = mm.mmap(0, 64 * P, 3, ANON)
    mm.munmap(a, 64 * P)
    assert mm.host.take_ops() == []
