"""What gdb sees of a guest task: the x86-64 target description and the register file.

The description (``qXfer:features:read:target.xml``) names gdb's standard
features for an x86-64 Linux process: ``org.gnu.gdb.i386.core`` (general
registers, eflags, selectors, x87), ``.sse`` (xmm0-15, mxcsr), ``.linux``
(orig_rax), ``.segments`` (fs_base, gs_base) and ``.avx`` (the upper halves
ymm0h-15h).  The ``g`` packet carries the registers in that order, each in
little-endian target byte order; general registers come from the task's
register set, the rest from its saved FPU state (the FXSAVE image, and the
XSAVE area's AVX component at offset 576 when the state has one).
"""

import struct

from umlpy.abi.memory import HOST_TASK_SIZE
from umlpy.abi.ptrace import FLAG_MASK, FXSAVE_SIZE

_GPRS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_SEGS = ("cs", "ss", "ds", "es", "fs", "gs")
_X87_CTRL = ("fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop")
#: Where the x87 control registers are in an FXSAVE image (64-bit layout), and their sizes.
_FX_CTRL = {"fctrl": (0, 2), "fstat": (2, 2), "ftag": (4, 1), "fiseg": (12, 4), "fioff": (8, 4),
            "foseg": (20, 4), "fooff": (16, 4), "fop": (6, 2)}
_XSAVE_AVX = 576                 # the standard format's offset of the YMM_Hi128 component
_XSTATE_BV = 512

#: (name, bits, where): where is "gpr", "seg", "st", "x87", "xmm", "mxcsr", "ymmh".
REGISTERS = ([(n, 64, "gpr") for n in _GPRS] + [("rip", 64, "gpr"), ("eflags", 32, "gpr")]
             + [(n, 32, "seg") for n in _SEGS]
             + [("st%d" % i, 80, "st") for i in range(8)] + [(n, 32, "x87") for n in _X87_CTRL]
             + [("xmm%d" % i, 128, "xmm") for i in range(16)] + [("mxcsr", 32, "mxcsr")]
             + [("orig_rax", 64, "gpr")]
             + [("fs_base", 64, "gpr"), ("gs_base", 64, "gpr")]
             + [("ymm%dh" % i, 128, "ymmh") for i in range(16)])
REG_INDEX = {name: i for i, (name, _, _) in enumerate(REGISTERS)}


def _reg_xml(names, bits, typ, start, group=None):
    out = []
    for i, n in enumerate(names):
        g = ' group="%s"' % group if group else ""
        out.append('  <reg name="%s" bitsize="%d" type="%s" regnum="%d"%s/>' % (n, bits, typ, start + i, g))
    return "\n".join(out)


def _flags(ident, size, fields):
    body = "".join('<field name="%s" start="%d" end="%d"/>' % (n, b, b) for n, b in fields)
    return '  <flags id="%s" size="%d">%s</flags>' % (ident, size, body)


_EFLAGS = (("CF", 0), ("", 1), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8), ("IF", 9),
           ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17), ("AC", 18), ("VIF", 19),
           ("VIP", 20), ("ID", 21))
_MXCSR = (("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6), ("IM", 7),
          ("DM", 8), ("ZM", 9), ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15))


