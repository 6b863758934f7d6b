"""Kernel.run and Kernel.syscall on a scripted fake platform: errors, ENOSYS, exit, faults."""

import errno

import pytest

from kernel_helpers import DATA, M64, ScriptExhausted, TEXT, fault, syscall
from umlpy.abi.syscall_nr import NR
from umlpy.errors import SyscallError
from umlpy.kernel.restart import REGS_SET
from umlpy.platform.base import Stop, StopKind
from umlpy.syscalls.table import build_table, supported

SIGSEGV, SIGKILL = 11, 9


def neg(e):
    return (-e) & M64


def test_exit_group_ends_the_run_with_its_status(machine):
    m = machine()
    assert m.run(syscall(NR.exit_group, 3)) == 3 << 8
    assert m.kernel.init.zombie
    assert m.ctx.script == []


@pytest.mark.parametrize("code,status", [(0, 0), (255, 0xFF00), (256, 0), (257, 0x100), (-1, 0xFF00)])
def test_exit_group_status_keeps_the_low_byte(machine, code, status):
    m = machine()
    assert m.run(syscall(NR.exit_group, code)) == status


def test_exit_of_the_only_thread_ends_the_run(machine):
    m = machine()
    assert m.run(syscall(NR.exit, 7)) == 7 << 8


def test_exit_releases_the_address_space(machine):
    m = machine()
    m.run(syscall(NR.exit_group, 0))
    assert m.mm.released
    assert m.mm.host.released


def test_syscall_error_becomes_minus_errno_unsigned(machine):
    m = machine()
    m.run(syscall(NR.close, 1234), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == neg(errno.EBADF)


def test_handler_result_lands_in_rax(machine):
    m = machine()
    m.run(syscall(NR.getpid), syscall(NR.gettid), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == 1
    assert m.ctx.seen[2]["rax"] == 1


@pytest.mark.parametrize("err", [errno.EPERM, errno.EFAULT, errno.ENOSYS, 133, 4095])
def test_every_errno_is_negated_in_rax(machine, err):
    def fails(t, a):
        raise SyscallError(err)

    def exit_group(t, a):
        t.kernel.exit_group(t, a.int(0))
        return REGS_SET

    m = machine(build_table([supported("getpid", fails), supported("exit_group", exit_group)]))
    m.run(syscall(NR.getpid), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == neg(err)


def test_negative_return_values_are_stored_unsigned(machine):
    def minus_five(t, a):
        return -5

    def exit_group(t, a):
        t.kernel.exit_group(t, a.int(0))
        return REGS_SET

    m = machine(build_table([supported("getpid", minus_five), supported("exit_group", exit_group)]))
    m.run(syscall(NR.getpid), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == M64 - 4


def test_handlers_get_the_six_argument_registers(machine):
    got = []

    def record(t, a):
        got.append(tuple(a))
        return 0

    def exit_group(t, a):
        t.kernel.exit_group(t, a.int(0))
        return REGS_SET

    m = machine(build_table([supported("getpid", record), supported("exit_group", exit_group)]))
    m.run(syscall(NR.getpid, 1, 2, 3, 4, 5, M64), syscall(NR.exit_group, 0))
    assert got == [(1, 2, 3, 4, 5, M64)]


@pytest.mark.parametrize("nr", [500, 999, 1 << 40, M64, 335])
def test_unknown_syscall_gives_enosys(machine, nr):
    m = machine()
    m.run(syscall(nr), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == neg(errno.ENOSYS)
    assert m.kernel.init.exit_status == 0     # the guest is not killed for it


def test_enosys_row_gives_enosys(machine, table):
    from umlpy.syscalls.table import Support
    row = next(r for r in table if r.support == Support.ENOSYS)
    m = machine()
    m.run(syscall(row.nr), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == neg(errno.ENOSYS)


def test_registers_other_than_rax_survive_a_syscall(machine):
    m = machine()

    def setup(regs):
        for i, name in enumerate(("rbx", "rbp", "r12", "r13", "r14", "r15", "r8", "r9", "r10", "rdx")):
            setattr(regs, name, 0x1111 * (i + 1))
        return syscall(NR.getppid)(regs)
    m.run(setup, syscall(NR.exit_group, 0))
    before, after = m.ctx.seen[0], m.ctx.seen[1]
    assert after["rax"] == 0
    assert after["rbx"] == 0x1111 and after["r15"] == 0x6666
    assert after["rip"] == before["rip"] + 2


def test_fault_at_an_unmapped_address_kills_with_sigsegv(machine):
    m = machine()
    assert m.run(fault(0x1000)) == SIGSEGV
    assert m.kernel.init.zombie
    assert m.kernel.tasks == {}


@pytest.mark.parametrize("addr", [0, 0x10000, DATA - 8, 0x7FFFF0000000, 1 << 63])
def test_fault_outside_any_vma_is_sigsegv(machine, addr):
    m = machine()
    assert m.run(fault(addr, is_write=1)) == SIGSEGV


def test_write_fault_on_read_only_text_is_sigsegv(machine):
    m = machine()
    assert m.run(fault(TEXT, is_write=1, code=2)) == SIGSEGV


def test_fault_on_a_mapped_page_is_resolved_and_the_guest_goes_on(machine):
    m = machine()
    assert m.run(fault(DATA + 0x10, is_write=1), syscall(NR.exit_group, 4)) == 4 << 8
    assert (DATA >> 12) in m.mm.pages or m.mm.released


def test_trap_with_default_action_kills(machine):
    m = machine()
    assert m.run(Stop(StopKind.SIGNAL, signo=4, code=2, addr=TEXT)) == 4     # SIGILL


def test_stub_death_kills_the_guest_with_sigkill(machine, capfd):
    m = machine()
    assert m.run(Stop(StopKind.EXIT, status=9)) == SIGKILL
    assert "umlpy:" in capfd.readouterr().err


def test_preempt_and_interrupt_stops_continue(machine):
    m = machine()
    assert m.run(Stop(StopKind.PREEMPT), Stop(StopKind.INTERRUPT), syscall(NR.exit_group, 2)) == 2 << 8


def test_write_to_stdout_reaches_the_console(machine):
    m = machine()
    m.mm.write(DATA, b"hi there\n")
    m.run(syscall(NR.write, 1, DATA, 9), syscall(NR.exit_group, 0))
    assert bytes(m.out) == b"hi there\n"
    assert m.ctx.seen[1]["rax"] == 9


def test_bad_pointer_gives_efault_not_an_exception(machine):
    m = machine()
    m.run(syscall(NR.write, 1, 0x1000, 9), syscall(NR.write, 1, (1 << 64) - 4096, 9), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == neg(errno.EFAULT)
    assert m.ctx.seen[2]["rax"] == neg(errno.EFAULT)


def test_identity_fast_results_are_published(machine):
    m = machine()
    assert m.ctx.fast[int(NR.getpid)] == 1
    assert m.ctx.fast[int(NR.getuid)] == 0
    assert m.ctx.fast[int(NR.getppid)] == 0


def test_running_past_the_script_is_detected(machine):
    """Sanity check of the fake itself: the kernel keeps running the guest until told to stop."""
    m = machine()
    with pytest.raises(ScriptExhausted):
        m.run(syscall(NR.getpid))
