"""Page faults: making pages present, copy-on-write, refilling the host cache.

:class:`FaultMixin` (part of :class:`~umlpy.mm.mm.MM`) owns the transitions
of the page table that come from accesses: a page becomes present
(:meth:`_populate`, with fault-around: an aligned window of
``FAULT_AROUND_PAGES`` made present together), a COW page gets a frame of its
own (:meth:`_break_cow`), a present page that the host cache evicted is
host-mapped again (:meth:`_refill`), and a MAP_GROWSDOWN stack grows.

Invariant kept: every page made present or changed here is given to the host
cache with its pte's frame and effective protection.
"""

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
from umlpy.abi.signal import BusCode, SEGV_ACCERR, SEGV_MAPERR, Sig
from umlpy.mm.frames import OutOfMemory
from umlpy.mm.pagetable import (PTE_COW, PTE_FRAME, PTE_PGOFF_SHIFT, PTE_PROT, PTE_WRITE,
                                consecutive_runs, pte_host)
from umlpy.mm.vma import Vma, VmFlag

#: Pages made present (or refilled) together by one fault: an aligned window of this size.
FAULT_AROUND_PAGES = 16
#: Linux's stack_guard_gap: room kept free below a growsdown VMA that expands.
STACK_GUARD_GAP = 256 << PAGE_SHIFT

_OFF = PAGE_SIZE - 1
_SIGSEGV, _SIGBUS, _SIGKILL = int(Sig.SIGSEGV), int(Sig.SIGBUS), int(Sig.SIGKILL)
_MAPERR, _ACCERR, _BUS_ADRERR = int(SEGV_MAPERR), int(SEGV_ACCERR), int(BusCode.BUS_ADRERR)
_W = PTE_WRITE


