"""signalfd: pending signals read as ``struct signalfd_siginfo`` (fs/signalfd.c).

A :class:`SignalFile` holds a signal mask.  Like Linux it acts on whoever
uses it: read dequeues the *reading* task's pending signals in the mask
(thread-directed first, then process-directed, lowest number first), and
poll looks at the *polling* task's (the kernel's current task; the creator
when polled outside any task's call).  Waiters wait on the process's ``sigwaitq``,
which the kernel notifies whenever a signal becomes pending
(``Kernel.send_signal``); the signals themselves are normally blocked, so
nothing else delivers them.
"""

from __future__ import annotations

import errno

from umlpy.abi.events import SIGNALFD_SIGINFO, SIGNALFD_SIGINFO_SIZE
from umlpy.abi.poll import POLLIN
from umlpy.errors import SyscallError
from umlpy.fs.anon import AnonFile
from umlpy.waiter import WouldBlock

from . import signals as sigs


def pending_in(t, mask: int) -> int:
    """The signals pending for task ``t`` (its own and its process's) within ``mask``."""
    return (t.pending | t.group.pending) & mask


def dequeue_signal(t, mask: int):
    """Take the lowest pending signal of ``t`` in ``mask``: its info tuple
    (signo, code, addr, pid, status), or None (Linux's dequeue_signal)."""
    g = t.group
    own = t.pending & mask
    if own:
        signo = sigs.lowest(own)
        t.pending &= ~sigs.bit(signo)
        return t.pending_info.pop(signo, (signo, 0, 0, 0, 0))
    shared = g.pending & mask
    if shared:
        signo = sigs.lowest(shared)
        g.pending &= ~sigs.bit(signo)
        return g.pending_info.pop(signo, (signo, 0, 0, 0, 0))
    return None


def pack_signalfd_siginfo(info) -> bytes:
    """A ``struct signalfd_siginfo`` (128 bytes) for a pending signal's info: the
    kernel's (signo, code, addr, pid, status) tuple, or an object with those fields
    (and uid, utime, stime, value, overrun, timerid where it has them)."""
    if isinstance(info, tuple):
        signo, code, addr, pid, status = info[:5]
        uid = utime = stime = value = overrun = tid = 0
    else:
        signo, code = info.signo, info.code
        addr, pid, status = (getattr(info, n, 0) or 0 for n in ("addr", "pid", "status"))
        uid, utime, stime = (getattr(info, n, 0) or 0 for n in ("uid", "utime", "stime"))
        value, overrun, tid = (getattr(info, n, 0) or 0 for n in ("value", "overrun", "timerid"))
    raw = SIGNALFD_SIGINFO.pack(signo, 0, code, pid & 0xFFFFFFFF, uid & 0xFFFFFFFF, 0, tid & 0xFFFFFFFF,
                                0, overrun, 0, status, value & 0xFFFFFFFF, value & ((1 << 64) - 1),
                                utime, stime, addr, 0, 0, 0, 0, 0)
    return raw + bytes(SIGNALFD_SIGINFO_SIZE - len(raw))


class SignalFile(AnonFile):
    kind = "signalfd"

    def __init__(self, kernel, task, mask: int, flags: int):
        super().__init__(flags)
        self.kernel = kernel
        self.owner = task
        self.mask = mask & ~sigs.UNBLOCKABLE

    @property
    def waitq(self):
        """The queue of whoever uses the file now (Linux polls current's sighand)."""
        return self._who().group.sigwaitq

    @waitq.setter
    def waitq(self, q):
        pass          # AnonFile's own queue is not used

    def set_mask(self, mask: int):
        self.mask = mask & ~sigs.UNBLOCKABLE
        self.waitq.notify()

    def _who(self):
        t = self.kernel.current
        return t if t is not None else self.owner

    def poll(self):
        return POLLIN if pending_in(self._who(), self.mask) else 0

    def read(self, n):
        return self.read_for(self._who(), n)

    def read_for(self, caller, n):
        self.check_readable()
        if n < SIGNALFD_SIGINFO_SIZE:
            raise SyscallError(errno.EINVAL)
        out = []
        dequeue = getattr(self.kernel, "dequeue_signal", None)     # the kernel's, when it has one
        for _ in range(n // SIGNALFD_SIGINFO_SIZE):
            info = dequeue(caller, self.mask) if dequeue is not None else dequeue_signal(caller, self.mask)
            if info is None:
                break
            out.append(pack_signalfd_siginfo(info))
        if not out:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(caller.group.sigwaitq)
        return b"".join(out)

    def write(self, data):
        raise SyscallError(errno.EINVAL)

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def fdinfo(self) -> str:
        return "sigmask:\t%016x\n" % (~self.mask & ((1 << 64) - 1))
