"""bench section "as": the first-class VAS RFC's comparisons under umlpy (issue 8).

The RFC measured a VAS switch at 468 ns against 1944 ns for a switch between two
processes (0.24x), and VAS creation at 20 us against 150 us for fork (0.13x).  Here,
timed inside the guest by guest_images/src/asbench.c on both platforms: switch_as and
vas_switch round trips against a pipe ping-pong between two guest processes (each round
trip is two switches), new_as and vas_create+attach against guest fork, and the cost of
a refill fault of a 100,000-page nonuniform remap_file_pages mapping (its host mappings
evicted: more runs than the host cache may hold) beside a first-touch anonymous fault.
Targets: switch <= 0.25x a process switch, create <= 0.15x fork.
"""

import os
import subprocess

ROWS = (
    ("pipe_roundtrip", "pipe ping-pong round trip (2 process switches)"),
    ("switch_as_rt", "switch_as(1) + switch_as(0)"),
    ("vas_switch_rt", "vas_switch(vid) + vas_switch(0)"),
    ("fork", "fork + _exit + wait"),
    ("new_as", "new_as"),
    ("vas_create_attach", "vas_create + vas_attach"),
    ("anon_fault", "first-touch fault, anonymous memory"),
    ("nonuniform_refill", "refill fault, 100,000-page nonuniform mapping"),
)
SWITCH_TARGET, CREATE_TARGET = 0.25, 0.15


def _run(umlpy, plat, prog, n, bench):
    try:
        p = subprocess.run(umlpy + ["--platform", plat, prog, str(n)], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=bench.TIMEOUT_S * 10)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if p.returncode != 0:
        return {}
    out = {}
    for line in p.stdout.decode(errors="replace").splitlines():
        name, _, val = line.partition(" ")
        try:
            out[name] = float(val)
        except ValueError:
            pass
    return out


def section(bench, tmp, umlpy):
    prog = os.path.join(bench.BIN, "asbench")
    if not os.path.exists(prog):
        print("as: asbench not built (make images)")
        return [("address-space switch and creation ratios", None, "not built")]
    res = {"c": _run(umlpy, "c", prog, 2000, bench), "python": _run(umlpy, "python", prog, 1000, bench)}
    print("many address spaces (asbench, timed inside the guest, us per operation)")
    widths = (48, 12, 12)
    print(bench.row("operation", "-p c", "-p python", widths=widths))
    print(bench.row("-" * 48, "-" * 12, "-" * 12, widths=widths))
    for name, label in ROWS:
        cells = []
        for plat in ("c", "python"):
            v = res[plat].get(name)
            cells.append(bench.fmt_us(v) if v is not None else ("FAILED" if not res[plat] else "n/a"))
        print(bench.row(label, *cells, widths=widths))

    def ratio(plat, a, b):
        r = res[plat]
        return r[a] / r[b] if r.get(a) and r.get(b) else None

    for label, a, b in (("switch_as / process switch", "switch_as_rt", "pipe_roundtrip"),
                        ("vas_switch / process switch", "vas_switch_rt", "pipe_roundtrip"),
                        ("new_as / fork", "new_as", "fork"),
                        ("vas_create+attach / fork", "vas_create_attach", "fork"),
                        ("nonuniform refill / anonymous first touch", "nonuniform_refill", "anon_fault")):
        print(bench.row("  " + label, *[bench.fmt_ratio(x) if x else "-"
                                        for x in (ratio("c", a, b), ratio("python", a, b))],
                        widths=widths))
    print()
    targets = []
    for plat in ("c", "python"):
        for label, a, b, limit in (("switch_as", "switch_as_rt", "pipe_roundtrip", SWITCH_TARGET),
                                   ("vas_switch", "vas_switch_rt", "pipe_roundtrip", SWITCH_TARGET),
                                   ("new_as", "new_as", "fork", CREATE_TARGET),
                                   ("vas_create+attach", "vas_create_attach", "fork", CREATE_TARGET)):
            x = ratio(plat, a, b)
            targets.append(("%s <= %.2fx %s (-p %s)" % (label, limit,
                                                         "a process switch" if "switch" in a else "fork",
                                                         plat),
                            None if x is None else x <= limit, "-" if x is None else "%.2fx" % x))
    return targets
