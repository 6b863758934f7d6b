"""Differential tests: each guest program runs natively and under umlpy, on both platforms.

The native run gets exactly the guest's default environment (``umlpy.api.guest_env``:
PATH, HOME, TERM, plus the test's extra variables), the same argv and an empty stdin;
stdout bytes and the subprocess-style return code must be identical.
"""

import os
import subprocess

import pytest

import umlpy
from umlpy.api import guest_env


def native_env(extra=None) -> dict:
    """The guest's default environment as a dict for subprocess (order kept)."""
    env = {}
    for item in guest_env(extra):
        k, _, v = item.decode().partition("=")
        env[k] = v
    return env


def run_native(argv, env=None, stdin=b"", cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=native_env(env), cwd=cwd, timeout=60)


def assert_same(native, guest, *, stderr=False):
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode
    if stderr:
        assert guest.stderr == native.stderr


@pytest.mark.parametrize("prog", ["hello", "hello-glibc", "hello-musl", "exit42"])
def test_simple_programs(guest_bin, platform, prog):
    path = os.path.join(guest_bin, prog)
    native = run_native([path])
    guest = umlpy.run([path], platform=platform, capture=True)
    assert_same(native, guest, stderr=True)


def test_exit42_status(guest_bin, platform):
    guest = umlpy.run([os.path.join(guest_bin, "exit42")], platform=platform)
    assert guest.returncode == 42 and guest.exit_code == 42 and guest.signal == 0


def test_segv(guest_bin, platform):
    path = os.path.join(guest_bin, "segv")
    native = run_native([path])
    assert native.returncode == -11 and native.stdout == b"about to fault\n"
    guest = umlpy.run([path], platform=platform)
    assert_same(native, guest)
    assert guest.signal == 11 and guest.exit_code == 139


def test_cat_file(guest_bin, rootfs, platform):
    # Without rootfs= guest paths resolve in the default image; give it
    # explicitly and run the image's own /bin/cat on the image's /etc/hostname.
    native = run_native([os.path.join(guest_bin, "cat"), os.path.join(rootfs, "etc", "hostname")])
    assert native.returncode == 0 and native.stdout
    guest = umlpy.run(["/bin/cat", "/etc/hostname"], rootfs=rootfs, platform=platform)
    assert_same(native, guest, stderr=True)


def test_cat_missing_file(guest_bin, rootfs, platform):
    missing = "/umlpy-no-such-file-%d" % os.getpid()
    native = run_native([os.path.join(guest_bin, "cat"), missing])
    assert native.returncode == 1
    assert native.stderr == ("cat: %s: No such file or directory\n" % missing).encode()
    guest = umlpy.run(["/bin/cat", missing], rootfs=rootfs, platform=platform)
    assert_same(native, guest, stderr=True)


def test_cat_stdin(guest_bin, platform):
    path = os.path.join(guest_bin, "cat")
    data = b"line one\nline two\n" + bytes(range(256)) * 40   # > one 4096-byte read
    native = run_native([path], stdin=data)
    guest = umlpy.run([path], platform=platform, stdin=data)
    assert native.stdout == data
    assert_same(native, guest, stderr=True)


# Auxiliary-vector lines that legitimately differ between a native run and a guest:
AUXV_DROPPED = {
    # The guest has no vDSO: umlpy intercepts every syscall, so there is nothing to map.
    "AT_SYSINFO_EHDR": "no vDSO in the guest",
    # rseq is not offered to guests (the host kernel's values describe the host's rseq).
    "AT_RSEQ_FEATURE_SIZE": "rseq support is host-kernel specific",
    "AT_RSEQ_ALIGN": "rseq support is host-kernel specific",
    # Depends on the host CPU's xsave size and on the host kernel version.
    "AT_MINSIGSTKSZ": "signal frame size depends on host kernel/CPU",
}
# AT_EXECFN is the path the loader was given: natively the host path, in the guest
# the guest's path; only its presence is compared.
# AT_UID/AT_EUID/AT_GID/AT_EGID: the guest's first process always runs as root (uid 0),
# whatever the host user; natively they are the host's ids, so they are checked apart.
AUXV_IDS = ("AT_UID", "AT_EUID", "AT_GID", "AT_EGID")


def normalise_auxv(text: bytes, ids: dict) -> list:
    lines = []
    for line in text.decode().splitlines():
        name = line.split(" ", 1)[0]
        if name in AUXV_DROPPED:
            continue
        if name == "AT_EXECFN":
            line = "AT_EXECFN present <path>"
        elif name in AUXV_IDS:
            assert line == "%s %d" % (name, ids[name]), line
            line = name + " <id>"
        lines.append(line)
    return lines


@pytest.mark.parametrize("prog", ["auxv", "auxv-glibc"])
def test_auxv(guest_bin, platform, prog):
    path = os.path.join(guest_bin, prog)
    argv = [path, "a", "b", "c d"]
    env = {"FOO": "bar"}
    native = run_native(argv, env=env)
    guest = umlpy.run(argv, platform=platform, env=env)
    assert native.returncode == 0 and guest.returncode == 0
    host_ids = {"AT_UID": os.getuid(), "AT_EUID": os.geteuid(), "AT_GID": os.getgid(),
                "AT_EGID": os.getegid()}
    guest_ids = dict.fromkeys(AUXV_IDS, 0)
    n = normalise_auxv(native.stdout, host_ids)
    g = normalise_auxv(guest.stdout, guest_ids)
    assert g == n
    # Things the normalisation must not hide.
    assert g[:4] == ["argc 4", "argv[1] a", "argv[2] b", "argv[3] c d"]
    assert "env FOO=bar" in g
    assert "AT_EXECFN present %s" % path in guest.stdout.decode()


def test_auxv_in_image(rootfs, platform):
    # Inside an image the guest's AT_EXECFN is the guest path it was started with.
    res = umlpy.run(["/bin/auxv", "x"], rootfs=rootfs, platform=platform)
    assert res.returncode == 0
    out = res.stdout.decode().splitlines()
    assert "AT_EXECFN present /bin/auxv" in out
    assert "argv[1] x" in out


def test_default_image_init(guest_bin, rootfs, platform):
    # Natively this would need chroot (root only): check the guest's own report instead.
    res = umlpy.run(["/init"], rootfs=rootfs, platform=platform)
    out = res.stdout.decode()
    assert res.returncode == 0, (out, res.stderr)
    for prog in ("hello", "hello-glibc", "hello-musl"):
        native = run_native([os.path.join(guest_bin, prog)])
        for line in native.stdout.decode().splitlines():
            assert line in out.splitlines()
        assert "init: /bin/%s exited with status 0" % prog in out
    assert "init: /bin/auxv exited with status 0" in out
    assert out.splitlines()[-1] == "init: all done"
