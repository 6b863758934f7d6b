"""The ELF loader: static ET_EXEC, static-PIE and (with an interpreter) dynamic.

The file header and program headers (all that loading needs) are read with
``struct`` after bounds checks of our own: importing pyelftools costs every
boot tens of milliseconds, so it is kept for what needs it (symbols and
unwind tables for ``umlpy trace --stack``).

``load_elf`` maps an image into a fresh guest :class:`~umlpy.mm.mm.MM`, builds
the initial stack (argc, argv, envp, auxv, AT_RANDOM bytes, platform and
execfn strings) and returns where the guest starts.  Anything malformed or
foreign raises :class:`ElfError` with a one-line reason (ENOEXEC for a guest execve,
a one-line error for ``umlpy run``).  No vDSO is given to the guest: there is
no AT_SYSINFO_EHDR, so libcs make real (intercepted) time system calls.
"""

import struct

from umlpy.abi.auxv import AT
from umlpy.abi.memory import (ELF_ET_DYN_BASE, MMAP_MIN_ADDR, PAGE_SIZE, STACK_SIZE, STACK_TOP, TASK_SIZE,
                              page_align_down, page_align_up)
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE
from umlpy.abi.record import record
from umlpy.errors import GuestLoadError

EM_X86_64 = 62
ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
MAX_PHNUM = 512
#: Elf64_Phdr: p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align.
_PHDR = struct.Struct("<IIQQQQQQ")
MAX_ARG_BYTES = 2 << 20
#: struct rseq's size up to mm_cid, and its alignment (AT_RSEQ_FEATURE_SIZE/ALIGN).
RSEQ_FEATURE_SIZE = 28
RSEQ_ALIGN = 32


class ElfError(GuestLoadError):
    """The file is not a loadable x86-64 ELF program."""


@record
class ElfImage:
    """A validated ELF file, parsed but not yet loaded."""

    data: bytes
    etype: int
    entry: int
    phoff: int
    phnum: int
    segments: list          # (vaddr, memsz, offset, filesz, prot) of PT_LOADs
    interp: bytes | None
    exec_stack: bool
    phdr_vaddr: int | None  # from PT_PHDR


@record
class LoadResult:
    entry: int              # where the guest starts (the interpreter's entry if any)
    sp: int
    start_brk: int
    load_bias: int
    auxv: list


def parse_elf(data: bytes, what: str = "program") -> ElfImage:
    """Check and parse an ELF image; raise ElfError with a one-line reason."""
    if len(data) < 4 or data[:4] != b"\x7fELF":
        if data[:2] == b"#!":
            raise ElfError("%s: is a script, not an ELF program" % what)
        raise ElfError("%s: not an ELF file" % what)
    if len(data) < 64:
        raise ElfError("%s: truncated ELF header" % what)
    if data[4] != 2:
        raise ElfError("%s: not a 64-bit ELF file (only x86-64 guests run here)" % what)
    if data[5] != 1:
        raise ElfError("%s: not a little-endian ELF file" % what)
    etype, machine = struct.unpack_from("<HH", data, 16)
    if machine != EM_X86_64:
        raise ElfError("%s: ELF machine %d is not x86-64" % (what, machine))
    if etype not in (ET_EXEC, ET_DYN):
        raise ElfError("%s: ELF type %d is not an executable" % (what, etype))
    entry, phoff = struct.unpack_from("<QQ", data, 24)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if phentsize != 56:
        raise ElfError("%s: bad program header size %d" % (what, phentsize))
    if phnum == 0 or phnum > MAX_PHNUM:
        raise ElfError("%s: absurd number of program headers (%d)" % (what, phnum))
    if phoff > len(data) or phoff + phnum * 56 > len(data):
        raise ElfError("%s: program headers lie outside the file (truncated?)" % what)
    segments, interp, exec_stack, phdr_vaddr = [], None, False, None
    for i in range(phnum):
        ptype, flags, off, vaddr, _paddr, filesz, memsz, _align = _PHDR.unpack_from(data, phoff + 56 * i)
        if ptype == PT_LOAD:
            if memsz == 0:
                continue
            if filesz > memsz or off + filesz > len(data) or off > len(data):
                raise ElfError("%s: a loadable segment lies outside the file (truncated?)" % what)
            if (vaddr - off) % PAGE_SIZE:
                raise ElfError("%s: misaligned loadable segment" % what)
            if vaddr + memsz < vaddr or vaddr + memsz > TASK_SIZE:
                raise ElfError("%s: loadable segment out of the address space" % what)
            prot = ((PROT_READ if flags & PF_R else 0) | (PROT_WRITE if flags & PF_W else 0)
                    | (PROT_EXEC if flags & PF_X else 0))
            segments.append((vaddr, memsz, off, filesz, prot))
        elif ptype == PT_INTERP:
            if filesz == 0 or filesz > 4096 or off + filesz > len(data):
                raise ElfError("%s: bad interpreter path" % what)
            interp = data[off:off + filesz].split(b"\0", 1)[0]
        elif ptype == PT_GNU_STACK:
            exec_stack = bool(flags & PF_X)
        elif ptype == PT_PHDR:
            phdr_vaddr = vaddr
    if not segments:
        raise ElfError("%s: no loadable segments" % what)
    starts = sorted(s[0] for s in segments)
    if etype == ET_EXEC and starts[0] < MMAP_MIN_ADDR:
        raise ElfError("%s: loads below the lowest guest address %#x" % (what, MMAP_MIN_ADDR))
    return ElfImage(data, etype, entry, phoff, phnum, segments, interp, exec_stack, phdr_vaddr)


