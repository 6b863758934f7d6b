"""Issue 8 through the real run loop, on both platforms: new_as/switch_as contexts,
first-class VASes and segments (with --vas-store across runs), the 8-context switcher,
and remap_file_pages with per-page protection past vm.max_map_count.

The guest programs check their own results (one line per check, exit status = the
number of failures) and run from the default image, as /init runs them.  After each
run no frame, stub or address space may be left: the frame count is back to zero and
every host address space the platform made is released.
"""

import os

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def run_in_image(rootfs, argv, platform, **machine):
    """(wait status, output, frames left, live stubs) of ``argv`` run in the default image."""
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(rootfs=rootfs, platform=platform, console=console, **machine) as m:
        m.start(argv[0], argv, guest_env(), host_program=False)
        status = m.run()
        k = m.kernel
        frames = k.frames.used_pages
        live = [a for a in m.platform.spaces if not a.released]
    return status, bytes(out), frames, live


def assert_passed(status, out, frames, live, lines):
    text = out.decode(errors="replace")
    assert status == 0, text
    assert "FAILED" not in text
    assert text.count(" ok\n") == lines, text
    assert frames == 0, text
    assert live == []


def test_new_as_switch_as(rootfs, platform):
    """Contexts are copy-on-write copies, MAP_SHARED stays shared, switch_as keeps every
    register, threads switch on their own with a futex shared across contexts, fork
    copies only the current context, exec frees all, and the ENOENT cases."""
    assert_passed(*run_in_image(rootfs, ["/bin/asdemo"], platform), lines=17)


def test_first_class_vas_and_segments(rootfs, platform):
    """Every VAS and segment call and errno case of DESIGN.md's table, the one-writer
    rule, permissions for another user, a thread keeping its data/heap/stack, new mmaps
    going into the VAS, fork/exec rules and a futex across two VASes."""
    assert_passed(*run_in_image(rootfs, ["/bin/vasdemo"], platform), lines=47)
