/* Pseudo-terminals: ptmx/pts, the line discipline (canonical editing, echo, signals,
 * VMIN/VTIME, output processing), controlling terminals and job control, hang-ups.
 * Prints what it sees; natively and under umlpy the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EIO: return "EIO";
    case ENOTTY: return "ENOTTY"; case EPERM: return "EPERM"; case EAGAIN: return "EAGAIN";
    case ENXIO: return "ENXIO"; case ESRCH: return "ESRCH"; case EINTR: return "EINTR";
    case ENOENT: return "ENOENT";
    default: return "E?";
    }
}

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-52s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? ename(errno) : ""); } while (0)

static void show(const char *what, const char *buf, long n)
{
    printf("  %s (%ld): \"", what, n);
    for (long i = 0; i < n; i++) {
        unsigned char c = buf[i];
        if (c == '\n') printf("\\n");
        else if (c == '\r') printf("\\r");
        else if (c == '\b') printf("\\b");
        else if (c < 32 || c == 127) printf("\\x%02x", c);
        else putchar(c);
    }
    printf("\"\n");
}

/* Read from the master what is there now (after a short settle). */
static void drain(int m, const char *what)
{
    char buf[512];
    long total = 0;
    struct pollfd p = {m, POLLIN, 0};
    while (poll(&p, 1, 100) > 0 && (p.revents & POLLIN)) {
        long n = read(m, buf + total, sizeof buf - total);
        if (n <= 0)
            break;
        total += n;
    }
    show(what, buf, total);
}

static int open_pair(int *slave)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    grantpt(m);
    unlockpt(m);
    *slave = open(ptsname(m), O_RDWR | O_NOCTTY);
    return m;
}

