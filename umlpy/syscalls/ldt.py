"""modify_ldt(2) and SKAS3's PTRACE_LDT: a per-mm LDT that reads back what was written.

The table is bookkeeping (``mm.ldt``: entry number -> 8-byte descriptor):
64-bit guests never load it, but a VMM such as UML keeps its guests' LDTs
with it (PTRACE_LDT, /proc/mm's MM_COPY_SEGMENTS).  Descriptors are encoded
as Linux's fill_ldt does, and reads, writes and errors follow
arch/x86/kernel/ldt.c (read_ldt, read_default_ldt, write_ldt).
"""

import errno
import struct

from umlpy.errors import SyscallError

from .table import partial

E = SyscallError
LDT_ENTRIES = 8192
LDT_ENTRY_SIZE = 8
#: struct user_desc: entry_number, base_addr, limit, then the flag bits.
_USER_DESC = struct.Struct("<IIII")
#: read_default_ldt's size on x86-64.
_DEFAULT_LDT_SIZE = 128


def _descriptor(base, limit, flags, oldmode):
    seg_32bit, contents = flags & 1, (flags >> 1) & 3
    read_exec_only, limit_in_pages = (flags >> 3) & 1, (flags >> 4) & 1
    seg_not_present, useable, lm = (flags >> 5) & 1, (flags >> 6) & 1, (flags >> 7) & 1
    empty = (base == 0 and limit == 0 and contents == 0 and read_exec_only == 1 and seg_32bit == 0
             and limit_in_pages == 0 and seg_not_present == 1 and useable == 0 and lm == 0)
    if (oldmode and base == 0 and limit == 0) or empty:
        return bytes(8)
    if oldmode:
        useable = 0
    dtype = ((read_exec_only ^ 1) << 1) | (contents << 2) | 1
    lo = ((base & 0xFFFF) << 16) | (limit & 0xFFFF)
    hi = (((base >> 16) & 0xFF) | (dtype << 8) | (1 << 12) | (3 << 13) | ((seg_not_present ^ 1) << 15)
          | (limit & 0xF0000) | (useable << 20) | (lm << 21) | (seg_32bit << 22)
          | (limit_in_pages << 23) | (base & 0xFF000000))
    return struct.pack("<II", lo, hi)


def ldt_op(mm, mem, func: int, ptr: int, bytecount: int) -> int:
    """modify_ldt on ``mm``'s table, with ``ptr`` in the memory ``mem`` (the caller's)."""
    if func == 0:
        table = mm.ldt
        if not table:
            return 0
        bytecount = min(bytecount, LDT_ENTRIES * LDT_ENTRY_SIZE)
        n = (max(table) + 1) * LDT_ENTRY_SIZE
        raw = b"".join(table.get(i, bytes(8)) for i in range(max(table) + 1))
        out = raw[:bytecount] + bytes(max(0, bytecount - n))
        mem.write(ptr, out)
        return bytecount
    if func == 2:
        bytecount = min(bytecount, _DEFAULT_LDT_SIZE)
        mem.write(ptr, bytes(bytecount))
        return bytecount
    if func in (1, 0x11):
        if bytecount != _USER_DESC.size:
            raise E(errno.EINVAL)
        entry, base, limit, flags = _USER_DESC.unpack(mem.read(ptr, _USER_DESC.size))
        if entry >= LDT_ENTRIES:
            raise E(errno.EINVAL)
        contents, seg_not_present = (flags >> 1) & 3, (flags >> 5) & 1
        if contents == 3 and (func == 1 or not seg_not_present):
            raise E(errno.EINVAL)
        mm.ldt[entry] = _descriptor(base, limit, flags, func == 1)
        return 0
    raise E(errno.ENOSYS)


def modify_ldt(t, a):
    """Modify_ldt implements modify_ldt(2) as bookkeeping (see the module docstring).

    Linux returns this call's result as an unsigned int (SYSCALL_DEFINE3(modify_ldt)
    casts it, for old glibc's int prototype), so an error reaches the guest as
    0xffffffea, not -22: the guest sees the same register value here.
    """
    try:
        return ldt_op(t.mm, t.mm, a.int(0), a.ptr(1), a.ulong(2))
    except SyscallError as e:
        return -e.errno & 0xFFFFFFFF


FAMILY = [
    partial("modify_ldt", modify_ldt, "kept per mm and read back; 64-bit guests never load it"),
]
