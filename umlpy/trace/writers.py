"""Trace writers: strace text, JSON Lines, Chrome trace-event timelines, -c summaries.

All punctuation of the text format goes through :class:`TextWriter`:
the leader (``[pid N]``, timestamps), ``<unfinished ...>`` / ``<... x
resumed>`` when tasks interleave, the `` = `` column, and ``+++``/``---`` lines.
"""

import json
import os
import time

from umlpy.abi.errno_tab import ERRNO_NAMES
from umlpy.abi.signal import signal_name

RESULT_COLUMN = 39   # strace pads the call to this width before " = "


class Output:
    """A text sink: a host fd, a file, or a callable taking bytes."""

    def __init__(self, fd=None, path=None, func=None):
        self.fd = fd
        self.func = func
        self.path = path
        self.f = None
        if path is not None:          # fail now (bad path) but create it at the first write
            d = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(d):
                raise FileNotFoundError(2, "No such file or directory", path)

    @classmethod
    def open(cls, path, func=None):
        if path is not None:
            return cls(path=path)
        if func is not None:
            return cls(func=func)
        return cls(fd=2)

    def write(self, text: str):
        if self.path is not None:
            if self.f is None:
                self.f = open(self.path, "w")
            self.f.write(text)
        elif self.func is not None:
            self.func(text.encode(errors="surrogateescape"))
        else:
            data = text.encode(errors="surrogateescape")
            while data:
                try:
                    n = os.write(self.fd, data)
                except InterruptedError:
                    continue
                except OSError:
                    return
                data = data[n:]

    def flush(self):
        if self.f is not None:
            self.f.flush()

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None
        self.path = None


class Writer:
    """The events a writer gets; each does nothing unless a writer wants it."""

    def on_enter(self, t, c):
        pass

    def on_block(self, t, c):
        pass

    def on_drop(self, t, c):
        pass

    def on_exit(self, t, c):
        pass

    def on_signal(self, t, signo, info_text, real_ns):
        pass

    def on_task_exit(self, t, status, real_ns, nlive):
        pass

    def close(self):
        pass


