"""Typed access to a system call's six arguments, by slot (proot's SYSARG_n).

The x86-64 system-call convention: the arguments are in rdi, rsi, rdx, r10,
r8 and r9, and the result goes back in rax.  Registers hold unsigned 64-bit
values; the kernel's dispatcher, the handlers and the tracer read them
through these accessors so that a sign or width is never guessed twice.
"""

from .fcntl import AT_FDCWD

_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


class SysArgs(tuple):
    """The six raw argument registers: rdi, rsi, rdx, r10, r8, r9."""

    __slots__ = ()

    @classmethod
    def from_regs(cls, regs):
        return tuple.__new__(cls, (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9))

    def u64(self, i):
        return self[i]

    def s64(self, i):
        v = self[i]
        return v - (1 << 64) if v & (1 << 63) else v

    def u32(self, i):
        return self[i] & _M32

    def s32(self, i):
        v = self[i] & _M32
        return v - (1 << 32) if v & (1 << 31) else v

    # Names that say what the slot is.
    ptr = u64
    size = u64
    fd = s32
    int = s32
    uint = u32
    flags = u32
    long = s64
    ulong = u64

    def dirfd(self, i):
        """A dirfd argument: AT_FDCWD or an fd (ints are 32-bit in the ABI)."""
        return self.s32(i)


def to_u64(value: int) -> int:
    """A handler's return value as the register sees it (-errno wraps)."""
    return value & _M64


assert AT_FDCWD == -100
