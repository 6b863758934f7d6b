/* ptracer: a small ptrace(2) tracer, run natively and under umlpy with the same output.
 *
 * It forks a child that stops itself after PTRACE_TRACEME and then checks, one line each:
 * syscall-entry/exit stops (SIGTRAP|0x80), GET_SYSCALL_INFO, PEEKDATA/POKEDATA,
 * GETREGS/SETREGS (a changed result), PEEKUSER/POKEUSER, a signal-delivery-stop that the
 * tracer suppresses, PTRACE_EVENT_FORK with the new child's first stop, single-stepping
 * a loop instruction by instruction, the exec SIGTRAP, and the ESRCH cases.
 * The exit status is the number of failed checks. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* struct syscall_info of linux/ptrace.h (musl has no kernel headers) */
struct syscall_info {
    unsigned char op;
    unsigned char pad[3];
    unsigned int arch;
    unsigned long instruction_pointer, stack_pointer;
    union {
        struct { unsigned long nr, args[6]; } entry;
        struct { long rval; unsigned char is_error; } exit;
    };
};
#define GET_SYSCALL_INFO 0x420e
#define INFO_ENTRY 1
#define INFO_EXIT 2
#define EVENT_FORK 1

static int failures;
static volatile long shared_word = 0x1122334455667788L;

#define CHECK(cond, ...) do { printf(__VA_ARGS__); printf(": %s\n", (cond) ? "ok" : "FAILED"); \
    if (!(cond)) { failures++; } fflush(stdout); } while (0)

static long raw(long nr) { return syscall(nr); }

static void child(char *self)
{
    ptrace(PTRACE_TRACEME, 0, 0, 0);
    raise(SIGSTOP);
    long r = raw(SYS_getpid);                 /* the tracer makes this return 1234 */
    if (shared_word != 0x55) r = -1;          /* the tracer poked 0x55 */
    kill(getpid(), SIGUSR1);                  /* the tracer suppresses it */
    pid_t p = fork();                          /* PTRACE_EVENT_FORK */
    if (p == 0)
        _exit(5);
    waitpid(p, NULL, 0);
    /* a loop to single-step: 1 + 2*5 + 1 instructions from getppid's return to getpid's syscall */
    __asm__ volatile("mov $110, %%eax\n syscall\n mov $5, %%ecx\n1: dec %%ecx\n jnz 1b\n"
                     "mov $39, %%eax\n syscall\n" ::: "rax", "rcx", "r11", "memory");
    char *argv[] = { self, "exec-done", NULL };
    execv(self, argv);
    _exit(r == 1234 ? 3 : 4);
}

static int wait_stop(pid_t pid, const char *what)
{
    int st;
    if (waitpid(pid, &st, __WALL) != pid) {
        printf("%s: waitpid failed: %s\n", what, strerror(errno));
        failures++;
        return -1;
    }
    return st;
}

