"""File constants for x86-64: open flags, *at() flags, fcntl commands, seek
whences and terminal/file ioctls (uapi asm-generic/fcntl.h, linux/fcntl.h,
asm-generic/ioctls.h, linux/stat.h)."""

import enum

from .flags import format_flags, names_of


class O(enum.IntFlag):
    """open(2) flags (octal, as in asm-generic/fcntl.h)."""

    O_RDONLY = 0o0
    O_WRONLY = 0o1
    O_RDWR = 0o2
    O_CREAT = 0o100
    O_EXCL = 0o200
    O_NOCTTY = 0o400
    O_TRUNC = 0o1000
    O_APPEND = 0o2000
    O_NONBLOCK = 0o4000
    O_DSYNC = 0o10000
    FASYNC = 0o20000
    O_DIRECT = 0o40000
    O_LARGEFILE = 0o100000
    O_DIRECTORY = 0o200000
    O_NOFOLLOW = 0o400000
    O_NOATIME = 0o1000000
    O_CLOEXEC = 0o2000000
    O_SYNC = 0o4010000          # __O_SYNC | O_DSYNC
    O_PATH = 0o10000000
    O_TMPFILE = 0o20200000      # __O_TMPFILE | O_DIRECTORY


# Plain ints, not the IntFlag members: handlers test flags with them on every call, and
# IntFlag arithmetic costs about a microsecond per operation.
O_RDONLY = int(O.O_RDONLY)
O_WRONLY = int(O.O_WRONLY)
O_RDWR = int(O.O_RDWR)
O_ACCMODE = 0o3
O_CREAT = int(O.O_CREAT)
O_EXCL = int(O.O_EXCL)
O_NOCTTY = int(O.O_NOCTTY)
O_TRUNC = int(O.O_TRUNC)
O_APPEND = int(O.O_APPEND)
O_NONBLOCK = int(O.O_NONBLOCK)
O_NDELAY = O_NONBLOCK
O_DSYNC = int(O.O_DSYNC)
FASYNC = int(O.FASYNC)
O_DIRECT = int(O.O_DIRECT)
O_LARGEFILE = int(O.O_LARGEFILE)
O_DIRECTORY = int(O.O_DIRECTORY)
O_NOFOLLOW = int(O.O_NOFOLLOW)
O_NOATIME = int(O.O_NOATIME)
O_CLOEXEC = int(O.O_CLOEXEC)
O_SYNC = int(O.O_SYNC)
O_PATH = int(O.O_PATH)
O_TMPFILE = int(O.O_TMPFILE)

#: The access modes (O_ACCMODE field, an enumeration).
O_ACCMODE_NAMES: dict[int, str] = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR"}
#: Open flag bits outside O_ACCMODE.
O_FLAG_NAMES: dict[int, str] = {v: n for v, n in names_of(O).items() if v & ~O_ACCMODE}


def format_open_flags(flags: int) -> str:
    """open flags as strace prints them: ``O_RDONLY|O_CLOEXEC``."""
    acc = flags & O_ACCMODE
    parts = [O_ACCMODE_NAMES.get(acc, "%#o /* O_??? */" % acc)]
    rest = flags & ~O_ACCMODE
    if rest:
        parts.append(format_flags(rest, O_FLAG_NAMES))
    return "|".join(parts)


# --- *at() ------------------------------------------------------------------

AT_FDCWD = -100


class AT(enum.IntFlag):
    """Flags of the *at() calls and statx."""

    AT_SYMLINK_NOFOLLOW = 0x100
    AT_REMOVEDIR = 0x200
    AT_SYMLINK_FOLLOW = 0x400
    AT_NO_AUTOMOUNT = 0x800
    AT_EMPTY_PATH = 0x1000
    AT_STATX_FORCE_SYNC = 0x2000
    AT_STATX_DONT_SYNC = 0x4000
    AT_RECURSIVE = 0x8000


AT_SYMLINK_NOFOLLOW = int(AT.AT_SYMLINK_NOFOLLOW)
AT_REMOVEDIR = int(AT.AT_REMOVEDIR)
AT_EACCESS = 0x200              # faccessat; same bit as AT_REMOVEDIR
AT_SYMLINK_FOLLOW = int(AT.AT_SYMLINK_FOLLOW)
AT_NO_AUTOMOUNT = int(AT.AT_NO_AUTOMOUNT)
AT_EMPTY_PATH = int(AT.AT_EMPTY_PATH)
AT_STATX_SYNC_TYPE = 0x6000
AT_STATX_SYNC_AS_STAT = 0x0000
AT_STATX_FORCE_SYNC = int(AT.AT_STATX_FORCE_SYNC)
AT_STATX_DONT_SYNC = int(AT.AT_STATX_DONT_SYNC)
AT_RECURSIVE = int(AT.AT_RECURSIVE)

