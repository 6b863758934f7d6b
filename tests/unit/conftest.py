"""Shared by the unit tests: the fake host address space of ``mm/fake.py``.

Under ``--import-mode=importlib`` the test folders are not packages, so the
fake is loaded once here, by path, as the module ``umlpy_test_fakes``; the
kernel and loader helpers import it by that name (pytest imports this
conftest before theirs).
"""

import importlib.util
import pathlib
import sys

_NAME = "umlpy_test_fakes"
if _NAME not in sys.modules:
    _spec = importlib.util.spec_from_file_location(_NAME, pathlib.Path(__file__).parent / "mm" / "fake.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_NAME] = _mod
    _spec.loader.exec_module(_mod)
