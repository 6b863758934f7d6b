"""Page frames of the guest's physical memory (the physmem file).

A frame is named by its byte offset in the physmem file, in
``[0, physmem.frames_size)``.  :class:`FrameAllocator` hands frames out in
runs of contiguous frames (so that the pages of one fault or one buffer get
contiguous frames and their host mappings merge into one stub operation) and
keeps a reference count per allocated frame, by range: ``_refs`` is an
:class:`~umlpy.mm.extents.ExtentMap` of page indexes whose extents are runs
of frames with the same count, so that fork and exit take or drop the
references of a whole run at once (:meth:`ref_range`, :meth:`unref_range`).

Invariants:
- a frame is either free or has a refcount >= 1 in ``_refs``;
- a free frame reads as zeroes: frames start zero (the file is sparse) and
  are zeroed with ``physmem.zero`` (MADV_REMOVE, which also gives the host
  memory back) when their last reference goes;
- ``used_pages <= limit_pages``.

Allocation policy: a bump pointer over never-used frames plus a sorted list of
free runs (coalesced on free; a run that touches the bump pointer lowers it).
Requests take the bump area when it has room for the whole request, else the
first free run that is large enough, else whatever pieces exist.
"""

import bisect
import errno

from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE
from umlpy.errors import SyscallError
from umlpy.mm.extents import ExtentMap
from umlpy.platform.physmem import PhysMem


class OutOfMemory(SyscallError):
    """No page frame is left within the memory limit.

    A :class:`SyscallError` with ENOMEM, so a system call that runs out of
    frames simply fails with ENOMEM; code that must tell the guest's OOM
    situation apart (the fault path) catches this class.
    """

    def __init__(self):
        super().__init__(errno.ENOMEM)


