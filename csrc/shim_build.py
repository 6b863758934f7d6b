"""cffi build script for the C core (``umlpy.platform._shim``), API mode.

The cdef is read from umlpy/abi/stub_abi.h and the marked part of csrc/shim.h,
so the C and Python sides share one declaration of every struct.
"""

import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
#: stub_abi.h is package data: umlpy/abi/stub.py reads it at import.
ABI_INCLUDE = os.path.join(os.path.dirname(HERE), "umlpy", "abi")

USER_REGS = """
struct user_regs_struct {
    unsigned long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx,
        rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
"""


def _read(name, where=HERE):
    with open(os.path.join(where, name)) as f:
        return f.read()


def _cdef_text():
    abi = re.sub(r"/\*.*?\*/", "", _read("stub_abi.h", ABI_INCLUDE), flags=re.S)
    abi = re.sub(r"(#define\s+\w+\s+0x[0-9a-fA-F]+)UL", r"\1", abi)
    shim = _read("shim.h")
    shim = shim.split("/* cdef-begin */", 1)[1].split("/* cdef-end */", 1)[0]
    return USER_REGS + abi + shim


ffibuilder = FFI()
ffibuilder.cdef(_cdef_text())
ffibuilder.set_source(
    "umlpy.platform._shim",
    '#include "shim.h"',
    sources=[os.path.join(HERE, "shim.c")],
    include_dirs=[HERE, ABI_INCLUDE],
    extra_compile_args=["-O2", "-Wall"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
