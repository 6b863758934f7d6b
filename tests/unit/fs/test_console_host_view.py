"""fds 0-2 of a host program look like what is behind them on the host (as under strace):
a pipe is a FIFO (lseek: ESPIPE), /dev/null a character device that seeks, a file a file;
a terminal, or a console captured by the API, is the guest's console device."""

import errno
import os
import stat

import pytest

from umlpy.errors import SyscallError
from umlpy.fs.console import Console, ConsoleIO


def test_pipe_is_a_fifo():
    r, w = os.pipe()
    try:
        f = Console(ConsoleIO(write_fd=w), os.O_RDWR)
        assert stat.S_ISFIFO(f.fstat().st_mode)
        with pytest.raises(SyscallError) as e:
            f.lseek(0, os.SEEK_CUR)
        assert e.value.errno == errno.ESPIPE
    finally:
        os.close(r)
        os.close(w)


def test_dev_null_is_a_device_that_seeks():
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        f = Console(ConsoleIO(read_fd=fd), os.O_RDWR)
        s = f.fstat()
        assert stat.S_ISCHR(s.st_mode) and s.st_rdev == os.fstat(fd).st_rdev
        assert f.lseek(0, os.SEEK_CUR) == 0
    finally:
        os.close(fd)


def test_regular_file_keeps_its_position(tmp_path):
    p = tmp_path / "in.txt"
    p.write_bytes(b"hello world")
    fd = os.open(p, os.O_RDONLY)
    try:
        io = ConsoleIO(read_fd=fd)
        f = Console(io, os.O_RDWR)
        assert f.fstat().st_size == 11 and stat.S_ISREG(f.fstat().st_mode)
        assert f.lseek(6, os.SEEK_SET) == 6
        assert io.read(5) == b"world"
    finally:
        os.close(fd)


def test_captured_console_is_the_console_device():
    f = Console(ConsoleIO(write=lambda b: None), os.O_RDWR)
    assert stat.S_ISCHR(f.fstat().st_mode)
    with pytest.raises(SyscallError):
        f.lseek(0, os.SEEK_CUR)
