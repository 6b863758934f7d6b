import errno
import os

import pytest

from umlpy.errors import SyscallError
from umlpy.fs import FdTable, File


class Counted(File):
    released = 0

    def __init__(self):
        super().__init__(None, os.O_RDONLY, b"/x")

    def release(self):
        Counted.released += 1


def test_lowest_free_and_dup():
    t = FdTable()
    a, b = Counted(), Counted()
    assert t.install(a) == 0 and t.install(b) == 1
    t.close(0)
    assert t.install(b) == 0
    assert t.dup(1) == 2 and t.get(2) is b
    assert t.dup(1, min_fd=10) == 10
    with pytest.raises(SyscallError) as e:
        t.get(5)
    assert e.value.errno == errno.EBADF


def test_dup2_dup3_and_cloexec():
    t = FdTable()
    f, g = Counted(), Counted()
    t.install(f)
    t.install(g)
    assert t.dup2(0, 0) == 0
    with pytest.raises(SyscallError) as e:
        t.dup3(0, 0)
    assert e.value.errno == errno.EINVAL
    with pytest.raises(SyscallError) as e:
        t.dup2(7, 0)
    assert e.value.errno == errno.EBADF
    before = Counted.released
    t.dup3(0, 1, os.O_CLOEXEC)          # closes g's only slot
    assert Counted.released == before + 1
    assert t.get(1) is f and t.get_cloexec(1) and not t.get_cloexec(0)
    t.close_on_exec()
    assert 1 not in t and 0 in t


def test_fork_shares_descriptions_with_refcounts():
    t = FdTable()
    f = Counted()
    t.install(f)
    c = t.fork()
    assert c.get(0) is f
    before = Counted.released
    t.close(0)
    assert Counted.released == before
    c.close_all()
    assert Counted.released == before + 1


def test_emfile():
    t = FdTable(limit=4)
    f = Counted()
    for _ in range(4):
        t.install(f)
    with pytest.raises(SyscallError) as e:
        t.install(f)
    assert e.value.errno == errno.EMFILE
    with pytest.raises(SyscallError) as e:
        t.dup(0, min_fd=4)
    assert e.value.errno == errno.EINVAL
    assert [fd for fd, _ in t.items()] == [0, 1, 2, 3]
