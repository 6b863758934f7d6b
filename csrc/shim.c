/*
 * The ptrace run loop of umlpy, in C for speed (cffi API mode).
 *
 * shim_switch() is UML's userspace() loop: set the guest's registers in its
 * stub, PTRACE_SYSEMU, wait, classify the stop.  Constant-result syscalls
 * (getpid, getuid, ...) whose answer the guest kernel has put in
 * ctx->fast_val are answered here without going back to Python; they are
 * recorded in ctx->ring when tracing is on.
 *
 * Classifying a stop (the same rules in umlpy/platform/pyptrace.py):
 * - a syscall-entry stop: PTRACE_GET_SYSCALL_INFO says the number and the
 *   entry (the syscall instruction, or int $0x80 from 64-bit code: i386
 *   numbers and registers, never to be read as x86-64 ones);
 * - a signal the guest's own instruction raised (SIGSEGV, SIGBUS, SIGILL,
 *   SIGFPE, SIGTRAP, SIGSYS with si_code > 0, which no other process can
 *   forge): a page fault, a trap, or a vsyscall-page call (SIGSYS from the
 *   stub's seccomp filter), which is reported as a syscall stop;
 * - anything else is a host signal sent to the stub by somebody (kill,
 *   sigqueue: si_code <= 0; job control; SIGWINCH...): it is dropped and the
 *   guest goes on, except the SIGSTOP the supervisor itself sent to end a
 *   time slice (PREEMPT).  A host signal is never the guest's signal.
 *
 * shim_batch() orders the host mmap/munmap/mprotect batch that Python wrote
 * into the stub's STUB_REQ from the stub's mapper process and waits for it
 * (two futex hand-offs, no ptrace round trip); see csrc/stub.c.
 *
 * shim_fault_info() asks the stub for the CPU's page-fault error code of the
 * fault it stopped at (is the access a write?), by delivering the SIGSEGV to
 * the stub's handler (one more round trip, only when the kernel needs it).
 *
 * Nothing here decides policy: every stop that is not a fast-path syscall
 * goes back to Python with its reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <elf.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include "shim.h"

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif
#ifndef PTRACE_O_EXITKILL
#define PTRACE_O_EXITKILL (1 << 20)
#endif
#define SHIM_GET_SYSCALL_INFO 0x420e      /* PTRACE_GET_SYSCALL_INFO, Linux 5.3 */
#define SHIM_SYSCALL_INFO_ENTRY 1
#define SYS_SECCOMP_CODE 1                /* si_code of a SIGSYS from seccomp */
#define VSYSCALL_PAGE 0xffffffffff600000UL
#define XSTATE_MAX 16384
/* A batch that takes longer than BATCH_CHECK_NS (a batch takes microseconds)
 * has its stub and mapper looked at every BATCH_CHECK_NS: a mapper stopped by
 * somebody is told SIGCONT, a dead one fails the batch, and one that does not
 * answer for BATCH_GIVE_UP_NS is given up on. */
#define BATCH_CHECK_NS (1000 * 1000L)
#define BATCH_GIVE_UP_NS (5000 * 1000 * 1000L)

#define RAX_OFF offsetof(struct user_regs_struct, rax)
#define ORIG_RAX_OFF offsetof(struct user_regs_struct, orig_rax)

/* The head of struct ptrace_syscall_info, up to entry.nr. */
struct syscall_info_head {
    uint8_t op;
    uint8_t pad[3];
    uint32_t arch;
    uint64_t instruction_pointer;
    uint64_t stack_pointer;
    uint64_t nr;
};

static int have_syscall_info = 1;

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int wait_stub(struct shim_as *as, int *status)
{
    for (;;) {
        int r = waitpid(as->pid, status, __WALL);
        if (r == as->pid)
            return 0;
        if (r < 0 && errno == EINTR)
            return -EINTR;
        if (r < 0)
            return -errno;
    }
}

static int wait_stub_retry(struct shim_as *as, int *status)
{
    int r;
    do {
        r = wait_stub(as, status);
    } while (r == -EINTR);
    return r;
}

/* rax values the host kernel would take for a syscall to restart if a signal
 * came at the return to user mode (-ERESTARTSYS .. -ERESTART_RESTARTBLOCK). */
static int restart_value(unsigned long rax)
{
    return rax >= (unsigned long)-516L && rax <= (unsigned long)-512L;
}

