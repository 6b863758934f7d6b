/* mknod and FIFOs (blocking opens, O_NONBLOCK rules, ENXIO), memfd_create and seals.
 * Prints what it sees; natively and under umlpy the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN";
    case ENXIO: return "ENXIO"; case EPERM: return "EPERM"; case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT"; case EBUSY: return "EBUSY"; case EFAULT: return "EFAULT";
    case ESPIPE: return "ESPIPE"; case EACCES: return "EACCES"; case EPIPE: return "EPIPE";
    case ENODATA: return "ENODATA"; case ERANGE: return "ERANGE"; case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "E?";
    }
}

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-56s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? ename(errno) : ""); } while (0)

static char dir[64], path[96];

static void test_mknod(void)
{
    printf("== mknod\n");
    struct stat st;
    snprintf(path, sizeof path, "%s/reg", dir);
    CHECK(mknod(path, S_IFREG | 0640, 0));
    stat(path, &st);
    printf("  regular %d mode %o size %ld\n", S_ISREG(st.st_mode), st.st_mode & 0777, (long)st.st_size);
    CHECK(mknod(path, S_IFREG | 0640, 0));
    snprintf(path, sizeof path, "%s/plain", dir);
    CHECK(mknod(path, 0600, 0));
    stat(path, &st);
    printf("  type 0 is regular %d\n", S_ISREG(st.st_mode));
    snprintf(path, sizeof path, "%s/sock", dir);
    CHECK(mknod(path, S_IFSOCK | 0600, 0));
    lstat(path, &st);
    printf("  socket %d\n", S_ISSOCK(st.st_mode));
    CHECK(open(path, O_RDWR));
    snprintf(path, sizeof path, "%s/dev", dir);
    /* Devices: EPERM without CAP_MKNOD (the guest's root has none); a root on the
     * host may create them. */
    int dr = mknod(path, S_IFCHR | 0600, makedev(1, 3));
    printf("  device: created or EPERM %d\n", dr == 0 || errno == EPERM);
    unlink(path);
    CHECK(mknod(path, S_IFDIR | 0700, 0));
    CHECK(mknod(path, 0170000 | 0600, 0));
    CHECK(mknod("/nonexistent-dir/x", S_IFIFO | 0600, 0));
    CHECK(mknodat(AT_FDCWD, "/nonexistent-dir/x", S_IFCHR | 0600, 0));
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(mknodat(d, "fifo2", S_IFIFO | 0666, 0));
    fstatat(d, "fifo2", &st, 0);
    printf("  fifo %d mode %o\n", S_ISFIFO(st.st_mode), st.st_mode & 0777);
    close(d);
}

