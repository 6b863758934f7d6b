"""Address spaces as file descriptors: /proc/mm, create_mm, current_mm, mm_indirect, switch_mm.

The extensions of DESIGN.md ("Guest ABI extensions") from Jeff Dike's SKAS3
/proc/mm, Linus Torvalds' 2003 create_mm + mm_indirect, and SKAS4's
switch_mm.  An :class:`MMFile` is an open file naming one guest mm (it holds
the mm as a holder reference); an mm lives while an fd names it or a task
runs in it.  A call made "in another address space" (mm_indirect, a
/proc/mm write) is the ordinary handler run with that mm as the task's
current one (``aspace.borrowed_mm``): the caller's pid, credentials and fd
table, only the memory is the other mm's.
"""

import errno
import os
import stat as _stat
import struct

from umlpy.abi import extensions as X
from umlpy.abi.ptrace import FLAG_MASK as _EFLAGS_USER   # what a register load may change
from umlpy.abi.regs import USER_CS, USER_REGS, USER_REGS_FIELDS, USER_SS
from umlpy.abi.sysargs import SysArgs
from umlpy.abi.syscall_nr import NR
from umlpy.abi.stat import Stat
from umlpy.errors import SyscallError
from umlpy.fs.file import File
from umlpy.fs.procfs import ProcNode
from umlpy.kernel import aspace
from umlpy.kernel.restart import REGS_SET

from .table import partial, supported

E = SyscallError
_M64 = (1 << 64) - 1

#: Calls that cannot run "in another address space": they would leave it, replace it,
#: or make a task that lives there.
_NOT_INDIRECT = frozenset(int(n) for n in (
    NR.execve, NR.execveat, NR.clone, NR.clone3, NR.fork, NR.vfork, NR.exit, NR.exit_group,
    NR.rt_sigreturn)) | frozenset(int(n) for n in (
        X.EXT.mm_indirect, X.EXT.switch_mm, X.EXT.unprivilege, X.EXT.new_as, X.EXT.switch_as,
        X.EXT.vas_switch))


class MMFile(File):
    """An open file naming a guest address space (/proc/mm, create_mm, current_mm)."""

    seekable = False

    def __init__(self, mm, path: bytes = b"/proc/mm"):
        super().__init__(None, os.O_RDWR, path)
        self.mm = mm
        aspace.get_holder(mm)

    def release(self):
        mm, self.mm = self.mm, None
        if mm is not None:
            aspace.put_holder(mm)

    def read(self, n):
        raise E(errno.EINVAL)

    def write(self, data):
        raise E(errno.EINVAL)      # written through write_for, which knows the caller

    def write_for(self, t, data: bytes) -> int:
        return proc_mm_write(t, self.mm, data)

    def fstat(self):
        return Stat(st_mode=_stat.S_IFREG | 0o600, st_nlink=1, st_ino=id(self) & 0xFFFFFFFF)

    def poll(self):
        return 0


def mm_of_fd(t, fd: int):
    """The mm an fd names: EBADF when not open, EINVAL when not an address space."""
    f = t.files.get(fd)
    if not isinstance(f, MMFile) or f.mm is None:
        raise E(errno.EINVAL)
    return f.mm


def _install(t, mm, path=b"/proc/mm") -> int:
    f = MMFile(mm, path)
    try:
        return t.files.install(f)     # the fd table holds the only reference
    except BaseException:
        f.release()                   # EMFILE: nobody names the mm
        raise


# --- /proc/mm -----------------------------------------------------------------------

def _run_in(t, mm, nr: int, args):
    """Run system call ``nr`` with ``args`` as if ``mm`` were ``t``'s address space."""
    k = t.kernel
    row = k.table.lookup(nr)
    with aspace.borrowed_mm(t, mm):
        return row.handler(t, SysArgs(tuple(a & _M64 for a in args) + (0,) * (6 - len(args))))


def proc_mm_write(t, mm, data: bytes) -> int:
    """A ``struct proc_mm_op`` written to /proc/mm: do the op in ``mm``; the byte count."""
    n = len(data)
    if n > X.PROC_MM_OP_SIZE or n < 4:
        raise E(errno.EINVAL)
    op = int.from_bytes(data[:4], "little", signed=True)
    if op not in X.PROC_MM_OP:
        raise E(errno.EINVAL)
    if n < X.proc_mm_op_min_size(op):
        raise E(errno.EINVAL)
    u = X.PROC_MM_OP_UNION[op].unpack(data[X.PROC_MM_OP_UNION_OFFSET:X.proc_mm_op_min_size(op)])
    if op == X.MM_MMAP:
        _run_in(t, mm, NR.mmap, (u["addr"], u["len"], u["prot"], u["flags"], u["fd"], u["offset"]))
    elif op == X.MM_MUNMAP:
        _run_in(t, mm, NR.munmap, (u["addr"], u["len"]))
    elif op == X.MM_MPROTECT:
        _run_in(t, mm, NR.mprotect, (u["addr"], u["len"], u["prot"]))
    else:                     # MM_COPY_SEGMENTS: the LDT of the mm that fd names
        src = mm_of_fd(t, u["copy_segments"])
        mm.ldt = dict(src.ldt)
    return n


