"""Signal frames: setup_frame then rt_sigreturn gives back every register and the mask."""

import struct

import pytest

from kernel_helpers import DATA, M64, TEXT, fault, syscall
from umlpy.abi.memory import STACK_TOP
from umlpy.abi.regs import USER_REGS_FIELDS
from umlpy.abi.signal import SA
from umlpy.abi.syscall_nr import NR
from umlpy.kernel import sigframe
from umlpy.kernel import signals as sigs
from umlpy.kernel.restart import REGS_SET
from umlpy.kernel.task import SigAction

SIGUSR1, SIGUSR2, SIGSEGV, SIGTERM, SIGINT = 10, 12, 11, 15, 2
HANDLER, RESTORER = TEXT + 0x100, TEXT + 0x200
#: Restored by rt_sigreturn (struct sigcontext's general registers).
SC_REGS = ("r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rdi", "rsi", "rbp", "rbx",
           "rdx", "rax", "rcx", "rsp", "rip")
EFLAGS_USER = 0x50DD5


def fill_regs(regs, sp):
    """Distinct values in every register."""
    for i, f in enumerate(USER_REGS_FIELDS):
        setattr(regs, f, (0x0101010101010101 * (i + 1)) & M64)
    regs.rsp = sp
    regs.rip = TEXT + 0x42
    regs.eflags = 0x202 | 0x1 | 0x4 | 0x40 | 0x80 | 0x800   # IF + CF PF ZF SF OF
    regs.cs, regs.ss = 0x33, 0x2B
    regs.orig_rax = M64
    return regs.as_dict()


@pytest.mark.parametrize("sp", [STACK_TOP - 0x1000, STACK_TOP - 0x1008, STACK_TOP - 0x1003, STACK_TOP - 0x2468])
def test_setup_frame_then_sigreturn_restores_everything(machine, sp):
    m = machine()
    k, t = m.kernel, m.task
    before = fill_regs(t.ctx.regs, sp)
    t.sigmask = sigs.bit(SIGINT) | sigs.bit(40)
    act = SigAction(HANDLER, int(SA.SA_SIGINFO | SA.SA_RESTORER), RESTORER, sigs.bit(SIGTERM))
    sigframe.setup_frame(k, t, SIGUSR1, act, (SIGUSR1, -6, 0, 77, 0))
    r = t.ctx.regs
    # The handler runs with (signo, &info, &uc), a return address to the restorer, an ABI stack.
    assert r.rip == HANDLER
    assert (r.rdi, r.rsi, r.rdx) == (SIGUSR1, r.rdx + sigframe.UCONTEXT_SIZE, r.rsp + 8)
    assert (r.rsp + 8) % 16 == 0
    assert r.rsp + sigframe.FRAME_SIZE <= sp - 128      # below the red zone
    assert m.mm.read_u64(r.rsp) == RESTORER
    assert not r.eflags & 0x400
    signo, errno_, code = struct.unpack("<iii", m.mm.read(r.rsi, 12))
    assert (signo, errno_, code) == (SIGUSR1, 0, -6)
    assert t.sigmask == sigs.bit(SIGINT) | sigs.bit(40) | sigs.bit(SIGTERM) | sigs.bit(SIGUSR1)
    assert t.sigframes == [t.ctx.xstate]
    snapshot = t.ctx.xstate
    uc = r.rdx

    # The handler clobbers everything it can, then returns into the restorer (rsp = &uc).
    for f in SC_REGS:
        setattr(r, f, 0xDEAD)
    r.rsp = uc
    r.eflags = 0x202 | 0x400
    t.sigmask = M64 & ~sigs.UNBLOCKABLE
    assert sigframe.sigreturn(k, t) is REGS_SET

    after = r.as_dict()
    for f in SC_REGS:
        assert after[f] == before[f], f
    assert after["eflags"] == before["eflags"]
    assert (after["cs"], after["ss"]) == (0x33, 0x2B)
    assert after["orig_rax"] == M64            # no syscall restart after sigreturn
    for f in ("fs_base", "gs_base", "ds", "es", "fs", "gs"):
        assert after[f] == before[f], f
    assert t.sigmask == sigs.bit(SIGINT) | sigs.bit(40)
    assert t.ctx.restored == [snapshot]
    assert t.sigframes == []


