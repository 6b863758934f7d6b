/* segv: announces itself, then writes to address 0x10 and dies of SIGSEGV. */
#include <unistd.h>

int main(void)
{
	static const char msg[] = "about to fault\n";
	write(1, msg, sizeof msg - 1);
	/* Through a volatile pointer so the compiler cannot see the address. */
	int *volatile bad = (int *)0x10;
	*bad = 1;
	return 0;
}
