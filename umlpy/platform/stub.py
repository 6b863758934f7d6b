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

from umlpy.abi.mman import MAP_FIXED, MAP_SHARED
from umlpy.abi.stub import STUB_DATA_LAYOUT, STUB_DATA_SIZE, STUB_MAGIC, STUB_MAX_OPS, STUB_OP, STUB_PHYSMEM_FD
from umlpy.abi.syscall_nr import NR
from umlpy.errors import PlatformError

from .base import HostAddressSpace

STUB_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "umlpy-stub")
# The control page as umlpy/abi/stub_abi.h lays it out (struct stub_data, struct stub_op).
_FIELD = {name: (struct.Struct(STUB_DATA_LAYOUT.field_format(name)), STUB_DATA_LAYOUT.offset(name))
          for name in ("magic", "entry_batch", "nops", "ndone", "err")}
_OPS_OFF = STUB_DATA_LAYOUT.offset("ops")
_OP = struct.Struct(STUB_OP.format)
assert [name for name, _ in STUB_OP.fields] == ["nr", "args", "result"]     # _OP.pack_into's order
_HOST_NR = {"map": int(NR.mmap), "protect": int(NR.mprotect), "unmap": int(NR.munmap)}
_MAP_SHARED_FIXED = int(MAP_SHARED | MAP_FIXED)


def _get(view, base, name):
    fmt, off = _FIELD[name]
    return fmt.unpack_from(view, base + off)[0]


def _put(view, base, name, value):
    fmt, off = _FIELD[name]
    fmt.pack_into(view, base + off, value)


def spawn_stub(physmem, slot: int) -> int:
    """Start a stub whose control page is physmem[slot:slot+STUB_DATA_SIZE]; return its pid."""
    if not os.path.exists(STUB_PATH):
        raise PlatformError("stub executable %s is missing: run 'make' (or pip install .)" % STUB_PATH)
    try:
        return os.posix_spawn(
            STUB_PATH, [STUB_PATH, hex(slot), str(os.getpid())], {},
            # Only the physmem file, as fd 3: not even the supervisor's 0-2 (a terminal).
            file_actions=[(os.POSIX_SPAWN_DUP2, physmem.fd, STUB_PHYSMEM_FD),
                          (os.POSIX_SPAWN_CLOSE, 0), (os.POSIX_SPAWN_CLOSE, 1),
                          (os.POSIX_SPAWN_CLOSE, 2)],
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
        view, base = self.physmem.view, self.slot
        if _get(view, base, "magic") != STUB_MAGIC:
            raise PlatformError("stub %d did not start (bad control page)" % self.pid)
        return _get(view, base, "entry_batch")

    def _write_ops(self, ops):
        view, base = self.physmem.view, self.slot
        for i, op in enumerate(ops):
            if op.op == "map":
                args = (op.addr, op.length, op.prot, _MAP_SHARED_FIXED, STUB_PHYSMEM_FD, op.offset)
            elif op.op == "protect":
                args = (op.addr, op.length, op.prot, 0, 0, 0)
            else:
                args = (op.addr, op.length, 0, 0, 0, 0)
            _OP.pack_into(view, base + _OPS_OFF + i * _OP.size, _HOST_NR[op.op], *args, 0)
        _put(view, base, "nops", len(ops))
        _put(view, base, "ndone", 0)
        _put(view, base, "err", 0)

    def _check_results(self, ops):
        view, base = self.physmem.view, self.slot
        err = _get(view, base, "err")
        if err:
            op = ops[_get(view, base, "ndone")]
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


# The control page leaves the stub at least 8 KiB of stack below STUB_DATA + STUB_DATA_SIZE.
assert _OP.size == STUB_OP.size and STUB_DATA_SIZE >= STUB_DATA_LAYOUT.size + 8192


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
