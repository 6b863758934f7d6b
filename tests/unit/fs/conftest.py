"""Fixtures for the fs unit tests: a small host rootfs and a fake kernel."""

import errno
import os

import pytest

from umlpy.errors import SyscallError
from umlpy.fs import VFS, Caller, ConsoleIO


class FakeProc:
    """A ProcProvider with two processes."""

    def __init__(self):
        self.files = {}

    def pids(self):
        return [1, 7]

    def exe(self, pid):
        return "/bin/prog"

    def cmdline(self, pid):
        return b"prog\0-v\0"

    def tids(self, pid):
        return [pid]

    def tgid_of(self, tid):
        return tid if tid in (1, 7) else None

    def environ(self, pid):
        return b"HOME=/\0"

    def comm(self, pid, tid=None):
        return b"prog\n"

    def status(self, pid, tid=None):
        return "Name:\tprog\nPid:\t%d\n" % (tid or pid)

    def stat(self, pid, tid=None):
        return "%d (prog) S 0\n" % (tid or pid)

    def statm(self, pid):
        return "1 1 0 0 0 1 0\n"

    def limits(self, pid):
        return "Limit\n"

    def system(self):
        return {"uptime": 2.5, "user": 10, "system": 0, "idle": 240, "ctxt": 0, "btime": 946684800,
                "forks": 7, "running": 1, "threads": 2, "last_pid": 7, "load": (0.0, 0.0, 0.0),
                "free_kb": 1000}

    def owner(self, pid):
        return (0, 0) if pid == 1 else (1000, 1000)

    def open_mem(self, pid, flags, caller, path, node):
        raise SyscallError(errno.EACCES)

    def maps(self, pid):
        return "00400000-00401000 r-xp 00000000 00:20 5 /bin/prog\n"

    def fds(self, pid):
        return {fd: f.path.decode() for fd, f in self.files.items()}

    def fd_file(self, pid, fd):
        return self.files.get(fd)

    def cwd(self, pid):
        return "/"

    def hostname(self):
        return "guest"


@pytest.fixture
def rootfs(tmp_path):
    r = tmp_path / "root"
    (r / "bin").mkdir(parents=True)
    (r / "etc").mkdir()
    (r / "tmp").mkdir()
    (r / "proc").mkdir()
    (r / "etc" / "passwd").write_bytes(b"root:x:0:0::/root:/bin/sh\n")
    (r / "etc" / "hosts").write_bytes(b"127.0.0.1 localhost\n")
    prog = r / "bin" / "prog"
    prog.write_bytes(b"\x7fELF-not-really")
    prog.chmod(0o755)
    (r / "etc" / "secret").write_bytes(b"s")
    (r / "etc" / "secret").chmod(0o600)
    os.symlink("/etc/passwd", r / "abs_link")
    os.symlink("../../../../etc/passwd", r / "bin" / "rel_link")
    os.symlink("loop_b", r / "loop_a")
    os.symlink("loop_a", r / "loop_b")
    os.symlink("/", r / "rootlink")
    # A host secret outside the rootfs that nothing may reach.
    (tmp_path / "outside").write_bytes(b"HOST SECRET")
    os.symlink(str(tmp_path / "outside"), r / "host_abs")
    return r


@pytest.fixture
def out():
    return bytearray()


@pytest.fixture
def proc():
    return FakeProc()


@pytest.fixture
def vfs(rootfs, proc, out):
    console = ConsoleIO(write=out.extend, input=b"typed\n")
    return VFS(str(rootfs), proc, console=console, random_bytes=lambda n: b"\xab" * n)


@pytest.fixture
def root():
    return Caller(pid=1)


@pytest.fixture
def user():
    return Caller(pid=7, uid=1000, gid=1000)


def errno_of(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except SyscallError as e:
        return e.errno
    return None


@pytest.fixture
def err():
    """err(fn, *args) -> the errno fn raised (None if it succeeded)."""
    return errno_of


__all__ = ["errno"]