class TextWriter(Writer):
    """strace's line syntax."""

    def __init__(self, opts, sink: Output, live=None):
        self.opts = opts
        self.sink = sink
        self.live = live if live is not None else set()   # tids of the traced tasks alive
        self.per_pid: dict[int, Output] = {}
        self.open = {}            # Output id -> (tid, call) whose line is not finished
        self.last_ns = None
        self.ntasks = 1

    # --- where lines go --------------------------------------------------------------
    def _out(self, t) -> Output:
        if self.opts.output_separately and self.opts.output:
            out = self.per_pid.get(t.tid)
            if out is None:
                out = self.per_pid[t.tid] = Output(path="%s.%d" % (self.opts.output, t.tid))
            return out
        return self.sink

    def _leader(self, t, real_ns) -> str:
        parts = []
        o = self.opts
        if o.follow_forks and not o.output_separately:
            if o.output:
                parts.append("%-5d " % t.tid)        # strace -f -o FILE: every line
            elif len(self.live) > 1:
                parts.append("[pid %5d] " % t.tid)
        if o.timestamps:
            sec, ns = divmod(real_ns, 10 ** 9)
            if o.timestamps >= 3:
                parts.append("%d.%06d " % (sec, ns // 1000))
            else:
                tm = time.gmtime(sec) if o.deterministic else time.localtime(sec)
                hms = "%02d:%02d:%02d" % (tm.tm_hour, tm.tm_min, tm.tm_sec)
                parts.append(hms + (".%06d " % (ns // 1000) if o.timestamps == 2 else " "))
        if o.relative:
            prev = self.last_ns if self.last_ns is not None else real_ns
            d = max(0, real_ns - prev)
            parts.append("%6d.%06d " % (d // 10 ** 9, (d % 10 ** 9) // 1000))
            self.last_ns = real_ns
        return "".join(parts)

    def _interrupt(self, out, tid):
        """Another event comes: a line left open by another task becomes unfinished."""
        cur = self.open.get(id(out))
        if cur is not None and cur[0] != tid:
            out.write(" <unfinished ...>\n")
            cur[1].unfinished = True
            del self.open[id(out)]

    # --- events --------------------------------------------------------------------------
    def on_enter(self, t, c):
        if self.opts.status is not None:
            return          # the whole line is printed at exit, if it passes the filter
        out = self._out(t)
        self._interrupt(out, t.tid)
        cur = self.open.get(id(out))
        if cur is not None:             # same task: cannot happen, but never lose text
            out.write(" <unfinished ...>\n")
        c.unfinished = False
        text = self._leader(t, c.start_ns) + "%s(%s" % (c.name, ", ".join(c.enter))
        if c.more and c.enter:
            text += ", "
        c.head_len = len(text)
        out.write(text)
        self.open[id(out)] = (t.tid, c)

    def on_drop(self, t, c):
        out = self._out(t)
        cur = self.open.get(id(out))
        if cur is not None and cur[1] is c:
            del self.open[id(out)]

    def _tail(self, c, head_len: int) -> str:
        rest = ", ".join(c.exit) + ")"
        pad = max(0, RESULT_COLUMN - head_len - len(rest))
        text = rest + " " * pad + " = " + c.ret_text
        if self.opts.durations and c.ret is not None:
            text += " <%d.%06d>" % (c.dur_ns // 10 ** 9, (c.dur_ns % 10 ** 9) // 1000)
        return text + "\n" + self._stack(c)

    def _stack(self, c):
        if not c.stack:
            return ""
        return "".join(" > %s\n" % frame for frame in c.stack)

    def on_exit(self, t, c):
        out = self._out(t)
        if self.opts.status is not None:
            self._interrupt(out, -1)
            head = self._leader(t, c.start_ns) + "%s(%s" % (c.name, ", ".join(c.enter))
            if c.more and c.enter and c.exit:
                head += ", "
            out.write(head + self._tail(c, len(head)))
            return
        cur = self.open.get(id(out))
        if cur is not None and cur[1] is c:
            del self.open[id(out)]
            out.write(self._tail(c, c.head_len))
            return
        self._interrupt(out, t.tid)
        head = self._leader(t, c.start_ns) + "<... %s resumed>" % c.name
        out.write(head + self._tail(c, len(head)))

    def on_signal(self, t, signo, info_text, real_ns):
        out = self._out(t)
        self._interrupt(out, -1)
        out.write(self._leader(t, real_ns) + "--- %s %s ---\n" % (signal_name(signo), info_text))

    def on_task_exit(self, t, status, real_ns, nlive):
        out = self._out(t)
        self._interrupt(out, -1)
        cur = self.open.pop(id(out), None)
        if cur is not None:
            out.write(" <unfinished ...>\n")
        if self.opts.quiet >= 2:
            return
        leader = self._leader(t, real_ns)
        if status & 0x7F:
            out.write(leader + "+++ killed by %s%s +++\n" % (signal_name(status & 0x7F),
                                                             " (core dumped)" if status & 0x80 else ""))
        else:
            out.write(leader + "+++ exited with %d +++\n" % ((status >> 8) & 0xFF))

    def close(self):
        for out in list(self.per_pid.values()):
            out.close()
        self.sink.flush()


class JsonWriter(Writer):
    """One JSON object per event, one event per line (JSON Lines); field names are stable."""

    def __init__(self, opts, sink: Output):
        self.opts = opts
        self.sink = sink

    def _emit(self, obj):
        self.sink.write(json.dumps(obj, separators=(",", ":")) + "\n")

    def on_exit(self, t, c):
        obj = {"type": "syscall", "pid": c.pid, "tid": c.tid, "syscall": c.name, "nr": c.nr,
               "args": c.enter + c.exit, "raw_args": list(c.raw) if c.raw is not None else None,
               "ret": c.ret,
               "errno": ERRNO_NAMES.get(c.errno) if c.errno else None,
               "start": c.start_ns / 1e9, "duration": c.dur_ns / 1e9,
               "fast_path": c.fast, "injected": c.injected}
        if c.stack:
            obj["stack"] = c.stack
        self._emit(obj)

    def on_signal(self, t, signo, info_text, real_ns):
        self._emit({"type": "signal", "pid": t.tgid, "tid": t.tid, "signal": signal_name(signo),
                    "signo": signo, "info": info_text, "time": real_ns / 1e9})

    def on_task_exit(self, t, status, real_ns, nlive):
        obj = {"type": "exit", "pid": t.tgid, "tid": t.tid, "time": real_ns / 1e9}
        if status & 0x7F:
            obj.update(killed_by=signal_name(status & 0x7F), exit_code=None)
        else:
            obj.update(killed_by=None, exit_code=(status >> 8) & 0xFF)
        self._emit(obj)

    def close(self):
        self.sink.flush()


class TimelineWriter(Writer):
    """A Chrome trace-event file (Perfetto, chrome://tracing): one track per task, one slice per call."""

    def __init__(self, path):
        self.path = path
        self.events = []
        self.named = set()

    def _name(self, t):
        if t.tid in self.named:
            return
        self.named.add(t.tid)
        comm = (t.comm or b"task").decode(errors="replace")
        self.events.append({"name": "thread_name", "ph": "M", "pid": t.tgid, "tid": t.tid,
                            "args": {"name": "%s [%d]" % (comm, t.tid)}})
        self.events.append({"name": "process_name", "ph": "M", "pid": t.tgid, "tid": t.tid,
                            "args": {"name": "pid %d" % t.tgid}})

    def on_exit(self, t, c):
        self._name(t)
        self.events.append({"name": c.name, "cat": "syscall", "ph": "X", "pid": c.pid, "tid": c.tid,
                            "ts": c.start_ns / 1000.0, "dur": max(c.dur_ns / 1000.0, 0.001),
                            "args": {"args": ", ".join(c.enter + c.exit), "ret": c.ret_text}})

    def on_signal(self, t, signo, info_text, real_ns):
        self._name(t)
        self.events.append({"name": signal_name(signo), "cat": "signal", "ph": "i", "s": "t",
                            "pid": t.tgid, "tid": t.tid, "ts": real_ns / 1000.0, "args": {"info": info_text}})

    def on_task_exit(self, t, status, real_ns, nlive):
        self._name(t)
        what = ("killed by %s" % signal_name(status & 0x7F)) if status & 0x7F else \
            ("exited with %d" % ((status >> 8) & 0xFF))
        self.events.append({"name": what, "cat": "exit", "ph": "i", "s": "t", "pid": t.tgid, "tid": t.tid,
                            "ts": real_ns / 1000.0})

    def close(self):
        with open(self.path, "w") as f:
            json.dump({"traceEvents": self.events, "displayTimeUnit": "ns"}, f)


class Summary:
    """strace -c: calls, errors and time per syscall."""

    def __init__(self):
        self.rows = {}    # name -> [calls, errors, ns]

    def add(self, c):
        r = self.rows.get(c.name)
        if r is None:
            r = self.rows[c.name] = [0, 0, 0]
        r[0] += 1
        if c.errno:
            r[1] += 1
        r[2] += c.dur_ns

    def render(self) -> str:
        total_ns = sum(r[2] for r in self.rows.values())
        calls = sum(r[0] for r in self.rows.values())
        errors = sum(r[1] for r in self.rows.values())
        sep = "------ ----------- ----------- --------- --------- ----------------\n"
        lines = ["% time     seconds  usecs/call     calls    errors syscall\n", sep]
        for name, (n, e, ns) in sorted(self.rows.items(), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0])):
            pct = 100.0 * ns / total_ns if total_ns else 0.0
            lines.append("%6.2f %11.6f %11d %9d %9s %s\n" % (pct, ns / 1e9, ns // 1000 // n if n else 0, n,
                                                            e if e else "", name))
        lines.append(sep)
        lines.append("%6.2f %11.6f %11d %9d %9s total\n" % (100.0 if total_ns else 0.0, total_ns / 1e9,
                                                           total_ns // 1000 // calls if calls else 0, calls,
                                                           errors if errors else ""))
        return "".join(lines)
