"""The i386 system calls a guest may make with ``int $0x80`` from 64-bit code.

Linux decodes ``int $0x80`` with the i386 numbers (syscall_nr_i386) and the
i386 registers (ebx, ecx, edx, esi, edi, ebp; 32 bits each) whatever the
caller's mode.  umlpy serves those whose arguments and results mean the same
on both ABIs through the x86-64 handler of the same call (CALLS below); every
other i386 number answers ENOSYS (structures laid out for 32 bits: stat,
time_t, old mmap, execve's pointer arrays, 16-bit uid calls...).

Each entry: i386 name -> (x86-64 name, argument kinds), one letter per
argument of the x86-64 call: ``s`` a signed 32-bit value (int, pid_t: sign-
extended), ``u`` unsigned or a pointer (zero-extended: an i386 pointer is 32
bits), ``0`` the constant 0 (an argument the i386 call does not have).
"""

from .syscall_nr import NR
from .syscall_nr_i386 import NR_I386

#: i386 name -> (x86-64 name, argument kinds).
CALLS = {
    "exit": ("exit", "s"),
    "fork": ("fork", ""),
    "read": ("read", "suu"),
    "write": ("write", "suu"),
    "open": ("open", "usu"),
    "close": ("close", "s"),
    "waitpid": ("wait4", "sus0"),
    "creat": ("creat", "uu"),
    "link": ("link", "uu"),
    "unlink": ("unlink", "u"),
    "chdir": ("chdir", "u"),
    "chmod": ("chmod", "uu"),
    "getpid": ("getpid", ""),
    "access": ("access", "us"),
    "sync": ("sync", ""),
    "kill": ("kill", "ss"),
    "rename": ("rename", "uu"),
    "mkdir": ("mkdir", "uu"),
    "rmdir": ("rmdir", "u"),
    "dup": ("dup", "u"),
    "pipe": ("pipe", "u"),
    "brk": ("brk", "u"),
    "setpgid": ("setpgid", "ss"),
    "umask": ("umask", "u"),
    "chroot": ("chroot", "u"),
    "dup2": ("dup2", "uu"),
    "getppid": ("getppid", ""),
    "getpgrp": ("getpgrp", ""),
    "setsid": ("setsid", ""),
    "symlink": ("symlink", "uu"),
    "readlink": ("readlink", "uus"),
    "munmap": ("munmap", "uu"),
    "fchmod": ("fchmod", "uu"),
    "fsync": ("fsync", "u"),
    "mprotect": ("mprotect", "uuu"),
    "getpgid": ("getpgid", "s"),
    "fchdir": ("fchdir", "u"),
    "flock": ("flock", "uu"),
    "getsid": ("getsid", "s"),
    "fdatasync": ("fdatasync", "u"),
    "mlock": ("mlock", "uu"),
    "munlock": ("munlock", "uu"),
    "mlockall": ("mlockall", "s"),
    "munlockall": ("munlockall", ""),
    "sched_yield": ("sched_yield", ""),
    "mremap": ("mremap", "uuuuu"),
    "poll": ("poll", "uus"),
    "getcwd": ("getcwd", "uu"),
    "vfork": ("vfork", ""),
    "madvise": ("madvise", "uus"),
    "getuid32": ("getuid", ""),
    "getgid32": ("getgid", ""),
    "geteuid32": ("geteuid", ""),
    "getegid32": ("getegid", ""),
    "setreuid32": ("setreuid", "uu"),
    "setregid32": ("setregid", "uu"),
    "fchown32": ("fchown", "uuu"),
    "setresuid32": ("setresuid", "uuu"),
    "getresuid32": ("getresuid", "uuu"),
    "setresgid32": ("setresgid", "uuu"),
    "getresgid32": ("getresgid", "uuu"),
    "chown32": ("chown", "uuu"),
    "lchown32": ("lchown", "uuu"),
    "setuid32": ("setuid", "u"),
    "setgid32": ("setgid", "u"),
    "gettid": ("gettid", ""),
    "tkill": ("tkill", "ss"),
    "exit_group": ("exit_group", "s"),
    "set_tid_address": ("set_tid_address", "u"),
    "tgkill": ("tgkill", "sss"),
    "openat": ("openat", "susu"),
    "mkdirat": ("mkdirat", "suu"),
    "unlinkat": ("unlinkat", "sus"),
    "renameat": ("renameat", "susu"),
    "linkat": ("linkat", "susus"),
    "symlinkat": ("symlinkat", "usu"),
    "readlinkat": ("readlinkat", "suus"),
    "fchmodat": ("fchmodat", "suu"),
    "faccessat": ("faccessat", "sus"),
    "dup3": ("dup3", "uus"),
    "pipe2": ("pipe2", "us"),
    "getrandom": ("getrandom", "uuu"),
    "memfd_create": ("memfd_create", "uu"),
}

#: i386 number -> (x86-64 number, argument kinds), for the calls above.
BY_I386_NR: dict[int, tuple[int, str]] = {
    NR_I386[i386]: (getattr(NR, x86_64), kinds) for i386, (x86_64, kinds) in CALLS.items()}
