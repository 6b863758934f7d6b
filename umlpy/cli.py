"""The ``umlpy`` command.

    umlpy run [--rootfs DIR] [--platform NAME] [--memory SIZE] [--env K=V] [--vas-store DIR]
              [--bind HOST:GUEST[:ro|rw]]
              [PROGRAM [ARGS...]]

Errors of umlpy itself are one line on stderr and exit status 125; otherwise
umlpy exits with the guest's status (128 + signal for a signal, as a shell).
"""

import os
import signal
import sys

from umlpy.errors import UmlpyError

EXIT_UMLPY_ERROR = 125


def _size(text: str) -> int:
    from umlpy.api import parse_size
    try:
        return parse_size(text)
    except ValueError as e:
        import argparse
        raise argparse.ArgumentTypeError(str(e)) from None


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        import argparse
        raise argparse.ArgumentTypeError("%r is not a TCP port (0-65535)" % text)
    return port


def _env(text: str):
    if "=" not in text:
        import argparse
        raise argparse.ArgumentTypeError("--env wants NAME=VALUE")
    return tuple(text.split("=", 1))


def _machine_options(p):
    p.add_argument("--rootfs", metavar="DIR",
                   help="host directory used as the guest's root; PROGRAM is then a path inside it")
    p.add_argument("--platform", default="auto", choices=("auto", "c", "python"),
                   help="how guests are run: the C shim (c) or pure-Python ptrace (python)")
    p.add_argument("--memory", type=_size, default=1 << 30, metavar="SIZE",
                   help="guest memory (default 1G)")
    p.add_argument("--env", type=_env, action="append", default=[], metavar="NAME=VALUE",
                   help="add a variable to the first process's environment")
    p.add_argument("--clean-env", action="store_true",
                   help="give a host program the minimal environment (PATH, HOME, TERM) instead of "
                        "yours (always so with --deterministic and --rootfs)")
    p.add_argument("--net", choices=("loopback", "none"), default="loopback",
                   help="inet sockets: the guest's own private loopback (default), or none (EAFNOSUPPORT)")
    p.add_argument("--vas-store", metavar="DIR",
                   help="keep VAS segments (their contents and attributes) in DIR across runs")
    p.add_argument("--bind", action="append", default=[], metavar="HOST:GUEST[:ro|rw]",
                   help="show host directory HOST at GUEST in the guest, read-write (the only way "
                        "a guest changes host files) or read-only with :ro; repeatable")


def build_parser(only=None):
    """umlpy's argparse parser; with ``only`` (a command name) just that command's part:
    the other commands' options are never built when one was named."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        """argparse with umlpy's error convention: one line on stderr, exit status 125."""

        def error(self, message):
            self.exit(EXIT_UMLPY_ERROR, "umlpy: %s (see '%s --help')\n" % (message, self.prog))

    from umlpy import __version__
    p = _Parser(prog="umlpy", description="A hosted VMM in the spirit of User-Mode Linux.")
    p.add_argument("--version", action="version", version="umlpy " + __version__)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser)
    if only in (None, "run"):
        r = sub.add_parser("run", help="boot a guest program (default: the built-in image's /init)")
        _machine_options(r)
        r.add_argument("program", nargs="?", help="guest program (default: /init of the default image)")
        r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
        r.add_argument("--deterministic", action="store_true",
                       help="virtual clock and seeded randomness: identical runs give identical output")
        r.add_argument("--gdb", type=_port, metavar="PORT",
                       help="wait for gdb on localhost:PORT before the first instruction "
                            "(then: gdb PROGRAM -ex 'target remote :PORT'), as qemu-x86_64 -g PORT")
    if only in (None, "trace"):
        _trace_parser(sub)
    if only in (None, "syscalls"):
        s = sub.add_parser("syscalls", help="list the system-call table (implemented, partial, ENOSYS)")
        s.add_argument("--all", action="store_true", help="also list the ENOSYS rows")
    return p