def test_sigreturn_only_lets_user_flags_through(machine):
    m = machine()
    k, t = m.kernel, m.task
    fill_regs(t.ctx.regs, STACK_TOP - 0x1000)
    act = SigAction(HANDLER, int(SA.SA_RESTORER), RESTORER, 0)
    sigframe.setup_frame(k, t, SIGUSR2, act, (SIGUSR2, 0, 0, 0, 0))
    uc = t.ctx.regs.rdx
    # The handler rewrites the saved eflags with IOPL=3 and IF clear, and the saved mask with SIGKILL.
    sc = uc + 40
    m.mm.write_u64(sc + 17 * 8, 0x3000 | 0x1 | 0x100)
    m.mm.write_u64(uc + 40 + 256, sigs.bit(SIGUSR2) | sigs.UNBLOCKABLE)
    t.ctx.regs.rsp = uc
    t.ctx.regs.eflags = 0x202
    sigframe.sigreturn(k, t)
    assert t.ctx.regs.eflags == 0x202 | 0x1 | 0x100        # CF and TF pass, IOPL does not, IF stays
    assert t.sigmask == sigs.bit(SIGUSR2)


def test_sa_nodefer_and_resethand(machine):
    m = machine()
    k, t = m.kernel, m.task
    fill_regs(t.ctx.regs, STACK_TOP - 0x1000)
    act = SigAction(HANDLER, int(SA.SA_RESTORER | SA.SA_NODEFER | SA.SA_RESETHAND), RESTORER, 0)
    sigframe.setup_frame(k, t, SIGUSR1, act, (SIGUSR1, 0, 0, 0, 0))
    assert not t.sigmask & sigs.bit(SIGUSR1)
    assert act.handler == sigs.SIG_DFL


def test_altstack_is_used_with_sa_onstack(machine):
    m = machine()
    k, t = m.kernel, m.task
    fill_regs(t.ctx.regs, STACK_TOP - 0x1000)
    t.sigaltstack = (DATA, 0, 0x4000)
    act = SigAction(HANDLER, int(SA.SA_RESTORER | SA.SA_ONSTACK), RESTORER, 0)
    sigframe.setup_frame(k, t, SIGUSR1, act, (SIGUSR1, 0, 0, 0, 0))
    assert DATA <= t.ctx.regs.rsp < DATA + 0x4000
    ss_sp, ss_flags, ss_size = struct.unpack_from("<Qi4xQ", m.mm.read(t.ctx.regs.rdx + 16, 24))
    assert (ss_sp, ss_flags, ss_size) == (DATA, 1, 0x4000)     # SS_ONSTACK


def test_unwritable_stack_kills_with_sigsegv(machine):
    m = machine()
    k, t = m.kernel, m.task
    fill_regs(t.ctx.regs, 0x20000)           # nothing mapped there
    act = SigAction(HANDLER, int(SA.SA_RESTORER), RESTORER, 0)
    sigframe.setup_frame(k, t, SIGUSR1, act, (SIGUSR1, 0, 0, 0, 0))
    assert t.group.zombie and t.group.exit_status == SIGSEGV


