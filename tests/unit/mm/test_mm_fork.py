"""fork: copy-on-write, shared mappings, release."""

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.mman import MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED

from .fake import FakeHostAddressSpace, check_consistent

P = PAGE_SIZE
ANON = MAP_PRIVATE | MAP_ANONYMOUS


def test_cow_after_fork(mm, frames):
    a = mm.mmap(0x400000, 4 * P, 3, ANON | MAP_FIXED)
    mm.write(a, b"parent" + bytes(4 * P - 6))
    mm.host.take_ops()
    child = mm.fork(FakeHostAddressSpace())
    assert frames.used_pages == 4
    f = mm.frame_of(a >> 12)
    assert frames.refcount(f) == 2 and child.frame_of(a >> 12) == f
    # Parent lost write on its host mappings; child got read-only maps.
    assert [(o.op, o.length, o.prot) for o in mm.host.take_ops()] == [("protect", 4 * P, 1)]
    assert [(o.op, o.length, o.prot) for o in child.host.take_ops()] == [("map", 4 * P, 1)]
    check_consistent(mm)
    check_consistent(child)
    # Guest write fault in the child copies the frames of its fault-around window
    # (the VMA's 4 pages): one fault per window, not per page.
    assert child.handle_fault(a + 1, 1) is None
    child.write(a, b"CHILD!")
    assert mm.read(a, 6) == b"parent"
    assert child.read(a, 6) == b"CHILD!"
    assert frames.refcount(f) == 1 and frames.used_pages == 8
    # Parent's pages are now its own: the write fault only remaps them writable.
    assert mm.handle_fault(a, 1) is None
    assert mm.frame_of(a >> 12) == f
    assert [(o.op, o.length, o.prot) for o in mm.host.take_ops()] == [("protect", 4 * P, 3)]
    check_consistent(mm)
    check_consistent(child)
    child.release()
    assert child.host.release_count == 1
    assert frames.used_pages == 4
    assert all(frames.refcount(x) == 1 for x in map(mm.frame_of, mm.pages))
    mm.release()
    assert frames.used_pages == 0


def test_cow_readonly_vma_then_mprotect(mm, frames):
    a = mm.mmap(0x400000, P, 1, ANON | MAP_FIXED)
    mm.poke(a, b"r")
    child = mm.fork(FakeHostAddressSpace())
    child.mprotect(a, P, 3)
    child.write(a, b"w")
    assert mm.read(a, 1) == b"r"
    check_consistent(child)


def test_shared_anon_visible_across_fork(mm, frames):
    a = mm.mmap(0, 2 * P, 3, MAP_SHARED | MAP_ANONYMOUS)
    mm.write(a, b"before")
    child = mm.fork(FakeHostAddressSpace())
    child.write(a, b"child!")
    assert mm.read(a, 6) == b"child!"
    mm.write(a + P, b"parent")
    assert child.read(a + P, 6) == b"parent"
    used = frames.used_pages
    mm.release()
    assert frames.used_pages == used   # the child still maps them
    child.release()
    assert frames.used_pages == 0


def test_dontfork_and_wipeonfork(mm):
    a = mm.mmap(0x400000, P, 3, ANON | MAP_FIXED)
    b = mm.mmap(0x500000, P, 3, ANON | MAP_FIXED)
    mm.write(a, b"a")
    mm.write(b, b"b")
    mm.madvise(a, P, MADV.MADV_DONTFORK)
    mm.madvise(b, P, MADV.MADV_WIPEONFORK)
    child = mm.fork(FakeHostAddressSpace())
    assert child.find_vma(a) is None
    assert child.read(b, 1) == b"\0"
    assert mm.read(b, 1) == b"b"


def test_release_not_owning_host(frames):
    from umlpy.mm.mm import MM
    host = FakeHostAddressSpace()
    mm = MM(frames, host, owns_host=False)
    a = mm.mmap(0x400000, P, 3, ANON | MAP_FIXED)
    mm.write(a, b"x")
    mm.release()
    host.flush()
    assert host.release_count == 0 and host.mapped == {}
    assert frames.used_pages == 0
    mm.release()  # idempotent


def test_fork_of_a_large_region_costs_per_run(mm, frames):
    """A 48 MiB region touched in order is one extent: fork, COW and exit of the child
    are per run (one host op each side, one refcount run), never per page."""
    n = 12288
    a = mm.mmap(0x10000000, n * P, 3, ANON | MAP_FIXED)
    mm.zero(a, 1)                                    # make it present (one populate)
    mm.madvise(a, n * P, MADV.MADV_POPULATE_WRITE)
    assert mm.pages.units == n and len(mm.pages) == 1
    mm.host.take_ops()
    child = mm.fork(FakeHostAddressSpace())
    assert [(o.op, o.length, o.prot) for o in mm.host.take_ops()] == [("protect", n * P, 1)]
    assert [(o.op, o.length, o.prot) for o in child.host.take_ops()] == [("map", n * P, 1)]
    assert len(child.pages) == 1 and len(frames._refs) == 1
    assert frames.refcount(mm.frame_of(a >> 12)) == 2 and frames.used_pages == n
    # Parent and child write alternate windows: each fault unshares one window.
    for i in range(0, 64, 32):
        assert child.handle_fault(a + i * P, 1) is None
        assert mm.handle_fault(a + (i + 16) * P, 1) is None
    assert frames.used_pages == n + 4 * 16
    child.write(a, b"c")
    mm.write(a + 16 * P, b"p")
    assert mm.read(a, 1) == b"\0" and child.read(a + 16 * P, 1) == b"\0"
    check_consistent(mm)
    check_consistent(child)
    child.release()
    # The child's copies went, and so did the originals of the parent's copied windows.
    assert frames.used_pages == n
    assert all(frames.refcount(mm.frame_of(x)) == 1 for x in range(a >> 12, (a >> 12) + n, 97))
    # A write anywhere now finds the frames alone: no copy.
    assert mm.handle_fault(a + 5000 * P, 1) is None
    assert frames.used_pages == n
    mm.release()
    assert frames.used_pages == 0 and not frames._refs


def test_fork_keeps_shared_pages_present_in_the_child(mm, frames):
    a = mm.mmap(0, 64 * P, 3, MAP_SHARED | MAP_ANONYMOUS)
    mm.write(a, bytes(64 * P))
    child = mm.fork(FakeHostAddressSpace())
    assert child.pages.units == 64 and len(child.pages) == 1
    check_consistent(child)
    child.write(a + 63 * P, b"s")
    assert mm.read(a + 63 * P, 1) == b"s"
    child.release()
    mm.release()
    assert frames.used_pages == 0
