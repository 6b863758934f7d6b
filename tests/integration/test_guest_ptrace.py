"""Guest ptrace through the real run loop, on every platform.

``ptracer`` (guest_images/src/ptracer.c) is a small tracer that checks syscall stops,
GET_SYSCALL_INFO, PEEK/POKE, GETREGS/SETREGS, PEEKUSER, a suppressed signal-delivery-stop,
PTRACE_EVENT_FORK with the new child's SIGSTOP, single-stepping (an exact instruction
count), the SIGTRAP after execve and the ESRCH cases, one line each: it must print the same
lines and exit the same way natively and under umlpy.
"""

import os
import shutil
import subprocess

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def run_in_image(rootfs, path, platform):
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(rootfs=rootfs, platform=platform, console=console) as m:
        m.start(path, [path], guest_env(), host_program=False)
        status = m.run()
        leftovers = (m.kernel.frames.used_pages, [a for a in m.platform.spaces if not a.released])
    return status, bytes(out), leftovers


def test_ptracer_native_and_guest_agree(rootfs, platform):
    native = subprocess.run([os.path.join(rootfs, "bin", "ptracer")], stdout=subprocess.PIPE, timeout=60)
    assert native.returncode == 0, native.stdout.decode(errors="replace")
    status, out, (frames, live) = run_in_image(rootfs, "/bin/ptracer", platform)
    assert out == native.stdout
    assert status == 0
    assert b"FAILED" not in out and b"0 failures\n" in out
    assert frames == 0 and live == []
