/* forkbench: the cost of fork + _exit + waitpid of a parent with MiB of private memory
 * (every page written before the loop), timed inside the program (CLOCK_MONOTONIC).
 *
 * Usage: forkbench MIB N   prints "forkbench MIB us_per_fork"
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
    long mib = argc > 1 ? atol(argv[1]) : 8, n = argc > 2 ? atol(argv[2]) : 100;
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < len; i += 4096) p[i] = 1;
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        pid_t c = fork();
        if (c < 0) {
            perror("fork");
            return 1;
        }
        if (c == 0) _exit(0);
        int st;
        if (waitpid(c, &st, 0) != c || st != 0) return 1;
    }
    printf("forkbench %ld %.1f\n", mib, n ? (now_us() - t0) / n : 0.0);
    return 0;
}
