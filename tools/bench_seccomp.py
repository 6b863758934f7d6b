"""bench section "seccomp": the floors a seccomp platform (issue 13) would stand on.

``tools/seccomp_floor.c`` times N getppid calls answered four ways on this host: the
plain call, an in-process SECCOMP_RET_TRAP + SIGSYS handler (what a stub answering
from its shared page costs at the least), the same trap handed to a supervisor
process over a shared page and a futex (what every call the supervisor sees costs at
the least: gVisor's systrap, UML's SECCOMP mode), and SECCOMP_RET_USER_NOTIF answered
by a supervisor thread; each with the two sides on one CPU and on two.  Beside them:
the bare C PTRACE_SYSEMU tracer (tools/sysemu_tracer.c) and umlpy's ``--platform c``
on the same getppid loop, so the gap a seccomp platform could close is read off one
run.  umlpy has no seccomp platform yet: this section measures floors and sets no
target.
"""

import os
import statistics
import subprocess

N_FLOOR = 200000


def _floor(binary, mode, split, n=N_FLOOR, reps=5):
    """Median ns per call over ``reps`` runs, or an error string."""
    out = []
    for _ in range(reps):
        cmd = [binary, mode, str(n)] + (["--split-cpu"] if split else [])
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        except subprocess.TimeoutExpired:
            return "timed out"
        if p.returncode != 0:
            err = p.stderr.decode(errors="replace").strip().splitlines()
            return "failed (%s)" % (err[-1][:40] if err else "exit %d" % p.returncode)
        out.append(float(p.stdout.split()[-1]))
    return statistics.median(out)


def section(bench, tmp, umlpy):
    cc = bench.shutil.which("gcc") or bench.shutil.which("cc")
    if cc is None:
        raise bench.Failed("needs gcc to build tools/seccomp_floor.c")
    floor = os.path.join(tmp, "seccomp_floor")
    subprocess.run([cc, "-O2", "-Wall", "-pthread", "-o", floor,
                    os.path.join(bench.TOOLS, "seccomp_floor.c")], check=True)
    tracer = os.path.join(tmp, "sysemu_tracer_seccomp")
    subprocess.run([cc, "-O2", "-Wall", "-o", tracer, os.path.join(bench.TOOLS, "sysemu_tracer.c")],
                   check=True)
    prog = os.path.join(bench.BIN, "getppid_loop")
    loops = [bench.Loop("bare C SYSEMU tracer, same CPU", [tracer, "--same-cpu"], prog, 100000),
             bench.Loop("umlpy --platform c", umlpy + ["--platform", "c"], prog, 50000)]
    bench.measure(loops)

    rows = []
    for label, mode, split in (("native getppid", "native", False),
                               ("SECCOMP_RET_TRAP, answered in the SIGSYS handler", "trap", False),
                               ("trap + futex hand-off to a supervisor, one CPU", "trap-futex", False),
                               ("trap + futex hand-off to a supervisor, two CPUs", "trap-futex", True),
                               ("SECCOMP_RET_USER_NOTIF, one CPU", "usernotif", False),
                               ("SECCOMP_RET_USER_NOTIF, two CPUs", "usernotif", True)):
        ns = _floor(floor, mode, split)
        rows.append((label, ns if isinstance(ns, str) else ns / 1000.0))
    for lp in loops:
        rows.append((lp.name + " (whole round trip)", lp.error or lp.us()))

    print("seccomp: the floors of a seccomp platform on this host (us per getppid)")
    widths = (60, 12, 14)
    print(bench.row("how the call is answered", "us/call", "vs SYSEMU", widths=widths))
    print(bench.row(*(["-" * w for w in widths]), widths=widths))
    sysemu = rows[-2][1] if not isinstance(rows[-2][1], str) else None
    for label, v in rows:
        if isinstance(v, str):
            print(bench.row(label, v[:12], "", widths=widths))
            continue
        print(bench.row(label, bench.fmt_us(v), bench.fmt_ratio(v / sysemu) if sysemu else "?",
                        widths=widths))
    print("  umlpy has no seccomp platform yet (issue 13): these are the floors it would stand on")
    return []
