/* hello: plain C with stdio, built against glibc and musl (static).  Prints
 * only what is the same natively and under umlpy (never argv[0]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argv;
	char *buf = malloc(64);
	if (!buf)
		return 1;
	snprintf(buf, 64, "%s", "world");
	printf("Hello, %s!\n", buf);
	printf("hello: argc=%d, strlen=%zu, %.2f\n", argc, strlen(buf), 3.0 / 4.0);
	free(buf);
	return 0;
}
