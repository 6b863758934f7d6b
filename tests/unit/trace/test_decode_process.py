"""Golden lines (from strace 6.1 on x86-64) for process, signal, time and
terminal calls, errors, unknown numbers and umlpy's extension calls."""

import importlib.util
import pathlib
import struct

from umlpy.abi.errno_tab import ERRNO_NAMES
from umlpy.abi.extensions import EXTENSION_NAMES
from umlpy.abi.syscall_nr import SYSCALL_NAMES
from umlpy.trace import decode
from umlpy.trace.specs import SPECS

_spec = importlib.util.spec_from_file_location("_golden", pathlib.Path(__file__).with_name("test_decode.py"))
_golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_golden)
FakeCtx, line, cstr, AT_FDCWD, P, B = (_golden.FakeCtx, _golden.line, _golden.cstr, _golden.AT_FDCWD,
                                        _golden.P, _golden.B)
M64 = 2**64 - 1


def test_every_syscall_has_a_spec():
    assert set(SYSCALL_NAMES.values()) <= set(SPECS)
    assert set(EXTENSION_NAMES.values()) <= set(SPECS)
    for name, spec in SPECS.items():
        assert spec.custom is not None or len(spec.args) == spec.nargs, name
        assert spec.ret in ("int", "hex", "fd", "none", "oct", "time", "personality"), name
    assert "file" in SPECS["openat"].classes and "desc" in SPECS["openat"].classes
    assert SPECS["mmap"].classes == {"memory", "desc"}
    assert SPECS["newfstatat"].classes >= {"file", "desc", "fstat", "stat_like"}
    assert SPECS["getpid"].classes == {"pure"}
    assert SPECS["exit_group"].classes == {"process"} and SPECS["exit_group"].ret == "none"
    assert SPECS["kill"].classes == {"signal", "process"}
    assert SPECS["clock_gettime"].classes == {"clock"}
    assert SPECS["create_mm"].nargs == 0 and SPECS["vas_seg_create"].nargs == 4


def test_errors():
    assert decode.format_error(2) == "-1 ENOENT (No such file or directory)"
    assert decode.format_error(38) == "-1 ENOSYS (Function not implemented)"
    assert decode.format_error(512) == "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
    assert decode.format_error(514) == "? ERESTARTNOHAND (To be restarted if no handler)"
    assert decode.format_error(516) == "? ERESTART_RESTARTBLOCK (Interrupted by signal)"
    assert all(decode.format_error(e).startswith("-1 E") for e in ERRNO_NAMES if e < 512)


def test_unknown_syscall_and_extensions():
    assert decode.syscall_name(500) == "syscall_0x1f4"
    assert line(500, (1, 2, 3, 4, 5, 6), -38) == \
        "syscall_0x1f4(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = -1 ENOSYS (Function not implemented)"
    assert line("rseq", (0x3b9ecca0, 0x20, 0, 0x53053053), 0) == "rseq(0x3b9ecca0, 0x20, 0, 0x53053053) = 0"
    assert line("kexec_load", (0, 0, 0, 0), -1) == "kexec_load(0, 0, 0, 0) = -1 EPERM (Operation not permitted)"
    assert decode.syscall_name(1000) == "create_mm"
    assert line("create_mm", (), 3) == "create_mm() = 3"
    assert line(1000, (), 3, FakeCtx(show_paths=True, paths={3: "/proc/mm"})) == "create_mm() = 3</proc/mm>"
    req = struct.pack("<q6Q", 9, 0, 4096, 3, 0x22, M64, 0)
    assert line("mm_indirect", (3, B), 0x7f0000000000, FakeCtx({B: req})) == \
        "mm_indirect(3, {nr=__NR_mmap, args=[0, 0x1000, 0x3, 0x22, 0xffffffffffffffff, 0]}) = 140737488355328" \
        .replace("140737488355328", str(0x7f0000000000))
    assert line("switch_mm", (3, 0x7ffc1000, 0x7ffc2000), 0) == "switch_mm(3, 0x7ffc1000, 0x7ffc2000) = 0"
    assert line("new_as", (), 1) == "new_as() = 1"
    assert line("switch_as", (1,), 0) == "switch_as(1) = 0"
    assert line("unprivilege", (0x7ffc3000,), 1) == "unprivilege(0x7ffc3000) = 1"
    assert line("current_mm", (), 4) == "current_mm() = 4"
    ctx = FakeCtx({P: cstr("name"), B: struct.pack("<III", 0o600, 0, 0)})
    assert line("vas_create", (P, 0o600), 1, ctx) == 'vas_create("name", 0600) = 1'
    assert line("vas_find", (P,), -2, ctx) == 'vas_find("name") = -1 ENOENT (No such file or directory)'
    assert line("vas_attach", (0, 1, 2), 0) == "vas_attach(0, 1, 2) = 0"
    assert line("vas_getattr", (1, B), 0, ctx) == "vas_getattr(1, {mode=0600, user=0, group=0}) = 0"
    assert line("vas_seg_create", (P, 0x10000000, 0x20000000, 0o644), 2, ctx) == \
        'vas_seg_create("name", 0x10000000, 0x20000000, 0644) = 2'
    assert line("active_vas", (), 0) == "active_vas() = 0"


