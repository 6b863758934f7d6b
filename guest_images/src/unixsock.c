/* AF_UNIX sockets: socketpair, stream/dgram/seqpacket, path and abstract names, listen/accept,
 * SCM_RIGHTS and SCM_CREDENTIALS between processes, SO_PEERCRED, MSG_* flags, shutdown, EPIPE,
 * poll/epoll readiness, ioctls, options, and the errors Linux gives.  Prints what it saw. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(what, expr) do { long r_ = (long)(expr); printf("%-40s %ld %s\n", what, r_, r_ < 0 ? strerrorname(errno) : ""); } while (0)

static const char *strerrorname(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case ENOTSOCK: return "ENOTSOCK";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOENT: return "ENOENT";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EPROTOTYPE: return "EPROTOTYPE";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case ENXIO: return "ENXIO";
    case EMSGSIZE: return "EMSGSIZE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EFAULT: return "EFAULT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EPERM: return "EPERM";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case EDOM: return "EDOM";
    default: return "E?";
    }
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path + 1, name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

static void pairs(void)
{
    int sv[2];
    char buf[64];
    printf("-- socketpair\n");
    CHECK("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    CHECK("write 5", write(sv[0], "hello", 5));
    CHECK("write 6", write(sv[0], " world", 6));
    CHECK("recv peek", recv(sv[1], buf, sizeof buf, MSG_PEEK));
    CHECK("read merges records", read(sv[1], buf, sizeof buf));
    CHECK("recv dontwait empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    int n = -1;
    write(sv[1], "abc", 3);
    CHECK("FIONREAD", ioctl(sv[0], FIONREAD, &n));
    printf("  inq %d\n", n);
    CHECK("SIOCOUTQ", ioctl(sv[1], TIOCOUTQ, &n));
    printf("  outq>0 %d\n", n > 0);
    CHECK("shutdown wr", shutdown(sv[1], SHUT_WR));
    CHECK("read data", read(sv[0], buf, sizeof buf));
    CHECK("read eof", read(sv[0], buf, sizeof buf));
    CHECK("send after shut wr", send(sv[1], "x", 1, MSG_NOSIGNAL));
    CHECK("shutdown bad how", shutdown(sv[1], 7));
    close(sv[0]);
    close(sv[1]);

    CHECK("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    send(sv[0], "first-message", 13, 0);
    send(sv[0], "second", 6, 0);
    send(sv[0], "", 0, 0);
    CHECK("recv truncated", recv(sv[1], buf, 5, 0));
    CHECK("recv MSG_TRUNC real len", recv(sv[1], buf, 2, MSG_TRUNC));
    CHECK("recv empty datagram", recv(sv[1], buf, sizeof buf, 0));
    struct msghdr mh = {0};
    struct iovec iov = {buf, 4};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    send(sv[0], "0123456789", 10, 0);
    CHECK("recvmsg truncated", recvmsg(sv[1], &mh, 0));
    printf("  msg_flags MSG_TRUNC=%d\n", !!(mh.msg_flags & MSG_TRUNC));
    close(sv[0]);
    CHECK("dgram send to closed peer", send(sv[1], "x", 1, MSG_DONTWAIT));
    close(sv[1]);

    CHECK("socketpair seqpacket", socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv));
    printf("  nonblock %d cloexec %d\n", !!(fcntl(sv[0], F_GETFL) & O_NONBLOCK), !!(fcntl(sv[0], F_GETFD) & FD_CLOEXEC));
    send(sv[0], "rec-one", 7, 0);
    send(sv[0], "rec-two", 7, 0);
    CHECK("seqpacket recv 3", recv(sv[1], buf, 3, 0));
    CHECK("seqpacket next record", recv(sv[1], buf, sizeof buf, 0));
    printf("  got %.7s\n", buf);
    CHECK("seqpacket empty nonblock", recv(sv[1], buf, sizeof buf, 0));
    close(sv[0]);
    CHECK("seqpacket eof", recv(sv[1], buf, sizeof buf, 0));
    close(sv[1]);

    CHECK("socketpair inet", socketpair(AF_INET, SOCK_STREAM, 0, sv));
    CHECK("socket bad family", socket(4242, SOCK_STREAM, 0));
    CHECK("socket bad type", socket(AF_UNIX, 42, 0));
    CHECK("socket bad proto", socket(AF_UNIX, SOCK_STREAM, 7));
    CHECK("socket bad flags", socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
}

static void errors(void)
{
    int p[2];
    char buf[16];
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    printf("-- not sockets\n");
    pipe(p);
    CHECK("getpeername pipe", getpeername(p[0], (struct sockaddr *)&a, &len));
    CHECK("getsockname pipe", getsockname(p[0], (struct sockaddr *)&a, &len));
    CHECK("recv pipe", recv(p[0], buf, 1, MSG_DONTWAIT));
    CHECK("send bad fd", send(999, buf, 1, 0));
    CHECK("listen pipe", listen(p[1], 1));
    CHECK("accept pipe", accept(p[1], NULL, NULL));
    CHECK("shutdown pipe", shutdown(p[1], SHUT_RD));
    CHECK("setsockopt pipe", setsockopt(p[1], SOL_SOCKET, SO_REUSEADDR, &len, sizeof len));
    close(p[0]);
    close(p[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("bind bad pointer", bind(s, (struct sockaddr *)8, sizeof a));
    CHECK("bind short", bind(s, (struct sockaddr *)&a, 1));
    CHECK("bind too long", bind(s, (struct sockaddr *)&a, 200));
    a.sun_family = AF_INET;
    CHECK("bind wrong family", bind(s, (struct sockaddr *)&a, sizeof a));
    CHECK("connect unconnected stream listen", listen(s, 1));
    CHECK("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &len));
    CHECK("recv unconnected", recv(s, buf, 1, MSG_DONTWAIT));
    CHECK("send unconnected", send(s, buf, 1, MSG_NOSIGNAL));
    int bad = -1;
    len = sizeof a;
    CHECK("getsockname bad len", getsockname(s, (struct sockaddr *)&a, (socklen_t *)&bad));
    CHECK("getsockopt unknown", getsockopt(s, SOL_SOCKET, 9999, &bad, &len));
    CHECK("setsockopt level tcp on unix", setsockopt(s, IPPROTO_TCP, 1, &bad, sizeof bad));
    CHECK("accept4 bad flags", accept4(s, NULL, NULL, 0x1));
    close(s);
}

static void names(void)
{
    struct sockaddr_un a, got;
    socklen_t len;
    char buf[64];
    struct stat stbuf;
    printf("-- path and abstract names\n");
    unlink("unixsock.sock");
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    socklen_t alen = path_addr(&a, "unixsock.sock");
    CHECK("connect no file", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, alen));
    CHECK("bind path", bind(l, (struct sockaddr *)&a, alen));
    CHECK("stat is socket", stat("unixsock.sock", &stbuf) == 0 && S_ISSOCK(stbuf.st_mode));
    CHECK("open socket file", open("unixsock.sock", O_RDONLY));
    int l2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("bind same path", bind(l2, (struct sockaddr *)&a, alen));
    CHECK("bind twice", bind(l, (struct sockaddr *)&a, alen));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("connect not listening", connect(c, (struct sockaddr *)&a, alen));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK("listen", listen(l, 4));
    CHECK("connect dgram to stream", connect(d, (struct sockaddr *)&a, alen));
    CHECK("connect", connect(c, (struct sockaddr *)&a, alen));
    CHECK("connect again", connect(c, (struct sockaddr *)&a, alen));
    len = sizeof got;
    int s = accept4(l, (struct sockaddr *)&got, &len, SOCK_CLOEXEC);
    CHECK("accept4", s >= 0);
    printf("  peer addr len %d (unnamed)\n", (int)len);
    len = sizeof got;
    CHECK("getsockname accepted", getsockname(s, (struct sockaddr *)&got, &len));
    printf("  len %d path %s\n", (int)len, got.sun_path);
    len = sizeof got;
    CHECK("getpeername client", getpeername(c, (struct sockaddr *)&got, &len));
    printf("  len %d path %s\n", (int)len, got.sun_path);
    len = 4;
    CHECK("getpeername short buffer", getpeername(c, (struct sockaddr *)&got, &len));
    printf("  full len %d\n", (int)len);
    int v = -1;
    len = sizeof v;
    getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
    printf("  SO_ACCEPTCONN listener %d\n", v);
    getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &len);
    printf("  SO_TYPE %d\n", v);
    getsockopt(c, SOL_SOCKET, SO_DOMAIN, &v, &len);
    printf("  SO_DOMAIN %d\n", v);
    getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len);
    printf("  SO_ERROR %d\n", v);
    struct ucred cr;
    len = sizeof cr;
    CHECK("SO_PEERCRED", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len));
    printf("  pid is mine %d uid %d gid %d len %d\n", cr.pid == getpid(), cr.uid == geteuid(), cr.gid == getegid(),
           (int)len);
    close(s);
    close(c);
    close(l);
    CHECK("connect after close", connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, alen));
    CHECK("bind after close", bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, alen));
    CHECK("unlink", unlink("unixsock.sock"));

    /* abstract */
    alen = abstract_addr(&a, "umlpy-test-abstract");
    l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK("bind abstract", bind(l, (struct sockaddr *)&a, alen));
    CHECK("bind abstract again", bind(socket(AF_UNIX, SOCK_SEQPACKET, 0), (struct sockaddr *)&a, alen));
    listen(l, 1);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK("connect wrong type", connect(c, (struct sockaddr *)&a, alen));
    c = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    CHECK("connect abstract", connect(c, (struct sockaddr *)&a, alen));
    len = sizeof got;
    getpeername(c, (struct sockaddr *)&got, &len);
    printf("  abstract len %d name %s\n", (int)len, got.sun_path + 1);
    s = accept(l, NULL, NULL);
    send(c, "seq", 3, 0);
    CHECK("recv seqpacket", recv(s, buf, sizeof buf, 0));
    close(l);
    CHECK("connect closed abstract", connect(socket(AF_UNIX, SOCK_SEQPACKET, 0), (struct sockaddr *)&a, alen));
    close(s);
    close(c);

    /* autobind */
    l = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK("autobind", bind(l, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path)));
    len = sizeof got;
    getsockname(l, (struct sockaddr *)&got, &len);
    printf("  autobind len %d abstract %d\n", (int)len, got.sun_path[0] == 0);
    /* dgram between named sockets */
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    alen = abstract_addr(&a, "umlpy-dgram");
    bind(r, (struct sockaddr *)&a, alen);
    CHECK("sendto", sendto(l, "datagram", 8, 0, (struct sockaddr *)&a, alen));
    len = sizeof got;
    CHECK("recvfrom", recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&got, &len));
    printf("  from len %d abstract %d\n", (int)len, got.sun_path[0] == 0);
    struct sockaddr_un nobody;
    socklen_t nlen = abstract_addr(&nobody, "umlpy-nobody");
    CHECK("sendto nobody", sendto(l, "x", 1, 0, (struct sockaddr *)&nobody, nlen));
    CHECK("send unconnected dgram", send(l, "x", 1, 0));
    int third = socket(AF_UNIX, SOCK_DGRAM, 0);
    connect(r, (struct sockaddr *)&got, len);
    CHECK("sendto connected elsewhere", sendto(third, "x", 1, 0, (struct sockaddr *)&a, alen));
    close(third);
    close(l);
    close(r);
}

