"""Both ptrace platforms (C shim and python-ptrace) against the same tests.

Guest code is hand-assembled x86-64 put in physmem and mapped into a stub;
each test checks how the run loop classifies what the guest did, and that
the stub is the sandboxed, single-purpose process the design says.
"""

import errno
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from umlpy.abi.memory import STUB_CODE, STUB_REQ
from umlpy.abi.regs import USER_CS, USER_SS
from umlpy.errors import PlatformError, UmlpyError
from umlpy.platform import c_platform_available, get_platform
from umlpy.platform.base import Prot, StopKind
from umlpy.platform.physmem import PhysMem

PAGE = 4096
CODE = 0x400000          # guest code page (physmem offset 0)
RODATA = 0x500000        # a read-only page (physmem offset PAGE)
STACK = 0x600000         # two stack pages (physmem offset 2*PAGE)
UNMAPPED = 0x10000000
ENOSYS_RET = (1 << 64) - errno.ENOSYS

# Hand-assembled snippets.
SYSCALL = bytes.fromhex("0f05")
GETPID_THEN_EXIT_WITH_IT = bytes.fromhex(
    "b827000000" "0f05"                              # mov $39,%eax; syscall (getpid)
    "4889c7"                                         # mov %rax,%rdi
    "b83c000000" "0f05")                             # mov $60,%eax; syscall (exit)
STORE_UNMAPPED = bytes.fromhex("48c70425" "00000010" "2a000000")  # movq $42, 0x10000000
STORE_RODATA = bytes.fromhex("48c70425" "00005000" "2a000000")    # movq $42, 0x500000
UD2 = bytes.fromhex("0f0b")
INT3 = bytes.fromhex("cc")
LOOP = bytes.fromhex("ebfe")                         # jmp .
XMM0_ROUND_TRIP = bytes.fromhex(
    "66480f6ec0" "0f05"                              # movq %rax,%xmm0; syscall
    "66480f7ec0" "0f05")                             # movq %xmm0,%rax; syscall


def new_space(plat, code):
    """A stub with ``code`` at CODE (r-x), a read-only page and a stack, flushed."""
    a = plat.new_address_space()
    plat.physmem.write(0, code)
    a.map(CODE, PAGE, Prot.READ | Prot.EXEC, 0)
    a.map(RODATA, PAGE, Prot.READ, PAGE)
    a.map(STACK, 2 * PAGE, Prot.READ | Prot.WRITE, 2 * PAGE)
    a.flush()
    return a


def new_ctx(plat, rip=CODE, rsp=STACK + 2 * PAGE):
    c = plat.new_context()
    c.regs.cs, c.regs.ss, c.regs.eflags = USER_CS, USER_SS, 0x202
    c.regs.rip, c.regs.rsp = rip, rsp
    return c


def run(plat, code, **regs):
    a = new_space(plat, code)
    c = new_ctx(plat)
    for k, v in regs.items():
        setattr(c.regs, k, v)
    return a, c, c.switch(a)


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


# --- selection ---------------------------------------------------------------

def test_get_platform_names():
    pm = PhysMem(PAGE)
    made = []

    def make(name):
        made.append(get_platform(name, pm))
        return made[-1]
    try:
        assert make("python").name == "python"
        assert make("ptrace").name == "python"
        assert make("auto").name == ("c" if c_platform_available() else "python")
        if c_platform_available():
            assert make("shim").name == "c"
        with pytest.raises(UmlpyError, match="unknown platform"):
            get_platform("kvm", pm)
    finally:
        for p in made:
            p.close()               # each started a stub ahead
        pm.close()


# --- the stub process ----------------------------------------------------------

def test_stub_is_sandboxed(plat):
    a = plat.new_address_space()
    pid = a.pid
    with open("/proc/%d/maps" % pid) as f:
        lines = f.read().splitlines()
    for line in lines:
        start = int(line.split("-", 1)[0], 16)
        assert start >= STUB_CODE or line.endswith("[vsyscall]"), line
    assert len(lines) <= 4
    # The mapper's orders are read-only in the stub: the guest can read them, never forge them.
    req = [line for line in lines if line.startswith("%x-" % STUB_REQ)]
    assert len(req) == 1 and req[0].split()[1] == "r--s", lines
    assert os.listdir("/proc/%d/fd" % pid) == ["3"]
    assert os.getsid(pid) == pid
    st = proc_status(pid)
    assert int(st["TracerPid"]) == os.getpid()
    assert st["Seccomp"].strip() == "2" and st["Seccomp_filters"].strip() == "2"
    # Every host signal is blocked but the ones the guest's own instructions raise.
    open_ = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGFPE, signal.SIGTRAP, signal.SIGSYS,
             signal.SIGKILL, signal.SIGSTOP}
    blocked = int(st["SigBlk"], 16)
    assert [s for s in range(1, 65) if bool(blocked & (1 << (s - 1))) == (s in open_)] == []
    # The mapper: same address space, the physmem file only, untraced, every signal blocked.
    (mapper,) = psutil.Process(pid).children()
    mst = proc_status(mapper.pid)
    with open("/proc/%d/maps" % mapper.pid) as f:
        assert f.read().splitlines() == lines
    assert os.listdir("/proc/%d/fd" % mapper.pid) == ["3"]
    assert int(mst["TracerPid"]) == 0 and mst["Seccomp_filters"].strip() == "1"
    assert int(mst["SigBlk"], 16) == (1 << 64) - 1 - (1 << 8) - (1 << 18)   # all but KILL, STOP
    a.release()


