"""eventfd: a 64-bit counter as a file (fs/eventfd.c).

read takes the whole count (or 1 with EFD_SEMAPHORE) and waits while it is
zero; write adds and waits while the sum would reach 2**64 - 1.  Both move
exactly 8 bytes (EINVAL for a shorter buffer); writing 2**64 - 1 is EINVAL.
Readable while the count is non-zero, writable while it is below
2**64 - 2.  Every write is an edge for epoll (Linux wakes readers even for a
write of 0).
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.poll import POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from umlpy.errors import SyscallError
from umlpy.fs.anon import AnonFile
from umlpy.waiter import WouldBlock

ULLONG_MAX = (1 << 64) - 1
_U64 = struct.Struct("<Q")


class EventFile(AnonFile):
    kind = "eventfd"

    def __init__(self, initval: int, flags: int, semaphore: bool):
        super().__init__(flags)
        self.count = initval
        self.semaphore = semaphore

    def read(self, n):
        self.check_readable()
        if n < 8:
            raise SyscallError(errno.EINVAL)
        if self.count == 0:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq)
        value = 1 if self.semaphore else self.count
        self.count -= value
        self.waitq.notify(POLLOUT | POLLWRNORM)
        return _U64.pack(value)

    def write(self, data):
        self.check_writable()
        if len(data) < 8:
            raise SyscallError(errno.EINVAL)
        value = _U64.unpack_from(data)[0]
        if value == ULLONG_MAX:
            raise SyscallError(errno.EINVAL)
        if ULLONG_MAX - self.count <= value:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq)
        self.count += value
        self.waitq.notify(POLLIN | POLLRDNORM)
        return 8

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def poll(self):
        ev = 0
        if self.count > 0:
            ev |= POLLIN
        if self.count == ULLONG_MAX:
            ev |= POLLERR
        if ULLONG_MAX - 1 > self.count:
            ev |= POLLOUT
        return ev

    def fdinfo(self) -> str:
        return "eventfd-count: %16x\neventfd-id: %d\neventfd-semaphore: %d\n" % (
            self.count, id(self) & 0xFFFF, int(self.semaphore))
