"""AF_NETLINK, NETLINK_ROUTE only: link and address dumps of the guest's one interface, lo.

Enough for getifaddrs, if_nameindex and getaddrinfo's AI_ADDRCONFIG: RTM_GETLINK and
RTM_GETADDR dumps answer lo (index 1) with 127.0.0.1/8 and ::1/128; every other request
gets an NLMSG_ERROR carrying EOPNOTSUPP, as a kernel without that family would.
Addresses are ``(port_id, groups)``.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.socket import (AF_INET, AF_INET6, AF_NETLINK, AF_UNSPEC, ARPHRD_LOOPBACK, IFA_ADDRESS,
                              IFA_F_PERMANENT, IFA_LABEL, IFA_LOCAL, IFADDRMSG, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING,
                              IFF_UP, IFINFOMSG, IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_MTU, IFLA_TXQLEN,
                              NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSGHDR,
                              RT_SCOPE_HOST, RTATTR, RTM_GETADDR, RTM_GETLINK, RTM_NEWADDR, RTM_NEWLINK,
                              SK_RMEM_DEFAULT, SK_WMEM_DEFAULT, SOCKADDR_NL)
from umlpy.errors import SyscallError

from .socket import Msg

KERNEL = (0, 0)


def _align4(n):
    return (n + 3) & ~3


def _attr(kind, payload: bytes) -> bytes:
    a = RTATTR.pack(RTATTR.size + len(payload), kind) + payload
    return a + b"\0" * (_align4(len(a)) - len(a))


def _nlmsg(kind, flags, seq, pid, body: bytes) -> bytes:
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, flags, seq, pid) + body


def _links(seq, pid):
    body = IFINFOMSG.pack(AF_UNSPEC, ARPHRD_LOOPBACK, 1, IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP, 0)
    body += _attr(IFLA_IFNAME, b"lo\0") + _attr(IFLA_TXQLEN, struct.pack("<I", 1000))
    body += _attr(IFLA_MTU, struct.pack("<I", 65536))
    body += _attr(IFLA_ADDRESS, b"\0" * 6) + _attr(IFLA_BROADCAST, b"\0" * 6)
    return [_nlmsg(RTM_NEWLINK, NLM_F_MULTI, seq, pid, body)]


def _addrs(seq, pid, family):
    out = []
    if family in (AF_UNSPEC, AF_INET):
        body = IFADDRMSG.pack(AF_INET, 8, IFA_F_PERMANENT, RT_SCOPE_HOST, 1)
        ip = bytes([127, 0, 0, 1])
        body += _attr(IFA_ADDRESS, ip) + _attr(IFA_LOCAL, ip) + _attr(IFA_LABEL, b"lo\0")
        out.append(_nlmsg(RTM_NEWADDR, NLM_F_MULTI, seq, pid, body))
    if family in (AF_UNSPEC, AF_INET6):
        body = IFADDRMSG.pack(AF_INET6, 128, IFA_F_PERMANENT, RT_SCOPE_HOST, 1)
        body += _attr(IFA_ADDRESS, b"\0" * 15 + b"\1")
        out.append(_nlmsg(RTM_NEWADDR, NLM_F_MULTI, seq, pid, body))
    return out


class NetlinkFamily:
    """NETLINK_ROUTE's port ids for one guest kernel."""

    name = "netlink"
    family = AF_NETLINK
    unconnected_pollout = True
    stream_sendto_eisconn = False
    peer_shut_rd_epipe = False
    dgram_no_dest_errno = errno.ENOTCONN
    dgram_drop_when_full = True
    max_dgram_qlen = 1 << 30

    def __init__(self):
        self.ports = {}

    def default_rcvbuf(self, stype):
        return SK_RMEM_DEFAULT

    def default_sndbuf(self, stype):
        return SK_WMEM_DEFAULT

    def max_dgram(self, sock):
        return 1 << 20

    def parse(self, raw: bytes, for_bind=False, sock=None):
        if len(raw) < SOCKADDR_NL.size:
            raise SyscallError(errno.EINVAL)
        fam, _, pid, groups = SOCKADDR_NL.unpack_from(raw)
        if fam != AF_NETLINK:
            raise SyscallError(errno.EINVAL)
        return (pid, groups)

    def format(self, addr) -> bytes:
        pid, groups = addr if addr is not None else (0, 0)
        return SOCKADDR_NL.pack(AF_NETLINK, 0, pid, groups)

    def bind(self, sock, addr, caller):
        pid, groups = addr
        if sock.local is not None:
            if pid and pid != sock.local[0]:
                raise SyscallError(errno.EINVAL)
            return
        if pid:
            if pid in self.ports:
                raise SyscallError(errno.EADDRINUSE)
            self.ports[pid] = sock
            sock.local = (pid, groups)
        else:
            self.autobind(sock)

    def autobind(self, sock):
        pid = sock.owner_pid
        if pid in self.ports:
            pid = -4096
            while pid in self.ports:
                pid -= 1
            pid &= 0xFFFFFFFF
        self.ports[pid] = sock
        sock.local = (pid, 0)

    def release(self, sock):
        if sock.local is not None and self.ports.get(sock.local[0]) is sock:
            del self.ports[sock.local[0]]

    def before_listen(self, sock):
        raise SyscallError(errno.EOPNOTSUPP)

    def connect_dgram(self, sock, addr, caller):
        if sock.local is None:
            self.autobind(sock)
        sock.remote = addr

    def dgram_peer(self, sock):
        return None, sock.local

    def dgram_target(self, sock, addr, caller=None):
        if addr[0] != 0:
            raise SyscallError(errno.ECONNREFUSED)
        return None, sock.local

    def peer_address(self, sock):
        return sock.remote or KERNEL

    def requests(self, sock, data: bytes):
        """Answer the requests in ``data`` into ``sock``'s receive queue."""
        if sock.local is None:
            self.autobind(sock)
        pid = sock.local[0]
        off = 0
        while off + NLMSGHDR.size <= len(data):
            ln, kind, flags, seq, _ = NLMSGHDR.unpack_from(data, off)
            if ln < NLMSGHDR.size or off + ln > len(data):
                break
            body = data[off + NLMSGHDR.size:off + ln]
            if flags & NLM_F_REQUEST and flags & NLM_F_DUMP == NLM_F_DUMP and kind in (RTM_GETLINK, RTM_GETADDR):
                if kind == RTM_GETLINK:
                    parts = _links(seq, pid)
                else:
                    parts = _addrs(seq, pid, body[0] if body else AF_UNSPEC)
                self._queue(sock, b"".join(parts))
                self._queue(sock, _nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, pid, struct.pack("<i", 0)))
            elif flags & NLM_F_REQUEST:
                err = struct.pack("<i", -errno.EOPNOTSUPP) + bytes(data[off:off + NLMSGHDR.size])
                self._queue(sock, _nlmsg(NLMSG_ERROR, 0, seq, pid, err))
            off += _align4(ln)

    def _queue(self, sock, payload):
        sock.rx.append(Msg(payload, KERNEL))
        sock.rx_bytes += len(payload)
        sock.waitq.notify(0x41)
