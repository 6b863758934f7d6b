"""bench section "workloads": issue 11's table of real commands, each beside native, strace and proot.

Rows (the guest's root is the host's: ``umlpy run PROGRAM`` without ``--rootfs``, as
``strace -f`` and ``proot`` run it):

- ``umlpy run hello`` (guest_images' hello-musl), wall, beside the bare interpreter
  (``python3 -c pass``, the floor of any Python program's start-up);
- ``python3 -c pass`` (the host's interpreter);
- ``gcc -O2 hello.c`` (cc1, as, collect2, ld: forks, execs, metadata calls, file I/O);
- ``ls -la /usr/bin | sort | md5sum`` (a directory's metadata);
- ``tar czf - /usr/share/doc/apt | wc -c`` (a tree's metadata and contents).

Columns: native, ``strace -f -o /dev/null``, ``proot`` (where installed), ``umlpy run``
and ``umlpy trace -f -o /dev/null``, with umlpy's ratios to strace.  Each figure is the
median wall time of bench.WALL_REPS runs, the runs of every tool interleaved so that load
from other work on the machine is spread over all of them.  A command that fails under a
tool (exit status other than 0) is marked FAILED for that tool, never timed.

Targets (issue 11): hello within 2.5x of ``python3 -c pass``; ``python3 -c pass`` within
2x of ``strace -f``; ``ls -la`` and ``tar czf`` no slower than under ``strace -f``; and
``umlpy trace -f -o /dev/null`` within 1.0x of ``strace -f -o /dev/null`` on every row.
"""

import os
import shutil
import statistics

TARGET_HELLO_VS_PYTHON = 2.5
TARGET_PYTHON_VS_STRACE = 2.0
TARGET_TRACE_VS_STRACE = 1.0


def _python():
    """The host's interpreter, as a user would run it (not the venv's wrapper)."""
    for cand in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.path.exists(cand):
            return cand
    return os.path.realpath(shutil.which("python3") or "/usr/bin/python3")


def workloads(bench, tmp):
    """[(key, label, argv)]."""
    hello_src = os.path.join(bench.ROOT, "guest_images", "src", "hello.c")
    return [
        ("hello", "umlpy run hello (hello-musl)", [os.path.join(bench.BIN, "hello-musl")]),
        ("python", "python3 -c pass (host root)", [_python(), "-c", "pass"]),
        ("gcc", "gcc -O2 hello.c", ["gcc", "-O2", "-o", os.path.join(tmp, "workload_hello"), hello_src]),
        ("ls", "ls -la /usr/bin | sort | md5sum", ["sh", "-c", "ls -la /usr/bin | sort | md5sum"]),
        ("tar", "tar czf - /usr/share/doc/apt | wc -c", ["sh", "-c", "tar czf - /usr/share/doc/apt | wc -c"]),
    ]


def tools(bench):
    """[(key, column title, prefix or None when not installed)]."""
    strace, proot = shutil.which("strace"), shutil.which("proot")
    return [
        ("native", "native", []),
        ("strace", "strace -f", [strace, "-f", "-o", "/dev/null"] if strace else None),
        ("proot", "proot", [proot] if proot else None),
        ("umlpy", "umlpy run", [bench.PY, "-m", "umlpy", "run"]),
        ("trace", "umlpy trace", [bench.PY, "-m", "umlpy", "trace", "-f", "-o", "/dev/null", "--"]),
    ]


def measure(bench, cells, reps):
    """cells: {(work, tool): argv}; returns {(work, tool): [seconds...] or "FAILED (...)"}."""
    out = {k: [] for k in cells}
    for _ in range(reps):
        for key, argv in cells.items():
            if isinstance(out[key], str):
                continue
            try:
                out[key].append(bench.wall(argv))
            except bench.Failed as e:
                out[key] = "FAILED (%s)" % e
    return out


def section(bench, tmp, umlpy):
    works, tls = workloads(bench, tmp), tools(bench)
    cells = {}
    for wkey, _, argv in works:
        for tkey, _, prefix in tls:
            if prefix is not None:
                cells[(wkey, tkey)] = prefix + argv
    cells[("floor", "native")] = [bench.PY, "-c", "pass"]      # the interpreter umlpy itself runs on
    res = measure(bench, cells, bench.WALL_REPS)

    def ms(wkey, tkey):
        r = res.get((wkey, tkey))
        return statistics.median(r) * 1e3 if isinstance(r, list) and r else None

    def cell(wkey, tkey):
        r = res.get((wkey, tkey))
        if r is None:
            return "not inst."
        if isinstance(r, str):
            return "FAILED"
        return "%.1f" % ms(wkey, tkey)

    def ratio(a, b):
        return bench.fmt_ratio(a / b) if a and b else "-"

    print("workloads (issue 11): median wall ms of %d runs, interleaved; the guest's root is the host's"
          % bench.WALL_REPS)
    widths = (38, 9, 10, 9, 10, 9, 12, 9)
    print(bench.row("work", "native", "strace -f", "proot", "umlpy run", "/strace", "umlpy trace", "/strace",
                    widths=widths))
    print(bench.row(*(["-" * w for w in widths]), widths=widths))
    for wkey, label, _ in works:
        st, um, tr = ms(wkey, "strace"), ms(wkey, "umlpy"), ms(wkey, "trace")
        print(bench.row(label, cell(wkey, "native"), cell(wkey, "strace"), cell(wkey, "proot"),
                        cell(wkey, "umlpy"), ratio(um, st), cell(wkey, "trace"), ratio(tr, st), widths=widths))
    floor = ms("floor", "native")
    print("  python3 -c pass of umlpy's own interpreter (%s): %s ms" % (bench.PY, "%.1f" % floor if floor
                                                                         else res[("floor", "native")]))
    failed = sorted((k, v) for k, v in res.items() if isinstance(v, str))
    for (wkey, tkey), why in failed:
        print("  %s under %s: %s" % (wkey, tkey, why))
    print()

    targets = []

    def target(label, value, ref, limit, what):
        if value is None or ref is None:
            targets.append((label, None, "not measured"))
        else:
            targets.append((label, value <= limit * ref, "%.1f ms, %s %s (%.1f ms)" % (
                value, bench.fmt_ratio(value / ref), what, ref)))

    target("umlpy run hello within %.1fx of python3 -c pass" % TARGET_HELLO_VS_PYTHON, ms("hello", "umlpy"), floor,
           TARGET_HELLO_VS_PYTHON, "python3 -c pass")
    target("umlpy run python3 -c pass within %.1fx of strace -f" % TARGET_PYTHON_VS_STRACE, ms("python", "umlpy"),
           ms("python", "strace"), TARGET_PYTHON_VS_STRACE, "strace -f")
    for wkey in ("ls", "tar"):
        target("%s no slower than under strace -f" % wkey, ms(wkey, "umlpy"), ms(wkey, "strace"), 1.0, "strace -f")
    for wkey, label, _ in works:
        target("umlpy trace -f %s within %.1fx of strace -f" % (wkey, TARGET_TRACE_VS_STRACE), ms(wkey, "trace"),
               ms(wkey, "strace"), TARGET_TRACE_VS_STRACE, "strace -f -o /dev/null")
    return targets
