/* hello_freestanding: the smallest guest - no C library, two system calls. */
#include "freestanding.h"

int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)argv; (void)envp;
	static const char msg[] = "Hello from a freestanding guest!\n";
	sys3(SYS_write, 1, (long)msg, sizeof msg - 1);
	return 0;
}