static void passing(void)
{
    int sv[2];
    char buf[64];
    printf("-- SCM_RIGHTS and SCM_CREDENTIALS\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int on = 1;
    CHECK("SO_PASSCRED", setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        int p[2];
        pipe(p);
        write(p[1], "through the passed pipe", 23);
        close(p[1]);
        char ctl[CMSG_SPACE(sizeof(int) * 2)];
        memset(ctl, 0, sizeof ctl);
        struct iovec iov = {"F", 1};
        struct msghdr mh = {0};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = ctl;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * 2);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * 2);
        int fds[2] = {p[0], 1};
        memcpy(CMSG_DATA(cm), fds, sizeof fds);
        if (sendmsg(sv[1], &mh, 0) != 1) _exit(2);
        close(p[0]);
        write(sv[1], "plain", 5);
        /* explicit credentials that are someone else's: EPERM unless root */
        _exit(0);
    }
    close(sv[1]);
    int status;
    waitpid(child, &status, 0);
    printf("  child exit %d\n", WEXITSTATUS(status));
    char ctl[256];
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    CHECK("recvmsg with fds", recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC));
    int got_fd = -1, ncred = 0, nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_type == SCM_CREDENTIALS) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(cm), sizeof uc);
            printf("  cred pid is child %d uid ok %d len %d\n", uc.pid == child, uc.uid == getuid(),
                   (int)cm->cmsg_len);
            ncred++;
        } else if (cm->cmsg_type == SCM_RIGHTS) {
            nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(&got_fd, CMSG_DATA(cm), sizeof got_fd);
        }
    }
    printf("  creds %d fds %d controllen %d flags %d\n", ncred, nfds, (int)mh.msg_controllen, mh.msg_flags);
    printf("  cloexec %d\n", !!(fcntl(got_fd, F_GETFD) & FD_CLOEXEC));
    int n = read(got_fd, buf, sizeof buf);
    printf("  read from passed fd: %.*s\n", n, buf);
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    CHECK("recvmsg plain", recvmsg(sv[0], &mh, 0));
    printf("  controllen %d\n", (int)mh.msg_controllen);
    close(sv[0]);

    /* truncated control: fds that do not fit are closed, MSG_CTRUNC */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    char sctl[CMSG_SPACE(sizeof(int) * 3)];
    struct msghdr sm = {0};
    struct iovec siov = {"T", 1};
    sm.msg_iov = &siov;
    sm.msg_iovlen = 1;
    sm.msg_control = sctl;
    sm.msg_controllen = sizeof sctl;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&sm);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * 3);
    int three[3] = {0, 1, 2};
    memcpy(CMSG_DATA(cm), three, sizeof three);
    CHECK("sendmsg 3 fds", sendmsg(sv[0], &sm, 0));
    int bogus[3] = {0, 555, 2};
    memcpy(CMSG_DATA(cm), bogus, sizeof bogus);
    CHECK("sendmsg bad fd", sendmsg(sv[0], &sm, 0));
    cm->cmsg_len = 4;
    CHECK("sendmsg bad cmsg_len", sendmsg(sv[0], &sm, 0));
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    cm->cmsg_type = 77;
    CHECK("sendmsg bad cmsg type", sendmsg(sv[0], &sm, 0));
    char small[CMSG_SPACE(sizeof(int))];
    mh.msg_control = small;
    mh.msg_controllen = sizeof small;
    CHECK("recvmsg small control", recvmsg(sv[1], &mh, 0));
    printf("  ctrunc %d controllen %d\n", !!(mh.msg_flags & MSG_CTRUNC), (int)mh.msg_controllen);
    int first_free = dup(0);
    int probe[2];
    memcpy(probe, CMSG_DATA((struct cmsghdr *)small), sizeof probe);
    printf("  next fd after the ones received: %d (received %d)\n", first_free,
           ((struct cmsghdr *)small)->cmsg_len == CMSG_LEN(2 * sizeof(int)) ? 2 : 1);
    close(first_free);
    close(sv[0]);
    close(sv[1]);
}

