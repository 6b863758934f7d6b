/* sysvipc: System V shared memory, semaphores and message queues, one line each, the same
 * natively and under umlpy: get/IPC_CREAT/IPC_EXCL/IPC_PRIVATE, attach counts across fork
 * and detach, IPC_RMID with attachments left, IPC_STAT/IPC_INFO, permissions (as another
 * user when root), semop blocking across processes, SEM_UNDO at exit, semtimedop's
 * timeout, message types, MSG_NOERROR/MSG_EXCEPT, a full queue blocking a sender.
 * Keys are made from the pid so that runs never meet; ids are never printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

union semun_ { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *info; };

static long e(long r) { return r < 0 ? -errno : r; }
static void show(const char *what, long r) { printf("%s: %ld\n", what, r); }

static int semctl_(int id, int num, int cmd, union semun_ arg) { return semctl(id, num, cmd, arg); }

static void shm_checks(key_t key)
{
    int id = shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600);
    show("shmget IPC_CREAT|IPC_EXCL", id >= 0);
    show("shmget again with IPC_EXCL", e(shmget(key, 10000, IPC_CREAT | IPC_EXCL | 0600)));
    show("shmget the same key", shmget(key, 100, 0) == id);
    show("shmget a larger size than the segment's", e(shmget(key, 20000, 0)));
    show("shmget a missing key", e(shmget(key + 1, 100, 0)));
    show("shmget size 0", e(shmget(IPC_PRIVATE, 0, 0600)));
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    show("segsz", ds.shm_segsz);
    show("nattch before shmat", ds.shm_nattch);
    show("mode", ds.shm_perm.mode & 0777);
    show("cpid is us", ds.shm_cpid == getpid());
    char *p = shmat(id, NULL, 0);
    show("shmat", p != (void *)-1);
    strcpy(p, "written by the parent");
    p[9999] = 'z';
    shmctl(id, IPC_STAT, &ds);
    show("nattch after shmat", ds.shm_nattch);
    show("lpid is us", ds.shm_lpid == getpid());
    pid_t c = fork();
    if (c == 0) {
        struct shmid_ds cds;
        shmctl(id, IPC_STAT, &cds);
        char *q = shmat(id, NULL, SHM_RDONLY);
        int ok = strcmp(q, "written by the parent") == 0 && q[9999] == 'z';
        shmctl(id, IPC_STAT, &cds);
        int n = cds.shm_nattch;
        p[0] = 'W';                       /* the inherited attachment is shared too */
        shmdt(q);
        _exit(ok && n == 3 ? 0 : 1);
    }
    int st;
    waitpid(c, &st, 0);
    show("the child saw the data and nattch 3", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("the child's write is seen", p[0] == 'W');
    shmctl(id, IPC_STAT, &ds);
    show("nattch after the child is gone", ds.shm_nattch);
    char *fixed = (char *)0x300000000000UL;
    show("shmat at a misaligned address", e((long)shmat(id, fixed + 1, 0)));
    show("shmat SHM_RND", shmat(id, fixed + 1, SHM_RND) == fixed);
    show("shmat over it without SHM_REMAP", e((long)shmat(id, fixed, 0)));
    show("shmat over it with SHM_REMAP", shmat(id, fixed, SHM_REMAP) == fixed);
    show("same memory", strcmp(fixed + 1, "ritten by the parent") == 0);
    show("shmdt", e(shmdt(fixed)));
    show("shmdt again", e(shmdt(fixed)));
    show("shmdt of no attachment", e(shmdt(p + 4096)));
    show("IPC_RMID", e(shmctl(id, IPC_RMID, NULL)));
    shmctl(id, IPC_STAT, &ds);
    show("removed but attached: SHM_DEST", (ds.shm_perm.mode & SHM_DEST) != 0);
    show("its key is gone", e(shmget(key, 100, 0)));
    show("still usable", strcmp(p, "Written by the parent") == 0);
    show("shmdt the last attachment", e(shmdt(p)));
    show("IPC_STAT once gone", e(shmctl(id, IPC_STAT, &ds)));
    show("shmat of a bad id", e((long)shmat(-5, NULL, 0)));
    struct shminfo info;
    show("IPC_INFO", shmctl(0, IPC_INFO, (struct shmid_ds *)&info) >= 0);
    show("shmmin", info.shmmin);
    show("shmmni", info.shmmni);
    if (geteuid() == 0) {
        int priv = shmget(IPC_PRIVATE, 4096, 0600);
        c = fork();
        if (c == 0) {
            if (setresuid(65534, 65534, 65534))
                _exit(5);
            long a = (long)shmat(priv, NULL, 0);
            int err = errno;
            struct shmid_ds cds;
            long s = shmctl(priv, IPC_STAT, &cds);
            int err2 = errno;
            long r = shmctl(priv, IPC_RMID, NULL);
            _exit(a == -1 && err == EACCES && s == -1 && err2 == EACCES && r == -1 && errno == EPERM ? 0 : 1);
        }
        waitpid(c, &st, 0);
        shmctl(priv, IPC_RMID, NULL);
        show("another user: EACCES to attach and stat, EPERM to remove", WEXITSTATUS(st));
    } else {
        show("another user: EACCES to attach and stat, EPERM to remove", 0);
    }
}

