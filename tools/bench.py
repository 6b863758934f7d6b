#!/usr/bin/env python3
"""umlpy benchmarks (``make bench``): umlpy side by side with native runs and peers.

Prints, in one run:

1. the per-call cost of a raw getppid loop (``getppid_loop N``): native, the
   bare C PTRACE_SYSEMU tracer (tools/sysemu_tracer.c, same CPU and split
   CPUs), umlpy on both platforms, strace, proot, qemu-user and User-Mode
   Linux where installed.  Per-call cost = (wall(N) - wall(0)) / N, so
   process and interpreter start-up cancel out;
2. the per-call cost of a syscall that the C fast path does not answer
   (getrandom, handled by the guest kernel in Python);
3. the wall time of whole ``python3 -m umlpy run ...`` commands (hello
   programs, the default image boot), Python start-up included;
4. the targets from the issues, PASS/MISS (including the cost of a traced
   call against strace's).

Medians of several repetitions.  Performance is measured here and never
asserted in the tests (DESIGN.md, "Quality bars").  This is not a test: a
missing peer prints "not installed", a failing one (exit status other than 0)
"FAILED", never a figure.
"""

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
BIN = os.path.join(ROOT, "guest_images", "build", "bin")
PY = sys.executable

#: Seconds a single loop measurement should take; N is rescaled towards it.
TARGET_S = 1.5
#: Repetitions of a loop measurement (the median is reported).
LOOP_REPS = 3
#: Repetitions of a whole-command wall-time measurement.
WALL_REPS = 7
#: No single command may take longer than this.
TIMEOUT_S = 60

#: The targets from the issue.
TARGET_RATIO_VS_TRACER = 1.3
TARGET_PY_SYSCALL_US = 15.0
TARGET_HELLO_MS = 150.0

# A freestanding guest whose system call the C fast path does not answer:
# N getrandom(buf, 8, 0) calls, each checked, so that an ENOSYS shows up as a
# failed run instead of a fast one.
GETRANDOM_LOOP_C = r"""
#include "freestanding.h"
#define SYS_getrandom 318
int main(int argc, char **argv, char **envp)
{
	(void)envp;
	char buf[8];
	long n = argc > 1 ? parse_long(argv[1]) : 100000;
	for (long i = 0; i < n; i++)
		if (sys3(SYS_getrandom, (long)buf, sizeof(buf), 0) != sizeof(buf))
			return 1;
	return 0;
}
"""


# A freestanding guest that takes N page faults.  FAULT_REFILL=0: N first-touch
# write faults, one per 16-page fault-around window of a 4096-page region
# (MADV_DONTNEED after each pass makes the pages absent again).  FAULT_REFILL=1:
# the region is touched once and every other page made read-only (4096 host
# mappings), then N reads 17 pages apart; run with a host-mapping budget of 128
# (UMLPY_HOST_MAP_BUDGET) nearly every read is a refill of an evicted page.
FAULT_LOOP_C = r"""
#include "freestanding.h"
#define SYS_mmap 9
#define SYS_mprotect 10
#define SYS_madvise 28
#define NPAGES 4096
int main(int argc, char **argv, char **envp)
{
	(void)envp;
	long n = argc > 1 ? parse_long(argv[1]) : 100000;
	volatile char *p = (volatile char *)syscall6(SYS_mmap, 0, NPAGES * 4096L, 3, 0x22, -1, 0);
	if ((long)p < 0)
		return 1;
	long sum = 0;
	if (FAULT_REFILL) {
		for (long i = 0; i < NPAGES; i++)
			p[i * 4096] = 1;
		for (long i = 0; i < NPAGES; i += 2)
			if (sys3(SYS_mprotect, (long)(p + i * 4096), 4096, 1))
				return 1;
		for (long k = 0; k < n; k++)
			sum += p[((k * 17) % NPAGES) * 4096];
		return sum != n;
	}
	for (long k = 0; k < n; k++) {
		long i = (k * 16) % NPAGES;
		if (k && i == 0 && sys3(SYS_madvise, (long)p, NPAGES * 4096L, 4))
			return 1;
		p[i * 4096] = 1;
	}
	return 0;
}
"""


class Failed(Exception):
    """A command did not run to a clean exit."""


