"""Guest call chains for ``trace --stack`` (strace -k), from the program's ELF.

:class:`Unwinder` walks the stack of a task stopped at a system call and
returns one line per frame, innermost first, in strace -k's format (its
libunwind back end, the one whose offsets are the raw return addresses)::

    /path/of/prog(symbol+0x1a) [0x1234]     file offset of the address
    /path/of/prog() [0x1234]                no symbol covers it
    unexpected_backtracing_error [0x7f..]   not in any executable mapping

Frames are unwound with the ``.eh_frame`` CFI of the image (decoded by
pyelftools), and with the rbp chain where there is no FDE.  Only the main
program's ELF is known (``t.group.image``); a frame in another executable
mapping (the dynamic loader, the vDSO) is printed by its mapping name and
left through the frame pointer.

Invariants: ``backtrace`` never raises (a broken stack just ends the chain)
and returns at most :data:`MAX_FRAMES` frames (plus strace's "too many stack
frames" line when it cuts).  An image is parsed once per (path, contents):
the FDE ranges and the symbols are indexed up front by a light scan, and an
FDE's CFA table is decoded on first use, so a backtrace costs a few bisects
and guest-memory reads per frame.
"""

import bisect
import io
import struct
from collections import OrderedDict

MAX_FRAMES = 64

#: DWARF register numbers of x86-64 (psABI figure 3.36) -> user_regs_struct fields.
DWARF_REGS = ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
              "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip")
REG_RBP, REG_RSP, REG_RA = 6, 7, 16

PT_LOAD, PF_X = 1, 1
SHF_EXECINSTR = 4
STT_NOTYPE, STT_FUNC, STT_GNU_IFUNC = 0, 2, 10
PROT_EXEC = 4
PAGE_SIZE = 4096
M64 = (1 << 64) - 1

_SYM = struct.Struct("<IBBHQQ")     # Elf64_Sym
_PUSH_RBP_MOV = b"\x55\x48\x89\xe5"   # push %rbp; mov %rsp,%rbp
_ENDBR64 = b"\xf3\x0f\x1e\xfa"
#: How far up the stack a frame without CFI or frame pointer is searched for its return address.
SCAN_WORDS = 512

#: How many parsed images to keep (each holds its ELF bytes).
IMAGE_CACHE_SIZE = 8


class _Stop(Exception):
    """The walk cannot go on (unreadable memory, a rule we cannot evaluate)."""


# --- .eh_frame index ----------------------------------------------------------------
def _uleb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def _sleb(data, pos):
    result, end = _uleb(data, pos)
    if data[end - 1] & 0x40:              # sign bit of the last 7-bit group
        result -= 1 << (7 * (end - pos))
    return result, end


_FIXED = {0x00: "<Q", 0x02: "<H", 0x03: "<I", 0x04: "<Q", 0x0A: "<h", 0x0B: "<i", 0x0C: "<q"}


def _encoded(data, pos, enc, field_addr):
    """A DW_EH_PE-encoded pointer at ``data[pos]``: (value, next pos)."""
    fmt = enc & 0x0F
    if fmt == 0x01:
        val, pos = _uleb(data, pos)
    elif fmt == 0x09:
        val, pos = _sleb(data, pos)
    else:
        f = _FIXED.get(fmt)
        if f is None:
            raise ValueError("pointer encoding %#x" % enc)
        val = struct.unpack_from(f, data, pos)[0]
        pos += struct.calcsize(f)
    app = enc & 0x70
    if app == 0x10:            # DW_EH_PE_pcrel
        val += field_addr
    elif app != 0x00:
        raise ValueError("pointer application %#x" % enc)
    return val & M64, pos


def _scan_eh_frame(sec, addr):
    """(start, end, section offset, signal frame) of every FDE of an .eh_frame section.

    Only the headers are read (a few ms for glibc's thousand FDEs); the
    instructions are left to pyelftools when a frame needs them.
    """
    cies = {}
    out = []
    off = 0
    n = len(sec)
    while off + 4 <= n:
        length = struct.unpack_from("<I", sec, off)[0]
        if length == 0:
            break                         # the terminator
        if length == 0xFFFFFFFF:
            return out                    # 64-bit DWARF: never in .eh_frame on x86-64
        body = off + 4
        nxt = body + length
        cie_id = struct.unpack_from("<I", sec, body)[0]
        if cie_id == 0:
            cies[off] = _cie_info(sec, body + 4)
        else:
            cie = cies.get(body - cie_id)
            if cie is not None:
                enc, signal = cie
                try:
                    start, p = _encoded(sec, body + 4, enc, addr + body + 4)
                    size, _ = _encoded(sec, p, enc & 0x0F, 0)
                except (ValueError, IndexError, struct.error):
                    start = size = 0
                if size:
                    out.append((start, start + size, off, signal))
        off = nxt
    return out


