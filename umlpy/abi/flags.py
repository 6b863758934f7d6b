"""strace-style printing of flag words and enumerated values.

The tables are the ones the ABI modules export (``{value: name}`` dicts or
IntFlag/IntEnum classes), so flag names exist in exactly one place.
"""

import enum
#: A table of names: a ``{value: name}`` mapping or an IntEnum/IntFlag class (typing is not
#: imported for this alias: it would cost every start-up).
Table = "Mapping[int, str] | type"


def names_of(cls: type) -> dict[int, str]:
    """``{value: name}`` of every member of an IntEnum/IntFlag, the first name
    for each value.  Unlike iteration, this keeps multi-bit IntFlag members
    (O_SYNC, MAP_SHARED_VALIDATE), which Python 3.11 treats as aliases."""
    out: dict[int, str] = {}
    for name, member in cls.__members__.items():
        out.setdefault(int(member.value), name)
    return out


def _items(table: Table):
    if isinstance(table, type) and issubclass(table, enum.Enum):
        return list(names_of(table).items())
    return list(table.items())


def format_flags(value: int, table: Table, zero_name: str | None = None) -> str:
    """Print ``value`` as ``A|B|0x40``: known bits by name, the rest in hex.

    Multi-bit names are matched first (largest first), so a mask such as
    O_ACCMODE-like entries or MAP_SHARED_VALIDATE wins over its single bits.
    A zero value prints ``zero_name`` if given, else ``0``.
    """
    value = int(value)
    if value == 0:
        return zero_name if zero_name is not None else "0"
    if value < 0:
        value &= (1 << 64) - 1
    rest = value
    entries = sorted(((v, n) for v, n in _items(table) if v > 0),
                     key=lambda e: (-bin(e[0]).count("1"), e[0]))
    picked = []
    for v, n in entries:
        if rest & v == v:
            picked.append((v, n))
            rest &= ~v
    picked.sort(key=lambda e: e[0])
    names = [n for _, n in picked]
    if rest:
        names.append("%#x" % rest)
    return "|".join(names)


def format_enum(value: int, table: Table, default_fmt: str = "%d") -> str:
    """Name of ``value`` in ``table``, or ``value`` printed with ``default_fmt``."""
    value = int(value)
    if isinstance(table, type) and issubclass(table, enum.Enum):
        try:
            return table(value).name
        except ValueError:
            return default_fmt % value
    name = table.get(value)
    return name if name is not None else default_fmt % value