# --- running and timing ----------------------------------------------------------

def umlpy_env():
    env = dict(os.environ)
    # As users run it: Python writes the bytecode of modules it compiles, so umlpy's
    # start-up is not a recompilation of every module changed since the last build.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


ENV = umlpy_env()


def wall(cmd, stdin=subprocess.DEVNULL):
    """Wall seconds of one run of ``cmd``; raises Failed unless it exits 0."""
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=ENV, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Failed("timed out after %d s" % TIMEOUT_S)
    except OSError as e:
        raise Failed(str(e))
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip().splitlines()
        raise Failed("exit %d%s" % (p.returncode, (": " + err[-1][:60]) if err else ""))
    return dt


def median_wall(cmd, reps):
    return statistics.median(wall(cmd) for _ in range(reps))


def nice_n(n):
    """``n`` rounded down to 1, 2 or 5 times a power of ten (at least 1000)."""
    n = max(int(n), 1000)
    p = 10 ** (len(str(n)) - 1)
    for m in (5, 2, 1):
        if n >= m * p:
            return m * p
    return p


class Loop:
    """One per-call measurement: ``prefix + [prog, N]`` against ``prefix + [prog, "0"]``."""

    def __init__(self, name, prefix, prog, n):
        self.name, self.prefix, self.prog, self.n = name, prefix, prog, n
        self.base = []              # wall seconds at N=0
        self.runs = []              # wall seconds at N
        self.error = None

    def cmd(self, n):
        return self.prefix + [self.prog, str(n)]

    def calibrate(self):
        """One run at the initial N; rescale N so that a run takes about TARGET_S."""
        base = wall(self.cmd(0))
        dt = wall(self.cmd(self.n)) - base
        if dt < TARGET_S / 3 or dt > TARGET_S * 2.5:
            self.n = nice_n(self.n * TARGET_S / max(dt, 1e-3))

    def measure_once(self):
        self.base.append(wall(self.cmd(0)))
        self.runs.append(wall(self.cmd(self.n)))

    def us(self, pick=statistics.median):
        """Per-call µs: ``pick`` (median or min) of wall(N), minus the median of wall(0)."""
        return max(pick(self.runs) - statistics.median(self.base), 0.0) / self.n * 1e6


def measure(loops):
    """Calibrate every loop, then run LOOP_REPS rounds of all of them, interleaved.

    Interleaving spreads any load from other work on the machine over all the
    tools instead of letting it land on one of them.
    """
    live = []
    for lp in loops:
        try:
            lp.calibrate()
            live.append(lp)
        except Failed as e:
            lp.error = "FAILED (%s)" % e
    for _ in range(LOOP_REPS):
        for lp in live:
            if lp.error is None:
                try:
                    lp.measure_once()
                except Failed as e:
                    lp.error = "FAILED (%s)" % e


# --- facts and peers -------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def first_line(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=10).stdout.decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    for line in out.splitlines():
        if line.strip():
            return line.strip()
    return "?"


def uml_binary():
    """The User-Mode Linux kernel binary, or None (Debian's user-mode-linux: /usr/bin/linux)."""
    for name in ("linux.uml", "linux", "vmlinux"):
        path = shutil.which(name)
        if path:
            return path
    return None