static void test_basics(void)
{
    printf("== basics\n");
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    printf("master ok %d isatty %d\n", m >= 0, isatty(m));
    unsigned int n = 99;
    CHECK(ioctl(m, TIOCGPTN, &n) == 0);
    char *name = ptsname(m);
    printf("ptsname matches TIOCGPTN %d\n", name && atoi(name + 9) == (int)n && !strncmp(name, "/dev/pts/", 9));
    CHECK(open(name, O_RDWR | O_NOCTTY));              /* locked */
    CHECK(grantpt(m));
    CHECK(unlockpt(m));
    int lock = 1;
    CHECK(ioctl(m, TIOCGPTLCK, &lock));
    printf("  locked %d\n", lock);
    int s = open(name, O_RDWR | O_NOCTTY);
    printf("slave ok %d isatty %d\n", s >= 0, isatty(s));
    struct stat st;
    fstat(s, &st);
    printf("slave is a char device %d major %d\n", S_ISCHR(st.st_mode), major(st.st_rdev) >= 136);
    stat("/dev/ptmx", &st);
    printf("/dev/ptmx %d,%d\n", major(st.st_rdev), minor(st.st_rdev));
    CHECK(ioctl(open("/dev/null", O_RDONLY), TIOCGPTN, &n));
    struct termios t;
    CHECK(tcgetattr(s, &t));
    printf("  iflag %#o oflag %#o lflag %#o cflag&CSIZE %#o VINTR %d VERASE %d VEOF %d VMIN %d\n",
           t.c_iflag, t.c_oflag, t.c_lflag, t.c_cflag & CSIZE, t.c_cc[VINTR], t.c_cc[VERASE], t.c_cc[VEOF],
           t.c_cc[VMIN]);
    struct termios mt;
    CHECK(tcgetattr(m, &mt));
    printf("  master sees the slave's lflag: %d\n", mt.c_lflag == t.c_lflag);

    printf("-- output processing\n");
    write(s, "one\ntwo\r\n", 9);
    drain(m, "master got");
    t.c_oflag &= ~ONLCR;
    tcsetattr(s, TCSANOW, &t);
    write(s, "raw\n", 4);
    drain(m, "without ONLCR");
    t.c_oflag |= ONLCR | OCRNL;
    tcsetattr(s, TCSANOW, &t);
    write(s, "a\rb\n", 4);
    drain(m, "with OCRNL");
    t.c_oflag &= ~OCRNL;
    tcsetattr(s, TCSANOW, &t);

    printf("-- canonical input, echo and editing\n");
    write(m, "hello\n", 6);
    drain(m, "echo");
    char buf[64];
    long r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    write(m, "abcd\x7f\x7fX\n", 8);
    drain(m, "echo of erase");
    r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    write(m, "junk\x15ok\n", 8);
    drain(m, "echo of kill");
    r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    write(m, "two words\x17W\n", 12);
    drain(m, "echo of werase");
    r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    write(m, "\x01\x16\x03z\n", 5);
    drain(m, "echo of controls");
    r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    write(m, "partial", 7);
    drain(m, "echo");
    fcntl(s, F_SETFL, O_NONBLOCK);
    CHECK(read(s, buf, sizeof buf));
    write(m, "\x04", 1);
    r = read(s, buf, sizeof buf);
    show("after EOF char", buf, r);
    write(m, "\x04", 1);
    CHECK(read(s, buf, sizeof buf));
    write(m, "abcdef\n", 7);
    drain(m, "echo");
    r = read(s, buf, 3);
    show("first 3", buf, r);
    r = read(s, buf, sizeof buf);
    show("rest", buf, r);
    int avail = -1;
    write(m, "xy\nz", 4);
    drain(m, "echo");
    CHECK(ioctl(s, FIONREAD, &avail));
    printf("  FIONREAD %d\n", avail);
    tcflush(s, TCIFLUSH);
    CHECK(read(s, buf, sizeof buf));
    fcntl(s, F_SETFL, 0);

    printf("-- no echo, ICRNL, ECHONL\n");
    tcgetattr(s, &t);
    t.c_lflag &= ~ECHO;
    t.c_lflag |= ECHONL;
    tcsetattr(s, TCSANOW, &t);
    write(m, "secret\r", 7);
    drain(m, "echo");
    r = read(s, buf, sizeof buf);
    show("slave read", buf, r);
    t.c_lflag |= ECHO;
    t.c_lflag &= ~ECHONL;
    tcsetattr(s, TCSANOW, &t);

    printf("-- raw mode, VMIN and VTIME\n");
    struct termios saved = t;
    cfmakeraw(&t);
    t.c_cc[VMIN] = 3;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    write(m, "ab", 2);
    struct pollfd pf = {s, POLLIN, 0};
    CHECK(poll(&pf, 1, 50));
    write(m, "cde", 3);
    r = read(s, buf, sizeof buf);
    show("VMIN 3", buf, r);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 2;
    tcsetattr(s, TCSANOW, &t);
    r = read(s, buf, sizeof buf);
    show("VTIME 2, nothing", buf, r);
    write(m, "q", 1);
    r = read(s, buf, sizeof buf);
    show("VTIME 2, one byte", buf, r);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(s, TCSANOW, &t);
    CHECK(read(s, buf, sizeof buf));
    write(s, "x\ny", 3);
    drain(m, "raw output");
    tcsetattr(s, TCSANOW, &saved);

    printf("-- window size\n");
    struct winsize ws = {24, 80, 0, 0}, got;
    CHECK(ioctl(m, TIOCSWINSZ, &ws));
    CHECK(ioctl(s, TIOCGWINSZ, &got));
    printf("  %d x %d\n", got.ws_row, got.ws_col);

    printf("-- not a controlling terminal\n");
    pid_t c = fork();                       /* a process that leads no session */
    if (c == 0) {
        pid_t pg;
        CHECK(ioctl(s, TIOCGPGRP, &pg));
        CHECK(ioctl(s, TIOCGSID, &pg));
        CHECK(tcsetpgrp(s, getpgrp()));
        CHECK(ioctl(s, TIOCSCTTY, 0));
        CHECK(ioctl(s, TIOCNOTTY));
        CHECK(ioctl(m, TIOCSIG, 0));
        _exit(0);
    }
    waitpid(c, NULL, 0);

    printf("-- hang-ups\n");
    close(s);
    CHECK(read(m, buf, sizeof buf));        /* every slave closed: EIO */
    pf.fd = m;
    pf.events = POLLIN;
    CHECK(poll(&pf, 1, 0));
    printf("  revents HUP %d\n", !!(pf.revents & POLLHUP));
    s = open(name, O_RDWR | O_NOCTTY);
    close(m);
    CHECK(read(s, buf, sizeof buf));        /* the master went: end of file */
    CHECK(write(s, "x", 1));
    CHECK(open(name, O_RDWR | O_NOCTTY));
    close(s);
}

static volatile int got_sig;
static void on_sig(int sig) { got_sig = sig; }

/* Everything the master can read until the slave side is gone. */
static void drain_all(int m, const char *what)
{
    static char buf[4096];
    long total = 0, n;
    while (total < (long)sizeof buf && (n = read(m, buf + total, sizeof buf - total)) > 0)
        total += n;
    show(what, buf, total);
}

