/* getppid_loop [N]: N raw getppid system calls (default 1000000), for the
 * syscall round-trip benchmark. */
#include "freestanding.h"

int main(int argc, char **argv, char **envp)
{
	(void)envp;
	long n = argc > 1 ? parse_long(argv[1]) : 1000000;
	for (long i = 0; i < n; i++)
		sys0(SYS_getppid);
	return 0;
}
