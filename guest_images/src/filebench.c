/* Benchmark loops for tools/bench_files.py: "pingpong N" (one byte back and forth
 * between two processes over two pipes, N round trips) and "epoll N" (an eventfd
 * made readable, epoll_wait, read: N iterations).  Exit status 0 when every call
 * did what it should. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

static int pingpong(long n)
{
    int a[2], b[2];
    if (pipe(a) || pipe(b))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        char ch;
        for (long i = 0; i < n; i++)
            if (read(a[0], &ch, 1) != 1 || write(b[1], &ch, 1) != 1)
                _exit(1);
        _exit(0);
    }
    char ch = 'x';
    for (long i = 0; i < n; i++)
        if (write(a[1], &ch, 1) != 1 || read(b[0], &ch, 1) != 1)
            return 1;
    int st;
    waitpid(c, &st, 0);
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int epoll_loop(long n)
{
    int e = eventfd(0, EFD_NONBLOCK);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    if (e < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev))
        return 1;
    uint64_t one = 1, got;
    for (long i = 0; i < n; i++) {
        struct epoll_event out;
        if (write(e, &one, 8) != 8 || epoll_wait(ep, &out, 1, -1) != 1 || out.data.u64 != 7
            || read(e, &got, 8) != 8)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    long n = atol(argv[2]);
    if (!strcmp(argv[1], "pingpong"))
        return pingpong(n);
    if (!strcmp(argv[1], "epoll"))
        return epoll_loop(n);
    return 2;
}
