/*
 * unprivself: unprivilege() in the caller's own address space (mm_fd -1),
 * the 2002 proposal's literal form: only mappings made with UMLPY_PROT_UNPRIV
 * are visible to the unprivileged context.  Also the other exit reasons
 * (trap, timeout) and a signal for the caller interrupting a run (EINTR).
 * One line per check; exits with the number of failed checks (2 when not
 * running under umlpy).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "umlpy.h"

static int failed;
static volatile long private_word = 99;     /* the caller's: invisible when unprivileged */
static volatile int got_usr1;

static void check(const char *what, int ok)
{
    printf("%-62s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failed++;
}

static void on_usr1(int s) { (void)s; got_usr1 = 1; }

/* Unprivileged code, at offsets of the code page:
 *   0: movq $0x1234,(%rbx); mov $39,%eax; syscall; mov (%rcx),%rax; ud2
 *  32: jmp .          (spins: timeout, signal)                          */
static const unsigned char code[] = {
    0x48, 0xc7, 0x03, 0x34, 0x12, 0x00, 0x00,   /* movq $0x1234,(%rbx) */
    0xb8, 0x27, 0x00, 0x00, 0x00,               /* mov $39,%eax */
    0x0f, 0x05,                                 /* syscall */
    0x49, 0x8b, 0x00,                           /* mov (%r8),%rax */
    0x0f, 0x0b,                                 /* ud2 */
};

static long unpriv(struct umlpy_vcpu *v) { return syscall(UMLPY_NR_UNPRIVILEGE, v); }

int main(void)
{
    if (syscall(UMLPY_NR_UNPRIVILEGE, (void *)0) == -1 && errno == ENOSYS) {
        printf("unprivself: unprivilege: %s (not running under umlpy?)\n", strerror(errno));
        return 2;
    }
    unsigned char *cp = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long *data = mmap(0, 8192, PROT_READ | PROT_WRITE | UMLPY_PROT_UNPRIV, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cp == MAP_FAILED || data == MAP_FAILED) {
        printf("unprivself: mmap with UMLPY_PROT_UNPRIV: %s\n", strerror(errno));
        return 1;
    }
    memcpy(cp, code, sizeof code);
    cp[32] = 0xeb;
    cp[33] = 0xfe;
    if (mprotect(cp, 4096, PROT_READ | PROT_EXEC | UMLPY_PROT_UNPRIV)) {
        printf("unprivself: mprotect with UMLPY_PROT_UNPRIV: %s\n", strerror(errno));
        return 1;
    }
    struct umlpy_vcpu v;
    memset(&v, 0, sizeof v);
    v.mm_fd = -1;
    v.regs.rip = (unsigned long)cp;
    v.regs.rsp = (unsigned long)data + 8192;
    v.regs.rbx = (unsigned long)data;
    v.regs.r8 = (unsigned long)&private_word;
    long r = unpriv(&v);
    check("the unprivileged context's syscall exits (EXIT_SYSCALL)",
          r == UMLPY_EXIT_SYSCALL && v.regs.orig_rax == 39 && v.regs.rax == (unsigned long)-ENOSYS
          && v.regs.rip == (unsigned long)cp + 14);
    check("its store into a marked mapping is the caller's memory too", data[0] == 0x1234);
    v.regs.rax = 0;
    r = unpriv(&v);
    check("the caller's own data is invisible to it (EXIT_FAULT at that address)",
          r == UMLPY_EXIT_FAULT && v.info.addr == (unsigned long)&private_word && v.info.signo == SIGSEGV
          && v.info.trap_no == 14 && v.regs.rip == (unsigned long)cp + 14);
    v.regs.rip += 3;
    r = unpriv(&v);
    check("ud2 is EXIT_SIGNAL SIGILL at its address",
          r == UMLPY_EXIT_SIGNAL && v.info.signo == SIGILL && v.info.addr == (unsigned long)cp + 17);
    v.regs.rip = (unsigned long)&main;
    r = unpriv(&v);
    check("a jump into the caller's code faults at the fetched address",
          r == UMLPY_EXIT_FAULT && v.info.addr == (unsigned long)&main);
    v.regs.rip = (unsigned long)cp + 32;
    v.timeout_ns = 20000000;
    r = unpriv(&v);
    check("a spinning context ends with EXIT_TIMEOUT", r == UMLPY_EXIT_TIMEOUT && v.regs.rip == (unsigned long)cp + 32);
    v.timeout_ns = 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        struct timespec ts = {0, 30000000};
        nanosleep(&ts, 0);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    r = unpriv(&v);
    check("a signal for the caller interrupts the run: EINTR, handler ran",
          r == -1 && errno == EINTR && got_usr1 && v.regs.rip == (unsigned long)cp + 32);
    waitpid(c, 0, 0);

    mprotect(data, 8192, PROT_READ | PROT_WRITE);       /* the whole protection: bit cleared */
    v.regs.rip = (unsigned long)cp;
    r = unpriv(&v);
    check("mprotect without the bit hides the mapping again", r == UMLPY_EXIT_FAULT && v.info.addr == (unsigned long)data);
    printf("unprivself: %d failed\n", failed);
    return failed;
}
