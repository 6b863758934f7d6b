"""Guest ptrace: the tracer/tracee relationship, ptrace stops and how a stopped task resumes.

A traced task has ``task.ptrace``, a :class:`Tracee`; the group of its
tracer has ``group.ptrace``, a :class:`TracerSide` listing every task traced
by one of its threads and the exits still to report.  A task that is not
traced pays one attribute test (``t.ptrace is not None``) in system-call
dispatch and nothing in the run loop.

A stop (ptrace stop or job-control group stop) makes the task
``TaskState.STOPPED``: off the run queue, like a blocked task, with
``task.stop`` naming where it stopped (:class:`StopAt`).  When it is made
runnable again (the tracer's resume request, SIGCONT) the run loop calls
:func:`resume` first, which carries on from that point: runs the system
call after a syscall-entry stop, delivers the signal the tracer chose after
a signal-delivery-stop, performs the exit after PTRACE_EVENT_EXIT...  So a
tracee stopped mid-syscall resumes where it was.

Stops are Linux's (kernel/ptrace.c, kernel/signal.c): each has an
``exit_code`` (SIGTRAP, SIGTRAP|0x80 with TRACESYSGOOD, ``SIGTRAP |
event << 8``, the signal of a signal-delivery-stop) and the tracer's wait
reports ``exit_code << 8 | 0x7f``.
"""

import enum
import errno

from umlpy.abi import ptrace as P
from umlpy.abi.signal import NSIG
from umlpy.abi.sysargs import SysArgs
from umlpy.errors import SyscallError

from . import signals as sigs
from .task import TaskState

_M64 = (1 << 64) - 1
SIGTRAP = 5
CLD_TRAPPED, CLD_STOPPED, CLD_CONTINUED = 4, 5, 6
CLONE_VFORK, CLONE_THREAD, CLONE_PTRACE, CLONE_UNTRACED = 0x4000, 0x10000, 0x2000, 0x800000
_ENOSYS_RAX = (-errno.ENOSYS) & _M64
#: -ERESTARTSYS and its kin (include/linux/errno.h): a call interrupted to stop is run again
#: on the way back to user mode (arch_do_signal_or_restart) unless the tracer changed rax.
ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND = 512, 513, 514
_RESTARTS = {(-e) & _M64 for e in (ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND)}


class StopAt(enum.Enum):
    """Where a STOPPED task stopped, i.e. what :func:`resume` carries on with."""

    PENDING = 0          # not stopped yet: take pending traps and signals before running
    SYSCALL_ENTRY = 1
    SYSCALL_EXIT = 2
    EVENT = 3            # a PTRACE_EVENT_* stop at the end of a system call
    SIGNAL = 4           # signal-delivery-stop
    GROUP = 5            # group-stop of a tracee (SIGSTOP & co, PTRACE_EVENT_STOP)
    JOB = 6              # job-control stop of an untraced task
    VFORK = 7            # a traced vfork parent parked until its child execs or exits (BLOCKED)


class Resume(enum.Enum):
    """How the tracer last resumed the tracee."""

    CONT = 0
    SYSCALL = 1
    SYSEMU = 2
    SINGLESTEP = 3
    SYSEMU_SINGLESTEP = 4


_STEPS = (Resume.SINGLESTEP, Resume.SYSEMU_SINGLESTEP)
_ENTRY_STOPS = (Resume.SYSCALL, Resume.SYSEMU, Resume.SYSEMU_SINGLESTEP)


