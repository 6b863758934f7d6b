"""Extent maps: sorted, non-overlapping ranges of units with a value that continues.

An :class:`ExtentMap` maps each unit ``x`` of ``[start, end)`` ranges to
``value + (x - start) * step``: with ``step`` = PAGE_SIZE and values of the
form ``frame | bits``, one extent holds a run of pages backed by contiguous
frames (the page table, the host cache); with ``step`` = 0, one extent holds
a run of units sharing one value (frame reference counts).  This is what
makes fork, exit and munmap cost per range instead of per page (gVisor keeps
its pmas and its memory file's reference counts in segment sets for the
same reason).

Invariants: ``starts`` is sorted; extent ``i`` is
``[starts[i], ends[i])`` with ``starts[i] < ends[i] <= starts[i+1]``;
``units`` is the number of units covered.  Operations that insert or change
values merge an extent with a neighbour it continues (adjacent, and its value
is the neighbour's continued), so a map built or changed through them has
maximal extents; ``len()`` is then the number of maximal runs.

Extents live in three parallel lists searched with bisect: lookups cost
O(log n), an insertion or removal in the middle a memmove of the lists
(about 20 us at 100,000 extents), appends and work at the end almost nothing.
"""

from bisect import bisect_left, bisect_right


class ExtentMap:
    """``[start, end) -> value`` extents (see the module docstring)."""

    __slots__ = ("starts", "ends", "vals", "step", "units")

    def __init__(self, step: int = 0):
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.vals: list[int] = []
        self.step = step
        self.units = 0

    def copy(self) -> "ExtentMap":
        m = type(self).__new__(type(self))
        m.starts, m.ends, m.vals = self.starts[:], self.ends[:], self.vals[:]
        m.step, m.units = self.step, self.units
        return m

    def clear(self) -> None:
        self.starts, self.ends, self.vals = [], [], []
        self.units = 0

    def __len__(self) -> int:
        """The number of extents."""
        return len(self.starts)

    def __bool__(self) -> bool:
        return bool(self.starts)

    # --- lookups ---------------------------------------------------------------
    def index(self, x: int) -> int:
        """The index of the extent holding ``x``, or -1."""
        i = bisect_right(self.starts, x) - 1
        if i >= 0 and x < self.ends[i]:
            return i
        return -1

    def get(self, x: int, default=None):
        """The value of unit ``x``, or ``default``."""
        i = bisect_right(self.starts, x) - 1
        if i >= 0 and x < self.ends[i]:
            return self.vals[i] + (x - self.starts[i]) * self.step
        return default

    def __contains__(self, x: int) -> bool:
        i = bisect_right(self.starts, x) - 1
        return i >= 0 and x < self.ends[i]

    def span(self, lo: int, hi: int) -> tuple[int, int]:
        """``(i, j)``: extents ``i .. j-1`` are those that intersect [lo, hi)."""
        starts = self.starts
        i = bisect_right(starts, lo) - 1
        if i < 0 or self.ends[i] <= lo:
            i += 1
        return i, bisect_left(starts, hi)

    def items(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """The extents intersecting [lo, hi), clipped to it, as ``(start, end, value)``."""
        i, j = self.span(lo, hi)
        if i >= j:
            return []
        starts, ends, vals, step = self.starts, self.ends, self.vals, self.step
        out = list(zip(starts[i:j], ends[i:j], vals[i:j]))
        s, e, v = out[0]
        if s < lo:
            out[0] = (lo, e, v + (lo - s) * step)
        s, e, v = out[-1]
        if e > hi:
            out[-1] = (s, hi, v)
        return out

    def all_items(self) -> list[tuple[int, int, int]]:
        return list(zip(self.starts, self.ends, self.vals))

    def count(self, lo: int, hi: int) -> int:
        """How many units of [lo, hi) are covered."""
        return sum(e - s for s, e, _ in self.items(lo, hi))

    def gaps(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The uncovered pieces of [lo, hi), in order."""
        out = []
        pos = lo
        for s, e, _ in self.items(lo, hi):
            if s > pos:
                out.append((pos, s))
            pos = e
        if pos < hi:
            out.append((pos, hi))
        return out

    def first(self) -> int:
        return self.starts[0]

    def last(self) -> int:
        """One past the last covered unit."""
        return self.ends[-1]

    # --- changes ---------------------------------------------------------------
    def split(self, x: int) -> None:
        """Make ``x`` an extent boundary if it falls strictly inside an extent."""
        starts = self.starts
        i = bisect_right(starts, x) - 1
        if i >= 0 and starts[i] < x < self.ends[i]:
            starts.insert(i + 1, x)
            self.ends.insert(i + 1, self.ends[i])
            self.vals.insert(i + 1, self.vals[i] + (x - starts[i]) * self.step)
            self.ends[i] = x

    def remove(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """Uncover [lo, hi); return what was there, as :meth:`items` would have."""
        if lo >= hi:
            return []
        self.split(lo)
        self.split(hi)
        i, j = self.span(lo, hi)
        if i >= j:
            return []
        out = list(zip(self.starts[i:j], self.ends[i:j], self.vals[i:j]))
        del self.starts[i:j], self.ends[i:j], self.vals[i:j]
        self.units -= sum(e - s for s, e, _ in out)
        return out

    def _continues(self, i: int, s: int, v: int) -> bool:
        """Whether a piece starting at ``s`` with value ``v`` continues extent ``i``."""
        return self.ends[i] == s and self.vals[i] + (s - self.starts[i]) * self.step == v

    def insert(self, s: int, e: int, v: int) -> None:
        """Cover [s, e) (which must be uncovered) with value ``v``, merging with neighbours."""
        starts, ends, vals = self.starts, self.ends, self.vals
        i = bisect_left(starts, s)
        assert (i == len(starts) or starts[i] >= e) and (i == 0 or ends[i - 1] <= s), (s, e)
        self.units += e - s
        nxt = i < len(starts) and starts[i] == e and vals[i] == v + (e - s) * self.step
        if i > 0 and self._continues(i - 1, s, v):
            if nxt:
                ends[i - 1] = ends[i]
                del starts[i], ends[i], vals[i]
            else:
                ends[i - 1] = e
        elif nxt:
            starts[i] = s
            vals[i] = v
        else:
            starts.insert(i, s)
            ends.insert(i, e)
            vals.insert(i, v)

    def assign(self, s: int, e: int, v: int) -> list[tuple[int, int, int]]:
        """Cover [s, e) with ``v`` whatever was there; return what was replaced."""
        old = self.remove(s, e)
        self.insert(s, e, v)
        return old

    def merge(self, lo: int, hi: int) -> None:
        """Merge the continuing neighbours among the extents touching [lo, hi]."""
        starts, ends, vals, step = self.starts, self.ends, self.vals, self.step
        i = max(bisect_left(starts, lo) - 1, 0)
        while i + 1 < len(starts) and starts[i] <= hi:
            if ends[i] == starts[i + 1] and vals[i] + (ends[i] - starts[i]) * step == vals[i + 1]:
                ends[i] = ends[i + 1]
                del starts[i + 1], ends[i + 1], vals[i + 1]
            else:
                i += 1

    def apply(self, lo: int, hi: int, fn) -> None:
        """Replace the value of every covered piece of [lo, hi) by ``fn(value)``.

        ``fn`` must keep the continuation of values within an extent (it may
        change flag bits, never the step).  Merges afterwards.
        """
        self.split(lo)
        self.split(hi)
        i, j = self.span(lo, hi)
        vals = self.vals
        for k in range(i, j):
            vals[k] = fn(vals[k])
        if i < j:
            self.merge(lo, hi)

    def shift(self, delta: int) -> None:
        """Move every extent by ``delta`` units (values unchanged)."""
        self.starts = [s + delta for s in self.starts]
        self.ends = [e + delta for e in self.ends]

    # --- per-unit views (tests, /proc, small ranges) ----------------------------
    def units_in(self, lo: int, hi: int):
        """``(x, value)`` for every covered unit of [lo, hi)."""
        step = self.step
        for s, e, v in self.items(lo, hi):
            for x in range(s, e):
                yield x, v + (x - s) * step
