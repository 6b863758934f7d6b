"""What the run loop makes of everything that can stop a stub, on both platforms.

Host signals sent to a stub by others are dropped (never the guest's
signals, never the end of anything); the supervisor's own SIGSTOP ends a
time slice; the mapper's batches survive signals and report its death; the
entries other than ``syscall`` (int $0x80, the vsyscall page) are told apart;
a page fault's access kind comes from the CPU; released stubs come back from
the pool blank.  Guest code is hand-assembled, as in test_platform.py.
"""

import ctypes
import errno
import os
import signal
import struct
import time

import psutil
import pytest

from umlpy.abi.memory import VSYSCALL_ADDR
from umlpy.abi.regs import USER_CS, USER_SS
from umlpy.abi.stub import STUB_SLOT_SIZE
from umlpy.errors import PlatformError
from umlpy.platform.base import Entry, Prot, StopKind

PAGE = 4096
CODE = 0x400000          # physmem offset 0, r-x
RODATA = 0x500000        # physmem offset PAGE, r--
STACK = 0x600000         # physmem offsets 2*PAGE, 3*PAGE, rw-
UNMAPPED = 0x10000000
SYSCALL = bytes.fromhex("0f05")
LOOP = bytes.fromhex("ebfe")                                   # jmp .
INT80_GETPID = bytes.fromhex("b814000000" "cd80")              # mov $20,%eax; int $0x80
STORE_RODATA = bytes.fromhex("48c70425" "00005000" "2a000000")  # movq $42, 0x500000
# movq %rax,%xmm0; mov 0x10000000,%rbx; movq %xmm0,%rax; syscall
LOAD_UNMAPPED_KEEP_XMM0 = bytes.fromhex("66480f6ec0" "488b1c25" "00000010" "66480f7ec0" "0f05")
JUMP_TO_RODATA = bytes.fromhex("48b8" "0000500000000000" "ffe0")   # movabs $RODATA,%rax; jmp *%rax
XMM0_TO_RAX_SYSCALL = bytes.fromhex("66480f7ec0" "0f05")


def call_vsyscall(offset):
    """movabs $(VSYSCALL_ADDR + offset), %rax; call *%rax (12 bytes)."""
    return b"\x48\xb8" + struct.pack("<Q", VSYSCALL_ADDR + offset) + b"\xff\xd0"


def new_space(plat, code):
    a = plat.new_address_space()
    plat.physmem.write(0, code.ljust(PAGE, b"\xcc"))
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


class Alarm:
    """SIGALRM after ``seconds`` (the supervisor's time slice, as in the kernel)."""

    def __init__(self, seconds=0.05):
        self.seconds = seconds

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, lambda *_: None)
        signal.setitimer(signal.ITIMER_REAL, self.seconds, self.seconds)
        return self

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)


def _tgkill(pid, sig):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.syscall(234, pid, pid, sig) == 0        # tgkill: si_code SI_TKILL


def _sigqueue(pid, sig):
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.sigqueue(pid, sig, ctypes.c_void_p(7)) == 0   # si_code SI_QUEUE


def spin_then_interrupt(c, a):
    """Run the looping guest until the alarm interrupts the supervisor's wait."""
    with Alarm():
        st = c.switch(a)
    assert st.kind == StopKind.INTERRUPT
    return st


# --- host signals --------------------------------------------------------------

HOST_SIGNALS = [signal.SIGUSR1, signal.SIGWINCH, signal.SIGCONT, signal.SIGSTOP, signal.SIGTSTP,
                signal.SIGTTIN, signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGCHLD,
                signal.SIGPIPE, signal.SIGRTMIN, signal.SIGSEGV, signal.SIGTRAP, signal.SIGSYS,
                signal.SIGILL, signal.SIGBUS, signal.SIGFPE]


@pytest.mark.parametrize("how", ["kill", "tgkill", "sigqueue"])
@pytest.mark.parametrize("signo", HOST_SIGNALS, ids=[signal.Signals(s).name for s in HOST_SIGNALS])
def test_host_signal_to_running_stub_is_dropped(plat, signo, how):
    a = new_space(plat, LOOP)
    c = new_ctx(plat)
    spin_then_interrupt(c, a)
    {"kill": os.kill, "tgkill": _tgkill, "sigqueue": _sigqueue}[how](a.pid, signo)
    # The guest keeps running: only the supervisor's own SIGSTOP stops it.
    spin_then_interrupt(c, a)
    assert psutil.Process(a.pid).status() != psutil.STATUS_STOPPED
    a.preempt()
    st = c.switch(a)
    assert st.kind == StopKind.PREEMPT and c.regs.rip == CODE
    assert not a.dead
    # Nothing was left pending for the guest either: it goes on looping.
    spin_then_interrupt(c, a)