class FrameAllocator:
    """Allocates page frames of ``physmem`` and counts references to them."""

    def __init__(self, physmem: PhysMem, limit_pages: int | None = None):
        self.physmem = physmem
        self.total_pages = physmem.frames_size >> PAGE_SHIFT
        if limit_pages is None or limit_pages > self.total_pages:
            limit_pages = self.total_pages
        #: The most frames that may be in use at once (the guest's memory size).
        self.limit_pages = limit_pages
        #: Frames currently allocated.
        self.used_pages = 0
        self._refs = ExtentMap(0)           # page index -> refcount, by runs
        self._bump = 0                      # first never-used frame (page index)
        self._free_starts: list[int] = []   # sorted page indexes of free runs
        self._free_len: dict[int, int] = {}  # run start -> length in pages

    # --- allocation ---------------------------------------------------------
    def alloc(self, npages: int) -> list[tuple[int, int]]:
        """Allocate ``npages`` frames (refcount 1 each, reading zero).

        Returns runs ``[(offset, npages), ...]``, a single run whenever
        possible.  Raises :class:`OutOfMemory` (ENOMEM) beyond the limit.
        """
        assert npages > 0
        if self.used_pages + npages > self.limit_pages:
            raise OutOfMemory()
        runs = self._take(npages)
        self.used_pages += npages
        refs = self._refs
        for off, n in runs:
            refs.insert(off >> PAGE_SHIFT, (off >> PAGE_SHIFT) + n, 1)
        return runs

    def available(self) -> int:
        """How many more frames may be allocated now."""
        return self.limit_pages - self.used_pages

    def alloc_one(self) -> int:
        """Allocate one frame and return its offset."""
        return self.alloc(1)[0][0]

    def _take(self, npages):
        if self._bump + npages <= self.total_pages:
            start = self._bump
            self._bump += npages
            return [(start << PAGE_SHIFT, npages)]
        starts, lens = self._free_starts, self._free_len
        for i, s in enumerate(starts):
            n = lens[s]
            if n >= npages:
                self._del_free(i, s)
                if n > npages:
                    self._add_free_at(s + npages, n - npages)
                return [(s << PAGE_SHIFT, npages)]
        # Fragmented: gather pieces, free runs first, then the bump area.
        runs, need = [], npages
        while need and starts:
            s = starts[0]
            n = lens[s]
            self._del_free(0, s)
            if n > need:
                self._add_free_at(s + need, n - need)
                n = need
            runs.append((s << PAGE_SHIFT, n))
            need -= n
        if need:
            # The limit check guarantees the rest fits in the bump area.
            assert self._bump + need <= self.total_pages
            runs.append((self._bump << PAGE_SHIFT, need))
            self._bump += need
        return runs

    def _del_free(self, i, s):
        del self._free_starts[i]
        del self._free_len[s]

    def _add_free_at(self, s, n):
        bisect.insort(self._free_starts, s)
        self._free_len[s] = n

    # --- references ---------------------------------------------------------
    def refcount(self, off: int) -> int:
        """The frame's refcount (0 when free)."""
        return self._refs.get(off >> PAGE_SHIFT, 0)

    def ref(self, off: int) -> int:
        """Take one more reference to an allocated frame; return the new count."""
        self.ref_range(off, 1)
        return self.refcount(off)

    def unref(self, off: int) -> int:
        """Drop one reference; free (and zero) the frame at 0.  Return the new count."""
        self.unref_range(off, 1)
        return self.refcount(off)

    def ref_range(self, off: int, npages: int) -> None:
        """Take one more reference to each of the ``npages`` allocated frames from ``off``."""
        lo = off >> PAGE_SHIFT
        hi = lo + npages
        refs = self._refs
        assert refs.count(lo, hi) == npages, ("ref of a free frame", hex(off), npages)
        refs.apply(lo, hi, _plus_one)

    def unref_range(self, off: int, npages: int) -> None:
        """Drop one reference to each of the ``npages`` frames from ``off``; free those at 0."""
        lo = off >> PAGE_SHIFT
        hi = lo + npages
        refs = self._refs
        refs.split(lo)
        refs.split(hi)
        i, j = refs.span(lo, hi)
        starts, ends, vals = refs.starts, refs.ends, refs.vals
        assert sum(ends[k] - starts[k] for k in range(i, j)) == npages, ("unref of a free frame",
                                                                          hex(off), npages)
        dead = []
        for k in range(i, j):
            if vals[k] == 1:
                dead.append((starts[k], ends[k]))
            else:
                vals[k] -= 1
        refs.merge(lo, hi)
        for s, e in dead:
            refs.remove(s, e)
            self.used_pages -= e - s
            self.physmem.zero(s << PAGE_SHIFT, (e - s) << PAGE_SHIFT)
            self._release_run(s, e - s)

    def unref_many(self, offs) -> None:
        """Drop one reference to each frame of ``offs`` (in any order), by runs."""
        offs = sorted(offs)
        i, count = 0, len(offs)
        while i < count:
            j = i + 1
            while j < count and offs[j] == offs[j - 1] + PAGE_SIZE:
                j += 1
            self.unref_range(offs[i], j - i)
            i = j

    def _release_run(self, s, n):
        starts, lens = self._free_starts, self._free_len
        i = bisect.bisect_left(starts, s)
        # Coalesce with the previous and the next free run.
        if i > 0:
            p = starts[i - 1]
            if p + lens[p] == s:
                s, n = p, n + lens[p]
                i -= 1
                self._del_free(i, p)
        if i < len(starts) and starts[i] == s + n:
            q = starts[i]
            n += lens[q]
            self._del_free(i, q)
        if s + n == self._bump:
            self._bump = s
        else:
            starts.insert(i, s)
            lens[s] = n

    def free_runs(self) -> list[tuple[int, int]]:
        """The free runs below the bump pointer, as (offset, npages) (for tests)."""
        return [(s << PAGE_SHIFT, self._free_len[s]) for s in self._free_starts]


def _plus_one(v):
    return v + 1
