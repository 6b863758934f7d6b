"""I/O multiplexing: poll, ppoll, select, pselect6.

Readiness comes from each open file's ``poll()``; a call that must wait parks
the task on every polled file's queue (for the console, the host fd's) with
the call's deadline, and is run again from the start when woken: the
deadline is kept in the call's restart block (:class:`PollBlock`) across
those runs.
"""

import errno
import struct

from umlpy.abi.poll import (FD_SETSIZE, NFDS_MAX, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT,
                            POLLPRI, POLLRDNORM, POLLWRNORM)
from umlpy.errors import SyscallError
from umlpy.kernel.restart import RestartBlock
from umlpy.waiter import WouldBlock

from .table import supported

E = SyscallError
_ALWAYS = POLLERR | POLLHUP | POLLNVAL
_POLLFD = struct.Struct("<ihh")


def _revents(f, events: int) -> int:
    ev = f.poll()
    if ev & POLLIN:
        ev |= POLLRDNORM
    if ev & POLLOUT:
        ev |= POLLWRNORM
    return ev & (events | _ALWAYS)


class PollBlock(RestartBlock):
    """A poll or select in progress: its absolute deadline (None: none)."""

    __slots__ = ("deadline",)

    def __init__(self, deadline):
        self.deadline = deadline


def _wait(t, files, deadline):
    """Park ``t`` until one of ``files`` may have changed or ``deadline`` (guest ns) passes."""
    k = t.kernel
    queues = []
    for f in files:
        q = f.waitq
        if q is not None:
            queues.append(q)
        for fd in f.host_fds():
            queues.append(k.wait_host_fd(fd))
    raise WouldBlock(*queues, deadline=deadline)


def _deadline(t, timeout_ns):
    """The absolute deadline of this call, kept across its restarts (None: no timeout)."""
    rb = t.restart_block
    if not isinstance(rb, PollBlock):
        rb = t.restart_block = PollBlock(None if timeout_ns is None else t.kernel.now_ns() + timeout_ns)
    return rb.deadline


def _expired(t, deadline):
    return deadline is not None and t.kernel.now_ns() >= deadline


def _do_poll(t, fds_ptr, nfds, timeout_ns):
    if nfds > NFDS_MAX or nfds > t.files.limit:
        raise E(errno.EINVAL)
    raw = t.mm.read(fds_ptr, _POLLFD.size * nfds) if nfds else b""
    entries = [_POLLFD.unpack_from(raw, i * _POLLFD.size) for i in range(nfds)]
    deadline = _deadline(t, timeout_ns)
    out, ready, files = [], 0, []
    for fd, events, _ in entries:
        rev = 0
        if fd >= 0:
            try:
                f = t.files.get(fd)
            except SyscallError:
                rev = POLLNVAL
            else:
                rev = _revents(f, events & 0xFFFF)
                files.append(f)
        out.append(rev)
        if rev:
            ready += 1
    if ready or timeout_ns == 0 or _expired(t, deadline):
        blob = b"".join(_POLLFD.pack(fd, ev, rev) for (fd, ev, _), rev in zip(entries, out))
        if blob:
            t.mm.write(fds_ptr, blob)
        return ready
    _wait(t, files, deadline)


def poll(t, a):
    """Poll implements poll(2): a negative timeout waits without end."""
    ms = a.int(2)
    return _do_poll(t, a.ptr(0), a.uint(1), None if ms < 0 else ms * 1_000_000)


def _timespec(t, ptr):
    if not ptr:
        return None
    sec, nsec = struct.unpack("<qq", t.mm.read(ptr, 16))
    if sec < 0 or not 0 <= nsec < 10 ** 9:
        raise E(errno.EINVAL)
    return sec * 10 ** 9 + nsec


