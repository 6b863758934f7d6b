/* mremap in the combinations Linux accepts, and the ones it refuses: shrink, grow in
 * place, grow and move (MREMAP_MAYMOVE) past a neighbour, MREMAP_FIXED (over an
 * existing mapping, shrinking, growing), MREMAP_DONTUNMAP (private and shared, with
 * and without FIXED), shared anonymous and file mappings, duplication of a shared
 * mapping (old_len 0), COW pages after fork, a realloc-style growth loop, and the
 * errno cases.  Each line says what was checked; natively the output is the same.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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
#define RW (PROT_READ | PROT_WRITE)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)

static int failures;

static void check(const char *what, int ok)
{
    printf("%-64s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EFAULT: return "EFAULT";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    default: return "other";
    }
}

static void check_errno(const char *what, void *r, int want)
{
    int e = errno;
    char buf[160];
    snprintf(buf, sizeof buf, "%s: %s", what, r == MAP_FAILED ? ename(e) : "success");
    check(buf, r == MAP_FAILED && e == want);
}

static sigjmp_buf jb;
static volatile int armed, last_sig;
static void on_segv(int sig)
{
    last_sig = sig;
    if (!armed) {
        static const char msg[] = "unexpected SIGSEGV\n";
        if (write(1, msg, sizeof msg - 1)) _exit(99);
        _exit(99);
    }
    armed = 0;
    siglongjmp(jb, 1);
}

static int faults(volatile char *p)
{
    if (sigsetjmp(jb, 1) == 0) {
        armed = 1;
        (void)*p;
        armed = 0;
        return 0;
    }
    return 1;
}

/* Test mappings live in slots of an arena reserved PROT_NONE at start: slot k is
 * 256 pages at arena + k * 256 pages; its mapping starts one page in, so the
 * reservation's PROT_NONE pages are its neighbours on both sides. */
#define SLOT_PAGES 256
static char *arena;
static int next_slot;

/* n pages of anonymous memory (MAP_PRIVATE or MAP_SHARED) in a new slot, page i
 * holding tag + i in its first word. */
static char *fresh(size_t n, long tag, int flags)
{
    char *p = arena + ((size_t)next_slot++ * SLOT_PAGES + 1) * PG;
    if (mmap(p, n * PG, RW, flags | MAP_FIXED | MAP_ANONYMOUS, -1, 0) != p) _exit(98);
    for (size_t i = 0; i < n; i++) ((long *)(p + i * PG))[0] = tag + (long)i;
    return p;
}

static int holds(char *p, size_t n, long tag)
{
    for (size_t i = 0; i < n; i++)
        if (((long *)(p + i * PG))[0] != tag + (long)i) return 0;
    return 1;
}

static int zeros(char *p, size_t n)
{
    for (size_t i = 0; i < n * PG; i += 512)
        if (p[i]) return 0;
    return 1;
}

