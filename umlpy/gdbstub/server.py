"""The gdb stub: gdb's remote protocol served from the guest kernel's hooks.

``umlpy run --gdb PORT`` does what ``qemu-x86_64 -g PORT`` does: before the
first instruction of the guest's first process, umlpy listens on
localhost:PORT and waits for gdb (``target remote :PORT``), then serves it.
The stub follows the first process (its threads; children run undebugged,
with the breakpoints taken out of their copies of the memory, as Linux's
gdb does at a fork).

How it stops the guest: :class:`GdbStub` is the kernel's hooks object.  The
kernel calls :meth:`signal_stop` for every signal dequeued for a task, the
traps included: a breakpoint's int3, the end of a single step (the trap
flag), a hardware watchpoint, a fault (SIGSEGV...).  For a task of the
followed process the stub reports the stop to gdb and serves its requests
right there: the kernel is single-threaded, so while the hook runs no guest
task runs (gdb's all-stop mode), and registers and memory are read and
written in the stopped tasks' saved state.  A resume request returns from
the hook with the signal gdb wants delivered.  A single step over a
``syscall`` instruction ends after the kernel has run the call
(:meth:`syscall_exit`), as Linux's ptrace single-step does.

Breakpoints (Z0) are int3 bytes written with ptrace's force (copy-on-write
of text pages), hidden from gdb's memory reads.  Watchpoints (Z2 write, Z4
access) are the x86 debug registers of the process's stub, as gdbserver sets
them: exact, at no cost while running; Z3 (read) is refused as x86 has no
read-only watchpoint, and gdb then builds ``rwatch`` on an access watchpoint.
"""

import errno
import os
import socket
import struct

from umlpy.abi.auxv import AT_NULL
from umlpy.abi.ptrace import X86_EFLAGS_TF
from umlpy.errors import SyscallError, UmlpyError
from umlpy.kernel import debug as kdebug
from umlpy.kernel.hooks import KernelHooks
from umlpy.kernel.sigframe import pack_siginfo
from umlpy.kernel.signals import sender_uid
from umlpy.kernel.task import TaskState

from . import target
from .packets import INTERRUPT, Connection, Disconnected, escape, hexs, unescape, unhex
from .signals import gdb_signal, linux_signal

SIGTRAP = 5
SIGKILL = 9
TRAP_HWBKPT = 4
INT3 = b"\xcc"
#: DR7 length bits for 1, 2, 4, 8 bytes; R/W bits for write and access watchpoints.
_DR7_LEN = {1: 0, 2: 1, 4: 3, 8: 2}
_DR7_RW = {2: 1, 4: 3}
_M64 = (1 << 64) - 1


