"""``umlpy run --gdb PORT``: Debian's gdb in batch mode against the gdb stub, on both platforms.

Each session starts ``umlpy run --gdb 0 PROGRAM`` (port 0: the host picks one and umlpy
says which on stderr), runs ``gdb -batch`` with ``target remote :PORT`` and a list of
commands, and checks what gdb printed and how the guest ended.  The program is a small C
file built with ``-g``, static and dynamic (the dynamic one also needs the auxiliary vector
for gdb to find ld.so and relocate the PIE).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GDB = shutil.which("gdb")
GCC = shutil.which("gcc")

pytestmark = [pytest.mark.skipif(GDB is None, reason="gdb is not installed"),
              pytest.mark.skipif(GCC is None, reason="gcc is not installed")]

PROGRAM = r"""
#include <pthread.h>
#include <stdio.h>
#include <string.h>

int counter = 0;
volatile int joined = 0;

static int square(int x)
{
    int y = x * x;
    return y;
}

static void *worker(void *arg)
{
    joined += (int)(long)arg;
    return 0;
}

int main(int argc, char **argv)
{
    double d = 2.5;
    for (int i = 0; i < 4; i++)
        counter += square(i);
    printf("counter=%d d=%g\n", counter, d);
    if (argc > 1 && strcmp(argv[1], "threads") == 0) {
        pthread_t t[2];
        for (long i = 0; i < 2; i++)
            pthread_create(&t[i], 0, worker, (void *)(i + 1));
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], 0);
        printf("joined=%d\n", joined);
    }
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        int *volatile p = 0;
        *p = 1;
    }
    return 0;
}
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    d = tmp_path_factory.mktemp("gdbstub")
    src = d / "prog.c"
    src.write_text(PROGRAM)
    out = {}
    for kind, flags in (("static", ["-static"]), ("dynamic", [])):
        exe = d / ("prog-" + kind)
        subprocess.run([GCC, "-g", "-O0", "-pthread", *flags, "-o", str(exe), str(src)], check=True)
        out[kind] = str(exe)
    return out


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def session(program, args, commands, platform="c", timeout=120):
    """(gdb's output, umlpy's CompletedProcess-like (returncode, stdout, stderr))."""
    guest = subprocess.Popen([sys.executable, "-m", "umlpy", "run", "--platform", platform, "--gdb", "0",
                              program, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=_env())
    try:
        line = guest.stderr.readline().decode()
        m = re.match(r"umlpy: waiting for gdb on localhost:(\d+)$", line.strip())
        assert m, line
        cmd = [GDB, "-nx", "-batch", "-ex", "set confirm off", "-ex", "target remote :%s" % m.group(1)]
        for c in commands:
            cmd += ["-ex", c]
        g = subprocess.run(cmd + [program], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        out, err = guest.communicate(timeout=timeout)
    finally:
        if guest.poll() is None:
            guest.kill()
            guest.wait()
    err = err.decode(errors="replace")
    assert "Traceback" not in err and "internal error" not in err, err
    return g.stdout.decode(errors="replace"), (guest.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["static", "dynamic"])
def test_break_step_print_bt_registers_watch(programs, platform, kind):
    out, (rc, stdout, err) = session(programs[kind], [], [
        "break main", "continue", "next", "print d", "bt", "info registers rip",
        "step", "step", "bt", "finish", "stepi", "p $pc == $rip",
        "delete", "watch counter", "continue", "continue",
        "set var $xmm1.v2_double[0] = 3.25", "p $xmm1.v2_double[0]", "p $mxcsr", "p $eflags",
        "set var counter = 100", "delete", "continue"], platform=platform)
    assert "Breakpoint 1, main (argc=1" in out, out
    assert "$1 = 2.5" in out, out
    assert re.search(r"#0  main \(argc=1, argv=0x[0-9a-f]+\) at .*prog.c:\d+", out), out
    assert re.search(r"^rip +0x[0-9a-f]+ +0x[0-9a-f]+ <main\+\d+>", out, re.M), out
    assert re.search(r"^square \(x=0\) at .*prog.c:11$", out, re.M), out        # stepped into it
    assert re.search(r"#1  0x[0-9a-f]+ in main \(argc=1", out), out
    assert "Value returned is $2 = 0" in out, out
    assert "$3 = 1" in out, out                                   # $pc == $rip after stepi
    assert "Hardware watchpoint 2: counter" in out, out
    # square(0) adds 0 (no change: gdb goes on), square(1) makes 1, square(2) makes 5
    assert "Old value = 0\nNew value = 1" in out, out
    assert "Old value = 1\nNew value = 5" in out, out
    assert "$4 = 3.25" in out, out                               # an SSE register written and read back
    assert "[ IM DM ZM OM UM PM ]" in out, out                   # mxcsr's default
    assert "exited normally" in out, out
    assert rc == 0
    assert stdout == b"counter=109 d=2.5\n"                     # 100 + square(3): gdb's write landed


@pytest.mark.slow
def test_sigsegv_is_reported_and_kills(programs, platform):
    out, (rc, stdout, err) = session(programs["static"], ["crash"], [
        "continue", "p $_siginfo.si_signo", "p $_siginfo._sifields._sigfault.si_addr", "bt 1", "continue"],
        platform=platform)
    assert "Program received signal SIGSEGV, Segmentation fault." in out, out
    assert "$1 = 11" in out, out
    assert "$2 = (void *) 0x0" in out, out
    assert re.search(r"#0  0x[0-9a-f]+ in main \(argc=2", out) or re.search(r"#0  main \(argc=2", out), out
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in out, out
    assert rc == 139
    native = subprocess.run([programs["static"], "crash"], stdout=subprocess.PIPE, timeout=30)
    assert native.returncode == -11
    assert stdout == native.stdout == b""        # stdout to a pipe is buffered: the crash loses it


@pytest.mark.slow
def test_threads_are_seen_and_stop_together(programs):
    out, (rc, stdout, err) = session(programs["dynamic"], ["threads"], [
        "break worker", "continue", "info threads", "continue", "info threads", "p joined", "delete",
        "continue"])
    hits = re.findall(r"Thread (\d+) hit Breakpoint 1, worker \(arg=0x(\d)\)", out)
    assert sorted(a for _, a in hits) == ["1", "2"], out
    assert len({t for t, _ in hits}) == 2, out                   # two threads, each stopped once
    assert re.search(r"^\* \d+ +Thread \d+ \(prog-dynamic\) +worker", out, re.M), out
    assert re.search(r"^  1 +Thread 1 \(prog-dynamic\)", out, re.M), out
    assert "exited normally" in out, out
    assert rc == 0 and stdout == b"counter=14 d=2.5\njoined=3\n"


def test_detach_lets_the_guest_finish(programs):
    out, (rc, stdout, err) = session(programs["static"], [], ["break square", "continue", "detach"])
    assert "Breakpoint 1, square (x=0)" in out, out
    assert rc == 0 and stdout == b"counter=14 d=2.5\n"           # the int3 is gone with gdb


def test_kill_from_gdb(programs):
    out, (rc, stdout, err) = session(programs["static"], [], ["break square", "continue", "kill"])
    assert rc == 128 + 9 and stdout == b""


def test_port_in_use_is_one_line(tmp_path, programs):
    import socket
    s = socket.create_server(("127.0.0.1", 0))
    try:
        port = s.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "umlpy", "run", "--gdb", str(port), programs["static"]],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=_env(), timeout=60)
    finally:
        s.close()
    assert p.returncode == 125
    assert p.stderr.decode().count("\n") == 1 and p.stderr.startswith(b"umlpy: --gdb"), p.stderr


def test_gdb_and_tracing_do_not_combine_yet(programs):
    import umlpy
    from umlpy.errors import UmlpyError
    with pytest.raises(UmlpyError, match="--gdb cannot be combined"):
        umlpy.run([programs["static"]], gdb=0, trace=umlpy.TraceOptions())
