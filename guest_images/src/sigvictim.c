/* sigvictim: a guest whose host processes get signals from outside (issue 14,
 * finding 2).  A host signal sent to a stub is not a signal to the guest:
 * nothing here may see one, whatever the host sends, while parent and child
 * loop over mmap, touch, munmap (host mapping batches) for SECONDS.
 *
 *   sigvictim SECONDS        both loop; prints the handler counts (all 0) and
 *                            the child's status (0): the same natively
 *   sigvictim SECONDS spin   the child loops, the parent waits for it and
 *                            prints how it ended (the test kills its host
 *                            process: "killed by signal 9", and the parent
 *                            goes on) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t seen[65];
static const int caught[] = { SIGUSR1, SIGWINCH, SIGTERM, SIGHUP, SIGINT, SIGCONT, SIGTSTP,
			      SIGTTIN, SIGTTOU, SIGALRM, SIGPIPE, SIGURG };

static void on_signal(int s)
{
	seen[s]++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void churn(double seconds)
{
	double end = now() + seconds;
	unsigned long n = 0;
	while (now() < end || n < 100) {
		char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			exit(3);
		}
		p[0] = 1;
		p[4096] = 2;
		if (p[0] + p[4096] != 3)
			exit(4);
		munmap(p, 8192);
		n++;
	}
}

static int count(void)
{
	int total = 0;
	for (int i = 0; i < 65; i++)
		total += seen[i];
	return total;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	int spin = argc > 2 && strcmp(argv[2], "spin") == 0;

	for (unsigned i = 0; i < sizeof caught / sizeof caught[0]; i++)
		signal(caught[i], on_signal);
	signal(SIGRTMIN, on_signal);
	signal(SIGUSR2, SIG_IGN);
	pid_t child = fork();
	if (child < 0) {
		perror("fork");
		return 2;
	}
	if (child == 0) {
		churn(seconds);
		printf("child: handlers ran %d times\n", count());
		return 0;
	}
	if (!spin)
		churn(seconds);
	int status;
	if (waitpid(child, &status, 0) != child) {
		perror("waitpid");
		return 2;
	}
	if (WIFSIGNALED(status))
		printf("child killed by signal %d\n", WTERMSIG(status));
	else
		printf("child exited with %d\n", WEXITSTATUS(status));
	churn(0.05);      /* the parent goes on (more batches) */
	printf("parent: handlers ran %d times\n", count());
	return 0;
}
