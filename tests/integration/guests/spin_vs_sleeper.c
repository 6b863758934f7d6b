/* A parent spins without system calls until a child, asleep for 30 ms, sets a shared
 * flag: the sleeper's timer must fire while the spinner runs. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    volatile int *flag = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t c = fork();
    if (c == 0) {
        struct timespec ts = {0, 30000000};
        nanosleep(&ts, 0);
        *flag = 1;
        _exit(0);
    }
    unsigned long spins = 0;
    while (!*flag)
        spins++;
    int st;
    waitpid(c, &st, 0);
    printf("the sleeper woke while the parent spun: %s\n", spins > 0 && WIFEXITED(st) ? "yes" : "no");
    return 0;
}
