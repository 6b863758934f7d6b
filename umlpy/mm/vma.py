"""Virtual memory areas and the sorted set of them that makes an address space.

A :class:`Vma` is a page-aligned range ``[start, end)`` with one protection
and one kind of backing: private anonymous, private file (copied page by page
from ``backing``), or shared (its pages belong to ``shared_obj``, anonymous or
a file's page cache).  Which pages are present is not recorded here but in
the page table of :class:`umlpy.mm.mm.MM`.

Each VMA holds one reference to its ``shared_obj``: splitting a VMA takes one
more, and whoever drops a VMA for good (``MM``) puts it.

:class:`VmaSet` keeps the VMAs sorted and non-overlapping, splits them at the
edges of a range, and merges neighbours that are compatible (same
protection, flags and name, private anonymous).
"""

import bisect
import enum

from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE


class VmFlag(enum.IntFlag):
    NONE = 0
    SHARED = 1        # MAP_SHARED: pages belong to shared_obj
    GROWSDOWN = 2     # MAP_GROWSDOWN: a fault just below extends the VMA
    DONTFORK = 4      # MADV_DONTFORK: not copied by fork
    WIPEONFORK = 8    # MADV_WIPEONFORK: the child sees zero pages
    STACK = 16        # MAP_STACK (informational)
    UNPRIV = 32       # UMLPY_PROT_UNPRIV: visible to unprivilege() in the caller's own mm
    NONLINEAR = 64    # remap_file_pages gave some pages their own offset (and protection)


class Vma:
    """One mapping: ``[start, end)`` with ``prot`` (PROT_* bits) and ``flags`` (VmFlag)."""

    __slots__ = ("start", "end", "prot", "flags", "backing", "pgoff", "shared_obj",
                 "name", "max_prot")

    def __init__(self, start: int, end: int, prot: int, flags: int = VmFlag.NONE,
                 backing=None, pgoff: int = 0, shared_obj=None, name: str = "",
                 max_prot: int = 7):
        assert start % PAGE_SIZE == 0 and end % PAGE_SIZE == 0 and start < end, (start, end)
        self.start = start
        self.end = end
        self.prot = int(prot)
        self.flags = VmFlag(flags)
        #: The MappableFile of a file mapping (None: anonymous).
        self.backing = backing
        #: File offset of ``start``, in pages (file mappings; shared object offset for shared).
        self.pgoff = pgoff
        #: The SharedObject holding a MAP_SHARED mapping's pages.
        self.shared_obj = shared_obj
        #: What /proc/pid/maps shows last: "[heap]", "[stack]", a path, "".
        self.name = name
        #: The protection mprotect may grant (the file's open mode for shared file maps).
        self.max_prot = max_prot

    # --- properties ---------------------------------------------------------
    @property
    def is_shared(self) -> bool:
        return bool(self.flags & VmFlag.SHARED)

    @property
    def is_anon(self) -> bool:
        return self.backing is None

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def npages(self) -> int:
        return (self.end - self.start) >> PAGE_SHIFT

    def size_pages(self) -> int | None:
        """How many pages its file or shared object has (None: no end).

        A page at or past it is beyond the object: SIGBUS for the guest,
        EFAULT for the kernel.  A file's size is read anew each time; an
        anonymous shared object keeps the size it was made with (mremap
        growing a MAP_SHARED|MAP_ANONYMOUS mapping gives SIGBUS beyond it, as
        Linux's shmem does).
        """
        if self.backing is not None:
            return (self.backing.size + PAGE_SIZE - 1) >> PAGE_SHIFT
        so = self.shared_obj
        return None if so is None else so.size_pages

    def pgoff_at(self, addr: int) -> int:
        """The file (or shared object) page offset that ``addr`` maps."""
        return self.pgoff + ((addr - self.start) >> PAGE_SHIFT)

    def copy(self, start=None, end=None) -> "Vma":
        """A copy of this VMA restricted to [start, end); takes a shared_obj ref."""
        start = self.start if start is None else start
        end = self.end if end is None else end
        if self.shared_obj is not None:
            self.shared_obj.get()
        return Vma(start, end, self.prot, self.flags, self.backing, self.pgoff_at(start),
                   self.shared_obj, self.name, self.max_prot)

    def can_merge(self, nxt: "Vma") -> bool:
        """Whether ``nxt``, starting at our end, can become part of this VMA."""
        return (self.end == nxt.start and self.prot == nxt.prot and self.flags == nxt.flags
                and self.name == nxt.name and self.max_prot == nxt.max_prot
                and self.backing is None and nxt.backing is None
                and self.shared_obj is None and nxt.shared_obj is None)

    def __repr__(self):
        return "Vma(%#x-%#x prot=%d %s%s)" % (self.start, self.end, self.prot, self.flags.name,
                                            " " + self.name if self.name else "")


