"""Guest ptrace through the real run loop, on every platform.

``ptracer`` (guest_images/src/ptracer.c) is a small tracer that checks syscall stops,
GET_SYSCALL_INFO, PEEK/POKE, GETREGS/SETREGS, PEEKUSER, a suppressed signal-delivery-stop,
PTRACE_EVENT_FORK with the new child's SIGSTOP, single-stepping (an exact instruction
count), the SIGTRAP after execve and the ESRCH cases; then /proc/PID/mem, PEEKSIGINFO,
PTRACE_INTERRUPT of a tracee blocked in read, VFORK/VFORK_DONE, PTRACE_EVENT_EXIT (exit_group,
a fatal signal), TracerPid, ATTACH and waitid, GET/SETSIGINFO, GET/SETFPREGS, GET/SETREGSET,
POKETEXT, process_vm_readv/writev, DETACH with a signal, KILL, PTRACE_EVENT_EXEC, LISTEN and
EXITKILL, one line each: it must print the same lines and exit the same way natively and
under umlpy.
"""

import os
import re
import shutil
import subprocess

import pytest

from umlpy.api import Machine, guest_env
from umlpy.fs.console import ConsoleIO


def run_in_image(rootfs, path, platform):
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(rootfs=rootfs, platform=platform, console=console) as m:
        m.start(path, [path], guest_env(), host_program=False)
        status = m.run()
        leftovers = (m.kernel.frames.used_pages, [a for a in m.platform.spaces if not a.released])
    return status, bytes(out), leftovers


def test_ptracer_native_and_guest_agree(rootfs, platform):
    native = subprocess.run([os.path.join(rootfs, "bin", "ptracer")], stdout=subprocess.PIPE, timeout=60)
    assert native.returncode == 0, native.stdout.decode(errors="replace")
    status, out, (frames, live) = run_in_image(rootfs, "/bin/ptracer", platform)
    assert out == native.stdout
    assert status == 0
    assert b"FAILED" not in out and b"0 failures\n" in out
    assert frames == 0 and live == []


def _normalise(text: str) -> list:
    """strace lines with addresses, pids and the environment size made neutral."""
    text = re.sub(r"0x[0-9a-f]+", "ADDR", text)
    text = re.sub(r"/\* \d+ vars \*/", "/* N vars */", text)
    text = re.sub(r"getrandom\(\"[^\"]*\"", "getrandom(BYTES", text)
    text = re.sub(r"set_tid_address\(ADDR\)\s+= \d+", "set_tid_address(ADDR) = PID", text)
    text = re.sub(r"\[pid\s+\d+\]", "[pid N]", text)
    return [re.sub(r" +", " ", line) for line in text.splitlines()]


#: ld.so's early 8 KiB anonymous mmap comes before the libc lookups on the host and after
#: them under umlpy (a loader difference that umlpy trace shows too, not a ptrace one).
_LDSO_EARLY_MMAP = "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR"


@pytest.mark.skipif(shutil.which("strace") is None or not os.path.exists("/usr/bin/strace"),
                    reason="strace is not installed on this host (apt-get install strace)")
@pytest.mark.parametrize("program", ["/bin/true"])
def test_strace_inside_umlpy_prints_what_host_strace_prints(platform, program):
    from umlpy.api import run
    host = subprocess.run(["/usr/bin/strace", "-f", program], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env={}, timeout=60)
    res = run(["/usr/bin/strace", "-f", program], rootfs="/", platform=platform, env={})
    assert res.status == 0, res.stderr.decode(errors="replace")
    assert res.stdout == host.stdout
    guest_lines = _normalise(res.stderr.decode())
    host_lines = _normalise(host.stderr.decode())
    assert guest_lines[-1] == "+++ exited with 0 +++"
    assert sorted(guest_lines) == sorted(host_lines)
    assert ([ln for ln in guest_lines if ln != _LDSO_EARLY_MMAP]
            == [ln for ln in host_lines if ln != _LDSO_EARLY_MMAP])


_GDB_PROG = """int f(int a)
{
    return a + 1;
}

int main(void)
{
    int x = 41;
    x = f(x);
    return x - 42;
}
"""


@pytest.mark.skipif(shutil.which("gdb") is None or shutil.which("gcc") is None,
                    reason="gdb or gcc is not installed on this host")
def test_gdb_inside_umlpy_breaks_steps_prints_and_backtraces(platform, guest_bin):
    """gdb -batch in the guest: a breakpoint (int3 poked into the text), next (single steps
    and a temporary breakpoint over the call), print and bt (GETREGS, PEEKDATA, xstate)."""
    from umlpy.api import run
    # Not under /tmp: the guest's /tmp is its own tmpfs.
    work = os.path.join(os.path.dirname(guest_bin), "gdbtest-%d" % os.getpid())
    os.makedirs(work, exist_ok=True)
    src, prog = os.path.join(work, "g.c"), os.path.join(work, "gprog")
    with open(src, "w") as f:
        f.write(_GDB_PROG)
    subprocess.run(["gcc", "-g", "-O0", "-static", "-o", prog, src], check=True, cwd=work)
    res = run(["/usr/bin/gdb", "-nx", "-batch", "-ex", "set startup-with-shell off", "-ex", "break main",
               "-ex", "run", "-ex", "next", "-ex", "next", "-ex", "print x", "-ex", "bt", prog],
              rootfs="/", platform=platform, env={})
    shutil.rmtree(work, ignore_errors=True)
    out = res.stdout.decode(errors="replace")
    assert res.status == 0, out + res.stderr.decode(errors="replace")
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines[0].startswith("Breakpoint 1 at 0x") and lines[0].endswith("file %s, line 8." % src)
    assert lines[1:] == ["Breakpoint 1, main () at %s:8" % src, "8\t    int x = 41;",
                         "9\t    x = f(x);", "10\t    return x - 42;", "$1 = 42",
                         "#0  main () at %s:10" % src]