def _map_image(mm, img: ElfImage, bias: int) -> int:
    """Map and fill the PT_LOAD segments; return the end of the highest one."""
    end_max = 0
    for vaddr, memsz, off, filesz, prot in img.segments:
        start = page_align_down(vaddr + bias)
        end = page_align_up(vaddr + bias + memsz)
        mm.mmap(start, end - start, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)
        end_max = max(end_max, end)
    for vaddr, memsz, off, filesz, prot in img.segments:
        if filesz:
            mm.poke(vaddr + bias, img.data[off:off + filesz])
    return end_max


def _phdr_addr(img: ElfImage, bias: int) -> int:
    if img.phdr_vaddr is not None:
        return img.phdr_vaddr + bias
    for vaddr, memsz, off, filesz, prot in img.segments:
        if off <= img.phoff < off + filesz:
            return vaddr + (img.phoff - off) + bias
    return 0


def load_elf(mm, img: ElfImage, argv: list, envp: list, execfn: bytes, *, creds,
             random16: bytes, hwcap: int, hwcap2: int, interp: ElfImage | None = None,
             minsigstksz: int = 2048) -> LoadResult:
    """Load ``img`` (and its interpreter) into ``mm`` and build the initial stack."""
    bias = ELF_ET_DYN_BASE if img.etype == ET_DYN else 0
    end = _map_image(mm, img, bias)
    entry = img.entry + bias
    base = 0
    if interp is not None:
        base = 0
        if interp.etype == ET_DYN:
            # Where mmap would put it (top-down below the mmap base), as Linux does.
            lo = min(page_align_down(s[0]) for s in interp.segments)
            hi = max(page_align_up(s[0] + s[1]) for s in interp.segments)
            base = mm.get_unmapped_area(0, hi - lo) - lo
        _map_image(mm, interp, base)
        start_entry = interp.entry + base
    else:
        start_entry = entry
    mm.start_brk = mm.brk = end

    stack_prot = PROT_READ | PROT_WRITE | (PROT_EXEC if img.exec_stack else 0)
    mm.mmap(STACK_TOP - STACK_SIZE, STACK_SIZE, stack_prot,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN)
    vma = mm.find_vma(STACK_TOP - 1)
    if vma is not None:
        vma.name = "[stack]"

    # Strings at the top: execfn, envp, argv (as Linux copies them), then
    # the platform string and the AT_RANDOM bytes.
    if sum(len(a) + 1 for a in argv) + sum(len(e) + 1 for e in envp) > MAX_ARG_BYTES:
        raise ElfError("argument list too long")
    sp = STACK_TOP - 8
    blob = bytearray()

    def push_str(s: bytes) -> int:
        nonlocal sp
        sp -= len(s) + 1
        mm.poke(sp, s + b"\0")
        return sp

    execfn_ptr = push_str(execfn)
    env_ptrs = [push_str(e) for e in reversed(envp)][::-1]
    arg_ptrs = [push_str(a) for a in reversed(argv)][::-1]
    platform_ptr = push_str(b"x86_64")
    sp = (sp - 16) & ~15
    random_ptr = sp
    mm.poke(random_ptr, random16)

    # Linux's order (fs/binfmt_elf.c create_elf_tables), less AT_SYSINFO_EHDR: no vDSO.
    auxv = [
        (AT.AT_MINSIGSTKSZ, minsigstksz),
        (AT.AT_HWCAP, hwcap), (AT.AT_PAGESZ, PAGE_SIZE), (AT.AT_CLKTCK, 100),
        (AT.AT_PHDR, _phdr_addr(img, bias)), (AT.AT_PHENT, 56), (AT.AT_PHNUM, img.phnum),
        (AT.AT_BASE, base), (AT.AT_FLAGS, 0), (AT.AT_ENTRY, entry),
        (AT.AT_UID, creds.uid), (AT.AT_EUID, creds.euid), (AT.AT_GID, creds.gid), (AT.AT_EGID, creds.egid),
        (AT.AT_SECURE, 0), (AT.AT_RANDOM, random_ptr), (AT.AT_HWCAP2, hwcap2),
        (AT.AT_EXECFN, execfn_ptr), (AT.AT_PLATFORM, platform_ptr),
        (AT.AT_RSEQ_FEATURE_SIZE, RSEQ_FEATURE_SIZE), (AT.AT_RSEQ_ALIGN, RSEQ_ALIGN),
        (AT.AT_NULL, 0),
    ]
    words = [len(argv)] + arg_ptrs + [0] + env_ptrs + [0]
    for k, v in auxv:
        words += [int(k), v]
    if len(words) % 2:
        words.append(0)   # keep rsp 16-byte aligned at argc
    sp = (sp - 8 * len(words)) & ~15
    blob = struct.pack("<%dQ" % len(words), *words)
    mm.poke(sp, blob)
    return LoadResult(start_entry, sp, end, bias, auxv)
