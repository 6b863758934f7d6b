"""``umlpy trace``: determinism, fault injection, the command line, fast-path visibility."""

import os
import re
import subprocess
import sys

import pytest

import umlpy
from umlpy.trace.options import TraceOptions, apply_expr

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def traced(argv, exprs=(), rootfs=None, **opts):
    o = TraceOptions(**opts)
    for e in exprs:
        apply_expr(o, e)
    return umlpy.run(argv, rootfs=rootfs, trace=o, capture=True)


def cli(*args, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "umlpy", "trace", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)


def squash(text: str) -> str:
    return re.sub(r"\)\s+= ", ") = ", text)


# --- --deterministic -------------------------------------------------------------------------------

@pytest.mark.parametrize("prog,opts", [
    ("threads-glibc", dict(follow_forks=True, timestamps=2, durations=True)),
    ("pipes-musl", dict(follow_forks=True)),
])
def test_deterministic_runs_are_identical(rootfs, prog, opts):
    runs = [traced(["/bin/" + prog], rootfs=rootfs, deterministic=True, **opts) for _ in range(2)]
    assert runs[0].trace, "no trace"
    assert runs[0].trace == runs[1].trace
    assert runs[0].stdout == runs[1].stdout and runs[0].stderr == runs[1].stderr
    assert runs[0].exit_code == runs[1].exit_code == 0


def test_deterministic_cli_output_files_identical(guest_bin, tmp_path):
    outs = []
    for i in range(2):
        f = tmp_path / ("t%d" % i)
        p = cli("--deterministic", "-f", "-tt", "-T", "-o", str(f), os.path.join(guest_bin, "threads-glibc"))
        assert p.returncode == 0, p.stderr
        outs.append((f.read_bytes(), p.stdout))
    assert outs[0] == outs[1]


# --- fault injection -------------------------------------------------------------------------------

def _writes(guest_bin, *exprs):
    return traced([os.path.join(guest_bin, "writes")], exprs, deterministic=True)


def test_inject_enospc_on_third_write(guest_bin):
    r = _writes(guest_bin, "inject=write:error=ENOSPC:when=3")
    assert r.stderr == b"write 3 failed: No space left on device\n"
    assert r.exit_code == 1
    assert r.stdout == b"write number 1\nwrite number 2\nwrite number 4\nwrite number 5\n"
    lines = [ln for ln in r.trace.decode().splitlines() if ln.startswith("write(1,")]
    assert len(lines) == 5
    assert lines[2].endswith("= -1 ENOSPC (No space left on device) (INJECTED)")
    assert sum("(INJECTED)" in ln for ln in r.trace.decode().splitlines()) == 1


def test_inject_every_call_from_the_second(guest_bin):
    r = _writes(guest_bin, "inject=write:error=ENOSPC:when=2+")
    assert r.stdout == b"write number 1\n"
    # writes 2..5 fail; the 4 error messages are writes too (to fd 2) and fail as well
    assert r.stderr == b""
    assert r.exit_code == 1
    injected = [ln for ln in r.trace.decode().splitlines() if ln.endswith("(INJECTED)")]
    assert len(injected) == 8


def test_inject_every_second_call_from_the_second(guest_bin):
    r = _writes(guest_bin, "inject=write:error=ENOSPC:when=2+2")
    # write calls: 1 ok, 2 fail, 3 (stderr msg) ok, 4 (w3) fail, 5 (msg) ok, 6 (w4) fail, 7 ok, 8 (w5) fail, 9 ok
    assert r.stdout == b"write number 1\n"
    assert r.stderr == b"".join(b"write %d failed: No space left on device\n" % i for i in (2, 3, 4, 5))
    assert r.exit_code == 1
    calls = [ln for ln in r.trace.decode().splitlines() if ln.startswith("write(")]
    assert [ln.endswith("(INJECTED)") for ln in calls] == [False, True] * 4 + [False]


def test_inject_retval(guest_bin):
    r = _writes(guest_bin, "inject=write:retval=3:when=2")
    # the 2nd write "writes" 3 bytes without doing anything: the program sees a short write
    assert r.stdout == b"write number 1\nwrite number 3\nwrite number 4\nwrite number 5\n"
    assert r.stderr.startswith(b"write 2 failed: ")
    assert r.exit_code == 1
    line = next(ln for ln in r.trace.decode().splitlines() if "(INJECTED)" in ln)
    assert line.startswith('write(1, "write number 2\\n", 15)') and line.endswith("= 3 (INJECTED)")


