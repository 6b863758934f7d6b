/* entries: the ways into the kernel other than the syscall instruction
 * (DESIGN.md "Entries other than syscall"; issue 14, finding 7).
 *
 * int $0x80 from 64-bit code uses the i386 numbers and registers, whose
 * numbers mean other calls on x86-64 (i386 20 getpid is x86-64 writev, i386
 * 60 umask is x86-64 exit); pointers are 32 bits.  Calls into the legacy
 * vsyscall page (gettimeofday, time, getcpu) work, and bad ones end in the
 * SIGSEGV Linux gives.  Prints what it sees; the same natively and under
 * umlpy.  Built static and non-PIE, so that its data sits below 4 GiB. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define VSYSCALL 0xffffffffff600000UL

static char msg[] = "int80 write from .data\n";

static long i80(long nr, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

typedef long (*vcall)(void *, void *, void *);

static sigjmp_buf jb;
static volatile int got_sig, got_code;
static volatile unsigned long got_addr;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_addr = (unsigned long)si->si_addr;
	siglongjmp(jb, 1);
}

/* Call vsyscall entry VSYSCALL + off with (a, b); describe what happened. */
static void vtry(const char *what, unsigned long off, void *a, void *b)
{
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		long r = ((vcall)(VSYSCALL + off))(a, b, 0);
		printf("%s: returned %ld\n", what, r);
	} else {
		printf("%s: signal %d, si_code %d%s\n", what, got_sig, got_code,
		       got_code == 1 ? (got_addr == (unsigned long)a ? ", at the pointer" : ", elsewhere") : "");
	}
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, 0);

	/* int $0x80: i386 numbers, never x86-64 ones. */
	printf("int80 getpid (i386 20, x86-64 writev): %s\n", i80(20, 0, 0, 0) == getpid() ? "my pid" : "wrong");
	printf("int80 getppid (i386 64): %s\n", i80(64, 0, 0, 0) == getppid() ? "my ppid" : "wrong");
	mode_t before = umask(022);
	umask(before);
	long old = i80(60, 027, 0, 0);         /* i386 umask, x86-64 exit */
	printf("int80 umask (i386 60, x86-64 exit): %s, set %03lo\n",
	       old == (long)before ? "the old mask" : "wrong", (long)umask(old));
	fflush(stdout);
	printf("int80 write: %ld\n", i80(4, 1, (long)msg, sizeof msg - 1));
	fflush(stdout);
	/* 32-bit registers: the high half of a pointer is not seen. */
	printf("int80 write, pointer with high bits: %ld\n", i80(4, 1, (long)msg | (1L << 32), 6));
	fflush(stdout);
	printf("int80 write, bad fd (sign-extended -1): %ld\n", i80(4, 0xffffffffL, (long)msg, 1));
	printf("int80 break (i386 17, no such call): %ld\n", i80(17, 0, 0, 0));
	printf("int80 999: %ld\n", i80(999, 0, 0, 0));

	/* The vsyscall page. */
	struct timeval tv, now;
	gettimeofday(&now, 0);
	long r = ((vcall)VSYSCALL)(&tv, 0, 0);
	printf("vsyscall gettimeofday: %ld, %s\n", r,
	       tv.tv_sec >= now.tv_sec && tv.tv_sec - now.tv_sec < 5 ? "now" : "wrong time");
	time_t t = 0;
	time_t tr = ((time_t (*)(time_t *))(VSYSCALL + 0x400))(&t);
	printf("vsyscall time: %s\n", tr == t && tr - now.tv_sec < 5 && tr >= now.tv_sec ? "now" : "wrong");
	unsigned cpu = 12345, node = 12345;
	r = ((vcall)(VSYSCALL + 0x800))(&cpu, &node, 0);
	printf("vsyscall getcpu: %ld, cpu %s, node %u\n", r, cpu < 4096 ? "ok" : "wrong", node);
	vtry("vsyscall gettimeofday(NULL)", 0, 0, 0);
	vtry("vsyscall gettimeofday(unmapped)", 0, (void *)0x1000, 0);
	vtry("vsyscall gettimeofday(kernel address)", 0, (void *)0xffff800000000000UL, 0);
	vtry("vsyscall time(unmapped)", 0x400, (void *)0x2000, 0);
	vtry("vsyscall misaligned", 0x10, 0, 0);
	return 0;
}
