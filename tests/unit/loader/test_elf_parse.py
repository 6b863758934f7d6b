"""parse_elf: accepts real guest programs, refuses malformed or foreign ones with a one-line ElfError."""

import random
import struct

import pytest

from loader_helpers import PF_R, PF_W, PF_X, PT_GNU_STACK, PT_LOAD, Ph, small_elf
from umlpy.abi.memory import TASK_SIZE
from umlpy.errors import GuestLoadError, SyscallError
from umlpy.loader.elf import ET_DYN, ET_EXEC, ElfError, ElfImage, load_elf, parse_elf

GUESTS = ["hello", "exit42", "getppid_loop", "init", "hello-musl", "auxv", "segv", "cat",
          "hello-glibc", "auxv-glibc"]


class _Creds:
    uid, euid, gid, egid = 0, 0, 0, 0


def refuse(data, what="prog"):
    """The ElfError parse_elf raises; checks that its message is one line naming ``what``."""
    with pytest.raises(ElfError) as ei:
        parse_elf(data, what)
    msg = str(ei.value)
    assert msg and "\n" not in msg and "\r" not in msg, repr(msg)
    assert msg.startswith(what), msg
    return msg


def test_elf_error_is_a_guest_load_error():
    assert issubclass(ElfError, GuestLoadError)


@pytest.mark.parametrize("name", GUESTS)
def test_accepts_guest_images(guest_binary, name):
    data = guest_binary(name)
    img = parse_elf(data, name)
    assert isinstance(img, ElfImage)
    assert img.etype == ET_EXEC
    assert img.interp is None
    assert img.phnum == struct.unpack_from("<H", data, 56)[0]
    assert img.entry == struct.unpack_from("<Q", data, 24)[0]
    assert img.segments
    for vaddr, memsz, off, filesz, prot in img.segments:
        assert filesz <= memsz and off + filesz <= len(data)
        assert vaddr + memsz <= TASK_SIZE
    # The entry point lies in an executable segment.
    assert any(v <= img.entry < v + m and p & 4 for v, m, _, _, p in img.segments)


def test_accepts_static_pie(static_pie):
    img = parse_elf(static_pie, "spie")
    assert img.etype == ET_DYN
    assert img.interp is None
    assert min(s[0] for s in img.segments) == 0


def test_accepts_the_synthetic_elf():
    img = parse_elf(small_elf(), "small")
    assert img.segments == [(0x400000, 256, 0, 256, 5)]
    assert not img.exec_stack


@pytest.mark.parametrize("data", [b"", b"\x7f", b"\x7fEL", b"MZ\x90\x00" + bytes(200), b"hello world\n" * 20,
                                  b"\x7fELG" + bytes(200), b"\0" * 4096], ids=lambda d: repr(d[:6]))
def test_refuses_non_elf(data):
    msg = refuse(data)
    assert "not an ELF" in msg


def test_refuses_script_with_its_own_reason():
    assert "script" in refuse(b"#!/bin/sh\necho hi\n")


def test_every_prefix_is_refused_or_parsed():
    data = small_elf()
    assert len(data) >= 200
    for n in range(0, 201):
        try:
            parse_elf(data[:n], "prefix")
        except ElfError as e:
            assert "\n" not in str(e)
        # Anything else propagates and fails the test.


