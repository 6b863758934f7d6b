"""File-system call flags that have no header of their own in umlpy.abi:
renameat2(2)'s (uapi ``linux/fs.h``), close_range(2)'s (uapi
``linux/close_range.h``) and access(2)'s modes (``R_OK``..., POSIX
``<unistd.h>``; the kernel checks them against ``S_IRWXO`` in
``fs/open.c``)."""

import enum


class RENAME(enum.IntFlag):
    RENAME_NOREPLACE = 1 << 0
    RENAME_EXCHANGE = 1 << 1
    RENAME_WHITEOUT = 1 << 2


RENAME_NOREPLACE = RENAME.RENAME_NOREPLACE
RENAME_EXCHANGE = RENAME.RENAME_EXCHANGE
RENAME_WHITEOUT = RENAME.RENAME_WHITEOUT


class CLOSE_RANGE(enum.IntFlag):
    CLOSE_RANGE_UNSHARE = 1 << 1
    CLOSE_RANGE_CLOEXEC = 1 << 2


CLOSE_RANGE_UNSHARE = CLOSE_RANGE.CLOSE_RANGE_UNSHARE
CLOSE_RANGE_CLOEXEC = CLOSE_RANGE.CLOSE_RANGE_CLOEXEC

F_OK = 0


class ACCESS(enum.IntFlag):
    """access(2)/faccessat(2)'s mode (0 is F_OK)."""

    R_OK = 4
    W_OK = 2
    X_OK = 1


R_OK = ACCESS.R_OK
W_OK = ACCESS.W_OK
X_OK = ACCESS.X_OK

#: Longest path the kernel accepts, the NUL included (uapi ``linux/limits.h``).
PATH_MAX = 4096
#: Longest extended-attribute name (uapi ``linux/limits.h``).
XATTR_NAME_MAX = 255
#: Most iovecs one readv/writev takes (uapi ``linux/uio.h`` UIO_MAXIOV).
IOV_MAX = 1024
#: Most bytes one read/write transfers: INT_MAX rounded down to a page (``linux/fs.h`` MAX_RW_COUNT).
MAX_RW_COUNT = 0x7FFFF000


class FADV(enum.IntEnum):
    """posix_fadvise(2)'s advice on x86-64 (uapi ``linux/fadvise.h``)."""

    POSIX_FADV_NORMAL = 0
    POSIX_FADV_RANDOM = 1
    POSIX_FADV_SEQUENTIAL = 2
    POSIX_FADV_WILLNEED = 3
    POSIX_FADV_DONTNEED = 4
    POSIX_FADV_NOREUSE = 5


class XATTR(enum.IntFlag):
    """setxattr(2)'s flags (uapi ``linux/xattr.h``)."""

    XATTR_CREATE = 0x1
    XATTR_REPLACE = 0x2
