"""Golden-file tests of ``umlpy trace``'s output syntax, one family of decoders per file.

Guests run from the default root image (``/bin/PROG``, so paths do not depend on
where the repository is checked out) in deterministic mode (virtual clock, seeded
randomness, stable addresses), and the trace is compared byte for byte with
``tests/golden/NAME.trace``.  To regenerate after an intended change:

    UMLPY_UPDATE_GOLDENS=1 python3 -m pytest tests/integration/test_trace_golden.py

and review the diff of tests/golden/ before committing it.
"""

import difflib
import json
import os

import pytest

import umlpy
from umlpy.trace.options import TraceOptions, apply_expr

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "golden")
UPDATE = os.environ.get("UMLPY_UPDATE_GOLDENS") == "1"


def traced(rootfs, argv, exprs=(), **opts):
    o = TraceOptions(deterministic=True, **opts)
    for e in exprs:
        apply_expr(o, e)
    return umlpy.run(argv, rootfs=rootfs, trace=o, capture=True)


def check_golden(name: str, text: bytes):
    path = os.path.join(GOLDEN_DIR, name + ".trace")
    if UPDATE:
        os.makedirs(GOLDEN_DIR, exist_ok=True)
        with open(path, "wb") as f:
            f.write(text)
        return
    if not os.path.exists(path):
        pytest.fail("no golden file %s (run with UMLPY_UPDATE_GOLDENS=1 to create it)" % path)
    with open(path, "rb") as f:
        want = f.read()
    if text != want:
        diff = "".join(difflib.unified_diff(want.decode(errors="replace").splitlines(True),
                                            text.decode(errors="replace").splitlines(True),
                                            "golden/" + name + ".trace", "now"))
        pytest.fail("trace differs from the golden file (UMLPY_UPDATE_GOLDENS=1 to accept):\n" + diff,
                    pytrace=False)


