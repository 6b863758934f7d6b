"""The guest kernel: tasks, the scheduler, the run loop and system-call dispatch.

One :class:`Kernel` is one guest machine with one virtual CPU.  Its run loop
(:meth:`Kernel.run`) is proot's: pick a runnable task, switch to it on the
platform, handle the stop (system call, fault, trap), deliver pending
signals, and go again.  System-call handlers return a result or
:data:`~umlpy.kernel.restart.REGS_SET`, or raise
:class:`~umlpy.errors.SyscallError`; :meth:`Kernel._invoke` is the one place
that turns it into the guest's ``-errno``.  A handler that must wait raises
:class:`~umlpy.waiter.WouldBlock`; the task is parked on the queues and
deadline it names and the same system call is run again when it is woken
(its registers still hold the arguments; state it keeps across the wait is
in ``task.restart_block``).  A parked task holds its waiter registrations
in ``task.waits`` and drops all of them when it wakes for any reason.

Observers (the tracer) are :class:`~umlpy.kernel.hooks.KernelHooks`, always
present (a do-nothing default); ``Kernel.tracing`` says whether the per-call
hooks must run, the one test the hot path makes.
"""

import collections
import errno
import heapq
import os
import select
import time

from umlpy.abi.syscall_nr import NR
from umlpy.abi.sysargs import SysArgs
from umlpy.abi.wait import WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WUNTRACED
from umlpy.errors import PlatformError, SyscallError, UmlpyError
from umlpy.fs.perm import Caller
from umlpy.platform.base import StopKind
from umlpy.waiter import Queue, Timer, WouldBlock

from . import aspace, entry, ttyjob
from . import ptrace as kptrace
from . import signals as sigs
from .hooks import NO_HOOKS
from .futex import FutexTable
from .restart import REGS_SET, RestartBlock
from .task import Task, TaskState, ThreadGroup
from .vas import VasRegistry

_M64 = (1 << 64) - 1
#: How many slow-path system calls a task runs before others get the CPU.
TIME_SLICE_CALLS = 64
#: How long a task may run without trapping while others wait (seconds).
TIME_SLICE_S = 0.01


_RUNNABLE = TaskState.RUNNABLE
_SYSCALL, _FAULT, _SIGNAL = StopKind.SYSCALL, StopKind.FAULT, StopKind.SIGNAL
_INTERRUPT, _PREEMPT, _EXIT = StopKind.INTERRUPT, StopKind.PREEMPT, StopKind.EXIT

#: What Kernel._invoke returns for a handler that parked its task.
_BLOCKED = object()
_REGS_SET = REGS_SET


