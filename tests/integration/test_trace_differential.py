"""Differential tests of ``umlpy trace`` against the real strace.

Each static guest runs natively under ``strace -ff -o PREFIX`` and under
``umlpy trace -ff -o PREFIX`` (one trace file per task on both sides, so that
scheduling cannot interleave lines differently).  Both runs get the same argv,
the same current directory, the same environment (``umlpy.api.guest_env``: the
native run is given it, umlpy passes it with ``--clean-env``; the strace-habit
tests check the default, the user's environment), an empty stdin, and stdout and
stderr to /dev/null (a character device that is not a tty on both sides, so the
C libraries take the same paths).  The traces are normalised (below) and then
compared call by call: names, decoded arguments (flags, strings, structures) and
results or errno names must be identical.

Intended differences, each with its reason (and nothing else is normalised):

  PIDS      Native pids are host pids; guest pids are the guest kernel's (1, 2, ...).
            Tasks are matched by order of creation and native pid numbers are
            rewritten into guest ones wherever they appear (fork/wait4/gettid results,
            kill/tkill arguments, si_pid=).
  ADDR      Hex pointers of 5+ digits (stack, brk, mmap results, rseq and
            set_robust_list areas, TLS) depend on the host's/guest's layout: -> 0xADDR.
  CONSOLE   st_mode permission bits and st_rdev of fstat/newfstatat on fds 0-2: the
            guest's console (char 5,1, 0620) vs the host's /dev/null (char 1,3, 0666).
  RANDOM    getrandom's bytes are random on the host (seeded under umlpy).
  TEMPNAME  glibc's mkdtemp draws getrandom bits a varying number of times on the host
            (usually once, sometimes twice): getrandom calls right before the mkdir of
            the temporary directory are dropped on both sides.
  TMPNAME   mkdtemp names (files-*) derive from the clock and addresses.
  VDSO      clock_gettime/gettimeofday/time/getcpu go through the vDSO natively and
            do not appear under strace; under umlpy they are real system calls.  They
            are dropped from the umlpy side only.
  PIPEIO    How a 200000-byte pipe transfer is split into read(2)/write(2) calls
            depends on scheduling and pipe capacity: consecutive data reads (writes)
            on one fd are merged into one record with the byte total.
  SIGCHLD   When a child's SIGCHLD reaches its parent depends on scheduling: natively
            the child often exits while the parent is still in its read loop (two
            CPUs); under umlpy's one vCPU it comes at another point.  SIGCHLD lines
            are taken out of the sequence and compared as a sorted list at the end,
            with the rt_sigreturn right after one (a handler that makes no call: its
            result is the interrupted call's) and a call that it interrupted with
            ERESTART* (the call is made again).
  STRACE    strace's own messages (attach/detach, "Process N ...") are dropped.
  LDSO      ld.so's minimal malloc allocates in another pattern natively, where it also
            builds a link map for the vDSO (umlpy gives guests no vDSO): an image's
            anonymous read-write mmaps before its TLS is set up (arch_prctl ARCH_SET_FS)
            become one mark at the image's start (present on both sides or neither).
  PARENT    The first process's parent is strace natively (a host pid) and nobody (0)
            for umlpy's pid 1: getppid() of the first task -> PARENT.
  CPUTIME   si_utime/si_stime of SIGCHLD are the host's CPU times: -> N.
  SYSINFO   sysinfo(2) describes the machine: the host's natively, the guest's under umlpy.
  PROCFS    /proc/filesystems lists the kernel's file systems, the host's or the guest
            kernel's: the byte counts read from it -> N.
  EXECVE    The execve line is compared separately (test_execve_line): the first
            call's environment count and pointers differ by construction.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from umlpy.api import guest_env

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRACE = shutil.which("strace")

pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed")


def _env() -> dict:
    env = {}
    for item in guest_env():
        k, _, v = item.decode().partition("=")
        env[k] = v
    return env


def _umlpy_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _read_per_task(prefix: str) -> dict:
    """{pid: [lines]} from PREFIX.<pid> files."""
    d, base = os.path.split(prefix)
    out = {}
    for name in os.listdir(d):
        if name.startswith(base + "."):
            suffix = name[len(base) + 1:]
            if suffix.isdigit():
                with open(os.path.join(d, name), errors="replace") as f:
                    out[int(suffix)] = f.read().splitlines()
    return out


def run_native(tmp_path, argv) -> tuple:
    prefix = str(tmp_path / "native")
    with open(os.devnull, "wb") as null:
        p = subprocess.run([STRACE, "-ff", "-o", prefix] + argv, stdin=subprocess.DEVNULL,
                           stdout=null, stderr=null, env=_env(), timeout=60)
    return p.returncode, _read_per_task(prefix)


def run_umlpy(tmp_path, argv, extra=()) -> tuple:
    prefix = str(tmp_path / "umlpy")
    with open(os.devnull, "wb") as null:
        p = subprocess.run([sys.executable, "-m", "umlpy", "trace", "--clean-env", "-ff", "-o", prefix,
                            *extra] + argv,
                           stdin=subprocess.DEVNULL, stdout=null, stderr=subprocess.PIPE,
                           env=_umlpy_env(), timeout=120)
    assert b"Traceback" not in p.stderr and b"internal error" not in p.stderr, p.stderr.decode()
    return p.returncode, _read_per_task(prefix)


# --- normalisation -----------------------------------------------------------------------------

VDSO_CALLS = {"clock_gettime", "gettimeofday", "time", "getcpu"}
_CALL = re.compile(r"^(?P<name>[a-z_0-9]+)\((?P<rest>.*)$")
_STRACE_MSG = re.compile(r"^(Process \d+ (attached|detached|suspended)|strace: )")


def _merge_resumed(lines):
    """Join 'x( <unfinished ...>' with its '<... x resumed>' line (should not occur with -ff)."""
    out, pending = [], None
    for line in lines:
        if line.endswith(" <unfinished ...>"):
            pending = line[:-len(" <unfinished ...>")]
            continue
        m = re.match(r"^<\.\.\. ([a-z_0-9]+) resumed>(.*)$", line)
        if m and pending is not None:
            out.append(pending + m.group(2))
            pending = None
            continue
        out.append(line)
    if pending is not None:
        out.append(pending + " <unfinished ...>")
    return out


def _squash_spaces(line: str) -> str:
    # the padding before " = " depends on the line's length (pids, addresses)
    return re.sub(r"\)\s+= ", ") = ", line)


_LDSO_MMAP = re.compile(r"^mmap\(NULL, \d+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0xADDR$")
_PROCFS_FILES = ('"/proc/filesystems"',)


def _drop_ldso_mmap(recs, first):
    """LDSO: ld.so's anonymous mmaps before ARCH_SET_FS become one mark at the image's start."""
    out = []
    start = 0 if first else None
    for r in recs:
        if r.startswith("execve("):
            out.append(r)
            start = len(out)
            continue
        if r.startswith("arch_prctl(ARCH_SET_FS"):
            start = None
        elif start is not None and _LDSO_MMAP.match(r):
            if "<ld.so's own allocations>" not in out[start:start + 1]:
                out.insert(start, "<ld.so's own allocations>")
            continue
        out.append(r)
    return out


def _procfs_reads(recs):
    """PROCFS: the byte counts read from /proc/filesystems."""
    fds, out = set(), []
    for r in recs:
        m = re.match(r'^openat\(AT_FDCWD, ("[^"]*"), .*\) = (\d+)$', r)
        if m and m.group(1) in _PROCFS_FILES:
            fds.add(m.group(2))
        m = re.match(r"^read\((\d+), ", r)
        if m and m.group(1) in fds:
            r = re.sub(r" = (total )?\d+$", " = N", re.sub(r', ".*"(\.\.\.)?, ', ", <data>, ", r))
        m = re.match(r"^close\((\d+)\)", r)
        if m:
            fds.discard(m.group(1))
        out.append(r)
    return out


def normalise(lines, pid_map: dict, side: str, first: bool = False):
    """Normalised records of one task's trace; side is 'native' or 'umlpy'; ``first``:
    the task is the first process (its parent is outside the trace)."""
    recs = []
    for line in _merge_resumed(lines):
        if _STRACE_MSG.match(line):
            continue                                                # STRACE
        for native_pid, guest_pid in pid_map.items():               # PIDS
            line = re.sub(r"(?<![\w.x])%d(?![\w.])" % native_pid, str(guest_pid), line)
        line = re.sub(r"0x[0-9a-f]{5,}", "0xADDR", line)            # ADDR
        line = re.sub(r"umlpy-files-[A-Za-z0-9]{6}", "umlpy-files-XXXXXX", line)   # TMPNAME
        m = _CALL.match(line)
        if m:
            name = m.group("name")
            if name == "execve" and not recs:
                continue                                            # EXECVE
            if name in VDSO_CALLS and side == "umlpy":
                continue                                            # VDSO
            if name == "getppid" and first:                         # PARENT
                line = re.sub(r" = \d+$", " = PARENT", _squash_spaces(line))
            if name == "sysinfo":                                   # SYSINFO
                line = re.sub(r"^sysinfo\(\{.*\}\)", "sysinfo({MACHINE})", line)
            if name == "getrandom":                                 # RANDOM
                line = re.sub(r'^getrandom\("[^"]*"(\.\.\.)?', 'getrandom("RANDOM"', line)
            if name in ("fstat", "newfstatat") and re.match(r"^[a-z0-9]+\([012], ", line):   # CONSOLE
                line = re.sub(r"st_mode=S_IFCHR\|0\d+", "st_mode=S_IFCHR|MODE", line)
                line = re.sub(r"st_rdev=makedev\([^)]*\)\)?", "st_rdev=RDEV", line)
            recs.append(_squash_spaces(line))
        else:
            line = re.sub(r"si_utime=\d+, si_stime=\d+( /\* [0-9.]+ s \*/)?",         # CPUTIME
                          "si_utime=N, si_stime=N", line)
            recs.append(line.strip())
    recs = _procfs_reads(_drop_ldso_mmap(recs, first))
    for i in range(len(recs) - 1, 0, -1):                        # TEMPNAME
        if recs[i - 1].startswith("getrandom(") and recs[i].startswith('mkdir("/tmp/umlpy-files-'):
            del recs[i - 1]
    sigchld, kept, after_sigchld = [], [], False                              # SIGCHLD
    for r in recs:
        if r.startswith("--- SIGCHLD "):
            if kept and re.search(r" = \? ERESTART", kept[-1]):
                kept.pop()                  # the interrupted call, run again after the handler
            sigchld.append(r)
            after_sigchld = True
            continue
        if after_sigchld and r.startswith("rt_sigreturn("):
            after_sigchld = False
            continue                        # the handler's return: its value is the interrupted call's
        after_sigchld = False
        kept.append(r)
    recs = kept
    sigchld.sort()
    return _merge_pipe_io(recs) + sigchld


_IO = re.compile(r'^(read|write)\((\d+), ".*?"(\.\.\.)?, \d+\) = (\d+)$')


def _merge_pipe_io(recs):
    """PIPEIO: consecutive data-moving read/write calls on one fd become one record."""
    out = []
    for r in recs:
        m = _IO.match(r)
        if m and int(m.group(4)) > 0:
            key = (m.group(1), m.group(2))
            if out and isinstance(out[-1], tuple) and out[-1][0] == key:
                out[-1] = (key, out[-1][1] + int(m.group(4)), out[-1][2] + 1)
                continue
            out.append((key, int(m.group(4)), 1))
        else:
            out.append(r)
    return ["%s(%s, <data>) = total %d" % (x[0][0], x[0][1], x[1]) if isinstance(x, tuple) else x
            for x in out]


def compare(tmp_path, argv):
    """(native status, umlpy status, [(pid, native records, umlpy records)])."""
    nrc, native = run_native(tmp_path, argv)
    urc, guest = run_umlpy(tmp_path, argv)
    assert native, "strace wrote no trace"
    assert guest, "umlpy wrote no trace"
    npids, gpids = sorted(native), sorted(guest)
    assert len(npids) == len(gpids), "tasks: native %s vs umlpy %s" % (npids, gpids)
    pid_map = dict(zip(npids, gpids))
    # longest first so that 12345 is not rewritten inside 123456
    pid_map = dict(sorted(pid_map.items(), key=lambda kv: -len(str(kv[0]))))
    first = (npids[0], gpids[0])
    pairs = [(g, normalise(native[n], pid_map, "native", n == first[0]),
              normalise(guest[g], pid_map, "umlpy", g == first[1]))
             for n, g in zip(npids, gpids)]
    return nrc, urc, pairs


def assert_same_trace(pairs):
    for pid, n, g in pairs:
        for i, (a, b) in enumerate(zip(n, g)):
            assert b == a, "task %d, call %d:\n  strace: %s\n  umlpy:  %s" % (pid, i, a, b)
        assert len(n) == len(g), "task %d: strace has %d records, umlpy %d; extra: %s" % (
            pid, len(n), len(g), (n[len(g):] or g[len(n):])[:5])


GUESTS = ["hello", "hello-glibc", "hello-musl", "writes", "files-musl", "files-glibc", "memory-musl",
          "pipes-musl", "exit42", "segv", "signals-glibc"]

# Programs whose traces differ from strace's because of an umlpy bug (see the report).
@pytest.mark.slow
@pytest.mark.parametrize("prog", GUESTS)
def test_same_as_strace(guest_bin, tmp_path, prog):
    nrc, urc, pairs = compare(tmp_path, [os.path.join(guest_bin, prog)])
    assert urc == (128 - nrc if nrc < 0 else nrc)     # the CLI exits as a shell: 128 + signal
    assert_same_trace(pairs)


def test_comparison_catches_a_different_decoding(guest_bin, tmp_path):
    """The comparison is meaningful: a changed flag, string or result is reported."""
    nrc, urc, pairs = compare(tmp_path, [os.path.join(guest_bin, "files-musl")])
    pid, n, g = pairs[0]
    assert any("O_CREAT|O_EXCL" in r for r in n) and any("EEXIST" in r for r in n)
    for old, new in (("O_RDWR|O_CREAT", "O_RDWR|O_TRUNC"), ("EEXIST", "EACCES"),
                     ("/b.txt\"", "/c.txt\""), ("= 13", "= 12")):
        i = next(i for i, r in enumerate(g) if old in r)
        bad = list(g)
        bad[i] = bad[i].replace(old, new, 1)
        with pytest.raises(AssertionError):
            assert_same_trace([(pid, n, bad)])


def test_execve_line(guest_bin, tmp_path):
    argv = [os.path.join(guest_bin, "hello")]
    _, native = run_native(tmp_path, argv)
    _, guest = run_umlpy(tmp_path, argv)
    n = re.sub(r"0x[0-9a-f]+", "0xADDR", native[min(native)][0])
    g = re.sub(r"0x[0-9a-f]+", "0xADDR", guest[min(guest)][0])
    assert _squash_spaces(g) == _squash_spaces(n)


if __name__ == "__main__":      # print the normalised traces side by side (debugging aid)
    import tempfile
    import pathlib
    for prog in sys.argv[1:]:
        with tempfile.TemporaryDirectory() as d:
            nrc, urc, pairs = compare(pathlib.Path(d), [os.path.join(REPO, "guest_images/build/bin", prog)])
            print("==", prog, nrc, urc)
            for pid, n, g in pairs:
                for i in range(max(len(n), len(g))):
                    a = n[i] if i < len(n) else ""
                    b = g[i] if i < len(g) else ""
                    print(("   " if a == b else "!! ") + "%d| %s\n   %d| %s" % (pid, a, pid, b) if a != b
                          else "   %d| %s" % (pid, a))
