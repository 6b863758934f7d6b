/* inotify on guest files: creation, writes, attributes, opens and closes, renames,
 * deletions, oneshot watches, removal.  Prints the events; natively and under umlpy
 * the output must be the same. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ename(int e)
{
    switch (e) {
    case EINVAL: return "EINVAL"; case EBADF: return "EBADF"; case EAGAIN: return "EAGAIN";
    case ENOENT: return "ENOENT"; case ENOTDIR: return "ENOTDIR"; case EEXIST: return "EEXIST";
    default: return "E?";
    }
}

#define CHECK(expr) do { long r_ = (long)(expr); printf("%-56s = %ld%s%s\n", #expr, r_, \
    r_ < 0 ? " " : "", r_ < 0 ? ename(errno) : ""); } while (0)

static int dwd, fwd;
static unsigned last_cookie;

static void events(int in, const char *what)
{
    char buf[4096] __attribute__((aligned(8)));
    printf("-- %s\n", what);
    for (;;) {
        long n = read(in, buf, sizeof buf);
        if (n <= 0) {
            if (errno != EAGAIN)
                printf("  read %ld %s\n", n, ename(errno));
            return;
        }
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            static const char *names[] = {"ACCESS", "MODIFY", "ATTRIB", "CLOSE_WRITE", "CLOSE_NOWRITE", "OPEN",
                                          "MOVED_FROM", "MOVED_TO", "CREATE", "DELETE", "DELETE_SELF",
                                          "MOVE_SELF", "?", "UNMOUNT", "Q_OVERFLOW", "IGNORED"};
            printf("  %s", e->wd == dwd ? "dir " : e->wd == fwd ? "file" : "??? ");
            for (int b = 0; b < 16; b++)
                if (e->mask & (1u << b))
                    printf(" %s", names[b]);
            if (e->mask & IN_ISDIR)
                printf(" ISDIR");
            if (e->len)
                printf(" \"%s\"", e->name);
            if (e->cookie) {
                printf(" cookie %s", e->cookie == last_cookie ? "same" : "new");
                last_cookie = e->cookie;
            }
            printf("\n");
            p += sizeof *e + e->len;
        }
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char dir[64], path[96], path2[96], sub[96];
    strcpy(dir, "/tmp/umlpy-inotify-XXXXXX");
    mkdtemp(dir);
    snprintf(path, sizeof path, "%s/file", dir);
    snprintf(path2, sizeof path2, "%s/renamed", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);

    CHECK(inotify_init1(0x1234));
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    CHECK(fcntl(in, F_GETFD));
    CHECK(inotify_add_watch(in, dir, 0));
    CHECK(inotify_add_watch(in, "/nonexistent", IN_ALL_EVENTS));
    CHECK(inotify_add_watch(0, dir, IN_ALL_EVENTS));
    CHECK(inotify_add_watch(in, "/etc/hostname", IN_ALL_EVENTS | IN_ONLYDIR));
    dwd = inotify_add_watch(in, dir, IN_ALL_EVENTS);
    CHECK(inotify_add_watch(in, dir, IN_ALL_EVENTS | IN_MASK_CREATE) == -1);
    CHECK(inotify_add_watch(in, dir, IN_ALL_EVENTS) == dwd);
    char buf[64];
    CHECK(read(in, buf, sizeof buf));

    int fd = open(path, O_RDWR | O_CREAT, 0644);
    events(in, "create");
    fwd = inotify_add_watch(in, path, IN_ALL_EVENTS);
    write(fd, "hello", 5);
    events(in, "write");
    int avail = 0;
    write(fd, "x", 1);
    CHECK(ioctl(in, FIONREAD, &avail));
    printf("  FIONREAD %d\n", avail);
    CHECK(read(in, buf, 10));                  /* too small for one event */
    events(in, "(drained)");
    close(fd);
    events(in, "close after writing");
    fd = open(path, O_RDONLY);
    read(fd, buf, 3);
    close(fd);
    events(in, "open, read, close");
    chmod(path, 0600);
    events(in, "chmod");
    truncate(path, 2);
    events(in, "truncate");
    rename(path, path2);
    events(in, "rename");
    mkdir(sub, 0755);
    rmdir(sub);
    events(in, "mkdir and rmdir");
    unlink(path2);
    events(in, "unlink");
    CHECK(inotify_rm_watch(in, fwd));

    int o = inotify_add_watch(in, dir, IN_CREATE | IN_ONESHOT);
    printf("oneshot on the directory: same wd %d\n", o == dwd);
    fd = open(path, O_RDWR | O_CREAT, 0644);
    close(fd);
    unlink(path);
    events(in, "oneshot");
    CHECK(inotify_rm_watch(in, dwd));
    CHECK(inotify_rm_watch(in, 12345));

    /* A blocking read woken by another event. */
    int in2 = inotify_init();
    dwd = inotify_add_watch(in2, dir, IN_CREATE | IN_DELETE);
    fwd = -1;
    if (fork() == 0) {
        usleep(30000);
        int c = open(path, O_WRONLY | O_CREAT, 0600);
        close(c);
        _exit(0);
    }
    struct pollfd p = {in2, POLLIN, 0};
    CHECK(poll(&p, 1, 5000));
    fcntl(in2, F_SETFL, O_NONBLOCK);
    events(in2, "from a child");
    unlink(path);
    events(in2, "last");
    /* (No events read after the rmdir of a watched directory: Linux queues its
     * IN_IGNORED when the inode goes, which may come later.) */
    close(in2);
    rmdir(dir);
    return 0;
}
