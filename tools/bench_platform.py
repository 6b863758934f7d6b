"""bench section "platform" (issue 11's platform rows): memory round trips and fork.

``BENCH_ONLY=platform make bench`` runs it alone.  Three freestanding guests,
each a loop of N iterations timed as (wall(N) - wall(0)) / N beside native and
``strace -f -o /dev/null``:

- mmap + touch + munmap of one page;
- a first-touch page fault (one page in 16: umlpy makes 16 pages present per
  fault, so each touch is one fault);
- fork + _exit + wait4 of a small parent (the stub pool: no stub is spawned).

Then, in-process on the C platform, what each iteration costs in host
transitions: ptrace stops that went back to Python, stops the C fast path
answered, and mapping batches (the mapper's futex hand-offs, not ptrace round
trips), with the pool's spawns and reuses.  Targets (issue 11): mmap+touch+
munmap and fork+exit+wait no slower than under strace -f; a first-touch fault
in at most 2 ptrace round trips.
"""

import os
import subprocess

PRELUDE = r"""
#include "freestanding.h"
#define SYS_mmap 9
#define SYS_munmap 11
#define sys6 syscall6
static long n_arg(char **argv) { long n = 0; for (char *p = argv[1]; *p; p++) n = n * 10 + *p - '0'; return n; }
"""

MTM_C = PRELUDE + r"""
int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)envp;
	long n = n_arg(argv);
	for (long i = 0; i < n; i++) {
		volatile char *p = (char *)sys6(SYS_mmap, 0, 4096, 3, 0x22, -1, 0);
		if ((long)p < 0)
			return 1;
		p[0] = 1;
		if (sys3(SYS_munmap, (long)p, 4096, 0))
			return 2;
	}
	return 0;
}
"""

TOUCH_C = PRELUDE + r"""
#define STRIDE (16 * 4096L)
#define CHUNK (4096L * STRIDE)          /* 4096 faults per mapping, 256 MiB of address space */
int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)envp;
	long n = n_arg(argv);
	while (n > 0) {
		long k = n < 4096 ? n : 4096;
		char *p = (char *)sys6(SYS_mmap, 0, CHUNK, 3, 0x4022, -1, 0);   /* NORESERVE */
		if ((long)p < 0)
			return 1;
		for (long i = 0; i < k; i++)
			p[i * STRIDE] = 1;
		sys3(SYS_munmap, (long)p, CHUNK, 0);
		n -= k;
	}
	return 0;
}
"""

FORK_C = PRELUDE + r"""
int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)envp;
	long n = n_arg(argv);
	int status;
	for (long i = 0; i < n; i++) {
		long pid = sys6(57, 0, 0, 0, 0, 0, 0);          /* fork */
		if (pid == 0)
			sys6(60, 0, 0, 0, 0, 0, 0);
		if (pid < 0 || sys6(61, pid, (long)&status, 0, 0, 0, 0) != pid)   /* wait4 */
			return 1;
	}
	return 0;
}
"""

GUESTS = (("mtm", MTM_C), ("touch", TOUCH_C), ("fork", FORK_C))


def _build(bench, tmp):
    out = {}
    for name, src in GUESTS:
        c = os.path.join(tmp, "plat_%s.c" % name)
        with open(c, "w") as f:
            f.write(src)
        exe = os.path.join(tmp, "plat_" + name)
        subprocess.run(["gcc", "-O2", "-static", "-no-pie", "-fno-pie", "-ffreestanding",
                        "-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-fno-builtin",
                        "-nostdlib", "-Wl,--build-id=none",
                        "-I", os.path.join(bench.ROOT, "guest_images", "src"), "-o", exe, c], check=True)
        out[name] = exe
    return out


def _transitions(prog, n):
    """(python stops, fast-path stops, batches, pool spawns, pool reuses) per iteration of
    ``prog n`` on the C platform, counted in-process."""
    import umlpy
    from umlpy.platform import shim
    counts = {"switch": 0, "fast": 0, "batch": 0}
    orig_switch, orig_batch = shim.ShimContext.switch, shim.ShimStub.run_batch

    def switch(self, aspace):
        stop = orig_switch(self, aspace)
        counts["switch"] += 1
        counts["fast"] += self.c.fast_count
        return stop

    def run_batch(self):
        counts["batch"] += 1
        return orig_batch(self)

    pools = []
    orig_close = shim.ShimPlatform.close

    def close(self):
        pools.append((self.pool.spawns, self.pool.reuses))
        orig_close(self)

    shim.ShimContext.switch, shim.ShimStub.run_batch, shim.ShimPlatform.close = switch, run_batch, close
    try:
        res = umlpy.run([prog, str(n)], platform="c")
    finally:
        shim.ShimContext.switch, shim.ShimStub.run_batch = orig_switch, orig_batch
        shim.ShimPlatform.close = orig_close
    if res.returncode != 0:
        raise RuntimeError("%s exited %d" % (prog, res.returncode))
    spawns, reuses = pools[-1] if pools else (0, 0)
    return (counts["switch"] / n, counts["fast"] / n, counts["batch"] / n, spawns, reuses)


