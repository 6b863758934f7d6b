"""One table line per system call, strace style: argument count, trace
classes, argument decoders, return kind.

``_BASE`` covers every x86-64 call of ``umlpy.abi.syscall_nr`` with its
argument count and its strace trace classes (``-e trace=%file`` etc., with
strace's ``%%stat``/``%%statfs`` as ``stat_like``/``statfs_like``), as
observed from strace 6.1 on x86-64 (``-e raw=all`` gives the count).  Calls
without a decoder line print every argument in hex.  ``_DECODED`` gives real
decoders to everything umlpy implements and to the guest ABI extensions
(1000-1023), which decode by name.
"""

from umlpy.abi.extensions import EXTENSION_NAMES
from umlpy.abi.fs import FADV, XATTR
from umlpy.abi.mman import MADV, MCL
from umlpy.abi.record import record
from umlpy.abi.signal import How

from . import args as a
from . import calls as c
from . import tables as t


@record(frozen=True, slots=True)
class Spec:
    """How one system call prints.

    ``args``: one decoder per argument (``args.Arg``); ``ret``: ``int``,
    ``hex``, ``fd``, ``oct``, ``none`` (``= ?``), or ``time``/``personality``
    (decorated); ``custom``: a ``calls.Custom`` for calls whose layout
    depends on an argument (it replaces ``args``).
    """

    nargs: int
    classes: frozenset
    args: tuple
    ret: str = "int"
    custom: object = None


