"""execve(2) and the start of the first process.

The new image is loaded into a fresh MM in a fresh stub; only when that has
worked does the task give up its old address space (the point of no return),
so a failing execve returns an errno to a caller that is still intact.
"""

import errno

from umlpy.abi.fcntl import AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW
from umlpy.abi.regs import USER_CS, USER_SS
from umlpy.errors import GuestLoadError, SyscallError
from umlpy.loader.elf import ElfError, load_elf, parse_elf

from . import aspace
from . import ptrace as kptrace
from .restart import REGS_SET


MAX_INTERP_DEPTH = 4
#: binfmt_script: how much of a '#!' line Linux reads (BINPRM_BUF_SIZE), how deep scripts nest.
BINPRM_BUF_SIZE = 256
MAX_SCRIPT_DEPTH = 5


def read_image(t, path: bytes, dirfd_file=None):
    """(bytes, guest path) of an executable, with open_exec's permission checks."""
    k = t.kernel
    f, guest_path = k.vfs.open_exec(k.caller(t), path, dirfd_file=dirfd_file)
    try:
        data = f.read()
    finally:
        f.close()
    return data, guest_path


def script_interp(data: bytes, filename: bytes, argv: list):
    """binfmt_script: (interpreter, new argv) of a '#!' file, None for anything else.

    As fs/binfmt_script.c: the interpreter is the first word after '#!', an
    optional single argument is the rest of the line (trimmed), and the new
    argv is [interpreter, argument?, filename, argv[1:]...] where filename is
    the path execve was given.  ENOEXEC for an empty or truncated line."""
    if data[:2] != b"#!":
        return None
    buf = data[:BINPRM_BUF_SIZE].ljust(BINPRM_BUF_SIZE, b"\0")    # zero-filled past the file's end
    nl = buf.find(b"\n")
    if nl >= 0:
        line = buf[2:nl]
    else:
        line = buf[2:BINPRM_BUF_SIZE - 1]
        name = line.lstrip(b" \t")
        if not name or not any(c in b" \t\0" for c in name):
            raise SyscallError(errno.ENOEXEC)          # all blanks, or the name is cut off
    line = line.rstrip(b" \t").lstrip(b" \t")
    end = len(line)
    for sep in (b" ", b"\t", b"\0"):
        i = line.find(sep)
        if 0 <= i < end:
            end = i
    interp = line[:end]
    if not interp:
        raise SyscallError(errno.ENOEXEC)
    arg = b""
    if end < len(line) and line[end] != 0:
        arg = line[end:].lstrip(b" \t").split(b"\0", 1)[0]
    new_argv = [interp] + ([arg] if arg else []) + [filename] + list(argv[1:])
    return interp, new_argv


def follow_scripts(t, data: bytes, guest_path: bytes, filename: bytes, argv: list):
    """(data, guest path, argv) of the ELF image at the end of a chain of '#!' scripts."""
    for _ in range(MAX_SCRIPT_DEPTH):
        res = script_interp(data, filename, argv)
        if res is None:
            return data, guest_path, argv
        interp, argv = res
        data, guest_path = read_image(t, interp)
        filename = interp
    if data[:2] == b"#!":
        raise SyscallError(errno.ELOOP)
    return data, guest_path, argv


def prepare_image(t, data: bytes, what: str):
    """Parse an image and its interpreter: (ElfImage, interp ElfImage or None)."""
    img = parse_elf(data, what)
    interp = None
    if img.interp:
        idata, _ = read_image(t, img.interp)
        interp = parse_elf(idata, img.interp.decode(errors="replace"))
        if interp.interp:
            raise ElfError("%s: the interpreter is itself dynamically linked" % what)
    return img, interp


def load_into_new_mm(t, img, interp, argv, envp, execfn: bytes):
    """A new MM holding the loaded image, and the LoadResult."""
    k = t.kernel
    mm = aspace.new_mm(k, "execve")
    try:
        res = load_elf(mm, img, argv, envp, execfn, creds=t.creds, random16=k.random_bytes(16),
                       hwcap=k.hwcap, hwcap2=k.hwcap2, interp=interp,
                       minsigstksz=k.minsigstksz)
    except BaseException:
        mm.release()
        raise
    return mm, res


def start_regs(ctx, entry: int, sp: int):
    regs = ctx.regs
    for name in ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx",
                 "rdx", "rsi", "rdi", "fs_base", "gs_base", "ds", "es", "fs", "gs"):
        setattr(regs, name, 0)
    regs.orig_rax = (1 << 64) - 1
    regs.rip = entry
    regs.rsp = sp
    regs.cs, regs.ss = USER_CS, USER_SS
    regs.eflags = 0x202
    ctx.xstate = None       # a fresh FPU state: the new stub's own


def switch_image(t, mm, res, guest_path: bytes, argv, data: bytes = b""):
    """The point of no return of execve: the task now runs the new image."""
    k = t.kernel
    g = t.group
    for other in list(g.tasks):          # de_thread: other threads die
        if other is not t:
            k.exit_task(other)
    aspace.exec_mm(t, mm)
    if g.vfork_parent is not None:
        k.make_runnable(g.vfork_parent)
        g.vfork_parent = None
    t.files.close_on_exec()
    g.handlers.reset_for_exec()
    t.sigaltstack = (0, 2, 0)
    t.rseq = None
    t.clear_child_tid = 0
    t.robust_list = (0, 0)
    t.sigframes = []
    g.exe = guest_path.decode(errors="surrogateescape")
    g.cmdline = b"".join(a + b"\0" for a in argv)
    g.image = (g.exe, data, res.load_bias)
    t.comm = guest_path.rsplit(b"/", 1)[-1][:15]
    start_regs(t.ctx, res.entry, res.sp)
    k.update_fast(t)


def do_execve(t, path: bytes, argv, envp, dirfd: int = -100, flags: int = 0):
    """Execve implements execve(2) and execveat(2)."""
    k = t.kernel
    if flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW):
        raise SyscallError(errno.EINVAL)
    dirfd_file = None
    if dirfd == -100 and not path and flags & AT_EMPTY_PATH:
        raise SyscallError(errno.EACCES)       # the current directory is no program
    if dirfd != -100:
        dirfd_file = t.files.get(dirfd)
    if not path and not flags & AT_EMPTY_PATH:
        raise SyscallError(errno.ENOENT)
    if len(path) >= 4096:
        raise SyscallError(errno.ENAMETOOLONG)
    if not path:
        # fexecve: the open file itself; the program's name is /dev/fd/N (AT_EXECFN, a
        # script's argument), as bprm->filename is on Linux.
        data, guest_path = k.vfs.read_exec_file(k.caller(t), dirfd_file)
        path = b"/dev/fd/%d" % dirfd
    else:
        data, guest_path = read_image(t, path, dirfd_file)
    data, guest_path, argv = follow_scripts(t, data, guest_path, path, argv)
    try:
        img, interp = prepare_image(t, data, guest_path.decode(errors="replace"))
    except GuestLoadError:
        raise SyscallError(errno.ENOEXEC) from None
    try:
        mm, res = load_into_new_mm(t, img, interp, argv, envp, path)
    except GuestLoadError:
        raise SyscallError(errno.E2BIG) from None
    switch_image(t, mm, res, guest_path, argv, data)
    t.group.environ = b"".join(e + b"\0" for e in envp)
    k.hooks.exec_done(t)
    if t.ptrace is not None:
        kptrace.exec_event(k, t, t.tid)
    return REGS_SET
