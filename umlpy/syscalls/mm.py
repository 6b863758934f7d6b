"""Memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync, mlock.

The address-space work is :class:`umlpy.mm.mm.MM`'s; these handlers decode
arguments and resolve the fd of a file mapping.
"""

import errno

from umlpy.abi.fcntl import O_ACCMODE as _O_ACCMODE
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_TYPE, PROT_EXEC, PROT_READ, PROT_WRITE
from umlpy.errors import SyscallError
from umlpy.fs.mapping import FileMapping

from .table import partial, supported

E = SyscallError


def brk(t, a):
    """Brk implements brk(2): returns the new break, or the old one on failure."""
    return t.mm.sys_brk(a.ptr(0))


def mmap(t, a):
    """Mmap implements mmap(2)."""
    addr, length, prot, flags, fd, off = a.ptr(0), a.size(1), a.int(2), a.int(3), a.fd(4), a.u64(5)
    backing = None
    max_prot = PROT_READ | PROT_WRITE | PROT_EXEC
    if not flags & MAP_ANONYMOUS:
        f = t.files.get(fd)
        mode = f.flags & _O_ACCMODE
        if mode == 1:                     # O_WRONLY
            raise E(errno.EACCES)
        if not hasattr(f, "mapping_source") or (f.fstat().st_mode & 0o170000) != 0o100000:
            raise E(errno.ENODEV)
        backing = FileMapping(t.kernel.page_cache, f)
        if (flags & MAP_TYPE) != 2 and mode != 2:   # shared mapping of a read-only fd
            max_prot &= ~PROT_WRITE
    if off >= 1 << 63:
        raise E(errno.EINVAL)
    return t.mm.mmap(addr, length, prot, flags, backing, off, max_prot=max_prot)


def munmap(t, a):
    t.mm.munmap(a.ptr(0), a.size(1))
    return 0


def mprotect(t, a):
    t.mm.mprotect(a.ptr(0), a.size(1), a.int(2))
    return 0


def mremap(t, a):
    return t.mm.mremap(a.ptr(0), a.size(1), a.size(2), a.int(3), a.ptr(4))


def madvise(t, a):
    t.mm.madvise(a.ptr(0), a.size(1), a.int(2))
    return 0


def msync(t, a):
    t.mm.msync(a.ptr(0), a.size(1), a.int(2))
    return 0


def _check_mapped(t, a):
    addr, length = a.ptr(0), a.size(1)
    if addr % 4096:
        raise E(errno.EINVAL)
    if length and not t.mm.check_range(addr & ~4095, (length + 4095) & ~4095, 0):
        raise E(errno.ENOMEM)
    return 0


def mlock_all(t, a):
    return 0


#: Pages of mincore's vector computed and copied out per step (bounds the buffers).
MINCORE_CHUNK = 1 << 20


def mincore(t, a):
    """Mincore implements mincore(2): one byte per page, 1 when present.

    Costs per extent of the page table and per byte of the vector, in steps of
    MINCORE_CHUNK pages, so that a huge range costs what writing its vector
    costs (a 256 GiB range: a 64 MiB vector), never a Python loop per page.
    """
    addr, length, vec = a.ptr(0), a.size(1), a.ptr(2)
    if addr % 4096:
        raise E(errno.EINVAL)
    n = (length + 4095) // 4096
    mm = t.mm
    if not mm.check_range(addr, n * 4096, 0):
        raise E(errno.ENOMEM)
    vpn = addr >> 12
    for i in range(0, n, MINCORE_CHUNK):
        k = min(MINCORE_CHUNK, n - i)
        mm.write(vec + i, mm.residency(vpn + i, k))
    return 0


def remap_file_pages(t, a):
    """remap_file_pages(2), with MAP_NOINHERIT per-page protection (umlpy.mm.remap)."""
    t.mm.remap_file_pages(a.ptr(0), a.size(1), a.int(2), a.u64(3), a.int(4))
    return 0


FAMILY = [
    supported("brk", brk), supported("mmap", mmap), supported("munmap", munmap),
    supported("mprotect", mprotect), supported("mremap", mremap),
    partial("madvise", madvise, "DONTNEED/FREE drop private pages; other advice is accepted"),
    partial("msync", msync, "writes back shared file pages"),
    partial("mlock", _check_mapped, "nothing is ever swapped"), partial("munlock", _check_mapped, "no-op"),
    partial("mlockall", mlock_all, "no-op"), partial("munlockall", mlock_all, "no-op"),
    supported("mincore", mincore),
    supported("remap_file_pages", remap_file_pages,
              "nonlinear mappings kept in one VMA; MAP_NOINHERIT gives pages their own protection"),
]
