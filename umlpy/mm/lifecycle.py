"""Fork and release of an address space.

:class:`LifecycleMixin` (part of :class:`~umlpy.mm.mm.MM`):

- :meth:`fork` makes a copy-on-write child: the child gets a copy of the
  page table's extents; private extents take one more reference to their
  frames (a run at a time) and get ``PTE_COW`` in both page tables (the
  parent's host mappings lose write, one host mprotect per run); shared
  extents are copied as they are (their frames belong to the SharedObject);
  MADV_DONTFORK VMAs are left out and MADV_WIPEONFORK ones start empty.  The
  child's host cache is prefilled with its extents while its budget has room
  (one host mmap per run; the host maps them lazily); the rest refill on fault.
- :meth:`release` drops every frame reference (a run at a time), puts every
  SharedObject (writing back) and gives up the host mappings.

Both cost per VMA and per extent, never per page: a 256 MiB parent touched
in order forks as fast as an 8 MiB one.
"""

from umlpy.abi.memory import PAGE_SHIFT
from umlpy.platform.base import HostAddressSpace
from umlpy.mm.pagetable import PTE_COW, PTE_FRAME, PTE_PROT, PTE_WRITE, host_items
from umlpy.mm.pagetable import PageTable
from umlpy.mm.vma import VmaSet, VmFlag


class LifecycleMixin:
    """fork and release (see the module docstring)."""

    def fork(self, new_host: HostAddressSpace, owns_host: bool = True):
        """A copy-on-write copy of this address space realised by ``new_host``."""
        child = type(self)(self.frames, new_host, owns_host, self.mmap_base,
                           host_budget=self.hostcache.budget)
        child.start_brk, child.brk = self.start_brk, self.brk
        child.stack_limit, child.max_map_count = self.stack_limit, self.max_map_count
        child.ldt = dict(self.ldt)
        pages, cpages = self.pages, child.pages
        ref_range = self.frames.ref_range
        cache = self.hostcache
        child_host = []
        for v in self.vmas:
            if v.flags & VmFlag.DONTFORK:
                continue
            child.vmas.insert(v.copy(), merge=False)
            if v.flags & VmFlag.WIPEONFORK:
                continue
            lo, hi = v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT
            items = pages.items(lo, hi)
            if not items:
                continue
            if v.is_shared:
                for s, e, pte in items:
                    cpages.insert(s, e, pte)
                child_host += host_items(items)
                continue
            for s, e, pte in items:
                ref_range(pte & PTE_FRAME, e - s)
                cpages.insert(s, e, pte | PTE_COW)
            pages.apply(lo, hi, _set_cow)
            child_host += host_items([(s, e, pte | PTE_COW) for s, e, pte in items])
            if v.prot & PTE_WRITE:
                cache.protect(lo, hi, v.prot & PTE_PROT & ~PTE_WRITE)
            self.may_cow = child.may_cow = True
        child.hostcache.map_extents(child_host, bounded=True)
        return child

    def release(self) -> None:
        """Free every frame, drop SharedObject references (writing back) and the host.

        The host address space is released if this MM owns it, else every
        mapping is unmapped from it.  Idempotent.
        """
        if self.released:
            return
        self.released = True
        vmas = list(self.vmas)
        pages, unref_range = self.pages, self.frames.unref_range
        for v in vmas:
            if not v.is_shared:
                for s, e, pte in pages.items(v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT):
                    unref_range(pte & PTE_FRAME, e - s)
        self.pages = PageTable()
        self.vmas = VmaSet()
        for v in vmas:
            if v.shared_obj is not None:
                v.shared_obj.put()
        if self.unpriv_view is not None:
            self.unpriv_view.release()
            self.unpriv_view = None
        if self.owns_host:
            self.host.release()
            self.hostcache.forget()
        else:
            self.hostcache.evict()


def _set_cow(pte):
    return pte | PTE_COW
