"""The abi tables against the host's C headers (compiled with gcc at test
time), and the strace-style flag printers."""

import shutil
import subprocess

import pytest

from umlpy.abi import auxv, fcntl, mman, signal
from umlpy.abi.errno_tab import ERRNO_MESSAGES, ERRNO_NAMES, Errno
from umlpy.abi.flags import format_enum, format_flags
from umlpy.abi.regs import REG_OFFSET, USER_REGS, USER_REGS_FIELDS, USER_REGS_SIZE
from umlpy.abi.syscall_nr import NR, SYSCALL_NAMES

# name in C -> value in Python
CHECKED = {
    "O_CLOEXEC": fcntl.O_CLOEXEC,
    "O_DIRECTORY": fcntl.O_DIRECTORY,
    "O_NOFOLLOW": fcntl.O_NOFOLLOW,
    "O_SYNC": fcntl.O_SYNC,
    "O_PATH": fcntl.O_PATH,
    "O_TMPFILE": fcntl.O_TMPFILE,
    "O_NONBLOCK": fcntl.O_NONBLOCK,
    "O_LARGEFILE_K": fcntl.O_LARGEFILE,
    "AT_FDCWD": fcntl.AT_FDCWD,
    "AT_EMPTY_PATH": fcntl.AT_EMPTY_PATH,
    "AT_REMOVEDIR": fcntl.AT_REMOVEDIR,
    "F_DUPFD_CLOEXEC": fcntl.F_DUPFD_CLOEXEC,
    "F_GETPIPE_SZ": fcntl.F_GETPIPE_SZ,
    "TCGETS": fcntl.TCGETS,
    "TIOCGWINSZ": fcntl.TIOCGWINSZ,
    "FIONREAD": fcntl.FIONREAD,
    "FIOCLEX": fcntl.FIOCLEX,
    "MAP_FIXED_NOREPLACE": mman.MAP_FIXED_NOREPLACE,
    "MAP_SHARED_VALIDATE": mman.MAP_SHARED_VALIDATE,
    "MAP_STACK": mman.MAP_STACK,
    "MAP_GROWSDOWN": mman.MAP_GROWSDOWN,
    "PROT_GROWSDOWN": mman.PROT_GROWSDOWN,
    "MREMAP_DONTUNMAP": mman.MREMAP_DONTUNMAP,
    "MADV_FREE": mman.MADV.MADV_FREE,
    "MADV_COLLAPSE": mman.MADV.MADV_COLLAPSE,
    "MS_SYNC": mman.MS_SYNC,
    "__NR_rseq": NR.rseq,
    "__NR_exit_group": NR.exit_group,
    "__NR_clone3": NR.clone3,
    "ENOSYS": Errno.ENOSYS,
    "EWOULDBLOCK": Errno.EWOULDBLOCK,
    "EHWPOISON": Errno.EHWPOISON,
    "SIGSYS": signal.Sig.SIGSYS,
    "SIGCHLD": signal.Sig.SIGCHLD,
    "SIGSTKFLT": signal.Sig.SIGSTKFLT,
    "SA_RESTORER_K": signal.SA_RESTORER,
    "SA_ONSTACK": signal.SA_ONSTACK,
    "SA_RESETHAND": signal.SA_RESETHAND,
    "SEGV_ACCERR": signal.SEGV_ACCERR,
    "SI_TKILL": signal.SI_TKILL,
    "SI_KERNEL": signal.SI_KERNEL,
    "BUS_ADRERR": signal.BusCode.BUS_ADRERR,
    "TRAP_BRKPT": signal.TrapCode.TRAP_BRKPT,
    "FPE_INTDIV": signal.FpeCode.FPE_INTDIV,
    "AT_RANDOM": auxv.AT_RANDOM,
    "AT_SYSINFO_EHDR": auxv.AT_SYSINFO_EHDR,
    "AT_MINSIGSTKSZ": auxv.AT_MINSIGSTKSZ,
    "AT_EXECFN": auxv.AT_EXECFN,
    "sizeof_user_regs": USER_REGS_SIZE,
    "offsetof_orig_rax": REG_OFFSET["orig_rax"],
    "offsetof_fs_base": REG_OFFSET["fs_base"],
    "offsetof_gs": REG_OFFSET["gs"],
}

