"""umlpy's guest ABI extensions (DESIGN.md, "Guest ABI extensions").

System calls numbered from 1000 up (the host kernel never sees them), the
/proc/mm write protocol, the extra guest ptrace requests and the structures
they use.  ``guest_images/include/umlpy.h`` declares the same ABI for C
guests; tests/unit/abi/test_header.py checks that both agree.
"""

import enum

from .cstruct import CStruct
from .regs import USER_REGS


class EXT(enum.IntEnum):
    """Extension system call numbers."""

    create_mm = 1000        # Dike/Torvalds 2003
    mm_indirect = 1001      # Torvalds 2003
    switch_mm = 1002        # SKAS4
    new_as = 1003           # Chubb 2007
    switch_as = 1004        # Chubb 2007
    unprivilege = 1005      # uml-devel 2002
    current_mm = 1006       # umlpy
    # First-class virtual address spaces (Smejkal 2017, RFC numbers 332-347).
    vas_create = 1008
    vas_delete = 1009
    vas_find = 1010
    vas_attach = 1011
    vas_detach = 1012
    vas_switch = 1013
    active_vas = 1014
    vas_getattr = 1015
    vas_setattr = 1016
    vas_seg_create = 1017
    vas_seg_delete = 1018
    vas_seg_find = 1019
    vas_seg_attach = 1020
    vas_seg_detach = 1021
    vas_seg_getattr = 1022
    vas_seg_setattr = 1023


#: number -> name of every extension call.
EXTENSION_NAMES: dict[int, str] = {int(e): e.name for e in EXT}

EXT_FIRST = 1000
EXT_LAST = 1023


def is_extension(nr: int) -> bool:
    """True if ``nr`` is one of the extension system calls."""
    return nr in EXTENSION_NAMES


class UmlpyExit(enum.IntEnum):
    """Why unprivilege() returned (struct umlpy_vcpu.exit_reason)."""

    UMLPY_EXIT_SYSCALL = 1
    UMLPY_EXIT_FAULT = 2
    UMLPY_EXIT_SIGNAL = 3
    UMLPY_EXIT_TIMEOUT = 4


UMLPY_EXIT_SYSCALL = UmlpyExit.UMLPY_EXIT_SYSCALL
UMLPY_EXIT_FAULT = UmlpyExit.UMLPY_EXIT_FAULT
UMLPY_EXIT_SIGNAL = UmlpyExit.UMLPY_EXIT_SIGNAL
UMLPY_EXIT_TIMEOUT = UmlpyExit.UMLPY_EXIT_TIMEOUT


class MMOp(enum.IntEnum):
    """Operations written to /proc/mm (struct proc_mm_op.op)."""

    MM_MMAP = 54
    MM_MUNMAP = 55
    MM_MPROTECT = 56
    MM_COPY_SEGMENTS = 57


MM_MMAP = MMOp.MM_MMAP
MM_MUNMAP = MMOp.MM_MUNMAP
MM_MPROTECT = MMOp.MM_MPROTECT
MM_COPY_SEGMENTS = MMOp.MM_COPY_SEGMENTS


class PtraceExt(enum.IntEnum):
    """Guest ptrace requests added by SKAS3/SKAS4."""

    PTRACE_FAULTINFO = 52
    PTRACE_LDT = 54
    PTRACE_SWITCH_MM = 55
    PTRACE_EX_FAULTINFO = 56


PTRACE_FAULTINFO = PtraceExt.PTRACE_FAULTINFO
PTRACE_LDT = PtraceExt.PTRACE_LDT
PTRACE_SWITCH_MM = PtraceExt.PTRACE_SWITCH_MM
PTRACE_EX_FAULTINFO = PtraceExt.PTRACE_EX_FAULTINFO

#: remap_file_pages flag: per-page protection (Giarrusso).
MAP_NOINHERIT = 0x20000
#: mmap/mprotect prot bit: the mapping is visible to unprivilege() with mm_fd -1.
UMLPY_PROT_UNPRIV = 0x00100000
#: Longest VAS or segment name, counting the NUL (a longer one is ENAMETOOLONG).
VAS_MAX_NAME_LENGTH = 256
#: Number of address-space contexts of a process (new_as/switch_as), index 0 included.
MAX_AS_CONTEXTS = 16

# --- Structures -------------------------------------------------------------

