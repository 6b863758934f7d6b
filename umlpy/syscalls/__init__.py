"""System-call handlers, one module per family, and the table that lists them all.

The families are imported when the guest first makes one of their calls (see
:func:`umlpy.syscalls.table.lazy_table`): ``index.py`` says which family lists which
call, and tools/gen_syscall_index.py writes it (a test checks it is current).
"""

import importlib

from .table import build_table, lazy_table

#: The family modules (umlpy.syscalls.NAME), each with its FAMILY list of rows.
FAMILY_MODULES = ("fs", "futex", "ldt", "mm", "mmext", "poll", "process", "signal", "time", "unpriv", "ptrace",
                  "vas", "epoll", "events", "locks", "splice", "inotify", "xattr",
                  "pidfd", "sched", "ipc",
                  "net")


def family(name: str) -> list:
    """The FAMILY list of module umlpy.syscalls.``name`` (imported now if need be)."""
    return importlib.import_module("umlpy.syscalls." + name).FAMILY


def _loader(name):
    return lambda: family(name)


def full_table():
    """The syscall table with every family imported and every name checked now."""
    return build_table(*(family(name) for name in FAMILY_MODULES))


def install_proc_mm(kernel) -> None:
    """Add /proc/mm to ``kernel``'s procfs; the mmext family is imported when it is looked up."""
    def node(procfs):
        from .mmext import ProcMMNode
        return ProcMMNode(procfs, kernel)
    kernel.vfs.procfs.register(b"mm", node)


def default_table():
    """The syscall table of umlpy: every number a row, implemented or ENOSYS; a family
    is imported the first time the guest makes one of its calls."""
    from .index import FAMILY_OF
    return lazy_table({name: _loader(name) for name in FAMILY_MODULES}, FAMILY_OF)
