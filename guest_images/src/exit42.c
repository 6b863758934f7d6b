/* exit42: exits with status 42 and prints nothing. */
#include "freestanding.h"

int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)argv; (void)envp;
	return 42;
}
