"""Guest memory I/O for the kernel."""

import errno

import pytest

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED
from umlpy.errors import SyscallError

from .fake import check_consistent

P = PAGE_SIZE
ANON = MAP_PRIVATE | MAP_ANONYMOUS


def efault(fn, *args):
    with pytest.raises(SyscallError) as e:
        fn(*args)
    assert e.value.errno == errno.EFAULT


def test_roundtrip_and_ints(mm):
    a = mm.mmap(0x400000, 4 * P, 3, ANON | MAP_FIXED)
    mm.write(a + P - 3, b"across pages")
    assert mm.read(a + P - 3, 12) == b"across pages"
    mm.write_u64(a + 8, 0x1122334455667788)
    assert mm.read_u64(a + 8) == 0x1122334455667788
    assert mm.read_u32(a + 8) == 0x55667788
    mm.write_u32(a, 0xFFFFFFFF)
    assert mm.read_i32(a) == -1
    mm.write_struct(a + 16, "<iq", -2, 7)
    assert mm.read_struct(a + 16, "<iq") == (-2, 7)
    check_consistent(mm)


def test_efault_cases(mm):
    a = mm.mmap(0x400000, 2 * P, 3, ANON | MAP_FIXED)
    mm.mmap(0x402000 + P, P, 3, ANON | MAP_FIXED)    # hole at 0x402000
    efault(mm.read, 0x300000, 1)
    efault(mm.read, a + 2 * P - 1, 2)                 # runs into the hole
    efault(mm.write, 0x402000, b"x")
    ro = mm.mmap(0x500000, P, 1, ANON | MAP_FIXED)
    efault(mm.write, ro, b"x")
    none = mm.mmap(0x600000, P, 0, ANON | MAP_FIXED)
    efault(mm.read, none, 1)
    efault(mm.read, 0, 1)
    efault(mm.read_u64, (1 << 47) - 4)
    assert mm.read(a, 0) == b""


def test_read_of_untouched_anon_allocates_nothing(mm, frames):
    a = mm.mmap(0, 1 << 20, 3, ANON)
    assert mm.read(a, 1 << 20) == bytes(1 << 20)
    assert frames.used_pages == 0 and not mm.pages


def test_large_buffer_uses_few_chunks(mm, frames):
    a = mm.mmap(0, 1 << 20, 3, ANON)
    data = bytes(range(256)) * 4096
    mm.write(a + 5, data[:-5])
    assert frames.used_pages == 256
    assert len(mm._chunks(a, 1 << 20, False, False, True)) == 1  # one contiguous frame run
    assert mm.read(a + 5, (1 << 20) - 5) == data[:-5]
    ops = mm.host.take_ops()
    assert len(ops) == 1 and ops[0].length == 1 << 20


def test_poke_and_zero_ignore_protection(mm):
    ro = mm.mmap(0x400000, 2 * P, 1, ANON | MAP_FIXED)
    mm.poke(ro + 10, b"text")
    assert mm.read(ro + 10, 4) == b"text"
    mm.zero(ro + 11, 2)
    assert mm.read(ro + 10, 4) == b"t\0\0t"
    mm.zero(ro + P, P)                       # absent anon page: stays absent
    assert (ro + P) >> 12 not in mm.pages
    efault(mm.poke, 0x300000, b"x")
    check_consistent(mm)


def test_read_cstring(mm):
    a = mm.mmap(0x400000, P, 3, ANON | MAP_FIXED)
    mm.write(a, b"hello\0world")
    assert mm.read_cstring(a) == b"hello"
    # String ends exactly at the end of the mapping: fault only past the NUL.
    mm.write(a + P - 3, b"ab\0")
    assert mm.read_cstring(a + P - 3) == b"ab"
    mm.write(a + P - 2, b"xy")
    efault(mm.read_cstring, a + P - 2)
    mm.write(a + 100, b"z" * 20)
    assert mm.read_cstring(a + 100, maxlen=8) == b"z" * 8


def test_check_range(mm):
    a = mm.mmap(0x400000, 2 * P, 3, ANON | MAP_FIXED)
    mm.mprotect(a + P, P, 1)
    assert mm.check_range(a, 2 * P, 1)
    assert not mm.check_range(a, 2 * P, 2)
    assert not mm.check_range(a, 3 * P, 1)
    assert mm.check_range(a, 0, 2)


def test_shared_anon_write_visible_in_both_mappings(mm):
    a = mm.mmap(0, 2 * P, 3, MAP_SHARED | MAP_ANONYMOUS)
    mm.write(a, b"one")
    assert mm.read(a, 3) == b"one"
    check_consistent(mm)