/* A child in a new session with the slave as controlling terminal. */
static void test_session(void)
{
    printf("== session and signals\n");
    int s, m = open_pair(&s);
    setenv("PTS", ptsname(m), 1);      /* the child opens the slave by name */
    close(s);
    int up[2], down[2];
    pipe(up);
    pipe(down);
    pid_t c = fork();
    if (c == 0) {
        close(m);
        setsid();
        int fd = open(getenv("PTS"), O_RDWR);
        dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
        pid_t sid = 0, pg = 0;
        ioctl(0, TIOCGSID, &sid);
        ioctl(0, TIOCGPGRP, &pg);
        printf("child: ctty sid ok %d pgrp ok %d\n", sid == getpid(), pg == getpid());
        int tty = open("/dev/tty", O_RDWR);
        printf("child: /dev/tty %d\n", tty >= 0);
        sigset_t w;
        sigemptyset(&w);
        sigaddset(&w, SIGWINCH);
        sigprocmask(SIG_BLOCK, &w, NULL);
        write(up[1], "r", 1);
        char buf[64];
        long r = read(0, buf, sizeof buf);
        sigpending(&w);
        printf("child: read %ld, SIGWINCH pending %d\n", r, sigismember(&w, SIGWINCH));
        /* A background group: reading gets SIGTTIN, here ignored: EIO. */
        pid_t g = fork();
        if (g == 0) {
            setpgid(0, 0);
            signal(SIGTTIN, SIG_IGN);
            long rr = read(0, buf, sizeof buf);
            printf("bg: read %ld %s\n", rr, rr < 0 ? ename(errno) : "");
            signal(SIGTTOU, SIG_IGN);
            struct termios t;
            tcgetattr(0, &t);
            printf("bg: tcsetattr with SIGTTOU ignored %d\n", tcsetattr(0, TCSANOW, &t));
            signal(SIGTTOU, SIG_DFL);
            t.c_lflag |= TOSTOP;
            _exit(0);
        }
        waitpid(g, NULL, 0);
        /* A background group that does not ignore SIGTTIN is stopped. */
        g = fork();
        if (g == 0) {
            setpgid(0, 0);
            char b[16];
            read(0, b, sizeof b);
            _exit(0);
        }
        int st;
        waitpid(g, &st, WUNTRACED);
        printf("child: bg reader stopped %d by %d\n", WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
        /* Give it the terminal, continue it; the parent feeds it a line. */
        tcsetpgrp(0, g);
        kill(g, SIGCONT);
        write(up[1], "g", 1);
        waitpid(g, &st, 0);
        printf("child: fg reader exited %d\n", WIFEXITED(st));
        /* Back in the foreground (SIGTTOU ignored: we are in the background now). */
        signal(SIGTTOU, SIG_IGN);
        int rc = tcsetpgrp(0, getpgrp());
        printf("child: tcsetpgrp back %d %s fg ok %d\n", rc, rc ? ename(errno) : "", tcgetpgrp(0) == getpgrp());
        signal(SIGTTOU, SIG_DFL);
        /* TOSTOP: a background writer is stopped by SIGTTOU. */
        struct termios t;
        tcgetattr(0, &t);
        t.c_lflag |= TOSTOP;
        tcsetattr(0, TCSANOW, &t);
        g = fork();
        if (g == 0) {
            setpgid(0, 0);
            write(1, "bg output\n", 10);
            _exit(0);
        }
        waitpid(g, &st, WUNTRACED);
        printf("child: bg writer stopped %d by %d\n", WIFSTOPPED(st), WIFSTOPPED(st) ? WSTOPSIG(st) : 0);
        kill(g, SIGKILL);
        waitpid(g, &st, 0);
        /* ^C from the master kills the foreground group. */
        write(up[1], "c", 1);
        r = read(0, buf, sizeof buf);
        printf("child: read %ld %s\n", r, r < 0 ? ename(errno) : "");
        _exit(0);
    }
    char ch;
    read(up[0], &ch, 1);
    struct winsize ws = {30, 100, 0, 0};
    ioctl(m, TIOCSWINSZ, &ws);
    write(m, "line\n", 5);
    read(up[0], &ch, 1);
    write(m, "k\n", 2);
    read(up[0], &ch, 1);
    write(m, "abc", 3);
    usleep(50000);
    write(m, "\x03", 1);                     /* ^C: SIGINT to the foreground group */
    int st;
    waitpid(c, &st, 0);
    printf("child status %#x\n", st);
    drain_all(m, "the terminal showed");
    close(m);
}

/* The session leader exits: its foreground group gets SIGHUP. */
static void test_leader_exit(void)
{
    printf("== session leader exit\n");
    int s, m = open_pair(&s);
    setenv("PTS", ptsname(m), 1);
    close(s);
    int up[2], down[2];             /* grandchild -> parent, parent -> child */
    pipe(up);
    pipe(down);
    pid_t c = fork();
    if (c == 0) {
        close(m);
        setsid();
        int fd = open(getenv("PTS"), O_RDWR);
        dup2(fd, 0); dup2(fd, 1); dup2(fd, 2);
        pid_t g = fork();
        if (g == 0) {
            signal(SIGHUP, on_sig);
            write(up[1], "x", 1);
            while (!got_sig)
                pause();
            write(up[1], got_sig == SIGHUP ? "H" : "?", 1);
            _exit(0);
        }
        char ch;
        read(down[0], &ch, 1);
        _exit(0);
    }
    char ch;
    read(up[0], &ch, 1);
    write(down[1], "g", 1);
    waitpid(c, NULL, 0);
    read(up[0], &ch, 1);
    printf("foreground process got %c\n", ch);
    close(m);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    test_basics();
    test_session();
    test_leader_exit();
    return 0;
}