AT_FLAG_NAMES: dict[int, str] = names_of(AT)


def format_dirfd(fd: int) -> str:
    """A dirfd argument as strace prints it."""
    fd = fd - (1 << 32) if fd >= 1 << 31 else fd
    return "AT_FDCWD" if fd == AT_FDCWD else str(fd)


# --- fcntl ------------------------------------------------------------------

class F(enum.IntEnum):
    """fcntl(2) commands."""

    F_DUPFD = 0
    F_GETFD = 1
    F_SETFD = 2
    F_GETFL = 3
    F_SETFL = 4
    F_GETLK = 5
    F_SETLK = 6
    F_SETLKW = 7
    F_SETOWN = 8
    F_GETOWN = 9
    F_SETSIG = 10
    F_GETSIG = 11
    F_SETOWN_EX = 15
    F_GETOWN_EX = 16
    F_GETOWNER_UIDS = 17
    F_OFD_GETLK = 36
    F_OFD_SETLK = 37
    F_OFD_SETLKW = 38
    F_SETLEASE = 1024
    F_GETLEASE = 1025
    F_NOTIFY = 1026
    F_DUPFD_QUERY = 1027
    F_DUPFD_CLOEXEC = 1030
    F_SETPIPE_SZ = 1031
    F_GETPIPE_SZ = 1032
    F_ADD_SEALS = 1033
    F_GET_SEALS = 1034
    F_GET_RW_HINT = 1035
    F_SET_RW_HINT = 1036
    F_GET_FILE_RW_HINT = 1037
    F_SET_FILE_RW_HINT = 1038


F_DUPFD = F.F_DUPFD
F_GETFD = F.F_GETFD
F_SETFD = F.F_SETFD
F_GETFL = F.F_GETFL
F_SETFL = F.F_SETFL
F_GETLK = F.F_GETLK
F_SETLK = F.F_SETLK
F_SETLKW = F.F_SETLKW
F_SETOWN = F.F_SETOWN
F_GETOWN = F.F_GETOWN
F_DUPFD_CLOEXEC = F.F_DUPFD_CLOEXEC
F_SETPIPE_SZ = F.F_SETPIPE_SZ
F_GETPIPE_SZ = F.F_GETPIPE_SZ
F_ADD_SEALS = F.F_ADD_SEALS
F_GET_SEALS = F.F_GET_SEALS

FD_CLOEXEC = 1
#: F_NOTIFY (dnotify): keep the registration after its first event.
DN_MULTISHOT = 0x80000000
#: /proc/sys/fs/pipe-max-size's default (F_SETPIPE_SZ's limit without CAP_SYS_RESOURCE).
PIPE_MAX_SIZE = 1 << 20

F_RDLCK = 0
F_WRLCK = 1
F_UNLCK = 2


class SEAL(enum.IntFlag):
    """memfd seals (F_ADD_SEALS, F_GET_SEALS)."""

    F_SEAL_SEAL = 0x0001
    F_SEAL_SHRINK = 0x0002
    F_SEAL_GROW = 0x0004
    F_SEAL_WRITE = 0x0008
    F_SEAL_FUTURE_WRITE = 0x0010


F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW = int(SEAL.F_SEAL_SEAL), int(SEAL.F_SEAL_SHRINK), int(SEAL.F_SEAL_GROW)
F_SEAL_WRITE, F_SEAL_FUTURE_WRITE = int(SEAL.F_SEAL_WRITE), int(SEAL.F_SEAL_FUTURE_WRITE)
#: Every seal Linux 6.1 knows (F_SEAL_EXEC came with 6.3).
F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE


class MFD(enum.IntFlag):
    """memfd_create flags (uapi linux/memfd.h); the hugetlb page size sits in bits 26-31."""

    MFD_CLOEXEC = 0x0001
    MFD_ALLOW_SEALING = 0x0002
    MFD_HUGETLB = 0x0004


MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB = int(MFD.MFD_CLOEXEC), int(MFD.MFD_ALLOW_SEALING), int(MFD.MFD_HUGETLB)
MFD_HUGE_SHIFT = 26
MFD_HUGE_MASK = 0x3F
#: Longest memfd name: NAME_MAX minus the "memfd:" prefix.
MFD_NAME_MAX_LEN = 255 - 6


