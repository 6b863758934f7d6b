import pytest

from umlpy.mm.frames import FrameAllocator
from umlpy.mm.mm import MM
from umlpy.platform.physmem import PhysMem

from .fake import FakeHostAddressSpace


@pytest.fixture
def physmem():
    pm = PhysMem(64 << 20)
    yield pm
    pm.close()


@pytest.fixture
def frames(physmem):
    return FrameAllocator(physmem)


@pytest.fixture
def host():
    return FakeHostAddressSpace()


@pytest.fixture
def mm(frames, host):
    return MM(frames, host)
