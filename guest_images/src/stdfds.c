/* stdfds: what a program finds on fds 0-9 when it starts, and what its
 * console gives (issue 14: a closed 0, 1 or 2 of umlpy must be closed in the
 * guest too, never the supervisor's physical-memory file).
 *
 * Prints one line per fd to the first of fds 1, 2 that is open, and exits
 * with a bit mask of the open fds among 0-9 (so that a run with both 1 and 2
 * closed still says something).  Runs natively and under umlpy alike. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[160], buf[64];
	int out = -1, mask = 0;

	for (int fd = 0; fd < 10; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			mask |= 1 << fd;
	if (mask & 2)
		out = 1;
	else if (mask & 4)
		out = 2;
	for (int fd = 0; fd < 10 && out >= 0; fd++) {
		int n = snprintf(line, sizeof line, "fd %d: %s\n", fd,
				 mask & (1 << fd) ? "open" : strerror(EBADF));
		write(out, line, n);
	}
	/* Reading stdin: EOF (empty input), EBADF (closed); never anybody's memory. */
	ssize_t r = read(0, buf, sizeof buf);
	if (out >= 0) {
		int n = r < 0 ? snprintf(line, sizeof line, "read(0): %s\n", strerror(errno))
			      : snprintf(line, sizeof line, "read(0): %zd bytes\n", r);
		write(out, line, n);
	}
	/* The lowest free fd goes to the next open, as on Linux. */
	int fd = open("/", O_RDONLY | O_DIRECTORY);
	if (out >= 0) {
		int n = snprintf(line, sizeof line, "open(\"/\") = %d\n", fd);
		write(out, line, n);
	}
	return mask & 0x7f;
}
