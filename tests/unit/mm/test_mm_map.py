"""mmap, munmap, mprotect, brk, mremap, madvise, msync: semantics and errnos."""

import errno

import pytest

from umlpy.abi.memory import MMAP_BASE, PAGE_SIZE, TASK_SIZE
from umlpy.abi.mman import (MADV, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN,
                            MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE,
                            MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, MS_ASYNC, MS_SYNC)
from umlpy.errors import SyscallError

from .fake import FakeFile, check_consistent

P = PAGE_SIZE
ANON = MAP_PRIVATE | MAP_ANONYMOUS
RW, RO = 3, 1


def errno_of(fn, *args, **kw):
    with pytest.raises(SyscallError) as e:
        fn(*args, **kw)
    return e.value.errno


def spans(mm):
    return [(v.start, v.end, v.prot) for v in mm.vmas]


# --- mmap ---------------------------------------------------------------
def test_mmap_is_lazy_and_top_down(mm, frames):
    a = mm.mmap(0, 1 << 30, RW, ANON)
    assert a == MMAP_BASE - (1 << 30)
    b = mm.mmap(0, 3 * P + 1, RW, ANON)
    assert b == a - 4 * P
    assert frames.used_pages == 0 and not mm.pages
    assert mm.total_vm == (1 << 30) // P + 4
    assert mm.host.take_ops() == []


def test_mmap_errnos(mm):
    assert errno_of(mm.mmap, 0, 0, RW, ANON) == errno.EINVAL
    assert errno_of(mm.mmap, 0, P, RW, MAP_ANONYMOUS) == errno.EINVAL          # no type
    assert errno_of(mm.mmap, 0, P, RW, ANON, offset=5) == errno.EINVAL
    assert errno_of(mm.mmap, 0x100001, P, RW, ANON | MAP_FIXED) == errno.EINVAL
    assert errno_of(mm.mmap, 0, TASK_SIZE + P, RW, ANON) == errno.ENOMEM
    assert errno_of(mm.mmap, TASK_SIZE - P, 2 * P, RW, ANON | MAP_FIXED) == errno.ENOMEM
    assert errno_of(mm.mmap, 0x1000, P, RW, ANON | MAP_FIXED) == errno.EPERM
    assert errno_of(mm.mmap, 0, P, RW, MAP_PRIVATE) == errno.EBADF
    assert errno_of(mm.mmap, 0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x8000000) == errno.EOPNOTSUPP
    f = FakeFile(b"x" * 10)
    assert errno_of(mm.mmap, 0, P, RW, MAP_SHARED, f, max_prot=5) == errno.EACCES


def test_mmap_hint_fixed_noreplace(mm):
    a = mm.mmap(0x200000, 2 * P, RW, ANON)
    assert a == 0x200000
    assert mm.mmap(0x200000, P, RW, ANON) != 0x200000   # taken: placed elsewhere
    assert mm.mmap(0x300001, P, RW, ANON) == 0x301000   # hint rounded up
    assert errno_of(mm.mmap, 0x201000, 2 * P, RW, ANON | MAP_FIXED_NOREPLACE) == errno.EEXIST
    assert mm.mmap(0x202000, P, RO, ANON | MAP_FIXED_NOREPLACE) == 0x202000
    mm.write(0x200000, b"old")
    assert mm.mmap(0x200000, P, RO, ANON | MAP_FIXED) == 0x200000
    assert mm.read(0x200000, 3) == bytes(3)             # replaced: fresh zero page
    check_consistent(mm)


def test_map_populate(mm, frames):
    a = mm.mmap(0, 8 * P, RW, ANON | MAP_POPULATE)
    assert frames.used_pages == 8
    ops = mm.host.take_ops()
    assert [(o.op, o.addr, o.length) for o in ops] == [("map", a, 8 * P)]


def test_map_count_limit(mm):
    # Linux do_mmap refuses only once the count is already above the limit.
    mm.max_map_count = 3
    for i in range(4):
        mm.mmap(0, P, i % 2 + 1, ANON)
    assert len(mm.vmas) == 4
    assert errno_of(mm.mmap, 0, P, 2, ANON) == errno.ENOMEM


