"""The ``umlpy`` command.

    umlpy run [--rootfs DIR] [--platform NAME] [--memory SIZE] [--env K=V] [PROGRAM [ARGS...]]

Errors of umlpy itself are one line on stderr and exit status 125; otherwise
umlpy exits with the guest's status (128 + signal for a signal, as a shell).
"""

import argparse
import os
import signal
import sys

from umlpy.errors import UmlpyError

EXIT_UMLPY_ERROR = 125


def _size(text: str) -> int:
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("ib").rstrip("b")
    mult = 1
    if t and t[-1] in units:
        mult = units[t[-1]]
        t = t[:-1]
    try:
        value = int(t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError("bad size %r (e.g. 512M, 1G)" % text) from None
    if value <= 0:
        raise argparse.ArgumentTypeError("size must be positive")
    return value


def _env(text: str):
    if "=" not in text:
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


def build_parser():
    p = argparse.ArgumentParser(prog="umlpy", description="A hosted VMM in the spirit of User-Mode Linux.")
    p.add_argument("--version", action="version", version="umlpy 0.1.0")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    r = sub.add_parser("run", help="boot a guest program (default: the built-in image's /init)")
    _machine_options(r)
    r.add_argument("program", nargs="?", help="guest program (default: /init of the default image)")
    r.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    s = sub.add_parser("syscalls", help="list the system-call table (implemented, partial, ENOSYS)")
    s.add_argument("--all", action="store_true", help="also list the ENOSYS rows")
    return p


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
    res = api.run(argv, rootfs=rootfs, platform=ns.platform, env=env, memory=ns.memory, capture=False)
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
    parser = build_parser()
    ns = parser.parse_args(argv)
    if ns.cmd is None:
        parser.print_help()
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if ns.cmd == "run":
            return cmd_run(ns)
        if ns.cmd == "syscalls":
            return cmd_syscalls(ns)
    except UmlpyError as e:
        print("umlpy: %s" % e, file=sys.stderr)
        return EXIT_UMLPY_ERROR
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except BrokenPipeError:
        return 128 + signal.SIGPIPE
    return 2


if __name__ == "__main__":
    sys.exit(main())
