/* Processes and pipes: fork, pipe, dup2, execve-free data flow, wait statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0) { perror("pipe"); return 1; }
    pid_t child = fork();
    if (child == 0) {
        close(p[0]);
        char buf[64];
        for (int i = 0; i < 5; i++) {
            int n = snprintf(buf, sizeof buf, "line %d from the child\n", i);
            if (write(p[1], buf, n) != n) _exit(3);
        }
        /* a big write: more than the pipe holds at once */
        static char big[200000];
        memset(big, 'x', sizeof big);
        size_t done = 0;
        while (done < sizeof big) {
            ssize_t n = write(p[1], big + done, sizeof big - done);
            if (n <= 0) _exit(4);
            done += n;
        }
        _exit(7);
    }
    close(p[1]);
    char buf[4096];
    size_t total = 0, lines = 0;
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') lines++;
        }
        total += n;
    }
    int status;
    pid_t w = waitpid(child, &status, 0);
    printf("read %zu bytes, %zu lines\n", total, lines);
    printf("waited the child: %s, exited=%d status=%d\n", w == child ? "yes" : "no",
           WIFEXITED(status), WEXITSTATUS(status));
    pid_t c2 = fork();
    if (c2 == 0) { raise(SIGKILL); _exit(0); }
    waitpid(c2, &status, 0);
    printf("second child: signaled=%d sig=%d\n", WIFSIGNALED(status), WTERMSIG(status));
    printf("no more children: %d\n", waitpid(-1, &status, WNOHANG) == -1);
    return 0;
}
