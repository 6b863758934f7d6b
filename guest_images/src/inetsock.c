/* AF_INET and AF_INET6 on the loopback: TCP listen/connect/accept, non-blocking connect with
 * EINPROGRESS and SO_ERROR, ECONNREFUSED, EADDRINUSE and SO_REUSEADDR, dual-stack and
 * IPV6_V6ONLY, UDP datagrams, getsockname/getpeername, TCP options, readiness, and a
 * request/response between two processes.  Prints what it saw (never a port number). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case EPIPE: return "EPIPE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EINVAL: return "EINVAL";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EINPROGRESS: return "EINPROGRESS";
    case EALREADY: return "EALREADY";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EDESTADDRREQ: return "EDESTADDRREQ";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EMSGSIZE: return "EMSGSIZE";
    case ECONNRESET: return "ECONNRESET";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case ENETUNREACH: return "ENETUNREACH";
    default: return "E?";
    }
}

#define CHECK(what, expr) do { long r_ = (long)(expr); printf("%-40s %ld %s\n", what, r_ < 0 ? -1L : r_ > 3 ? 3L : r_, r_ < 0 ? ename(errno) : ""); } while (0)

static struct sockaddr_in v4(const char *ip, int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void show_name(const char *what, int fd, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char ip[64] = "?";
    int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (r < 0) {
        printf("  %s: -1 %s\n", what, ename(errno));
        return;
    }
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
    printf("  %s: family %d len %d %s port>0 %d\n", what, ss.ss_family, (int)len, ip,
           (ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port) != 0);
}

static void tcp(void)
{
    char buf[256];
    printf("-- tcp\n");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    show_name("unbound", l, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    CHECK("bind 127.0.0.1:0", bind(l, (struct sockaddr *)&a, sizeof a));
    show_name("bound", l, 0);
    CHECK("listen", listen(l, 8));
    int port = port_of(l);
    a = v4("127.0.0.1", port);
    int l2 = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("bind same port", bind(l2, (struct sockaddr *)&a, sizeof a));
    int one = 1;
    setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK("bind same port reuseaddr vs listener", bind(l2, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in far = v4("192.0.2.1", 0);
    CHECK("bind non-local address", bind(l2, (struct sockaddr *)&far, sizeof far));
    close(l2);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("connect", connect(c, (struct sockaddr *)&a, sizeof a));
    show_name("client local", c, 0);
    show_name("client peer", c, 1);
    int s = accept(l, NULL, NULL);
    CHECK("accept", s >= 0);
    show_name("server local", s, 0);
    show_name("server peer", s, 1);
    printf("  ports agree %d\n", port_of(c) != port && port_of(s) == port);
    CHECK("connect again", connect(c, (struct sockaddr *)&a, sizeof a));
    int v;
    socklen_t len = sizeof v;
    CHECK("TCP_NODELAY", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    printf("  nodelay %d\n", v);
    getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &len);
    printf("  SO_TYPE %d\n", v);
    getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &len);
    printf("  SO_PROTOCOL %d\n", v);
    getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len);
    printf("  SO_ACCEPTCONN %d\n", v);
    CHECK("getsockopt bad level", getsockopt(c, 200, 1, &v, &len));
    CHECK("getsockopt tcp bogus", getsockopt(c, IPPROTO_TCP, 999, &v, &len));
    CHECK("SO_PEERCRED on tcp", getsockopt(c, SOL_SOCKET, SO_PEERCRED, buf, &len));
    CHECK("send", send(c, "hello", 5, 0));
    CHECK("send more", send(c, " there", 6, 0));
    int n = -1;
    usleep(10000);
    ioctl(s, FIONREAD, &n);
    printf("  FIONREAD %d\n", n);
    n = recv(s, buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT);
    printf("  recv %d %.*s\n", n, n > 0 ? n : 0, buf);
    struct sockaddr_in from;
    len = sizeof from;
    from.sin_family = 77;
    send(c, "x", 1, 0);
    CHECK("recvfrom on tcp", recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len));
    printf("  addrlen %d\n", (int)len);
    CHECK("shutdown wr", shutdown(c, SHUT_WR));
    CHECK("recv eof", recv(s, buf, sizeof buf, 0));
    struct pollfd pf = {s, POLLIN | POLLOUT | POLLRDHUP, 0};
    poll(&pf, 1, 0);
    printf("  server poll after FIN %#x\n", pf.revents);
    CHECK("server still sends", send(s, "back", 4, 0));
    CHECK("client reads", recv(c, buf, sizeof buf, 0));
    close(s);
    usleep(10000);
    CHECK("client eof", recv(c, buf, sizeof buf, 0));
    close(c);

    /* refused, non-blocking connect */
    struct sockaddr_in dead = v4("127.0.0.1", port);
    close(l);
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("connect refused", connect(c, (struct sockaddr *)&dead, sizeof dead));
    close(c);
    l = socket(AF_INET, SOCK_STREAM, 0);
    a = v4("0.0.0.0", 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    a = v4("127.0.0.1", port_of(l));
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("nonblocking connect", connect(c, (struct sockaddr *)&a, sizeof a));
    pf.fd = c;
    pf.events = POLLOUT;
    CHECK("poll for connect", poll(&pf, 1, 1000));
    printf("  revents %#x\n", pf.revents);
    v = -1;
    len = sizeof v;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len);
    printf("  SO_ERROR %d\n", v);
    CHECK("connect after completion", connect(c, (struct sockaddr *)&a, sizeof a));
    CHECK("connect once more", connect(c, (struct sockaddr *)&a, sizeof a));
    s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    CHECK("accept4 nonblock", s >= 0);
    printf("  accepted nonblock %d\n", !!(fcntl(s, F_GETFL) & O_NONBLOCK));
    CHECK("recv nothing yet", recv(s, buf, sizeof buf, 0));
    fcntl(l, F_SETFL, O_NONBLOCK);
    CHECK("accept empty", accept(l, NULL, NULL));
    close(s);
    close(c);
    c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    CHECK("nonblocking connect refused", connect(c, (struct sockaddr *)&dead, sizeof dead));
    pf.fd = c;
    pf.events = POLLOUT | POLLIN;
    poll(&pf, 1, 1000);
    printf("  revents %#x\n", pf.revents);
    getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &len);
    printf("  SO_ERROR %s\n", ename(v));
    close(c);
    CHECK("listen on connected-to port again", listen(l, 5));
    close(l);
}

