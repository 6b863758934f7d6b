"""Issue 14, finding 2: host signals to stubs, failed batches, PKRU.

Before: SIGSTOP, SIGCONT, SIGUSR1 or SIGWINCH sent to a stub during a mapping
batch ended the whole run (exit 125, "batch failed: Protocol error"), so did
umlpy's own time-slice SIGSTOP with UMLPY_PIN_CPU=0, and host signals to a
stub reached the guest as its own.  Now a host signal to any stub process (the
one running guest code or its mapper) is dropped: the guest never sees it and
the run is the same as natively; SIGKILL of a stub, or a batch that cannot be
run, ends that guest process alone (SIGKILL, reported), never the machine.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUB_EXE = os.path.realpath(os.path.join(REPO, "umlpy", "platform", "umlpy-stub"))

SIGNALS = [signal.SIGSTOP, signal.SIGCONT, signal.SIGUSR1, signal.SIGWINCH, signal.SIGTSTP,
           signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGSEGV, signal.SIGTRAP,
           signal.SIGUSR2, signal.SIGALRM, signal.SIGCHLD, signal.SIGPIPE]


def _env(**extra):
    env = dict(os.environ, PYTHONPATH=REPO, **extra)
    return env


def stubs_under(pid) -> list:
    """Every stub process (main ones and mappers) below ``pid``."""
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in procs:
        try:
            if os.path.realpath(p.exe()) == STUB_EXE:
                out.append(p)
        except (psutil.Error, OSError):
            pass
    return out


def all_gone(procs, timeout=3.0) -> list:
    deadline = time.monotonic() + timeout
    while True:
        alive = []
        for p in procs:
            try:
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


class Pelter(threading.Thread):
    """Sends ``signals`` in turn to every stub of ``pid``, as fast as it can, until stopped."""

    def __init__(self, pid, signals):
        super().__init__(daemon=True)
        self.pid, self.signals = pid, signals
        self.halt = threading.Event()
        self.sent = 0
        self.seen = {}

    def run(self):
        i = 0
        stubs, listed = [], 0.0
        while self.signals and not self.halt.is_set():
            if time.monotonic() - listed > 0.02:      # new stubs come and go: look again
                stubs, listed = stubs_under(self.pid), time.monotonic()
                self.seen.update((p.pid, p) for p in stubs)
            for p in stubs:
                try:
                    os.kill(p.pid, self.signals[i % len(self.signals)])
                    self.sent += 1
                except ProcessLookupError:
                    pass
                i += 1
            time.sleep(0.0002)


def run_native(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=60)


def run_pelted(argv, signals, env=None, platform="c"):
    proc = subprocess.Popen([sys.executable, "-m", "umlpy", "run", "--platform", platform] + argv,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env or _env())
    pelter = Pelter(proc.pid, signals)
    pelter.start()
    try:
        out, err = proc.communicate(timeout=120)
    finally:
        pelter.halt.set()
        pelter.join()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err, pelter


@pytest.mark.slow
@pytest.mark.parametrize("signo", SIGNALS, ids=[signal.Signals(s).name for s in SIGNALS])
def test_signals_to_stubs_during_batches(guest_bin, platform, signo):
    argv = [os.path.join(guest_bin, "sigvictim"), "0.7"]
    native = run_native(argv)
    rc, out, err, pelter = run_pelted(argv, [signo], platform=platform)
    assert pelter.sent > 50, "the test did not reach the stubs"
    assert (rc, out, err) == (native.returncode, native.stdout, b""), err.decode()
    assert not all_gone(list(pelter.seen.values())), "stubs left behind"


@pytest.mark.slow
def test_every_signal_at_once(guest_bin, platform):
    argv = [os.path.join(guest_bin, "sigvictim"), "1"]
    native = run_native(argv)
    rc, out, err, pelter = run_pelted(argv, SIGNALS, platform=platform)
    assert pelter.sent > 50
    assert (rc, out, err) == (native.returncode, native.stdout, b""), err.decode()
    assert not all_gone(list(pelter.seen.values()))


@pytest.mark.slow
def test_own_time_slices_unpinned(guest_bin, platform):
    # The supervisor's SIGSTOP ends time slices of two processes that keep mapping,
    # with supervisor and stubs free to run on different CPUs.
    argv = [os.path.join(guest_bin, "sigvictim"), "0.5"]
    native = run_native(argv)
    for _ in range(3):
        rc, out, err, _ = run_pelted(argv, [], env=_env(UMLPY_PIN_CPU="0"), platform=platform)
        assert (rc, out, err) == (native.returncode, native.stdout, b""), err.decode()


def _busiest_stub(pid, timeout=10.0):
    """The stub of the looping guest child: the main stub process that switches in and out
    most over half a second (it stops at every system call; the parent's waits, pool stubs
    are idle)."""
    def switches(p):
        try:
            return sum(p.num_ctx_switches())
        except psutil.NoSuchProcess:
            return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mains = [p for p in stubs_under(pid) if p.ppid() == pid]
        if len(mains) >= 2:
            before = {p.pid: switches(p) for p in mains}
            time.sleep(0.5)
            return max(mains, key=lambda p: switches(p) - before[p.pid])
        time.sleep(0.02)
    raise AssertionError("no second stub appeared")


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["stub", "mapper"])
def test_killed_stub_ends_that_process_only(guest_bin, platform, victim):
    # SIGKILL of a guest process's stub, or of its mapper (its next batch then
    # fails): that process dies of SIGKILL, its parent goes on.
    proc = subprocess.Popen([sys.executable, "-m", "umlpy", "run", "--platform", platform,
                             os.path.join(guest_bin, "sigvictim"), "3", "spin"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    try:
        stub = _busiest_stub(proc.pid)
        seen = stubs_under(proc.pid)
        target = stub if victim == "stub" else stub.children()[0]
        target.kill()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
    assert out == b"child killed by signal 9\nparent: handlers ran 0 times\n"
    lines = err.decode().splitlines()
    assert len(lines) == 1 and "killing the guest process" in lines[0], lines
    assert not all_gone(seen)


PKRU = r"""
/* A guest that denies itself every access to protection key 0 (all its memory)
 * around a munmap that only registers feed, then sets a PKRU of its own and
 * checks it is kept across system calls and mapping batches.  Without PKU,
 * WRPKRU is an invalid instruction: the guest says so (SIGILL is not even
 * tried, so that natively and under umlpy it is the same). */
