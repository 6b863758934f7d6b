"""ptrace(2) and its requests; process_vm_readv/process_vm_writev.

The tracer/tracee bookkeeping and the stops are :mod:`umlpy.kernel.ptrace`;
this module reads and writes a stopped tracee's registers and memory for the
tracer, as arch/x86/kernel/ptrace.c and kernel/ptrace.c do, with their
errnos: ESRCH for a task that is not a stopped tracee of the caller
(ptrace_check_attach), EIO for a bad request, offset or signal, EFAULT for
the tracer's own bad pointers, EPERM for attach refusals.
"""

import errno
import struct

from umlpy.abi import extensions as X
from umlpy.abi import ptrace as P
from umlpy.abi.signal import SiCode
from umlpy.abi.regs import REG_OFFSET, USER_REGS_FIELDS, USER_REGS_SIZE
from umlpy.errors import SyscallError
from umlpy.kernel import aspace
from umlpy.kernel import ptrace as kptrace
from umlpy.kernel import signals as sigs
from umlpy.kernel.sigframe import pack_siginfo
from umlpy.kernel.task import TaskState

from .ldt import ldt_op
from .mmext import load_user_regs, mm_of_fd, pack_user_regs
from .table import partial

E = SyscallError
_M64 = (1 << 64) - 1
_REG_AT = {off: name for name, off in REG_OFFSET.items()}
_SEGS = ("cs", "ss", "ds", "es", "fs", "gs")
_FS_BASE, _GS_BASE, _EFLAGS = (USER_REGS_FIELDS.index(n) for n in ("fs_base", "gs_base", "eflags"))
TASK_SIZE_MAX = (1 << 47) - 4096
IOV_MAX = 1024
SIGINFO_SIZE = 128
SI_KERNEL = int(SiCode.SI_KERNEL)
_RESUME = {P.PTRACE_CONT: kptrace.Resume.CONT, P.PTRACE_SYSCALL: kptrace.Resume.SYSCALL,
           P.PTRACE_SYSEMU: kptrace.Resume.SYSEMU, P.PTRACE_SINGLESTEP: kptrace.Resume.SINGLESTEP,
           P.PTRACE_SYSEMU_SINGLESTEP: kptrace.Resume.SYSEMU_SINGLESTEP}


def _tracee(t, pid: int, stopped: bool = True):
    """ptrace_check_attach: ``pid`` must be traced by ``t`` (and in a ptrace stop)."""
    target = t.kernel.tasks.get(pid)
    if target is None or target.ptrace is None or target.ptrace.tracer is not t:
        raise E(errno.ESRCH)
    if stopped and not (target.ptrace.stopped and target.state is TaskState.STOPPED):
        raise E(errno.ESRCH)
    return target


def _attach(t, pid: int, req: int, addr: int, data: int) -> int:
    k = t.kernel
    target = k.tasks.get(pid)
    if target is None:
        raise E(errno.ESRCH)
    if req == P.PTRACE_SEIZE:
        if addr != 0:
            raise E(errno.EIO)
        if data & ~P.PTRACE_O_MASK:
            raise E(errno.EINVAL)
    if target.group is t.group or target.ptrace is not None or not kptrace.may_attach(t, target):
        raise E(errno.EPERM)
    if req == P.PTRACE_SEIZE:
        kptrace.attach(k, t, target, data, seized=True)
        return 0
    kptrace.attach(k, t, target)
    if target.state is TaskState.STOPPED and target.stop is kptrace.StopAt.JOB:
        kptrace.interrupt(k, target)           # already stopped: a traced stop at once
        target.ptrace.exit_code = sigs.SIGSTOP
    else:
        k.send_signal(target, sigs.SIGSTOP, (sigs.SIGSTOP, SI_KERNEL, 0, 0, 0))   # SEND_SIG_PRIV
    return 0


