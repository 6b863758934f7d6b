"""strace's writer helpers: how one value is spelled in a trace line.

Every quoted string, flag word, enumerated value, pointer and number of a
decoded argument goes through these functions, so the punctuation of the
whole trace lives here.  ``xmode`` is strace's ``-X``: ``abbrev`` (the
default: names), ``raw`` (numbers only) or ``verbose`` (the number, then the
names in a comment: ``0x1 /* O_WRONLY */``).

Tables are ordered ``(value, name)`` pairs: strace prints the names of a flag
word in its table's order, which is not always numeric (``O_CLOEXEC`` before
``O_DIRECTORY``), so the order is data.  A ``{value: name}`` dict or an
IntEnum/IntFlag class is accepted too (dict order, then).
"""

import enum
import re

from umlpy.abi.flags import names_of

#: ``(value, name)`` pairs, a ``{value: name}`` mapping or an IntEnum/IntFlag class.
Table = "Sequence[tuple[int, str]] | Mapping[int, str] | type"

#: id(table) -> (table, its pairs, dict(pairs)): tables are module constants, made into
#: pairs once rather than at every decoded argument (the table is kept: its id stays its own).
_PAIRS: dict = {}

M64 = (1 << 64) - 1

# Bytes with a one-letter C escape.
_ESCAPES = {0x0A: "\\n", 0x09: "\\t", 0x0D: "\\r", 0x0B: "\\v", 0x0C: "\\f",
            0x22: '\\"', 0x5C: "\\\\"}


def _made(table):
    hit = _PAIRS.get(id(table))
    if hit is None or hit[0] is not table:
        if isinstance(table, type) and issubclass(table, enum.Enum):
            p = tuple(names_of(table).items())
        elif hasattr(table, "items"):
            p = tuple((int(v), n) for v, n in table.items())
        else:
            p = tuple((int(v), n) for v, n in table)
        hit = (table, p, dict(p))
        if len(_PAIRS) < 4096:
            _PAIRS[id(table)] = hit
    return hit


def pairs(table: Table) -> tuple[tuple[int, str], ...]:
    """``table`` as ordered ``(value, name)`` pairs."""
    return _made(table)[1]


_HEX = ["\\x%02x" % b for b in range(256)]
_NEEDS_ESCAPE = re.compile(rb'[^\x20-\x7e]|["\\]')


def quote_bytes(data: bytes, limit: int, *, complete: bool, hexall: bool = False) -> str:
    """``data`` as a C string literal, strace style.

    At most ``limit`` bytes are shown; ``...`` follows the closing quote when
    ``data`` was longer or when it is not ``complete`` (a C string whose NUL
    was not found).  Non-printable bytes are octal escapes, as short as
    possible unless the next shown byte is an octal digit (``\\1`` but
    ``\\0012``).  ``hexall`` spells every byte ``\\xNN`` (strace does that
    for random data such as getrandom's buffer).
    """
    data = bytes(data)
    shown = data[:max(limit, 0)]
    cut = len(data) > len(shown) or not complete
    tail = '"...' if cut else '"'
    if hexall:
        return '"' + "".join([_HEX[b] for b in shown]) + tail
    if not _NEEDS_ESCAPE.search(shown):           # the common case: plain printable text
        return '"' + shown.decode("ascii") + tail
    out = ['"']
    n = len(shown)
    for i, b in enumerate(shown):
        esc = _ESCAPES.get(b)
        if esc is not None:
            out.append(esc)
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        elif i + 1 < n and 0x30 <= shown[i + 1] <= 0x37:
            out.append("\\%03o" % b)
        else:
            out.append("\\%o" % b)
    out.append(tail)
    return "".join(out)


def fmt_hex(value: int) -> str:
    """An unsigned number in hex (``0`` for zero, as C's ``%#x``)."""
    value &= M64
    return "%#x" % value if value else "0"


