"""The guest kernel: tasks, the scheduler, the run loop and system-call dispatch.

One :class:`Kernel` is one guest machine with one virtual CPU.  Its run loop
(:meth:`Kernel.run`) is proot's: pick a runnable task, switch to it on the
platform, handle the stop (system call, fault, trap), deliver pending
signals, and go again.  System-call handlers raise
:class:`~umlpy.errors.SyscallError`; :meth:`Kernel.syscall` is the one place
that turns it into the guest's ``-errno``.  A handler that must wait raises
:class:`~umlpy.fs.file.WouldBlock`; the task is parked and the same system
call is run again when it is woken (its registers still hold the arguments).
"""

import collections
import heapq
import os
import select
import time

from umlpy.abi.errno_tab import Errno
from umlpy.abi.syscall_nr import NR
from umlpy.abi.sysargs import SysArgs
from umlpy.abi.wait import WNOHANG, WNOWAIT
from umlpy.errors import PlatformError, SyscallError, UmlpyError
from umlpy.fs.file import WaitQueue, WouldBlock
from umlpy.fs.perm import Caller
from umlpy.platform.base import StopKind

from . import signals as sigs
from .task import Task, TaskState, ThreadGroup

_M64 = (1 << 64) - 1
EINTR, ECHILD = Errno.EINTR, Errno.ECHILD
#: How many slow-path system calls a task runs before others get the CPU.
TIME_SLICE_CALLS = 64
#: How long a task may run without trapping while others wait (seconds).
TIME_SLICE_S = 0.01


_RUNNABLE = TaskState.RUNNABLE
_SYSCALL, _FAULT, _SIGNAL = StopKind.SYSCALL, StopKind.FAULT, StopKind.SIGNAL
_INTERRUPT, _PREEMPT, _EXIT = StopKind.INTERRUPT, StopKind.PREEMPT, StopKind.EXIT