static volatile int got_alarm;
static void on_alarm(int sig) { (void)sig; got_alarm = 1; }

static void blocking(void)
{
    int sv[2];
    char buf[4096];
    printf("-- blocking, signals, readiness\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGUSR1, &sa, NULL);
    pid_t killer = fork();
    if (killer == 0) {
        usleep(100000);
        kill(getppid(), SIGUSR1);
        _exit(0);
    }
    CHECK("recv interrupted", recv(sv[0], buf, 1, 0));
    waitpid(killer, NULL, 0);
    printf("  alarm %d\n", got_alarm);
    struct timeval tv = {0, 100000};
    CHECK("SO_RCVTIMEO", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    CHECK("recv timeout", recv(sv[0], buf, 1, 0));
    struct timeval back;
    socklen_t len = sizeof back;
    getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &back, &len);
    printf("  timeo %ld.%06ld\n", (long)back.tv_sec, (long)back.tv_usec);

    struct pollfd pf[2] = {{sv[0], POLLIN | POLLOUT, 0}, {sv[1], POLLIN | POLLOUT, 0}};
    poll(pf, 2, 0);
    printf("  poll idle %#x %#x\n", pf[0].revents, pf[1].revents);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = sv[0]};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    struct epoll_event out[2];
    printf("  epoll before %d\n", epoll_wait(ep, out, 2, 0));
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        write(sv[1], "wake", 4);
        usleep(50000);
        write(sv[1], "more", 4);
        /* interleaved big writes from two processes: nothing lost */
        static char big[300000];
        memset(big, 'b', sizeof big);
        if (fork() == 0) {
            memset(big, 'c', sizeof big);
            write(sv[1], big, sizeof big);
            _exit(0);
        }
        write(sv[1], big, sizeof big);
        wait(NULL);
        _exit(0);
    }
    int n = epoll_wait(ep, out, 2, 5000);
    printf("  epoll after write %d events %#x\n", n, n > 0 ? out[0].events : 0);
    CHECK("MSG_WAITALL 8", recv(sv[0], buf, 8, MSG_WAITALL));
    printf("  %.8s\n", buf);
    close(sv[1]);
    long total = 0, bs = 0, cs = 0;
    while ((n = read(sv[0], buf, sizeof buf)) > 0) {
        for (int i = 0; i < n; i++) {
            bs += buf[i] == 'b';
            cs += buf[i] == 'c';
        }
        total += n;
    }
    waitpid(child, NULL, 0);
    printf("  total %ld b %ld c %ld\n", total, bs, cs);
    pf[0].events = POLLIN | POLLOUT | POLLRDHUP;
    poll(pf, 1, 0);
    printf("  poll after peer closed %#x\n", pf[0].revents);
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    signal(SIGPIPE, SIG_IGN);
    CHECK("write to closed peer", write(sv[0], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    CHECK("send MSG_NOSIGNAL", send(sv[0], "x", 1, MSG_NOSIGNAL));
    close(sv[0]);
    child = fork();
    if (child == 0) {
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        close(sv[1]);
        send(sv[0], "x", 1, 0);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("  SIGPIPE kills: signaled %d sig %d\n", WIFSIGNALED(status), WTERMSIG(status));

    /* a full socket: non-blocking send gives EAGAIN, POLLOUT clears */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    int sent = 0;
    while (send(sv[0], buf, 1024, 0) == 1024 && sent < 100000)
        sent++;
    printf("  filled: %d errno %s\n", sent > 0 && sent < 100000, strerrorname(errno));
    pf[0].fd = sv[0];
    pf[0].events = POLLOUT;
    poll(pf, 1, 0);
    printf("  pollout when full %#x\n", pf[0].revents);
    recv(sv[1], buf, sizeof buf, 0);
    close(sv[0]);
    close(sv[1]);

    /* sendmmsg / recvmmsg */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    struct mmsghdr mm[3];
    struct iovec iv[3] = {{"one", 3}, {"two!", 4}, {"three", 5}};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &iv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK("sendmmsg", sendmmsg(sv[0], mm, 3, 0));
    printf("  lens %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
    char rb[3][8];
    struct iovec riv[3] = {{rb[0], 8}, {rb[1], 8}, {rb[2], 8}};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 3; i++) {
        mm[i].msg_hdr.msg_iov = &riv[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    CHECK("recvmmsg waitforone", recvmmsg(sv[1], mm, 3, MSG_WAITFORONE, NULL));
    printf("  %.3s %.4s %.5s\n", rb[0], rb[1], rb[2]);
    CHECK("recvmmsg none left", recvmmsg(sv[1], mm, 3, MSG_DONTWAIT, NULL));
    close(sv[0]);
    close(sv[1]);
}

static void options(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int v = 0;
    socklen_t len = sizeof v;
    printf("-- options\n");
    v = 1;
    CHECK("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    v = 7;
    CHECK("SO_KEEPALIVE", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
    getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len);
    printf("  keepalive %d\n", v);
    v = 10000;
    setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len);
    printf("  sndbuf %d\n", v);
    v = 1;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &len);
    printf("  rcvbuf min %d\n", v);
    struct linger lg = {1, 5};
    CHECK("SO_LINGER", setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    memset(&lg, 0, sizeof lg);
    len = sizeof lg;
    getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len);
    printf("  linger %d %d len %d\n", lg.l_onoff, lg.l_linger, (int)len);
    CHECK("setsockopt short", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 2));
    char small[2] = {9, 9};
    len = 2;
    getsockopt(s, SOL_SOCKET, SO_TYPE, small, &len);
    printf("  SO_TYPE in 2 bytes: %d %d len %d\n", small[0], small[1], (int)len);
    struct ucred cr;
    len = sizeof cr;
    getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len);
    printf("  unconnected peercred pid %d uid %d gid %d\n", cr.pid, (int)cr.uid, (int)cr.gid);
    struct timeval tv = {0, 2000000};
    CHECK("SO_SNDTIMEO bad usec", setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pairs();
    errors();
    names();
    passing();
    blocking();
    options();
    return 0;
}