class Tracee:
    """The ptrace state of a traced task."""

    __slots__ = ("tracer", "options", "seized", "resume", "stopped", "exit_code", "reported",
                 "siginfo", "eventmsg", "in_syscall", "emulated", "data", "event", "forced_tf",
                 "sysinfo", "exit_args", "trap_stop", "listening", "dispatching", "notify", "vfork_child",
                 "restart_call")

    def __init__(self, tracer, options=0, seized=False):
        self.tracer = tracer           # the tracing Task
        self.options = options
        self.seized = seized
        self.resume = Resume.CONT
        self.stopped = False           # in a ptrace stop (the tracer may inspect it)
        self.exit_code = 0             # of the current stop
        self.reported = True           # the current stop was reported by wait
        self.siginfo = None            # (signo, code, addr, pid, status) of the current stop
        self.eventmsg = 0
        self.in_syscall = False        # the entry stop of the current call was passed
        self.emulated = False          # the current call was entered under SYSEMU
        self.data = 0                  # the signal given with the resume request
        self.event = None              # (event, msg) to stop for when the call ends
        self.forced_tf = False         # TF set by us for a single step
        self.sysinfo = (P.PTRACE_SYSCALL_INFO_NONE,)
        self.exit_args = None          # (code,) of an exit waiting behind PTRACE_EVENT_EXIT (None: the group's)
        self.trap_stop = False         # PTRACE_INTERRUPT / a seized child's first stop
        self.listening = False
        self.dispatching = False       # Kernel.syscall runs the handler itself
        self.notify = False            # the group-stop ended while stopped: trap again (JOBCTL_TRAP_NOTIFY)
        self.vfork_child = None        # the ThreadGroup a vfork of this tracee waits for
        self.restart_call = False      # a call cut short by a stop runs again when it returns to user mode


class TracerSide:
    """What a tracer's thread group holds: its tracees and the exits still to report."""

    __slots__ = ("tracees", "exits")

    def __init__(self):
        self.tracees = []              # Tasks traced by a thread of this group
        self.exits = []                # (tracer task, tid, pgid, status) of dead tracees


# --- attach and detach ------------------------------------------------------------

def may_attach(tracer, target) -> bool:
    """ptrace_may_access: same uid, or the tracer is root (DESIGN: no capabilities)."""
    c, tc = tracer.group.creds, target.group.creds
    return c.euid == 0 or (c.uid == tc.uid == tc.euid == tc.suid and c.gid == tc.gid)


def attach(k, tracer, target, options=0, seized=False) -> Tracee:
    """Make ``tracer`` trace ``target``."""
    tr = Tracee(tracer, options, seized)
    target.ptrace = tr
    side = tracer.group.ptrace
    if side is None:
        side = tracer.group.ptrace = TracerSide()
    side.tracees.append(target)
    k.update_fast(target)              # no call of a tracee is answered behind the tracer's back
    return tr


def _unlink(t):
    tr = t.ptrace
    t.ptrace = None
    side = tr.tracer.group.ptrace
    if side is not None and t in side.tracees:
        side.tracees.remove(t)
    if tr.forced_tf:
        t.ctx.regs.eflags &= ~P.X86_EFLAGS_TF
    if t.state is not TaskState.DEAD:
        t.kernel.update_fast(t)
    return tr


def detach(k, t, signo: int = 0):
    """PTRACE_DETACH (and the tracer's death): ``t`` goes on untraced, with ``signo`` if given."""
    tr = _unlink(t)
    if tr.stopped or t.state is TaskState.STOPPED:
        at = t.stop
        tr.stopped = False
        if at is StopAt.SIGNAL and signo:
            k.send_signal(t, signo, tr.siginfo if tr.siginfo and tr.siginfo[0] == signo else None)
        if at is StopAt.SYSCALL_ENTRY:
            # carries on with the call, untraced
            t.stop = None
            t.restart = True
        elif at is StopAt.EVENT and tr.exit_args is not None:
            t.stop = None
            if t.state is TaskState.STOPPED:
                t.state = TaskState.RUNNABLE
            k.exit_task(t, tr.exit_args[0])
            return
        else:
            t.stop = None
        if t.state is TaskState.STOPPED and at is not StopAt.JOB:
            t.state = TaskState.RUNNABLE
            k.runq.append(t)


def tracer_gone(k, tracer):
    """``tracer`` exits: its tracees are detached, or killed with PTRACE_O_EXITKILL."""
    side = tracer.group.ptrace
    if side is None:
        return
    for t in [x for x in side.tracees if x.ptrace is not None and x.ptrace.tracer is tracer]:
        if t.ptrace.options & P.PTRACE_O_EXITKILL:
            _unlink(t)
            k.send_signal(t.group, sigs.SIGKILL)
        else:
            detach(k, t)
    side.exits = [e for e in side.exits if e[0] is not tracer]


