import errno
import os

import pytest

from umlpy.errors import SyscallError
from umlpy.fs import PIPE_SIZE, Console, ConsoleIO, WouldBlock, make_pipe, std_files


class Mem:
    def __init__(self):
        self.data = {}

    def write(self, addr, data):
        self.data[addr] = bytes(data)

    def read(self, addr, n):
        return self.data.get(addr, bytes(n))[:n]


def test_console_capture_and_ioctl():
    got = []
    c = Console(ConsoleIO(write=got.append), os.O_WRONLY)
    assert c.write(b"abc") == 3 and got == [b"abc"]
    with pytest.raises(SyscallError) as e:
        c.ioctl(0x5401, 0x1000, Mem())        # TCGETS on a non-tty
    assert e.value.errno == errno.ENOTTY
    with pytest.raises(SyscallError) as e:
        c.lseek(0, 0)
    assert e.value.errno == errno.ESPIPE


def test_console_host_fd_partial_writes_and_epipe():
    r, w = os.pipe()
    c = Console(ConsoleIO(write_fd=w), os.O_WRONLY)
    assert c.write(b"x" * 1000) == 1000
    assert os.read(r, 2000) == b"x" * 1000
    os.close(r)
    with pytest.raises(SyscallError) as e:
        c.write(b"y")
    assert e.value.errno == errno.EPIPE
    os.close(w)


def test_console_reads_host_fd():
    r, w = os.pipe()
    os.write(w, b"line\n")
    c = Console(ConsoleIO(read_fd=r), os.O_RDONLY)
    assert c.read(100) == b"line\n"
    os.close(w)
    assert c.read(100) == b""
    os.close(r)


def test_std_files():
    out = []
    fs = std_files(ConsoleIO(input=b""), ConsoleIO(write=out.append), ConsoleIO(write=out.append))
    fs[1].write(b"o")
    fs[2].write(b"e")
    assert out == [b"o", b"e"] and fs[0].read(5) == b""


def test_pipe_basic_eof_epipe():
    r, w = make_pipe()
    r.get_ref()
    w.get_ref()
    assert w.write(b"hello") == 5
    assert r.read(3) == b"hel" and r.read(10) == b"lo"
    with pytest.raises(WouldBlock):
        r.read(1)
    with pytest.raises(SyscallError) as e:
        r.lseek(0, 0)
    assert e.value.errno == errno.ESPIPE
    w.put_ref()
    assert r.read(1) == b""          # EOF: no writers
    r2, w2 = make_pipe()
    r2.get_ref()
    w2.get_ref()
    r2.put_ref()
    with pytest.raises(SyscallError) as e:
        w2.write(b"x")
    assert e.value.errno == errno.EPIPE


def test_pipe_capacity_and_nonblock():
    r, w = make_pipe(os.O_NONBLOCK)
    assert w.write(b"a" * (PIPE_SIZE + 10)) == PIPE_SIZE
    with pytest.raises(SyscallError) as e:
        w.write(b"b")
    assert e.value.errno == errno.EAGAIN
    assert len(r.read(PIPE_SIZE)) == PIPE_SIZE
    with pytest.raises(SyscallError) as e:
        r.read(1)
    assert e.value.errno == errno.EAGAIN
    assert r.fstat().st_mode & 0o170000 == 0o010000
