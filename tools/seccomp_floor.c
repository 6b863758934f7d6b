/*
 * seccomp_floor: what a seccomp platform (issue 13, DESIGN.md "Platforms") can cost at
 * the least on this host, beside the PTRACE_SYSEMU round trip of sysemu_tracer.c.
 *
 *   seccomp_floor MODE N [--split-cpu]
 *
 * Makes N getppid calls and prints "MODE ns_per_call" (the calls only: set-up is
 * outside the timed loop).  Modes:
 *
 *   native      the plain system call
 *   trap        a filter answers SECCOMP_RET_TRAP for getppid; the SIGSYS handler,
 *               in the same process, writes the answer into the saved rax and
 *               returns: the floor of an answer the stub gives from its shared page
 *   trap-futex  the same trap, but the handler hands the call to a supervisor
 *               process through a shared page and a futex and waits for its answer
 *               (gVisor's systrap, UML's SECCOMP mode): the floor of every call the
 *               supervisor must see
 *   usernotif   SECCOMP_RET_USER_NOTIF: a supervisor thread answers through the
 *               listener fd (NOTIF_RECV / NOTIF_SEND)
 *
 * The guest side and the supervisor share one CPU unless --split-cpu puts them on two.
 * Exits 2 when the host lacks what a mode needs (no seccomp filters, no listener).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static long getppid_raw(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(SYS_getppid) : "rcx", "r11", "memory");
    return r;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void pin(int which)
{
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) < 0)
        return;
    int seen = 0;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &all))
            continue;
        if (seen++ == which) {
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            sched_setaffinity(0, sizeof one, &one);
            return;
        }
    }
}

static int install(unsigned int action, int flags)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* --- trap and trap-futex --------------------------------------------------------- */

struct chan {                       /* the shared page */
    uint32_t req;                   /* futex: bumped by the guest for each call */
    uint32_t rsp;                   /* futex: bumped by the supervisor for each answer */
    long nr, answer;
};
static struct chan *chan;

static void futex_wait(uint32_t *w, uint32_t old)
{
    while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == old)
        syscall(SYS_futex, w, FUTEX_WAIT, old, NULL, NULL, 0);
}

static void futex_wake(uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static void on_sigsys_local(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)si;
    ucontext_t *uc = ucv;
    uc->uc_mcontext.gregs[REG_RAX] = 4242;
}

static void on_sigsys_remote(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    chan->nr = si->si_syscall;
    uint32_t old = __atomic_load_n(&chan->rsp, __ATOMIC_ACQUIRE);
    __atomic_add_fetch(&chan->req, 1, __ATOMIC_RELEASE);
    futex_wake(&chan->req);
    futex_wait(&chan->rsp, old);
    uc->uc_mcontext.gregs[REG_RAX] = chan->answer;
}

static int run_trap(long n, int remote, int split)
{
    pid_t sup = 0;
    if (remote) {
        chan = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (chan == MAP_FAILED)
            return 1;
        sup = fork();
        if (sup == 0) {                         /* the supervisor */
            pin(split ? 1 : 0);
            uint32_t seen = 0;
            for (;;) {
                futex_wait(&chan->req, seen);
                seen = __atomic_load_n(&chan->req, __ATOMIC_ACQUIRE);
                if (chan->nr < 0)
                    _exit(0);
                chan->answer = 4242;
                __atomic_add_fetch(&chan->rsp, 1, __ATOMIC_RELEASE);
                futex_wake(&chan->rsp);
            }
        }
    }
    pin(0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = remote ? on_sigsys_remote : on_sigsys_local;
    sa.sa_flags = SA_SIGINFO;
    sigfillset(&sa.sa_mask);
    sigaction(SIGSYS, &sa, NULL);
    if (install(SECCOMP_RET_TRAP, 0) < 0) {
        perror("seccomp_floor: seccomp filter");
        if (sup)
            kill(sup, SIGKILL);
        return 2;
    }
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (getppid_raw() != 4242)
            return 1;
    double dt = now_ns() - t0;
    if (remote) {                               /* stop the supervisor */
        chan->nr = -1;
        __atomic_add_fetch(&chan->req, 1, __ATOMIC_RELEASE);
        futex_wake(&chan->req);
        waitpid(sup, NULL, 0);
    }
    printf("%s %.1f\n", remote ? "trap-futex" : "trap", n ? dt / n : 0.0);
    return 0;
}

/* --- usernotif ------------------------------------------------------------------- */

static int listener = -1;
static int listener_split;

static void *notif_loop(void *arg)
{
    (void)arg;
    pin(listener_split ? 1 : 0);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    for (;;) {
        while (listener < 0)
            sched_yield();
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        resp.val = 4242;
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
            return NULL;
    }
}

static int run_notif(long n, int split)
{
    pthread_t th;
    listener_split = split;
    pthread_create(&th, NULL, notif_loop, NULL);   /* made before the filter: not filtered */
    pin(0);
    int fd = install(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
    if (fd < 0) {
        perror("seccomp_floor: seccomp user notification");
        return 2;
    }
    __atomic_store_n(&listener, fd, __ATOMIC_RELEASE);
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (getppid_raw() != 4242)
            return 1;
    double dt = now_ns() - t0;
    printf("usernotif %.1f\n", n ? dt / n : 0.0);
    fflush(stdout);
    _exit(0);                                       /* the listener thread never returns */
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seccomp_floor native|trap|trap-futex|usernotif N [--split-cpu]\n");
        return 2;
    }
    long n = atol(argv[2]);
    int split = argc > 3 && strcmp(argv[3], "--split-cpu") == 0;
    if (strcmp(argv[1], "native") == 0) {
        pin(0);
        double t0 = now_ns();
        for (long i = 0; i < n; i++)
            getppid_raw();
        printf("native %.1f\n", n ? (now_ns() - t0) / n : 0.0);
        return 0;
    }
    if (strcmp(argv[1], "trap") == 0)
        return run_trap(n, 0, split);
    if (strcmp(argv[1], "trap-futex") == 0)
        return run_trap(n, 1, split);
    if (strcmp(argv[1], "usernotif") == 0)
        return run_notif(n, split);
    fprintf(stderr, "seccomp_floor: unknown mode %s\n", argv[1]);
    return 2;
}
