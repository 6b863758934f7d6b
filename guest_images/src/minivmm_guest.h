/*
 * The small program both minivmm flavours run as their guest: three writes of
 * its greeting, a getpid (its answer kept in r13), a load from an unmapped
 * page at MINIVMM_FAULT_ADDR (the VMM maps a page holding 7 there and
 * resumes), then exit with the loaded value.  Position-independent bytes
 * between guest_start and guest_end, copied into the guest's address space.
 *
 * Define MINIVMM_GREETING (a string literal for an .ascii directive) first.
 *
 * A second program, for the benchmark (tools/bench_vmm.py), between loop_start and
 * loop_end: r12 getppid calls (r12 set by the VMM), then exit(0), the same loop as
 * guest_images/src/getppid_loop.c runs directly.
 */
#ifndef MINIVMM_GUEST_H
#define MINIVMM_GUEST_H

#define MINIVMM_CODE_ADDR  0x10000000UL
#define MINIVMM_STACK_ADDR 0x20000000UL
#define MINIVMM_STACK_SIZE 0x10000UL
#define MINIVMM_FAULT_ADDR 0x30000000UL

extern const char guest_start[], guest_end[], loop_start[], loop_end[];
__asm__(
    ".pushsection .rodata\n"
    "guest_start:\n"
    "  mov $3, %r12d\n"
    "1:lea msg(%rip), %rsi\n"
    "  mov $1, %edi\n"
    "  mov $msg_len, %edx\n"
    "  mov $1, %eax\n"            /* write(1, msg, len) */
    "  syscall\n"
    "  dec %r12d\n"
    "  jnz 1b\n"
    "  mov $39, %eax\n"           /* getpid() */
    "  syscall\n"
    "  mov %rax, %r13\n"
    "  mov $0x30000000, %rbx\n"
    "  mov (%rbx), %rdi\n"        /* faults once */
    "  mov $60, %eax\n"           /* exit(7) */
    "  syscall\n"
    "  ud2\n"
    "msg: .ascii \"" MINIVMM_GREETING "\\n\"\n"
    "  msg_len = . - msg\n"
    "guest_end:\n"
    "loop_start:\n"
    "1:test %r12, %r12\n"
    "  jz 2f\n"
    "  mov $110, %eax\n"          /* getppid() */
    "  syscall\n"
    "  dec %r12\n"
    "  jmp 1b\n"
    "2:xor %edi, %edi\n"
    "  mov $60, %eax\n"           /* exit(0) */
    "  syscall\n"
    "  ud2\n"
    "loop_end:\n"
    ".popsection\n");

#endif
