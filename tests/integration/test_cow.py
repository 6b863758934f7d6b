"""Copy-on-write at range level, through the real run loop on both platforms.

``cowfork`` (musl and glibc) has a parent and its child write alternate pages of a
64 MiB region, a grandchild write inside the child's copy, then unmaps and
reprotects parts after a second fork and forks a half-absent region: each process
must see only its own writes, exactly as natively.  After the run no frame and
no stub is left.
"""

import os
import subprocess

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def native_env() -> dict:
    return dict(item.decode().split("=", 1) for item in guest_env())


def run_counted(argv, platform, memory=None):
    """(wait status, stdout, frames left, live stubs) of ``argv`` as pid 1."""
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    kw = {} if memory is None else {"memory": memory}
    with Machine(platform=platform, console=console, **kw) as m:
        m.start(argv[0], argv, guest_env(), host_program=True)
        status = m.run()
        frames = m.kernel.frames.used_pages
        live = [a for a in m.platform.spaces if not a.released]
    return status, bytes(out), frames, live


@pytest.mark.slow
@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_parent_and_child_write_alternate_pages_of_64mb(guest_bin, platform, libc):
    path = os.path.join(guest_bin, "cowfork-" + libc)
    native = subprocess.run([path], stdout=subprocess.PIPE, env=native_env(), timeout=120)
    assert native.returncode == 0
    assert native.stdout.count(b"bad 0") == 10, native.stdout
    status, out, frames, live = run_counted([path], platform)
    assert out == native.stdout
    assert status == 0
    assert frames == 0 and live == []


def test_cow_small_region_under_a_tight_memory_limit(guest_bin, platform):
    """4 MiB, with memory for about two copies: the fault-around COW falls back to
    single pages where frames are short, and the output is still the native one."""
    path = os.path.join(guest_bin, "cowfork-musl")
    native = subprocess.run([path, "4"], stdout=subprocess.PIPE, env=native_env(), timeout=60)
    assert native.returncode == 0
    status, out, frames, live = run_counted([path, "4"], platform, memory=12 << 20)
    assert out == native.stdout and status == 0
    assert frames == 0 and live == []