def test_exit_and_process_ids():
    assert line("exit_group", (0,), None) == "exit_group(0) = ?"
    assert decode.format_retval("exit_group", FakeCtx(), (0,) * 6, 0) == "?"
    assert line("getpid", (), 19031) == "getpid() = 19031"
    assert line("set_tid_address", (0x3b9ec650,), 19009) == "set_tid_address(0x3b9ec650) = 19009"
    assert line("set_robust_list", (0x3b9ec660, 24), 0) == "set_robust_list(0x3b9ec660, 24) = 0"
    ctx = FakeCtx({B: b"\0" * 12})
    assert line("getresuid", (B, B + 4, B + 8), 0, ctx) == "getresuid([0], [0], [0]) = 0"
    assert line("getgroups", (0, 0), 0) == "getgroups(0, NULL) = 0"
    assert line("setpgid", (0, 0), 0) == "setpgid(0, 0) = 0"


def test_clone_wait4_execve():
    assert line("clone", (0x1200011, 0, 0, 0x3b9ec650, 0), 19010) == \
        "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x3b9ec650) = 19010"
    assert line("clone", (0x20100 | 10, 0x1000, 0x2000, 0x3000, 0x4000), 19975) == \
        "clone(child_stack=0x1000, flags=CLONE_VM|CLONE_NEWNS|SIGUSR1) = 19975"
    assert line("clone", (0x800 | 0x100000 | 0x1000000 | 0x80000, 0x1000, 0x2000, 0x3000, 0x4000), -22) == (
        "clone(child_stack=0x1000, flags=CLONE_SIGHAND|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_SETTID, "
        "parent_tid=0x2000, tls=0x4000, child_tidptr=0x3000) = -1 EINVAL (Invalid argument)")
    assert line("clone", (0x800 | 0x200000 | 77, 0, 0x2000, 0x3000, 0x4000), -22) == \
        "clone(child_stack=NULL, flags=CLONE_SIGHAND|CLONE_CHILD_CLEARTID|77, child_tidptr=0x3000) = -1 EINVAL (Invalid argument)"
    # the halves of "clone(... <unfinished ...>" / "<... clone resumed>, parent_tid=0x2000, tls=0x4000) = 19976"
    args = (0x10000 | 0x800 | 0x100 | 0x80000 | 0x100000, 0x1000, 0x2000, 0x3000, 0x4000, 0)
    assert decode.decode_enter("clone", FakeCtx(), args) == \
        ["child_stack=0x1000", "flags=CLONE_VM|CLONE_SIGHAND|CLONE_THREAD|CLONE_SETTLS|CLONE_PARENT_SETTID"]
    assert decode.decode_exit("clone", FakeCtx(), args, 19976) == ["parent_tid=0x2000", "tls=0x4000"]

    ctx = FakeCtx({B: struct.pack("<i", 7 << 8)})
    assert line("wait4", (19020, B, 0, 0), 19020, ctx) == \
        "wait4(19020, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 19020"
    ctx = FakeCtx({B: struct.pack("<i", 9)})
    assert line("wait4", (19021, B, 0x40000000, 0), 19021, ctx) == \
        "wait4(19021, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], __WALL, NULL) = 19021"
    assert line("wait4", (M64, B, 1, 0), -10, ctx) == \
        "wait4(-1, 0x7ffe0000, WNOHANG, NULL) = -1 ECHILD (No child processes)"
    assert line("wait4", (M64, 0, 11, 0), -10) == \
        "wait4(-1, NULL, WNOHANG|WSTOPPED|WCONTINUED, NULL) = -1 ECHILD (No child processes)"
    assert decode.decode_enter("wait4", ctx, (19010, B, 0, 0, 0, 0)) == ["19010"]
    assert decode.decode_exit("wait4", FakeCtx({B: struct.pack("<i", 0)}), (19010, 0, 0, 0, 0, 0), 19010) == \
        ["NULL", "0", "NULL"]
    ru = struct.pack("<qqqq14q", 0, 98, 0, 0, *range(14))
    ctx = FakeCtx({B: struct.pack("<i", 3 << 8), P: ru})
    assert line("wait4", (M64, B, 0, P), 19974, ctx) == (
        "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, {ru_utime={tv_sec=0, tv_usec=98}, "
        "ru_stime={tv_sec=0, tv_usec=0}, ...}) = 19974")
    assert decode.fmt_wait_status(0x8b) == "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"

    argv = struct.pack("<4Q", P, P + 16, P + 32, 0)
    envp = struct.pack("<3Q", P + 48, P + 64, 0)
    strings = cstr("/nonexistent/x").ljust(16, b"\0") + cstr("a b").ljust(16, b"\0") + \
        cstr('c"d').ljust(16, b"\0") + cstr("A=1").ljust(16, b"\0") + cstr("B=2").ljust(16, b"\0")
    ctx = FakeCtx({P: strings, B: argv, B + 0x100: envp})
    assert line("execve", (P, B, B + 0x100), -2, ctx) == \
        'execve("/nonexistent/x", ["/nonexistent/x", "a b", "c\\"d"], 0x7ffe0100 /* 2 vars */) = -1 ENOENT (No such file or directory)'
    ctx.verbose = True
    assert line("execve", (P, B, B + 0x100), -2, ctx) == \
        'execve("/nonexistent/x", ["/nonexistent/x", "a b", "c\\"d"], ["A=1", "B=2"]) = -1 ENOENT (No such file or directory)'
    ctx.verbose, ctx.strsize = False, 5
    assert line("execve", (P, B, B + 0x100), -2, ctx).startswith(
        'execve("/nonexistent/x", ["/none"..., "a b", "c\\"d"], 0x7ffe0100 /* 2 vars */)')
    assert line("execve", (P, 0, 0), -2, ctx).startswith('execve("/nonexistent/x", NULL, NULL)')
    many = struct.pack("<41Q", *([P + 16] * 40 + [0]))
    ctx = FakeCtx({P: strings, B: many})
    assert line("execve", (P, B, B), -2, ctx) == (
        'execve("/nonexistent/x", [' + ", ".join(['"a b"'] * 32) + ', ...], 0x7ffe0000 /* 40 vars */)'
        ' = -1 ENOENT (No such file or directory)')