def _traceme(t) -> int:
    parent = t.group.parent
    if t.ptrace is not None or parent is None or parent.leader is None:
        raise E(errno.EPERM)
    kptrace.attach(t.kernel, parent.leader, t)
    return 0


# --- registers ------------------------------------------------------------------

def _getreg(target, off: int) -> int:
    name = _REG_AT[off]
    return getattr(target.ctx.regs, name)


def _putreg(target, off: int, value: int):
    """putreg(): segment selectors must be user ones, bases canonical, eflags masked."""
    name = _REG_AT[off]
    regs = target.ctx.regs
    if name in _SEGS:
        if value & 0xFFFF != getattr(regs, name) & 0xFFFF and value & 3 != 3 and value != 0:
            raise E(errno.EIO)
        return                                # the stub's selectors stay (64-bit user segments)
    if name in ("fs_base", "gs_base") and value >= TASK_SIZE_MAX:
        raise E(errno.EIO)
    if name == "eflags":
        value = (regs.eflags & ~P.FLAG_MASK) | (value & P.FLAG_MASK)
        if value & P.X86_EFLAGS_TF:
            target.ptrace.forced_tf = False
    setattr(regs, name, value & _M64)


def _setregs(target, raw: bytes):
    vals = struct.unpack("<27Q", raw)
    if vals[_FS_BASE] >= TASK_SIZE_MAX or vals[_GS_BASE] >= TASK_SIZE_MAX:
        raise E(errno.EIO)
    load_user_regs(target.ctx, vals)
    if vals[_EFLAGS] & P.X86_EFLAGS_TF:
        target.ptrace.forced_tf = False


def _default_fxsave() -> bytearray:
    img = bytearray(P.FXSAVE_SIZE)
    struct.pack_into("<H", img, 0, 0x37F)          # fcw
    struct.pack_into("<I", img, 24, 0x1F80)        # mxcsr
    struct.pack_into("<I", img, 28, 0xFFFF)        # mxcsr_mask
    return img


def _xstate(target) -> bytes:
    img = target.ctx.xstate_snapshot(target.mm.host)
    if img is None:
        return bytes(_default_fxsave())
    return bytes(img)


def _set_xstate(target, data: bytes, fx_only: bool):
    cur = bytearray(target.ctx.xstate_snapshot(target.mm.host) or _default_fxsave())
    if fx_only:
        data = data[:P.FXSAVE_SIZE]
    if struct.unpack_from("<I", data, 24)[0] & ~0xFFFF:   # reserved mxcsr bits
        raise E(errno.EINVAL)
    n = min(len(data), len(cur))
    keep_sw = bytes(cur[464:512])
    cur[:n] = data[:n]
    cur[464:512] = keep_sw                            # software-reserved bytes are the kernel's
    if len(cur) >= 520:
        bv = struct.unpack_from("<Q", cur, 512)[0]
        struct.pack_into("<Q", cur, 512, bv | 3)      # x87 and SSE state are given
    target.ctx.xstate_restore(target.mm.host, bytes(cur))


def _regset(t, target, req, note: int, iov_addr: int) -> int:
    base, length = struct.unpack("<QQ", t.mm.read(iov_addr, 16))
    if note == P.NT_PRSTATUS:
        whole, size = pack_user_regs(target.ctx), USER_REGS_SIZE
    elif note == P.NT_PRFPREG:
        whole, size = _xstate(target)[:P.FXSAVE_SIZE], P.FXSAVE_SIZE
    elif note == P.NT_X86_XSTATE:
        whole = _xstate(target)
        size = len(whole)
    else:
        raise E(errno.EINVAL)
    n = min(length, size)
    if req == P.PTRACE_GETREGSET:
        t.mm.write(base, whole[:n])
    else:
        raw = t.mm.read(base, n)
        if note == P.NT_PRSTATUS:
            if n != size:
                raise E(errno.EINVAL)
            _setregs(target, raw)
        else:
            if n < P.FXSAVE_SIZE:
                raise E(errno.EINVAL)
            _set_xstate(target, raw, note == P.NT_PRFPREG)
    t.mm.write(iov_addr + 8, struct.pack("<Q", n))
    return 0