static void dual(void)
{
    printf("-- ipv6\n");
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a6;
    memset(&a6, 0, sizeof a6);
    a6.sin6_family = AF_INET6;
    a6.sin6_addr = in6addr_any;
    int v = -1;
    socklen_t len = sizeof v;
    getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
    printf("  v6only default %d\n", v);
    CHECK("bind [::]:0", bind(l, (struct sockaddr *)&a6, sizeof a6));
    listen(l, 4);
    int port = port_of(l);
    struct sockaddr_in a = v4("127.0.0.1", port);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("v4 client to dual-stack listener", connect(c, (struct sockaddr *)&a, sizeof a));
    int s = accept(l, NULL, NULL);
    show_name("mapped peer", s, 1);
    close(s);
    close(c);
    a6.sin6_addr = in6addr_loopback;
    a6.sin6_port = htons(port);
    c = socket(AF_INET6, SOCK_STREAM, 0);
    CHECK("v6 client", connect(c, (struct sockaddr *)&a6, sizeof a6));
    show_name("v6 client local", c, 0);
    s = accept(l, NULL, NULL);
    close(s);
    close(c);
    struct sockaddr_in a4 = v4("127.0.0.1", port);
    int b = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("v4 bind on dual-stack port", bind(b, (struct sockaddr *)&a4, sizeof a4));
    close(b);
    close(l);
    l = socket(AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    CHECK("IPV6_V6ONLY", setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    a6.sin6_addr = in6addr_any;
    a6.sin6_port = 0;
    bind(l, (struct sockaddr *)&a6, sizeof a6);
    CHECK("IPV6_V6ONLY after bind", setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    listen(l, 4);
    a4 = v4("127.0.0.1", port_of(l));
    c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("v4 to v6only listener", connect(c, (struct sockaddr *)&a4, sizeof a4));
    close(c);
    b = socket(AF_INET, SOCK_STREAM, 0);
    CHECK("v4 bind beside v6only", bind(b, (struct sockaddr *)&a4, sizeof a4));
    close(b);
    close(l);
    CHECK("bind short sockaddr_in6", bind(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&a6, 20));
    CHECK("bind v4 addr to v6 socket", bind(socket(AF_INET6, SOCK_STREAM, 0), (struct sockaddr *)&a4, sizeof a4));
}

static void udp(void)
{
    char buf[128];
    printf("-- udp\n");
    int r = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(r, (struct sockaddr *)&a, sizeof a);
    a = v4("127.0.0.1", port_of(r));
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK("send unconnected", send(s, "x", 1, 0));
    CHECK("sendto", sendto(s, "datagram-one", 12, 0, (struct sockaddr *)&a, sizeof a));
    CHECK("sendto 2", sendto(s, "two", 3, 0, (struct sockaddr *)&a, sizeof a));
    show_name("sender autobound", s, 0);
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    int n = -1;
    usleep(10000);
    ioctl(r, FIONREAD, &n);
    printf("  FIONREAD first datagram %d\n", n);
    CHECK("recvfrom truncated", recvfrom(r, buf, 4, 0, (struct sockaddr *)&from, &len));
    printf("  from port matches %d len %d\n", ntohs(from.sin_port) == port_of(s), (int)len);
    CHECK("recv MSG_TRUNC", recv(r, buf, 1, MSG_TRUNC));
    CHECK("recv empty", recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CHECK("connect udp", connect(s, (struct sockaddr *)&a, sizeof a));
    show_name("udp peer", s, 1);
    CHECK("send connected", send(s, "c", 1, 0));
    CHECK("recv", recv(r, buf, sizeof buf, 0));
    static char big[70000];
    CHECK("sendto too big", sendto(s, big, sizeof big, 0, (struct sockaddr *)&a, sizeof a));
    struct sockaddr_in closed = v4("127.0.0.1", port_of(r));
    close(r);
    CHECK("send to closed port", send(s, "x", 1, 0));
    usleep(10000);
    CHECK("next send gets the ICMP", send(s, "x", 1, 0));
    struct sockaddr_in unspec;
    memset(&unspec, 0, sizeof unspec);
    unspec.sin_family = AF_UNSPEC;
    CHECK("disconnect", connect(s, (struct sockaddr *)&unspec, sizeof unspec));
    show_name("peer after disconnect", s, 1);
    (void)closed;
    close(s);
    CHECK("socket udp seqpacket", socket(AF_INET, SOCK_SEQPACKET, 0));
    CHECK("socket tcp with udp proto", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
}

static void reqresp(void)
{
    printf("-- request/response between processes\n");
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4("127.0.0.1", 0);
    bind(l, (struct sockaddr *)&a, sizeof a);
    listen(l, 1);
    a = v4("127.0.0.1", port_of(l));
    pid_t child = fork();
    if (child == 0) {
        int s = accept(l, NULL, NULL);
        char buf[64];
        int n;
        while ((n = recv(s, buf, sizeof buf, 0)) > 0)
            send(s, buf, n, 0);
        _exit(0);
    }
    close(l);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    int ok = 0;
    for (int i = 0; i < 200; i++) {
        char msg[16], back[16];
        int n = snprintf(msg, sizeof msg, "req %d", i);
        send(c, msg, n, 0);
        if (recv(c, back, n, MSG_WAITALL) == n && memcmp(msg, back, n) == 0)
            ok++;
    }
    printf("  %d round trips ok\n", ok);
    close(c);
    int status;
    waitpid(child, &status, 0);
    printf("  server exit %d\n", WEXITSTATUS(status));
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    tcp();
    dual();
    udp();
    reqresp();
    return 0;
}
