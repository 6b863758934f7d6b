"""What ``umlpy run`` imports (issue 11's start-up): nothing a plain run does not use.

Start-up time is measured by ``make bench`` (tools/bench_workloads.py), never here; this
guards the cause instead: the set of modules a run of a small guest leaves in
``sys.modules``.  A module on these lists that comes back (an eager import of the tracer,
argparse, dataclasses...) costs every ``umlpy run`` milliseconds.
"""

import os
import subprocess
import sys

import pytest

from umlpy.platform import c_platform_available

#: Standard-library modules umlpy run never needs for a plain guest (each costs 1-6 ms with
#: what it imports in turn: argparse's formatter pulls in shutil, locale, bz2 and lzma;
#: dataclasses pulls in inspect, ast, dis and tokenize).
STDLIB = ("argparse", "dataclasses", "inspect", "ast", "dis", "tokenize", "typing", "re", "urllib", "random",
          "ctypes", "shutil", "locale", "threading", "subprocess", "tempfile", "json", "bz2", "lzma", "copy")

#: Parts of umlpy that only some runs use: tracing, the gdb stub, the test plugin, the
#: other platform, debug registers, and syscall families a hello world never calls.
UMLPY = ("umlpy.trace", "umlpy.gdbstub", "umlpy.testing", "umlpy.platform.pyptrace", "umlpy.platform.debugregs",
         "umlpy.syscalls.ptrace", "umlpy.syscalls.vas", "umlpy.syscalls.unpriv", "umlpy.syscalls.mmext",
         "umlpy.syscalls.epoll", "umlpy.syscalls.events", "umlpy.syscalls.splice", "umlpy.syscalls.xattr",
         "umlpy.syscalls.ldt", "umlpy.syscalls.poll", "umlpy.syscalls.futex")

_PROBE = """
import sys
out = sys.argv[1]
sys.argv = ["umlpy"] + sys.argv[2:]
from umlpy.cli import main
try:
    status = main()
finally:
    modules = sorted(sys.modules)       # before this probe's own imports
    with open(out, "w") as f:
        f.write("\\n".join(modules))
sys.exit(status)
"""


def _modules_after(argv, tmp_path):
    out = tmp_path / "modules.txt"
    res = subprocess.run([sys.executable, "-c", _PROBE, str(out)] + argv, capture_output=True, timeout=60)
    return res, out.read_text().split("\n")


def _unwanted(modules):
    return sorted(m for m in modules
                  if m.split(".")[0] in STDLIB or any(m == u or m.startswith(u + ".") for u in UMLPY))


@pytest.mark.skipif(not c_platform_available(), reason="the C platform is not built")
@pytest.mark.parametrize("program", ["hello", "hello-musl"])
def test_umlpy_run_imports_only_what_it_uses(guest_bin, tmp_path, program):
    res, modules = _modules_after(["run", os.path.join(guest_bin, program)], tmp_path)
    assert res.returncode == 0, res.stderr
    assert b"Hello" in res.stdout
    assert "umlpy.kernel.kernel" in modules and "umlpy.syscalls.fs" in modules    # it did run a guest
    assert _unwanted(modules) == []


def test_the_lists_name_real_modules():
    """A typo on the lists above would make them guard nothing."""
    import importlib.util
    for name in STDLIB + UMLPY:
        assert importlib.util.find_spec(name) is not None, name
