"""bench section "meta": metadata calls on host files beside a Python-handled getrandom.

Issue 11: statx/newfstatat/getxattr/readlink of host files (the guest's root is the
host's, ``umlpy run PROGRAM`` without ``--rootfs``) within 1.5x of a getrandom, the
floor of a call handled in Python.  A freestanding guest (built here) makes N of one
call on one path, each checked (a failing call fails the run, never a fast figure):

- ``statx`` / ``newfstatat`` of a host file six directories deep
  (``/usr/lib/x86_64-linux-gnu/...``-like: every component is looked up);
- ``getxattr`` of ``user.umlpy`` on it (ENODATA: a lookup and an xattr search);
- ``readlink`` of a host symlink;
- ``openat`` + ``close`` of the file (two calls: shown for information, no target);
- ``getrandom(buf, 8, 0)``, the reference.

Per-call cost is (wall(N) - wall(N=0)) / N, median of bench.LOOP_REPS rounds, as
every loop of bench.py; natively and under ``strace -f`` beside umlpy.
"""

import os
import shutil
import subprocess

META_LOOP_C = r"""
#include "freestanding.h"
#define SYS_openat 257
#define SYS_readlink 89
#define SYS_getxattr 191
#define SYS_newfstatat 262
#define SYS_getrandom 318
#define SYS_statx 332
#define AT_FDCWD -100
#define ENODATA 61
static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
int main(int argc, char **argv, char **envp)
{
	(void)envp;
	static char buf[4096];
	if (argc < 4)
		return 2;
	const char *mode = argv[1], *path = argv[2];
	long n = parse_long(argv[3]);
	for (long i = 0; i < n; i++) {
		long r;
		if (same(mode, "statx"))
			r = syscall6(SYS_statx, AT_FDCWD, (long)path, 0, 0x7ff, (long)buf, 0);
		else if (same(mode, "newfstatat"))
			r = sys4(SYS_newfstatat, AT_FDCWD, (long)path, (long)buf, 0);
		else if (same(mode, "getxattr"))
			r = sys4(SYS_getxattr, (long)path, (long)"user.umlpy", (long)buf, 64) == -ENODATA ? 0 : -1;
		else if (same(mode, "readlink"))
			r = sys3(SYS_readlink, (long)path, (long)buf, sizeof buf) > 0 ? 0 : -1;
		else if (same(mode, "openat"))     /* and close: two calls */
			r = (r = sys4(SYS_openat, AT_FDCWD, (long)path, 0, 0)) >= 0 ? sys1(SYS_close, r) : -1;
		else if (same(mode, "getrandom"))
			r = sys3(SYS_getrandom, (long)buf, 8, 0) == 8 ? 0 : -1;
		else
			return 2;
		if (r != 0)
			return 1;
	}
	return 0;
}
"""

#: The issue's target: a metadata call within this many times a getrandom (umlpy, --platform c).
TARGET_VS_GETRANDOM = 1.5


def build(bench, tmp):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise bench.Failed("needs gcc")
    src = os.path.join(tmp, "meta_loop.c")
    with open(src, "w") as f:
        f.write(META_LOOP_C)
    out = os.path.join(tmp, "meta_loop")
    subprocess.run([cc, "-O2", "-static", "-no-pie", "-fno-pie", "-ffreestanding", "-fno-stack-protector",
                    "-fno-asynchronous-unwind-tables", "-fno-builtin", "-nostdlib", "-Wl,--build-id=none",
                    "-I", os.path.join(bench.ROOT, "guest_images", "src"), "-o", out, src], check=True)
    return out


def host_paths():
    """(a host file several directories deep, a host symlink) that every Linux host has."""
    deep = None
    for cand in ("/usr/share/doc/apt/copyright", "/usr/lib/os-release", "/usr/share/common-licenses/GPL-3",
                 "/etc/ssl/certs/ca-certificates.crt", "/usr/bin/env"):
        if os.path.isfile(cand) and not os.path.islink(cand):
            deep = cand
            break
    link = None
    for cand in ("/usr/bin/python3", "/usr/lib/os-release", "/etc/os-release", "/usr/bin/cc", "/bin", "/lib64"):
        if os.path.islink(cand):
            link = cand
            break
    return deep, link


def section(bench, tmp, umlpy):
    prog = build(bench, tmp)
    deep, link = host_paths()
    if deep is None or link is None:
        raise bench.Failed("no host file or symlink found for the metadata loops")
    calls = [("getrandom", "/"), ("statx", deep), ("newfstatat", deep), ("getxattr", deep), ("readlink", link),
             ("openat", deep)]
    strace = shutil.which("strace")
    loops = {}
    for mode, path in calls:
        loops[(mode, "native")] = bench.Loop(mode + " native", [prog, mode], path, 200000)
        loops[(mode, "c")] = bench.Loop(mode + " umlpy c", umlpy + ["--platform", "c", prog, mode], path, 5000)
        if strace:
            loops[(mode, "strace")] = bench.Loop(mode + " strace", [strace, "-f", "-o", "/dev/null", prog, mode],
                                                 path, 20000)
    bench.measure(list(loops.values()))

    print("meta: metadata calls of host files (us per call; umlpy run on the host's root)")
    print("  file %s, symlink %s" % (deep, link))
    widths = (12, 10, 12, 12, 14, 14)
    print(bench.row("call", "native", "strace -f", "umlpy -p c", "umlpy/strace", "vs getrandom", widths=widths))
    print(bench.row(*(["-" * w for w in widths]), widths=widths))
    ref = loops[("getrandom", "c")]
    ref_us = None if ref.error else ref.us()
    targets = []
    for mode, _ in calls:
        cells = [mode]
        nat = loops[(mode, "native")]
        cells.append("FAILED" if nat.error else bench.fmt_us(nat.us()))
        st = loops.get((mode, "strace"))
        st_us = None
        if st is None:
            cells.append("-")
        elif st.error:
            cells.append("FAILED")
        else:
            st_us = st.us()
            cells.append(bench.fmt_us(st_us))
        um = loops[(mode, "c")]
        um_us = None if um.error else um.us()
        cells.append("FAILED" if um_us is None else bench.fmt_us(um_us))
        cells.append(bench.fmt_ratio(um_us / st_us) if um_us and st_us else "-")
        cells.append(bench.fmt_ratio(um_us / ref_us) if um_us and ref_us else "-")
        print(bench.row(*cells, widths=widths))
        if mode not in ("getrandom", "openat"):
            ok = None if um_us is None or ref_us is None else um_us <= TARGET_VS_GETRANDOM * ref_us
            targets.append(("%s of a host file within %.1fx of getrandom (-p c)" % (mode, TARGET_VS_GETRANDOM), ok,
                            "not measured" if ok is None else "%s us, %s getrandom's %s us" % (
                                bench.fmt_us(um_us), bench.fmt_ratio(um_us / ref_us), bench.fmt_us(ref_us))))
    for (mode, who), lp in sorted(loops.items()):
        if lp.error:
            print("  %s under %s: %s" % (mode, who, lp.error))
    print()
    return targets
