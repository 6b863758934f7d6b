"""AF_INET and AF_INET6 on the guest's private loopback (``--net loopback``).

The guest kernel owns 127.0.0.0/8 and ::1: TCP-like streams and UDP datagrams between
guest sockets, with ports, wildcard binds, EADDRINUSE and ECONNREFUSED as Linux gives
them, and nothing of the host involved.  Addresses are kept as ``(ip16, port)`` with
IPv4 addresses in their v4-mapped IPv6 form (``::ffff:a.b.c.d``), so that a dual-stack
AF_INET6 socket and an AF_INET socket meet in one port table; the socket's family says
how an address is shown to the guest.

Simplifications: no TIME_WAIT (a port is free again once its socket is closed), no
urgent data, listen backlogs never refuse (Linux drops the SYN; the client would retry),
flow labels and scope ids are kept as given and never checked.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.socket import (AF_INET, AF_INET6, AF_UNSPEC, SK_RMEM_DEFAULT, SK_WMEM_DEFAULT,
                              SOCK_DGRAM, SOCK_STREAM)
from umlpy.errors import SyscallError

from .socket import CONNECTED, LISTENING, UNCONNECTED

V4_PREFIX = b"\0" * 10 + b"\xff\xff"
V4_ANY = V4_PREFIX + b"\0\0\0\0"
V4_LOOPBACK = V4_PREFIX + b"\x7f\0\0\x01"
V6_ANY = b"\0" * 16
V6_LOOPBACK = b"\0" * 15 + b"\x01"
EPHEMERAL_LOW, EPHEMERAL_HIGH = 32768, 60999
#: TCP's default buffers (net.ipv4.tcp_wmem/tcp_rmem's middle values).
TCP_SNDBUF, TCP_RCVBUF = 16384, 131072


def is_v4(ip16: bytes) -> bool:
    return ip16[:12] == V4_PREFIX


def is_loopback(ip16: bytes) -> bool:
    return (is_v4(ip16) and ip16[12] == 127) or ip16 == V6_LOOPBACK


class InetFamily:
    """The port tables of the guest's loopback, for one address family's sockets."""

    name = "inet"
    unconnected_pollout = True
    stream_sendto_eisconn = False
    peer_shut_rd_epipe = False
    dgram_no_dest_errno = errno.EDESTADDRREQ
    dgram_drop_when_full = True
    max_dgram_qlen = 1 << 30

    def __init__(self, family: int, tables):
        self.family = family
        self.tables = tables          # shared by both families: {"tcp"|"udp": {port: [sockets]}}

    def default_rcvbuf(self, stype):
        return TCP_RCVBUF if stype == SOCK_STREAM else SK_RMEM_DEFAULT

    def default_sndbuf(self, stype):
        return TCP_SNDBUF if stype == SOCK_STREAM else SK_WMEM_DEFAULT

    def max_dgram(self, sock):
        return 65507 if self.family == AF_INET else 65527

    def _table(self, sock):
        return self.tables["tcp" if sock.type == SOCK_STREAM else "udp"]

    # -- addresses -----------------------------------------------------------------------
    def parse(self, raw: bytes, for_bind=False, sock=None):
        """A sockaddr_in/sockaddr_in6: ``(ip16, port)``; ``None`` for AF_UNSPEC (connect's
        dissolve)."""
        if len(raw) >= 2 and struct.unpack_from("<H", raw)[0] == AF_UNSPEC and not for_bind:
            return None
        if self.family == AF_INET:
            if len(raw) < 16:
                raise SyscallError(errno.EINVAL)
            fam, port = struct.unpack_from("<HH", raw)
            if fam != AF_INET:
                if for_bind and fam == AF_UNSPEC and raw[4:8] == b"\0\0\0\0":
                    fam = AF_INET
                else:
                    raise SyscallError(errno.EAFNOSUPPORT)
            return (V4_PREFIX + bytes(raw[4:8]), _ntohs(port))
        if len(raw) < 24:
            raise SyscallError(errno.EINVAL)
        fam, port = struct.unpack_from("<HH", raw)
        if fam != AF_INET6:
            raise SyscallError(errno.EAFNOSUPPORT if for_bind else errno.EAFNOSUPPORT)
        ip = bytes(raw[8:24])
        if sock is not None and is_v4(ip) and sock.opts.get("v6only"):
            raise SyscallError(errno.EINVAL if for_bind else errno.ENETUNREACH)
        return (ip, _ntohs(port))

    def format(self, addr) -> bytes:
        ip, port = addr if addr is not None else (V4_ANY if self.family == AF_INET else V6_ANY, 0)
        if self.family == AF_INET:
            return struct.pack("<HH", AF_INET, _htons(port)) + ip[12:16] + b"\0" * 8
        return struct.pack("<HHI", AF_INET6, _htons(port), 0) + ip + b"\0\0\0\0"

    def _any(self):
        return V4_ANY if self.family == AF_INET else V6_ANY

    # -- binding -------------------------------------------------------------------------
    def bind(self, sock, addr, caller):
        if sock.local is not None:
            raise SyscallError(errno.EINVAL)
        ip, port = addr
        if not (ip in (V4_ANY, V6_ANY) or is_loopback(ip)):
            raise SyscallError(errno.EADDRNOTAVAIL)
        if port and port < 1024 and caller is not None and (caller.euid if caller.euid is not None else caller.uid):
            raise SyscallError(errno.EACCES)
        self._claim(sock, ip, port)

    def _claim(self, sock, ip, port):
        table = self._table(sock)
        if port == 0:
            port = self._ephemeral(sock, ip, table)
        else:
            for other in table.get(port, ()):
                if other is not sock and _overlap(other, ip, sock) and not _reuse_ok(other, sock):
                    raise SyscallError(errno.EADDRINUSE)
        table.setdefault(port, []).append(sock)
        sock.local = (ip, port)

    def _ephemeral(self, sock, ip, table):
        span = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1
        start = self.tables.setdefault("next", 0)
        for i in range(span):
            port = EPHEMERAL_LOW + (start + i) % span
            if not any(_overlap(o, ip, sock) for o in table.get(port, ())):
                self.tables["next"] = (start + i + 1) % span
                return port
        raise SyscallError(errno.EADDRINUSE)

    def autobind(self, sock):
        self._claim(sock, self._any(), 0)

    def release(self, sock):
        if sock.local is None:
            return
        port = sock.local[1]
        table = self._table(sock)
        users = table.get(port)
        if users and sock in users:
            users.remove(sock)
            if not users:
                del table[port]

    def _find(self, sock, dest, want_listener):
        ip, port = dest
        best = None
        for other in self._table(sock).get(port, ()):
            if want_listener and other.state != LISTENING:
                continue
            if other.local[0] == ip:
                return other
            if _covers(other, ip):
                best = best or other
        return best

    def _route(self, sock, addr):
        """The destination as a loopback address (ENETUNREACH for anything else)."""
        ip, port = addr
        if ip == V4_ANY:
            ip = V4_LOOPBACK
        elif ip == V6_ANY:
            ip = V6_LOOPBACK
        if not is_loopback(ip):
            raise SyscallError(errno.ENETUNREACH)
        if port == 0:
            raise SyscallError(errno.ECONNREFUSED)
        return ip, port

    # -- connections ---------------------------------------------------------------------
    def before_listen(self, sock):
        if sock.local is None:
            self.autobind(sock)

    def connect_stream(self, sock, addr, cred, nonblock):
        """connect(2) of a TCP socket; completes at once (the loopback has no latency) but a
        non-blocking one still answers EINPROGRESS, as Linux's does."""
        if sock.state == CONNECTED:
            if sock.connecting:
                sock.connecting = False
                return 0
            raise SyscallError(errno.EISCONN)
        if sock.connecting:
            sock.connecting = False
            err = sock.take_error()
            if err:
                raise SyscallError(err)
        if addr is None:                       # AF_UNSPEC on an unconnected socket
            return 0
        dest = self._route(sock, addr)
        if sock.local is None or sock.local[0] in (V4_ANY, V6_ANY):
            self._source(sock, dest)
        listener = self._find(sock, dest, True)
        sock.shut_rd = sock.shut_wr = False
        sock.peer_gone = False
        sock.error = 0
        try:
            sock.connect_to(listener, cred, nonblock)
        except SyscallError as e:
            if e.errno != errno.ECONNREFUSED or not nonblock:
                raise
            sock.error = errno.ECONNREFUSED
            sock.shut_rd = sock.shut_wr = True
            sock.connecting = True
            sock.waitq.notify()
            raise SyscallError(errno.EINPROGRESS)
        sock.peer.local = dest
        sock.remote = dest
        if nonblock:
            sock.connecting = True
            raise SyscallError(errno.EINPROGRESS)
        return 0

    def _source(self, sock, dest):
        """The local address of a connecting socket: the loopback address of the
        destination's family, an ephemeral port when unbound."""
        src = dest[0] if dest[0] != V4_LOOPBACK and is_v4(dest[0]) else dest[0]
        if sock.local is None:
            self._claim(sock, src, 0)
        else:
            sock.local = (src, sock.local[1])

    def connected(self, client, server, listener):
        server.remote = client.local
        server.opts = dict(listener.opts)

    def connect_dgram(self, sock, addr, caller):
        if addr is None:
            sock.remote = None
            sock.peer = None
            sock.state = UNCONNECTED
            return
        dest = self._route(sock, addr)
        if sock.local is None:
            self._claim(sock, dest[0], 0)
        elif sock.local[0] in (V4_ANY, V6_ANY):
            sock.local = (dest[0], sock.local[1])
        sock.remote = dest
        sock.state = CONNECTED
        sock.error = 0

    def dgram_peer(self, sock):
        if sock.error:
            raise SyscallError(sock.take_error())
        return self._udp_target(sock, sock.remote, connected=True), _effective_local(sock, sock.remote)

    def dgram_target(self, sock, addr, caller=None):
        dest = self._route(sock, addr)
        return self._udp_target(sock, dest, connected=sock.remote is not None), _effective_local(sock, dest)

    def _udp_target(self, sock, dest, connected):
        if sock.local is None:
            self.autobind(sock)
        target = self._find(sock, dest, False)
        if target is not None and target.remote is not None:
            if target.remote != _effective_local(sock, dest):
                target = None
        if target is None and connected and dest == sock.remote:
            sock.error = errno.ECONNREFUSED      # the ICMP port-unreachable of a connected socket
        return target

    def sender_address(self, sock, dest):
        return _effective_local(sock, dest)

    def peer_address(self, sock):
        if sock.state != CONNECTED or sock.remote is None:
            raise SyscallError(errno.ENOTCONN)
        return sock.remote


