"""load_elf: segments, brk and the initial stack (argc, argv, envp, auxv) read back byte by byte."""

import inspect
import struct

import pytest

from loader_helpers import PF_R, PF_W, PF_X, PT_GNU_STACK, PT_LOAD, Ph, small_elf
from umlpy.abi.auxv import AT
from umlpy.abi.memory import ELF_ET_DYN_BASE, PAGE_SIZE, STACK_SIZE, STACK_TOP, page_align_up
from umlpy.abi.mman import PROT_EXEC, PROT_READ, PROT_WRITE
from umlpy.loader.elf import ElfError, load_elf, parse_elf

RANDOM16 = bytes(range(0xA0, 0xB0))
HWCAP, HWCAP2, MINSIGSTKSZ = 0x178BFBFF, 0x2, 3632
ARGV = [b"prog", b"-v", b"", b"arg with spaces"]
ENVP = [b"PATH=/bin", b"HOME=/root", b"X="]
EXECFN = b"/bin/prog"

#: Linux's order (fs/binfmt_elf.c create_elf_tables): ARCH_DLINFO first (AT_SYSINFO_EHDR, absent
#: here: no vDSO, then AT_MINSIGSTKSZ), then the generic entries.
LINUX_AUXV_ORDER = [AT.AT_MINSIGSTKSZ, AT.AT_HWCAP, AT.AT_PAGESZ, AT.AT_CLKTCK, AT.AT_PHDR, AT.AT_PHENT,
                    AT.AT_PHNUM, AT.AT_BASE, AT.AT_FLAGS, AT.AT_ENTRY, AT.AT_UID, AT.AT_EUID, AT.AT_GID,
                    AT.AT_EGID, AT.AT_SECURE, AT.AT_RANDOM, AT.AT_HWCAP2, AT.AT_EXECFN, AT.AT_PLATFORM,
                    AT.AT_RSEQ_FEATURE_SIZE, AT.AT_RSEQ_ALIGN, AT.AT_NULL]


class Creds:
    uid, euid, gid, egid = 1000, 1001, 1002, 1003


def _kwargs():
    kw = dict(creds=Creds(), random16=RANDOM16, hwcap=HWCAP, hwcap2=HWCAP2)
    if "minsigstksz" in inspect.signature(load_elf).parameters:
        kw["minsigstksz"] = MINSIGSTKSZ
    return kw


def load(mm, data, argv=ARGV, envp=ENVP, execfn=EXECFN):
    img = parse_elf(data, "prog")
    return img, load_elf(mm, img, list(argv), list(envp), execfn, **_kwargs())


def cstring(mm, addr):
    return mm.read_cstring(addr, 1 << 18)


class Stack:
    """The initial stack decoded from the guest memory at rsp."""

    def __init__(self, mm, sp):
        self.mm = mm
        u64 = mm.read_u64
        self.argc = u64(sp)
        p = sp + 8
        self.argv_ptrs = [u64(p + 8 * i) for i in range(self.argc)]
        p += 8 * self.argc
        assert u64(p) == 0, "argv is not NULL-terminated"
        p += 8
        self.envp_ptrs = []
        while u64(p):
            self.envp_ptrs.append(u64(p))
            p += 8
        p += 8
        self.auxv = []
        while True:
            k, v = u64(p), u64(p + 8)
            self.auxv.append((k, v))
            p += 16
            if k == AT.AT_NULL:
                break
        self.end = p
        self.aux = dict(self.auxv)


@pytest.fixture
def hello(guest_binary):
    return guest_binary("hello")


