"""Tasks (threads) and thread groups (processes) of the guest kernel.

A :class:`Task` is a guest register set (a platform Context) plus a reference
to its current address space (:class:`umlpy.mm.mm.MM`), its fd table and its
filesystem context.  A :class:`ThreadGroup` is what Linux calls a process:
pid (tgid), parent, children, signal actions, exit status.

Invariants:
- ``task.group.tasks`` holds every live task of the group; the group becomes
  a zombie when the last one exits, and is reaped by its parent's wait.
- Address-space references are counted on the MM by :mod:`umlpy.kernel.aspace`:
  ``mm.users`` counts tasks running in it, ``mm.holders`` everything else
  that keeps it (a task's home mm, fds that name it, a process's contexts).
"""

import enum

from umlpy.abi.record import factory, record
from umlpy.abi.signal import NSIG
from umlpy.waiter import Queue


class TaskState(enum.IntEnum):
    RUNNABLE = 1
    BLOCKED = 2
    STOPPED = 3
    DEAD = 4


@record(slots=True)
class Creds:
    """Credentials (the guest's first process runs as root)."""

    uid: int = 0
    euid: int = 0
    suid: int = 0
    fsuid: int = 0
    gid: int = 0
    egid: int = 0
    sgid: int = 0
    fsgid: int = 0
    groups: tuple = ()

    def copy(self) -> "Creds":
        return Creds(self.uid, self.euid, self.suid, self.fsuid,
                     self.gid, self.egid, self.sgid, self.fsgid, self.groups)


@record(slots=True)
class SigAction:
    handler: int = 0      # SIG_DFL
    flags: int = 0
    restorer: int = 0
    mask: int = 0


class SignalHandlers:
    """The signal actions of a thread group (shared with CLONE_SIGHAND)."""

    __slots__ = ("actions",)

    def __init__(self, actions=None):
        self.actions = actions or [SigAction() for _ in range(NSIG + 1)]

    def copy(self) -> "SignalHandlers":
        return SignalHandlers([SigAction(a.handler, a.flags, a.restorer, a.mask) for a in self.actions])

    def reset_for_exec(self):
        """execve resets caught signals to SIG_DFL; ignored ones stay ignored."""
        for a in self.actions:
            if a.handler not in (0, 1):
                a.handler, a.flags, a.restorer, a.mask = 0, 0, 0, 0


@record(slots=True)
class Rlimit:
    cur: int
    max: int


RLIM_INFINITY = (1 << 64) - 1


def default_rlimits(memory_limit: int) -> dict:
    from umlpy.abi.memory import STACK_SIZE
    return {
        0: Rlimit(RLIM_INFINITY, RLIM_INFINITY),   # CPU
        1: Rlimit(RLIM_INFINITY, RLIM_INFINITY),   # FSIZE
        2: Rlimit(RLIM_INFINITY, RLIM_INFINITY),   # DATA
        3: Rlimit(STACK_SIZE, RLIM_INFINITY),      # STACK
        4: Rlimit(0, RLIM_INFINITY),               # CORE
        5: Rlimit(RLIM_INFINITY, RLIM_INFINITY),   # RSS
        6: Rlimit(4096, 4096),                     # NPROC
        7: Rlimit(1024, 4096),                     # NOFILE
        8: Rlimit(8 << 20, 8 << 20),               # MEMLOCK
        9: Rlimit(memory_limit, memory_limit),     # AS
        10: Rlimit(RLIM_INFINITY, RLIM_INFINITY),  # LOCKS
        11: Rlimit(0, 0),                          # SIGPENDING (filled by kernel)
        12: Rlimit(819200, 819200),                # MSGQUEUE
        13: Rlimit(0, 0),                          # NICE
        14: Rlimit(0, 0),                          # RTPRIO
        15: Rlimit(RLIM_INFINITY, RLIM_INFINITY),  # RTTIME
    }


