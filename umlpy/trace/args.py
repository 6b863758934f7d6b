"""Argument decoders: one :class:`Arg` per argument slot of a syscall spec.

A decoder's ``phase`` says when it prints: ``"in"`` when the call enters,
``"out"`` when it returns, because the kernel fills that argument (read's
buffer, fstat's struct); an ``out`` decoder sees the return value and
prints the bare address when the call failed.  The module-level singletons
at the bottom (``INT``, ``PATH``, ``STAT_OUT``...) are the names the specs
use; the classes with parameters (``FLAGS``, ``ENUM``, ``INBUF``...) are
instantiated by the specs.
"""

from __future__ import annotations

import struct

from umlpy.abi.fs import PATH_MAX

from .format import comment, fmt_enum, fmt_flags, fmt_hex, fmt_int, fmt_list, fmt_octal, fmt_ptr, pairs, quote_bytes
from .guest import (M64, MAX_ARRAY, buf_text, dirfd_text, failed, fd_text, read_mem, read_ptr_array, s32, s64,
                    str_at, xmode_of)
from .structs import (fmt_cpuset, fmt_rlimit, fmt_rusage, fmt_sigaction, fmt_siginfo_at, fmt_stack_t, fmt_stat,
                      fmt_statfs, fmt_statx, fmt_sysinfo, fmt_timespec, fmt_timeval, fmt_tms, fmt_umlpy_syscall,
                      fmt_utimes, fmt_utsname, fmt_vas_attr, fmt_wait_status_at)
from .tables import ACCESS_MODES, AT_FLAGS, CLOCKS, DT_NAMES, PROT_FLAGS, RLIMITS, SEEK_WHENCE
from .values import fmt_mmap_flags, fmt_open_flags, fmt_sigset, fmt_signal, fmt_statx_flags


class Arg:
    """An argument decoder; subclasses override :meth:`format`."""

    phase = "in"

    def format(self, ctx, args, i, ret):
        return fmt_hex(args[i])

    def __repr__(self):
        return type(self).__name__


# --- numbers and descriptors -------------------------------------------------------

class _Int(Arg):
    def __init__(self, bits=32, signed=True):
        self.bits, self.signed = bits, signed

    def format(self, ctx, args, i, ret):
        return fmt_int(args[i], self.bits, self.signed)


