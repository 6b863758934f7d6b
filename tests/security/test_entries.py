"""Issue 14, finding 7 (its platform part): entries other than the syscall instruction.

Before: a call into the vsyscall page killed the guest (SIGSYS in the stub),
and ``int $0x80`` was read as an x86-64 system call (i386 60, umask, ran as
exit).  Now both are what Linux makes of them: the same output natively and
under umlpy, bad calls included (SIGSEGV with Linux's si_code).
"""

import os
import shlex


def test_entries_as_natively(guest_bin, platform, contained, umlpy_cmd):
    prog = shlex.quote(os.path.join(guest_bin, "entries"))
    native = contained(prog)
    guest = contained("%s run --platform %s %s" % (umlpy_cmd, platform, prog))
    assert native.returncode == 0, native.stderr
    assert (guest.returncode, guest.stdout, guest.stderr) == (native.returncode, native.stdout, b"")
    assert b"int80 umask (i386 60, x86-64 exit): the old mask" in guest.stdout
    assert guest.left == []


def test_vsyscall_in_proc_maps(guest_bin, platform, contained, umlpy_cmd):
    # The guest's /proc/self/maps shows the page when the host has it, as Linux does.
    with open("/proc/self/maps") as f:
        host = [line.split()[1] for line in f if line.rstrip().endswith("[vsyscall]")]
    cat = shlex.quote(os.path.join(guest_bin, "cat"))
    guest = contained("%s run --platform %s %s /proc/self/maps" % (umlpy_cmd, platform, cat))
    assert guest.returncode == 0, guest.stderr
    lines = [line for line in guest.stdout.decode().splitlines() if line.endswith("[vsyscall]")]
    if host:
        assert len(lines) == 1 and lines[0].startswith("ffffffffff600000-ffffffffff601000 " + host[0])
    else:
        assert lines == []
