"""Socket ABI: families, types, levels, options, message flags and structure layouts
(include/linux/socket.h, include/uapi/linux/{un,in,in6,tcp,netlink,rtnetlink,if_link}.h,
include/uapi/asm-generic/socket.h, include/uapi/asm-generic/sockios.h)."""

import enum
import struct


class AF(enum.IntEnum):
    AF_UNSPEC = 0
    AF_UNIX = 1
    AF_INET = 2
    AF_AX25 = 3
    AF_IPX = 4
    AF_APPLETALK = 5
    AF_NETROM = 6
    AF_BRIDGE = 7
    AF_ATMPVC = 8
    AF_X25 = 9
    AF_INET6 = 10
    AF_ROSE = 11
    AF_DECnet = 12
    AF_NETBEUI = 13
    AF_SECURITY = 14
    AF_KEY = 15
    AF_NETLINK = 16
    AF_PACKET = 17
    AF_ASH = 18
    AF_ECONET = 19
    AF_ATMSVC = 20
    AF_RDS = 21
    AF_SNA = 22
    AF_IRDA = 23
    AF_PPPOX = 24
    AF_WANPIPE = 25
    AF_LLC = 26
    AF_IB = 27
    AF_MPLS = 28
    AF_CAN = 29
    AF_TIPC = 30
    AF_BLUETOOTH = 31
    AF_IUCV = 32
    AF_RXRPC = 33
    AF_ISDN = 34
    AF_PHONET = 35
    AF_IEEE802154 = 36
    AF_CAIF = 37
    AF_ALG = 38
    AF_NFC = 39
    AF_VSOCK = 40
    AF_KCM = 41
    AF_QIPCRTR = 42
    AF_SMC = 43
    AF_XDP = 44
    AF_MCTP = 45


AF_UNSPEC, AF_UNIX, AF_INET, AF_INET6, AF_NETLINK = 0, 1, 2, 10, 16
AF_MAX = 46


class SOCK(enum.IntEnum):
    SOCK_STREAM = 1
    SOCK_DGRAM = 2
    SOCK_RAW = 3
    SOCK_RDM = 4
    SOCK_SEQPACKET = 5
    SOCK_DCCP = 6
    SOCK_PACKET = 10


SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_TYPE_MASK = 0xF
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000


class SockFlag(enum.IntFlag):
    SOCK_NONBLOCK = 0o4000
    SOCK_CLOEXEC = 0o2000000


class MSG(enum.IntFlag):
    MSG_OOB = 0x1
    MSG_PEEK = 0x2
    MSG_DONTROUTE = 0x4
    MSG_CTRUNC = 0x8
    MSG_PROBE = 0x10
    MSG_TRUNC = 0x20
    MSG_DONTWAIT = 0x40
    MSG_EOR = 0x80
    MSG_WAITALL = 0x100
    MSG_FIN = 0x200
    MSG_SYN = 0x400
    MSG_CONFIRM = 0x800
    MSG_RST = 0x1000
    MSG_ERRQUEUE = 0x2000
    MSG_NOSIGNAL = 0x4000
    MSG_MORE = 0x8000
    MSG_WAITFORONE = 0x10000
    MSG_BATCH = 0x40000
    MSG_ZEROCOPY = 0x4000000
    MSG_FASTOPEN = 0x20000000
    MSG_CMSG_CLOEXEC = 0x40000000


MSG_OOB, MSG_PEEK, MSG_CTRUNC, MSG_TRUNC, MSG_DONTWAIT = 0x1, 0x2, 0x8, 0x20, 0x40
MSG_EOR, MSG_WAITALL, MSG_NOSIGNAL, MSG_MORE, MSG_WAITFORONE = 0x80, 0x100, 0x4000, 0x8000, 0x10000
MSG_ERRQUEUE, MSG_CMSG_CLOEXEC = 0x2000, 0x40000000

SHUT_RD, SHUT_WR, SHUT_RDWR = 0, 1, 2


class SHUT(enum.IntEnum):
    SHUT_RD = 0
    SHUT_WR = 1
    SHUT_RDWR = 2


# Levels.
SOL_IP, SOL_SOCKET, SOL_TCP, SOL_UDP, SOL_IPV6, SOL_NETLINK = 0, 1, 6, 17, 41, 270


class IPPROTO(enum.IntEnum):
    IPPROTO_IP = 0
    IPPROTO_ICMP = 1
    IPPROTO_TCP = 6
    IPPROTO_UDP = 17
    IPPROTO_IPV6 = 41
    IPPROTO_ICMPV6 = 58
    IPPROTO_SCTP = 132
    IPPROTO_UDPLITE = 136
    IPPROTO_RAW = 255


IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6 = 0, 6, 17, 41


