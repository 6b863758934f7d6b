"""The guest kernel's networking: sockets as files, AF_UNIX, the private loopback, netlink.

Layer: above fs (a socket is a File, a path socket an inode of the VFS), below syscalls.
:class:`NetStack` is one guest kernel's network namespace: the abstract AF_UNIX names,
the loopback's port tables and netlink port ids.  ``mode`` is ``--net``'s value:
``loopback`` (inet sockets on the guest's own 127.0.0.0/8 and ::1) or ``none`` (inet
sockets refused with EAFNOSUPPORT).
"""

from umlpy.abi.socket import AF_INET, AF_INET6

from .inet import InetFamily
from .netlink import NetlinkFamily
from .socket import Socket, socketpair
from .unix import UnixFamily

MODES = ("loopback", "none")


class NetStack:
    """The network namespace of one guest kernel."""

    def __init__(self, vfs, mode: str = "loopback"):
        if mode not in MODES:
            raise ValueError("--net %s: one of %s" % (mode, ", ".join(MODES)))
        self.mode = mode
        self.unix = UnixFamily(vfs)
        tables = {"tcp": {}, "udp": {}}
        self.inet = InetFamily(AF_INET, tables)
        self.inet6 = InetFamily(AF_INET6, tables)
        self.netlink = NetlinkFamily()


__all__ = ["NetStack", "Socket", "socketpair", "MODES"]
