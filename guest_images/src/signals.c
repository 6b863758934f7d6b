/* Signals: handlers, masks, pending signals, SA_SIGINFO, recovery from a fault. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2;
static sigjmp_buf env;
static void *fault_addr;

static void on_usr1(int sig) { got_usr1 = sig; }
static void on_usr2(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    got_usr2 = sig + (si->si_code == SI_TKILL || si->si_code == SI_USER ? 100 : 0);
}
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)uc;
    fault_addr = si->si_addr;
    siglongjmp(env, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    raise(SIGUSR1);
    printf("usr1 handled: %d\n", got_usr1);

    sa.sa_sigaction = on_usr2;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    kill(getpid(), SIGUSR2);
    sigpending(&pend);
    printf("usr2 pending while blocked: %d, handled yet: %d\n", sigismember(&pend, SIGUSR2), got_usr2);
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("usr2 handled after unblock: %d\n", got_usr2);

    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(env, 1) == 0) {
        *(volatile int *)0x1234 = 1;
        printf("no fault?\n");
    } else {
        printf("recovered from SIGSEGV at %p\n", fault_addr);
    }
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    printf("ignored usr1, still alive\n");
    signal(SIGTERM, SIG_DFL);
    fflush(stdout);
    raise(SIGTERM);
    printf("not reached\n");
    return 0;
}