def _syscall_info(t, target, size: int, ptr: int) -> int:
    tr = target.ptrace
    regs = target.ctx.regs
    op = tr.sysinfo[0] if tr.exit_code & P.SYSGOOD_BIT else P.PTRACE_SYSCALL_INFO_NONE
    head = struct.pack("<B3xIQQ", op, P.AUDIT_ARCH_X86_64, regs.rip, regs.rsp)
    if op == P.PTRACE_SYSCALL_INFO_ENTRY:
        body = struct.pack("<Q6Q", tr.sysinfo[1], *tr.sysinfo[2])
    elif op == P.PTRACE_SYSCALL_INFO_EXIT:
        body = struct.pack("<qB", tr.sysinfo[1], tr.sysinfo[2])
    else:
        body = b""
    info = head + body
    if size:
        t.mm.write(ptr, info[:size])
    return len(info)


# --- memory ------------------------------------------------------------------------

def _peek(target, addr: int, n: int = 8) -> bytes:
    try:
        return target.mm.read(addr, n)
    except SyscallError:
        raise E(errno.EIO) from None


def _poke(target, addr: int, data: bytes):
    try:
        target.mm.poke(addr, data)
    except SyscallError:
        raise E(errno.EIO) from None


def ptrace(t, a):
    """Ptrace implements ptrace(2)."""
    req, pid, addr, data = a.long(0), a.int(1), a.u64(2), a.u64(3)
    k = t.kernel
    if req == P.PTRACE_TRACEME:
        return _traceme(t)
    if req in (P.PTRACE_ATTACH, P.PTRACE_SEIZE):
        return _attach(t, pid, req, addr, data)
    if req == P.PTRACE_KILL:
        target = _tracee(t, pid, stopped=False)
        k.send_signal(target.group, sigs.SIGKILL)
        return 0
    if req == P.PTRACE_INTERRUPT:
        target = _tracee(t, pid, stopped=False)
        if not target.ptrace.seized:
            raise E(errno.EIO)
        kptrace.interrupt(k, target)
        return 0
    target = _tracee(t, pid)
    tr = target.ptrace
    if req == P.PTRACE_LISTEN:
        if not tr.seized or target.stop is not kptrace.StopAt.GROUP:
            raise E(errno.EIO)
        kptrace.listen(k, target)
        return 0
    if req in _RESUME:
        kptrace.resume_tracee(k, target, _RESUME[req], data)
        return 0
    if req == P.PTRACE_DETACH:
        if data > 64:
            raise E(errno.EIO)
        kptrace.detach(k, target, data)
        return 0
    if req in (P.PTRACE_PEEKTEXT, P.PTRACE_PEEKDATA):
        t.mm.write(data, _peek(target, addr))
        return 0
    if req in (P.PTRACE_POKETEXT, P.PTRACE_POKEDATA):
        _poke(target, addr, struct.pack("<Q", data))
        return 0
    if req == P.PTRACE_PEEKUSR:
        if addr & 7 or addr >= P.USER_SIZE:
            raise E(errno.EIO)
        val = _getreg(target, addr) if addr < USER_REGS_SIZE else 0
        t.mm.write(data, struct.pack("<Q", val))
        return 0
    if req == P.PTRACE_POKEUSR:
        if addr & 7 or addr >= P.USER_SIZE:
            raise E(errno.EIO)
        if addr < USER_REGS_SIZE:
            _putreg(target, addr, data)
            return 0
        if P.USER_DEBUGREG_OFFSET <= addr < P.USER_DEBUGREG_OFFSET + 64:
            return 0                           # no debug registers: writes are accepted, no effect
        raise E(errno.EIO)
    if req == P.PTRACE_GETREGS:
        t.mm.write(data, pack_user_regs(target.ctx))
        return 0
    if req == P.PTRACE_SETREGS:
        _setregs(target, t.mm.read(data, USER_REGS_SIZE))
        return 0
    if req == P.PTRACE_GETFPREGS:
        t.mm.write(data, _xstate(target)[:P.FXSAVE_SIZE])
        return 0
    if req == P.PTRACE_SETFPREGS:
        _set_xstate(target, t.mm.read(data, P.FXSAVE_SIZE), True)
        return 0
    if req in (P.PTRACE_GETREGSET, P.PTRACE_SETREGSET):
        return _regset(t, target, req, addr, data)
    if req == P.PTRACE_GETSIGINFO:
        info = tr.siginfo or (0, 0, 0, 0, 0)
        t.mm.write(data, pack_siginfo(*info, sigs.sender_uid(k, target, info[0], info)))
        return 0
    if req == P.PTRACE_SETSIGINFO:
        raw = t.mm.read(data, SIGINFO_SIZE)
        signo, _, code = struct.unpack_from("<iii", raw)
        addr_or_pid = struct.unpack_from("<Q", raw, 16)[0]
        pid_, status = struct.unpack_from("<i4xi", raw, 16)
        tr.siginfo = (signo, code, addr_or_pid, pid_, status)
        return 0
    if req == P.PTRACE_PEEKSIGINFO:
        return _peeksiginfo(t, target, addr, data)
    if req == P.PTRACE_SETOPTIONS:
        if data & ~P.PTRACE_O_MASK:
            raise E(errno.EINVAL)
        tr.options = data
        return 0
    if req == P.PTRACE_GETEVENTMSG:
        t.mm.write(data, struct.pack("<Q", tr.eventmsg))
        return 0
    if req == P.PTRACE_GET_SYSCALL_INFO:
        return _syscall_info(t, target, addr, data)
    if req == P.PTRACE_GETSIGMASK:
        if addr != 8:
            raise E(errno.EINVAL)
        t.mm.write(data, struct.pack("<Q", target.sigmask))
        return 0
    if req == P.PTRACE_SETSIGMASK:
        if addr != 8:
            raise E(errno.EINVAL)
        target.sigmask = struct.unpack("<Q", t.mm.read(data, 8))[0] & ~sigs.UNBLOCKABLE
        return 0
    if req == P.PTRACE_ARCH_PRCTL:
        return _arch_prctl(t, target, addr, data)
    if req in (X.PTRACE_FAULTINFO, X.PTRACE_EX_FAULTINFO):
        is_write, fault_addr, trap_no = target.last_fault
        if req == X.PTRACE_FAULTINFO:
            raw = X.PTRACE_FAULTINFO_STRUCT.pack({"is_write": is_write, "addr": fault_addr})
        else:
            raw = X.PTRACE_EX_FAULTINFO_STRUCT.pack({"is_write": is_write, "addr": fault_addr,
                                                     "trap_no": trap_no})
        t.mm.write(data, raw)
        return 0
    if req == X.PTRACE_LDT:
        # SKAS3: modify_ldt on the tracee's mm, its buffer in the tracer's memory.
        ld = X.PTRACE_LDT_STRUCT.unpack(t.mm.read(data, X.PTRACE_LDT_STRUCT.size))
        return ldt_op(target.mm, t.mm, ld["func"], ld["ptr"], ld["bytecount"])
    if req == X.PTRACE_SWITCH_MM:
        aspace.switch_mm(target, mm_of_fd(t, a.fd(3)))
        return 0
    raise E(errno.EIO)


