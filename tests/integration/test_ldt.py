"""modify_ldt: the per-mm LDT reads back what was written, with Linux's encoding, errors and
its unsigned-int result (an error is 0xffffffea in rax, not -22), the same natively and under
umlpy on both platforms.  (PTRACE_LDT is exercised by minivmm-skas3.)"""

import os
import shutil
import subprocess

import pytest

import umlpy

SOURCE = os.path.join(os.path.dirname(__file__), "guests", "ldt.c")


@pytest.fixture(scope="module")
def ldt_prog(tmp_path_factory):
    cc = shutil.which("musl-gcc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    out = str(tmp_path_factory.mktemp("ldt") / "ldt")
    subprocess.run([cc, "-static", "-O2", "-o", out, SOURCE], check=True)
    return out


def test_modify_ldt_matches_native(ldt_prog, platform):
    native = subprocess.run([ldt_prog], stdout=subprocess.PIPE, timeout=60)
    if b"write entry 2: 0" not in native.stdout:
        pytest.skip("the host kernel has no modify_ldt (CONFIG_MODIFY_LDT_SYSCALL off)")
    guest = umlpy.run([ldt_prog], platform=platform)
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode == 0
