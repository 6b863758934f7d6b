"""Shared by the unit tests: the fake host address space of ``mm/fake.py``, and
``plat``: each real platform in turn, over a 16 MiB physmem.

Under ``--import-mode=importlib`` the test folders are not packages, so the
fake is loaded once here, by path, as the module ``umlpy_test_fakes``; the
kernel and loader helpers import it by that name (pytest imports this
conftest before theirs).
"""

import importlib.util
import pathlib
import sys

import pytest

from umlpy.platform import PLATFORMS, c_platform_available, get_platform
from umlpy.platform.physmem import PhysMem

_NAME = "umlpy_test_fakes"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, pathlib.Path(__file__).parent / "mm" / "fake.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _mod
    _spec.loader.exec_module(_mod)


def _platform_params():
    out = []
    for name in PLATFORMS:
        marks = ()
        if name == "c" and not c_platform_available():
            marks = pytest.mark.skip(reason="C shim not built")
        out.append(pytest.param(name, marks=marks))
    return out


@pytest.fixture(params=_platform_params())
def plat(request):
    """A real platform (both in turn), closed with its physmem afterwards."""
    pm = PhysMem(16 << 20)
    p = get_platform(request.param, pm)
    yield p
    p.close()
    pm.close()
