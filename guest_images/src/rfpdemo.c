/* rfpdemo: remap_file_pages(2), and Giarrusso's per-page protection (MAP_NOINHERIT).
 *
 *   rfpdemo basic          a 256-page MAP_SHARED mapping of a 64-page file, each page
 *                          remapped to its own file page (prot 0, as Linux >= 3.16
 *                          accepts), contents checked, and the EINVAL cases: the same
 *                          output natively and under umlpy
 *   rfpdemo noinherit [N]  N pages (default 100,000, past the host's vm.max_map_count) in
 *                          one mapping, each with its own file page and protection (read,
 *                          read-write, none in turn); every page's content checked, writes
 *                          seen through every alias, forbidden accesses fault with the
 *                          right si_addr (a sample), mprotect resets protections and keeps
 *                          offsets, and the mapping stays one VMA.  umlpy only (on Linux a
 *                          nonzero prot is EINVAL: exit 2)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "umlpy.h"

#define PG 4096UL
#define FILE_PAGES 64

static int failures;

static void check(const char *what, int ok)
{
    printf("%-66s %s\n", what, ok ? "ok" : "FAILED");
    fflush(stdout);
    if (!ok) failures++;
}

static int make_file(void)
{
    char path[] = "/tmp/rfpdemo-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    static unsigned char page[PG];
    for (int i = 0; i < FILE_PAGES; i++) {
        memset(page, i, sizeof page);
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page) return -1;
    }
    return fd;
}

static sigjmp_buf jb;
static volatile void *fault_addr;
static volatile int fault_code;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    fault_addr = si->si_addr;
    fault_code = si->si_code;
    siglongjmp(jb, 1);
}

/* 1 if the access faulted with SIGSEGV/SEGV_ACCERR at exactly p. */
static int faults_at(volatile unsigned char *p, int write)
{
    fault_addr = NULL;
    if (sigsetjmp(jb, 1) == 0) {
        if (write)
            *p = 1;
        else
            (void)*p;
        return 0;
    }
    return fault_addr == (void *)p && fault_code == SEGV_ACCERR;
}

static int pgoff_of(long i) { return (int)((i * 7 + i / FILE_PAGES) % FILE_PAGES); }

static int basic(void)
{
    int fd = make_file();
    long n = 256;
    unsigned char *m = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED) return 1;
    int bad = 0;
    for (long i = 0; i < n; i++)
        bad += remap_file_pages(m + i * PG, PG, 0, pgoff_of(i), 0) != 0;
    check("256 pages remapped one by one", bad == 0);
    bad = 0;
    for (long i = 0; i < n; i++)
        bad += m[i * PG] != pgoff_of(i) || m[i * PG + PG - 1] != pgoff_of(i);
    check("each page shows its own file page", bad == 0);
    m[3 * PG + 5] = 0xEE;                                   /* file page pgoff_of(3) */
    long alias = -1;
    for (long i = 4; i < n && alias < 0; i++)
        if (pgoff_of(i) == pgoff_of(3)) alias = i;
    check("a write is seen through another page of the same file page", m[alias * PG + 5] == 0xEE);
    unsigned char b = 0;
    msync(m, n * PG, MS_SYNC);
    check("and in the file", pread(fd, &b, 1, pgoff_of(3) * PG + 5) == 1 && b == 0xEE);
    errno = 0;
    check("prot without MAP_NOINHERIT: EINVAL", remap_file_pages(m, PG, PROT_READ, 1, 0) == -1 && errno == EINVAL);
    char *priv = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    errno = 0;
    check("a private mapping: EINVAL", remap_file_pages(priv, PG, 0, 0, 0) == -1 && errno == EINVAL);
    check("unknown flags are ignored", remap_file_pages(m, PG, 0, pgoff_of(0), 0x40) == 0 && m[0] == pgoff_of(0));
    errno = 0;
    check("an unmapped range: EINVAL", remap_file_pages(m + n * PG, PG, 0, 1, 0) == -1 && errno == EINVAL);
    printf("rfpdemo basic: %d failures\n", failures);
    return failures;
}

static int noinherit(long n)
{
    int fd = make_file();
    unsigned char *m = mmap(NULL, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd < 0 || m == MAP_FAILED) return 1;
    static const int prots[3] = {PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE};
    if (remap_file_pages(m, PG, PROT_READ, pgoff_of(0), MAP_NOINHERIT) != 0) {
        printf("rfpdemo: remap_file_pages with MAP_NOINHERIT: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }
    long bad = 0;
    for (long i = 1; i < n; i++)
        bad += remap_file_pages(m + i * PG, PG, prots[i % 3], pgoff_of(i), MAP_NOINHERIT) != 0;
    printf("%ld pages remapped, each with its own file page and protection\n", n);
    check("every remap_file_pages call succeeded", bad == 0);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[512];
    int vmas = 0;
    unsigned long lo = (unsigned long)m, hi = lo + n * PG;
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo) vmas++;
    }
    if (maps) fclose(maps);
    check("the mapping is still one VMA", vmas == 1);

    bad = 0;
    long readable = 0;
    for (long i = 0; i < n; i++)
        if (i % 3 != 2) {
            readable++;
            bad += m[i * PG + (i % PG)] != pgoff_of(i);
        }
    printf("%ld readable pages read\n", readable);
    check("every readable page shows its own file page", bad == 0);

    bad = 0;
    for (long i = 1; i < n; i += 3) {                   /* read-write pages */
        m[i * PG + 64] = (unsigned char)(i * 13);
        bad += m[i * PG + 64] != (unsigned char)(i * 13);
    }
    check("every read-write page takes a write", bad == 0);
    long alias = -1;
    for (long i = 3; i < n && alias < 0; i += 3)
        if (pgoff_of(i) == pgoff_of(1)) alias = i;
    m[1 * PG + 100] = 0x5A;
    check("a write shows through a read-only alias", alias > 0 && m[alias * PG + 100] == 0x5A);

    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    long tried = 0, ok = 0;
    for (long i = 0; i + 2 < n; i += 3 * 331) {
        tried += 3;
        ok += faults_at(m + i * PG + 7, 1);             /* write to read-only */
        ok += faults_at(m + (i + 2) * PG + 9, 0);       /* read of PROT_NONE */
        ok += faults_at(m + (i + 2) * PG, 1);           /* write to PROT_NONE */
    }
    printf("%ld forbidden accesses tried\n", tried);
    check("each faulted with SEGV_ACCERR at its own address", ok == tried);

    mprotect(m, 300 * PG, PROT_READ);
    bad = 0;
    for (long i = 0; i < 300 && i < n; i++)
        bad += m[i * PG + 1] != pgoff_of(i);
    check("mprotect resets protection and keeps every offset", bad == 0 && faults_at(m + 1 * PG, 1));
    munmap(m, n * PG);
    printf("rfpdemo noinherit: %d failures\n", failures);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "noinherit"))
        return noinherit(argc > 2 ? atol(argv[2]) : 100000);
    return basic();
}
