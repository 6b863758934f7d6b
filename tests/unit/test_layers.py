"""The layering of DESIGN.md, checked on the source: imports point down, only platform touches the host.

Every module under umlpy/ is parsed with ``ast``; every import (module level or inside a
function, absolute or relative) of an ``umlpy.*`` module is checked against ALLOWED, and
host-control imports and calls (cffi, python-ptrace, os.fork, os.posix_spawn,
process_vm_*) are allowed only in ``umlpy/platform/``.
"""

import ast
import pathlib

import pytest

import umlpy

PKG = pathlib.Path(umlpy.__file__).resolve().parent

_ALL = None    # anything
#: layer -> the umlpy modules (prefixes) it may import.
ALLOWED = {
    "abi": ("umlpy.abi",),
    "errors": (),
    "waiter": (),
    "platform": ("umlpy.abi", "umlpy.errors", "umlpy.platform"),
    "mm": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.platform.base", "umlpy.platform.physmem", "umlpy.mm"),
    # fs sits above mm (DESIGN.md): a mapped file hands mm its page cache, a SharedObject.
    "fs": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.mm.shared", "umlpy.fs"),
    # Sockets are files (fs); the syscalls above make them.
    "net": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.fs", "umlpy.net"),
    # The loader calls methods of the MM it is given; it never imports mm.
    "loader": ("umlpy.abi", "umlpy.errors", "umlpy.loader"),
    "kernel": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.platform.base", "umlpy.mm", "umlpy.fs",
               "umlpy.loader", "umlpy.kernel"),
    "syscalls": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.platform", "umlpy.mm", "umlpy.fs", "umlpy.net", "umlpy.loader",
                 "umlpy.kernel", "umlpy.syscalls"),
    "trace": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.platform", "umlpy.mm", "umlpy.fs", "umlpy.net", "umlpy.loader",
              "umlpy.kernel", "umlpy.syscalls", "umlpy.trace"),
    # The gdb stub is a kernel hooks object beside the tracer (DESIGN.md: trace layer).
    "gdbstub": ("umlpy.abi", "umlpy.errors", "umlpy.waiter", "umlpy.platform", "umlpy.mm", "umlpy.fs", "umlpy.net",
                "umlpy.loader", "umlpy.kernel", "umlpy.gdbstub"),
    "cli": _ALL, "api": _ALL, "testing": _ALL, "__init__": _ALL, "__main__": _ALL,
}

#: Imports that give control of host processes: only umlpy/platform/ may use them.
HOST_MODULES = ("cffi", "_cffi_backend", "ptrace")
HOST_OS_CALLS = ("fork", "forkpty", "posix_spawn", "posix_spawnp", "process_vm_readv", "process_vm_writev",
                 "ptrace", "waitpid", "wait4", "wait3")

#: Known violations, reported to the lead: {"path relative to umlpy/": "reason"}.
KNOWN_VIOLATIONS = {}


