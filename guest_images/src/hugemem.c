/* Work proportional to a guest-chosen size (issue 14, item 3): mincore, madvise,
 * mprotect and munmap over a 256 GiB reservation, MAP_POPULATE of a large PROT_READ
 * mapping, MADV_WILLNEED over it, and a few pages touched in the middle.  Prints
 * what it saw; natively the same.
 *
 * Usage: hugemem [POPULATE_GIB]   (default 4: what Linux populates in well under a second)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GIB (1UL << 30)
#define PG 4096UL

static const char *err(int r) { return r == 0 ? "0" : strerror(errno); }

int main(int argc, char **argv)
{
    size_t pop = (argc > 1 ? strtoul(argv[1], 0, 10) : 4) * GIB;
    size_t big = 256 * GIB, npages = big / PG;

    char *p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    unsigned char *vec = mmap(NULL, npages, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || vec == MAP_FAILED) {
        printf("mmap: %s\n", strerror(errno));
        return 1;
    }
    printf("reserved 256 GiB\n");
    printf("mprotect read+write: %s\n", err(mprotect(p, big, PROT_READ | PROT_WRITE)));
    /* Touch a few pages far apart. */
    for (size_t k = 0; k < 8; k++) p[k * (big / 8) + 12345] = (char)(k + 1);
    memset(vec, 7, 4096);
    printf("mincore 256 GiB: %s\n", err(mincore(p, big, vec)));
    size_t resident = 0, bad = 0;
    for (size_t i = 0; i < npages; i += 1) {
        resident += vec[i] & 1;
        if (vec[i] & ~1) bad++;
    }
    printf("resident pages %s, bad entries %zu\n", resident >= 8 ? ">= 8" : "< 8", bad);
    printf("madvise WILLNEED: %s\n", err(madvise(p, big, MADV_WILLNEED)));
    printf("madvise DONTFORK: %s, DOFORK: %s\n", err(madvise(p, big, MADV_DONTFORK)),
           err(madvise(p, big, MADV_DOFORK)));
    printf("madvise DONTNEED: %s\n", err(madvise(p, big, MADV_DONTNEED)));
    printf("after DONTNEED page reads %d\n", p[3 * (big / 8) + 12345]);
    int r = mincore(p, big, vec);
    printf("mincore after DONTNEED: %s, first %d\n", err(r), vec[0]);
    printf("mprotect none: %s\n", err(mprotect(p, big, PROT_NONE)));
    printf("mincore past the end: %s\n", err(mincore(p, big + GIB, vec)));
    printf("munmap 256 GiB: %s\n", err(munmap(p, big)));

    char *q = mmap(NULL, pop, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NORESERVE, -1, 0);
    if (q == MAP_FAILED) {
        printf("MAP_POPULATE: %s\n", strerror(errno));
        return 1;
    }
    printf("MAP_POPULATE PROT_READ: ok, reads %d %d\n", q[0], q[pop - 1]);
    printf("munmap: %s\n", err(munmap(q, pop)));
    return 0;
}
