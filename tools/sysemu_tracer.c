/*
 * sysemu_tracer: the bare C PTRACE_SYSEMU round trip, the baseline that
 * tools/bench.py holds umlpy's run loop against.
 *
 *   sysemu_tracer [--same-cpu | --split-cpu] [--cpu N] [--peek] [--count] PROGRAM [ARGS...]
 *
 * The program runs in a traced child under PTRACE_SYSEMU, so the host kernel
 * runs none of its system calls.  Every stop costs what a UML-style run loop
 * costs at the least: waitpid, PTRACE_GETREGS, one register write, and
 * PTRACE_SYSEMU again (--peek: PTRACE_PEEKUSER of orig_rax instead of
 * PTRACE_GETREGS for getppid, as csrc/shim.c does on its fast path).  Just enough is emulated for simple freestanding
 * programs to work:
 *
 *   getppid (110)          the real answer (the child's parent is us)
 *   write (1)              done on the child's behalf (process_vm_readv)
 *   exit, exit_group       the tracer exits with that status
 *   anything else          -ENOSYS
 *
 * Placement (DESIGN.md, "Where time goes"): --same-cpu (the default) pins
 * the tracer and the child to one CPU; --split-cpu pins them to two
 * different CPUs, so every stop has to wake the other CPU.  The tracer's CPU
 * is the one it starts on (as umlpy's supervisor does), or --cpu N; the
 * child's, with --split-cpu, the next allowed one.
 *
 * --count prints the number of emulated system calls to stderr at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif
#ifndef PTRACE_O_EXITKILL
#define PTRACE_O_EXITKILL (1 << 20)
#endif

#define NR_write 1
#define NR_exit 60
#define NR_getppid 110
#define NR_exit_group 231

#define RAX_OFF offsetof(struct user_regs_struct, rax)
#define ORIG_RAX_OFF offsetof(struct user_regs_struct, orig_rax)

static void die(const char *what)
{
    fprintf(stderr, "sysemu_tracer: %s: %s\n", what, strerror(errno));
    exit(127);
}

/* An allowed CPU other than `not`, after it in order (wrapping), or -1. */
static int other_allowed_cpu(const cpu_set_t *set, int not)
{
    for (int i = 1; i < CPU_SETSIZE; i++) {
        int cpu = (not + i) % CPU_SETSIZE;
        if (CPU_ISSET(cpu, set))
            return cpu;
    }
    return -1;
}

static void pin(pid_t pid, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(pid, sizeof(set), &set) < 0)
        die("sched_setaffinity");
}

/* write(fd, buf, len) on the child's behalf; returns the result for its rax. */
static long emulate_write(pid_t pid, int fd, unsigned long addr, unsigned long len)
{
    static char buf[65536];
    if (len > sizeof(buf))
        len = sizeof(buf);
    struct iovec local = { buf, len }, remote = { (void *)addr, len };
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0)
        return -EFAULT;
    n = write(fd, buf, (size_t)n);
    return n < 0 ? -errno : n;
}

static void wait_child(pid_t pid, int *status)
{
    while (waitpid(pid, status, __WALL) < 0)
        if (errno != EINTR)
            die("waitpid");
}

/* The child died on its own: pass its exit on. */
static void check_gone(int status)
{
    if (WIFEXITED(status))
        exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        exit(128 + WTERMSIG(status));
}

int main(int argc, char **argv)
{
    int split = 0, count = 0, peek = 0, cpu0 = -1, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--same-cpu"))
            split = 0;
        else if (!strcmp(argv[i], "--split-cpu"))
            split = 1;
        else if (!strcmp(argv[i], "--count"))
            count = 1;
        else if (!strcmp(argv[i], "--peek"))
            peek = 1;
        else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
            cpu0 = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--"))  {
            i++;
            break;
        } else {
            fprintf(stderr, "sysemu_tracer: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "usage: sysemu_tracer [--same-cpu|--split-cpu] [--cpu N] [--peek] [--count]"
                " PROGRAM [ARGS...]\n");
        return 2;
    }

    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
        die("sched_getaffinity");
    if (cpu0 < 0)
        cpu0 = sched_getcpu();
    if (cpu0 < 0 || cpu0 >= CPU_SETSIZE || !CPU_ISSET(cpu0, &allowed)) {
        fprintf(stderr, "sysemu_tracer: CPU %d is not allowed\n", cpu0);
        return 2;
    }
    int cpu1 = other_allowed_cpu(&allowed, cpu0);
    if (split && cpu1 < 0) {
        fprintf(stderr, "sysemu_tracer: --split-cpu needs two CPUs\n");
        return 2;
    }
    /* Pin ourselves before fork: with --same-cpu the child inherits it. */
    pin(0, cpu0);

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (split)
            pin(0, cpu1);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
            die("PTRACE_TRACEME");
        raise(SIGSTOP);
        execv(argv[i], argv + i);
        die(argv[i]);
    }

    int status;
    wait_child(pid, &status);
    check_gone(status);
    if (ptrace(PTRACE_SETOPTIONS, pid, 0,
               (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)) < 0)
        die("PTRACE_SETOPTIONS");
    /* Let the execve itself run (under SYSEMU it would not): its SIGTRAP
     * marks the new program's first instruction. */
    if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
        die("PTRACE_CONT");
    wait_child(pid, &status);
    check_gone(status);
    if (WSTOPSIG(status) != SIGTRAP) {
        fprintf(stderr, "sysemu_tracer: exec failed (stop signal %d)\n", WSTOPSIG(status));
        kill(pid, SIGKILL);
        return 127;
    }

    pid_t ppid = getpid();
    long calls = 0;
    int sig = 0;
    struct user_regs_struct regs;
    for (;;) {
        if (ptrace(PTRACE_SYSEMU, pid, 0, (void *)(long)sig) < 0)
            die("PTRACE_SYSEMU");
        sig = 0;
        wait_child(pid, &status);
        check_gone(status);
        if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
            sig = WSTOPSIG(status);  /* a real signal: deliver it */
            continue;
        }
        calls++;
        if (peek) {
            /* The fast path of csrc/shim.c: one word, not the register file. */
            errno = 0;
            long nr = ptrace(PTRACE_PEEKUSER, pid, (void *)ORIG_RAX_OFF, 0);
            if (nr < 0 && errno)
                die("PTRACE_PEEKUSER");
            if (nr == NR_getppid) {
                if (ptrace(PTRACE_POKEUSER, pid, (void *)RAX_OFF, (void *)(long)ppid) < 0)
                    die("PTRACE_POKEUSER");
                continue;
            }
        }
        if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
            die("PTRACE_GETREGS");
        long ret;
        switch (regs.orig_rax) {
        case NR_getppid:
            ret = ppid;
            break;
        case NR_write:
            ret = emulate_write(pid, (int)regs.rdi, regs.rsi, regs.rdx);
            break;
        case NR_exit:
        case NR_exit_group:
            if (count)
                fprintf(stderr, "sysemu_tracer: %ld system calls\n", calls);
            kill(pid, SIGKILL);
            wait_child(pid, &status);
            exit((int)regs.rdi & 0xff);
        default:
            ret = -ENOSYS;
        }
        if (ptrace(PTRACE_POKEUSER, pid, (void *)RAX_OFF, (void *)ret) < 0)
            die("PTRACE_POKEUSER");
    }
}