class VmaSet:
    """The VMAs of an address space, sorted by address, never overlapping."""

    __slots__ = ("_starts", "_vmas")

    def __init__(self):
        self._starts: list[int] = []
        self._vmas: list[Vma] = []

    def __iter__(self):
        return iter(list(self._vmas))

    def __len__(self):
        return len(self._vmas)

    def __bool__(self):
        return bool(self._vmas)

    def find(self, addr: int) -> Vma | None:
        """The VMA containing ``addr``, or None."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0:
            v = self._vmas[i]
            if addr < v.end:
                return v
        return None

    def next_after(self, addr: int) -> Vma | None:
        """The first VMA that starts above ``addr``, or None."""
        i = bisect.bisect_right(self._starts, addr)
        return self._vmas[i] if i < len(self._vmas) else None

    def prev_before(self, addr: int) -> Vma | None:
        """The last VMA that ends at or below ``addr``, or None."""
        i = bisect.bisect_right(self._starts, addr) - 1
        while i >= 0:
            v = self._vmas[i]
            if v.end <= addr:
                return v
            i -= 1
        return None

    def _first_index(self, start):
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0 or self._vmas[i].end <= start:
            i += 1
        return i

    def overlapping(self, start: int, end: int) -> list[Vma]:
        """The VMAs that intersect [start, end), in address order."""
        out = []
        vmas = self._vmas
        i = self._first_index(start)
        while i < len(vmas) and vmas[i].start < end:
            out.append(vmas[i])
            i += 1
        return out

    def is_free(self, start: int, end: int) -> bool:
        i = self._first_index(start)
        return i >= len(self._vmas) or self._vmas[i].start >= end

    def covers(self, start: int, end: int) -> bool:
        """Whether [start, end) is mapped with no hole."""
        pos = start
        for v in self.overlapping(start, end):
            if v.start > pos:
                return False
            pos = v.end
        return pos >= end

    def insert(self, vma: Vma, merge: bool = True) -> Vma:
        """Insert ``vma`` (which must not overlap); return the VMA now holding it."""
        i = bisect.bisect_left(self._starts, vma.start)
        assert i == len(self._vmas) or self._vmas[i].start >= vma.end, (vma, self._vmas[i])
        assert i == 0 or self._vmas[i - 1].end <= vma.start, (vma, self._vmas[i - 1])
        self._starts.insert(i, vma.start)
        self._vmas.insert(i, vma)
        if merge:
            return self._merge_at(i)
        return vma

    def _merge_at(self, i) -> Vma:
        vmas = self._vmas
        v = vmas[i]
        if i + 1 < len(vmas) and v.can_merge(vmas[i + 1]):
            v.end = vmas[i + 1].end
            del vmas[i + 1], self._starts[i + 1]
        if i > 0 and vmas[i - 1].can_merge(v):
            vmas[i - 1].end = v.end
            del vmas[i], self._starts[i]
            v = vmas[i - 1]
        return v

    def merge_range(self, start: int, end: int) -> None:
        """Merge compatible neighbours among the VMAs touching [start, end]."""
        i = max(self._first_index(start) - 1, 0)
        while i + 1 < len(self._vmas) and self._vmas[i].start <= end:
            a, b = self._vmas[i], self._vmas[i + 1]
            if a.can_merge(b):
                a.end = b.end
                del self._vmas[i + 1], self._starts[i + 1]
            else:
                i += 1

    def split(self, addr: int) -> None:
        """Make ``addr`` a VMA boundary if it falls strictly inside a VMA."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return
        v = self._vmas[i]
        if v.start < addr < v.end:
            tail = v.copy(addr, v.end)
            v.end = addr
            self._starts.insert(i + 1, addr)
            self._vmas.insert(i + 1, tail)

    def isolate(self, start: int, end: int) -> list[Vma]:
        """Split at ``start`` and ``end``; return the VMAs now inside [start, end)."""
        self.split(start)
        self.split(end)
        return self.overlapping(start, end)

    def remove_range(self, start: int, end: int) -> list[Vma]:
        """Remove [start, end), splitting VMAs at the edges; return the removed pieces.

        The caller owns the pieces: it frees their pages and puts their
        shared_obj references.
        """
        self.split(start)
        self.split(end)
        i = self._first_index(start)
        j = i
        while j < len(self._vmas) and self._vmas[j].start < end:
            j += 1
        removed = self._vmas[i:j]
        del self._vmas[i:j], self._starts[i:j]
        return removed

    def remove(self, vma: Vma) -> None:
        i = bisect.bisect_left(self._starts, vma.start)
        assert self._vmas[i] is vma
        del self._vmas[i], self._starts[i]

    def rekey(self, vma: Vma, new_start: int) -> None:
        """Move ``vma``'s start to ``new_start`` (growsdown expansion); no overlap allowed."""
        self.remove(vma)
        vma.pgoff -= (vma.start - new_start) >> PAGE_SHIFT
        vma.start = new_start
        self.insert(vma, merge=False)