def _build_xml() -> str:
    r = REG_INDEX
    core = "\n".join([
        '<feature name="org.gnu.gdb.i386.core">',
        _flags("i386_eflags", 4, _EFLAGS),
        _reg_xml(_GPRS[:6], 64, "int64", r["rax"]),
        _reg_xml(("rbp", "rsp"), 64, "data_ptr", r["rbp"]),
        _reg_xml(_GPRS[8:], 64, "int64", r["r8"]),
        _reg_xml(("rip",), 64, "code_ptr", r["rip"]),
        _reg_xml(("eflags",), 32, "i386_eflags", r["eflags"]),
        _reg_xml(_SEGS, 32, "int32", r["cs"]),
        _reg_xml(["st%d" % i for i in range(8)], 80, "i387_ext", r["st0"]),
        _reg_xml(_X87_CTRL, 32, "int", r["fctrl"], "float"),
        '</feature>'])
    sse = "\n".join([
        '<feature name="org.gnu.gdb.i386.sse">',
        '  <vector id="v8bf16" type="bfloat16" count="8"/>',
        '  <vector id="v4f" type="ieee_single" count="4"/>',
        '  <vector id="v2d" type="ieee_double" count="2"/>',
        '  <vector id="v16i8" type="int8" count="16"/>',
        '  <vector id="v8i16" type="int16" count="8"/>',
        '  <vector id="v4i32" type="int32" count="4"/>',
        '  <vector id="v2i64" type="int64" count="2"/>',
        '  <union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v4_float" type="v4f"/>'
        '<field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>'
        '<field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>'
        '<field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>',
        _flags("i386_mxcsr", 4, _MXCSR),
        _reg_xml(["xmm%d" % i for i in range(16)], 128, "vec128", r["xmm0"]),
        _reg_xml(("mxcsr",), 32, "i386_mxcsr", r["mxcsr"], "vector"),
        '</feature>'])
    linux = "\n".join([
        '<feature name="org.gnu.gdb.i386.linux">',
        _reg_xml(("orig_rax",), 64, "int", r["orig_rax"], "system"),
        '</feature>'])
    segments = "\n".join([
        '<feature name="org.gnu.gdb.i386.segments">',
        _reg_xml(("fs_base", "gs_base"), 64, "int", r["fs_base"]),
        '</feature>'])
    avx = "\n".join([
        '<feature name="org.gnu.gdb.i386.avx">',
        _reg_xml(["ymm%dh" % i for i in range(16)], 128, "uint128", r["ymm0h"]),
        '</feature>'])
    return "\n".join(['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
                      '<target version="1.0">', '<architecture>i386:x86-64</architecture>',
                      '<osabi>GNU/Linux</osabi>', core, sse, linux, segments, avx, '</target>', ''])


TARGET_XML = _build_xml().encode()


# --- the register file of one task ------------------------------------------------------

def default_fxsave() -> bytearray:
    """The FPU state of a fresh process (FNINIT, MXCSR 0x1f80)."""
    img = bytearray(FXSAVE_SIZE)
    struct.pack_into("<H", img, 0, 0x37F)
    struct.pack_into("<I", img, 24, 0x1F80)
    struct.pack_into("<I", img, 28, 0xFFFF)
    return img


def _xstate(t) -> bytearray:
    img = t.ctx.xstate_snapshot(t.mm.host) if t.mm is not None else None
    return bytearray(img) if img is not None else default_fxsave()


def _full_tag(fx) -> int:
    """The x87 tag word from FXSAVE's abridged one (as FSAVE would give it)."""
    abridged = fx[4]
    top = (struct.unpack_from("<H", fx, 2)[0] >> 11) & 7
    tag = 0
    for phys in range(8):
        if not abridged & (1 << phys):
            t = 3                                        # empty
        else:
            st = (phys - top) & 7
            raw = fx[32 + 16 * st:42 + 16 * st]
            mant = int.from_bytes(raw[:8], "little")
            exp = int.from_bytes(raw[8:10], "little") & 0x7FFF
            if exp == 0x7FFF:
                t = 2                                    # special: inf, NaN
            elif exp == 0:
                t = 1 if mant == 0 else 2                # zero, or denormal (special)
            else:
                t = 0 if mant >> 63 else 2               # valid, or unnormal (special)
        tag |= t << (2 * phys)
    return tag