static void test_fifo(void)
{
    printf("== fifo\n");
    snprintf(path, sizeof path, "%s/fifo", dir);
    CHECK(mkfifo(path, 0600));
    CHECK(open(path, O_WRONLY | O_NONBLOCK));            /* no reader: ENXIO */
    int r = open(path, O_RDONLY | O_NONBLOCK);             /* a reader never waits with O_NONBLOCK */
    printf("nonblocking reader ok %d\n", r >= 0);
    char buf[64];
    CHECK(read(r, buf, sizeof buf));                       /* no writer: end of file */
    int w = open(path, O_WRONLY | O_NONBLOCK);
    printf("nonblocking writer with a reader ok %d\n", w >= 0);
    CHECK(read(r, buf, sizeof buf));                       /* a writer, no data: EAGAIN */
    write(w, "abc", 3);
    CHECK(read(r, buf, sizeof buf));
    CHECK(lseek(w, 0, SEEK_SET));
    struct stat st;
    fstat(w, &st);
    printf("  fstat is the fifo %d\n", S_ISFIFO(st.st_mode));
    close(w);
    close(r);
    /* Data written while nobody reads is gone when the last end closes. */
    int rw = open(path, O_RDWR);
    printf("O_RDWR never waits %d\n", rw >= 0);
    write(rw, "lost", 4);
    close(rw);
    r = open(path, O_RDONLY | O_NONBLOCK);
    CHECK(read(r, buf, sizeof buf));
    close(r);

    /* A blocking reader waits for a writer. */
    int sync[2];
    pipe(sync);
    pid_t c = fork();
    if (c == 0) {
        char ch;
        read(sync[0], &ch, 1);
        usleep(30000);
        int cw = open(path, O_WRONLY);
        write(cw, "from child", 10);
        close(cw);
        _exit(0);
    }
    write(sync[1], "g", 1);
    r = open(path, O_RDONLY);
    printf("blocking reader opened %d\n", r >= 0);
    long n, total = 0;
    while ((n = read(r, buf + total, sizeof buf - total)) > 0)
        total += n;
    printf("  read \"%.*s\" then EOF %ld\n", (int)total, buf, n);
    close(r);
    waitpid(c, NULL, 0);

    /* A blocking writer waits for a reader. */
    c = fork();
    if (c == 0) {
        usleep(30000);
        int cr = open(path, O_RDONLY);
        char b[16];
        long k = read(cr, b, sizeof b);
        printf("child read %ld \"%.*s\"\n", k, (int)(k > 0 ? k : 0), b);
        fflush(stdout);
        _exit(0);
    }
    w = open(path, O_WRONLY);
    printf("blocking writer opened %d\n", w >= 0);
    write(w, "hi", 2);
    close(w);
    waitpid(c, NULL, 0);
    /* The reader went: writing gets EPIPE (and SIGPIPE, ignored here). */
    signal(SIGPIPE, SIG_IGN);
    c = fork();
    if (c == 0) {
        int cr = open(path, O_RDONLY);
        usleep(30000);
        close(cr);
        _exit(0);
    }
    w = open(path, O_WRONLY);
    waitpid(c, NULL, 0);
    CHECK(write(w, "x", 1));
    struct pollfd p = {w, POLLOUT, 0};
    CHECK(poll(&p, 1, 0));
    printf("  revents ERR %d\n", !!(p.revents & POLLERR));
    close(w);
    unlink(path);
}

static void test_memfd(void)
{
    printf("== memfd\n");
    CHECK(memfd_create("bad", 0x1000));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(memfd_create(longname, 0));
    CHECK(syscall(SYS_memfd_create, (void *)8, 0));
    int m = memfd_create("umlpy test", MFD_CLOEXEC);
    CHECK(fcntl(m, F_GETFD));
    char link[128], proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", m);
    long n = readlink(proc, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("  link %s\n", link);
    struct stat st;
    fstat(m, &st);
    printf("  regular %d mode %o nlink %d size %ld\n", S_ISREG(st.st_mode), st.st_mode & 0777,
           (int)st.st_nlink, (long)st.st_size);
    CHECK(write(m, "hello memfd", 11));
    CHECK(pread(m, link, 5, 6));
    printf("  \"%.5s\"\n", link);
    CHECK(ftruncate(m, 8192));
    char *map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    printf("  mapped %d sees \"%.5s\"\n", map != MAP_FAILED, map);
    pid_t c = fork();
    if (c == 0) {
        memcpy(map + 4096, "child was here", 14);
        _exit(0);
    }
    waitpid(c, NULL, 0);
    printf("  the child's write through the shared map: \"%.14s\"\n", map + 4096);
    CHECK(fcntl(m, F_GET_SEALS));
    CHECK(fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK));          /* no MFD_ALLOW_SEALING */
    munmap(map, 8192);
    int reopened = open(proc, O_RDWR);
    printf("  reopen via /proc ok %d\n", reopened >= 0);
    close(reopened);
    close(m);

    printf("-- seals\n");
    int s = memfd_create("sealed", MFD_ALLOW_SEALING);
    write(s, "0123456789", 10);
    CHECK(fcntl(s, F_GET_SEALS));
    CHECK(fcntl(s, F_ADD_SEALS, 0x100));
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
    CHECK(ftruncate(s, 5));
    CHECK(ftruncate(s, 20));
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_GROW));
    CHECK(ftruncate(s, 30));
    CHECK(pwrite(s, "xy", 2, 19));
    CHECK(pwrite(s, "xy", 2, 18));
    CHECK(pwrite(s, "xy", 2, 0));
    map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));           /* writably mapped */
    munmap(map, 4096);
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_WRITE));
    CHECK(fcntl(s, F_GET_SEALS));
    CHECK(write(s, "z", 1));
    CHECK((long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0));
    map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, s, 0);
    printf("  read-only shared map ok %d; mprotect to write: %d %s\n", map != MAP_FAILED,
           mprotect(map, 4096, PROT_READ | PROT_WRITE), ename(errno));
    munmap(map, 4096);
    map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, s, 0);
    printf("  private writable map ok %d\n", map != MAP_FAILED);
    munmap(map, 4096);
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_SEAL));
    CHECK(fcntl(s, F_ADD_SEALS, F_SEAL_SHRINK));
    int ro = open("/etc/hostname", O_RDONLY);
    CHECK(fcntl(ro, F_GET_SEALS));
    close(ro);
    close(s);

    int f = memfd_create("future", MFD_ALLOW_SEALING);
    ftruncate(f, 4096);
    map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    CHECK(fcntl(f, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));    /* existing maps may go on */
    map[0] = 'A';
    CHECK(write(f, "b", 1));
    CHECK((long)mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0));
    printf("  old map still writes: %c\n", map[0]);
    close(f);
}

