"""Starting stub processes and talking to their control page.

Shared by both ptrace platforms.  A stub is started with ``posix_spawn`` (the
stub binary is exec'd: it holds nothing of the supervisor), gets the physmem
file as fd 3, in a session of its own so terminal signals reach only the
supervisor, and becomes our tracee itself (csrc/stub.c).  The batch of host
memory operations is written into its control page through the supervisor's
own mapping of physmem; running it is the platform's business.
"""

import os
import signal
import struct
import time

from umlpy.abi.memory import STUB_DATA_SIZE
from umlpy.errors import PlatformError

from .base import HostAddressSpace

STUB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "umlpy-stub")
STUB_MAGIC = 0x62757473796D6C75
STUB_MAX_OPS = 256
_HDR = struct.Struct("<QQqqq24x")      # magic, entry_batch, nops, ndone, err
_OP = struct.Struct("<q6qq")           # nr, args[6], result
_HOST_NR = {"map": 9, "protect": 10, "unmap": 11}
_MAP_SHARED_FIXED = 0x01 | 0x10
STUB_PHYSMEM_FD = 3


def spawn_stub(physmem, slot: int) -> int:
    """Start a stub whose control page is physmem[slot:slot+STUB_DATA_SIZE]; return its pid."""
    if not os.path.exists(STUB_PATH):
        raise PlatformError("stub executable %s is missing: run 'make' (or pip install .)" % STUB_PATH)
    try:
        return os.posix_spawn(
            STUB_PATH, [STUB_PATH, hex(slot), str(os.getpid())], {},
            file_actions=[(os.POSIX_SPAWN_DUP2, physmem.fd, STUB_PHYSMEM_FD)],
            setsid=True)
    except OSError as e:
        raise PlatformError("cannot start the stub: %s" % e.strerror) from None


class StubAddressSpace(HostAddressSpace):
    """A host address space realised by a stub; subclasses run the batch."""

    def __init__(self, physmem):
        super().__init__()
        self.physmem = physmem
        self.slot = physmem.alloc_stub_slot()
        self.pid = spawn_stub(physmem, self.slot)
        #: The context whose xstate is currently loaded in this stub.
        self.loaded_ctx = None

    def check_started(self):
        magic, entry, _, _, _ = _HDR.unpack_from(self.physmem.view, self.slot)
        if magic != STUB_MAGIC:
            raise PlatformError("stub %d did not start (bad control page)" % self.pid)
        return entry

    def _write_ops(self, ops):
        view, base = self.physmem.view, self.slot
        for i, op in enumerate(ops):
            if op.op == "map":
                args = (op.addr, op.length, op.prot, _MAP_SHARED_FIXED, STUB_PHYSMEM_FD, op.offset)
            elif op.op == "protect":
                args = (op.addr, op.length, op.prot, 0, 0, 0)
            else:
                args = (op.addr, op.length, 0, 0, 0, 0)
            _OP.pack_into(view, base + _HDR.size + i * _OP.size, _HOST_NR[op.op], *args, 0)
        struct.pack_into("<qqq", view, base + 16, len(ops), 0, 0)

    def _check_results(self, ops):
        _, _, nops, ndone, err = _HDR.unpack_from(self.physmem.view, self.slot)
        if err:
            op = ops[ndone]
            raise PlatformError("host %s(%#x, %#x) failed in stub %d: %s"
                                % (op.op, op.addr, op.length, self.pid, os.strerror(-err)))

    def _run_batch(self, ops):
        for i in range(0, len(ops), STUB_MAX_OPS):
            chunk = ops[i:i + STUB_MAX_OPS]
            self._write_ops(chunk)
            self._exec_batch()
            self._check_results(chunk)

    def _exec_batch(self):
        raise NotImplementedError

    def preempt(self):
        """SIGSTOP the stub: its stop comes back as PREEMPT and is never delivered."""
        if not self.dead:
            try:
                os.kill(self.pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass

    def _free_slot(self):
        if self.slot is not None:
            self.physmem.free_stub_slot(self.slot)
            self.slot = None


assert _HDR.size == 64 and _OP.size == 64 and STUB_DATA_SIZE >= 64 + STUB_MAX_OPS * 64 + 8192


class SliceTimer:
    """A time-slice clock for the supervisor: SIGALRM every ``seconds`` while armed.

    While a guest runs, the supervisor sleeps in waitpid; the alarm makes that
    wait return (EINTR: Python installs its handlers without SA_RESTART), and
    the guest kernel checks :meth:`expired` to preempt a task that never makes
    a system call.  The alarm repeats rather than firing once: a signal that
    lands just before the supervisor enters waitpid interrupts nothing, and
    the next one, a slice later, still does.  Whether the slice is over is
    read from the clock, never from the handler (which Python may run late).
    The previous SIGALRM disposition is put back by close().
    """

    def __init__(self):
        self._old = signal.signal(signal.SIGALRM, self._on_alarm)
        self.armed = False
        self.deadline = 0.0

    @staticmethod
    def _on_alarm(signo, frame):
        pass            # its only job is to interrupt waitpid

    def arm(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        if not self.armed:
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, seconds, seconds)

    def expired(self) -> bool:
        return self.armed and time.monotonic() >= self.deadline

    def disarm(self):
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.armed = False

    def close(self):
        self.disarm()
        if self._old is not None:
            signal.signal(signal.SIGALRM, self._old)
            self._old = None
