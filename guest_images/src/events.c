/* Event files and epoll: eventfd, epoll (level, edge, oneshot, nesting, errors),
 * timerfd and signalfd.  Prints what it sees; natively and under umlpy the output
 * must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-58s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? strerrorname_np(errno) : ""); } while (0)

static const char *strerrorname_np_(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT"; case EPERM: return "EPERM"; case ELOOP: return "ELOOP";
    case EAGAIN: return "EAGAIN"; case EFAULT: return "EFAULT"; case EINTR: return "EINTR";
    default: return "E?";
    }
}
#define strerrorname_np strerrorname_np_

static int waitev(int ep, int timeout)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, timeout);
    printf("  epoll_wait -> %d:", n);
    for (int i = 0; i < n; i++)
        printf(" [data=%llu ev=%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
    printf("\n");
    return n;
}

static void test_eventfd(void)
{
    printf("== eventfd\n");
    uint64_t v = 0;
    int e = eventfd(3, EFD_NONBLOCK);
    CHECK(read(e, &v, 8));
    printf("  value %llu\n", (unsigned long long)v);
    CHECK(read(e, &v, 8));
    CHECK(read(e, &v, 4));
    v = 5;
    CHECK(write(e, &v, 8));
    v = 0xffffffffffffffffULL;
    CHECK(write(e, &v, 8));
    v = 0xfffffffffffffff0ULL;
    CHECK(write(e, &v, 8));
    struct pollfd p = {e, POLLIN | POLLOUT, 0};
    CHECK(poll(&p, 1, 0));
    printf("  revents %#x\n", p.revents);
    close(e);
    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    CHECK(fcntl(s, F_GETFD));
    CHECK(read(s, &v, 8));
    printf("  semaphore read %llu\n", (unsigned long long)v);
    CHECK(read(s, &v, 8));
    CHECK(read(s, &v, 8));
    CHECK(eventfd(0, 0x1234));
    close(s);
    /* A blocking read woken by a child's write. */
    int b = eventfd(0, 0);
    pid_t c = fork();
    if (c == 0) {
        usleep(20000);
        uint64_t one = 7;
        write(b, &one, 8);
        _exit(0);
    }
    CHECK(read(b, &v, 8));
    printf("  from child %llu\n", (unsigned long long)v);
    waitpid(c, NULL, 0);
    close(b);
}