def build(tmp):
    """Compile the bare tracer and the getrandom guest into ``tmp``."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise SystemExit("bench: needs gcc to build tools/sysemu_tracer.c")
    tracer = os.path.join(tmp, "sysemu_tracer")
    subprocess.run([cc, "-O2", "-Wall", "-o", tracer, os.path.join(TOOLS, "sysemu_tracer.c")],
                   check=True)
    src = os.path.join(tmp, "getrandom_loop.c")
    with open(src, "w") as f:
        f.write(GETRANDOM_LOOP_C)
    grnd = os.path.join(tmp, "getrandom_loop")
    subprocess.run([cc, "-O2", "-Os", "-static", "-no-pie", "-fno-pie", "-ffreestanding",
                    "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-builtin",
                    "-nostdlib", "-Wl,--build-id=none", "-I", os.path.join(ROOT, "guest_images", "src"),
                    "-o", grnd, src], check=True)
    faults = {}
    with open(os.path.join(tmp, "fault_loop.c"), "w") as f:
        f.write(FAULT_LOOP_C)
    for mode in ("touch", "refill"):
        out = os.path.join(tmp, "fault_" + mode)
        subprocess.run([cc, "-O2", "-static", "-no-pie", "-fno-pie", "-ffreestanding",
                        "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-builtin",
                        "-nostdlib", "-Wl,--build-id=none", "-DFAULT_REFILL=%d" % (mode == "refill"),
                        "-I", os.path.join(ROOT, "guest_images", "src"), "-o", out,
                        os.path.join(tmp, "fault_loop.c")], check=True)
        faults[mode] = out
    return tracer, grnd, faults


# --- the report ------------------------------------------------------------------

def fmt_us(us):
    return "%.3f" % us if us < 1 else "%.2f" % us if us < 100 else "%.0f" % us


def fmt_ratio(x):
    return "%.1fx" % x if x >= 10 else "%.2fx" % x


def row(*cells, widths):
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(cells, widths)))


def main():
    t_start = time.perf_counter()
    if not os.path.exists(os.path.join(BIN, "getppid_loop")):
        raise SystemExit("bench: guest programs not built: make images")
    load = os.getloadavg()
    print("umlpy benchmarks")
    print("  machine  : %s, nproc %d, %s, Linux %s" % (cpu_model(), os.cpu_count() or 0,
                                                       platform.machine(), platform.release()))
    print("  python   : %s %s" % (platform.python_implementation(), platform.python_version()))
    print("  load avg : %.2f %.2f %.2f at start (other work on the machine skews the figures)" % load)
    uml = uml_binary()
    print("  peers    : strace %s, proot %s, qemu-x86_64 %s, user-mode-linux %s" % (
        "yes" if shutil.which("strace") else "no", "yes" if shutil.which("proot") else "no",
        "yes" if shutil.which("qemu-x86_64") else "no", uml or "not installed"))
    print("  method   : per-call = (wall(N) - wall(N=0)) / N, median of %d; wall: median of %d"
          % (LOOP_REPS, WALL_REPS))
    print()

    with tempfile.TemporaryDirectory(prefix="umlpy-bench-") as tmp:
        tracer, grnd, faults = build(tmp)
        loop = os.path.join(BIN, "getppid_loop")
        umlpy = [PY, "-m", "umlpy", "run"]
        if os.environ.get("BENCH_ONLY"):
            print("targets")
            for label, ok, measured in run_sections(tmp, umlpy):
                print("  %s  %-52s %s" % ("n/a " if ok is None else "PASS" if ok else "MISS", label, measured))
            return 0

        # 1 and 2: per-call loops, measured in interleaved rounds ---------------
        def installed(prefix):
            return not prefix or prefix[0] in (tracer, PY) or shutil.which(prefix[0])

        cases = [
            ("native", [], 10 ** 7),
            ("bare C tracer, same CPU", [tracer, "--same-cpu"], 2 * 10 ** 5),
            ("  same, PEEKUSER fast path", [tracer, "--same-cpu", "--peek"], 2 * 10 ** 5),
            ("bare C tracer, split CPUs", [tracer, "--split-cpu"], 10 ** 5),
            ("umlpy --platform c", umlpy + ["--platform", "c"], 2 * 10 ** 5),
            ("umlpy --platform python", umlpy + ["--platform", "python"], 2 * 10 ** 4),
            ("umlpy trace -f -o /dev/null", [PY, "-m", "umlpy", "trace", "-f", "-o", "/dev/null"], 10 ** 5),
            ("strace -f -o /dev/null", ["strace", "-f", "-o", "/dev/null"], 10 ** 5),
            ("proot", ["proot"], 10 ** 5),
            ("qemu-x86_64 (user mode)", ["qemu-x86_64"], 10 ** 6),
        ]
        if (os.cpu_count() or 1) < 2:
            cases = [c for c in cases if "split" not in c[0]]
        loops = [Loop(name, prefix, loop, n) for name, prefix, n in cases]
        for lp in loops:
            if not installed(lp.prefix):
                lp.error = "not installed"
        py_loops = [Loop(name, prefix, grnd, n) for name, prefix, n in (
            ("native", [], 10 ** 6),
            ("umlpy --platform c", umlpy + ["--platform", "c"], 2 * 10 ** 4),
            ("umlpy --platform python", umlpy + ["--platform", "python"], 2 * 10 ** 4),
            ("umlpy trace -f -o /dev/null", [PY, "-m", "umlpy", "trace", "-f", "-o", "/dev/null"], 2 * 10 ** 4),
            ("strace -f -o /dev/null", ["strace", "-f", "-o", "/dev/null"], 10 ** 5))]
        for lp in py_loops:
            if not installed(lp.prefix):
                lp.error = "not installed"
        tiny = ["env", "UMLPY_HOST_MAP_BUDGET=128"] + umlpy
        fault_loops = [Loop(name, prefix, faults[mode], n) for name, prefix, mode, n in (
            ("native, first touch", [], "touch", 10 ** 5),
            ("native, read (no fault)", [], "refill", 10 ** 6),
            ("umlpy -p c, first touch", umlpy + ["--platform", "c"], "touch", 2 * 10 ** 4),
            ("umlpy -p c, refill (budget 128)", tiny + ["--platform", "c"], "refill", 2 * 10 ** 4),
            ("umlpy -p python, first touch", umlpy + ["--platform", "python"], "touch", 10 ** 4),
            ("umlpy -p python, refill", tiny + ["--platform", "python"], "refill", 10 ** 4))]
        measure([lp for lp in loops + py_loops + fault_loops if lp.error is None])

        results = {lp.name: (lp.n, lp.us()) for lp in loops if lp.error is None}
        native = results.get("native", (0, 0.0))[1]
        bare = results.get("bare C tracer, same CPU", (0, 0.0))[1]
        widths = (28, 9, 9, 9, 10, 10)
        print("getppid round trip (getppid_loop N); x tracer = vs the bare C tracer, same CPU")
        print(row("tool", "N", "us/call", "best", "x native", "x tracer", widths=widths))
        print(row(*("-" * w for w in widths), widths=widths))
        for lp in loops:
            if lp.error is not None:
                print(row(lp.name, "-", lp.error, widths=(28, 9, 0)))
                continue
            us = lp.us()
            print(row(lp.name, lp.n, fmt_us(us), fmt_us(lp.us(min)),
                      fmt_ratio(us / native) if native else "-",
                      fmt_ratio(us / bare) if bare else "-", widths=widths))
        print(row("User-Mode Linux", "-", uml_per_call(uml, loop) if uml else "not installed",
                  widths=(28, 9, 0)))
        print()

        py_results = {lp.name: (lp.n, lp.us()) for lp in py_loops if lp.error is None}
        nat = py_results.get("native", (0, 0.0))[1]
        print("syscall handled in Python (getrandom(buf, 8, 0) loop, not on the C fast path)")
        widths2 = (28, 9, 9, 9, 10, 14)
        print(row("tool", "N", "us/call", "best", "x native", "- getppid", widths=widths2))
        print(row(*("-" * w for w in widths2), widths=widths2))
        for lp in py_loops:
            if lp.error is not None:
                print(row(lp.name, "-", lp.error, widths=(28, 9, 0)))
                continue
            us = lp.us()
            rt = results.get(lp.name, (0, None))[1]
            print(row(lp.name, lp.n, fmt_us(us), fmt_us(lp.us(min)), fmt_ratio(us / nat) if nat else "-",
                      fmt_us(us - rt) if rt is not None and lp.name != "native" else "-",
                      widths=widths2))
        print("  (- getppid: the same tool's getppid cost subtracted, i.e. what the Python"
              " dispatch and handler add)")
        print()

        print("page faults (a 16-page fault-around window each; refill = a present page the"
              " bounded host cache evicted)")
        widths4 = (34, 9, 9, 9)
        print(row("tool, fault", "N", "us/fault", "best", widths=widths4))
        print(row(*("-" * w for w in widths4), widths=widths4))
        for lp in fault_loops:
            if lp.error is not None:
                print(row(lp.name, "-", lp.error, widths=(34, 9, 0)))
                continue
            print(row(lp.name, lp.n, fmt_us(lp.us()), fmt_us(lp.us(min)), widths=widths4))
        print()

        # 3. whole commands ----------------------------------------------------------
        print("wall time of whole commands (median of %d, process start-up included)" % WALL_REPS)
        widths3 = (46, 10, 10)
        print(row("command", "ms", "x native", widths=widths3))
        print(row("-" * 46, "-" * 10, "-" * 10, widths=widths3))
        walls = {}

        def wall_row(label, cmd, ref=None):
            try:
                ms = median_wall(cmd, WALL_REPS) * 1e3
            except Failed as e:
                print(row(label, "FAILED (%s)" % e, widths=(46, 0)))
                return None
            walls[label] = ms
            print(row(label, "%.1f" % ms, fmt_ratio(ms / ref) if ref else "-", widths=widths3))
            return ms

        wall_row("python3 -c pass (interpreter floor)", [PY, "-c", "pass"])
        wall_row("python3 -c 'import umlpy.api'", [PY, "-c", "import umlpy.api"])
        for prog in ("hello", "hello-glibc", "hello-musl"):
            path = os.path.join(BIN, prog)
            nat = wall_row("%s (native)" % prog, [path])
            wall_row("umlpy run %s" % prog, umlpy + [path], nat)
            wall_row("umlpy run --platform python %s" % prog, umlpy + ["--platform", "python", path],
                     nat)
        wall_row("umlpy run (default image boot)", umlpy)
        wall_row("umlpy run --platform python (boot)", umlpy + ["--platform", "python"])
        print()

        # 4. the address-space extensions, timed inside the guest (mmbench) -----------
        ext = address_space_rows(umlpy)

        # 5. sections of their own: tools/bench_*.py ---------------------------------
        extra_targets = run_sections(tmp, umlpy)

    # 4. targets ------------------------------------------------------------------------
    print("targets")

    def target(label, ok, measured):
        verdict = "n/a " if ok is None else "PASS" if ok else "MISS"
        print("  %s  %-52s %s" % (verdict, label, measured))

    c = results.get("umlpy --platform c")
    if c and bare:
        r = c[1] / bare
        target("umlpy getppid <= %.1fx bare C tracer (same CPU)" % TARGET_RATIO_VS_TRACER,
               r <= TARGET_RATIO_VS_TRACER, "%.2fx (%s vs %s us)" % (r, fmt_us(c[1]), fmt_us(bare)))
    else:
        target("umlpy getppid <= %.1fx bare C tracer (same CPU)" % TARGET_RATIO_VS_TRACER, None,
               "not measured")
    pc = py_results.get("umlpy --platform c")
    target("Python-handled syscall < %.0f us (--platform c)" % TARGET_PY_SYSCALL_US,
           None if pc is None else pc[1] < TARGET_PY_SYSCALL_US,
           "%s us" % fmt_us(pc[1]) if pc else "not measured")
    h = walls.get("umlpy run hello")
    target("umlpy run hello < %.0f ms wall" % TARGET_HELLO_MS,
           None if h is None else h < TARGET_HELLO_MS, "%.1f ms" % h if h else "not measured")
    for label, table in (("getppid", results), ("getrandom", py_results)):
        ut = table.get("umlpy trace -f -o /dev/null")
        st = table.get("strace -f -o /dev/null")
        target("traced %s cheaper per call than strace -f" % label,
               None if not (ut and st) else ut[1] < st[1],
               "%s vs %s us" % (fmt_us(ut[1]), fmt_us(st[1])) if ut and st else "not measured")
    for plat, rows in ext.items():
        if not rows:
            continue
        u, pt = rows.get("unpriv_syscall"), rows.get("ptrace_sysemu")
        target("unprivilege round trip < guest ptrace round trip (%s)" % plat,
               None if u is None or pt is None else u < pt,
               "%s vs %s us" % (fmt_us(u), fmt_us(pt)) if u is not None and pt is not None
               else "%s us; guest ptrace n/a" % fmt_us(u) if u is not None else "not measured")
        cm, fk = rows.get("create_mm"), rows.get("fork")
        target("create_mm < fork (%s)" % plat, None if cm is None or fk is None else cm < fk,
               "%s vs %s us" % (fmt_us(cm), fmt_us(fk)) if cm is not None and fk is not None
               else "not measured")
    for label, ok, measured in extra_targets:
        target(label, ok, measured)
    print()
    print("bench: %.0f s; load avg at end %.2f" % (time.perf_counter() - t_start, os.getloadavg()[0]))
    return 0


def run_sections(tmp, umlpy):
    """Run every ``tools/bench_*.py`` section; return their targets.

    A section is a module with ``section(bench, tmp, umlpy) -> [(label, ok, measured)]``:
    it prints its own table (with the helpers of this module, passed as ``bench``)
    and returns targets (``ok`` None when not measured).  ``BENCH_ONLY=a,b`` runs
    only the sections named (``bench_a.py``, ``bench_b.py``) and skips the rest
    of this file's tables, for a quick look at one area.
    """
    import glob
    import importlib.util
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    targets = []
    for path in sorted(glob.glob(os.path.join(TOOLS, "bench_*.py"))):
        name = os.path.basename(path)[len("bench_"):-3]
        if only and name not in only:
            continue
        spec = importlib.util.spec_from_file_location("bench_" + name, path)
        mod = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(mod)
            targets.extend(mod.section(sys.modules[__name__], tmp, umlpy) or [])
        except Failed as e:
            print("section %s failed: %s" % (name, e))
            print()
    return targets


#: mmbench rows: name -> what it measures.
MMBENCH_ROWS = (
    ("getpid", "getpid (guest kernel, C fast path)"),
    ("mm_indirect_getpid", "mm_indirect(getpid) in another mm"),
    ("unpriv_syscall", "unprivilege round trip (1 guest-of-guest syscall)"),
    ("ptrace_sysemu", "guest PTRACE_SYSEMU round trip"),
    ("create_mm", "create_mm + close"),
    ("fork", "fork + _exit + wait (small process)"),
)


def address_space_rows(umlpy):
    """Run mmbench under both platforms; print and return {platform: {row: us}}."""
    prog = os.path.join(BIN, "mmbench")
    print("address-space extensions (mmbench, timed inside the guest, us per operation)")
    widths = (50, 12, 12)
    print(row("operation", "-p c", "-p python", widths=widths))
    print(row("-" * 50, "-" * 12, "-" * 12, widths=widths))
    out = {}
    for plat, n in (("c", 2000), ("python", 1000)):
        rows = out[plat] = {}
        try:
            proc = subprocess.run(umlpy + ["--platform", plat, prog, str(n)], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode != 0:
            continue
        for line in proc.stdout.decode().splitlines():
            name, _, val = line.partition(" ")
            try:
                rows[name] = float(val)
            except ValueError:
                pass
    for name, label in MMBENCH_ROWS:
        cells = []
        for plat in ("c", "python"):
            v = out[plat].get(name)
            cells.append(fmt_us(v) if v is not None else ("FAILED" if not out[plat] else "n/a"))
        print(row(label, *cells, widths=widths))
    c = out["c"]
    if c.get("getpid") and c.get("mm_indirect_getpid"):
        print("  mm_indirect(getpid) / getpid: %.2fx;  create_mm / fork: %s" % (
            c["mm_indirect_getpid"] / c["getpid"],
            "%.2fx" % (c["create_mm"] / c["fork"]) if c.get("create_mm") and c.get("fork") else "-"))
    print()
    return out


def uml_per_call(uml, loop):
    """getppid cost under User-Mode Linux: boot it with the host's / as hostfs root and the loop as init.

    Best effort: the boot (N=0) is subtracted; init exiting ends the UML kernel.
    """
    def cmd(n):
        return [uml, "mem=64M", "root=/dev/root", "rootfstype=hostfs", "rootflags=/", "con=null",
                "con0=fd:0,fd:1", "init=" + loop, "quiet", "--", str(n)]

    def timed(n):
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd(n), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Failed(str(e)[:40])
        if p.returncode != 0:       # a crashed boot is no figure (it once printed 0.050 us/call)
            raise Failed("exit status %d" % p.returncode)
        return time.perf_counter() - t0

    try:
        n = 10 ** 6
        base = statistics.median(timed(0) for _ in range(3))
        t = statistics.median(timed(n) for _ in range(3))
    except Failed as e:
        return "FAILED (%s)" % e
    return "%s us/call (N=%d, boot %.0f ms; unverified)" % (fmt_us((t - base) / n * 1e6), n, base * 1e3)


if __name__ == "__main__":
    sys.exit(main())