def _modules():
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _dotted(path: pathlib.Path) -> tuple[str, bool]:
    """(dotted module name, is a package __init__) of a file under umlpy/."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts.pop()
    return ".".join(parts), is_pkg


def layer_of(path: pathlib.Path) -> str:
    rel = path.relative_to(PKG)
    if len(rel.parts) == 1:
        return rel.stem           # cli, api, errors, __init__, __main__
    return rel.parts[0]


def _exists(dotted: str) -> bool:
    p = PKG.parent.joinpath(*dotted.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def imported_names(source: str, module: str, is_pkg: bool):
    """(lineno, imported module) for every import in ``source``, relative ones resolved."""
    package = module if is_pkg else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[:-(node.level - 1)]
                base = ".".join(base_parts)
                target = base + ("." + node.module if node.module else "")
            else:
                target = node.module
            for a in node.names:
                sub = target + "." + a.name
                # "from umlpy import api" imports the module umlpy.api.
                out.append((node.lineno, sub if target.startswith("umlpy") and _exists(sub) else target))
    return sorted(out)


def _allowed(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def layer_violations(path: pathlib.Path, source: str | None = None):
    source = path.read_text() if source is None else source
    module, is_pkg = _dotted(path)
    allowed = ALLOWED[layer_of(path)]
    bad = []
    for lineno, name in imported_names(source, module, is_pkg):
        if name != "umlpy" and not name.startswith("umlpy."):
            continue
        if allowed is _ALL:
            continue
        if name == "umlpy" or not _allowed(name, allowed):
            bad.append("umlpy/%s:%d imports %s" % (path.relative_to(PKG), lineno, name))
    return bad


def host_violations(path: pathlib.Path, source: str | None = None):
    """Uses of host-process control outside umlpy/platform/."""
    source = path.read_text() if source is None else source
    module, is_pkg = _dotted(path)
    where = "umlpy/%s" % path.relative_to(PKG)
    bad = []
    for lineno, name in imported_names(source, module, is_pkg):
        if name.split(".")[0] in HOST_MODULES:
            bad.append("%s:%d imports %s" % (where, lineno, name))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "os":
            for a in node.names:
                if a.name in HOST_OS_CALLS:
                    bad.append("%s:%d imports os.%s" % (where, node.lineno, a.name))
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
              and (node.attr in HOST_OS_CALLS or node.attr.startswith("process_vm"))):
            bad.append("%s:%d uses os.%s" % (where, node.lineno, node.attr))
    return sorted(bad, key=lambda b: int(b.split(":")[1].split()[0]))


def _params():
    out = []
    for p in _modules():
        rel = str(p.relative_to(PKG))
        marks = ()
        if rel in KNOWN_VIOLATIONS:
            marks = pytest.mark.xfail(strict=True, reason=KNOWN_VIOLATIONS[rel])
        out.append(pytest.param(p, id=rel, marks=marks))
    return out


def test_every_module_has_a_layer():
    for p in _modules():
        assert layer_of(p) in ALLOWED, p


@pytest.mark.parametrize("path", _params())
def test_imports_point_down(path):
    assert layer_violations(path) == []


@pytest.mark.parametrize("path", [p for p in _params() if layer_of(p.values[0]) != "platform"])
def test_only_platform_controls_host_processes(path):
    assert host_violations(path) == []


# --- the checker itself catches what it should -----------------------------------------------

def _fake(rel):
    return PKG / rel


def test_checker_catches_function_level_and_relative_imports():
    src = ("import os\n"
           "from umlpy.abi import mman\n"
           "def f():\n"
           "    from umlpy.kernel import task\n"
           "    import umlpy.syscalls.fs\n"
           "from ..fs import vfs\n"
           "from . import frames\n")
    bad = layer_violations(_fake("mm/x.py"), src)
    assert bad == ["umlpy/mm/x.py:4 imports umlpy.kernel.task", "umlpy/mm/x.py:5 imports umlpy.syscalls.fs",
                   "umlpy/mm/x.py:6 imports umlpy.fs.vfs"]


def test_checker_resolves_package_relative_imports():
    assert layer_violations(_fake("syscalls/__init__.py"), "from . import fs, mm\nfrom .table import x\n") == []
    assert layer_violations(_fake("loader/__init__.py"), "from .. import mm\n") == [
        "umlpy/loader/__init__.py:1 imports umlpy.mm"]
    assert layer_violations(_fake("fs/x.py"), "import umlpy\n") == ["umlpy/fs/x.py:1 imports umlpy"]


def test_checker_allows_only_lower_layers():
    assert layer_violations(_fake("kernel/x.py"), "from umlpy.abi.sysargs import SysArgs\n") == []
    assert layer_violations(_fake("kernel/x.py"), "from umlpy.syscalls.args import SysArgs\n") != []
    assert layer_violations(_fake("kernel/x.py"), "from umlpy.syscalls.table import Row\n") != []
    assert layer_violations(_fake("kernel/x.py"), "from umlpy.platform.shim import ShimPlatform\n") != []
    assert layer_violations(_fake("mm/x.py"), "from umlpy.platform import get_platform\n") != []
    assert layer_violations(_fake("trace/x.py"), "from umlpy import api\n") == ["umlpy/trace/x.py:1 imports umlpy.api"]
    assert layer_violations(_fake("cli.py"), "from umlpy import api\nimport umlpy.platform.shim\n") == []


def test_mm_shared_is_a_leaf():
    """What fs may import from mm imports nothing but abi: fs does not reach the platform through it."""
    path = PKG / "mm" / "shared.py"
    module, is_pkg = _dotted(path)
    names = [n for _, n in imported_names(path.read_text(), module, is_pkg) if n.startswith("umlpy")]
    assert names and all(_allowed(n, ("umlpy.abi",)) for n in names), names


def test_checker_catches_host_control():
    src = ("import cffi\n"
           "from ptrace.binding import func\n"
           "import os\n"
           "def f():\n"
           "    os.fork()\n"
           "    os.posix_spawn('x', [], {})\n"
           "    os.process_vm_readv\n"
           "from os import fork\n"
           "os.getpid()\n")
    bad = host_violations(_fake("kernel/x.py"), src)
    assert [b.split(":", 1)[1] for b in bad] == [
        "1 imports cffi", "2 imports ptrace.binding", "5 uses os.fork", "6 uses os.posix_spawn",
        "7 uses os.process_vm_readv", "8 imports os.fork"]
