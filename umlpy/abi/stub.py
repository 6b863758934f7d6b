"""The supervisor/stub contract, read from its one declaration, ``stub_abi.h``.

``umlpy/abi/stub_abi.h`` (shipped with the package) says where the stub
lives and how its control page is laid out; csrc/stub.c and csrc/shim.c
include it, the cffi cdef of the C shim is made from it, and this module
reads the same file, so the pure-Python platform needs no compiled code to
know the layout.  Its ``#define``\\ s become module constants (``STUB_CODE``,
``STUB_MAGIC``, ...) and its structs :class:`~umlpy.abi.cstruct.CStruct`
layouts (``STUB_OP``, ``STUB_DATA_LAYOUT``).  The header holds only integer
``#define``\\ s and structs of integer fields, arrays and nested structs;
anything else is refused here rather than misread.
tests/unit/platform/test_stub_abi.py checks the result against gcc.
"""

import os

from .cstruct import CStruct

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stub_abi.h")

#: C integer types of the header -> ``struct`` codes (x86-64 LP64).
_C_TYPES = {"long": "q", "unsigned long": "Q", "int": "i", "unsigned int": "I", "unsigned": "I",
            "short": "h", "unsigned short": "H", "char": "b", "unsigned char": "B"}
_HEX = frozenset("0123456789abcdefABCDEF")

# The header is parsed with str methods, not ``re``: this runs at every start-up, and
# importing ``re`` would cost more than the parsing.


def _is_word(s: str) -> bool:
    """``\\w+``: a C identifier or number."""
    return bool(s) and all(c.isalnum() or c == "_" for c in s)


def _strip_comments(text: str) -> str:
    out, i = [], 0
    while True:
        j = text.find("/*", i)
        if j < 0:
            out.append(text[i:])
            break
        k = text.find("*/", j + 2)
        if k < 0:
            raise ValueError("stub_abi.h: unterminated comment")
        out.append(text[i:j])
        out.append(" ")
        i = k + 2
    return "\n".join(line.partition("//")[0] for line in "".join(out).split("\n"))


def _define(line: str):
    """(name, value) of ``#define NAME 0x10UL``-like lines; None for anything else."""
    words = line.split()
    if len(words) != 3 or words[0] != "#define" or not _is_word(words[1]):
        return None
    value = words[2].rstrip("uUlL")
    if value[:2] in ("0x", "0X") and len(value) > 2 and all(c in _HEX for c in value[2:]):
        return words[1], int(value, 16)
    if value.isdigit():
        return words[1], int(value, 0)
    return None


def parse_header(text: str) -> tuple[dict[str, int], dict[str, CStruct]]:
    """(the #defines, the structs by tag) of a header like stub_abi.h."""
    text = _strip_comments(text)
    defines: dict[str, int] = {}
    body = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            d = _define(line.strip())
            if d is None:
                raise ValueError("stub_abi.h: unsupported preprocessor line %r" % line.strip())
            defines[d[0]] = d[1]
        else:
            body.append(line)
    structs: dict[str, CStruct] = {}
    rest = "\n".join(body).strip()
    while rest:
        # struct TAG { MEMBERS } ;
        words = rest.split(None, 1)
        open_, close = rest.find("{"), rest.find("}")
        semi = rest.find(";", close + 1) if close >= 0 else -1
        if (words[0] != "struct" or open_ < 0 or close < open_ or semi < 0 or "{" in rest[open_ + 1:close]
                or rest[close + 1:semi].strip() or not _is_word(rest[len("struct"):open_].strip())
                or not rest[len("struct")].isspace()):
            raise ValueError("stub_abi.h: unsupported declaration %r" % rest[:60])
        _add_struct(rest[len("struct"):open_].strip(), rest[open_ + 1:close], defines, structs)
        rest = rest[semi + 1:].strip()
    return defines, structs


def _add_struct(tag, members, defines, structs):
    fields = []
    for decl in members.split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        head, _, more = decl.partition(",")
        words = head.split(" ")
        ctype, declarators = " ".join(words[:-1]), [words[-1]] + [d.strip() for d in more.split(",") if more]
        if ctype.startswith("struct "):
            ftype = structs[ctype[len("struct "):]]
        elif ctype in _C_TYPES:
            ftype = _C_TYPES[ctype]
        else:
            raise ValueError("stub_abi.h: struct %s: unsupported type %r" % (tag, ctype))
        for d in declarators:
            name, bracket, count = d.replace(" ", "").partition("[")
            if bracket:
                count = count[:-1] if count.endswith("]") else ""
            else:
                count = None
            if not _is_word(name) or (count is not None and not _is_word(count)):
                raise ValueError("stub_abi.h: struct %s: unsupported declarator %r" % (tag, d))
            if count is None:
                fields.append((name, ftype))
                continue
            n = defines[count] if count in defines else int(count, 0)
            fields.append((name, (ftype, n) if isinstance(ftype, CStruct) else "%d%s" % (n, ftype)))
    structs[tag] = CStruct(tag, fields)


def _load():
    with open(HEADER) as f:
        return parse_header(f.read())


DEFINES, STRUCTS = _load()

#: The stub's text (linked here, see csrc/stub.lds); seccomp allows syscalls only from it.
STUB_CODE = DEFINES["STUB_CODE"]
STUB_CODE_SIZE = DEFINES["STUB_CODE_SIZE"]
#: The stub's read-write control page and stacks (``struct stub_data``), from physmem.
STUB_DATA = DEFINES["STUB_DATA"]
STUB_DATA_SIZE = DEFINES["STUB_DATA_SIZE"]
#: The mapper's orders (``struct stub_req``): read-only in the stub, written by the supervisor.
STUB_REQ = DEFINES["STUB_REQ"]
STUB_REQ_SIZE = DEFINES["STUB_REQ_SIZE"]
#: What one stub takes of the physmem file: its STUB_DATA pages, then its STUB_REQ pages.
STUB_SLOT_SIZE = DEFINES["STUB_SLOT_SIZE"]
#: The fd under which a stub finds the physmem file.
STUB_PHYSMEM_FD = DEFINES["STUB_PHYSMEM_FD"]
#: ``stub_data.magic`` once the stub is up.
STUB_MAGIC = DEFINES["STUB_MAGIC"]
#: Capacity of ``stub_req.ops``: the longest batch one order runs.
STUB_MAX_OPS = DEFINES["STUB_MAX_OPS"]

#: ``struct stub_op``: one host mmap/munmap/mprotect (nr, args[6], result).
STUB_OP = STRUCTS["stub_op"]
#: ``struct stub_req``: the mapper's orders.
STUB_REQ_LAYOUT = STRUCTS["stub_req"]
#: ``struct stub_data``: the stub's reports.
STUB_DATA_LAYOUT = STRUCTS["stub_data"]
