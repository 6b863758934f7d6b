"""Memory-mapping constants (uapi asm-generic/mman-common.h, asm-generic/mman.h,
asm/mman.h, linux/mman.h) for x86-64."""

import enum

from .flags import format_flags, names_of


class PROT(enum.IntFlag):
    PROT_NONE = 0x0
    PROT_READ = 0x1
    PROT_WRITE = 0x2
    PROT_EXEC = 0x4
    PROT_SEM = 0x8
    PROT_GROWSDOWN = 0x01000000
    PROT_GROWSUP = 0x02000000


PROT_NONE = PROT.PROT_NONE
PROT_READ = PROT.PROT_READ
PROT_WRITE = PROT.PROT_WRITE
PROT_EXEC = PROT.PROT_EXEC
PROT_SEM = PROT.PROT_SEM
PROT_GROWSDOWN = PROT.PROT_GROWSDOWN
PROT_GROWSUP = PROT.PROT_GROWSUP

PROT_NAMES: dict[int, str] = {v: n for v, n in names_of(PROT).items() if v}


class MAP(enum.IntFlag):
    MAP_SHARED = 0x01
    MAP_PRIVATE = 0x02
    MAP_SHARED_VALIDATE = 0x03
    MAP_FIXED = 0x10
    MAP_ANONYMOUS = 0x20
    MAP_32BIT = 0x40
    MAP_GROWSDOWN = 0x0100
    MAP_DENYWRITE = 0x0800
    MAP_EXECUTABLE = 0x1000
    MAP_LOCKED = 0x2000
    MAP_NORESERVE = 0x4000
    MAP_POPULATE = 0x008000
    MAP_NONBLOCK = 0x010000
    MAP_STACK = 0x020000
    MAP_HUGETLB = 0x040000
    MAP_SYNC = 0x080000
    MAP_FIXED_NOREPLACE = 0x100000
    MAP_UNINITIALIZED = 0x4000000


MAP_SHARED = MAP.MAP_SHARED
MAP_PRIVATE = MAP.MAP_PRIVATE
MAP_SHARED_VALIDATE = MAP.MAP_SHARED_VALIDATE
MAP_TYPE = 0x0F
MAP_FIXED = MAP.MAP_FIXED
MAP_ANONYMOUS = MAP.MAP_ANONYMOUS
MAP_ANON = MAP_ANONYMOUS
MAP_32BIT = MAP.MAP_32BIT
MAP_GROWSDOWN = MAP.MAP_GROWSDOWN
MAP_DENYWRITE = MAP.MAP_DENYWRITE
MAP_EXECUTABLE = MAP.MAP_EXECUTABLE
MAP_LOCKED = MAP.MAP_LOCKED
MAP_NORESERVE = MAP.MAP_NORESERVE
MAP_POPULATE = MAP.MAP_POPULATE
MAP_NONBLOCK = MAP.MAP_NONBLOCK
MAP_STACK = MAP.MAP_STACK
MAP_HUGETLB = MAP.MAP_HUGETLB
MAP_SYNC = MAP.MAP_SYNC
MAP_FIXED_NOREPLACE = MAP.MAP_FIXED_NOREPLACE
MAP_UNINITIALIZED = MAP.MAP_UNINITIALIZED
MAP_HUGE_SHIFT = 26
MAP_HUGE_MASK = 0x3F

#: The mapping types (the MAP_TYPE field, an enumeration, not bits).
MAP_TYPE_NAMES: dict[int, str] = {1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}
#: The flag bits outside MAP_TYPE.
MAP_FLAG_NAMES: dict[int, str] = {v: n for v, n in names_of(MAP).items() if v & ~MAP_TYPE}


def format_map_flags(flags: int) -> str:
    """mmap flags as strace prints them: ``MAP_PRIVATE|MAP_ANONYMOUS``."""
    kind = flags & MAP_TYPE
    parts = [MAP_TYPE_NAMES.get(kind, "%#x /* MAP_??? */" % kind)] if kind else []
    rest = flags & ~MAP_TYPE
    if rest:
        parts.append(format_flags(rest, MAP_FLAG_NAMES))
    return "|".join(parts) if parts else "0"


def format_prot(prot: int) -> str:
    """mmap/mprotect prot as strace prints it: ``PROT_READ|PROT_WRITE``."""
    return format_flags(prot, PROT_NAMES, zero_name="PROT_NONE")


class MREMAP(enum.IntFlag):
    MREMAP_MAYMOVE = 1
    MREMAP_FIXED = 2
    MREMAP_DONTUNMAP = 4


MREMAP_MAYMOVE = MREMAP.MREMAP_MAYMOVE
MREMAP_FIXED = MREMAP.MREMAP_FIXED
MREMAP_DONTUNMAP = MREMAP.MREMAP_DONTUNMAP


class MADV(enum.IntEnum):
    MADV_NORMAL = 0
    MADV_RANDOM = 1
    MADV_SEQUENTIAL = 2
    MADV_WILLNEED = 3
    MADV_DONTNEED = 4
    MADV_FREE = 8
    MADV_REMOVE = 9
    MADV_DONTFORK = 10
    MADV_DOFORK = 11
    MADV_MERGEABLE = 12
    MADV_UNMERGEABLE = 13
    MADV_HUGEPAGE = 14
    MADV_NOHUGEPAGE = 15
    MADV_DONTDUMP = 16
    MADV_DODUMP = 17
    MADV_WIPEONFORK = 18
    MADV_KEEPONFORK = 19
    MADV_COLD = 20
    MADV_PAGEOUT = 21
    MADV_POPULATE_READ = 22
    MADV_POPULATE_WRITE = 23
    MADV_DONTNEED_LOCKED = 24
    MADV_COLLAPSE = 25
    MADV_HWPOISON = 100
    MADV_SOFT_OFFLINE = 101


MADV_NAMES: dict[int, str] = names_of(MADV)


class MS(enum.IntFlag):
    """msync flags."""

    MS_ASYNC = 1
    MS_INVALIDATE = 2
    MS_SYNC = 4


MS_ASYNC = MS.MS_ASYNC
MS_INVALIDATE = MS.MS_INVALIDATE
MS_SYNC = MS.MS_SYNC


class MCL(enum.IntFlag):
    """mlockall flags."""

    MCL_CURRENT = 1
    MCL_FUTURE = 2
    MCL_ONFAULT = 4

#: The "file mapping" type: no bit set (compatibility name, asm-generic/mman-common.h).
MAP_FILE = 0
