"""Page faults: lazy allocation, fault-around, classification, OOM, stack growth."""

import time

from umlpy.abi.memory import PAGE_SIZE, TASK_SIZE
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE
from umlpy.mm.frames import FrameAllocator
from umlpy.mm.mm import FAULT_AROUND_PAGES, MM

from .fake import FakeHostAddressSpace, check_consistent

P = PAGE_SIZE
ANON = MAP_PRIVATE | MAP_ANONYMOUS
SEGV_MAPERR, SEGV_ACCERR = (11, 1), (11, 2)


def test_fault_around_maps_one_run(mm, frames):
    a = mm.mmap(0x400000, 64 * P, 3, ANON | MAP_FIXED)
    assert mm.handle_fault(a + 20 * P + 8, 1) is None
    assert frames.used_pages == FAULT_AROUND_PAGES
    assert set(mm.pages) == {(a >> 12) + i for i in range(16, 32)}
    ops = mm.host.take_ops()
    assert len(ops) == 1
    assert (ops[0].op, ops[0].addr, ops[0].length, ops[0].prot) == ("map", a + 16 * P, 16 * P, 3)
    check_consistent(mm)


def test_fault_around_clipped_to_vma(mm, frames):
    mm.mmap(0x403000, 2 * P, 3, ANON | MAP_FIXED)
    assert mm.handle_fault(0x404000, 0) is None
    assert frames.used_pages == 2
    assert mm.read(0x403000, 2 * P) == bytes(2 * P)


def test_big_mapping_touch_few_pages_is_cheap(mm, frames):
    a = mm.mmap(0, 1 << 30, 3, ANON)
    t = time.perf_counter()
    for i in range(10):
        assert mm.handle_fault(a + i * (64 << 20), 1) is None
    mm.munmap(a, 1 << 30)
    assert time.perf_counter() - t < 0.05
    assert frames.used_pages == 0


def test_fault_classification(mm):
    assert mm.handle_fault(0x500000, 0) == SEGV_MAPERR
    assert mm.handle_fault(0, 0) == SEGV_MAPERR
    assert mm.handle_fault(TASK_SIZE + 5, 1) == SEGV_MAPERR
    none = mm.mmap(0x500000, P, 0, ANON | MAP_FIXED)
    assert mm.handle_fault(none, 0) == SEGV_ACCERR
    ro = mm.mmap(0x600000, P, 1, ANON | MAP_FIXED)
    assert mm.handle_fault(ro, 1) == SEGV_ACCERR
    assert mm.handle_fault(ro, 0) is None
    # Present and readable, yet faulting: e.g. an instruction fetch from a non-exec page.
    assert mm.handle_fault(ro, 0) == SEGV_ACCERR
    assert mm.handle_fault(ro, -1) == SEGV_ACCERR


def test_oom_kills(physmem):
    frames = FrameAllocator(physmem, limit_pages=20)
    mm = MM(frames, FakeHostAddressSpace())
    a = mm.mmap(0x400000, 64 * P, 3, ANON | MAP_FIXED)
    assert mm.handle_fault(a, 1) is None          # 16 pages
    assert mm.handle_fault(a + 16 * P, 1) is None  # window fails, single page fits
    assert frames.used_pages == 17
    for i in range(3):
        assert mm.handle_fault(a + (32 + 16 * (i % 2) + i) * P, 1) is None
    assert frames.used_pages == 20
    assert mm.handle_fault(a + 63 * P, 1) == (9, 0)
    check_consistent(mm)


def test_growsdown_stack_expands(mm):
    top = 0x7000000000
    mm.mmap(top - 4 * P, 4 * P, 3, ANON | MAP_FIXED | MAP_GROWSDOWN)
    assert mm.handle_fault(top - 6 * P + 8, 1) is None
    assert mm.find_vma(top - 6 * P).start == top - 6 * P
    assert mm.handle_fault(top - (9 << 20), 1) == SEGV_MAPERR  # beyond RLIMIT_STACK
    mm.mmap(top - 7 * P - (1 << 20), P, 3, ANON | MAP_FIXED)
    assert mm.handle_fault(top - 8 * P, 1) == SEGV_MAPERR      # guard gap
