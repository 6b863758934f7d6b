"""mremap in every combination Linux accepts (issue 9), on both platforms.

``mremaps`` (musl and glibc) checks shrinking, growing in place, growing past a
neighbour with MREMAP_MAYMOVE, MREMAP_FIXED (over a mapping, shrinking, growing),
MREMAP_DONTUNMAP (private and shared, with and without FIXED), shared anonymous memory
(moved, grown past its object: SIGBUS), duplication with old_len 0, COW pages moved by a
child, file mappings (offsets kept, writes reaching the file), a realloc-style loop and
the errno cases; the output must be the native one.  Debian's python3 growing a
regular-expression buffer (glibc realloc through mremap) must work too.
"""

import os
import subprocess

import pytest

import umlpy
from umlpy.api import guest_env


def native_env() -> dict:
    return dict(item.decode().split("=", 1) for item in guest_env())


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_mremap_combinations(guest_bin, platform, libc):
    path = os.path.join(guest_bin, "mremaps-" + libc)
    native = subprocess.run([path], stdout=subprocess.PIPE, env=native_env(), timeout=60)
    assert native.returncode == 0 and native.stdout.endswith(b"0 failures\n")
    guest = umlpy.run([path], platform=platform, capture=True)
    assert guest.stdout == native.stdout
    assert guest.returncode == 0
    assert b"umlpy:" not in guest.stderr


@pytest.mark.slow
def test_python_regex_growth(platform):
    """glibc's realloc of a large block grows it with mremap(MREMAP_MAYMOVE) into the
    next mapping's place: this used to fail with an internal error (exit 134)."""
    code = "import re; re.compile('|'.join('%d' % x for x in range(10000))); print('ok')"
    guest = umlpy.run(["/usr/bin/python3", "-c", code], rootfs="/", platform=platform, capture=True)
    assert guest.returncode == 0, guest.stderr
    assert guest.stdout == b"ok\n"