static void test_epoll(void)
{
    printf("== epoll\n");
    CHECK(epoll_create(0));
    CHECK(epoll_create1(12345));
    int ep = epoll_create1(EPOLL_CLOEXEC);
    CHECK(fcntl(ep, F_GETFD));
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 100};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev));
    CHECK(epoll_ctl(99, EPOLL_CTL_ADD, p[0], &ev));
    CHECK(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev));
    CHECK(epoll_ctl(ep, 17, p[0], &ev));
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (void *)8));
    int reg = open("/etc/hostname", O_RDONLY);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &ev));
    close(reg);
    int dn = open("/dev/null", O_RDONLY);
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, dn, &ev));
    close(dn);
    struct epoll_event ex = {.events = EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ex));
    struct epoll_event evs[2];
    CHECK(epoll_wait(ep, evs, 0, 0));
    CHECK(epoll_wait(p[0], evs, 1, 0));
    CHECK(epoll_wait(99, evs, 1, 0));
    waitev(ep, 0);

    printf(" level-triggered\n");
    write(p[1], "abc", 3);
    waitev(ep, 0);
    waitev(ep, -1);
    char buf[8];
    read(p[0], buf, 3);
    waitev(ep, 10);

    printf(" edge-triggered\n");
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 200;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    write(p[1], "abc", 3);
    waitev(ep, 0);
    waitev(ep, 0);
    read(p[0], buf, 1);
    waitev(ep, 0);
    write(p[1], "d", 1);
    waitev(ep, 0);
    read(p[0], buf, 8);

    printf(" oneshot\n");
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = 300;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    write(p[1], "x", 1);
    waitev(ep, 0);
    waitev(ep, 0);
    write(p[1], "y", 1);
    waitev(ep, 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    waitev(ep, 0);
    read(p[0], buf, 8);

    printf(" several, output and hang-up\n");
    ev.events = EPOLLIN;
    ev.data.u64 = 400;
    CHECK(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    struct epoll_event wev = {.events = EPOLLOUT, .data.u64 = 401};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &wev));
    waitev(ep, 0);
    int e = eventfd(1, 0);
    struct epoll_event eev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 402};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, e, &eev));
    waitev(ep, 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
    close(p[1]);
    waitev(ep, 0);

    printf(" a dup keeps the registration until the file goes\n");
    int d = dup(e);
    close(e);
    waitev(ep, 0);
    CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
    close(d);
    waitev(ep, 0);

    printf(" nesting\n");
    int inner = epoll_create1(0);
    int q[2];
    pipe(q);
    struct epoll_event iev = {.events = EPOLLIN, .data.u64 = 500};
    CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, q[0], &iev));
    int outer = epoll_create1(0);
    struct epoll_event oev = {.events = EPOLLIN, .data.u64 = 600};
    CHECK(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &oev));
    CHECK(epoll_ctl(inner, EPOLL_CTL_ADD, outer, &oev));
    struct epoll_event xev = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, inner, &xev));
    waitev(outer, 0);
    write(q[1], "z", 1);
    waitev(outer, 0);
    struct pollfd pf = {outer, POLLIN, 0};
    CHECK(poll(&pf, 1, 0));
    printf("  poll revents %#x\n", pf.revents);
    waitev(inner, 0);
    int chain[7];
    chain[0] = epoll_create1(0);
    for (int i = 1; i < 7; i++) {
        chain[i] = epoll_create1(0);
        struct epoll_event cev = {.events = EPOLLIN};
        printf("  chain %d: ", i);
        CHECK(epoll_ctl(chain[i], EPOLL_CTL_ADD, chain[i - 1], &cev));
    }

    printf(" a child's write wakes epoll_wait\n");
    ev.events = EPOLLIN;
    ev.data.u64 = 700;
    int r[2];
    pipe(r);
    int ep2 = epoll_create1(0);
    epoll_ctl(ep2, EPOLL_CTL_ADD, r[0], &ev);
    pid_t c = fork();
    if (c == 0) {
        usleep(20000);
        write(r[1], "w", 1);
        _exit(0);
    }
    waitev(ep2, 5000);
    waitpid(c, NULL, 0);
    struct timespec ts = {0, 1000000};
    sigset_t none;
    sigemptyset(&none);
    read(r[0], buf, 1);
    CHECK(syscall(SYS_epoll_pwait2, ep2, evs, 1, &ts, &none, 8));
    CHECK(syscall(SYS_epoll_pwait2, ep2, evs, 1, &ts, &none, 4));
    CHECK(epoll_pwait(ep2, evs, 1, 1, &none));
    ts.tv_nsec = -1;
    CHECK(syscall(SYS_epoll_pwait2, ep2, evs, 1, &ts, NULL, 8));
}

