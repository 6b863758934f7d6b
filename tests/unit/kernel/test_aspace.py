"""kernel.aspace: switching a task's active mm keeps its FPU state and the reference counts.

The FPU test runs on both real platforms: a context loads x87, SSE and AVX
state in one stub, is switched to another stub by ``aspace.switch_mm`` and
reads the state back there.  Before switch_mm pulled the state out of the
first stub, the second one resumed the context with its own, initial, state.
"""

import types

import pytest

from umlpy.kernel import aspace
from umlpy.platform.base import Prot, StopKind

PAGE = 4096
CODE, STACK = 0x400000, 0x600000
USER_CS, USER_SS = 0x33, 0x2B

# Phase 1 (first stub): xmm0 = rax, upper half of ymm0 = rax, x87 st0 = rbx; then clear
# rax/rbx and stop at a syscall.  Phase 2 (second stub): rax = xmm0, rbx = ymm0's upper
# half, rdx = st0 popped as an integer; stop at a syscall (orig_rax = rax).
FPU_ACROSS_STUBS = bytes.fromhex(
    "66480f6ec0"        # movq %rax,%xmm0
    "c4e37d18c001"      # vinsertf128 $1,%xmm0,%ymm0,%ymm0
    "53" "df2c24" "5b"  # push %rbx; fildll (%rsp); pop %rbx
    "31c0" "31db"       # xor %eax,%eax; xor %ebx,%ebx
    "0f05"              # syscall
    "66480f7ec0"        # movq %xmm0,%rax
    "c4e37d19c101"      # vextractf128 $1,%ymm0,%xmm1
    "66480f7ecb"        # movq %xmm1,%rbx
    "4883ec08" "df3c24" "5a"  # sub $8,%rsp; fistpll (%rsp); pop %rdx
    "0f05")             # syscall


def _has_avx():
    with open("/proc/cpuinfo") as f:
        return " avx " in f.read().replace("\n", " ")


class FakeMM:
    """What aspace needs of an MM: its host, the two counts, release()."""

    def __init__(self, host):
        self.host = host
        self.users = self.holders = 0
        self.released = False

    def release(self):
        self.released = True


def _space(plat):
    a = plat.new_address_space()
    a.map(CODE, PAGE, Prot.READ | Prot.EXEC, 0)
    a.map(STACK, 2 * PAGE, Prot.READ | Prot.WRITE, 2 * PAGE)
    a.flush()
    return a


def _task(ctx, mm):
    t = types.SimpleNamespace(ctx=ctx, mm=None, home_mm=None, kernel=None,
                              group=types.SimpleNamespace(spaces=None, tasks=[]))
    aspace.attach_task(t, mm)
    return t


@pytest.mark.skipif(not _has_avx(), reason="the host CPU has no AVX")
def test_context_moved_to_another_stub_keeps_x87_sse_avx_state(plat):
    plat.physmem.write(0, FPU_ACROSS_STUBS)
    first, second = FakeMM(_space(plat)), FakeMM(_space(plat))
    ctx = plat.new_context()
    r = ctx.regs
    r.cs, r.ss, r.eflags, r.rip, r.rsp = USER_CS, USER_SS, 0x202, CODE, STACK + 2 * PAGE
    r.rax, r.rbx = 0x1122334455667788, -1234567 & ((1 << 64) - 1)
    t = _task(ctx, first)
    assert ctx.switch(first.host).kind == StopKind.SYSCALL
    assert (r.orig_rax, r.rbx) == (0, 0)   # the values now live only in the FPU state
    aspace.switch_mm(t, second)
    assert t.mm is second and t.home_mm is first
    assert ctx.switch(second.host).kind == StopKind.SYSCALL
    assert r.orig_rax == 0x1122334455667788          # SSE: xmm0
    assert r.rbx == 0x1122334455667788               # AVX: the upper half of ymm0
    assert r.rdx == -1234567 & ((1 << 64) - 1)       # x87: st0


def test_switch_counts_users_and_holders_and_releases_at_zero(plat):
    home, other = FakeMM(plat.new_address_space()), FakeMM(plat.new_address_space())
    t = _task(plat.new_context(), home)
    assert (home.users, home.holders) == (1, 1)
    aspace.get_holder(other)              # e.g. an fd naming it
    aspace.switch_mm(t, other)
    assert (home.users, home.holders, other.users, other.holders) == (0, 1, 1, 1)
    assert not home.released              # the task's home keeps it
    aspace.put_holder(other)              # the fd is closed: the running task keeps it
    assert not other.released
    aspace.switch_mm(t, home)
    assert other.released and not home.released
    aspace.detach_task(t)
    assert home.released and (home.users, home.holders) == (0, 0)


def test_exec_replaces_home_and_active(plat):
    old, new = FakeMM(plat.new_address_space()), FakeMM(plat.new_address_space())
    t = _task(plat.new_context(), old)
    aspace.exec_mm(t, new)
    assert t.mm is new and t.home_mm is new and old.released
    assert (new.users, new.holders) == (1, 1)