def _peeksiginfo(t, target, args_ptr: int, buf: int) -> int:
    """PTRACE_PEEKSIGINFO: copy ``nr`` pending siginfos from position ``off`` of the
    tracee's queue (its own, or its process's with PTRACE_PEEKSIGINFO_SHARED), in the
    order they were queued; the number copied."""
    off, flags, nr = struct.unpack("<QIi", t.mm.read(args_ptr, 16))
    if flags & ~P.PTRACE_PEEKSIGINFO_SHARED or nr < 0:
        raise E(errno.EINVAL)
    if flags & P.PTRACE_PEEKSIGINFO_SHARED:
        pending, infos = target.group.pending, target.group.pending_info
    else:
        pending, infos = target.pending, target.pending_info
    queue = [info for signo, info in infos.items() if pending & sigs.bit(signo)]
    k = t.kernel
    done = 0
    for info in queue[off:off + nr]:
        t.mm.write(buf + done * SIGINFO_SIZE, pack_siginfo(*info, sigs.sender_uid(k, target, info[0], info)))
        done += 1
    return done


def _arch_prctl(t, target, value_ptr: int, code: int) -> int:
    regs = target.ctx.regs
    if code == 0x1003:                 # ARCH_GET_FS
        t.mm.write(value_ptr, struct.pack("<Q", regs.fs_base))
    elif code == 0x1004:               # ARCH_GET_GS
        t.mm.write(value_ptr, struct.pack("<Q", regs.gs_base))
    elif code in (0x1001, 0x1002):     # ARCH_SET_GS / ARCH_SET_FS
        if value_ptr >= TASK_SIZE_MAX:
            raise E(errno.EPERM)
        setattr(regs, "fs_base" if code == 0x1002 else "gs_base", value_ptr)
    else:
        raise E(errno.EINVAL)
    return 0