class FaultMixin:
    """Faults and the page-table transitions they cause (see the module docstring)."""

    def handle_fault(self, addr: int, is_write: int) -> tuple[int, int] | None:
        """Resolve a guest page fault at ``addr``; None means resume the guest.

        Otherwise returns ``(signo, si_code)`` to deliver: (SIGSEGV,
        SEGV_MAPERR) outside any VMA, (SIGSEGV, SEGV_ACCERR) for an access the
        page's protection forbids, (SIGBUS, BUS_ADRERR) for a file page wholly
        past EOF, (SIGKILL, 0) when frames ran out.  ``is_write`` is 1, 0 or
        -1 (unknown: treated as a write where that makes the fault resolvable).
        """
        if not MMAP_MIN_ADDR <= addr < TASK_SIZE:
            return (_SIGSEGV, _MAPERR)
        vpn = addr >> PAGE_SHIFT
        pte = self.pages.get(vpn)
        try:
            if pte is None:
                vma = self.vmas.find(addr)
                if vma is None:
                    vma = self._expand_stack(addr)
                    if vma is None:
                        return (_SIGSEGV, _MAPERR)
                prot = vma.prot & PTE_PROT
                if not prot or (is_write == 1 and not prot & _W):
                    return (_SIGSEGV, _ACCERR)
                if (vma.backing is not None
                        and vma.pgoff_at(addr) >= (vma.backing.size + _OFF) >> PAGE_SHIFT):
                    return (_SIGBUS, _BUS_ADRERR)
                lo = max(vpn & ~(FAULT_AROUND_PAGES - 1), vma.start >> PAGE_SHIFT)
                hi = min((vpn | (FAULT_AROUND_PAGES - 1)) + 1, vma.end >> PAGE_SHIFT)
                try:
                    self._populate(vma, lo, hi)
                except OutOfMemory:
                    self._populate(vma, vpn, vpn + 1)
                return None
            prot = pte & PTE_PROT
            if not prot or (is_write == 1 and not prot & _W):
                return (_SIGSEGV, _ACCERR)
            cow_write = pte & PTE_COW and prot & _W and is_write != 0
            if vpn not in self.hostcache.mapped:
                # Present but evicted from the host: a refill, not a new page.
                if cow_write and is_write == 1:
                    self._break_cow([vpn])
                self._refill(vpn)
                return None
            if cow_write:
                self._break_cow([vpn])
                return None
        except OutOfMemory:
            return (_SIGKILL, 0)
        # Present and host-mapped with its own protection: e.g. executing a non-exec page.
        return (_SIGSEGV, _ACCERR)

    def _refill(self, vpn: int) -> None:
        """Host-map the present, unmapped pages of ``vpn``'s fault-around window."""
        pages, cache = self.pages, self.hostcache
        mapped = cache.mapped
        lo = vpn & ~(FAULT_AROUND_PAGES - 1)
        items = [(x, pte_host(pages[x])) for x in range(lo, lo + FAULT_AROUND_PAGES)
                 if x in pages and x not in mapped]
        if cache.runs + len(items) + 1 > cache.budget:
            cache.evict()
        cache.map_pages(items)

    def _expand_stack(self, addr: int) -> Vma | None:
        """Grow a MAP_GROWSDOWN VMA down to cover ``addr``, as a stack fault does."""
        nxt = self.vmas.next_after(addr)
        if nxt is None or not nxt.flags & VmFlag.GROWSDOWN:
            return None
        new_start = addr & ~_OFF
        if nxt.end - new_start > self.stack_limit:
            return None
        prev = self.vmas.prev_before(addr)
        if prev is not None and prev.end > new_start - STACK_GUARD_GAP:
            return None
        self.vmas.rekey(nxt, new_start)
        return nxt

    def _populate(self, vma: Vma, lo: int, hi: int) -> None:
        """Make the absent pages of vpns [lo, hi) of ``vma`` present and host-mapped.

        Pages wholly past the end of a backing file are left absent.
        Raises OutOfMemory.
        """
        if vma.backing is not None:
            eof_pages = (vma.backing.size + _OFF) >> PAGE_SHIFT
            hi = min(hi, (vma.start >> PAGE_SHIFT) + eof_pages - vma.pgoff)
        pages = self.pages
        missing = [x for x in range(lo, hi) if x not in pages]
        if not missing:
            return
        prot = vma.prot & PTE_PROT
        base = vma.start >> PAGE_SHIFT
        pgoff0 = vma.pgoff - base if vma.backing is not None or vma.is_shared else None
        cache = self.hostcache
        if cache.runs + len(missing) + 1 > cache.budget:
            cache.evict()
        if vma.is_shared:
            so = vma.shared_obj
            host = []
            for run in consecutive_runs(missing):
                for x, f in zip(run, so.frames_for(pgoff0 + run[0], len(run))):
                    pages[x] = ((pgoff0 + x) << PTE_PGOFF_SHIFT) | f | prot
                    host.append((x, f | prot))
            cache.map_pages(host)
            return
        runs = self.frames.alloc(len(missing))
        assign = []
        it = iter(missing)
        for off, n in runs:
            for i in range(n):
                assign.append((next(it), off + (i << PAGE_SHIFT)))
        if vma.backing is not None:
            try:
                self._fill_from_file(vma, assign)
            except BaseException:
                self.frames.unref_many([f for _, f in assign])
                raise
            for x, f in assign:
                pages[x] = ((pgoff0 + x) << PTE_PGOFF_SHIFT) | f | prot
        else:
            for x, f in assign:
                pages[x] = f | prot
        if len(runs) == 1 and len(missing) == missing[-1] - missing[0] + 1:
            cache.map_run(missing[0], runs[0][0] | prot, len(missing))
        else:
            cache.map_pages([(x, f | prot) for x, f in assign])

    def _fill_from_file(self, vma, assign):
        """Copy file content into fresh private frames, one read per contiguous group."""
        base = vma.start >> PAGE_SHIFT
        i, n = 0, len(assign)
        while i < n:
            x0, f0 = assign[i]
            j = i + 1
            while j < n and assign[j][0] == x0 + (j - i) and assign[j][1] == f0 + ((j - i) << PAGE_SHIFT):
                j += 1
            data = vma.backing.read_at((vma.pgoff + x0 - base) << PAGE_SHIFT, (j - i) << PAGE_SHIFT)
            if data:
                self.physmem.write(f0, data[:(j - i) << PAGE_SHIFT])
            i = j

    def _break_cow(self, vpns: list[int]) -> None:
        """Give each COW page of sorted ``vpns`` (present, private) a frame of its own.

        A frame still shared is copied; one whose other sharers went away is
        simply kept.  Either way the page loses ``PTE_COW`` (and so regains
        write if its protection has it).  Raises OutOfMemory.
        """
        frames, pages = self.frames, self.pages
        copy = [x for x in vpns if frames.refcount(pages[x] & PTE_FRAME) > 1]
        if copy:
            runs = frames.alloc(len(copy))
            it = iter(copy)
            old = []
            for off, n in runs:
                for i in range(n):
                    x = next(it)
                    f = off + (i << PAGE_SHIFT)
                    pte = pages[x]
                    self.physmem.copy(f, pte & PTE_FRAME, PAGE_SIZE)
                    old.append(pte & PTE_FRAME)
                    pages[x] = (pte & ~PTE_FRAME) | f
            frames.unref_many(old)
        items = []
        for x in vpns:
            pte = pages[x] & ~PTE_COW
            pages[x] = pte
            items.append((x, pte_host(pte)))
        self.hostcache.update(items)
