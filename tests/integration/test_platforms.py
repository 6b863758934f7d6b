"""The two platforms ("c": the C shim, "python": pure-Python ptrace) are interchangeable.

Same program, same output, same status; both selectable from the CLI; an
unknown platform is refused without a traceback.
"""

import os
import struct
import subprocess
import sys

import pytest

import umlpy
from umlpy.errors import UmlpyError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli(*args, stdin=b"", timeout=60) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "umlpy", *args], input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)


def _both(argv, **kw):
    from umlpy.platform import c_platform_available
    if not c_platform_available():
        pytest.skip("the C shim is not built")
    return umlpy.run(argv, platform="c", **kw), umlpy.run(argv, platform="python", **kw)


@pytest.mark.parametrize("prog,args", [
    ("hello", []), ("hello-glibc", ["x"]), ("hello-musl", []), ("exit42", []), ("segv", []),
    ("auxv", ["1", "two words"]), ("auxv-glibc", []), ("cat", []),
])
def test_same_output(guest_bin, prog, args):
    c, py = _both([os.path.join(guest_bin, prog)] + args, stdin=b"some input\n")
    assert c.stdout == py.stdout
    assert c.stderr == py.stderr
    assert c.status == py.status


def test_same_output_init(rootfs):
    c, py = _both(["/init"], rootfs=rootfs)
    assert c.stdout == py.stdout and c.status == py.status == 0


GETPPID_LOOP_ARGS = ["1000"]


def test_same_output_getppid_loop(guest_bin):
    c, py = _both([os.path.join(guest_bin, "getppid_loop")] + GETPPID_LOOP_ARGS)
    assert c.stdout == py.stdout and c.status == py.status


@pytest.mark.parametrize("platform_name", ["c", "python", "auto"])
def test_cli_platform(guest_bin, platform_name):
    if platform_name == "c":
        from umlpy.platform import c_platform_available
        if not c_platform_available():
            pytest.skip("the C shim is not built")
    proc = cli("run", "--platform", platform_name, os.path.join(guest_bin, "hello"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"Hello from a freestanding guest!\n"
    assert proc.stderr == b""


@pytest.mark.parametrize("platform_name", ["c", "python"])
def test_cli_platform_exit_status(guest_bin, platform_name):
    assert cli("run", "--platform", platform_name, os.path.join(guest_bin, "exit42")).returncode == 42
    proc = cli("run", "--platform", platform_name, os.path.join(guest_bin, "segv"))
    assert proc.returncode == 139 and proc.stdout == b"about to fault\n"


@pytest.mark.parametrize("platform_name", ["c", "python"])
def test_cli_stdin_passthrough(guest_bin, platform_name):
    data = b"through the console\n" * 100
    proc = cli("run", "--platform", platform_name, os.path.join(guest_bin, "cat"), stdin=data)
    assert proc.returncode == 0 and proc.stdout == data


@pytest.mark.parametrize("name", ["bogus", "", "C", "kvm"])
def test_cli_unknown_platform(guest_bin, name):
    proc = cli("run", "--platform", name, os.path.join(guest_bin, "hello"))
    err = proc.stderr.decode()
    assert "Traceback" not in err, err
    assert proc.returncode in (2, 125), err
    assert proc.stdout == b""
    # argparse prints its usage first; the error itself is one line.
    errors = [line for line in err.splitlines() if "error" in line or line.startswith("umlpy: ")]
    assert len(errors) == 1, err
    assert "platform" in errors[0]


def test_api_unknown_platform(guest_bin):
    with pytest.raises(UmlpyError, match="platform"):
        umlpy.run([os.path.join(guest_bin, "hello")], platform="bogus")


# x86-64 Linux puts a process's initial stack at a random page in the 16 GiB
# below TASK_SIZE (randomize_stack_top, STACK_RND_MASK 0x3fffff pages), before
# the ELF segments are mapped.  A stub whose fixed addresses lie in that window
# fails to start when the stack lands on them: the exec dies of SIGSEGV after
# the point of no return (seen: 1 stub in ~40,000 starts; a fork storm of a
# few thousand processes then ends in "cannot take control of the stub").
STACK_RND_WINDOW = 0x3FFFFF << 12
STACK_MAX_INITIAL = 8 << 20     # generous room for the initial stack + arguments


def _stub_ranges():
    from umlpy.abi import memory
    from umlpy.platform.stub import STUB_PATH
    ranges = [(memory.STUB_DATA, memory.STUB_DATA + memory.STUB_DATA_SIZE),
              (memory.STUB_REQ, memory.STUB_REQ + memory.STUB_REQ_SIZE)]
    with open(STUB_PATH, "rb") as f:
        data = f.read()
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _, _, p_vaddr, _, _, p_memsz, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:     # PT_LOAD
            ranges.append((p_vaddr, p_vaddr + p_memsz))
    return ranges


def test_stub_outside_host_stack_window():
    from umlpy.abi import memory
    window_lo = memory.HOST_TASK_SIZE - STACK_RND_WINDOW - STACK_MAX_INITIAL
    for lo, hi in _stub_ranges():
        assert hi <= window_lo, "stub range %#x-%#x overlaps the host stack window (from %#x)" % (
            lo, hi, window_lo)
