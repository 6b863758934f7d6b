"""--bind HOST:GUEST[:ro|rw]: the only way a guest changes host files.

A read-write bind takes the guest's changes to the host directory (files written,
appended, truncated, renamed, linked, removed; directories made and removed; symlinks;
modes and times); a read-only one refuses them with EROFS; nothing outside the bound
directory is reachable through it: ``..`` and symlinks inside it are the guest's own paths
(a link ``../secret`` leads to the guest's /mnt/secret, not the host directory's sibling),
and a host symlink swapped in for a directory is never followed.
"""

import os
import subprocess
import sys

import pytest

from umlpy.api import run
from umlpy.errors import SyscallError
from umlpy.fs.bindfs import Bind


def _tree(root):
    out = {}
    for d, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "-> " + os.readlink(p)
            elif os.path.isdir(p):
                out[rel] = "dir %o" % (os.stat(p).st_mode & 0o777)
            else:
                with open(p, "rb") as f:
                    out[rel] = "%o %r nlink %d" % (os.stat(p).st_mode & 0o777, f.read(), os.stat(p).st_nlink)
    return out


@pytest.fixture
def hostdir(tmp_path):
    top = tmp_path / "top"
    (top / "b" / "sub").mkdir(parents=True)
    (top / "secret").write_text("SECRET\n")
    (top / "b" / "a.txt").write_text("hello\n")
    os.symlink("../secret", top / "b" / "escape")
    os.symlink("../../secret", top / "b" / "sub" / "esc2")
    return top


_SCRIPT = r"""
cat /mnt/b/a.txt
echo new > /mnt/b/new.txt && echo more >> /mnt/b/new.txt
mkdir /mnt/b/d && mv /mnt/b/new.txt /mnt/b/d/n2
chmod 600 /mnt/b/d/n2 && ln /mnt/b/d/n2 /mnt/b/hard && ln -s a.txt /mnt/b/link
truncate -s 3 /mnt/b/a.txt && touch -d @946684800 /mnt/b/a.txt && stat -c %Y /mnt/b/a.txt
mkdir /mnt/b/gone && rmdir /mnt/b/gone && rm /mnt/b/sub/esc2
cat /mnt/b/escape 2>&1 | sed 's/^.*: //'
cd /mnt/b/sub && pwd && cd ../.. && pwd && ls /mnt/b/.. | grep -c secret
echo status $?
"""


def test_rw_bind_changes_the_host_directory(hostdir, platform):
    res = run(["sh", "-c", _SCRIPT], platform=platform, binds=["%s:/mnt/b" % (hostdir / "b")],
              env={"PATH": os.environ["PATH"], "LC_ALL": "C"})
    assert res.status == 0, res.stderr
    assert res.stdout.decode().splitlines() == [
        "hello", "946684800", "No such file or directory", "/mnt/b/sub", "/mnt", "0", "status 1"]
    assert _tree(hostdir / "b") == {
        "a.txt": "644 b'hel' nlink 1", "d": "dir 755", "escape": "-> ../secret",
        "hard": "600 b'new\\nmore\\n' nlink 2", "link": "-> a.txt", "sub": "dir 755",
        "d/n2": "600 b'new\\nmore\\n' nlink 2"}
    assert os.stat(hostdir / "b" / "a.txt").st_mtime == 946684800
    assert (hostdir / "secret").read_text() == "SECRET\n"


def test_ro_bind_refuses_changes(hostdir, platform):
    before = _tree(hostdir / "b")
    script = ("cat /mnt/b/a.txt; echo x > /mnt/b/a.txt; echo x > /mnt/b/new; mkdir /mnt/b/d; "
              "rm /mnt/b/a.txt; chmod 0 /mnt/b/a.txt; ls /mnt/b")
    res = run(["sh", "-c", script], platform=platform, binds=["%s:/mnt/b:ro" % (hostdir / "b")],
              env={"PATH": os.environ["PATH"], "LC_ALL": "C"})
    assert res.stdout.decode().split() == ["hello", "a.txt", "escape", "sub"]
    err = res.stderr.decode()
    assert err.count("Read-only file system") == 5, err
    assert _tree(hostdir / "b") == before


def test_without_bind_the_host_is_untouched(hostdir, platform):
    res = run(["sh", "-c", "echo x > %s; cat %s" % (hostdir / "b" / "a.txt", hostdir / "b" / "a.txt")],
              platform=platform, env={"PATH": os.environ["PATH"]})
    assert res.status == 0 and res.stdout == b"x\n"
    assert (hostdir / "b" / "a.txt").read_text() == "hello\n"


def test_a_host_symlink_swapped_in_is_never_followed(hostdir):
    b = Bind(os.fsencode(hostdir / "b"), b"/mnt/b", False, 0)
    os.rename(hostdir / "b" / "sub", hostdir / "b" / "sub.old")
    os.symlink(str(hostdir), hostdir / "b" / "sub")        # the host points "sub" outside
    with pytest.raises(SyscallError) as e:
        b.dir_fd(b"sub")
    assert e.value.errno == 2
    node = b.root.lookup(b"sub", None)
    assert node.is_symlink() and node.readlink(None) == os.fsencode(str(hostdir))


def test_bad_bind_options_are_one_line_errors(tmp_path):
    cmd = [sys.executable, "-m", "umlpy", "run"]
    for spec, what in (("nope", "HOST:GUEST"), ("%s:rel" % tmp_path, "absolute"),
                       ("%s/missing:/x" % tmp_path, "not a host directory"),
                       ("%s:/proc/x" % tmp_path, "cannot mount")):
        p = subprocess.run(cmd + ["--bind", spec, "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=60)
        assert p.returncode == 125 and p.stderr.count(b"\n") == 1 and what.encode() in p.stderr, p.stderr
