"""ptrace(2) requests, options, events and structures (uapi ``linux/ptrace.h``,
``asm/ptrace-abi.h`` for x86, ``linux/elf.h`` for the regset notes, ``sys/user.h``
for struct user).  The SKAS3 requests are in :mod:`umlpy.abi.extensions`."""

import enum

from .regs import USER_REGS_SIZE


class Req(enum.IntEnum):
    """Requests (include/uapi/linux/ptrace.h, arch/x86/include/uapi/asm/ptrace-abi.h)."""

    PTRACE_TRACEME = 0
    PTRACE_PEEKTEXT = 1
    PTRACE_PEEKDATA = 2
    PTRACE_PEEKUSR = 3
    PTRACE_POKETEXT = 4
    PTRACE_POKEDATA = 5
    PTRACE_POKEUSR = 6
    PTRACE_CONT = 7
    PTRACE_KILL = 8
    PTRACE_SINGLESTEP = 9
    PTRACE_GETREGS = 12
    PTRACE_SETREGS = 13
    PTRACE_GETFPREGS = 14
    PTRACE_SETFPREGS = 15
    PTRACE_ATTACH = 16
    PTRACE_DETACH = 17
    PTRACE_GETFPXREGS = 18
    PTRACE_SETFPXREGS = 19
    PTRACE_SYSCALL = 24
    PTRACE_GET_THREAD_AREA = 25
    PTRACE_SET_THREAD_AREA = 26
    PTRACE_ARCH_PRCTL = 30
    PTRACE_SYSEMU = 31
    PTRACE_SYSEMU_SINGLESTEP = 32
    PTRACE_SINGLEBLOCK = 33
    PTRACE_SETOPTIONS = 0x4200
    PTRACE_GETEVENTMSG = 0x4201
    PTRACE_GETSIGINFO = 0x4202
    PTRACE_SETSIGINFO = 0x4203
    PTRACE_GETREGSET = 0x4204
    PTRACE_SETREGSET = 0x4205
    PTRACE_SEIZE = 0x4206
    PTRACE_INTERRUPT = 0x4207
    PTRACE_LISTEN = 0x4208
    PTRACE_PEEKSIGINFO = 0x4209
    PTRACE_GETSIGMASK = 0x420A
    PTRACE_SETSIGMASK = 0x420B
    PTRACE_SECCOMP_GET_FILTER = 0x420C
    PTRACE_SECCOMP_GET_METADATA = 0x420D
    PTRACE_GET_SYSCALL_INFO = 0x420E
    PTRACE_GET_RSEQ_CONFIGURATION = 0x420F


globals().update({r.name: r for r in Req})


class Opt(enum.IntFlag):
    """PTRACE_SETOPTIONS bits."""

    PTRACE_O_TRACESYSGOOD = 1
    PTRACE_O_TRACEFORK = 1 << 1
    PTRACE_O_TRACEVFORK = 1 << 2
    PTRACE_O_TRACECLONE = 1 << 3
    PTRACE_O_TRACEEXEC = 1 << 4
    PTRACE_O_TRACEVFORKDONE = 1 << 5
    PTRACE_O_TRACEEXIT = 1 << 6
    PTRACE_O_TRACESECCOMP = 1 << 7
    PTRACE_O_EXITKILL = 1 << 20
    PTRACE_O_SUSPEND_SECCOMP = 1 << 21


globals().update({o.name: o for o in Opt})
PTRACE_O_MASK = int(0x000000FF | PTRACE_O_EXITKILL | PTRACE_O_SUSPEND_SECCOMP)


class Event(enum.IntEnum):
    """Events, in status >> 16 of a ptrace stop."""

    PTRACE_EVENT_FORK = 1
    PTRACE_EVENT_VFORK = 2
    PTRACE_EVENT_CLONE = 3
    PTRACE_EVENT_EXEC = 4
    PTRACE_EVENT_VFORK_DONE = 5
    PTRACE_EVENT_EXIT = 6
    PTRACE_EVENT_SECCOMP = 7
    PTRACE_EVENT_STOP = 128


globals().update({e.name: e for e in Event})

#: struct ptrace_peeksiginfo_args.flags: the process's queue instead of the thread's.
PTRACE_PEEKSIGINFO_SHARED = 1

#: struct ptrace_syscall_info.op
PTRACE_SYSCALL_INFO_NONE = 0
PTRACE_SYSCALL_INFO_ENTRY = 1
PTRACE_SYSCALL_INFO_EXIT = 2
PTRACE_SYSCALL_INFO_SECCOMP = 3
#: sizeof(struct ptrace_syscall_info) up to the end of each op's member.
SYSCALL_INFO_HEAD = 24            # op, pad, arch, instruction_pointer, stack_pointer
SYSCALL_INFO_SIZE = {PTRACE_SYSCALL_INFO_NONE: 24, PTRACE_SYSCALL_INFO_ENTRY: 24 + 56,
                     PTRACE_SYSCALL_INFO_EXIT: 24 + 9, PTRACE_SYSCALL_INFO_SECCOMP: 24 + 60}
AUDIT_ARCH_X86_64 = 0xC000003E

#: ELF note types of PTRACE_GETREGSET/SETREGSET (linux/elf.h).
NT_PRSTATUS = 1
NT_PRFPREG = 2
NT_X86_XSTATE = 0x202

#: struct user (sys/user.h): regs, u_fpvalid, i387, ..., u_debugreg[8]; sizeof 912.
USER_DEBUGREG_OFFSET = 848
USER_SIZE = 912
assert USER_REGS_SIZE == 216
#: The fxsave area (struct user_fpregs_struct).
FXSAVE_SIZE = 512
#: x86 eflags: the trap flag, and the bits a tracer may change (arch/x86/kernel/ptrace.c FLAG_MASK).
X86_EFLAGS_TF = 0x100
FLAG_MASK = 0x50DD5
#: si_code of a SIGTRAP: breakpoint, single step (TRAP_TRACE).
TRAP_BRKPT = 1
TRAP_TRACE = 2
#: The stop status's "syscall stop" bit with PTRACE_O_TRACESYSGOOD.
SYSGOOD_BIT = 0x80
