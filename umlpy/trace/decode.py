"""Decoding of system-call arguments and results into strace's syntax: the entry point.

A syscall's spec (``umlpy.trace.specs.SPECS``) lists one argument decoder per
argument.  A decoder has a ``phase``: ``"in"`` arguments are printed when the
call enters, ``"out"`` ones when it returns, because the kernel fills them
(read's buffer, fstat's struct).  Once one argument is ``"out"``, all later
ones print at exit too, so a line can be cut as ``read(3, <unfinished ...>``
and resumed as ``<... read resumed>"data", 4096) = 4``.  Calls whose layout
depends on an argument (clone, futex, fcntl, ioctl, ...) have a spec-level
``custom`` formatter with the same two phases.

Decoders never raise on bad guest memory: an unreadable pointer prints as
its address, as strace does.  All spelling goes through :mod:`.format`.

This module owns the dispatch (:func:`decode_enter`, :func:`decode_exit`,
:func:`format_retval`, :func:`has_exit_args`) and the :class:`DecodeContext`
protocol.  The pieces live by concern, and are re-exported here so that
``decode.X`` keeps working:

- :mod:`.guest`: integer reinterpretation and guest-memory reads;
- :mod:`.tables`: ``(value, name)`` tables in strace's printing order;
- :mod:`.values`: scalar values (signals, flag words, wait statuses, errors, names);
- :mod:`.structs`: structures in guest memory (stat, sigaction, termios...);
- :mod:`.args`: the per-argument decoders the specs use;
- :mod:`.calls`: the spec-level ``Custom`` formatters.

ABI numbers and flag names come from :mod:`umlpy.abi` only.
"""

from __future__ import annotations

import time

from umlpy.abi.sysargs import SysArgs

from .format import fmt_hex, fmt_octal
from .guest import M64, MAX_ARRAY, failed, fd_text, s32, s64  # noqa: F401  (re-exported)

# Re-exported: the names other code and the specs use as ``decode.X``.
from .args import (ACCESS_MODE, ARGV, AT_FLAGS_ARG, CLOCKID, CPUSET_IN, CPUSET_OUT, DIRENTS_OUT, DIRFD,  # noqa: F401
                   ENUM, ENVP, FD, FLAGS, GROUPS_IN, GROUPS_OUT, HEX, INBUF, INT, INT_OUT, IOVEC_IN, IOVEC_OUT,
                   LONG, MINCORE_OUT, MMAP_FLAGS, MMAP_PROT, OCT, OPEN_FLAGS_ARG, OUTBUF, PATH, PIPEFDS_OUT, PTR,
                   PTR_OUT, REM_OUT, RLIMIT_IN, RLIMIT_OUT, RLIMIT_RESOURCE, RUSAGE_OUT, SIGACTION_IN,
                   SIGACTION_OUT, SIGINFO_OUT, SIGNUM, SIGSET_IN, SIGSET_OUT, SIZE, STACK_T_IN, STACK_T_OUT,
                   STAT_OUT, STATFS_OUT, STATX_FLAGS, STATX_OUT, STR, STR_OUT, SYSINFO_OUT, TIME_OUT, TIMESPEC_IN,
                   TIMESPEC_OUT, TIMEVAL_OUT, TMS_OUT, UINT, UINT_OUT, ULONG, ULONG_OUT, UMLPY_SYSCALL_IN,
                   UTIMES_IN, UTSNAME_OUT, VAS_ATTR_IN, VAS_ATTR_OUT, WAIT_STATUS_OUT, WHENCE, Arg)
from .calls import (ArchPrctlCall, Clone3Call, CloneCall, Custom, FcntlCall, FutexCall, IoctlCall,  # noqa: F401
                    MremapCall, OpenCall, PrctlCall, SigreturnCall, Wait4Call)
from .structs import (fmt_flock, fmt_rlimit, fmt_rusage, fmt_sigaction, fmt_siginfo_at, fmt_stack_t,  # noqa: F401
                      fmt_stat, fmt_statfs, fmt_statx, fmt_sysinfo, fmt_termios, fmt_timespec, fmt_timeval, fmt_tms,
                      fmt_umlpy_syscall, fmt_utimes, fmt_utsname, fmt_vas_attr, fmt_winsize)
from .tables import (ACCESS_MODES, ACCMODES, ARCH_CODES, AT_ACCESS_FLAGS, AT_FLAGS, CLOCKS,  # noqa: F401
                     CLONE_FLAGS, CLOSE_RANGE_FLAGS, DT_NAMES, FCNTL_CMDS, FD_FLAGS, FS_MAGICS, FUTEX_CMDS,
                     FUTEX_OP_CMPS, FUTEX_OP_OPS, GRND_FLAGS, IDTYPES, IOCTL_ALIASES, IOCTL_REQUESTS, MADV_ADVICE,
                     MAP_FLAGS, MAP_TYPES, MLOCKALL_FLAGS, MREMAP_FLAGS, MSYNC_FLAGS, OPEN_FLAGS, PR_OPTIONS,
                     PROT_FLAGS, RENAME_FLAGS, RLIMITS, RUSAGE_WHO, S_IFMT_NAMES, SA_FLAGS, SEEK_WHENCE,
                     SIGPROCMASK_HOW, SS_FLAGS, ST_FLAGS, STATX_MASK, STATX_SYNC, TC_BAUD, TC_CFLAG, TC_CSIZE,
                     TC_IFLAG, TC_LFLAG, TC_ODELAYS, TC_OFLAG, TIMER_FLAGS, WAIT_OPTIONS)
