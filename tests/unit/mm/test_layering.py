"""mm depends only on errors, abi, platform.base/physmem and the stdlib."""

import ast
import pathlib

import umlpy.mm

ALLOWED = ("umlpy.errors", "umlpy.abi", "umlpy.platform.base", "umlpy.platform.physmem", "umlpy.mm")


def test_mm_imports_only_lower_layers():
    root = pathlib.Path(umlpy.mm.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("umlpy"):
                    assert name.startswith(ALLOWED), (path.name, name)
