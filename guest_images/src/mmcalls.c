/*
 * mmcalls: the address-space-as-fd calls of umlpy, each used and checked:
 * /proc/mm (MM_MMAP, MM_MUNMAP, MM_MPROTECT writes), create_mm, current_mm,
 * mm_indirect, switch_mm (out to another address space and back), and the
 * errno of every bad argument DESIGN.md lists.  Prints one line per check;
 * exits with the number of failed checks.  Under a host kernel the first
 * call gets ENOSYS and it says so (exit 2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "umlpy.h"

static int failed;

static void check(const char *what, int ok)
{
    printf("%-58s %s\n", what, ok ? "ok" : "FAILED");
    if (!ok)
        failed++;
}

static long indirect(int mm, long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
    struct umlpy_syscall c = {nr, {a0, a1, a2, a3, a4, a5}};
    return syscall(UMLPY_NR_MM_INDIRECT, mm, &c);
}

static int err_is(long r, int e) { return r == -1 && errno == e; }

#define T_CODE 0x50000000UL  /* in the other mm: page 0 of the shared file, r-x */
#define T_DATA 0x50001000UL  /* in the other mm: page 1 of the shared file, rw- */

/* Runs in the other mm: mark the data page, then switch_mm(rdi, rsi, rdx) back. */
static const unsigned char away[] = {
    0x48, 0xc7, 0x82, 0x00, 0x01, 0x00, 0x00, 0x5a, 0x5a, 0x00, 0x00, /* movq $0x5a5a,0x100(%rdx) */
    0xb8, 0xea, 0x03, 0x00, 0x00,                                     /* mov $1002,%eax */
    0x0f, 0x05,                                                       /* syscall */
    0x0f, 0x0b,                                                       /* ud2 */
};