def test_signals():
    act = struct.pack("<QQQQ", 0x401840, 0x04000000, 0x408b90, 0)
    old = struct.pack("<QQQQ", 0, 0, 0, 0)
    ctx = FakeCtx({B: act, P: old})
    assert line("rt_sigaction", (10, B, 0, 8), 0, ctx) == \
        "rt_sigaction(SIGUSR1, {sa_handler=0x401840, sa_mask=[], sa_flags=SA_RESTORER, sa_restorer=0x408b90}, NULL, 8) = 0"
    act = struct.pack("<QQQQ", 0x4018d0, 0x14000000, 0x408be0, 1 << 10)
    ctx = FakeCtx({B: act, P: old})
    assert line("rt_sigaction", (11, B, P, 8), 0, ctx) == (
        "rt_sigaction(SIGSEGV, {sa_handler=0x4018d0, sa_mask=[SEGV], sa_flags=SA_RESTORER|SA_RESTART, "
        "sa_restorer=0x408be0}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0")
    act = struct.pack("<QQQQ", 0x462d00, 0x1c000004, 0x4548e0, 0)
    assert line("rt_sigaction", (33, B, 0, 8), 0, FakeCtx({B: act})) == (
        "rt_sigaction(SIGRT_1, {sa_handler=0x462d00, sa_mask=[], "
        "sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, sa_restorer=0x4548e0}, NULL, 8) = 0")
    act = struct.pack("<QQQQ", 0x401000, M64 & ~0x04000000, 0x401020, M64)
    assert line("rt_sigaction", (60, B, 0, 8), 0, FakeCtx({B: act})) == (
        "rt_sigaction(SIGRT_28, {sa_handler=0x401000, sa_mask=~[], sa_flags=SA_ONSTACK|SA_RESTART|SA_INTERRUPT|"
        "SA_NODEFER|SA_RESETHAND|SA_SIGINFO|SA_NOCLDSTOP|SA_NOCLDWAIT|0xffffffff03fffff8}, NULL, 8) = 0")
    act = struct.pack("<QQQQ", 1, 0x0c000000, 0x401020, M64 & ~((1 << 8) | (1 << 18)))
    assert line("rt_sigaction", (61, B, 0, 8), 0, FakeCtx({B: act})) == (
        "rt_sigaction(SIGRT_29, {sa_handler=SIG_IGN, sa_mask=~[KILL STOP], sa_flags=SA_RESTORER|SA_ONSTACK, "
        "sa_restorer=0x401020}, NULL, 8) = 0")
    assert line("rt_sigaction", (61, B, 0, 8), 0, FakeCtx({B: act}, xmode="verbose")) == (
        "rt_sigaction(61 /* SIGRT_29 */, {sa_handler=0x1 /* SIG_IGN */, sa_mask=~[9 /* KILL */ 19 /* STOP */], "
        "sa_flags=0xc000000 /* SA_RESTORER|SA_ONSTACK */, sa_restorer=0x401020}, NULL, 8) = 0")
    act = struct.pack("<QQQQ", 0, 0, 0, (1 << 31) | (1 << 32) | (1 << 33) | (1 << 62) | (1 << 63))
    assert line("rt_sigaction", (62, B, 0, 8), 0, FakeCtx({B: act})) == \
        "rt_sigaction(SIGRT_30, {sa_handler=SIG_DFL, sa_mask=[RTMIN RT_1 RT_2 RT_31 RT_32], sa_flags=0}, NULL, 8) = 0"
    assert line("rt_sigaction", (70, 0, 0, 8), -22) == "rt_sigaction(70, NULL, NULL, 8) = -1 EINVAL (Invalid argument)"
    assert line("rt_sigaction", (17, 0, 1, 8), -14) == "rt_sigaction(SIGCHLD, NULL, 0x1, 8) = -1 EFAULT (Bad address)"
    assert line("rt_sigaction", (62, 8, 0, 8), -14) == "rt_sigaction(SIGRT_30, 0x8, NULL, 8) = -1 EFAULT (Bad address)"

    ctx = FakeCtx({B: struct.pack("<Q", 1 << 11), P: struct.pack("<Q", 0)})
    assert line("rt_sigprocmask", (0, B, P, 8), 0, ctx) == "rt_sigprocmask(SIG_BLOCK, [USR2], [], 8) = 0"
    assert line("rt_sigprocmask", (2, P, 0, 8), 0, ctx) == "rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0"
    assert line("rt_sigprocmask", (0, B, 0, 7), -22, ctx) == \
        "rt_sigprocmask(SIG_BLOCK, 0x7ffe0000, NULL, 7) = -1 EINVAL (Invalid argument)"
    ctx = FakeCtx({B: struct.pack("<Q", M64 & ~1)})
    assert line("rt_sigprocmask", (7, B, 0, 8), -22, ctx) == \
        "rt_sigprocmask(0x7 /* SIG_??? */, ~[HUP], NULL, 8) = -1 EINVAL (Invalid argument)"
    ctx = FakeCtx({B: struct.pack("<Q", 0xFFFFFFFF)})
    assert line("rt_sigprocmask", (0, B, 0, 8), 0, ctx) == (
        "rt_sigprocmask(SIG_BLOCK, [HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT "
        "CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH IO PWR SYS RTMIN], NULL, 8) = 0")
    ctx = FakeCtx({B: struct.pack("<Q", M64 & ~((1 << 8) | (1 << 18)))})
    assert line("rt_sigprocmask", (0, 0, B, 8), 0, ctx) == "rt_sigprocmask(SIG_BLOCK, NULL, ~[KILL STOP], 8) = 0"
    assert line("rt_sigpending", (B, 8), 0, FakeCtx({B: struct.pack("<Q", 1 << 11)})) == "rt_sigpending([USR2], 8) = 0"
    assert line("kill", (19031, 12), 0) == "kill(19031, SIGUSR2) = 0"
    assert line("kill", (19962, 0), 0) == "kill(19962, 0) = 0"
    assert line("kill", (99999, 64), -3) == "kill(99999, SIGRT_32) = -1 ESRCH (No such process)"
    assert line("kill", (99999, 32), -3) == "kill(99999, SIGRTMIN) = -1 ESRCH (No such process)"
    assert line("kill", (99999, M64), -3) == "kill(99999, -1) = -1 ESRCH (No such process)"
    assert line("kill", (99999, 64), -3, FakeCtx(xmode="verbose")) == \
        "kill(99999, 64 /* SIGRT_32 */) = -1 ESRCH (No such process)"
    assert line("tgkill", (19021, 19021, 9), None) == "tgkill(19021, 19021, SIGKILL) = ?"
    ss = struct.pack("<Qi4xQ", 0x7fffcff85ab0, 0, 8192)
    old = struct.pack("<Qi4xQ", 0, 2, 0)
    assert line("sigaltstack", (B, P), 0, FakeCtx({B: ss, P: old})) == \
        "sigaltstack({ss_sp=0x7fffcff85ab0, ss_flags=0, ss_size=8192}, {ss_sp=NULL, ss_flags=SS_DISABLE, ss_size=0}) = 0"


