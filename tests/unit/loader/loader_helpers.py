"""Builds small synthetic x86-64 ELF files for the loader tests."""

import struct
from dataclasses import dataclass, field

EHDR = struct.Struct("<4sBBBBB7xHHIQQQIHHHHHH")
PHDR = struct.Struct("<IIQQQQQQ")
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
# mov eax, 60; xor edi, edi; syscall
EXIT0 = bytes.fromhex("b83c00000031ff0f05")


@dataclass
class Ph:
    type: int = PT_LOAD
    flags: int = PF_R | PF_X
    offset: int = 0
    vaddr: int = 0x400000
    filesz: int | None = None     # None: the whole file
    memsz: int | None = None      # None: filesz
    align: int = 0x1000


@dataclass
class Elf:
    """Fields of a small ELF; ``build()`` gives its bytes."""

    ei_class: int = 2
    ei_data: int = 1
    etype: int = 2
    machine: int = 62
    entry: int | None = None       # None: the code after the headers
    phoff: int = 64
    phentsize: int = 56
    phnum: int | None = None       # None: len(phdrs)
    phdrs: list = field(default_factory=lambda: [Ph(), Ph(type=PT_GNU_STACK, flags=PF_R | PF_W, offset=0,
                                                               vaddr=0, filesz=0, memsz=0, align=16)])
    code: bytes = EXIT0
    size: int = 256                # total file size (zero padded)

    def build(self) -> bytes:
        code_off = 64 + 56 * len(self.phdrs)
        size = max(self.size, code_off + len(self.code))
        base = self.phdrs[0].vaddr if self.phdrs else 0x400000
        entry = base + code_off if self.entry is None else self.entry
        phnum = len(self.phdrs) if self.phnum is None else self.phnum
        out = bytearray(size)
        out[:64] = EHDR.pack(b"\x7fELF", self.ei_class, self.ei_data, 1, 0, 0, self.etype, self.machine, 1,
                             entry, self.phoff, 0, 0, 64, self.phentsize, phnum, 64, 0, 0)
        for i, p in enumerate(self.phdrs):
            filesz = size - p.offset if p.filesz is None else p.filesz
            memsz = filesz if p.memsz is None else p.memsz
            PHDR.pack_into(out, 64 + 56 * i, p.type, p.flags, p.offset, p.vaddr, p.vaddr, filesz, memsz, p.align)
        out[code_off:code_off + len(self.code)] = self.code
        return bytes(out)


def small_elf(**kw) -> bytes:
    return Elf(**kw).build()