def _cie_info(sec, pos):
    """(FDE pointer encoding, is a signal frame) of the CIE whose version byte is at pos."""
    version = sec[pos]
    end = sec.index(b"\0", pos + 1)
    aug = bytes(sec[pos + 1:end])
    pos = end + 1
    _, pos = _uleb(sec, pos)              # code alignment
    _, pos = _sleb(sec, pos)              # data alignment
    if version == 1:
        pos += 1
    else:
        _, pos = _uleb(sec, pos)          # return address register
    enc = 0x00
    if aug.startswith(b"z"):
        _, pos = _uleb(sec, pos)
        for ch in aug[1:]:
            if ch == ord("R"):
                enc = sec[pos]
                pos += 1
            elif ch == ord("L"):
                pos += 1
            elif ch == ord("P"):
                penc = sec[pos]
                _, pos = _encoded(sec, pos + 1, penc & 0x7F, 0)
            elif ch != ord("S"):
                break
    return enc, b"S" in aug


# --- one parsed program ---------------------------------------------------------------
class Image:
    """The unwind tables and symbols of one ELF, in link-time addresses."""

    def __init__(self, path: str, data: bytes):
        from elftools.elf.elffile import ELFFile
        self.path = path
        self.data = data
        self.elf = ELFFile(io.BytesIO(data))
        #: PT_LOAD segments: (vaddr, end, file offset, executable), sorted.
        self.segments = sorted((ph["p_vaddr"], ph["p_vaddr"] + ph["p_memsz"], ph["p_offset"],
                                bool(ph["p_flags"] & PF_X))
                               for ph in self.elf.iter_segments() if ph["p_type"] == "PT_LOAD")
        self._seg_starts = [s[0] for s in self.segments]
        self._init_symbols()
        self._init_cfi()

    # ... symbols
    def _init_symbols(self):
        # The symbol tables are read with struct: pyelftools' per-symbol parsing
        # would cost most of a second on a static glibc program.
        sections = list(self.elf.iter_sections())
        exec_secs = {i for i, sec in enumerate(sections) if sec["sh_flags"] & SHF_EXECINSTR}
        best = {}                             # address -> (rank, name, size)
        order = 0
        for secname in (".symtab", ".dynsym"):
            sec = self.elf.get_section_by_name(secname)
            if sec is None or sec["sh_entsize"] != _SYM.size or not 0 < sec["sh_link"] < len(sections):
                continue
            strtab = sections[sec["sh_link"]].data()
            raw = sec.data()
            for name_off, info, _other, shndx, addr, size in _SYM.iter_unpack(raw[:len(raw) - len(raw) % _SYM.size]):
                order += 1
                if not name_off or not addr or shndx == 0 or shndx >= 0xFF00:
                    continue              # unnamed, undefined, absolute, common
                typ = info & 0xF
                if typ in (STT_FUNC, STT_GNU_IFUNC):
                    rank = (0, order)
                elif typ == STT_NOTYPE and shndx in exec_secs:
                    rank = (1, order)     # hand-written assembly without .type
                else:
                    continue
                old = best.get(addr)
                # Among aliases the first one in the table wins (as libunwind picks them).
                if old is None or rank < old[0]:
                    end = strtab.find(b"\0", name_off)
                    name = strtab[name_off:end if end >= 0 else len(strtab)].decode(errors="replace")
                    if name.startswith("."):
                        continue          # local labels
                    best[addr] = (rank, name, max(size, old[2] if old else 0))
                elif size > old[2]:
                    best[addr] = (old[0], old[1], size)
        items = sorted(best.items())
        self._sym_starts = [a for a, _ in items]
        self._sym_info = [(v[1], v[2]) for _, v in items]

    def symbol(self, vaddr: int):
        """(name, start) of the function covering link address ``vaddr``, or None."""
        i = bisect.bisect_right(self._sym_starts, vaddr) - 1
        if i < 0:
            return None
        start = self._sym_starts[i]
        name, size = self._sym_info[i]
        if size and vaddr >= start + size:
            return None
        return name, start

    def segment(self, vaddr: int):
        i = bisect.bisect_right(self._seg_starts, vaddr) - 1
        if i >= 0 and vaddr < self.segments[i][1]:
            return self.segments[i]
        return None

    def code(self, vaddr: int, n: int) -> bytes:
        """``n`` bytes of the file image at link address ``vaddr`` (b"" outside it)."""
        seg = self.segment(vaddr)
        if seg is None or vaddr + n > seg[1]:
            return b""
        off = vaddr - seg[0] + seg[2]
        return self.data[off:off + n]

    def has_frame_pointer(self, vaddr: int) -> bool:
        """Whether the function around ``vaddr`` set up rbp as its frame pointer by now."""
        sym = self.symbol(vaddr)
        if sym is None:
            return False
        head = self.code(sym[1], 8)
        for prologue in (_PUSH_RBP_MOV, _ENDBR64 + _PUSH_RBP_MOV):
            if head.startswith(prologue):
                return vaddr - sym[1] >= len(prologue)
        return False

    def after_call(self, vaddr: int) -> bool:
        """Whether link address ``vaddr`` follows a call instruction (is a return address)."""
        seg = self.segment(vaddr - 1)
        if seg is None or not seg[3]:
            return False
        before = self.code(vaddr - 7, 7)
        if len(before) != 7:
            return False
        if before[2] == 0xE8:                      # call rel32
            return True
        for k in range(2, 8):                      # call *r/m64 (FF /2), k bytes long
            if before[7 - k] != 0xFF:
                continue
            modrm = before[8 - k] if k > 1 else 0
            if (modrm >> 3) & 7 != 2:
                continue
            mod, rm = modrm >> 6, modrm & 7
            length = 2
            if mod != 3 and rm == 4:
                length += 1
                if mod == 0 and k >= 3 and before[9 - k] & 7 == 5:
                    length += 4
            length += {1: 1, 2: 4}.get(mod, 4 if mod == 0 and rm == 5 else 0)
            if length == k:
                return True
        return False

    # ... CFI
    def _init_cfi(self):
        self._fde_starts, self._fdes, self._decoded = [], [], {}
        self._cfi = None
        sec = self.elf.get_section_by_name(".eh_frame")
        if sec is None or sec["sh_type"] == "SHT_NOBITS":
            return
        self._eh = sec
        try:
            fdes = _scan_eh_frame(sec.data(), sec["sh_addr"])
        except (ValueError, IndexError, struct.error):
            fdes = []
        fdes.sort()
        self._fde_starts = [f[0] for f in fdes]
        self._fdes = fdes

    def _cfi_parser(self):
        if self._cfi is None:
            from elftools.dwarf.callframe import CallFrameInfo
            from elftools.dwarf.dwarf_expr import DWARFExprParser
            from elftools.dwarf.structs import DWARFStructs
            structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=8)
            self._cfi = CallFrameInfo(stream=io.BytesIO(self._eh.data()), size=self._eh["sh_size"],
                                      address=self._eh["sh_addr"], base_structs=structs,
                                      for_eh_frame=True)
            self._expr = DWARFExprParser(structs)
        return self._cfi

    def _table(self, off):
        """(row pcs, rows) of the FDE at section offset ``off``, decoded once."""
        tab = self._decoded.get(off)
        if tab is None:
            cfi = self._cfi_parser()
            parse_at = getattr(cfi, "_parse_entry_at", None)
            if parse_at is not None:
                entry = parse_at(off)
            else:  # pragma: no cover - an older/newer pyelftools: the slow, public way
                entry = next(e for e in cfi.get_entries() if getattr(e, "offset", None) == off)
            rows = entry.get_decoded().table
            tab = ([r["pc"] for r in rows], rows)
            self._decoded[off] = tab
        return tab

    def cfa_row(self, vaddr: int):
        """(row, is a signal frame) of the CFA table at link address ``vaddr``, or None."""
        i = bisect.bisect_right(self._fde_starts, vaddr) - 1
        # FDEs do not overlap in linked code; look one further back in case they do.
        for k in (i, i - 1):
            if k < 0:
                break
            start, end, off, signal = self._fdes[k]
            if start <= vaddr < end:
                pcs, rows = self._table(off)
                j = bisect.bisect_right(pcs, vaddr) - 1
                return (rows[j] if j >= 0 else None), signal
        return None