static void test_timerfd(void)
{
    printf("== timerfd\n");
    CHECK(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
    CHECK(timerfd_create(CLOCK_MONOTONIC, 0x1234));
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    uint64_t ticks = 0;
    CHECK(read(t, &ticks, 8));
    struct itimerspec its = {{0, 0}, {0, 20000000}}, old;
    CHECK(timerfd_settime(t, 0, &its, NULL));
    CHECK(timerfd_gettime(t, &old));
    printf("  armed: value>0 %d interval %ld\n", old.it_value.tv_nsec > 0 || old.it_value.tv_sec > 0,
           old.it_interval.tv_nsec);
    struct pollfd p = {t, POLLIN, 0};
    CHECK(poll(&p, 1, 1000));
    CHECK(read(t, &ticks, 4));
    CHECK(read(t, &ticks, 8));
    printf("  ticks %llu\n", (unsigned long long)ticks);
    CHECK(timerfd_gettime(t, &old));
    printf("  expired: value %ld.%09ld\n", (long)old.it_value.tv_sec, old.it_value.tv_nsec);
    its.it_value.tv_nsec = 1000000000;
    CHECK(timerfd_settime(t, 0, &its, NULL));
    its.it_value.tv_nsec = 0;
    CHECK(timerfd_settime(t, 8, &its, NULL));
    CHECK(timerfd_settime(0, 0, &its, NULL));

    /* Periodic, blocking, with overruns. */
    int b = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec per = {{0, 10000000}, {0, 10000000}};
    timerfd_settime(b, 0, &per, NULL);
    CHECK(read(b, &ticks, 8));
    printf("  first tick %llu\n", (unsigned long long)ticks);
    usleep(55000);
    CHECK(read(b, &ticks, 8));
    printf("  overruns counted: %d\n", ticks >= 4);
    /* Absolute time in the past: due at once. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int a = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec abs = {{0, 0}, {now.tv_sec - 1, 0}};
    CHECK(timerfd_settime(a, TFD_TIMER_ABSTIME, &abs, &old));
    CHECK(read(a, &ticks, 8));
    printf("  past absolute: %llu\n", (unsigned long long)ticks);
    abs.it_value.tv_sec = now.tv_sec + 1000;
    CHECK(timerfd_settime(a, TFD_TIMER_ABSTIME, &abs, NULL));
    CHECK(timerfd_settime(a, 0, &its, &old));
    printf("  old value about 1000 s: %d\n", old.it_value.tv_sec >= 990 && old.it_value.tv_sec <= 1000);
    /* In epoll. */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1};
    epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
    waitev(ep, 1000);
    CHECK(read(b, &ticks, 8));
    close(ep);
    close(a);
    close(b);
    close(t);
}

static void test_signalfd(void)
{
    printf("== signalfd\n");
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGCHLD);
    sigprocmask(SIG_BLOCK, &m, NULL);
    CHECK(syscall(SYS_signalfd4, -1, &m, 4, 0));
    CHECK(syscall(SYS_signalfd4, -1, &m, 8, 0x1234));
    CHECK(signalfd(0, &m, 0));
    int s = signalfd(-1, &m, SFD_NONBLOCK);
    struct signalfd_siginfo si;
    CHECK(read(s, &si, sizeof si));
    CHECK(read(s, &si, 10));
    kill(getpid(), SIGUSR1);
    struct pollfd p = {s, POLLIN, 0};
    CHECK(poll(&p, 1, 0));
    CHECK(read(s, &si, sizeof si));
    printf("  signo %u code %d pid ok %d\n", si.ssi_signo, si.ssi_code, si.ssi_pid == (uint32_t)getpid());
    pid_t c = fork();
    if (c == 0)
        _exit(7);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 9};
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
    waitev(ep, 5000);
    CHECK(read(s, &si, sizeof si));
    printf("  signo %u code %d status %d pid ok %d\n", si.ssi_signo, si.ssi_code, si.ssi_status,
           si.ssi_pid == (uint32_t)c);
    waitpid(c, NULL, 0);
    /* Changing the mask of an existing signalfd. */
    sigset_t only2;
    sigemptyset(&only2);
    sigaddset(&only2, SIGUSR2);
    CHECK(signalfd(s, &only2, 0) == s);
    sigaddset(&only2, SIGUSR1);
    sigprocmask(SIG_BLOCK, &only2, NULL);
    kill(getpid(), SIGUSR1);
    kill(getpid(), SIGUSR2);
    struct signalfd_siginfo two[2];
    CHECK(read(s, two, sizeof two));
    printf("  signo %u\n", two[0].ssi_signo);
    sigpending(&m);
    printf("  SIGUSR1 still pending %d\n", sigismember(&m, SIGUSR1));
    /* A blocking read woken by a child's kill. */
    int sb = signalfd(-1, &only2, 0);
    c = fork();
    if (c == 0) {
        usleep(20000);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    CHECK(read(sb, &si, sizeof si));
    printf("  from child: signo %u\n", si.ssi_signo);
    waitpid(c, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_eventfd();
    test_epoll();
    test_timerfd();
    test_signalfd();
    return 0;
}
