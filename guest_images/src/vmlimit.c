/* Many VMAs and many host mappings.
 *
 *   vmlimit            touch 70000 pages, then mprotect every other page PROT_READ
 *                      until the VMA limit (vm.max_map_count) answers ENOMEM; check
 *                      the contents and that the failure left the pages writable.
 *   vmlimit cow N      N pages with alternating protections, fork, the child writes
 *                      pseudo-random pages (copy on write); both check their contents.
 *
 * The number of successful mprotects depends on how many VMAs the process had
 * before, which differs between kernels: it goes to stderr; stdout holds only
 * what every Linux (and umlpy) must agree on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096L

/* Lines of /proc/self/maps but [vsyscall] (not a VMA): the VMA count.  No
 * stdio: at the limit even malloc's mmap fails. */
static long count_vmas(void)
{
	static char buf[65536], line[512];
	int fd = open("/proc/self/maps", O_RDONLY);
	long n = 0, len = 0, got;
	if (fd < 0)
		return -1;
	while ((got = read(fd, buf, sizeof buf)) > 0)
		for (long i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < (long)sizeof line - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			if (!strstr(line, "[vsyscall]"))
				n++;
			len = 0;
		}
	close(fd);
	return n;
}

static unsigned long tag(long i) { return 0x9e3779b97f4a7c15UL * (unsigned long)(i + 1); }

static int limit_test(void)
{
	long n = 70000;
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < n; i++)
		*(unsigned long *)(p + i * PAGE) = tag(i);
	long ok = 0, failed_at = -1;
	int first_errno = 0;
	for (long i = 0; i < n; i += 2) {
		if (mprotect(p + i * PAGE, PAGE, PROT_READ) == 0) {
			ok++;
		} else {
			first_errno = errno;
			failed_at = i;
			break;
		}
	}
	fprintf(stderr, "mprotect: %ld succeeded, first failure at page %ld\n", ok, failed_at);
	printf("first errno: %s\n", first_errno == ENOMEM ? "ENOMEM" : first_errno ? strerror(first_errno) : "none");
	printf("more than 30000 succeeded: %s\n", ok > 30000 ? "yes" : "no");
	printf("vmas at the limit: %ld\n", count_vmas());
	/* Later calls fail the same way; the pages keep their contents. */
	printf("next mprotect: %s\n",
	       mprotect(p + (failed_at + 2) * PAGE, PAGE, PROT_READ) == -1 && errno == ENOMEM ? "ENOMEM" : "other");
	long bad = 0;
	for (long i = 0; i < n; i++)
		if (*(unsigned long *)(p + i * PAGE) != tag(i))
			bad++;
	/* Odd pages, and even pages past the failure, are still writable. */
	for (long i = 1; i < n; i += 2)
		*(unsigned long *)(p + i * PAGE + 8) = tag(i) ^ 1;
	for (long i = failed_at; i >= 0 && i < n; i += 2)
		*(unsigned long *)(p + i * PAGE + 8) = tag(i) ^ 1;
	for (long i = 0; i < n; i++) {
		unsigned long w = *(unsigned long *)(p + i * PAGE + 8);
		int written = (i & 1) || (failed_at >= 0 && i >= failed_at);
		if (w != (written ? tag(i) ^ 1 : 0))
			bad++;
	}
	printf("bad pages: %ld\n", bad);
	/* Giving the protections back merges the VMAs again. */
	int r = mprotect(p, n * PAGE, PROT_READ | PROT_WRITE);
	printf("mprotect all back: %d, vmas back to few: %s\n", r, count_vmas() < 64 ? "yes" : "no");
	return bad != 0;
}

static int cow_test(long n)
{
	char *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (long i = 0; i < n; i++)
		*(unsigned long *)(p + i * PAGE) = tag(i);
	for (long i = 0; i < n; i += 2)
		if (mprotect(p + i * PAGE, PAGE, PROT_READ) != 0) {
			perror("mprotect");
			return 1;
		}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		unsigned long x = 12345;
		long bad = 0;
		for (long k = 0; k < 4 * n; k++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			long i = (long)((x >> 33) % (unsigned long)n) | 1;   /* a writable page */
			if (i >= n)
				i -= 2;
			*(unsigned long *)(p + i * PAGE + 16) += 1;
		}
		x = 12345;
		unsigned long sum = 0;
		for (long i = 0; i < n; i++) {
			if (*(unsigned long *)(p + i * PAGE) != tag(i))
				bad++;
			sum += *(unsigned long *)(p + i * PAGE + 16);
		}
		printf("child: bad %ld, writes %lu\n", bad, sum);
		fflush(stdout);
		_exit(bad != 0);
	}
	int status;
	waitpid(pid, &status, 0);
	long bad = 0;
	for (long i = 0; i < n; i++)
		if (*(unsigned long *)(p + i * PAGE) != tag(i) || *(unsigned long *)(p + i * PAGE + 16))
			bad++;
	printf("parent: bad %ld, child status %d\n", bad, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return bad != 0 || !WIFEXITED(status) || WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && !strcmp(argv[1], "cow"))
		return cow_test(atol(argv[2]));
	return limit_test();
}
