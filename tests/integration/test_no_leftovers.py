"""No host process outlives a guest run.

Stubs (``umlpy/platform/umlpy-stub``) are children of the supervisor.  After a
normal exit, a guest crash, a fork storm, or the supervisor being interrupted
(SIGINT, SIGTERM) or killed (SIGKILL: the stubs then die by PR_SET_PDEATHSIG /
PTRACE_O_EXITKILL), none may be left, and no other descendant either.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

import umlpy

psutil = pytest.importorskip("psutil")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUB_EXE = os.path.realpath(os.path.join(REPO, "umlpy", "platform", "umlpy-stub"))


def _exe(p):
    try:
        return os.path.realpath(p.exe())
    except (psutil.Error, OSError):
        return None


def descendants(pid=None) -> dict:
    """pid -> (create_time, exe) of every live or zombie descendant of ``pid``."""
    try:
        procs = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for p in procs:
        try:
            out[p.pid] = (p.create_time(), _exe(p))
        except psutil.NoSuchProcess:
            pass
    return out


def stubs_of(pid=None) -> dict:
    return {k: v for k, v in descendants(pid).items() if v[1] == STUB_EXE}


def still_alive(procs: dict) -> list:
    """Those of ``procs`` (pid -> (create_time, exe)) that still exist and are not zombies."""
    alive = []
    for pid, (ctime, _) in procs.items():
        try:
            p = psutil.Process(pid)
            if p.create_time() == ctime and p.status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def wait_gone(procs: dict, timeout=2.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        alive = still_alive(procs)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def assert_no_new_descendants(before: dict):
    after = descendants()
    new = {pid: v for pid, v in after.items() if pid not in before}
    assert not new, "left behind: %r" % new
    assert not stubs_of(), "stubs left behind: %r" % stubs_of()


# --- in-process runs -------------------------------------------------------

def test_normal_exit(guest_bin, platform):
    before = descendants()
    res = umlpy.run([os.path.join(guest_bin, "hello")], platform=platform)
    assert res.returncode == 0
    assert_no_new_descendants(before)


def test_guest_crash(guest_bin, platform):
    before = descendants()
    res = umlpy.run([os.path.join(guest_bin, "segv")], platform=platform)
    assert res.returncode == -11
    assert_no_new_descendants(before)


def test_init_with_children(rootfs, platform):
    # /init forks and execs six programs (two of them make extra mms): several mms, several stubs.
    before = descendants()
    res = umlpy.run(["/init"], rootfs=rootfs, platform=platform)
    assert res.returncode == 0
    assert_no_new_descendants(before)


def test_bad_program_leaves_nothing(tmp_path, platform):
    from umlpy.errors import UmlpyError
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x7fELF" + b"\0" * 200)
    before = descendants()
    with pytest.raises(UmlpyError):
        umlpy.run([str(bad)], platform=platform)
    assert_no_new_descendants(before)


FORK_STORM = r"""
struct rlimit { unsigned long cur, max; };
struct timespec { long sec, nsec; };
long main(int argc, char **argv)
{
    long limit = argc > 1 ? 0 : 50;             /* any argument: keep the default limit */
    (void)argv;
    if (limit) {
        struct rlimit rl = { limit, limit };
        long r = sc4(302, 0, 6, &rl, 0);        /* prlimit64(0, RLIMIT_NPROC, &rl, 0) */
        if (r < 0)
            return 200;
    }
    /* Children wait for EOF on a pipe (deterministic: none exits before the
     * storm is over, whatever the speed of fork), then nap and exit. */
    int p[2];
    if (sc1(22, p) < 0)                         /* pipe */
        return 203;
    long n = 0, err = 0;
    for (;;) {
        long pid = sc0(57);                     /* fork */
        if (pid == 0) {
            char c;
            sc1(3, p[1]);
            sc3(0, p[0], &c, 1);                /* read: blocks until the parent closes */
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            sc2(35, &ts, 0);                    /* nanosleep(10 ms) */
            sc1(60, 0);
        }
        if (pid < 0) {
            err = -pid;
            break;
        }
        n++;
    }
    sc1(3, p[1]);
    long reaped = 0;
    int status;
    while (sc4(61, -1, &status, 0, 0) > 0)     /* wait4(-1) until ECHILD */
        reaped++;
    if (reaped != n)
        return 201;
    if (limit && n != limit - 1)
        return 202;
    return err;                                 /* 11 = EAGAIN */
}
"""


def test_fork_storm(build_guest, platform):
    prog = build_guest(FORK_STORM, "forkstorm")
    before = descendants()
    res = umlpy.run([prog], platform=platform)
    assert res.returncode == 11, (res.returncode, res.stderr)   # EAGAIN
    assert_no_new_descendants(before)


# Children that exit at once and are never reaped during the storm: on Linux a
# zombie still counts toward RLIMIT_NPROC until its parent reaps it, so fork
# must fail after limit - 1 children, however quickly they exit.
ZOMBIE_STORM = r"""
struct rlimit { unsigned long cur, max; };
struct timespec { long sec, nsec; };
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    struct timespec ts = { 0, 2 * 1000 * 1000 };
    struct rlimit rl = { 20, 20 };
    if (sc4(302, 0, 6, &rl, 0) < 0)
        return 200;
    long n = 0, err = 0;
    for (; n < 150; n++) {
        long pid = sc0(57);
        if (pid == 0)
            sc1(60, 0);
        if (pid < 0) {
            err = -pid;
            break;
        }
        sc2(35, &ts, 0);                        /* let the child run and die */
    }
    int status;
    while (sc4(61, -1, &status, 0, 0) > 0)
        ;
    if (!err)
        return 99;                              /* the limit never applied */
    return n == 19 ? err : 98;
}
"""


def test_zombies_count_toward_nproc(build_guest):
    prog = build_guest(ZOMBIE_STORM, "zombiestorm")
    before = descendants()
    res = umlpy.run([prog], platform="c")
    assert_no_new_descendants(before)
    assert res.returncode == 11, res.returncode   # EAGAIN after 19 children


# --- the supervisor as a separate process, signalled --------------------------

SPIN = r"""
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    say("spinning\n");
    for (;;)
        __asm__ volatile("" ::: "memory");
    return 0;
}
"""

SLEEP = r"""
struct timespec { long sec, nsec; };
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    say("sleeping\n");
    struct timespec ts = { 100000, 0 };
    for (;;)
        sc2(35, &ts, 0);                        /* nanosleep */
    return 0;
}
"""

FORK_SLEEP = r"""
struct timespec { long sec, nsec; };
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    for (int i = 0; i < 3; i++)
        if (sc0(57) == 0)
            break;
    say("sleeping\n");
    struct timespec ts = { 100000, 0 };
    for (;;)
        sc2(35, &ts, 0);
    return 0;
}
"""

GUESTS = {"spin": SPIN, "sleep": SLEEP}


def _default_sigint():
    # A child of a non-interactive shell or of some runners inherits SIGINT ignored;
    # Python then installs no KeyboardInterrupt handler.  Undo that for the supervisor.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_supervisor(prog, expect_stubs=1):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.Popen([sys.executable, "-m", "umlpy", "run", prog], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=_default_sigint)
    # Wait until the guest has said it runs (its first line) and its stubs exist.
    line = proc.stdout.readline()
    assert line in (b"spinning\n", b"sleeping\n"), (line, proc.stderr.read() if proc.poll() is not None else b"")
    deadline = time.monotonic() + 10
    while len(stubs_of(proc.pid)) < expect_stubs:
        assert time.monotonic() < deadline, "no stub appeared"
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    time.sleep(0.2)     # let the guest get into its loop / its sleep
    return proc


@pytest.mark.parametrize("guest", sorted(GUESTS))
@pytest.mark.parametrize("signo,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_supervisor_interrupted(build_guest, guest, signo, code):
    prog = build_guest(GUESTS[guest], guest)
    proc = start_supervisor(prog)
    stubs = stubs_of(proc.pid)
    try:
        proc.send_signal(signo)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = err.decode(errors="replace")
    assert "Traceback" not in err, err
    assert proc.returncode == code, (proc.returncode, err)
    assert not wait_gone(stubs), "stubs survived %s" % signal.Signals(signo).name


@pytest.mark.parametrize("guest", sorted(GUESTS))
def test_supervisor_killed(build_guest, guest):
    prog = build_guest(GUESTS[guest], guest)
    proc = start_supervisor(prog)
    stubs = stubs_of(proc.pid)
    assert stubs
    proc.kill()
    proc.wait(timeout=10)
    proc.stdout.close()
    proc.stderr.close()
    assert not wait_gone(stubs, timeout=2.0), "stubs survived SIGKILL of the supervisor"


@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_supervisor_signalled_with_children(build_guest, signo):
    # Four guest processes (each its own mm, so its own stub) asleep.
    prog = build_guest(FORK_SLEEP, "forksleep")
    proc = start_supervisor(prog, expect_stubs=4)
    stubs = stubs_of(proc.pid)
    assert len(stubs) >= 4
    try:
        proc.send_signal(signo)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if signo != signal.SIGKILL:
        assert b"Traceback" not in err, err
        assert proc.returncode == 128 + signo
    assert not wait_gone(stubs, timeout=2.0), "stubs survived %s" % signal.Signals(signo).name
