"""System-call handlers, one module per family, and the table that lists them all."""

from . import (epoll, events, fs, futex, inotify, ldt, locks, mm, mmext, poll, process, ptrace, signal, splice,
               time, unpriv, vas, xattr)
from . import ipc, pidfd, sched
from . import net
from .table import build_table


def default_table():
    """The syscall table of umlpy: every number a row, implemented or ENOSYS."""
    return build_table(fs.FAMILY, futex.FAMILY, ldt.FAMILY, mm.FAMILY, mmext.FAMILY, poll.FAMILY, process.FAMILY,
                       signal.FAMILY, time.FAMILY, unpriv.FAMILY, ptrace.FAMILY, vas.FAMILY, epoll.FAMILY,
                       events.FAMILY, locks.FAMILY, splice.FAMILY, inotify.FAMILY, xattr.FAMILY,
                       pidfd.FAMILY, sched.FAMILY, ipc.FAMILY,
                       net.FAMILY)
