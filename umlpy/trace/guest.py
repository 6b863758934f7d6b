"""How decoders read the traced task: register values and guest memory.

Register values arrive as unsigned 64-bit integers; :func:`s32`/:func:`s64`
reinterpret them.  Guest memory is read only through the helpers here, which
never raise: an unreadable (or NULL) pointer gives None, and the caller
prints the address instead, as strace does.  The text helpers at the bottom
(:func:`fd_text`, :func:`str_at`, :func:`buf_text`) are the shapes most
arguments share.
"""

from __future__ import annotations

import struct

from umlpy.abi.fcntl import AT_FDCWD

from .format import comment, fmt_ptr, quote_bytes

M64 = (1 << 64) - 1
#: How many argv/envp/iovec/... entries strace prints before ``...``.
MAX_ARRAY = 32


def s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def s64(v: int) -> int:
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def failed(ret: int | None) -> bool:
    """True if the call did not return a success value (an error, or no return)."""
    return ret is None or -4096 < s64(ret) < 0


def xmode_of(ctx) -> str:
    """The context's ``-X`` mode (``abbrev`` when unset)."""
    return getattr(ctx, "xmode", "abbrev") or "abbrev"


def read_mem(ctx, addr: int, n: int) -> bytes | None:
    """``n`` bytes at ``addr``, or None (NULL, unreadable, or short)."""
    if addr == 0:
        return None
    try:
        data = ctx.read_mem(addr, n)
    except Exception:
        return None
    return data if data is not None and len(data) >= n else None


def read_cstring(ctx, addr: int, limit: int):
    """``(bytes, complete)`` of the C string at ``addr`` (at most ``limit`` bytes), or None."""
    if addr == 0:
        return None
    try:
        return ctx.read_cstring(addr, limit)
    except Exception:
        return None


def read_struct(ctx, addr: int, st: struct.Struct):
    """The fields of ``st`` at ``addr``, or None."""
    data = read_mem(ctx, addr, st.size)
    return None if data is None else st.unpack(data[:st.size])


def read_ptr_array(ctx, addr: int, limit: int):
    """Pointers of a NULL-terminated array, at most ``limit`` (+1 to know there are more)."""
    out = []
    while len(out) <= limit:
        p = read_mem(ctx, addr + 8 * len(out), 8)
        if p is None:
            return None if not out else out
        v = int.from_bytes(p, "little")
        if v == 0:
            break
        out.append(v)
    return out


def fd_text(ctx, fd: int) -> str:
    """An fd: ``3``, or ``3</etc/hostname>`` with ``-y``."""
    fd = s32(fd)
    text = str(fd)
    if getattr(ctx, "show_paths", False) and fd >= 0:
        path = ctx.fd_path(fd)
        if path is not None:
            text += "<%s>" % path
    return text


def dirfd_text(ctx, fd: int) -> str:
    """A directory fd of the *at calls: ``AT_FDCWD`` (``-100 /* AT_FDCWD */`` with -Xverbose)."""
    fd = s32(fd)
    if fd != AT_FDCWD:
        return fd_text(ctx, fd)
    xm = xmode_of(ctx)
    text = "-100" if xm == "raw" else comment("-100", "AT_FDCWD") if xm == "verbose" else "AT_FDCWD"
    if getattr(ctx, "show_paths", False):
        path = ctx.fd_path(AT_FDCWD)
        if path is not None:
            text += "<%s>" % path
    return text


def str_at(ctx, addr: int, limit: int) -> str:
    """The C string at ``addr`` quoted and cut at ``limit``; NULL; or the address."""
    if addr == 0:
        return "NULL"
    got = read_cstring(ctx, addr, limit)
    if got is None:
        return fmt_ptr(addr)
    data, complete = got
    return quote_bytes(data, limit, complete=complete)


def buf_text(ctx, addr: int, n: int, hexall=False) -> str:
    """``n`` bytes at ``addr`` quoted, cut at -s (``"..."...`` when longer)."""
    if addr == 0:
        return "NULL"
    n = max(n, 0)
    shown = min(n, ctx.strsize)
    data = read_mem(ctx, addr, shown) if shown else b""
    if data is None:
        return fmt_ptr(addr)
    return quote_bytes(data + (b"\0" if n > shown else b""), shown, complete=True, hexall=hexall)
