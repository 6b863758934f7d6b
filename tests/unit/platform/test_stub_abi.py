"""The stub's control page is declared once, in umlpy/abi/stub_abi.h, and every side agrees on it.

Python reads the header (umlpy/abi/stub.py); here a C program compiled against the same header
by gcc prints every #define, sizeof and offsetof, and the cffi shim's view of it (when built) is
compared too, so a layout that Python misreads, or a header the C compiler lays out differently,
fails here.  The stub binary's link address (csrc/stub.lds) is checked against STUB_CODE.
"""

import os
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

from umlpy.abi import memory
from umlpy.abi import stub as abi
from umlpy.abi.cstruct import CStruct
from umlpy.platform import c_platform_available

STRUCTS = {"stub_op": abi.STUB_OP, "stub_req": abi.STUB_REQ_LAYOUT, "stub_data": abi.STUB_DATA_LAYOUT}


def _fields(cs: CStruct, prefix=""):
    """Every field path of a struct, nested ones (and element 0 of arrays of structs) included."""
    for name, ftype in cs.fields:
        yield prefix + name
        sub = ftype[0] if isinstance(ftype, tuple) else ftype
        if isinstance(sub, CStruct):
            yield from _fields(sub, prefix + name + ".")


def expected() -> dict[str, int]:
    """What the compiler must say, from the Python side."""
    want = dict(abi.DEFINES)
    for tag, cs in STRUCTS.items():
        want["sizeof struct " + tag] = cs.size
        want["alignof struct " + tag] = cs.align
        for f in _fields(cs):
            want["offsetof struct %s %s" % (tag, f)] = cs.offset(f)
            want["fieldsize struct %s %s" % (tag, f)] = cs.field_size(f)
    return want


def _c_field(tag: str, f: str) -> str:
    """The C member designator of a field path: ``ops.nr`` is ``ops[0].nr`` (an array of structs)."""
    head, _, rest = f.partition(".")
    if not rest:
        return head
    is_array = isinstance(dict(STRUCTS[tag].fields)[head], tuple)
    return head + ("[0]." if is_array else ".") + rest


def c_expr(key: str) -> str:
    words = key.split(" ")
    if words[0] in ("sizeof", "alignof"):
        return "%s(struct %s)" % ("_Alignof" if words[0] == "alignof" else "sizeof", words[2])
    if words[0] == "offsetof":
        return "offsetof(struct %s, %s)" % (words[2], _c_field(words[2], words[3]))
    if words[0] == "fieldsize":
        return "sizeof(((struct %s *)0)->%s)" % (words[2], _c_field(words[2], words[3]))
    return key


def _probe(tmp_path, keys) -> dict[str, int]:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "stub_abi.h"', "int main(void) {"]
    for key in keys:
        lines.append('\tprintf("%%s=%%llu\\n", "%s", (unsigned long long)(%s));' % (key, c_expr(key)))
    lines += ["\treturn 0;", "}", ""]
    src, exe = tmp_path / "probe.c", tmp_path / "probe"
    src.write_text("\n".join(lines))
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", "-I", os.path.dirname(abi.HEADER),
                    "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        key, _, value = line.rpartition("=")
        got[key] = int(value)
    return got


def test_gcc_and_python_agree_on_stub_abi(tmp_path):
    want = expected()
    got = _probe(tmp_path, sorted(want))
    assert set(got) == set(want)
    diff = {k: {"gcc": got[k], "umlpy.abi.stub": want[k]} for k in want if got[k] != want[k]}
    assert not diff, diff