def test_initial_stack_layout(new_mm, hello):
    mm = new_mm()
    img, res = load(mm, hello)
    assert res.sp % 16 == 0
    assert STACK_TOP - STACK_SIZE < res.sp < STACK_TOP
    st = Stack(mm, res.sp)
    assert st.argc == len(ARGV)
    assert [cstring(mm, p) for p in st.argv_ptrs] == ARGV
    assert [cstring(mm, p) for p in st.envp_ptrs] == ENVP
    # The strings lie above the vectors, inside the stack, in argv-then-envp order as on Linux.
    ptrs = st.argv_ptrs + st.envp_ptrs
    assert all(st.end <= p < STACK_TOP for p in ptrs)
    assert ptrs == sorted(ptrs)
    for a, b in zip(ptrs, ptrs[1:]):
        assert b == a + len(cstring(mm, a)) + 1     # packed, one NUL each
    aux = st.aux
    assert aux[AT.AT_PAGESZ] == PAGE_SIZE
    assert aux[AT.AT_CLKTCK] == 100
    assert aux[AT.AT_PHENT] == 56
    assert aux[AT.AT_PHNUM] == img.phnum
    assert aux[AT.AT_BASE] == 0
    assert aux[AT.AT_FLAGS] == 0
    assert aux[AT.AT_ENTRY] == img.entry == res.entry
    assert (aux[AT.AT_UID], aux[AT.AT_EUID], aux[AT.AT_GID], aux[AT.AT_EGID]) == (1000, 1001, 1002, 1003)
    assert aux[AT.AT_SECURE] == 0
    assert aux[AT.AT_HWCAP] == HWCAP and aux[AT.AT_HWCAP2] == HWCAP2
    assert mm.read(aux[AT.AT_RANDOM], 16) == RANDOM16
    assert cstring(mm, aux[AT.AT_EXECFN]) == EXECFN
    assert cstring(mm, aux[AT.AT_PLATFORM]) == b"x86_64"
    assert AT.AT_SYSINFO_EHDR not in aux         # no vDSO
    for key in (AT.AT_RANDOM, AT.AT_EXECFN, AT.AT_PLATFORM):
        assert st.end <= aux[key] < STACK_TOP
    # The auxv returned is the one on the stack.
    assert [(int(k), v) for k, v in res.auxv] == st.auxv


def test_at_phdr_points_at_the_program_headers(new_mm, hello):
    mm = new_mm()
    img, res = load(mm, hello)
    aux = Stack(mm, res.sp).aux
    phoff = struct.unpack_from("<Q", hello, 32)[0]
    assert mm.read(aux[AT.AT_PHDR], 56 * img.phnum) == hello[phoff:phoff + 56 * img.phnum]


def test_auxv_order_matches_linux(new_mm, hello):
    mm = new_mm()
    _, res = load(mm, hello)
    assert [k for k, _ in Stack(mm, res.sp).auxv] == [int(k) for k in LINUX_AUXV_ORDER]


def test_minsigstksz_is_passed_through(new_mm, hello):
    assert "minsigstksz" in inspect.signature(load_elf).parameters
    mm = new_mm()
    _, res = load(mm, hello)
    assert Stack(mm, res.sp).aux[AT.AT_MINSIGSTKSZ] == MINSIGSTKSZ


@pytest.mark.parametrize("argv,envp", [([], []), ([b"x"], []), ([b"a", b"b"], [b"E=1"]),
                                       ([b"a" * 5000], [b"B=" + b"b" * 3]), ([b"odd"] * 7, [b"e"] * 4)])
def test_rsp_is_16_byte_aligned_for_any_vector_size(new_mm, hello, argv, envp):
    mm = new_mm()
    _, res = load(mm, hello, argv, envp)
    assert res.sp % 16 == 0
    st = Stack(mm, res.sp)
    assert st.argc == len(argv)
    assert [cstring(mm, p) for p in st.argv_ptrs] == argv
    assert [cstring(mm, p) for p in st.envp_ptrs] == envp


def test_too_many_argument_bytes_is_an_elf_error(new_mm, hello):
    mm = new_mm()
    with pytest.raises(ElfError):
        load(mm, hello, [b"x" * (1 << 20)] * 3, [])


def _check_segments(mm, data, img, bias):
    for vaddr, memsz, off, filesz, prot in img.segments:
        vma = mm.find_vma(vaddr + bias)
        assert vma is not None, hex(vaddr + bias)
        assert vma.prot & 7 == prot, (hex(vaddr), vma.prot, prot)
        assert vma.start <= vaddr + bias and vaddr + bias + memsz <= vma.end
        # The file's bytes are there (read through the loader's view of memory, ignoring prot).
        assert mm.read(vaddr + bias, filesz) == data[off:off + filesz] if prot & PROT_READ else True
        # bss: zero up to the end of the segment's last page.
        tail = page_align_up(vaddr + bias + memsz) - (vaddr + bias + filesz)
        if tail and prot & PROT_READ:
            assert mm.read(vaddr + bias + filesz, tail) == bytes(tail)