#: struct umlpy_syscall { long nr; long args[6]; };  (mm_indirect)
UMLPY_SYSCALL = CStruct("umlpy_syscall", [("nr", "q"), ("args", "6q")])

#: The info member of struct umlpy_vcpu.
UMLPY_VCPU_INFO = CStruct("umlpy_vcpu_info", [
    ("signo", "i"), ("code", "i"), ("addr", "Q"), ("is_write", "i"), ("trap_no", "i"),
])

#: struct umlpy_vcpu (unprivilege).
UMLPY_VCPU = CStruct("umlpy_vcpu", [
    ("mm_fd", "i"),
    ("exit_reason", "i"),
    ("timeout_ns", "Q"),
    ("regs", USER_REGS),
    ("info", UMLPY_VCPU_INFO),
])

#: struct vas_attr { unsigned int mode, user, group; };  also the segment attr.
VAS_ATTR = CStruct("vas_attr", [("mode", "I"), ("user", "I"), ("group", "I")])
VAS_SEG_ATTR = VAS_ATTR

#: The members of proc_mm_op's union (all fields unsigned long unless noted).
MM_MMAP_STRUCT = CStruct("mm_mmap", [
    ("addr", "Q"), ("len", "Q"), ("prot", "Q"), ("flags", "Q"), ("fd", "Q"), ("offset", "Q"),
])
MM_MUNMAP_STRUCT = CStruct("mm_munmap", [("addr", "Q"), ("len", "Q")])
MM_MPROTECT_STRUCT = CStruct("mm_mprotect", [("addr", "Q"), ("len", "Q"), ("prot", "I")])
MM_COPY_SEGMENTS_STRUCT = CStruct("copy_segments", [("copy_segments", "i")])

#: Offset of the union in struct proc_mm_op (aligned for its unsigned longs).
PROC_MM_OP_UNION_OFFSET = 8
#: sizeof(struct proc_mm_op); a longer write to /proc/mm is EINVAL.
PROC_MM_OP_SIZE = 56

#: op -> the union member it uses.
PROC_MM_OP_UNION: dict[int, CStruct] = {
    MM_MMAP: MM_MMAP_STRUCT,
    MM_MUNMAP: MM_MUNMAP_STRUCT,
    MM_MPROTECT: MM_MPROTECT_STRUCT,
    MM_COPY_SEGMENTS: MM_COPY_SEGMENTS_STRUCT,
}

#: op -> the whole proc_mm_op as seen with that union member ("op" + "u").
PROC_MM_OP: dict[int, CStruct] = {
    op: CStruct("proc_mm_op/%s" % MMOp(op).name,
                [("op", "i"), ("_pad", "4x"), ("u", member)])
    for op, member in PROC_MM_OP_UNION.items()
}


def proc_mm_op_min_size(op: int) -> int:
    """Shortest /proc/mm write accepted for ``op``: one covering its own struct."""
    return PROC_MM_OP_UNION_OFFSET + PROC_MM_OP_UNION[op].size


#: PTRACE_FAULTINFO result: struct { int is_write; unsigned long addr; }.
PTRACE_FAULTINFO_STRUCT = CStruct("ptrace_faultinfo", [("is_write", "i"), ("addr", "Q")])
#: PTRACE_EX_FAULTINFO result: struct { int is_write; unsigned long addr; int trap_no; }.
PTRACE_EX_FAULTINFO_STRUCT = CStruct("ptrace_ex_faultinfo",
                                     [("is_write", "i"), ("addr", "Q"), ("trap_no", "i")])
#: PTRACE_LDT argument: struct { int func; void *ptr; unsigned long bytecount; }.
PTRACE_LDT_STRUCT = CStruct("ptrace_ldt", [("func", "i"), ("ptr", "Q"), ("bytecount", "Q")])

UMLPY_SYSCALL_SIZE = UMLPY_SYSCALL.size          # 56
UMLPY_VCPU_SIZE = UMLPY_VCPU.size                # 256
VAS_ATTR_SIZE = VAS_ATTR.size                    # 12

assert UMLPY_SYSCALL_SIZE == 56
assert UMLPY_VCPU_SIZE == 256
assert VAS_ATTR_SIZE == 12
assert max(s.size for s in PROC_MM_OP.values()) == PROC_MM_OP_SIZE
assert PTRACE_FAULTINFO_STRUCT.size == 16 and PTRACE_EX_FAULTINFO_STRUCT.size == 24
