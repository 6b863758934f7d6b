"""The guest's physical memory: one memfd file, mapped by the supervisor too.

Offsets [0, frames_size) hold page frames (allocated by ``umlpy.mm.frames``);
above that, one STUB_SLOT_SIZE slot per stub holds its control pages and stacks.
Stubs inherit the file as fd ``STUB_PHYSMEM_FD`` (umlpy/abi/stub_abi.h) and map frames from it with
MAP_SHARED|MAP_FIXED; the supervisor reads and writes guest memory through its
own mapping (``view``) without a host system call per access.  The file is
sparse: only touched pages use host memory, and freed frames are given back
with MADV_REMOVE.
"""

import mmap
import os

from umlpy.abi.memory import PAGE_SIZE
from umlpy.abi.stub import STUB_SLOT_SIZE

from .hostfds import move_high

#: How many stubs one supervisor may have at once.
MAX_STUBS = 4096


class PhysMem:
    """A sparse memfd of ``frames_size`` bytes of frames plus stub slots."""

    def __init__(self, frames_size: int):
        assert frames_size % PAGE_SIZE == 0
        self.frames_size = frames_size
        self.size = frames_size + MAX_STUBS * STUB_SLOT_SIZE
        # Never on fds 0-2 (a guest's console) nor inherited: stubs get it by dup2.
        self.fd = move_high(os.memfd_create("umlpy-physmem", os.MFD_CLOEXEC))
        os.ftruncate(self.fd, self.size)
        self.map = mmap.mmap(self.fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.view = memoryview(self.map)
        self._free_slots = list(range(MAX_STUBS - 1, -1, -1))

    # --- frames -------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        return self.map[offset:offset + length]

    def write(self, offset: int, data) -> None:
        self.view[offset:offset + len(data)] = data

    def zero(self, offset: int, length: int) -> None:
        """Give pages back to the host; they read as zeroes afterwards."""
        self.map.madvise(mmap.MADV_REMOVE, offset, length)

    def copy(self, dst: int, src: int, length: int) -> None:
        self.map.move(dst, src, length)

    # --- stub slots ---------------------------------------------------------
    def alloc_stub_slot(self) -> int:
        """Return the physmem offset of a free stub slot."""
        if not self._free_slots:
            raise MemoryError("too many guest address spaces")
        return self.frames_size + self._free_slots.pop() * STUB_SLOT_SIZE

    def free_stub_slot(self, offset: int) -> None:
        self.zero(offset, STUB_SLOT_SIZE)
        self._free_slots.append((offset - self.frames_size) // STUB_SLOT_SIZE)

    def close(self):
        if self.fd >= 0:
            try:
                self.view.release()
                self.map.close()
            except (BufferError, ValueError):
                pass  # a live memoryview into the map: leave it to the GC
            os.close(self.fd)
            self.fd = -1