# name nargs classes ("-": none)
_BASE = """
read 3 desc
write 3 desc
open 3 desc,file
close 1 desc
stat 2 file,stat,stat_like
fstat 2 desc,fstat,stat_like
lstat 2 file,lstat,stat_like
poll 3 desc
lseek 3 desc
mmap 6 desc,memory
mprotect 3 memory
munmap 2 memory
brk 1 memory
rt_sigaction 4 signal
rt_sigprocmask 4 signal
rt_sigreturn 0 signal
ioctl 3 desc
pread64 4 desc
pwrite64 4 desc
readv 3 desc
writev 3 desc
access 2 file
pipe 1 desc
select 5 desc
sched_yield 0 -
mremap 5 memory
msync 3 memory
mincore 3 memory
madvise 3 memory
shmget 3 ipc
shmat 3 ipc,memory
shmctl 3 ipc
dup 1 desc
dup2 2 desc
pause 0 signal
nanosleep 2 -
getitimer 2 -
alarm 1 -
setitimer 3 -
getpid 0 pure
sendfile 4 desc,network
socket 3 network
connect 3 network
accept 3 network
sendto 6 network
recvfrom 6 network
sendmsg 3 network
recvmsg 3 network
shutdown 2 network
bind 3 network
listen 2 network
getsockname 3 network
getpeername 3 network
socketpair 4 network
setsockopt 5 network
getsockopt 5 network
clone 5 process
fork 0 process
vfork 0 process
execve 3 file,process
exit 1 process
wait4 4 process
kill 2 process,signal
uname 1 -
semget 3 ipc
semop 3 ipc
semctl 4 ipc
shmdt 1 ipc,memory
msgget 2 ipc
msgsnd 4 ipc
msgrcv 5 ipc
msgctl 3 ipc
fcntl 3 desc
flock 2 desc
fsync 1 desc
fdatasync 1 desc
truncate 2 file
ftruncate 2 desc
getdents 3 desc
getcwd 2 file
chdir 1 file
fchdir 1 desc
rename 2 file
mkdir 2 file
rmdir 1 file
creat 2 desc,file
link 2 file
unlink 1 file
symlink 2 file
readlink 3 file
chmod 2 file
fchmod 2 desc
chown 3 file
fchown 3 desc
lchown 3 file
umask 1 -
gettimeofday 2 clock
getrlimit 2 -
getrusage 2 -
sysinfo 1 -
times 1 -
ptrace 4 -
getuid 0 creds,pure
syslog 3 -
getgid 0 creds,pure
setuid 1 creds
setgid 1 creds
geteuid 0 creds,pure
getegid 0 creds,pure
setpgid 2 -
getppid 0 pure
getpgrp 0 pure
setsid 0 -
setreuid 2 creds
setregid 2 creds
getgroups 2 creds
setgroups 2 creds
setresuid 3 creds
getresuid 3 creds
setresgid 3 creds
getresgid 3 creds
getpgid 1 -
setfsuid 1 creds
setfsgid 1 creds
getsid 1 -
capget 2 creds
capset 2 creds
rt_sigpending 2 signal
rt_sigtimedwait 4 signal
rt_sigqueueinfo 3 process,signal
rt_sigsuspend 2 signal
sigaltstack 2 signal
utime 2 file
mknod 3 file
uselib 1 file
personality 1 -
ustat 2 statfs_like
statfs 2 file,statfs,statfs_like
fstatfs 2 desc,fstatfs,statfs_like
sysfs 3 -
getpriority 2 -
setpriority 3 -
sched_setparam 2 -
sched_getparam 2 -
sched_setscheduler 3 -
sched_getscheduler 1 -
sched_get_priority_max 1 -
sched_get_priority_min 1 -
sched_rr_get_interval 2 -
mlock 2 memory
munlock 2 memory
mlockall 1 memory
munlockall 0 memory
vhangup 0 -
modify_ldt 3 -
pivot_root 2 file
_sysctl 1 -
prctl 5 creds
arch_prctl 2 -
adjtimex 1 clock
setrlimit 2 -
chroot 1 file
sync 0 -
acct 1 file
settimeofday 2 clock
mount 5 file
umount2 2 file
swapon 2 file
swapoff 1 file
reboot 4 -
sethostname 2 -
setdomainname 2 -
iopl 1 -
ioperm 3 -
create_module 2 -
init_module 3 -
delete_module 2 -
get_kernel_syms 1 -
query_module 5 -
quotactl 4 file
nfsservctl 3 -
getpmsg 5 network
putpmsg 5 network
afs_syscall 5 -
tuxcall 3 -
security 3 -
gettid 0 pure
readahead 3 desc
setxattr 5 file
lsetxattr 5 file
fsetxattr 5 desc
getxattr 4 file
lgetxattr 4 file
fgetxattr 4 desc
listxattr 3 file
llistxattr 3 file
flistxattr 3 desc
removexattr 2 file
lremovexattr 2 file
fremovexattr 2 desc
tkill 2 process,signal
time 1 clock
futex 6 -
sched_setaffinity 3 -
sched_getaffinity 3 -
set_thread_area 1 -
io_setup 2 memory
io_destroy 1 memory
io_getevents 5 -
io_submit 3 -
io_cancel 3 -
get_thread_area 1 -
lookup_dcookie 3 -
epoll_create 1 desc
epoll_ctl_old 4 -
epoll_wait_old 4 -
remap_file_pages 5 memory
getdents64 3 desc
set_tid_address 1 -
restart_syscall 0 -
semtimedop 4 ipc
fadvise64 4 desc
timer_create 3 -
timer_settime 4 -
timer_gettime 2 -
timer_getoverrun 1 -
timer_delete 1 -
clock_settime 2 clock
clock_gettime 2 clock
clock_getres 2 clock
clock_nanosleep 4 -
exit_group 1 process
epoll_wait 4 desc
epoll_ctl 4 desc
tgkill 3 process,signal
utimes 2 file
vserver 5 -
mbind 6 memory
set_mempolicy 3 memory
get_mempolicy 5 memory
mq_open 4 desc
mq_unlink 1 -
mq_timedsend 5 desc
mq_timedreceive 5 desc
mq_notify 2 desc
mq_getsetattr 3 desc
kexec_load 4 -
waitid 5 process
add_key 5 -
request_key 4 -
keyctl 5 -
ioprio_set 3 -
ioprio_get 2 -
inotify_init 0 desc
inotify_add_watch 3 desc,file
inotify_rm_watch 2 desc
migrate_pages 4 memory
openat 4 desc,file
mkdirat 3 desc,file
mknodat 4 desc,file
fchownat 5 desc,file
futimesat 3 desc,file
newfstatat 4 desc,file,fstat,stat_like
unlinkat 3 desc,file
renameat 4 desc,file
linkat 5 desc,file
symlinkat 3 desc,file
readlinkat 4 desc,file
fchmodat 3 desc,file
faccessat 3 desc,file
pselect6 6 desc
ppoll 5 desc
unshare 1 -
set_robust_list 2 -
get_robust_list 3 -
splice 6 desc
tee 4 desc
sync_file_range 4 desc
vmsplice 4 desc
move_pages 6 memory
utimensat 4 desc,file
epoll_pwait 6 desc
signalfd 3 desc,signal
timerfd_create 2 desc
eventfd 1 desc
fallocate 4 desc
timerfd_settime 4 desc
timerfd_gettime 2 desc
accept4 4 network
signalfd4 4 desc,signal
eventfd2 2 desc
epoll_create1 1 desc
dup3 3 desc
pipe2 2 desc
inotify_init1 1 desc
preadv 4 desc
pwritev 4 desc
rt_tgsigqueueinfo 4 process,signal
perf_event_open 5 desc
recvmmsg 5 network
fanotify_init 2 desc
fanotify_mark 5 desc,file
prlimit64 4 -
name_to_handle_at 5 desc,file
open_by_handle_at 3 desc
clock_adjtime 2 clock
syncfs 1 desc
sendmmsg 4 network
setns 2 desc
getcpu 3 -
process_vm_readv 6 -
process_vm_writev 6 -
kcmp 5 -
finit_module 3 desc
sched_setattr 3 -
sched_getattr 4 -
renameat2 5 desc,file
seccomp 3 -
getrandom 3 -
memfd_create 2 desc
kexec_file_load 5 desc
bpf 3 desc
execveat 5 desc,file,process
userfaultfd 1 desc
membarrier 3 -
mlock2 3 memory
copy_file_range 6 desc
preadv2 6 desc
pwritev2 6 desc
pkey_mprotect 4 memory
pkey_alloc 2 -
pkey_free 1 -
statx 5 desc,file,fstat,stat_like
io_pgetevents 6 -
rseq 4 -
pidfd_send_signal 4 desc,process,signal
io_uring_setup 2 desc
io_uring_enter 6 desc,signal
io_uring_register 4 desc,memory
open_tree 3 desc,file
move_mount 5 desc,file
fsopen 2 desc
fsconfig 5 desc,file
fsmount 3 desc
fspick 3 desc,file
pidfd_open 2 desc
clone3 2 process
close_range 3 -
openat2 4 desc,file
pidfd_getfd 3 desc
faccessat2 4 desc,file
process_madvise 5 desc
epoll_pwait2 6 desc
mount_setattr 5 desc,file
quotactl_fd 4 desc
landlock_create_ruleset 3 desc
landlock_add_rule 4 desc
landlock_restrict_self 2 desc
memfd_secret 1 desc
process_mrelease 2 desc
futex_waitv 5 -
set_mempolicy_home_node 4 memory
"""