def test_inject_getpid_bypasses_the_fast_path(guest_bin, tmp_path):
    r = traced([os.path.join(guest_bin, "getppid_loop"), "5"], ["inject=getppid:error=EPERM:when=3"],
               deterministic=True)
    lines = [squash(ln) for ln in r.trace.decode().splitlines() if ln.startswith("getppid(")]
    assert len(lines) == 5
    assert lines[2] == "getppid() = -1 EPERM (Operation not permitted) (INJECTED)"
    assert all(not ln.endswith("(INJECTED)") for i, ln in enumerate(lines) if i != 2)


def test_inject_getpid_is_seen_by_the_guest(build_guest):
    src = r"""
long main(int argc, char **argv)
{
    long a = sc0(39), b = sc0(39), c = sc0(39);
    if (a != 1) return 10;
    if (b != -1) return 20;      /* -EPERM */
    if (c != 1) return 30;
    return 0;
}
"""
    prog = build_guest(src)
    r = traced([prog], ["inject=getpid:error=EPERM:when=2"], deterministic=True)
    assert r.exit_code == 0, r.trace.decode()
    lines = [squash(ln) for ln in r.trace.decode().splitlines() if ln.startswith("getpid(")]
    assert lines == ["getpid() = 1", "getpid() = -1 EPERM (Operation not permitted) (INJECTED)",
                     "getpid() = 1"]


# --- the command line ----------------------------------------------------------------------------

def test_cli_output_file(guest_bin, tmp_path):
    out = tmp_path / "trace.txt"
    p = cli("-o", str(out), os.path.join(guest_bin, "hello"))
    assert p.returncode == 0 and p.stdout == b"Hello from a freestanding guest!\n"
    assert p.stderr == b""
    text = squash(out.read_text())
    assert 'write(1, "Hello from a freestanding guest!"..., 33) = 33' in text
    assert text.endswith("+++ exited with 0 +++\n")


def test_cli_trace_to_stderr(guest_bin):
    p = cli(os.path.join(guest_bin, "exit42"))
    assert p.returncode == 42
    assert squash(p.stderr.decode()).endswith("exit_group(42) = ?\n+++ exited with 42 +++\n")


def test_cli_ff_one_file_per_task(guest_bin, tmp_path):
    prefix = tmp_path / "tr"
    p = cli("-ff", "-o", str(prefix), os.path.join(guest_bin, "pipes-musl"))
    assert p.returncode == 0, p.stderr
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("tr."))
    assert files == ["tr.1", "tr.2", "tr.3"]
    child = (tmp_path / "tr.2").read_text()
    assert "[pid" not in child and child.rstrip().endswith("+++ exited with 7 +++")
    assert (tmp_path / "tr.3").read_text().rstrip().endswith("+++ killed by SIGKILL +++")
    assert "fork()" in (tmp_path / "tr.1").read_text()


def test_cli_ff_creates_no_prefix_file(guest_bin, tmp_path):
    prefix = tmp_path / "tr"
    p = cli("-ff", "-o", str(prefix), os.path.join(guest_bin, "hello"))
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(tmp_path)) == ["tr.1"]


def test_cli_trace_class_file(guest_bin, tmp_path):
    out = tmp_path / "t"
    p = cli("-e", "trace=%file", "-o", str(out), os.path.join(guest_bin, "files-musl"))
    assert p.returncode == 0
    names = {ln.split("(", 1)[0] for ln in out.read_text().splitlines() if not ln.startswith(("+++", "---"))}
    assert names and names <= {"execve", "open", "openat", "stat", "access", "mkdir", "rmdir", "rename",
                               "unlink", "chdir", "getcwd", "newfstatat", "lstat", "readlink"}, names
    assert {"open", "rename", "unlink", "mkdir"} <= names


