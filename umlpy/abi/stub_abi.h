/*
 * The contract between the supervisor and a stub process: where the stub
 * lives and the layout of its control pages, declared here once.  Included
 * by csrc/stub.c and csrc/shim.c; the cffi cdef of the shim is made from it
 * (csrc/shim_build.py) and Python reads it at import (umlpy/abi/stub.py), so
 * it ships inside the package.  tests/unit/platform/test_stub_abi.py checks
 * that gcc, cffi and Python agree on every value, offset and size.
 *
 * Only plain integer #defines and structs of integer fields, arrays and
 * structs here: cffi and umlpy/abi/stub.py parse this file as is.
 * csrc/stub.lds repeats STUB_CODE as the link address (checked by the test).
 *
 * A stub is two host processes sharing one address space (CLONE_VM): the
 * main one runs guest code under PTRACE_SYSEMU and may make no host system
 * call at all (its seccomp filter kills it); the mapper runs the host
 * mmap/munmap/mprotect batches the supervisor asks for, and nothing else.
 * The mapper reads its orders from STUB_REQ, mapped read-only in the stub
 * (the guest can read it, never forge it); it reports in STUB_DATA.
 */
#define STUB_CODE          0x7ffb00000000UL  /* text, linked here (stub.lds): below the
                                                host's 16 GiB stack randomization window */
#define STUB_CODE_SIZE     0x10000UL         /* seccomp allows syscalls here only */
#define STUB_DATA          0x7ffb00100000UL  /* read-write: struct stub_data and stacks */
#define STUB_DATA_SIZE     0x10000UL
#define STUB_REQ           0x7ffb00110000UL  /* read-only in the stub: struct stub_req */
#define STUB_REQ_SIZE      0x10000UL
#define STUB_SLOT_SIZE     0x20000UL         /* physmem per stub: the STUB_DATA part, then STUB_REQ's */
#define STUB_MAIN_STACK    0x7ffb00104000UL  /* top of the main process's stack */
#define STUB_MAPPER_STACK  0x7ffb00108000UL  /* top of the mapper's stack */
#define STUB_ALTSTACK      0x7ffb00108000UL  /* the main process's signal stack (fault info) */
#define STUB_ALTSTACK_SIZE 0x8000UL
#define STUB_PHYSMEM_FD    3
#define STUB_MAGIC         0x62757473796d6c75UL /* "umlystub" */
#define STUB_MAX_OPS       256

struct stub_op {
    long nr;          /* host syscall number: mmap, munmap or mprotect */
    long args[6];
    long result;      /* unused: the mapper cannot write here */
};

/* Written by the supervisor only (read-only in the stub). */
struct stub_req {
    unsigned long seq;          /* a new value (its low 32 bits: a futex word) orders a batch */
    long nops;                  /* ops to run */
    long reserved[6];
    struct stub_op ops[STUB_MAX_OPS];
};

/* Written by the stub; the supervisor reads it only while no guest code runs. */
struct stub_data {
    unsigned long magic;        /* STUB_MAGIC once the stub is up                      */
    long mapper_pid;            /* the mapper process (its pid, set at start-up)       */
    unsigned long done_seq;     /* the mapper: seq of the last batch run (futex word)  */
    long ndone;                 /* ops of that batch that succeeded                    */
    long err;                   /* 0, or the -errno of op[ndone]                       */
    unsigned long fault_err;    /* SIGSEGV handler: the page-fault error code,         */
    unsigned long fault_trapno; /*   trap number                                       */
    unsigned long fault_addr;   /*   and cr2, of the fault the supervisor asked about  */
    unsigned long fault_count;  /*   bumped by each such report                        */
    long reserved[7];
};
