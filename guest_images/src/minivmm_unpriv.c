/*
 * minivmm-unpriv: a tiny hosted VMM in one process, on create_mm, mm_indirect
 * and unprivilege (DESIGN.md, "Guest ABI extensions").
 *
 * It makes an empty address space, maps code and a stack into it with
 * mm_indirect(mmap), copies a small guest program there with
 * mm_indirect(read) from a pipe, then runs it with unprivilege() and
 * emulates every system call it makes, the way UML's kernel serves its
 * processes: write goes out through mm_indirect(write) (the buffer is in the
 * guest's memory), getpid answers 4242, exit ends the guest.  A page the
 * guest touches outside its mappings comes back as UMLPY_EXIT_FAULT.
 *
 * Prints the guest's output and a summary; exits non-zero on any surprise.
 * Under a host kernel the first call gets ENOSYS and it says so.
 *
 * `minivmm-unpriv N` runs the benchmark guest instead: N getppid calls, each
 * emulated (answered 1), then exit(0); it prints nothing but errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "umlpy.h"

#define MINIVMM_GREETING "  hello from the unprivileged guest"
#include "minivmm_guest.h"

#define CODE_ADDR  MINIVMM_CODE_ADDR
#define STACK_ADDR MINIVMM_STACK_ADDR
#define STACK_SIZE MINIVMM_STACK_SIZE
#define FAULT_ADDR MINIVMM_FAULT_ADDR

static long indirect(int mm, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    struct umlpy_syscall c = {nr, {a0, a1, a2, a3, a4, a5}};
    return syscall(UMLPY_NR_MM_INDIRECT, mm, &c);
}

static int fail(const char *what)
{
    printf("minivmm-unpriv: %s: %s\n", what, strerror(errno));
    return 1;
}

int main(int argc, char **argv)
{
    long loops = argc > 1 ? atol(argv[1]) : -1;       /* the benchmark guest */
    int mm = syscall(UMLPY_NR_CREATE_MM);
    if (mm < 0) {
        printf("minivmm-unpriv: create_mm: %s (not running under umlpy?)\n", strerror(errno));
        return errno == ENOSYS ? 2 : 1;
    }
    const char *text = loops >= 0 ? loop_start : guest_start;
    long n = loops >= 0 ? loop_end - loop_start : guest_end - guest_start;
    if (indirect(mm, SYS_mmap, CODE_ADDR, 4096, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (long)CODE_ADDR)
        return fail("mm_indirect(mmap code)");
    int p[2];
    if (pipe(p) || write(p[1], text, n) != n)
        return fail("pipe");
    if (indirect(mm, SYS_read, p[0], CODE_ADDR, n, 0, 0, 0) != n)
        return fail("mm_indirect(read)");
    if (indirect(mm, SYS_mprotect, CODE_ADDR, 4096, PROT_READ | PROT_EXEC, 0, 0, 0))
        return fail("mm_indirect(mprotect)");
    if (indirect(mm, SYS_mmap, STACK_ADDR, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (long)STACK_ADDR)
        return fail("mm_indirect(mmap stack)");

    struct umlpy_vcpu v;
    memset(&v, 0, sizeof v);
    v.mm_fd = mm;
    v.regs.rip = CODE_ADDR;
    v.regs.rsp = STACK_ADDR + STACK_SIZE;
    v.regs.r12 = loops >= 0 ? (unsigned long)loops : 0;
    int syscalls = 0, faults = 0, status = -1;
    while (status < 0) {
        long r = syscall(UMLPY_NR_UNPRIVILEGE, &v);
        if (r == UMLPY_EXIT_SYSCALL) {
            syscalls++;
            if (v.regs.rax != (unsigned long)-ENOSYS)
                return fail("rax at a syscall exit is not -ENOSYS");
            switch (v.regs.orig_rax) {
            case SYS_write:   /* the buffer is in the guest's memory: write it from there */
                v.regs.rax = indirect(mm, SYS_write, v.regs.rdi, v.regs.rsi, v.regs.rdx, 0, 0, 0);
                break;
            case SYS_getpid:
                v.regs.rax = 4242;
                break;
            case SYS_getppid:          /* the benchmark's call */
                v.regs.rax = 1;
                break;
            case SYS_exit:
                status = v.regs.rdi;
                break;
            default:
                v.regs.rax = -ENOSYS;
            }
        } else if (r == UMLPY_EXIT_FAULT) {
            faults++;
            if (v.info.addr != FAULT_ADDR || v.info.signo != 11 || v.info.is_write || v.info.trap_no != 14)
                return fail("unexpected fault");
            if (indirect(mm, SYS_mmap, FAULT_ADDR, 4096, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (long)FAULT_ADDR)
                return fail("mm_indirect(mmap on fault)");
            long seven = 7;
            if (write(p[1], &seven, 8) != 8 || indirect(mm, SYS_read, p[0], FAULT_ADDR, 8, 0, 0, 0) != 8)
                return fail("fill the faulting page");
        } else {
            printf("minivmm-unpriv: unexpected exit %ld (signal %d at %#lx)\n", r, v.info.signo,
                   v.info.addr);
            return 1;
        }
    }
    if (loops >= 0) {
        close(mm);
        return status == 0 && syscalls == loops + 1 ? 0 : 1;
    }
    if (v.regs.r13 != 4242)
        return fail("the guest did not see its emulated pid");
    printf("minivmm-unpriv: guest exited with %d after %d emulated syscalls and %d fault\n",
           status, syscalls, faults);
    close(mm);
    return status == 7 && syscalls == 5 && faults == 1 ? 0 : 1;
}