class ThreadGroup:
    """A guest process."""

    __slots__ = ("tgid", "parent", "children", "tasks", "creds", "handlers", "rlimits", "pgid", "sid",
                 "exe", "image", "cmdline", "zombie", "reaped", "exit_status", "exit_signal",
                 "group_exiting", "pending", "pending_info", "vfork_parent", "umask", "times", "ptrace",
                 "jobctl", "spaces", "tty", "sigwaitq",
                 "environ", "start_ns", "nice", "sched", "exitq", "caps")

    def __init__(self, tgid: int, parent: "ThreadGroup | None", creds: Creds,
                 handlers: SignalHandlers, rlimits: dict):
        self.tgid = tgid
        self.parent = parent
        self.children: list[ThreadGroup] = []
        self.tasks: list[Task] = []
        self.creds = creds
        self.handlers = handlers
        self.rlimits = rlimits
        self.pgid = tgid
        self.sid = tgid
        self.exe = "/"              # guest path of the program
        self.image = None           # (path, ELF bytes, load bias) of the program, for --stack
        self.cmdline = b""
        self.zombie = False
        self.reaped = False
        self.exit_status = 0       # wait(2) status word
        self.exit_signal = 17      # SIGCHLD to the parent at exit
        self.group_exiting = False
        self.pending = 0           # process-directed pending signals (bitmask)
        self.pending_info: dict = {}
        self.vfork_parent: "Task | None" = None
        self.umask = 0o022
        self.times = [0, 0]        # utime/stime of exited children (ticks)
        self.ptrace = None         # kernel.ptrace.TracerSide when a thread of it traces others
        self.jobctl = None         # ("stopped"|"reported"|"continued", signo): job control for wait
        self.spaces = None         # kernel.aspace.ProcessSpaces: new_as contexts, VAS attachments
        #: The controlling terminal (an fs.tty.Tty) of the process's session, kept by the
        #: tty layer (TIOCSCTTY, TIOCNOTTY); fork copies it, setsid drops it.
        self.tty = None
        #: Notified whenever a signal becomes pending to the group or one of its threads
        #: (signalfd's readiness; see Kernel.send_signal).
        self.sigwaitq = Queue()
        self.environ = b""          # the environment exec gave it (/proc/PID/environ)
        self.start_ns = 0           # guest CLOCK_MONOTONIC when it was made (/proc/PID/stat)
        self.nice = 0               # setpriority(PRIO_PROCESS)
        self.sched = (0, 0)         # (policy, rt priority): sched_setscheduler
        self.exitq = None           # a Queue notified at its exit and reaping, once a pidfd names it
        self.caps = None            # (euid, (effective, permitted, inheritable)) after capset

    @property
    def leader(self) -> "Task | None":
        return self.tasks[0] if self.tasks else None

    def __repr__(self):
        return "<ThreadGroup %d%s>" % (self.tgid, " zombie" if self.zombie else "")


class Task:
    """A guest thread.

    ``mm`` is the task's *active* address space (Linux's ``active_mm``): the
    one its registers run in and its system calls act on.  ``home_mm`` is
    the process's own (Linux's ``mm``), the one it returns to.  They differ
    only while the task runs elsewhere (switch_as, vas_switch, switch_mm,
    PTRACE_SWITCH_MM, mm_indirect); both change only through
    :func:`umlpy.kernel.aspace.switch_mm` and exec.
    """

    __slots__ = ("tid", "group", "ctx", "mm", "home_mm", "files", "fs", "state", "sigmask",
                 "saved_sigmask", "pending", "pending_info", "clear_child_tid", "robust_list", "rseq",
                 "comm", "waits", "restart", "restart_block", "exit_code", "sigaltstack", "last_fault",
                 "sigframes", "in_syscall", "ignored_signals", "trace_resume", "kernel", "ptrace", "stop")

    def __init__(self, tid: int, group: ThreadGroup, ctx, mm, files, fs):
        self.tid = tid
        self.group = group
        self.ctx = ctx
        self.mm = mm
        self.home_mm = mm
        self.files = files
        self.fs = fs
        self.state = TaskState.RUNNABLE
        self.sigmask = 0
        #: The mask to restore after a temporary one (rt_sigsuspend, ppoll, pselect6)
        #: ends: at the next signal delivery, or when the call returns.  It is Linux's
        #: task_struct field, not per-call state: it outlives the interrupted call.
        self.saved_sigmask = None
        self.pending = 0           # thread-directed pending signals (bitmask)
        self.pending_info: dict = {}
        self.clear_child_tid = 0
        self.robust_list = (0, 0)
        self.rseq = None           # (addr, len, sig) when registered
        self.comm = b""
        self.waits = ()            # the waiter entries and timer of a BLOCKED task
        self.restart = False       # re-run the system call when woken
        self.restart_block = None  # the blocked call's own state (kernel.restart.RestartBlock)
        self.exit_code = 0
        self.sigaltstack = (0, 2, 0)  # ss_sp, ss_flags (SS_DISABLE), ss_size
        self.last_fault = (0, 0, 0)   # is_write, addr, trap_no
        self.sigframes = []           # saved FPU states of the signal frames in use
        self.in_syscall = False       # a traced syscall is parked (blocked) mid-way
        self.ignored_signals = []     # (signo, info) discarded, still to be shown to a tracer
        self.trace_resume = None      # (nr, args) of a call whose result the tracer still owes
        self.kernel = None
        self.ptrace = None            # kernel.ptrace.Tracee while traced
        self.stop = None              # kernel.ptrace.StopAt: where a STOPPED task carries on

    @property
    def tgid(self) -> int:
        return self.group.tgid

    @property
    def creds(self) -> Creds:
        return self.group.creds

    def __repr__(self):
        return "<Task %d/%d %s>" % (self.group.tgid, self.tid, self.state.name)


@record(slots=True)
class FsContext:
    """cwd and root of a task (shared with CLONE_FS)."""

    cwd: object = None        # a VFS directory handle
    cwd_path: bytes = b"/"
    root: object = None
    umask: int = 0o022
    users: int = 1
    extra: dict = factory(dict)

    def copy(self) -> "FsContext":
        return FsContext(self.cwd, self.cwd_path, self.root, self.umask)
