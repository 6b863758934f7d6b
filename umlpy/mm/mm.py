"""The guest address space (Linux's mm_struct): VMAs, page table, faults, guest I/O.

:class:`MM` owns, for one guest address space:

- ``vmas``: the mappings (:class:`~umlpy.mm.vma.VmaSet`);
- ``pages``: the page table, ``{vpn: frame offset}`` for every present page
  (private pages hold one frame reference each; shared pages are the
  SharedObject's frames and hold none);
- ``cow``: the vpns of private pages mapped without write because their
  frame is (or was) shared with another address space since a fork.

The page table is the truth.  The host mappings in the stub are a cache of
it kept in step through ``host.map/unmap/protect`` (queued and merged by the
platform, flushed before the guest runs): a present page is host-mapped at
its frame with its *effective* protection, the VMA's minus PROT_WRITE when
the page is in ``cow``; an absent page is not host-mapped.  Pages are made
present lazily, by guest faults (:meth:`MM.handle_fault`, with fault-around)
or kernel accesses (:meth:`MM.read` ...), never by mmap itself.

Out of memory: :class:`~umlpy.mm.frames.OutOfMemory` (a SyscallError with
ENOMEM) propagates out of system calls and kernel guest I/O;
:meth:`MM.handle_fault` turns it into ``(SIGKILL, 0)`` for the kernel to
deliver, as Linux's OOM killer would.

Nothing is ever mapped below ``MMAP_MIN_ADDR`` or at/above ``TASK_SIZE``
(the stub's own pages live there).
"""

import errno
import struct

from umlpy.abi.memory import (MMAP_BASE, MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, STACK_SIZE,
                              TASK_SIZE, page_align_up)
from umlpy.abi import mman as _mman
from umlpy.abi.mman import MADV, MAP
from umlpy.abi.signal import BusCode, SEGV_ACCERR, SEGV_MAPERR, Sig
from umlpy.errors import SyscallError
from umlpy.platform.base import HostAddressSpace
from umlpy.mm.frames import FrameAllocator, OutOfMemory
from umlpy.mm.shared import SharedObject
from umlpy.mm.vma import Vma, VmaSet, VmFlag

# Plain ints: ``~`` on an IntFlag would only invert its defined bits.
(MAP_32BIT, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_POPULATE,
 MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, MREMAP_DONTUNMAP,
 MREMAP_FIXED, MREMAP_MAYMOVE, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_GROWSDOWN, PROT_GROWSUP,
 PROT_SEM) = (int(getattr(_mman, n)) for n in (
    "MAP_32BIT", "MAP_ANONYMOUS", "MAP_FIXED", "MAP_FIXED_NOREPLACE", "MAP_GROWSDOWN",
    "MAP_POPULATE", "MAP_PRIVATE", "MAP_SHARED", "MAP_SHARED_VALIDATE", "MAP_STACK", "MAP_TYPE",
    "MREMAP_DONTUNMAP", "MREMAP_FIXED", "MREMAP_MAYMOVE", "MS_ASYNC", "MS_INVALIDATE", "MS_SYNC",
    "PROT_GROWSDOWN", "PROT_GROWSUP", "PROT_SEM"))
_R, _W, _X = 1, 2, 4
_RWX = 7
_OFF = PAGE_SIZE - 1
#: Pages made present together by one fault: an aligned window of this size.
FAULT_AROUND_PAGES = 16
#: Linux's stack_guard_gap: room kept free below a growsdown VMA that expands.
STACK_GUARD_GAP = 256 << PAGE_SHIFT
_MAP_KNOWN = int(sum(MAP)) & ~MAP_TYPE
_PROT_KNOWN = _RWX | int(PROT_SEM) | int(PROT_GROWSDOWN) | int(PROT_GROWSUP)
_MAP32_LOW, _MAP32_HIGH = 0x40000000, 0x80000000

_SIGSEGV, _SIGBUS, _SIGKILL = int(Sig.SIGSEGV), int(Sig.SIGBUS), int(Sig.SIGKILL)
_MAPERR, _ACCERR, _BUS_ADRERR = int(SEGV_MAPERR), int(SEGV_ACCERR), int(BusCode.BUS_ADRERR)

