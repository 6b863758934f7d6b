"""Scheduling policies and priorities (uapi ``linux/sched.h``, ``linux/resource.h``), and
the capability sets of capget/capset (uapi ``linux/capability.h``)."""

import enum


class Policy(enum.IntEnum):
    SCHED_OTHER = 0
    SCHED_FIFO = 1
    SCHED_RR = 2
    SCHED_BATCH = 3
    SCHED_IDLE = 5
    SCHED_DEADLINE = 6


SCHED_OTHER, SCHED_FIFO, SCHED_RR = Policy.SCHED_OTHER, Policy.SCHED_FIFO, Policy.SCHED_RR
SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE = Policy.SCHED_BATCH, Policy.SCHED_IDLE, Policy.SCHED_DEADLINE
#: sched_setscheduler's flag: children go back to SCHED_OTHER.
SCHED_RESET_ON_FORK = 0x40000000
#: Real-time priorities of SCHED_FIFO/SCHED_RR (MAX_RT_PRIO - 1).
MAX_USER_RT_PRIO = 99
#: SCHED_RR's time slice (RR_TIMESLICE, 100 ms).
RR_TIMESLICE_NS = 100_000_000

#: getpriority/setpriority "which" (linux/resource.h).
PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2
#: Nice values.
MIN_NICE, MAX_NICE = -20, 19

#: capget/capset header versions.
_LINUX_CAPABILITY_VERSION_1 = 0x19980330
_LINUX_CAPABILITY_VERSION_2 = 0x20071026
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: The highest capability of Linux 6.1 (CAP_CHECKPOINT_RESTORE).
CAP_LAST_CAP = 40
CAP_FULL_SET = (1 << (CAP_LAST_CAP + 1)) - 1

#: struct sched_attr (sched_setattr/sched_getattr): size, policy, flags, nice, priority,
#: runtime, deadline, period (SCHED_ATTR_SIZE_VER0 = 48), util_min, util_max (VER1 = 56).
SCHED_ATTR_SIZE_VER0 = 48
SCHED_ATTR_SIZE_VER1 = 56
SCHED_FLAG_RESET_ON_FORK = 0x01
SCHED_FLAG_KEEP_POLICY = 0x08
SCHED_FLAG_KEEP_PARAMS = 0x10
SCHED_FLAG_ALL = 0x7F