def task_exit(k, t):
    """A traced task ends: its tracer is told (when it is not the real parent that waits)."""
    tr = _unlink(t)
    g = t.group
    tracer = tr.tracer
    if tracer.state is TaskState.DEAD:
        return
    if t.tid == g.tgid and g.parent is tracer.group and len(g.tasks) <= 1:
        k.child_wait[tracer.group.tgid].notify()      # the zombie is reported as a child
        return
    status = g.exit_status if g.group_exiting else (t.exit_code & 0xFF) << 8
    side = tracer.group.ptrace
    side.exits.append((tracer, t.tid, g.pgid, status))
    k.child_wait[tracer.group.tgid].notify()


# --- stops ------------------------------------------------------------------------

def ptrace_stop(k, t, at: StopAt, exit_code: int, siginfo=None):
    """Stop tracee ``t`` at ``at``; its tracer's wait reports ``exit_code << 8 | 0x7f``."""
    tr = t.ptrace
    regs = t.ctx.regs
    if tr.forced_tf:
        regs.eflags &= ~P.X86_EFLAGS_TF
        tr.forced_tf = False
    t.state = TaskState.STOPPED
    t.stop = at
    tr.stopped = True
    tr.listening = False
    tr.exit_code = exit_code
    tr.reported = False
    tr.siginfo = siginfo or (SIGTRAP, exit_code, 0, t.tgid, 0)
    if at is not StopAt.SYSCALL_ENTRY and at is not StopAt.SYSCALL_EXIT:
        tr.sysinfo = (P.PTRACE_SYSCALL_INFO_NONE,)
    _notify_tracer(k, t, tr, CLD_TRAPPED, exit_code & 0x7F)


def _notify_tracer(k, t, tr, why, status):
    tg = tr.tracer.group
    k.child_wait[tg.tgid].notify()
    act = tg.handlers.actions[sigs.SIGCHLD]
    if act.handler not in (sigs.SIG_DFL, sigs.SIG_IGN):
        k.send_signal(tg, sigs.SIGCHLD, (sigs.SIGCHLD, why, 0, t.tgid, status))


def _sysgood(tr) -> int:
    return SIGTRAP | (P.SYSGOOD_BIT if tr.options & P.PTRACE_O_TRACESYSGOOD else 0)


def syscall(k, t):
    """A tracee's system call: the entry stop, the call, its events and the exit stop."""
    tr = t.ptrace
    if not tr.in_syscall:
        tr.in_syscall = True
        tr.emulated = tr.resume in (Resume.SYSEMU, Resume.SYSEMU_SINGLESTEP)
        if tr.resume in _ENTRY_STOPS:
            regs = t.ctx.regs
            regs.rax = _ENOSYS_RAX
            tr.eventmsg = 1                      # PTRACE_EVENTMSG_SYSCALL_ENTRY
            tr.sysinfo = (P.PTRACE_SYSCALL_INFO_ENTRY, regs.orig_rax,
                          (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9))
            ptrace_stop(k, t, StopAt.SYSCALL_ENTRY, _sysgood(tr))
            return
    _run_call(k, t)


def _run_call(k, t):
    tr = t.ptrace
    if tr.emulated:
        tr.in_syscall = False
        tr.emulated = False
        _syscall_exit(k, t, emulated=True)
        return
    if t.ctx.regs.orig_rax == _M64:      # the tracer cancelled the call: rax stays as it is
        pass
    else:
        tr.dispatching = True
        try:
            k.syscall(t)
        finally:
            tr.dispatching = False
        if t.state is TaskState.BLOCKED or t.state is TaskState.DEAD:
            return
        if t.ptrace is not tr:            # detached while it ran (the tracer's death)
            return
    tr.in_syscall = False
    if tr.event is not None:
        ev, msg = tr.event
        tr.event = None
        tr.eventmsg = msg
        if t.state is TaskState.RUNNABLE:
            ptrace_stop(k, t, StopAt.EVENT, SIGTRAP | ev << 8)
            return
    _after_event(k, t)


def _after_event(k, t):
    """What follows a call's event stop (or the call, without one): a traced vfork's
    wait for its child, then the syscall-exit stop."""
    tr = t.ptrace
    if tr is not None and tr.vfork_child is not None and t.state is TaskState.RUNNABLE:
        if tr.vfork_child.vfork_parent is t:
            k.park(t)                       # made runnable by the child's exec or exit
            t.stop = StopAt.VFORK
            return
        _vfork_done(k, t)
        return
    _syscall_exit(k, t)