@pytest.mark.parametrize("name", ["hello", "hello-musl"])
def test_prefixes_of_a_real_program(guest_binary, name):
    """Cut before the end of its loadable bytes: refused; cut after (section headers...): parsed."""
    data = guest_binary(name)
    needed = max(off + filesz for _, _, off, filesz, _ in parse_elf(data).segments)
    step = max(1, len(data) // 300)
    for n in sorted(set(range(0, 512)) | set(range(512, len(data), step)) | {needed - 1, needed}):
        if n < needed:
            refuse(data[:n], "p")
        else:
            parse_elf(data[:n], "p")


def test_refuses_32bit():
    assert "64-bit" in refuse(small_elf(ei_class=1))


def test_refuses_big_endian():
    assert "little-endian" in refuse(small_elf(ei_data=2))


@pytest.mark.parametrize("machine", [0, 3, 40, 183, 243])
def test_refuses_wrong_machine(machine):
    assert "machine" in refuse(small_elf(machine=machine))


@pytest.mark.parametrize("etype", [0, 1, 4, 0xFE00, 0xFFFF])   # ET_NONE, ET_REL, ET_CORE, OS, PROC
def test_refuses_non_executable_types(etype):
    assert "type" in refuse(small_elf(etype=etype))


@pytest.mark.parametrize("phnum", [0, 513, 0xFFFF])
def test_refuses_absurd_phnum(phnum):
    refuse(small_elf(phnum=phnum, size=0x10000))


def test_refuses_bad_phentsize():
    refuse(small_elf(phentsize=32))


@pytest.mark.parametrize("phoff", [256, 257, 1 << 20, (1 << 64) - 1, 256 - 56])
def test_refuses_phoff_past_eof(phoff):
    refuse(small_elf(phoff=phoff))


def test_refuses_load_filesz_above_memsz():
    refuse(small_elf(phdrs=[Ph(filesz=256, memsz=128)]))
    refuse(small_elf(phdrs=[Ph(), Ph(offset=0, vaddr=0x600000, filesz=16, memsz=8)]))


@pytest.mark.parametrize("offset,filesz", [(0x1000, 16), (0, 257), (0, 1 << 40), ((1 << 64) - 16, 16),
                                           (200, (1 << 64) - 100)])
def test_refuses_load_outside_the_file(offset, filesz):
    msg = refuse(small_elf(phdrs=[Ph(), Ph(offset=offset, vaddr=0x600000 + (offset & 0xFFF), filesz=filesz,
                                           memsz=max(filesz, 1 << 41) if filesz < (1 << 63) else filesz)]))
    assert "outside the file" in msg


@pytest.mark.parametrize("vaddr,memsz", [(TASK_SIZE, 0x1000), (TASK_SIZE - 0x1000, 0x2000),
                                         (0x7FFFFFFFF000, 0x1000), (0xFFFFFFFFFF600000, 0x1000),
                                         (0xFFFFFFFFFFFFF000, 0x2000), (0x400000, (1 << 64) - 0x1000)])
def test_refuses_segments_above_task_size(vaddr, memsz):
    assert "address space" in refuse(small_elf(phdrs=[Ph(), Ph(offset=0, vaddr=vaddr, filesz=0, memsz=memsz, flags=PF_R | PF_W)]))


def test_refuses_segments_below_mmap_min_addr():
    refuse(small_elf(phdrs=[Ph(vaddr=0x1000)]))


@pytest.mark.parametrize("vaddr,offset", [(0x400001, 0), (0x400000, 8), (0x400800, 0x1000)])
def test_refuses_misaligned_segments(vaddr, offset):
    assert "misaligned" in refuse(small_elf(phdrs=[Ph(vaddr=vaddr, offset=offset, filesz=16, memsz=16)], size=0x1100))


def test_refuses_no_loadable_segment():
    refuse(small_elf(phdrs=[Ph(type=PT_GNU_STACK, filesz=0, memsz=0)]))


def test_gnu_stack_flags_are_read():
    stack_x = Ph(type=PT_GNU_STACK, flags=PF_R | PF_W | PF_X, offset=0, vaddr=0, filesz=0, memsz=0)
    assert parse_elf(small_elf(phdrs=[Ph(), stack_x])).exec_stack
    assert not parse_elf(small_elf()).exec_stack


def test_fuzz_byte_flips_in_hello(guest_binary, new_mm):
    """Random corruption of the headers never escapes as anything but ElfError (or SyscallError at load)."""
    data = guest_binary("hello")
    head = min(4096, len(data))
    rng = random.Random(20240601)
    parsed = 0
    for it in range(400):
        buf = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4, 16))):
            pos = rng.randrange(head)
            if rng.random() < 0.5:
                buf[pos] ^= 1 << rng.randrange(8)
            else:
                buf[pos] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
        try:
            img = parse_elf(bytes(buf), "fuzz")
        except ElfError as e:
            assert "\n" not in str(e), (it, str(e))
            continue
        parsed += 1
        mm = new_mm()
        try:
            load_elf(mm, img, [b"fuzz"], [b"A=B"], b"/fuzz", creds=_Creds(), random16=bytes(16),
                     hwcap=0, hwcap2=0)
        except (ElfError, SyscallError):
            pass
        finally:
            mm.release()
    assert parsed > 0       # the fuzzer also exercised load_elf


def test_fuzz_synthetic_header_fields(new_mm):
    """Random values in every header and program-header field of a small ELF."""
    rng = random.Random(7)
    base = small_elf(phdrs=[Ph(), Ph(type=PT_LOAD, flags=PF_R | PF_W, offset=0, vaddr=0x600000, filesz=0x40,
                                     memsz=0x3000)])
    interesting = (0, 1, 0x1000, 0xFFF, 1 << 63, (1 << 64) - 1, TASK_SIZE, TASK_SIZE - 0x1000, 0x400000)
    for it in range(300):
        buf = bytearray(base)
        for _ in range(rng.randrange(1, 4)):
            off = rng.randrange(16, 64 + 2 * 56 - 8)
            width = rng.choice((2, 4, 8))
            val = rng.choice(interesting) if rng.random() < 0.6 else rng.getrandbits(8 * width)
            buf[off:off + width] = (val & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        try:
            img = parse_elf(bytes(buf), "fz")
        except ElfError:
            continue
        mm = new_mm()
        try:
            load_elf(mm, img, [b"fz"], [], b"fz", creds=_Creds(), random16=bytes(16), hwcap=0, hwcap2=0)
        except (ElfError, SyscallError):
            pass
        finally:
            mm.release()
