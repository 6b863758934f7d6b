"""Shared by the security tests (issue 14): run umlpy the way an attacker or a
careless operator would, and check the aftermath.

- ``contained(cmd, ...)``: run a shell command line through ``reaper.py`` (a
  child subreaper), so that every process the run leaves behind (a stub that
  outlived its supervisor...) is found and reported, whatever its parent.
- ``umlpy_cmd``: the argv prefix that runs this checkout's umlpy CLI.
- ``tree_snapshot(path)`` (a fixture): names, sizes, modes and contents of a directory
  tree, to assert that a run changed nothing on the host.
"""

import dataclasses
import hashlib
import json
import os
import shlex
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
REAPER = os.path.join(HERE, "reaper.py")


@dataclasses.dataclass
class Contained:
    returncode: int
    stdout: bytes
    stderr: bytes
    left: list          # processes left alive by the run (killed by the reaper since)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture
def umlpy_cmd():
    """The argv prefix of this checkout's umlpy command, as a shell-quoted string."""
    return "%s -m umlpy" % shlex.quote(sys.executable)


@pytest.fixture
def contained(tmp_path):
    """``contained(shell_line, stdin=b"", timeout=60, cwd=None) -> Contained``."""
    counter = [0]

    def run(line, stdin=b"", timeout=60, cwd=None):
        counter[0] += 1
        report = tmp_path / ("reaper-%d.json" % counter[0])
        proc = subprocess.run([sys.executable, REAPER, str(report), "sh", "-c", line],
                              input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=_env(), timeout=timeout, cwd=cwd or str(tmp_path))
        assert proc.returncode == 0, proc.stderr
        with open(report) as f:
            rep = json.load(f)
        st = rep["status"]
        rc = os.waitstatus_to_exitcode(st)
        return Contained(rc, proc.stdout, proc.stderr, rep["left"])

    return run


@pytest.fixture
def tree_snapshot():
    """``tree_snapshot(path)``: see :func:`snapshot`."""
    return snapshot


def snapshot(path) -> dict:
    """path -> (mode, size, sha256) of everything under ``path`` (symlinks by target)."""
    snap = {}
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            st = os.lstat(p)
            if os.path.islink(p):
                snap[p] = ("link", os.readlink(p))
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    snap[p] = (st.st_mode, st.st_size, hashlib.sha256(f.read()).hexdigest())
            else:
                snap[p] = (st.st_mode,)
    return snap
