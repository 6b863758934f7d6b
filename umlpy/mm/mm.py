"""The guest address space (Linux's mm_struct): what one MM is made of.

:class:`MM` owns, for one guest address space:

- ``vmas``: the mappings (:class:`~umlpy.mm.vma.VmaSet`), the truth of what
  is mapped where and with which protection;
- ``pages``: the page table (:class:`~umlpy.mm.pagetable.PageTable`), the
  present pages as extents of ``vpn -> pte`` (frame, protection, COW bit);
- ``hostcache``: the host mappings in the stub (:mod:`umlpy.mm.hostcache`),
  a bounded cache of the page table: the only door to ``host.map/unmap/protect``.

The page table is the truth; a present page may or may not be host-mapped
at any moment, and a guest fault on one that is not refills it.  Pages are
made present lazily, by guest faults or kernel accesses, never by mmap
itself (except MAP_POPULATE and madvise's POPULATE advice).

The methods are grouped by concern, gVisor-style, in mixins:
:mod:`~umlpy.mm.mmap` (mmap/munmap/mprotect/brk/mremap),
:mod:`~umlpy.mm.advice` (madvise/msync), :mod:`~umlpy.mm.fault` (faults,
populate, COW), :mod:`~umlpy.mm.io` (guest I/O for the kernel),
:mod:`~umlpy.mm.lifecycle` (fork/release), :mod:`~umlpy.mm.procfs` (/proc text),
:mod:`~umlpy.mm.remap` (remap_file_pages).
This module keeps the state, the queries and the page-dropping primitive they share.

Out of memory: :class:`~umlpy.mm.frames.OutOfMemory` (a SyscallError with
ENOMEM) propagates out of system calls and kernel guest I/O;
:meth:`MM.handle_fault` turns it into ``(SIGKILL, 0)`` for the kernel to
deliver, as Linux's OOM killer would.

Nothing is ever mapped below ``MMAP_MIN_ADDR`` or at/above ``TASK_SIZE``
(the stub's own pages live there).
"""

from umlpy.abi.memory import MMAP_BASE, MMAP_MIN_ADDR, PAGE_SHIFT, STACK_SIZE, TASK_SIZE
from umlpy.platform.base import HostAddressSpace
from umlpy.mm.advice import AdviceMixin
from umlpy.mm.fault import FAULT_AROUND_PAGES, FaultMixin
from umlpy.mm.frames import FrameAllocator
from umlpy.mm.hostcache import DeferredHost, HostCache
from umlpy.mm.io import IOMixin
from umlpy.mm.lifecycle import LifecycleMixin
from umlpy.mm.mmap import MmapMixin
from umlpy.mm.pagetable import PTE_FRAME, PTE_PROT, PageTable
from umlpy.mm.procfs import ProcfsMixin
from umlpy.mm.remap import RemapMixin
from umlpy.mm.vma import Vma, VmaSet

__all__ = ["MM", "FAULT_AROUND_PAGES"]

#: Linux's default vm.max_map_count: the most VMAs a guest address space may have.
DEFAULT_MAX_MAP_COUNT = 65530


