"""The address-space extensions through the real run loop: /proc/mm, create_mm, current_mm,
mm_indirect, switch_mm and unprivilege, on every platform.

``mmcalls`` and ``unprivself`` (unprivilege in the caller's own address space, where only
UMLPY_PROT_UNPRIV mappings are visible; every exit reason; EINTR) check each call's results
and errno cases themselves (one line per check, exit status = failures); ``minivmm-unpriv`` is a one-process VMM that runs a small program in an
address space of its own with unprivilege() and emulates its system calls.  After each run
no frame, stub or mm may be left: the kernel's frame count is back to zero and every host
address space the platform made is released.
"""

import os
import subprocess

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def run_guest(path, platform):
    """(status, stdout, machine) of ``path`` as pid 1; the machine is closed."""
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(platform=platform, console=console) as m:
        m.start(path, [path], guest_env(), host_program=True)
        status = m.run()
        k = m.kernel
        leftovers = (k.frames.used_pages, [a for a in m.platform.spaces if not a.released])
    return status, bytes(out), leftovers


@pytest.mark.parametrize("prog", ["mmcalls", "minivmm-unpriv", "minivmm-skas3", "unprivself"])
def test_extension_programs_pass_their_checks_and_leak_nothing(guest_bin, platform, prog):
    status, out, (frames, live) = run_guest(os.path.join(guest_bin, prog), platform)
    assert status == 0, out.decode(errors="replace")
    assert b"FAILED" not in out
    assert frames == 0
    assert live == []


@pytest.mark.parametrize("flavour, who", [("unpriv", b"unprivileged"), ("skas3", b"SKAS3")])
def test_minivmm_output(guest_bin, platform, flavour, who):
    """Both VMMs run the same small program and print what it wrote and what they did:
    unpriv with create_mm + mm_indirect + unprivilege, skas3 with /proc/mm +
    PTRACE_SWITCH_MM + PTRACE_SYSEMU + PTRACE_FAULTINFO."""
    status, out, _ = run_guest(os.path.join(guest_bin, "minivmm-" + flavour), platform)
    assert status == 0
    assert out == (b"  hello from the %s guest\n" % who * 3
                   + b"minivmm-%s: guest exited with 7 after 5 emulated syscalls and 1 fault\n"
                   % flavour.encode())


@pytest.mark.parametrize("prog", ["mmcalls", "minivmm-unpriv", "minivmm-skas3", "unprivself"])
def test_on_a_host_kernel_the_extensions_are_enosys(guest_bin, prog):
    """How a guest detects umlpy: natively the first extension call fails with ENOSYS."""
    native = subprocess.run([os.path.join(guest_bin, prog)], stdout=subprocess.PIPE, timeout=30)
    assert native.returncode == 2
    assert b"Function not implemented" in native.stdout or b"/proc/mm: No such file" in native.stdout
