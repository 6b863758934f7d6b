"""clone(2): new processes and threads.

A new process gets a copy-on-write copy of the parent's address space in a
new stub (``MM.fork``); a new thread shares the parent's MM and so runs in
the same stub with its own register set.
"""

import errno
import struct

from umlpy.errors import SyscallError

from .task import FsContext, SignalHandlers, TaskState

CLONE_VM = 0x100
CLONE_FS = 0x200
CLONE_FILES = 0x400
CLONE_SIGHAND = 0x800
CLONE_PIDFD = 0x1000
CLONE_PTRACE = 0x2000
CLONE_VFORK = 0x4000
CLONE_PARENT = 0x8000
CLONE_THREAD = 0x10000
CLONE_NEWNS = 0x20000
CLONE_SYSVSEM = 0x40000
CLONE_SETTLS = 0x80000
CLONE_PARENT_SETTID = 0x100000
CLONE_CHILD_CLEARTID = 0x200000
CLONE_DETACHED = 0x400000
CLONE_UNTRACED = 0x800000
CLONE_CHILD_SETTID = 0x1000000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_IO = 0x80000000
_NAMESPACES = (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER
               | CLONE_NEWPID | CLONE_NEWNET)
MAX_TASKS = 4096


def do_clone(t, flags: int, stack: int, ptid: int, ctid: int, tls: int) -> int:
    """Create a task as clone(2) asks; return the child's tid to the parent."""
    k = t.kernel
    if flags & CLONE_THREAD and not flags & CLONE_SIGHAND:
        raise SyscallError(errno.EINVAL)
    if flags & CLONE_SIGHAND and not flags & CLONE_VM:
        raise SyscallError(errno.EINVAL)
    if flags & _NAMESPACES:
        raise SyscallError(errno.EPERM if flags & CLONE_NEWUSER == 0 else errno.EINVAL)
    if flags & CLONE_PIDFD:
        raise SyscallError(errno.EINVAL)
    if len(k.tasks) >= MAX_TASKS or len(k.tasks) >= t.group.rlimits[6].cur:
        raise SyscallError(errno.EAGAIN)

    parent_group = t.group.parent if flags & (CLONE_PARENT | CLONE_THREAD) else t.group
    ctx = k.platform.new_context()
    t.ctx.save_state(t.mm.host)
    ctx.copy_from(t.ctx)
    if flags & CLONE_VM:
        mm = t.mm
        mm.users += 1
    else:
        host = k.platform.new_address_space()
        try:
            mm = t.mm.fork(host)
        except BaseException:
            host.release()
            raise
        mm.users = 1
    files = t.files if flags & CLONE_FILES else t.files.fork()
    if flags & CLONE_FILES:
        files.users += 1
    else:
        files.users = 1
    if flags & CLONE_FS:
        fs = t.fs
        fs.users += 1
    else:
        fs = t.fs.copy()

    if flags & CLONE_THREAD:
        group = t.group
        tid = k.alloc_pid()
    else:
        handlers = t.group.handlers if flags & CLONE_SIGHAND else t.group.handlers.copy()
        rlimits = {r: type(v)(v.cur, v.max) for r, v in t.group.rlimits.items()}
        group = k.new_group(parent_group, t.group.creds.copy(), handlers, rlimits)
        group.pgid, group.sid = t.group.pgid, t.group.sid
        group.exe, group.cmdline, group.umask = t.group.exe, t.group.cmdline, t.group.umask
        group.exit_signal = flags & 0xFF
        tid = group.tgid
    child = k.new_task(tid, group, ctx, mm, files, fs)
    child.sigmask = t.sigmask
    child.comm = t.comm
    child.sigaltstack = t.sigaltstack if not flags & CLONE_VM or flags & CLONE_VFORK else (0, 2, 0)
    regs = ctx.regs
    regs.rax = 0
    if stack:
        regs.rsp = stack
    if flags & CLONE_SETTLS:
        regs.fs_base = tls
    if flags & CLONE_PARENT_SETTID:
        t.mm.write(ptid, struct.pack("<i", tid))
    if flags & CLONE_CHILD_SETTID:
        child.mm.write(ctid, struct.pack("<i", tid))
    if flags & CLONE_CHILD_CLEARTID:
        child.clear_child_tid = ctid
    k.update_fast(child)
    if k.tracer is not None:
        k.tracer.task_created(t, child)
    k.runq.append(child)
    if flags & CLONE_VFORK:
        group.vfork_parent = t
        t.ctx.regs.rax = tid
        k.block(t, None, restart=False)
        return None
    return tid
