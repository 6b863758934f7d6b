"""Resource limits and usage (uapi ``asm-generic/resource.h``, ``linux/resource.h``)."""

import enum


class RLIMIT(enum.IntEnum):
    RLIMIT_CPU = 0
    RLIMIT_FSIZE = 1
    RLIMIT_DATA = 2
    RLIMIT_STACK = 3
    RLIMIT_CORE = 4
    RLIMIT_RSS = 5
    RLIMIT_NPROC = 6
    RLIMIT_NOFILE = 7
    RLIMIT_MEMLOCK = 8
    RLIMIT_AS = 9
    RLIMIT_LOCKS = 10
    RLIMIT_SIGPENDING = 11
    RLIMIT_MSGQUEUE = 12
    RLIMIT_NICE = 13
    RLIMIT_RTPRIO = 14
    RLIMIT_RTTIME = 15


RLIM_NLIMITS = 16
#: RLIM_INFINITY of prlimit64's ``struct rlimit64`` (and of x86-64's ``struct rlimit``).
RLIM64_INFINITY = (1 << 64) - 1


class RUSAGE(enum.IntEnum):
    """getrusage(2)'s ``who``."""

    RUSAGE_SELF = 0
    RUSAGE_CHILDREN = -1
    RUSAGE_THREAD = 1


RUSAGE_SELF = RUSAGE.RUSAGE_SELF
RUSAGE_CHILDREN = RUSAGE.RUSAGE_CHILDREN
RUSAGE_THREAD = RUSAGE.RUSAGE_THREAD
