/*
 * umlpy stub: the host processes that realise one guest address space.
 *
 * It is exec'd (never forked from the supervisor), so it holds nothing of
 * the supervisor.  At start it:
 *   1. asks for SIGKILL when its parent dies and checks the parent is alive;
 *   2. maps its control pages from the physmem file (fd STUB_PHYSMEM_FD):
 *      STUB_DATA read-write, STUB_REQ read-only, and moves its stack there;
 *   3. closes every other fd and unmaps everything but itself (initial
 *      stack, vDSO, vvar), so the whole range below STUB_CODE is the guest's;
 *   4. installs a seccomp filter that kills it for any system call not made
 *      from its own text (vsyscall-page calls trap, for the supervisor to
 *      emulate), and starts the mapper: a second process in the same address
 *      space (CLONE_VM) that runs host mmap/munmap/mprotect batches;
 *   5. becomes a tracee of its parent (PTRACE_TRACEME), adds a filter of its
 *      own that kills it for every system call whatsoever (it runs guest code
 *      under PTRACE_SYSEMU and never needs one again), and stops with int3.
 *
 * Why two processes.  Guest code runs in this address space and may jump
 * anywhere in it, the stub's text included.  The process that runs guest
 * code therefore has no host system call at all; the mapper, which has
 * them, never runs guest code and never takes an order the guest can write:
 * it reads its batch from STUB_REQ, mapped read-only here (the supervisor
 * writes it through its own mapping), keeps its state across sleeps in
 * registers only (its stack is guest-writable while the guest runs), and
 * runs a batch only when STUB_REQ's seq changes, which happens while the
 * guest is stopped.  It is woken and waited for with futexes on the shared
 * pages.  Its PKRU, signal mask and stack are its own: a guest that denies
 * itself access to key 0 or plays with signals cannot make a batch fail.
 *
 * The main process keeps a SIGSEGV handler (on its own signal stack) that
 * the supervisor injects when it needs the page-fault error code (is the
 * faulting access a write?), as UML's SKAS0 stub does: it copies err,
 * trapno and cr2 from the signal frame into STUB_DATA and traps (int3).
 *
 * Built freestanding: no libc, no writable data (there is none to map), no
 * SSE (the guest's FPU state must survive untouched).
 */
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/prctl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <asm/unistd.h>
#include <asm/signal.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <linux/ptrace.h>
#include <linux/mman.h>
#include "stub_abi.h"

#define HOST_TASK_SIZE 0x7ffffffff000UL
#define VSYSCALL_PAGE 0xffffffffff600000UL

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
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

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

/* ---- the mapper -------------------------------------------------------- */

/* Run the batch in STUB_REQ (called by the loop below, on the mapper's stack,
 * while the guest is stopped) and say how it went in STUB_DATA; the loop then
 * publishes done_seq, once the stack is no longer needed (the supervisor may
 * zero these pages as soon as it sees done_seq). */
__attribute__((used)) void stub_mapper_batch(void)
{
    const volatile struct stub_req *q = (const volatile struct stub_req *)STUB_REQ;
    volatile struct stub_data *d = (volatile struct stub_data *)STUB_DATA;
    long i, n = q->nops, err = 0;

    if (n < 0 || n > STUB_MAX_OPS)
        n = 0, err = -22;               /* EINVAL: never trust a count blindly */
    for (i = 0; i < n; i++) {
        const volatile struct stub_op *op = &q->ops[i];
        long nr = op->nr, r;
        if (nr != __NR_mmap && nr != __NR_munmap && nr != __NR_mprotect) {
            err = -22;
            break;
        }
        r = sys6(nr, op->args[0], op->args[1], op->args[2], op->args[3], op->args[4], op->args[5]);
        if (r < 0 && r > -4096) {
            err = r;
            break;
        }
    }
    d->ndone = i;
    d->err = err;
}

/* The mapper's life: wait for STUB_REQ's seq to move, run the batch, publish
 * done_seq and wake the supervisor, again.  Between batches its state is in
 * registers only (rbx: STUB_REQ, r13: &done_seq, r14: its stack top, r15:
 * the last seq run), never in memory the guest can write. */
