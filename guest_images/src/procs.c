/* procs: process calls beyond fork/exec, one line each, the same natively and under umlpy:
 * clone3 (plain, CLONE_PIDFD, its errno cases), pidfd_open/pidfd_send_signal/pidfd_getfd
 * (poll readiness at exit, waitid(P_PIDFD)), execveat(AT_EMPTY_PATH) (fexecve), chown to a
 * uid >= 2^31, a write at a 5 GiB offset, get/setpriority and the sched_* queries, capget.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define CLONE_PIDFD_ 0x1000
#define CLONE_CLEAR_SIGHAND_ (1ULL << 32)
#define CLONE_INTO_CGROUP_ (1ULL << 33)
#define AT_EMPTY_PATH_ 0x1000

struct clone_args_ {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size, cgroup;
};

static long e(long r) { return r < 0 ? -errno : r; }
static void show(const char *what, long r) { printf("%s: %ld\n", what, r); }

static long clone3_(struct clone_args_ *ca, size_t size)
{
    return syscall(SYS_clone3, ca, size);
}

static volatile sig_atomic_t got_usr1;
static void on_usr1(int s) { (void)s; got_usr1 = 1; }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "fexec-done") == 0) {
        printf("fexecve: the new image runs with argv[1] %s\n", argv[1]);
        return 11;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* clone3: a plain child, and the errno cases. */
    struct clone_args_ ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    long pid = clone3_(&ca, 64);
    if (pid == 0)
        _exit(7);
    int st = 0;
    waitpid(pid, &st, 0);
    show("clone3 child exit status", pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("clone3 size 63", e(clone3_(&ca, 63)));
    show("clone3 size 4097", e(clone3_(&ca, 4097)));
    static char big[128];
    memcpy(big, &ca, sizeof ca);
    big[100] = 1;
    show("clone3 size 128 with a non-zero tail", e(clone3_((struct clone_args_ *)big, 128)));
    ca.flags = SIGCHLD;
    show("clone3 signal in flags", e(clone3_(&ca, 64)));
    ca.flags = 0;
    ca.stack = (uint64_t)(uintptr_t)big;
    show("clone3 stack without size", e(clone3_(&ca, 64)));
    ca.stack = 0;
    ca.flags = CLONE_CLEAR_SIGHAND_ | CLONE_SIGHAND | CLONE_VM;
    show("clone3 CLEAR_SIGHAND with SIGHAND", e(clone3_(&ca, 64)));
    ca.flags = 0;
    pid_t me = getpid();
    ca.set_tid = (uint64_t)(uintptr_t)&me;
    ca.set_tid_size = 1;
    show("clone3 set_tid of a pid in use", e(clone3_(&ca, 80)));
    ca.set_tid_size = 0;
    show("clone3 set_tid without its size", e(clone3_(&ca, 80)));
    ca.set_tid = 0;
    int root = open("/", O_RDONLY | O_DIRECTORY);
    ca.flags = CLONE_INTO_CGROUP_;
    ca.cgroup = root;
    show("clone3 INTO_CGROUP of a non-cgroup directory", e(clone3_(&ca, 88)));
    ca.cgroup = 999;
    show("clone3 INTO_CGROUP of a closed fd", e(clone3_(&ca, 88)));
    close(root);

    /* CLONE_PIDFD: readiness at exit, waitid(P_PIDFD). */
    int go[2];
    if (pipe(go))
        return 1;
    int pidfd = -1;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD_;
    ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    pid = clone3_(&ca, 88);
    if (pid == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 1 ? 3 : 4);
    }
    close(go[0]);
    show("CLONE_PIDFD gives an fd", pidfd >= 0);
    show("the pidfd is close-on-exec", fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
    struct pollfd pfd = {pidfd, POLLIN, 0};
    show("poll of a live child's pidfd", poll(&pfd, 1, 0));
    if (write(go[1], "x", 1) != 1)
        return 1;
    show("poll waits for its exit", poll(&pfd, 1, 10000));
    show("revents", pfd.revents);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    show("waitid(P_PIDFD)", e(waitid(P_PIDFD, pidfd, &si, WEXITED)));
    show("its status", si.si_status);
    show("waitid(P_PIDFD) again", e(waitid(P_PIDFD, pidfd, &si, WEXITED)));
    pfd.revents = 0;
    poll(&pfd, 1, 0);
    show("revents once reaped", pfd.revents);
    show("pidfd_send_signal to a reaped process", e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0)));
    close(pidfd);
    close(go[1]);

    /* pidfd_open, pidfd_send_signal, pidfd_getfd. */
    show("pidfd_open pid 0", e(syscall(SYS_pidfd_open, 0, 0)));
    show("pidfd_open bad flags", e(syscall(SYS_pidfd_open, getpid(), 1)));
    show("pidfd_open of no process", e(syscall(SYS_pidfd_open, 4000000, 0)));
    signal(SIGUSR1, on_usr1);
    int ready[2];
    if (pipe(ready))
        return 1;
    pid = fork();
    if (pid == 0) {
        close(ready[0]);
        int fd = open("/", O_RDONLY | O_DIRECTORY);
        if (dup2(fd, 42) != 42 || write(ready[1], "r", 1) != 1)
            _exit(1);
        while (!got_usr1)
            pause();
        _exit(9);
    }
    close(ready[1]);
    char c;
    if (read(ready[0], &c, 1) != 1)
        return 1;
    pidfd = syscall(SYS_pidfd_open, pid, 0);
    show("pidfd_open of a child", pidfd >= 0);
    show("it is close-on-exec", fcntl(pidfd, F_GETFD) & FD_CLOEXEC);
    long fd = syscall(SYS_pidfd_getfd, pidfd, 42, 0);
    struct stat a, b;
    stat("/", &a);
    show("pidfd_getfd: the child's fd 42 is /", fd >= 0 && fstat(fd, &b) == 0 && a.st_ino == b.st_ino);
    show("the copy is close-on-exec", fcntl(fd, F_GETFD) & FD_CLOEXEC);
    show("pidfd_getfd of a closed fd", e(syscall(SYS_pidfd_getfd, pidfd, 77, 0)));
    show("pidfd_getfd with flags", e(syscall(SYS_pidfd_getfd, pidfd, 42, 1)));
    show("pidfd_getfd through a non-pidfd", e(syscall(SYS_pidfd_getfd, 0, 42, 0)));
    show("pidfd_send_signal with unknown flags", e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0x10)));
    show("pidfd_send_signal with two scopes", e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 3)));
    siginfo_t forged;
    memset(&forged, 0, sizeof forged);
    forged.si_signo = SIGUSR1;
    forged.si_code = SI_USER;
    show("pidfd_send_signal posing as kill to another process",
         e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, &forged, 0)));
    forged.si_signo = SIGUSR2;
    forged.si_code = SI_QUEUE;
    show("pidfd_send_signal with a siginfo of another signal",
         e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, &forged, 0)));
    show("pidfd_send_signal SIGUSR1", e(syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0)));
    waitpid(pid, &st, 0);
    show("the child saw it and exited", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    close(fd);
    close(pidfd);

    /* execveat(fd, "", AT_EMPTY_PATH): fexecve. */
    pid = fork();
    if (pid == 0) {
        int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        char *av[] = { argv[0], "fexec-done", NULL };
        syscall(SYS_execveat, self, "", av, (char *[]){NULL}, AT_EMPTY_PATH_);
        _exit(100 + errno);
    }
    waitpid(pid, &st, 0);
    show("execveat(AT_EMPTY_PATH) status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    pid = fork();
    if (pid == 0) {
        int self = open("/proc/self/exe", O_PATH);
        char *av[] = { argv[0], "fexec-done", NULL };
        syscall(SYS_execveat, self, "", av, (char *[]){NULL}, AT_EMPTY_PATH_);
        _exit(100 + errno);
    }
    waitpid(pid, &st, 0);
    show("execveat(AT_EMPTY_PATH) of an O_PATH fd status", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("execveat(AT_FDCWD, \"\", AT_EMPTY_PATH)",
         e(syscall(SYS_execveat, AT_FDCWD, "", (char *[]){NULL}, (char *[]){NULL}, AT_EMPTY_PATH_)));
    show("execveat(fd, \"\") without AT_EMPTY_PATH",
         e(syscall(SYS_execveat, 0, "", (char *[]){NULL}, (char *[]){NULL}, 0)));

    /* Large ids and offsets, in a file of our own under /tmp. */
    char path[64];
    snprintf(path, sizeof path, "/tmp/umlpy-procs-%d", getpid());
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    long r = e(fchown(f, 2147483653u, 4294967294u));
    struct stat s;
    fstat(f, &s);
    show("fchown to uid 2^31+5, gid 2^32-2", r);
    show("stat gives them back", r == 0 ? (s.st_uid == 2147483653u && s.st_gid == 4294967294u) : -1);
    show("pwrite at 5 GiB", e(pwrite(f, "abc", 3, 5LL << 30)));
    fstat(f, &s);
    char back[4] = {0};
    show("size after it", s.st_size == (5LL << 30) + 3);
    show("pread there", pread(f, back, 3, 5LL << 30) == 3 && memcmp(back, "abc", 3) == 0);
    show("a hole reads zeros", pread(f, back, 3, 1LL << 30) == 3 && back[0] == 0);
    close(f);
    unlink(path);

    /* Priorities and scheduling queries. */
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    show("setpriority +3", e(setpriority(PRIO_PROCESS, 0, base + 3)));
    errno = 0;
    show("getpriority after it", getpriority(PRIO_PROCESS, 0) - base);
    setpgid(0, 0);                            /* a process group of our own */
    show("getpriority of our process group", getpriority(PRIO_PGRP, 0) - base);
    show("setpriority of no process", e(setpriority(PRIO_PROCESS, 4000000, 0)));
    show("setpriority bad which", e(setpriority(7, 0, 0)));
    r = e(setpriority(PRIO_PROCESS, 0, base));
    show("setpriority back down (root may, others EACCES)", geteuid() == 0 ? r : r == -EACCES);
    /* Raw calls: musl's wrappers of these answer ENOSYS themselves. */
    show("sched_getscheduler", e(syscall(SYS_sched_getscheduler, 0)));
    struct sched_param sp;
    memset(&sp, 0, sizeof sp);
    sp.sched_priority = 7;
    show("sched_getparam", e(syscall(SYS_sched_getparam, 0, &sp)));
    show("its priority", sp.sched_priority);
    show("sched_get_priority_max(SCHED_FIFO)", e(sched_get_priority_max(SCHED_FIFO)));
    show("sched_get_priority_min(SCHED_RR)", e(sched_get_priority_min(SCHED_RR)));
    show("sched_get_priority_max(SCHED_OTHER)", e(sched_get_priority_max(SCHED_OTHER)));
    show("sched_get_priority_max(42)", e(sched_get_priority_max(42)));
    sp.sched_priority = 5;
    show("sched_setscheduler(OTHER, 5)", e(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp)));
    show("sched_setscheduler(42)", e(syscall(SYS_sched_setscheduler, 0, 42, &sp)));
    show("sched_setscheduler without a param", e(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL)));
    sp.sched_priority = 0;
    show("sched_setscheduler(SCHED_BATCH, 0)", e(syscall(SYS_sched_setscheduler, 0, SCHED_BATCH, &sp)));
    show("now SCHED_BATCH", syscall(SYS_sched_getscheduler, 0) == SCHED_BATCH);
    show("sched_setparam(1) under SCHED_BATCH", e(syscall(SYS_sched_setparam, 0, &(int){1})));
    show("sched_setscheduler(SCHED_OTHER, 0)", e(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, &sp)));
    show("sched_getscheduler(-1)", e(syscall(SYS_sched_getscheduler, -1)));
    show("sched_getscheduler of no process", e(syscall(SYS_sched_getscheduler, 4000000)));
    struct timespec ts;
    show("sched_rr_get_interval", e(sched_rr_get_interval(0, &ts)));
    cpu_set_t set;
    CPU_ZERO(&set);
    show("sched_getaffinity names a CPU", sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1);
    show("sched_getaffinity of no process", e(syscall(SYS_sched_getaffinity, 4000000, sizeof set, &set)));
    show("sched_getaffinity of 4 bytes", e(syscall(SYS_sched_getaffinity, 0, 4, &set)));
    show("sched_setaffinity to the CPUs we have", e(sched_setaffinity(0, sizeof set, &set)));
    CPU_ZERO(&set);
    show("sched_setaffinity to no CPU", e(sched_setaffinity(0, sizeof set, &set)));

    /* sched_getattr / sched_setattr (raw: no libc wrappers everywhere). */
    struct { uint32_t size, policy; uint64_t flags; int32_t nice; uint32_t prio;
             uint64_t runtime, deadline, period; uint32_t umin, umax; } sa;
    memset(&sa, 0, sizeof sa);
    show("sched_getattr", e(syscall(SYS_sched_getattr, 0, &sa, sizeof sa, 0)));
    show("its size, policy and nice", sa.size * 10000 + sa.policy * 100 + (sa.nice - base));
    show("sched_getattr of 47 bytes", e(syscall(SYS_sched_getattr, 0, &sa, 47, 0)));
    show("sched_getattr with flags", e(syscall(SYS_sched_getattr, 0, &sa, sizeof sa, 1)));
    memset(&sa, 0, sizeof sa);
    sa.size = 48;
    sa.policy = SCHED_BATCH;
    sa.nice = base + 1;
    show("sched_setattr BATCH, nice +1", e(syscall(SYS_sched_setattr, 0, &sa, 0)));
    show("now SCHED_BATCH", syscall(SYS_sched_getscheduler, 0) == SCHED_BATCH);
    errno = 0;
    show("and nice +1", getpriority(PRIO_PROCESS, 0) - base);
    sa.policy = SCHED_OTHER;
    sa.nice = base;
    r = e(syscall(SYS_sched_setattr, 0, &sa, 0));
    show("sched_setattr back (root may, others EPERM)", geteuid() == 0 ? r : r == -EPERM);
    sa.size = 40;
    show("sched_setattr of a 40-byte struct", e(syscall(SYS_sched_setattr, 0, &sa, 0)));
    show("the size it wants", sa.size);
    sa.size = 48;
    sa.flags = 0x10000;
    show("sched_setattr unknown flags", e(syscall(SYS_sched_setattr, 0, &sa, 0)));
    sa.flags = 0;
    sa.prio = 3;
    show("sched_setattr SCHED_OTHER priority 3", e(syscall(SYS_sched_setattr, 0, &sa, 0)));

    /* capget: the header's version check. */
    struct { uint32_t version; int pid; } hdr = {0x12345678, 0};
    struct { uint32_t eff, prm, inh; } data[2];
    show("capget with a bad version", e(syscall(SYS_capget, &hdr, data)));
    show("the header now holds version 3", hdr.version == 0x20080522);
    show("capget version 3", e(syscall(SYS_capget, &hdr, data)));
    show("effective within permitted", (data[0].eff & ~data[0].prm) == 0 && (data[1].eff & ~data[1].prm) == 0);
    show("capset to the same sets", e(syscall(SYS_capset, &hdr, data)));
    hdr.pid = -1;
    show("capget of pid -1", e(syscall(SYS_capget, &hdr, data)));
    return 0;
}
