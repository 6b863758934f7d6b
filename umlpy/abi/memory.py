"""Guest address-space layout (x86-64, 4-level paging).

The top of the host's user range is reserved for the stub that realises each
guest address space (see ``umlpy/platform``); the guest may use everything
below ``TASK_SIZE``.
"""

from .stub import (STUB_CODE, STUB_CODE_SIZE, STUB_DATA, STUB_DATA_SIZE, STUB_REQ,  # noqa: F401
                   STUB_REQ_SIZE)  # (re-exported)

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
PAGE_MASK = ~(PAGE_SIZE - 1)

#: Host TASK_SIZE_MAX on x86-64 with 4-level paging.
HOST_TASK_SIZE = 0x7FFFFFFFF000

#: Start of the stub's reserved range; also the end of the guest's usable range.
#: Below the 16 GiB window in which Linux puts a new process's stack at random
#: (and a 4 GiB margin for the stack itself): the stub's text is loaded at a
#: fixed address after its stack is placed, and must never collide with it.
#: The stub's code (linked there, see csrc/stub.lds) and its control/data region
#: (mapped from the supervisor's physmem file) are declared in stub_abi.h.
STUB_BASE = STUB_CODE

#: The legacy vsyscall page (x86-64 ABI): calls to its three entry points,
#: gettimeofday, time and getcpu, are emulated (Linux's vsyscall=emulate/xonly).
VSYSCALL_ADDR = 0xFFFFFFFFFF600000
VSYSCALL_SIZE = PAGE_SIZE

#: What the guest may map: [MMAP_MIN_ADDR, TASK_SIZE).
TASK_SIZE = STUB_BASE
MMAP_MIN_ADDR = 0x10000

#: Fixed guest layout (deterministic by default; no ASLR in the guest).
STACK_TOP = STUB_BASE - 0x10000000
STACK_SIZE = 8 << 20            # RLIMIT_STACK default, mapped whole
MMAP_BASE = STACK_TOP - STACK_SIZE - (128 << 20)
ELF_ET_DYN_BASE = 0x555555554000  # where static-PIE programs are loaded


def page_align_down(x: int) -> int:
    return x & PAGE_MASK


def page_align_up(x: int) -> int:
    return (x + PAGE_SIZE - 1) & PAGE_MASK
