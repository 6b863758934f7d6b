"""The guides in docs/ say what is true: every ```console block is run and its output checked.

A block is one shell session (``sh``) in a fresh directory, with umlpy's command on PATH,
``UMLPY_IMAGE`` the default image and ``UMLPY_DOCS`` the docs directory.  ``$ `` starts a
command, ``> `` continues it, a here-document runs to its end marker; the lines up to the
next command are its expected output (stdout and stderr together): ``...`` alone on a line
stands for any number of lines and ``[...]`` inside a line for any text.  Every command must
exit with status 0 (a block may end a command with ``; echo "exit status $?"`` to show one).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(REPO, "docs")
MARK = "@@umlpy-docs-command@@"


def console_blocks():
    out = []
    for name in sorted(os.listdir(DOCS)):
        if not name.endswith(".md"):
            continue
        text = open(os.path.join(DOCS, name)).read()
        for i, m in enumerate(re.finditer(r"^```console\n(.*?)^```", text, re.S | re.M)):
            out.append(pytest.param(name, m.group(1), id="%s-%d" % (name[:-3], i + 1)))
    return out


def parse(block: str):
    """[(command, [expected lines])]."""
    cmds = []
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("$ "):
            assert cmds, "output before the first command: %r" % line
            cmds[-1][1].append(line)
            i += 1
            continue
        cmd = line[2:]
        i += 1
        while i < len(lines) and lines[i].startswith("> "):
            cmd += "\n" + lines[i][2:]
            i += 1
        m = re.search(r"<<'?(\w+)'?", cmd)
        if m:                                   # a here-document: its body and end marker
            while i < len(lines):
                cmd += "\n" + lines[i]
                i += 1
                if lines[i - 1] == m.group(1):
                    break
        cmds.append((cmd, []))
    return cmds


def matches(expected, actual) -> bool:
    """``...`` lines match any lines; ``[...]`` any text within a line."""
    if not expected:
        return not actual
    e = expected[0]
    if e == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    pattern = "^" + ".*".join(re.escape(p) for p in e.rstrip().split("[...]")) + "$"
    return re.match(pattern, actual[0].rstrip()) is not None and matches(expected[1:], actual[1:])


@pytest.mark.slow
@pytest.mark.parametrize("doc,block", console_blocks())
def test_console_block(doc, block, tmp_path, rootfs):
    if shutil.which("gcc") is None or shutil.which("gdb") is None:
        pytest.fail("the docs' examples need gcc and gdb (tools/install-deps.sh test)")
    cmds = parse(block)
    script = ["set +e"]
    for n, (cmd, _) in enumerate(cmds):
        script.append("printf '%s %d\\n'" % (MARK, n))
        script.append(cmd)
        script.append("printf '\\n%s rc %d %%s\\n' \"$?\"" % (MARK, n))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "umlpy").write_text("#!/bin/sh\nexec %s -m umlpy \"$@\"\n" % sys.executable)
    (bindir / "umlpy").chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ)
    env.update(PATH="%s:%s:/usr/local/bin:/usr/bin:/bin" % (bindir, os.path.dirname(sys.executable)),
               UMLPY_IMAGE=rootfs, UMLPY_DOCS=DOCS, HOME=str(tmp_path),
               PYTHONPATH=REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""))
    p = subprocess.run(["sh", "-c", "\n".join(script)], cwd=str(work), env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    out = p.stdout.decode(errors="replace")
    for n, (cmd, expected) in enumerate(cmds):
        start = out.index("%s %d\n" % (MARK, n)) + len("%s %d\n" % (MARK, n))
        end = out.index("%s rc %d " % (MARK, n), start)
        rc = int(out[end:].split("\n", 1)[0].split()[-1])
        actual = out[start:end].rstrip("\n").split("\n") if out[start:end].strip("\n") else []
        assert "Traceback" not in out[start:end], out[start:end]
        assert rc == 0, "%s: `%s` exited with %d:\n%s" % (doc, cmd, rc, out[start:end])
        while expected and not expected[-1].strip():
            expected = expected[:-1]
        assert matches(expected, actual), "%s: `%s`\n--- expected\n%s\n--- actual\n%s" % (
            doc, cmd, "\n".join(expected), "\n".join(actual))


def test_the_harness_catches_a_wrong_output():
    assert matches(["a", "...", "z[...]"], ["a", "b", "c", "zebra"])
    assert not matches(["a", "z"], ["a", "b", "z"])
    assert not matches(["[...]x"], ["abc"])
    assert parse("$ echo a \\\n> b\na b\n$ cat > f <<'E'\n$ not a command\nE\n") == [
        ("echo a \\\nb", ["a b"]), ("cat > f <<'E'\n$ not a command\nE", [])]