_EFAULT = errno.EFAULT
_KNOWN_ADVICE = {int(a) for a in MADV}


def _err(e):
    return SyscallError(e)


def _consecutive_runs(vpns):
    """Split a sorted vpn list into lists of consecutive vpns."""
    run = []
    for v in vpns:
        if run and v != run[-1] + 1:
            yield run
            run = []
        run.append(v)
    if run:
        yield run


class MM:
    """A guest address space realised by the host address space ``host``.

    ``owns_host``: whether :meth:`release` also releases ``host`` (True), or
    only unmaps everything from it and leaves it to its owner (False).
    """

    def __init__(self, frames: FrameAllocator, host: HostAddressSpace, owns_host: bool = True,
                 mmap_base: int = MMAP_BASE):
        self.frames = frames
        self.physmem = frames.physmem
        self.host = host
        self.owns_host = owns_host
        self.vmas = VmaSet()
        self.pages: dict[int, int] = {}
        self.cow: set[int] = set()
        #: Top-down mmap placement starts below this address.
        self.mmap_base = mmap_base
        #: Set by the loader: the start of the heap and the current break.
        self.start_brk = 0
        self.brk = 0
        #: RLIMIT_STACK: how far a MAP_GROWSDOWN VMA may grow.
        self.stack_limit = STACK_SIZE
        #: vm.max_map_count: mmap fails with ENOMEM beyond this many VMAs.
        self.max_map_count = 65530
        self.released = False
        #: Reference counts kept by umlpy.kernel.aspace: tasks running in this mm, and
        #: everything else that keeps it (home mm of tasks, fds, contexts).
        self.users = 0
        self.holders = 0

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
        return len(self.pages)

    def check_range(self, addr: int, length: int, prot: int) -> bool:
        """Whether [addr, addr+length) is wholly mapped and every VMA allows ``prot``."""
        if length <= 0:
            return length == 0
        end = addr + length
        if addr < MMAP_MIN_ADDR or end > TASK_SIZE:
            return False
        pos = addr
        for v in self.vmas.overlapping(addr, end):
            if v.start > pos or (prot & ~v.prot & _RWX):
                return False
            pos = v.end
        return pos >= end

    def _present(self, lo: int, hi: int) -> list[int]:
        """Sorted present vpns in [lo, hi); cost ~min(hi-lo, present pages)."""
        pages = self.pages
        if hi - lo <= len(pages):
            return [v for v in range(lo, hi) if v in pages]
        return sorted(v for v in pages if lo <= v < hi)

    def _eprot(self, vma: Vma, vpn: int) -> int:
        p = vma.prot & _RWX
        if vpn in self.cow:
            p &= ~_W
        return p

    # ------------------------------------------------------------ page table
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
        prot = vma.prot & _RWX
        host_map = self.host.map
        base = vma.start >> PAGE_SHIFT
        if vma.is_shared:
            so = vma.shared_obj
            for run in _consecutive_runs(missing):
                for x, f in zip(run, so.frames_for(vma.pgoff + run[0] - base, len(run))):
                    pages[x] = f
                    host_map(x << PAGE_SHIFT, PAGE_SIZE, prot, f)
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
            pages[x] = f
            host_map(x << PAGE_SHIFT, PAGE_SIZE, prot, f)

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

    def _break_cow(self, vma: Vma, vpns: list[int]) -> None:
        """Give each (cow, present, private) page of ``vpns`` a writable frame of its own."""
        frames, pages, cow = self.frames, self.pages, self.cow
        prot = vma.prot & _RWX
        copy = [x for x in vpns if frames.refcount(pages[x]) > 1]
        if copy:
            runs = frames.alloc(len(copy))
            it = iter(copy)
            old = []
            for off, n in runs:
                for i in range(n):
                    x = next(it)
                    f = off + (i << PAGE_SHIFT)
                    self.physmem.copy(f, pages[x], PAGE_SIZE)
                    old.append(pages[x])
                    pages[x] = f
            frames.unref_many(old)
        copied = set(copy)
        for x in vpns:
            cow.discard(x)
            if x in copied:
                self.host.map(x << PAGE_SHIFT, PAGE_SIZE, prot, pages[x])
            else:
                # The other sharer went away: the frame is ours alone now.
                self.host.protect(x << PAGE_SHIFT, PAGE_SIZE, prot)

    def _drop_pages(self, pieces: list[Vma]) -> None:
        """Remove the present pages of ``pieces`` (sorted) from the page table.

        Private frames are unreferenced; shared ones stay with their object.
        Host mappings are not touched.
        """
        if not pieces:
            return
        vpns = self._present(pieces[0].start >> PAGE_SHIFT, pieces[-1].end >> PAGE_SHIFT)
        if not vpns:
            return
        pages, cow = self.pages, self.cow
        dead = []
        k = 0
        for x in vpns:
            a = x << PAGE_SHIFT
            while k < len(pieces) and pieces[k].end <= a:
                k += 1
            if k == len(pieces):
                break
            p = pieces[k]
            if a < p.start:
                continue
            f = pages.pop(x)
            cow.discard(x)
            if not p.is_shared:
                dead.append(f)
        if dead:
            self.frames.unref_many(dead)

    def _unmap_range(self, start: int, end: int) -> None:
        removed = self.vmas.remove_range(start, end)
        if not removed:
            return
        self._drop_pages(removed)
        for v in removed:
            self.host.unmap(v.start, v.length)
            so = v.shared_obj
            if so is not None:
                if so.refs > 1:
                    so.sync(v.pgoff, v.npages)
                so.put()

    # ------------------------------------------------------------------ mmap
    def get_unmapped_area(self, hint: int, length: int, flags: int = 0) -> int:
        """Where a new mapping of ``length`` bytes goes (hint, else top-down); ENOMEM."""
        if hint:
            hint = page_align_up(hint)
            if (MMAP_MIN_ADDR <= hint and hint + length <= TASK_SIZE
                    and self.vmas.is_free(hint, hint + length)):
                return hint
        if flags & MAP_32BIT:
            addr = self._gap_bottom_up(_MAP32_LOW, _MAP32_HIGH, length)
        else:
            addr = self._gap_top_down(MMAP_MIN_ADDR, min(self.mmap_base, TASK_SIZE), length)
            if addr is None:
                addr = self._gap_top_down(max(self.mmap_base, MMAP_MIN_ADDR), TASK_SIZE, length)
        if addr is None:
            raise _err(errno.ENOMEM)
        return addr

    def _gap_top_down(self, low, high, length):
        top = high
        for v in reversed(self.vmas.overlapping(low, high)):
            if top - max(v.end, low) >= length:
                return top - length
            top = min(top, v.start)
        return top - length if top - low >= length else None

    def _gap_bottom_up(self, low, high, length):
        bottom = low
        for v in self.vmas.overlapping(low, high):
            if min(v.start, high) - bottom >= length:
                return bottom
            bottom = max(bottom, v.end)
        return bottom if high - bottom >= length else None

    def mmap(self, addr: int, length: int, prot: int, flags: int, backing=None, offset: int = 0,
             *, max_prot: int = _RWX, name: str | None = None) -> int:
        """Mmap implements mmap(2); returns the address.

        ``backing`` is the MappableFile for file mappings (the caller has
        resolved the fd and checked its open mode: ``max_prot`` is what that
        mode allows, checked here and by later mprotect calls).  ``name``
        overrides the /proc/pid/maps name.
        """
        if offset & _OFF or offset < 0:
            raise _err(errno.EINVAL)
        kind = flags & MAP_TYPE
        if kind == MAP_SHARED_VALIDATE:
            if flags & ~(_MAP_KNOWN | MAP_TYPE):
                raise _err(errno.EOPNOTSUPP)
            kind = MAP_SHARED
        elif kind not in (MAP_SHARED, MAP_PRIVATE):
            raise _err(errno.EINVAL)
        if length <= 0:
            raise _err(errno.EINVAL)
        length = page_align_up(length)
        if length > TASK_SIZE:
            raise _err(errno.ENOMEM)
        anon = bool(flags & MAP_ANONYMOUS)
        if anon:
            backing = None
        elif backing is None:
            raise _err(errno.EBADF)
        elif offset + length > (1 << 64) - 1:
            raise _err(errno.EOVERFLOW)
        prot &= _RWX
        if prot & ~max_prot:
            raise _err(errno.EACCES)
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE):
            if addr & _OFF:
                raise _err(errno.EINVAL)
            if addr + length > TASK_SIZE:
                raise _err(errno.ENOMEM)
            if addr < MMAP_MIN_ADDR:
                raise _err(errno.EPERM)
            if flags & MAP_FIXED_NOREPLACE and not self.vmas.is_free(addr, addr + length):
                raise _err(errno.EEXIST)
        else:
            addr = self.get_unmapped_area(addr, length, flags)
        if len(self.vmas) >= self.max_map_count:
            raise _err(errno.ENOMEM)
        vmflags = VmFlag.NONE
        if flags & MAP_GROWSDOWN:
            vmflags |= VmFlag.GROWSDOWN
        if flags & MAP_STACK:
            vmflags |= VmFlag.STACK
        so = None
        pgoff = offset >> PAGE_SHIFT
        if kind == MAP_SHARED:
            vmflags |= VmFlag.SHARED
            if anon:
                so = SharedObject(self.frames, name="/dev/zero (deleted)")
                pgoff = 0
            else:
                so = backing.shared_object(self.frames)
            so.get()
        elif anon:
            pgoff = 0
        if name is None:
            name = backing.name if backing is not None else (so.name if so is not None else "")
        self._unmap_range(addr, addr + length)
        vma = self.vmas.insert(Vma(addr, addr + length, prot, vmflags, backing, pgoff, so, name,
                                   max_prot))
        if flags & MAP_POPULATE and prot:
            try:
                self._populate(vma, addr >> PAGE_SHIFT, (addr + length) >> PAGE_SHIFT)
            except OutOfMemory:
                pass  # MAP_POPULATE is best effort, as in Linux
        return addr

    def munmap(self, addr: int, length: int) -> None:
        """Munmap implements munmap(2)."""
        if addr & _OFF or length <= 0:
            raise _err(errno.EINVAL)
        end = addr + page_align_up(length)
        if addr > TASK_SIZE or end > TASK_SIZE:
            raise _err(errno.EINVAL)
        self._unmap_range(addr, end)

    def mprotect(self, addr: int, length: int, prot: int) -> None:
        """Mprotect implements mprotect(2): ENOMEM over holes (checked before any change)."""
        if addr & _OFF or prot & ~_PROT_KNOWN:
            raise _err(errno.EINVAL)
        if prot & PROT_GROWSDOWN and prot & PROT_GROWSUP:
            raise _err(errno.EINVAL)
        if length == 0:
            return
        if length < 0:
            raise _err(errno.ENOMEM)
        end = addr + page_align_up(length)
        if end > TASK_SIZE or addr < MMAP_MIN_ADDR:
            raise _err(errno.ENOMEM)
        if prot & PROT_GROWSDOWN:
            v = self.vmas.find(addr)
            if v is None:
                raise _err(errno.ENOMEM)
            if not v.flags & VmFlag.GROWSDOWN:
                raise _err(errno.EINVAL)
            addr = v.start
        if prot & PROT_GROWSUP:
            raise _err(errno.EINVAL)  # no VM_GROWSUP mappings on x86
        if not self.vmas.covers(addr, end):
            raise _err(errno.ENOMEM)
        p = prot & _RWX
        for v in self.vmas.overlapping(addr, end):
            if p & ~v.max_prot:
                raise _err(errno.EACCES)
        protect = self.host.protect
        for v in self.vmas.isolate(addr, end):
            if v.prot == p:
                continue
            v.prot = p
            for x in self._present(v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT):
                protect(x << PAGE_SHIFT, PAGE_SIZE, self._eprot(v, x))
        self.vmas.merge_range(addr, end)

    def set_brk(self, start_brk: int) -> None:
        """Set the heap start and the break (loader); same as assigning both attributes."""
        self.start_brk = self.brk = start_brk

    def sys_brk(self, new: int) -> int:
        """Implements brk(2): returns the new break, or the old one on failure."""
        old = self.brk
        if new < self.start_brk or new > TASK_SIZE or self.start_brk < MMAP_MIN_ADDR:
            return old
        newp, oldp = page_align_up(new), page_align_up(old)
        if newp == oldp:
            self.brk = new
            return new
        if newp < oldp:
            self._unmap_range(newp, oldp)
            self.brk = new
            return new
        # Keep one free page above the new break, as Linux does.
        if not self.vmas.is_free(oldp, min(newp + PAGE_SIZE, TASK_SIZE)):
            return old
        self.vmas.insert(Vma(oldp, newp, _R | _W, name="[heap]"))
        self.brk = new
        return new

    def mremap(self, old: int, old_len: int, new_len: int, flags: int, new_addr: int = 0) -> int:
        """Mremap implements mremap(2): moves page table entries, never copies frames."""
        if flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP):
            raise _err(errno.EINVAL)
        if flags & MREMAP_FIXED and not flags & MREMAP_MAYMOVE:
            raise _err(errno.EINVAL)
        if flags & MREMAP_DONTUNMAP and (not flags & MREMAP_MAYMOVE or old_len != new_len):
            raise _err(errno.EINVAL)
        if old & _OFF or old_len < 0 or new_len < 0:
            raise _err(errno.EINVAL)
        old_len, new_len = page_align_up(old_len), page_align_up(new_len)
        if new_len == 0:
            raise _err(errno.EINVAL)
        if old + old_len > TASK_SIZE or new_len > TASK_SIZE:
            raise _err(errno.EFAULT if old + old_len > TASK_SIZE else errno.ENOMEM)
        dontunmap = bool(flags & MREMAP_DONTUNMAP)
        if flags & MREMAP_FIXED:
            if new_addr & _OFF or new_addr + new_len > TASK_SIZE:
                raise _err(errno.EINVAL)
            if new_addr < old + max(old_len, 1) and old < new_addr + new_len:
                raise _err(errno.EINVAL)
            if new_addr < MMAP_MIN_ADDR:
                raise _err(errno.EPERM)
            vma = self._resize_source(old, old_len, flags)
            self._unmap_range(new_addr, new_addr + new_len)
            if old_len > new_len:
                self._unmap_range(old + new_len, old + old_len)
                old_len = new_len
            return self._move(vma, old, old_len, new_addr, new_len, dontunmap)
        if dontunmap:
            vma = self._resize_source(old, old_len, flags)
            return self._move(vma, old, old_len, self.get_unmapped_area(0, new_len), new_len, True)
        if old_len >= new_len:
            if old_len > new_len:
                self._unmap_range(old + new_len, old + old_len)
            return old
        vma = self._resize_source(old, old_len, flags)
        end = old + old_len
        if (old_len and end == vma.end and old + new_len <= TASK_SIZE
                and self.vmas.is_free(end, old + new_len)):
            vma.end = old + new_len
            self.vmas.merge_range(vma.start, vma.end)
            return old
        if not flags & MREMAP_MAYMOVE:
            raise _err(errno.ENOMEM)
        dest = self.get_unmapped_area(0, new_len, 0)
        return self._move(vma, old, old_len, dest, new_len, dontunmap)

    def _resize_source(self, old, old_len, flags) -> Vma:
        vma = self.vmas.find(old)
        if vma is None or old + old_len > vma.end:
            raise _err(errno.EFAULT)
        if old_len == 0 and (not vma.is_shared or not flags & MREMAP_MAYMOVE):
            raise _err(errno.EINVAL)
        return vma

    def _move(self, vma, old, old_len, dest, new_len, dontunmap) -> int:
        """Move [old, old+old_len) of ``vma`` to ``dest`` with size ``new_len``."""
        if len(self.vmas) >= self.max_map_count:
            raise _err(errno.ENOMEM)
        so = vma.shared_obj
        if so is not None:
            so.get()
        newv = Vma(dest, dest + new_len, vma.prot, vma.flags, vma.backing, vma.pgoff_at(old),
                   so, vma.name, vma.max_prot)
        if old_len == 0:  # duplicate a shared mapping
            self.vmas.insert(newv)
            return dest
        # Unmapping the destination may have split ``vma``: take the piece at ``old``.
        src = self.vmas.isolate(old, old + old_len)[0]
        assert src.start == old and src.end == old + old_len, (src, old, old_len)
        delta = (dest - old) >> PAGE_SHIFT
        pages, cow = self.pages, self.cow
        moved = []
        for x in self._present(old >> PAGE_SHIFT, (old + old_len) >> PAGE_SHIFT):
            f = pages.pop(x)
            pages[x + delta] = f
            if x in cow:
                cow.discard(x)
                cow.add(x + delta)
            moved.append((x + delta, f))
        self.host.unmap(old, old_len)
        newv = self.vmas.insert(newv)
        for x, f in moved:
            self.host.map(x << PAGE_SHIFT, PAGE_SIZE, self._eprot(newv, x), f)
        if not dontunmap:
            self.vmas.remove(src)
            if src.shared_obj is not None:
                src.shared_obj.put()
        return dest

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
            pieces = self.vmas.isolate(addr, end)
            self._drop_pages(pieces)
            for v in pieces:
                self.host.unmap(v.start, v.length)
            self.vmas.merge_range(addr, end)
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
            for v in self.vmas.isolate(addr, end):
                v.flags = (v.flags | flag) if on else (v.flags & ~flag)
            self.vmas.merge_range(addr, end)
        elif advice in (MADV.MADV_POPULATE_READ, MADV.MADV_POPULATE_WRITE, MADV.MADV_WILLNEED):
            write = advice == MADV.MADV_POPULATE_WRITE
            for v in vmas:
                if advice != MADV.MADV_WILLNEED and not (v.prot & (_W if write else _RWX)):
                    raise _err(errno.EFAULT)
                lo, hi = max(v.start, addr), min(v.end, end)
                try:
                    self._populate(v, lo >> PAGE_SHIFT, hi >> PAGE_SHIFT)
                    if write and not v.is_shared:
                        cowp = [x for x in self._present(lo >> PAGE_SHIFT, hi >> PAGE_SHIFT)
                                if x in self.cow]
                        if cowp:
                            self._break_cow(v, cowp)
                except OutOfMemory:
                    if advice != MADV.MADV_WILLNEED:
                        raise
        # Everything else is a hint we may ignore.
        if hole:
            raise _err(errno.ENOMEM)

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

    # ----------------------------------------------------------------- faults
    def handle_fault(self, addr: int, is_write: int) -> tuple[int, int] | None:
        """Resolve a guest page fault at ``addr``; None means resume the guest.

        Otherwise returns ``(signo, si_code)`` to deliver: (SIGSEGV,
        SEGV_MAPERR) outside any VMA, (SIGSEGV, SEGV_ACCERR) for an access the
        VMA forbids, (SIGBUS, BUS_ADRERR) for a file page wholly past EOF,
        (SIGKILL, 0) when frames ran out.  ``is_write`` is 1, 0 or -1
        (unknown: treated as a write where that makes the fault resolvable).
        """
        if not MMAP_MIN_ADDR <= addr < TASK_SIZE:
            return (_SIGSEGV, _MAPERR)
        vma = self.vmas.find(addr)
        if vma is None:
            vma = self._expand_stack(addr)
            if vma is None:
                return (_SIGSEGV, _MAPERR)
        prot = vma.prot & _RWX
        if not prot or (is_write == 1 and not prot & _W):
            return (_SIGSEGV, _ACCERR)
        vpn = addr >> PAGE_SHIFT
        try:
            if vpn not in self.pages:
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
            if vpn in self.cow and prot & _W and is_write != 0:
                self._break_cow(vma, [vpn])
                return None
        except OutOfMemory:
            return (_SIGKILL, 0)
        # Present with the VMA's own protection: e.g. executing a non-exec page.
        return (_SIGSEGV, _ACCERR)

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

    # --------------------------------------------------------------- guest I/O
    def _chunks(self, addr: int, n: int, write: bool, force: bool, lazy_zero: bool) -> list:
        """Physmem pieces ``[frame_offset or -1, length]`` backing [addr, addr+n).

        Makes the pages present (and private ones unshared when ``write``);
        -1 marks still-absent private anonymous pages, which read as zero
        (only when ``lazy_zero``).  Raises EFAULT on holes and, unless
        ``force``, on accesses the protection forbids.
        """
        end = addr + n
        if addr < MMAP_MIN_ADDR or end > TASK_SIZE:
            raise _err(_EFAULT)
        out = []
        pos = addr
        pages = self.pages
        for v in self.vmas.overlapping(addr, end):
            if v.start > pos:
                raise _err(_EFAULT)
            if not force and not (v.prot & (_W if write else _RWX)):
                raise _err(_EFAULT)
            lo, hi = pos, min(end, v.end)
            vlo, vhi = lo >> PAGE_SHIFT, ((hi - 1) >> PAGE_SHIFT) + 1
            if v.backing is not None and v.pgoff_at(hi - 1) >= (v.backing.size + _OFF) >> PAGE_SHIFT:
                raise _err(_EFAULT)  # a file page past EOF: SIGBUS for the guest
            anon_private = v.backing is None and not v.is_shared
            if not (lazy_zero and anon_private):
                self._populate(v, vlo, vhi)
            if write and not v.is_shared and self.cow:
                cowp = [x for x in range(vlo, vhi) if x in self.cow]
                if cowp:
                    self._break_cow(v, cowp)
            a = lo
            for x in range(vlo, vhi):
                b = min(hi, (x + 1) << PAGE_SHIFT)
                f = pages.get(x)
                fo = -1 if f is None else f + (a & _OFF)
                if out:
                    last = out[-1]
                    if (fo == -1 and last[0] == -1) or (fo != -1 and last[0] != -1
                                                        and last[0] + last[1] == fo):
                        last[1] += b - a
                        a = b
                        continue
                out.append([fo, b - a])
                a = b
            pos = hi
        if pos < end:
            raise _err(_EFAULT)
        return out

    def read(self, addr: int, n: int) -> bytes:
        """Copy ``n`` bytes in from guest memory (needs a readable mapping); EFAULT."""
        if n <= 0:
            return b""
        if (addr & _OFF) + n <= PAGE_SIZE:  # fast path: one present page
            f = self.pages.get(addr >> PAGE_SHIFT)
            if f is not None:
                v = self.vmas.find(addr)
                if v.prot & _RWX:
                    f += addr & _OFF
                    return self.physmem.map[f:f + n]
        chunks = self._chunks(addr, n, False, False, True)
        view = self.physmem.view
        if len(chunks) == 1:
            f, ln = chunks[0]
            return bytes(ln) if f < 0 else bytes(view[f:f + ln])
        out = bytearray(n)
        pos = 0
        for f, ln in chunks:
            if f >= 0:
                out[pos:pos + ln] = view[f:f + ln]
            pos += ln
        return bytes(out)

    def _store(self, addr, data, force):
        mv = memoryview(data).cast("B")
        n = len(mv)
        if not n:
            return
        view = self.physmem.view
        pos = 0
        for f, ln in self._chunks(addr, n, True, force, False):
            view[f:f + ln] = mv[pos:pos + ln]
            pos += ln

    def write(self, addr: int, data) -> None:
        """Copy ``data`` out to guest memory (needs a writable mapping; breaks COW); EFAULT."""
        n = len(data)
        if 0 < n and (addr & _OFF) + n <= PAGE_SIZE and isinstance(data, (bytes, bytearray)):
            vpn = addr >> PAGE_SHIFT
            f = self.pages.get(vpn)
            if f is not None and vpn not in self.cow and self.vmas.find(addr).prot & _W:
                f += addr & _OFF
                self.physmem.view[f:f + n] = data
                return
        self._store(addr, data, False)

    def poke(self, addr: int, data) -> None:
        """Write guest memory ignoring protections (loader, ptrace POKE); EFAULT if unmapped."""
        self._store(addr, data, True)

    def zero(self, addr: int, n: int) -> None:
        """Zero guest memory ignoring protections; absent anonymous pages stay absent."""
        if n <= 0:
            return
        view = self.physmem.view
        for f, ln in self._chunks(addr, n, True, True, True):
            if f >= 0:
                view[f:f + ln] = bytes(ln)

    def read_cstring(self, addr: int, maxlen: int = 4096) -> bytes:
        """The NUL-terminated string at ``addr``, without the NUL.

        Reads at most ``maxlen`` bytes: a result of ``maxlen`` bytes means no
        NUL was found within them (the caller decides whether that is
        ENAMETOOLONG).  EFAULT only when a byte before the NUL is unreadable.
        """
        out = bytearray()
        pos = addr
        while len(out) < maxlen:
            n = min(PAGE_SIZE - (pos & _OFF), maxlen - len(out))
            b = self.read(pos, n)
            i = b.find(0)
            if i >= 0:
                out += b[:i]
                break
            out += b
            pos += n
        return bytes(out)

    def read_struct(self, addr: int, fmt: str) -> tuple:
        """struct.unpack(fmt) of guest memory at ``addr`` (use '<' formats)."""
        return struct.unpack(fmt, self.read(addr, struct.calcsize(fmt)))

    def write_struct(self, addr: int, fmt: str, *values) -> None:
        self.write(addr, struct.pack(fmt, *values))

    def read_u32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little")

    def read_u64(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 8), "little")

    def read_i32(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 4), "little", signed=True)

    def read_i64(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, 8), "little", signed=True)

    def write_u32(self, addr: int, value: int) -> None:
        self.write(addr, (value & 0xFFFFFFFF).to_bytes(4, "little"))

    def write_u64(self, addr: int, value: int) -> None:
        self.write(addr, (value & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"))

    # ------------------------------------------------------------ fork / exit
    def fork(self, new_host: HostAddressSpace, owns_host: bool = True) -> "MM":
        """A copy-on-write copy of this address space realised by ``new_host``.

        Private pages become shared COW pages of both (one more frame
        reference; both host-mapped without write); shared mappings share
        their SharedObject and refault lazily in the child; MADV_DONTFORK
        VMAs are left out and MADV_WIPEONFORK ones start empty.
        """
        child = MM(self.frames, new_host, owns_host, self.mmap_base)
        child.start_brk, child.brk = self.start_brk, self.brk
        child.stack_limit, child.max_map_count = self.stack_limit, self.max_map_count
        pages, cow, frames = self.pages, self.cow, self.frames
        cpages, ccow = child.pages, child.cow
        protect, cmap = self.host.protect, new_host.map
        for v in self.vmas:
            if v.flags & VmFlag.DONTFORK:
                continue
            child.vmas.insert(v.copy(), merge=False)
            if v.is_shared or v.flags & VmFlag.WIPEONFORK:
                continue
            prot = v.prot & _RWX
            ro = prot & ~_W
            for x in self._present(v.start >> PAGE_SHIFT, v.end >> PAGE_SHIFT):
                f = pages[x]
                frames.ref(f)
                if x not in cow:
                    cow.add(x)
                    if prot & _W:
                        protect(x << PAGE_SHIFT, PAGE_SIZE, ro)
                cpages[x] = f
                ccow.add(x)
                cmap(x << PAGE_SHIFT, PAGE_SIZE, ro, f)
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
        for x, f in self.pages.items():
            v = find(x << PAGE_SHIFT)
            if v is None or not v.is_shared:
                dead.append(f)
        self.pages = {}
        self.cow = set()
        self.vmas = VmaSet()
        if dead:
            self.frames.unref_many(dead)
        for v in vmas:
            if v.shared_obj is not None:
                v.shared_obj.put()
        if self.owns_host:
            self.host.release()
        else:
            for v in vmas:
                self.host.unmap(v.start, v.length)

    # ------------------------------------------------------------- /proc
    def maps_text(self) -> str:
        """The content of /proc/pid/maps."""
        lines = []
        for v in self.vmas:
            p = v.prot
            perms = ("r" if p & _R else "-") + ("w" if p & _W else "-") + \
                    ("x" if p & _X else "-") + ("s" if v.is_shared else "p")
            if v.backing is not None:
                off = v.pgoff << PAGE_SHIFT
                major, minor = getattr(v.backing, "dev", (0, 0))
                ino = getattr(v.backing, "ino", 0)
            else:
                off = (v.pgoff << PAGE_SHIFT) if v.is_shared else 0
                major = minor = ino = 0
            head = "%08x-%08x %s %08x %02x:%02x %d " % (v.start, v.end, perms, off, major, minor, ino)
            if v.name:
                head = head.ljust(72) + " " + v.name
            lines.append(head + "\n")
        return "".join(lines)