# --- munmap -------------------------------------------------------------
def test_munmap_splits_and_frees(mm, frames):
    a = mm.mmap(0, 8 * P, RW, ANON)
    mm.write(a, bytes(range(256)) * 128)  # 8 pages
    assert frames.used_pages == 8
    mm.munmap(a + 2 * P, 3 * P)
    assert frames.used_pages == 5
    assert spans(mm) == [(a, a + 2 * P, RW), (a + 5 * P, a + 8 * P, RW)]
    assert errno_of(mm.read, a + 2 * P, 1) == errno.EFAULT
    mm.munmap(a + 2 * P, 3 * P)  # a hole: fine
    check_consistent(mm)
    assert errno_of(mm.munmap, a + 1, P) == errno.EINVAL
    assert errno_of(mm.munmap, a, 0) == errno.EINVAL
    assert errno_of(mm.munmap, TASK_SIZE - P, 2 * P) == errno.EINVAL


# --- mprotect -----------------------------------------------------------
def test_mprotect_split_merge_and_host(mm):
    a = mm.mmap(0, 4 * P, RW, ANON)
    mm.write(a, b"x" * 4 * P)
    mm.host.take_ops()
    mm.mprotect(a + P, 2 * P, RO)
    assert spans(mm) == [(a, a + P, RW), (a + P, a + 3 * P, RO), (a + 3 * P, a + 4 * P, RW)]
    ops = mm.host.take_ops()
    assert [(o.op, o.addr, o.length, o.prot) for o in ops] == [("protect", a + P, 2 * P, RO)]
    assert errno_of(mm.write, a + P, b"y") == errno.EFAULT
    mm.mprotect(a, 4 * P, RW)
    assert spans(mm) == [(a, a + 4 * P, RW)]  # merged back
    check_consistent(mm)


def test_mprotect_errnos(mm):
    a = mm.mmap(0, 4 * P, RW, ANON)
    mm.munmap(a + P, P)
    assert errno_of(mm.mprotect, a, 4 * P, RO) == errno.ENOMEM  # hole
    assert spans(mm)[0][2] == RW                                # nothing changed
    assert errno_of(mm.mprotect, a + 1, P, RO) == errno.EINVAL
    assert errno_of(mm.mprotect, a, P, 0x80) == errno.EINVAL
    mm.mprotect(a, 0, RO)  # zero length: nothing
    assert errno_of(mm.mprotect, 0x100000, P, RO) == errno.ENOMEM
    f = FakeFile(b"x" * P)
    b = mm.mmap(0, P, RO, MAP_SHARED, f, max_prot=5)
    assert errno_of(mm.mprotect, b, P, RW) == errno.EACCES


# --- brk ----------------------------------------------------------------
def test_brk(mm, frames):
    mm.set_brk(0x601234)
    assert mm.sys_brk(0) == 0x601234
    assert mm.sys_brk(0x601300) == 0x601300                  # same page: no VMA
    assert not list(mm.vmas)
    assert mm.sys_brk(0x605000) == 0x605000
    assert spans(mm) == [(0x602000, 0x605000, RW)]
    assert mm.find_vma(0x602000).name == "[heap]"
    assert mm.sys_brk(0x608000) == 0x608000                  # grows: one VMA
    assert spans(mm) == [(0x602000, 0x608000, RW)]
    mm.write(0x607000, b"heap")
    assert frames.used_pages >= 1
    assert mm.sys_brk(0x603000) == 0x603000                  # shrink frees
    assert frames.used_pages == 0
    assert mm.sys_brk(0x608000) == 0x608000
    assert mm.read(0x607000, 4) == bytes(4)                  # fresh zero again
    assert mm.sys_brk(0x500000) == 0x608000                  # below start: fails
    mm.mmap(0x700000, P, RW, ANON | MAP_FIXED)
    assert mm.sys_brk(0x700000) == 0x608000                  # would hit a mapping
    assert mm.sys_brk(0x6ff001) == 0x608000                  # no guard page left
    assert mm.sys_brk(0x6ff000) == 0x6ff000


