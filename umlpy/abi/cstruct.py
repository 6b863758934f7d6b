"""C structure layouts as data, for structs shared between C and Python.

A :class:`CStruct` lists its fields in declaration order and computes the
offsets, the size and a little-endian ``struct`` format with the padding
that natural x86-64 alignment implies, so a layout is written down once and
the C side is checked against it by a test (tests/unit/abi/test_header.py).

Field types are ``struct`` codes: a scalar (``"i"``, ``"I"``, ``"q"``,
``"Q"``, ``"B"``, ...), an array (``"6q"``), explicit padding (``"4x"``), a
nested :class:`CStruct`, or an array of them (``(CStruct, count)``).
Unpacking gives a dict: arrays become tuples, nested structs nested dicts.
"""

import struct

_CODES = "bBhHiIlLqQx"


def _split_type(ftype: str):
    """("6", "q") of a field type such as ``"6q"``; None if it is not one.  (No ``re``:
    importing it would cost every start-up, and this is all the parsing there is.)"""
    if not ftype or ftype[-1] not in _CODES:
        return None
    count = ftype[:-1]
    if count and not count.isdigit():
        return None
    return count, ftype[-1]


class CStruct:
    """The layout of one C struct (x86-64 natural alignment)."""

    def __init__(self, name: str, fields):
        self.name = name
        self.fields = tuple(fields)
        self.offsets: dict[str, int] = {}
        self.sizes: dict[str, int] = {}
        self._codes = []          # (name, count, code | CStruct) for (un)packing
        fmt = ["<"]
        off = 0
        align = 1
        for fname, ftype in self.fields:
            if isinstance(ftype, CStruct):
                falign, fsize, count, code = ftype.align, ftype.size, 1, ftype
            elif isinstance(ftype, tuple):
                code, count = ftype
                falign, fsize = code.align, code.size * count
            else:
                m = _split_type(ftype)
                if not m:
                    raise ValueError("%s.%s: bad field type %r" % (name, fname, ftype))
                count = int(m[0] or 1)
                code = m[1]
                esize = struct.calcsize("<" + code)
                falign, fsize = esize, esize * count
            pad = -off % falign
            if pad:
                fmt.append("%dx" % pad)
                off += pad
            self.offsets[fname] = off
            self.sizes[fname] = fsize
            if isinstance(code, CStruct):
                fmt.append(code.format[1:] * count)
            else:
                fmt.append("%d%s" % (count, code) if count > 1 else code)
            if code != "x":
                self._codes.append((fname, count, code))
            off += fsize
            align = max(align, falign)
        tail = -off % align
        if tail:
            fmt.append("%dx" % tail)
            off += tail
        self.size = off
        self.align = align
        self.format = "".join(fmt)
        assert struct.calcsize(self.format) == self.size, self.name

    def _sub(self, head: str) -> "CStruct":
        """The struct type of field ``head`` (the element type of an array of structs)."""
        sub = dict(self.fields)[head]
        return sub[0] if isinstance(sub, tuple) else sub

    def offset(self, path: str) -> int:
        """Offset of a field; nested fields are named ``"info.addr"`` (in an
        array of structs, ``"ops.nr"`` is the field of element 0)."""
        head, _, rest = path.partition(".")
        off = self.offsets[head]
        if rest:
            off += self._sub(head).offset(rest)
        return off

    def field_size(self, path: str) -> int:
        """sizeof of a field (``"info.addr"`` for nested ones)."""
        head, _, rest = path.partition(".")
        if rest:
            return self._sub(head).field_size(rest)
        return self.sizes[head]

    def field_format(self, path: str) -> str:
        """The little-endian ``struct`` format of a scalar field, e.g. ``"<q"``."""
        head, _, rest = path.partition(".")
        if rest:
            return self._sub(head).field_format(rest)
        ftype = dict(self.fields)[head]
        m = _split_type(ftype) if isinstance(ftype, str) else None
        if not m or m[0] or m[1] == "x":
            raise ValueError("%s.%s is not a scalar field" % (self.name, head))
        return "<" + m[1]

    def _flatten(self, values: dict, out: list):
        for fname, count, code in self._codes:
            v = values.get(fname, 0 if count == 1 else ())
            if isinstance(code, CStruct) and count == 1:
                code._flatten(v or {}, out)
            elif isinstance(code, CStruct):
                v = tuple(v) + ({},) * (count - len(v))
                for elem in v:
                    code._flatten(elem, out)
            elif count == 1:
                out.append(v)
            else:
                v = tuple(v) + (0,) * (count - len(v))
                out.extend(v)

    def pack(self, values: dict | None = None, **kw) -> bytes:
        """Pack from a dict and/or keywords; missing fields are zero."""
        vals = dict(values or {}, **kw)
        flat: list = []
        self._flatten(vals, flat)
        return struct.pack(self.format, *flat)

    def _build(self, it) -> dict:
        out = {}
        for fname, count, code in self._codes:
            if isinstance(code, CStruct) and count == 1:
                out[fname] = code._build(it)
            elif isinstance(code, CStruct):
                out[fname] = tuple(code._build(it) for _ in range(count))
            elif count == 1:
                out[fname] = next(it)
            else:
                out[fname] = tuple(next(it) for _ in range(count))
        return out

    def unpack(self, data: bytes) -> dict:
        """Unpack ``self.size`` bytes (``data`` may be longer)."""
        return self._build(iter(struct.unpack_from(self.format, data)))

    def __repr__(self):
        return "CStruct(%s, size=%d)" % (self.name, self.size)