def _with_sigmask(t, ptr, size):
    """ppoll/pselect6's temporary signal mask (applied for the whole call)."""
    if not ptr:
        return
    if size != 8:
        raise E(errno.EINVAL)
    mask = struct.unpack("<Q", t.mm.read(ptr, 8))[0]
    if t.saved_sigmask is None:
        t.saved_sigmask = t.sigmask
    t.sigmask = mask & ~((1 << 8) | (1 << 18))     # never SIGKILL, SIGSTOP


def _restore_sigmask(t):
    saved = t.saved_sigmask
    if saved is not None:
        t.sigmask, t.saved_sigmask = saved, None


def ppoll(t, a):
    # The mask stays while the call waits (a signal frame then saves the old one).
    _with_sigmask(t, a.ptr(3), a.size(4))
    ret = _do_poll(t, a.ptr(0), a.uint(1), _timespec(t, a.ptr(2)))
    _restore_sigmask(t)
    _left(t, a.ptr(2))
    return ret


def _read_set(t, ptr, nfds):
    if not ptr:
        return 0
    nbytes = ((nfds + 63) // 64) * 8
    return int.from_bytes(t.mm.read(ptr, nbytes), "little")


def _write_set(t, ptr, nfds, bits):
    if ptr:
        nbytes = ((nfds + 63) // 64) * 8
        t.mm.write(ptr, bits.to_bytes(nbytes, "little"))


def _do_select(t, nfds, rp, wp, ep, timeout_ns):
    if nfds < 0 or nfds > FD_SETSIZE:
        raise E(errno.EINVAL)
    rin, win, ein = _read_set(t, rp, nfds), _read_set(t, wp, nfds), _read_set(t, ep, nfds)
    deadline = _deadline(t, timeout_ns)
    rout = wout = eout = 0
    files = []
    for fd in range(nfds):
        bit = 1 << fd
        if not (rin | win | ein) & bit:
            continue
        try:
            f = t.files.get(fd)
        except SyscallError:
            raise
        files.append(f)
        ev = f.poll()
        if rin & bit and ev & (POLLIN | POLLHUP | POLLERR):
            rout |= bit
        if win & bit and ev & (POLLOUT | POLLERR):
            wout |= bit
        if ein & bit and ev & POLLPRI:
            eout |= bit
    ready = bin(rout).count("1") + bin(wout).count("1") + bin(eout).count("1")
    if ready or timeout_ns == 0 or _expired(t, deadline):
        _write_set(t, rp, nfds, rout)
        _write_set(t, wp, nfds, wout)
        _write_set(t, ep, nfds, eout)
        return ready
    _wait(t, files, deadline)


def _left(t, ptr, usec=False):
    """Write the time left before the call's deadline back to its timeout (select,
    pselect6 and ppoll do; a timeout that is gone reads 0)."""
    rb = t.restart_block
    if not ptr or not isinstance(rb, PollBlock) or rb.deadline is None:
        return
    left = max(0, rb.deadline - t.kernel.now_ns())
    sub = left % 10 ** 9
    t.mm.write(ptr, struct.pack("<qq", left // 10 ** 9, sub // 1000 if usec else sub))


def select(t, a):
    """Select implements select(2), the time left written back to the timeout."""
    tv = a.ptr(4)
    timeout = None
    if tv:
        sec, usec = struct.unpack("<qq", t.mm.read(tv, 16))
        if sec < 0 or not 0 <= usec < 10 ** 6:
            raise E(errno.EINVAL)
        timeout = sec * 10 ** 9 + usec * 1000
    ret = _do_select(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), timeout)
    _left(t, tv, usec=True)
    return ret


def pselect6(t, a):
    sig = a.ptr(5)
    if sig:
        mask_ptr, size = struct.unpack("<QQ", t.mm.read(sig, 16))
        _with_sigmask(t, mask_ptr, size)
    ret = _do_select(t, a.int(0), a.ptr(1), a.ptr(2), a.ptr(3), _timespec(t, a.ptr(4)))
    _restore_sigmask(t)
    _left(t, a.ptr(4))
    return ret


FAMILY = [
    supported("poll", poll), supported("ppoll", ppoll), supported("select", select),
    supported("pselect6", pselect6),
]
