"""An example test file for umlpy's pytest plugin (docs/testing.md); umlpy's own suite runs it.

Copy it into a project that has umlpy installed (``pip install umlpy``): pytest
finds the plugin by itself.  Golden traces live in ``goldens/<module>/`` beside
this file; ``pytest --umlpy-update-goldens`` writes them.
"""

import shutil
import subprocess

import pytest

# A program without a C library: its trace is the same on every machine, which is
# what a golden trace needs.  (Host programs such as cat are fine for assertions on
# particular calls; their full traces follow the host's C library.)
HELLO_C = r"""
static long sys(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}
void _start(void)
{
    static const char msg[] = "hello from a guest\n";
    long fd = sys(2, (long)"data.txt", 0, 0);          /* open("data.txt", O_RDONLY) */
    char buf[64];
    long n = fd >= 0 ? sys(0, fd, (long)buf, sizeof buf) : 0;
    sys(1, 1, (long)msg, sizeof msg - 1);
    if (n > 0)
        sys(1, 1, (long)buf, n);
    sys(60, fd >= 0 ? 0 : 3, 0, 0);                    /* exit */
}
"""


@pytest.fixture
def hello(tmp_path):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    src = tmp_path / "hello.c"
    src.write_text(HELLO_C)
    exe = tmp_path / "hello"
    subprocess.run([gcc, "-O1", "-static", "-nostdlib", "-fno-pie", "-no-pie", "-fno-stack-protector",
                    "-fcf-protection=none", "-o", str(exe), str(src)], check=True)
    (tmp_path / "data.txt").write_text("some data\n")
    return exe


def test_output_and_status(umlpy, hello, tmp_path):
    # The program runs in the directory given (by default the test's own), as a host program.
    res = umlpy.run([hello], cwd=tmp_path)
    assert res.exit_code == 0
    assert res.stdout == b"hello from a guest\nsome data\n"


@pytest.mark.umlpy(deterministic=True, memory="64M")
def test_structured_trace(umlpy, hello, tmp_path):
    res = umlpy.run([hello], cwd=tmp_path, trace=True)
    opened = res.trace.calls("open")
    assert [c.args[0] for c in opened] == ['"data.txt"']
    assert opened[0].ret == 3 and not opened[0].failed
    assert res.trace.calls("read")[0].ret == 10
    # In order, ignoring calls of other names; '*' matches anything.
    umlpy.assert_calls(res, ['open("data.txt", O_RDONLY) = 3', "read", "write", "write", "exit"])
    assert res.trace.exits[-1].exit_code == 0
    assert 'write(1, "hello from a guest\\n", 19)' in res.trace       # the strace text, too


# A golden trace must not depend on the machine: a relative program path (not the
# temporary directory's), and TERM fixed (the minimal environment copies the user's).
@pytest.mark.umlpy(deterministic=True, env={"TERM": "dumb"})
def test_missing_file_golden(umlpy, hello, tmp_path):
    (tmp_path / "data.txt").unlink()
    res = umlpy.run(["./hello"], cwd=tmp_path, trace=True)
    assert res.exit_code == 3
    assert res.trace.calls("open")[0].errno == "ENOENT"
    umlpy.assert_golden(res)          # goldens/test_umlpy_plugin/test_missing_file_golden.trace


def test_a_wrong_expectation_reads_well(umlpy, hello, tmp_path):
    res = umlpy.run([hello], cwd=tmp_path, trace=True)
    with pytest.raises(AssertionError) as e:
        umlpy.assert_calls(res, ["open", "write", "read"])
    assert "-write\n" in str(e.value) or "+read" in str(e.value), str(e.value)


@pytest.mark.umlpy(platform="python")
def test_a_marker_picks_the_platform(umlpy, hello, tmp_path):
    assert umlpy.run([hello], cwd=tmp_path).stdout.startswith(b"hello")


def test_host_programs(umlpy, tmp_path):
    (tmp_path / "notes.txt").write_text("a\nb\n")
    res = umlpy.run(["wc", "-l", "notes.txt"], cwd=tmp_path, trace=True)
    assert res.stdout == b"2 notes.txt\n"
    assert any(c.args[1] == '"notes.txt"' and c.ret >= 0 for c in res.trace.calls("openat"))