class SO(enum.IntEnum):
    """SOL_SOCKET options."""
    SO_DEBUG = 1
    SO_REUSEADDR = 2
    SO_TYPE = 3
    SO_ERROR = 4
    SO_DONTROUTE = 5
    SO_BROADCAST = 6
    SO_SNDBUF = 7
    SO_RCVBUF = 8
    SO_KEEPALIVE = 9
    SO_OOBINLINE = 10
    SO_NO_CHECK = 11
    SO_PRIORITY = 12
    SO_LINGER = 13
    SO_BSDCOMPAT = 14
    SO_REUSEPORT = 15
    SO_PASSCRED = 16
    SO_PEERCRED = 17
    SO_RCVLOWAT = 18
    SO_SNDLOWAT = 19
    SO_RCVTIMEO_OLD = 20
    SO_SNDTIMEO_OLD = 21
    SO_BINDTODEVICE = 25
    SO_ATTACH_FILTER = 26
    SO_DETACH_FILTER = 27
    SO_PEERNAME = 28
    SO_TIMESTAMP_OLD = 29
    SO_ACCEPTCONN = 30
    SO_PEERSEC = 31
    SO_SNDBUFFORCE = 32
    SO_RCVBUFFORCE = 33
    SO_PASSSEC = 34
    SO_TIMESTAMPNS_OLD = 35
    SO_MARK = 36
    SO_TIMESTAMPING_OLD = 37
    SO_PROTOCOL = 38
    SO_DOMAIN = 39
    SO_RXQ_OVFL = 40
    SO_WIFI_STATUS = 41
    SO_PEEK_OFF = 42
    SO_NOFCS = 43
    SO_LOCK_FILTER = 44
    SO_SELECT_ERR_QUEUE = 45
    SO_BUSY_POLL = 46
    SO_MAX_PACING_RATE = 47
    SO_BPF_EXTENSIONS = 48
    SO_INCOMING_CPU = 49
    SO_ATTACH_BPF = 50
    SO_ATTACH_REUSEPORT_CBPF = 51
    SO_ATTACH_REUSEPORT_EBPF = 52
    SO_CNX_ADVICE = 53
    SO_MEMINFO = 55
    SO_INCOMING_NAPI_ID = 56
    SO_COOKIE = 57
    SO_PEERGROUPS = 59
    SO_ZEROCOPY = 60
    SO_TXTIME = 61
    SO_BINDTOIFINDEX = 62
    SO_DETACH_REUSEPORT_BPF = 68
    SO_PREFER_BUSY_POLL = 69
    SO_BUSY_POLL_BUDGET = 70
    SO_NETNS_COOKIE = 71
    SO_BUF_LOCK = 72
    SO_RESERVE_MEM = 73
    SO_TXREHASH = 74
    SO_RCVMARK = 75
    SO_PASSPIDFD = 76
    SO_PEERPIDFD = 77


class TCPOPT(enum.IntEnum):
    """SOL_TCP options (include/uapi/linux/tcp.h)."""
    TCP_NODELAY = 1
    TCP_MAXSEG = 2
    TCP_CORK = 3
    TCP_KEEPIDLE = 4
    TCP_KEEPINTVL = 5
    TCP_KEEPCNT = 6
    TCP_SYNCNT = 7
    TCP_LINGER2 = 8
    TCP_DEFER_ACCEPT = 9
    TCP_WINDOW_CLAMP = 10
    TCP_INFO = 11
    TCP_QUICKACK = 12
    TCP_CONGESTION = 13
    TCP_MD5SIG = 14
    TCP_THIN_LINEAR_TIMEOUTS = 16
    TCP_THIN_DUPACK = 17
    TCP_USER_TIMEOUT = 18
    TCP_REPAIR = 19
    TCP_FASTOPEN = 23
    TCP_TIMESTAMP = 24
    TCP_NOTSENT_LOWAT = 25
    TCP_FASTOPEN_CONNECT = 30


class IPOPT(enum.IntEnum):
    """SOL_IP options (include/uapi/linux/in.h)."""
    IP_TOS = 1
    IP_TTL = 2
    IP_HDRINCL = 3
    IP_OPTIONS = 4
    IP_RECVOPTS = 6
    IP_RETOPTS = 7
    IP_PKTINFO = 8
    IP_MTU_DISCOVER = 10
    IP_RECVERR = 11
    IP_RECVTTL = 12
    IP_RECVTOS = 13
    IP_MTU = 14
    IP_FREEBIND = 15
    IP_TRANSPARENT = 19
    IP_BIND_ADDRESS_NO_PORT = 24
    IP_MULTICAST_IF = 32
    IP_MULTICAST_TTL = 33
    IP_MULTICAST_LOOP = 34
    IP_ADD_MEMBERSHIP = 35
    IP_DROP_MEMBERSHIP = 36


