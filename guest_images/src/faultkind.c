/*
 * faultkind: a page fault's access kind (is it a write?) as the extensions
 * report it (issue 7): unprivilege's info.is_write and PTRACE_FAULTINFO /
 * PTRACE_EX_FAULTINFO, for writes, reads and instruction fetches on
 * PROT_NONE, read-only and unmapped pages.  One line per check; exits with
 * the number of failed checks (2 when not running under umlpy).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umlpy.h"

static int failed;

static void check(const char *what, int ok)
{
	printf("%-64s %s\n", what, ok ? "ok" : "FAILED");
	if (!ok)
		failed++;
}

/* Unprivileged code, at offsets of its page (rbx: the address to touch):
 *  0: movb $1,(%rbx); ud2      16: mov (%rbx),%al; ud2      32: jmp *%rbx */
static const unsigned char code[48] = {
	[0] = 0xc6, 0x03, 0x01, 0x0f, 0x0b,
	[16] = 0x8a, 0x03, 0x0f, 0x0b,
	[32] = 0xff, 0xe3,
};

static long unpriv(struct umlpy_vcpu *v) { return syscall(UMLPY_NR_UNPRIVILEGE, v); }

static void unpriv_checks(void)
{
	unsigned char *cp = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(0, 4096, PROT_READ | UMLPY_PROT_UNPRIV, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *none = mmap(0, 4096, PROT_NONE | UMLPY_PROT_UNPRIV, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *stack = mmap(0, 8192, PROT_READ | PROT_WRITE | UMLPY_PROT_UNPRIV, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	static volatile char private_byte = 5;
	memcpy(cp, code, sizeof code);
	mprotect(cp, 4096, PROT_READ | PROT_EXEC | UMLPY_PROT_UNPRIV);
	static const struct { const char *what; int off; int page; int is_write; } runs[] = {
		{ "unprivilege: write to a read-only page: is_write 1", 0, 0, 1 },
		{ "unprivilege: read of a PROT_NONE page: is_write 0", 16, 1, 0 },
		{ "unprivilege: write to a PROT_NONE page: is_write 1", 0, 1, 1 },
		{ "unprivilege: read of an invisible page: is_write 0", 16, 2, 0 },
		{ "unprivilege: write to an invisible page: is_write 1", 0, 2, 1 },
		{ "unprivilege: jump to a read-only page: is_write 0", 32, 0, 0 },
	};
	char *pages[3] = { ro, none, (char *)&private_byte };
	for (unsigned i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		struct umlpy_vcpu v;
		memset(&v, 0, sizeof v);
		v.mm_fd = -1;
		v.regs.rip = (unsigned long)cp + runs[i].off;
		v.regs.rsp = (unsigned long)stack + 8192;
		v.regs.rbx = (unsigned long)pages[runs[i].page];
		long r = unpriv(&v);
		check(runs[i].what, r == UMLPY_EXIT_FAULT && v.info.signo == SIGSEGV && v.info.trap_no == 14
		      && v.info.addr == (unsigned long)pages[runs[i].page] && v.info.is_write == runs[i].is_write);
	}
	/* A read of a readable page is no fault at all: the ud2 after it is the exit. */
	struct umlpy_vcpu v;
	memset(&v, 0, sizeof v);
	v.mm_fd = -1;
	v.regs.rip = (unsigned long)cp + 16;
	v.regs.rsp = (unsigned long)stack + 8192;
	v.regs.rbx = (unsigned long)ro;
	check("unprivilege: read of a read-only page: no fault (ud2 next)",
	      unpriv(&v) == UMLPY_EXIT_SIGNAL && v.info.signo == SIGILL);
}

/* The traced child's faults, in order; its SIGSEGV handler skips each. */
static sigjmp_buf jb;
static void on_segv(int s) { (void)s; siglongjmp(jb, 1); }

static char *child_ro, *child_none, *child_gone;
static const char *child_what[] = {
	"PTRACE_FAULTINFO: write to a PROT_NONE page: is_write 1",
	"PTRACE_FAULTINFO: read of a PROT_NONE page: is_write 0",
	"PTRACE_FAULTINFO: write to a read-only page: is_write 1",
	"PTRACE_FAULTINFO: read of an unmapped page: is_write 0",
	"PTRACE_FAULTINFO: write to an unmapped page: is_write 1",
	"PTRACE_FAULTINFO: jump to a read-only page: is_write 0",
};

static void child_faults(void)
{
	volatile char sink;
	for (volatile int i = 0; i < 6; i++) {   /* volatile: kept across siglongjmp */
		if (sigsetjmp(jb, 1))
			continue;
		switch (i) {
		case 0: *(volatile char *)child_none = 1; break;
		case 1: sink = *(volatile char *)child_none; break;
		case 2: *(volatile char *)child_ro = 1; break;
		case 3: sink = *(volatile char *)child_gone; break;
		case 4: *(volatile char *)child_gone = 1; break;
		case 5: ((void (*)(void))child_ro)(); break;
		}
		(void)sink;
	}
	_exit(0);
}

static void ptrace_checks(void)
{
	child_ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	child_none = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	child_gone = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(child_gone, 4096);
	char *expect_addr[] = { child_none, child_none, child_ro, child_gone, child_gone, child_ro };
	int expect_write[] = { 1, 0, 1, 0, 1, 0 };
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, on_segv);
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		child_faults();
	}
	int status, n = 0;
	while (waitpid(pid, &status, 0) == pid && WIFSTOPPED(status)) {
		int sig = WSTOPSIG(status);
		if (sig == SIGSEGV && n < 6) {
			struct ptrace_faultinfo fi;
			struct ptrace_ex_faultinfo ex;
			long r1 = ptrace(PTRACE_FAULTINFO, pid, 0, &fi);
			long r2 = ptrace(PTRACE_EX_FAULTINFO, pid, 0, &ex);
			check(child_what[n], r1 == 0 && r2 == 0 && fi.addr == (unsigned long)expect_addr[n]
			      && fi.is_write == expect_write[n] && ex.is_write == fi.is_write
			      && ex.addr == fi.addr && ex.trap_no == 14);
			n++;
		}
		ptrace(PTRACE_CONT, pid, 0, sig == SIGSTOP ? 0 : sig);
	}
	check("the traced child took its 6 faults and exited", n == 6 && WIFEXITED(status)
	      && WEXITSTATUS(status) == 0);
}

int main(void)
{
	if (syscall(UMLPY_NR_UNPRIVILEGE, (void *)0) == -1 && errno == ENOSYS) {
		printf("faultkind: unprivilege: %s (not running under umlpy?)\n", strerror(errno));
		return 2;
	}
	unpriv_checks();
	ptrace_checks();
	printf("faultkind: %d failed\n", failed);
	return failed;
}
