"""Sockets as open files: the state every family shares, and the two kinds of transfer.

A :class:`Socket` is a :class:`~umlpy.fs.file.File` (so read, write, readv, close, dup,
fork, poll, select and epoll work on it unchanged) with a family object
(:mod:`umlpy.net.unix`, :mod:`umlpy.net.inet`) that owns its addresses.  Two transfer kinds:

- connection-oriented (SOCK_STREAM, SOCK_SEQPACKET): ``peer`` is the other end; what is
  sent is queued in the peer's ``rx`` as :class:`Msg` records.  A stream reader merges
  records (stopping after one that carried fds, as Linux's unix_stream_read_generic
  does); a seqpacket reader takes one record per call, truncating as a datagram.
- datagrams (SOCK_DGRAM): each send finds the receiver by address (or the connected
  peer) and queues one record with the sender's address.

Invariants: a record's fds hold one reference each until received or the socket is
released; ``rx_bytes`` is the sum of the records' lengths; every change of what
``poll()`` answers is followed by a notification of ``waitq`` with the events that may
have become true (the contract of :mod:`umlpy.fs.file`).

Simplifications (the syscall table says so too): no TIME_WAIT, no urgent data
(MSG_OOB: EOPNOTSUPP), no garbage collection of in-flight fd cycles (Linux's unix_gc);
an inet listener's backlog never refuses a connection.
"""

from __future__ import annotations

import collections
import errno
import itertools
import os
import struct

from umlpy.abi import stat as st
from umlpy.abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM
from umlpy.abi.socket import (IFF_LOOPBACK, IFF_RUNNING, IFF_UP, MSG_PEEK, MSG_TRUNC, SIOCGIFFLAGS, SIOCGIFINDEX,
                              SIOCGIFNAME, SIOCINQ, SIOCOUTQ, SK_RMEM_DEFAULT, SK_WMEM_DEFAULT, SOCK_DGRAM,
                              SOCK_SEQPACKET, SOCK_STREAM)
from umlpy.errors import SyscallError
from umlpy.fs.file import File
from umlpy.fs.node import Inode, Meta
from umlpy.waiter import Queue, WouldBlock

#: sockfs's device (an unnamed superblock, as Linux numbers it).
DEV_SOCK = st.makedev(0, 0x08)
_sock_ino = itertools.count(0x8000)

_DATA = POLLIN | POLLRDNORM
_ROOM = POLLOUT | POLLWRNORM
_HANGUP = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLHUP | POLLERR | POLLRDHUP

# Socket states.
UNCONNECTED, LISTENING, CONNECTED, CLOSED = 0, 1, 2, 3


class SockInode(Inode):
    """The sockfs inode of one socket (what fstat and /proc/PID/fd show)."""

    def __init__(self, uid: int, gid: int):
        self.meta = Meta(mode=st.S_IFSOCK | 0o777, uid=uid, gid=gid, dev=DEV_SOCK, ino=next(_sock_ino))

    def stat(self):
        s = self.meta.to_stat(0)
        s.st_blocks = 0
        s.st_blksize = 4096
        return s

    @property
    def mode(self):
        return self.meta.mode

    def open(self, flags, caller, path):
        raise SyscallError(errno.ENXIO)


class Msg:
    """One queued record: bytes, the sender's address, passed files and credentials."""

    __slots__ = ("data", "addr", "fds", "cred", "sender")

    def __init__(self, data, addr=None, fds=None, cred=None, sender=None):
        self.data = data
        self.addr = addr
        self.fds = fds
        self.cred = cred
        self.sender = sender

    def drop(self):
        """The record is discarded: release the files it carried."""
        fds, self.fds = self.fds, None
        for f in fds or ():
            f.put_ref()


class Received:
    """What one receive gives: the bytes, the sender's address, files, credentials,
    the msg_flags and the record's full length (for MSG_TRUNC)."""

    __slots__ = ("data", "addr", "fds", "creds", "flags", "full")

    def __init__(self, data, addr=None, fds=None, creds=None, flags=0, full=None):
        self.data = data
        self.addr = addr
        self.fds = fds
        self.creds = creds
        self.flags = flags
        self.full = len(data) if full is None else full


