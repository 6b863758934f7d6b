"""The unprivileged view of an address space (UMLPY_PROT_UNPRIV, DESIGN.md "Later additions").

``unprivilege()`` with ``mm_fd == -1`` runs a register set in the caller's own
address space "where only specially marked mappings are available": the
VMAs whose mmap/mprotect protection carried ``UMLPY_PROT_UNPRIV``
(VmFlag.UNPRIV).  An :class:`UnprivView` realises that view in a host
address space of its own: a second cache of the *same* page table, holding
only pages of marked VMAs, so the two sides see the same memory.

The view is resynchronised each time an unprivileged run starts
(:meth:`UnprivView.sync`: everything evicted, the marked present pages
mapped again), so the caller's own changes in between need no tracking.  A
fault inside the view is resolved in the mm (demand paging, copy-on-write)
when the page belongs to a marked VMA, and is the caller's fault to handle
otherwise.
"""

from umlpy.abi.memory import PAGE_SHIFT
from umlpy.abi.signal import SEGV_ACCERR, SEGV_MAPERR, Sig

from .fault import FAULT_AROUND_PAGES
from .hostcache import HostCache
from .pagetable import PTE_COW, PTE_PROT, PTE_WRITE, host_items
from .vma import VmFlag

_SIGSEGV, _MAPERR, _ACCERR = int(Sig.SIGSEGV), int(SEGV_MAPERR), int(SEGV_ACCERR)
_UNPRIV = VmFlag.UNPRIV


class UnprivView:
    """The UMLPY_PROT_UNPRIV mappings of ``mm``, host-mapped in ``host``."""

    __slots__ = ("mm", "host", "cache")

    def __init__(self, mm, host):
        self.mm = mm
        self.host = host
        self.cache = HostCache(host, mm.hostcache.budget)

    def sync(self) -> None:
        """Map exactly the present pages of the marked VMAs (run before each unprivileged run)."""
        cache, pages = self.cache, self.mm.pages
        cache.evict()
        items = []
        for v in self.mm.vmas:
            if v.flags & _UNPRIV:
                items += host_items(pages.items(v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT))
        cache.map_extents(items)

    def handle_fault(self, addr: int, is_write: int):
        """None when the access is now possible in the view, else (signo, si_code) for the caller."""
        mm = self.mm
        v = mm.find_vma(addr)
        if v is None or not v.flags & _UNPRIV:
            return (_SIGSEGV, _MAPERR)      # invisible in unprivileged mode
        prot = v.prot & PTE_PROT
        if not prot or (is_write == 1 and not prot & PTE_WRITE):
            return (_SIGSEGV, _ACCERR)
        vpn = addr >> PAGE_SHIFT
        pte = mm.pages.get(vpn)
        if pte is None or (pte & PTE_COW and prot & PTE_WRITE and is_write != 0):
            res = mm.handle_fault(addr, 1 if pte is not None else is_write)
            if res is not None:
                return res
        elif vpn in self.cache:
            return (_SIGSEGV, _ACCERR)      # mapped with its own protection: a real violation
        # Map (again) the window's present pages of this VMA, with the mm's current frames.
        lo = max(vpn & ~(FAULT_AROUND_PAGES - 1), v.start >> PAGE_SHIFT)
        hi = min(lo + FAULT_AROUND_PAGES, v.end >> PAGE_SHIFT)
        pages = mm.pages
        self.cache.unmap_range(lo, hi)
        self.cache.map_extents(host_items(pages.items(lo, hi)))
        return None

    def release(self) -> None:
        self.host.release()
        self.cache.forget()