# --- the calls --------------------------------------------------------------------

def create_mm(t, a):
    """create_mm(2) (1000): a new, empty address space, as an fd."""
    return _install(t, aspace.new_mm(t.kernel, "create_mm"))


def current_mm(t, a):
    """current_mm(2) (1006): an fd for the caller's current address space."""
    return _install(t, t.mm)


def mm_indirect(t, a):
    """mm_indirect(2) (1001): run ``call->nr`` with ``call->args`` in ``mm_fd``'s address space."""
    mm = mm_of_fd(t, a.fd(0))
    raw = t.mm.read(a.ptr(1), X.UMLPY_SYSCALL_SIZE)
    call = X.UMLPY_SYSCALL.unpack(raw)
    nr = call["nr"]
    if nr in _NOT_INDIRECT:
        raise E(errno.EINVAL)
    return _run_in(t, mm, nr, call["args"])


#: user_regs_struct as one struct.Struct of 27 unsigned longs, in USER_REGS_FIELDS order.
_REGS = struct.Struct(USER_REGS.format)
_SEGMENTS = frozenset(("cs", "ss", "ds", "es", "fs", "gs"))
_LOADED = tuple((i, name) for i, name in enumerate(USER_REGS_FIELDS) if name not in _SEGMENTS)
_EFLAGS_I = USER_REGS_FIELDS.index("eflags")


def read_user_regs(t, addr: int) -> tuple:
    """A ``struct user_regs_struct`` from guest memory, as a tuple in USER_REGS_FIELDS order."""
    return _REGS.unpack(t.mm.read(addr, _REGS.size))


def load_user_regs(ctx, vals) -> None:
    """Load register values (USER_REGS_FIELDS order) into a context: every register as
    given, but user segments, and only the eflags bits a user may change."""
    r = ctx.regs
    for i, name in _LOADED:
        setattr(r, name, vals[i])
    r.eflags = (r.eflags & ~_EFLAGS_USER) | (vals[_EFLAGS_I] & _EFLAGS_USER) | 0x200
    r.cs, r.ss = USER_CS, USER_SS


def pack_user_regs(ctx, **override) -> bytes:
    r = ctx.regs
    vals = [getattr(r, name) for name in USER_REGS_FIELDS]
    for name, v in override.items():
        vals[USER_REGS_FIELDS.index(name)] = v
    return _REGS.pack(*vals)


def switch_mm(t, a):
    """switch_mm(2) (1002): save the caller's registers (as after returning 0) into
    ``*save``, then continue in ``mm_fd``'s address space with exactly ``*load``."""
    mm = mm_of_fd(t, a.fd(0))
    save, load = a.ptr(1), a.ptr(2)
    new = read_user_regs(t, load)
    t.mm.write(save, pack_user_regs(t.ctx, rax=0))
    aspace.switch_mm(t, mm)
    load_user_regs(t.ctx, new)
    t.ctx.regs.orig_rax = _M64
    return REGS_SET


FAMILY = [
    supported("create_mm", create_mm),
    supported("current_mm", current_mm),
    partial("mm_indirect", mm_indirect, "execve, clone, exit and the address-space switches "
            "cannot run indirectly (EINVAL)"),
    supported("switch_mm", switch_mm),
]


class ProcMMNode(ProcNode):
    """/proc/mm: each open gives a new, empty address space."""

    def __init__(self, procfs, kernel):
        super().__init__(procfs, "mm", _stat.S_IFREG | 0o222)
        self.kernel = kernel

    def stat(self):
        return self.meta.to_stat()

    def open(self, flags, caller, path):
        return MMFile(aspace.new_mm(self.kernel, "/proc/mm"), path)


def install_proc_mm(kernel) -> None:
    """Add /proc/mm to ``kernel``'s procfs (umlpy.syscalls.install_proc_mm does the same
    without importing this module before /proc/mm is looked up)."""
    kernel.vfs.procfs.register(b"mm", lambda procfs: ProcMMNode(procfs, kernel))
