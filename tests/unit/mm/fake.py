"""Test doubles for mm: a host address space that records and simulates its mappings."""

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
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


def check_consistent(mm):
    """Flush mm's host and check that host mappings mirror the page table exactly."""
    host = mm.host
    host.flush()
    expected = {}
    for vpn, frame in mm.pages.items():
        vma = mm.find_vma(vpn << PAGE_SHIFT)
        assert vma is not None, hex(vpn << PAGE_SHIFT)
        prot = vma.prot & 7
        if vpn in mm.cow:
            prot &= ~2
        expected[vpn] = (prot, frame)
    assert host.mapped == expected