static __attribute__((noreturn)) void stub_mapper_loop(void)
{
    register unsigned long req asm("rbx") = STUB_REQ;
    register unsigned long done asm("r13") = STUB_DATA + offsetof(struct stub_data, done_seq);
    register unsigned long stack asm("r14") = STUB_MAPPER_STACK;
    asm volatile(
        "    xor %%r15d, %%r15d\n"
        "1:  mov (%%rbx), %%eax\n"
        "    cmp %%eax, %%r15d\n"
        "    jne 2f\n"
        "    mov %%rbx, %%rdi\n"          /* futex(&req->seq, FUTEX_WAIT, r15d, NULL): shared,  */
        "    xor %%esi, %%esi\n"          /* woken through the supervisor's mapping of the page */
        "    mov %%r15d, %%edx\n"
        "    xor %%r10d, %%r10d\n"
        "    mov %[nr_futex], %%eax\n"
        "    syscall\n"
        "    jmp 1b\n"
        "2:  mov %%eax, %%r15d\n"
        "    mov %%r14, %%rsp\n"
        "    call stub_mapper_batch\n"
        "    mov %%r15, (%%r13)\n"        /* done_seq = seq: the supervisor may go on */
        "    mov %%r13, %%rdi\n"          /* futex(&done_seq, FUTEX_WAKE, 1) */
        "    mov %[wake], %%esi\n"
        "    mov $1, %%edx\n"
        "    mov %[nr_futex], %%eax\n"
        "    syscall\n"
        "    jmp 1b\n"
        :
        : "r"(req), "r"(done), "r"(stack), [nr_futex] "i"(__NR_futex), [wake] "i"(FUTEX_WAKE)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r15", "memory");
    __builtin_unreachable();
}

/* First steps of the mapper, on its own stack: die with the main process. */
__attribute__((noreturn, used)) void stub_mapper_start(long main_pid)
{
    sys2(__NR_prctl, PR_SET_PDEATHSIG, SIGKILL);
    if (sys0(__NR_getppid) != main_pid)
        die(3);
    stub_mapper_loop();
}

/* clone(CLONE_VM) onto the mapper's stack; the child goes to stub_mapper_start. */
static long start_mapper(long main_pid)
{
    long ret;
    register long r10 asm("r10") = 0;
    register long r8 asm("r8") = 0;
    register long r12 asm("r12") = main_pid;
    asm volatile("syscall\n"
                 "    test %%rax, %%rax\n"
                 "    jnz 1f\n"
                 "    mov %%r12, %%rdi\n"         /* the child: rsp is STUB_MAPPER_STACK */
                 "    call stub_mapper_start\n"
                 "    hlt\n"
                 "1:\n"
                 : "=a"(ret)
                 : "a"(__NR_clone), "D"((long)CLONE_VM), "S"(STUB_MAPPER_STACK), "d"(0),
                   "r"(r10), "r"(r8), "r"(r12)
                 : "rcx", "r11", "memory");
    return ret;
}

/* ---- the main process ------------------------------------------------------ */

/* The supervisor delivers SIGSEGV here (PTRACE_CONT with the signal) when it
 * needs the CPU's account of a guest page fault; it restores the guest's
 * registers and FPU state itself afterwards, so the frame is never returned
 * from. */
static void stub_fault_handler(int sig, void *info, void *ucv)
{
    struct ucontext *uc = ucv;
    volatile struct stub_data *d = (volatile struct stub_data *)STUB_DATA;
    (void)sig;
    (void)info;
    d->fault_err = uc->uc_mcontext.err;
    d->fault_trapno = uc->uc_mcontext.trapno;
    d->fault_addr = uc->uc_mcontext.cr2;
    d->fault_count = d->fault_count + 1;
    for (;;)
        asm volatile("int3");
}

/* Never used (the handler never returns); x86-64 wants SA_RESTORER all the same. */
static void stub_restorer(void)
{
    for (;;)
        asm volatile("int3");
}

#define SYSCALL_KILL BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS)

/* Both processes: system calls from the stub's text only; vsyscall-page calls trap. */
static void install_stub_filter(void)
{
    const unsigned code_hi = (unsigned)(STUB_CODE >> 32);
    const unsigned code_lo = (unsigned)(STUB_CODE & 0xffffffffUL);
    const unsigned code_end = (unsigned)((STUB_CODE + STUB_CODE_SIZE) & 0xffffffffUL);
    const unsigned vsys_lo = (unsigned)(VSYSCALL_PAGE & 0xffffffffUL);
    struct sock_filter filter[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        /* 2 */ SYSCALL_KILL,
        /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, code_hi, 2, 0),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 6, 0),
        /* 6 */ SYSCALL_KILL,
        /* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_lo, 0, 2),
        /* 9 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, code_end, 1, 0),
        /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* 11 */ SYSCALL_KILL,
        /* 12 (from 5) */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, vsys_lo, 0, 2),
        /* 14 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, vsys_lo + 0x1000, 1, 0),
        /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        /* 16 */ SYSCALL_KILL,
    };
    struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

    if (sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0) < 0)
        die(5);
    if (sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        die(6);
}

