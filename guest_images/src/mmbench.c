/*
 * mmbench: costs of the address-space extensions, timed inside the guest
 * (CLOCK_MONOTONIC, which the guest kernel serves).  One line per row,
 * "NAME us_per_op", for tools/bench.py to print beside its other rows:
 *
 *   getpid             a plain system call handled by the guest kernel
 *   mm_indirect_getpid the same call run in another address space
 *   unpriv_syscall     one round trip of an unprivileged context: its syscall
 *                      exits unprivilege(), the caller answers and resumes it
 *   create_mm          create_mm + close
 *   fork               fork + _exit + wait of a small process
 *   ptrace_sysemu      one PTRACE_SYSEMU round trip of a guest tracer with its
 *                      tracee (only when guest ptrace answers; else "n/a")
 *
 * Usage: mmbench [N]  (default 2000 iterations per row).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "umlpy.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void row(const char *name, double t0, long n)
{
    printf("%s %.3f\n", name, (now_us() - t0) / n);
    fflush(stdout);
}

#define CODE 0x10000000UL
#define STACK 0x20000000UL
/* The unprivileged loop: syscall; jmp back. */
static const unsigned char spin_syscall[] = {0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7};

static long indirect(int mm, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    struct umlpy_syscall c = {nr, {a0, a1, a2, a3, a4, a5}};
    return syscall(UMLPY_NR_MM_INDIRECT, mm, &c);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    int mm = syscall(UMLPY_NR_CREATE_MM);
    if (mm < 0) {
        printf("mmbench: create_mm: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }
    double t0 = now_us();
    for (long i = 0; i < n; i++)
        syscall(SYS_getpid);
    row("getpid", t0, n);

    t0 = now_us();
    for (long i = 0; i < n; i++)
        indirect(mm, SYS_getpid, 0, 0, 0, 0, 0, 0);
    row("mm_indirect_getpid", t0, n);

    int p[2];
    pipe(p);
    indirect(mm, SYS_mmap, CODE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    indirect(mm, SYS_mmap, STACK, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    write(p[1], spin_syscall, sizeof spin_syscall);
    indirect(mm, SYS_read, p[0], CODE, sizeof spin_syscall, 0, 0, 0);
    indirect(mm, SYS_mprotect, CODE, 4096, PROT_READ | PROT_EXEC, 0, 0, 0);
    struct umlpy_vcpu v;
    memset(&v, 0, sizeof v);
    v.mm_fd = mm;
    v.regs.rip = CODE;
    v.regs.rsp = STACK + 4096;
    syscall(UMLPY_NR_UNPRIVILEGE, &v);        /* the first run faults its pages in */
    t0 = now_us();
    for (long i = 0; i < n; i++) {
        v.regs.rax = 1;
        if (syscall(UMLPY_NR_UNPRIVILEGE, &v) != UMLPY_EXIT_SYSCALL)
            return 1;
    }
    row("unpriv_syscall", t0, n);

    t0 = now_us();
    for (long i = 0; i < n / 10; i++)
        close(syscall(UMLPY_NR_CREATE_MM));
    row("create_mm", t0, n / 10);

    t0 = now_us();
    for (long i = 0; i < n / 10; i++) {
        pid_t c = fork();
        if (c == 0)
            _exit(0);
        waitpid(c, 0, 0);
    }
    row("fork", t0, n / 10);

    pid_t c = fork();
    if (c == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0))
            _exit(3);
        raise(SIGSTOP);
        for (;;)
            syscall(SYS_getppid);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFSTOPPED(st) && ptrace(PTRACE_SYSEMU, c, 0, 0) == 0) {
        waitpid(c, &st, 0);
        t0 = now_us();
        for (long i = 0; i < n; i++) {
            ptrace(PTRACE_SYSEMU, c, 0, 0);
            waitpid(c, &st, 0);
        }
        row("ptrace_sysemu", t0, n);
    } else {
        printf("ptrace_sysemu n/a\n");
    }
    kill(c, SIGKILL);
    waitpid(c, 0, 0);
    return 0;
}
