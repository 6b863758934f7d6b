/* vaspair: two unrelated processes share a named VAS and segment (the RFC's case: data
 * shared between tasks without any file), and the same across two umlpy runs with
 * --vas-store.
 *
 *   vaspair write NAME TEXT   create (or find) VAS NAME and segment NAME-seg, switch in,
 *                             write TEXT and a count of the runs into the segment, leave
 *   vaspair read NAME         find both by name (a new run has no VAS: make one and attach
 *                             the segment found by name), attach read-only, switch in,
 *                             print what is there
 *   vaspair both NAME TEXT    fork+exec "write", wait, fork+exec "read" (unrelated
 *                             processes: nothing is inherited, everything found by name)
 *   vaspair crash NAME TEXT   write, then die of SIGSEGV while switched in
 *   vaspair hold NAME TEXT    write, say so, then sleep a minute switched in (for SIGTERM)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umlpy.h"

#define SEG ((char *)0x510000000000UL)
#define SEG_LEN (4 * 4096UL)

struct page {
    long runs;
    char text[200];
};

static long sys(long nr, long a, long b, long c, long d) { return syscall(nr, a, b, c, d); }

static void die(const char *what)
{
    printf("vaspair: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long find_or_make_vas(const char *name, int *made)
{
    long vid = sys(UMLPY_NR_VAS_FIND, (long)name, 0, 0, 0);
    *made = 0;
    if (vid < 0 && errno == ENOENT) {
        vid = sys(UMLPY_NR_VAS_CREATE, (long)name, 0666, 0, 0);
        *made = 1;
    }
    if (vid < 0) die("vas");
    return vid;
}

static long find_seg(const char *name, int create)
{
    char segname[300];
    snprintf(segname, sizeof segname, "%s-seg", name);
    long sid = sys(UMLPY_NR_VAS_SEG_FIND, (long)segname, 0, 0, 0);
    if (sid < 0 && errno == ENOENT && create)
        sid = sys(UMLPY_NR_VAS_SEG_CREATE, (long)segname, (long)SEG, (long)(SEG + SEG_LEN), 0666);
    if (sid < 0) die("segment");
    return sid;
}

static int write_side(const char *name, const char *text, int how)
{
    int made;
    long vid = find_or_make_vas(name, &made);
    long sid = find_seg(name, 1);
    if (made && sys(UMLPY_NR_VAS_SEG_ATTACH, vid, sid, O_RDWR, 0)) die("vas_seg_attach");
    if (sys(UMLPY_NR_VAS_ATTACH, 0, vid, O_RDWR, 0)) die("vas_attach");
    if (sys(UMLPY_NR_VAS_SWITCH, vid, 0, 0, 0)) die("vas_switch");
    struct page *p = (struct page *)SEG;
    p->runs++;
    snprintf(p->text, sizeof p->text, "%s", text);
    long runs = p->runs;
    if (how == 1) {
        raise(SIGSEGV);                  /* dies here, switched in, the segment written */
    }
    if (how == 2) {
        printf("writer: holding\n");
        fflush(stdout);
        sleep(60);
    }
    sys(UMLPY_NR_VAS_SWITCH, 0, 0, 0, 0);
    sys(UMLPY_NR_VAS_DETACH, 0, vid, 0, 0);
    printf("writer: %s VAS %s, wrote \"%s\" (write number %ld)\n", made ? "made" : "found", name, text, runs);
    return 0;
}

static int read_side(const char *name)
{
    int made;
    long vid = find_or_make_vas(name, &made);
    long sid = find_seg(name, 0);
    if (made && sys(UMLPY_NR_VAS_SEG_ATTACH, vid, sid, O_RDONLY, 0)) die("vas_seg_attach");
    if (sys(UMLPY_NR_VAS_ATTACH, 0, vid, O_RDONLY, 0)) die("vas_attach");
    if (sys(UMLPY_NR_VAS_SWITCH, vid, 0, 0, 0)) die("vas_switch");
    struct page copy = *(struct page *)SEG;
    sys(UMLPY_NR_VAS_SWITCH, 0, 0, 0, 0);
    sys(UMLPY_NR_VAS_DETACH, 0, vid, 0, 0);
    struct vas_attr at;
    sys(UMLPY_NR_VAS_SEG_GETATTR, sid, (long)&at, 0, 0);
    printf("reader: %s VAS %s, segment found by name (mode %o): \"%s\" (write number %ld)\n",
           made ? "made a new" : "found", name, at.mode, copy.text, copy.runs);
    return 0;
}

static int run(char **argv)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execv("/proc/self/exe", argv);
        execv("/bin/vaspair", argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("usage: vaspair write|read|both|crash NAME [TEXT]\n");
        return 2;
    }
    if (syscall(UMLPY_NR_ACTIVE_VAS) < 0) {
        printf("vaspair: active_vas: %s (not under umlpy)\n", strerror(errno));
        return 2;
    }
    const char *text = argc > 3 ? argv[3] : "hello";
    if (!strcmp(argv[1], "write")) return write_side(argv[2], text, 0);
    if (!strcmp(argv[1], "crash")) return write_side(argv[2], text, 1);
    if (!strcmp(argv[1], "hold")) return write_side(argv[2], text, 2);
    if (!strcmp(argv[1], "read")) return read_side(argv[2]);
    if (!strcmp(argv[1], "both")) {
        char *w[] = {"vaspair", "write", argv[2], (char *)text, NULL};
        char *r[] = {"vaspair", "read", argv[2], NULL};
        int a = run(w), b = run(r);
        return a || b;
    }
    return 2;
}