# --- mremap -------------------------------------------------------------
def test_mremap_grow_in_place_and_shrink(mm):
    a = mm.mmap(0x400000, 2 * P, RW, ANON)
    assert mm.mremap(a, 2 * P, 4 * P, 0) == a
    assert spans(mm) == [(a, a + 4 * P, RW)]
    assert mm.mremap(a, 4 * P, P, 0) == a
    assert spans(mm) == [(a, a + P, RW)]
    mm.mmap(a + 2 * P, P, RW, ANON | MAP_FIXED)
    assert errno_of(mm.mremap, a, P, 3 * P, 0) == errno.ENOMEM  # no room, may not move


def test_mremap_move_keeps_frames(mm, frames):
    a = mm.mmap(0x400000, 2 * P, RW, ANON)
    mm.mmap(a + 2 * P, P, RO, ANON | MAP_FIXED)
    mm.write(a, b"A" * P + b"B" * P)
    before = {v: mm.frame_of(v) for v in mm.pages}
    used = frames.used_pages
    b = mm.mremap(a, 2 * P, 8 * P, MREMAP_MAYMOVE)
    assert b != a
    assert frames.used_pages == used                      # no copy
    moved = sorted(mm.frame_of((b >> 12) + i) for i in range(2))
    assert moved == sorted(before[(a >> 12) + i] for i in range(2))
    assert mm.read(b, 2) == b"AA" and mm.read(b + P, 1) == b"B"
    assert mm.find_vma(a) is None
    assert mm.read(b + 7 * P, 1) == b"\0"
    check_consistent(mm)


def test_mremap_fixed_and_dontunmap(mm):
    a = mm.mmap(0x400000, 2 * P, RW, ANON)
    mm.write(a, b"hi")
    assert mm.mremap(a, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x800000) == 0x800000
    assert mm.read(0x800000, 2) == b"hi"
    assert mm.find_vma(a) is None
    c = mm.mremap(0x800000, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)
    assert mm.read(c, 2) == b"hi"
    assert mm.read(0x800000, 2) == bytes(2)  # still mapped, pages gone
    check_consistent(mm)


def test_mremap_errnos(mm):
    a = mm.mmap(0x400000, 2 * P, RW, ANON)
    assert errno_of(mm.mremap, a, P, 2 * P, 0x10) == errno.EINVAL
    assert errno_of(mm.mremap, a, P, 2 * P, MREMAP_FIXED, 0x800000) == errno.EINVAL
    assert errno_of(mm.mremap, a + 1, P, 2 * P, 0) == errno.EINVAL
    assert errno_of(mm.mremap, a, P, 0, 0) == errno.EINVAL
    assert errno_of(mm.mremap, 0x900000, P, 2 * P, MREMAP_MAYMOVE) == errno.EFAULT
    assert errno_of(mm.mremap, a, 3 * P, 4 * P, MREMAP_MAYMOVE) == errno.EFAULT
    assert errno_of(mm.mremap, a, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, a + P) == errno.EINVAL
    assert errno_of(mm.mremap, a, 0, P, MREMAP_MAYMOVE) == errno.EINVAL  # private: no dup


def test_mremap_dup_shared(mm):
    a = mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS)
    mm.write(a, b"shared")
    b = mm.mremap(a, 0, P, MREMAP_MAYMOVE)
    assert b != a and mm.read(b, 6) == b"shared"
    mm.write(b, b"S")
    assert mm.read(a, 1) == b"S"


