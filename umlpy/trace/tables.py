"""The ``(value, name)`` tables the decoders print from, in strace's order.

Values and names come from :mod:`umlpy.abi`; what this module adds is the
order strace prints a flag word's names in (``O_CLOEXEC`` before
``O_DIRECTORY``, ``SA_INTERRUPT`` among the SA_ bits, ``IEXTEN`` before
``ECHOCTL``), which is not always numeric, and the few spellings that are
strace's own (``SNDCTL_TMR_START or TCSETS``).  No number is defined here.
"""

from umlpy.abi import stat as abi_stat
from umlpy.abi import poll as abi_poll
from umlpy.abi import termios
from umlpy.abi.clone import CLONE
from umlpy.abi.events import EFD, EPOLL, EPOLL_CLOEXEC, IN, IN_CLOEXEC, IN_NONBLOCK, SFD, TFD, TFD_TIMER, EpollOp
from umlpy.abi.fcntl import (AT, AT_EACCESS, AT_EMPTY_PATH, AT_STATX_DONT_SYNC, AT_STATX_FORCE_SYNC,
                             AT_STATX_SYNC_AS_STAT, AT_SYMLINK_NOFOLLOW, F, F_RDLCK, F_UNLCK, F_WRLCK,
                             FD_CLOEXEC, IOCTL, LOCK, MFD, O, O_ACCMODE, O_ACCMODE_NAMES, SEAL, SEEK)
from umlpy.abi.fs import ACCESS, CLOSE_RANGE, FADV, FALLOC_FL, RENAME, SPLICE_F
from umlpy.abi.futex import FUTEX, FUTEX_OP, FUTEX_OP_CMP
from umlpy.abi.mman import MADV, MAP, MAP_FILE, MAP_TYPE_NAMES, MCL, MREMAP, MS, PROT
from umlpy.abi.prctl import ARCH, PR
from umlpy.abi.random import GRND
from umlpy.abi.resource import RLIMIT, RUSAGE
from umlpy.abi.signal import SA, SA_INTERRUPT, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, How
from umlpy.abi.time import CLOCK, TIMER
from umlpy.abi.wait import P, WAIT_OPTION_NAMES

from .format import pairs


def _ordered(cls, names: str) -> tuple[tuple[int, str], ...]:
    """(value, name) pairs of ``cls`` members in the order strace prints them."""
    return tuple((int(cls[n]), n) for n in names.split())


def _named(module, names: str) -> tuple[tuple[int, str], ...]:
    """(value, name) pairs of ``module``'s constants ``names``, in that order."""
    return tuple((int(getattr(module, n)), n) for n in names.split())


# --- files ---------------------------------------------------------------------

OPEN_FLAGS = _ordered(O, "O_CREAT O_EXCL O_NOCTTY O_TRUNC O_APPEND O_NONBLOCK O_SYNC O_DSYNC O_DIRECT "
                         "O_LARGEFILE O_NOFOLLOW O_NOATIME O_CLOEXEC O_PATH O_TMPFILE O_DIRECTORY FASYNC")
ACCMODES = tuple((int(v), n) for v, n in O_ACCMODE_NAMES.items()) + ((O_ACCMODE, "O_ACCMODE"),)
AT_FLAGS = _ordered(AT, "AT_SYMLINK_NOFOLLOW AT_REMOVEDIR AT_SYMLINK_FOLLOW AT_NO_AUTOMOUNT "
                        "AT_EMPTY_PATH AT_RECURSIVE")
AT_ACCESS_FLAGS = ((int(AT_SYMLINK_NOFOLLOW), "AT_SYMLINK_NOFOLLOW"), (AT_EACCESS, "AT_EACCESS"),
                   (int(AT_EMPTY_PATH), "AT_EMPTY_PATH"))
STATX_SYNC = ((AT_STATX_SYNC_AS_STAT, "AT_STATX_SYNC_AS_STAT"), (int(AT_STATX_FORCE_SYNC), "AT_STATX_FORCE_SYNC"),
              (int(AT_STATX_DONT_SYNC), "AT_STATX_DONT_SYNC"))