/* Run to the next syscall stop of syscall nr (entry, or exit when exit=1). */
static int to_syscall(pid_t pid, long nr, int exit_stop)
{
    for (int i = 0; i < 200; i++) {
        ptrace(PTRACE_SYSCALL, pid, 0, 0);
        int st = wait_stop(pid, "syscall");
        if (st < 0 || !WIFSTOPPED(st))
            return st;
        if (WSTOPSIG(st) != (SIGTRAP | 0x80))
            continue;
        struct syscall_info info;
        long n = ptrace(GET_SYSCALL_INFO, pid, sizeof info, &info);
        if (n < 0)
            return -1;
        if (info.op == INFO_ENTRY && info.entry.nr == (unsigned long)nr && !exit_stop)
            return st;
        if (info.op == INFO_EXIT && exit_stop) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, 0, &regs);
            if ((long)regs.orig_rax == nr)
                return st;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exec-done") == 0)
        return 3;
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    errno = 0;
    long r = ptrace(PTRACE_PEEKDATA, getpid(), &shared_word, 0);
    CHECK(r == -1 && errno == ESRCH, "PEEKDATA of itself is ESRCH");

    pid_t pid = fork();
    if (pid == 0)
        child(argv[0]);
    int st = wait_stop(pid, "first stop");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP, "TRACEME child stopped with SIGSTOP");
    CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK) == 0,
          "SETOPTIONS TRACESYSGOOD|TRACEFORK");
    errno = 0;
    CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, 0x80000000) == -1 && errno == EINVAL, "bad option is EINVAL");

    st = to_syscall(pid, SYS_getpid, 0);
    CHECK(st > 0 && WSTOPSIG(st) == (SIGTRAP | 0x80), "syscall-entry stop of getpid is SIGTRAP|0x80");
    struct syscall_info info;
    long n = ptrace(GET_SYSCALL_INFO, pid, sizeof info, &info);
    CHECK(n == offsetof(struct syscall_info, entry.args) + 48 && info.op == INFO_ENTRY
          && info.arch == 0xC000003E, "GET_SYSCALL_INFO at entry: size %ld op %d", n, info.op);
    struct user_regs_struct regs;
    ptrace(PTRACE_GETREGS, pid, 0, &regs);
    CHECK(regs.orig_rax == SYS_getpid && (long)regs.rax == -ENOSYS, "GETREGS at entry: orig_rax %lld rax %lld",
          (long long)regs.orig_rax, (long long)regs.rax);
    errno = 0;
    long w = ptrace(PTRACE_PEEKDATA, pid, &shared_word, 0);
    CHECK(errno == 0 && w == 0x1122334455667788L, "PEEKDATA reads the child's word");
    CHECK(ptrace(PTRACE_POKEDATA, pid, &shared_word, (void *)0x55L) == 0, "POKEDATA");
    errno = 0;
    ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0);
    CHECK(errno == EIO || errno == EFAULT, "PEEKDATA of an unmapped address fails");
    errno = 0;
    long orig = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, orig_rax), 0);
    CHECK(errno == 0 && orig == SYS_getpid, "PEEKUSER orig_rax");
    errno = 0;
    ptrace(PTRACE_PEEKUSER, pid, 3, 0);
    CHECK(errno == EIO, "PEEKUSER misaligned is EIO");
    errno = 0;
    long dr7 = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user, u_debugreg) + 7 * 8, 0);
    CHECK(errno == 0 && dr7 == 0, "PEEKUSER u_debugreg[7] reads 0");

    st = to_syscall(pid, SYS_getpid, 1);
    ptrace(PTRACE_GETREGS, pid, 0, &regs);
    CHECK(st > 0 && (long)regs.rax == pid, "syscall-exit stop: getpid returned the child's pid");
    n = ptrace(GET_SYSCALL_INFO, pid, sizeof info, &info);
    CHECK(info.op == INFO_EXIT && info.exit.rval == pid && !info.exit.is_error,
          "GET_SYSCALL_INFO at exit");
    regs.rax = 1234;
    CHECK(ptrace(PTRACE_SETREGS, pid, 0, &regs) == 0, "SETREGS rax=1234");

    /* The SIGUSR1 it sends itself: a signal-delivery-stop, suppressed. */
    ptrace(PTRACE_CONT, pid, 0, 0);
    st = wait_stop(pid, "SIGUSR1");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGUSR1, "signal-delivery-stop for SIGUSR1");
    siginfo_t si;
    ptrace(PTRACE_GETSIGINFO, pid, 0, &si);
    CHECK(si.si_signo == SIGUSR1 && si.si_code == SI_USER, "GETSIGINFO: SIGUSR1 SI_USER");

    /* fork: PTRACE_EVENT_FORK, GETEVENTMSG, the grandchild's SIGSTOP. */
    ptrace(PTRACE_CONT, pid, 0, 0);
    st = wait_stop(pid, "fork event");
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && (st >> 16) == EVENT_FORK,
          "PTRACE_EVENT_FORK stop");
    unsigned long gpid = 0;
    ptrace(PTRACE_GETEVENTMSG, pid, 0, &gpid);
    int gst = wait_stop(gpid, "grandchild");
    CHECK(gpid > 0 && WIFSTOPPED(gst) && WSTOPSIG(gst) == SIGSTOP, "the new child is traced and stopped with SIGSTOP");
    errno = 0;
    ptrace(PTRACE_CONT, gpid, 0, 0);
    CHECK(errno == 0, "CONT the new child");
    gst = wait_stop(gpid, "grandchild exit");
    CHECK(WIFEXITED(gst) && WEXITSTATUS(gst) == 5, "the tracer sees the new child exit with 5");

    /* Single-step from getppid's return to getpid's syscall instruction. */
    st = to_syscall(pid, SYS_getppid, 1);
    CHECK(st > 0, "at getppid's exit stop");
    errno = 0;
    ptrace(PTRACE_PEEKDATA, pid, &shared_word, 0);
    int steps = 0;
    for (; steps < 100; steps++) {
        ptrace(PTRACE_GETREGS, pid, 0, &regs);
        long insn = ptrace(PTRACE_PEEKTEXT, pid, regs.rip, 0);
        if ((insn & 0xFFFF) == 0x050F && regs.rax == SYS_getpid)
            break;
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        st = wait_stop(pid, "step");
        if (!WIFSTOPPED(st) || WSTOPSIG(st) != SIGTRAP)
            break;
    }
    CHECK(steps == 12, "SINGLESTEP: %d instructions to the next syscall", steps);
    CHECK(!(regs.eflags & 0x100), "the trap flag is not visible to the tracer");

    /* execve: the old-style SIGTRAP after a successful exec. */
    for (;;) {
        ptrace(PTRACE_CONT, pid, 0, 0);
        st = wait_stop(pid, "exec");
        if (!WIFSTOPPED(st) || WSTOPSIG(st) == SIGTRAP)
            break;
    }
    CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGTRAP && (st >> 16) == 0, "SIGTRAP after execve");

    /* ESRCH: a running tracee, a child that is not traced. */
    ptrace(PTRACE_CONT, pid, 0, 0);
    errno = 0;
    ptrace(PTRACE_GETREGS, pid, 0, &regs);
    CHECK(errno == ESRCH, "GETREGS of a running tracee is ESRCH");
    st = wait_stop(pid, "exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 3, "the tracee exits with 3 (status %#x)", st);
    pid_t other = fork();
    if (other == 0) {
        usleep(1000);
        _exit(0);
    }
    errno = 0;
    ptrace(PTRACE_CONT, other, 0, 0);
    CHECK(errno == ESRCH, "CONT of a child that is not traced is ESRCH");
    waitpid(other, NULL, 0);
    printf("%d failures\n", failures);
    return failures;
}