@pytest.mark.parametrize("name", ["hello", "hello-musl", "hello-glibc", "cat"])
def test_segments_prot_contents_bss_and_brk(new_mm, guest_binary, name):
    data = guest_binary(name)
    mm = new_mm()
    img, res = load(mm, data)
    assert res.load_bias == 0
    _check_segments(mm, data, img, 0)
    end = page_align_up(max(v + m for v, m, _, _, _ in img.segments))
    assert res.start_brk == end
    assert mm.start_brk == mm.brk == end
    # The stack: read-write, not executable (PT_GNU_STACK without X), top at STACK_TOP.
    vma = mm.find_vma(STACK_TOP - 1)
    assert vma is not None and vma.end == STACK_TOP
    assert vma.prot & 7 == PROT_READ | PROT_WRITE


def test_bss_is_zero_even_in_the_file_page(new_mm):
    """The file page after p_filesz holds garbage in the file; it must read as zero in memory."""
    data = bytearray(small_elf(phdrs=[Ph(), Ph(flags=PF_R | PF_W, offset=0x1000, vaddr=0x601000,
                                               filesz=0x10, memsz=0x3000)], size=0x2000))
    data[0x1010:0x2000] = b"\xEE" * (0x2000 - 0x1010)
    data = bytes(data)
    mm = new_mm()
    img, res = load(mm, data)
    assert mm.read(0x601000, 0x10) == data[0x1000:0x1010]
    assert mm.read(0x601010, 0x3000 - 0x10) == bytes(0x3000 - 0x10)
    assert res.start_brk == 0x604000


def test_static_pie_is_loaded_at_et_dyn_base(new_mm, static_pie):
    mm = new_mm()
    img, res = load(mm, static_pie)
    assert res.load_bias == ELF_ET_DYN_BASE
    assert res.entry == img.entry + ELF_ET_DYN_BASE
    _check_segments(mm, static_pie, img, ELF_ET_DYN_BASE)
    aux = Stack(mm, res.sp).aux
    assert aux[AT.AT_ENTRY] == res.entry
    assert aux[AT.AT_BASE] == 0
    phoff = struct.unpack_from("<Q", static_pie, 32)[0]
    assert mm.read(aux[AT.AT_PHDR], 56 * img.phnum) == static_pie[phoff:phoff + 56 * img.phnum]
    end = page_align_up(max(v + m for v, m, _, _, _ in img.segments) + ELF_ET_DYN_BASE)
    assert res.start_brk == mm.brk == end
    assert mm.find_vma(ELF_ET_DYN_BASE) is not None


@pytest.mark.parametrize("flags,exec_stack", [(PF_R | PF_W | PF_X, True), (PF_R | PF_W, False)])
def test_gnu_stack_x_makes_the_stack_executable(new_mm, flags, exec_stack):
    data = small_elf(phdrs=[Ph(), Ph(type=PT_GNU_STACK, flags=flags, offset=0, vaddr=0, filesz=0, memsz=0)])
    mm = new_mm()
    _, res = load(mm, data)
    vma = mm.find_vma(res.sp)
    assert vma is not None and vma.end == STACK_TOP
    assert bool(vma.prot & PROT_EXEC) == exec_stack
    assert vma.prot & (PROT_READ | PROT_WRITE) == PROT_READ | PROT_WRITE


def test_segment_prot_follows_p_flags(new_mm):
    phdrs = [Ph(flags=PF_R | PF_X, filesz=0x100, memsz=0x100),
             Ph(type=PT_LOAD, flags=PF_R, offset=0, vaddr=0x500000, filesz=0x10, memsz=0x10),
             Ph(type=PT_LOAD, flags=PF_R | PF_W, offset=0, vaddr=0x600000, filesz=0x10, memsz=0x2000),
             Ph(type=PT_LOAD, flags=PF_W, offset=0, vaddr=0x700000, filesz=0, memsz=0x1000)]
    mm = new_mm()
    load(mm, small_elf(phdrs=phdrs))
    assert mm.find_vma(0x400000).prot & 7 == PROT_READ | PROT_EXEC
    assert mm.find_vma(0x500000).prot & 7 == PROT_READ
    assert mm.find_vma(0x600000).prot & 7 == PROT_READ | PROT_WRITE
    assert mm.find_vma(0x601000).prot & 7 == PROT_READ | PROT_WRITE
    assert mm.find_vma(0x700000).prot & 7 == PROT_WRITE
