"""A page fault's access kind (issue 7): unprivilege's info.is_write and
PTRACE_FAULTINFO / PTRACE_EX_FAULTINFO say whether the access was a write,
for writes, reads and instruction fetches on PROT_NONE, read-only and
unmapped pages, on every platform.

The kernel knows it from the CPU's page-fault error code, which the stub's
SIGSEGV handler reads from its signal frame (csrc/stub.c) when the kernel
asks (umlpy.platform.base.Context.fault_access): only for faults the guest is
told about, so a fault that umlpy resolves costs no more than before.
"""

import os
import subprocess

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def run_guest(path, platform):
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(platform=platform, console=console) as m:
        m.start(path, [path], guest_env(), host_program=True)
        status = m.run()
        leftovers = (m.kernel.frames.used_pages, [a for a in m.platform.spaces if not a.released])
    return status, bytes(out), leftovers


def test_fault_kind_through_unprivilege_and_faultinfo(guest_bin, platform):
    status, out, (frames, live) = run_guest(os.path.join(guest_bin, "faultkind"), platform)
    text = out.decode(errors="replace")
    assert status == 0, text
    assert text.count(" ok\n") == 14 and "FAILED" not in text, text
    assert frames == 0 and live == []


def test_on_a_host_kernel_it_says_so(guest_bin):
    native = subprocess.run([os.path.join(guest_bin, "faultkind")], stdout=subprocess.PIPE, timeout=30)
    assert native.returncode == 2 and b"not running under umlpy" in native.stdout