def test_rt_sigreturn_mask_hook():
    ctx = FakeCtx()
    assert line("rt_sigreturn", (), 0, ctx) == "rt_sigreturn() = 0"
    ctx.sigreturn_mask = lambda: 0
    assert line("rt_sigreturn", (), 0, ctx) == "rt_sigreturn({mask=[]}) = 0"


def test_siginfo():
    assert decode.format_siginfo(11, 1, 0x10) == "{si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10}"
    assert decode.format_siginfo(11, 2, 0x7f5ad4199001) == \
        "{si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7f5ad4199001}"
    assert decode.format_siginfo(17, 1, 0, 19010, 0, 0) == \
        "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=19010, si_uid=0, si_status=0, si_utime=0, si_stime=0}"
    assert decode.format_siginfo(17, 2, 0, 19021, 0, 9) == \
        "{si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=19021, si_uid=0, si_status=SIGKILL, si_utime=0, si_stime=0}"
    assert decode.format_siginfo(10, -6, 0, 19031, 0) == "{si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=19031, si_uid=0}"
    assert decode.format_siginfo(12, 0, 0, 19031, 0) == "{si_signo=SIGUSR2, si_code=SI_USER, si_pid=19031, si_uid=0}"
    assert decode.format_siginfo(4, 0x80, 0) == "{si_signo=SIGILL, si_code=SI_KERNEL, si_addr=NULL}"


