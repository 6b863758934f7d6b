"""Fixtures for the loader tests: a real PhysMem, a fresh MM over a fake host, guest binaries."""

import pathlib
import subprocess
import sys

import pytest

from umlpy.mm.frames import FrameAllocator
from umlpy.mm.mm import MM
from umlpy.platform.physmem import PhysMem

_HERE = pathlib.Path(__file__).resolve().parent
_REPO = _HERE.parents[2]
GUEST_BIN = _REPO / "guest_images" / "build" / "bin"


from umlpy_test_fakes import FakeHostAddressSpace  # noqa: E402  (tests/unit/conftest.py)
# Lets the test modules import loader_helpers (no packages under importlib mode).
if str(_HERE) not in sys.path:
    sys.path.insert(0, str(_HERE))


def _guest_binary(name: str) -> bytes:
    """The bytes of guest_images/build/bin/NAME, building the images once if missing."""
    path = GUEST_BIN / name
    if not path.exists():
        r = subprocess.run(["make", "-C", str(_REPO / "guest_images"), "OUT=%s" % (_REPO / "guest_images" / "build")],
                           capture_output=True)
        if r.returncode != 0 or not path.exists():
            pytest.skip("guest image %s cannot be built: %s" % (name, r.stderr.decode(errors="replace")[-300:]))
    return path.read_bytes()


@pytest.fixture(scope="session")
def guest_binary():
    """guest_binary(name) -> bytes of guest_images/build/bin/NAME."""
    return _guest_binary


@pytest.fixture(scope="session")
def physmem():
    pm = PhysMem(64 << 20)
    yield pm
    pm.close()


@pytest.fixture
def frames(physmem):
    fa = FrameAllocator(physmem)
    yield fa


@pytest.fixture
def new_mm(frames):
    """new_mm() -> a fresh MM over a fake host; all are released at teardown."""
    made = []

    def make():
        mm = MM(frames, FakeHostAddressSpace())
        made.append(mm)
        return mm
    yield make
    for mm in made:
        mm.release()


@pytest.fixture(scope="session")
def static_pie(tmp_path_factory):
    """A static-PIE program compiled here (skips if the toolchain cannot make one)."""
    d = tmp_path_factory.mktemp("spie")
    src = d / "p.c"
    src.write_text("static char buf[8192];\nint main(int c, char **v) { buf[c] = 1; return buf[1] + 6; }\n")
    out = d / "p"
    try:
        r = subprocess.run(["gcc", "-static-pie", "-O2", "-o", str(out), str(src)], capture_output=True,
                           timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip("gcc unavailable: %s" % e)
    if r.returncode != 0 or not out.exists():
        pytest.skip("gcc -static-pie unsupported: %s" % r.stderr.decode(errors="replace")[-300:])
    return out.read_bytes()


