/* File locks between processes: fcntl record locks (POSIX and OFD), flock, blocking,
 * deadlock detection, releases on close and exit.  Prints what it sees; natively and
 * under umlpy the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN";
    case EDEADLK: return "EDEADLK"; case EINTR: return "EINTR"; case EOVERFLOW: return "EOVERFLOW";
    case EFAULT: return "EFAULT";
    default: return "E?";
    }
}

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-50s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? ename(errno) : ""); } while (0)

static char path[64];
static pid_t parent;

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    return fcntl(fd, cmd, &fl);
}

static void getlk(int fd, int cmd, short type, off_t start, off_t len)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
    int r = fcntl(fd, cmd, &fl);
    if (r < 0) {
        printf("  getlk %ld+%ld: -1 %s\n", (long)start, (long)len, ename(errno));
        return;
    }
    const char *who = fl.l_pid == parent ? "parent" : fl.l_pid == -1 ? "-1" : fl.l_pid == 0 ? "0" : "other";
    printf("  getlk %ld+%ld: type %s start %ld len %ld pid %s\n", (long)start, (long)len,
           fl.l_type == F_UNLCK ? "UNLCK" : fl.l_type == F_RDLCK ? "RDLCK" : "WRLCK",
           (long)fl.l_start, (long)fl.l_len, fl.l_type == F_UNLCK ? "-" : who);
}

/* Run fn in a child and wait for it. */
static void in_child(void (*fn)(void))
{
    pid_t c = fork();
    if (c == 0) {
        fn();
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
}

static void child_probe(void)
{
    int fd = open(path, O_RDWR);
    getlk(fd, F_GETLK, F_WRLCK, 0, 0);
    getlk(fd, F_GETLK, F_RDLCK, 0, 10);
    getlk(fd, F_GETLK, F_WRLCK, 45, 1);
    getlk(fd, F_GETLK, F_WRLCK, 200, 0);
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
    CHECK(setlk(fd, F_SETLK, F_RDLCK, 0, 1));
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 500, 0));
}

static void test_records(void)
{
    printf("== record locks\n");
    int fd = open(path, O_RDWR);
    CHECK(setlk(fd, F_SETLK, F_RDLCK, 0, 100));
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 40, 20));
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 300, 0));
    getlk(fd, F_GETLK, F_WRLCK, 0, 0);      /* our own locks never conflict */
    in_child(child_probe);
    printf(" unlock a middle part\n");
    CHECK(setlk(fd, F_SETLK, F_UNLCK, 45, 5));
    in_child(child_probe);
    printf(" closing another fd of the file drops them all\n");
    int fd2 = open(path, O_RDONLY);
    close(fd2);
    in_child(child_probe);
    close(fd);
}

static void test_errors(void)
{
    printf("== errors\n");
    int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY);
    CHECK(setlk(ro, F_SETLK, F_WRLCK, 0, 1));
    CHECK(setlk(wo, F_SETLK, F_RDLCK, 0, 1));
    CHECK(setlk(ro, F_SETLK, 7, 0, 1));
    CHECK(setlk(ro, F_SETLK, F_RDLCK, -5, 1));
    CHECK(setlk(ro, F_SETLK, F_RDLCK, 10, -20));
    struct flock fl = {.l_type = F_RDLCK, .l_whence = 9};
    CHECK(fcntl(ro, F_SETLK, &fl));
    fl.l_whence = SEEK_SET;
    fl.l_pid = 1;
    CHECK(fcntl(ro, F_OFD_SETLK, &fl));
    CHECK(fcntl(ro, F_OFD_GETLK, &fl));
    fl.l_pid = 0;
    fl.l_type = F_UNLCK;
    CHECK(fcntl(ro, F_GETLK, &fl));
    CHECK(fcntl(ro, F_SETLK, (void *)8));
    CHECK(setlk(ro, F_SETLK, F_RDLCK, 0x7fffffffffffff00LL, 0x1000));
    CHECK(flock(ro, 0));
    CHECK(flock(ro, LOCK_SH | LOCK_EX));
    CHECK(flock(99, LOCK_SH));
    close(ro);
    close(wo);
}

static int pipe_a[2], pipe_b[2];

