"""Page faults: making pages present, copy-on-write, refilling the host cache.

:class:`FaultMixin` (part of :class:`~umlpy.mm.mm.MM`) owns the transitions
of the page table that come from accesses: a page becomes present
(:meth:`_populate`, with fault-around: an aligned window of
``FAULT_AROUND_PAGES`` made present together), a COW page gets a frame of its
own (:meth:`_break_cow`, for the whole fault-around window, so that a
process writing a region it shares after fork takes one fault per window, not
per page), a present page that the host cache evicted is host-mapped again
(:meth:`_refill`), and a MAP_GROWSDOWN stack grows.  Work is done per extent
of the page table, and populating a range is bounded by the free frames (a
huge MAP_POPULATE or MADV_WILLNEED stops where memory ends, costing no more
than the memory it could fill).

Invariant kept: every page made present or changed here is given to the host
cache with its pte's frame and effective protection.
"""

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
from umlpy.abi.signal import BusCode, SEGV_ACCERR, SEGV_MAPERR, Sig
from umlpy.mm.frames import OutOfMemory
from umlpy.mm.pagetable import PTE_BUS, PTE_COW, PTE_FRAME, PTE_PROT, PTE_WRITE, host_items
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
                if (vma.backing is not None or vma.shared_obj is not None):
                    eof = vma.size_pages()
                    if eof is not None and vma.pgoff_at(addr) >= eof:
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
            if pte & PTE_BUS:
                return self._fault_past_end(vpn, pte)
            cow_write = pte & PTE_COW and prot & _W and is_write != 0
            if vpn not in self.hostcache:
                # Present but evicted from the host: a refill, not a new page.
                if cow_write and is_write == 1:
                    self._break_cow_fault(vpn)
                self._refill(vpn)
                return None
            if cow_write:
                self._break_cow_fault(vpn)
                return None
        except OutOfMemory:
            return (_SIGKILL, 0)
        # Present and host-mapped with its own protection: e.g. executing a non-exec page.
        return (_SIGSEGV, _ACCERR)

    def _fault_past_end(self, vpn: int, pte: int):
        """A remapped page past its object's end: SIGBUS, unless the object grew to it."""
        v = self.vmas.find(vpn << PAGE_SHIFT)
        pgoff = (pte & PTE_FRAME) >> PAGE_SHIFT
        eof = v.size_pages()
        if eof is not None and pgoff >= eof:
            return (_SIGBUS, _BUS_ADRERR)
        f = v.shared_obj.frame(pgoff)
        new = f | (pte & PTE_PROT)
        self.pages.assign(vpn, vpn + 1, new)
        self.hostcache.map_run(vpn, new, 1)
        return None

    def _refill(self, vpn: int) -> None:
        """Host-map the present pages of ``vpn``'s fault-around window."""
        cache = self.hostcache
        lo = vpn & ~(FAULT_AROUND_PAGES - 1)
        items = host_items(self.pages.items(lo, lo + FAULT_AROUND_PAGES))
        if cache.runs + len(items) + 1 > cache.budget:
            cache.evict()
        cache.map_extents(items)

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

    #: The most pages one step of a large populate handles (bounds its lists).
    POPULATE_CHUNK = 1 << 14

    def _populate(self, vma: Vma, lo: int, hi: int) -> None:
        """Make the absent pages of vpns [lo, hi) of ``vma`` present and host-mapped.

        Pages wholly past the end of a backing file are left absent.  A range
        larger than the free frames raises OutOfMemory before any work
        proportional to its size.  Raises OutOfMemory.
        """
        if (vma.backing is not None or vma.shared_obj is not None):
            eof = vma.size_pages()
            if eof is not None:
                hi = min(hi, (vma.start >> PAGE_SHIFT) + eof - vma.pgoff)
        if lo >= hi:
            return
        gaps = self.pages.gaps(lo, hi)
        if not gaps:
            return
        need = sum(e - s for s, e in gaps)
        if vma.is_shared:
            # Frames of the object may exist already (other mappers): only a bound.
            if need > self.POPULATE_CHUNK and not vma.shared_obj.may_fit(
                    vma.pgoff_at(gaps[0][0] << PAGE_SHIFT), need, self.frames.available()):
                raise OutOfMemory()
        elif need > self.frames.available():
            raise OutOfMemory()
        chunk = self.POPULATE_CHUNK
        for s, e in gaps:
            for a in range(s, e, chunk):
                self._populate_gap(vma, a, min(a + chunk, e))

    def _populate_gap(self, vma: Vma, lo: int, hi: int) -> None:
        """Make the absent vpns [lo, hi) of ``vma`` present (the caller found them absent)."""
        prot = vma.prot & PTE_PROT
        pages, cache = self.pages, self.hostcache
        n = hi - lo
        if cache.runs + 2 > cache.budget:
            cache.evict()
        if vma.is_shared:
            frames = vma.shared_obj.frames_for(vma.pgoff_at(lo << PAGE_SHIFT), n)
            i = 0
            while i < n:
                j = i + 1
                while j < n and frames[j] == frames[j - 1] + PAGE_SIZE:
                    j += 1
                pages.insert(lo + i, lo + j, frames[i] | prot)
                cache.map_run(lo + i, frames[i] | prot, j - i)
                i = j
            return
        runs = self.frames.alloc(n)
        if vma.backing is not None:
            try:
                self._fill_from_file(vma, lo, runs)
            except BaseException:
                for off, k in runs:
                    self.frames.unref_range(off, k)
                raise
        x = lo
        for off, k in runs:
            pages.insert(x, x + k, off | prot)
            cache.map_run(x, off | prot, k)
            x += k

    def _fill_from_file(self, vma, lo, runs):
        """Copy file content into fresh private frames, one read per run."""
        x = lo
        for off, k in runs:
            data = vma.backing.read_at(vma.pgoff_at(x << PAGE_SHIFT) << PAGE_SHIFT, k << PAGE_SHIFT)
            if data:
                self.physmem.write(off, data[:k << PAGE_SHIFT])
            x += k

    def _break_cow_fault(self, vpn: int) -> None:
        """A write fault on COW page ``vpn``: unshare its fault-around window
        (the present COW pages of its VMA there), or the page alone when
        frames are short.  Raises OutOfMemory."""
        v = self.vmas.find(vpn << PAGE_SHIFT)
        lo = max(vpn & ~(FAULT_AROUND_PAGES - 1), v.start >> PAGE_SHIFT)
        hi = min((vpn | (FAULT_AROUND_PAGES - 1)) + 1, v.end >> PAGE_SHIFT)
        try:
            self._break_cow(lo, hi)
        except OutOfMemory:
            self._break_cow(vpn, vpn + 1)

    def _break_cow(self, lo: int, hi: int) -> None:
        """Give each present COW page of vpns [lo, hi) (private) a frame of its own.

        A frame still shared is copied; one whose other sharers went away is
        simply kept.  Either way the page loses ``PTE_COW`` (and so regains
        write if its protection has it).  Raises OutOfMemory (changing nothing).
        """
        frames, pages, physmem = self.frames, self.pages, self.physmem
        cow = [(s, e, v) for s, e, v in pages.items(lo, hi) if v & PTE_COW]
        if not cow:
            return
        refcount = frames.refcount
        copy = []       # (vpn, old pte) of pages whose frame is still shared
        for s, e, v in cow:
            for x in range(s, e):
                pte = v + (x - s) * PAGE_SIZE
                if refcount(pte & PTE_FRAME) > 1:
                    copy.append((x, pte))
        new = {}
        if copy:
            runs = frames.alloc(len(copy))
            it = iter(copy)
            for off, n in runs:
                for i in range(n):
                    x, pte = next(it)
                    f = off + (i << PAGE_SHIFT)
                    physmem.copy(f, pte & PTE_FRAME, PAGE_SIZE)
                    new[x] = f
            for x, pte in copy:
                frames.unref_range(pte & PTE_FRAME, 1)
        changed = []
        for s, e, v in cow:
            pages.remove(s, e)
            x = s
            while x < e:
                if x in new:
                    f = new[x]
                    y = x + 1
                    while y < e and new.get(y) == f + (y - x) * PAGE_SIZE:
                        y += 1
                    pte = f | (v & PTE_PROT)
                else:
                    y = x + 1
                    while y < e and y not in new:
                        y += 1
                    pte = (v + (x - s) * PAGE_SIZE) & ~PTE_COW
                pages.insert(x, y, pte)
                changed.append((x, y, pte))
                x = y
        self.hostcache.refresh(lo, hi, host_items(changed))
