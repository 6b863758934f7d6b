/*
 * The contract between the supervisor and a stub process: where the stub
 * lives and the layout of its control page, declared here once.  Included
 * by csrc/stub.c and csrc/shim.c; the cffi cdef of the shim is made from it
 * (csrc/shim_build.py) and Python reads it at import (umlpy/abi/stub.py), so
 * it ships inside the package.  tests/unit/platform/test_stub_abi.py checks
 * that gcc, cffi and Python agree on every value, offset and size.
 *
 * Only plain integer #defines and structs of integer fields, arrays and
 * structs here: cffi and umlpy/abi/stub.py parse this file as is.
 * csrc/stub.lds repeats STUB_CODE as the link address (checked by the test).
 */
#define STUB_CODE          0x7ffb00000000UL  /* text, linked here (stub.lds): below the
                                                host's 16 GiB stack randomization window */
#define STUB_CODE_SIZE     0x10000UL         /* seccomp allows syscalls here only */
#define STUB_DATA          0x7ffb00100000UL  /* control page + stack, MAP_SHARED */
#define STUB_DATA_SIZE     0x10000UL
#define STUB_PHYSMEM_FD    3
#define STUB_MAGIC         0x62757473796d6c75UL /* "umlystub" */
#define STUB_MAX_OPS       256

struct stub_op {
    long nr;          /* host syscall number: mmap, munmap or mprotect */
    long args[6];
    long result;      /* written by the stub */
};

struct stub_data {
    unsigned long magic;        /* STUB_MAGIC once the stub is up            */
    unsigned long entry_batch;  /* address of the batch entry point          */
    long nops;                  /* in: number of ops to run                  */
    long ndone;                 /* out: ops that succeeded                   */
    long err;                   /* out: 0, or the -errno of op[ndone]        */
    long reserved[3];
    struct stub_op ops[STUB_MAX_OPS];
};
