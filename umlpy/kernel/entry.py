"""Ways into the kernel other than the syscall instruction (DESIGN.md, "Entries other
than syscall").

The platform says which entry a SYSCALL stop came through (``ctx.entry``):

- ``int $0x80`` from 64-bit code: Linux decodes it with the i386 numbers and
  registers (ebx, ecx, edx, esi, edi, ebp, 32 bits each) whatever the
  caller's mode; so does :func:`int80`, through the x86-64 handler of the
  same call where the two ABIs agree (umlpy.abi.compat), ENOSYS otherwise.
  It is never read as an x86-64 number.  A tracer in the guest sees the stop
  as Linux shows it (orig_rax is the i386 number).
- a call into the legacy vsyscall page (gettimeofday, time, getcpu at
  0xffffffffff600000 + 0, 0x400, 0x800): :func:`vsyscall` emulates it as
  Linux's emulate_vsyscall does (arch/x86/entry/vsyscall/vsyscall_64.c): the
  return address is read from the stack, the call runs, and a ``ret`` is
  emulated; a pointer argument outside the user range gets SIGSEGV
  (SEGV_MAPERR at it), an unreadable stack or a fault while writing the
  result gets SIGSEGV (SI_KERNEL) with no ``ret``.  No syscall stop is shown
  to a guest tracer, as on Linux.
"""

import errno

from umlpy.abi.compat import BY_I386_NR
from umlpy.abi.memory import TASK_SIZE, VSYSCALL_ADDR
from umlpy.abi.signal import SEGV_MAPERR, SI_KERNEL, Sig
from umlpy.abi.syscall_nr import NR
from umlpy.abi.sysargs import SysArgs
from umlpy.errors import SyscallError
from umlpy.platform.base import Entry

from . import ptrace as kptrace

_M32 = 0xFFFFFFFF
_M64 = (1 << 64) - 1
_ENOSYS = -errno.ENOSYS
_EFAULT = -errno.EFAULT

#: vsyscall entry offset -> (x86-64 number, (argument index, size written) for each pointer).
VSYSCALLS = {
    0x000: (NR.gettimeofday, ((0, 16), (1, 8))),      # struct timeval, struct timezone
    0x400: (NR.time, ((0, 8),)),                       # time_t
    0x800: (NR.getcpu, ((0, 4), (1, 4))),              # unsigned cpu, node
}


def syscall(k, t):
    """Dispatch a SYSCALL stop that came through another entry than the syscall instruction."""
    if t.ctx.entry == Entry.VSYSCALL:
        vsyscall(k, t)
        return
    tr = t.ptrace
    if tr is not None and not tr.dispatching:      # a tracee: its tracer sees the stops first
        kptrace.syscall(k, t)
        return
    int80(k, t)


def _arg(kind: str, value: int) -> int:
    if kind == "u":
        return value & _M32
    if kind == "s":
        value &= _M32
        return (value - (1 << 32)) & _M64 if value & 0x80000000 else value
    return 0


def int80(k, t):
    """An i386 system call made with int $0x80 (see the module docstring)."""
    regs = t.ctx.regs
    nr = regs.orig_rax & _M32
    spec = BY_I386_NR.get(nr)
    if spec is None:
        regs.rax = _ENOSYS & _M64
        return
    x86_64, kinds = spec
    i386 = (regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp)
    raw = tuple(_arg(kind, v) for kind, v in zip(kinds, i386)) + (0,) * (6 - len(kinds))
    k.dispatch(t, x86_64, raw)


def vsyscall(k, t):
    """A call into the vsyscall page, emulated (see the module docstring)."""
    regs = t.ctx.regs
    spec = VSYSCALLS.get(regs.rip - VSYSCALL_ADDR)
    if spec is None:            # not an entry point (the host usually catches this first)
        k.force_signal(t, Sig.SIGSEGV, SI_KERNEL, 0)
        return
    try:
        caller = int.from_bytes(t.mm.read(regs.rsp, 8), "little")
    except SyscallError:
        k.force_signal(t, Sig.SIGSEGV, SI_KERNEL, 0)        # "vsyscall with bad stack"
        return
    nr, pointers = spec
    raw = [regs.rdi, regs.rsi, 0, 0, 0, 0]     # getcpu's third argument is NULL, as Linux passes
    for i, size in pointers:
        p = raw[i]
        if p and p + size > TASK_SIZE:
            k.force_signal(t, Sig.SIGSEGV, SEGV_MAPERR, p)   # write_ok_or_segv
            return
    ret = k._invoke(t, k.table.lookup(nr), SysArgs(raw))
    regs.orig_rax = _M64
    if ret == _EFAULT:
        k.force_signal(t, Sig.SIGSEGV, SI_KERNEL, 0)        # "vsyscall fault": no ret
        return
    regs.rax = ret & _M64
    regs.rip = caller
    regs.rsp = (regs.rsp + 8) & _M64