STATX_MASK = ((abi_stat.STATX_ALL, "STATX_ALL"), (abi_stat.STATX_BASIC_STATS, "STATX_BASIC_STATS")) + \
    _named(abi_stat, "STATX_TYPE STATX_MODE STATX_NLINK STATX_UID STATX_GID STATX_ATIME STATX_MTIME "
                     "STATX_CTIME STATX_INO STATX_SIZE STATX_BLOCKS STATX_BTIME STATX_MNT_ID") + \
    ((abi_stat.STATX_DIOALIGN, "STATX_DIOALIGN"),)
FCNTL_CMDS = tuple(sorted(pairs(F)))
FD_FLAGS = ((FD_CLOEXEC, "FD_CLOEXEC"),)
LOCK_TYPES = ((F_RDLCK, "F_RDLCK"), (F_WRLCK, "F_WRLCK"), (F_UNLCK, "F_UNLCK"))
FLOCK_OPS = pairs(LOCK)
SEAL_FLAGS = pairs(SEAL)
MFD_FLAGS = pairs(MFD)
SEEK_WHENCE = pairs(SEEK)
ACCESS_MODES = _ordered(ACCESS, "R_OK W_OK X_OK")
RENAME_FLAGS = pairs(RENAME)
SPLICE_FLAGS = pairs(SPLICE_F)
FALLOC_FLAGS = pairs(FALLOC_FL)
FADVICE = pairs(FADV)
CLOSE_RANGE_FLAGS = pairs(CLOSE_RANGE)
S_IFMT_NAMES = _named(abi_stat, "S_IFREG S_IFDIR S_IFCHR S_IFBLK S_IFIFO S_IFLNK S_IFSOCK")
S_MODE_BITS = _named(abi_stat, "S_ISUID S_ISGID S_ISVTX")
DT_NAMES = _named(abi_stat, "DT_UNKNOWN DT_FIFO DT_CHR DT_DIR DT_BLK DT_REG DT_LNK DT_SOCK")
FS_MAGICS = _named(abi_stat, "TMPFS_MAGIC PROC_SUPER_MAGIC OVERLAYFS_SUPER_MAGIC EXT2_SUPER_MAGIC")
ST_FLAGS = _named(abi_stat, "ST_RDONLY ST_NOSUID ST_NODEV ST_NOEXEC ST_SYNCHRONOUS ST_VALID ST_MANDLOCK "
                            "ST_NOATIME ST_NODIRATIME ST_RELATIME")

# --- memory --------------------------------------------------------------------

PROT_FLAGS = _ordered(PROT, "PROT_READ PROT_WRITE PROT_EXEC PROT_SEM PROT_GROWSDOWN PROT_GROWSUP")
MAP_TYPES = ((MAP_FILE, "MAP_FILE"),) + tuple(MAP_TYPE_NAMES.items())
MAP_FLAGS = _ordered(
    MAP, "MAP_FIXED MAP_ANONYMOUS MAP_32BIT MAP_NORESERVE MAP_POPULATE MAP_NONBLOCK MAP_GROWSDOWN "
    "MAP_DENYWRITE MAP_EXECUTABLE MAP_LOCKED MAP_STACK MAP_HUGETLB MAP_SYNC MAP_FIXED_NOREPLACE")
MADV_ADVICE = pairs(MADV)
MREMAP_FLAGS = pairs(MREMAP)
MSYNC_FLAGS = _ordered(MS, "MS_ASYNC MS_SYNC MS_INVALIDATE")
MLOCKALL_FLAGS = pairs(MCL)

# --- signals -------------------------------------------------------------------

SA_FLAGS = _ordered(SA, "SA_RESTORER SA_ONSTACK SA_RESTART") + ((SA_INTERRUPT, "SA_INTERRUPT"),) + \
    _ordered(SA, "SA_NODEFER SA_RESETHAND SA_SIGINFO SA_NOCLDSTOP SA_NOCLDWAIT")
SIGPROCMASK_HOW = pairs(How)
SS_FLAGS = ((SS_ONSTACK, "SS_ONSTACK"), (SS_DISABLE, "SS_DISABLE"), (SS_AUTODISARM, "SS_AUTODISARM"))