/*
 * Load registers into the stub.  Most of the time the guest kernel changed
 * only rax (a syscall's result) since the registers were fetched: one
 * POKEUSER then instead of a whole SETREGS.  The host's orig_rax never
 * matters to us (SYSEMU skipped the call); it is set to -1 when rax looks
 * like a restart code, so that a signal stop at the return to user mode
 * never makes the host kernel rewind the guest's rip.
 */
static int set_regs(struct shim_as *as, struct user_regs_struct *regs)
{
    struct user_regs_struct copy;
    if (restart_value(regs->rax)) {
        copy = *regs;
        copy.orig_rax = (unsigned long)-1L;
        regs = &copy;
    } else if (as->shadow_ok) {
        unsigned long rax = as->shadow.rax;
        as->shadow.rax = regs->rax;
        if (memcmp(&as->shadow, regs, sizeof(*regs)) == 0) {
            if (rax == regs->rax)
                return 0;
            if (ptrace(PTRACE_POKEUSER, as->pid, (void *)RAX_OFF, (void *)regs->rax) < 0) {
                as->shadow_ok = 0;
                return -1;
            }
            return 0;
        }
    }
    if (ptrace(PTRACE_SETREGS, as->pid, 0, regs) < 0) {
        as->shadow_ok = 0;
        return -1;
    }
    as->shadow = *regs;
    as->shadow_ok = 1;
    return 0;
}

static int get_regs(struct shim_as *as, struct user_regs_struct *regs)
{
    if (ptrace(PTRACE_GETREGS, as->pid, 0, regs) < 0) {
        as->shadow_ok = 0;
        return -1;
    }
    as->shadow = *regs;
    as->shadow_ok = 1;
    return 0;
}

/* The number and the ABI of the syscall the stub stopped at. */
static int syscall_nr(struct shim_as *as, long *nr, unsigned *arch)
{
    if (have_syscall_info) {
        struct syscall_info_head h;
        long n = ptrace(SHIM_GET_SYSCALL_INFO, as->pid, (void *)sizeof(h), &h);
        if (n >= (long)sizeof(h) && h.op == SHIM_SYSCALL_INFO_ENTRY) {
            *nr = (long)h.nr;
            *arch = h.arch;
            return 0;
        }
        if (n < 0 && errno == EIO)
            have_syscall_info = 0;   /* before Linux 5.3: no int $0x80 detection */
        else if (n < 0)
            return -1;
    }
    errno = 0;
    *nr = ptrace(PTRACE_PEEKUSER, as->pid, (void *)ORIG_RAX_OFF, 0);
    *arch = AUDIT_ARCH_X86_64;
    return errno ? -1 : 0;
}

static void mark_dead(struct shim_as *as, int status)
{
    as->dead = 1;
    as->running = 0;
    as->status = status;
    as->fault_stop = 0;
}

