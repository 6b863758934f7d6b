"""Page-table entries and the page table: what the present guest pages are.

The page table of an :class:`~umlpy.mm.mm.MM` is a :class:`PageTable`, an
:class:`~umlpy.mm.extents.ExtentMap` of vpn ranges whose pages are present,
each extent backed by contiguous frames: page ``vpn`` of extent
``(start, end, pte)`` has the pte ``pte + (vpn - start) * PAGE_SIZE``.  A pte
is a plain int:

- bits 0-2 (``PTE_PROT``): the page's own protection, PROT_READ/WRITE/EXEC
  (its VMA's, except in remap_file_pages mappings with MAP_NOINHERIT);
- bit 3 (``PTE_COW``): the frame is (or was) shared with another address
  space since a fork, so the page is mapped without write until the write
  fault copies it (or finds it alone);
- bit 4 (``PTE_BUS``): a remap_file_pages page past the end of its object:
  no frame (the frame bits hold its page offset instead), never host-mapped,
  SIGBUS on access unless the object has grown to it since;
- bits 12 and up (``PTE_FRAME``): the frame's byte offset in physmem.

Fork, exit, munmap and mprotect work per extent, never per page: a 256 MiB
region touched in order is one extent.

Invariants: a private page's pte holds one reference to its frame; a shared
page's frame belongs to its SharedObject (no reference).  The effective
protection, what the page may be host-mapped with, is :func:`pte_eprot`:
the page's protection minus PROT_WRITE when ``PTE_COW`` is set.  An extent
never mixes pages of different VMAs in a way that matters: every walk clips
to the VMA it works on.
"""

from umlpy.abi.memory import PAGE_SIZE
from umlpy.mm.extents import ExtentMap

PTE_PROT = 7
PTE_READ, PTE_WRITE, PTE_EXEC = 1, 2, 4
PTE_COW = 8
PTE_BUS = 16
PTE_FRAME = ~(PAGE_SIZE - 1)
#: The bits a host mapping is made of: frame and protection (see hostcache).
PTE_HOST = PTE_FRAME | PTE_PROT


def make_pte(frame: int, prot: int, cow: bool = False) -> int:
    assert not frame & (PAGE_SIZE - 1), hex(frame)
    return frame | (prot & PTE_PROT) | (PTE_COW if cow else 0)


def pte_frame(pte: int) -> int:
    return pte & PTE_FRAME


def pte_prot(pte: int) -> int:
    """The page's own protection (what the guest asked for)."""
    return pte & PTE_PROT


def pte_eprot(pte: int) -> int:
    """The effective protection: the page's, without write while COW (bit 3 >> 2 is bit 1)."""
    return pte & PTE_PROT & ~((pte >> 2) & PTE_WRITE)


def pte_host(pte: int) -> int:
    """The host mapping this page wants, as ``frame | effective prot``."""
    return (pte & PTE_FRAME) | pte_eprot(pte)


class PageTable(ExtentMap):
    """vpn -> pte extents (see the module docstring).

    Iterating gives every present vpn (for tests and small ranges);
    ``units`` is the number of present pages, ``len()`` the number of extents.
    ``gen`` counts the changes that take or alter present pages (never
    additions): a VAS view that caches these pages in another host address
    space drops its cache when it moves (``umlpy.mm.vasview``).
    """

    __slots__ = ("gen",)

    def __init__(self):
        super().__init__(PAGE_SIZE)
        self.gen = 0

    def copy(self) -> "PageTable":
        m = super().copy()
        m.gen = 0
        return m

    def clear(self) -> None:
        self.gen += 1
        super().clear()

    def remove(self, lo: int, hi: int):
        out = super().remove(lo, hi)
        if out:
            self.gen += 1
        return out

    def apply(self, lo: int, hi: int, fn) -> None:
        self.gen += 1
        super().apply(lo, hi, fn)

    def __iter__(self):
        for s, e in zip(self.starts, self.ends):
            yield from range(s, e)

    def __getitem__(self, vpn: int) -> int:
        pte = self.get(vpn)
        if pte is None:
            raise KeyError(vpn)
        return pte

    def page_items(self):
        """``(vpn, pte)`` of every present page (tests)."""
        return self.units_in(self.starts[0], self.ends[-1]) if self.starts else iter(())


def host_items(items):
    """Page-table extents as host-cache extents: ``(start, end, frame | effective prot)``
    (PTE_BUS extents have no frame: left out)."""
    return [(s, e, (v & PTE_FRAME) | (v & PTE_PROT & ~((v >> 2) & PTE_WRITE))) for s, e, v in items
            if not v & PTE_BUS]
