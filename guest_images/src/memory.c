/* Memory: brk/malloc, anonymous mmap, mprotect, mremap, shared memory across fork. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static sigjmp_buf env;
static void on_segv(int sig) { (void)sig; siglongjmp(env, 1); }

int main(void)
{
    /* malloc: small (brk) and large (mmap) */
    char *small = malloc(100);
    char *large = malloc(8 << 20);
    memset(small, 1, 100);
    memset(large, 2, 8 << 20);
    long sum = 0;
    for (int i = 0; i < (8 << 20); i += 4096) sum += large[i];
    printf("malloc ok, sum=%ld\n", sum);
    free(large);
    free(small);

    /* anonymous private mapping, zero filled */
    size_t len = 1 << 20;
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int zero = 1;
    for (size_t i = 0; i < len; i += 512) if (p[i]) zero = 0;
    printf("mmap zero-filled: %d\n", zero);
    p[0] = 42;

    /* mprotect: reading works, writing faults */
    signal(SIGSEGV, on_segv);
    mprotect(p, 4096, PROT_READ);
    int faulted = 0;
    if (sigsetjmp(env, 1) == 0) { p[1] = 1; } else { faulted = 1; }
    printf("read-only page: value=%d write faulted=%d\n", p[0], faulted);
    mprotect(p, 4096, PROT_READ | PROT_WRITE);

    /* mremap: grow and keep content */
    p[len - 1] = 7;
    unsigned char *q = mremap(p, len, 4 * len, MREMAP_MAYMOVE);
    printf("mremap kept content: %d %d\n", q[0], q[len - 1]);
    munmap(q, 4 * len);

    /* munmap'd memory faults */
    faulted = 0;
    if (sigsetjmp(env, 1) == 0) { volatile unsigned char c = q[0]; (void)c; } else { faulted = 1; }
    printf("unmapped faulted=%d\n", faulted);

    /* MAP_SHARED across fork, and COW for private memory */
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *shared = 1;
    *priv = 1;
    pid_t c = fork();
    if (c == 0) {
        *shared = 100;
        *priv = 100;
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("after fork: shared=%d private=%d\n", *shared, *priv);
    return 0;
}