def fmt_ptr(addr: int) -> str:
    """A pointer: ``NULL`` or ``0x7ffc1000``."""
    addr &= M64
    return "NULL" if addr == 0 else "%#x" % addr


def fmt_int(value: int, bits: int = 32, signed: bool = True) -> str:
    """``value`` (a raw register) as a C integer of ``bits`` bits, in decimal."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return str(value)


def fmt_octal(value: int) -> str:
    """A mode: ``0644``, ``000``, ``04755`` (C's ``%#03o``)."""
    value &= 0xFFFFFFFF
    return "0%02o" % value if value < 0o10 else "0%o" % value


def comment(number: str, text: str) -> str:
    """``number /* text */``: strace's verbose spelling."""
    return "%s /* %s */" % (number, text)


def flag_names(value: int, table: Table) -> tuple[list[str], int]:
    """The names of the bits of ``value`` (table order) and the bits left over.

    A name is taken when all its bits are set; its bits are then consumed,
    so a multi-bit name listed first (``O_SYNC``) hides its parts.
    """
    rest = value
    names = []
    for v, n in pairs(table):
        if v and rest & v == v:
            names.append(n)
            rest &= ~v
    return names, rest


#: (value, id(table), zero, xmode, dflt) -> text of fmt_flags: a trace prints the same few
#: flag words over and over (O_RDONLY|O_CLOEXEC...).  Only tables _PAIRS keeps (so their
#: ids stay theirs); emptied when it grows past _MEMO_MAX.
_FLAGS_MEMO: dict = {}
_MEMO_MAX = 1 << 16


def fmt_flags(value: int, table: Table, zero: str | None = None, xmode: str = "abbrev",
              dflt: str | None = None) -> str:
    """A flag word: ``O_RDONLY|O_CLOEXEC``, unknown bits in hex.

    ``zero`` names the value 0 (``PROT_NONE``); ``dflt`` is the comment of a
    value with no known bit at all (``0x40 /* PROT_??? */``).
    """
    value &= M64
    key = (value, id(table), zero, xmode, dflt)
    text = _FLAGS_MEMO.get(key)
    if text is not None:
        return text
    text = _fmt_flags(value, table, zero, xmode, dflt)
    hit = _PAIRS.get(id(table))
    if hit is not None and hit[0] is table:
        if len(_FLAGS_MEMO) >= _MEMO_MAX:
            _FLAGS_MEMO.clear()
        _FLAGS_MEMO[key] = text
    return text


def _fmt_flags(value, table, zero, xmode, dflt):
    if xmode == "raw":
        return fmt_hex(value)
    if value == 0:
        if zero is None:
            return "0"
        return comment("0", zero) if xmode == "verbose" else zero
    names, rest = flag_names(value, table)
    if not names:
        return comment(fmt_hex(value), dflt) if dflt else fmt_hex(value)
    if rest:
        names.append(fmt_hex(rest))
    text = "|".join(names)
    return comment(fmt_hex(value), text) if xmode == "verbose" else text


def fmt_enum(value: int, table: Table, xmode: str = "abbrev", dflt: str | None = None,
             number=fmt_hex) -> str:
    """An enumerated value: its name, or the number with ``/* X_??? */``.

    ``number`` spells the number (hex by default; signals and fds are decimal).
    """
    name = _made(table)[2].get(value)
    num = number(value)
    if name is None:
        return comment(num, dflt) if dflt and xmode != "raw" else num
    if xmode == "raw":
        return num
    if xmode == "verbose":
        return comment(num, name)
    return name


def fmt_list(items: "Iterable[str]") -> str:
    """``[a, b, c]``."""
    return "[" + ", ".join(items) + "]"


def fmt_struct(fields: "Iterable[tuple[str, str]]", more: bool = False) -> str:
    """``{a=1, b=2}``, with ``, ...`` when fields were left out (strace's abbreviation)."""
    parts = ["%s=%s" % f for f in fields]
    if more:
        parts.append("...")
    return "{" + ", ".join(parts) + "}"