#: What Kernel._invoke returns for a handler that parked its task.
_BLOCKED = object()


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
        self.tracer = tracer
        self.tasks: dict[int, Task] = {}
        self.groups: dict[int, ThreadGroup] = {}
        self._next_pid = 1
        self.runq: collections.deque[Task] = collections.deque()
        self.timers: list = []          # heap of (deadline_ns, seq, waitq)
        self._timer_seq = 0
        self.init: ThreadGroup | None = None
        self.current: Task | None = None
        self.boot_ns = time.monotonic_ns()
        self.vfs = vfs_factory(self)
        self.host_waiters: dict[int, WaitQueue] = {}  # host fd -> waiters (console input)
        self.child_wait = collections.defaultdict(WaitQueue)  # tgid -> waiters in wait4
        self.hwcap, self.hwcap2, self.minsigstksz = _host_hwcaps()
        self._rows = table.rows          # the table's list, indexed by number (hot path)
        self._nrows = len(table.rows)
        self.need_resched = False
        self.timer = None                 # the time-slice alarm, made by run()
        self.page_cache = {}                  # id(inode) -> SharedObject of MAP_SHARED files

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

    def new_group(self, parent, creds, handlers, rlimits) -> ThreadGroup:
        tgid = self.alloc_pid()
        g = ThreadGroup(tgid, parent, creds, handlers, rlimits)
        self.groups[tgid] = g
        if parent is not None:
            parent.children.append(g)
        return g

    def new_task(self, tid, group, ctx, mm, files, fs) -> Task:
        t = Task(tid, group, ctx, mm, files, fs)
        t.kernel = self
        group.tasks.append(t)
        self.tasks[tid] = t
        return t

    def caller(self, t: Task):
        """The fs layer's view of a task: credentials, cwd, root, umask."""
        c = t.group.creds
        return Caller(pid=t.group.tgid, uid=c.uid, gid=c.gid, euid=c.euid, egid=c.egid,
                      groups=c.groups, cwd=t.fs.cwd, root=t.fs.root, umask=t.fs.umask)

    def yield_cpu(self, t: Task):
        self.need_resched = True

    # --- fast path -------------------------------------------------------------
    def update_fast(self, t: Task):
        """Tell the platform the constant answers of this task's identity calls."""
        ctx = t.ctx
        ctx.clear_fast_results()
        tracer = self.tracer
        if tracer is not None:
            ctx.enable_trace_ring(4096)
        c = t.group.creds
        parent = t.group.parent
        for nr, value in ((NR.getpid, t.group.tgid), (NR.gettid, t.tid),
                          (NR.getppid, parent.tgid if parent else 0),
                          (NR.getuid, c.uid), (NR.geteuid, c.euid), (NR.getgid, c.gid),
                          (NR.getegid, c.egid), (NR.getpgrp, t.group.pgid)):
            if tracer is None or tracer.fast_ok(int(nr)):
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

    def add_timer(self, deadline_ns: int) -> WaitQueue:
        wq = WaitQueue()
        self._timer_seq += 1
        heapq.heappush(self.timers, (deadline_ns, self._timer_seq, wq))
        return wq

    def _fire_timers(self):
        now = self.now_ns()
        while self.timers and self.timers[0][0] <= now:
            _, _, wq = heapq.heappop(self.timers)
            wq.notify()

    # --- scheduling -------------------------------------------------------------
    def make_runnable(self, t: Task):
        if t.state == TaskState.BLOCKED:
            t.state = TaskState.RUNNABLE
            t.blocked_on = None
            self.runq.append(t)

    def block(self, t: Task, waitq, restart=True):
        """Park ``t`` until ``waitq`` is notified; re-run its syscall then."""
        t.state = TaskState.BLOCKED
        t.restart = restart
        t.blocked_on = waitq
        if waitq is not None:
            waitq.add(lambda: self.make_runnable(t))

    def _idle(self):
        """Nothing is runnable: wait for a timer or host input."""
        fds = list(self.host_waiters)
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
                self.host_waiters.pop(fd).notify()
        elif timeout:
            time.sleep(timeout)
        self._fire_timers()

    def wait_host_fd(self, fd: int) -> WaitQueue:
        wq = self.host_waiters.get(fd)
        if wq is None:
            wq = self.host_waiters[fd] = WaitQueue()
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
            t = self.runq.popleft()
            if t.state != TaskState.RUNNABLE:
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
            self.tracer.syscall_exit(t, nr, args, rax - (1 << 64) if rax >> 63 else rax)
        if t.restart:
            t.restart = False
            self.syscall(t)
            if t.state != TaskState.RUNNABLE:
                return
            self._ret_to_user(t)
        calls = 0
        ctx = t.ctx
        tracer = self.tracer
        group = t.group
        timer = self.timer
        if timer is not None:
            timer.disarm()
        # The hot loop: enum members are compared by identity through module
        # globals (an Enum class attribute lookup costs ~0.2 us each).
        runq = self.runq
        while t.state is _RUNNABLE:
            if runq and timer is not None and not timer.armed:
                timer.arm(TIME_SLICE_S)      # others wait: preempt a task that never traps
            stop = ctx.switch(t.mm.host)
            if tracer is not None:
                tracer.drain_fast(t)
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
                self._ret_to_user(t)
            if (calls >= TIME_SLICE_CALLS or self.need_resched
                    or (timer is not None and timer.expired())) and self.runq:
                self.need_resched = False
                return

    def _ret_to_user(self, t: Task):
        if t.ignored_signals:
            for signo, info in t.ignored_signals:
                self.tracer.signal(t, signo, info)
            t.ignored_signals.clear()
        if (t.pending | t.group.pending) & ~t.sigmask or (t.pending | t.group.pending) & sigs.UNBLOCKABLE:
            self.deliver_signals(t)

    # --- system calls ------------------------------------------------------------
    def syscall(self, t: Task):
        """Dispatch the system call ``t`` stopped at: the one place errors become -errno."""
        ctx = t.ctx
        nr, raw = ctx.syscall_frame()
        row = self._rows[nr] if nr < self._nrows else None
        if row is None:
            row = self.table.lookup(nr)
        args = SysArgs(raw)
        tracer = self.tracer
        if self.clock is not None:
            self.clock.tick()
        if tracer is None:
            # _invoke, inlined: the untraced path is the hot one (one call less per syscall).
            try:
                ret = row.handler(t, args)
            except SyscallError as e:
                ret = -e.errno
            except WouldBlock as wb:
                self.block(t, wb.waitq)
                return
            except Exception as e:     # a bug of ours: the call fails, the guest goes on
                ret = self.internal_error(t, row, e)
            if ret is not None:
                ctx.regs.rax = ret & _M64
            return
        regs = ctx.regs
        injected = tracer.syscall_enter(t, nr, args, restarted=t.in_syscall)
        t.in_syscall = False
        ret = injected if injected is not None else self._invoke(t, row, args)
        if ret is _BLOCKED:
            t.in_syscall = True
            tracer.syscall_blocked(t, nr, args)
            return
        if ret is not None:
            regs.rax = ret & _M64
        elif t.state == TaskState.BLOCKED:      # vfork: the parent waits; its result is in rax
            t.trace_resume = (nr, args)
            tracer.syscall_blocked(t, nr, args)
            return
        tracer.syscall_exit(t, nr, args, ret)

    def _invoke(self, t: Task, row, args):
        """Run a handler: its result, -errno, or _BLOCKED when the task was parked."""
        try:
            return row.handler(t, args)
        except SyscallError as e:
            return -e.errno
        except WouldBlock as wb:
            self.block(t, wb.waitq)
            return _BLOCKED
        except Exception as e:     # a bug of ours: the call fails, the guest goes on
            return self.internal_error(t, row, e)

    def internal_error(self, t: Task, row, exc) -> int:
        """A handler raised something other than SyscallError: a bug in umlpy.

        With UMLPY_DEBUG=1 (the test suite sets it) the exception propagates;
        otherwise the call fails with EIO and one line says so.
        """
        if os.environ.get("UMLPY_DEBUG") == "1" or isinstance(exc, (PlatformError, MemoryError)):
            raise exc
        self.warn("internal error in %s() of task %d: %s: %s (the call fails with EIO)"
                  % (row.name, t.tid, type(exc).__name__, exc))
        return -5

    # --- faults and traps ----------------------------------------------------------
    def fault(self, t: Task, stop):
        t.last_fault = (stop.is_write if stop.is_write >= 0 else 0, stop.addr, 14)
        try:
            res = t.mm.handle_fault(stop.addr, stop.is_write)
        except SyscallError:
            res = (sigs.SIGKILL, 0)    # out of memory
            self.warn("out of guest memory: killing process %d" % t.tgid)
        if res is None:
            return
        signo, code = res
        self.force_signal(t, signo, code, stop.addr)

    def trap(self, t: Task, stop):
        self.force_signal(t, stop.signo, stop.code, stop.addr)

    def stub_died(self, t: Task, stop):
        status = stop.status
        why = ("killed by host signal %d" % (status & 0x7F)) if status & 0x7F else "exited"
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
        act = g.handlers.actions[signo]
        if act.handler == sigs.SIG_IGN or (act.handler == sigs.SIG_DFL
                                           and sigs.default_action(signo) == sigs.Default.IGN):
            g.pending &= ~sigs.bit(signo)
            for tt in tasks:
                tt.pending &= ~sigs.bit(signo)
            if self.tracer is not None and tasks:
                # A tracer sees ignored signals too (as ptrace reports them, when the
                # task next returns to user mode), then they vanish.
                tasks[0].ignored_signals.append((signo, info or (signo, 0, 0, 0, 0)))
            return
        for tt in tasks:
            if tt.state == TaskState.BLOCKED and not (tt.sigmask & sigs.bit(signo)):
                self.interrupt(tt)
                break

    def interrupt(self, t: Task):
        """Wake a blocked task with EINTR so it can take a signal."""
        if t.state != TaskState.BLOCKED:
            return
        wq = t.blocked_on
        t.state = TaskState.RUNNABLE
        t.blocked_on = None
        t.restart = False
        t.sleep_deadline = None
        t.poll_deadline = None
        partial = t.write_progress
        t.write_progress = 0
        cleanup = getattr(t, "futex_cleanup", None)
        if cleanup is not None:
            t.futex_cleanup = None
            t.futex_wait = None
            cleanup()
        ret = partial if partial else -EINTR      # a write cut by a signal returns what it wrote
        t.ctx.regs.rax = ret & _M64
        if self.tracer is not None and t.in_syscall:
            t.in_syscall = False
            self.tracer.syscall_exit(t, t.ctx.regs.orig_rax, SysArgs.from_regs(t.ctx.regs), ret)
        self.runq.append(t)
        del wq

    def deliver_signals(self, t: Task):
        from .sigframe import setup_frame
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
            act = g.handlers.actions[signo]
            if self.tracer is not None:
                self.tracer.signal(t, signo, info)
            if act.handler == sigs.SIG_IGN and signo not in (sigs.SIGKILL, sigs.SIGSTOP):
                continue
            if act.handler == sigs.SIG_DFL or signo in (sigs.SIGKILL, sigs.SIGSTOP):
                d = sigs.default_action(signo)
                if d in (sigs.Default.IGN, sigs.Default.CONT, sigs.Default.STOP):
                    continue     # job control stops are not modelled yet
                self.exit_group(t, signo, signaled=True, core=(d == sigs.Default.CORE))
                return
            setup_frame(self, t, signo, act, info)

    # --- exit and wait -------------------------------------------------------------
    def exit_group(self, t, code: int, signaled=False, core=False, group=None):
        """End every task of a thread group (exit_group, fatal signal)."""
        g = group or t.group
        if g.zombie:
            return
        g.group_exiting = True
        g.exit_status = (code & 0x7F) if signaled else ((code & 0xFF) << 8)
        for tt in list(g.tasks):
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
        if self.tracer is not None:
            self.tracer.task_exit(t)
        if t.clear_child_tid and t.mm.users > 1:
            try:
                t.mm.write(t.clear_child_tid, b"\0\0\0\0")
                self.futex_wake(t.mm, t.clear_child_tid, 1)
            except SyscallError:
                pass
        if g.vfork_parent is not None and g.tasks and g.tasks[0] is t:
            self.make_runnable(g.vfork_parent)
            g.vfork_parent = None
        self._put_mm(t)
        t.files.users -= 1
        if t.files.users == 0:
            t.files.close_all()
        g.tasks.remove(t)
        del self.tasks[t.tid]
        if t in self.runq:
            self.runq.remove(t)
        if not g.tasks:
            self._group_dead(g)

    def _put_mm(self, t: Task):
        mm = t.mm
        mm.users -= 1
        if mm.users == 0:
            mm.release()

    def _group_dead(self, g: ThreadGroup):
        g.zombie = True
        if self.tracer is not None:
            self.tracer.group_exit(g)
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
        elif g.exit_signal:
            st = g.exit_status
            code, status = (1, (st >> 8) & 0xFF) if not st & 0x7F else (2, st & 0x7F)   # CLD_EXITED/KILLED
            self.send_signal(parent, g.exit_signal, (g.exit_signal, code, 0, g.tgid, status))
        self.child_wait[parent.tgid].notify()

    def _reap(self, g: ThreadGroup):
        g.reaped = True
        if g.parent is not None and g in g.parent.children:
            g.parent.children.remove(g)
        self.groups.pop(g.tgid, None)
        self.child_wait.pop(g.tgid, None)

    def wait4(self, t: Task, pid: int, options: int):
        """Find a child to report: (tgid, status) or None with WNOHANG; raise to block."""
        g = t.group
        cands = []
        for c in g.children:
            if pid > 0 and c.tgid != pid:
                continue
            if pid == 0 and c.pgid != g.pgid:
                continue
            if pid < -1 and c.pgid != -pid:
                continue
            cands.append(c)
        if not cands:
            raise SyscallError(ECHILD)
        for c in cands:
            if c.zombie:
                if not options & WNOWAIT:
                    self._reap(c)
                return c.tgid, c.exit_status
        if options & WNOHANG:
            return None
        raise WouldBlock(self.child_wait[g.tgid])

    # --- futex ------------------------------------------------------------------------
    def futex_wake(self, mm, addr: int, n: int) -> int:
        """Wake up to ``n`` waiters of the futex word at ``addr`` (CLONE_CHILD_CLEARTID)."""
        q = getattr(mm, "futex_queues", None)
        if not q or addr not in q:
            return 0
        waiters = q[addr]
        woken = 0
        while waiters and woken < n:
            w = waiters.pop(0)
            w.task.futex_woken = True
            w.notify()
            woken += 1
        if not waiters:
            del q[addr]
        return woken

    def shutdown(self):
        """Kill every guest task and release the host side."""
        for t in list(self.tasks.values()):
            t.state = TaskState.DEAD
        self.platform.close()


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
