"""System V IPC (uapi ``linux/ipc.h``, ``linux/shm.h``, ``linux/sem.h``, ``linux/msg.h``,
x86-64 ``asm/shmbuf.h``, ``asm/sembuf.h``, ``asm/msgbuf.h``)."""

import struct

IPC_PRIVATE = 0
#: get flags
IPC_CREAT = 0o1000
IPC_EXCL = 0o2000
IPC_NOWAIT = 0o4000
#: ctl commands
IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO = 0, 1, 2, 3
#: libc ORs this into ctl commands for the 64-bit structures (the only ones on x86-64).
IPC_64 = 0x0100

#: shm
SHM_RDONLY = 0o10000
SHM_RND = 0o20000
SHM_REMAP = 0o40000
SHM_EXEC = 0o100000
SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO, SHM_STAT_ANY = 11, 12, 13, 14, 15
SHM_DEST = 0o1000          # shm_perm.mode: removed, goes with its last detach
SHM_LOCKED = 0o2000
SHMLBA = 4096
SHMMIN = 1
SHMMNI = 4096
SHMMAX = (1 << 64) - 1 - (1 << 24)
SHMALL = (1 << 64) - 1 - (1 << 24)
SHMSEG = SHMMNI

#: sem
SEM_UNDO = 0x1000
GETPID, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 13, 14, 15, 16, 17
SEM_STAT, SEM_INFO, SEM_STAT_ANY = 18, 19, 20
SEMMNI = 32000
SEMMSL = 32000
SEMMNS = SEMMNI * SEMMSL
SEMOPM = 500
SEMVMX = 32767
SEMAEM = SEMVMX
SEMUME = SEMOPM
SEMMNU = SEMMNS
SEMMAP = SEMMNS

#: msg
MSG_NOERROR = 0o10000
MSG_EXCEPT = 0o20000
MSG_COPY = 0o40000
MSG_STAT, MSG_INFO, MSG_STAT_ANY = 11, 12, 13
MSGMNI = 32000
MSGMAX = 8192
MSGMNB = 16384
MSGPOOL = MSGMNI * MSGMNB // 1024
MSGTQL = MSGMNB
MSGMAP = MSGMNB
MSGSSZ = 16
MSGSEG = 0xFFFF

#: ids are index + seq * IPCMNI (ipc_buildid)
IPCMNI = 32768

#: struct ipc64_perm: key, uid, gid, cuid, cgid, mode (u16), pad, seq (u16), pad, 2 unused.
IPC64_PERM = struct.Struct("<iIIIIHHHHIQQ")
#: struct shmid64_ds: perm, segsz, atime, dtime, ctime, cpid, lpid, nattch, 2 unused.
SHMID64_DS_TAIL = struct.Struct("<QqqqiiQQQ")
#: struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall, 4 unused.
SHMINFO64 = struct.Struct("<9Q")
#: struct shm_info: used_ids (int), shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes.
SHM_INFO_STRUCT = struct.Struct("<i4x5Q")
#: struct semid64_ds: perm, otime, unused, ctime, unused, nsems, 2 unused.
SEMID64_DS_TAIL = struct.Struct("<qQqQQQQ")
#: struct seminfo: semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem.
SEMINFO = struct.Struct("<10i")
#: struct sembuf: sem_num (u16), sem_op (s16), sem_flg (s16).
SEMBUF = struct.Struct("<Hhh")
#: struct msqid64_ds: perm, stime, rtime, ctime, cbytes, qnum, qbytes, lspid, lrpid, 2 unused.
MSQID64_DS_TAIL = struct.Struct("<qqqQQQiiQQ")
#: struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql (int), msgseg (u16).
MSGINFO = struct.Struct("<7iH2x")
