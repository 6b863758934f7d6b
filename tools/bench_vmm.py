"""bench section "vmm": a guest-of-guest system call under the two tiny guest VMMs (issue 7).

The same loop of N getppid calls runs

- natively (``getppid_loop N``);
- under the bare C PTRACE_SYSEMU tracer on the host (``tools/sysemu_tracer.c``, same CPU):
  the host's UML-style cost of one emulated call;
- directly under umlpy (``getppid_loop N``; umlpy's C run loop answers getppid itself);
- as the guest of ``minivmm-skas3 N`` under umlpy: a guest tracer with /proc/mm,
  PTRACE_SWITCH_MM and PTRACE_SYSEMU emulates each call (waitpid, GETREGS, POKEUSER of rax,
  SYSEMU: four guest system calls of the VMM per emulated call);
- as the guest of ``minivmm-unpriv N`` under umlpy: one unprivilege() call of the VMM per
  emulated call.

Per-call cost is (wall(N) - wall(N=0)) / N, median of bench.LOOP_REPS, as every loop of
bench.py; the ratio column is to the bare C tracer, the host's floor for an emulated call.
Target (issue 7): an unprivilege round trip costs less than a guest ptrace round trip,
i.e. minivmm-unpriv's per-call cost under minivmm-skas3's, on each platform.
"""

import os


def section(bench, tmp, umlpy):
    loop = os.path.join(bench.BIN, "getppid_loop")
    skas3 = os.path.join(bench.BIN, "minivmm-skas3")
    unpriv = os.path.join(bench.BIN, "minivmm-unpriv")
    for p in (loop, skas3, unpriv):
        if not os.path.exists(p):
            raise bench.Failed("%s is missing: make images" % os.path.relpath(p, bench.ROOT))
    tracer = os.path.join(tmp, "sysemu_tracer")
    rows = [("native", bench.Loop("native", [], loop, 10 ** 6))]
    if os.path.exists(tracer):
        rows.append(("bare C SYSEMU tracer (host, same CPU)",
                     bench.Loop("bare tracer", [tracer, "--same-cpu"], loop, 200000)))
    for plat, scale in (("c", 1), ("python", 2)):
        rows += [
            ("umlpy -p %s: getppid_loop directly" % plat,
             bench.Loop("direct " + plat, umlpy + ["--platform", plat], loop, 200000 // scale)),
            ("umlpy -p %s: minivmm-skas3 guest (guest ptrace)" % plat,
             bench.Loop("skas3 " + plat, umlpy + ["--platform", plat], skas3, 2000 // scale)),
            ("umlpy -p %s: minivmm-unpriv guest (unprivilege)" % plat,
             bench.Loop("unpriv " + plat, umlpy + ["--platform", plat], unpriv, 5000 // scale)),
        ]
    bench.measure([lp for _, lp in rows])

    print("vmm: one guest-of-guest getppid (us per call; ratio to the bare C tracer)")
    widths = (52, 10, 10)
    print(bench.row("how the loop runs", "us/call", "ratio", widths=widths))
    print(bench.row(*(["-" * w for w in widths]), widths=widths))
    us = {}
    bare = next((lp for label, lp in rows if label.startswith("bare")), None)
    bare_us = bare.us() if bare is not None and not bare.error else None
    for label, lp in rows:
        if lp.error:
            print(bench.row(label, lp.error[:10], "", widths=widths))
            continue
        us[lp.name] = v = lp.us()
        print(bench.row(label, bench.fmt_us(v), bench.fmt_ratio(v / bare_us) if bare_us else "?",
                        widths=widths))
    print()
    targets = []
    for plat in ("c", "python"):
        s, u = us.get("skas3 " + plat), us.get("unpriv " + plat)
        targets.append(("minivmm-unpriv call < minivmm-skas3 call (%s)" % plat,
                        None if s is None or u is None else u < s,
                        "not measured" if s is None or u is None else "%s vs %s us (%.2fx)" % (
                            bench.fmt_us(u), bench.fmt_us(s), u / s)))
    return targets