int main(void)
{
    int mm = syscall(UMLPY_NR_CREATE_MM);
    if (mm < 0) {
        printf("mmcalls: create_mm: %s (not running under umlpy?)\n", strerror(errno));
        return errno == ENOSYS ? 2 : 1;
    }
    check("create_mm gives an fd", mm > 2);
    int p[2];
    pipe(p);

    /* mm_indirect */
    check("mm_indirect(getpid) is the caller's pid", indirect(mm, SYS_getpid, 0, 0, 0, 0, 0, 0) == getpid());
    long a = indirect(mm, SYS_mmap, 0x40000000, 8192, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    check("mm_indirect(mmap) maps in the other mm", a == 0x40000000);
    write(p[1], "indirect!", 9);
    check("mm_indirect(read) reads into the other mm", indirect(mm, SYS_read, p[0], a, 9, 0, 0, 0) == 9);
    char back[16] = {0};
    check("mm_indirect(write) writes from the other mm", indirect(mm, SYS_write, p[1], a, 9, 0, 0, 0) == 9
          && read(p[0], back, 9) == 9 && !memcmp(back, "indirect!", 9));
    check("the caller's own memory has nothing at that address",
          err_is(write(p[1], (void *)0x40000000, 1), EFAULT));
    check("mm_indirect(munmap), then a read there is EFAULT",
          indirect(mm, SYS_munmap, a, 8192, 0, 0, 0, 0) == 0
          && err_is(indirect(mm, SYS_write, p[1], a, 1, 0, 0, 0), EFAULT));
    check("mm_indirect: an fd that is not open is EBADF",
          err_is(indirect(77, SYS_getpid, 0, 0, 0, 0, 0, 0), EBADF));
    check("mm_indirect: a pipe is not an address space (EINVAL)",
          err_is(indirect(p[0], SYS_getpid, 0, 0, 0, 0, 0, 0), EINVAL));
    check("mm_indirect: a wild call pointer is EFAULT",
          err_is(syscall(UMLPY_NR_MM_INDIRECT, mm, (void *)16), EFAULT));
    check("mm_indirect: execve cannot run indirectly (EINVAL)",
          err_is(indirect(mm, SYS_execve, 0, 0, 0, 0, 0, 0), EINVAL));

    /* /proc/mm */
    int pm = open("/proc/mm", O_RDWR);
    check("open(/proc/mm) gives a new address space", pm >= 0);
    struct proc_mm_op op;
    memset(&op, 0, sizeof op);
    op.op = MM_MMAP;
    op.u.mmap = (struct mm_mmap){0x60000000, 4096, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (unsigned long)-1, 0};
    check("MM_MMAP write returns the byte count", write(pm, &op, sizeof op) == sizeof op);
    write(p[1], "procmm", 6);
    check("the page is there (mm_indirect read into it)", indirect(pm, SYS_read, p[0], 0x60000000, 6, 0, 0, 0) == 6);
    op.op = MM_MPROTECT;
    op.u.mprotect = (struct mm_mprotect){0x60000000, 4096, PROT_READ};
    check("MM_MPROTECT to read-only", write(pm, &op, sizeof op) == sizeof op);
    write(p[1], "x", 1);
    check("a read into the read-only page is EFAULT",
          err_is(indirect(pm, SYS_read, p[0], 0x60000000, 1, 0, 0, 0), EFAULT));
    read(p[0], back, 1);
    char big[64] = {0};
    check("a write longer than proc_mm_op is EINVAL", err_is(write(pm, big, 57), EINVAL));
    op.op = 99;
    check("an unknown op is EINVAL", err_is(write(pm, &op, sizeof op), EINVAL));
    op.op = MM_MMAP;
    check("a write too short for its op is EINVAL", err_is(write(pm, &op, 16), EINVAL));
    op.u.mmap.len = 0;
    check("MM_MMAP fails as mmap would (len 0: EINVAL)", err_is(write(pm, &op, sizeof op), EINVAL));
    op.op = MM_MUNMAP;
    op.u.munmap = (struct mm_munmap){0x60000000, 4096};
    check("MM_MUNMAP with just its own struct (24 bytes)", write(pm, &op, 24) == 24);
    close(pm);

    /* switch_mm out and back, through a page shared by both address spaces */
    int f = open("/tmp/mmcalls.shared", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ftruncate(f, 8192);
    unsigned char *sh = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    memcpy(sh, away, sizeof away);
    check("the shared file maps in the other mm (code r-x, data rw-)",
          indirect(mm, SYS_mmap, T_CODE, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, f, 0) == (long)T_CODE
          && indirect(mm, SYS_mmap, T_DATA, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, f, 4096)
             == (long)T_DATA);
    int self = syscall(UMLPY_NR_CURRENT_MM);
    check("current_mm gives a way back", self > 2);
    struct user_regs_struct load;
    memset(&load, 0, sizeof load);
    load.rip = T_CODE;
    load.rsp = T_DATA + 4096;
    load.rdi = self;                  /* switch_mm(self, scratch save, the caller's saved regs) */
    load.rsi = T_DATA + 0x800;
    load.rdx = T_DATA;
    load.eflags = 0x202;
    /* The caller's registers go to the shared data page, where the other side finds them. */
    long r = syscall(UMLPY_NR_SWITCH_MM, mm, (struct user_regs_struct *)(sh + 4096), &load);
    check("switch_mm out and back returns 0", r == 0);
    check("the other side ran (its mark is in the shared page)", *(long *)(sh + 4096 + 0x100) == 0x5a5a);
    check("the other side's registers were saved on its way back",
          ((struct user_regs_struct *)(sh + 4096 + 0x800))->rdi == (unsigned long)self);
    check("switch_mm: a pipe is not an address space (EINVAL)",
          err_is(syscall(UMLPY_NR_SWITCH_MM, p[0], sh + 4096, &load), EINVAL));
    check("switch_mm: a wild load pointer is EFAULT, the caller goes on",
          err_is(syscall(UMLPY_NR_SWITCH_MM, mm, sh + 4096, (void *)16), EFAULT));
    check("switch_mm: a wild save pointer is EFAULT",
          err_is(syscall(UMLPY_NR_SWITCH_MM, mm, (void *)16, &load), EFAULT));
    check("unprivilege: a wild vcpu pointer is EFAULT", err_is(syscall(UMLPY_NR_UNPRIVILEGE, (void *)16), EFAULT));
    struct umlpy_vcpu v;
    memset(&v, 0, sizeof v);
    v.mm_fd = p[0];
    check("unprivilege: a pipe is not an address space (EINVAL)", err_is(syscall(UMLPY_NR_UNPRIVILEGE, &v), EINVAL));
    v.mm_fd = 77;
    check("unprivilege: an fd that is not open is EBADF", err_is(syscall(UMLPY_NR_UNPRIVILEGE, &v), EBADF));
    close(self);
    close(mm);
    printf("mmcalls: %d failed\n", failed);
    return failed;
}