# --- process_vm_readv / process_vm_writev ---------------------------------------------

def _iovs(t, ptr: int, n: int):
    if n > IOV_MAX:
        raise E(errno.EINVAL)
    if n == 0:
        return []
    raw = t.mm.read(ptr, 16 * n)
    return [struct.unpack_from("<QQ", raw, 16 * i) for i in range(n)]


def mem_target(t, pid: int):
    """The task ``pid`` for a memory access by ``t``: ESRCH, or EPERM without attach rights."""
    target = t.kernel.tasks.get(pid)
    if target is None or target.mm is None:
        raise E(errno.ESRCH)
    if not kptrace.may_attach(t, target):
        raise E(errno.EPERM)
    return target


def _process_vm(t, a, write: bool) -> int:
    pid, lvec, liovcnt, rvec, riovcnt, flags = a.int(0), a.ptr(1), a.ulong(2), a.ptr(3), a.ulong(4), a.ulong(5)
    if flags:
        raise E(errno.EINVAL)
    local = _iovs(t, lvec, liovcnt)
    remote = _iovs(t, rvec, riovcnt)
    target = mem_target(t, pid)
    total = sum(ln for _, ln in local)
    if write:
        data = b"".join(t.mm.read(b, ln) for b, ln in local if ln)
    else:
        data = bytearray()
    done = 0
    for base, ln in remote:
        ln = min(ln, total - done)
        if ln <= 0:
            break
        try:
            if write:
                target.mm.write(base, data[done:done + ln])
            else:
                data += target.mm.read(base, ln)
        except SyscallError:
            if done == 0:
                raise
            break
        done += ln
    if not write:
        pos = 0
        for b, ln in local:
            if pos >= done:
                break
            chunk = bytes(data[pos:pos + min(ln, done - pos)])
            if chunk:
                t.mm.write(b, chunk)
            pos += len(chunk)
    return done


def process_vm_readv(t, a):
    """Process_vm_readv implements process_vm_readv(2)."""
    return _process_vm(t, a, False)


def process_vm_writev(t, a):
    """Process_vm_writev implements process_vm_writev(2)."""
    return _process_vm(t, a, True)


FAMILY = [
    partial("ptrace", ptrace, "x86-64 tracees; no hardware debug registers (their offsets read 0 "
            "and writes are ignored)"),
    partial("process_vm_readv", process_vm_readv, "partial transfers stop at the first bad remote iovec"),
    partial("process_vm_writev", process_vm_writev, "partial transfers stop at the first bad remote iovec"),
]