class IPV6OPT(enum.IntEnum):
    """SOL_IPV6 options (include/uapi/linux/in6.h)."""
    IPV6_ADDRFORM = 1
    IPV6_2292PKTINFO = 2
    IPV6_CHECKSUM = 7
    IPV6_UNICAST_HOPS = 16
    IPV6_MULTICAST_IF = 17
    IPV6_MULTICAST_HOPS = 18
    IPV6_MULTICAST_LOOP = 19
    IPV6_JOIN_GROUP = 20
    IPV6_LEAVE_GROUP = 21
    IPV6_MTU_DISCOVER = 23
    IPV6_MTU = 24
    IPV6_RECVERR = 25
    IPV6_V6ONLY = 26
    IPV6_RECVPKTINFO = 49
    IPV6_PKTINFO = 50
    IPV6_RECVHOPLIMIT = 51
    IPV6_HOPLIMIT = 52
    IPV6_RECVTCLASS = 66
    IPV6_TCLASS = 67


SCM_RIGHTS, SCM_CREDENTIALS = 1, 2


class SCM(enum.IntEnum):
    SCM_RIGHTS = 1
    SCM_CREDENTIALS = 2


#: struct sockaddr_un: sa_family + sun_path[108].
UNIX_PATH_MAX = 108
SOCKADDR_UN_SIZE = 110
SOCKADDR_IN_SIZE = 16
SOCKADDR_IN6_SIZE = 28
#: sockaddr_storage.
SOCKADDR_MAX = 128
#: struct msghdr (64-bit): name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad).
MSGHDR = struct.Struct("<QI4xQQQQi4x")
#: struct mmsghdr: msghdr + msg_len (+pad).
MMSGHDR_SIZE = 64
#: struct cmsghdr: cmsg_len (size_t), cmsg_level, cmsg_type.
CMSGHDR = struct.Struct("<Qii")
#: struct ucred: pid, uid, gid.
UCRED = struct.Struct("<iII")
#: struct linger: l_onoff, l_linger.
LINGER = struct.Struct("<ii")
#: SCM_MAX_FD: the most fds one SCM_RIGHTS message carries.
SCM_MAX_FD = 253
#: UIO_MAXIOV, the most iovecs or mmsghdrs a call takes.
UIO_MAXIOV = 1024
#: SOMAXCONN (net.core.somaxconn's default since 5.4).
SOMAXCONN = 4096


def cmsg_align(n: int) -> int:
    return (n + 7) & ~7


def cmsg_len(n: int) -> int:
    return CMSGHDR.size + n


def cmsg_space(n: int) -> int:
    return CMSGHDR.size + cmsg_align(n)


# ioctls (include/uapi/asm-generic/sockios.h, include/uapi/linux/sockios.h).
SIOCINQ = 0x541B            # FIONREAD
SIOCOUTQ = 0x5411           # TIOCOUTQ
SIOCGIFNAME = 0x8910
SIOCGIFCONF = 0x8912
SIOCGIFFLAGS = 0x8913
SIOCGIFADDR = 0x8915
SIOCGIFINDEX = 0x8933
SIOCATMARK = 0x8905

# Buffer sizes (net.core.[rw]mem_default 212992; getsockopt reports what was set doubled).
SK_RMEM_DEFAULT = 212992
SK_WMEM_DEFAULT = 212992
SK_MEM_MAX = 212992
SOCK_MIN_RCVBUF = 2304
SOCK_MIN_SNDBUF = 4608

# Netlink (include/uapi/linux/netlink.h, rtnetlink.h).
NETLINK_ROUTE = 0
NLMSGHDR = struct.Struct("<IHHII")     # len, type, flags, seq, pid
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ROOT, NLM_F_MATCH = 1, 2, 4, 0x100, 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
RTM_NEWLINK, RTM_GETLINK, RTM_NEWADDR, RTM_GETADDR = 16, 18, 20, 22
IFINFOMSG = struct.Struct("<BxHiII")   # family, type, index, flags, change
IFADDRMSG = struct.Struct("<BBBBI")    # family, prefixlen, flags, scope, index
RTATTR = struct.Struct("<HH")
IFLA_ADDRESS, IFLA_BROADCAST, IFLA_IFNAME, IFLA_MTU, IFLA_TXQLEN = 1, 2, 3, 4, 13
IFA_ADDRESS, IFA_LOCAL, IFA_LABEL = 1, 2, 3
IFF_UP, IFF_LOOPBACK, IFF_RUNNING, IFF_LOWER_UP = 0x1, 0x8, 0x40, 0x10000
ARPHRD_LOOPBACK = 772
RT_SCOPE_HOST = 254
IFA_F_PERMANENT = 0x80
SOCKADDR_NL = struct.Struct("<HHII")   # family, pad, pid, groups