def test_release_leaves_no_process(plat):
    a = plat.new_address_space()
    pid = a.pid
    (mapper,) = psutil.Process(pid).children()
    a.release()
    assert a.dead
    a.release()  # idempotent
    plat.close()       # released stubs wait in the pool until then
    assert not psutil.pid_exists(pid)
    assert gone(mapper), "the mapper outlived its stub"


def gone(proc, timeout=2.0) -> bool:
    """``proc`` (a psutil.Process, not our child) ends within ``timeout`` (PR_SET_PDEATHSIG)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False


def test_stub_dies_with_supervisor(plat):
    script = (
        "import os, sys\n"
        "from umlpy.platform.physmem import PhysMem\n"
        "from umlpy.platform import get_platform\n"
        "p = get_platform(sys.argv[1], PhysMem(1 << 20))\n"
        "a = p.new_address_space()\n"
        "print(a.pid, flush=True)\n"
        "os._exit(0)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", script, plat.name], env=env,
                         capture_output=True, text=True, timeout=30, check=True)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.01)
    else:
        pytest.fail("stub %d outlived its supervisor" % pid)


def test_seccomp_kills_guest_syscall_outside_sysemu(plat):
    from ptrace.binding import func as pt
    a = new_space(plat, bytes.fromhex("b827000000") + SYSCALL)  # getpid from guest memory
    regs = pt.ptrace_getregs(a.pid)
    regs.rip = CODE
    pt.ptrace_setregs(a.pid, regs)
    pt.ptrace_cont(a.pid, 0)           # PTRACE_CONT, not SYSEMU: seccomp sees it
    info = os.waitid(os.P_PID, a.pid, os.WEXITED | os.WNOWAIT)
    assert info.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
    assert info.si_status == signal.SIGSYS
    a.release()
    assert not psutil.pid_exists(a.pid)


# --- the run loop --------------------------------------------------------------

def test_syscall_stop(plat):
    _, c, st = run(plat, SYSCALL, rax=202, rdi=1, rsi=2, rdx=3, r10=4, r8=5, r9=6)
    assert st.kind == StopKind.SYSCALL
    r = c.regs
    assert (r.orig_rax, r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9) == (202, 1, 2, 3, 4, 5, 6)
    assert r.rax == ENOSYS_RET
    assert r.rip == CODE + 2


def test_fast_path_answers_without_stop(plat):
    a = new_space(plat, GETPID_THEN_EXIT_WITH_IT)
    c = new_ctx(plat)
    c.set_fast_result(39, 1234)
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL
    assert c.regs.orig_rax == 60 and c.regs.rdi == 1234
    assert c.fast_count == 1
    # Forgotten answers go to Python again.
    c.clear_fast_results()
    c2 = new_ctx(plat)
    st = c2.switch(a)
    assert st.kind == StopKind.SYSCALL and c2.regs.orig_rax == 39 and c2.fast_count == 0


def test_fast_path_trace_ring(plat):
    a = new_space(plat, GETPID_THEN_EXIT_WITH_IT)
    c = new_ctx(plat)
    c.set_fast_result(39, 1234)
    c.enable_trace_ring(16)
    t0 = time.monotonic_ns()
    assert c.switch(a).kind == StopKind.SYSCALL
    ring = c.take_trace_ring()
    assert [(nr, ret) for nr, ret, _ in ring] == [(39, 1234)]
    assert ring[0][2] >= t0
    assert c.take_trace_ring() == []          # taking empties it
    # A full ring sends the syscall to Python.
    c2 = new_ctx(plat)
    c2.set_fast_result(39, 1234)
    c2.enable_trace_ring(0)
    assert c2.switch(a).kind == StopKind.SYSCALL and c2.regs.orig_rax == 39
    assert c2.take_trace_ring() == []


def test_fault_unmapped(plat):
    _, c, st = run(plat, STORE_UNMAPPED)
    assert st.kind == StopKind.FAULT
    assert (st.signo, st.code, st.addr, st.trap_no) == (signal.SIGSEGV, 1, UNMAPPED, 14)
    assert c.regs.rip == CODE


def test_fault_read_only(plat):
    _, _, st = run(plat, STORE_RODATA)
    assert st.kind == StopKind.FAULT
    assert (st.signo, st.code, st.addr, st.trap_no) == (signal.SIGSEGV, 2, RODATA, 14)


def test_ud2_is_sigill(plat):
    _, _, st = run(plat, UD2)
    assert st.kind == StopKind.SIGNAL
    assert (st.signo, st.addr) == (signal.SIGILL, CODE)


def test_int3_is_sigtrap(plat):
    _, _, st = run(plat, INT3)
    assert st.kind == StopKind.SIGNAL
    assert (st.signo, st.addr) == (signal.SIGTRAP, CODE + 1)


def test_interrupt_preempt_and_exit(plat):
    a = new_space(plat, LOOP)
    c = new_ctx(plat)
    hits = []
    old = signal.signal(signal.SIGALRM, lambda *_: hits.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        st = c.switch(a)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert st.kind == StopKind.INTERRUPT and hits
    a.preempt()
    st = c.switch(a)                 # still running: just waits for it
    assert st.kind == StopKind.PREEMPT and c.regs.rip == CODE
    os.kill(a.pid, signal.SIGKILL)
    st = c.switch(a)
    assert st.kind == StopKind.EXIT
    assert os.WIFSIGNALED(st.status) and os.WTERMSIG(st.status) == signal.SIGKILL
    assert a.dead
    assert c.switch(a).kind == StopKind.EXIT
    a.release()
    assert not psutil.pid_exists(a.pid)


def test_fpu_state_per_context(plat):
    a = new_space(plat, XMM0_ROUND_TRIP)
    c1, c2 = new_ctx(plat), new_ctx(plat)
    c1.regs.rax, c2.regs.rax = 0x1111, 0x2222
    assert c1.switch(a).kind == StopKind.SYSCALL and c1.regs.orig_rax == 0x1111
    assert c2.switch(a).kind == StopKind.SYSCALL and c2.regs.orig_rax == 0x2222
    assert c1.switch(a).kind == StopKind.SYSCALL and c1.regs.orig_rax == 0x1111
    assert c2.switch(a).kind == StopKind.SYSCALL and c2.regs.orig_rax == 0x2222


def test_copy_from_keeps_fpu_state(plat):
    a = new_space(plat, XMM0_ROUND_TRIP)
    c1 = new_ctx(plat)
    c1.regs.rax = 0x3333
    assert c1.switch(a).kind == StopKind.SYSCALL
    c1.save_state(a)
    c1.regs.rax = 0     # xmm0 must come from the xstate, not rax
    c2 = plat.new_context()
    c2.copy_from(c1)
    c1.regs.rip = CODE  # c1 goes elsewhere; c2 is an independent copy
    assert c2.regs.rip == CODE + 7
    assert c2.switch(a).kind == StopKind.SYSCALL and c2.regs.orig_rax == 0x3333


# --- batches -------------------------------------------------------------------

def test_batch_merges_contiguous_ops(plat):
    a = plat.new_address_space()
    for i in range(3):
        a.map(0x700000 + i * PAGE, PAGE, Prot.READ | Prot.WRITE, 3 * PAGE + i * PAGE)
    assert len(a.queue) == 1
    a.map(0x800000, PAGE, Prot.READ, 0)           # not contiguous: a second op
    assert len(a.queue) == 2
    a.flush()
    assert len(a.queue) == 0
    with open("/proc/%d/maps" % a.pid) as f:
        maps = f.read()
    assert "00700000-00703000 rw-s 00003000" in maps
    assert "00800000-00801000 r--s 00000000" in maps


def test_batch_failure_raises(plat):
    a = plat.new_address_space()
    a.protect(0x900000, PAGE, Prot.READ)          # nothing mapped there: ENOMEM
    with pytest.raises(PlatformError, match=os.strerror(errno.ENOMEM)):
        a.flush()
    # The stub survives a failed op and runs the next batch.
    a.map(0x900000, PAGE, Prot.READ, 0)
    a.flush()
    with open("/proc/%d/maps" % a.pid) as f:
        assert "00900000-00901000" in f.read()


def test_batch_first_error_is_sticky(plat):
    a = plat.new_address_space()
    a.map(0xA00000, PAGE, Prot.READ, 0)
    a.protect(0xB00000, PAGE, Prot.READ)          # fails: ENOMEM
    a.map(0xC00000, PAGE, Prot.READ, 0)           # never run
    with pytest.raises(PlatformError, match="protect"):
        a.flush()
    with open("/proc/%d/maps" % a.pid) as f:
        maps = f.read()
    assert "00a00000-00a01000" in maps and "00c00000" not in maps


def test_switch_flushes_pending_ops(plat):
    a = plat.new_address_space()
    plat.physmem.write(0, STORE_UNMAPPED)
    a.map(CODE, PAGE, Prot.READ | Prot.EXEC, 0)
    a.map(UNMAPPED, PAGE, Prot.READ | Prot.WRITE, PAGE)
    c = new_ctx(plat)
    plat.physmem.write(PAGE, b"\0" * 8)
    st = c.switch(a)                  # flush, then the store succeeds and runs off into zeroes
    assert len(a.queue) == 0
    assert int.from_bytes(plat.physmem.read(PAGE, 8), "little") == 42
    assert st.kind in (StopKind.FAULT, StopKind.SIGNAL)