_EXT_BASE = {
    "create_mm": 0, "mm_indirect": 2, "switch_mm": 3, "new_as": 0, "switch_as": 1, "unprivilege": 1,
    "current_mm": 0, "vas_create": 2, "vas_delete": 1, "vas_find": 1, "vas_attach": 3, "vas_detach": 2,
    "vas_switch": 1, "active_vas": 0, "vas_getattr": 2, "vas_setattr": 2, "vas_seg_create": 4,
    "vas_seg_delete": 1, "vas_seg_find": 1, "vas_seg_attach": 3, "vas_seg_detach": 2,
    "vas_seg_getattr": 2, "vas_seg_setattr": 2,
}
_EXT_PROCESS = {"switch_mm", "unprivilege", "switch_as", "vas_switch"}

FD, DIRFD, PATH, INT, UINT, LONG, SIZE, HEX, PTR, OCT = (
    a.FD, a.DIRFD, a.PATH, a.INT, a.UINT, a.LONG, a.SIZE, a.HEX, a.PTR, a.OCT)
AT_FLAGS = a.AT_FLAGS_ARG
OPEN_FLAGS = a.FLAGS(t.OPEN_FLAGS)

# name: (args, ret) or (custom, ret)
_DECODED = {
    # files and descriptors
    "read": ((FD, a.OUTBUF(), SIZE), "int"),
    "write": ((FD, a.INBUF(2), SIZE), "int"),
    "readv": ((FD, a.IOVEC_OUT(2), INT), "int"),
    "writev": ((FD, a.IOVEC_IN(2), INT), "int"),
    "pread64": ((FD, a.OUTBUF(), SIZE, LONG), "int"),
    "pwrite64": ((FD, a.INBUF(2), SIZE, LONG), "int"),
    "preadv": ((FD, a.IOVEC_OUT(2), INT, LONG), "int"),
    "pwritev": ((FD, a.IOVEC_IN(2), INT, LONG), "int"),
    "lseek": ((FD, LONG, a.WHENCE), "int"),
    "open": (c.OpenCall(at=False), "fd"),
    "openat": (c.OpenCall(at=True), "fd"),
    "creat": ((PATH, OCT), "fd"),
    "close": ((FD,), "int"),
    "close_range": ((UINT, UINT, a.FLAGS(t.CLOSE_RANGE_FLAGS)), "int"),
    "dup": ((FD,), "fd"),
    "dup2": ((FD, INT), "fd"),
    "dup3": ((FD, INT, OPEN_FLAGS), "fd"),
    "fcntl": (c.FcntlCall(), "int"),
    "flock": ((FD, a.FLAGS(t.FLOCK_OPS)), "int"),
    "inotify_init": ((), "fd"),
    "inotify_init1": ((a.FLAGS(t.INOTIFY_INIT_FLAGS, dflt="IN_???"),), "fd"),
    "inotify_add_watch": ((FD, PATH, a.FLAGS(t.INOTIFY_MASK, dflt="IN_???")), "int"),
    "inotify_rm_watch": ((FD, INT), "int"),
    "sendfile": ((FD, FD, a.OffsetArg(arrow=True), SIZE), "int"),
    "copy_file_range": ((FD, a.OffsetArg(), FD, a.OffsetArg(), SIZE, UINT), "int"),
    "splice": ((FD, a.OffsetArg(), FD, a.OffsetArg(), SIZE, a.FLAGS(t.SPLICE_FLAGS, dflt="SPLICE_F_???")), "int"),
    "tee": ((FD, FD, SIZE, a.FLAGS(t.SPLICE_FLAGS, dflt="SPLICE_F_???")), "int"),
    "vmsplice": ((FD, a.IOVEC_IN(2), SIZE, a.FLAGS(t.SPLICE_FLAGS, dflt="SPLICE_F_???")), "int"),
    "fallocate": ((FD, a.FLAGS(t.FALLOC_FLAGS, dflt="FALLOC_FL_???"), LONG, LONG), "int"),
    "readahead": ((FD, LONG, SIZE), "int"),
    "fadvise64": ((FD, LONG, a.ULONG, a.ENUM(t.FADVICE, "POSIX_FADV_???")), "int"),
    "mknod": (c.MknodCall(at=False), "int"),
    "mknodat": (c.MknodCall(at=True), "int"),
    "memfd_create": ((a.STR, a.FLAGS(t.MFD_FLAGS, dflt="MFD_???")), "fd"),
    "ioctl": (c.IoctlCall(), "int"),
    "pipe": ((a.PIPEFDS_OUT,), "int"),
    "pipe2": ((a.PIPEFDS_OUT, OPEN_FLAGS), "int"),
    "fstat": ((FD, a.STAT_OUT), "int"),
    "stat": ((PATH, a.STAT_OUT), "int"),
    "lstat": ((PATH, a.STAT_OUT), "int"),
    "newfstatat": ((DIRFD, PATH, a.STAT_OUT, AT_FLAGS), "int"),
    "statx": ((DIRFD, PATH, a.STATX_FLAGS, a.FLAGS(t.STATX_MASK), a.STATX_OUT), "int"),
    "statfs": ((PATH, a.STATFS_OUT), "int"),
    "fstatfs": ((FD, a.STATFS_OUT), "int"),
    "readlink": ((PATH, a.OUTBUF(), SIZE), "int"),
    "readlinkat": ((DIRFD, PATH, a.OUTBUF(), SIZE), "int"),
    "access": ((PATH, a.ACCESS_MODE), "int"),
    "faccessat": ((DIRFD, PATH, a.ACCESS_MODE), "int"),
    "faccessat2": ((DIRFD, PATH, a.ACCESS_MODE, a.FLAGS(t.AT_ACCESS_FLAGS)), "int"),
    "getdents64": ((FD, a.DIRENTS_OUT, UINT), "int"),
    "getcwd": ((a.STR_OUT, SIZE), "int"),
    "chdir": ((PATH,), "int"),
    "fchdir": ((FD,), "int"),
    "chroot": ((PATH,), "int"),
    "mkdir": ((PATH, OCT), "int"),
    "mkdirat": ((DIRFD, PATH, OCT), "int"),
    "unlink": ((PATH,), "int"),
    "unlinkat": ((DIRFD, PATH, AT_FLAGS), "int"),
    "rmdir": ((PATH,), "int"),
    "rename": ((PATH, PATH), "int"),
    "renameat": ((DIRFD, PATH, DIRFD, PATH), "int"),
    "renameat2": ((DIRFD, PATH, DIRFD, PATH, a.FLAGS(t.RENAME_FLAGS)), "int"),
    "symlink": ((PATH, PATH), "int"),
    "symlinkat": ((PATH, DIRFD, PATH), "int"),
    "link": ((PATH, PATH), "int"),
    "linkat": ((DIRFD, PATH, DIRFD, PATH, AT_FLAGS), "int"),
    "chmod": ((PATH, OCT), "int"),
    "fchmod": ((FD, OCT), "int"),
    "fchmodat": ((DIRFD, PATH, OCT), "int"),
    "chown": ((PATH, INT, INT), "int"),
    "fchown": ((FD, INT, INT), "int"),
    "lchown": ((PATH, INT, INT), "int"),
    "fchownat": ((DIRFD, PATH, INT, INT, AT_FLAGS), "int"),
    "umask": ((OCT,), "oct"),
    "truncate": ((PATH, LONG), "int"),
    "ftruncate": ((FD, LONG), "int"),
    "fsync": ((FD,), "int"),
    "fdatasync": ((FD,), "int"),
    "utimensat": ((DIRFD, PATH, a.UTIMES_IN, AT_FLAGS), "int"),
    # I/O multiplexing and event files
    "poll": (c.PollCall(ppoll=False), "int"),
    "ppoll": (c.PollCall(ppoll=True), "int"),
    "select": (c.SelectCall(pselect=False), "int"),
    "pselect6": (c.SelectCall(pselect=True), "int"),
    "epoll_create": ((INT,), "fd"),
    "epoll_create1": ((a.FLAGS(t.EPOLL_CREATE_FLAGS, dflt="EPOLL_???"),), "fd"),
    "epoll_ctl": ((FD, a.ENUM(t.EPOLL_CTL_OPS, "EPOLL_CTL_???"), FD, a.EPOLL_EVENT_IN), "int"),
    "epoll_wait": ((FD, a.EPOLL_EVENTS_OUT, INT, INT), "int"),
    "epoll_pwait": ((FD, a.EPOLL_EVENTS_OUT, INT, INT, a.SIGSET_IN(5), SIZE), "int"),
    # strace prints the timeout at exit, as an address when the call failed.
    "epoll_pwait2": ((FD, a.EPOLL_EVENTS_OUT, INT, a.TIMESPEC_OUT, a.SIGSET_IN(5), SIZE), "int"),
    "eventfd": ((UINT,), "fd"),
    "eventfd2": ((UINT, a.FLAGS(t.EFD_FLAGS, dflt="EFD_???")), "fd"),
    "timerfd_create": ((a.CLOCKID, a.FLAGS(t.TFD_FLAGS, dflt="TFD_???")), "fd"),
    "timerfd_settime": ((FD, a.FLAGS(t.TFD_TIMER_FLAGS, dflt="TFD_???"), a.ITIMERSPEC_IN, a.ITIMERSPEC_OUT),
                        "int"),
    "timerfd_gettime": ((FD, a.ITIMERSPEC_OUT), "int"),
    "signalfd": ((FD, a.SIGSET_IN(2), SIZE), "fd"),
    "signalfd4": ((FD, a.SIGSET_IN(2), SIZE, a.FLAGS(t.SFD_FLAGS, dflt="SFD_???")), "fd"),
    "getxattr": ((PATH, a.STR, a.XATTR_VALUE_OUT, SIZE), "int"),
    "lgetxattr": ((PATH, a.STR, a.XATTR_VALUE_OUT, SIZE), "int"),
    "fgetxattr": ((FD, a.STR, a.XATTR_VALUE_OUT, SIZE), "int"),
    "setxattr": ((PATH, a.STR, a.INBUF(3), SIZE, a.FLAGS(XATTR)), "int"),
    "lsetxattr": ((PATH, a.STR, a.INBUF(3), SIZE, a.FLAGS(XATTR)), "int"),
    "fsetxattr": ((FD, a.STR, a.INBUF(3), SIZE, a.FLAGS(XATTR)), "int"),
    "listxattr": ((PATH, a.XATTR_VALUE_OUT, SIZE), "int"),
    "llistxattr": ((PATH, a.XATTR_VALUE_OUT, SIZE), "int"),
    "flistxattr": ((FD, a.XATTR_VALUE_OUT, SIZE), "int"),
    "removexattr": ((PATH, a.STR), "int"),
    "lremovexattr": ((PATH, a.STR), "int"),
    "fremovexattr": ((FD, a.STR), "int"),
    # memory
    "brk": ((PTR,), "hex"),
    "mmap": ((PTR, SIZE, a.MMAP_PROT, a.MMAP_FLAGS, FD, HEX), "hex"),
    "munmap": ((PTR, SIZE), "int"),
    "mprotect": ((PTR, SIZE, a.MMAP_PROT), "int"),
    "mremap": (c.MremapCall(), "hex"),
    "madvise": ((PTR, SIZE, a.ENUM(MADV, "MADV_???")), "int"),
    "msync": ((PTR, SIZE, a.FLAGS(t.MSYNC_FLAGS)), "int"),
    "mlock": ((PTR, SIZE), "int"),
    "munlock": ((PTR, SIZE), "int"),
    "mlockall": ((a.FLAGS(MCL),), "int"),
    "mincore": ((PTR, SIZE, a.MINCORE_OUT), "int"),
    "remap_file_pages": ((PTR, SIZE, a.MMAP_PROT, SIZE, a.MMAP_FLAGS), "int"),
    "futex": (c.FutexCall(), "int"),
    # processes and credentials
    "getresuid": ((a.UINT_OUT, a.UINT_OUT, a.UINT_OUT), "int"),
    "getresgid": ((a.UINT_OUT, a.UINT_OUT, a.UINT_OUT), "int"),
    "getgroups": ((INT, a.GROUPS_OUT), "int"),
    "setgroups": ((INT, a.GROUPS_IN), "int"),
    "setuid": ((INT,), "int"),
    "setgid": ((INT,), "int"),
    "setreuid": ((INT, INT), "int"),
    "setregid": ((INT, INT), "int"),
    "setresuid": ((INT, INT, INT), "int"),
    "setresgid": ((INT, INT, INT), "int"),
    "setfsuid": ((INT,), "int"),
    "setfsgid": ((INT,), "int"),
    "getpgid": ((INT,), "int"),
    "setpgid": ((INT, INT), "int"),
    "getsid": ((INT,), "int"),
    "exit": ((INT,), "none"),
    "exit_group": ((INT,), "none"),
    "set_tid_address": ((PTR,), "int"),
    "set_robust_list": ((PTR, SIZE), "int"),
    "get_robust_list": ((INT, a.PTR_OUT, a.ULONG_OUT), "int"),
    "rseq": ((PTR, HEX, INT, HEX), "int"),
    "arch_prctl": (c.ArchPrctlCall(), "int"),
    "uname": ((a.UTSNAME_OUT,), "int"),
    "sethostname": ((a.INBUF(1), SIZE), "int"),
    "setdomainname": ((a.INBUF(1), SIZE), "int"),
    "prlimit64": ((INT, a.RLIMIT_RESOURCE, a.RLIMIT_IN, a.RLIMIT_OUT), "int"),
    "getrlimit": ((a.RLIMIT_RESOURCE, a.RLIMIT_OUT), "int"),
    "setrlimit": ((a.RLIMIT_RESOURCE, a.RLIMIT_IN), "int"),
    "getrusage": ((a.ENUM(t.RUSAGE_WHO, "RUSAGE_???", signed=True, number=str), a.RUSAGE_OUT), "int"),
    "sched_getaffinity": ((INT, UINT, a.CPUSET_OUT), "int"),
    "sched_setaffinity": ((INT, UINT, a.CPUSET_IN), "int"),
    "getcpu": ((a.UINT_OUT, a.UINT_OUT, PTR), "int"),
    "sysinfo": ((a.SYSINFO_OUT,), "int"),
    "personality": ((HEX,), "personality"),
    "prctl": (c.PrctlCall(), "int"),
    "clone": (c.CloneCall(), "int"),
    "clone3": (c.Clone3Call(), "int"),
    "execve": ((PATH, a.ARGV, a.ENVP), "int"),
    "execveat": ((DIRFD, PATH, a.ARGV, a.ENVP, AT_FLAGS), "int"),
    "wait4": (c.Wait4Call(), "int"),
    "waitid": ((a.ENUM(t.IDTYPES, "P_???"), INT, a.SIGINFO_OUT, a.FLAGS(t.WAIT_OPTIONS), a.RUSAGE_OUT), "int"),
    # signals
    "rt_sigaction": ((a.SIGNUM, a.SIGACTION_IN, a.SIGACTION_OUT, SIZE), "int"),
    "rt_sigprocmask": ((a.ENUM(How, "SIG_???"), a.SIGSET_IN(3), a.SIGSET_OUT(3), SIZE), "int"),
    "rt_sigpending": ((a.SIGSET_OUT(1), SIZE), "int"),
    "rt_sigreturn": (c.SigreturnCall(), "int"),
    "rt_sigsuspend": ((a.SIGSET_IN(1), SIZE), "int"),
    "sigaltstack": ((a.STACK_T_IN, a.STACK_T_OUT), "int"),
    "kill": ((INT, a.SIGNUM), "int"),
    "tkill": ((INT, a.SIGNUM), "int"),
    "tgkill": ((INT, INT, a.SIGNUM), "int"),
    # time
    "clock_gettime": ((a.CLOCKID, a.TIMESPEC_OUT), "int"),
    "clock_getres": ((a.CLOCKID, a.TIMESPEC_OUT), "int"),
    "gettimeofday": ((a.TIMEVAL_OUT, PTR), "int"),
    "time": ((a.TIME_OUT,), "time"),
    "nanosleep": ((a.TIMESPEC_IN, a.REM_OUT), "int"),
    "clock_nanosleep": ((a.CLOCKID, a.FLAGS(t.TIMER_FLAGS), a.TIMESPEC_IN, a.REM_OUT), "int"),
    "getrandom": ((a.OUTBUF(hexall=True), SIZE, a.FLAGS(t.GRND_FLAGS)), "int"),
    "times": ((a.TMS_OUT,), "int"),
    # guest ABI extensions
    "create_mm": ((), "fd"),
    "mm_indirect": ((FD, a.UMLPY_SYSCALL_IN), "int"),
    "switch_mm": ((FD, PTR, PTR), "int"),
    "new_as": ((), "int"),
    "switch_as": ((INT,), "int"),
    "unprivilege": ((PTR,), "int"),
    "current_mm": ((), "fd"),
    "vas_create": ((a.STR, OCT), "int"),
    "vas_delete": ((INT,), "int"),
    "vas_find": ((a.STR,), "int"),
    "vas_attach": ((INT, INT, INT), "int"),
    "vas_detach": ((INT, INT), "int"),
    "vas_switch": ((INT,), "int"),
    "active_vas": ((), "int"),
    "vas_getattr": ((INT, a.VAS_ATTR_OUT), "int"),
    "vas_setattr": ((INT, a.VAS_ATTR_IN), "int"),
    "vas_seg_create": ((a.STR, PTR, PTR, OCT), "int"),
    "vas_seg_delete": ((INT,), "int"),
    "vas_seg_find": ((a.STR,), "int"),
    "vas_seg_attach": ((INT, INT, INT), "int"),
    "vas_seg_detach": ((INT, INT), "int"),
    "vas_seg_getattr": ((INT, a.VAS_ATTR_OUT), "int"),
    "vas_seg_setattr": ((INT, a.VAS_ATTR_IN), "int"),
}


