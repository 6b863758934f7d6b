"""Fork and release of an address space.

:class:`LifecycleMixin` (part of :class:`~umlpy.mm.mm.MM`):

- :meth:`fork` makes a copy-on-write child: private present pages get one
  more frame reference and ``PTE_COW`` in both page tables (both lose
  write on their host mappings); shared mappings share their SharedObject
  and refault lazily in the child; MADV_DONTFORK VMAs are left out and
  MADV_WIPEONFORK ones start empty.  The child's host cache is prefilled
  with its pages while its budget has room; the rest refill on fault.
- :meth:`release` frees every frame reference, puts every SharedObject
  (writing back) and gives up the host mappings.
"""

from umlpy.abi.memory import PAGE_SHIFT
from umlpy.platform.base import HostAddressSpace
from umlpy.mm.pagetable import PTE_COW, PTE_FRAME, PTE_WRITE, present, pte_host
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
        pages, frames = self.pages, self.frames
        cpages = child.pages
        ref = frames.ref
        parent_host, child_host = [], []
        for v in self.vmas:
            if v.flags & VmFlag.DONTFORK:
                continue
            child.vmas.insert(v.copy(), merge=False)
            if v.is_shared or v.flags & VmFlag.WIPEONFORK:
                continue
            for x in present(pages, v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT):
                pte = pages[x]
                ref(pte & PTE_FRAME)
                if not pte & PTE_COW:
                    pte |= PTE_COW
                    pages[x] = pte
                    if pte & PTE_WRITE:
                        parent_host.append((x, pte_host(pte)))
                cpages[x] = pte
                child_host.append((x, pte_host(pte)))
        if cpages:
            self.may_cow = child.may_cow = True
        self.hostcache.update(parent_host)
        child.hostcache.map_pages(child_host, bounded=True)
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
        dead = []
        find = self.vmas.find
        for x, pte in self.pages.items():
            v = find(x << PAGE_SHIFT)
            if v is None or not v.is_shared:
                dead.append(pte & PTE_FRAME)
        self.pages = {}
        self.vmas = VmaSet()
        if dead:
            self.frames.unref_many(dead)
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
