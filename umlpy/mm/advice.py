"""Advice and write-back: madvise(2) and msync(2).

:class:`AdviceMixin` (part of :class:`~umlpy.mm.mm.MM`): DONTNEED/FREE drop
private pages (the next touch reads zero or the file again), REMOVE zeroes
shared ones for every mapper, DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK change
VMA flags (splitting VMAs, under the max_map_count limit of
:mod:`umlpy.mm.mmap`), POPULATE_READ/WRITE and WILLNEED make pages present;
any other known advice is a hint we may ignore.  msync writes shared file
pages back.
"""

import errno

from umlpy.abi import mman as _mman
from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE, TASK_SIZE, page_align_up
from umlpy.abi.mman import MADV
from umlpy.errors import SyscallError
from umlpy.mm.frames import OutOfMemory
from umlpy.mm.pagetable import PTE_BUS, PTE_PROT, PTE_WRITE
from umlpy.mm.vma import Vma, VmFlag

MS_ASYNC, MS_INVALIDATE, MS_SYNC = int(_mman.MS_ASYNC), int(_mman.MS_INVALIDATE), int(_mman.MS_SYNC)
_W = PTE_WRITE
_OFF = PAGE_SIZE - 1
_KNOWN_ADVICE = {int(a) for a in MADV}


def _err(e):
    return SyscallError(e)


class AdviceMixin:
    """madvise(2) and msync(2) (see the module docstring)."""

    def madvise(self, addr: int, length: int, advice: int) -> None:
        """Madvise implements madvise(2) (DONTNEED/FREE drop pages; REMOVE zeroes shared ones)."""
        if addr & _OFF or length < 0 or advice not in _KNOWN_ADVICE:
            raise _err(errno.EINVAL)
        if advice in (MADV.MADV_HWPOISON, MADV.MADV_SOFT_OFFLINE):
            raise _err(errno.EPERM)
        end = addr + page_align_up(length)
        if end == addr:
            return
        if end > TASK_SIZE:
            raise _err(errno.ENOMEM)
        hole = not self.vmas.covers(addr, end)
        vmas = self.vmas.overlapping(addr, end)
        if advice in (MADV.MADV_DONTNEED, MADV.MADV_DONTNEED_LOCKED, MADV.MADV_FREE):
            if advice == MADV.MADV_FREE and any(v.is_shared or not v.is_anon for v in vmas):
                raise _err(errno.EINVAL)
            # Linux zaps the pages without touching the VMAs: no split, no limit.  Pages
            # remapped by remap_file_pages keep their offsets (shared: nothing to drop).
            self._drop_pages([Vma(max(v.start, addr), min(v.end, end), v.prot, v.flags)
                              for v in vmas if not v.flags & VmFlag.NONLINEAR])
        elif advice == MADV.MADV_REMOVE:
            for v in vmas:
                if not v.is_shared or not v.prot & _W:
                    raise _err(errno.EACCES)
            for v in vmas:
                lo, hi = max(v.start, addr), min(v.end, end)
                v.shared_obj.zero_pages(v.pgoff_at(lo), (hi - lo) >> PAGE_SHIFT)
        elif advice in (MADV.MADV_DONTFORK, MADV.MADV_DOFORK, MADV.MADV_WIPEONFORK,
                        MADV.MADV_KEEPONFORK):
            if advice == MADV.MADV_WIPEONFORK and any(v.is_shared or not v.is_anon for v in vmas):
                raise _err(errno.EINVAL)
            flag = VmFlag.DONTFORK if advice in (MADV.MADV_DONTFORK, MADV.MADV_DOFORK) else VmFlag.WIPEONFORK
            on = advice in (MADV.MADV_DONTFORK, MADV.MADV_WIPEONFORK)
            for v in vmas:
                s, e = max(v.start, addr), min(v.end, end)
                self._change_range(s, e, None, (v.flags | flag) if on else (v.flags & ~flag))
        elif advice in (MADV.MADV_POPULATE_READ, MADV.MADV_POPULATE_WRITE, MADV.MADV_WILLNEED):
            write = advice == MADV.MADV_POPULATE_WRITE
            for v in vmas:
                if advice != MADV.MADV_WILLNEED and not (v.prot & (_W if write else PTE_PROT)):
                    raise _err(errno.EFAULT)
                lo, hi = max(v.start, addr), min(v.end, end)
                try:
                    self._populate(v, lo >> PAGE_SHIFT, hi >> PAGE_SHIFT)
                    if write and not v.is_shared and self.may_cow:
                        self._break_cow(lo >> PAGE_SHIFT, hi >> PAGE_SHIFT)
                except OutOfMemory:
                    if advice != MADV.MADV_WILLNEED:
                        raise
        # Everything else is a hint we may ignore.
        if hole:
            raise _err(errno.ENOMEM)

    def residency(self, vpn: int, npages: int) -> bytearray:
        """mincore's vector for vpns [vpn, vpn+npages): 1 for a present page, else 0.

        Costs per extent of the page table (plus the vector itself).
        """
        vec = bytearray(npages)
        for s, e, pte in self.pages.items(vpn, vpn + npages):
            if not pte & PTE_BUS:
                vec[s - vpn:e - vpn] = b"\1" * (e - s)
        return vec

    def msync(self, addr: int, length: int, flags: int) -> None:
        """Msync implements msync(2): writes shared file pages back."""
        if addr & _OFF or flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) or length < 0:
            raise _err(errno.EINVAL)
        if flags & MS_ASYNC and flags & MS_SYNC:
            raise _err(errno.EINVAL)
        end = addr + page_align_up(length)
        if end == addr:
            return
        for v in self.vmas.overlapping(addr, end):
            if v.shared_obj is not None:
                lo, hi = max(v.start, addr), min(v.end, end)
                v.shared_obj.sync(v.pgoff_at(lo), (hi - lo) >> PAGE_SHIFT)
        if not self.vmas.covers(addr, end):
            raise _err(errno.ENOMEM)
