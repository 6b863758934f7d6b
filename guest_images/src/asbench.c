/* asbench: the first-class VAS RFC's comparisons under umlpy, timed inside the guest
 * (CLOCK_MONOTONIC).  One line per row, "NAME us_per_op":
 *
 *   pipe_roundtrip    a byte to another process over a pipe and back (2 process switches)
 *   switch_as_rt      switch_as(1) + switch_as(0) (2 address-space switches, no stack used)
 *   vas_switch_rt     vas_switch(vid) + vas_switch(0)
 *   fork              fork + _exit + waitpid of this small process
 *   new_as            one new_as (15 per child process, the most a process may have)
 *   vas_create_attach vas_create + vas_attach (detach and delete not counted)
 *   anon_fault        first touch of a page of fresh anonymous memory, one per 16 pages
 *   nonuniform_refill a read from a page of a 100,000-page nonuniform remap_file_pages
 *                     mapping whose host mapping was evicted (one per 16 pages)
 *
 * Usage: asbench [N]   (default 2000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "umlpy.h"

#define PG 4096UL

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void row(const char *name, double us)
{
    printf("%s %.3f\n", name, us);
    fflush(stdout);
}

/* n round trips of two switches, in registers only (the stack is not valid in both). */
static void switch_loop(long nr, long a, long b, long n)
{
    __asm__ volatile(
        "1:\n\t"
        "mov %[nr], %%rax\n\t"
        "mov %[a], %%rdi\n\t"
        "syscall\n\t"
        "mov %[nr], %%rax\n\t"
        "mov %[b], %%rdi\n\t"
        "syscall\n\t"
        "dec %[n]\n\t"
        "jnz 1b\n\t"
        : [n] "+r"(n)
        : [nr] "r"(nr), [a] "r"(a), [b] "r"(b)
        : "rax", "rdi", "rcx", "r11", "memory");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000;
    if (syscall(UMLPY_NR_ACTIVE_VAS) < 0) {
        printf("asbench: active_vas: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }
    int p2c[2], c2p[2];
    if (pipe(p2c) || pipe(c2p)) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        while (read(p2c[0], &c, 1) == 1 && c) {
            if (write(c2p[1], &c, 1) != 1) break;
        }
        _exit(0);
    }
    char c = 1;
    double t0 = now_us();
    for (long i = 0; i < n; i++) {
        if (write(p2c[1], &c, 1) != 1 || read(c2p[0], &c, 1) != 1) return 1;
    }
    row("pipe_roundtrip", (now_us() - t0) / n);
    c = 0;
    if (write(p2c[1], &c, 1) != 1) return 1;
    waitpid(pid, NULL, 0);

    if (syscall(UMLPY_NR_NEW_AS) != 1) return 1;
    switch_loop(UMLPY_NR_SWITCH_AS, 1, 0, 10);          /* warm: the context's stub starts */
    t0 = now_us();
    switch_loop(UMLPY_NR_SWITCH_AS, 1, 0, n);
    row("switch_as_rt", (now_us() - t0) / n);

    long vid = syscall(UMLPY_NR_VAS_CREATE, "asbench", 0600);
    if (vid < 0 || syscall(UMLPY_NR_VAS_ATTACH, 0, vid, O_RDWR)) return 1;
    switch_loop(UMLPY_NR_VAS_SWITCH, vid, 0, 10);
    t0 = now_us();
    switch_loop(UMLPY_NR_VAS_SWITCH, vid, 0, n);
    row("vas_switch_rt", (now_us() - t0) / n);
    syscall(UMLPY_NR_VAS_DETACH, 0, vid);
    syscall(UMLPY_NR_VAS_DELETE, vid);

    long forks = n / 10 > 20 ? n / 10 : 20;
    t0 = now_us();
    for (long i = 0; i < forks; i++) {
        pid = fork();
        if (pid == 0) _exit(0);
        waitpid(pid, NULL, 0);
    }
    row("fork", (now_us() - t0) / forks);

    /* new_as: 15 in each of `kids` children, timed by each child, summed here. */
    long kids = forks / 15 > 4 ? forks / 15 : 4;
    double total = 0;
    for (long k = 0; k < kids; k++) {
        int fds[2];
        if (pipe(fds)) return 1;
        pid = fork();
        if (pid == 0) {
            double s = now_us();
            for (int i = 0; i < 15; i++)
                if (syscall(UMLPY_NR_NEW_AS) < 0) _exit(1);
            double d = now_us() - s;
            if (write(fds[1], &d, sizeof d) != sizeof d) _exit(1);
            _exit(0);
        }
        double d = 0;
        if (read(fds[0], &d, sizeof d) != sizeof d) return 1;
        waitpid(pid, NULL, 0);
        close(fds[0]);
        close(fds[1]);
        total += d;
    }
    row("new_as", total / (kids * 15));

    total = 0;
    for (long i = 0; i < forks; i++) {
        char name[32];
        snprintf(name, sizeof name, "b%ld", i);
        double s = now_us();
        vid = syscall(UMLPY_NR_VAS_CREATE, name, 0600);
        long r = syscall(UMLPY_NR_VAS_ATTACH, 0, vid, O_RDWR);
        total += now_us() - s;
        if (vid < 0 || r) return 1;
        syscall(UMLPY_NR_VAS_DETACH, 0, vid);
        syscall(UMLPY_NR_VAS_DELETE, vid);
    }
    row("vas_create_attach", total / forks);

    /* Faults: one read per 16-page window (umlpy's fault-around). */
    long npages = 100000;
    volatile unsigned char *anon = mmap(NULL, npages * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    t0 = now_us();
    for (long i = 0; i < npages; i += 16) (void)anon[i * PG];
    row("anon_fault", (now_us() - t0) / (npages / 16));
    munmap((void *)anon, npages * PG);

    char path[] = "/tmp/asbench-XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    if (fd < 0 || ftruncate(fd, 64 * PG)) return 1;
    unsigned char *m = mmap(NULL, npages * PG, PROT_READ, MAP_SHARED, fd, 0);
    for (long i = 0; i < npages; i++)
        if (remap_file_pages(m + i * PG, PG, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE, (i * 7) % 64,
                             MAP_NOINHERIT))
            return 1;
    volatile unsigned long sum = 0;
    for (long i = 0; i < npages; i += 16) sum += m[i * PG];      /* fill the host cache */
    t0 = now_us();
    for (long i = 0; i < npages; i += 16) sum += m[i * PG];      /* evicted since: refills */
    row("nonuniform_refill", (now_us() - t0) / (npages / 16));
    return 0;
}
