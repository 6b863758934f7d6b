"""The mapping system calls: mmap, munmap, mprotect, brk, mremap.

:class:`MmapMixin` (part of :class:`~umlpy.mm.mm.MM`) checks arguments as
Linux does and changes the VMAs, then the page table and the host cache
through the primitives of :mod:`umlpy.mm.mm` and :mod:`umlpy.mm.fault`.

VMA count limit (``MM.max_map_count``, Linux's vm.max_map_count): as in
Linux, mmap and brk fail with ENOMEM when the count is already *above* the
limit (do_mmap, do_brk_flags); every split that an mprotect, munmap, MAP_FIXED
mmap or madvise needs fails with ENOMEM when the count has *reached* it
(split_vma), keeping what was done before the failing split; mremap keeps
Linux's margins (move_vma: 3 below, mremap_to: 5 below).
"""

import errno

from umlpy.abi import mman as _mman
from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE, page_align_up
from umlpy.abi.mman import MAP
from umlpy.abi.extensions import UMLPY_PROT_UNPRIV
from umlpy.errors import SyscallError
from umlpy.mm.frames import OutOfMemory
from umlpy.mm.pagetable import PTE_PROT, host_items, pte_eprot
from umlpy.mm.shared import SharedObject
from umlpy.mm.vma import Vma, VmFlag

# Plain ints: ``~`` on an IntFlag would only invert its defined bits.
(MAP_32BIT, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_POPULATE,
 MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_TYPE, MREMAP_DONTUNMAP,
 MREMAP_FIXED, MREMAP_MAYMOVE, PROT_GROWSDOWN, PROT_GROWSUP, PROT_SEM) = (
    int(getattr(_mman, n)) for n in (
        "MAP_32BIT", "MAP_ANONYMOUS", "MAP_FIXED", "MAP_FIXED_NOREPLACE", "MAP_GROWSDOWN",
        "MAP_POPULATE", "MAP_PRIVATE", "MAP_SHARED", "MAP_SHARED_VALIDATE", "MAP_STACK",
        "MAP_TYPE", "MREMAP_DONTUNMAP", "MREMAP_FIXED", "MREMAP_MAYMOVE", "PROT_GROWSDOWN",
        "PROT_GROWSUP", "PROT_SEM"))
_R, _W = 1, 2
_RWX = PTE_PROT
_OFF = PAGE_SIZE - 1
_MAP_KNOWN = int(sum(MAP)) & ~MAP_TYPE
_UNPRIV_PROT = UMLPY_PROT_UNPRIV
_PROT_KNOWN = _RWX | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP | _UNPRIV_PROT
_MAP32_LOW, _MAP32_HIGH = 0x40000000, 0x80000000


def _err(e):
    return SyscallError(e)


