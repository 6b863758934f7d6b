"""remap_file_pages(2) with Giarrusso's per-page protection (DESIGN.md, "remap_file_pages").

:class:`RemapMixin` (part of :class:`~umlpy.mm.mm.MM`) gives pages of a
MAP_SHARED mapping their own object offset (and, with MAP_NOINHERIT, their own
protection, PROT_NONE included) inside one VMA, the way Linux's nonlinear VMAs
did before 3.16: the page table holds each such page's frame (the object's
page at the offset asked for) and protection, and the VMA is marked
``VmFlag.NONLINEAR`` so that nothing drops those ptes (they are the only
record of the offsets).  A page whose offset lies past the object's end gets a
``PTE_BUS`` pte (its offset kept in the frame bits): SIGBUS on access unless
the object has grown to it by then.

No host mapping is made here: the host cache refills on fault, a window at a
time, so a mapping of far more distinct pages than the host's vm.max_map_count
works (its host mappings are a bounded cache of this page table).
"""

import errno

from umlpy.abi.extensions import MAP_NOINHERIT
from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE
from umlpy.errors import SyscallError
from umlpy.mm.pagetable import PTE_BUS, PTE_PROT
from umlpy.mm.vma import VmFlag

_OFF = PAGE_SIZE - 1
_ULONG = 1 << 64


class RemapMixin:
    """remap_file_pages(2) (see the module docstring)."""

    def remap_file_pages(self, start: int, size: int, prot: int, pgoff: int, flags: int) -> None:
        """Map pages [start, start+size) of a MAP_SHARED mapping to its object's pages
        from ``pgoff``; with MAP_NOINHERIT they take protection ``prot`` (else it must be 0)."""
        noinherit = bool(flags & MAP_NOINHERIT)     # other flags are ignored, as Linux does
        if (prot and not noinherit) or prot & ~PTE_PROT:
            raise SyscallError(errno.EINVAL)
        start &= ~_OFF
        size &= ~_OFF
        if start + size <= start or start + size >= _ULONG:
            raise SyscallError(errno.EINVAL)
        npages = size >> PAGE_SHIFT
        if pgoff + npages >= _ULONG:
            raise SyscallError(errno.EINVAL)
        end = start + size
        vmas = self.vmas.overlapping(start, end)
        first = vmas[0] if vmas else None
        if first is None or first.start > start or not first.is_shared or first.shared_obj is None:
            raise SyscallError(errno.EINVAL)
        pos = first.end
        for v in vmas[1:]:       # contiguous mappings of the same object, as Linux allows
            if v.start != pos or v.shared_obj is not first.shared_obj or v.backing is not first.backing:
                raise SyscallError(errno.EINVAL)
            pos = v.end
        if pos < end:
            raise SyscallError(errno.EINVAL)
        so = first.shared_obj
        eof = first.size_pages()
        valid = npages if eof is None else max(0, min(npages, eof - pgoff))
        frames = so.frames_for(pgoff, valid) if valid else []      # OutOfMemory: ENOMEM
        lo, hi = start >> PAGE_SHIFT, end >> PAGE_SHIFT
        pages = self.pages
        pages.remove(lo, hi)
        self.hostcache.unmap_range(lo, hi)
        for v in vmas:
            vlo, vhi = v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT
            p = prot if noinherit else v.prot & PTE_PROT
            i = max(vlo, lo) - lo
            while i < min(vhi, hi) - lo:
                if i >= valid:           # past the object's end: no frame
                    pages.insert(lo + i, min(vhi, hi), ((pgoff + i) << PAGE_SHIFT) | p | PTE_BUS)
                    break
                j = i + 1
                while j < min(valid, vhi - lo, hi - lo) and frames[j] == frames[j - 1] + PAGE_SIZE:
                    j += 1
                pages.insert(lo + i, lo + j, frames[i] | p)
                i = j
            v.flags |= VmFlag.NONLINEAR