def test_cli_status_failed(guest_bin, tmp_path):
    out = tmp_path / "t"
    p = cli("-e", "status=failed", "-o", str(out), os.path.join(guest_bin, "files-musl"))
    assert p.returncode == 0
    calls = [ln for ln in out.read_text().splitlines() if not ln.startswith(("+++", "---"))]
    assert len(calls) >= 4
    assert all(re.search(r"= -1 E[A-Z]+ \(", ln) for ln in calls), calls


def test_cli_signal_none(guest_bin, tmp_path):
    out = tmp_path / "t"
    p = cli("-e", "signal=none", "-o", str(out), os.path.join(guest_bin, "signals-musl"))
    assert p.returncode == 128 + 15
    text = out.read_text()
    assert "---" not in text and "rt_sigaction(" in text
    assert text.endswith("+++ killed by SIGTERM +++\n")


def test_cli_summary_only(guest_bin):
    p = cli("-c", os.path.join(guest_bin, "files-musl"))
    assert p.returncode == 0
    err = p.stderr.decode().splitlines()
    assert err[0].split() == ["%", "time", "seconds", "usecs/call", "calls", "errors", "syscall"]
    assert err[-1].split()[-1] == "total" and err[-1].split()[0] == "100.00"
    assert not any("(" in ln for ln in err), "only the summary table"
    assert b"rename: 0" in p.stdout


@pytest.mark.parametrize("args", [
    ["-e", "trace=nosuchcall"],
    ["-e", "inject=write:error=ENOTANERRNO"],
    ["-e", "inject=write:when=0:error=EIO"],
    ["-e", "signal=SIGFOO"],
    ["-e", "status=whatever"],
    ["-e", "frobnicate=1"],
    ["-s", "-3"],
    ["-ff"],                      # -ff without -o
    ["-o", "/nonexistent/dir/file"],
    ["-X", "weird"],
    ["--format", "xml"],
    ["-s", "many"],
])
def test_cli_bad_options(guest_bin, args):
    p = cli(*args, os.path.join(guest_bin, "hello"))
    # Usage errors are umlpy's own errors too: one line, exit status 125.
    assert p.returncode == 125, (p.returncode, p.stderr)
    err = p.stderr.decode()
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("umlpy: "), err
    assert b"Hello" not in p.stdout


def test_cli_missing_program(tmp_path):
    p = cli(str(tmp_path / "nope"))
    assert p.returncode == 125 and "Traceback" not in p.stderr.decode()
    assert p.stderr.decode().count("\n") == 1


# --- the C fast path is visible --------------------------------------------------------------------

@pytest.mark.parametrize("platform_name", ["c", "python"])
def test_fast_path_calls_are_traced_in_order(guest_bin, platform_name):
    if platform_name == "c":
        from umlpy.platform import c_platform_available
        if not c_platform_available():
            pytest.skip("the C shim is not built")
    o = TraceOptions(deterministic=True, timestamps=3)
    r = umlpy.run([os.path.join(guest_bin, "getppid_loop"), "100"], trace=o, capture=True,
                  platform=platform_name)
    assert r.exit_code == 0
    lines = r.trace.decode().splitlines()
    calls = [squash(ln) for ln in lines if " getppid(" in ln]
    assert len(calls) == 100
    assert all(ln.endswith("getppid() = 0") for ln in calls), calls[:3]   # pid 1's parent: 0
    stamps = [float(ln.split()[0]) for ln in lines if ln[:1].isdigit()]
    assert stamps == sorted(stamps), "lines in time order"
    names = [ln.split(" ", 1)[1].split("(", 1)[0] for ln in lines if "(" in ln]
    assert names[0] == "execve" and names[-1] == "exit_group"
    assert names[1:101] == ["getppid"] * 100


def test_fast_path_flag_in_json(guest_bin):
    from umlpy.platform import c_platform_available
    if not c_platform_available():
        pytest.skip("the C shim is not built")
    import json
    r = umlpy.run([os.path.join(guest_bin, "getppid_loop"), "20"],
                  trace=TraceOptions(deterministic=True, fmt="json"), capture=True, platform="c")
    ev = [json.loads(ln) for ln in r.trace.decode().splitlines()]
    g = [e for e in ev if e.get("syscall") == "getppid"]
    assert len(g) == 20 and all(e["ret"] == 0 for e in g)
    assert any(e["fast_path"] for e in g), "the C shim answers getppid and records it"
