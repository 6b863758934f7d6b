"""remap_file_pages with per-page offsets and protections (MAP_NOINHERIT)."""

import errno

import pytest

from umlpy.abi.extensions import MAP_NOINHERIT
from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.mman import MADV, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED
from umlpy.errors import SyscallError

from .fake import FakeFile, FakeHostAddressSpace

P = PAGE_SIZE


def file_of(npages):
    return FakeFile(b"".join(bytes([i]) * P for i in range(npages)))


def test_nonuniform_offsets_and_protections(mm, frames):
    f = file_of(8)
    a = mm.mmap(0, 64 * P, 3, MAP_SHARED, f, 0, max_prot=3)
    for i in range(64):
        mm.remap_file_pages(a + i * P, P, 1 if i % 2 else 3, (i * 5) % 8, MAP_NOINHERIT)
    assert len(mm.vmas) == 1
    for i in range(64):
        assert mm.read(a + i * P + 100, 1) == bytes([(i * 5) % 8])
    assert mm.page_prot((a >> 12) + 1) == 1 and mm.page_prot(a >> 12) == 3
    assert mm.handle_fault(a + P, 1) == (11, 2)                   # SEGV_ACCERR on a read-only page
    assert mm.handle_fault(a, 1) is None
    with pytest.raises(SyscallError):
        mm.write(a + P, b"x")                                     # the kernel honours it too
    mm.write(a + 2 * P, b"Z")
    assert f.read_at(2 * 5 % 8 * P, 1) == bytes([2])              # not written back yet
    assert mm.read(a + 2 * P, 1) == b"Z" and mm.read(a + 34 * P, 1) == b"Z"   # same file page
    # PROT_NONE pages fault for any access; mprotect resets protection, keeps offsets.
    mm.remap_file_pages(a + 10 * P, P, 0, 7, MAP_NOINHERIT)
    assert mm.handle_fault(a + 10 * P, 0) == (11, 2)
    mm.mprotect(a, 64 * P, 1)
    assert mm.read(a + 10 * P, 1) == b"\7" and mm.page_prot((a >> 12) + 10) == 1
    # DONTNEED keeps them; fork copies them.
    mm.madvise(a, 64 * P, MADV.MADV_DONTNEED)
    child = mm.fork(FakeHostAddressSpace())
    assert child.read(a + 3 * P, 1) == bytes([15 % 8])
    child.release()
    mm.munmap(a, 64 * P)
    assert f.data[2 * 5 % 8 * P] == ord("Z")                     # written back at unmap
    mm.release()
    assert frames.used_pages == 0


def test_errors_and_pages_past_the_end(mm):
    f = file_of(2)
    a = mm.mmap(0, 4 * P, 3, MAP_SHARED, f, 0, max_prot=3)
    priv = mm.mmap(0, P, 3, MAP_PRIVATE | MAP_ANONYMOUS)
    for args in ((priv, P, 0, 0, 0), (a, P, 1, 0, 0), (a, P, 8, 0, MAP_NOINHERIT),
                 (a, 8 * P, 0, 0, 0), (a, 0, 0, 0, 0), (a + 4 * P, P, 0, 0, 0)):
        with pytest.raises(SyscallError) as e:
            mm.remap_file_pages(*args)
        assert e.value.errno == errno.EINVAL, args
    mm.remap_file_pages(a, 2 * P, 0, 1, 0)      # page 0 -> 1, page 1 -> 2 (past the end)
    assert mm.read(a, 1) == b"\1"
    assert mm.handle_fault(a + P, 0) == (7, 2)  # SIGBUS
    with pytest.raises(SyscallError):
        mm.read(a + P, 1)
    f.data += b"\2" * P                          # the file grows: the page is there now
    assert mm.handle_fault(a + P, 0) is None and mm.read(a + P, 1) == b"\2"
    s = mm.mmap(0, 2 * P, 3, MAP_SHARED | MAP_ANONYMOUS)      # shared anonymous: Linux accepts it
    mm.write(s + P, b"s")
    mm.remap_file_pages(s, P, 0, 1, 0)
    assert mm.read(s, 1) == b"s"
