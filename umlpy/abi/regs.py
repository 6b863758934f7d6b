"""x86-64 ``struct user_regs_struct`` (sys/user.h; PTRACE_GETREGS layout)."""

from .cstruct import CStruct

#: Field order of struct user_regs_struct, all unsigned long.
USER_REGS_FIELDS = (
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
    "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
    "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
)

USER_REGS_COUNT = len(USER_REGS_FIELDS)   # 27
USER_REGS_SIZE = 8 * USER_REGS_COUNT      # 216

#: Index of each register in the array of 27 unsigned longs.
REG_INDEX: dict[str, int] = {name: i for i, name in enumerate(USER_REGS_FIELDS)}
#: Byte offset of each register (PTRACE_PEEKUSER offsets into struct user).
REG_OFFSET: dict[str, int] = {name: 8 * i for i, name in enumerate(USER_REGS_FIELDS)}

USER_REGS = CStruct("user_regs_struct", [(name, "Q") for name in USER_REGS_FIELDS])

#: Registers holding syscall arguments 1..6, in order (SYSARG_1 .. SYSARG_6).
SYSCALL_ARG_REGS = ("rdi", "rsi", "rdx", "r10", "r8", "r9")

#: 64-bit user code and data/stack segment selectors (arch/x86/include/asm/segment.h
#: ``__USER_CS``, ``__USER_DS``), what cs and ss hold in a 64-bit task.
USER_CS = 0x33
USER_DS = 0x2B
USER_SS = USER_DS

assert USER_REGS.size == USER_REGS_SIZE == 216