def test_signal_while_stopped_between_switches(plat):
    # Sent while the stub sits at a syscall stop, seen at the next resume: dropped too.
    a = new_space(plat, SYSCALL + LOOP)
    c = new_ctx(plat)
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL
    for s in (signal.SIGSEGV, signal.SIGSTOP, signal.SIGUSR1, signal.SIGCONT):
        os.kill(a.pid, s)
    spin_then_interrupt(c, a)
    assert a.host_signals >= 1          # SIGSEGV reached the tracer and was dropped (SIGCONT
    #                                     discarded the pending SIGSTOP, as Linux does)
    a.preempt()
    assert c.switch(a).kind == StopKind.PREEMPT and c.regs.rip == CODE + 2


def test_stale_preempt_is_dropped(plat):
    # A preempt that lands after the guest stopped on its own does not stop the next run.
    a = new_space(plat, SYSCALL + LOOP)
    c = new_ctx(plat)
    a.preempt()                         # pending when the guest makes its syscall
    st = c.switch(a)
    assert st.kind in (StopKind.SYSCALL, StopKind.PREEMPT)
    if st.kind == StopKind.PREEMPT:
        st = c.switch(a)
    assert st.kind == StopKind.SYSCALL
    spin_then_interrupt(c, a)           # the old SIGSTOP did not end this run


# --- batches and the mapper -------------------------------------------------------

def mapper_of(a):
    (m,) = psutil.Process(a.pid).children()
    return m


@pytest.mark.parametrize("signo", [signal.SIGSTOP, signal.SIGUSR1, signal.SIGCONT, signal.SIGTSTP,
                                   signal.SIGSEGV, signal.SIGWINCH])
def test_batch_survives_signals_to_mapper(plat, signo):
    a = new_space(plat, LOOP)
    m = mapper_of(a)
    os.kill(m.pid, signo)
    a.map(0x700000, PAGE, Prot.READ, 0)
    a.flush()                   # a stopped mapper is told SIGCONT and goes on
    with open("/proc/%d/maps" % a.pid) as f:
        assert "00700000-00701000 r--s" in f.read()
    assert m.status() != psutil.STATUS_ZOMBIE


def test_batch_survives_signals_to_stub(plat):
    a = new_space(plat, LOOP)
    for s in (signal.SIGSTOP, signal.SIGUSR1, signal.SIGCONT, signal.SIGWINCH):
        os.kill(a.pid, s)
        a.map(0x700000, PAGE, Prot.READ, 0)
        a.flush()
        a.unmap(0x700000, PAGE)
        a.flush()


def test_dead_mapper_fails_the_batch_and_the_stub_only(plat):
    a = new_space(plat, LOOP)
    b = new_space(plat, SYSCALL)
    os.kill(mapper_of(a).pid, signal.SIGKILL)
    a.map(0x700000, PAGE, Prot.READ, 0)
    c = new_ctx(plat)
    st = c.switch(a)                    # the batch before the run fails: that stub is done for
    assert st.kind == StopKind.EXIT and st.err
    assert a.dead
    assert new_ctx(plat).switch(b).kind == StopKind.SYSCALL     # the others go on


def test_failed_op_is_reported(plat):
    a = plat.new_address_space()
    a.protect(0x900000, PAGE, Prot.READ)          # nothing mapped there: ENOMEM
    with pytest.raises(PlatformError, match=os.strerror(errno.ENOMEM)):
        a.flush()


# --- entries -----------------------------------------------------------------------

def test_int80_is_its_own_entry(plat):
    a = new_space(plat, INT80_GETPID + SYSCALL)
    c = new_ctx(plat)
    c.set_fast_result(20, 999)          # x86-64 writev: the fast path must not take it
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL and st.entry == c.entry == Entry.INT80
    assert c.regs.orig_rax == 20 and c.regs.rip == CODE + 7
    c.regs.rax = 0
    c.regs.orig_rax = 0                 # the next: an ordinary syscall, read(0)
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL and st.entry == c.entry == Entry.SYSCALL
    assert c.regs.rip == CODE + 9


@pytest.mark.parametrize("offset,nr", [(0, 96), (0x400, 201), (0x800, 309)])
def test_vsyscall_call_is_a_syscall_stop(plat, offset, nr):
    a = new_space(plat, call_vsyscall(offset))
    c = new_ctx(plat)
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL and c.entry == Entry.VSYSCALL
    r = c.regs
    assert r.rip == VSYSCALL_ADDR + offset and r.orig_rax == nr
    assert r.rsp == STACK + 2 * PAGE - 8
    ret = int.from_bytes(plat.physmem.read(2 * PAGE + (r.rsp - STACK), 8), "little")
    assert ret == CODE + 12             # the return address, as at the call's target
    # The kernel emulates the ret: the guest goes on after its call.
    r.rax, r.rip, r.rsp = 0, ret, r.rsp + 8
    a2 = c.switch(a)
    assert a2.kind in (StopKind.FAULT, StopKind.SIGNAL) and c.regs.rip >= CODE + 12   # int3 padding


# --- fault access kind ---------------------------------------------------------------

