"""System-call handlers, one module per family, and the table that lists them all."""

from . import fs, futex, ldt, mm, mmext, poll, process, ptrace, signal, time, unpriv, vas
from .table import build_table


def default_table():
    """The syscall table of umlpy: every number a row, implemented or ENOSYS."""
    return build_table(fs.FAMILY, futex.FAMILY, ldt.FAMILY, mm.FAMILY, mmext.FAMILY, poll.FAMILY, process.FAMILY,
                       signal.FAMILY, time.FAMILY, unpriv.FAMILY, ptrace.FAMILY, vas.FAMILY)