def read_register(t, n: int, xs=None) -> bytes:
    """Register ``n`` of task ``t`` in target byte order."""
    name, bits, where = REGISTERS[n]
    size = bits // 8
    if where in ("gpr", "seg"):
        return (getattr(t.ctx.regs, name) & ((1 << bits) - 1)).to_bytes(size, "little")
    fx = xs if xs is not None else _xstate(t)
    if where == "st":
        i = int(name[2:])
        return bytes(fx[32 + 16 * i:42 + 16 * i])
    if where == "x87":
        if name == "ftag":
            return _full_tag(fx).to_bytes(4, "little")
        off, ln = _FX_CTRL[name]
        v = int.from_bytes(fx[off:off + ln], "little")
        if name == "fop":
            v &= 0x7FF
        return v.to_bytes(4, "little")
    if where == "xmm":
        i = int(name[3:])
        return bytes(fx[160 + 16 * i:176 + 16 * i])
    if where == "mxcsr":
        return bytes(fx[24:28])
    i = int(name[3:-1])                                  # ymmNh
    if len(fx) >= _XSAVE_AVX + 256 and struct.unpack_from("<Q", fx, _XSTATE_BV)[0] & 4:
        return bytes(fx[_XSAVE_AVX + 16 * i:_XSAVE_AVX + 16 * i + 16])
    return bytes(16)


def read_all(t) -> bytes:
    xs = _xstate(t)
    return b"".join(read_register(t, n, xs) for n in range(len(REGISTERS)))


def register_sizes():
    return [bits // 8 for _, bits, _ in REGISTERS]


def write_register(t, n: int, data: bytes, xs=None) -> bytearray | None:
    """Set register ``n`` of ``t`` from ``data``; returns the changed FPU image when the
    register lives there (the caller restores it once), else None."""
    name, bits, where = REGISTERS[n]
    v = int.from_bytes(data, "little")
    regs = t.ctx.regs
    if where == "seg":
        return None                      # the stub's user selectors stay (64-bit segments)
    if where == "gpr":
        if name == "eflags":
            v = (regs.eflags & ~FLAG_MASK) | (v & FLAG_MASK)
        elif name in ("fs_base", "gs_base") and v >= HOST_TASK_SIZE:
            raise ValueError("%s must be a user address" % name)
        setattr(regs, name, v)
        return None
    fx = xs if xs is not None else _xstate(t)
    if where == "st":
        i = int(name[2:])
        fx[32 + 16 * i:42 + 16 * i] = data[:10]
    elif where == "x87":
        if name == "ftag":
            abridged = 0
            for phys in range(8):
                if (v >> (2 * phys)) & 3 != 3:
                    abridged |= 1 << phys
            fx[4] = abridged
        else:
            off, ln = _FX_CTRL[name]
            fx[off:off + ln] = (v & ((1 << (8 * ln)) - 1)).to_bytes(ln, "little")
    elif where == "xmm":
        i = int(name[3:])
        fx[160 + 16 * i:176 + 16 * i] = data[:16]
    elif where == "mxcsr":
        fx[24:28] = data[:4]
    else:
        i = int(name[3:-1])
        if len(fx) < _XSAVE_AVX + 256:
            raise ValueError("this task's FPU state has no AVX component")
        fx[_XSAVE_AVX + 16 * i:_XSAVE_AVX + 16 * i + 16] = data[:16]
        struct.pack_into("<Q", fx, _XSTATE_BV, struct.unpack_from("<Q", fx, _XSTATE_BV)[0] | 4)
    if len(fx) >= _XSTATE_BV + 8:
        struct.pack_into("<Q", fx, _XSTATE_BV, struct.unpack_from("<Q", fx, _XSTATE_BV)[0] | 3)
    return fx


def restore_fpu(t, fx):
    t.ctx.xstate_restore(t.mm.host, bytes(fx))


def write_all(t, data: bytes):
    xs = _xstate(t)
    pos, fpu_changed = 0, False
    for n, size in enumerate(register_sizes()):
        chunk = data[pos:pos + size]
        pos += size
        if len(chunk) < size:
            break
        if REGISTERS[n][2] in ("gpr", "seg"):
            write_register(t, n, chunk)
        elif chunk != read_register(t, n, xs):
            write_register(t, n, chunk, xs)
            fpu_changed = True
    if fpu_changed:
        restore_fpu(t, xs)
