/*
 * The C core of the ptrace platform (cffi API mode).  See shim.c.
 * Everything between the "cdef" markers is also parsed by cffi.
 */
#include <sys/user.h>
#include "stub_abi.h"

/* cdef-begin */
#define SHIM_NR_FAST 512
/* shim_batch: -(SHIM_BATCH_BROKEN + errno) when the batch could not be run at all. */
#define SHIM_BATCH_BROKEN 4096

enum shim_stop_kind {
    SHIM_SYSCALL = 1,
    SHIM_FAULT = 2,
    SHIM_SIGNAL = 3,
    SHIM_EXIT = 4,
    SHIM_PREEMPT = 5,
    SHIM_INTERRUPT = 6,
    SHIM_TRACE_FULL = 7,
    /* shim_switch's return value (never stop->kind) for a SHIM_SYSCALL stop
     * whose entry is not the syscall instruction: the caller reads stop->entry. */
    SHIM_SYSCALL_OTHER_ENTRY = 16,
};

/* How a SHIM_SYSCALL stop entered the kernel. */
enum shim_entry {
    SHIM_ENTRY_SYSCALL = 0,  /* the syscall instruction: x86-64 numbers and registers */
    SHIM_ENTRY_INT80 = 1,    /* int $0x80 from 64-bit code: i386 numbers and registers */
    SHIM_ENTRY_VSYSCALL = 2, /* a call into the legacy vsyscall page */
};

struct shim_stop {
    int kind;
    int signo;
    int code;
    int is_write;
    int trap_no;
    int status;
    int err;                 /* host errno when a ptrace request or a host batch failed */
    int entry;               /* enum shim_entry, for SHIM_SYSCALL */
    unsigned long addr;
};

/* One syscall answered inside the run loop, for the tracer. */
struct shim_trace_ent {
    long nr;
    long ret;
    long t_ns;               /* CLOCK_MONOTONIC at the stop */
};

/* A guest register set plus its fast-path answers. */
struct shim_ctx {
    struct user_regs_struct regs;
    long fast_val[SHIM_NR_FAST];
    unsigned char fast_ok[SHIM_NR_FAST];
    long fast_budget;        /* fast answers allowed per switch; then go to Python */
    long fast_count;         /* out: fast answers given in the last switch */
    struct shim_trace_ent *ring;  /* NULL when tracing is off */
    long ring_cap;
    long ring_len;
    struct shim_stop stop;   /* the last stop, filled by shim_switch */
};

/* A stub (its main process, which runs guest code, and its mapper). */
struct shim_as {
    int pid;
    int mapper_pid;
    int running;             /* the stub runs guest code; do not touch registers */
    int dead;
    int status;              /* wait status once dead */
    int preempt_pending;     /* we sent SIGSTOP to end a time slice */
    int fault_stop;          /* stopped at a guest page fault whose error code can be asked */
    int fault_info_broken;   /* the stub failed to report a fault once: never ask again */
    int supervisor_pid;
    unsigned int seq;        /* the last batch ordered */
    long host_signals;       /* host signals sent to the stub by others, dropped */
    long batches;            /* batches run */
    char *data;              /* the stub's STUB_DATA, in the supervisor's mapping of physmem */
    char *req;               /* its STUB_REQ, likewise */
    struct user_regs_struct shadow;      /* what the stub's registers are now, if shadow_ok */
    int shadow_ok;
};

long shim_attach(struct shim_as *as);
int shim_switch(struct shim_as *as, struct shim_ctx *ctx, struct shim_stop *stop);
long shim_batch(struct shim_as *as);
long shim_fault_info(struct shim_as *as, struct shim_stop *stop);
long shim_preempt(struct shim_as *as);
int shim_alive(struct shim_as *as);
long shim_get_xstate(int pid, void *buf, long size);
long shim_set_xstate(int pid, void *buf, long size);
long shim_getregs(int pid, struct user_regs_struct *regs);
long shim_setregs(int pid, struct user_regs_struct *regs);
void shim_kill(struct shim_as *as);
/* cdef-end */