static inline void cpuid7(unsigned *ecx)
{
    unsigned a = 7, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    *ecx = c;
}
static inline unsigned rdpkru(void)
{
    unsigned eax, edx;
    __asm__ volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}
long main(int argc, char **argv)
{
    (void)argc; (void)argv;
    unsigned ecx;
    cpuid7(&ecx);
    if (!(ecx & (1u << 4))) {                   /* OSPKE */
        say("no protection keys here\n");
        return 0;
    }
    unsigned old = rdpkru();
    for (int i = 0; i < 50; i++) {
        long p = sc6(9, 0, 8192, 3, 0x22, -1, 0);          /* mmap */
        if (p < 0)
            return 10;
        *(volatile char *)p = 1;                            /* touch: a mapping batch */
        long r;
        /* PKRU = 3 (key 0: access and write disabled), munmap, PKRU back: no memory touched. */
        __asm__ volatile("mov $3, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\twrpkru\n\t"
                         "mov $11, %%eax\n\tmov %1, %%rdi\n\tmov $8192, %%esi\n\tsyscall\n\t"
                         "mov %%rax, %%r12\n\t"
                         "mov %2, %%eax\n\txor %%ecx, %%ecx\n\txor %%edx, %%edx\n\twrpkru\n\t"
                         "mov %%r12, %0"
                         : "=r"(r) : "r"(p), "r"(old) : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "r12", "memory");
        if (r != 0)
            return 11;
    }
    /* A PKRU of its own (key 1 write-disabled), kept across calls and batches. */
    unsigned mine = old | (2u << 2);
    __asm__ volatile("wrpkru" : : "a"(mine), "c"(0), "d"(0));
    for (int i = 0; i < 20; i++) {
        long p = sc6(9, 0, 4096, 3, 0x22, -1, 0);
        *(volatile char *)p = 1;
        sc2(11, p, 4096);
    }
    if (rdpkru() != mine)
        return 12;
    say("pkru kept\n");
    return 0;
}
"""


def test_pkru_denying_key0_around_munmap(build_guest, platform, contained, umlpy_cmd):
    prog = build_guest(PKRU, "pkru")
    native = contained(prog)
    guest = contained("%s run --platform %s %s" % (umlpy_cmd, platform, prog))
    assert (guest.returncode, guest.stdout, guest.stderr) == (native.returncode, native.stdout, b"")
    assert native.returncode == 0 and guest.left == []
