/* A parent that spins, never trapping, until its child has run: needs preemption on one vCPU. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    volatile int *flag = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
    pid_t c = fork();
    if (c == 0) { *flag = 1; return 0; }
    while (!*flag) ;              /* no system call until the child has run */
    int st; waitpid(c, &st, 0);
    printf("parent saw the child's flag; child status %d\n", WEXITSTATUS(st));
    return 0;
}
