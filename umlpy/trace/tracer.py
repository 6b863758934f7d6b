"""The tracer: the kernel's hooks, filters, injection, timing, and the writers.

Life of a traced system call: ``syscall_enter`` (decode the entry-phase
arguments, maybe inject a result), the handler runs (or blocks:
``syscall_blocked``; a blocked call is re-run later and its entry is not
seen twice), then ``syscall_exit`` (decode the rest, time it, count it, hand
the event to the writers).  Constant-result calls answered by the platform's
fast path are reported afterwards, in order, by ``drain_fast``.
"""

import time

from umlpy.abi.record import factory, record
from umlpy.kernel.hooks import KernelHooks
from umlpy.kernel.signals import sender_uid
from umlpy.kernel.task import TaskState

from . import decode
from .format import quote_bytes
from .options import TraceOptions
from .writers import JsonWriter, Output, Summary, TextWriter, TimelineWriter

M64 = (1 << 64) - 1


@record(slots=True)
class Call:
    """One system call of one task, from entry to exit."""

    tid: int
    pid: int
    nr: int
    name: str
    raw: tuple
    enter: list                    # decoded entry-phase arguments
    start_ns: int                  # guest realtime at entry
    start_mono: int
    shown: bool                    # passes the trace= filter for this task
    exit: list = factory(list)
    ret: int | None = None
    ret_text: str = "?"
    errno: int = 0
    dur_ns: int = 0
    injected: bool = False
    fast: bool = False
    stack: list | None = None
    more: bool = False             # entry args end with ", " (exit-phase args follow)
    unfinished: bool = False       # its line was cut by another task's event
    head_len: int = 0              # length of the printed entry part
    ctx: object = None             # the decode context, made once per call


class _Ctx:
    """What the decoders may ask of the traced task (decode.DecodeContext)."""

    __slots__ = ("t", "strsize", "xmode", "show_paths", "verbose")

    def __init__(self, t, opts):
        self.t = t
        self.strsize = opts.strsize
        self.xmode = opts.xmode
        self.show_paths = opts.show_paths
        self.verbose = False

    def read_mem(self, addr, n):
        try:
            return self.t.mm.read(addr, n)
        except Exception:
            return None

    def read_cstring(self, addr, limit):
        try:
            s = self.t.mm.read_cstring(addr, limit + 1)
        except Exception:
            return None
        if len(s) > limit:
            return s[:limit], False
        return s, True

    def sigreturn_mask(self):
        """The signal mask rt_sigreturn will restore: uc_sigmask of the frame at rsp."""
        try:
            from umlpy.kernel.sigframe import UC_SIGMASK_OFFSET
            data = self.t.mm.read(self.t.ctx.regs.rsp + UC_SIGMASK_OFFSET, 8)
        except Exception:
            return None
        return int.from_bytes(data, "little")

    def fd_path(self, fd):
        if fd == -100:      # AT_FDCWD: the working directory
            try:
                k = self.t.kernel
                return k.vfs.getcwd(k.caller(self.t)).decode(errors="replace")
            except Exception:
                return None
        try:
            f = self.t.files.get(fd)
        except Exception:
            return None
        p = getattr(f, "path", None)
        return p.decode(errors="replace") if isinstance(p, bytes) else p


