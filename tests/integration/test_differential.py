"""Differential tests: each guest program runs natively and under umlpy, on both platforms.

The native run gets exactly the environment a host program gets under umlpy by default
(``umlpy.api.host_env``: the user's environment, as strace passes it, plus the test's extra
variables), the same argv, the same current directory and an empty stdin; stdout bytes and
the subprocess-style return code must be identical.
"""

import os
import subprocess

import pytest

import umlpy
from umlpy.api import host_env


def native_env(extra=None) -> dict:
    """A host program's default environment under umlpy, as a dict for subprocess."""
    env = {}
    for item in host_env(extra):
        k, _, v = item.partition(b"=")
        env[k] = v
    return env


def run_native(argv, env=None, stdin=b"", cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=native_env(env), cwd=cwd, timeout=60)


def assert_same(native, guest, *, stderr=False):
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode
    if stderr:
        assert guest.stderr == native.stderr


@pytest.mark.parametrize("prog", ["hello", "hello-glibc", "hello-musl", "exit42"])
def test_simple_programs(guest_bin, platform, prog):
    path = os.path.join(guest_bin, prog)
    native = run_native([path])
    guest = umlpy.run([path], platform=platform, capture=True)
    assert_same(native, guest, stderr=True)


SUITE = [name + "-" + libc for name in ("threads", "signals", "pipes", "files", "memory", "polling",
                                        "preempt", "events", "ptys", "locks", "ipcfiles", "splice", "inotify",
                                        "procs", "sysvipc")
        for libc in ("musl", "glibc")]


@pytest.mark.parametrize("prog", SUITE)
def test_suite_programs(guest_bin, platform, prog):
    """Threads, signal handlers, pipes and fork, files, memory, poll/select, preemption:
    each program prints what it saw; natively and under umlpy it must be the same."""
    path = os.path.join(guest_bin, prog)
    native = run_native([path])
    guest = umlpy.run([path], platform=platform)
    assert_same(native, guest)


def test_exit42_status(guest_bin, platform):
    guest = umlpy.run([os.path.join(guest_bin, "exit42")], platform=platform)
    assert guest.returncode == 42 and guest.exit_code == 42 and guest.signal == 0


def test_segv(guest_bin, platform):
    path = os.path.join(guest_bin, "segv")
    native = run_native([path])
    assert native.returncode == -11 and native.stdout == b"about to fault\n"
    guest = umlpy.run([path], platform=platform)
    assert_same(native, guest)
    assert guest.signal == 11 and guest.exit_code == 139


def test_cat_file(guest_bin, rootfs, platform):
    # Without rootfs= guest paths resolve in the default image; give it
    # explicitly and run the image's own /bin/cat on the image's /etc/hostname.
    native = run_native([os.path.join(guest_bin, "cat"), os.path.join(rootfs, "etc", "hostname")])
    assert native.returncode == 0 and native.stdout
    guest = umlpy.run(["/bin/cat", "/etc/hostname"], rootfs=rootfs, platform=platform)
    assert_same(native, guest, stderr=True)


def test_cat_missing_file(guest_bin, rootfs, platform):
    missing = "/umlpy-no-such-file-%d" % os.getpid()
    native = run_native([os.path.join(guest_bin, "cat"), missing])
    assert native.returncode == 1
    assert native.stderr == ("cat: %s: No such file or directory\n" % missing).encode()
    guest = umlpy.run(["/bin/cat", missing], rootfs=rootfs, platform=platform)
    assert_same(native, guest, stderr=True)


def test_cat_stdin(guest_bin, platform):
    path = os.path.join(guest_bin, "cat")
    data = b"line one\nline two\n" + bytes(range(256)) * 40   # > one 4096-byte read
    native = run_native([path], stdin=data)
    guest = umlpy.run([path], platform=platform, stdin=data)
    assert native.stdout == data
    assert_same(native, guest, stderr=True)