# --- processes, time, misc -----------------------------------------------------

CLONE_FLAGS = pairs(CLONE)
FUTEX_CMDS = pairs(FUTEX)
FUTEX_OP_OPS = pairs(FUTEX_OP)
FUTEX_OP_CMPS = pairs(FUTEX_OP_CMP)
ARCH_CODES = pairs(ARCH)
RLIMITS = pairs(RLIMIT)
RUSAGE_WHO = _ordered(RUSAGE, "RUSAGE_SELF RUSAGE_CHILDREN RUSAGE_THREAD")
WAIT_OPTIONS = pairs(WAIT_OPTION_NAMES)
IDTYPES = pairs(P)
CLOCKS = pairs(CLOCK)
TIMER_FLAGS = pairs(TIMER)
GRND_FLAGS = pairs(GRND)
PR_OPTIONS = _ordered(
    PR, "PR_SET_PDEATHSIG PR_GET_PDEATHSIG PR_GET_DUMPABLE PR_SET_DUMPABLE PR_GET_KEEPCAPS PR_SET_KEEPCAPS "
    "PR_SET_NAME PR_GET_NAME PR_GET_SECCOMP PR_SET_SECCOMP PR_CAPBSET_READ PR_GET_TIMERSLACK "
    "PR_SET_TIMERSLACK PR_SET_MM PR_SET_CHILD_SUBREAPER PR_GET_CHILD_SUBREAPER PR_SET_NO_NEW_PRIVS "
    "PR_GET_NO_NEW_PRIVS PR_SET_THP_DISABLE PR_GET_THP_DISABLE PR_SET_VMA")

# --- terminals (ioctl) ---------------------------------------------------------

TC_IFLAG = pairs(termios.IFLAG)
TC_ODELAYS = termios.OFLAG_DELAYS
TC_OFLAG = pairs(termios.OFLAG)
TC_BAUD = pairs(termios.BAUD_NAMES)
TC_CSIZE = pairs(termios.CSIZE_NAMES)
TC_CFLAG = pairs(termios.CFLAG)
TC_LFLAG = _ordered(termios.LFLAG, "ISIG ICANON XCASE ECHO ECHOE ECHOK ECHONL NOFLSH TOSTOP IEXTEN ECHOCTL "
                                   "ECHOPRT ECHOKE FLUSHO PENDIN EXTPROC")
# Request numbers that collide with an OSS sound ioctl: strace names both.
IOCTL_ALIASES = {int(IOCTL.TCSETS): "SNDCTL_TMR_START or TCSETS", int(IOCTL.TCSETSW): "SNDCTL_TMR_STOP or TCSETSW",
                 int(IOCTL.TCSETSF): "SNDCTL_TMR_CONTINUE or TCSETSF"}
IOCTL_REQUESTS = pairs(IOCTL)

# --- event files ---------------------------------------------------------------

EPOLL_EVENTS = pairs(EPOLL)
EPOLL_CTL_OPS = pairs(EpollOp)
EPOLL_CREATE_FLAGS = ((EPOLL_CLOEXEC, "EPOLL_CLOEXEC"),)
EFD_FLAGS = _ordered(EFD, "EFD_SEMAPHORE EFD_CLOEXEC EFD_NONBLOCK")
TFD_FLAGS = _ordered(TFD, "TFD_CLOEXEC TFD_NONBLOCK")
TFD_TIMER_FLAGS = pairs(TFD_TIMER)
SFD_FLAGS = _ordered(SFD, "SFD_CLOEXEC SFD_NONBLOCK")
INOTIFY_MASK = pairs(IN)
POLL_EVENTS = _named(abi_poll, "POLLIN POLLPRI POLLOUT POLLERR POLLHUP POLLNVAL POLLRDNORM POLLRDBAND "
                               "POLLWRNORM POLLWRBAND POLLMSG POLLRDHUP")
INOTIFY_INIT_FLAGS = ((IN_NONBLOCK, "IN_NONBLOCK"), (IN_CLOEXEC, "IN_CLOEXEC"))
