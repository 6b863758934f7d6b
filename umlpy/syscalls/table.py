"""The system-call table: one declarative row per number, implemented or not.

Every x86-64 syscall number of ``umlpy.abi.syscall_nr`` and every extension
number of ``umlpy.abi.extensions`` has a row.  A row is
``Row(name, handler, support, note)``; unimplemented calls are explicit
ENOSYS rows (visible in traces), never a silent gap.  Families register
their handlers with :func:`supported` / :func:`partial` in their own module;
:func:`build_table` assembles the table and checks every name it is given.
"""

import enum
import errno
from umlpy.abi.extensions import EXTENSION_NAMES
from umlpy.abi.record import record
from umlpy.abi.syscall_nr import SYSCALL_NAMES
from umlpy.errors import SyscallError

MAX_NR = 1024


class Support(enum.Enum):
    FULL = "full"
    PARTIAL = "partial"
    ENOSYS = "enosys"


@record(frozen=True, slots=True)
class Row:
    nr: int
    name: str
    handler: object
    support: Support
    note: str = ""


def supported(name, handler, note=""):
    return (name, handler, Support.FULL, note)


def partial(name, handler, note):
    return (name, handler, Support.PARTIAL, note)


def enosys(name, note="not implemented"):
    return (name, None, Support.ENOSYS, note)


def _enosys_handler(t, args):
    raise SyscallError(errno.ENOSYS)


class SyscallTable:
    """Rows indexed by number; numbers without a name answer ENOSYS too."""

    def __init__(self, rows: dict):
        self.rows = [None] * MAX_NR
        for nr, row in rows.items():
            self.rows[nr] = row
        self._unknown = {}

    def lookup(self, nr: int) -> Row:
        if 0 <= nr < MAX_NR:
            row = self.rows[nr]
            if row is not None:
                return row
        row = self._unknown.get(nr)
        if row is None:
            row = self._unknown[nr] = Row(nr, "syscall_%#x" % nr if nr >= MAX_NR else "syscall_%d" % nr,
                                          _enosys_handler, Support.ENOSYS, "no such system call")
        return row

    def __iter__(self):
        return (r for r in self.rows if r is not None)

    def name(self, nr: int) -> str:
        return self.lookup(nr).name


def build_table(*families) -> SyscallTable:
    """Make the table from families' lists of (name, handler, support, note)."""
    by_name = {}
    for fam in families:
        for name, handler, support, note in fam:
            if name in by_name:
                raise ValueError("syscall %s registered twice" % name)
            by_name[name] = (handler, support, note)
    numbers = {name: nr for nr, name in SYSCALL_NAMES.items()}
    numbers.update({name: nr for nr, name in EXTENSION_NAMES.items()})
    unknown = set(by_name) - set(numbers)
    if unknown:
        raise ValueError("no such syscall: %s" % ", ".join(sorted(unknown)))
    rows = {}
    for name, nr in numbers.items():
        handler, support, note = by_name.get(name, (None, Support.ENOSYS, "not implemented"))
        if handler is None:
            handler, support = _enosys_handler, Support.ENOSYS
        rows[nr] = Row(nr, name, handler, support, note)
    return SyscallTable(rows)