# Auxiliary-vector lines that legitimately differ between a native run and a guest:
AUXV_DROPPED = {
    # The guest has no vDSO: umlpy intercepts every syscall, so there is nothing to map.
    "AT_SYSINFO_EHDR": "no vDSO in the guest",
    # rseq is not offered to guests (the host kernel's values describe the host's rseq).
    "AT_RSEQ_FEATURE_SIZE": "rseq support is host-kernel specific",
    "AT_RSEQ_ALIGN": "rseq support is host-kernel specific",
    # Depends on the host CPU's xsave size and on the host kernel version.
    "AT_MINSIGSTKSZ": "signal frame size depends on host kernel/CPU",
}
# AT_EXECFN is the path the loader was given: natively the host path, in the guest
# the guest's path; only its presence is compared.
# AT_UID/AT_EUID/AT_GID/AT_EGID: the guest's first process always runs as root (uid 0),
# whatever the host user; natively they are the host's ids, so they are checked apart.
AUXV_IDS = ("AT_UID", "AT_EUID", "AT_GID", "AT_EGID")


def normalise_auxv(text: bytes, ids: dict) -> list:
    lines = []
    for line in text.decode().splitlines():
        name = line.split(" ", 1)[0]
        if name in AUXV_DROPPED:
            continue
        if name == "AT_EXECFN":
            line = "AT_EXECFN present <path>"
        elif name in AUXV_IDS:
            assert line == "%s %d" % (name, ids[name]), line
            line = name + " <id>"
        lines.append(line)
    return lines


@pytest.mark.parametrize("prog", ["auxv", "auxv-glibc"])
def test_auxv(guest_bin, platform, prog):
    path = os.path.join(guest_bin, prog)
    argv = [path, "a", "b", "c d"]
    env = {"FOO": "bar"}
    native = run_native(argv, env=env)
    guest = umlpy.run(argv, platform=platform, env=env)
    assert native.returncode == 0 and guest.returncode == 0
    host_ids = {"AT_UID": os.getuid(), "AT_EUID": os.geteuid(), "AT_GID": os.getgid(),
                "AT_EGID": os.getegid()}
    guest_ids = host_ids                 # a host program runs as the user (as under strace)
    n = normalise_auxv(native.stdout, host_ids)
    g = normalise_auxv(guest.stdout, guest_ids)
    assert g == n
    # Things the normalisation must not hide.
    assert g[:4] == ["argc 4", "argv[1] a", "argv[2] b", "argv[3] c d"]
    assert "env FOO=bar" in g
    assert "AT_EXECFN present %s" % path in guest.stdout.decode()


def test_auxv_in_image(rootfs, platform):
    # Inside an image the guest's AT_EXECFN is the guest path it was started with.
    res = umlpy.run(["/bin/auxv", "x"], rootfs=rootfs, platform=platform)
    assert res.returncode == 0
    out = res.stdout.decode().splitlines()
    assert "AT_EXECFN present /bin/auxv" in out
    assert "argv[1] x" in out
    assert "AT_UID 0" in out and "AT_EGID 0" in out           # a root image's guest is its root


def test_default_image_init(guest_bin, rootfs, platform):
    # Natively this would need chroot (root only): check the guest's own report instead.
    res = umlpy.run(["/init"], rootfs=rootfs, platform=platform)
    out = res.stdout.decode()
    assert res.returncode == 0, (out, res.stderr)
    for prog in ("hello", "hello-glibc", "hello-musl"):
        native = run_native([os.path.join(guest_bin, prog)])
        for line in native.stdout.decode().splitlines():
            assert line in out.splitlines()
        assert "init: /bin/%s exited with status 0" % prog in out
    for prog in ("auxv", "mmcalls", "minivmm-unpriv", "minivmm-skas3", "unprivself", "asdemo", "vasdemo",
                 "vaspair", "asswitch", "rfpdemo"):
        assert "init: /bin/%s exited with status 0" % prog in out
    assert "minivmm-unpriv: guest exited with 7 after 5 emulated syscalls and 1 fault" in out
    assert out.splitlines()[-1] == "init: all done"