def test_write_fault_is_a_write(plat):
    a = new_space(plat, STORE_RODATA)
    c = new_ctx(plat)
    st = c.switch(a)
    assert st.kind == StopKind.FAULT and st.addr == RODATA and st.is_write == -1
    assert c.fault_access(a, st) == 1 and st.is_write == 1 and st.trap_no == 14
    assert c.fault_access(a, st) == 1   # asked once, remembered


def test_read_fault_keeps_the_guest_state(plat):
    a = new_space(plat, LOAD_UNMAPPED_KEEP_XMM0)
    c = new_ctx(plat)
    c.regs.rax = 0x1234
    st = c.switch(a)
    assert st.kind == StopKind.FAULT and st.addr == UNMAPPED
    assert c.fault_access(a, st) == 0
    # Registers and FPU state are the guest's again: map the page, go on.
    a.map(UNMAPPED, PAGE, Prot.READ, 3 * PAGE)
    st = c.switch(a)
    assert st.kind == StopKind.SYSCALL and c.regs.orig_rax == 0x1234
    assert c.regs.rip == CODE + len(LOAD_UNMAPPED_KEEP_XMM0)


def test_fetch_fault_is_not_a_write(plat):
    a = new_space(plat, JUMP_TO_RODATA)
    c = new_ctx(plat)
    st = c.switch(a)
    assert st.kind == StopKind.FAULT and st.addr == RODATA and c.regs.rip == RODATA
    assert c.fault_access(a, st) == 0


def test_fault_access_after_signal_to_stub(plat):
    # Host signals arriving while the handler is asked are dropped too.
    a = new_space(plat, STORE_RODATA)
    c = new_ctx(plat)
    st = c.switch(a)
    os.kill(a.pid, signal.SIGUSR1)
    os.kill(a.pid, signal.SIGSEGV)
    assert c.fault_access(a, st) == 1


# --- the pool ------------------------------------------------------------------------

def test_released_stub_comes_back_blank(plat):
    a = new_space(plat, XMM0_TO_RAX_SYSCALL)
    c = new_ctx(plat, rip=CODE)
    c.regs.rax = 0xABCD
    # Leave xmm0 = 0xABCD in the stub (movq %rax,%xmm0 is the first instruction here).
    plat.physmem.write(0, bytes.fromhex("66480f6ec0") + SYSCALL)
    assert c.switch(a).kind == StopKind.SYSCALL
    pid, slot = a.pid, a.proc.slot
    plat.physmem.write(slot, b"\xff" * 64)          # as if the last guest had scribbled there
    a.release()
    b = plat.new_address_space()
    assert b.pid == pid                             # reused, not spawned
    with open("/proc/%d/maps" % pid) as f:
        assert not [line for line in f if int(line.split("-")[0], 16) < 0x7FFB00000000]
    assert plat.physmem.read(slot, STUB_SLOT_SIZE) == bytes(STUB_SLOT_SIZE)
    plat.physmem.write(0, XMM0_TO_RAX_SYSCALL)
    b.map(CODE, PAGE, Prot.READ | Prot.EXEC, 0)
    b.map(STACK, 2 * PAGE, Prot.READ | Prot.WRITE, 2 * PAGE)
    c2 = new_ctx(plat)
    c2.regs.rax = 0x5555
    assert c2.switch(b).kind == StopKind.SYSCALL
    assert c2.regs.orig_rax == 0                    # xmm0 is back to its initial value


def test_pool_started_ahead_and_killed_at_close(plat):
    plat.idle()
    ahead = [p.pid for p in plat.pool.spawned]
    assert len(ahead) >= 2
    a = plat.new_address_space()
    assert a.pid == ahead[0]                        # fork/exec take a stub that was ready
    plat.close()
    deadline = time.monotonic() + 2
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE
              for p in ahead) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not [p for p in ahead if psutil.pid_exists(p)]


POOL_THEN_DIE = """
import os, sys, time
from umlpy.platform.physmem import PhysMem
from umlpy.platform import get_platform
p = get_platform(sys.argv[1], PhysMem(1 << 20))
p.idle()                                   # stubs started ahead
a = p.new_address_space()
b = p.new_address_space()
b.release()                                # one waiting in the pool, reset
p.idle()                                   # and one started ahead, never attached
time.sleep(0.2)
print(os.getpid(), flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_no_stub_outlives_the_supervisor(plat, how):
    # Stubs in use, started ahead (never attached) and recycled, and their mappers.
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, "-c", POOL_THEN_DIE, plat.name], env=env,
                            stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        pid = int(proc.stdout.readline())
        stubs = psutil.Process(pid).children(recursive=True)
        assert len(stubs) >= 6              # 3 stubs (in use, recycled, ahead) and their mappers
        proc.send_signal(getattr(signal, how))
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 3
    left = stubs
    while left and time.monotonic() < deadline:
        left = [s for s in left if s.is_running() and s.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.02)
    assert not left, left