def _trace_parser(sub):
    import argparse
    t = sub.add_parser("trace", help="run a guest and trace its system calls (strace-compatible)",
                       usage="umlpy trace [OPTIONS] -- PROGRAM [ARGS...]")
    _machine_options(t)
    t.add_argument("-f", dest="follow", action="count", default=0,
                   help="follow forks and threads; -ff with -o: one file per task (FILE.tid)")
    t.add_argument("-o", dest="output", metavar="FILE", help="write the trace to FILE instead of stderr")
    t.add_argument("-e", dest="exprs", action="append", default=[], metavar="EXPR",
                   help="trace=SET, signal=SET, status=SET, inject=SET:error=E|retval=N[:when=EXPR]")
    t.add_argument("-c", dest="summary", action="store_true", help="count time, calls and errors; summary only")
    t.add_argument("-C", dest="summary_too", action="store_true", help="like -c, and print the trace too")
    t.add_argument("-T", dest="durations", action="store_true", help="show the time spent in each call")
    t.add_argument("-t", dest="timestamps", action="count", default=0,
                   help="prefix lines with the time of day (-tt: with microseconds, -ttt: epoch seconds)")
    t.add_argument("-r", dest="relative", action="store_true", help="prefix lines with the time since the last one")
    t.add_argument("-s", dest="strsize", type=int, default=32, metavar="N",
                   help="print at most N bytes of strings (default 32)")
    t.add_argument("-y", dest="show_paths", action="store_true", help="print the path behind each fd")
    t.add_argument("-X", dest="xmode", choices=("raw", "abbrev", "verbose"), default="abbrev",
                   help="how constants print: raw numbers, names (default), or both")
    t.add_argument("-q", dest="quiet", action="count", default=0,
                   help="no attach/detach messages (umlpy prints none); -qq: no '+++ exited' lines either")
    t.add_argument("--format", dest="fmt", choices=("text", "json"), default="text",
                   help="text (strace's syntax) or json (one JSON object per event per line)")
    t.add_argument("--timeline", metavar="FILE",
                   help="also write a Chrome trace-event file (opens in Perfetto, chrome://tracing)")
    t.add_argument("--stack", action="store_true", help="print the guest's call chain of each traced call")
    t.add_argument("--deterministic", action="store_true",
                   help="virtual clock, seeded randomness: byte-identical traces run after run")
    t.add_argument("program", help="guest program")
    t.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")


class _RunArgs:
    """What ``umlpy run`` was asked, as argparse's namespace has it (see :func:`parse_run_fast`)."""

    def __init__(self):
        self.cmd = "run"
        self.rootfs = self.vas_store = self.gdb = self.program = None
        self.platform = "auto"
        self.memory = 1 << 30
        self.env = []
        self.args = []
        self.bind = []
        self.net = "loopback"
        self.clean_env = self.deterministic = False


#: ``umlpy run``'s options: name -> (attribute, how the value is read; None for a switch).
_RUN_OPTIONS = {"--rootfs": ("rootfs", str), "--platform": ("platform", "platform"),
                "--memory": ("memory", "size"), "--env": ("env", "env"), "--vas-store": ("vas_store", str),
                "--gdb": ("gdb", "port"), "--clean-env": ("clean_env", None),
                "--deterministic": ("deterministic", None), "--net": ("net", "net"),
                "--bind": ("bind", "append")}


def parse_run_fast(argv):
    """``umlpy run``'s command line read without argparse (which, with the formatter it
    builds, costs several milliseconds of a start-up that should take about 30): the
    namespace argparse would give, or None for anything unusual (help, an abbreviated,
    unknown or misused option, a bad value, ``--``), which argparse then reads and
    reports as usual.  tests/unit/test_cli.py checks both agree."""
    if not argv or argv[0] != "run" or "--" in argv:     # argparse drops a "--" from PROGRAM's args
        return None
    ns = _RunArgs()
    i, n = 1, len(argv)
    while i < n:
        tok = argv[i]
        if not tok.startswith("-") or tok == "-":
            ns.program, ns.args = tok, list(argv[i + 1:])
            return ns
        name, eq, value = tok.partition("=")
        opt = _RUN_OPTIONS.get(name)
        if opt is None:
            return None
        attr, kind = opt
        if kind is None:
            if eq:
                return None
            setattr(ns, attr, True)
            i += 1
            continue
        if not eq:
            if i + 1 >= n or argv[i + 1].startswith("-"):
                return None
            value = argv[i + 1]
            i += 1
        i += 1
        if kind == "platform":
            if value not in ("auto", "c", "python"):
                return None
        elif kind == "net":
            if value not in ("loopback", "none"):
                return None
        elif kind == "append":
            getattr(ns, attr).append(value)
            continue
        elif kind == "size":
            from umlpy.api import parse_size
            try:
                value = parse_size(value)
            except ValueError:
                return None
        elif kind == "env":
            if "=" not in value:
                return None
            ns.env.append(tuple(value.split("=", 1)))
            continue
        elif kind == "port":
            if not value.isdigit() or not 0 <= int(value) <= 65535:
                return None
            value = int(value)
        setattr(ns, attr, value)
    return ns