def test_arch_prctl_uname_prlimit():
    assert line("arch_prctl", (0x1002, 0xd3dc380), 0) == "arch_prctl(ARCH_SET_FS, 0xd3dc380) = 0"
    ctx = FakeCtx({B: struct.pack("<Q", 0x12b96380)})
    assert line("arch_prctl", (0x1003, B), 0, ctx) == "arch_prctl(ARCH_GET_FS, [0x12b96380]) = 0"
    assert line("arch_prctl", (0x9999, 0), -22) == "arch_prctl(0x9999 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)"
    assert line("arch_prctl", (0x1002, 0x2f48c380), 0, FakeCtx(xmode="verbose")) == \
        "arch_prctl(0x1002 /* ARCH_SET_FS */, 0x2f48c380) = 0"
    uts = b"".join(s.encode().ljust(65, b"\0") for s in
                   ("Linux", "vm", "6.18.44-fc-v669", "#1 SMP PREEMPT_DYNAMIC @0", "x86_64", "(none)"))
    assert line("uname", (B,), 0, FakeCtx({B: uts})) == 'uname({sysname="Linux", nodename="vm", ...}) = 0'
    assert line("uname", (B,), 0, FakeCtx({B: uts}, verbose=True)) == (
        'uname({sysname="Linux", nodename="vm", release="6.18.44-fc-v669", version="#1 SMP PREEMPT_DYNAMIC @0", '
        'machine="x86_64", domainname="(none)"}) = 0')
    ctx = FakeCtx({B: struct.pack("<QQ", 8192 * 1024, M64)})
    assert line("prlimit64", (0, 3, 0, B), 0, ctx) == \
        "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0"
    ctx.xmode = "verbose"
    assert line("prlimit64", (0, 3, 0, B), 0, ctx) == (
        "prlimit64(0, 0x3 /* RLIMIT_STACK */, NULL, {rlim_cur=8388608 /* 8192*1024 */, "
        "rlim_max=18446744073709551615 /* RLIM64_INFINITY */}) = 0")
    ctx.xmode = "raw"
    assert line("prlimit64", (0, 3, 0, B), 0, ctx) == \
        "prlimit64(0, 0x3, NULL, {rlim_cur=8388608, rlim_max=18446744073709551615}) = 0"
    ctx = FakeCtx({B: struct.pack("<QQ", 1024, 4096), P: struct.pack("<QQ", 20000, 20000)})
    assert line("prlimit64", (0, 7, B, P), 0, ctx) == \
        "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=4*1024}, {rlim_cur=20000, rlim_max=20000}) = 0"
    ctx = FakeCtx({B: struct.pack("<QQ", 8388608, 25165825)})
    assert line("prlimit64", (12, 99, B, 0), -22, ctx) == \
        "prlimit64(12, 0x63 /* RLIMIT_??? */, {rlim_cur=8192*1024, rlim_max=25165825}, NULL) = -1 EINVAL (Invalid argument)"
    ctx = FakeCtx({B: struct.pack("<QQ", 0, 4 << 30)})
    assert line("setrlimit", (2, B), 0, ctx) == "setrlimit(RLIMIT_DATA, {rlim_cur=0, rlim_max=4194304*1024}) = 0"