# name: (argv, trace options, -e expressions, lines that must be in the golden)
CASES = {
    "files": (["/bin/files-musl"], {}, (), [
        'open("/tmp/umlpy-files-', "O_RDWR|O_CREAT|O_EXCL|O_LARGEFILE, 0640) = 3",
        "= -1 EEXIST (File exists)", 'read(3, "HELLO, files\\n", 63)', "lseek(3, 0, SEEK_END)",
        "fstat(3, {st_mode=S_IFREG|0640, st_size=13, ...}) = 0", "getdents64(3, ", "/* 7 entries */",
        "rename(", "unlink(\"b.txt\") = 0", "mkdir(", "rmdir(", "chdir(\"/\")", "getcwd(\"/tmp/umlpy-files-",
        "= -1 ENOENT (No such file or directory)", "= -1 ENOTEMPTY (Directory not empty)"]),
    "memory": (["/bin/memory-glibc"], {}, (), [
        "brk(NULL)", "mmap(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x",
        "mprotect(", ", 4096, PROT_READ) = 0", "mremap(", "MREMAP_MAYMOVE) = 0x", "munmap(",
        "MAP_SHARED|MAP_ANONYMOUS", "si_code=SEGV_ACCERR", "si_code=SEGV_MAPERR"]),
    "process": (["/bin/pipes-musl"], {"follow_forks": True}, (), [
        "pipe([3, 4]) = 0", "fork() = 2", "[pid     2] ", "[pid     1] ", " <unfinished ...>",
        "<... read resumed>", "wait4(2, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 2",
        "exit_group(7) = ?", "+++ exited with 7 +++", "tkill(3, SIGKILL) = ?", "+++ killed by SIGKILL +++",
        "+++ exited with 0 +++"]),
    "signals": (["/bin/signals-musl"], {}, (), [
        "rt_sigaction(SIGUSR1, {sa_handler=0x", "rt_sigprocmask(SIG_BLOCK, [USR2], [], 8) = 0",
        "kill(1, SIGUSR2) = 0", "tkill(1, SIGUSR1) = 0",
        "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_TKILL, si_pid=1, si_uid=0} ---",
        "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x1234} ---",
        "rt_sigreturn(", "+++ killed by SIGTERM +++"]),
    "paths": (["/bin/files-musl"], {"show_paths": True}, (), [
        "write(3</tmp/umlpy-files-", "/a.txt>, \"hello, files\\n\", 13) = 13", "ioctl(1</dev/console>, "]),
    "strsize5": (["/bin/files-musl"], {"strsize": 5}, (), ['write(3, "hello"..., 13) = 13',
                                                          'read(3, "HELLO"..., 63) = 13']),
    "xraw": (["/bin/files-musl"], {"xmode": "raw"}, (), ["lseek(3, 0, 0x2) = 13", "0x80c2, 0640) = -1 EEXIST (File exists)"]),
    "xverbose": (["/bin/files-musl"], {"xmode": "verbose"}, (), ["lseek(3, 0, 0x2 /* SEEK_END */) = 13",
                                                                 "0x80c2 /* O_RDWR|O_CREAT|O_EXCL|O_LARGEFILE */, 0640) = -1 EEXIST"]),
    "time_T_tt": (["/bin/getppid_loop", "3"], {"durations": True, "timestamps": 2}, (), [
        "00:00:01.000001 getppid()", " <0.000000>"]),
    "time_ttt": (["/bin/getppid_loop", "3"], {"timestamps": 3}, (), ["946684801.000001 getppid()"]),
    "time_t": (["/bin/getppid_loop", "3"], {"timestamps": 1}, (), ["00:00:01 getppid()"]),
    "time_r": (["/bin/getppid_loop", "3"], {"relative": True}, (), ["     0.000001 getppid()"]),
    "summary": (["/bin/files-musl"], {"summary": True}, (), [
        "% time     seconds  usecs/call     calls    errors syscall", "------ ----------- ----------- ---------",
        " total"]),
    "json": (["/bin/signals-musl"], {"fmt": "json"}, (), ['"type":"syscall"', '"type":"signal"',
                                                           '"type":"exit"']),
    "trace_file_class": (["/bin/files-musl"], {}, ("trace=%file",), ["rename("]),
    # The needles are lines the host's strace printed for the same program.
    "events": (["/bin/events-glibc"], {"follow_forks": True}, ("trace=!write",), [
        "eventfd2(2, EFD_SEMAPHORE|EFD_CLOEXEC|EFD_NONBLOCK) = 3", "eventfd2(0, 0x1234 /* EFD_??? */) = -1 EINVAL",
        "epoll_create1(0x3039 /* EPOLL_??? */) = -1 EINVAL (Invalid argument)",
        "epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN, data={u32=100, u64=100}}) = 0",
        "epoll_ctl(3, EPOLL_CTL_MOD, 4, {events=EPOLLIN|EPOLLET, data={u32=200, u64=200}}) = 0",
        "epoll_ctl(3, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLRDHUP|EPOLLEXCLUSIVE, data={u32=0, u64=0}}) = -1 EINVAL",
        "epoll_wait(3, [{events=EPOLLOUT, data={u32=401, u64=401}}, {events=EPOLLIN|EPOLLOUT, "
        "data={u32=402, u64=402}}], 8, 0) = 2",
        "epoll_wait(3, [{events=EPOLLHUP, data={u32=400, u64=400}}], 8, 0) = 1",
        "epoll_pwait2(18, [], 1, {tv_sec=0, tv_nsec=1000000}, [], 8) = 0",
        "epoll_pwait2(18, 0xADDR, 1, 0xADDR, NULL, 8) = -1 EINVAL (Invalid argument)",
        "timerfd_create(CLOCK_MONOTONIC, 0x1234 /* TFD_??? */) = -1 EINVAL",
        "timerfd_settime(19, 0, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, tv_nsec=20000000}}, NULL) = 0",
        "timerfd_settime(19, 0x8 /* TFD_??? */, {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=0, "
        "tv_nsec=0}}, NULL) = -1 EINVAL",
        "signalfd4(-1, [USR1 CHLD], 8, SFD_NONBLOCK) = 19", "signalfd4(19, [USR2], 8, 0) = 19"]),
}


def _squash(text: str) -> str:
    import re
    return re.sub(r"0x[0-9a-f]{5,}", "0xADDR", re.sub(r"\)\s+= ", ") = ", text))


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(rootfs, name):
    argv, opts, exprs, needles = CASES[name]
    res = traced(rootfs, argv, exprs, **opts)
    assert res.trace, "no trace"
    check_golden(name, res.trace)
    text = _squash(res.trace.decode())
    for n in needles:
        assert _squash(n) in text, "%r not in the %s trace" % (n, name)