C_PROGRAM = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/user.h>
#include <linux/mman.h>
#include <asm/unistd.h>
#include <termios.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif
#define P(name, value) printf("%s %lld\n", name, (long long)(value))
int main(void) {
	P("O_CLOEXEC", O_CLOEXEC); P("O_DIRECTORY", O_DIRECTORY); P("O_NOFOLLOW", O_NOFOLLOW);
	P("O_SYNC", O_SYNC); P("O_PATH", O_PATH); P("O_TMPFILE", O_TMPFILE);
	P("O_NONBLOCK", O_NONBLOCK); P("O_LARGEFILE_K", 0100000);
	P("AT_FDCWD", AT_FDCWD); P("AT_EMPTY_PATH", AT_EMPTY_PATH); P("AT_REMOVEDIR", AT_REMOVEDIR);
	P("F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC); P("F_GETPIPE_SZ", F_GETPIPE_SZ);
	P("TCGETS", TCGETS); P("TIOCGWINSZ", TIOCGWINSZ); P("FIONREAD", FIONREAD); P("FIOCLEX", FIOCLEX);
	P("MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE); P("MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE);
	P("MAP_STACK", MAP_STACK); P("MAP_GROWSDOWN", MAP_GROWSDOWN); P("PROT_GROWSDOWN", PROT_GROWSDOWN);
	P("MREMAP_DONTUNMAP", MREMAP_DONTUNMAP); P("MADV_FREE", MADV_FREE); P("MADV_COLLAPSE", MADV_COLLAPSE);
	P("MS_SYNC", MS_SYNC);
	P("__NR_rseq", __NR_rseq); P("__NR_exit_group", __NR_exit_group); P("__NR_clone3", __NR_clone3);
	P("ENOSYS", ENOSYS); P("EWOULDBLOCK", EWOULDBLOCK); P("EHWPOISON", EHWPOISON);
	P("SIGSYS", SIGSYS); P("SIGCHLD", SIGCHLD); P("SIGSTKFLT", SIGSTKFLT);
	P("SA_RESTORER_K", 0x04000000); P("SA_ONSTACK", SA_ONSTACK); P("SA_RESETHAND", (unsigned)SA_RESETHAND);
	P("SEGV_ACCERR", SEGV_ACCERR); P("SI_TKILL", SI_TKILL); P("SI_KERNEL", SI_KERNEL);
	P("BUS_ADRERR", BUS_ADRERR); P("TRAP_BRKPT", TRAP_BRKPT); P("FPE_INTDIV", FPE_INTDIV);
	P("AT_RANDOM", AT_RANDOM); P("AT_SYSINFO_EHDR", AT_SYSINFO_EHDR);
	P("AT_MINSIGSTKSZ", AT_MINSIGSTKSZ); P("AT_EXECFN", AT_EXECFN);
	P("sizeof_user_regs", sizeof(struct user_regs_struct));
	P("offsetof_orig_rax", offsetof(struct user_regs_struct, orig_rax));
	P("offsetof_fs_base", offsetof(struct user_regs_struct, fs_base));
	P("offsetof_gs", offsetof(struct user_regs_struct, gs));
	return 0;
}
"""


def _compile_and_run(tmp_path, source):
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed")
    src = tmp_path / "probe.c"
    exe = tmp_path / "probe"
    src.write_text(source)
    subprocess.run(["gcc", "-w", "-o", str(exe), str(src)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (line.split() for line in out.splitlines())}


def test_constants_match_host_headers(tmp_path):
    host = _compile_and_run(tmp_path, C_PROGRAM)
    assert set(host) == set(CHECKED)
    wrong = {name: (host[name], int(CHECKED[name]))
             for name in CHECKED if host[name] != int(CHECKED[name])}
    assert not wrong, "C value, Python value: %r" % wrong


def test_syscall_table():
    assert NR.write == 1
    assert NR.exit_group == 231
    assert NR.rseq == 334
    assert SYSCALL_NAMES[0] == "read"
    assert SYSCALL_NAMES[59] == "execve"
    assert len(SYSCALL_NAMES) > 350
    assert all(getattr(NR, name) == nr for nr, name in SYSCALL_NAMES.items())


def test_errno_table():
    assert Errno.EPERM == 1
    assert ERRNO_NAMES[2] == "ENOENT"
    assert ERRNO_MESSAGES[2] == "No such file or directory"
    assert ERRNO_NAMES[11] == "EAGAIN"
    assert Errno.EWOULDBLOCK == Errno.EAGAIN
    assert ERRNO_NAMES[38] == "ENOSYS"
    assert ERRNO_NAMES[512] == "ERESTARTSYS"
    assert set(ERRNO_NAMES) == set(ERRNO_MESSAGES)


def test_regs():
    assert USER_REGS_FIELDS[0] == "r15" and USER_REGS_FIELDS[-1] == "gs"
    assert len(USER_REGS_FIELDS) == 27
    assert USER_REGS.size == 216
    regs = USER_REGS.unpack(USER_REGS.pack(rip=0x401000, rsp=0x7ffc0000))
    assert regs["rip"] == 0x401000 and regs["rsp"] == 0x7ffc0000 and regs["rax"] == 0


def test_signal_tables():
    assert signal.SIGNAL_NAMES[11] == "SIGSEGV"
    assert signal.SIGNAL_NAMES[6] == "SIGABRT"
    assert signal.signal_name(34) == "SIGRT_2"
    assert signal.default_action(signal.Sig.SIGCHLD) is signal.Action.IGN
    assert signal.default_action(signal.Sig.SIGSEGV) is signal.Action.CORE
    assert signal.default_action(signal.Sig.SIGTSTP) is signal.Action.STOP
    assert signal.default_action(signal.Sig.SIGCONT) is signal.Action.CONT
    assert signal.default_action(40) is signal.Action.TERM
    assert signal.si_code_name(signal.Sig.SIGSEGV, 1) == "SEGV_MAPERR"
    assert signal.si_code_name(signal.Sig.SIGBUS, 2) == "BUS_ADRERR"
    assert signal.si_code_name(signal.Sig.SIGSEGV, 0) == "SI_USER"
    assert signal.K_SIGACTION_SIZE == 32 and signal.SIGSET_SIZE == 8


def test_format_flags():
    assert fcntl.format_open_flags(fcntl.O_RDONLY | fcntl.O_CLOEXEC) == "O_RDONLY|O_CLOEXEC"
    assert fcntl.format_open_flags(0) == "O_RDONLY"
    assert (fcntl.format_open_flags(fcntl.O_WRONLY | fcntl.O_CREAT | fcntl.O_TRUNC)
            == "O_WRONLY|O_CREAT|O_TRUNC")
    # Multi-bit flags win over their parts.
    assert fcntl.format_open_flags(fcntl.O_RDWR | fcntl.O_SYNC) == "O_RDWR|O_SYNC"
    assert mman.format_map_flags(0x22) == "MAP_PRIVATE|MAP_ANONYMOUS"
    assert mman.format_map_flags(0x3 | 0x10) == "MAP_SHARED_VALIDATE|MAP_FIXED"
    assert mman.format_prot(0) == "PROT_NONE"
    assert mman.format_prot(3) == "PROT_READ|PROT_WRITE"
    assert format_flags(signal.SA_SIGINFO | 0x40, signal.SA) == "SA_SIGINFO|0x40"
    assert format_flags(0x40, signal.SA_FLAG_NAMES) == "0x40"
    assert format_flags(0, signal.SA_FLAG_NAMES) == "0"
    assert format_flags(0, mman.PROT_NAMES, zero_name="PROT_NONE") == "PROT_NONE"
    assert (format_flags(fcntl.AT_SYMLINK_NOFOLLOW | fcntl.AT_EMPTY_PATH, fcntl.AT)
            == "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH")
    assert fcntl.format_dirfd(0xFFFFFF9C) == "AT_FDCWD"


def test_format_enum():
    assert format_enum(4, mman.MADV) == "MADV_DONTNEED"
    assert format_enum(99, mman.MADV) == "99"
    assert format_enum(0x5413, fcntl.IOCTL_NAMES) == "TIOCGWINSZ"
    assert format_enum(0x1234, fcntl.IOCTL_NAMES, "%#x") == "0x1234"
    assert format_enum(6, auxv.AUXV_NAMES) == "AT_PAGESZ"


def test_generated_tables_agree_with_host_headers():
    """Every syscall both in the committed table and in this host's header has
    the same number there (newer headers may add calls: regenerate with
    tools/gen_abi.py)."""
    import os
    import re
    header = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
    if not os.path.exists(header):
        pytest.skip("no x86-64 uapi headers")
    with open(header) as f:
        host = {m.group(1): int(m.group(2))
                for m in re.finditer(r"#define\s+__NR_(\w+)\s+(\d+)", f.read())}
    ours = {name: nr for nr, name in SYSCALL_NAMES.items()}
    common = set(host) & set(ours)
    assert len(common) > 350
    assert {n: (host[n], ours[n]) for n in common if host[n] != ours[n]} == {}
