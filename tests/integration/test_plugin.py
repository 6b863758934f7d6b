"""The pytest plugin, used as a downstream test suite would: the fixture, its marker,
structured traces, assertions with diffs, golden traces, pytest-xdist, and the example
file of the docs (docs/examples/test_umlpy_plugin.py), run by pytest in a subprocess so
that the plugin is found through its entry point as in any other project."""

import os
import shutil
import subprocess
import sys

import pytest

from umlpy.testing.plugin import GuestRunner, assert_calls
from umlpy.testing.trace import Trace

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "docs", "examples", "test_umlpy_plugin.py")
GOLDEN = os.path.join(REPO, "docs", "examples", "goldens", "test_umlpy_plugin", "test_missing_file_golden.trace")


def test_fixture_runs_a_guest(umlpy, guest_bin):
    res = umlpy.run([os.path.join(guest_bin, "hello-musl")])
    assert res.exit_code == 0
    assert res.stdout.startswith(b"Hello, world!")
    assert not res.trace                       # no trace asked for


def test_fixture_traces(umlpy, guest_bin):
    res = umlpy.run([os.path.join(guest_bin, "writes")],
                    trace=umlpy.TraceOptions(deterministic=True, trace=frozenset({"write"})))
    assert res.exit_code == 0
    assert b'write(1, "write number 1\\n", 15)' in res.trace
    writes = res.trace.calls("write")
    assert [c.ret for c in writes] == [15] * 5
    assert writes[0].args == ("1", '"write number 1\\n"', "15")
    assert res.trace.names() == ["write"] * 5             # trace= filters both forms alike


@pytest.mark.umlpy(memory="64M", deterministic=True)
def test_marker_sets_defaults(umlpy, guest_bin):
    res = umlpy.run([os.path.join(guest_bin, "hello")], trace=True)
    assert res.kernel.memory_limit == 64 << 20
    assert res.kernel.clock is not None and res.kernel.clock.virtual
    assert res.trace.exits[-1].exit_code == 0


def test_marker_rejects_unknown_options():
    with pytest.raises(pytest.UsageError, match="unknown option"):
        GuestRunner("auto", {"memroy": "1G"})


def test_assert_calls_diff_is_readable():
    import json
    lines = [json.dumps({"type": "syscall", "syscall": n, "args": a, "ret": r, "errno": e, "pid": 1, "tid": 1})
             for n, a, r, e in (("openat", ["AT_FDCWD", '"a"', "O_RDONLY"], 3, None),
                                ("mmap", ["NULL", "4096"], 1 << 40, None),
                                ("read", ["3", '"xy"', "64"], 2, None),
                                ("close", ["3"], 0, None))]
    trace = Trace.from_json_lines("\n".join(lines))
    assert_calls(trace, ["openat", "read", "close"])                   # mmap is not mentioned: ignored
    assert_calls(trace, ['openat(*"a"*) = 3', "read(3, *) = 2"])
    with pytest.raises(AssertionError) as e:
        assert_calls(trace, ["openat", "close", "read"])
    msg = str(e.value)
    assert "--- expected" in msg and "+++ actual" in msg
    assert "\n-close\n" in msg or "\n+read\n" in msg, msg
    with pytest.raises(AssertionError) as e:
        assert_calls(trace, ['openat(*"b"*) = 3'])
    assert '-openat(*"b"*) = 3' in str(e.value) and '+openat(AT_FDCWD, "a", O_RDONLY) = 3' in str(e.value)
    with pytest.raises(AssertionError):
        assert_calls(trace, ["openat", "read", "close"], exact=True)    # mmap counts now


def _pytest(*args, cwd=REPO):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=cwd,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env, timeout=300)


@pytest.mark.slow
def test_the_docs_example_passes_also_in_parallel():
    p = _pytest(EXAMPLE)
    assert p.returncode == 0, p.stdout.decode()
    assert b"6 passed" in p.stdout
    p = _pytest("-n", "2", EXAMPLE)
    assert p.returncode == 0, p.stdout.decode()
    assert b"6 passed" in p.stdout


@pytest.mark.slow
def test_goldens_fail_with_a_diff_and_update(tmp_path):
    work = tmp_path / "proj"
    shutil.copytree(os.path.dirname(EXAMPLE), work)
    golden = work / "goldens" / "test_umlpy_plugin" / "test_missing_file_golden.trace"
    original = golden.read_text()
    assert original == open(GOLDEN).read()
    golden.write_text(original.replace("ENOENT", "EACCES"))
    p = _pytest("test_umlpy_plugin.py", cwd=work)
    out = p.stdout.decode()
    assert p.returncode == 1 and "1 failed, 5 passed" in out, out
    assert "the trace differs from its golden file" in out
    assert "-open(\"data.txt\", O_RDONLY)              = -1 EACCES" in out, out
    assert "+open(\"data.txt\", O_RDONLY)              = -1 ENOENT" in out, out
    p = _pytest("-n", "2", "--umlpy-update-goldens", "test_umlpy_plugin.py", cwd=work)
    assert p.returncode == 0, p.stdout.decode()
    assert golden.read_text() == original
    golden.unlink()
    p = _pytest("test_umlpy_plugin.py", "-k", "golden", cwd=work)
    assert p.returncode == 1 and b"--umlpy-update-goldens to write it" in p.stdout