def vfork_wait(k, t, child_group):
    """vfork(2) by a tracee: its PTRACE_EVENT_VFORK stop comes first, then the wait for
    the child (kernel/fork.c: ptrace_event_pid, then wait_for_vfork_done)."""
    t.ptrace.vfork_child = child_group


def _vfork_done(k, t):
    tr = t.ptrace
    child = tr.vfork_child
    tr.vfork_child = None
    if tr.options & P.PTRACE_O_TRACEVFORKDONE:
        tr.eventmsg = child.tgid
        ptrace_stop(k, t, StopAt.EVENT, SIGTRAP | P.PTRACE_EVENT_VFORK_DONE << 8)
        return
    _syscall_exit(k, t)


def _syscall_exit(k, t, emulated=False):
    tr = t.ptrace
    if tr is None or t.state is not TaskState.RUNNABLE:
        return
    if tr.resume is Resume.SYSCALL:
        rax = t.ctx.regs.rax
        val = rax - (1 << 64) if rax >> 63 else rax
        tr.eventmsg = 2                          # PTRACE_EVENTMSG_SYSCALL_EXIT
        tr.sysinfo = (P.PTRACE_SYSCALL_INFO_EXIT, val, 1 if -4095 <= val < 0 else 0)
        ptrace_stop(k, t, StopAt.SYSCALL_EXIT, _sysgood(tr))
    elif tr.resume is Resume.SINGLESTEP and not emulated:
        # stepping over a syscall instruction: the step ends after it
        k.force_signal(t, SIGTRAP, P.TRAP_BRKPT, 0)


def signal_stop(k, t, signo: int, info):
    """A signal about to be delivered to a tracee stops it first (signal-delivery-stop)."""
    ptrace_stop(k, t, StopAt.SIGNAL, signo, info)


def group_stop(k, t, signo: int):
    """A stop signal's default action: a group-stop (traced) or a job-control stop."""
    tr = t.ptrace
    if tr is not None:
        code = signo | (P.PTRACE_EVENT_STOP << 8 if tr.seized else 0)
        ptrace_stop(k, t, StopAt.GROUP, code, (signo, 0, 0, 0, 0))
        return
    g = t.group
    for tt in g.tasks:
        if tt.state is TaskState.RUNNABLE:
            tt.state = TaskState.STOPPED
            tt.stop = StopAt.JOB
            if tt in k.runq:
                k.runq.remove(tt)
    g.jobctl = ("stopped", signo)
    parent = g.parent
    if parent is not None:
        act = parent.handlers.actions[sigs.SIGCHLD]
        if not act.flags & 1:                       # SA_NOCLDSTOP
            k.send_signal(parent, sigs.SIGCHLD, (sigs.SIGCHLD, CLD_STOPPED, 0, g.tgid, signo))
        k.child_wait[parent.tgid].notify()


def sigcont(k, g):
    """SIGCONT was sent to ``g``: a job-control stop ends (ptrace stops do not)."""
    bits = sigs.bit(19) | sigs.bit(20) | sigs.bit(21) | sigs.bit(22)     # SIGSTOP TSTP TTIN TTOU
    g.pending &= ~bits
    woke = False
    for tt in g.tasks:
        tt.pending &= ~bits
        tr = tt.ptrace
        if tr is not None and tr.seized and tt.stop is StopAt.GROUP:
            if tr.listening:
                _retrap(k, tt)
            else:
                tr.notify = True
        if tt.state is TaskState.STOPPED and tt.stop is StopAt.JOB:
            tt.state = TaskState.RUNNABLE
            tt.stop = StopAt.PENDING
            k.runq.append(tt)
            woke = True
    if woke or (g.jobctl is not None and g.jobctl[0] == "stopped"):
        g.jobctl = ("continued", sigs.SIGCONT)
        if g.parent is not None:
            k.child_wait[g.parent.tgid].notify()