def test_every_define_and_struct_is_read():
    d = abi.DEFINES
    assert set(d) == {"STUB_CODE", "STUB_CODE_SIZE", "STUB_DATA", "STUB_DATA_SIZE", "STUB_REQ",
                      "STUB_REQ_SIZE", "STUB_SLOT_SIZE", "STUB_MAIN_STACK", "STUB_MAPPER_STACK",
                      "STUB_ALTSTACK", "STUB_ALTSTACK_SIZE", "STUB_PHYSMEM_FD", "STUB_MAGIC",
                      "STUB_MAX_OPS"}
    assert set(abi.STRUCTS) == set(STRUCTS)
    req = abi.STUB_REQ_LAYOUT
    assert req.offset("ops") + abi.STUB_MAX_OPS * abi.STUB_OP.size == req.size <= d["STUB_REQ_SIZE"]
    # The guest layout uses the same numbers: no second declaration in abi/memory.py.
    assert (memory.STUB_CODE, memory.STUB_CODE_SIZE, memory.STUB_DATA, memory.STUB_DATA_SIZE) == (
        abi.STUB_CODE, abi.STUB_CODE_SIZE, abi.STUB_DATA, abi.STUB_DATA_SIZE)
    assert memory.TASK_SIZE <= abi.STUB_CODE < abi.STUB_CODE + abi.STUB_CODE_SIZE <= abi.STUB_DATA


def test_stub_pages_fit_together():
    """The numbers the header cannot compute from each other (it holds literals only)."""
    d = abi.DEFINES
    data, req = d["STUB_DATA"], d["STUB_REQ"]
    # STUB_DATA then STUB_REQ, back to back, as they sit in one physmem slot.
    assert req == data + d["STUB_DATA_SIZE"]
    assert d["STUB_SLOT_SIZE"] == d["STUB_DATA_SIZE"] + d["STUB_REQ_SIZE"]
    # Inside STUB_DATA: struct stub_data, the main stack, the mapper's stack, the signal stack.
    assert data + abi.STUB_DATA_LAYOUT.size + 8192 <= d["STUB_MAIN_STACK"] <= d["STUB_MAPPER_STACK"] - 8192
    assert d["STUB_MAPPER_STACK"] <= d["STUB_ALTSTACK"]
    assert d["STUB_ALTSTACK"] + d["STUB_ALTSTACK_SIZE"] <= data + d["STUB_DATA_SIZE"]
    # Room for a signal frame with the largest xstate (AMX tiles included: 11 KiB).
    assert d["STUB_ALTSTACK_SIZE"] >= 16384
    for v in ("STUB_MAIN_STACK", "STUB_MAPPER_STACK", "STUB_ALTSTACK"):
        assert d[v] % 16 == 0


@pytest.mark.skipif(not c_platform_available(), reason="C shim not built")
def test_cffi_shim_and_python_agree_on_stub_abi():
    from umlpy.platform._shim import ffi, lib
    for name, value in abi.DEFINES.items():
        assert getattr(lib, name) == value, name
    for tag, cs in STRUCTS.items():
        ctype = "struct " + tag
        assert ffi.sizeof(ctype) == cs.size, tag
        assert ffi.alignof(ctype) == cs.align, tag
        for name, _ in cs.fields:
            assert ffi.offsetof(ctype, name) == cs.offset(name), (tag, name)


def test_stub_binary_is_linked_at_stub_code():
    from umlpy.platform.stub import STUB_PATH
    if not os.path.exists(STUB_PATH):
        pytest.skip("stub not built")
    with open(STUB_PATH, "rb") as f:
        elf = ELFFile(f)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        assert loads
        for s in loads:
            assert abi.STUB_CODE <= s["p_vaddr"]
            assert s["p_vaddr"] + s["p_memsz"] <= abi.STUB_CODE + abi.STUB_CODE_SIZE
        assert elf.header["e_entry"] >= abi.STUB_CODE


@pytest.mark.parametrize("text", [
    "#define X (1 << 3)\n",
    "#include <x.h>\n",
    "struct s { double d; };\n",
    "struct s { long *p; };\n",
    "typedef long stub_long;\n",
])
def test_parser_refuses_what_it_cannot_read(text):
    with pytest.raises((ValueError, KeyError)):
        abi.parse_header(text)


def test_parser_lays_out_like_c():
    defines, structs = abi.parse_header(
        "#define N 3UL /* three */\n"
        "struct a { int x; long y; };\n"
        "struct b { unsigned int k, l; struct a one; struct a many[N]; char tail; };\n")
    assert defines == {"N": 3}
    b = structs["b"]
    assert b.offset("l") == 4 and b.offset("one") == 8 and b.offset("one.y") == 16
    assert b.offset("many") == 24 and b.field_size("many") == 48 and b.offset("tail") == 72 and b.size == 80
