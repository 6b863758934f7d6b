"""The system-call table: one declarative row per number, implemented or not.

Every x86-64 syscall number of ``umlpy.abi.syscall_nr`` and every extension
number of ``umlpy.abi.extensions`` has a row.  A row is
``Row(name, handler, support, note)``; unimplemented calls are explicit
ENOSYS rows (visible in traces), never a silent gap.  Families register
their handlers with :func:`supported` / :func:`partial` in their own module;
:func:`build_table` assembles the table and checks every name it is given.

:func:`lazy_table` makes the same table without importing the families: each
number starts as a :class:`LazyRow`, and the first call of a number imports the
family an index names for it (every family when the index does not know the
name), so a run pays only for the families its guest uses.
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


class LazyRow:
    """The row of a number whose family is not imported yet; reading its handler
    (the kernel calls it) imports the family and puts the real row in the table."""

    __slots__ = ("nr", "name", "table")

    def __init__(self, nr, name, table):
        self.nr, self.name, self.table = nr, name, table

    @property
    def handler(self):
        return self.table.resolve(self.nr).handler

    @property
    def support(self):
        return self.table.resolve(self.nr).support

    @property
    def note(self):
        return self.table.resolve(self.nr).note

    def __repr__(self):
        return "LazyRow(%d, %r)" % (self.nr, self.name)


class SyscallTable:
    """Rows indexed by number; numbers without a name answer ENOSYS too.

    ``rows`` is the list the kernel indexes on its hot path; in a lazy table
    (see :func:`lazy_table`) it holds :class:`LazyRow` entries until their
    families are imported, and resolving replaces them in place."""

    def __init__(self, rows: dict, families=None, index=None):
        self.rows = [None] * MAX_NR
        for nr, row in rows.items():
            self.rows[nr] = row
        self._unknown = {}
        self._families = families      # None, or {module name: () -> its FAMILY list}
        self._index = index            # syscall name -> module name

    def resolve(self, nr: int) -> Row:
        """The real row of ``nr``, importing its family if need be."""
        row = self.rows[nr]
        if not isinstance(row, LazyRow):
            return row
        fam = self._index.get(row.name)
        if fam is not None and fam in self._families:
            if self._install(self._families[fam](), row.name):
                return self.rows[nr]
        self.resolve_all()              # a name the index does not know: every family
        return self.rows[nr]

    def _install(self, entries, wanted) -> bool:
        """Put one family's rows in place of lazy ones; whether ``wanted`` was among them."""
        numbers = _numbers()
        found = False
        for name, handler, support, note in entries:
            nr = numbers.get(name)
            if nr is None:
                return False            # a bad family: resolve_all reports it
            if handler is None:
                handler, support = _enosys_handler, Support.ENOSYS
            if isinstance(self.rows[nr], LazyRow):
                self.rows[nr] = Row(nr, name, handler, support, note)
            found = found or name == wanted
        return found

    def resolve_all(self):
        """Import every family: no lazy row is left (and build_table checks every name)."""
        if self._families is None:
            return
        full = build_table(*(load() for load in self._families.values()))
        for nr, row in enumerate(self.rows):
            if isinstance(row, LazyRow):
                self.rows[nr] = full.rows[nr]

    def lookup(self, nr: int) -> Row:
        if 0 <= nr < MAX_NR:
            row = self.rows[nr]
            if row is not None:
                return self.resolve(nr) if isinstance(row, LazyRow) else row
        row = self._unknown.get(nr)
        if row is None:
            row = self._unknown[nr] = Row(nr, "syscall_%#x" % nr if nr >= MAX_NR else "syscall_%d" % nr,
                                          _enosys_handler, Support.ENOSYS, "no such system call")
        return row

    def __iter__(self):
        self.resolve_all()
        return (r for r in self.rows if r is not None)

    def name(self, nr: int) -> str:
        return self.lookup(nr).name


_NUMBERS = None


def _numbers() -> dict:
    """Syscall name -> number, the extensions included."""
    global _NUMBERS
    if _NUMBERS is None:
        numbers = {name: nr for nr, name in SYSCALL_NAMES.items()}
        numbers.update({name: nr for nr, name in EXTENSION_NAMES.items()})
        _NUMBERS = numbers
    return _NUMBERS


def lazy_table(families: dict, index: dict) -> SyscallTable:
    """The table of ``families`` ({module name: () -> its FAMILY list}, loaded on first
    use) with ``index`` (syscall name -> module name) saying which family lists a call.
    An index that is out of date costs time (every family is imported), never a wrong row."""
    table = SyscallTable({}, families, index)
    for name, nr in _numbers().items():
        table.rows[nr] = LazyRow(nr, name, table)
    return table


def build_table(*families) -> SyscallTable:
    """Make the table from families' lists of (name, handler, support, note)."""
    by_name = {}
    for fam in families:
        for name, handler, support, note in fam:
            if name in by_name:
                raise ValueError("syscall %s registered twice" % name)
            by_name[name] = (handler, support, note)
    numbers = _numbers()
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
