"""A guest that attacks its own stub gains nothing beyond its own address space.

The stub's pages are above the guest's TASK_SIZE but within reach of its
instructions.  ``stubpoke`` scribbles over the stub's read-write pages, tries
to write the mapper's read-only orders, and jumps to every syscall
instruction of the stub's code with registers asking for a host mmap of the
physical-memory file.  The process that runs guest code may make no host
system call at all (its seccomp filter), so every such jump is just a guest
system call; the mapper takes orders only from the read-only page, written by
the supervisor while the guest is stopped.
"""

import os
import shlex


def test_stub_forgery_gains_nothing(guest_bin, platform, contained, umlpy_cmd, tmp_path, tree_snapshot):
    canary = tmp_path / "canary"
    canary.write_bytes(b"untouched\n")
    before = tree_snapshot(tmp_path)
    prog = shlex.quote(os.path.join(guest_bin, "stubpoke"))
    guest = contained("%s run --platform %s %s" % (umlpy_cmd, platform, prog), timeout=120)
    assert guest.returncode == 0, guest.stderr
    assert guest.stdout == (b"scribbled over the stub's pages: still sane\n"
                            b"writing the mapper's orders: SIGSEGV\n"
                            b"jumped to the syscall instructions of the stub: nothing reached the host\n"
                            b"afterwards: still sane\n"), guest.stdout
    assert guest.stderr == b""
    assert guest.left == []
    after = tree_snapshot(tmp_path)
    assert {p: v for p, v in after.items() if "reaper-" not in p} == before


def test_natively_there_is_no_stub(guest_bin):
    import subprocess
    r = subprocess.run([os.path.join(guest_bin, "stubpoke")], stdout=subprocess.PIPE, timeout=30)
    assert r.returncode == 2 and b"not running under umlpy" in r.stdout
