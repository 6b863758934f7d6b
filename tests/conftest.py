"""Fixtures shared by the whole test suite.

- ``guest_bin``: the directory of the built guest programs (built once per
  session with ``make -C guest_images`` if anything is missing; a file lock
  keeps parallel pytest-xdist workers from building at the same time).
- ``rootfs``: the default root image (``guest_images/build/rootfs``).
- ``platform``: parametrized over the two platforms, "c" and "python".
- ``build_guest``: compiles a tiny freestanding C source (no C library) into
  a static guest program under ``tmp_path``; skips when gcc is missing.
"""

import fcntl
import os
import shutil
import signal
import subprocess
import sys

import pytest

# The plugin's ``umlpy`` fixture, also when umlpy runs uninstalled from the source
# tree (installed, its pytest11 entry point registers the plugin; this same
# fixture then simply overrides the plugin's at conftest level).
from umlpy.testing.plugin import umlpy  # noqa: E402,F401

# The suite does not depend on how it was started: a run from a background job or
# under nohup inherits SIGINT/SIGQUIT or SIGHUP ignored, and every program it starts
# (natively and under umlpy, which passes ignored signals on as exec does) would
# too, so ^C typed at a pty would kill nothing.  Give them their usual dispositions.
for _sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
    if signal.getsignal(_sig) == signal.SIG_IGN:
        signal.signal(_sig, signal.SIG_DFL)
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Internal errors of umlpy raise (instead of failing the guest's call with EIO and
# a warning), in this process and in the CLI subprocesses the tests start.
os.environ.setdefault("UMLPY_DEBUG", "1")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_OUT = os.path.join(REPO, "guest_images", "build")
GUEST_BIN = os.path.join(GUEST_OUT, "bin")
GUEST_ROOTFS = os.path.join(GUEST_OUT, "rootfs")
STUB_EXE = os.path.join(REPO, "umlpy", "platform", "umlpy-stub")

#: Programs the integration tests expect in guest_images/build/bin.
GUEST_PROGRAMS = ("hello", "hello-glibc", "hello-musl", "auxv", "auxv-glibc", "segv", "exit42",
                  "cat", "getppid_loop", "init", "mmcalls", "minivmm-unpriv", "minivmm-skas3",
                  "unprivself", "ptracer")

PLATFORMS = ("c", "python")

if REPO not in sys.path:
    sys.path.insert(0, REPO)


def _images_complete() -> bool:
    return (all(os.path.isfile(os.path.join(GUEST_BIN, p)) for p in GUEST_PROGRAMS)
            and os.path.isfile(os.path.join(GUEST_ROOTFS, "init")))


def _build_images():
    """Run make under an exclusive lock (xdist workers share the tree)."""
    os.makedirs(GUEST_OUT, exist_ok=True)
    with open(os.path.join(GUEST_OUT, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _images_complete():
            return
        proc = subprocess.run(["make", "-C", os.path.join(REPO, "guest_images"), "OUT=" + GUEST_OUT],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0 or not _images_complete():
            pytest.fail("building the guest images failed:\n" + proc.stdout.decode(errors="replace"),
                        pytrace=False)


@pytest.fixture(scope="session")
def guest_bin() -> str:
    """Path of guest_images/build/bin (built if needed)."""
    if not _images_complete():
        _build_images()
    return GUEST_BIN


@pytest.fixture(scope="session")
def rootfs(guest_bin) -> str:
    """Path of the default root image, guest_images/build/rootfs."""
    return GUEST_ROOTFS


@pytest.fixture(params=PLATFORMS)
def platform(request) -> str:
    """Each platform in turn; skips "c" when the shim is not built."""
    if request.param == "c":
        from umlpy.platform import c_platform_available
        if not c_platform_available():
            pytest.skip("the C shim is not built (python3 setup.py build_ext --inplace)")
    return request.param


# A freestanding prelude for tests' own guests: raw syscalls and a _start that
# calls ``long main(int argc, char **argv)`` and exits with its result.
FREESTANDING_PRELUDE = r"""
typedef unsigned long size_t;
static inline long sc6(long n, long a, long b, long c, long d, long e, long f)
{
    long r;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return r;
}
#define sc0(n) sc6((n), 0, 0, 0, 0, 0, 0)
#define sc1(n, a) sc6((n), (long)(a), 0, 0, 0, 0, 0)
#define sc2(n, a, b) sc6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sc3(n, a, b, c) sc6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sc4(n, a, b, c, d) sc6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static long say(const char *s) { return sc3(1, 1, s, slen(s)); }
static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}
long main(int argc, char **argv);
__attribute__((used, noreturn)) static void start_c(long *sp)
{
    long r = main((int)sp[0], (char **)(sp + 1));
    for (;;)
        sc1(231, r);
}
__asm__(".text\n.global _start\n_start:\n xor %rbp, %rbp\n mov %rsp, %rdi\n"
        " and $-16, %rsp\n call start_c\n hlt\n");
"""


@pytest.fixture
def build_guest(tmp_path):
    """``build_guest(source, name="guest") -> path``: compile a freestanding guest.

    ``source`` is appended to FREESTANDING_PRELUDE and must define
    ``long main(int argc, char **argv)``; the program exits with main's value.
    """
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")

    def build(source: str, name: str = "guest") -> str:
        src = tmp_path / (name + ".c")
        out = tmp_path / name
        src.write_text(FREESTANDING_PRELUDE + source)
        proc = subprocess.run([gcc, "-nostdlib", "-static", "-ffreestanding", "-fno-stack-protector",
                               "-fno-builtin", "-fno-pie", "-no-pie", "-O2", "-o", str(out), str(src)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            pytest.fail("gcc failed:\n" + proc.stdout.decode(errors="replace"), pytrace=False)
        return str(out)

    return build
