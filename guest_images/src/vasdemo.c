/* vasdemo: first-class virtual address spaces and segments (Smejkal 2017; DESIGN.md
 * "first-class VAS"), shown and checked: create/find/attach/switch/detach/delete, the
 * attributes, segments mapped only where attached (read-only where attached O_RDONLY),
 * a thread keeping its code, data, heap and stack when it switches, new mmaps going into
 * the VAS, fork not inheriting attachments, the one-writer rule, permissions, a futex in a
 * segment shared by two processes through two VASes, and every errno case of DESIGN.md's
 * table.  One line per check; the exit status is the number of failures; on a host
 * kernel the first call fails with ENOSYS and the program exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umlpy.h"

#define PG 4096UL
#define SEG ((char *)0x500000000000UL)
#define SEG2 ((char *)0x500000100000UL)

static int failures;

static void check(const char *what, int ok)
{
    printf("%-66s %s\n", what, ok ? "ok" : "FAILED");
    fflush(stdout);
    if (!ok) failures++;
}

static int fails(long r, int e) { return r == -1 && errno == e; }

static long vas_create(const char *n, long mode) { return syscall(UMLPY_NR_VAS_CREATE, n, mode); }
static long vas_delete(long vid) { return syscall(UMLPY_NR_VAS_DELETE, vid); }
static long vas_find(const char *n) { return syscall(UMLPY_NR_VAS_FIND, n); }
static long vas_attach(long pid, long vid, long type) { return syscall(UMLPY_NR_VAS_ATTACH, pid, vid, type); }
static long vas_detach(long pid, long vid) { return syscall(UMLPY_NR_VAS_DETACH, pid, vid); }
static long vas_switch(long vid) { return syscall(UMLPY_NR_VAS_SWITCH, vid); }
static long active_vas(void) { return syscall(UMLPY_NR_ACTIVE_VAS); }
static long vas_getattr(long vid, struct vas_attr *a) { return syscall(UMLPY_NR_VAS_GETATTR, vid, a); }
static long vas_setattr(long vid, struct vas_attr *a) { return syscall(UMLPY_NR_VAS_SETATTR, vid, a); }
static long seg_create(const char *n, void *s, void *e, long mode)
{
    return syscall(UMLPY_NR_VAS_SEG_CREATE, n, s, e, mode);
}
static long seg_delete(long sid) { return syscall(UMLPY_NR_VAS_SEG_DELETE, sid); }
static long seg_find(const char *n) { return syscall(UMLPY_NR_VAS_SEG_FIND, n); }
static long seg_attach(long vid, long sid, long type) { return syscall(UMLPY_NR_VAS_SEG_ATTACH, vid, sid, type); }
static long seg_detach(long vid, long sid) { return syscall(UMLPY_NR_VAS_SEG_DETACH, vid, sid); }
static long seg_getattr(long sid, struct vas_attr *a) { return syscall(UMLPY_NR_VAS_SEG_GETATTR, sid, a); }

static int mapped(void *p) { return msync(p, PG, MS_ASYNC) == 0; }

static sigjmp_buf jb;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

static int write_faults(volatile char *p)
{
    if (sigsetjmp(jb, 1) == 0) {
        *p = 1;
        return 0;
    }
    return 1;
}

static int global = 1;
static int pipe_a[2], pipe_b[2];

static void tell(int fd) { if (write(fd, "x", 1) != 1) _exit(90); }
static void hear(int fd) { char c; if (read(fd, &c, 1) != 1) _exit(91); }

static int child_exit(pid_t pid)
{
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exit42") == 0)
        return 42;              /* the image the exec test below runs */
    signal(SIGSEGV, on_segv);
    if (active_vas() < 0) {
        printf("vasdemo: active_vas: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }

    /* Names, ids, attributes. */
    char longname[300];
    memset(longname, 'n', sizeof longname);
    longname[VAS_MAX_NAME_LENGTH] = 0;
    check("vas_find of an unknown name: ENOENT", fails(vas_find("demo"), ENOENT));
    long vid = vas_create("demo", 0600);
    check("vas_create gives a positive id, vas_find finds it", vid > 0 && vas_find("demo") == vid);
    check("vas_create of a used name: EEXIST", fails(vas_create("demo", 0600), EEXIST));
    check("a name of 256 bytes: ENAMETOOLONG", fails(vas_create(longname, 0600), ENAMETOOLONG));
    longname[VAS_MAX_NAME_LENGTH - 1] = 0;
    long v255 = vas_create(longname, 0600);
    check("a name of 255 bytes is fine", v255 > 0 && vas_delete(v255) == 0);
    check("a name the caller cannot read: EFAULT", fails(vas_create((char *)8, 0600), EFAULT));
    struct vas_attr at = {0, 9, 9};
    check("vas_getattr", vas_getattr(vid, &at) == 0 && at.mode == 0600 && at.user == 0 && at.group == 0);
    check("vas_getattr to a bad pointer: EFAULT", fails(vas_getattr(vid, (void *)8), EFAULT));
    check("vid 0, negative, unknown: EINVAL", fails(vas_delete(0), EINVAL) && fails(vas_delete(-4), EINVAL)
          && fails(vas_attach(0, 12345, O_RDWR), EINVAL));

    /* Segments. */
    long sid = seg_create("demo-seg", SEG, SEG + 4 * PG, 0666);
    check("vas_seg_create, vas_seg_find", sid > 0 && seg_find("demo-seg") == sid);
    check("a segment not page-aligned: EINVAL", fails(seg_create("x", SEG + 1, SEG + PG, 0666), EINVAL));
    check("a segment with end <= start: EINVAL", fails(seg_create("x", SEG, SEG, 0666), EINVAL));
    check("a segment name used: EEXIST", fails(seg_create("demo-seg", SEG2, SEG2 + PG, 0666), EEXIST));
    check("vas_seg_find of an unknown name: ENOENT", fails(seg_find("nope"), ENOENT));
    check("vas_seg_getattr", seg_getattr(sid, &at) == 0 && at.mode == 0666);
    check("vas_seg_attach", seg_attach(vid, sid, O_RDWR) == 0);
    check("vas_seg_attach twice: EEXIST", fails(seg_attach(vid, sid, O_RDWR), EEXIST));
    check("vas_seg_attach of unknown ids: EINVAL", fails(seg_attach(vid, 999, O_RDWR), EINVAL)
          && fails(seg_attach(999, sid, O_RDWR), EINVAL));
    check("vas_seg_delete of an attached segment: EBUSY", fails(seg_delete(sid), EBUSY));

    /* Attach and switch: the thread keeps its code, data, heap and stack. */
    int *heap = malloc(sizeof *heap);
    *heap = 5;
    int onstack = 6;
    check("vas_switch before vas_attach: EINVAL", fails(vas_switch(vid), EINVAL));
    check("vas_attach to a process that does not exist: ESRCH", fails(vas_attach(99999, vid, O_RDWR), ESRCH));
    check("vas_attach", vas_attach(0, vid, O_RDWR) == 0);
    check("vas_attach twice by one process: EEXIST", fails(vas_attach(0, vid, O_RDWR), EEXIST));
    check("the segment is not mapped in the original", !mapped(SEG));
    check("vas_switch", vas_switch(vid) == 0 && active_vas() == vid);
    check("in the VAS: the segment is there", mapped(SEG) && mapped(SEG + 3 * PG) && !mapped(SEG + 4 * PG));
    strcpy(SEG, "written in the VAS");
    global = 2;
    *heap = 50;
    onstack = 60;
    char *made = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    made[0] = 'm';
    check("vas_switch(0) back", vas_switch(0) == 0 && active_vas() == 0);
    check("data, heap and stack are the same memory on both sides",
          global == 2 && *heap == 50 && onstack == 60);
    check("the segment and the new mmap are the VAS's alone", !mapped(SEG) && !mapped(made));
    vas_switch(vid);
    check("back in the VAS: both there", !strcmp(SEG, "written in the VAS") && made[0] == 'm');
    vas_switch(0);
    check("vas_delete of an attached VAS: EBUSY", fails(vas_delete(vid), EBUSY));

    /* Fork: attachments are not inherited; the one-writer rule; read-only attachment. */
    if (pipe(pipe_a) || pipe(pipe_b)) return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int bad = 0;
        bad += active_vas() != 0;
        bad += !fails(vas_switch(vid), EINVAL);                 /* not inherited */
        bad += !fails(vas_attach(0, vid, O_RDWR), EBUSY);       /* the parent holds it writable */
        bad += !fails(vas_attach(0, vid, O_RDONLY), EBUSY);
        tell(pipe_a[1]);
        hear(pipe_b[0]);                                        /* the parent detached */
        bad += vas_attach(0, vid, O_RDONLY) != 0;
        bad += vas_switch(vid) != 0;
        bad += strcmp(SEG, "written in the VAS") != 0;
        bad += !write_faults(SEG);                               /* attached read-only */
        bad += vas_switch(0) != 0;
        tell(pipe_a[1]);
        hear(pipe_b[0]);                         /* the parent attached too, and detached us */
        bad += !fails(vas_detach(0, vid), EINVAL);
        _exit(bad);
    }
    hear(pipe_a[0]);
    check("vas_detach", vas_detach(0, vid) == 0 && fails(vas_switch(vid), EINVAL));
    check("vas_detach of a VAS not attached: EINVAL", fails(vas_detach(0, vid), EINVAL));
    tell(pipe_b[1]);
    hear(pipe_a[0]);
    check("a second reader may attach", vas_attach(0, vid, O_RDONLY) == 0);
    check("vas_detach by pid of another process's attachment", vas_detach(pid, vid) == 0);
    tell(pipe_b[1]);
    check("the child: not inherited, one writer, read-only attachment", child_exit(pid) == 0);
    vas_detach(0, vid);

    /* Permissions: a process of another user. */
    at.mode = 0600; at.user = 0; at.group = 0;
    vas_setattr(vid, &at);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int bad = 0;
        if (setgid(1000) || setuid(1000)) _exit(99);
        bad += !fails(vas_attach(0, vid, O_RDONLY), EACCES);
        bad += !fails(vas_setattr(vid, &at), EPERM);
        bad += !fails(vas_delete(vid), EACCES);
        tell(pipe_a[1]);
        hear(pipe_b[0]);                                        /* now 0644 */
        bad += vas_attach(0, vid, O_RDONLY) != 0;
        bad += !fails(vas_attach(0, vid, O_RDONLY), EEXIST);
        bad += vas_detach(0, vid) != 0;
        bad += !fails(vas_attach(0, vid, O_RDWR), EACCES);
        bad += !fails(vas_attach(1, vid, O_RDONLY), EPERM);    /* another user's process */
        _exit(bad);
    }
    hear(pipe_a[0]);
    at.mode = 0644;
    check("vas_setattr", vas_setattr(vid, &at) == 0 && vas_getattr(vid, &at) == 0 && at.mode == 0644);
    tell(pipe_b[1]);
    check("another user: EACCES, EPERM as the mode says", child_exit(pid) == 0);

    /* A segment shared by two VASes, two processes: a futex in it wakes across them. */
    long vid2 = vas_create("demo2", 0600);
    check("vas_seg_attach to a second VAS, read-only", seg_attach(vid2, sid, O_RDONLY) == 0);
    check("vas_attach of the second", vas_attach(0, vid2, O_RDWR) == 0);
    vas_switch(vid2);
    check("read-only where attached O_RDONLY", !strcmp(SEG, "written in the VAS") && write_faults(SEG));
    vas_switch(0);
    vas_detach(0, vid2);
    volatile int *word = (volatile int *)(SEG + PG);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (vas_attach(0, vid2, O_RDWR) || vas_switch(vid2)) _exit(10);
        tell(pipe_a[1]);
        while (*word == 0) syscall(SYS_futex, word, 0 /* FUTEX_WAIT */, 0, NULL, NULL, 0);
        _exit(*word == 7 ? 0 : 11);
    }
    hear(pipe_a[0]);
    vas_attach(0, vid, O_RDWR);
    vas_switch(vid);
    usleep(20000);
    *word = 7;
    long woke = syscall(SYS_futex, word, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0);
    vas_switch(0);
    vas_detach(0, vid);
    int cst = child_exit(pid);
    check("a futex in a segment: waited in one VAS, woken from another", cst == 0 && woke <= 1);

    /* exec and exit drop attachments: a child attaches, switches and execs. */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        vas_attach(0, vid, O_RDWR);
        vas_switch(vid);
        execl("/proc/self/exe", "vasdemo", "exit42", (char *)NULL);
        _exit(3);
    }
    check("a child attached and switched in execs", child_exit(pid) == 42);
    check("its attachment went with the exec", vas_attach(0, vid, O_RDWR) == 0 && vas_detach(0, vid) == 0);

    /* Deleting. */
    check("vas_seg_detach", seg_detach(vid, sid) == 0 && seg_detach(vid2, sid) == 0);
    check("vas_seg_detach of a segment not attached: EINVAL", fails(seg_detach(vid, sid), EINVAL));
    check("vas_seg_delete", seg_delete(sid) == 0 && fails(seg_find("demo-seg"), ENOENT));
    check("vas_delete", vas_delete(vid) == 0 && vas_delete(vid2) == 0 && fails(vas_find("demo"), ENOENT));
    printf("vasdemo: %d failures\n", failures);
    return failures;
}