# --- madvise / msync ----------------------------------------------------
def test_madvise_dontneed(mm, frames):
    a = mm.mmap(0, 4 * P, RW, ANON)
    mm.write(a, b"z" * 4 * P)
    mm.madvise(a, 2 * P, MADV.MADV_DONTNEED)
    assert frames.used_pages == 2
    assert mm.read(a, 2 * P) == bytes(2 * P)
    assert mm.read(a + 2 * P, 1) == b"z"
    assert len(mm.vmas) == 1
    check_consistent(mm)
    mm.madvise(a, P, MADV.MADV_NORMAL)
    assert errno_of(mm.madvise, a, P, 77) == errno.EINVAL
    assert errno_of(mm.madvise, a + 1, P, MADV.MADV_NORMAL) == errno.EINVAL
    assert errno_of(mm.madvise, a, 8 * P, MADV.MADV_NORMAL) == errno.ENOMEM
    mm.madvise(a, 0, MADV.MADV_DONTNEED)


def test_madvise_remove_shared(mm):
    a = mm.mmap(0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS)
    mm.write(a, b"q" * 2 * P)
    mm.madvise(a, P, MADV.MADV_REMOVE)
    assert mm.read(a, 1) == b"\0" and mm.read(a + P, 1) == b"q"
    b = mm.mmap(0, P, RW, ANON)
    assert errno_of(mm.madvise, b, P, MADV.MADV_REMOVE) == errno.EACCES


def test_msync_errnos(mm):
    a = mm.mmap(0, P, RW, ANON)
    mm.msync(a, P, MS_SYNC)
    assert errno_of(mm.msync, a, P, MS_SYNC | MS_ASYNC) == errno.EINVAL
    assert errno_of(mm.msync, a + 1, P, MS_SYNC) == errno.EINVAL
    assert errno_of(mm.msync, a, 4 * P, MS_SYNC) == errno.ENOMEM


# --- /proc/pid/maps -----------------------------------------------------
def test_maps_text(mm):
    f = FakeFile(b"\x7fELF" + bytes(3 * P), name="/bin/prog", ino=1234, dev=(8, 2))
    mm.mmap(0x400000, P, 5, MAP_PRIVATE | MAP_FIXED, f, 0)
    mm.mmap(0x401000, P, 1, MAP_PRIVATE | MAP_FIXED, f, P)
    mm.mmap(0x500000, P, RW, ANON | MAP_FIXED)
    mm.mmap(0x7ffde000000, 2 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN, name="[stack]")
    lines = mm.maps_text().splitlines()
    assert lines[0] == "00400000-00401000 r-xp 00000000 08:02 1234" + " " * 30 + " /bin/prog"
    assert lines[0].index("/") == 73
    assert lines[1].startswith("00401000-00402000 r--p 00001000 08:02 1234 ")
    assert lines[2] == "00500000-00501000 rw-p 00000000 00:00 0 "
    assert lines[3] == "7ffde000000-7ffde002000 rw-p 00000000 00:00 0".ljust(72) + " [stack]"


# --- vm.max_map_count, as Linux's split_vma / do_mmap / mremap ------------
def test_mprotect_split_at_the_limit(mm):
    a = mm.mmap(0x10000000, 8 * P, RW, ANON | MAP_FIXED)
    mm.mmap(0x400000, P, RW, ANON | MAP_FIXED)
    mm.max_map_count = n = len(mm.vmas)
    # A middle page needs a split: refused, nothing changed.
    assert errno_of(mm.mprotect, a + 2 * P, P, RO) == errno.ENOMEM
    assert len(mm.vmas) == n and mm.find_vma(a + 2 * P).prot == RW
    # The whole VMA, or a protection it already has: no split, allowed.
    mm.mprotect(a, 8 * P, RW)
    mm.mprotect(a, 8 * P, RO)
    assert mm.find_vma(a).prot == RO and len(mm.vmas) == n
    check_consistent(mm)


def test_mprotect_second_split_fails_keeping_the_first(mm):
    a = mm.mmap(0x10000000, 8 * P, RW, ANON | MAP_FIXED)
    mm.max_map_count = len(mm.vmas) + 1
    assert errno_of(mm.mprotect, a + 2 * P, P, RO) == errno.ENOMEM
    # Linux: the split at the start stays, the protection did not change.
    assert spans(mm) == [(a, a + 2 * P, RW), (a + 2 * P, a + 8 * P, RW)]