class MM(MmapMixin, AdviceMixin, FaultMixin, IOMixin, LifecycleMixin, ProcfsMixin, RemapMixin):
    """A guest address space realised by the host address space ``host``.

    ``owns_host``: whether :meth:`release` also releases ``host`` (True), or
    only unmaps everything from it and leaves it to its owner (False).
    ``host_budget``: the most host mappings (runs) the host cache may hold;
    None takes ``frames.host_map_budget`` if set, else the default of
    :func:`umlpy.mm.hostcache.default_budget`.
    """

    def __init__(self, frames: FrameAllocator, host: HostAddressSpace, owns_host: bool = True,
                 mmap_base: int = MMAP_BASE, host_budget: int | None = None):
        self.frames = frames
        self.physmem = frames.physmem
        self.host = host
        self.owns_host = owns_host
        self.vmas = VmaSet()
        self.pages = PageTable()
        #: False until a fork: no pte can have PTE_COW (lets writes skip looking).
        self.may_cow = False
        if host_budget is None:
            host_budget = getattr(frames, "host_map_budget", None)
        self.hostcache = HostCache(host, host_budget)
        #: Top-down mmap placement starts below this address.
        self.mmap_base = mmap_base
        #: Set by the loader: the start of the heap and the current break.
        self.start_brk = 0
        self.brk = 0
        #: RLIMIT_STACK: how far a MAP_GROWSDOWN VMA may grow.
        self.stack_limit = STACK_SIZE
        #: vm.max_map_count: the most VMAs (mmap and splits fail with ENOMEM beyond).
        self.max_map_count = DEFAULT_MAX_MAP_COUNT
        self.released = False
        #: Reference counts kept by umlpy.kernel.aspace: tasks running in this mm, and
        #: everything else that keeps it (home mm of tasks, fds, contexts).
        self.users = 0
        self.holders = 0
        #: modify_ldt / PTRACE_LDT bookkeeping (64-bit guests never load it); copied by
        #: /proc/mm's MM_COPY_SEGMENTS.
        self.ldt: dict = {}
        #: The UMLPY_PROT_UNPRIV view (mm.unpriv.UnprivView), made by the first unprivilege(-1).
        self.unpriv_view = None

    # ------------------------------------------------------------------ the host
    @property
    def host_deferred(self) -> bool:
        """Whether no stub realises this address space yet (see hostcache.DeferredHost)."""
        return isinstance(self.host, DeferredHost)

    def adopt_host(self, host: HostAddressSpace) -> None:
        """Be realised by ``host`` (a fresh, empty stub) from now on, instead of a DeferredHost."""
        assert self.host_deferred
        self.host = host
        self.hostcache.host = host
        self.hostcache.forget()

    def key_mm(self, addr: int) -> "MM":
        """The address space whose memory ``addr`` is (a VAS view answers for its parts):
        what a private futex at ``addr`` is keyed by."""
        return self

    # ------------------------------------------------------------------ queries
    def __iter__(self):
        return iter(self.vmas)

    def find_vma(self, addr: int) -> Vma | None:
        return self.vmas.find(addr)

    @property
    def total_vm(self) -> int:
        """Mapped size in pages (Linux's total_vm)."""
        return sum(v.npages for v in self.vmas)

    @property
    def rss_pages(self) -> int:
        """Present pages (private and shared)."""
        return self.pages.units

    def frame_of(self, vpn: int) -> int | None:
        """The frame of present page ``vpn``, or None."""
        pte = self.pages.get(vpn)
        return None if pte is None else pte & PTE_FRAME

    def page_prot(self, vpn: int) -> int | None:
        """The protection of present page ``vpn`` (its pte's), or None."""
        pte = self.pages.get(vpn)
        return None if pte is None else pte & PTE_PROT

    def check_range(self, addr: int, length: int, prot: int) -> bool:
        """Whether [addr, addr+length) is wholly mapped and every VMA allows ``prot``."""
        if length <= 0:
            return length == 0
        end = addr + length
        if addr < MMAP_MIN_ADDR or end > TASK_SIZE:
            return False
        pos = addr
        for v in self.vmas.overlapping(addr, end):
            if v.start > pos or (prot & ~v.prot & PTE_PROT):
                return False
            pos = v.end
        return pos >= end

    # -------------------------------------------------------- dropping pages
    def _drop_pages(self, pieces: list[Vma]) -> None:
        """Remove the present pages of ``pieces`` from the page table and the host.

        Private frames are unreferenced, a run at a time; shared ones stay
        with their object.
        """
        cache, pages, frames = self.hostcache, self.pages, self.frames
        for p in pieces:
            lo, hi = p.start >> PAGE_SHIFT, p.end >> PAGE_SHIFT
            cache.unmap_range(lo, hi)
            gone = pages.remove(lo, hi)
            if gone and not p.is_shared:
                for s, e, pte in gone:
                    frames.unref_range(pte & PTE_FRAME, e - s)

    def _unmap_range(self, start: int, end: int) -> None:
        removed = self.vmas.remove_range(start, end)
        if not removed:
            return
        self._drop_pages(removed)
        for v in removed:
            so = v.shared_obj
            if so is not None:
                if so.refs > 1:
                    so.sync(v.pgoff, v.npages)
                so.put()