def _effective_local(sock, dest):
    ip, port = sock.local
    if ip in (V4_ANY, V6_ANY):
        ip = dest[0]
    return (ip, port)


def _covers(sock, ip) -> bool:
    """Whether ``sock``'s wildcard bind receives for ``ip``."""
    lip = sock.local[0]
    if lip == V4_ANY:
        return is_v4(ip)
    if lip == V6_ANY:
        return not is_v4(ip) or not sock.opts.get("v6only")
    return False


def _overlap(other, ip, sock) -> bool:
    oip = other.local[0]
    if oip == ip:
        if ip == V6_ANY:
            return True
        return True
    if oip == V6_ANY and not other.opts.get("v6only") and is_v4(ip):
        return True
    if ip == V6_ANY and not sock.opts.get("v6only") and is_v4(oip):
        return True
    if oip == V6_ANY and not is_v4(ip):
        return True
    if ip == V6_ANY and not is_v4(oip):
        return True
    if oip == V4_ANY and is_v4(ip):
        return True
    if ip == V4_ANY and is_v4(oip):
        return True
    return False


def _reuse_ok(other, sock) -> bool:
    if other.opts.get("reuseport") and sock.opts.get("reuseport"):
        return True
    if other.opts.get("reuseaddr") and sock.opts.get("reuseaddr"):
        return sock.type == SOCK_DGRAM or other.state != LISTENING
    return False


def _htons(v):
    return ((v & 0xFF) << 8) | (v >> 8)


_ntohs = _htons

__all__ = ["InetFamily", "SOCK_DGRAM"]