def test_futex():
    ctx = FakeCtx({B: struct.pack("<qq", 0, 1)})
    a = 0x7fffcff856f4
    assert line("futex", (a, 0x81, 1), 0) == "futex(0x7fffcff856f4, FUTEX_WAKE_PRIVATE, 1) = 0"
    assert line("futex", (a, 0, 1, B), -11, ctx) == \
        "futex(0x7fffcff856f4, FUTEX_WAIT, 1, {tv_sec=0, tv_nsec=1}) = -1 EAGAIN (Resource temporarily unavailable)"
    assert line("futex", (a, 0x85, 1, 1, a, 0x04000001), 0) == \
        "futex(0x7fffcff856f4, FUTEX_WAKE_OP_PRIVATE, 1, 1, 0x7fffcff856f4, FUTEX_OP_SET<<28|0<<12|FUTEX_OP_CMP_GT<<24|0x1) = 0"
    assert line("futex", (a, 0x84, 1, 2, a, 0), 0) == \
        "futex(0x7fffcff856f4, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, 0x7fffcff856f4, 0) = 0"
    assert line("futex", (a, 99, 1, 2, a, 0), -38) == \
        "futex(0x7fffcff856f4, 0x63 /* FUTEX_??? */, 1, 0x2, 0x7fffcff856f4, 0) = -1 ENOSYS (Function not implemented)"
    assert line("futex", (0x4bd368, 0x189, 0, 0, 0, 0xFFFFFFFF), 0) == \
        "futex(0x4bd368, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY) = 0"
    assert line("futex", (0, 0x189, 0, 0, 0, 0xff), -14) == \
        "futex(NULL, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, 0xff) = -1 EFAULT (Bad address)"
    assert line("futex", (0, 0x8a, 1, 0, 0, 0xFFFFFFFF), 0) == \
        "futex(NULL, FUTEX_WAKE_BITSET_PRIVATE, 1, FUTEX_BITSET_MATCH_ANY) = 0"
    assert line("futex", (0, 0x83, 1, 2, 0, 0xFFFFFFFF), 0) == "futex(NULL, FUTEX_REQUEUE_PRIVATE, 1, 2, NULL) = 0"
    assert line("futex", (0, 0x85, 1, 1, 0, 0x18888888), -14) == (
        "futex(NULL, FUTEX_WAKE_OP_PRIVATE, 1, 1, NULL, FUTEX_OP_ADD<<28|0x888<<12|0x8<<24 /* FUTEX_OP_CMP_??? */"
        "|0x888) = -1 EFAULT (Bad address)")