/* Wait for the stub's start-up trap and take control of it. */
long shim_attach(struct shim_as *as)
{
    int status, r;
    volatile struct stub_data *d = (volatile struct stub_data *)as->data;

    r = wait_stub_retry(as, &status);
    if (r < 0)
        return r;
    if (!WIFSTOPPED(status)) {
        mark_dead(as, status);
        return -ECHILD;
    }
    if (WSTOPSIG(status) != SIGTRAP)
        return -EPROTO;
    if (ptrace(PTRACE_SETOPTIONS, as->pid, 0,
               (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0)
        return -errno;
    if (d->magic != STUB_MAGIC || d->mapper_pid <= 0)
        return -EPROTO;
    as->mapper_pid = (int)d->mapper_pid;
    as->supervisor_pid = getpid();
    as->running = 0;
    as->shadow_ok = 0;
    return 0;
}

static int sync_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
           sig == SIGTRAP || sig == SIGSYS;
}

/* A signal the guest did not raise itself: sent by some process (si_code <= 0,
 * which no sender can fake for the synchronous ones), or not synchronous. */
static int host_signal(int sig, const siginfo_t *si)
{
    return !sync_signal(sig) || si->si_code <= 0;
}

static int ours(struct shim_as *as, int sig, const siginfo_t *si)
{
    return sig == SIGSTOP && si->si_code == SI_USER && si->si_pid == as->supervisor_pid;
}

int shim_switch(struct shim_as *as, struct shim_ctx *ctx, struct shim_stop *stop)
{
    int status, r;
    long budget = ctx->fast_budget;
    siginfo_t si;

    memset(stop, 0, sizeof(*stop));
    stop->is_write = -1;
    ctx->fast_count = 0;
    if (as->dead) {
        stop->kind = SHIM_EXIT;
        stop->status = as->status;
        return stop->kind;
    }
    if (!as->running) {
        if (set_regs(as, &ctx->regs) < 0 || ptrace(PTRACE_SYSEMU, as->pid, 0, 0) < 0)
            goto ptrace_failed;
        as->running = 1;
        as->fault_stop = 0;
    }
    for (;;) {
        r = wait_stub(as, &status);
        if (r == -EINTR) {
            stop->kind = SHIM_INTERRUPT;
            return stop->kind;
        }
        if (r < 0) {
            stop->err = -r;
            mark_dead(as, 0);
            stop->kind = SHIM_EXIT;
            return stop->kind;
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            mark_dead(as, status);
            stop->kind = SHIM_EXIT;
            stop->status = status;
            return stop->kind;
        }
        as->running = 0;
        int sig = WSTOPSIG(status);
        if (sig == (SIGTRAP | 0x80)) {
            long nr;
            unsigned arch;
            if (syscall_nr(as, &nr, &arch) < 0)
                goto ptrace_failed;
            if (arch == AUDIT_ARCH_X86_64 && nr >= 0 && nr < SHIM_NR_FAST && ctx->fast_ok[nr] &&
                budget > 0 && (!ctx->ring || ctx->ring_len < ctx->ring_cap)) {
                long val = ctx->fast_val[nr];
                as->shadow_ok = 0;   /* the stub's registers moved on without us */
                if (ptrace(PTRACE_POKEUSER, as->pid, (void *)RAX_OFF, (void *)val) < 0 ||
                    ptrace(PTRACE_SYSEMU, as->pid, 0, 0) < 0)
                    goto ptrace_failed;
                as->running = 1;
                budget--;
                ctx->fast_count++;
                if (ctx->ring) {
                    struct shim_trace_ent *e = &ctx->ring[ctx->ring_len++];
                    e->nr = nr;
                    e->ret = val;
                    e->t_ns = now_ns();
                }
                continue;
            }
            if (get_regs(as, &ctx->regs) < 0)
                goto ptrace_failed;
            as->preempt_pending = 0;
            stop->kind = SHIM_SYSCALL;
            if (arch != AUDIT_ARCH_X86_64) {
                stop->entry = SHIM_ENTRY_INT80;
                ctx->regs.orig_rax = (unsigned long)(uint32_t)nr;
                return SHIM_SYSCALL_OTHER_ENTRY;
            }
            return stop->kind;
        }
        if (status >> 16) {
            /* A ptrace event stop: none is asked for; let the stub go on. */
            if (ptrace(PTRACE_SYSEMU, as->pid, 0, 0) < 0)
                goto ptrace_failed;
            as->running = 1;
            continue;
        }
        if (ptrace(PTRACE_GETSIGINFO, as->pid, 0, &si) < 0) {
            if (errno != EINVAL)
                goto ptrace_failed;
            /* A group-stop (no siginfo): job control from outside; go on. */
            as->host_signals++;
            if (ptrace(PTRACE_SYSEMU, as->pid, 0, 0) < 0)
                goto ptrace_failed;
            as->running = 1;
            continue;
        }
        if (host_signal(sig, &si)) {
            if (ours(as, sig, &si) && as->preempt_pending) {
                as->preempt_pending = 0;
                if (get_regs(as, &ctx->regs) < 0)
                    goto ptrace_failed;
                stop->kind = SHIM_PREEMPT;
                stop->signo = sig;
                return stop->kind;
            }
            if (!ours(as, sig, &si))
                as->host_signals++;
            /* Dropped: resuming with no signal discards it. */
            if (ptrace(PTRACE_SYSEMU, as->pid, 0, 0) < 0)
                goto ptrace_failed;
            as->running = 1;
            continue;
        }
        if (get_regs(as, &ctx->regs) < 0)
            goto ptrace_failed;
        as->preempt_pending = 0;
        stop->signo = sig;
        stop->code = si.si_code;
        stop->addr = (unsigned long)si.si_addr;
        if (sig == SIGSYS && si.si_code == SYS_SECCOMP_CODE && si.si_arch == AUDIT_ARCH_X86_64 &&
            ((unsigned long)si.si_call_addr & ~0xfffUL) == VSYSCALL_PAGE) {
            /* A call into the vsyscall page, which the host emulated as far as
             * the stub's filter (RET_TRAP): report it as made, at the entry
             * point with the return address on the stack. */
            ctx->regs.rip = (unsigned long)si.si_call_addr;
            ctx->regs.rsp -= 8;
            ctx->regs.orig_rax = (unsigned long)si.si_syscall;
            ctx->regs.rax = (unsigned long)-ENOSYS;
            as->shadow_ok = 0;
            stop->entry = SHIM_ENTRY_VSYSCALL;
            stop->signo = stop->code = 0;
            stop->addr = 0;
            stop->kind = SHIM_SYSCALL;
            return SHIM_SYSCALL_OTHER_ENTRY;
        } else if ((sig == SIGSEGV || sig == SIGBUS) && si.si_code != SI_KERNEL) {
            stop->kind = SHIM_FAULT;
            stop->trap_no = 14;
            as->fault_stop = sig == SIGSEGV;
        } else {
            stop->kind = SHIM_SIGNAL;
            stop->addr = ctx->regs.rip;
            if (sig == SIGSEGV)
                stop->trap_no = 13;     /* SI_KERNEL: a general protection fault */
        }
        return stop->kind;
    }

ptrace_failed:
    stop->err = errno;
    stop->kind = SHIM_EXIT;
    if (errno == ESRCH) {
        /* The stub died under us (SIGKILL from outside): collect it. */
        if (waitpid(as->pid, &status, __WALL) == as->pid)
            stop->status = status;
        mark_dead(as, stop->status);
    }
    return stop->kind;
}

static long futex(volatile void *addr, int op, unsigned val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

/* The mapper's state, from /proc: 'S'/'R' fine, 'T'/'t' stopped, 0 gone or a zombie. */
static char mapper_state(struct shim_as *as)
{
    char path[64], buf[256];
    int fd, n;
    snprintf(path, sizeof path, "/proc/%d/stat", as->mapper_pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
        return 0;
    return p[2];
}

long shim_batch(struct shim_as *as)
{
    volatile struct stub_req *q = (volatile struct stub_req *)as->req;
    volatile struct stub_data *d = (volatile struct stub_data *)as->data;
    volatile unsigned *done = (volatile unsigned *)&d->done_seq;
    long start, now, next_check, check_every = BATCH_CHECK_NS;
    unsigned seq;
    int status;

    if (as->dead)
        return -SHIM_BATCH_BROKEN - ESRCH;
    if (as->running)
        return -SHIM_BATCH_BROKEN - EBUSY;  /* guest code runs there: never under its feet */
    seq = ++as->seq;
    if (seq == 0)
        seq = ++as->seq;
    /* Written while no guest code runs: only the mapper can make it seq. */
    *done = ~seq;
    __atomic_store_n((unsigned *)&q->seq, seq, __ATOMIC_RELEASE);
    futex(&q->seq, FUTEX_WAKE, 1, NULL);
    start = now_ns();
    next_check = start + check_every;
    for (;;) {
        unsigned cur = __atomic_load_n(done, __ATOMIC_ACQUIRE);
        if (cur == seq)
            break;
        long left = next_check - now_ns();
        if (left > 0) {
            struct timespec ts = { 0, left };
            futex(done, FUTEX_WAIT, cur, &ts);     /* woken, timed out or interrupted: look again */
            continue;
        }
        /* Slow: is the stub still there?  (Its mapper's pid is only ours to
         * signal while the stub lives: the stub is the mapper's parent.) */
        now = now_ns();
        if (waitpid(as->pid, &status, WNOHANG | __WALL) == as->pid) {
            mark_dead(as, status);
            return -SHIM_BATCH_BROKEN - ESRCH;
        }
        char state = mapper_state(as);
        if (state == 0)
            return -SHIM_BATCH_BROKEN - ESRCH;
        if (state == 'T' || state == 't')
            kill(as->mapper_pid, SIGCONT);       /* stopped by somebody: go on */
        if (now - start >= BATCH_GIVE_UP_NS)
            return -SHIM_BATCH_BROKEN - ETIMEDOUT;
        next_check = now + check_every;
    }
    q->nops = 0;
    as->batches++;
    return d->err;
}

long shim_fault_info(struct shim_as *as, struct shim_stop *stop)
{
    volatile struct stub_data *d = (volatile struct stub_data *)as->data;
    static __thread char xstate[XSTATE_MAX];
    struct iovec iov = { xstate, sizeof xstate };
    unsigned long count = d->fault_count;
    int status, r, resend_stop = 0;
    long ret;
    siginfo_t si;

    if (as->dead || as->running || !as->fault_stop || as->fault_info_broken)
        return -EAGAIN;
    as->fault_stop = 0;
    if (ptrace(PTRACE_GETREGSET, as->pid, (void *)NT_X86_XSTATE, &iov) < 0)
        return -errno;
    as->shadow_ok = 0;      /* the handler will leave its registers */
    if (ptrace(PTRACE_CONT, as->pid, 0, (void *)(long)SIGSEGV) < 0)
        return -errno;
    for (;;) {
        r = wait_stub_retry(as, &status);
        if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
            mark_dead(as, r < 0 ? 0 : status);
            return -ESRCH;
        }
        int sig = WSTOPSIG(status);
        if (ptrace(PTRACE_GETSIGINFO, as->pid, 0, &si) == 0 && host_signal(sig, &si)) {
            if (ours(as, sig, &si))
                resend_stop = as->preempt_pending;
            else
                as->host_signals++;
            if (ptrace(PTRACE_CONT, as->pid, 0, 0) < 0)
                return -errno;
            continue;
        }
        break;
    }
    if (WSTOPSIG(status) == SIGTRAP && si.si_code == SI_KERNEL && d->fault_count != count) {
        ret = (long)d->fault_err;
        stop->is_write = (int)((d->fault_err >> 1) & 1);
        stop->trap_no = (int)d->fault_trapno;
    } else {
        /* The handler did not run (its frame could not be written?): the kernel
         * reset SIGSEGV to SIG_DFL; never ask this stub again. */
        as->fault_info_broken = 1;
        ret = -EPROTO;
    }
    /* The guest's FPU state as it was; its registers go back at the next switch. */
    iov.iov_base = xstate;
    if (ptrace(PTRACE_SETREGSET, as->pid, (void *)NT_X86_XSTATE, &iov) < 0)
        return -errno;
    if (resend_stop)
        kill(as->pid, SIGSTOP);
    return ret;
}

/* Whether a stopped stub is still there (it may have been killed while idle in the pool). */
int shim_alive(struct shim_as *as)
{
    int status;
    if (as->dead || as->pid <= 0)
        return 0;
    if (waitpid(as->pid, &status, WNOHANG | __WALL) == as->pid &&
        (WIFEXITED(status) || WIFSIGNALED(status))) {
        mark_dead(as, status);
        return 0;
    }
    return 1;
}

long shim_preempt(struct shim_as *as)
{
    if (as->dead || as->pid <= 0)
        return -ESRCH;
    as->preempt_pending = 1;
    return kill(as->pid, SIGSTOP) < 0 ? -errno : 0;
}

long shim_get_xstate(int pid, void *buf, long size)
{
    struct iovec iov = { buf, (size_t)size };
    if (ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0)
        return -errno;
    return (long)iov.iov_len;
}

long shim_set_xstate(int pid, void *buf, long size)
{
    struct iovec iov = { buf, (size_t)size };
    if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &iov) < 0)
        return -errno;
    return 0;
}

long shim_getregs(int pid, struct user_regs_struct *regs)
{
    return ptrace(PTRACE_GETREGS, pid, 0, regs) < 0 ? -errno : 0;
}

long shim_setregs(int pid, struct user_regs_struct *regs)
{
    return ptrace(PTRACE_SETREGS, pid, 0, regs) < 0 ? -errno : 0;
}

void shim_kill(struct shim_as *as)
{
    int status;
    if (as->pid <= 0)
        return;
    if (!as->dead) {
        /* Once reaped, the pid may belong to someone else: only kill our live stub.
         * Its mapper dies with it (PR_SET_PDEATHSIG). */
        kill(as->pid, SIGKILL);
        status = 0;
        while (waitpid(as->pid, &status, __WALL) < 0 && errno == EINTR)
            ;
        mark_dead(as, status);
    }
    as->pid = -1;
}