class Tracer(KernelHooks):
    """Implements the kernel's trace hooks for one guest run."""

    active = True

    def __init__(self, opts: TraceOptions, *, stderr=None):
        self.opts = opts
        self.kernel = None
        self.calls: dict[int, Call] = {}
        self.live = set()        # tids of traced tasks alive
        self.inject_counts: dict[tuple, int] = {}
        self.summary = Summary() if (opts.summary or opts.summary_too) else None
        self.writers = []
        #: Where trace lines and the summary go: -o FILE, else stderr (or a callable).
        self.sink = Output.open(opts.output, stderr)
        show_lines = not opts.summary or opts.summary_too
        if show_lines:
            if opts.fmt == "json":
                self.writers.append(JsonWriter(opts, self.sink))
            else:
                self.writers.append(TextWriter(opts, self.sink, self.live))
        if opts.timeline:
            self.writers.append(TimelineWriter(opts.timeline))
        self._inject_names = frozenset().union(*(r.names for r in opts.inject)) if opts.inject else frozenset()
        self.unwinder = None
        self._mono_offset = time.time_ns() - time.monotonic_ns()

    # --- set-up -------------------------------------------------------------------
    def attach(self, kernel):
        self.kernel = kernel
        if self.opts.stack:
            from .stack import Unwinder
            self.unwinder = Unwinder()

    def fast_ok(self, nr: int) -> bool:
        """May the platform answer ``nr`` without telling us first?"""
        return decode.syscall_name(nr) not in self._inject_names

    def traced(self, t) -> bool:
        return self.opts.follow_forks or t.tid == 1

    def _shown(self, name) -> bool:
        tr = self.opts.trace
        return tr is None or name in tr

    def _now(self):
        k = self.kernel
        return k.realtime_ns(), k.now_ns()

    # --- kernel hooks ---------------------------------------------------------------
    def initial_exec(self, t, program: bytes, argv: list, envc: int, envp_addr: int, raw=None):
        """The first process, as if it had been started by execve(2) (strace's first line)."""
        self.live.add(t.tid)
        real, mono = self._now()
        args = [quote_bytes(program, 1 << 20, complete=True),      # paths are never cut
                "[" + ", ".join(quote_bytes(a, self.opts.strsize, complete=True) for a in argv) + "]",
                "%#x /* %d var%s */" % (envp_addr, envc, "" if envc == 1 else "s")]
        c = Call(t.tid, t.tgid, 59, "execve", tuple(raw or (0, 0, envp_addr)) + (0, 0, 0), args, real, mono,
                 self._shown("execve"))
        c.ret, c.ret_text = 0, "0"
        if c.shown:
            for w in self.writers:
                w.on_enter(t, c)
        self._finish(t, c)

    def task_created(self, parent, child):
        if self.traced(child):
            self.live.add(child.tid)

    def exec_done(self, t):
        if self.unwinder is not None:
            self.unwinder.forget(t.group.tgid)

    def syscall_enter(self, t, nr, args, restarted=False):
        """Record the entry; return an injected result (or None to run the call)."""
        if restarted:
            return None
        name = decode.syscall_name(nr)
        real, mono = self._now()
        tr = self.opts.trace
        shown = (self.opts.follow_forks or t.tid == 1) and (tr is None or name in tr)
        enter = []
        more = False
        ctx = None
        raw = args
        if shown and self.writers:
            ctx = _Ctx(t, self.opts)
            enter = decode.decode_enter(nr, ctx, raw)
            more = decode.has_exit_args(nr, raw)
        c = Call(t.tid, t.tgid, nr, name, raw, enter, real, mono, shown, more=more, ctx=ctx)
        self.calls[t.tid] = c
        if shown and self.opts.stack and self.unwinder is not None:
            c.stack = self.unwinder.backtrace(t)
        if shown:
            for w in self.writers:
                w.on_enter(t, c)
        if name in self._inject_names:
            key = (t.tid, name)
            n = self.inject_counts.get(key, 0) + 1
            self.inject_counts[key] = n
            for rule in self.opts.inject:
                if name in rule.names and rule.hits(n):
                    c.injected = True
                    return -rule.error if rule.error is not None else rule.retval
        return None

    def syscall_blocked(self, t, nr, args):
        c = self.calls.get(t.tid)
        if c is not None and c.shown:
            for w in self.writers:
                w.on_block(t, c)

    def syscall_exit(self, t, nr, args, ret):
        c = self.calls.pop(t.tid, None)
        if c is None:
            return
        clock = self.kernel.clock
        if clock is not None:
            clock.tick()        # a virtual call takes one step of virtual time
        real, mono = self._now()
        c.dur_ns = mono - c.start_mono
        if ret is None:
            # The handler set the registers itself (execve, exit, rt_sigreturn).
            if t.state is TaskState.DEAD:
                c.ret = None
            else:
                rax = t.ctx.regs.rax
                c.ret = rax - (1 << 64) if rax >> 63 else rax
        else:
            c.ret = ret
        self._complete(t, c)
        self._finish(t, c)

    def _complete(self, t, c):
        ret = c.ret
        if ret is None:
            c.ret_text = "?"
        elif -4096 < ret < 0:
            c.errno = -ret
            c.ret_text = decode.format_error(-ret)
        elif c.shown and self.writers:
            ctx = c.ctx or _Ctx(t, self.opts)
            c.exit = decode.decode_exit(c.nr, ctx, c.raw, ret)
            c.ret_text = decode.format_retval(c.nr, ctx, c.raw, ret)
        else:
            c.ret_text = str(ret)
        if c.shown and self.writers and c.errno:
            c.exit = decode.decode_exit(c.nr, c.ctx or _Ctx(t, self.opts), c.raw, ret)
        if c.injected:
            c.ret_text += " (INJECTED)"

    def _finish(self, t, c):
        if self.summary is not None and self.traced(t) and c.ret is not None:
            self.summary.add(c)     # as strace -c: calls that never returned are not counted
        if not c.shown:
            return
        st = self.opts.status
        if st is not None:
            kind = "unfinished" if c.ret is None else ("failed" if c.errno else "successful")
            if kind not in st:
                for w in self.writers:
                    w.on_drop(t, c)
                return
        for w in self.writers:
            w.on_exit(t, c)

    def drain_fast(self, t):
        entries = t.ctx.take_trace_ring()
        if not entries or not self.traced(t):
            return
        clock = self.kernel.clock
        for nr, ret, t_ns in entries:
            name = decode.syscall_name(nr)
            if clock is not None:
                clock.tick()
                mono = clock.monotonic_ns()
                real = clock.realtime_ns()
            else:
                real = t_ns + self._mono_offset
                mono = t_ns - self.kernel.boot_ns + 10 ** 9
            c = Call(t.tid, t.tgid, nr, name, (0,) * 6, [], real, mono, self._shown(name), fast=True)
            c.ret = ret
            c.ret_text = str(ret)
            if c.shown:
                for w in self.writers:
                    w.on_enter(t, c)
            self._finish(t, c)

    def signal(self, t, signo, info):
        if not self.traced(t):
            return
        sigs = self.opts.signals
        if sigs is not None and signo not in sigs:
            return
        _, code, addr, pid, status = info
        text = decode.format_siginfo(signo, code, addr, pid, sender_uid(self.kernel, t, signo, info), status)
        real, mono = self._now()
        for w in self.writers:
            w.on_signal(t, signo, text, real)

    def task_exit(self, t):
        if t.tid not in self.live:
            return
        c = self.calls.pop(t.tid, None)
        g = t.group
        if c is not None:
            # exit/exit_group (or a call cut short by a fatal signal): "= ?"
            real, mono = self._now()
            c.dur_ns = mono - c.start_mono
            c.ret, c.ret_text = None, "?"
            self._finish(t, c)
        if g.group_exiting:
            status = g.exit_status
        else:
            status = (t.exit_code & 0xFF) << 8
        real, _ = self._now()
        for w in self.writers:
            w.on_task_exit(t, status, real, len(self.live))
        self.live.discard(t.tid)

    def close(self):
        """End of the run: flush the writers, print the -c summary."""
        for w in self.writers:
            w.close()
        if self.summary is not None:
            self.sink.write(self.summary.render())
        self.sink.close()