# --- the unwinder -----------------------------------------------------------------------
class Unwinder:
    """Builds the frames of ``trace --stack`` lines (see the module docstring)."""

    def __init__(self):
        self._images: OrderedDict = OrderedDict()     # (path, len, hash) -> Image
        self._by_tgid: dict = {}                       # tgid -> (bytes, Image)

    def forget(self, tgid: int) -> None:
        """Drop what is cached for process ``tgid`` (its program changed)."""
        self._by_tgid.pop(tgid, None)

    def image_for(self, path: str, data: bytes) -> Image:
        """The parsed ELF of ``path`` with contents ``data``, from the cache if seen before."""
        key = (path, len(data), hash(data))
        img = self._images.get(key)
        if img is not None and (img.data is data or img.data == data):
            self._images.move_to_end(key)
            return img
        img = Image(path, data)
        self._images[key] = img
        while len(self._images) > IMAGE_CACHE_SIZE:
            self._images.popitem(last=False)
        return img

    def _image(self, t):
        g = t.group
        spec = getattr(g, "image", None)
        if not spec:
            return None, 0
        path, data, bias = spec
        cached = self._by_tgid.get(g.tgid)
        if cached is not None and cached[0] is data:
            return cached[1], bias
        try:
            img = self.image_for(path, data)
        except Exception:
            img = None
        self._by_tgid[g.tgid] = (data, img)
        return img, bias

    def backtrace(self, t) -> list:
        """The frames of ``t`` at its current stop, innermost first (never raises)."""
        frames = []
        try:
            self._walk(t, frames)
        except Exception:
            pass
        return frames

    def _walk(self, t, frames):
        img, bias = self._image(t)
        r = t.ctx.regs
        regs = [getattr(r, name) for name in DWARF_REGS]
        mm = t.mm
        find_vma = getattr(mm, "find_vma", None)

        def read64(addr):
            try:
                return struct.unpack("<Q", mm.read(addr, 8))[0]
            except Exception:
                raise _Stop from None

        exact = True            # regs[RA] is where the task stopped, not a return address
        for _ in range(MAX_FRAMES):
            ip = regs[REG_RA]
            if ip == 0:
                return
            lookup = ip if exact else ip - 1
            seg = img.segment(lookup - bias) if img is not None else None
            row = None
            signal = False
            if seg is not None and seg[3]:
                sym = img.symbol(lookup - bias)
                off = ip - bias - seg[0] + seg[2]
                if sym is not None:
                    frames.append("%s(%s+%#x) [%#x]" % (img.path, sym[0], ip - bias - sym[1], off))
                else:
                    frames.append("%s() [%#x]" % (img.path, off))
                found = img.cfa_row(lookup - bias)
                if found is None and exact:
                    found = img.cfa_row(lookup - bias - 1)
                if found is not None:
                    row, signal = found
            else:
                vma = find_vma(lookup) if find_vma is not None else None
                if vma is None or not vma.prot & PROT_EXEC:
                    frames.append("unexpected_backtracing_error [%#x]" % ip)
                    return
                frames.append("%s() [%#x]" % (vma.name, ip - vma.start + vma.pgoff * PAGE_SIZE))
            try:
                if row is not None:
                    new = self._step_cfi(img, row, regs, read64)
                    exact = signal
                elif img is not None and seg is not None and not img.has_frame_pointer(lookup - bias):
                    new = self._step_scan(img, bias, regs, mm)
                    exact = False
                else:
                    new = self._step_fp(regs, read64)
                    exact = False
            except _Stop:
                return
            if new is None:
                return
            if new[REG_RSP] <= regs[REG_RSP] and not signal:
                return          # the stack must grow towards the caller
            regs = new
        frames.append("too many stack frames")

    @staticmethod
    def _step_scan(img, bias, regs, mm):
        """The caller's registers from the first word up the stack that is a return address.

        For code with neither CFI nor a frame pointer (musl's libc, hand-written
        assembly): the heuristic of crash reporters.  A stale return address
        left in a frame's locals can add a frame, or a frame can be skipped.
        """
        sp = regs[REG_RSP]
        if sp & 7:
            return None
        end = sp + 8 * SCAN_WORDS
        while sp < end:
            chunk_end = min(end, (sp & ~(PAGE_SIZE - 1)) + PAGE_SIZE)
            try:
                words = struct.unpack("<%dQ" % ((chunk_end - sp) // 8), mm.read(sp, chunk_end - sp))
            except Exception:
                return None
            for i, v in enumerate(words):
                if v > bias and img.after_call(v - bias):
                    new = list(regs)
                    new[REG_RA] = v
                    new[REG_RSP] = sp + 8 * i + 8
                    return new
            sp = chunk_end
        return None

    @staticmethod
    def _step_fp(regs, read64):
        """The caller's registers by the rbp chain (no CFI for this code)."""
        fp = regs[REG_RBP]
        if not fp or fp & 7 or fp < regs[REG_RSP]:
            return None
        new = list(regs)
        new[REG_RBP] = read64(fp)
        new[REG_RA] = read64(fp + 8)
        new[REG_RSP] = fp + 16
        return new

    def _step_cfi(self, img, row, regs, read64):
        """The caller's registers by one row of CFA rules; None when the chain ends here."""
        rule = row["cfa"]
        if rule.expr is not None:
            cfa = self._eval(img, rule.expr, regs, read64, None)
        else:
            base = regs[rule.reg] if rule.reg is not None and rule.reg < len(regs) else None
            if base is None:
                raise _Stop
            cfa = (base + rule.offset) & M64
        new = list(regs)
        new[REG_RSP] = cfa
        ra_rule = row.get(REG_RA)
        if ra_rule is None or ra_rule.type == "UNDEFINED":
            return None          # the outermost frame (_start marks its return address undefined)
        for reg, rr in row.items():
            if not isinstance(reg, int) or reg >= len(regs):
                continue
            kind = rr.type
            if kind == "OFFSET":
                new[reg] = read64((cfa + rr.arg) & M64)
            elif kind == "VAL_OFFSET":
                new[reg] = (cfa + rr.arg) & M64
            elif kind == "REGISTER":
                new[reg] = regs[rr.arg] if rr.arg < len(regs) else None
            elif kind == "EXPRESSION":
                new[reg] = read64(self._eval(img, rr.arg, regs, read64, cfa))
            elif kind == "VAL_EXPRESSION":
                new[reg] = self._eval(img, rr.arg, regs, read64, cfa)
            elif kind == "UNDEFINED":
                new[reg] = None
        if new[REG_RA] is None:
            return None
        return new

    @staticmethod
    def _eval(img, expr, regs, read64, push):
        """A DWARF location expression of a CFA rule (the few ops CFI uses)."""
        stack = [] if push is None else [push]
        for op in img._expr.parse_expr(expr):
            name = op.op_name
            if name.startswith("DW_OP_lit"):
                stack.append(int(name[9:]))
            elif name.startswith("DW_OP_breg") and name[10:].isdigit():
                val = regs[int(name[10:])]
                if val is None:
                    raise _Stop
                stack.append((val + op.args[0]) & M64)
            elif name.startswith("DW_OP_const"):
                stack.append(op.args[0] & M64)
            elif name == "DW_OP_deref":
                stack.append(read64(stack.pop()))
            elif name == "DW_OP_plus_uconst":
                stack.append((stack.pop() + op.args[0]) & M64)
            elif name in _BINARY:
                b, a = stack.pop(), stack.pop()
                stack.append(_BINARY[name](a, b) & M64)
            elif name == "DW_OP_dup":
                stack.append(stack[-1])
            elif name == "DW_OP_drop":
                stack.pop()
            elif name == "DW_OP_swap":
                stack[-1], stack[-2] = stack[-2], stack[-1]
            elif name == "DW_OP_nop":
                pass
            else:
                raise _Stop
        if not stack:
            raise _Stop
        return stack[-1]


_BINARY = {
    "DW_OP_plus": lambda a, b: a + b, "DW_OP_minus": lambda a, b: a - b,
    "DW_OP_mul": lambda a, b: a * b, "DW_OP_and": lambda a, b: a & b,
    "DW_OP_or": lambda a, b: a | b, "DW_OP_xor": lambda a, b: a ^ b,
    "DW_OP_shl": lambda a, b: a << b if b < 64 else 0, "DW_OP_shr": lambda a, b: a >> b,
    "DW_OP_ge": lambda a, b: int(a >= b), "DW_OP_gt": lambda a, b: int(a > b),
    "DW_OP_le": lambda a, b: int(a <= b), "DW_OP_lt": lambda a, b: int(a < b),
    "DW_OP_eq": lambda a, b: int(a == b), "DW_OP_ne": lambda a, b: int(a != b),
}
