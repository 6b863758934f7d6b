/* asswitch: a hosted-VMM-style context switcher, as Chubb's 2007 mail describes it.
 *
 * One process keeps 8 guest "processes" as new_as contexts 1..8 (context 0 is the
 * monitor) and round-robins between them from a SIGUSR1 handler that runs on a
 * MAP_SHARED alternate signal stack: the handler saves the interrupted context's
 * registers (general and SSE) into shared memory, switch_as()es to the next context,
 * loads that context's saved registers into the signal frame and returns, so that
 * sigreturn resumes the next guest where it stopped.  Each guest runs on a private
 * stack at the same address in every context and adds its id to a private counter
 * ROUNDS times, yielding (raise(SIGUSR1)) after each step: the counters only come out
 * right if every context keeps its own memory.  The monitor prints the counters and the
 * start of the schedule.  On a host kernel new_as fails with ENOSYS: exit 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "umlpy.h"

#define NGUESTS 8
#define ROUNDS 50
#define LOG 32

struct shared {
    char altstack[64 * 1024] __attribute__((aligned(16)));
    greg_t gregs[NGUESTS + 1][NGREG];
    unsigned char fp[NGUESTS + 1][512] __attribute__((aligned(16)));
    int cur, started, ndone, nlog;
    long switches;
    long done[NGUESTS + 1];
    int log[LOG];
};

static struct shared *sh;                          /* same value in every context */
static long counter;                               /* private: one per context */
static char gstack[64 * 1024] __attribute__((aligned(16)));   /* private, same address everywhere */

static void guest(long id)
{
    for (int k = 0; k < ROUNDS; k++) {
        counter += id;
        raise(SIGUSR1);
    }
    sh->done[id] = counter;
    sh->ndone++;
    for (;;) raise(SIGUSR1);                       /* never scheduled again */
}

static int pick(int cur)
{
    for (int i = 1; i <= NGUESTS + 1; i++) {
        int n = (cur + i) % (NGUESTS + 1);
        if (n == 0 || !sh->done[n]) return n;
    }
    return 0;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ucv;
    struct shared *s = sh;
    int cur = s->cur;
    if (!s->started) {
        /* Every guest starts at guest(id) on its private stack, as if just called. */
        for (int i = 1; i <= NGUESTS; i++) {
            memcpy(s->gregs[i], uc->uc_mcontext.gregs, sizeof s->gregs[i]);
            if (uc->uc_mcontext.fpregs)
                memcpy(s->fp[i], uc->uc_mcontext.fpregs, sizeof s->fp[i]);
            s->gregs[i][REG_RIP] = (greg_t)guest;
            s->gregs[i][REG_RSP] = (greg_t)(gstack + sizeof gstack - 8);
            s->gregs[i][REG_RDI] = i;
            s->gregs[i][REG_RBP] = 0;
        }
        s->started = 1;
    }
    memcpy(s->gregs[cur], uc->uc_mcontext.gregs, sizeof s->gregs[cur]);
    /* The SSE state travels in the frame where the kernel puts it there (Linux does;
     * umlpy's guest kernel keeps it per task and fpregs is NULL). */
    if (uc->uc_mcontext.fpregs)
        memcpy(s->fp[cur], uc->uc_mcontext.fpregs, sizeof s->fp[cur]);
    int next = pick(cur);
    if (s->nlog < LOG) s->log[s->nlog++] = next;
    s->cur = next;
    s->switches++;
    if (syscall(UMLPY_NR_SWITCH_AS, next) != 0) _exit(50);
    /* Now in context `next`, still on the shared stack: load its registers. */
    memcpy(uc->uc_mcontext.gregs, s->gregs[next], sizeof s->gregs[next]);
    if (uc->uc_mcontext.fpregs)
        memcpy(uc->uc_mcontext.fpregs, s->fp[next], sizeof s->fp[next]);
}

int main(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) return 1;
    stack_t ss = {.ss_sp = sh->altstack, .ss_size = sizeof sh->altstack};
    struct sigaction sa = {.sa_sigaction = handler, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) || sigaction(SIGUSR1, &sa, NULL)) return 1;
    for (int i = 1; i <= NGUESTS; i++) {
        long n = syscall(UMLPY_NR_NEW_AS);
        if (n != i) {
            printf("asswitch: new_as: %s (not under umlpy)\n", n < 0 ? strerror(errno) : "unexpected index");
            return 2;
        }
    }
    while (sh->ndone < NGUESTS) raise(SIGUSR1);
    int bad = 0;
    for (int i = 1; i <= NGUESTS; i++) {
        int ok = sh->done[i] == (long)i * ROUNDS;
        printf("guest %d: counter %ld (its own memory: %s)\n", i, sh->done[i], ok ? "ok" : "FAILED");
        bad += !ok;
    }
    printf("monitor: counter %ld, %ld switches, schedule:", counter, sh->switches);
    for (int i = 0; i < LOG; i++) printf(" %d", sh->log[i]);
    printf("\n");
    return bad;
}
