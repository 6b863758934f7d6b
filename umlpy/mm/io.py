"""Guest I/O for the kernel: copy-in/copy-out of guest memory, EFAULT on bad addresses.

:class:`IOMixin` (part of :class:`~umlpy.mm.mm.MM`) reads and writes guest
memory through the supervisor's own mapping of physmem (``physmem.view``),
never through the stub's host mappings, so it works whether or not the host
cache holds the pages.  It makes the pages it touches present (reads of
absent private anonymous pages allocate nothing: they read as zero) and
breaks COW before writing.  Permissions are the VMAs' (``poke`` and
``zero`` ignore them, as ptrace and the loader need); the one-page fast
paths use the pte's own protection, which always equals its VMA's today.
"""

import errno
import struct

from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
from umlpy.errors import SyscallError
from umlpy.mm.vma import VmFlag
from umlpy.mm.pagetable import PTE_BUS, PTE_COW, PTE_FRAME, PTE_PROT, PTE_WRITE

_OFF = PAGE_SIZE - 1
_W = PTE_WRITE
_WCOW = PTE_WRITE | PTE_COW | PTE_BUS
_EFAULT = errno.EFAULT
_NONLINEAR = VmFlag.NONLINEAR


def _err(e):
    return SyscallError(e)


def _add_chunk(out: list, fo: int, n: int) -> None:
    """Append physmem piece ``[fo or -1, n]`` to ``out``, extending the last one if it continues."""
    if out:
        last = out[-1]
        if (fo == -1 and last[0] == -1) or (fo != -1 and last[0] != -1 and last[0] + last[1] == fo):
            last[1] += n
            return
    out.append([fo, n])


class IOMixin:
    """Kernel access to guest memory (see the module docstring)."""

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
            if not force and not (v.prot & (_W if write else PTE_PROT)):
                raise _err(_EFAULT)
            lo, hi = pos, min(end, v.end)
            vlo, vhi = lo >> PAGE_SHIFT, ((hi - 1) >> PAGE_SHIFT) + 1
            eof = v.size_pages() if (v.backing is not None or v.shared_obj is not None) else None
            if eof is not None and v.pgoff_at(hi - 1) >= eof:
                raise _err(_EFAULT)  # a page past its object's end: SIGBUS for the guest
            anon_private = v.backing is None and not v.is_shared
            if not (lazy_zero and anon_private):
                self._populate(v, vlo, vhi)
            if write and self.may_cow and not v.is_shared:
                self._break_cow(vlo, vhi)
            items = pages.items(vlo, vhi)
            if v.flags & _NONLINEAR:
                # Pages of their own: their protection and object bounds are the pte's.
                need = _W if write else PTE_PROT
                for s, e, pte in items:
                    if pte & PTE_BUS or not (force or pte & need):
                        raise _err(_EFAULT)
            # Physmem pieces of [lo, hi): present extents, and gaps (-1) that read as zero.
            a = lo
            for s, e, pte in items:
                sa = s << PAGE_SHIFT
                if sa > a:
                    _add_chunk(out, -1, sa - a)
                    a = sa
                b = min(hi, e << PAGE_SHIFT)
                _add_chunk(out, (pte & PTE_FRAME) + (a - sa), b - a)
                a = b
            if a < hi:
                _add_chunk(out, -1, hi - a)
            pos = hi
        if pos < end:
            raise _err(_EFAULT)
        return out

    def read(self, addr: int, n: int) -> bytes:
        """Copy ``n`` bytes in from guest memory (needs a readable mapping); EFAULT."""
        if n <= 0:
            return b""
        if (addr & _OFF) + n <= PAGE_SIZE:  # fast path: one present page
            pte = self.pages.get(addr >> PAGE_SHIFT)
            if pte is not None and pte & PTE_PROT and not pte & PTE_BUS:
                f = (pte & PTE_FRAME) + (addr & _OFF)
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
            pte = self.pages.get(addr >> PAGE_SHIFT)
            if pte is not None and pte & _WCOW == _W:
                f = (pte & PTE_FRAME) + (addr & _OFF)
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
        # Fast path (every path argument): the NUL is on the first page, which is
        # present and readable; found in the frame itself, without copying the page.
        pte = self.pages.get(addr >> PAGE_SHIFT)
        if pte is not None and pte & PTE_PROT and not pte & PTE_BUS:
            f = (pte & PTE_FRAME) + (addr & _OFF)
            m = self.physmem.map
            i = m.find(b"\0", f, f + min(PAGE_SIZE - (addr & _OFF), maxlen))
            if i >= 0:
                return m[f:i]
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