int main(void)
{
    signal(SIGSEGV, on_segv);
    signal(SIGBUS, on_segv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    arena = mmap(NULL, 64 * SLOT_PAGES * PG, PROT_NONE, ANON, -1, 0);

    /* Shrinking keeps the address and unmaps the tail. */
    char *p = fresh(8, 100, MAP_PRIVATE);
    char *q = mremap(p, 8 * PG, 3 * PG, 0);
    check("shrink: same address, content kept", q == p && holds(p, 3, 100));
    check("shrink: the tail is gone", faults(p + 3 * PG) && faults(p + 7 * PG));
    munmap(p, 3 * PG);

    /* Growing in place when the next pages are free. */
    p = fresh(4, 200, MAP_PRIVATE);
    munmap(p + 4 * PG, 4 * PG);      /* free room after it, then a neighbour */
    char *after = mmap(p + 8 * PG, PG, RW, ANON | MAP_FIXED, -1, 0);
    q = mremap(p, 4 * PG, 8 * PG, 0);
    check("grow in place: same address", q == p && holds(p, 4, 200) && zeros(p + 4 * PG, 4));
    /* Now it touches `after`: growing needs a move. */
    q = mremap(p, 8 * PG, 12 * PG, 0);
    check_errno("grow into a neighbour without MAYMOVE", q, ENOMEM);
    q = mremap(p, 8 * PG, 12 * PG, MREMAP_MAYMOVE);
    check("grow past a neighbour with MAYMOVE: moved, content kept",
          q != MAP_FAILED && q != p && holds(q, 4, 200) && zeros(q + 4 * PG, 8));
    check("grow with MAYMOVE: the old range is unmapped", faults(p) && faults(p + 7 * PG));
    check("grow with MAYMOVE: the neighbour is intact", !faults(after));
    munmap(q, 12 * PG);

    /* Part of a mapping: growing a range that does not reach the VMA's end moves it. */
    p = fresh(8, 300, MAP_PRIVATE);
    q = mremap(p + 2 * PG, 2 * PG, 5 * PG, MREMAP_MAYMOVE);
    check("grow the middle of a mapping: moved", q != MAP_FAILED && q != p + 2 * PG
          && holds(q, 2, 302) && zeros(q + 2 * PG, 3));
    check("the hole it left faults, the rest stays", faults(p + 2 * PG) && faults(p + 3 * PG)
          && holds(p, 2, 300) && holds(p + 4 * PG, 4, 304));
    munmap(q, 5 * PG);
    munmap(p, 8 * PG);

    /* MREMAP_FIXED over an existing mapping, same size, smaller and larger. */
    p = fresh(4, 400, MAP_PRIVATE);
    char *dst = fresh(6, 900, MAP_PRIVATE);
    q = mremap(p, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    check("FIXED onto a mapping: content moved", q == dst && holds(dst, 4, 400));
    check("FIXED: the rest of the old destination mapping stays", holds(dst + 4 * PG, 2, 904));
    check("FIXED: the source is gone", faults(p));
    q = mremap(dst, 4 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p);
    check("FIXED and shrinking", q == p && holds(p, 2, 400) && faults(p + 2 * PG) && faults(dst));
    q = mremap(p, 2 * PG, 5 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    check("FIXED and growing", q == dst && holds(dst, 2, 400) && zeros(dst + 2 * PG, 3)
          && holds(dst + 5 * PG, 1, 905));
    q = mremap(dst, 5 * PG, 5 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 2 * PG);
    check_errno("FIXED overlapping the source", q, EINVAL);
    q = mremap(dst, 5 * PG, 5 * PG, MREMAP_FIXED, p);
    check_errno("FIXED without MAYMOVE", q, EINVAL);
    q = mremap(dst, 5 * PG, 5 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, p + 1);
    check_errno("FIXED to an unaligned address", q, EINVAL);
    munmap(dst, 6 * PG);

    /* MREMAP_DONTUNMAP: the pages move, the old range stays mapped and reads zero. */
    p = fresh(4, 500, MAP_PRIVATE);
    q = mremap(p, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    check("DONTUNMAP: pages moved", q != MAP_FAILED && q != p && holds(q, 4, 500));
    check("DONTUNMAP: old range still mapped, reads zero", !faults(p) && zeros(p, 4));
    p[0] = 1;
    check("DONTUNMAP: old and new are separate", holds(q, 1, 500) && p[0] == 1);
    dst = fresh(4, 950, MAP_PRIVATE);
    char *r = mremap(q, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED, dst);
    check("DONTUNMAP with FIXED", r == dst && holds(dst, 4, 500) && zeros(q, 4));
    check_errno("DONTUNMAP with a new size", mremap(dst, 4 * PG, 8 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL),
                EINVAL);
    check_errno("DONTUNMAP without MAYMOVE", mremap(dst, 4 * PG, 4 * PG, MREMAP_DONTUNMAP, NULL), EINVAL);
    munmap(p, 4 * PG);
    munmap(q, 4 * PG);
    munmap(dst, 4 * PG);

    /* Shared anonymous memory stays shared when it moves and grows. */
    p = fresh(4, 600, MAP_SHARED);
    pid_t c = fork();
    if (c == 0) {
        for (int i = 0; i < 200 && ((volatile long *)p)[1] != 77; i++) usleep(1000);
        _exit(((long *)p)[1] == 77 ? 0 : 1);
    }
    q = mremap(p, 4 * PG, 6 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, fresh(6, 0, MAP_PRIVATE));
    ((long *)q)[1] = 77;
    int st;
    waitpid(c, &st, 0);
    check("shared mapping moved: the child sees the write", q != MAP_FAILED && WIFEXITED(st)
          && WEXITSTATUS(st) == 0 && holds(q, 1, 600));
    check("shared mapping grown past its object: SIGBUS there", faults(q + 4 * PG) && last_sig == SIGBUS
          && faults(q + 5 * PG) && last_sig == SIGBUS && !faults(q + 3 * PG));
    r = mremap(q, 0, 2 * PG, MREMAP_MAYMOVE);
    check("old_len 0 duplicates a shared mapping", r != MAP_FAILED && r != q && ((long *)r)[1] == 77);
    ((long *)r)[2] = 88;
    check("the duplicate is the same memory", ((long *)q)[2] == 88);
    r = mremap(q, 4 * PG, 4 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    check("DONTUNMAP of a shared mapping", r != MAP_FAILED && ((long *)r)[2] == 88);
    munmap(r, 4 * PG);
    munmap(q, 6 * PG);
    p = fresh(2, 700, MAP_PRIVATE);
    check_errno("old_len 0 of a private mapping", mremap(p, 0, PG, MREMAP_MAYMOVE), EINVAL);

    /* Pages still shared with a child after fork move as they are: copy-on-write holds. */
    fflush(stdout);
    c = fork();
    if (c == 0) {
        char *m = mremap(p, 2 * PG, 40 * PG, MREMAP_MAYMOVE);
        ((long *)m)[0] = -1;
        _exit(m != MAP_FAILED && holds(m + PG, 1, 701) && zeros(m + 2 * PG, 38) ? 0 : 1);
    }
    waitpid(c, &st, 0);
    check("a child moves COW pages, the parent keeps its own", WEXITSTATUS(st) == 0 && holds(p, 2, 700));
    munmap(p, 2 * PG);

    /* A file mapping keeps its file offsets when it grows. */
    char path[] = "/tmp/mremaps-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    for (long i = 0; i < 8; i++) {
        char page[PG];
        memset(page, 'a' + (int)i, sizeof page);
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page) return 1;
    }
    p = mmap(fresh(2, 0, MAP_PRIVATE), 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 2 * PG);
    q = mremap(p, 2 * PG, 5 * PG, MREMAP_MAYMOVE);
    check("file mapping grown and moved: offsets continue", q != MAP_FAILED && q[0] == 'c'
          && q[PG] == 'd' && q[2 * PG] == 'e' && q[4 * PG] == 'g');
    munmap(q, 5 * PG);
    p = mmap(NULL, 2 * PG, RW, MAP_SHARED, fd, 0);
    q = mremap(p, 2 * PG, 3 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, fresh(3, 0, MAP_PRIVATE));
    q[2 * PG] = 'Z';
    msync(q, 3 * PG, MS_SYNC);
    char z = 0;
    check("shared file mapping moved and grown: writes reach the file",
          q != MAP_FAILED && pread(fd, &z, 1, 2 * PG) == 1 && z == 'Z');
    munmap(q, 3 * PG);
    close(fd);

    /* realloc-style growth, with something mapped right after each time. */
    size_t n = 1;
    p = fresh(1, 1000, MAP_PRIVATE);
    int ok = 1;
    for (int i = 0; i < 60; i++) {
        /* Its neighbour: the arena's PROT_NONE reservation, or this page. */
        char *guard = mmap(p + n * PG, PG, PROT_READ, ANON | MAP_FIXED_NOREPLACE, -1, 0);
        q = mremap(p, n * PG, (n + 1) * PG, MREMAP_MAYMOVE);
        if (q == MAP_FAILED || q == p) {
            ok = 0;
            break;
        }
        ((long *)(q + n * PG))[0] = 1000 + (long)n;
        if (guard != MAP_FAILED) munmap(guard, PG);
        p = q;
        n++;
        if (!holds(p, n, 1000)) ok = 0;
    }
    check("60 growths past a neighbour, content kept", ok && n == 61);
    munmap(p, n * PG);

    /* The errors. */
    p = fresh(4, 0, MAP_PRIVATE);
    check_errno("unaligned old address", mremap(p + 1, PG, 2 * PG, MREMAP_MAYMOVE), EINVAL);
    check_errno("new size 0", mremap(p, PG, 0, MREMAP_MAYMOVE), EINVAL);
    check_errno("unknown flags", mremap(p, PG, PG, 8), EINVAL);
    munmap(p + 4 * PG, 2 * PG);
    check_errno("unmapped old address", mremap(p + 4 * PG, PG, 2 * PG, MREMAP_MAYMOVE), EFAULT);
    char *next = mmap(p + 5 * PG, PG, RW, ANON | MAP_FIXED, -1, 0);
    check_errno("old range past the mapping's end", mremap(p, 6 * PG, 8 * PG, MREMAP_MAYMOVE), EFAULT);
    munmap(next, PG);
    munmap(p, 4 * PG);

    printf("%d failures\n", failures);
    return failures != 0;
}