def _on_sigterm(signo, frame):
    raise SystemExit(128 + signo)


def cmd_run(ns) -> int:
    from umlpy import api
    env = dict(ns.env)
    if ns.program is None:
        rootfs = ns.rootfs or api.default_image()
        argv = ["/init"]
    else:
        rootfs = ns.rootfs
        argv = [ns.program] + ns.args
    res = api.run(argv, rootfs=rootfs, platform=ns.platform, env=env, memory=ns.memory, capture=False,
                  deterministic=ns.deterministic, clean_env=ns.clean_env, gdb=ns.gdb,
                  vas_store=ns.vas_store, binds=ns.bind, net=ns.net)
    return res.exit_code


def cmd_trace(ns) -> int:
    from umlpy import api
    from umlpy.trace.options import TraceOptions, apply_expr
    from umlpy.trace.tracer import Tracer
    if ns.strsize < 0:
        raise UmlpyError("-s: a size cannot be negative")
    if ns.follow >= 2 and not ns.output:
        raise UmlpyError("-ff needs -o FILE")
    opts = TraceOptions(follow_forks=ns.follow >= 1, output_separately=ns.follow >= 2, output=ns.output,
                        summary=ns.summary and not ns.summary_too, summary_too=ns.summary_too,
                        durations=ns.durations, timestamps=ns.timestamps, relative=ns.relative,
                        strsize=ns.strsize, show_paths=ns.show_paths, xmode=ns.xmode, quiet=ns.quiet,
                        fmt=ns.fmt, timeline=ns.timeline, stack=ns.stack, deterministic=ns.deterministic)
    for expr in ns.exprs:
        apply_expr(opts, expr)
    args = list(ns.args)
    if args and args[0] == "--":
        args = args[1:]
    try:
        tracer = Tracer(opts)
    except OSError as e:
        raise UmlpyError("%s: %s" % (ns.output, e.strerror)) from None
    res = api.run([ns.program] + args, rootfs=ns.rootfs, platform=ns.platform, env=dict(ns.env),
                  memory=ns.memory, capture=False, tracer=tracer, deterministic=ns.deterministic,
                  clean_env=ns.clean_env, vas_store=ns.vas_store, binds=ns.bind, net=ns.net)
    return res.exit_code


def cmd_syscalls(ns) -> int:
    from umlpy.syscalls import default_table
    from umlpy.syscalls.table import Support
    for row in default_table():
        if row.support == Support.ENOSYS and not ns.all:
            continue
        print("%4d  %-24s %-8s %s" % (row.nr, row.name, row.support.value, row.note))
    return 0


def main(argv=None) -> int:
    # Before anything is opened: no fd of ours may land on a closed 0, 1 or 2.
    from umlpy.platform.hostfds import guard_std_fds
    guard_std_fds()
    ns = parse_run_fast(sys.argv[1:] if argv is None else argv)
    if ns is None:
        args = sys.argv[1:] if argv is None else argv
        parser = build_parser(args[0] if args and args[0] in ("run", "trace", "syscalls") else None)
        ns = parser.parse_args(argv)
        if ns.cmd is None:
            parser.print_help()
            return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if ns.cmd == "run":
            return cmd_run(ns)
        if ns.cmd == "trace":
            return cmd_trace(ns)
        if ns.cmd == "syscalls":
            return cmd_syscalls(ns)
    except UmlpyError as e:
        print("umlpy: %s" % e, file=sys.stderr)
        return EXIT_UMLPY_ERROR
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return 128 + signal.SIGPIPE
    except Exception as e:      # a bug of ours: one line, unless debugging
        if os.environ.get("UMLPY_DEBUG") == "1":
            raise
        print("umlpy: internal error: %s: %s (set UMLPY_DEBUG=1 for a traceback)"
              % (type(e).__name__, e), file=sys.stderr)
        return EXIT_UMLPY_ERROR
    return 2


if __name__ == "__main__":
    sys.exit(main())
