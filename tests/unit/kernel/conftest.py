"""Fixtures for the kernel unit tests (a fake platform; see kernel_helpers)."""

import pathlib
import sys

import pytest

_HERE = pathlib.Path(__file__).resolve().parent
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))

from kernel_helpers import Machine  # noqa: E402
from umlpy.mm.frames import FrameAllocator  # noqa: E402
from umlpy.platform.physmem import PhysMem  # noqa: E402
from umlpy.syscalls import default_table  # noqa: E402


@pytest.fixture(scope="session")
def physmem():
    pm = PhysMem(64 << 20)
    yield pm
    pm.close()


@pytest.fixture
def frames(physmem):
    return FrameAllocator(physmem)


@pytest.fixture(scope="session")
def table():
    return default_table()


@pytest.fixture
def rootfs(tmp_path):
    r = tmp_path / "root"
    for d in ("bin", "etc", "tmp", "proc", "dev"):
        (r / d).mkdir(parents=True)
    (r / "etc" / "hostname").write_bytes(b"guest\n")
    return r


@pytest.fixture
def machine(frames, rootfs, table):
    """machine(table=None, creds=None) -> a Machine with pid 1 ready to run a script."""
    made = []

    def make(tbl=None, creds=None):
        m = Machine(frames, rootfs, tbl or table, creds)
        made.append(m)
        return m
    yield make
    for m in made:
        for t in list(m.kernel.tasks.values()):
            if t.mm is not None and not t.mm.released:
                t.mm.release()