def test_mprotect_merging_into_neighbour_needs_no_split(mm):
    a = mm.mmap(0x10000000, 2 * P, RO, ANON | MAP_FIXED)
    mm.mmap(a + 2 * P, 6 * P, RW, ANON | MAP_FIXED)
    mm.max_map_count = len(mm.vmas)
    mm.mprotect(a + 2 * P, P, RO)              # joins the read-only VMA before it
    assert spans(mm) == [(a, a + 3 * P, RO), (a + 3 * P, a + 8 * P, RW)]


def test_munmap_and_map_fixed_in_the_middle_at_the_limit(mm):
    a = mm.mmap(0x10000000, 8 * P, RW, ANON | MAP_FIXED)
    mm.max_map_count = len(mm.vmas)
    assert errno_of(mm.munmap, a + 2 * P, P) == errno.ENOMEM
    assert errno_of(mm.mmap, a + 2 * P, P, RO, ANON | MAP_FIXED) == errno.ENOMEM
    mm.munmap(a + 6 * P, 2 * P)                # at an edge: no new VMA
    assert spans(mm)[-1] == (a, a + 6 * P, RW)


def test_madvise_dontfork_split_at_the_limit(mm):
    a = mm.mmap(0x10000000, 8 * P, RW, ANON | MAP_FIXED)
    mm.max_map_count = len(mm.vmas)
    assert errno_of(mm.madvise, a + 2 * P, P, MADV.MADV_DONTFORK) == errno.ENOMEM
    mm.madvise(a + 2 * P, P, MADV.MADV_DONTNEED)   # zaps pages only: no split
    mm.madvise(a, 8 * P, MADV.MADV_DONTFORK)
    assert len(mm.vmas) == mm.max_map_count


def test_mremap_move_near_the_limit(mm):
    a = mm.mmap(0x10000000, 2 * P, RW, ANON | MAP_FIXED)
    mm.mmap(a + 2 * P, P, RO, ANON | MAP_FIXED)           # no room to grow in place
    mm.max_map_count = len(mm.vmas) + 3
    assert errno_of(mm.mremap, a, 2 * P, 4 * P, MREMAP_MAYMOVE) == errno.ENOMEM
    assert errno_of(mm.mremap, a, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000000) \
        == errno.ENOMEM
    mm.max_map_count = len(mm.vmas) + 6
    assert mm.mremap(a, 2 * P, 4 * P, MREMAP_MAYMOVE) != a


def test_mremap_maymove_next_to_its_own_source(mm, frames):
    """Growing with MREMAP_MAYMOVE where the free gap found lies right below the source:
    the new VMA may merge with what is around it, so the source goes first (this was an
    internal AssertionError, EIO for the guest)."""
    top = 0x7f0000000000
    a = mm.mmap(top - 4 * P, 4 * P, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
    mm.mmap(top, P, 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)      # blocks in-place growth
    mm.write(a, b"abcd")
    mm.mmap_base = top                                                  # next gap: right below a
    b = mm.mremap(a, 4 * P, 8 * P, MREMAP_MAYMOVE)
    assert b != a and mm.read(b, 4) == b"abcd"
    assert mm.find_vma(a + 4 * P - 1) is None or mm.find_vma(a + 4 * P - 1).start <= b
    assert mm.vmas.covers(b, b + 8 * P)
    check_consistent(mm)
    mm.release()
    assert frames.used_pages == 0


def test_shared_anon_grown_past_its_object_gives_sigbus(mm):
    a = mm.mmap(0, 2 * P, 3, MAP_SHARED | MAP_ANONYMOUS)
    b = mm.mremap(a, 2 * P, 4 * P, MREMAP_MAYMOVE)
    assert mm.handle_fault(b + P, 1) is None
    assert mm.handle_fault(b + 2 * P, 1) == (7, 2)          # SIGBUS, BUS_ADRERR
    with pytest.raises(SyscallError):
        mm.write(b + 3 * P, b"x")
