"""Random system calls with garbage arguments (guest_images/src/sysfuzz.c).

Whatever the arguments, the guest gets errnos or signals: the supervisor never
raises (the tests run with UMLPY_DEBUG=1, so an internal error would), never
hangs, and leaves no host process behind.  tools/fuzz_syscalls.py runs the
same guest over many more seeds.
"""

import os

import psutil
import pytest

import umlpy

SEEDS = range(1, 7)


@pytest.mark.parametrize("seed", SEEDS)
def test_random_syscalls(guest_bin, platform, seed):
    res = umlpy.run([os.path.join(guest_bin, "sysfuzz"), str(seed), "1500"], platform=platform)
    assert res.exit_code == 0 or res.signal, res
    stubs = [p for p in psutil.Process().children(recursive=True)
             if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert stubs == []
