"""Bad input: programs umlpy must refuse cleanly, and guests that pass garbage to syscalls.

The CLI refuses a program it cannot run with exactly one line ``umlpy: ...`` on
stderr, no Python traceback, and exit status 125.  A guest that passes wild
pointers, unknown syscall numbers or nonsense arguments gets the same -errno a
Linux host gives (checked natively too), and a guest that jumps to 0 dies of SIGSEGV.
"""

import os
import struct
import subprocess
import sys

import pytest

import umlpy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXIT_UMLPY_ERROR = 125


def cli(*args, timeout=60) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "umlpy", "run", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=timeout)


def assert_refused(proc, *, code=EXIT_UMLPY_ERROR, fragment=None):
    err = proc.stderr.decode(errors="replace")
    assert "Traceback" not in err, err
    assert proc.returncode == code, (proc.returncode, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("umlpy: "), err
    if fragment is not None:
        assert fragment in lines[0], err
    assert proc.stdout == b""


def _patched(src: str, dst, patch) -> str:
    data = bytearray(open(src, "rb").read())
    patch(data)
    dst.write_bytes(bytes(data))
    os.chmod(dst, 0o755)
    return str(dst)


def _set(fmt, off, value):
    return lambda d: struct.pack_into(fmt, d, off, value)


# name -> how to make the file from hello's bytes (ELF64 header offsets:
# e_ident[EI_CLASS] 4, e_machine 18, e_phoff 32, e_phnum 56).
BAD_ELVES = {
    "elf32": lambda d: d.__setitem__(4, 1),
    "aarch64": _set("<H", 18, 183),
    "phnum65535": _set("<H", 56, 65535),
    "phoff_past_eof": _set("<Q", 32, 1 << 40),
    "phoff_near_eof": None,   # filled in below: the table starts 8 bytes before EOF
}


@pytest.mark.parametrize("kind", sorted(BAD_ELVES))
def test_malformed_elf(guest_bin, tmp_path, kind):
    hello = os.path.join(guest_bin, "hello")
    patch = BAD_ELVES[kind]
    if patch is None:
        patch = _set("<Q", 32, os.path.getsize(hello) - 8)
    path = _patched(hello, tmp_path / kind, patch)
    assert_refused(cli(path), fragment=path)


def test_truncated_elf(guest_bin, tmp_path):
    dst = tmp_path / "truncated"
    dst.write_bytes(open(os.path.join(guest_bin, "hello"), "rb").read()[:100])
    os.chmod(dst, 0o755)
    assert_refused(cli(str(dst)))


def test_elf_header_only(guest_bin, tmp_path):
    dst = tmp_path / "header_only"
    dst.write_bytes(open(os.path.join(guest_bin, "hello"), "rb").read()[:64])
    assert_refused(cli(str(dst)))


@pytest.mark.parametrize("content", [b"", b"hello, I am not a program\n", b"\x7fELF", b"\x00" * 4096],
                         ids=["empty", "text", "magic_only", "zeros"])
def test_not_elf(tmp_path, content):
    dst = tmp_path / "prog"
    dst.write_bytes(content)
    os.chmod(dst, 0o755)
    assert_refused(cli(str(dst)))


def test_shell_script_runs_as_on_linux(tmp_path):
    # A '#!' script runs through its interpreter (binfmt_script), as it does natively.
    dst = tmp_path / "script.sh"
    dst.write_text('#!/bin/sh -e\necho "hi $0 $1"\n')
    os.chmod(dst, 0o755)
    native = subprocess.run([str(dst), "arg"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    proc = cli(str(dst), "arg")
    assert proc.stderr == native.stderr == b""
    assert proc.stdout == native.stdout == ("hi %s arg\n" % dst).encode()
    assert proc.returncode == native.returncode == 0


def test_script_with_a_missing_interpreter(tmp_path):
    dst = tmp_path / "script"
    dst.write_text("#!/no/such/interpreter\n")
    os.chmod(dst, 0o755)
    assert_refused(cli(str(dst)), fragment="No such file")


def test_missing_program(tmp_path):
    assert_refused(cli(str(tmp_path / "nope")), fragment="No such file")


def test_directory_program(tmp_path):
    assert_refused(cli(str(tmp_path)))


def test_missing_in_rootfs(rootfs):
    assert_refused(cli("--rootfs", rootfs, "/bin/nope"))


def test_missing_rootfs(tmp_path, guest_bin):
    assert_refused(cli("--rootfs", str(tmp_path / "no-such-dir"), "/init"))


def test_rootfs_is_a_file(tmp_path, guest_bin):
    f = tmp_path / "file"
    f.write_text("x")
    assert_refused(cli("--rootfs", str(f), "/init"))


@pytest.mark.parametrize("size", ["bogus", "0", "-5", "12q"])
def test_bad_memory_size(guest_bin, size):
    assert_refused(cli("--memory", size, os.path.join(guest_bin, "hello")), fragment="--memory")


def test_memory_too_small(guest_bin):
    # Parses fine but is below the minimum: umlpy's own error.
    assert_refused(cli("--memory", "4k", os.path.join(guest_bin, "hello")))


def test_api_refuses_with_umlpy_error(tmp_path):
    from umlpy.errors import UmlpyError
    dst = tmp_path / "text"
    dst.write_text("not elf\n")
    with pytest.raises(UmlpyError):
        umlpy.run([str(dst)])
    with pytest.raises(UmlpyError):
        umlpy.run([])


# ---------------------------------------------------------------------------
# Guests passing garbage.  Each case makes one call and exits with -ret (so
# 14 means EFAULT), or 0 when the call succeeded.

EFAULT, EINVAL, ENOSYS = 14, 22, 38

WILD_SOURCE = r"""
long main(int argc, char **argv)
{
    const char *c = argc > 1 ? argv[1] : "";
    long r;
    if (streq(c, "write"))
        r = sc3(1, 1, (void *)0x10, 10);
    else if (streq(c, "write_kernel"))
        r = sc3(1, 1, (void *)0xffffffffff600000UL, 10);
    else if (streq(c, "open"))
        r = sc2(2, (char *)0xdeadbeef000UL, 0);
    else if (streq(c, "open_null"))
        r = sc2(2, 0, 0);
    else if (streq(c, "stat"))
        r = sc2(4, "/", (void *)0x10);
    else if (streq(c, "nr400"))
        r = sc0(400);
    else if (streq(c, "nr999"))
        r = sc0(999);
    else if (streq(c, "nr_negative"))
        r = sc0(-5);
    else if (streq(c, "create_mm"))
        r = sc0(1000);
    else if (streq(c, "mmap_len0"))
        r = sc6(9, 0, 0, 3, 0x22, -1, 0);
    else if (streq(c, "mmap_unaligned_offset"))
        r = sc6(9, 0, 4096, 3, 0x22, -1, 1);
    else if (streq(c, "mmap_no_type"))
        r = sc6(9, 0, 4096, 3, 0x20, -1, 0);
    else if (streq(c, "munmap_unaligned"))
        r = sc2(11, 0x10001, 4096);
    else if (streq(c, "munmap_len0"))
        r = sc2(11, 0x10000, 0);
    else if (streq(c, "mprotect_unaligned"))
        r = sc3(10, 0x10001, 4096, 1);
    else
        return 100;
    return r < 0 ? -r : 0;
}
"""


def _create_mm_expected():
    # create_mm (1000) answers ENOSYS until the extension lands; then it returns an fd.
    from umlpy.syscalls import default_table
    from umlpy.syscalls.table import Support
    for row in default_table():
        if row.nr == 1000:
            return ENOSYS if row.support == Support.ENOSYS else 0
    return ENOSYS


WILD_CASES = {
    "write": EFAULT,
    "write_kernel": EFAULT,
    "open": EFAULT,
    "open_null": EFAULT,
    "stat": EFAULT,
    "nr400": ENOSYS,
    "nr999": ENOSYS,
    "nr_negative": ENOSYS,
    "create_mm": None,          # see _create_mm_expected
    "mmap_len0": EINVAL,
    "mmap_unaligned_offset": EINVAL,
    "mmap_no_type": EINVAL,
    "munmap_unaligned": EINVAL,
    "munmap_len0": EINVAL,
    "mprotect_unaligned": EINVAL,
}
# Natively, the host kernel knows no umlpy extension: create_mm is ENOSYS there.
NATIVE_EXPECTED = dict(WILD_CASES, create_mm=ENOSYS)


@pytest.fixture
def wild(build_guest):
    return build_guest(WILD_SOURCE, "wild")


@pytest.mark.parametrize("case", list(WILD_CASES))
def test_wild_syscall_native(wild, case):
    # Validates the test program itself against the host kernel.
    proc = subprocess.run([wild, case], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert proc.returncode == NATIVE_EXPECTED[case]


@pytest.mark.parametrize("case", list(WILD_CASES))
def test_wild_syscall_guest(wild, platform, case):
    expected = WILD_CASES[case]
    if expected is None:
        expected = _create_mm_expected()
    res = umlpy.run([wild, case], platform=platform)
    assert res.signal == 0, res
    assert res.returncode == expected, (res.stdout, res.stderr)


JUMP0_SOURCE = r"""
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    say("jumping to 0\n");
    void (*volatile f)(void) = 0;
    f();
    return 1;
}
"""

BAD_INSN_SOURCE = r"""
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    __asm__ volatile("ud2");
    return 1;
}
"""


def test_jump_to_zero(build_guest, platform):
    prog = build_guest(JUMP0_SOURCE, "jump0")
    native = subprocess.run([prog], stdout=subprocess.PIPE, timeout=30)
    assert native.returncode == -11
    res = umlpy.run([prog], platform=platform)
    assert res.stdout == b"jumping to 0\n"
    assert res.exit_code == 139 and res.returncode == -11


def test_illegal_instruction(build_guest, platform):
    prog = build_guest(BAD_INSN_SOURCE, "ud2")
    native = subprocess.run([prog], stdout=subprocess.PIPE, timeout=30)
    res = umlpy.run([prog], platform=platform)
    assert res.returncode == native.returncode == -4


def test_jump_to_zero_cli(build_guest):
    prog = build_guest(JUMP0_SOURCE, "jump0")
    proc = cli(prog)
    assert proc.returncode == 139
    assert proc.stdout == b"jumping to 0\n"
    assert "Traceback" not in proc.stderr.decode()
