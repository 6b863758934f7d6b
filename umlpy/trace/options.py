"""Trace options, as strace spells them, and the parsing of ``-e`` expressions.

``TraceOptions`` is shared by the CLI (``umlpy trace``) and the Python API.
"""

import re

from umlpy.abi.record import factory, record
from umlpy.errors import UmlpyError


@record
class InjectRule:
    """``-e inject=SET:error=ERRNO|retval=N[:when=EXPR]``."""

    names: frozenset           # syscall names it applies to
    error: int | None = None   # errno to inject (positive)
    retval: int | None = None
    first: int = 1             # when=first[+[step]]
    step: int = 0              # 0: only the first-th call; N: every N calls from first on

    def hits(self, count: int) -> bool:
        """Whether the count-th call (1-based) of a syscall gets the injection."""
        if count < self.first:
            return False
        if count == self.first:
            return True
        return self.step > 0 and (count - self.first) % self.step == 0


@record
class TraceOptions:
    follow_forks: bool = False          # -f
    output_separately: bool = False     # -ff
    output: str | None = None           # -o FILE (None: stderr)
    trace: frozenset | None = None      # -e trace=: names to show (None: all)
    signals: frozenset | None = None    # -e signal=: signal numbers to show (None: all)
    status: frozenset | None = None     # -e status=: successful, failed, unfinished...
    inject: list = factory(list)
    summary: bool = False               # -c
    summary_too: bool = False           # -C
    durations: bool = False             # -T
    timestamps: int = 0                 # -t, -tt, -ttt
    relative: bool = False              # -r
    strsize: int = 32                   # -s
    show_paths: bool = False            # -y
    xmode: str = "abbrev"               # -X
    quiet: int = 0                      # -q (nothing to suppress), -qq: no +++ exit lines
    fmt: str = "text"                   # --format text|json
    timeline: str | None = None         # --timeline FILE
    stack: bool = False                 # --stack
    deterministic: bool = False


_CLASSES = ("file", "process", "memory", "signal", "desc", "network", "ipc", "creds", "clock",
            "stat", "lstat", "fstat", "stat_like", "pure")


def _all_names():
    from umlpy.abi.extensions import EXTENSION_NAMES
    from umlpy.abi.syscall_nr import SYSCALL_NAMES
    return set(SYSCALL_NAMES.values()) | set(EXTENSION_NAMES.values())


def _class_members(cls: str) -> set:
    from umlpy.trace.specs import SPECS
    return {name for name, spec in SPECS.items() if cls in spec.classes}


def parse_syscall_set(text: str) -> frozenset:
    """strace's syscall set: names, %class, /regex, all/none, with a leading ! to negate."""
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    names = set()
    everything = _all_names()
    for item in filter(None, text.split(",")):
        item = item.strip()
        if item in ("all", "%all"):
            names |= everything
        elif item == "none":
            continue
        elif item.startswith("%") or item.startswith("?%"):
            cls = item.lstrip("?%")
            if cls not in _CLASSES:
                raise UmlpyError("invalid system call class %r" % item)
            names |= _class_members(cls)
        elif item.startswith("/"):
            try:
                rx = re.compile(item[1:])
            except re.error as e:
                raise UmlpyError("invalid regular expression %r: %s" % (item, e)) from None
            names |= {n for n in everything if rx.search(n)}
        else:
            q = item.lstrip("?")
            if q not in everything:
                if item.startswith("?"):
                    continue
                raise UmlpyError("invalid system call %r" % item)
            names.add(q)
    return frozenset(everything - names if negate else names)


def parse_signal_set(text: str) -> frozenset:
    from umlpy.abi.signal import Sig
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    sigs = set()
    for item in filter(None, text.split(",")):
        item = item.strip().upper()
        if item == "ALL":
            sigs |= set(range(1, 65))
        elif item == "NONE":
            continue
        elif item.isdigit():
            sigs.add(int(item))
        else:
            name = item if item.startswith("SIG") else "SIG" + item
            try:
                sigs.add(int(Sig[name]))
            except KeyError:
                raise UmlpyError("invalid signal %r" % item) from None
    return frozenset(set(range(1, 65)) - sigs if negate else sigs)


_STATUSES = {"successful", "failed", "unfinished", "unavailable", "detached"}


def parse_status_set(text: str) -> frozenset:
    negate = text.startswith("!")
    if negate:
        text = text[1:]
    items = set()
    for item in filter(None, text.split(",")):
        if item == "all":
            items |= _STATUSES
        elif item == "none":
            continue
        elif item in _STATUSES:
            items.add(item)
        else:
            raise UmlpyError("invalid status %r" % item)
    return frozenset(_STATUSES - items if negate else items)


def parse_inject(text: str) -> InjectRule:
    """``SET:error=ERRNO|retval=N[:when=EXPR]``."""
    from umlpy.abi.errno_tab import Errno
    parts = text.split(":")
    names = parse_syscall_set(parts[0])
    rule = InjectRule(names)
    for p in parts[1:]:
        key, _, val = p.partition("=")
        if key == "error":
            if val.isdigit():
                rule.error = int(val)
            else:
                try:
                    rule.error = int(Errno[val])
                except KeyError:
                    raise UmlpyError("invalid error %r in inject" % val) from None
            if not 0 < rule.error < 4096:
                raise UmlpyError("invalid error %r in inject" % val)
        elif key == "retval":
            try:
                rule.retval = int(val, 0)
            except ValueError:
                raise UmlpyError("invalid retval %r in inject" % val) from None
        elif key == "when":
            m = re.fullmatch(r"(\d+)(\+(\d*))?", val)
            if not m or int(m.group(1)) < 1:
                raise UmlpyError("invalid when=%r in inject" % val)
            rule.first = int(m.group(1))
            if m.group(2):
                rule.step = int(m.group(3)) if m.group(3) else 1
        else:
            raise UmlpyError("invalid inject option %r" % p)
    if rule.error is None and rule.retval is None:
        raise UmlpyError("inject needs error= or retval=")
    if rule.error is not None and rule.retval is not None:
        raise UmlpyError("inject takes error= or retval=, not both")
    return rule


def apply_expr(opts: TraceOptions, expr: str):
    """Apply one ``-e`` expression (``trace=``, ``signal=``, ``status=``, ``inject=``)."""
    key, sep, val = expr.partition("=")
    if not sep:
        key, val = "trace", expr
    if key in ("trace", "t"):
        opts.trace = parse_syscall_set(val)
    elif key in ("signal", "signals", "s"):
        opts.signals = parse_signal_set(val)
    elif key == "status":
        opts.status = parse_status_set(val)
    elif key == "inject":
        opts.inject.append(parse_inject(val))
    elif key in ("fault",):
        rule = parse_inject(val if ":error=" in val else val + ":error=ENOSYS")
        opts.inject.append(rule)
    else:
        raise UmlpyError("invalid -e expression %r" % expr)
