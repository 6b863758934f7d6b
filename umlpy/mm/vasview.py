"""What a thread switched into a first-class VAS runs in: the VAS over its process's own mm.

DESIGN.md ("first-class VAS"): while a thread runs in a VAS, every mapping of
its original address space that the VAS's own mappings do not cover is there
too and is the same memory (writes are seen on both sides), and new mmaps
made while switched in go into the VAS.  A :class:`VasView` is that address
space for one (process, VAS) attachment.  It owns no memory and no VMAs: each
address belongs to the VAS's mm where the VAS maps something (its segments
and mappings), else to the process's own mm (``orig``); faults, guest I/O and
the mapping calls are passed to that owner, on that owner's page table, so
both sides always see the same frames.  The view's own state is only its host
address space, a cache of the two page tables.

Coherence: a page the owner drops or changes (munmap, mprotect, COW break,
mremap...) bumps the owner's ``PageTable.gen``; the view compares the two
generations each time a task is about to run in it (the ``host`` property,
read by the run loop) and, when either moved, drops its whole host cache, as
a TLB flush would.  New pages need nothing: the view faults them in.

An O_RDONLY attachment sees the VAS's pages without write: a guest write
faults (SIGSEGV), a kernel write gives EFAULT, and mapping calls on the VAS's
part fail with EACCES.
"""

import errno

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE, page_align_up
from umlpy.abi.mman import MAP_FIXED, MAP_FIXED_NOREPLACE, MREMAP_FIXED, MREMAP_MAYMOVE
from umlpy.abi.signal import SEGV_ACCERR, SEGV_MAPERR, Sig
from umlpy.errors import SyscallError
from umlpy.mm.fault import FAULT_AROUND_PAGES
from umlpy.mm.hostcache import DeferredHost, HostCache
from umlpy.mm.mm import MM
from umlpy.mm.pagetable import PTE_BUS, PTE_COW, PTE_PROT, PTE_WRITE, host_items
from umlpy.mm.vma import Vma

_SIGSEGV, _MAPERR, _ACCERR = int(Sig.SIGSEGV), int(SEGV_MAPERR), int(SEGV_ACCERR)
_W = PTE_WRITE
_FIXED, _NOREPLACE = int(MAP_FIXED), int(MAP_FIXED_NOREPLACE)


class _ViewVmas:
    """The VMAs a view shows, read-only: the VAS's, and its process's where the VAS has none."""

    __slots__ = ("view",)

    def __init__(self, view):
        self.view = view

    def find(self, addr):
        v = self.view.vas_mm.vmas.find(addr)
        return v if v is not None else self.view.orig.vmas.find(addr)

    def overlapping(self, start, end):
        out = []
        for owner, a, b in self.view.parts(start, end):
            for v in owner.vmas.overlapping(a, b):
                if owner is self.view.vas_mm or (v.start >= a and v.end <= b):
                    out.append(v)
                else:      # a piece of the process's VMA, around the VAS's (no reference taken)
                    s, e = max(v.start, a), min(v.end, b)
                    out.append(Vma(s, e, v.prot, v.flags, v.backing, v.pgoff_at(s), v.shared_obj,
                                   v.name, v.max_prot))
        return out

    def __iter__(self):
        return iter(self.overlapping(0, TASK_SIZE))

    def __len__(self):
        return len(self.overlapping(0, TASK_SIZE))

    def covers(self, start, end):
        pos = start
        for v in self.overlapping(start, end):
            if v.start > pos:
                return False
            pos = v.end
        return pos >= end

    def is_free(self, start, end):
        return not self.overlapping(start, end)


class _ViewPages:
    """The page table a view shows, read-only (the owners' ptes, without write where the
    VAS is attached O_RDONLY)."""

    __slots__ = ("view",)

    def __init__(self, view):
        self.view = view

    def get(self, vpn, default=None):
        view = self.view
        owner = view.owner(vpn << PAGE_SHIFT)
        pte = owner.pages.get(vpn)
        if pte is None:
            return default
        if owner is view.vas_mm and not view.writable:
            pte &= ~_W
        return pte

    def __contains__(self, vpn):
        return self.get(vpn) is not None

    def items(self, lo, hi):
        view = self.view
        out = []
        for owner, a, b in view.parts(lo << PAGE_SHIFT, hi << PAGE_SHIFT):
            items = owner.pages.items(a >> PAGE_SHIFT, b >> PAGE_SHIFT)
            if owner is view.vas_mm and not view.writable:
                items = [(s, e, v & ~_W) for s, e, v in items]
            out += items
        return out

    @property
    def units(self):
        return sum(e - s for s, e, _ in self.items(0, TASK_SIZE >> PAGE_SHIFT))

    def __iter__(self):
        for s, e, _ in self.items(0, TASK_SIZE >> PAGE_SHIFT):
            yield from range(s, e)