class GdbStub(KernelHooks):
    """Kernel hooks that hand the followed process to a gdb client."""

    active = True            # syscall_exit must run (single steps over system calls)

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.kernel = None
        self.conn = None
        self.group = None                  # the followed thread group
        self.breakpoints = {}              # addr -> original byte
        self.watchpoints = {}              # (type, addr, length) -> [(dr index, addr, len)]
        self.stepping = set()              # tids single-stepped by the stub
        self.siginfo = {}                  # tid -> siginfo of its last stop
        self.selected = 0                  # Hg thread (0: any)
        self.auxv = b""
        self.exe = b""
        self.last_stop = b"S05"
        self.done = False
        try:
            self.listener = socket.create_server((host, port), reuse_port=False)
        except OSError as e:
            raise UmlpyError("--gdb %d: cannot listen on %s:%d: %s" % (port, host, port, e.strerror)) from None
        self.port = self.listener.getsockname()[1]
        if port == 0:             # the host chose it: say which (tests, scripts)
            os.write(2, b"umlpy: waiting for gdb on localhost:%d\n" % self.port)

    # --- hooks ------------------------------------------------------------------------
    def attach(self, kernel):
        self.kernel = kernel

    def fast_ok(self, nr):
        return False          # every call reaches Python: a step over it ends there

    def initial_exec(self, t, program, argv, envc, envp_addr, raw=None):
        self.group = t.group
        self.exe = program
        self._read_auxv(t)
        try:
            sock, _ = self.listener.accept()
        except OSError as e:
            raise UmlpyError("--gdb: %s" % e.strerror) from None
        finally:
            self.listener.close()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn = Connection(sock)
        self.last_stop = self._stop_reply(t, SIGTRAP)
        self._serve(t, None, 0)

    def exec_done(self, t):
        if self._followed(t):
            self.breakpoints.clear()        # they were in the old image
            self._read_auxv(t)
            self.exe = (t.group.exe or "").encode()

    def task_created(self, parent, child):
        if not self._followed(parent) or child.mm is parent.mm or child.mm is None:
            return
        for addr, orig in self.breakpoints.items():   # a forked child runs free of our int3s
            try:
                child.mm.poke(addr, orig)
            except SyscallError:
                pass

    def syscall_exit(self, t, nr, args, ret):
        if t.tid in self.stepping and self._followed(t) and t.state is TaskState.RUNNABLE:
            self.kernel.force_signal(t, SIGTRAP, 2, t.ctx.regs.rip)     # TRAP_TRACE after the call

    def group_exit(self, g):
        if g is not self.group or self.conn is None or self.done:
            return
        st = g.exit_status
        if st & 0x7F:
            self._send(b"X%02x" % gdb_signal(st & 0x7F))
        else:
            self._send(b"W%02x" % ((st >> 8) & 0xFF))
        self._finish()

    def close(self):
        self._finish()
        try:
            self.listener.close()
        except OSError:
            pass

    def signal_stop(self, t, signo, info):
        if self.conn is None or self.done or not self._followed(t):
            return signo
        regs = t.ctx.regs
        extra = b""
        self.siginfo[t.tid] = info or (signo, 0, 0, 0, 0)
        if signo == SIGTRAP:
            stepped = t.tid in self.stepping
            if stepped:
                self.stepping.discard(t.tid)
                regs.eflags &= ~X86_EFLAGS_TF
            code = info[1] if info else 0
            if code == TRAP_HWBKPT or self.watchpoints:
                hit = self._watch_hit(t)
                if hit is not None:
                    extra = hit
            if not extra and (regs.rip - 1) & _M64 in self.breakpoints and not stepped:
                regs.rip = (regs.rip - 1) & _M64          # back at the breakpoint, as gdb wants it
                extra = b"swbreak:;"
        own = signo == SIGTRAP and (stepped or extra)
        return self._serve(t, self._stop_reply(t, signo, extra), 0 if own else signo)

    # --- helpers ----------------------------------------------------------------------
    def _followed(self, t) -> bool:
        return self.group is not None and t.group is self.group

    def _threads(self):
        if self.group is None:
            return []
        return [tt for tt in self.group.tasks if tt.state is not TaskState.DEAD]

    def _thread(self, tid):
        for tt in self._threads():
            if tid in (0, -1) or tt.tid == tid:
                return tt
        return None

    def _stop_reply(self, t, signo, extra=b"") -> bytes:
        return b"T%02xthread:%x;%s" % (gdb_signal(signo), t.tid, extra)

    def _send(self, payload: bytes):
        try:
            self.conn.send(payload)
        except Disconnected:
            self._finish()

    def _finish(self):
        """The session ends (exit, kill, detach, gdb gone): the followed process, if it
        lives on, runs on without our breakpoints, watchpoints and single steps."""
        if self.done:
            return
        self.done = True
        if self.conn is not None:
            self.conn.close()
        if self.group is not None and not self.group.zombie:
            try:
                self._release()
            except Exception:      # the process may be half gone; nothing of gdb's must stay
                pass

    def _read_auxv(self, t):
        """The auxiliary vector from the new image's stack (argc, argv, envp, auxv)."""
        try:
            mm, sp = t.mm, t.ctx.regs.rsp
            argc = mm.read_u64(sp)
            p = sp + 8 * (argc + 2)
            while mm.read_u64(p):
                p += 8
            p += 8
            out = bytearray()
            for _ in range(64):
                k, v = struct.unpack("<QQ", mm.read(p, 16))
                out += struct.pack("<QQ", k, v)
                p += 16
                if k == AT_NULL:
                    break
            self.auxv = bytes(out)
        except SyscallError:
            self.auxv = b""

    # --- the request loop ---------------------------------------------------------------
    def _serve(self, t, reply, undebugged: int) -> int:
        """Report a stop of ``t`` (unless ``reply`` is None) and serve gdb until it resumes;
        returns the signal to deliver to ``t`` (``undebugged`` if gdb goes away)."""
        if reply is not None:
            self.last_stop = reply
            self._send(reply)
        self.selected = t.tid
        while not self.done:
            try:
                pkt = self.conn.read_packet()
            except Disconnected:
                self._finish()
                break
            if pkt == INTERRUPT:
                continue
            try:
                res = self._handle(t, pkt)
            except (ValueError, IndexError, SyscallError):
                res = b"E01"
            if isinstance(res, tuple):              # resume: (signal for t,)
                return res[0]
            if res is not None:
                self._send(res)
        return undebugged

    def _handle(self, t, pkt: bytes):
        c = pkt[:1]
        if c == b"q" or c == b"Q":
            return self._query(t, pkt)
        if c == b"v":
            return self._v(t, pkt)
        if c == b"?":
            return self.last_stop
        if c == b"H":
            tid = int(pkt[2:], 16) if pkt[2:] not in (b"-1", b"") else -1
            if tid > 0 and self._thread(tid) is None:
                return b"E01"
            if pkt[1:2] == b"g":
                self.selected = tid if tid > 0 else t.tid
            return b"OK"
        if c == b"T":
            return b"OK" if self._thread(int(pkt[1:], 16)) is not None else b"E01"
        if c == b"g":
            return hexs(target.read_all(self._sel(t)))
        if c == b"G":
            target.write_all(self._sel(t), unhex(pkt[1:]))
            return b"OK"
        if c == b"p":
            n = int(pkt[1:], 16)
            if n >= len(target.REGISTERS):
                return b"E01"
            return hexs(target.read_register(self._sel(t), n))
        if c == b"P":
            n, val = pkt[1:].split(b"=")
            n = int(n, 16)
            if n >= len(target.REGISTERS):
                return b"E01"
            tt = self._sel(t)
            fx = target.write_register(tt, n, unhex(val))
            if fx is not None:
                target.restore_fpu(tt, fx)
            return b"OK"
        if c == b"m":
            addr, ln = (int(x, 16) for x in pkt[1:].split(b","))
            data = self._read_mem(self._sel(t), addr, min(ln, 0x10000))
            return hexs(data) if data else b"E14"
        if c == b"M":
            head, data = pkt[1:].split(b":", 1)
            addr, ln = (int(x, 16) for x in head.split(b","))
            self._write_mem(self._sel(t), addr, unhex(data)[:ln])
            return b"OK"
        if c == b"X":
            head, data = pkt[1:].split(b":", 1)
            addr, ln = (int(x, 16) for x in head.split(b","))
            if ln:
                self._write_mem(self._sel(t), addr, unescape(data)[:ln])
            return b"OK"
        if c in (b"Z", b"z"):
            return self._point(t, pkt)
        if c in (b"c", b"s", b"C", b"S"):
            return self._legacy_resume(t, pkt)
        if c == b"k":
            self._kill()
            return (0,)
        if c == b"D":
            self._detach()
            return (0,)
        return b""

    def _sel(self, t):
        return self._thread(self.selected) or t

    def _query(self, t, pkt: bytes):
        if pkt.startswith(b"qSupported"):
            return (b"PacketSize=4000;qXfer:features:read+;qXfer:auxv:read+;qXfer:exec-file:read+;qXfer:siginfo:read+;"
                    b"vContSupported+;swbreak+;QStartNoAckMode+")
        if pkt == b"QStartNoAckMode":
            self._send(b"OK")
            self.conn.ack = False
            return None
        if pkt == b"qfThreadInfo":
            return b"m" + b",".join(b"%x" % tt.tid for tt in self._threads())
        if pkt == b"qsThreadInfo":
            return b"l"
        if pkt == b"qC":
            return b"QC%x" % t.tid
        if pkt.startswith(b"qAttached"):
            return b"0"
        if pkt.startswith(b"qThreadExtraInfo,"):
            tt = self._thread(int(pkt.split(b",")[1], 16))
            return hexs(tt.comm if tt is not None else b"")
        if pkt.startswith(b"qXfer:"):
            return self._xfer(t, pkt)
        if pkt == b"qSymbol::":
            return b"OK"
        if pkt.startswith(b"qOffsets") or pkt.startswith(b"qTStatus"):
            return b""
        return b""

    def _xfer(self, t, pkt: bytes):
        parts = pkt.split(b":")
        obj, op, annex, rng = parts[1], parts[2], parts[3], parts[4]
        if op != b"read":
            return b""
        off, ln = (int(x, 16) for x in rng.split(b","))
        if obj == b"features":
            if annex != b"target.xml":
                return b"E00"
            data = target.TARGET_XML
        elif obj == b"auxv":
            data = self.auxv
        elif obj == b"exec-file":
            data = self._exe_host_path()
        elif obj == b"siginfo":
            info = self.siginfo.get(self._sel(t).tid)
            if info is None:
                return b"E01"
            data = pack_siginfo(*info, sender_uid(self.kernel, self._sel(t), info[0], info))
        else:
            return b""
        chunk = data[off:off + ln]
        return (b"l" if off + ln >= len(data) else b"m") + escape(chunk)

    def _exe_host_path(self) -> bytes:
        exe = self.exe or b""
        root = getattr(self.kernel.vfs, "rootfs", b"/")
        if exe.startswith(b"/") and root not in (b"/", b""):
            return root.rstrip(b"/") + exe
        return exe

    def _v(self, t, pkt: bytes):
        if pkt == b"vCont?":
            return b"vCont;c;C;s;S"
        if pkt.startswith(b"vCont;"):
            return self._vcont(t, pkt[6:])
        if pkt.startswith(b"vKill"):
            self._send(b"OK")
            self._kill()
            return (0,)
        if pkt == b"vMustReplyEmpty":
            return b""
        return b""

    # --- resuming -----------------------------------------------------------------------
    def _vcont(self, t, spec: bytes):
        deliver = 0
        default = None
        actions = {}
        for act in spec.split(b";"):
            what, _, tid = act.partition(b":")
            if tid:
                tid = int(tid.split(b".")[-1], 16)
                actions.setdefault(tid, what)
            elif default is None:
                default = what
        for tt in self._threads():
            what = actions.get(tt.tid, default)
            if what is None:
                kdebug.hold(self.kernel, tt)      # no action: it stays stopped
                continue
            kdebug.release(self.kernel, tt)
            kind = what[:1]
            if kind in (b"s", b"S"):
                self._step(tt)
            if kind in (b"C", b"S") and tt is t:
                deliver = linux_signal(int(what[1:3], 16))
        return (deliver,)

    def _legacy_resume(self, t, pkt: bytes):
        kdebug.release_all(self.kernel)
        kind = pkt[:1]
        rest = pkt[1:]
        deliver = 0
        if kind in (b"C", b"S"):
            sig, _, rest = rest.partition(b";")
            deliver = linux_signal(int(sig, 16))
        if rest:
            self._sel(t).ctx.regs.rip = int(rest, 16)
        if kind in (b"s", b"S"):
            self._step(self._sel(t))
        return (deliver,)

    def _step(self, tt):
        tt.ctx.regs.eflags |= X86_EFLAGS_TF
        self.stepping.add(tt.tid)

    def _kill(self):
        g = self.group
        self.done = True
        if self.conn is not None:
            self.conn.close()
        if g is not None and not g.zombie:
            self.kernel.send_signal(g, SIGKILL)

    def _detach(self):
        self._send(b"OK")
        self._finish()

    def _release(self):
        kdebug.release_all(self.kernel)
        for addr, orig in list(self.breakpoints.items()):
            self._unpoke(addr, orig)
        self.breakpoints.clear()
        for key in list(self.watchpoints):
            self._remove_watch(*key)
        for tid in list(self.stepping):
            tt = self._thread(tid)
            if tt is not None:
                tt.ctx.regs.eflags &= ~X86_EFLAGS_TF
        self.stepping.clear()

    # --- memory -------------------------------------------------------------------------
    def _mm(self, tt):
        mm = tt.mm
        if mm is None:
            raise SyscallError(errno.ESRCH)
        return mm

    def _read_mem(self, tt, addr: int, ln: int) -> bytes:
        mm = self._mm(tt)
        out = bytearray()
        pos = addr
        while len(out) < ln:                 # page by page: a read stops where the mapping does
            n = min(ln - len(out), 4096 - (pos & 4095))
            try:
                out += mm.read(pos, n)
            except SyscallError:
                break
            pos += n
        for bp, orig in self.breakpoints.items():     # gdb sees the program, not our int3s
            if addr <= bp < addr + len(out):
                out[bp - addr] = orig[0]
        return bytes(out)

    def _write_mem(self, tt, addr: int, data: bytes):
        data = bytearray(data)
        for bp in self.breakpoints:
            if addr <= bp < addr + len(data):
                self.breakpoints[bp] = bytes((data[bp - addr],))
                data[bp - addr] = INT3[0]
        self._mm(tt).poke(addr, bytes(data))

    def _unpoke(self, addr, orig):
        for tt in self._threads()[:1]:
            try:
                self._mm(tt).poke(addr, orig)
            except SyscallError:
                pass

    # --- breakpoints and watchpoints --------------------------------------------------------
    def _point(self, t, pkt: bytes):
        insert = pkt[:1] == b"Z"
        kind_s, addr_s, size_s = pkt[1:].split(b",")[:3]
        kind, addr, size = int(kind_s), int(addr_s, 16), int(size_s.split(b";")[0], 16)
        tt = self._threads()[0] if self._threads() else t
        if kind == 0:
            if insert:
                if addr not in self.breakpoints:
                    mm = self._mm(tt)
                    orig = mm.read(addr, 1)
                    mm.poke(addr, INT3)
                    self.breakpoints[addr] = orig
            else:
                orig = self.breakpoints.pop(addr, None)
                if orig is not None:
                    self._unpoke(addr, orig)
            return b"OK"
        if kind in (2, 4):
            if insert:
                return self._add_watch(tt, kind, addr, size)
            self._remove_watch(kind, addr, size)
            return b"OK"
        return b""                           # Z1 (hardware breakpoint), Z3 (read watchpoint)

    def _host(self, tt):
        return self._mm(tt).host

    def _add_watch(self, tt, kind, addr, size):
        if (kind, addr, size) in self.watchpoints:
            return b"OK"
        used = {i for regs in self.watchpoints.values() for i, _, _ in regs}
        pieces = []
        a, end = addr, addr + size
        while a < end:                       # aligned pieces of 8, 4, 2 or 1 bytes
            for ln in (8, 4, 2, 1):
                if a % ln == 0 and a + ln <= end:
                    break
            pieces.append((a, ln))
            a += ln
        free = [i for i in range(4) if i not in used]
        if len(pieces) > len(free) or size <= 0:
            return b"E01"
        host = self._host(tt)
        try:
            dr7 = host.get_debugreg(7)
            regs = []
            for (a, ln), i in zip(pieces, free):
                host.set_debugreg(i, a)
                dr7 |= (1 << (2 * i)) | (_DR7_RW[kind] << (16 + 4 * i)) | (_DR7_LEN[ln] << (18 + 4 * i))
                regs.append((i, a, ln))
            host.set_debugreg(7, dr7)
        except (OSError, NotImplementedError):
            return b"E01"
        self.watchpoints[(kind, addr, size)] = regs
        return b"OK"

    def _remove_watch(self, kind, addr, size):
        regs = self.watchpoints.pop((kind, addr, size), None)
        if not regs:
            return
        tt = self._threads()[0] if self._threads() else None
        if tt is None or tt.mm is None:
            return
        host = self._host(tt)
        try:
            dr7 = host.get_debugreg(7)
            for i, _, _ in regs:
                dr7 &= ~((3 << (2 * i)) | (0xF << (16 + 4 * i)))
            host.set_debugreg(7, dr7)
        except (OSError, NotImplementedError):
            pass

    def _watch_hit(self, t):
        """The stop reply field of the watchpoint that fired (DR6), or None."""
        try:
            host = self._host(t)
            dr6 = host.get_debugreg(6)
        except (OSError, NotImplementedError, SyscallError):
            return None
        hit = None
        for (kind, addr, size), regs in self.watchpoints.items():
            if any(dr6 & (1 << i) for i, _, _ in regs):
                hit = (b"watch" if kind == 2 else b"awatch") + b":%x;" % addr
                break
        if dr6 & 0xF:
            try:
                host.set_debugreg(6, 0)
            except OSError:
                pass
        return hit