def test_signal_round_trip_through_the_run_loop(machine):
    """kill(self) with a handler installed: the guest enters the handler, rt_sigreturn resumes it."""
    m = machine()
    mm = m.mm
    ksa = struct.pack("<QQQQ", HANDLER, int(SA.SA_SIGINFO | SA.SA_RESTORER), RESTORER, sigs.bit(SIGTERM))
    mm.write(DATA, ksa)
    state = {}

    def in_handler(regs):
        assert regs.rip == HANDLER and regs.rdi == SIGUSR1
        assert mm.read_u64(regs.rsp) == RESTORER
        for f in ("rbx", "r12", "r15", "rdx", "rcx", "r11", "rbp"):
            setattr(regs, f, 0xBAD)
        regs.rsp += 8                          # ret into the restorer
        regs.rip = RESTORER

    def after_return(regs):
        want = dict(state["regs"], rax=0, orig_rax=M64)   # kill returned 0; no restart
        want["rip"] = state["regs"]["rip"]
        assert regs.as_dict() == want
        assert m.task.sigmask == 0

    def kill_self(regs):
        stop = syscall(NR.kill, 1, SIGUSR1)(regs)
        state["regs"] = regs.as_dict()
        return stop

    def set_regs(regs):
        for i, f in enumerate(("rbx", "rbp", "r12", "r13", "r14", "r15", "rcx", "r11")):
            setattr(regs, f, 0x1000 + i)
        return syscall(NR.rt_sigaction, SIGUSR1, DATA, 0, 8)(regs)

    status = m.run(set_regs,
                   kill_self,
                   syscall(NR.rt_sigreturn, check=in_handler),
                   syscall(NR.exit_group, 5, check=after_return))
    assert status == 5 << 8
    seen = m.ctx.seen
    assert seen[1]["rax"] == 0            # rt_sigaction
    assert seen[2]["rip"] == HANDLER      # delivered on the way back from kill
    assert seen[3]["rax"] == 0            # kill's result, restored by sigreturn
    assert len(m.ctx.restored) == 1 and m.task.sigframes == []


def test_blocked_signal_waits_for_sigprocmask(machine):
    m = machine()
    mm = m.mm
    mm.write(DATA, struct.pack("<QQQQ", HANDLER, int(SA.SA_RESTORER), RESTORER, 0))
    mm.write_u64(DATA + 64, sigs.bit(SIGUSR1))
    m.run(syscall(NR.rt_sigaction, SIGUSR1, DATA, 0, 8),
          syscall(NR.rt_sigprocmask, 0, DATA + 64, 0, 8),           # SIG_BLOCK
          syscall(NR.kill, 1, SIGUSR1),
          syscall(NR.rt_sigprocmask, 1, DATA + 64, 0, 8),           # SIG_UNBLOCK: delivered now
          syscall(NR.exit_group, 0))
    seen = m.ctx.seen
    assert seen[3]["rip"] != HANDLER
    assert seen[4]["rip"] == HANDLER and seen[4]["rdi"] == SIGUSR1


def test_default_action_of_sigterm_kills(machine):
    m = machine()
    assert m.run(syscall(NR.kill, 1, SIGTERM)) == SIGTERM


def test_segv_with_a_handler_enters_it(machine):
    m = machine()
    mm = m.mm
    mm.write(DATA, struct.pack("<QQQQ", HANDLER, int(SA.SA_SIGINFO | SA.SA_RESTORER), RESTORER, 0))
    got = {}

    def in_handler(regs):
        got["regs"] = regs.as_dict()
        got["info"] = mm.read(regs.rsi, 24)
        got["trapno"] = mm.read_u64(regs.rdx + 40 + 8 * 18 + 8 + 8)   # uc_mcontext: after cs..ss, err
    status = m.run(syscall(NR.rt_sigaction, SIGSEGV, DATA, 0, 8), fault(0x30000, is_write=1, code=1),
                   syscall(NR.exit_group, 9, check=in_handler))
    assert status == 9 << 8
    assert got["regs"]["rip"] == HANDLER and got["regs"]["rdi"] == SIGSEGV
    signo, _, code = struct.unpack_from("<iii", got["info"])
    addr = struct.unpack_from("<Q", got["info"], 16)[0]
    assert (signo, code, addr) == (SIGSEGV, 1, 0x30000)
    assert got["trapno"] == 14