def test_trace_file_class_only_file_calls(rootfs):
    res = traced(rootfs, ["/bin/files-musl"], ("trace=%file",))
    names = {line.split("(", 1)[0] for line in res.trace.decode().splitlines()
             if line and not line.startswith(("+++", "---"))}
    assert "write" not in names and "lseek" not in names and "brk" not in names
    assert {"open", "rename", "unlink", "mkdir", "rmdir", "chdir", "stat", "access"} <= names


def test_json_fields(rootfs):
    res = traced(rootfs, ["/bin/signals-musl"], fmt="json")
    events = [json.loads(line) for line in res.trace.decode().splitlines()]
    calls = [e for e in events if e["type"] == "syscall"]
    assert calls
    for e in calls:
        assert {"pid", "tid", "syscall", "nr", "args", "raw_args", "ret", "errno", "start", "duration",
                "fast_path", "injected"} <= set(e), e
        assert isinstance(e["args"], list) and isinstance(e["raw_args"], list)
        assert isinstance(e["fast_path"], bool) and isinstance(e["injected"], bool)
    kill = next(e for e in calls if e["syscall"] == "kill")
    assert kill["nr"] == 62 and kill["args"] == ["1", "SIGUSR2"] and kill["ret"] == 0 and kill["errno"] is None
    sigs = [e for e in events if e["type"] == "signal"]
    assert [s["signal"] for s in sigs][:3] == ["SIGUSR1", "SIGUSR2", "SIGSEGV"]
    assert sigs[2]["signo"] == 11 and "si_addr=0x1234" in sigs[2]["info"]
    ex = [e for e in events if e["type"] == "exit"]
    assert len(ex) == 1 and ex[0]["killed_by"] == "SIGTERM" and ex[0]["exit_code"] is None


def test_json_errno(rootfs):
    res = traced(rootfs, ["/bin/files-musl"], fmt="json")
    events = [json.loads(line) for line in res.trace.decode().splitlines()]
    failed = [e for e in events if e["type"] == "syscall" and e["errno"]]
    assert {"EEXIST", "ENOENT", "ENOTEMPTY"} <= {e["errno"] for e in failed}
    assert all(e["ret"] == -1 or e["ret"] < 0 for e in failed)


def test_timeline(rootfs, tmp_path):
    out = tmp_path / "timeline.json"
    # The JSON trace of the same run: threads' futex calls vary from run to run under load
    # (a second run, even --deterministic, could make a different number of calls).
    res = traced(rootfs, ["/bin/threads-musl"], follow_forks=True, timeline=str(out), fmt="json")
    assert res.exit_code == 0
    doc = json.loads(out.read_text())
    evs = doc["traceEvents"]
    slices = [e for e in evs if e["ph"] == "X"]
    assert slices and all(e["cat"] == "syscall" and "ts" in e and "dur" in e and e["dur"] >= 0
                          for e in slices)
    tids = {e["tid"] for e in slices}
    assert len(tids) >= 2, "threads-musl runs several threads"
    named = {e["tid"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
    assert tids <= named, "every task gets a thread_name"
    # one slice per completed syscall: as many as the JSON lines have syscall events
    ncalls = sum(1 for line in res.trace.decode().splitlines() if '"type":"syscall"' in line)
    assert ncalls > 0 and len(slices) == ncalls


def test_exit_line_of_a_child_has_pid_prefix(rootfs):
    res = traced(rootfs, ["/bin/pipes-musl"], follow_forks=True)
    assert "[pid     2] +++ exited with 7 +++\n" in res.trace.decode()


def test_rt_sigreturn_shows_mask(rootfs):
    res = traced(rootfs, ["/bin/signals-musl"])
    assert "rt_sigreturn({mask=[]})" in res.trace.decode()


def test_json_execve_raw_args(rootfs):
    res = traced(rootfs, ["/bin/hello"], fmt="json")
    first = json.loads(res.trace.decode().splitlines()[0])
    assert first["syscall"] == "execve" and any(first["raw_args"][:3])