def _build() -> dict:
    base = {}
    for line in _BASE.split("\n"):
        if line.strip():
            name, n, cls = line.split()
            base[name] = (int(n), frozenset() if cls == "-" else frozenset(cls.split(",")))
    for name, n in _EXT_BASE.items():
        base[name] = (n, frozenset({"memory"} | ({"process"} if name in _EXT_PROCESS else set())))
    specs = {}
    for name, (n, cls) in base.items():
        dec = _DECODED.get(name)
        if dec is None:
            specs[name] = Spec(n, cls, (HEX,) * n)
        elif isinstance(dec[0], c.Custom):
            specs[name] = Spec(n, cls, (HEX,) * n, dec[1], dec[0])
        else:
            args = dec[0]
            if len(args) != n:
                raise ValueError("spec of %s: %d decoders for %d arguments" % (name, len(args), n))
            specs[name] = Spec(n, cls, args, dec[1])
    missing = set(_DECODED) - set(specs)
    if missing:
        raise ValueError("decoders for unknown calls: %s" % ", ".join(sorted(missing)))
    assert set(EXTENSION_NAMES.values()) <= set(specs)
    return specs


#: name -> Spec, for every host syscall and every extension call.
SPECS: dict[str, Spec] = _build()

_UNKNOWN = Spec(6, frozenset(), (HEX,) * 6)


def unknown_spec() -> Spec:
    """The spec of a number with no name: six arguments in hex."""
    return _UNKNOWN
