/* Waits that a signal interrupts, and a futex shared across fork. */
#include <errno.h>
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_WAIT_PRIVATE 128
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int s) { (void)s; }
static int word;

/* A child that sends SIGUSR1 to the parent after 30 ms. */
static pid_t poke_later(void)
{
    pid_t parent = getpid(), c = fork();
    if (c == 0) {
        struct timespec ts = {0, 30000000};
        nanosleep(&ts, 0);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    return c;
}

static void report(const char *what, long r)
{
    printf("%s: %ld %s\n", what, r, r < 0 ? strerror(errno) : "ok");
    fflush(stdout);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;           /* no SA_RESTART: every wait ends with EINTR */
    sigaction(SIGUSR1, &sa, 0);
    int p[2];
    if (pipe(p))
        return 1;

    pid_t c = poke_later();
    struct pollfd pfd = {p[0], POLLIN, 0};
    report("poll", poll(&pfd, 1, -1));
    waitpid(c, 0, 0);

    c = poke_later();
    report("futex", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0));
    waitpid(c, 0, 0);

    c = poke_later();
    struct timespec req = {5, 0}, rem = {0, 0};
    report("nanosleep", nanosleep(&req, &rem));
    printf("rem over 4 s: %s\n", rem.tv_sec >= 4 ? "yes" : "no");
    waitpid(c, 0, 0);

    c = poke_later();
    static char big[200000];
    report("pipe write", write(p[1], big, sizeof big));   /* a partial count, not EINTR */
    waitpid(c, 0, 0);

    /* A futex in MAP_SHARED memory: the child wakes the parent from its own mm. */
    int *shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    *shared = 0;
    c = fork();
    if (c == 0) {
        struct timespec ts = {0, 30000000};
        nanosleep(&ts, 0);
        *shared = 1;
        long n = syscall(SYS_futex, shared, FUTEX_WAKE, 1, 0, 0, 0);
        _exit(n == 1 ? 0 : 3);
    }
    long r = syscall(SYS_futex, shared, FUTEX_WAIT, 0, 0, 0, 0);
    int st;
    waitpid(c, &st, 0);
    printf("shared futex: %ld word %d child %d\n", r, *shared, WEXITSTATUS(st));
    return 0;
}
