/* asdemo: new_as/switch_as (Chubb 2007, DESIGN.md "new_as/switch_as"), shown and checked.
 *
 * The checks run on a MAP_SHARED stack (made before the first new_as, as Chubb's mail
 * says: switch_as keeps every register, so the stack must be valid in both contexts) and
 * print with write(2) (stdio's buffers are private memory, one copy per context).  One
 * line per check; the exit status is the number of failures; on a host kernel the first
 * call fails with ENOSYS and the program exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umlpy.h"

#define PG 4096UL
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (write(1, buf, n) != n) _exit(100);
}

struct shared {
    int failures;
    volatile int flag;       /* a futex word, shared by every context */
    volatile int seen;
    char stack[64 * 1024] __attribute__((aligned(16)));
};
static struct shared *sh;
static char **self_argv;

static void check(const char *what, int ok)
{
    say("%-62s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) sh->failures++;
}

static long new_as(void) { return syscall(UMLPY_NR_NEW_AS); }
static long switch_as(long n) { return syscall(UMLPY_NR_SWITCH_AS, n); }

static int priv = 1;                 /* private data: one copy per context */
static char pstack[64 * 1024] __attribute__((aligned(16)));   /* a private stack, in every context */
static int *heap;

static long futex(volatile int *w, int op, int val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* switch_as keeps every register: callee-saved ones and an SSE register, across a switch. */
static int registers_kept(long n)
{
    unsigned long out[6];
    long ret;
    __asm__ volatile(
        "mov $0x1111, %%rbx\n\t"
        "mov $0x1212, %%r12\n\t"
        "mov $0x1313, %%r13\n\t"
        "mov $0x1414, %%r14\n\t"
        "mov $0x1515, %%r15\n\t"
        "mov $0x5151, %%rax\n\t"
        "movq %%rax, %%xmm7\n\t"
        "mov %[nr], %%eax\n\t"
        "syscall\n\t"
        "mov %%rbx, 0(%[out])\n\t"
        "mov %%r12, 8(%[out])\n\t"
        "mov %%r13, 16(%[out])\n\t"
        "mov %%r14, 24(%[out])\n\t"
        "mov %%r15, 32(%[out])\n\t"
        "movq %%xmm7, 40(%[out])\n\t"
        : "=a"(ret)
        : [nr] "i"(UMLPY_NR_SWITCH_AS), "D"(n), [out] "S"(out)
        : "rbx", "r12", "r13", "r14", "r15", "rcx", "r11", "xmm7", "memory");
    return ret == 0 && out[0] == 0x1111 && out[1] == 0x1212 && out[2] == 0x1313 && out[3] == 0x1414
           && out[4] == 0x1515 && out[5] == 0x5151;
}

static void *thread_main(void *arg)
{
    (void)arg;
    /* This thread stays in context 0.  Wait for the main thread (in context 2). */
    while (sh->flag != 1) futex(&sh->flag, FUTEX_WAIT, 0);
    priv = 99;                        /* context 0's copy */
    sh->seen = 1;
    sh->flag = 2;
    futex(&sh->flag, FUTEX_WAKE, 1);
    return NULL;
}

static int mapped(void *p) { return msync(p, PG, MS_ASYNC) == 0; }

/* Call fn with the stack pointer at top. */
static void call_on(void *top, void (*fn)(void))
{
    __asm__ volatile(
        "mov %%rsp, %%r12\n\t"
        "mov %0, %%rsp\n\t"
        "call *%1\n\t"
        "mov %%r12, %%rsp\n\t"
        : : "r"(top), "r"(fn)
        : "r12", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}

/* Fork in context 2, on a private stack (a shared one would be the child's too). */
static void fork_in_context(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        int ok = priv == 20 && switch_as(1) == -1 && errno == ENOENT && switch_as(0) == 0 && priv == 20;
        _exit(ok ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    check("fork in context 2: the child has one context, a copy of 2",
          WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A child that makes contexts, switches and execs (on a private stack, as above). */
static void exec_in_context(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        new_as();
        switch_as(1);
        char *argv[] = {self_argv[0], "exec-child", NULL};
        execv(self_argv[0], argv);
        _exit(3);
    }
    int st;
    waitpid(pid, &st, 0);
    check("a child execs from context 1: the new image has none",
          WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void checks(void)
{
    heap = malloc(64);
    *heap = 7;
    long c1 = new_as();
    check("first new_as returns 1", c1 == 1);
    long c2 = new_as();
    check("the next one returns 2", c2 == 2);

    check("switch_as(1) keeps every register", registers_kept(1));
    check("context 1 starts as a copy: private data and heap", priv == 1 && *heap == 7);
    priv = 10;
    *heap = 70;
    char *only1 = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    only1[0] = 1;
    check("switch_as(0) keeps every register", registers_kept(0));
    check("context 0 kept its own private data", priv == 1 && *heap == 7);
    check("a mapping made in context 1 is not in context 0", !mapped(only1));
    switch_as(1);
    check("context 1 kept its writes", priv == 10 && *heap == 70 && mapped(only1) && only1[0] == 1);
    switch_as(0);

    /* Threads switch on their own; a futex in shared memory wakes across contexts. */
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    switch_as(2);
    priv = 20;
    sh->flag = 1;
    futex(&sh->flag, FUTEX_WAKE, 1);
    while (sh->flag != 2) futex(&sh->flag, FUTEX_WAIT, 1);
    check("a thread in context 0 and one in 2: separate memory, shared futex",
          sh->seen == 1 && priv == 20);
    switch_as(0);
    pthread_join(th, NULL);
    check("context 0 saw the thread's write", priv == 99);
    priv = 1;

    /* Fork in context 2: the child has one context (0), a copy of context 2. */
    switch_as(2);
    call_on(pstack + sizeof pstack, fork_in_context);
    switch_as(0);

    /* Errors. */
    errno = 0;
    check("switch_as(-1): ENOENT", switch_as(-1) == -1 && errno == ENOENT);
    errno = 0;
    check("switch_as(16): ENOENT", switch_as(16) == -1 && errno == ENOENT);
    errno = 0;
    check("switch_as(9) before it exists: ENOENT", switch_as(9) == -1 && errno == ENOENT);
    long last = 0, n;
    while ((n = new_as()) > 0) last = n;
    check("contexts 3..15 made, then ENOENT", last == 15 && errno == ENOENT);
    check("switch_as(15) and back", switch_as(15) == 0 && priv == 1 && switch_as(0) == 0);

    /* exec frees every context: a child makes some, switches, and execs. */
    call_on(pstack + sizeof pstack, exec_in_context);
}

int main(int argc, char **argv)
{
    self_argv = argv;
    if (argc > 1 && !strcmp(argv[1], "exec-child")) {
        errno = 0;
        return switch_as(1) == -1 && errno == ENOENT ? 0 : 1;
    }
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (syscall(UMLPY_NR_SWITCH_AS, 0) < 0) {
        say("asdemo: switch_as: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }
    call_on(sh->stack + sizeof sh->stack, checks);      /* the checks run on the shared stack */
    say("asdemo: %d failures\n", sh->failures);
    return sh->failures;
}
