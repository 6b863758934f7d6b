"""bench section "mm": fork + _exit + wait of parents with 8, 64 and 256 MiB of written
private memory, natively, under ``strace -f`` and under umlpy (both platforms).

Issue 11's target "fork is flat in memory": 100 fork+exit+wait of a 256 MiB parent
within 1.5x of the same with an 8 MiB parent (range-level copy-on-write and
release).  The program (guest_images/src/forkbench.c) times its own loop
(CLOCK_MONOTONIC), so the parent's set-up (writing every page) is not counted.
"""

import os
import shutil
import statistics
import subprocess

SIZES = (8, 64, 256)
FORKS = 100
REPS = 3
FLAT_TARGET = 1.5


def _per_fork(cmd, mib, bench):
    """Median µs per fork of REPS runs of ``cmd + [forkbench, mib, FORKS]``; raises bench.Failed."""
    prog = os.path.join(bench.BIN, "forkbench")
    vals = []
    for _ in range(REPS):
        try:
            p = subprocess.run(cmd + [prog, str(mib), str(FORKS)], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=bench.ENV,
                               timeout=bench.TIMEOUT_S * 5)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise bench.Failed(str(e)[:60])
        line = p.stdout.decode(errors="replace").strip().splitlines()
        if p.returncode != 0 or not line or not line[-1].startswith("forkbench "):
            raise bench.Failed("exit %d" % p.returncode)
        vals.append(float(line[-1].split()[2]))
    return statistics.median(vals)


def section(bench, tmp, umlpy):
    if not os.path.exists(os.path.join(bench.BIN, "forkbench")):
        print("mm: forkbench not built (make images)")
        return [("fork flat in memory (256 MiB / 8 MiB <= %.1fx)" % FLAT_TARGET, None, "not built")]
    tools = [("native", [])]
    if shutil.which("strace"):
        tools.append(("strace -f", ["strace", "-f", "-o", "/dev/null"]))
    tools += [("umlpy -p c", umlpy + ["--platform", "c"]),
              ("umlpy -p python", umlpy + ["--platform", "python"])]
    print("fork + _exit + wait of a parent with N MiB of written private memory "
          "(us per fork, median of %d runs of %d forks)" % (REPS, FORKS))
    widths = (24,) + (11,) * len(SIZES) + (13,)
    print(bench.row("tool", *["%d MiB" % s for s in SIZES], "256/8 MiB", widths=widths))
    print(bench.row("-" * 24, *["-" * 11] * len(SIZES), "-" * 13, widths=widths))
    res = {}
    for name, cmd in tools:
        cells = []
        got = res[name] = {}
        for mib in SIZES:
            try:
                got[mib] = _per_fork(cmd, mib, bench)
                cells.append(bench.fmt_us(got[mib]))
            except bench.Failed as e:
                cells.append("FAILED")
                print("  %s at %d MiB: %s" % (name, mib, e))
        flat = got[256] / got[8] if got.get(256) and got.get(8) else None
        cells.append(bench.fmt_ratio(flat) if flat else "-")
        print(bench.row(name, *cells, widths=widths))
    for ref in ("native", "strace -f"):
        if ref in res:
            print(bench.row("umlpy -p c / " + ref,
                            *[bench.fmt_ratio(res["umlpy -p c"][m] / res[ref][m])
                              if res["umlpy -p c"].get(m) and res[ref].get(m) else "-" for m in SIZES],
                            "", widths=widths))
    print()
    targets = []
    for name in ("umlpy -p c", "umlpy -p python"):
        got = res.get(name, {})
        flat = got[256] / got[8] if got.get(256) and got.get(8) else None
        targets.append(("fork flat in memory, %s: 256 MiB / 8 MiB <= %.1fx" % (name, FLAT_TARGET),
                        None if flat is None else flat <= FLAT_TARGET,
                        "-" if flat is None else "%.2fx" % flat))
    c, st = res.get("umlpy -p c", {}), res.get("strace -f", {})
    targets.append(("fork of a small (8 MiB) parent <= strace -f (stub pool: platform)",
                    None if not (c.get(8) and st.get(8)) else c[8] <= st[8],
                    "%s vs %s us" % (bench.fmt_us(c[8]), bench.fmt_us(st[8])) if c.get(8) and st.get(8)
                    else "-"))
    return targets
