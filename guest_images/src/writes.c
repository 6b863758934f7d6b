/* Five write(2) calls, each checked: shows what fault injection does to a program. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    int failed = 0;
    for (int i = 1; i <= 5; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "write number %d\n", i);
        if (write(1, line, n) != n) {
            int e = errno;
            char msg[128];
            int m = snprintf(msg, sizeof msg, "write %d failed: %s\n", i, strerror(e));
            (void)!write(2, msg, m);
            failed++;
        }
    }
    return failed ? 1 : 0;
}
