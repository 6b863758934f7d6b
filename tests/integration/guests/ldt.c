/* modify_ldt: write entries, read the table back, the error cases.  Same output natively. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct user_desc {           /* <asm/ldt.h>, which musl does not ship */
    unsigned int entry_number;
    unsigned int base_addr;
    unsigned int limit;
    unsigned int seg_32bit:1, contents:2, read_exec_only:1, limit_in_pages:1,
                 seg_not_present:1, useable:1, lm:1;
};

static long mldt(int func, void *ptr, unsigned long n) { return syscall(SYS_modify_ldt, func, ptr, n); }

static void dump(const char *what, long r, const unsigned char *b, int n)
{
    printf("%s: %ld%s", what, r, r < 0 ? (errno == EINVAL ? " EINVAL" : errno == ENOSYS ? " ENOSYS" : " ?") : "");
    for (int i = 0; i < n; i++)
        printf("%s%02x", i % 8 ? "" : " ", b[i]);
    printf("\n");
}

int main(void)
{
    unsigned char buf[64];
    memset(buf, 0xAA, sizeof buf);
    dump("read, no LDT yet", mldt(0, buf, 32), buf, 0);
    struct user_desc d = {.entry_number = 2, .base_addr = 0x12345678, .limit = 0xABCDE,
                          .seg_32bit = 1, .contents = 0, .read_exec_only = 0, .limit_in_pages = 1,
                          .seg_not_present = 0, .useable = 1};
    dump("write entry 2", mldt(0x11, &d, sizeof d), buf, 0);
    d.entry_number = 0; d.base_addr = 0x1000; d.limit = 0xFF; d.contents = 2; d.read_exec_only = 1;
    d.limit_in_pages = 0; d.useable = 1;
    dump("write entry 0 (old mode)", mldt(1, &d, sizeof d), buf, 0);
    memset(buf, 0xAA, sizeof buf);
    long r = mldt(0, buf, 40);
    dump("read 40", r, buf, 40);
    memset(buf, 0xAA, sizeof buf);
    dump("read 16", mldt(0, buf, 16), buf, 16);
    dump("write with a short struct", mldt(0x11, &d, 8), buf, 0);
    d.entry_number = 8192;
    dump("entry 8192", mldt(0x11, &d, sizeof d), buf, 0);
    d.entry_number = 3; d.contents = 3; d.seg_not_present = 0;
    dump("contents 3, present", mldt(0x11, &d, sizeof d), buf, 0);
    memset(&d, 0, sizeof d);
    d.entry_number = 2; d.read_exec_only = 1; d.seg_not_present = 1;
    dump("clear entry 2 (empty)", mldt(0x11, &d, sizeof d), buf, 0);
    memset(buf, 0xAA, sizeof buf);
    dump("read 24", mldt(0, buf, 24), buf, 24);
    memset(buf, 0xAA, sizeof buf);
    dump("read default", mldt(2, buf, 16), buf, 16);
    dump("func 7", mldt(7, buf, 16), buf, 0);
    return 0;
}
