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
    """(wait status, output, frames left, live stubs) of ``argv`` run in the default image.

    Live stubs are counted when the guest is done (every process gone); frames once the
    machine has ended (VASes and segments live until then)."""
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(rootfs=rootfs, platform=platform, console=console, **machine) as m:
        m.start(argv[0], argv, guest_env(), host_program=False)
        status = m.run()
        k = m.kernel
        live = [a for a in m.platform.spaces if not a.released]
    return status, bytes(out), k.frames.used_pages, live


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
    assert_passed(*run_in_image(rootfs, ["/bin/vasdemo"], platform), lines=48)


def test_vas_pair_unrelated_processes(rootfs, platform):
    """One process makes a named VAS and segment and writes into it; another, exec'd on
    its own (nothing inherited), finds both by name, attaches, switches in and reads."""
    status, out, frames, live = run_in_image(rootfs, ["/bin/vaspair", "both", "pair", "hi there"],
                                             platform)
    assert out == (b'writer: made VAS pair, wrote "hi there" (write number 1)\n'
                   b'reader: found VAS pair, segment found by name (mode 666): "hi there" '
                   b'(write number 1)\n')
    assert status == 0 and frames == 0 and live == []


def test_vas_store_across_runs(rootfs, platform, tmp_path, capfd):
    """--vas-store: the segment (not the VAS) comes back by name in the next run, with its
    contents and attributes, also after a guest crash; a corrupt store file is one line
    on stderr, left untouched and skipped."""
    store = str(tmp_path / "store")
    status, out, _, _ = run_in_image(rootfs, ["/bin/vaspair", "write", "pair", "run one"], platform,
                                     vas_store=store)
    assert status == 0 and out == b'writer: made VAS pair, wrote "run one" (write number 1)\n'
    assert sorted(os.listdir(store)) == ["pair-seg.attr", "pair-seg.seg"]
    status, out, frames, live = run_in_image(rootfs, ["/bin/vaspair", "read", "pair"], platform,
                                             vas_store=store)
    assert out == (b'reader: made a new VAS pair, segment found by name (mode 666): "run one" '
                   b'(write number 1)\n')
    assert status == 0 and frames == 0 and live == []
    status, out, _, _ = run_in_image(rootfs, ["/bin/vaspair", "crash", "pair", "then crashed"],
                                     platform, vas_store=store)
    assert status & 0x7F == 11 and out == b""
    _, out, _, _ = run_in_image(rootfs, ["/bin/vaspair", "read", "pair"], platform, vas_store=store)
    assert b'"then crashed" (write number 2)' in out
    # Corrupt or foreign files: skipped with one line each, never written.
    bad_attr = os.path.join(store, "junk-seg.attr")
    with open(bad_attr, "w") as f:
        f.write("this is not a segment\n")
    with open(os.path.join(store, "short-seg.attr"), "w") as f:
        f.write("%d %d 438 0 0\n" % (0x510000000000, 0x510000000000 + 4 * 4096))
    with open(os.path.join(store, "short-seg.seg"), "wb") as f:
        f.write(b"x" * 100)
    capfd.readouterr()
    status, out, _, _ = run_in_image(rootfs, ["/bin/vaspair", "read", "junk"], platform, vas_store=store)
    err = capfd.readouterr().err
    assert status == 1 << 8 and b"segment: No such file or directory" in out
    assert err.count("--vas-store: skipping") == 2 and "junk-seg.attr" in err and "short-seg.attr" in err
    status, out, _, _ = run_in_image(rootfs, ["/bin/vaspair", "write", "short", "new"], platform,
                                     vas_store=store)
    assert status == 0
    assert open(os.path.join(store, "short-seg.seg"), "rb").read() == b"x" * 100
    assert open(bad_attr).read() == "this is not a segment\n"


def test_vas_store_survives_sigterm(rootfs, tmp_path):
    """SIGTERM to umlpy while a writer sits switched in: the segment's contents are in the
    store file when umlpy has gone."""
    import signal
    import subprocess
    import sys
    store = str(tmp_path / "store")
    p = subprocess.Popen([sys.executable, "-m", "umlpy", "run", "--rootfs", rootfs, "--vas-store", store,
                          "/bin/vaspair", "hold", "term", "kept at SIGTERM"], stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"writer: holding\n"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 128 + signal.SIGTERM
    with open(os.path.join(store, "term-seg.seg"), "rb") as f:
        data = f.read()
    assert b"kept at SIGTERM" in data
    assert int.from_bytes(data[:8], "little") == 1


def test_eight_contexts_round_robin_from_a_signal_handler(rootfs, platform):
    status, out, frames, live = run_in_image(rootfs, ["/bin/asswitch"], platform)
    assert status == 0, out
    assert out.count(b"(its own memory: ok)") == 8
    assert (b"schedule: 1 2 3 4 5 6 7 8 0 1 2 3 4 5 6 7 8 0 1 2 3 4 5 6 7 8 0 1 2 3 4 5\n" in out)
    assert frames == 0 and live == []


def test_remap_file_pages_differential(guest_bin, platform):
    """Nonlinear remapping without MAP_NOINHERIT, as Linux (>= 3.16) still accepts it."""
    import subprocess
    import umlpy
    path = os.path.join(guest_bin, "rfpdemo")
    native = subprocess.run([path], stdout=subprocess.PIPE, timeout=60)
    assert native.returncode == 0 and b"0 failures" in native.stdout
    guest = umlpy.run([path], platform=platform, capture=True)
    assert guest.stdout == native.stdout and guest.returncode == 0


@pytest.mark.slow
def test_remap_file_pages_100000_nonuniform_pages(rootfs, platform):
    """100,000 pages of one mapping, each with its own file page and protection: far
    more host mappings than vm.max_map_count allows, served by the bounded host cache."""
    status, out, frames, live = run_in_image(rootfs, ["/bin/rfpdemo", "noinherit"], platform)
    text = out.decode()
    assert status == 0, text
    assert "100000 pages remapped" in text and "66667 readable pages read" in text
    assert text.count(" ok\n") == 7 and "FAILED" not in text
    assert frames == 0 and live == []
