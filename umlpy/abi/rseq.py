"""rseq(2) and the set*id calls' "no change" value (include/uapi/linux/rseq.h,
kernel/sys.c)."""

#: sizeof(struct rseq) as registered (the original 32-byte ABI).
RSEQ_SIZE = 32
#: rseq flags: unregister the area.
RSEQ_FLAG_UNREGISTER = 1
#: setresuid/setresgid/setreuid...: (uid_t)-1 leaves that id unchanged.
ID_NOCHANGE = 0xFFFFFFFF
