"""File-backed mappings, private and shared."""

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.mman import MAP_FIXED, MAP_PRIVATE, MAP_SHARED, MS_SYNC
from umlpy.errors import SyscallError

import pytest

from .fake import FakeFile, FakeHostAddressSpace, check_consistent

P = PAGE_SIZE


def test_private_file_content_and_zero_tail(mm):
    data = bytes(range(256)) * 24 + b"END"     # 6147 bytes: 2 pages, partial second
    f = FakeFile(data)
    a = mm.mmap(0x400000, 4 * P, 3, MAP_PRIVATE | MAP_FIXED, f, 0)
    assert mm.read(a, len(data)) == data
    assert mm.read(a + len(data), 2 * P - len(data)) == bytes(2 * P - len(data))
    # A page wholly past EOF: SIGBUS for the guest, EFAULT for the kernel.
    assert mm.handle_fault(a + 2 * P, 0) == (7, 2)
    with pytest.raises(SyscallError):
        mm.read(a + 2 * P, 1)
    # Private writes never reach the file.
    mm.write(a, b"XX")
    assert f.data[:2] == data[:2]
    check_consistent(mm)


def test_private_file_offset(mm):
    f = FakeFile(b"A" * P + b"B" * P)
    a = mm.mmap(0, P, 1, MAP_PRIVATE, f, P)
    assert mm.read(a, 3) == b"BBB"
    assert mm.handle_fault(a, 0) == (11, 2)   # present already (read above), not exec


def test_shared_file_writeback_and_sharing(mm, frames):
    f = FakeFile(b"a" * (P + 100))
    a = mm.mmap(0, 2 * P, 3, MAP_SHARED, f, 0)
    other = type(mm)(frames, FakeHostAddressSpace())
    b = other.mmap(0, 2 * P, 1, MAP_SHARED, f, 0)
    mm.write(a + P, b"hello")
    assert other.read(b + P, 5) == b"hello"  # one page cache
    mm.msync(a, 2 * P, MS_SYNC)
    assert f.data[P:P + 5] == b"hello" and len(f.data) == P + 100
    mm.write(a, b"Z")
    mm.munmap(a, 2 * P)
    assert f.data[0:1] == b"Z"
    other.release()
    assert frames.used_pages == 0
    # A new mapping gets a new page cache with the file's content.
    c = mm.mmap(0, P, 1, MAP_SHARED, f, 0)
    assert mm.read(c, 1) == b"Z"
