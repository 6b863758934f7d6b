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
import re

from .cstruct import CStruct

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stub_abi.h")

#: C integer types of the header -> ``struct`` codes (x86-64 LP64).
_C_TYPES = {"long": "q", "unsigned long": "Q", "int": "i", "unsigned int": "I", "unsigned": "I",
            "short": "h", "unsigned short": "H", "char": "b", "unsigned char": "B"}
_DEFINE = re.compile(r"#define\s+(\w+)\s+(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\s*$")
_STRUCT = re.compile(r"struct\s+(\w+)\s*\{([^{}]*)\}\s*;")
_DECLARATOR = re.compile(r"^(\w+)(?:\[(\w+)\])?$")


def parse_header(text: str) -> tuple[dict[str, int], dict[str, CStruct]]:
    """(the #defines, the structs by tag) of a header like stub_abi.h."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    defines: dict[str, int] = {}
    body = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            m = _DEFINE.match(line.strip())
            if not m:
                raise ValueError("stub_abi.h: unsupported preprocessor line %r" % line.strip())
            defines[m.group(1)] = int(m.group(2), 0)
        else:
            body.append(line)
    structs: dict[str, CStruct] = {}
    rest = _STRUCT.sub(lambda m: _add_struct(m, defines, structs), "\n".join(body))
    if rest.strip():
        raise ValueError("stub_abi.h: unsupported declaration %r" % rest.strip()[:60])
    return defines, structs


def _add_struct(m, defines, structs) -> str:
    tag, members = m.group(1), m.group(2)
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
            dm = _DECLARATOR.match(d.replace(" ", ""))
            if not dm:
                raise ValueError("stub_abi.h: struct %s: unsupported declarator %r" % (tag, d))
            name, count = dm.group(1), dm.group(2)
            if count is None:
                fields.append((name, ftype))
                continue
            n = defines[count] if count in defines else int(count, 0)
            fields.append((name, (ftype, n) if isinstance(ftype, CStruct) else "%d%s" % (n, ftype)))
    structs[tag] = CStruct(tag, fields)
    return ""


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