class LOCK(enum.IntFlag):
    """flock(2) operations."""

    LOCK_SH = 1
    LOCK_EX = 2
    LOCK_NB = 4
    LOCK_UN = 8
    LOCK_MAND = 32
    LOCK_READ = 64
    LOCK_WRITE = 128


LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN = int(LOCK.LOCK_SH), int(LOCK.LOCK_EX), int(LOCK.LOCK_NB), int(LOCK.LOCK_UN)


class SEEK(enum.IntEnum):
    SEEK_SET = 0
    SEEK_CUR = 1
    SEEK_END = 2
    SEEK_DATA = 3
    SEEK_HOLE = 4


SEEK_SET = SEEK.SEEK_SET
SEEK_CUR = SEEK.SEEK_CUR
SEEK_END = SEEK.SEEK_END
SEEK_DATA = SEEK.SEEK_DATA
SEEK_HOLE = SEEK.SEEK_HOLE


# --- ioctl ------------------------------------------------------------------

class IOCTL(enum.IntEnum):
    """Terminal and generic file ioctls (asm-generic/ioctls.h)."""

    TCGETS = 0x5401
    TCSETS = 0x5402
    TCSETSW = 0x5403
    TCSETSF = 0x5404
    TCGETA = 0x5405
    TCSETA = 0x5406
    TCSETAW = 0x5407
    TCSETAF = 0x5408
    TCSBRK = 0x5409
    TCXONC = 0x540A
    TCFLSH = 0x540B
    TIOCEXCL = 0x540C
    TIOCNXCL = 0x540D
    TIOCSCTTY = 0x540E
    TIOCGPGRP = 0x540F
    TIOCSPGRP = 0x5410
    TIOCOUTQ = 0x5411
    TIOCSTI = 0x5412
    TIOCGWINSZ = 0x5413
    TIOCSWINSZ = 0x5414
    TIOCMGET = 0x5415
    TIOCMBIS = 0x5416
    TIOCMBIC = 0x5417
    TIOCMSET = 0x5418
    TIOCGSOFTCAR = 0x5419
    TIOCSSOFTCAR = 0x541A
    FIONREAD = 0x541B
    TIOCLINUX = 0x541C
    TIOCCONS = 0x541D
    TIOCGSERIAL = 0x541E
    TIOCSSERIAL = 0x541F
    TIOCPKT = 0x5420
    FIONBIO = 0x5421
    TIOCNOTTY = 0x5422
    TIOCSETD = 0x5423
    TIOCGETD = 0x5424
    TCSBRKP = 0x5425
    TIOCSBRK = 0x5427
    TIOCCBRK = 0x5428
    TIOCGSID = 0x5429
    TIOCGPTN = 0x80045430
    TIOCSPTLCK = 0x40045431
    TIOCGPTPEER = 0x5441
    FIONCLEX = 0x5450
    FIOCLEX = 0x5451
    FIOASYNC = 0x5452
    TIOCGLCKTRMIOS = 0x5456
    TIOCSLCKTRMIOS = 0x5457
    FIOQSIZE = 0x5460


TCGETS = IOCTL.TCGETS
TCSETS = IOCTL.TCSETS
TCSETSW = IOCTL.TCSETSW
TCSETSF = IOCTL.TCSETSF
TIOCGPGRP = IOCTL.TIOCGPGRP
TIOCSPGRP = IOCTL.TIOCSPGRP
TIOCGWINSZ = IOCTL.TIOCGWINSZ
TIOCSWINSZ = IOCTL.TIOCSWINSZ
TIOCSCTTY = IOCTL.TIOCSCTTY
TIOCGSID = IOCTL.TIOCGSID
FIONREAD = IOCTL.FIONREAD
FIONBIO = IOCTL.FIONBIO
FIOCLEX = IOCTL.FIOCLEX
FIONCLEX = IOCTL.FIONCLEX

IOCTL_NAMES: dict[int, str] = names_of(IOCTL)

#: struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel; }.
WINSIZE_FORMAT = "<HHHH"
WINSIZE_SIZE = 8
#: struct termios (kernel's, as TCGETS uses it): 4 tcflag_t, c_line, 19 cc.
TERMIOS_FORMAT = "<IIIIB19B"
TERMIOS_SIZE = 36
