/*
 * umlpy.h - the guest ABI extensions of umlpy (see DESIGN.md, "Guest ABI
 * extensions").  umlpy/abi/extensions.py declares the same numbers and
 * layouts for the supervisor; tests/unit/abi/test_header.py checks that both
 * agree.  On a host kernel every call here fails with ENOSYS, which is how a
 * guest detects umlpy.
 *
 * Usable freestanding (-ffreestanding -nostdlib): without a hosted C library
 * (or with UMLPY_FREESTANDING defined) the header defines its own
 * struct user_regs_struct instead of including <sys/user.h>.
 */
#ifndef UMLPY_H
#define UMLPY_H

#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ && !defined(UMLPY_FREESTANDING)
#include <sys/user.h>
#else
/* x86-64 struct user_regs_struct (PTRACE_GETREGS layout), 27 unsigned longs. */
struct user_regs_struct {
	unsigned long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
	unsigned long rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs, eflags;
	unsigned long rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
#endif

/* ---- System call numbers ---------------------------------------------- */

#define __NR_umlpy_create_mm       1000 /* int create_mm(void) */
#define __NR_umlpy_mm_indirect     1001 /* long mm_indirect(int mm_fd, const struct umlpy_syscall *) */
#define __NR_umlpy_switch_mm       1002 /* long switch_mm(int mm_fd, struct user_regs_struct *save, const struct user_regs_struct *load) */
#define __NR_umlpy_new_as          1003 /* int new_as(void) */
#define __NR_umlpy_switch_as       1004 /* int switch_as(int n) */
#define __NR_umlpy_unprivilege     1005 /* long unprivilege(struct umlpy_vcpu *) */
#define __NR_umlpy_current_mm      1006 /* int current_mm(void) */
/* First-class virtual address spaces (RFC numbers 332-347, in that order). */
#define __NR_umlpy_vas_create      1008 /* int vas_create(const char *name, umode_t mode) */
#define __NR_umlpy_vas_delete      1009 /* int vas_delete(int vid) */
#define __NR_umlpy_vas_find        1010 /* int vas_find(const char *name) */
#define __NR_umlpy_vas_attach      1011 /* int vas_attach(pid_t pid, int vid, int type) */
#define __NR_umlpy_vas_detach      1012 /* int vas_detach(pid_t pid, int vid) */
#define __NR_umlpy_vas_switch      1013 /* int vas_switch(int vid) */
#define __NR_umlpy_active_vas      1014 /* int active_vas(void) */
#define __NR_umlpy_vas_getattr     1015 /* int vas_getattr(int vid, struct vas_attr *) */
#define __NR_umlpy_vas_setattr     1016 /* int vas_setattr(int vid, const struct vas_attr *) */
#define __NR_umlpy_vas_seg_create  1017 /* int vas_seg_create(const char *name, unsigned long start, unsigned long end, umode_t mode) */
#define __NR_umlpy_vas_seg_delete  1018 /* int vas_seg_delete(int sid) */
#define __NR_umlpy_vas_seg_find    1019 /* int vas_seg_find(const char *name) */
#define __NR_umlpy_vas_seg_attach  1020 /* int vas_seg_attach(int vid, int sid, int type) */
#define __NR_umlpy_vas_seg_detach  1021 /* int vas_seg_detach(int vid, int sid) */
#define __NR_umlpy_vas_seg_getattr 1022 /* int vas_seg_getattr(int sid, struct vas_seg_attr *) */
#define __NR_umlpy_vas_seg_setattr 1023 /* int vas_seg_setattr(int sid, const struct vas_seg_attr *) */

#define UMLPY_NR_CREATE_MM       __NR_umlpy_create_mm
#define UMLPY_NR_MM_INDIRECT     __NR_umlpy_mm_indirect
#define UMLPY_NR_SWITCH_MM       __NR_umlpy_switch_mm
#define UMLPY_NR_NEW_AS          __NR_umlpy_new_as
#define UMLPY_NR_SWITCH_AS       __NR_umlpy_switch_as
#define UMLPY_NR_UNPRIVILEGE     __NR_umlpy_unprivilege
#define UMLPY_NR_CURRENT_MM      __NR_umlpy_current_mm
#define UMLPY_NR_VAS_CREATE      __NR_umlpy_vas_create
#define UMLPY_NR_VAS_DELETE      __NR_umlpy_vas_delete
#define UMLPY_NR_VAS_FIND        __NR_umlpy_vas_find
#define UMLPY_NR_VAS_ATTACH      __NR_umlpy_vas_attach
#define UMLPY_NR_VAS_DETACH      __NR_umlpy_vas_detach
#define UMLPY_NR_VAS_SWITCH      __NR_umlpy_vas_switch
#define UMLPY_NR_ACTIVE_VAS      __NR_umlpy_active_vas
#define UMLPY_NR_VAS_GETATTR     __NR_umlpy_vas_getattr
#define UMLPY_NR_VAS_SETATTR     __NR_umlpy_vas_setattr
#define UMLPY_NR_VAS_SEG_CREATE  __NR_umlpy_vas_seg_create
#define UMLPY_NR_VAS_SEG_DELETE  __NR_umlpy_vas_seg_delete
#define UMLPY_NR_VAS_SEG_FIND    __NR_umlpy_vas_seg_find
#define UMLPY_NR_VAS_SEG_ATTACH  __NR_umlpy_vas_seg_attach
#define UMLPY_NR_VAS_SEG_DETACH  __NR_umlpy_vas_seg_detach
#define UMLPY_NR_VAS_SEG_GETATTR __NR_umlpy_vas_seg_getattr
#define UMLPY_NR_VAS_SEG_SETATTR __NR_umlpy_vas_seg_setattr

/* ---- Constants --------------------------------------------------------- */

/* remap_file_pages(2) flag: prot applies to these pages alone (Giarrusso). */
#define MAP_NOINHERIT 0x20000
/* mmap/mprotect prot bit: visible in unprivileged mode (unprivilege with mm_fd -1). */
#define UMLPY_PROT_UNPRIV 0x00100000

/* Longest VAS or segment name, counting the NUL. */
#define VAS_MAX_NAME_LENGTH 256

/* Address-space contexts per process for new_as/switch_as (index 0 included). */
#define UMLPY_MAX_AS_CONTEXTS 16

/* Guest ptrace requests (SKAS3/SKAS4). */
#define PTRACE_FAULTINFO    52
#define PTRACE_LDT          54
#define PTRACE_SWITCH_MM    55
#define PTRACE_EX_FAULTINFO 56

/* Operations written to /proc/mm (struct proc_mm_op.op). */
#define MM_MMAP          54
#define MM_MUNMAP        55
#define MM_MPROTECT      56
#define MM_COPY_SEGMENTS 57

/* ---- Structures (x86-64, natural alignment) ------------------------------ */

/* mm_indirect: the call to run in another address space.  56 bytes. */
struct umlpy_syscall {
	long nr;
	long args[6];
};

/* Why unprivilege() returned. */
enum {
	UMLPY_EXIT_SYSCALL = 1,
	UMLPY_EXIT_FAULT = 2,
	UMLPY_EXIT_SIGNAL = 3,
	UMLPY_EXIT_TIMEOUT = 4,
};

/* unprivilege: one unprivileged virtual CPU.  256 bytes. */
struct umlpy_vcpu {
	int mm_fd;                    /* in: where the unprivileged context runs */
	int exit_reason;              /* out: UMLPY_EXIT_* (also the call's return value) */
	unsigned long timeout_ns;     /* in: 0 = none */
	struct user_regs_struct regs; /* in/out; on EXIT_SYSCALL the call was NOT run: orig_rax holds it */
	struct {
		int signo;
		int code;
		unsigned long addr;
		int is_write;
		int trap_no;
	} info;                       /* out */
};

/* vas_getattr/vas_setattr and the segment variants.  12 bytes. */
struct vas_attr {
	unsigned int mode;
	unsigned int user;
	unsigned int group;
};
#define vas_seg_attr vas_attr

/* /proc/mm write protocol (UML SKAS3).  56 bytes; offset is in bytes. */
struct mm_mmap {
	unsigned long addr;
	unsigned long len;
	unsigned long prot;
	unsigned long flags;
	unsigned long fd;
	unsigned long offset;
};

struct mm_munmap {
	unsigned long addr;
	unsigned long len;
};

struct mm_mprotect {
	unsigned long addr;
	unsigned long len;
	unsigned int prot;
};

struct proc_mm_op {
	int op;                       /* MM_* */
	union {
		struct mm_mmap mmap;
		struct mm_munmap munmap;
		struct mm_mprotect mprotect;
		int copy_segments;    /* an mm fd */
	} u;
};

/* PTRACE_FAULTINFO result.  16 bytes. */
struct ptrace_faultinfo {
	int is_write;
	unsigned long addr;
};

/* PTRACE_EX_FAULTINFO result.  24 bytes. */
struct ptrace_ex_faultinfo {
	int is_write;
	unsigned long addr;
	int trap_no;
};

/* PTRACE_LDT argument (as modify_ldt takes it).  24 bytes. */
struct ptrace_ldt {
	int func;
	void *ptr;
	unsigned long bytecount;
};

#endif /* UMLPY_H */
