/*
 * minivmm-skas3: a tiny hosted VMM as User-Mode Linux ran on SKAS3 hosts:
 * /proc/mm address spaces, PTRACE_SWITCH_MM, PTRACE_SYSEMU, PTRACE_FAULTINFO.
 *
 * It forks a child that stops itself under PTRACE_TRACEME, builds an empty
 * address space by opening /proc/mm and writing MM_MMAP operations into it
 * (the program's code comes from a file, as UML maps its physical memory
 * file), moves the child into it with PTRACE_SWITCH_MM, and runs it with
 * PTRACE_SYSEMU, emulating every system call it makes: write copies the
 * buffer out of the child with PTRACE_PEEKDATA, getpid answers 4242, exit
 * ends it.  The page it touches outside its mappings is found with
 * PTRACE_FAULTINFO, mapped with MM_MMAP, filled with PTRACE_POKEDATA, and
 * the child resumes.  Prints the child's output and a summary; exits non-zero
 * on any surprise (2 when not under umlpy).
 *
 * `minivmm-skas3 N` runs the benchmark guest instead: N getppid calls, each
 * emulated (answered 1), then exit(0); it prints nothing but errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "umlpy.h"

#define MINIVMM_GREETING "  hello from the SKAS3 guest"
#include "minivmm_guest.h"

#define CODE_ADDR  MINIVMM_CODE_ADDR
#define STACK_ADDR MINIVMM_STACK_ADDR
#define STACK_SIZE MINIVMM_STACK_SIZE
#define FAULT_ADDR MINIVMM_FAULT_ADDR

static int fail(const char *what)
{
    printf("minivmm-skas3: %s: %s\n", what, strerror(errno));
    return 1;
}

static int mm_op_mmap(int mm, unsigned long addr, unsigned long len, unsigned long prot,
                      unsigned long flags, int fd)
{
    struct proc_mm_op op;
    memset(&op, 0, sizeof op);
    op.op = MM_MMAP;
    op.u.mmap = (struct mm_mmap){addr, len, prot, flags, (unsigned long)(long)fd, 0};
    return write(mm, &op, sizeof op) == sizeof op ? 0 : -1;
}

int main(int argc, char **argv)
{
    long loops = argc > 1 ? atol(argv[1]) : -1;       /* the benchmark guest */
    int mm = open("/proc/mm", O_RDWR);
    if (mm < 0) {
        printf("minivmm-skas3: /proc/mm: %s (not running under umlpy?)\n", strerror(errno));
        return 2;
    }
    int code = open("/tmp/minivmm-skas3.code", O_RDWR | O_CREAT | O_TRUNC, 0700);
    const char *text = loops >= 0 ? loop_start : guest_start;
    long n = loops >= 0 ? loop_end - loop_start : guest_end - guest_start;
    if (code < 0 || write(code, text, n) != n || ftruncate(code, 4096))
        return fail("the code file");
    if (mm_op_mmap(mm, CODE_ADDR, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, code)
        || mm_op_mmap(mm, STACK_ADDR, STACK_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1))
        return fail("MM_MMAP");

    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        _exit(99);                         /* never reached: the VMM moves it elsewhere */
    }
    int st;
    if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
        return fail("the child's first stop");
    if (ptrace(PTRACE_SWITCH_MM, child, 0, (void *)(long)mm))
        return fail("PTRACE_SWITCH_MM");
    /* The child's LDT, kept by its mm: written and read back through PTRACE_LDT. */
    unsigned int desc[4] = {1, 0x1000, 0xff, 1};   /* entry 1, base, limit, seg_32bit */
    unsigned char ldt[16];
    struct ptrace_ldt pl = {0x11, desc, sizeof desc};
    if (ptrace(PTRACE_LDT, child, 0, &pl))
        return fail("PTRACE_LDT write");
    pl = (struct ptrace_ldt){0, ldt, sizeof ldt};
    if (ptrace(PTRACE_LDT, child, 0, &pl) != (long)sizeof ldt || ldt[8] != 0xff || ldt[11] != 0x10)
        return fail("PTRACE_LDT read back");
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, child, 0, &r))
        return fail("PTRACE_GETREGS");
    r.rip = CODE_ADDR;
    r.rsp = STACK_ADDR + STACK_SIZE;
    r.r12 = loops >= 0 ? (unsigned long)loops : 0;
    if (ptrace(PTRACE_SETREGS, child, 0, &r))
        return fail("PTRACE_SETREGS");

    int syscalls = 0, faults = 0, status = -1, sig = 0;
    while (status < 0) {
        if (ptrace(PTRACE_SYSEMU, child, 0, (void *)(long)sig))
            return fail("PTRACE_SYSEMU");
        sig = 0;
        if (waitpid(child, &st, 0) != child || !WIFSTOPPED(st))
            return fail("waitpid");
        ptrace(PTRACE_GETREGS, child, 0, &r);
        if (WSTOPSIG(st) == SIGSEGV) {
            struct ptrace_faultinfo fi;
            if (ptrace(PTRACE_FAULTINFO, child, 0, &fi) || fi.addr != FAULT_ADDR)
                return fail("PTRACE_FAULTINFO");
            faults++;
            if (mm_op_mmap(mm, FAULT_ADDR, 4096, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1)
                || ptrace(PTRACE_POKEDATA, child, (void *)FAULT_ADDR, (void *)7L))
                return fail("map and fill the faulting page");
            continue;                      /* resume with no signal: the load is retried */
        }
        if (WSTOPSIG(st) != SIGTRAP)
            return fail("unexpected stop");
        syscalls++;
        switch (r.orig_rax) {
        case SYS_write: {
            char buf[256];
            unsigned long len = r.rdx < sizeof buf ? r.rdx : sizeof buf;
            for (unsigned long i = 0; i < len; i += 8) {
                long w = ptrace(PTRACE_PEEKDATA, child, (void *)(r.rsi + i), 0);
                memcpy(buf + i, &w, len - i < 8 ? len - i : 8);
            }
            r.rax = write(1, buf, len);
            break;
        }
        case SYS_getpid:
            r.rax = 4242;
            break;
        case SYS_getppid:
            r.rax = 1;
            ptrace(PTRACE_POKEUSER, child, (void *)offsetof(struct user_regs_struct, rax), (void *)1L);
            continue;                      /* the benchmark's call: one register written */
        case SYS_exit:
            status = r.rdi;
            break;
        default:
            r.rax = -ENOSYS;
        }
        ptrace(PTRACE_SETREGS, child, 0, &r);
    }
    kill(child, SIGKILL);
    waitpid(child, &st, 0);
    close(mm);
    if (loops >= 0)
        return status == 0 && syscalls == loops + 1 ? 0 : 1;
    if (r.r13 != 4242)
        return fail("the guest did not see its emulated pid");
    printf("minivmm-skas3: guest exited with %d after %d emulated syscalls and %d fault\n",
           status, syscalls, faults);
    return status == 7 && syscalls == 5 && faults == 1 ? 0 : 1;
}