static void sem_checks(key_t key)
{
    int id = semget(key, 3, IPC_CREAT | IPC_EXCL | 0600);
    show("semget 3", id >= 0);
    show("semget more than it has", e(semget(key, 4, 0)));
    show("semget nsems 0 of a new set", e(semget(IPC_PRIVATE, 0, 0600)));
    union semun_ arg;
    unsigned short vals[3] = {1, 0, 5};
    arg.array = vals;
    show("SETALL", e(semctl_(id, 0, SETALL, arg)));
    show("GETVAL 2", semctl(id, 2, GETVAL));
    struct sembuf ops[2] = {{0, -1, 0}, {2, 3, 0}};
    show("semop -1 and +3", e(semop(id, ops, 2)));
    show("values", semctl(id, 0, GETVAL) * 100 + semctl(id, 2, GETVAL));
    show("GETPID is us", semctl(id, 0, GETPID) == getpid());
    struct sembuf nowait = {0, -1, IPC_NOWAIT};
    show("semop that would block, IPC_NOWAIT", e(semop(id, &nowait, 1)));
    struct sembuf bad = {3, 1, 0};
    show("semop on sem 3 of 3", e(semop(id, &bad, 1)));
    show("semop of 0 operations", e(semop(id, ops, 0)));
    struct sembuf over = {2, 32767, 0};
    show("semop past SEMVMX", e(semop(id, &over, 1)));
    show("and nothing changed", semctl(id, 2, GETVAL));
    arg.val = 40000;
    show("SETVAL out of range", e(semctl_(id, 1, SETVAL, arg)));
    struct timespec ts = {0, 20000000};
    struct sembuf take = {0, -1, 0};
    show("semtimedop times out", e(semtimedop(id, &take, 1, &ts)));
    /* A child waits on sem 0; the parent posts; the child's SEM_UNDO +1 on sem 1 is undone
     * when it exits. */
    pid_t c = fork();
    if (c == 0) {
        struct sembuf w[2] = {{0, -1, 0}, {1, 1, SEM_UNDO}};
        _exit(semop(id, w, 2) == 0 ? 0 : 1);
    }
    int waiting = 0;
    for (int i = 0; i < 500 && waiting == 0; i++) {
        waiting = semctl(id, 0, GETNCNT);
        if (!waiting)
            usleep(2000);
    }
    show("GETNCNT sees the waiting child", waiting);
    struct sembuf post = {0, 1, 0};
    show("post", e(semop(id, &post, 1)));
    int st;
    waitpid(c, &st, 0);
    show("the child got it", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("its SEM_UNDO was undone at exit", semctl(id, 1, GETVAL));
    struct semid_ds ds;
    arg.buf = &ds;
    semctl_(id, 0, IPC_STAT, arg);
    show("sem_nsems", ds.sem_nsems);
    /* RMID wakes a waiter with EIDRM. */
    c = fork();
    if (c == 0) {
        struct sembuf w = {0, -1, 0};
        long r = semop(id, &w, 1);
        _exit(r == -1 && errno == EIDRM ? 0 : 1);
    }
    for (int i = 0; i < 500 && semctl(id, 0, GETNCNT) == 0; i++)
        usleep(2000);
    show("IPC_RMID", e(semctl(id, 0, IPC_RMID)));
    waitpid(c, &st, 0);
    show("the waiter got EIDRM", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    show("GETVAL of a removed set", e(semctl(id, 0, GETVAL)));
    struct seminfo si;
    arg.info = &si;
    show("IPC_INFO", semctl_(0, 0, IPC_INFO, arg) >= 0);
    show("semmsl", si.semmsl);
    show("semvmx", si.semvmx);
}

struct msg { long mtype; char text[64]; };

static void msg_checks(key_t key)
{
    int id = msgget(key, IPC_CREAT | 0600);
    show("msgget", id >= 0);
    show("msgget with IPC_EXCL", e(msgget(key, IPC_CREAT | IPC_EXCL | 0600)));
    struct msg m = {2, "two"};
    show("msgsnd type 2", e(msgsnd(id, &m, 4, 0)));
    m.mtype = 1;
    strcpy(m.text, "one, a longer one");
    show("msgsnd type 1", e(msgsnd(id, &m, 18, 0)));
    m.mtype = 3;
    strcpy(m.text, "three");
    show("msgsnd type 3", e(msgsnd(id, &m, 6, 0)));
    m.mtype = 0;
    show("msgsnd type 0", e(msgsnd(id, &m, 1, 0)));
    struct msqid_ds ds;
    msgctl(id, IPC_STAT, &ds);
    show("qnum", ds.msg_qnum);
    show("cbytes", ds.__msg_cbytes);
    struct msg r;
    memset(&r, 0, sizeof r);
    show("msgrcv type 3", e(msgrcv(id, &r, sizeof r.text, 3, 0)));
    printf("  got %ld %s\n", r.mtype, r.text);
    show("msgrcv type 1 into 4 bytes", e(msgrcv(id, &r, 4, 1, IPC_NOWAIT)));
    show("msgrcv with MSG_NOERROR", e(msgrcv(id, &r, 4, 1, MSG_NOERROR)));
    printf("  got %ld %.4s\n", r.mtype, r.text);
    m.mtype = 5;
    msgsnd(id, &m, 6, 0);
    show("msgrcv lowest type <= 9", e(msgrcv(id, &r, sizeof r.text, -9, 0)));
    printf("  got %ld\n", r.mtype);
    show("msgrcv any type but 2 (the type 5)", e(msgrcv(id, &r, sizeof r.text, 2, MSG_EXCEPT | IPC_NOWAIT)));
    show("msgrcv type 5 again (taken)", e(msgrcv(id, &r, sizeof r.text, 5, IPC_NOWAIT)));
    show("msgrcv of an empty type, IPC_NOWAIT", e(msgrcv(id, &r, sizeof r.text, 7, IPC_NOWAIT)));
    /* A receiver blocks until a sender comes. */
    pid_t c = fork();
    if (c == 0) {
        struct msg cm;
        long n = msgrcv(id, &cm, sizeof cm.text, 9, 0);
        _exit(n == 5 && strcmp(cm.text, "nine") == 0 ? 0 : 1);
    }
    usleep(20000);
    m.mtype = 9;
    strcpy(m.text, "nine");
    msgsnd(id, &m, 5, 0);
    int st;
    waitpid(c, &st, 0);
    show("a blocked receiver got type 9", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    /* A full queue: qbytes 10. */
    msgctl(id, IPC_STAT, &ds);
    ds.msg_qbytes = 10;
    show("IPC_SET qbytes 10", e(msgctl(id, IPC_SET, &ds)));
    m.mtype = 1;
    show("msgsnd 8 bytes", e(msgsnd(id, &m, 8, 0)));
    show("msgsnd 8 more, IPC_NOWAIT", e(msgsnd(id, &m, 8, IPC_NOWAIT)));
    show("msgsnd of more than MSGMAX", e(msgsnd(id, &m, 9000, 0)));
    show("IPC_RMID", e(msgctl(id, IPC_RMID, NULL)));
    show("msgsnd to a removed queue", e(msgsnd(id, &m, 1, 0)));
    struct msginfo mi;
    show("IPC_INFO", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi) >= 0);
    show("msgmax", mi.msgmax);
    show("msgmnb", mi.msgmnb);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    key_t base = 0x55000000 | (getpid() & 0xFFFFF) << 2;
    shm_checks(base);
    sem_checks(base + 1);
    msg_checks(base + 2);
    return 0;
}