def resume(k, t):
    """``t`` runs again after a stop: carry on from where it stopped."""
    at = t.stop
    t.stop = None
    tr = t.ptrace
    if tr is not None:
        tr.stopped = False
        if at is StopAt.SYSCALL_ENTRY:
            _run_call(k, t)
        elif at is StopAt.EVENT:
            if tr.exit_args is not None:
                code = tr.exit_args[0]
                tr.exit_args = None
                k.exit_task(t, code)
                return
            _after_event(k, t)
        elif at is StopAt.VFORK:
            if tr.vfork_child is not None:
                _vfork_done(k, t)
        elif at is StopAt.SIGNAL:
            signo = tr.data
            tr.data = 0
            if signo:
                info = tr.siginfo
                if info is None or info[0] != signo:
                    info = (signo, 0, 0, tr.tracer.tgid, 0)     # SI_USER from the tracer
                k.signal_action(t, signo, info)
        if t.state is TaskState.RUNNABLE and t.ptrace is not None and t.ptrace.trap_stop:
            t.ptrace.trap_stop = False
            code = SIGTRAP | P.PTRACE_EVENT_STOP << 8
            ptrace_stop(k, t, StopAt.GROUP, code, (SIGTRAP, code, 0, 0, 0))
            return
        if t.state is TaskState.RUNNABLE and tr.restart_call:
            tr.restart_call = False
            regs = t.ctx.regs
            if regs.orig_rax != _M64 and regs.rax in _RESTARTS:
                regs.rax = regs.orig_rax      # back to the syscall instruction: the call runs again
                regs.rip -= 2
    if t.state is TaskState.RUNNABLE:
        k.ret_to_user(t)


def interrupt(k, t):
    """PTRACE_INTERRUPT: the tracee stops with PTRACE_EVENT_STOP as soon as it can."""
    tr = t.ptrace
    if tr.stopped:
        return
    if t.state is TaskState.STOPPED and t.stop is StopAt.JOB:
        sig = t.group.jobctl[1] if t.group.jobctl else sigs.SIGSTOP
        ptrace_stop(k, t, StopAt.GROUP, sig | P.PTRACE_EVENT_STOP << 8, (sig, 0, 0, 0, 0))
        return
    tr.trap_stop = True
    if t.state is TaskState.BLOCKED and t.restart:
        _cut_short(k, t)
        return
    if t.stop is None:
        t.stop = StopAt.PENDING


def _cut_short(k, t):
    """A tracee blocked in a system call must stop now (PTRACE_INTERRUPT, a group exit):
    the call ends with -ERESTARTSYS, as signal_wake_up makes it on Linux; the tracer
    sees its syscall-exit stop (under PTRACE_SYSCALL), then the stop; the call runs
    again when the tracee goes back to user mode (see :func:`resume`)."""
    k.unblock(t)
    regs = t.ctx.regs
    regs.rax = (-ERESTARTSYS) & _M64
    if k.tracing and t.in_syscall:
        t.in_syscall = False
        k.hooks.syscall_exit(t, regs.orig_rax, SysArgs.from_regs(regs), -ERESTARTSYS)
    tr = t.ptrace
    tr.in_syscall = False
    tr.emulated = False
    tr.restart_call = True
    t.stop = None
    _syscall_exit(k, t)
    if t.state is TaskState.RUNNABLE and tr.trap_stop:
        tr.trap_stop = False
        code = SIGTRAP | P.PTRACE_EVENT_STOP << 8
        ptrace_stop(k, t, StopAt.GROUP, code, (SIGTRAP, code, 0, 0, 0))


def resume_tracee(k, t, how: Resume, data: int):
    """The tracer's CONT, SYSCALL, SYSEMU, SINGLESTEP...: ``t`` runs on."""
    if data < 0 or data > NSIG:
        raise SyscallError(errno.EIO)
    tr = t.ptrace
    tr.resume = how
    tr.data = data
    regs = t.ctx.regs
    if how in _STEPS:
        if not regs.eflags & P.X86_EFLAGS_TF:
            regs.eflags |= P.X86_EFLAGS_TF
            tr.forced_tf = True
    elif tr.forced_tf:
        regs.eflags &= ~P.X86_EFLAGS_TF
        tr.forced_tf = False
    tr.stopped = False
    tr.listening = False
    if t.state is TaskState.STOPPED:
        t.state = TaskState.RUNNABLE
        k.runq.append(t)


def listen(k, t):
    """PTRACE_LISTEN: a tracee in group-stop stays stopped but leaves the ptrace stop;
    when the group-stop ends (SIGCONT) it traps again with PTRACE_EVENT_STOP."""
    tr = t.ptrace
    tr.stopped = False
    tr.listening = True
    if tr.notify:
        _retrap(k, t)


def _retrap(k, t):
    tr = t.ptrace
    tr.notify = False
    code = SIGTRAP | P.PTRACE_EVENT_STOP << 8
    ptrace_stop(k, t, StopAt.GROUP, code, (SIGTRAP, code, 0, 0, 0))


