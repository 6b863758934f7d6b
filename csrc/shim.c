/*
 * The ptrace run loop of umlpy, in C for speed (cffi API mode).
 *
 * shim_switch() is UML's userspace() loop: set the guest's registers in its
 * stub, PTRACE_SYSEMU, wait, classify the stop.  Constant-result syscalls
 * (getpid, getuid, ...) whose answer the guest kernel has put in
 * ctx->fast_val are answered here without going back to Python; they are
 * recorded in ctx->ring when tracing is on.
 *
 * shim_batch() runs the host mmap/munmap/mprotect ops that Python wrote into
 * the stub's control page, in one ptrace round trip.
 *
 * Nothing here decides policy: every stop that is not a fast-path syscall
 * goes back to Python with its reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <elf.h>
#include "shim.h"

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif
#ifndef PTRACE_O_EXITKILL
#define PTRACE_O_EXITKILL (1 << 20)
#endif

#define RAX_OFF offsetof(struct user_regs_struct, rax)
#define ORIG_RAX_OFF offsetof(struct user_regs_struct, orig_rax)

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

/*
 * Load registers into the stub.  Most of the time the guest kernel changed
 * only rax (a syscall's result) since the registers were fetched: one
 * POKEUSER then instead of a whole SETREGS.
 */
static int set_regs(struct shim_as *as, struct user_regs_struct *regs)
{
    if (as->shadow_ok) {
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

static void mark_dead(struct shim_as *as, int status)
{
    as->dead = 1;
    as->running = 0;
    as->status = status;
}

/* Wait for the stub's start-up trap and take control of it. */
long shim_attach(struct shim_as *as)
{
    int status, r;
    struct stub_data *d;

    do {
        r = waitpid(as->pid, &status, __WALL);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (!WIFSTOPPED(status)) {
        mark_dead(as, status);
        return -ECHILD;
    }
    if (WSTOPSIG(status) != SIGTRAP)
        return -EPROTO;
    if (ptrace(PTRACE_SETOPTIONS, as->pid, 0,
               (void *)(long)(PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)) < 0)
        return -errno;
    if (ptrace(PTRACE_GETREGS, as->pid, 0, &as->batch_regs) < 0)
        return -errno;
    (void)d;
    as->running = 0;
    return 0;
}

static void fill_siginfo(struct shim_as *as, struct shim_stop *stop)
{
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, as->pid, 0, &si) == 0) {
        stop->code = si.si_code;
        stop->addr = (unsigned long)si.si_addr;
    }
}

int shim_switch(struct shim_as *as, struct shim_ctx *ctx, struct shim_stop *stop)
{
    int status, r;
    long budget = ctx->fast_budget;

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
            long nr = ptrace(PTRACE_PEEKUSER, as->pid, (void *)ORIG_RAX_OFF, 0);
            if (nr >= 0 && nr < SHIM_NR_FAST && ctx->fast_ok[nr] && budget > 0 &&
                (!ctx->ring || ctx->ring_len < ctx->ring_cap)) {
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
            stop->kind = SHIM_SYSCALL;
            return stop->kind;
        }
        if (get_regs(as, &ctx->regs) < 0)
            goto ptrace_failed;
        stop->signo = sig;
        fill_siginfo(as, stop);
        if (sig == SIGSEGV || sig == SIGBUS) {
            stop->kind = SHIM_FAULT;
            stop->trap_no = 14;
        } else if (sig == SIGSTOP) {
            stop->kind = SHIM_PREEMPT;
        } else {
            stop->kind = SHIM_SIGNAL;
            stop->addr = ctx->regs.rip;
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

long shim_batch(struct shim_as *as)
{
    struct user_regs_struct regs = as->batch_regs;
    int status, r;

    if (as->dead)
        return -ESRCH;
    if (as->running)
        return -EBUSY;
    regs.rip = as->entry_batch;
    regs.rsp = STUB_DATA + STUB_DATA_SIZE;
    as->shadow_ok = 0;
    if (ptrace(PTRACE_SETREGS, as->pid, 0, &regs) < 0 ||
        ptrace(PTRACE_CONT, as->pid, 0, 0) < 0)
        return -errno;
    do {
        r = wait_stub(as, &status);
    } while (r == -EINTR);
    if (r < 0)
        return r;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        mark_dead(as, status);
        return -ESRCH;
    }
    if (WSTOPSIG(status) != SIGTRAP)
        return -EPROTO;
    return 0;
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
        /* Once reaped, the pid may belong to someone else: only kill our live stub. */
        kill(as->pid, SIGKILL);
        status = 0;
        while (waitpid(as->pid, &status, __WALL) < 0 && errno == EINTR)
            ;
        mark_dead(as, status);
    }
    as->pid = -1;
}