# A freestanding probe: one system call per line, "name result"; errors are
# -errno, so the native and guest runs must print exactly the same lines.
PROBE_SOURCE = r"""
static char obuf[8192];
static unsigned long olen;
static void out(const char *s) { while (*s) obuf[olen++] = *s++; }
static void num(long v)
{
    char t[24]; int n = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    if (v < 0) obuf[olen++] = '-';
    do { t[n++] = '0' + u % 10; u /= 10; } while (u);
    while (n) obuf[olen++] = t[--n];
}
static void show(const char *name, long r) { out(name); out(" "); num(r); out("\n"); }
static void ok(const char *name, long r) { out(name); out(r >= 0 ? " ok\n" : " failed\n"); }
struct timespec { long sec, nsec; };
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    char buf[64];
    int p[2];
    struct timespec bad_ts = { 0, 2000000000L };
    unsigned long act[4] = { 1, 0, 0, 0 };
    show("close(-1)", sc1(3, -1));
    show("close(999)", sc1(3, 999));
    show("read(77)", sc3(0, 77, buf, 1));
    show("dup(77)", sc1(32, 77));
    show("dup2(1,1)", sc2(33, 1, 1));
    show("open(/)", sc2(2, "/", 0));
    show("close(3)", sc1(3, 3));
    show("open(missing)", sc2(2, "/umlpy-probe-missing", 0));
    show("open(missing/x)", sc2(2, "/umlpy-probe-missing/x", 0));
    show("open(/,O_WRONLY)", sc2(2, "/", 1));
    show("open(\"\")", sc2(2, "", 0));
    show("mprotect(unmapped)", sc3(10, 0x10000, 4096, 1));
    show("munmap(unmapped)", sc2(11, 0x10000, 4096));
    long m = sc6(9, 0, 8192, 3, 0x22, -1, 0);
    ok("mmap(anon)", m);
    if (m > 0) {
        ((volatile char *)m)[4096] = 7;
        show("mprotect(m,RO)", sc3(10, m, 4096, 1));
        show("munmap(m)", sc2(11, m, 8192));
    }
    show("mmap(bad fd)", sc6(9, 0, 4096, 1, 0x02, 77, 0));
    show("mmap(bad flags)", sc6(9, 0, 4096, 1, 0x03, -1, 0));
    show("kill(self,0)", sc2(62, sc0(39), 0));
    show("kill(self,99)", sc2(62, sc0(39), 99));
    show("rt_sigaction(SIGKILL)", sc4(13, 9, act, 0, 8));
    show("rt_sigaction(0)", sc4(13, 0, act, 0, 8));
    show("rt_sigaction(bad size)", sc4(13, 10, act, 0, 7));
    show("nanosleep(bad ns)", sc2(35, &bad_ts, 0));
    show("clock_gettime(999)", sc2(228, 999, buf));
    show("getcwd(size 1)", sc2(79, buf, 1));
    show("getcwd", sc2(79, buf, 64) > 0);
    show("sched_yield", sc0(24));
    show("uname(bad ptr)", sc1(63, 0x10));
    show("pipe", sc1(22, p));
    show("write(pipe)", sc3(1, p[1], "abc", 3));
    show("read(pipe)", sc3(0, p[0], buf, 64));
    show("write(pipe read end)", sc3(1, p[0], "abc", 3));
    show("lseek(pipe)", sc3(8, p[0], 0, 0));
    show("ioctl(pipe,TCGETS)", sc3(16, p[0], 0x5401, buf));
    show("fcntl(77,F_GETFD)", sc2(72, 77, 1));
    show("fcntl(pipe,F_GETFD)", sc2(72, p[0], 1));
    show("access(/)", sc2(21, "/", 0));
    show("chdir(missing)", sc1(80, "/umlpy-probe-missing"));
    show("execve(missing)", sc3(59, "/umlpy-probe-missing", 0, 0));
    show("wait4(-1)", sc4(61, -1, 0, 0, 0));
    show("getrlimit(99)", sc2(97, 99, buf));
    ok("brk(0)", sc1(12, 0));
    show("exit code follows", 0);
    sc3(1, 1, obuf, olen);
    return 3;
}
"""


def test_syscall_probe(build_guest, platform):
    prog = build_guest(PROBE_SOURCE, "probe")
    native = run_native([prog], cwd="/")
    assert native.returncode == 3, native.stderr
    guest = umlpy.run([prog], platform=platform)
    assert guest.stdout.decode().splitlines() == native.stdout.decode().splitlines()
    assert guest.returncode == 3
