"""clone(2): new processes and threads.

A new process gets a copy-on-write copy of the parent's address space in a
new stub (``MM.fork``); a new thread shares the parent's MM and so runs in
the same stub with its own register set.
"""

import errno
import struct

from umlpy.errors import SyscallError

from . import aspace
from . import ptrace as kptrace
from .pidfd import install_pidfd
from .restart import REGS_SET


from umlpy.abi.clone import (CSIGNAL, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID, CLONE_FILES, CLONE_FS,
                              CLONE_NAMESPACES as _NAMESPACES, CLONE_NEWUSER, CLONE_PARENT,
                              CLONE_PARENT_SETTID, CLONE_PIDFD, CLONE_SETTLS, CLONE_SIGHAND, CLONE_THREAD,
                              CLONE_VFORK, CLONE_VM, CLONE_CLEAR_SIGHAND, CLONE_DETACHED)

MAX_TASKS = 4096


def do_clone(t, flags: int, stack: int, ptid: int, ctid: int, tls: int, *, pidfd_ptr: int | None = None,
             set_tid: int = 0) -> int:
    """Create a task as clone(2) asks; return the child's tid to the parent.

    clone3 gives the pidfd's address apart (``pidfd_ptr``; clone(2) writes it at ``ptid``),
    the clone3-only flags and ``set_tid``, the pid the child must get (0: any).
    """
    k = t.kernel
    if flags & CLONE_THREAD and not flags & CLONE_SIGHAND:
        raise SyscallError(errno.EINVAL)
    if flags & CLONE_SIGHAND and not flags & CLONE_VM:
        raise SyscallError(errno.EINVAL)
    if flags & CLONE_CLEAR_SIGHAND and flags & CLONE_SIGHAND:
        raise SyscallError(errno.EINVAL)
    if flags & _NAMESPACES:
        raise SyscallError(errno.EPERM if flags & CLONE_NEWUSER == 0 else errno.EINVAL)
    if flags & CLONE_PIDFD:
        # A pidfd names a process: not with CLONE_THREAD (before Linux 6.9), nor
        # CLONE_DETACHED; clone(2) writes it where the parent's tid would go.
        if flags & (CLONE_THREAD | CLONE_DETACHED):
            raise SyscallError(errno.EINVAL)
        if pidfd_ptr is None:
            if flags & CLONE_PARENT_SETTID:
                raise SyscallError(errno.EINVAL)
            pidfd_ptr = ptid
    if set_tid and (set_tid in k.tasks or set_tid in k.groups):
        raise SyscallError(errno.EEXIST)
    # As on Linux, a process counts until it is reaped (zombies included).  Unlike
    # Linux, RLIMIT_NPROC binds the guest's root too: each guest process is a host
    # process, and the guest's uid 0 is no reason to spend more of them.
    nproc = len(k.tasks) + sum(1 for g in k.groups.values() if g.zombie)
    if nproc >= MAX_TASKS or nproc >= t.group.rlimits[6].cur:
        raise SyscallError(errno.EAGAIN)

    parent_group = t.group.parent if flags & (CLONE_PARENT | CLONE_THREAD) else t.group
    ctx = k.platform.new_context()
    t.ctx.save_state(t.mm.host)
    ctx.copy_from(t.ctx)
    # The child runs in (a copy of) the address space the caller runs in now.
    mm = t.mm if flags & CLONE_VM else aspace.fork_mm(k, t.mm)
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
        tid = set_tid or k.alloc_pid()
    else:
        handlers = t.group.handlers if flags & CLONE_SIGHAND else t.group.handlers.copy()
        if flags & CLONE_CLEAR_SIGHAND:
            handlers.reset_for_exec()          # caught signals back to SIG_DFL, ignored stay
        rlimits = {r: type(v)(v.cur, v.max) for r, v in t.group.rlimits.items()}
        group = k.new_group(parent_group, t.group.creds.copy(), handlers, rlimits, pid=set_tid)
        group.pgid, group.sid = t.group.pgid, t.group.sid
        group.tty = t.group.tty
        group.exe, group.cmdline, group.umask = t.group.exe, t.group.cmdline, t.group.umask
        group.environ, group.nice, group.sched = t.group.environ, t.group.nice, t.group.sched
        group.exit_signal = flags & CSIGNAL
        tid = group.tgid
    child = k.new_task(tid, group, ctx, mm, files, fs)
    if flags & CLONE_VM:
        aspace.rehome(child, t.home_mm)     # a thread made in a context or a VAS
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
    if flags & CLONE_PIDFD:
        fd = install_pidfd(t, group, 0)
        t.mm.write(pidfd_ptr, struct.pack("<i", fd))
    k.update_fast(child)
    k.hooks.task_created(t, child)
    if t.ptrace is not None:
        kptrace.clone_event(k, t, child, flags)
    k.runq.append(child)
    if flags & CLONE_VFORK:
        group.vfork_parent = t
        t.ctx.regs.rax = tid
        if t.ptrace is not None:
            kptrace.vfork_wait(k, t, group)      # after its PTRACE_EVENT_VFORK stop
        else:
            k.park(t)
        return REGS_SET
    return tid
