"""guest_images/include/umlpy.h and umlpy/abi/extensions.py declare the same
extension ABI: every number, sizeof and offsetof is compared here, from a C
program compiled against the header at test time."""

import os
import shutil
import subprocess

import pytest

from umlpy.abi import extensions as ext
from umlpy.abi.regs import USER_REGS_FIELDS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INCLUDE = os.path.join(ROOT, "guest_images", "include")


def expected() -> dict[str, int]:
    """What the header must say, from the Python side."""
    want: dict[str, int] = {}
    for e in ext.EXT:
        want["__NR_umlpy_" + e.name] = int(e)
        want["UMLPY_NR_" + e.name.upper()] = int(e)
    for e in ext.UmlpyExit:
        want[e.name] = int(e)
    for e in ext.MMOp:
        want[e.name] = int(e)
    for e in ext.PtraceExt:
        want[e.name] = int(e)
    want["MAP_NOINHERIT"] = ext.MAP_NOINHERIT
    want["UMLPY_PROT_UNPRIV"] = ext.UMLPY_PROT_UNPRIV
    want["VAS_MAX_NAME_LENGTH"] = ext.VAS_MAX_NAME_LENGTH
    want["UMLPY_MAX_AS_CONTEXTS"] = ext.MAX_AS_CONTEXTS

    def layout(cname, struct, fields):
        want["sizeof " + cname] = struct.size
        for f in fields:
            want["offsetof %s %s" % (cname, f)] = struct.offset(f)
            want["fieldsize %s %s" % (cname, f)] = struct.field_size(f)

    layout("struct umlpy_syscall", ext.UMLPY_SYSCALL, ["nr", "args"])
    layout("struct umlpy_vcpu", ext.UMLPY_VCPU,
           ["mm_fd", "exit_reason", "timeout_ns", "regs", "info", "info.signo", "info.code",
            "info.addr", "info.is_write", "info.trap_no"]
           + ["regs." + r for r in USER_REGS_FIELDS])
    layout("struct vas_attr", ext.VAS_ATTR, ["mode", "user", "group"])
    layout("struct mm_mmap", ext.MM_MMAP_STRUCT,
           ["addr", "len", "prot", "flags", "fd", "offset"])
    layout("struct mm_munmap", ext.MM_MUNMAP_STRUCT, ["addr", "len"])
    layout("struct mm_mprotect", ext.MM_MPROTECT_STRUCT, ["addr", "len", "prot"])
    layout("struct ptrace_faultinfo", ext.PTRACE_FAULTINFO_STRUCT, ["is_write", "addr"])
    layout("struct ptrace_ex_faultinfo", ext.PTRACE_EX_FAULTINFO_STRUCT,
           ["is_write", "addr", "trap_no"])
    layout("struct ptrace_ldt", ext.PTRACE_LDT_STRUCT, ["func", "ptr", "bytecount"])
    want["sizeof struct proc_mm_op"] = ext.PROC_MM_OP_SIZE
    want["offsetof struct proc_mm_op op"] = 0
    want["offsetof struct proc_mm_op u"] = ext.PROC_MM_OP_UNION_OFFSET
    for op, member in (("MM_MMAP", "mmap"), ("MM_MUNMAP", "munmap"),
                       ("MM_MPROTECT", "mprotect"), ("MM_COPY_SEGMENTS", "copy_segments")):
        want["offsetof struct proc_mm_op u.%s" % member] = ext.PROC_MM_OP_UNION_OFFSET
        want["proc_mm_op_min_size %s" % op] = ext.proc_mm_op_min_size(getattr(ext, op))
    return want


def c_expr(key: str) -> str:
    """The C expression that gives the value named ``key``."""
    if key.startswith("sizeof "):
        return "sizeof(%s)" % key[len("sizeof "):]
    if key.startswith("offsetof "):
        _, tag, name, field = key.split(" ")
        return "offsetof(%s %s, %s)" % (tag, name, field)
    if key.startswith("fieldsize "):
        _, tag, name, field = key.split(" ")
        return "sizeof(((%s %s *)0)->%s)" % (tag, name, field)
    if key.startswith("proc_mm_op_min_size "):
        member = {"MM_MMAP": "mmap", "MM_MUNMAP": "munmap", "MM_MPROTECT": "mprotect",
                  "MM_COPY_SEGMENTS": "copy_segments"}[key.split(" ")[1]]
        return ("offsetof(struct proc_mm_op, u) + sizeof(((struct proc_mm_op *)0)->u.%s)"
                % member)
    return key


def c_program(keys) -> str:
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "umlpy.h"',
             "int main(void) {"]
    for key in keys:
        lines.append('\tprintf("%%s=%%lld\\n", "%s", (long long)(%s));' % (key, c_expr(key)))
    lines += ["\treturn 0;", "}", ""]
    return "\n".join(lines)


def _need_gcc():
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")


def test_header_matches_extensions(tmp_path):
    _need_gcc()
    want = expected()
    src = tmp_path / "probe.c"
    exe = tmp_path / "probe"
    src.write_text(c_program(sorted(want)))
    subprocess.run(["gcc", "-Wall", "-Werror", "-I", INCLUDE, "-o", str(exe), str(src)],
                   check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in out.splitlines():
        key, _, value = line.rpartition("=")
        got[key] = int(value)
    assert set(got) == set(want)
    diff = {k: {"umlpy.h": got[k], "extensions.py": want[k]}
            for k in want if got[k] != want[k]}
    assert not diff, diff


def test_design_numbers():
    # Fixed by DESIGN.md; both sides are checked against each other above.
    assert ext.EXT.create_mm == 1000 and ext.EXT.current_mm == 1006
    assert ext.EXT.vas_create == 1008 and ext.EXT.vas_seg_setattr == 1023
    assert 1007 not in ext.EXTENSION_NAMES
    assert len(ext.EXTENSION_NAMES) == 23
    assert ext.UMLPY_SYSCALL.size == 56 and ext.PROC_MM_OP_SIZE == 56
    assert ext.VAS_ATTR.size == 12 and ext.UMLPY_VCPU.size == 256


@pytest.mark.parametrize("flags", [
    ["-ffreestanding", "-nostdlib"],
    ["-DUMLPY_FREESTANDING"],
])
def test_header_compiles_freestanding(tmp_path, flags):
    """The freestanding definition of user_regs_struct has the same layout."""
    _need_gcc()
    src = tmp_path / "free.c"
    src.write_text(
        '#include "umlpy.h"\n'
        "#define OFF(s, f) __builtin_offsetof(struct s, f)\n"
        "_Static_assert(sizeof(struct user_regs_struct) == 216, \"regs\");\n"
        "_Static_assert(OFF(user_regs_struct, orig_rax) == 120, \"orig_rax\");\n"
        "_Static_assert(OFF(user_regs_struct, gs) == 208, \"gs\");\n"
        "_Static_assert(sizeof(struct umlpy_vcpu) == 256, \"vcpu\");\n"
        "_Static_assert(sizeof(struct proc_mm_op) == 56, \"proc_mm_op\");\n"
        "int umlpy_probe(void) { return __NR_umlpy_vas_seg_setattr; }\n")
    subprocess.run(["gcc", "-c", "-Wall", "-Werror", *flags, "-I", INCLUDE,
                    "-o", str(tmp_path / "free.o"), str(src)], check=True)