static void test_xattr(void)
{
    printf("== xattr\n");
    char buf[256];
    snprintf(path, sizeof path, "%s/xa", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    CHECK(getxattr(path, "user.k", buf, sizeof buf));
    CHECK(setxattr(path, "user.k", "v1", 2, XATTR_CREATE));
    CHECK(setxattr(path, "user.k", "v2", 2, XATTR_CREATE));
    CHECK(setxattr(path, "user.other", "x", 1, XATTR_REPLACE));
    CHECK(setxattr(path, "user.k", "value2", 6, XATTR_REPLACE));
    CHECK(getxattr(path, "user.k", buf, sizeof buf));
    printf("  \"%.6s\"\n", buf);
    CHECK(getxattr(path, "user.k", NULL, 0));
    CHECK(getxattr(path, "user.k", buf, 3));
    CHECK(fsetxattr(fd, "user.z", "", 0, 0));
    long n = listxattr(path, buf, sizeof buf);
    printf("  list %ld:", n);
    for (long i = 0; i < n; i += strlen(buf + i) + 1)
        printf(" %s", buf + i);
    printf("\n");
    CHECK(listxattr(path, buf, 2));
    CHECK(setxattr(path, "nonamespace", "v", 1, 0));
    CHECK(setxattr(path, "user.k", "v", 1, 4));
    CHECK(setxattr(path, "", "v", 1, 0));
    CHECK(removexattr(path, "user.k"));
    CHECK(removexattr(path, "user.k"));
    CHECK(fgetxattr(fd, "user.z", buf, sizeof buf));
    CHECK(getxattr(path, "system.posix_acl_access", NULL, 0));   /* no ACL: ENODATA */
    CHECK(getxattr(dir, "system.posix_acl_default", NULL, 0));
    snprintf(buf, sizeof buf, "%s/xa-link", dir);
    symlink(path, buf);
    CHECK(lsetxattr(buf, "user.k", "v", 1, 0));
    CHECK(lgetxattr(buf, "user.z", buf + 128, 64));
    unlink(buf);
    close(fd);
    unlink(path);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    strcpy(dir, "/tmp/umlpy-ipc-XXXXXX");
    mkdtemp(dir);
    test_mknod();
    test_fifo();
    test_memfd();
    test_xattr();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "%s/reg", dir); unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/plain", dir); unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/sock", dir); unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s/fifo2", dir); unlink(cmd);
    rmdir(dir);
    return 0;
}
