"""Test doubles for mm: a host address space that records and simulates its mappings."""

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
from umlpy.mm.pagetable import PTE_COW, PTE_FRAME
from umlpy.platform.base import HostAddressSpace


class FakeHostAddressSpace(HostAddressSpace):
    """Records every flushed batch and keeps a page-level model of the host mappings.

    ``mapped``: {vpn: (prot, physmem offset)} as the stub would have it.
    A "protect" over an unmapped page fails, as host mprotect does (ENOMEM).
    """

    def __init__(self):
        super().__init__()
        self.batches = []
        self.mapped = {}
        self.release_count = 0

    def _run_batch(self, ops):
        self.batches.append(ops)
        for op in ops:
            assert MMAP_MIN_ADDR <= op.addr and op.addr + op.length <= TASK_SIZE, op
            first = op.addr >> PAGE_SHIFT
            for i in range(op.length >> PAGE_SHIFT):
                vpn = first + i
                if op.op == "map":
                    self.mapped[vpn] = (op.prot, op.offset + (i << PAGE_SHIFT))
                elif op.op == "unmap":
                    self.mapped.pop(vpn, None)
                else:
                    assert vpn in self.mapped, ("mprotect over an unmapped host page", op)
                    self.mapped[vpn] = (op.prot, self.mapped[vpn][1])

    def runs(self):
        """Maximal runs of ``mapped``: consecutive pages, same prot, contiguous frames."""
        n = 0
        for vpn, (prot, off) in self.mapped.items():
            if self.mapped.get(vpn - 1) != (prot, off - PAGE_SIZE):
                n += 1
        return n

    def release(self):
        self.release_count += 1
        self.released = True

    def take_ops(self):
        """Flush and return the ops of this flush (empty list if none)."""
        n = len(self.batches)
        self.flush()
        return [op for b in self.batches[n:] for op in b]


class FakeFile:
    """A MappableFile over an in-memory bytearray."""

    def __init__(self, data=b"", name="/bin/fake", ino=42, dev=(8, 1)):
        self.data = bytearray(data)
        self.name = name
        self.ino = ino
        self.dev = dev
        self._so = None
        self.writebacks = []

    @property
    def size(self):
        return len(self.data)

    def read_at(self, offset, n):
        return bytes(self.data[offset:offset + n])

    def shared_object(self, frames):
        from umlpy.mm.shared import SharedObject
        if self._so is None or self._so.released:
            self._so = SharedObject(frames, fill=self._fill, writeback=self._writeback, name=self.name)
        return self._so

    def _fill(self, pgoff):
        return self.read_at(pgoff << PAGE_SHIFT, PAGE_SIZE)

    def _writeback(self, pgoff, data):
        self.writebacks.append(pgoff)
        off = pgoff << PAGE_SHIFT
        n = max(0, min(len(data), len(self.data) - off))
        self.data[off:off + n] = data[:n]


def check_consistent(mm, exact=True):
    """Flush mm's host and check its host mappings against the page table.

    Every host-mapped page must be present and mapped at its pte's frame with
    its effective protection (its VMA's, minus write while COW); with
    ``exact``, every present page must also be host-mapped (no eviction).
    The host cache's own model must equal the host's, and its run count the
    host's real number of maximal runs, within the budget.
    """
    host = mm.host
    host.flush()
    expected = {}
    for vpn, pte in mm.pages.page_items():
        vma = mm.find_vma(vpn << PAGE_SHIFT)
        assert vma is not None, hex(vpn << PAGE_SHIFT)
        prot = vma.prot & 7
        assert pte & 7 == prot, (hex(vpn << PAGE_SHIFT), pte & 7, prot)
        if pte & PTE_COW:
            prot &= ~2
        expected[vpn] = (prot, pte & PTE_FRAME)
    if exact:
        assert host.mapped == expected
    else:
        assert all(expected.get(v) == m for v, m in host.mapped.items())
    cache = mm.hostcache
    assert {v: (x & 7, x & PTE_FRAME) for s, e, x0 in cache.mapped.all_items()
            for v, x in ((v, x0 + (v - s) * PAGE_SIZE) for v in range(s, e))} == host.mapped
    assert cache.runs == host.runs() <= cache.budget