class MmapMixin:
    """mmap(2), munmap(2), mprotect(2), brk(2), mremap(2) (see the module docstring)."""

    # ------------------------------------------------------- VMA count limit
    def _check_split(self) -> None:
        """Linux split_vma: no split once the VMA count has reached max_map_count."""
        if len(self.vmas) >= self.max_map_count:
            raise _err(errno.ENOMEM)

    def _check_unmap_split(self, start: int, end: int) -> None:
        """Unmapping [start, end) strictly inside one VMA splits it in three: the limit applies."""
        v = self.vmas.find(start)
        if v is not None and v.start < start and end < v.end:
            self._check_split()

    def _change_range(self, addr: int, end: int, prot: int | None, flags) -> None:
        """Set ``prot`` (PROT_* or None) and ``flags`` (VmFlag or None) on [addr, end).

        VMA by VMA, as Linux's vma_modify: an unchanged VMA is left alone; a
        piece that touches a compatible neighbour merges into it instead of
        splitting; each split needed is checked against max_map_count, and a
        failure leaves the VMAs before it changed.  Present pages get the new
        protection in their ptes and their host mappings.
        """
        vmas = self.vmas
        for v in vmas.overlapping(addr, end):
            newprot = v.prot if prot is None else prot
            newflags = v.flags if flags is None else flags
            if newprot == v.prot and newflags == v.flags:
                continue
            vs, ve, oldprot = v.start, v.end, v.prot
            s, e = max(vs, addr), min(ve, end)
            mergeable = v.backing is None and v.shared_obj is None
            t = Vma(s, e, newprot, newflags, name=v.name, max_prot=v.max_prot)
            if vs < s:
                nxt = vmas.next_after(s)
                if not (e == ve and mergeable and nxt is not None and t.can_merge(nxt)):
                    self._check_split()
                vmas.split(s)
            if e < ve:
                prv = vmas.prev_before(s)
                if not (s == vs and mergeable and prv is not None and prv.can_merge(t)):
                    self._check_split()
                vmas.split(e)
            piece = vmas.find(s)
            piece.prot, piece.flags = newprot, newflags
            if newprot != oldprot:
                self._reprotect(s, e, newprot)
            vmas.merge_range(s, e)

    def _reprotect(self, start: int, end: int, prot: int) -> None:
        """Give the present pages of [start, end) protection ``prot``, ptes and host."""
        lo, hi = start >> PAGE_SHIFT, end >> PAGE_SHIFT
        pages = self.pages
        if not pages.items(lo, hi):
            return
        pages.apply(lo, hi, lambda pte: (pte & ~_RWX) | prot)
        cache = self.hostcache
        for s, e, pte in pages.items(lo, hi):
            cache.protect(s, e, pte_eprot(pte))

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
             *, max_prot: int = _RWX, name: str | None = None, shared_obj=None) -> int:
        """Mmap implements mmap(2); returns the address.

        ``backing`` is the MappableFile for file mappings (the caller has
        resolved the fd and checked its open mode: ``max_prot`` is what that
        mode allows, checked here and by later mprotect calls).  ``name``
        overrides the /proc/pid/maps name.  ``shared_obj``: with
        MAP_SHARED|MAP_ANONYMOUS, map this existing SharedObject (at page
        ``offset``) instead of a new one (VAS segments).
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
        unpriv = prot & _UNPRIV_PROT
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
        if len(self.vmas) > self.max_map_count:
            raise _err(errno.ENOMEM)        # Linux do_mmap: "Too many mappings?"
        self._check_unmap_split(addr, addr + length)
        vmflags = VmFlag.NONE
        if flags & MAP_GROWSDOWN:
            vmflags |= VmFlag.GROWSDOWN
        if flags & MAP_STACK:
            vmflags |= VmFlag.STACK
        if unpriv:
            vmflags |= VmFlag.UNPRIV
        so = None
        pgoff = offset >> PAGE_SHIFT
        if kind == MAP_SHARED:
            vmflags |= VmFlag.SHARED
            if anon and shared_obj is not None:
                so = shared_obj
            elif anon:
                so = SharedObject(self.frames, name="/dev/zero (deleted)")
                so.size_pages = length >> PAGE_SHIFT
                pgoff = 0
            else:
                so = backing.shared_object(self.frames)
            so.get()
        elif anon:
            pgoff = 0
        if name is None:
            name = backing.name if backing is not None else (so.name if so is not None else "")
        self._unmap_range(addr, addr + length)
        self.pages.gen += 1         # a new mapping may hide what a VAS view showed there
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
        self._check_unmap_split(addr, end)
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
        vmas = self.vmas.overlapping(addr, end)
        for v in vmas:
            if p & ~v.max_prot:
                raise _err(errno.EACCES)
        want_unpriv = bool(prot & _UNPRIV_PROT)
        if all(bool(v.flags & VmFlag.UNPRIV) == want_unpriv for v in vmas):
            self._change_range(addr, end, p, None)
            return
        # prot is the whole new protection: the UMLPY_PROT_UNPRIV bit is set or cleared too.
        pieces = [(max(v.start, addr), min(v.end, end), v.flags) for v in vmas]
        for s, e, f in pieces:     # ranges taken first: the changes split and merge VMAs
            f = (f | VmFlag.UNPRIV) if want_unpriv else (f & ~VmFlag.UNPRIV)
            self._change_range(s, e, p, f)

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
        if len(self.vmas) > self.max_map_count:
            return old                      # Linux do_brk_flags

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
            # Linux mremap_to: room for both ranges to split in three, and for move_vma.
            if len(self.vmas) + 2 >= self.max_map_count - 3:
                raise _err(errno.ENOMEM)
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
        """Move [old, old+old_len) of ``vma`` to ``dest`` with size ``new_len``.

        The page table's extents move with it (frames, COW state and per-page
        protections kept, nothing copied); the source VMA goes before the new
        one is inserted, since the new one may merge with what is around it.
        """
        if len(self.vmas) >= self.max_map_count - 3:
            raise _err(errno.ENOMEM)        # Linux move_vma
        if old_len == 0:  # duplicate a shared mapping
            so = vma.shared_obj.get()
            self.vmas.insert(Vma(dest, dest + new_len, vma.prot, vma.flags, vma.backing,
                                 vma.pgoff_at(old), so, vma.name, vma.max_prot))
            return dest
        # Unmapping the destination may have split ``vma``: take the piece at ``old``.
        pieces = self.vmas.isolate(old, old + old_len)
        assert len(pieces) == 1 and pieces[0].start == old and pieces[0].end == old + old_len, \
            (pieces, old, old_len)
        src = pieces[0]
        so = src.shared_obj
        if so is not None:
            so.get()
        newv = Vma(dest, dest + new_len, src.prot, src.flags, src.backing, src.pgoff, so, src.name,
                   src.max_prot)
        delta = (dest - old) >> PAGE_SHIFT
        lo, hi = old >> PAGE_SHIFT, (old + old_len) >> PAGE_SHIFT
        moved = [(s + delta, e + delta, pte) for s, e, pte in self.pages.remove(lo, hi)]
        self.hostcache.unmap_range(lo, hi)
        if not dontunmap:
            self.vmas.remove(src)
            if so is not None:
                so.put()
        for s, e, pte in moved:
            self.pages.insert(s, e, pte)
        self.vmas.insert(newv)
        self.hostcache.map_extents(host_items(moved), bounded=True)
        return dest