class Socket(File):
    """An open socket (a file of sockfs)."""

    seekable = False

    def __init__(self, family, stype: int, proto: int, flags: int, cred):
        self.sock_ino = SockInode(cred[1], cred[2])
        super().__init__(self.sock_ino, os.O_RDWR | (flags & os.O_NONBLOCK), b"socket:[%d]" % self.sock_ino.meta.ino)
        self.family = family
        self.type = stype
        self.proto = proto
        self.cred = cred               # (pid, uid, gid) of the creator (SO_PEERCRED of a listener)
        self.waitq = Queue()
        self.state = UNCONNECTED
        self.local = None              # the bound address (family's form), None: unbound
        self.remote = None             # the connected peer's address
        self.peer = None               # a connection's other Socket (or a dgram's default receiver)
        self.peer_cred = None
        self.rx = collections.deque()
        self.rx_bytes = 0
        self.shut_rd = False           # no more receiving (own SHUT_RD, or the peer's SHUT_WR/close)
        self.shut_wr = False           # no more sending
        self.peer_gone = False         # the connection's other end closed
        self.error = 0                 # pending SO_ERROR
        self.backlog = None            # a listener's connected-but-not-accepted sockets
        self.max_backlog = 0
        self.connecting = False        # a non-blocking inet connect not yet confirmed by a second connect
        self.opts = {}                 # (level, name) -> value of plain options
        self.rcvbuf = family.default_rcvbuf(stype)
        self.sndbuf = family.default_sndbuf(stype)
        self.rcvtimeo = 0              # ns, 0: none
        self.sndtimeo = 0
        self.passcred = False
        self.linger = (0, 0)
        self.blocking_stream = stype == SOCK_STREAM
        self.owner_pid = cred[0]
        self.netlink = False

    # -- File ----------------------------------------------------------------------------
    def fstat(self):
        return self.sock_ino.stat()

    def lseek(self, off, whence):
        raise SyscallError(errno.ESPIPE)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def reopen(self, flags, caller):
        raise SyscallError(errno.ENXIO)

    def _read_stream(self, n):
        r = self.recv(n, 0)
        for f in r.fds or ():
            f.put_ref()                # read(2) discards passed files, as recv without control
        return r.data

    def _write_stream(self, data):
        if self.netlink:
            self.family.requests(self, bytes(data))
            return len(data)
        return self.send(data, 0, cred=self.cred)

    def ioctl(self, request, arg, mem=None):
        """FIONREAD/SIOCINQ, SIOCOUTQ and the interface queries of the loopback (lo only)."""
        if request == SIOCINQ:
            if self.state == LISTENING:
                raise SyscallError(errno.EINVAL)
            if self.type == SOCK_STREAM or (self.type == SOCK_SEQPACKET and self.family.name == "unix"):
                n = self.rx_bytes
            else:
                n = len(self.rx[0].data) if self.rx else 0
            mem.write(arg, struct.pack("<i", n))
            return 0
        if request == SIOCOUTQ:
            if self.state == LISTENING:
                raise SyscallError(errno.EINVAL)
            n = 0
            if self.family.name == "unix" and self.peer is not None and self.type != SOCK_DGRAM:
                n = sum(len(m.data) for m in self.peer.rx if m.sender is self)
            mem.write(arg, struct.pack("<i", n))
            return 0
        if request in (SIOCGIFINDEX, SIOCGIFNAME, SIOCGIFFLAGS):
            ifr = mem.read(arg, 40)
            if request == SIOCGIFNAME:
                if struct.unpack_from("<i", ifr, 16)[0] != 1:
                    raise SyscallError(errno.ENODEV)
                mem.write(arg, b"lo".ljust(16, b"\0"))
                return 0
            if ifr[:16].split(b"\0", 1)[0] != b"lo":
                raise SyscallError(errno.ENODEV)
            value = 1 if request == SIOCGIFINDEX else IFF_UP | IFF_LOOPBACK | IFF_RUNNING
            mem.write(arg + 16, struct.pack("<i", value))
            return 0
        raise SyscallError(errno.ENOTTY)

    def release(self):
        self.family.release(self)
        if self.backlog is not None:
            pending, self.backlog = self.backlog, None
            for s in pending:
                s.refs = 0
                s.closed = True
                s.release()
        peer = self.peer
        self.peer = None
        if peer is not None and self.type != SOCK_DGRAM:
            if self.rx:
                peer.error = errno.ECONNRESET
            peer.peer_gone = True
            peer.shut_rd = True
            if self.family.name == "unix":
                peer.shut_wr = True       # unix_release_sock: the peer's sk_shutdown = SHUTDOWN_MASK
            peer.waitq.notify(_HANGUP)
        while self.rx:
            self.rx.popleft().drop()
        self.rx_bytes = 0
        self.state = CLOSED
        self.waitq.notify(_HANGUP)

    # -- readiness -----------------------------------------------------------------------
    def poll(self) -> int:
        ev = 0
        if self.error:
            ev |= POLLERR
        if self.state == LISTENING:
            return ev | (POLLIN | POLLRDNORM if self.backlog else 0)
        if self.rx:
            ev |= POLLIN | POLLRDNORM
        if self.type == SOCK_DGRAM:
            if self.shut_rd:
                ev |= POLLIN | POLLRDNORM | POLLRDHUP
            if self.shut_rd and self.shut_wr:
                ev |= POLLHUP
            if self.writable_now():
                ev |= POLLOUT | POLLWRNORM
            return ev
        if self.shut_rd:
            ev |= POLLIN | POLLRDNORM | POLLRDHUP
        if (self.shut_rd and self.shut_wr) or self.state != CONNECTED:
            ev |= POLLHUP
        if self.state == CONNECTED and not self.shut_wr and self.writable_now():
            ev |= POLLOUT | POLLWRNORM
        elif self.state == UNCONNECTED and self.family.unconnected_pollout:
            ev |= POLLOUT | POLLWRNORM
        elif self.shut_wr or self.peer_gone:
            ev |= POLLOUT | POLLWRNORM
        return ev

    def writable_now(self) -> bool:
        peer = self.peer
        if peer is None:
            return self.type == SOCK_DGRAM
        return peer.rx_bytes < self.limit(peer)

    def limit(self, peer) -> int:
        """How many bytes may wait in ``peer``'s queue for this sender."""
        return max(self.sndbuf, peer.rcvbuf)

    # -- options -------------------------------------------------------------------------
    def take_error(self) -> int:
        e, self.error = self.error, 0
        return e

    # -- sending -------------------------------------------------------------------------
    def send(self, data, flags: int, addr=None, fds=None, cred=None, caller=None) -> int:
        """Queue ``data`` (stream: as much as fits; records: all or nothing) to the peer or
        ``addr`` (``caller``: whose permissions find a path address); raises
        EAGAIN/WouldBlock when there is no room.  ``fds`` go with the first record queued."""
        nonblock = self.nonblocking or flags & 0x40
        if self.error and self.type != SOCK_STREAM:
            raise SyscallError(self.take_error())
        if self.type == SOCK_DGRAM:
            return self._send_dgram(data, nonblock, addr, fds, cred, caller)
        if self.state == LISTENING:
            raise SyscallError(errno.ENOTCONN if self.type == SOCK_STREAM else errno.EOPNOTSUPP)
        if self.shut_wr or self.peer_gone:
            if self.error:
                raise SyscallError(self.take_error())
            raise SyscallError(errno.EPIPE)
        if self.state != CONNECTED or self.peer is None:
            if addr is not None and self.type == SOCK_STREAM and self.family.stream_sendto_eisconn:
                raise SyscallError(errno.EOPNOTSUPP)
            raise SyscallError(errno.ENOTCONN)
        if self.connecting:
            self.connecting = False
        peer = self.peer
        if peer.shut_rd and self.family.peer_shut_rd_epipe:
            raise SyscallError(errno.EPIPE)
        limit = self.limit(peer)
        if self.type == SOCK_SEQPACKET:
            if len(data) > self.sndbuf - 32:
                raise SyscallError(errno.EMSGSIZE)
            if peer.rx_bytes and peer.rx_bytes + len(data) > limit:
                self._wait_room(nonblock)
            self._deliver(peer, Msg(bytes(data), self.local, fds, cred, self))
            return len(data)
        room = limit - peer.rx_bytes
        if not data:
            return 0
        if room <= 0:
            self._wait_room(nonblock)
        chunk = bytes(data[:room]) if len(data) > room else bytes(data)
        self._deliver(peer, Msg(chunk, self.local, fds, cred, self))
        return len(chunk)

    def _wait_room(self, nonblock):
        if nonblock:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock((self.waitq, _ROOM | POLLERR | POLLHUP))

    def _deliver(self, peer, msg):
        peer.rx.append(msg)
        peer.rx_bytes += len(msg.data)
        peer.waitq.notify(_DATA)

    def _send_dgram(self, data, nonblock, addr, fds, cred, caller):
        if self.shut_wr:
            raise SyscallError(errno.EPIPE)
        if addr is None:
            if self.peer is None and self.remote is None:
                raise SyscallError(self.family.dgram_no_dest_errno)
            target, src = self.family.dgram_peer(self)
        else:
            target, src = self.family.dgram_target(self, addr, caller)
        if len(data) > self.family.max_dgram(self):
            raise SyscallError(errno.EMSGSIZE)
        if target is None:
            return len(data)           # nobody there: dropped (inet; unix raises before)
        if target.shut_rd and self.family.name == "unix":
            raise SyscallError(errno.EPIPE)
        if target.rx and (len(target.rx) >= self.family.max_dgram_qlen or
                          target.rx_bytes + len(data) > target.rcvbuf):
            if self.family.dgram_drop_when_full:
                return len(data)
            if nonblock:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock((target.waitq, _ROOM | POLLERR | POLLHUP))
        target.rx.append(Msg(bytes(data), src, fds, cred, self))
        target.rx_bytes += len(data)
        target.waitq.notify(_DATA)
        return len(data)

    # -- receiving -----------------------------------------------------------------------
    def recv(self, n: int, flags: int) -> Received:
        """Up to ``n`` bytes (a stream) or one record; raises EAGAIN/WouldBlock when empty."""
        nonblock = self.nonblocking or flags & 0x40
        peek = flags & MSG_PEEK
        if self.state == LISTENING:
            raise SyscallError(errno.ENOTCONN if self.type != SOCK_DGRAM else errno.EINVAL)
        if not self.rx:
            if self.error:
                raise SyscallError(self.take_error())
            if self.type != SOCK_DGRAM and self.state == UNCONNECTED:
                raise SyscallError(errno.ENOTCONN if self.type == SOCK_SEQPACKET or
                                   self.family.name != "unix" else errno.EINVAL)
            if self.shut_rd or self.state == CLOSED:
                return Received(b"")
            if nonblock:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock((self.waitq, _DATA | POLLERR | POLLHUP | POLLRDHUP))
        if self.type == SOCK_STREAM:
            return self._recv_stream(n, peek)
        msg = self.rx[0]
        data = msg.data
        got = data[:n]
        out = Received(got, msg.addr, msg.fds, msg.cred, MSG_TRUNC if len(data) > n else 0, len(data))
        if peek:
            out.fds = list(msg.fds) if msg.fds else None
            if out.fds:
                for f in out.fds:
                    f.get_ref()
        else:
            self.rx.popleft()
            self.rx_bytes -= len(data)
            msg.fds = None
            self._made_room(msg)
        return out

    def _recv_stream(self, n, peek):
        parts, got, fds, cred, addr = [], 0, None, None, None
        consumed = 0
        for i, msg in enumerate(self.rx):
            if got >= n:
                break
            if i and self.passcred and msg.cred != cred:
                break
            if i == 0:
                cred, addr = msg.cred, msg.addr
            take = msg.data[:n - got]
            parts.append(take)
            got += len(take)
            if msg.fds:
                fds = msg.fds
                break
        data = b"".join(parts)
        if fds is not None:
            if peek:
                fds = list(fds)
                for f in fds:
                    f.get_ref()
        if not peek:
            left = len(data)
            while left:
                msg = self.rx[0]
                if len(msg.data) <= left:
                    left -= len(msg.data)
                    self.rx.popleft()
                    msg.fds = None
                else:
                    msg.data = msg.data[left:]
                    msg.fds = None
                    left = 0
                consumed = 1
            if fds is not None and self.rx and self.rx[0].fds is fds:
                self.rx[0].fds = None       # the fds went with the record's first bytes
            self.rx_bytes -= len(data)
            if consumed:
                self._made_room(None)
        return Received(data, addr, fds, cred)

    def _made_room(self, msg):
        sender = msg.sender if msg is not None and self.type == SOCK_DGRAM else self.peer
        if sender is not None:
            sender.waitq.notify(_ROOM)
        self.waitq.notify(_ROOM)

    # -- shutdown --------------------------------------------------------------------------
    def shutdown(self, how: int):
        if self.state != CONNECTED and self.type != SOCK_DGRAM:
            raise SyscallError(errno.ENOTCONN)
        if self.type == SOCK_DGRAM and self.peer is None and self.remote is None and self.family.name != "unix":
            raise SyscallError(errno.ENOTCONN)
        rd, wr = how in (0, 2), how in (1, 2)
        peer = self.peer
        if rd:
            self.shut_rd = True
        if wr:
            self.shut_wr = True
        if peer is not None and self.type != SOCK_DGRAM:
            if wr:
                peer.shut_rd = True
            if rd and self.family.name == "unix":
                peer.shut_wr = True
            peer.waitq.notify(_HANGUP)
        self.waitq.notify(_HANGUP)

    # -- connections -----------------------------------------------------------------------
    def listen(self, backlog: int):
        if self.type == SOCK_DGRAM:
            raise SyscallError(errno.EOPNOTSUPP)
        if self.state not in (UNCONNECTED, LISTENING):
            raise SyscallError(errno.EINVAL)
        self.family.before_listen(self)
        self.max_backlog = backlog
        if self.state != LISTENING:
            self.state = LISTENING
            self.backlog = collections.deque()
            self.waitq.notify(POLLHUP | _ROOM)

    def accept(self, flags: int) -> "Socket":
        if self.state != LISTENING:
            raise SyscallError(errno.EINVAL)
        if not self.backlog:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock((self.waitq, _DATA | POLLERR | POLLHUP))
        s = self.backlog.popleft()
        s.flags = (s.flags & ~os.O_NONBLOCK) | (flags & os.O_NONBLOCK)
        self.waitq.notify(_ROOM)
        return s

    def connect_to(self, listener, cred, nonblock: bool):
        """Connect this stream/seqpacket socket to ``listener``: a new socket for the
        server side, queued on the listener's backlog (ECONNREFUSED if not listening)."""
        if self.state == CONNECTED:
            raise SyscallError(errno.EISCONN)
        if self.state == LISTENING:
            raise SyscallError(errno.EINVAL)
        if listener is None or listener.state != LISTENING or listener.type != self.type:
            if listener is not None and listener.type != self.type and listener.state != CLOSED:
                raise SyscallError(errno.EPROTOTYPE if self.family.name == "unix" else errno.ECONNREFUSED)
            raise SyscallError(errno.ECONNREFUSED)
        if self.family.name == "unix" and len(listener.backlog) > listener.max_backlog:
            if nonblock:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock((listener.waitq, _ROOM | POLLHUP | POLLERR))
        server = Socket(listener.family, listener.type, listener.proto, 0, listener.cred)
        server.state = CONNECTED
        server.opts = dict(listener.opts)
        server.passcred = listener.passcred
        server.rcvbuf, server.sndbuf = listener.rcvbuf, listener.sndbuf
        server.peer, self.peer = self, server
        server.peer_cred, self.peer_cred = cred, listener.cred
        self.state = CONNECTED
        self.family.connected(self, server, listener)
        listener.backlog.append(server)
        listener.waitq.notify(_DATA)
        self.waitq.notify(_ROOM)


def socketpair(family, stype: int, proto: int, flags: int, cred):
    a = Socket(family, stype, proto, flags, cred)
    b = Socket(family, stype, proto, flags, cred)
    a.peer, b.peer = b, a
    a.peer_cred = b.peer_cred = cred
    if stype != SOCK_DGRAM:
        a.state = b.state = CONNECTED
    else:
        a.remote, b.remote = b, a
    return a, b


SOCK_TYPES = (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET)
__all__ = ["Socket", "socketpair", "Msg", "Received", "SK_RMEM_DEFAULT", "SK_WMEM_DEFAULT", "SOCK_TYPES"]
