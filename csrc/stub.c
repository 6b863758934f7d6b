/*
 * umlpy stub: the host process that realises one guest address space.
 *
 * It is exec'd (never forked from the supervisor), so it holds nothing of
 * the supervisor.  At start it:
 *   1. asks for SIGKILL when its parent dies and checks the parent is alive;
 *   2. maps its control page from the physmem file (fd STUB_PHYSMEM_FD) and
 *      moves its stack there;
 *   3. closes every other fd and unmaps everything but itself (initial
 *      stack, vDSO, vvar), so the whole range below STUB_CODE is the guest's;
 *   4. becomes a tracee of its parent (PTRACE_TRACEME) and installs a seccomp
 *      filter that kills it for any syscall not made from its own text
 *      (guest syscalls run under PTRACE_SYSEMU never reach seccomp);
 *   5. stops with int3 and lets the supervisor drive it.
 *
 * The supervisor runs host mmap/munmap/mprotect batches by pointing rip at
 * stub_batch_entry with rsp at the top of the control page: the stub runs the
 * ops listed in struct stub_data, keeps the first error, and traps (int3).
 *
 * Built freestanding: no libc, no writable data (there is none to map), no
 * SSE (the guest's FPU state must survive a batch untouched).
 */
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/prctl.h>
#include <asm/unistd.h>
#include <asm/signal.h>
#include <linux/ptrace.h>
#include <linux/mman.h>
#include "stub_abi.h"

#define HOST_TASK_SIZE 0x7ffffffff000UL

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 asm("r10") = d;
    register long r8 asm("r8") = e;
    register long r9 asm("r9") = f;
    asm volatile("syscall"
                 : "=a"(ret)
                 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                 : "rcx", "r11", "memory");
    return ret;
}
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static __attribute__((noreturn)) void die(int code)
{
    for (;;)
        sys1(__NR_exit_group, code);
}

static unsigned long parse_num(const char *s)
{
    unsigned long v = 0;
    int base = 10;
    if (s[0] == '0' && s[1] == 'x') {
        base = 16;
        s += 2;
    }
    for (; *s; s++) {
        int d;
        if (*s >= '0' && *s <= '9') d = *s - '0';
        else if (*s >= 'a' && *s <= 'f') d = *s - 'a' + 10;
        else die(2);
        if (d >= base) die(2);
        v = v * base + d;
    }
    return v;
}

void stub_batch(void)
{
    struct stub_data *d = (struct stub_data *)STUB_DATA;
    long i, n = d->nops;

    d->err = 0;
    for (i = 0; i < n && i < STUB_MAX_OPS; i++) {
        struct stub_op *op = &d->ops[i];
        long r = sys6(op->nr, op->args[0], op->args[1], op->args[2],
                      op->args[3], op->args[4], op->args[5]);
        op->result = r;
        if (r < 0 && r > -4096) {
            d->err = r;
            break;
        }
    }
    d->ndone = i;
}

/* Entered by the supervisor with rsp = STUB_DATA + STUB_DATA_SIZE. */
extern void stub_batch_entry(void) __attribute__((visibility("hidden")));
asm(".text\n"
    ".globl stub_batch_entry\n"
    "stub_batch_entry:\n"
    "    call stub_batch\n"
    "    int3\n"
    "    jmp stub_batch_entry\n");

static void install_seccomp(void)
{
    /* Allow a syscall only when it is made from the stub's own text. */
    const unsigned lo = (unsigned)(STUB_CODE & 0xffffffffUL);
    const unsigned hi = (unsigned)(STUB_CODE >> 32);
    const unsigned lo_end = (unsigned)((STUB_CODE + STUB_CODE_SIZE) & 0xffffffffUL);
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, hi, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo_end, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

    if (sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) < 0)
        die(5);
    if (sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        die(6);
}

/* Second half of the start-up, on the stack in the control page. */
__attribute__((noreturn, used)) void stub_main2(void)
{
    struct stub_data *d = (struct stub_data *)STUB_DATA;

    /* Only the physmem file stays open. */
    sys3(__NR_close_range, 0, STUB_PHYSMEM_FD - 1, 0);
    sys3(__NR_close_range, STUB_PHYSMEM_FD + 1, ~0U, 0);

    /* Everything below and above the stub belongs to the guest. */
    sys2(__NR_munmap, 0, STUB_CODE);
    sys2(__NR_munmap, STUB_CODE + STUB_CODE_SIZE, STUB_DATA - (STUB_CODE + STUB_CODE_SIZE));
    sys2(__NR_munmap, STUB_DATA + STUB_DATA_SIZE, HOST_TASK_SIZE - (STUB_DATA + STUB_DATA_SIZE));

    d->entry_batch = (unsigned long)stub_batch_entry;
    d->nops = 0;
    d->err = 0;
    d->magic = STUB_MAGIC;

    if (sys6(__NR_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0) < 0)
        die(4);
    install_seccomp();
    for (;;)
        asm volatile("int3");
}

__attribute__((noreturn, used)) void stub_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    unsigned long slot, ppid;
    long r;

    if (argc < 3)
        die(2);
    slot = parse_num(argv[1]);
    ppid = parse_num(argv[2]);

    sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if ((unsigned long)sys0(__NR_getppid) != ppid)
        die(3);  /* the supervisor is already gone */

    r = sys6(__NR_mmap, STUB_DATA, STUB_DATA_SIZE, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED, STUB_PHYSMEM_FD, slot);
    if (r != (long)STUB_DATA)
        die(7);
    asm volatile("mov %0, %%rsp\n\tjmp stub_main2" : : "r"(STUB_DATA + STUB_DATA_SIZE) : "memory");
    __builtin_unreachable();
}

asm(".section .text.entry,\"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "    mov %rsp, %rdi\n"
    "    and $-16, %rsp\n"
    "    call stub_main\n"
    "    hlt\n"
    ".text\n");
