/* poll, ppoll, select, pselect: readiness of pipes, timeouts, a writer in a child. */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    pipe(p);
    struct pollfd pf[2] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    int n = poll(pf, 2, 0);
    printf("empty pipe: poll=%d in=%d out=%d\n", n, !!(pf[0].revents & POLLIN), !!(pf[1].revents & POLLOUT));
    n = poll(pf, 1, 50);
    printf("timeout: poll=%d\n", n);
    struct timespec ts = {0, 20000000};
    n = ppoll(pf, 1, &ts, NULL);
    printf("ppoll timeout: %d\n", n);

    pid_t c = fork();
    if (c == 0) {
        struct timespec d = {0, 30000000};
        nanosleep(&d, NULL);
        write(p[1], "x", 1);
        _exit(0);
    }
    pf[0].revents = 0;
    n = poll(pf, 1, -1);
    char ch;
    read(p[0], &ch, 1);
    printf("child wrote: poll=%d in=%d byte=%c\n", n, !!(pf[0].revents & POLLIN), ch);
    waitpid(c, NULL, 0);

    fd_set r, w;
    FD_ZERO(&r); FD_ZERO(&w);
    FD_SET(p[0], &r); FD_SET(p[1], &w);
    struct timeval tv = {0, 0};
    n = select(p[1] + 1, &r, &w, NULL, &tv);
    printf("select: %d r=%d w=%d\n", n, FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    write(p[1], "yz", 2);
    FD_ZERO(&r); FD_SET(p[0], &r);
    n = pselect(p[0] + 1, &r, NULL, NULL, NULL, NULL);
    printf("pselect: %d r=%d\n", n, FD_ISSET(p[0], &r));
    close(p[1]);
    char buf[8];
    read(p[0], buf, sizeof buf);
    pf[0].events = POLLIN; pf[0].revents = 0;
    n = poll(pf, 1, 0);
    printf("writer closed: poll=%d hup=%d\n", n, !!(pf[0].revents & POLLHUP));
    struct pollfd bad = {99, POLLIN, 0};
    n = poll(&bad, 1, 0);
    printf("bad fd: poll=%d nval=%d\n", n, !!(bad.revents & POLLNVAL));
    return 0;
}