def test_ioctl():
    termios = struct.pack("<IIIIB19B", 0x500, 0x5, 0xbf, 0x8a3b, 0, *range(19))
    ctx = FakeCtx({B: termios})
    assert line("ioctl", (9, 0x5401, B), 0, ctx) == (
        "ioctl(9, TCGETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
        "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0")
    assert line("ioctl", (9, 0x5402, B), 0, ctx) == (
        "ioctl(9, SNDCTL_TMR_START or TCSETS, {c_iflag=ICRNL|IXON, c_oflag=NL0|CR0|TAB0|BS0|VT0|FF0|OPOST|ONLCR, "
        "c_cflag=B38400|CS8|CREAD, c_lflag=ISIG|ICANON|ECHO|ECHOE|ECHOK|IEXTEN|ECHOCTL|ECHOKE, ...}) = 0")
    assert line("ioctl", (1, 0x5401, 0x7fff964aa8a0), -25) == \
        "ioctl(1, TCGETS, 0x7fff964aa8a0) = -1 ENOTTY (Inappropriate ioctl for device)"
    assert line("ioctl", (1, 0x5413, 0x7fff9a230a40), -25) == \
        "ioctl(1, TIOCGWINSZ, 0x7fff9a230a40) = -1 ENOTTY (Inappropriate ioctl for device)"
    ctx = FakeCtx({B: struct.pack("<HHHH", 24, 80, 0, 0), P: struct.pack("<i", 0)})
    assert line("ioctl", (9, 0x5413, B), 0, ctx) == "ioctl(9, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0"
    assert line("ioctl", (9, 0x5414, B), 0, ctx) == "ioctl(9, TIOCSWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0"
    assert line("ioctl", (9, 0x541b, P), 0, ctx) == "ioctl(9, FIONREAD, [0]) = 0"
    assert line("ioctl", (9, 0x5421, P), 0, ctx) == "ioctl(9, FIONBIO, [0]) = 0"
    assert line("ioctl", (9, 0x540f, P), 0, ctx) == "ioctl(9, TIOCGPGRP, [0]) = 0"
    assert line("ioctl", (9, 0x12345678, 0), -25) == \
        "ioctl(9, _IOC(_IOC_NONE, 0x56, 0x78, 0x1234), 0) = -1 ENOTTY (Inappropriate ioctl for device)"
    assert line("ioctl", (9, 0x5401, 8), -14) == "ioctl(9, TCGETS, 0x8) = -1 EFAULT (Bad address)"
    assert decode.decode_enter("ioctl", ctx, (9, 0x5401, B, 0, 0, 0)) == ["9", "TCGETS"]