/* The main process only, once it is set up: no system call at all (vsyscall-page
 * calls still trap, so that the supervisor can emulate them). */
static void install_guest_filter(void)
{
    const unsigned vsys_lo = (unsigned)(VSYSCALL_PAGE & 0xffffffffUL);
    struct sock_filter filter[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        /* 2 */ SYSCALL_KILL,
        /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffU, 1, 0),
        /* 5 */ SYSCALL_KILL,
        /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer)),
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, vsys_lo, 0, 2),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, vsys_lo + 0x1000, 1, 0),
        /* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        /* 10 */ SYSCALL_KILL,
    };
    struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

    if (sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        die(6);
}

#define SIGBIT(s) (1UL << ((s) - 1))
/* Signals the guest's own instructions raise: the supervisor sees and handles them. */
#define SYNC_SIGNALS (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGFPE) | \
                      SIGBIT(SIGTRAP) | SIGBIT(SIGSYS))

/* Second half of the start-up, on the main stack in STUB_DATA. */
__attribute__((noreturn, used)) void stub_main2(void)
{
    volatile struct stub_data *d = (volatile struct stub_data *)STUB_DATA;
    struct sigaction sa;
    stack_t ss;
    unsigned long mask;
    long me, mapper;

    /* Only the physmem file stays open. */
    sys3(__NR_close_range, 0, STUB_PHYSMEM_FD - 1, 0);
    sys3(__NR_close_range, STUB_PHYSMEM_FD + 1, ~0U, 0);

    /* Everything below and above the stub belongs to the guest. */
    sys2(__NR_munmap, 0, STUB_CODE);
    sys2(__NR_munmap, STUB_CODE + STUB_CODE_SIZE, STUB_DATA - (STUB_CODE + STUB_CODE_SIZE));
    sys2(__NR_munmap, STUB_REQ + STUB_REQ_SIZE, HOST_TASK_SIZE - (STUB_REQ + STUB_REQ_SIZE));

    /* Host signals sent to a stub are nobody's business: block them all (the
     * mapper keeps this mask); the main process takes back the synchronous
     * ones below, which its tracer sees and classifies. */
    mask = ~0UL;
    sys4(__NR_rt_sigprocmask, SIG_SETMASK, &mask, 0, sizeof(mask));

    install_stub_filter();
    me = sys0(__NR_getpid);
    mapper = start_mapper(me);
    if (mapper < 0)
        die(8);
    d->mapper_pid = mapper;

    ss.ss_sp = (void *)(STUB_ALTSTACK);
    ss.ss_flags = 0;
    ss.ss_size = STUB_ALTSTACK_SIZE;
    if (sys2(__NR_sigaltstack, &ss, 0) < 0)
        die(9);
    sa.sa_handler = (__sighandler_t)(void *)stub_fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER;
    sa.sa_restorer = (__sigrestore_t)stub_restorer;
    sa.sa_mask = 0;
    if (sys4(__NR_rt_sigaction, SIGSEGV, &sa, 0, sizeof(sa.sa_mask)) < 0)
        die(10);
    mask = ~SYNC_SIGNALS;
    sys4(__NR_rt_sigprocmask, SIG_SETMASK, &mask, 0, sizeof(mask));

    d->magic = STUB_MAGIC;
    if (sys6(__NR_ptrace, PTRACE_TRACEME, 0, 0, 0, 0, 0) < 0)
        die(4);
    install_guest_filter();
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
    r = sys6(__NR_mmap, STUB_REQ, STUB_REQ_SIZE, PROT_READ,
             MAP_SHARED | MAP_FIXED, STUB_PHYSMEM_FD, slot + STUB_DATA_SIZE);
    if (r != (long)STUB_REQ)
        die(7);
    asm volatile("mov %0, %%rsp\n\tjmp stub_main2" : : "r"(STUB_MAIN_STACK) : "memory");
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
