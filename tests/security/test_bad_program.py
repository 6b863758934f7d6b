"""Issue 14, item 7 (the face's part): a PROGRAM that cannot be a program, and a --memory that
cannot be had, get one line from umlpy and exit status 125 at once: never a hang (a FIFO or
/dev/urandom read forever), never a MemoryError (/dev/zero, a huge file), never a traceback."""

import os
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: "At once": far below what reading /dev/zero into memory or waiting on a FIFO would take.
AT_ONCE_S = 20


def umlpy_run(*args):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "umlpy", "run", *args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=AT_ONCE_S * 3)
    return p, time.monotonic() - start


def assert_one_line_125(p, elapsed, fragment):
    err = p.stderr.decode(errors="replace")
    assert "Traceback" not in err and "internal error" not in err, err
    assert p.returncode == 125, (p.returncode, err)
    assert err.count("\n") == 1 and err.startswith("umlpy: "), err
    assert fragment in err, err
    assert p.stdout == b""
    assert elapsed < AT_ONCE_S, elapsed


@pytest.mark.parametrize("dev", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device(dev):
    p, t = umlpy_run(dev)
    assert_one_line_125(p, t, "character device")


def test_device_inside_an_image(rootfs):
    p, t = umlpy_run("--rootfs", rootfs, "/dev/zero")
    assert_one_line_125(p, t, "/dev/zero")


def test_fifo(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    os.chmod(fifo, 0o755)
    p, t = umlpy_run(str(fifo))
    assert_one_line_125(p, t, "FIFO")


def test_directory(tmp_path):
    p, t = umlpy_run(str(tmp_path))
    assert_one_line_125(p, t, "is a directory")


def test_huge_file(tmp_path, guest_bin):
    # A valid ELF header at the start of a 64 GiB sparse file: umlpy copies a program in,
    # so one larger than the guest's memory is refused before a byte is read.
    huge = tmp_path / "huge"
    with open(huge, "wb") as f:
        f.write(open(os.path.join(guest_bin, "hello"), "rb").read())
        f.truncate(64 << 30)
    os.chmod(huge, 0o755)
    p, t = umlpy_run("--memory", "256M", str(huge))
    assert_one_line_125(p, t, "too large")


@pytest.mark.parametrize("size,fragment", [("99999G", "more than this host has"), ("12Q", "bad size"),
                                           ("0", "positive"), ("-1G", "--memory"), ("1e9", "bad size"),
                                           ("", "bad size")])
def test_bad_memory(guest_bin, size, fragment):
    p, t = umlpy_run("--memory", size, os.path.join(guest_bin, "hello"))
    assert_one_line_125(p, t, fragment)
