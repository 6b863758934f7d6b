"""AF_UNIX: the guest kernel's own local sockets (net/unix/af_unix.c).

Addresses are ``None`` (unnamed), ``(b"path", path_bytes)`` for a name in the guest's
file tree (bound through the VFS as a socket inode whose ``socket`` attribute is the
bound socket) or ``(b"abstract", name_bytes)`` for the abstract namespace (the name
without its leading NUL, kept in :attr:`UnixFamily.abstract`).  A path socket's inode
outlives the socket (connect then answers ECONNREFUSED) until it is unlinked.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.socket import (AF_UNIX, SK_RMEM_DEFAULT, SK_WMEM_DEFAULT, SOCK_DGRAM, UNIX_PATH_MAX)
from umlpy.abi import stat as st
from umlpy.errors import SyscallError

from .socket import CLOSED, CONNECTED, LISTENING

PATH, ABSTRACT = b"path", b"abstract"


class UnixFamily:
    """AF_UNIX addressing for one guest kernel."""

    name = "unix"
    family = AF_UNIX
    unconnected_pollout = True
    stream_sendto_eisconn = False
    peer_shut_rd_epipe = True
    dgram_no_dest_errno = errno.ENOTCONN
    dgram_drop_when_full = False
    max_dgram_qlen = 512

    def __init__(self, vfs):
        self.vfs = vfs
        self.abstract = {}
        self._autobind = 0

    def default_rcvbuf(self, stype):
        return SK_RMEM_DEFAULT

    def default_sndbuf(self, stype):
        return SK_WMEM_DEFAULT

    def max_dgram(self, sock):
        return sock.sndbuf - 32

    # -- addresses -----------------------------------------------------------------------
    def parse(self, raw: bytes, for_bind=False, sock=None):
        """A sockaddr_un from the guest: an address, or None for bind's autobind."""
        if len(raw) < 2 or len(raw) > 2 + UNIX_PATH_MAX:
            raise SyscallError(errno.EINVAL)
        if struct.unpack_from("<H", raw)[0] != AF_UNIX:
            raise SyscallError(errno.EINVAL)
        body = raw[2:]
        if not body:
            if for_bind:
                return None
            raise SyscallError(errno.EINVAL)
        if body[0] == 0:
            return (ABSTRACT, bytes(body[1:]))
        path = body.split(b"\0", 1)[0]
        return (PATH, bytes(path))

    def format(self, addr) -> bytes:
        if addr is None:
            return struct.pack("<H", AF_UNIX)
        kind, name = addr
        if kind == ABSTRACT:
            return struct.pack("<H", AF_UNIX) + b"\0" + name
        return struct.pack("<H", AF_UNIX) + name + b"\0"

    # -- binding -------------------------------------------------------------------------
    def bind(self, sock, addr, caller):
        if sock.local is not None:
            if addr is not None and addr[0] == PATH:
                try:
                    self.vfs.resolve(caller, addr[1], follow=False)
                    raise SyscallError(errno.EADDRINUSE)     # unix_bind_bsd makes the node first
                except SyscallError as e:
                    if e.errno == errno.EADDRINUSE:
                        raise
            raise SyscallError(errno.EINVAL)
        if addr is None:
            self.autobind(sock)
            return
        kind, name = addr
        if kind == ABSTRACT:
            if name in self.abstract:
                raise SyscallError(errno.EADDRINUSE)
            self.abstract[name] = sock
        else:
            try:
                node = self.vfs.mknod(caller, name, st.S_IFSOCK | 0o777)
            except SyscallError as e:
                if e.errno == errno.EEXIST:
                    raise SyscallError(errno.EADDRINUSE)
                raise
            node.socket = sock
            sock.bound_node = node
        sock.local = addr

    def autobind(self, sock):
        """A name in the abstract namespace of five hex digits (unix_autobind)."""
        for _ in range(0x100000):
            self._autobind = (self._autobind + 1) & 0xFFFFF
            name = b"%05x" % self._autobind
            if name not in self.abstract:
                self.abstract[name] = sock
                sock.local = (ABSTRACT, name)
                return
        raise SyscallError(errno.ENOSPC)

    def release(self, sock):
        addr = sock.local
        if addr is None:
            return
        if addr[0] == ABSTRACT:
            if self.abstract.get(addr[1]) is sock:
                del self.abstract[addr[1]]
        else:
            node = getattr(sock, "bound_node", None)
            if node is not None and node.socket is sock:
                node.socket = None

    def lookup(self, addr, caller, stype):
        """The socket bound at ``addr``: ENOENT/ECONNREFUSED as Linux's unix_find_other."""
        kind, name = addr
        if kind == ABSTRACT:
            s = self.abstract.get(name)
            if s is None:
                raise SyscallError(errno.ECONNREFUSED)
        else:
            r = self.vfs.resolve(caller, name)
            node = r.node
            if node is None:
                raise SyscallError(errno.ENOENT)
            from umlpy.fs import perm
            perm.check(caller, node.stat(), perm.W_OK)
            if node.stat().st_mode & st.S_IFMT != st.S_IFSOCK:
                raise SyscallError(errno.ECONNREFUSED)
            s = getattr(node, "socket", None)
            if s is None:
                raise SyscallError(errno.ECONNREFUSED)
        if s.state == CLOSED:
            raise SyscallError(errno.ECONNREFUSED)
        if s.type != stype:
            # A path finds the socket and then checks its type; the abstract namespace
            # is searched by name and type together (unix_find_socket_byname).
            raise SyscallError(errno.EPROTOTYPE if kind == PATH else errno.ECONNREFUSED)
        return s

    # -- connections ---------------------------------------------------------------------
    def before_listen(self, sock):
        if sock.local is None:
            raise SyscallError(errno.EINVAL)

    def connected(self, client, server, listener):
        server.local = listener.local
        client.remote = listener.local
        server.remote = client.local

    def connect_dgram(self, sock, addr, caller):
        target = self.lookup(addr, caller, SOCK_DGRAM)
        sock.peer = target
        sock.remote = addr
        sock.state = CONNECTED
        sock.waitq.notify()

    def dgram_peer(self, sock):
        peer = sock.peer
        if peer is None or peer.state == CLOSED:
            sock.peer = None
            raise SyscallError(errno.ECONNREFUSED if peer is not None else errno.ENOTCONN)
        self._may_send(sock, peer)
        return peer, sock.local

    def dgram_target(self, sock, addr, caller):
        target = self.lookup(addr, caller, SOCK_DGRAM)
        self._may_send(sock, target)
        return target, sock.local

    def _may_send(self, sock, target):
        if target.peer is not None and target.peer is not sock and target.peer.state != CLOSED:
            raise SyscallError(errno.EPERM)

    def peer_address(self, sock):
        if sock.state != CONNECTED:
            raise SyscallError(errno.ENOTCONN)
        if sock.type == SOCK_DGRAM:
            return sock.peer.local if sock.peer is not None else None
        peer = sock.peer
        if peer is None:
            return sock.remote
        return peer.local


def is_listening(sock) -> bool:
    return sock.state == LISTENING