class _Hex(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_hex(args[i])


class _Ptr(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_ptr(args[i])


class _Oct(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_octal(args[i])


class _Fd(Arg):
    def format(self, ctx, args, i, ret):
        return fd_text(ctx, args[i])


class _Dirfd(Arg):
    def format(self, ctx, args, i, ret):
        return dirfd_text(ctx, args[i])


class FLAGS(Arg):
    """A flag word argument (32 bits unless ``bits``)."""

    def __init__(self, table, zero=None, dflt=None, bits=32):
        self.table, self.zero, self.dflt, self.mask = pairs(table), zero, dflt, (1 << bits) - 1

    def format(self, ctx, args, i, ret):
        return fmt_flags(args[i] & self.mask, self.table, self.zero, xmode_of(ctx), self.dflt)


class ENUM(Arg):
    """An enumerated argument; unknown values print ``0x4d /* dflt */``."""

    def __init__(self, table, dflt=None, signed=False, number=fmt_hex):
        self.table, self.dflt, self.signed, self.number = pairs(table), dflt, signed, number

    def format(self, ctx, args, i, ret):
        v = s32(args[i]) if self.signed else args[i] & 0xFFFFFFFF
        return fmt_enum(v, self.table, xmode_of(ctx), self.dflt, self.number)


class _OpenFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_open_flags(args[i], xmode_of(ctx))


class _MmapFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_mmap_flags(args[i], xmode_of(ctx))


class _StatxFlags(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_statx_flags(args[i], xmode_of(ctx))


class _Signum(Arg):
    def format(self, ctx, args, i, ret):
        return fmt_signal(args[i], xmode_of(ctx))


# --- strings and buffers -----------------------------------------------------------

class _Path(Arg):
    """A path: a C string, never cut at -s (only at PATH_MAX)."""

    def format(self, ctx, args, i, ret):
        return str_at(ctx, args[i], PATH_MAX)


class _Str(Arg):
    """A C string cut at -s (names, argv elements)."""

    def __init__(self, phase="in"):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return str_at(ctx, args[i], ctx.strsize)


class INBUF(Arg):
    """A buffer the caller fills (write's): its length is argument ``len_arg``."""

    def __init__(self, len_arg: int):
        self.len_arg = len_arg

    def format(self, ctx, args, i, ret):
        n = s64(args[self.len_arg])
        return buf_text(ctx, args[i], n if n >= 0 else 1 << 62)


class OUTBUF(Arg):
    """A buffer the kernel fills (read's): as long as the return value; the
    address on error.  ``hexall`` for random bytes (getrandom)."""

    phase = "out"

    def __init__(self, hexall: bool = False):
        self.hexall = hexall

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        return buf_text(ctx, args[i], s64(ret), self.hexall)


class _XattrValue(OUTBUF):
    """getxattr/listxattr's value buffer: NULL (a size query), else as read's."""

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        return super().format(ctx, args, i, ret)


XATTR_VALUE_OUT = _XattrValue()


class _Iovec(Arg):
    """readv/writev's ``[{iov_base="...", iov_len=5}, ...]``; count from ``cnt_arg``."""

    _IOV = struct.Struct("<QQ")

    def __init__(self, cnt_arg: int, phase: str):
        self.cnt_arg, self.phase = cnt_arg, phase

    def format(self, ctx, args, i, ret):
        addr, cnt = args[i], args[self.cnt_arg] & M64
        if addr == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(addr)
        budget = s64(ret) if self.phase == "out" else None
        shown = min(cnt, MAX_ARRAY)
        raw = read_mem(ctx, addr, 16 * shown) if shown else b""
        if raw is None or cnt > 1024:
            return fmt_ptr(addr)
        items = []
        for k in range(shown):
            base, length = self._IOV.unpack_from(raw, 16 * k)
            n = length if budget is None else max(0, min(length, budget))
            if budget is not None:
                budget -= n
            items.append("{iov_base=%s, iov_len=%d}" % (buf_text(ctx, base, n), length))
        if cnt > shown:
            items.append("...")
        return fmt_list(items)


def IOVEC_IN(cnt_arg: int = 2) -> Arg:
    return _Iovec(cnt_arg, "in")


def IOVEC_OUT(cnt_arg: int = 2) -> Arg:
    return _Iovec(cnt_arg, "out")


class _Argv(Arg):
    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        ptrs = read_ptr_array(ctx, addr, MAX_ARRAY)
        if ptrs is None:
            return fmt_ptr(addr)
        items = [str_at(ctx, p, ctx.strsize) for p in ptrs[:MAX_ARRAY]]
        if len(ptrs) > MAX_ARRAY:
            items.append("...")
        return fmt_list(items)


class _Envp(Arg):
    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        if getattr(ctx, "verbose", False):
            return ARGV.format(ctx, args, i, ret)
        ptrs = read_ptr_array(ctx, addr, 1 << 16)
        if ptrs is None:
            return fmt_ptr(addr)
        n = len(ptrs)
        return comment(fmt_ptr(addr), "%d var%s" % (n, "" if n == 1 else "s"))


# --- signals -----------------------------------------------------------------------

class _Sigset(Arg):
    """A ``sigset_t *``; its size is argument ``size_arg`` (8, else the address)."""

    def __init__(self, size_arg, phase):
        self.size_arg, self.phase = size_arg, phase

    def format(self, ctx, args, i, ret):
        addr = args[i]
        if addr == 0:
            return "NULL"
        if (self.phase == "out" and failed(ret)) or (self.size_arg is not None and args[self.size_arg] != 8):
            return fmt_ptr(addr)
        data = read_mem(ctx, addr, 8)
        return fmt_ptr(addr) if data is None else fmt_sigset(int.from_bytes(data, "little"), xmode_of(ctx))


def SIGSET_IN(size_arg: int | None = None) -> Arg:
    return _Sigset(size_arg, "in")


def SIGSET_OUT(size_arg: int | None = None) -> Arg:
    return _Sigset(size_arg, "out")


class _Sigaction(Arg):
    def __init__(self, phase):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return fmt_sigaction(ctx, args[i])


# --- structures and small arrays ---------------------------------------------------

class _OutStruct(Arg):
    """An output struct printed by ``fn(ctx, addr)``; the address on error."""

    phase = "out"

    def __init__(self, fn, phase="out"):
        self.fn, self.phase = fn, phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        return self.fn(ctx, args[i])


class _WaitStatus(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if failed(ret) or s64(ret) == 0:
            return fmt_ptr(args[i])
        return fmt_wait_status_at(ctx, args[i])


class _PipeFds(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        data = read_mem(ctx, args[i], 8)
        if data is None:
            return fmt_ptr(args[i])
        a, b = struct.unpack("<ii", data)
        return "[%s, %s]" % (fd_text(ctx, a), fd_text(ctx, b))


class IntOut(Arg):
    """``[value]`` of an ``int *`` (or ``long *`` with ``size`` 8) the kernel fills."""

    def __init__(self, size=4, hexa=False, phase="out", signed=True):
        self.size, self.hexa, self.phase, self.signed = size, hexa, phase, signed

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out" and failed(ret):
            return fmt_ptr(args[i])
        data = read_mem(ctx, args[i], self.size)
        if data is None:
            return fmt_ptr(args[i])
        v = int.from_bytes(data, "little", signed=self.signed and not self.hexa)
        return "[%s]" % (fmt_hex(v) if self.hexa else v)


class _Dirents(Arg):
    """getdents64's buffer: ``0x... /* 5 entries */`` (every entry with -v)."""

    phase = "out"

    def format(self, ctx, args, i, ret):
        addr = args[i]
        if failed(ret):
            return fmt_ptr(addr)
        n = s64(ret)
        data = read_mem(ctx, addr, n) if n else b""
        if data is None:
            return fmt_ptr(addr)
        entries = []
        off = 0
        head = struct.Struct("<QqHB")
        while off + head.size <= n:
            ino, d_off, reclen, dtype = head.unpack_from(data, off)
            if reclen == 0:
                break
            name = data[off + head.size: off + reclen].split(b"\0", 1)[0]
            entries.append((ino, d_off, reclen, dtype, name))
            off += reclen
        if not getattr(ctx, "verbose", False):
            return comment(fmt_ptr(addr), "%d entries" % len(entries))
        return fmt_list("{d_ino=%d, d_off=%d, d_reclen=%d, d_type=%s, d_name=%s}" % (
            ino, d_off, reclen, fmt_enum(dt, DT_NAMES, xmode_of(ctx)), quote_bytes(nm, ctx.strsize, complete=True))
            for ino, d_off, reclen, dt, nm in entries)


class _CpuSet(Arg):
    """sched_getaffinity's mask: ``[0 1]`` (the kernel's size is the return value)."""

    def __init__(self, phase, size_arg=1):
        self.phase, self.size_arg = phase, size_arg

    def format(self, ctx, args, i, ret):
        if self.phase == "out":
            if failed(ret):
                return fmt_ptr(args[i])
            return fmt_cpuset(ctx, args[i], s64(ret))
        return fmt_cpuset(ctx, args[i], min(args[self.size_arg], 1024))


class _Mincore(Arg):
    phase = "out"

    def format(self, ctx, args, i, ret):
        if failed(ret):
            return fmt_ptr(args[i])
        n = min((args[1] + 4095) // 4096, MAX_ARRAY)
        data = read_mem(ctx, args[i], n)
        if data is None:
            return fmt_ptr(args[i])
        more = (args[1] + 4095) // 4096 > n
        return "[" + ", ".join(str(b & 1) for b in data) + (", ..." if more else "") + "]"


class _Groups(Arg):
    """getgroups/setgroups' gid list: ``[0, 10]``; its length is argument 0
    (the return value for getgroups)."""

    def __init__(self, phase):
        self.phase = phase

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if self.phase == "out":
            if failed(ret) or s32(args[0]) == 0:
                return fmt_ptr(args[i])
            n = s64(ret)
        else:
            n = s32(args[0])
        shown = max(0, min(n, MAX_ARRAY))
        data = read_mem(ctx, args[i], 4 * shown) if shown else b""
        if data is None:
            return fmt_ptr(args[i])
        items = [str(g) for g in struct.unpack("<%dI" % shown, data)]
        if n > shown:
            items.append("...")
        return fmt_list(items)


class _Rem(Arg):
    """nanosleep's ``rem``: filled only when the sleep was interrupted."""

    phase = "out"

    def format(self, ctx, args, i, ret):
        if args[i] == 0:
            return "NULL"
        if ret is not None and s64(ret) in (-4, -516):      # EINTR, ERESTART_RESTARTBLOCK
            return fmt_timespec(ctx, args[i])
        return fmt_ptr(args[i])


# Singletons, by the names the specs use.
INT = _Int(32, True)
UINT = _Int(32, False)
LONG = _Int(64, True)
ULONG = _Int(64, False)
SIZE = ULONG
HEX = _Hex()
PTR = _Ptr()
OCT = _Oct()
FD = _Fd()
DIRFD = _Dirfd()
PATH = _Path()
STR = _Str("in")
STR_OUT = _Str("out")
OPEN_FLAGS_ARG = _OpenFlags()
MMAP_PROT = FLAGS(PROT_FLAGS, zero="PROT_NONE", dflt="PROT_???")
MMAP_FLAGS = _MmapFlags()
SIGNUM = _Signum()
SIGACTION_IN = _Sigaction("in")
SIGACTION_OUT = _Sigaction("out")
STAT_OUT = _OutStruct(fmt_stat)
STATX_OUT = _OutStruct(fmt_statx)
STATX_FLAGS = _StatxFlags()
TIMESPEC_IN = _OutStruct(fmt_timespec, "in")
TIMESPEC_OUT = _OutStruct(fmt_timespec)
TIMEVAL_OUT = _OutStruct(fmt_timeval)
UTSNAME_OUT = _OutStruct(fmt_utsname)
RLIMIT_IN = _OutStruct(fmt_rlimit, "in")
RLIMIT_OUT = _OutStruct(fmt_rlimit)
RUSAGE_OUT = _OutStruct(fmt_rusage)
WAIT_STATUS_OUT = _WaitStatus()
PIPEFDS_OUT = _PipeFds()
ARGV = _Argv()
ENVP = _Envp()
DIRENTS_OUT = _Dirents()
INT_OUT = IntOut()
UINT_OUT = IntOut(signed=False)
STACK_T_IN = _OutStruct(fmt_stack_t, "in")
STACK_T_OUT = _OutStruct(fmt_stack_t)
TMS_OUT = _OutStruct(fmt_tms)
SYSINFO_OUT = _OutStruct(fmt_sysinfo)
UTIMES_IN = _OutStruct(fmt_utimes, "in")
CPUSET_IN = _CpuSet("in")
CPUSET_OUT = _CpuSet("out")
MINCORE_OUT = _Mincore()
VAS_ATTR_IN = _OutStruct(fmt_vas_attr, "in")
VAS_ATTR_OUT = _OutStruct(fmt_vas_attr)
UMLPY_SYSCALL_IN = _OutStruct(fmt_umlpy_syscall, "in")
STATFS_OUT = _OutStruct(fmt_statfs)
GROUPS_IN = _Groups("in")
GROUPS_OUT = _Groups("out")
PTR_OUT = IntOut(size=8, hexa=True)
ULONG_OUT = IntOut(size=8, signed=False)
TIME_OUT = IntOut(size=8)
SIGINFO_OUT = _OutStruct(fmt_siginfo_at)
REM_OUT = _Rem()
CLOCKID = ENUM(CLOCKS, "CLOCK_???")
RLIMIT_RESOURCE = ENUM(RLIMITS, "RLIMIT_???")
WHENCE = ENUM(SEEK_WHENCE, "SEEK_???")
AT_FLAGS_ARG = FLAGS(AT_FLAGS)
ACCESS_MODE = FLAGS(ACCESS_MODES, zero="F_OK", dflt="?_OK")
