"""Page-table entries: what one present guest page is, on its own.

The page table of an :class:`~umlpy.mm.mm.MM` is ``pages: {vpn: pte}``, one
entry per present page.  A pte is a plain int (fast to store, compare and
copy in the fault and I/O hot paths):

- bits 0-2 (``PTE_PROT``): the page's own protection, PROT_READ/WRITE/EXEC
  (today always its VMA's; remap_file_pages will give pages their own);
- bit 3 (``PTE_COW``): the frame is (or was) shared with another address
  space since a fork, so the page is mapped without write until the write
  fault copies it (or finds it alone);
- bits 12-51 (``PTE_FRAME``): the frame's byte offset in physmem;
- bits 52 and up: the page's offset, in pages, in its file or shared object
  (0 for private anonymous pages).

Invariants: a private page's pte holds one reference to its frame; a shared
page's frame belongs to its SharedObject (no reference).  The effective
protection, what the page may be host-mapped with, is :func:`pte_eprot`:
the page's protection minus PROT_WRITE when ``PTE_COW`` is set.
"""

from umlpy.abi.memory import PAGE_SIZE

PTE_PROT = 7
PTE_READ, PTE_WRITE, PTE_EXEC = 1, 2, 4
PTE_COW = 8
PTE_PGOFF_SHIFT = 52
PTE_FRAME = ((1 << PTE_PGOFF_SHIFT) - 1) & ~(PAGE_SIZE - 1)
#: The bits a host mapping is made of: frame and protection (see hostcache).
PTE_HOST = PTE_FRAME | PTE_PROT


def make_pte(frame: int, prot: int, pgoff: int = 0, cow: bool = False) -> int:
    assert not frame & ~PTE_FRAME, hex(frame)
    return (pgoff << PTE_PGOFF_SHIFT) | frame | (prot & PTE_PROT) | (PTE_COW if cow else 0)


def pte_frame(pte: int) -> int:
    return pte & PTE_FRAME


def pte_prot(pte: int) -> int:
    """The page's own protection (what the guest asked for)."""
    return pte & PTE_PROT


def pte_pgoff(pte: int) -> int:
    return pte >> PTE_PGOFF_SHIFT


def pte_eprot(pte: int) -> int:
    """The effective protection: the page's, without write while COW (bit 3 >> 2 is bit 1)."""
    return pte & PTE_PROT & ~((pte >> 2) & PTE_WRITE)


def pte_host(pte: int) -> int:
    """The host mapping this page wants, as ``frame | effective prot``."""
    return (pte & PTE_FRAME) | pte_eprot(pte)


def present(pages: dict, lo: int, hi: int) -> list[int]:
    """Sorted keys of ``pages`` in [lo, hi); cost ~min(hi-lo, len(pages))."""
    if hi - lo <= len(pages):
        return [v for v in range(lo, hi) if v in pages]
    return sorted(v for v in pages if lo <= v < hi)


def consecutive_runs(vpns):
    """Split a sorted vpn list into lists of consecutive vpns."""
    run = []
    for v in vpns:
        if run and v != run[-1] + 1:
            yield run
            run = []
        run.append(v)
    if run:
        yield run


def host_runs(items):
    """Group sorted ``(vpn, frame | prot)`` pairs into ``(vpn, value, npages)`` runs.

    A run is consecutive vpns whose values continue each other (same
    protection, contiguous frames): one host mapping.
    """
    it = iter(items)
    for v0, x0 in it:
        n = 1
        break
    else:
        return
    for v, x in it:
        if v == v0 + n and x == x0 + n * PAGE_SIZE:
            n += 1
            continue
        yield v0, x0, n
        v0, x0, n = v, x, 1
    yield v0, x0, n