static void test_blocking_and_deadlock(void)
{
    printf("== blocking and deadlock\n");
    int fd = open(path, O_RDWR);
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 0, 10));          /* region A */
    pipe(pipe_a);
    pipe(pipe_b);
    pid_t c = fork();
    if (c == 0) {
        int cfd = open(path, O_RDWR);
        setlk(cfd, F_SETLK, F_WRLCK, 100, 10);          /* region B */
        write(pipe_a[1], "1", 1);
        /* Waits for the parent's region A... */
        int r = setlk(cfd, F_SETLKW, F_WRLCK, 0, 10);
        write(pipe_a[1], "2", 1);
        char ch;
        read(pipe_b[0], &ch, 1);
        printf("child: got A after waiting: %d\n", r);
        fflush(stdout);
        _exit(0);
    }
    char ch;
    read(pipe_a[0], &ch, 1);
    usleep(100000);                  /* let the child block on A */
    /* ...so the parent waiting for B would close the cycle. */
    CHECK(setlk(fd, F_SETLKW, F_WRLCK, 100, 10));
    CHECK(setlk(fd, F_SETLK, F_WRLCK, 100, 10));
    CHECK(setlk(fd, F_SETLK, F_UNLCK, 0, 10));           /* the child gets A */
    read(pipe_a[0], &ch, 1);
    getlk(fd, F_GETLK, F_WRLCK, 0, 0);
    write(pipe_b[1], "x", 1);
    waitpid(c, NULL, 0);
    printf(" after the child's exit\n");
    getlk(fd, F_GETLK, F_WRLCK, 0, 0);
    CHECK(setlk(fd, F_SETLKW, F_WRLCK, 0, 0));
    close(fd);
}

static void test_ofd(void)
{
    printf("== OFD locks\n");
    int a = open(path, O_RDWR), b = open(path, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
    CHECK(fcntl(a, F_OFD_SETLK, &fl));
    CHECK(fcntl(b, F_OFD_SETLK, &fl));       /* another description: a conflict, same process */
    fl.l_type = F_RDLCK;
    fl.l_pid = 0;
    CHECK(fcntl(b, F_OFD_GETLK, &fl));
    printf("  type %d pid %d\n", fl.l_type, fl.l_pid);
    CHECK(setlk(b, F_SETLK, F_RDLCK, 5, 1));   /* POSIX against OFD */
    int d = dup(a);
    close(a);                                  /* the description lives on in d */
    fl.l_type = F_WRLCK;
    fl.l_start = 0;
    fl.l_len = 10;
    fl.l_pid = 0;
    CHECK(fcntl(b, F_OFD_SETLK, &fl));
    close(d);                                  /* now it goes */
    CHECK(fcntl(b, F_OFD_SETLK, &fl));
    pid_t c = fork();
    if (c == 0) {                              /* the child shares b's description */
        fl.l_type = F_UNLCK;
        fl.l_pid = 0;
        printf("child: unlock through the shared description %d\n", fcntl(b, F_OFD_SETLK, &fl));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    int e = open(path, O_RDWR);
    fl.l_type = F_WRLCK;
    fl.l_pid = 0;
    CHECK(fcntl(e, F_OFD_SETLK, &fl));
    close(e);
    close(b);
}

static void test_flock(void)
{
    printf("== flock\n");
    int a = open(path, O_RDONLY), b = open(path, O_RDONLY);
    CHECK(flock(a, LOCK_SH));
    CHECK(flock(b, LOCK_SH | LOCK_NB));
    CHECK(flock(b, LOCK_EX | LOCK_NB));
    CHECK(flock(b, LOCK_UN));
    CHECK(flock(a, LOCK_EX | LOCK_NB));        /* conversion */
    CHECK(flock(b, LOCK_SH | LOCK_NB));
    pid_t c = fork();
    if (c == 0) {                              /* shares a's description: holds its lock */
        printf("child: flock through the shared description %d\n", flock(a, LOCK_EX | LOCK_NB));
        close(a);
        int x = open(path, O_RDONLY);
        printf("child: a new open waits for the parent...\n");
        fflush(stdout);
        write(pipe_a[1], "w", 1);
        int r = flock(x, LOCK_EX);
        printf("child: ...and gets it: %d\n", r);
        fflush(stdout);
        _exit(0);
    }
    char ch;
    read(pipe_a[0], &ch, 1);
    usleep(50000);
    printf("parent: closes the last fd of the description\n");
    close(a);
    int st;
    waitpid(c, &st, 0);
    CHECK(flock(b, LOCK_EX | LOCK_NB));
    close(b);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    parent = getpid();
    strcpy(path, "/tmp/umlpy-locks-XXXXXX");
    int fd = mkstemp(path);
    write(fd, "0123456789", 10);
    close(fd);
    test_records();
    test_errors();
    test_blocking_and_deadlock();
    test_ofd();
    test_flock();
    unlink(path);
    return 0;
}
