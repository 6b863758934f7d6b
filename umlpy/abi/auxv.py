"""ELF auxiliary vector entry types (uapi linux/auxvec.h, asm/auxvec.h)."""

import enum

from .flags import names_of


class AT(enum.IntEnum):
    AT_NULL = 0
    AT_IGNORE = 1
    AT_EXECFD = 2
    AT_PHDR = 3
    AT_PHENT = 4
    AT_PHNUM = 5
    AT_PAGESZ = 6
    AT_BASE = 7
    AT_FLAGS = 8
    AT_ENTRY = 9
    AT_NOTELF = 10
    AT_UID = 11
    AT_EUID = 12
    AT_GID = 13
    AT_EGID = 14
    AT_PLATFORM = 15
    AT_HWCAP = 16
    AT_CLKTCK = 17
    AT_SECURE = 23
    AT_BASE_PLATFORM = 24
    AT_RANDOM = 25
    AT_HWCAP2 = 26
    AT_RSEQ_FEATURE_SIZE = 27
    AT_RSEQ_ALIGN = 28
    AT_EXECFN = 31
    AT_SYSINFO_EHDR = 33
    AT_MINSIGSTKSZ = 51


#: type -> name.
AUXV_NAMES: dict[int, str] = names_of(AT)

#: Types whose value is a pointer into the guest (strings or data).
POINTER_TYPES = frozenset((AT.AT_PHDR, AT.AT_BASE, AT.AT_ENTRY, AT.AT_PLATFORM,
                           AT.AT_BASE_PLATFORM, AT.AT_RANDOM, AT.AT_EXECFN,
                           AT.AT_SYSINFO_EHDR))

#: Bytes of random data AT_RANDOM points to.
AT_RANDOM_SIZE = 16

globals().update({a.name: a for a in AT})
