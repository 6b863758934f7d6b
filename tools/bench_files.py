"""bench section "files": the guest kernel's file side beside native.

Rows (``guest_images/src/filebench.c``, one binary natively and under umlpy):

- pipe ping-pong: one byte back and forth between two processes over two pipes;
  per round trip (4 system calls, 2 task switches);
- epoll loop: eventfd write, epoll_wait, eventfd read; per iteration (3 calls).

Per-operation cost is (wall(N) - wall(N=0)) / N, median of bench.LOOP_REPS, as
every loop of bench.py.  The issue asks for the figures beside native with
ratios; it sets no number, so the targets here are derived from bench.py's own
per-syscall target (a Python-handled call under TARGET_PY_SYSCALL_US): a round
trip or iteration should cost no more than its system calls at that price
(plus one task switch each way for the ping-pong, taken at the same price).
"""

import os

#: Guest system calls per operation (and task switches, priced like a call).
PINGPONG_CALLS = 4 + 2
EPOLL_CALLS = 3


def section(bench, tmp, umlpy):
    prog = os.path.join(bench.BIN, "filebench")
    if not os.path.exists(prog):
        raise bench.Failed("guest_images/build/bin/filebench is missing: make images")
    rows = (("pipe ping-pong round trip", "pingpong", PINGPONG_CALLS),
            ("epoll loop iteration (eventfd + epoll_wait + read)", "epoll", EPOLL_CALLS))
    loops = {}
    for label, mode, _ in rows:
        # A Loop runs prefix + [prog, N]: here the "program" slot is filebench's mode.
        loops[(mode, "native")] = bench.Loop(label + " native", [prog], mode, 200000)
        loops[(mode, "c")] = bench.Loop(label + " umlpy c", umlpy + ["--platform", "c", prog], mode, 2000)
        loops[(mode, "python")] = bench.Loop(label + " umlpy python", umlpy + ["--platform", "python", prog],
                                             mode, 1000)
    bench.measure(list(loops.values()))

    print("files: pipes and epoll (us per operation; ratio to native)")
    widths = (50, 10, 12, 9, 12, 9)
    print(bench.row("operation", "native", "umlpy -p c", "ratio", "-p python", "ratio", widths=widths))
    print(bench.row(*(["-" * w for w in widths]), widths=widths))
    targets = []
    for label, mode, calls in rows:
        nat, c, py = loops[(mode, "native")], loops[(mode, "c")], loops[(mode, "python")]
        cells = [label]
        n_us = None if nat.error else nat.us()
        cells.append(nat.error or bench.fmt_us(n_us))
        measured = {}
        for lp, name in ((c, "c"), (py, "python")):
            if lp.error:
                cells += [lp.error[:12], ""]
                continue
            us = lp.us()
            measured[name] = us
            cells += [bench.fmt_us(us), bench.fmt_ratio(us / n_us) if n_us else "?"]
        print(bench.row(*cells, widths=widths))
        limit = calls * bench.TARGET_PY_SYSCALL_US
        us = measured.get("c")
        targets.append(("%s < %.0f us (--platform c)" % (label.split(" (")[0], limit),
                        None if us is None else us < limit,
                        "not measured" if us is None else "%s us, %s native" % (
                            bench.fmt_us(us), bench.fmt_ratio(us / n_us) if n_us else "?")))
    print()
    return targets