def test_time_and_misc():
    ctx = FakeCtx({B: struct.pack("<qq", 995, 14794469), P: struct.pack("<qq", 1, 500)})
    assert line("clock_gettime", (1, B), 0, ctx) == "clock_gettime(CLOCK_MONOTONIC, {tv_sec=995, tv_nsec=14794469}) = 0"
    assert line("clock_gettime", (77, B), -22, ctx) == \
        "clock_gettime(0x4d /* CLOCK_??? */, 0x7ffe0000) = -1 EINVAL (Invalid argument)"
    assert line("nanosleep", (P, 0), 0, ctx) == "nanosleep({tv_sec=1, tv_nsec=500}, NULL) = 0"
    assert line("clock_nanosleep", (0, 1, B, 0), 0, ctx) == \
        "clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, {tv_sec=995, tv_nsec=14794469}, NULL) = 0"
    assert line("time", (0,), 1795309361) == "time(NULL) = 1795309361 (2026-11-22T01:02:41+0000)"
    ctx = FakeCtx({B: bytes.fromhex("77 48 fd e7 31 83 6e 29")})
    assert line("getrandom", (B, 8, 1), 8, ctx) == r'getrandom("\x77\x48\xfd\xe7\x31\x83\x6e\x29", 8, GRND_NONBLOCK) = 8'
    assert line("getrandom", (B, 4, 7), -22, ctx) == \
        "getrandom(0x7ffe0000, 4, GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE) = -1 EINVAL (Invalid argument)"
    ctx = FakeCtx({B: bytes(32)})
    assert line("times", (B,), 1718056410, ctx) == \
        "times({tms_utime=0, tms_stime=0, tms_cutime=0, tms_cstime=0}) = 1718056410"
    assert line("personality", (0xffffffff,), 0) == "personality(0xffffffff) = 0 (PER_LINUX)"
    ctx = FakeCtx({B: cstr("probe"), P: bytes([3]) + bytes(127)})
    assert line("prctl", (15, B), 0, ctx) == 'prctl(PR_SET_NAME, "probe") = 0'
    assert line("prctl", (16, B), 0, ctx) == 'prctl(PR_GET_NAME, "probe") = 0'
    assert line("prctl", (1, 9), 0, ctx) == "prctl(PR_SET_PDEATHSIG, SIGKILL) = 0"
    assert line("sched_getaffinity", (0, 128, P), 32, ctx) == "sched_getaffinity(0, 128, [0 1]) = 32"
    tt = struct.pack("<qqqq", 0, (1 << 30) - 1, 5, (1 << 30) - 2)
    ctx = FakeCtx({B: tt, P: cstr("/nonexist")})
    assert line("utimensat", (AT_FDCWD, P, B, 0x100), -2, ctx) == \
        'utimensat(AT_FDCWD, "/nonexist", [UTIME_NOW, UTIME_OMIT], AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)'
    assert line("renameat2", (AT_FDCWD, P, AT_FDCWD, P, 1), -2, ctx) == \
        'renameat2(AT_FDCWD, "/nonexist", AT_FDCWD, "/nonexist", RENAME_NOREPLACE) = -1 ENOENT (No such file or directory)'


def test_has_exit_args():
    z = (0,) * 6
    assert decode.has_exit_args("read", z) and not decode.has_exit_args("write", z)
    assert not decode.has_exit_args("openat", z) and not decode.has_exit_args("futex", z)
    assert decode.has_exit_args("clone", (0x1200011, 0, 0, 0, 0, 0))
    assert not decode.has_exit_args("clone", (0x20100 | 10, 0, 0, 0, 0, 0))
    assert decode.has_exit_args("ioctl", (1, 0x5401, 0, 0, 0, 0)) and not decode.has_exit_args("ioctl", (1, 0x5451, 0, 0, 0, 0))
    assert decode.has_exit_args("arch_prctl", (0x1003, 0, 0, 0, 0, 0))
    assert not decode.has_exit_args("arch_prctl", (0x1002, 0, 0, 0, 0, 0))
    assert decode.has_exit_args("wait4", z) and decode.has_exit_args("newfstatat", z)
    assert not decode.has_exit_args("getpid", z) and not decode.has_exit_args(500, z)