from .values import (fmt_clone_flags, fmt_futex_op, fmt_futex_wake_op, fmt_ioctl_request,  # noqa: F401
                     fmt_mmap_flags, fmt_open_flags, fmt_rlim, fmt_sigset, fmt_signal, fmt_statx_flags,
                     fmt_wait_status, format_error, format_siginfo, signame, syscall_name)


class DecodeContext:
    """What the decoders may ask of the traced task (the tracer implements it)."""

    strsize: int            # -s: longest string shown (default 32)
    xmode: str              # -X: "abbrev", "raw" or "verbose"
    show_paths: bool        # -y: fds print as 3</path>
    verbose: bool           # -v: structures unabbreviated

    def read_mem(self, addr: int, n: int) -> bytes | None: ...        # None: EFAULT
    def read_cstring(self, addr: int, limit: int) -> tuple[bytes, bool] | None: ...
    def fd_path(self, fd: int) -> str | None: ...


_SPEC_CACHE: dict = {}      # name or number -> (Spec, index of its first "out" argument)


def _lookup(name_or_nr):
    """(spec, split) for a call, cached: the tracer asks several times per call."""
    hit = _SPEC_CACHE.get(name_or_nr)
    if hit is None:
        from .specs import SPECS, unknown_spec
        name = name_or_nr if isinstance(name_or_nr, str) else syscall_name(name_or_nr)
        spec = SPECS.get(name)
        if spec is None:
            spec = unknown_spec()
        hit = _SPEC_CACHE[name_or_nr] = (spec, _first_out(spec))
    return hit


def _spec(name_or_nr):
    return _lookup(name_or_nr)[0]


def nargs(name_or_nr) -> int:
    """How many arguments the call has (the kernel's SYSCALL_DEFINE)."""
    return _spec(name_or_nr).nargs


def has_exit_args(name_or_nr, args) -> bool:
    """Whether arguments follow at exit: the entry part then ends with ", "
    (``read(3, <unfinished ...>``); use this rather than comparing with
    :func:`nargs`, since some calls print fewer arguments than they have."""
    spec, split = _lookup(name_or_nr)
    if spec.custom is not None:
        return spec.custom.has_exit(_norm(args))
    return split < spec.nargs


def _norm(args) -> tuple:
    if type(args) is SysArgs:       # the six registers as the kernel hands them: u64 already
        return args
    if len(args) == 6 and min(args) >= 0 and max(args) <= M64:
        return tuple(args)          # registers as the kernel hands them: already u64
    a = tuple(int(x) & M64 for x in args)
    return a + (0,) * (6 - len(a))


def _first_out(spec) -> int:
    for k, dec in enumerate(spec.args[:spec.nargs]):
        if dec.phase == "out":
            return k
    return min(spec.nargs, len(spec.args))


def decode_enter(name_or_nr, ctx, args) -> list[str]:
    """The arguments printed when the call enters (all up to the first ``out`` one)."""
    spec, split = _lookup(name_or_nr)
    args = _norm(args)
    if spec.custom is not None:
        return spec.custom.enter(ctx, args)
    return [dec.format(ctx, args, k, None) for k, dec in enumerate(spec.args[:split])]


def decode_exit(name_or_nr, ctx, args, ret) -> list[str]:
    """The remaining arguments, printed when the call returns ``ret`` (-errno on failure)."""
    spec, k0 = _lookup(name_or_nr)
    args = _norm(args)
    ret = None if ret is None else s64(ret)
    if spec.custom is not None:
        return spec.custom.exit(ctx, args, ret)
    return [dec.format(ctx, args, k, ret) for k, dec in enumerate(spec.args[:spec.nargs]) if k >= k0]


def format_retval(name_or_nr, ctx, args, ret) -> str:
    """A successful call's result: ``3``, ``0x7f0000``, ``3</etc/hostname>``, ``022``, ``?``."""
    spec = _spec(name_or_nr)
    if ret is None or spec.ret == "none":
        return "?"
    args = _norm(args)
    ret = s64(ret)
    if spec.custom is not None:
        text = spec.custom.retval(ctx, args, ret)
        if text is not None:
            return text
    kind = spec.ret
    if kind == "hex":
        return fmt_hex(ret)
    if kind == "oct":
        return fmt_octal(ret)
    if kind == "fd":
        return fd_text(ctx, ret) if ret >= 0 else str(ret)
    if kind == "time":
        return "%d (%s)" % (ret, time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(ret)))
    if kind == "personality":
        return "%s (%s)" % (fmt_hex(ret), "PER_LINUX") if ret else "0 (PER_LINUX)"
    return str(ret)
