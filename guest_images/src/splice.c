/* sendfile, copy_file_range, splice, tee, vmsplice, fallocate, readahead, fadvise.
 * Prints what it sees; natively and under umlpy the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN";
    case ESPIPE: return "ESPIPE"; case EPIPE: return "EPIPE"; case EISDIR: return "EISDIR";
    case EOPNOTSUPP: return "EOPNOTSUPP"; case ENODEV: return "ENODEV"; case EFAULT: return "EFAULT";
    case EXDEV: return "EXDEV"; case EFBIG: return "EFBIG";
    default: return "E?";
    }
}

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-60s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? ename(errno) : ""); } while (0)

static char dir[64];

static int make(const char *name, const char *content, char *out)
{
    sprintf(out, "%s/%s", dir, name);
    int fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (content)
        write(fd, content, strlen(content));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void show_file(int fd)
{
    char buf[128];
    long n = pread(fd, buf, sizeof buf, 0);
    printf("  file (%ld): \"", n);
    for (long i = 0; i < n; i++)
        putchar(buf[i] ? buf[i] : '.');
    printf("\"\n");
}

static void drain(int fd, const char *what)
{
    char buf[128];
    long n = read(fd, buf, sizeof buf);
    printf("  %s (%ld): \"%.*s\"\n", what, n, (int)(n > 0 ? n : 0), buf);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    strcpy(dir, "/tmp/umlpy-splice-XXXXXX");
    mkdtemp(dir);
    char pa[96], pb[96], pc[96];
    int a = make("a", "The quick brown fox jumps over the lazy dog", pa);
    int b = make("b", NULL, pb);
    int p[2];
    pipe(p);

    printf("== sendfile\n");
    off_t off = 4;
    CHECK(sendfile(p[1], a, &off, 5));
    printf("  offset now %ld, file position %ld\n", (long)off, (long)lseek(a, 0, SEEK_CUR));
    drain(p[0], "pipe");
    CHECK(sendfile(b, a, NULL, 9));
    printf("  file position %ld\n", (long)lseek(a, 0, SEEK_CUR));
    show_file(b);
    CHECK(sendfile(b, a, NULL, 0));
    CHECK(sendfile(b, p[0], NULL, 5));
    CHECK(sendfile(b, p[0], &off, 5));
    int ro = open(pa, O_RDONLY);
    CHECK(sendfile(ro, a, NULL, 5));
    CHECK(sendfile(b, 99, NULL, 5));
    int app = open(pb, O_WRONLY | O_APPEND);
    CHECK(sendfile(app, a, NULL, 5));
    CHECK(sendfile(b, a, (off_t *)8, 5));
    off = 1000;
    CHECK(sendfile(b, a, &off, 5));

    printf("== copy_file_range\n");
    loff_t oi = 10, oo = 20;
    CHECK(copy_file_range(a, &oi, b, &oo, 5, 0));
    printf("  offsets %ld %ld\n", (long)oi, (long)oo);
    show_file(b);
    lseek(a, 0, SEEK_SET);
    lseek(b, 0, SEEK_SET);
    CHECK(copy_file_range(a, NULL, b, NULL, 3, 0));
    printf("  positions %ld %ld\n", (long)lseek(a, 0, SEEK_CUR), (long)lseek(b, 0, SEEK_CUR));
    CHECK(copy_file_range(a, NULL, b, NULL, 3, 1));
    CHECK(copy_file_range(p[0], NULL, b, NULL, 3, 0));
    CHECK(copy_file_range(a, NULL, app, NULL, 3, 0));
    int d = open(dir, O_RDONLY);
    CHECK(copy_file_range(d, NULL, b, NULL, 3, 0));
    oi = 0;
    oo = 2;
    CHECK(copy_file_range(a, &oi, a, &oo, 5, 0));
    oi = 1000;
    CHECK(copy_file_range(a, &oi, b, NULL, 5, 0));

    printf("== splice\n");
    loff_t so = 16;
    CHECK(splice(a, &so, p[1], NULL, 5, 0));
    printf("  offset %ld\n", (long)so);
    int q[2];
    pipe(q);
    CHECK(splice(p[0], NULL, q[1], NULL, 100, SPLICE_F_MOVE));
    drain(q[0], "second pipe");
    write(p[1], "spliced", 7);
    so = 0;
    CHECK(splice(p[0], NULL, b, &so, 100, 0));
    show_file(b);
    CHECK(splice(a, NULL, b, NULL, 5, 0));
    CHECK(splice(p[0], &so, b, NULL, 5, 0));
    CHECK(splice(p[0], NULL, p[1], NULL, 5, 0));
    CHECK(splice(p[0], NULL, b, NULL, 5, 0x100));
    CHECK(splice(p[0], NULL, b, NULL, 0, 0x100));
    CHECK(splice(p[0], NULL, b, NULL, 5, SPLICE_F_NONBLOCK));
    int e[2];
    pipe(e);
    close(e[1]);
    CHECK(splice(e[0], NULL, b, NULL, 5, 0));          /* no writer: end of file */
    close(q[0]);
    CHECK(splice(a, NULL, q[1], NULL, 5, 0));          /* no reader: EPIPE */
    CHECK(splice(b, NULL, app, NULL, 5, 0));
    /* A blocking splice from an empty pipe, fed by a child. */
    pid_t c = fork();
    if (c == 0) {
        usleep(30000);
        write(p[1], "late", 4);
        _exit(0);
    }
    int r[2];
    pipe(r);
    CHECK(splice(p[0], NULL, r[1], NULL, 100, 0));
    drain(r[0], "after waiting");
    waitpid(c, NULL, 0);

    printf("== tee\n");
    write(p[1], "teedata", 7);
    CHECK(tee(p[0], r[1], 100, 0));
    drain(r[0], "copy");
    drain(p[0], "original");
    CHECK(tee(p[0], r[1], 100, SPLICE_F_NONBLOCK));
    CHECK(tee(p[0], p[1], 100, 0));
    CHECK(tee(a, r[1], 100, 0));
    CHECK(tee(p[0], r[1], 100, 0x100));
    CHECK(tee(p[0], r[1], 0, 0));

    printf("== vmsplice\n");
    struct iovec iov[2] = {{"vm", 2}, {"splice", 6}};
    CHECK(vmsplice(p[1], iov, 2, 0));
    char x1[3] = {0}, x2[10] = {0};
    struct iovec out[2] = {{x1, 3}, {x2, 10}};
    CHECK(vmsplice(p[0], out, 2, 0));
    printf("  \"%.3s\" \"%.5s\"\n", x1, x2);
    CHECK(vmsplice(a, iov, 2, 0));
    CHECK(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK));
    CHECK(vmsplice(p[1], iov, 2, 0x100));
    CHECK(vmsplice(p[1], iov, 0, 0));

    printf("== fallocate\n");
    int f = make("c", "abcdefghij", pc);
    CHECK(fallocate(f, 0, 0, 100));
    struct stat st;
    fstat(f, &st);
    printf("  size %ld\n", (long)st.st_size);
    CHECK(fallocate(f, FALLOC_FL_KEEP_SIZE, 0, 5000));
    fstat(f, &st);
    printf("  size %ld\n", (long)st.st_size);
    CHECK(fallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3));
    show_file(f);
    CHECK(fallocate(f, FALLOC_FL_PUNCH_HOLE, 2, 3));
    CHECK(fallocate(f, 0, -1, 3));
    CHECK(fallocate(f, 0, 0, 0));
    CHECK(fallocate(ro, 0, 0, 10));
    CHECK(fallocate(p[1], 0, 0, 10));
    CHECK(fallocate(f, 0, 0x7fffffffffffff00LL, 0x1000));

    printf("== readahead and fadvise\n");
    CHECK(readahead(a, 0, 4096));
    CHECK(readahead(p[0], 0, 4096));
    CHECK(readahead(99, 0, 4096));
    CHECK(syscall(SYS_fadvise64, a, 0, 0, POSIX_FADV_SEQUENTIAL));
    CHECK(syscall(SYS_fadvise64, a, 0, 0, 99));
    CHECK(syscall(SYS_fadvise64, a, 0, -1L, POSIX_FADV_NORMAL));
    CHECK(syscall(SYS_fadvise64, p[0], 0, 0, POSIX_FADV_NORMAL));

    unlink(pa);
    unlink(pb);
    unlink(pc);
    rmdir(dir);
    return 0;
}
