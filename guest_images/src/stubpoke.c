/* stubpoke: a guest that attacks its own stub (issue 14: "stub forgery"; DESIGN.md:
 * a guest that jumps into the stub's code or forges the shared pages gains
 * nothing beyond its own address space).
 *
 * The stub's pages sit above the guest's TASK_SIZE in its host process: the
 * guest cannot map there, but its instructions reach them.  It scribbles over
 * the stub's read-write pages (control page, stacks), tries to write its
 * read-only orders page, and jumps to every syscall instruction of the stub's
 * code with registers that ask for a host mmap of the physical-memory file.
 * None of it may reach the host: after each attempt mappings, faults, forks
 * and reads must still be this guest's own.  Prints one line per stage;
 * natively (no stub there) it says so and exits 2. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STUB_CODE 0x7ffb00000000UL
#define STUB_CODE_SIZE 0x10000UL
#define STUB_DATA 0x7ffb00100000UL
#define STUB_DATA_SIZE 0x10000UL
#define STUB_REQ 0x7ffb00110000UL

static sigjmp_buf jb;
static volatile int got;

static void on_sig(int s)
{
	got = s;
	siglongjmp(jb, 1);
}

static int probe_read(unsigned long addr)
{
	got = 0;
	if (sigsetjmp(jb, 1) == 0)
		(void)*(volatile unsigned char *)addr;
	return got;
}

/* The guest's own memory still behaves: map, touch, unmap, fault, fork. */
static int still_sane(void)
{
	for (int i = 0; i < 20; i++) {
		char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 0;
		p[0] = 7;
		p[4096] = 9;
		if (p[0] + p[4096] != 16 || munmap(p, 8192))
			return 0;
		if (probe_read((unsigned long)p) != SIGSEGV)       /* unmapped again: a fault */
			return 0;
	}
	pid_t c = fork();
	if (c == 0)
		_exit(42);
	int st;
	return c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 42;
}

int main(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sig;
	sa.sa_flags = SA_NODEFER;
	/* What a jump into the stub's code may end in; SIGALRM ends a loop there. */
	static const int traps[] = { SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS, SIGALRM };
	for (unsigned i = 0; i < sizeof traps / sizeof traps[0]; i++)
		sigaction(traps[i], &sa, 0);
	if (probe_read(STUB_CODE)) {
		printf("stubpoke: no stub at %#lx (not running under umlpy?)\n", STUB_CODE);
		return 2;
	}
	/* 1. The stub's read-write pages: scribbled over, whole. */
	memset((void *)STUB_DATA, 0xa5, STUB_DATA_SIZE);
	printf("scribbled over the stub's pages: %s\n", still_sane() ? "still sane" : "BROKEN");

	/* 2. Its orders page is read-only. */
	got = 0;
	if (sigsetjmp(jb, 1) == 0)
		*(volatile unsigned long *)(STUB_REQ + 8) = 256;
	printf("writing the mapper's orders: %s\n", got == SIGSEGV ? "SIGSEGV" : "WRITTEN");

	/* 3. Every syscall instruction of the stub's code, with registers that ask
	 * the host to map the physical-memory file (fd 3) at 0x70000000. */
	const unsigned char *code = (const unsigned char *)STUB_CODE;
	volatile int jumps = 0, reached_host = 0;      /* volatile: kept across siglongjmp */
	static char stack[65536] __attribute__((aligned(16)));
	for (volatile unsigned long off = 0; off + 1 < 0x2000; off++) {
		if (code[off] != 0x0f || code[off + 1] != 0x05)
			continue;
		got = 0;
		ualarm(50000, 0);   /* a stub loop ends as a SIGALRM */
		if (sigsetjmp(jb, 1) == 0) {
			__asm__ volatile(
				"mov %0, %%rsp\n\t"
				"mov $9, %%eax\n\t"
				"mov $0x70000000, %%edi\n\t"
				"mov $4096, %%esi\n\t"
				"mov $3, %%edx\n\t"
				"mov $0x11, %%r10d\n\t"
				"mov $3, %%r8d\n\t"
				"xor %%r9d, %%r9d\n\t"
				"jmp *%1\n\t"
				: : "r"(stack + sizeof stack - 64), "r"(STUB_CODE + off) : "memory");
		}
		ualarm(0, 0);
		jumps++;
		/* Did a host mmap of physmem land in this guest's address space? */
		if (probe_read(0x70000000) == 0)
			reached_host++;
	}
	printf("jumped to %s syscall instructions of the stub: %s\n", jumps > 3 ? "the" : "FEW",
	       reached_host ? "HOST MAPPING MADE" : "nothing reached the host");
	printf("afterwards: %s\n", still_sane() ? "still sane" : "BROKEN");
	return 0;
}
