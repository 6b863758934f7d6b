/*
 * sysfuzz SEED COUNT: COUNT system calls with random numbers and arguments.
 *
 * Arguments are drawn from values that find bugs: 0, -1, small numbers,
 * pointers into a scratch buffer (valid, at its end, misaligned), wild and
 * kernel-half pointers, huge lengths.  Calls that would end the guest or
 * wait without end are left out, so a run ends on its own; anything the
 * guest kernel does must stay an errno, a signal or a one-line message.
 */
#include "freestanding.h"

/* The PRNG state lives on the stack: the calls write through pointers into
 * (and past) the scratch buffer, never into the stack. */
static unsigned long next_(unsigned long *state)
{
    unsigned long s = *state;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return *state = s;
}
#define next() next_(st)

static char scratch[65536];

static long pick_arg(unsigned long *st)
{
    switch (next() % 14) {
    case 0: return 0;
    case 1: return -1;
    case 2: return next() % 16;
    case 3: return next() % 4096;
    case 4: return (long)scratch;
    case 5: return (long)scratch + (long)(next() % sizeof scratch);
    case 6: return (long)scratch + sizeof scratch - 1;
    case 7: return 0x10;
    case 8: return (long)0xffff800000000000UL;
    case 9: return (long)0x7ffb00000000UL;     /* the stub's text */
    case 10: return 1L << 40;
    case 11: return (long)next();
    case 12: return -100;                      /* AT_FDCWD */
    default: return (long)(next() % 3);
    }
}

static int excluded(long nr)
{
    switch (nr) {
    case 7: case 23: case 270: case 271: case 232: case 281: case 441: /* poll/select/epoll: may wait */
    case 34: case 35: case 230: case 130: case 128: case 61: case 247:  /* pause, sleeps, sigsuspend, waits */
    case 202:                                                          /* futex: may wait */
    case 60: case 231: case 62: case 200: case 234:                    /* exit, kill */
    case 56: case 57: case 58: case 59: case 322: case 435:            /* clone, fork, exec */
    case 0: case 17: case 19: case 295: case 327:                      /* reads: stdin may wait */
    case 11: case 25: case 12: case 9: case 10:                        /* munmap/mremap/brk/mmap/mprotect: own code */
    case 15: case 158: case 334:                                       /* sigreturn, arch_prctl, rseq */
    case 39: case 110: case 186:                                       /* fast path: boring */
    case 37: case 38:                                                  /* alarm, setitimer: signals */
        return 1;
    }
    return 0;
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long seed = 1, count = 1000;
    if (argc > 1) { seed = 0; for (char *p = argv[1]; *p; p++) seed = seed * 10 + (*p - '0'); }
    if (argc > 2) { count = 0; for (char *p = argv[2]; *p; p++) count = count * 10 + (*p - '0'); }
    unsigned long state = seed * 2654435761UL + 88172645463325252UL, *st = &state;
    for (unsigned long i = 0; i < count; i++) {
        long nr;
        do {
            nr = (next() % 8 == 0) ? (long)(next() % 1100) : (long)(next() % 335);
        } while (excluded(nr));
        long a[6];
        for (int k = 0; k < 6; k++)
            a[k] = pick_arg(st);
        syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    return 0;
}