class Kernel:
    """A guest machine: its tasks, memory, files and clock."""

    def __init__(self, *, platform, frames, vfs_factory, table, hostname=b"umlpy",
                 memory_limit=1 << 30, clock=None, random_bytes=None, tracer=None):
        self.platform = platform
        self.frames = frames
        self.table = table
        self.hostname = hostname
        self.domainname = b"(none)"
        self.memory_limit = memory_limit
        self.clock = clock
        self.random_bytes = random_bytes or os.urandom
        #: The observers' hooks (a do-nothing default) and whether the per-call ones run.
        self.hooks = tracer if tracer is not None else NO_HOOKS
        self.tracing = self.hooks.active
        self.tasks: dict[int, Task] = {}
        self.groups: dict[int, ThreadGroup] = {}
        self._next_pid = 1
        self.runq: collections.deque[Task] = collections.deque()
        self.timers: list = []          # heap of (deadline_ns, seq, Timer)
        self._timer_seq = 0
        self.init: ThreadGroup | None = None
        self.current: Task | None = None
        self.boot_ns = time.monotonic_ns()
        self.vfs = vfs_factory(self)
        self.host_waiters: dict[int, Queue] = {}  # host fd -> waiters (console input)
        #: host fd -> callback, watched for as long as the machine runs (a console tty's
        #: input: ^C must reach the guest whatever its tasks are doing).
        self.host_watches: dict = {}
        self._watch_check = 0.0
        self.child_wait = collections.defaultdict(Queue)  # tgid -> waiters in wait4
        self.futexes = FutexTable()
        #: The network namespace (umlpy.net.NetStack), made by the first socket call;
        #: ``net_mode`` is --net's value ("loopback" or "none").
        self.net = None
        self.net_mode = "loopback"
        #: tid -> the task's second register set, for unprivilege() runs.
        self.vcpu_contexts: dict = {}
        self.hwcap, self.hwcap2, self.minsigstksz = _host_hwcaps()
        self._rows = table.rows          # the table's list, indexed by number (hot path)
        self._nrows = len(table.rows)
        self.need_resched = False
        self.timer = None                 # the time-slice alarm, made by run()
        self.page_cache = {}                  # id(inode) -> SharedObject of MAP_SHARED files
        #: Tasks an external debugger holds still (kernel.debug), and those of them ready to run.
        self.held: set = set()
        self.held_ready: set = set()
        self.vas = VasRegistry(self)          # first-class VASes and segments (kernel.vas)
        self.ipc = None                       # kernel.ipc.IpcNamespace, made by the first IPC call

    # --- pids ----------------------------------------------------------------
    def alloc_pid(self) -> int:
        pid = self._next_pid
        while pid in self.tasks or pid in self.groups:
            pid += 1
        if pid >= 4194304:
            pid = 2
            while pid in self.tasks or pid in self.groups:
                pid += 1
        self._next_pid = pid + 1
        return pid

    def last_pid(self) -> int:
        """The pid given out last (/proc/loadavg)."""
        return self._next_pid - 1

    def new_group(self, parent, creds, handlers, rlimits, pid: int = 0) -> ThreadGroup:
        tgid = pid or self.alloc_pid()
        g = ThreadGroup(tgid, parent, creds, handlers, rlimits)
        g.start_ns = self.now_ns()
        self.groups[tgid] = g
        if parent is not None:
            parent.children.append(g)
        return g

    def new_task(self, tid, group, ctx, mm, files, fs) -> Task:
        """A task of ``group`` running in ``mm`` (its home and active mm; None until exec)."""
        t = Task(tid, group, ctx, None, files, fs)
        t.kernel = self
        if mm is not None:
            aspace.attach_task(t, mm)
        group.tasks.append(t)
        self.tasks[tid] = t
        return t

    def caller(self, t: Task):
        """The fs layer's view of a task: credentials, cwd, root, umask."""
        c, fs = t.group.creds, t.fs
        # Positional (the order of Caller's fields): every path-taking call makes one.
        return Caller(t.group.tgid, c.uid, c.gid, c.euid, c.egid, c.groups, fs.cwd, fs.root, fs.umask)

    def yield_cpu(self, t: Task):
        self.need_resched = True

    # --- fast path -------------------------------------------------------------
    def update_fast(self, t: Task):
        """Tell the platform the constant answers of this task's identity calls."""
        ctx = t.ctx
        ctx.clear_fast_results()
        if t.ptrace is not None:         # a tracer sees every call of its tracee
            return
        hooks = self.hooks
        if self.tracing:
            ctx.enable_trace_ring(4096)
        c = t.group.creds
        parent = t.group.parent
        for nr, value in ((NR.getpid, t.group.tgid), (NR.gettid, t.tid),
                          (NR.getppid, parent.tgid if parent else 0),
                          (NR.getuid, c.uid), (NR.geteuid, c.euid), (NR.getgid, c.gid),
                          (NR.getegid, c.egid), (NR.getpgrp, t.group.pgid)):
            if hooks.fast_ok(int(nr)):
                ctx.set_fast_result(int(nr), value)

    # --- time ------------------------------------------------------------------
    def now_ns(self) -> int:
        """CLOCK_MONOTONIC of the guest."""
        if self.clock is not None:
            return self.clock.monotonic_ns()
        return time.monotonic_ns() - self.boot_ns + 10 ** 9

    def realtime_ns(self) -> int:
        if self.clock is not None:
            return self.clock.realtime_ns()
        return time.time_ns()

    def add_timer(self, deadline_ns: int, callback) -> Timer:
        """Call ``callback()`` once the guest clock reaches ``deadline_ns``, unless cancelled."""
        tm = Timer(deadline_ns, callback)
        self._timer_seq += 1
        heapq.heappush(self.timers, (deadline_ns, self._timer_seq, tm))
        return tm

    def _fire_timers(self):
        now = self.now_ns()
        timers = self.timers
        while timers and (timers[0][0] <= now or timers[0][2].cancelled):
            _, _, tm = heapq.heappop(timers)
            if not tm.cancelled:
                fn = tm.callback
                tm.cancel()
                fn()

    # --- scheduling -------------------------------------------------------------
    def others_waiting(self) -> bool:
        """Whether another task is runnable now, or will be as soon as a due timer fires,
        or watched host input (the console tty) is due a look."""
        return (bool(self.runq) or bool(self.timers and self.timers[0][0] <= self.now_ns())
                or bool(self.host_watches and time.monotonic() - self._watch_check >= 0.01))

    def make_runnable(self, t: Task):
        """Wake a parked task: it drops every waiter registration and goes on the run queue."""
        if t.state == TaskState.BLOCKED:
            t.state = TaskState.RUNNABLE
            self._drop_waits(t)
            self.runq.append(t)

    @staticmethod
    def _drop_waits(t: Task):
        waits = t.waits
        if waits:
            t.waits = ()
            for e in waits:
                e.unregister()

    def block(self, t: Task, wb: WouldBlock):
        """Park ``t`` on what ``wb`` names; its system call is run again when it wakes."""
        t.state = TaskState.BLOCKED
        t.restart = True

        def wake(_events=None):
            self.make_runnable(t)

        waits = []
        for q in wb.queues:
            if type(q) is tuple:
                waits.append(q[0].register(wake, q[1]))
            else:
                waits.append(q.register(wake))
        if wb.deadline is not None:
            waits.append(self.add_timer(wb.deadline, wake))
        t.waits = waits

    def unblock(self, t: Task):
        """End ``t``'s wait without waking it for its call: every registration dropped,
        its restart block cancelled, its call not run again; the caller decides what it
        does next (kernel.ptrace stops it)."""
        if t.state == TaskState.BLOCKED:
            t.state = TaskState.RUNNABLE
            self._drop_waits(t)
            t.restart = False
            rb = t.restart_block
            if rb is not None:
                t.restart_block = None
                rb.cancel()

    def park(self, t: Task):
        """Stop ``t`` without re-running its call: only make_runnable ends it (vfork's parent)."""
        t.state = TaskState.BLOCKED
        t.restart = False
        t.waits = ()

    def _idle(self):
        """Nothing is runnable: wait for a timer or host input."""
        self.platform.idle()            # e.g. start stubs for later forks, now that it is free
        hw = self.host_waiters
        for fd in [fd for fd, q in hw.items() if not len(q)]:
            del hw[fd]                   # nobody waits there any more
        fds = list(hw) + [fd for fd in self.host_watches if fd not in hw]
        while self.timers and self.timers[0][2].cancelled:
            heapq.heappop(self.timers)
        if not self.timers and not fds:
            raise UmlpyError("every guest task is blocked forever (deadlock)")
        timeout = None
        if self.timers:
            timeout = max(0.0, (self.timers[0][0] - self.now_ns()) / 1e9)
            if self.clock is not None and self.clock.virtual:
                self.clock.advance_to(self.timers[0][0])
                timeout = 0.0
        if fds:
            r, _, _ = select.select(fds, [], [], timeout)
            for fd in r:
                self._host_ready(fd)
        elif timeout:
            time.sleep(timeout)
        self._fire_timers()

    def _host_ready(self, fd: int):
        cb = self.host_watches.get(fd)
        if cb is not None:
            cb()
        q = self.host_waiters.pop(fd, None)
        if q is not None:
            q.notify()

    def watch_host_fd(self, fd: int, callback):
        """Call ``callback()`` whenever host fd ``fd`` is readable, while the guest runs
        (checked when the CPU idles and between time slices)."""
        self.host_watches[fd] = callback

    def _check_watches(self):
        """Host input for a watched fd while tasks run: at most every 10 ms."""
        now = time.monotonic()
        if now - self._watch_check < 0.01:
            return
        self._watch_check = now
        r, _, _ = select.select(list(self.host_watches), [], [], 0)
        for fd in r:
            self._host_ready(fd)

    def wait_host_fd(self, fd: int) -> Queue:
        """The queue notified when host fd ``fd`` (console input) is readable."""
        wq = self.host_waiters.get(fd)
        if wq is None:
            wq = self.host_waiters[fd] = Queue()
        return wq

    def run(self) -> int:
        """Run the guest until its init process exits; return init's wait status."""
        self.timer = self.platform.slice_timer()
        try:
            return self._run()
        finally:
            if self.timer is not None:
                self.timer.close()
                self.timer = None

    def _run(self) -> int:
        while not self.init.zombie:
            if self.timers:
                self._fire_timers()
            if not self.runq:
                self._idle()
                continue
            if self.host_watches:
                self._check_watches()
            t = self.runq.popleft()
            if t.state != TaskState.RUNNABLE:
                continue
            if self.held and t in self.held:
                self.held_ready.add(t)          # a debugger keeps it still (kernel.debug)
                continue
            self.current = t
            self._run_task(t)
            if self.timer is not None:
                self.timer.disarm()
            if t.state == TaskState.RUNNABLE:
                self.runq.append(t)
        self.current = None
        return self.init.exit_status

    def _run_task(self, t: Task):
        if t.trace_resume is not None:
            nr, args = t.trace_resume
            t.trace_resume = None
            rax = t.ctx.regs.rax
            self.hooks.syscall_exit(t, nr, args, rax - (1 << 64) if rax >> 63 else rax)
        if t.restart:
            t.restart = False
            self.syscall(t)
            if t.state != TaskState.RUNNABLE:
                return
            self.ret_to_user(t)
        if t.stop is not None:          # back from a stop (ptrace, job control)
            kptrace.resume(self, t)
            if t.state != TaskState.RUNNABLE:
                return
        elif t.pending or t.group.pending:
            # A signal ended its wait, or came while it waited for the CPU: take it
            # before running user code (else it waits for the task's next system call).
            self.ret_to_user(t)
            if t.state != TaskState.RUNNABLE:
                return
        calls = 0
        ctx = t.ctx
        tracing = self.tracing
        hooks = self.hooks
        group = t.group
        timer = self.timer
        if timer is not None:
            timer.disarm()
        # The hot loop: enum members are compared by identity through module
        # globals (an Enum class attribute lookup costs ~0.2 us each).
        runq = self.runq
        # A deterministic run (virtual clock) ends slices by call count only: the wall-clock
        # alarm then serves just to stop a task that never traps.  Its sleepers' deadlines
        # are virtual, so they need no alarm either.
        wall = self.clock is None or not self.clock.virtual
        timers = self.timers if wall else ()
        slice_timer = timer if wall else None
        watches = self.host_watches
        while t.state is _RUNNABLE:
            if (runq or timers or watches) and timer is not None and not timer.armed:
                # Others wait, now or at a deadline: preempt a task that never traps.
                timer.arm(TIME_SLICE_S)
            stop = ctx.switch(t.mm.host)
            if tracing:
                hooks.drain_fast(t)
            kind = stop.kind
            if kind is _SYSCALL:
                self.syscall(t)
                calls += 1
            elif kind is _FAULT:
                self.fault(t, stop)
            elif kind is _SIGNAL:
                self.trap(t, stop)
            elif kind is _INTERRUPT:
                # A host signal ran its Python handler.  The time slice is over:
                # stop the guest; its SIGSTOP comes back as PREEMPT.
                if timer is not None and timer.expired():
                    t.mm.host.preempt()
                continue
            elif kind is _PREEMPT:
                return
            elif kind is _EXIT:
                self.stub_died(t, stop)
                return
            if t.state is _RUNNABLE and (t.pending or group.pending or t.ignored_signals):
                self.ret_to_user(t)
            if (calls >= TIME_SLICE_CALLS or self.need_resched
                    or (slice_timer is not None and slice_timer.expired())) and self.others_waiting():
                self.need_resched = False
                return

    def ret_to_user(self, t: Task):
        if t.ignored_signals:
            for signo, info in t.ignored_signals:
                self.hooks.signal(t, signo, info)
            t.ignored_signals.clear()
        if (t.pending | t.group.pending) & ~t.sigmask or (t.pending | t.group.pending) & sigs.UNBLOCKABLE:
            self.deliver_signals(t)

    # --- system calls ------------------------------------------------------------
    def syscall(self, t: Task):
        """Dispatch the system call ``t`` stopped at and store its result."""
        ctx = t.ctx
        if ctx.entry:                   # int $0x80 or a vsyscall-page call (kernel/entry.py)
            entry.syscall(self, t)
            return
        tr = t.ptrace
        if tr is not None and not tr.dispatching:      # a tracee: kernel.ptrace runs its stops
            kptrace.syscall(self, t)
            return
        nr, raw = ctx.syscall_frame()
        self.dispatch(t, nr, raw)

    def dispatch(self, t: Task, nr: int, raw):
        """Run x86-64 system call ``nr`` with the raw argument registers ``raw`` for ``t``
        and store its result in rax (kernel/entry.py comes here for int $0x80 too)."""
        ctx = t.ctx
        row = self._rows[nr] if nr < self._nrows else None
        if row is None:
            row = self.table.lookup(nr)
        args = SysArgs(raw)
        if self.clock is not None:
            self.clock.tick()
        if not self.tracing:
            ret = self._invoke(t, row, args)
            if ret is not _BLOCKED and ret is not _REGS_SET:
                ctx.regs.rax = ret & _M64
            return
        hooks = self.hooks
        injected = hooks.syscall_enter(t, nr, args, restarted=t.in_syscall)
        t.in_syscall = False
        ret = injected if injected is not None else self._invoke(t, row, args)
        if ret is _BLOCKED:
            t.in_syscall = True
            hooks.syscall_blocked(t, nr, args)
            return
        if ret is not _REGS_SET:
            ctx.regs.rax = ret & _M64
        elif t.state == TaskState.BLOCKED:      # vfork: the parent waits; its result is in rax
            t.trace_resume = (nr, args)
            hooks.syscall_blocked(t, nr, args)
            return
        hooks.syscall_exit(t, nr, args, None if ret is _REGS_SET else ret)

    def _invoke(self, t: Task, row, args):
        """Run a handler: its result, REGS_SET, -errno, or _BLOCKED when the task was parked.

        The one place where an errno becomes the guest's negative result.  A
        call that completes (not parked) drops its restart block.
        """
        try:
            ret = row.handler(t, args)
            if ret is None:
                raise TypeError("handler returned None (return a result or REGS_SET)")
        except SyscallError as e:
            ret = -e.errno
        except WouldBlock as wb:
            if (t.pending | t.group.pending) & ~t.sigmask:
                # A signal is already pending: the sleep ends at once, as Linux's
                # signal_pending() check before schedule() makes it (EINTR or a restart).
                rb = t.restart_block or _PLAIN_WAIT
                t.restart_block = None
                rb.cancel()
                return self._invoke(t, _INTERRUPTED, rb)
            self.block(t, wb)
            return _BLOCKED
        except Exception as e:     # a bug of ours: the call fails, the guest goes on
            ret = -self.internal_error(t, row, e).errno
        if t.restart_block is not None:
            t.restart_block = None
        return ret

    def internal_error(self, t: Task, row, exc) -> SyscallError:
        """A handler raised something other than SyscallError: a bug in umlpy.

        With UMLPY_DEBUG=1 (the test suite sets it) the exception propagates;
        otherwise the call fails with EIO and one line says so.
        """
        if os.environ.get("UMLPY_DEBUG") == "1" or isinstance(exc, (PlatformError, MemoryError)):
            raise exc
        self.warn("internal error in %s() of task %d: %s: %s (the call fails with EIO)"
                  % (row.name, t.tid, type(exc).__name__, exc))
        return SyscallError(errno.EIO)

    # --- faults and traps ----------------------------------------------------------
    def fault(self, t: Task, stop):
        try:
            res = t.mm.handle_fault(stop.addr, stop.is_write)
        except SyscallError:
            res = (sigs.SIGKILL, 0)    # out of memory
            self.warn("out of guest memory: killing process %d" % t.tgid)
        if res is None:
            return
        # A fault the guest will hear of (a signal; PTRACE_FAULTINFO after it): now
        # the access kind is worth the CPU's word (one more round trip, here only).
        is_write = t.ctx.fault_access(t.mm.host, stop)
        t.last_fault = (is_write if is_write >= 0 else 0, stop.addr, stop.trap_no or 14)
        signo, code = res
        if signo == sigs.SIGKILL:
            self.warn("out of guest memory: killing process %d" % t.tgid)
        self.force_signal(t, signo, code, stop.addr)

    def trap(self, t: Task, stop):
        self.force_signal(t, stop.signo, stop.code, stop.addr)

    def stub_died(self, t: Task, stop):
        """The task's stub died or failed (a host mapping batch, a ptrace request):
        that guest process is killed (SIGKILL), the others go on."""
        status = stop.status
        if stop.err:
            why = "failed (%s)" % os.strerror(stop.err)
        else:
            why = ("was killed by host signal %d" % (status & 0x7F)) if status & 0x7F else "exited"
        self.warn("the host process of task %d %s; killing the guest process" % (t.tid, why))
        self.exit_group(t, sigs.SIGKILL, signaled=True)

    def warn(self, msg: str):
        os.write(2, b"umlpy: " + msg.encode() + b"\n")

    # --- signals -----------------------------------------------------------------
    def force_signal(self, t: Task, signo: int, code: int = 0, addr: int = 0):
        """A synchronous signal (fault, trap): cannot be blocked or ignored usefully."""
        act = t.group.handlers.actions[signo]
        if t.sigmask & sigs.bit(signo) or act.handler == sigs.SIG_IGN:
            # Linux unblocks and resets to SIG_DFL in force_sig_info
            t.sigmask &= ~sigs.bit(signo)
            act.handler = sigs.SIG_DFL
        t.pending |= sigs.bit(signo)
        t.pending_info[signo] = (signo, code, addr, 0, 0)
        self.deliver_signals(t)

    def send_signal(self, target, signo: int, info=None):
        """Send to a ThreadGroup (process-directed) or a Task (thread-directed)."""
        if signo == 0:
            return
        if isinstance(target, ThreadGroup):
            g = target
            if g.zombie:
                return
            g.pending |= sigs.bit(signo)
            g.pending_info[signo] = info or (signo, 0, 0, 0, 0)
            tasks = g.tasks
        else:
            g = target.group
            target.pending |= sigs.bit(signo)
            target.pending_info[signo] = info or (signo, 0, 0, 0, 0)
            tasks = [target]
        if signo == sigs.SIGKILL:
            self.exit_group(tasks[0] if tasks else None, sigs.SIGKILL, signaled=True, group=g)
            return
        if signo == sigs.SIGCONT:
            kptrace.sigcont(self, g)
        act = g.handlers.actions[signo]
        traced = bool(tasks) and tasks[0].ptrace is not None   # a tracer sees ignored signals
        # A blocked signal stays pending even when ignored (Linux's sig_ignored): signalfd
        # readers and sigwait callers take it from there.
        blocked = bool(tasks) and bool(tasks[0].sigmask & sigs.bit(signo))
        if not traced and not blocked and (act.handler == sigs.SIG_IGN or (
                act.handler == sigs.SIG_DFL and sigs.default_action(signo) == sigs.Default.IGN)):
            g.pending &= ~sigs.bit(signo)
            for tt in tasks:
                tt.pending &= ~sigs.bit(signo)
            if self.tracing and tasks:
                # A tracer sees ignored signals too (as ptrace reports them, when the
                # task next returns to user mode), then they vanish.
                tasks[0].ignored_signals.append((signo, info or (signo, 0, 0, 0, 0)))
            return
        g.sigwaitq.notify()      # Linux's signalfd_notify
        for tt in tasks:
            if tt.state == TaskState.BLOCKED and not (tt.sigmask & sigs.bit(signo)):
                self.interrupt(tt)
                break

    def interrupt(self, t: Task):
        """Wake a blocked task so it can take a signal: its call ends as its restart
        block says (-EINTR by default), with every registration dropped."""
        if t.state != TaskState.BLOCKED:
            return
        t.state = TaskState.RUNNABLE
        self._drop_waits(t)
        t.restart = False
        rb = t.restart_block or _PLAIN_WAIT
        t.restart_block = None
        rb.cancel()
        ret = self._invoke(t, _INTERRUPTED, rb)
        t.ctx.regs.rax = ret & _M64
        if self.tracing and t.in_syscall:
            t.in_syscall = False
            self.hooks.syscall_exit(t, t.ctx.regs.orig_rax, SysArgs.from_regs(t.ctx.regs), ret)
        self.runq.append(t)

    def deliver_signals(self, t: Task):
        g = t.group
        while t.state == TaskState.RUNNABLE:
            pending = (t.pending | g.pending) & (~t.sigmask | sigs.UNBLOCKABLE)
            if not pending:
                return
            signo = sigs.lowest(pending)
            if t.pending & sigs.bit(signo):
                t.pending &= ~sigs.bit(signo)
                info = t.pending_info.pop(signo, (signo, 0, 0, 0, 0))
            else:
                g.pending &= ~sigs.bit(signo)
                info = g.pending_info.pop(signo, (signo, 0, 0, 0, 0))
            if signo != sigs.SIGKILL:
                new = self.hooks.signal_stop(t, signo, info)     # an external debugger's stop
                if t.state != TaskState.RUNNABLE:
                    return
                if new != signo:
                    if not new:
                        continue
                    signo, info = new, (new, 0, 0, 0, 0)
            if t.ptrace is not None and signo != sigs.SIGKILL:
                kptrace.signal_stop(self, t, signo, info)     # the tracer decides
                return
            self.signal_action(t, signo, info)

    def signal_action(self, t: Task, signo: int, info):
        """Deliver one dequeued signal: ignore it, take its default action, or run its handler."""
        from .sigframe import setup_frame
        act = t.group.handlers.actions[signo]
        self.hooks.signal(t, signo, info)
        if act.handler == sigs.SIG_IGN and signo not in (sigs.SIGKILL, sigs.SIGSTOP):
            return
        if act.handler == sigs.SIG_DFL or signo in (sigs.SIGKILL, sigs.SIGSTOP):
            d = sigs.default_action(signo)
            if d == sigs.Default.STOP:
                kptrace.group_stop(self, t, signo)
                return
            if d in (sigs.Default.IGN, sigs.Default.CONT):
                return
            self.exit_group(t, signo, signaled=True, core=(d == sigs.Default.CORE))
            return
        setup_frame(self, t, signo, act, info)

    # --- exit and wait -------------------------------------------------------------
    def exit_group(self, t, code: int, signaled=False, core=False, group=None):
        """End every task of a thread group (exit_group, fatal signal)."""
        g = group or t.group
        if g.zombie:
            return
        if not g.group_exiting:          # the first exit's status stands (a later SIGKILL keeps it)
            g.group_exiting = True
            g.exit_status = (code & 0x7F) if signaled else ((code & 0xFF) << 8)
        kill = signaled and code == sigs.SIGKILL
        for tt in list(g.tasks):
            # Traced threads stop with PTRACE_EVENT_EXIT first (never for SIGKILL).
            if tt.ptrace is not None and not kill and kptrace.exit_stop(self, tt):
                continue
            self.exit_task(tt)

    def exit_task(self, t: Task, code: int | None = None):
        """One task ends; the last one of a group makes the group a zombie."""
        if t.state == TaskState.DEAD:
            return
        g = t.group
        if code is not None:
            t.exit_code = code
        if code is not None and len(g.tasks) == 1 and not g.group_exiting:
            g.exit_status = (code & 0xFF) << 8
        t.state = TaskState.DEAD
        self.hooks.task_exit(t)
        if t.ptrace is not None:
            kptrace.task_exit(self, t)
        if t.group.ptrace is not None:
            kptrace.tracer_gone(self, t)
        self._drop_waits(t)
        rb = t.restart_block
        if rb is not None:
            t.restart_block = None
            rb.cancel()
        mm = t.home_mm
        if t.clear_child_tid and mm is not None and mm.users + mm.holders > 2:
            try:
                mm.write(t.clear_child_tid, b"\0\0\0\0")
                self.futex_wake(mm, t.clear_child_tid, 1)
            except SyscallError:
                pass
        if g.vfork_parent is not None and g.tasks and g.tasks[0] is t:
            self.make_runnable(g.vfork_parent)
            g.vfork_parent = None
        aspace.detach_task(t)
        self.vcpu_contexts.pop(t.tid, None)
        t.files.users -= 1
        if t.files.users == 0:
            t.files.close_all()
        g.tasks.remove(t)
        del self.tasks[t.tid]
        if t in self.runq:
            self.runq.remove(t)
        if not g.tasks:
            self._group_dead(g)

    def _group_dead(self, g: ThreadGroup):
        g.zombie = True
        if self.ipc is not None:
            self.ipc.process_exit(g)       # SEM_UNDO
        if g.exitq is not None:
            g.exitq.notify()               # pidfds: the process has exited
        if g.tty is not None:
            ttyjob.session_leader_exit(self, g)
        self.hooks.group_exit(g)
        # Orphans go to init.
        for child in g.children:
            child.parent = self.init if g is not self.init else None
            if child.parent is not None:
                self.init.children.append(child)
                for ct in child.tasks:
                    self.update_fast(ct)
                if child.zombie:
                    self._notify_parent(child)
        g.children = []
        if g is self.init:
            return
        self._notify_parent(g)

    def _notify_parent(self, g: ThreadGroup):
        parent = g.parent
        if parent is None:
            self._reap(g)
            return
        act = parent.handlers.actions[sigs.SIGCHLD]
        if g.exit_signal == sigs.SIGCHLD and (act.handler == sigs.SIG_IGN or act.flags & 0x2):  # SA_NOCLDWAIT
            self._reap(g)
            self.child_wait[parent.tgid].notify()
            return
        # The parent's wait wakes first and finds the zombie; the signal comes after it
        # returns (Linux: __wake_up_parent, then the wait's recheck wins over
        # signal_pending), instead of interrupting the wait with EINTR.
        self.child_wait[parent.tgid].notify()
        if g.exit_signal:
            st = g.exit_status
            code, status = (1, (st >> 8) & 0xFF) if not st & 0x7F else (2, st & 0x7F)   # CLD_EXITED/KILLED
            self.send_signal(parent, g.exit_signal, (g.exit_signal, code, 0, g.tgid, status))

    def _reap(self, g: ThreadGroup):
        g.reaped = True
        if g.exitq is not None:
            g.exitq.notify()               # pidfds: its pid is gone (POLLHUP)
        if g.parent is not None and g in g.parent.children:
            g.parent.children.remove(g)
        self.groups.pop(g.tgid, None)
        self.child_wait.pop(g.tgid, None)

    def wait4(self, t: Task, pid: int, options: int):
        """Find a child or tracee to report, as (pid, status, si_code, si_status), or None
        with WNOHANG; raise to block.  ``options`` has WEXITED for wait4(2)."""
        g = t.group
        nowait = bool(options & WNOWAIT)
        cands = []
        for c in g.children:
            if pid > 0 and c.tgid != pid:
                continue
            if pid == 0 and c.pgid != g.pgid:
                continue
            if pid < -1 and c.pgid != -pid:
                continue
            cands.append(c)
        traced = False
        if g.ptrace is not None:
            res, traced = kptrace.wait_tracees(self, t, pid, options, nowait)
            if res is not None:
                return res
        if not cands and not traced:
            raise SyscallError(errno.ECHILD)
        for c in cands:
            if c.zombie:
                if not options & WEXITED:
                    continue
                if not nowait:
                    self._reap(c)
                st = c.exit_status
                code, sst = (1, (st >> 8) & 0xFF) if not st & 0x7F else (2, st & 0x7F)
                return c.tgid, st, code, sst
            jc = c.jobctl
            if jc is not None:
                if jc[0] == "stopped" and options & WUNTRACED:
                    if not nowait:
                        c.jobctl = ("reported", jc[1])
                    return c.tgid, (jc[1] << 8) | 0x7F, kptrace.CLD_STOPPED, jc[1]
                if jc[0] == "continued" and options & WCONTINUED:
                    if not nowait:
                        c.jobctl = None
                    return c.tgid, 0xFFFF, kptrace.CLD_CONTINUED, sigs.SIGCONT
        if options & WNOHANG:
            return None
        raise WouldBlock(self.child_wait[g.tgid])

    # --- futex ------------------------------------------------------------------------
    def futex_wake(self, mm, addr: int, n: int) -> int:
        """Wake up to ``n`` waiters of the futex word at ``addr`` (CLONE_CHILD_CLEARTID)."""
        return self.futexes.wake(mm, addr, n)

    def shutdown(self):
        """Kill every guest task and release the host side."""
        for t in list(self.tasks.values()):
            t.state = TaskState.DEAD
        self.platform.close()


def _interrupted(t, rb):
    """A restart block's result for an interrupted call (run through Kernel._invoke)."""
    return rb.interrupted()


class _InterruptRow:
    __slots__ = ()
    name = "interrupted call"
    handler = staticmethod(_interrupted)


_INTERRUPTED = _InterruptRow()
#: The restart block of a wait that keeps no state of its own: interrupted, it gives EINTR.
_PLAIN_WAIT = RestartBlock()


def _host_hwcaps():
    """AT_HWCAP, AT_HWCAP2 and AT_MINSIGSTKSZ of the host (the guest runs on the same CPU)."""
    hw, hw2, minsig = 0, 0, 2048
    try:
        with open("/proc/self/auxv", "rb") as f:
            data = f.read()
        for i in range(0, len(data) - 15, 16):
            k = int.from_bytes(data[i:i + 8], "little")
            v = int.from_bytes(data[i + 8:i + 16], "little")
            if k == 16:
                hw = v
            elif k == 26:
                hw2 = v
            elif k == 51:
                minsig = v
    except OSError:
        pass
    return hw, hw2, minsig