def section(bench, tmp, umlpy):
    progs = _build(bench, tmp)
    strace = ["strace", "-f", "-o", "/dev/null"]
    tools = [("native", [], {"mtm": 10 ** 5, "touch": 10 ** 5, "fork": 5000})]
    if os.path.exists("/usr/bin/strace") or bench.shutil.which("strace"):
        tools.append(("strace -f -o /dev/null", strace, {"mtm": 10 ** 4, "touch": 10 ** 4, "fork": 2000}))
    tools += [("umlpy --platform c", umlpy + ["--platform", "c"], {"mtm": 5000, "touch": 5000, "fork": 500}),
              ("umlpy --platform python", umlpy + ["--platform", "python"],
               {"mtm": 1000, "touch": 1000, "fork": 200})]
    loops = {}
    for work in ("mtm", "touch", "fork"):
        for name, prefix, ns in tools:
            loops[(work, name)] = bench.Loop(name, prefix, progs[work], ns[work])
    bench.measure(list(loops.values()))

    titles = {"mtm": "mmap + touch + munmap (one page)", "touch": "first-touch page fault",
              "fork": "fork + _exit + wait4, small parent"}
    widths = (34, 12, 12, 12)
    print("platform: memory round trips and fork (us per iteration, median; best; / strace -f)")
    results = {}
    for work in ("mtm", "touch", "fork"):
        print("  " + titles[work])
        ref = loops.get((work, "strace -f -o /dev/null"))
        ref_us = ref.us() if ref is not None and ref.error is None else None
        for name, _, _ in tools:
            lp = loops[(work, name)]
            if lp.error:
                print("    " + bench.row(name, lp.error, "", "", widths=widths))
                continue
            us = lp.us()
            results[(work, name)] = us
            ratio = bench.fmt_ratio(us / ref_us) if ref_us else ""
            print("    " + bench.row(name, bench.fmt_us(us), bench.fmt_us(lp.us(min)), ratio, widths=widths))
    print()

    print("platform: host transitions per iteration, --platform c (counted in-process)")
    widths2 = (34, 14, 14, 14, 18)
    print("    " + bench.row("", "ptrace stops", "fast-path", "batches", "pool spawn/reuse", widths=widths2))
    per = {}
    for work, n in (("mtm", 2000), ("touch", 2000), ("fork", 200)):
        try:
            stops, fast, batches, spawns, reuses = _transitions(progs[work], n)
        except Exception as e:      # a bench row, not a test: say so and go on
            print("    " + bench.row(titles[work], "FAILED (%s)" % e, "", "", "", widths=widths2))
            continue
        per[work] = (stops, batches)
        print("    " + bench.row(titles[work], "%.2f" % stops, "%.2f" % fast, "%.2f" % batches,
                                 "%d/%d" % (spawns, reuses), widths=widths2))
    print("    (a batch is the stub's mapper: two futex hand-offs, no ptrace round trip)")
    print()

    targets = []
    c, s = "umlpy --platform c", "strace -f -o /dev/null"
    for work, label in (("mtm", "mmap+touch+munmap <= strace -f"), ("fork", "fork+exit+wait (small) <= strace -f")):
        if (work, c) in results and (work, s) in results:
            u, r = results[(work, c)], results[(work, s)]
            targets.append((label, u <= r, "%s vs %s us (%s)" % (bench.fmt_us(u), bench.fmt_us(r),
                                                                bench.fmt_ratio(u / r))))
        else:
            targets.append((label, None, "not measured"))
    if "touch" in per:
        stops, batches = per["touch"]
        targets.append(("first-touch fault <= 2 ptrace round trips", stops <= 2.0,
                        "%.2f ptrace stops + %.2f batches per fault" % (stops, batches)))
    else:
        targets.append(("first-touch fault <= 2 ptrace round trips", None, "not measured"))
    return targets