class VasView(MM):
    """``vas_mm``'s mappings over ``orig``'s, in a host address space of its own."""

    def __init__(self, vas_mm: MM, orig: MM, writable: bool, host=None):
        # Not MM.__init__: a view has no VMAs, page table or break of its own.
        self.vas_mm = vas_mm
        self.orig = orig
        self.writable = writable
        self.frames = orig.frames
        self.physmem = orig.physmem
        self._host = host if host is not None else DeferredHost()
        self.owns_host = True
        self.hostcache = HostCache(self._host, orig.hostcache.budget)
        self.vmas = _ViewVmas(self)
        self.pages = _ViewPages(self)
        self.mmap_base = orig.mmap_base
        self.stack_limit = orig.stack_limit
        self.max_map_count = orig.max_map_count
        self.may_cow = True
        self.released = False
        self.users = 0
        self.holders = 0
        self.unpriv_view = None
        self._gens = (orig.pages.gen, vas_mm.pages.gen)

    # --- the host: validated against both page tables each time it is used ---------
    @property
    def host(self):
        gens = (self.orig.pages.gen, self.vas_mm.pages.gen)
        if gens != self._gens:
            self._gens = gens
            self.hostcache.evict()
        return self._host

    @host.setter
    def host(self, value):
        self._host = value

    def adopt_host(self, host) -> None:
        assert self.host_deferred
        self._host = host
        self.hostcache.host = host
        self.hostcache.forget()

    # --- what belongs to whom ---------------------------------------------------------
    def owner(self, addr: int) -> MM:
        return self.vas_mm if self.vas_mm.vmas.find(addr) is not None else self.orig

    def parts(self, start: int, end: int):
        """``(owner, a, b)`` pieces of [start, end), in order."""
        out = []
        pos = start
        for v in self.vas_mm.vmas.overlapping(start, end):
            s, e = max(v.start, start), min(v.end, end)
            if s > pos:
                out.append((self.orig, pos, s))
            out.append((self.vas_mm, s, e))
            pos = e
        if pos < end:
            out.append((self.orig, pos, end))
        return out

    def key_mm(self, addr: int) -> MM:
        return self.owner(addr).key_mm(addr)

    @property
    def ldt(self):
        return self.orig.ldt

    @property
    def start_brk(self):
        return self.orig.start_brk

    @property
    def brk(self):
        return self.orig.brk

    def sys_brk(self, new: int) -> int:
        return self.orig.sys_brk(new)

    def _check_vas_write(self, owner) -> None:
        if owner is self.vas_mm and not self.writable:
            raise SyscallError(errno.EACCES)

    # --- faults ------------------------------------------------------------------------
    def handle_fault(self, addr: int, is_write: int):
        if not MMAP_MIN_ADDR <= addr < TASK_SIZE:
            return (_SIGSEGV, _MAPERR)
        owner = self.owner(addr)
        ro = owner is self.vas_mm and not self.writable
        vpn = addr >> PAGE_SHIFT
        v = owner.vmas.find(addr)
        pte = owner.pages.get(vpn)
        if v is None:
            res = owner.handle_fault(addr, is_write)      # a stack that grows, or MAPERR
            if res is not None:
                return res
            v = owner.vmas.find(addr)
            pte = owner.pages.get(vpn)
        prot = (pte if pte is not None else v.prot) & PTE_PROT
        if ro:
            prot &= ~_W
        if not prot or (is_write == 1 and not prot & _W):
            return (_SIGSEGV, _ACCERR)
        if pte is None or pte & PTE_BUS or (pte & PTE_COW and prot & _W and is_write != 0):
            res = owner.handle_fault(addr, is_write if pte is None else (is_write if ro else 1))
            if res is not None:
                return res
        elif vpn in self.hostcache:
            return (_SIGSEGV, _ACCERR)      # host-mapped with its own protection: a real violation
        lo = max(vpn & ~(FAULT_AROUND_PAGES - 1), v.start >> PAGE_SHIFT)
        hi = min(lo + FAULT_AROUND_PAGES, v.end >> PAGE_SHIFT)
        self._map_window(lo, hi)
        return None

    def _map_window(self, lo: int, hi: int) -> None:
        cache = self.hostcache
        items = []
        for owner, a, b in self.parts(lo << PAGE_SHIFT, hi << PAGE_SHIFT):
            got = host_items(owner.pages.items(a >> PAGE_SHIFT, b >> PAGE_SHIFT))
            if owner is self.vas_mm and not self.writable:
                got = [(s, e, x & ~_W) for s, e, x in got]
            items += got
        if cache.runs + len(items) + 1 > cache.budget:
            cache.evict()
        cache.unmap_range(lo, hi)
        cache.map_extents(items)

    # --- guest I/O: each piece through its owner --------------------------------------
    def _chunks(self, addr: int, n: int, write: bool, force: bool, lazy_zero: bool) -> list:
        end = addr + n
        if addr < MMAP_MIN_ADDR or end > TASK_SIZE:
            raise SyscallError(errno.EFAULT)
        out = []
        for owner, a, b in self.parts(addr, end):
            if write and not force and owner is self.vas_mm and not self.writable:
                raise SyscallError(errno.EFAULT)
            out += owner._chunks(a, b - a, write, force, lazy_zero)
        return out

    # --- the mapping calls -------------------------------------------------------------
    def mmap(self, addr, length, prot, flags, backing=None, offset=0, *, max_prot=7, name=None,
             shared_obj=None):
        """New mappings go into the VAS, at a place free in the view."""
        if not self.writable:
            raise SyscallError(errno.EACCES)
        if length > 0 and not flags & (_FIXED | _NOREPLACE):
            addr = self.get_unmapped_area(addr, page_align_up(length), flags)
            flags |= _FIXED
        elif (length > 0 and flags & _NOREPLACE and not addr & (PAGE_SIZE - 1)
              and not self.vmas.is_free(addr, addr + page_align_up(length))):
            raise SyscallError(errno.EEXIST)
        return self.vas_mm.mmap(addr, length, prot, flags, backing, offset, max_prot=max_prot,
                                name=name, shared_obj=shared_obj)

    def _each_part(self, addr, length, call):
        end = addr + page_align_up(length)
        for owner, a, b in self.parts(addr, end):
            self._check_vas_write(owner)
            call(owner, a, b)

    def munmap(self, addr, length):
        if addr & (PAGE_SIZE - 1) or length <= 0 or addr + page_align_up(length) > TASK_SIZE:
            raise SyscallError(errno.EINVAL)
        self._each_part(addr, length, lambda o, a, b: o.munmap(a, b - a))

    def mprotect(self, addr, length, prot):
        if length > 0 and not addr & (PAGE_SIZE - 1):
            if not self.vmas.covers(addr, addr + page_align_up(length)):
                raise SyscallError(errno.ENOMEM)
            self._each_part(addr, length, lambda o, a, b: o.mprotect(a, b - a, prot))
        else:
            self.orig.mprotect(addr, length, prot)      # its own answer for odd arguments

    def madvise(self, addr, length, advice):
        if length > 0 and not addr & (PAGE_SIZE - 1):
            for owner, a, b in self.parts(addr, addr + page_align_up(length)):
                owner.madvise(a, b - a, advice)
        else:
            self.orig.madvise(addr, length, advice)

    def msync(self, addr, length, flags):
        if length > 0 and not addr & (PAGE_SIZE - 1):
            for owner, a, b in self.parts(addr, addr + page_align_up(length)):
                owner.msync(a, b - a, flags)
        else:
            self.orig.msync(addr, length, flags)

    def mremap(self, old, old_len, new_len, flags, new_addr=0):
        owner = self.owner(old)
        self._check_vas_write(owner)
        if (flags & MREMAP_MAYMOVE and not flags & MREMAP_FIXED and new_len > old_len
                and not old & (PAGE_SIZE - 1)):
            a, b = old + page_align_up(old_len), old + page_align_up(new_len)
            if b <= TASK_SIZE and not self.vmas.is_free(a, b) and owner.vmas.is_free(a, b):
                # Room in the owner but not in the view: move, to a place free in the view.
                dest = self.get_unmapped_area(0, page_align_up(new_len))
                return owner.mremap(old, old_len, new_len, flags | MREMAP_FIXED, dest)
        return owner.mremap(old, old_len, new_len, flags, new_addr)

    def remap_file_pages(self, start, size, prot, pgoff, flags):
        owner = self.owner(start)
        self._check_vas_write(owner)
        owner.remap_file_pages(start, size, prot, pgoff, flags)

    # --- lifecycle -------------------------------------------------------------------------
    def fork(self, new_host, owns_host=True):
        """Attachments are not inherited: a child forked in a VAS gets its process's own mm."""
        return self.orig.fork(new_host, owns_host)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        self._host.release()
        self.hostcache.forget()
