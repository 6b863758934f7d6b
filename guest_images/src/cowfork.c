/* Copy-on-write after fork, over large regions: a parent and its child write
 * alternate pages of a 64 MiB region and each sees only its own writes; a
 * grandchild does the same inside the child's copy; pages that only one side
 * still maps become its own again; munmap/mprotect of parts of a shared-after-
 * fork region, a MAP_SHARED region seen by both, and fork of a parent whose
 * region is partly absent.  Prints what each process saw (same output natively).
 *
 * Usage: cowfork [MiB]   (default 64)
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL

static size_t npages;
static volatile uint64_t *region;

static uint64_t *page(size_t i) { return (uint64_t *)((char *)region + i * PG); }

/* Each page holds its tag at the start and at the end. */
static void put(size_t i, uint64_t tag)
{
    page(i)[0] = tag;
    page(i)[PG / 8 - 1] = ~tag;
}

static int has(size_t i, uint64_t tag) { return page(i)[0] == tag && page(i)[PG / 8 - 1] == ~tag; }

#define ORIG(i) (0x1000000000ULL + (i))
#define PARENT(i) (0xAAAA000000ULL + (i))
#define CHILD(i) (0xCCCC000000ULL + (i))
#define GRAND(i) (0xEEEE000000ULL + (i))

/* Count the pages of [0, npages) that do not hold what ``want`` says. */
static size_t check(uint64_t (*want)(size_t))
{
    size_t bad = 0;
    for (size_t i = 0; i < npages; i++)
        if (!has(i, want(i))) bad++;
    return bad;
}

static uint64_t w_orig(size_t i) { return ORIG(i); }
static uint64_t w_parent(size_t i) { return i % 2 == 0 ? PARENT(i) : ORIG(i); }
static uint64_t w_child(size_t i) { return i % 2 == 1 ? CHILD(i) : ORIG(i); }
static uint64_t w_grand(size_t i) { return i % 4 == 1 ? GRAND(i) : w_child(i); }
static uint64_t w_parent_all(size_t i) { return i % 2 == 0 ? PARENT(i) : PARENT(i) + 1; }

static int p2c[2], c2p[2];

static void say(int fd, char c)
{
    if (write(fd, &c, 1) != 1) _exit(90);
}

static char hear(int fd)
{
    char c = 0;
    if (read(fd, &c, 1) != 1) _exit(91);
    return c;
}

static sigjmp_buf jb;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

static int faults(volatile char *p)
{
    if (sigsetjmp(jb, 1) == 0) {
        (void)*p;
        return 0;
    }
    return 1;
}

static int grandchild(void)
{
    size_t bad = check(w_child);
    for (size_t i = 1; i < npages; i += 4) put(i, GRAND(i));
    bad += check(w_grand);
    printf("grandchild: sees the child's pages, bad %zu\n", bad);
    fflush(stdout);
    return bad ? 1 : 0;
}

static int child(volatile uint64_t *shared)
{
    /* The parent has written its pages: none of them is visible here. */
    if (hear(p2c[0]) != 'w') return 2;
    for (size_t i = 1; i < npages; i += 2) put(i, CHILD(i));
    size_t bad = check(w_child);
    printf("child: own writes only, bad %zu\n", bad);
    shared[0] = 0x5157;
    fflush(stdout);
    pid_t g = fork();
    if (g == 0) _exit(grandchild());
    int st;
    waitpid(g, &st, 0);
    bad += check(w_child);
    printf("child: grandchild exit %d, own pages unchanged, bad %zu\n", WEXITSTATUS(st), bad);
    fflush(stdout);
    say(c2p[1], 'd');
    return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], 0, 10) : 64;
    npages = (mib << 20) / PG;
    region = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile uint64_t *shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || shared == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < npages; i++) put(i, ORIG(i));
    printf("region of %zu pages, bad %zu\n", npages, check(w_orig));
    fflush(stdout);
    if (pipe(p2c) || pipe(c2p)) return 1;

    pid_t c = fork();
    if (c == 0) _exit(child(shared));
    for (size_t i = 0; i < npages; i += 2) put(i, PARENT(i));
    say(p2c[1], 'w');
    if (hear(c2p[0]) != 'd') return 1;
    printf("parent: own writes only while the child runs, bad %zu\n", check(w_parent));
    int st;
    waitpid(c, &st, 0);
    printf("parent: child exit %d, shared word %#lx\n", WEXITSTATUS(st), (unsigned long)shared[0]);
    /* The child is gone: every page is the parent's alone again. */
    for (size_t i = 1; i < npages; i += 2) put(i, PARENT(i) + 1);
    printf("parent: all pages its own, bad %zu\n", check(w_parent_all));

    /* Fork again, then unmap and reprotect parts in the child only. */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        signal(SIGSEGV, on_segv);
        size_t q = npages / 4;
        munmap((void *)page(q), q * PG);
        mprotect((void *)page(2 * q), q * PG, PROT_READ);
        int f = faults((volatile char *)page(q)) + faults((volatile char *)page(2 * q - 1));
        int wf = 0;
        if (sigsetjmp(jb, 1) == 0) page(2 * q)[0] = 1; else wf = 1;
        size_t bad = 0;
        for (size_t i = 0; i < q; i++) bad += !has(i, w_parent_all(i));
        for (size_t i = 2 * q; i < npages; i++) bad += !has(i, w_parent_all(i));
        printf("child2: unmapped faults %d, read-only write faults %d, bad %zu\n", f, wf, bad);
        fflush(stdout);
        _exit(bad ? 1 : 0);
    }
    waitpid(c, &st, 0);
    printf("parent: child2 exit %d, region intact, bad %zu\n", WEXITSTATUS(st), check(w_parent_all));

    /* A region half absent at fork: the child's touches of the absent half are its own. */
    munmap((void *)region, npages * PG);
    region = mmap(NULL, npages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (size_t i = 0; i < npages / 2; i++) put(i, ORIG(i));
    fflush(stdout);
    c = fork();
    if (c == 0) {
        size_t bad = 0;
        for (size_t i = npages / 2; i < npages; i++) bad += page(i)[0] != 0;
        for (size_t i = 0; i < npages; i++) put(i, CHILD(i));
        for (size_t i = 0; i < npages; i++) bad += !has(i, CHILD(i));
        printf("child3: absent pages read zero, bad %zu\n", bad);
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, &st, 0);
    size_t bad = 0;
    for (size_t i = 0; i < npages / 2; i++) bad += !has(i, ORIG(i));
    for (size_t i = npages / 2; i < npages; i++) bad += page(i)[0] != 0;
    printf("parent: after child3 bad %zu\n", bad);
    return 0;
}
