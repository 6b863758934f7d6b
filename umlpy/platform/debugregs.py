"""The x86 debug registers of a stub process (DR0-DR3, DR6, DR7), through ptrace.

The supervisor is the ptracer of every stub, and a stub is in a ptrace stop
whenever the guest kernel runs, so PTRACE_PEEKUSER/POKEUSER on the offsets of
``struct user``'s ``u_debugreg`` reach them, as gdbserver sets its hardware
watchpoints.  Every guest thread of one address space runs in the same stub,
so the registers hold for all of them (a debugger's watchpoints are per
address space anyway).  The host kernel checks the values (user addresses,
valid lengths and types) and answers EINVAL/EIO otherwise; accesses made by
the supervisor on the guest's behalf (system calls) never trigger them, as
accesses by Linux itself do not trigger a ptrace watchpoint.

ctypes is imported only when a debugger asks.
"""

import os

from umlpy.abi.ptrace import PTRACE_PEEKUSR, PTRACE_POKEUSR, USER_DEBUGREG_OFFSET
from umlpy.errors import PlatformError

_libc = None


def _ptrace():
    global _libc
    if _libc is None:
        import ctypes
        import ctypes.util
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        lib.ptrace.restype = ctypes.c_long
        lib.ptrace.argtypes = (ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        _libc = (lib, ctypes)
    return _libc


def get_debugreg(pid: int, n: int) -> int:
    """DRn of stopped tracee ``pid``."""
    lib, ctypes = _ptrace()
    ctypes.set_errno(0)
    v = lib.ptrace(PTRACE_PEEKUSR, pid, USER_DEBUGREG_OFFSET + 8 * n, None)
    err = ctypes.get_errno()
    if v == -1 and err:
        raise PlatformError("reading DR%d of stub %d: %s" % (n, pid, os.strerror(err)))
    return v & ((1 << 64) - 1)


def set_debugreg(pid: int, n: int, value: int) -> None:
    """Set DRn of stopped tracee ``pid``; OSError (EINVAL, EIO...) if the host refuses it."""
    lib, ctypes = _ptrace()
    ctypes.set_errno(0)
    if lib.ptrace(PTRACE_POKEUSR, pid, USER_DEBUGREG_OFFSET + 8 * n, value & ((1 << 64) - 1)) == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