# --- events ---------------------------------------------------------------------

def clone_event(k, parent, child, flags: int):
    """clone(2) by a tracee: auto-attach the child and note the event, as TRACEFORK etc. ask."""
    tr = parent.ptrace
    if flags & CLONE_UNTRACED:
        return
    if flags & CLONE_VFORK:
        ev, opt = P.PTRACE_EVENT_VFORK, P.PTRACE_O_TRACEVFORK
    elif (flags & 0xFF) != sigs.SIGCHLD:
        ev, opt = P.PTRACE_EVENT_CLONE, P.PTRACE_O_TRACECLONE
    else:
        ev, opt = P.PTRACE_EVENT_FORK, P.PTRACE_O_TRACEFORK
    if not (tr.options & opt or flags & CLONE_PTRACE):
        return
    ctr = attach(k, tr.tracer, child, tr.options, tr.seized)
    if tr.seized:
        ctr.trap_stop = True
    else:
        child.pending |= sigs.bit(sigs.SIGSTOP)
        child.pending_info[sigs.SIGSTOP] = (sigs.SIGSTOP, 0, 0, 0, 0)
    child.stop = StopAt.PENDING
    if tr.options & opt:
        tr.event = (ev, child.tid)


def exec_event(k, t, old_tid: int):
    """execve(2) of a tracee succeeded: PTRACE_EVENT_EXEC, or the old-style SIGTRAP."""
    tr = t.ptrace
    if tr.options & P.PTRACE_O_TRACEEXEC:
        tr.event = (P.PTRACE_EVENT_EXEC, old_tid)
    elif not tr.seized:
        k.send_signal(t, SIGTRAP)


def exit_stop(k, t, code=None) -> bool:
    """A tracee with PTRACE_O_TRACEEXIT about to exit stops first with PTRACE_EVENT_EXIT
    (True) and exits when resumed; ``code`` is a thread's own exit(2) code, None when
    the whole group exits (exit_group, a fatal signal other than SIGKILL: every traced
    thread stops, as do_exit's ptrace_event does for each)."""
    tr = t.ptrace
    if tr is None or not tr.options & P.PTRACE_O_TRACEEXIT or tr.exit_args is not None:
        return False
    if t.state is TaskState.DEAD:
        return False
    if t.state is TaskState.BLOCKED:
        k.unblock(t)
    elif t.state is TaskState.STOPPED:
        t.state = TaskState.RUNNABLE
    if t in k.runq:
        k.runq.remove(t)
    t.restart = False
    tr.in_syscall = False
    tr.event = None
    tr.vfork_child = None
    tr.exit_args = (code,)
    tr.eventmsg = t.group.exit_status if code is None else (code & 0xFF) << 8
    ptrace_stop(k, t, StopAt.EVENT, SIGTRAP | P.PTRACE_EVENT_EXIT << 8)
    return True


# --- the tracer's wait ------------------------------------------------------------

def wait_tracees(k, t, pid: int, options: int, nowait: bool):
    """A report for the tracer's wait, (pid, status, code, si_status); or None;
    and whether it has any tracee that matched ``pid``."""
    side = t.group.ptrace
    if side is None:
        return None, False
    g = t.group
    found = False
    for tt in side.tracees:
        if not _matches(pid, tt.tid, tt.group.pgid, g.pgid):
            continue
        found = True
        tr = tt.ptrace
        if tr is not None and tr.stopped and not tr.reported:
            if not nowait:
                tr.reported = True
            return (tt.tid, (tr.exit_code << 8) | 0x7F, CLD_TRAPPED, tr.exit_code), True
    for i, (_, tid, pgid, status) in enumerate(side.exits):
        if not _matches(pid, tid, pgid, g.pgid):
            continue
        found = True
        if options & 4:                   # WEXITED
            if not nowait:
                del side.exits[i]
            code, st = (1, (status >> 8) & 0xFF) if not status & 0x7F else (2, status & 0x7F)
            return (tid, status, code, st), True
    return None, found


def _matches(pid, tid, pgid, own_pgid):
    if pid > 0:
        return tid == pid
    if pid == 0:
        return pgid == own_pgid
    if pid < -1:
        return pgid == -pid
    return True
