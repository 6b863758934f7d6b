/* memhog: use more memory than the guest machine has (umlpy --memory).  Under umlpy the
 * process that runs out is killed with SIGKILL (Linux's OOM killer) and the others go on.
 *
 *   memhog child MIB    a child touches MIB of private memory; the parent reports how it
 *                       ended, then touches 1 MiB of its own and says so
 *   memhog shared MIB   the same with MAP_SHARED memory
 *   memhog self MIB     the process itself touches MIB
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void touch(size_t mib, int flags)
{
    size_t len = mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        printf("mmap failed\n");
        exit(3);
    }
    for (size_t i = 0; i < len; i += 4096) p[i] = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    size_t mib = strtoul(argv[2], 0, 10);
    if (!strcmp(argv[1], "self")) {
        touch(mib, MAP_PRIVATE);
        printf("touched %zu MiB\n", mib);
        return 0;
    }
    int flags = !strcmp(argv[1], "shared") ? MAP_SHARED : MAP_PRIVATE;
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        touch(mib, flags);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    if (WIFSIGNALED(st))
        printf("child killed by signal %d\n", WTERMSIG(st));
    else
        printf("child exited %d\n", WEXITSTATUS(st));
    touch(1, MAP_PRIVATE);
    printf("parent touched 1 MiB after it\n");
    return 0;
}
