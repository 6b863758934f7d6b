import errno

import pytest

from umlpy.abi.memory import PAGE_SIZE
from umlpy.mm.frames import FrameAllocator, OutOfMemory
from umlpy.errors import SyscallError


def test_alloc_contiguous_and_refcounts(frames):
    runs = frames.alloc(16)
    assert len(runs) == 1 and runs[0][1] == 16
    off = runs[0][0]
    assert frames.used_pages == 16
    assert frames.refcount(off) == 1
    assert frames.ref(off) == 2
    assert frames.unref(off) == 1
    assert frames.used_pages == 16


def test_freed_frames_read_zero_and_are_reused(frames, physmem):
    off = frames.alloc_one()
    physmem.write(off, b"dirty")
    frames.unref(off)
    assert frames.used_pages == 0
    assert frames.refcount(off) == 0
    off2 = frames.alloc_one()
    assert off2 == off  # the bump pointer went back down
    assert physmem.read(off2, 5) == bytes(5)


def test_unref_many_coalesces_and_zeroes(frames, physmem):
    (a, _), = frames.alloc(8)
    (b, _), = frames.alloc(1)  # keeps the first run below the bump pointer
    for i in range(8):
        physmem.write(a + i * PAGE_SIZE, b"x")
    frames.unref_many([a + i * PAGE_SIZE for i in (3, 1, 0, 2, 5, 4, 7, 6)])
    assert frames.free_runs() == [(a, 8)]
    assert physmem.read(a, 8 * PAGE_SIZE) == bytes(8 * PAGE_SIZE)
    assert frames.used_pages == 1


def test_limit_and_fragmented_alloc(physmem):
    fa = FrameAllocator(physmem, limit_pages=10)
    total = fa.total_pages
    # Fill the whole file so that only holes remain.
    fa2 = FrameAllocator(physmem)
    runs = fa2.alloc(total)
    assert runs == [(0, total)]
    with pytest.raises(OutOfMemory) as e:
        fa2.alloc(1)
    assert isinstance(e.value, SyscallError) and e.value.errno == errno.ENOMEM
    # Free every other frame of the first 8: a request of 4 gets 4 runs.
    fa2.unref_many([i * 2 * PAGE_SIZE for i in range(4)])
    got = fa2.alloc(4)
    assert sorted(got) == [(i * 2 * PAGE_SIZE, 1) for i in range(4)]
    with pytest.raises(SyscallError):
        fa.alloc(11)
    fa.alloc(10)
    with pytest.raises(OutOfMemory):
        fa.alloc(1)


def test_first_fit_in_free_runs(physmem):
    fa = FrameAllocator(physmem)
    fa.alloc(fa.total_pages - 8)
    (tail, _), = fa.alloc(8)
    fa.unref_many([tail + i * PAGE_SIZE for i in range(8)])  # returns to bump area
    (x, n), = fa.alloc(8)
    assert (x, n) == (tail, 8)
