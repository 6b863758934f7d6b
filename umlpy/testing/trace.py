"""A structured trace: the events of ``umlpy trace --format json``, as Python objects.

:class:`Trace` is what a traced run of the pytest plugin gives in ``res.trace``
(and what :meth:`Trace.from_json` reads from a ``--format json`` file): the
system calls with their decoded arguments (as strace prints each one), results
and errno names, the signals and the exits, plus the strace-style text of the
same run.  ``trace.calls("openat")`` lists the openat calls; ``"write(1, " in
trace`` searches the text.
"""

import fnmatch
import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """One system call: ``name``, ``args`` (decoded, strace's spelling), ``ret``
    (None when it did not return), ``errno`` (a name such as "ENOENT", or None)."""

    name: str
    args: tuple
    ret: int | None
    errno: str | None = None
    pid: int = 0
    tid: int = 0
    nr: int = -1
    raw_args: tuple = ()
    injected: bool = False
    fast_path: bool = False
    start: float = 0.0
    duration: float = 0.0

    @property
    def failed(self) -> bool:
        return self.errno is not None

    @property
    def line(self) -> str:
        """The call as strace writes it, without padding: ``openat(AT_FDCWD, "x", O_RDONLY) = 3``."""
        head = "%s(%s)" % (self.name, ", ".join(self.args))
        if self.ret is None:
            return head + " = ?"
        if self.errno:
            return "%s = -1 %s" % (head, self.errno)
        return "%s = %d" % (head, self.ret)

    def matches(self, pattern: str) -> bool:
        """``pattern`` is a name ("openat"), or a line with ``*`` wildcards
        ('openat(*"/etc/passwd"*) = 3'), compared with :attr:`line`."""
        if "(" not in pattern:
            return fnmatch.fnmatchcase(self.name, pattern)
        return fnmatch.fnmatchcase(self.line, pattern)

    def __str__(self):
        return self.line


@dataclass(frozen=True)
class Signal:
    name: str
    signo: int
    info: str = ""
    pid: int = 0
    tid: int = 0


@dataclass(frozen=True)
class Exit:
    pid: int
    tid: int
    exit_code: int | None
    killed_by: str | None


@dataclass
class Trace:
    """The events of one traced run, oldest first, and its strace-style text."""

    events: list = field(default_factory=list)
    text: str = ""

    @classmethod
    def from_json_lines(cls, data, text: str = "") -> "Trace":
        if isinstance(data, bytes):
            data = data.decode(errors="surrogateescape")
        events = []
        for line in data.splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            kind = obj.get("type")
            if kind == "syscall":
                events.append(Call(obj["syscall"], tuple(obj.get("args") or ()), obj.get("ret"), obj.get("errno"),
                                   obj.get("pid", 0), obj.get("tid", 0), obj.get("nr", -1),
                                   tuple(obj.get("raw_args") or ()), bool(obj.get("injected")),
                                   bool(obj.get("fast_path")), obj.get("start", 0.0), obj.get("duration", 0.0)))
            elif kind == "signal":
                events.append(Signal(obj["signal"], obj.get("signo", 0), obj.get("info", ""), obj.get("pid", 0),
                                     obj.get("tid", 0)))
            elif kind == "exit":
                events.append(Exit(obj.get("pid", 0), obj.get("tid", 0), obj.get("exit_code"), obj.get("killed_by")))
        return cls(events, text)

    @classmethod
    def from_json(cls, path) -> "Trace":
        """Read a file written by ``umlpy trace --format json -o PATH``."""
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return cls.from_json_lines(f.read())

    def calls(self, *patterns, pid=None) -> list:
        """The system calls, or those matching any of ``patterns`` (names or lines, see
        :meth:`Call.matches`), of every task or of thread group ``pid``."""
        out = []
        for e in self.events:
            if isinstance(e, Call) and (pid is None or e.pid == pid):
                if not patterns or any(e.matches(p) for p in patterns):
                    out.append(e)
        return out

    def names(self, pid=None) -> list:
        """The sequence of system call names."""
        return [c.name for c in self.calls(pid=pid)]

    @property
    def signals(self) -> list:
        return [e for e in self.events if isinstance(e, Signal)]

    @property
    def exits(self) -> list:
        return [e for e in self.events if isinstance(e, Exit)]

    def __contains__(self, needle) -> bool:
        if isinstance(needle, bytes):
            needle = needle.decode(errors="surrogateescape")
        return needle in self.text

    def __bool__(self):
        return bool(self.events or self.text)

    def __str__(self):
        return self.text
