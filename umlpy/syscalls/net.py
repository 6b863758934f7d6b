"""Socket system calls: socket, socketpair, bind, listen, accept, connect, the send and
receive families, shutdown, getsockopt/setsockopt (net/socket.c, net/core/sock.c, net/core/scm.c).

The sockets are :mod:`umlpy.net`'s; these handlers copy addresses, msghdrs and control
messages in and out of guest memory, check arguments in Linux's order, install passed
and accepted files, and keep a blocking transfer's progress across waits
(:class:`SockBlock`).  A socket call on an fd that is not a socket answers ENOTSOCK.
"""

import errno
import struct

from umlpy.abi.signal import Sig
from umlpy.abi.socket import (AF_INET, AF_INET6, AF_MAX, AF_NETLINK, AF_UNIX, AF_UNSPEC, CMSGHDR, LINGER,
                              MMSGHDR_SIZE, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_NOSIGNAL,
                              MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, MSG_WAITFORONE, MSGHDR, NETLINK_ROUTE,
                              SCM_CREDENTIALS, SCM_MAX_FD, SCM_RIGHTS, SK_MEM_MAX, SOCK_CLOEXEC, SOCK_DGRAM,
                              SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM,
                              SOCK_TYPE_MASK, SOCKADDR_MAX, SOL_IP, SOL_IPV6, SOL_NETLINK, SOL_SOCKET, SOL_TCP, SOL_UDP,
                              SOMAXCONN, SO, TCPOPT, IPOPT, IPV6OPT, UCRED, UIO_MAXIOV, cmsg_align, cmsg_len,
                              cmsg_space, IPPROTO_TCP, IPPROTO_UDP)
from umlpy.abi.fs import MAX_RW_COUNT as MAX_RW
from umlpy.errors import SyscallError
from umlpy.kernel.restart import RestartBlock
from umlpy.net import NetStack, Socket, socketpair as make_pair
from umlpy.net.socket import CONNECTED, LISTENING, Received
from umlpy.waiter import WouldBlock

from .table import partial, supported

E = SyscallError
SIGPIPE = Sig.SIGPIPE
_I32 = struct.Struct("<i")
_TIMEVAL = struct.Struct("<qq")
#: The SCM_CREDENTIALS of a record with none (overflowuid/gid, pid 0).
_NO_CRED = (0, 65534, 65534)


# --- helpers --------------------------------------------------------------------------------
def stack(t) -> NetStack:
    """The guest kernel's network namespace, made on first use."""
    k = t.kernel
    net = getattr(k, "net", None)
    if net is None:
        net = k.net = NetStack(k.vfs, getattr(k, "net_mode", "loopback"))
    return net


def _sock(t, fd) -> Socket:
    f = t.files.get(fd)
    if not isinstance(f, Socket):
        raise E(errno.ENOTSOCK)
    return f


def _cred(t):
    c = t.group.creds
    return (t.group.tgid, c.uid, c.gid)


def _peer_cred(t):
    """SO_PEERCRED's view of a task: its effective ids (cred_to_ucred)."""
    c = t.group.creds
    return (t.group.tgid, c.euid, c.egid)


def _read_addr(t, ptr, ln, sock, for_bind=False):
    if ln < 0 or ln > SOCKADDR_MAX:
        raise E(errno.EINVAL)
    raw = t.mm.read(ptr, ln) if ln else b""
    return sock.family.parse(raw, for_bind=for_bind, sock=sock)


def _write_addr(t, ptr, lenptr, raw: bytes):
    """move_addr_to_user: copy what fits, store the full length."""
    if not ptr:
        return
    ulen = _I32.unpack(t.mm.read(lenptr, 4))[0]
    if ulen < 0:
        raise E(errno.EINVAL)
    if ulen and raw:
        t.mm.write(ptr, raw[:ulen])
    t.mm.write(lenptr, _I32.pack(len(raw)))


def _iovecs(t, ptr, cnt):
    if cnt > UIO_MAXIOV:
        raise E(errno.EMSGSIZE)
    if cnt == 0:
        return []
    vec = list(struct.iter_unpack("<QQ", t.mm.read(ptr, 16 * cnt)))
    total = 0
    for _, ln in vec:
        if ln > 0x7FFFFFFFFFFFFFFF:
            raise E(errno.EINVAL)
        total += ln
    if total > 0x7FFFFFFFFFFFFFFF:
        raise E(errno.EINVAL)
    return vec


def _gather(t, vec, skip=0):
    parts, total = [], 0
    for base, ln in vec:
        ln = min(ln, MAX_RW - total)
        if skip >= ln:
            skip -= ln
            total += ln
            continue
        if ln:
            parts.append(t.mm.read(base + skip, ln - skip))
            total += ln
            skip = 0
    return b"".join(parts)


def _scatter(t, vec, data, skip=0):
    off = 0
    for base, ln in vec:
        if skip >= ln:
            skip -= ln
            continue
        if off >= len(data):
            break
        chunk = data[off:off + ln - skip]
        t.mm.write(base + skip, chunk)
        off += len(chunk)
        skip = 0
    return off


class SockBlock(RestartBlock):
    """A blocking socket transfer across waits: the bytes (or messages) done so far and the
    SO_RCVTIMEO/SO_SNDTIMEO deadline."""

    __slots__ = ("done", "deadline", "fds")

    def __init__(self):
        self.done = 0
        self.deadline = None
        self.fds = None

    def cancel(self):
        fds, self.fds = self.fds, None
        for f in fds or ():
            f.put_ref()

    def interrupted(self):
        if self.done:
            return self.done
        raise E(errno.EINTR)


def _block(t) -> SockBlock:
    rb = t.restart_block
    if not isinstance(rb, SockBlock):
        rb = t.restart_block = SockBlock()
    return rb


def _wait(t, wb: WouldBlock, timeo_ns: int, done: int):
    """Park on ``wb`` keeping ``done``; past the socket's timeout give what was done or EAGAIN."""
    rb = _block(t)
    rb.done = done
    if timeo_ns:
        now = t.kernel.now_ns()
        if rb.deadline is None:
            rb.deadline = now + timeo_ns
        elif now >= rb.deadline:
            t.restart_block = None
            if done:
                return done
            raise E(errno.EAGAIN)
        raise WouldBlock(*wb.queues, deadline=rb.deadline)
    raise wb


# --- creation -------------------------------------------------------------------------------
def _family(t, domain, stype, proto):
    net = stack(t)
    if domain == AF_UNIX:
        if stype == SOCK_RAW:
            stype = SOCK_DGRAM
        if stype not in (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET):
            raise E(errno.ESOCKTNOSUPPORT)
        if proto not in (0, AF_UNIX):
            raise E(errno.EPROTONOSUPPORT)
        return net.unix, stype, 0
    if domain in (AF_INET, AF_INET6):
        if net.mode == "none":
            raise E(errno.EAFNOSUPPORT)
        if stype == SOCK_STREAM and proto in (0, IPPROTO_TCP):
            proto = IPPROTO_TCP
        elif stype == SOCK_DGRAM and proto in (0, IPPROTO_UDP):
            proto = IPPROTO_UDP
        elif stype in (SOCK_STREAM, SOCK_DGRAM):
            raise E(errno.EPROTONOSUPPORT)
        elif stype == SOCK_RAW:
            raise E(errno.EPROTONOSUPPORT)
        else:
            raise E(errno.ESOCKTNOSUPPORT if proto == 0 else errno.EPROTONOSUPPORT)
        return (net.inet if domain == AF_INET else net.inet6), stype, proto
    if domain == AF_NETLINK:
        if stype not in (SOCK_DGRAM, SOCK_RAW):
            raise E(errno.ESOCKTNOSUPPORT)
        if proto != NETLINK_ROUTE:
            raise E(errno.EPROTONOSUPPORT)
        return net.netlink, stype, proto
    raise E(errno.EAFNOSUPPORT)


def _type_flags(stype):
    if stype & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise E(errno.EINVAL)
    return stype & SOCK_TYPE_MASK, stype & SOCK_NONBLOCK, bool(stype & SOCK_CLOEXEC)


def socket(t, a):
    """Socket implements socket(2): AF_UNIX, AF_INET/AF_INET6 (the guest's loopback), AF_NETLINK
    (NETLINK_ROUTE)."""
    domain, proto = a.int(0), a.int(2)
    stype, nonblock, cloexec = _type_flags(a.int(1))
    if domain < 0 or domain >= AF_MAX:
        raise E(errno.EAFNOSUPPORT)
    fam, stype, proto = _family(t, domain, stype, proto)
    s = Socket(fam, stype, proto, nonblock, _peer_cred(t))
    s.owner_pid = t.group.tgid
    if domain == AF_NETLINK:
        s.netlink = True
    return t.files.install(s, cloexec=cloexec)


def socketpair(t, a):
    """Socketpair implements socketpair(2) (AF_UNIX only, as Linux)."""
    domain, proto = a.int(0), a.int(2)
    stype, nonblock, cloexec = _type_flags(a.int(1))
    if domain < 0 or domain >= AF_MAX:
        raise E(errno.EAFNOSUPPORT)
    fam, stype, proto = _family(t, domain, stype, proto)
    if domain != AF_UNIX:
        raise E(errno.EOPNOTSUPP)
    sv = a.ptr(3)
    s1, s2 = make_pair(fam, stype, proto, nonblock, _peer_cred(t))
    fd1 = t.files.install(s1, cloexec=cloexec)
    fd2 = t.files.install(s2, cloexec=cloexec)
    try:
        t.mm.write(sv, struct.pack("<ii", fd1, fd2))
    except SyscallError:
        t.files.close(fd1)
        t.files.close(fd2)
        raise
    return 0


# --- addresses and connections ------------------------------------------------------------------
def bind(t, a):
    s = _sock(t, a.fd(0))
    addr = _read_addr(t, a.ptr(1), a.int(2), s, for_bind=True)
    s.family.bind(s, addr, t.kernel.caller(t))
    return 0


def listen(t, a):
    s = _sock(t, a.fd(0))
    backlog = a.int(1)
    if backlog < 0 or backlog > SOMAXCONN:
        backlog = SOMAXCONN
    s.listen(backlog)
    return 0


def connect(t, a):
    """Connect implements connect(2): unix and loopback connections complete at once; a
    non-blocking inet one answers EINPROGRESS, its outcome in SO_ERROR."""
    s = _sock(t, a.fd(0))
    ln = a.int(2)
    if ln < 0 or ln > SOCKADDR_MAX:
        raise E(errno.EINVAL)
    raw = t.mm.read(a.ptr(1), ln) if ln else b""
    fam = s.family
    if fam.name == "unix":
        if len(raw) >= 2 and struct.unpack_from("<H", raw)[0] == AF_UNSPEC and s.type == SOCK_DGRAM:
            s.peer = None
            s.remote = None
            s.state = 0
            return 0
        addr = fam.parse(raw, sock=s)
        if s.type == SOCK_DGRAM:
            fam.connect_dgram(s, addr, t.kernel.caller(t))
            return 0
        if s.state == CONNECTED:
            raise E(errno.EISCONN)
        if s.state == LISTENING:
            raise E(errno.EINVAL)
        listener = fam.lookup(addr, t.kernel.caller(t), s.type)
        s.connect_to(listener, _peer_cred(t), s.nonblocking)
        return 0
    if len(raw) < 2:
        raise E(errno.EINVAL)
    addr = fam.parse(raw, sock=s)
    if s.type == SOCK_DGRAM:
        fam.connect_dgram(s, addr, t.kernel.caller(t))
        return 0
    return fam.connect_stream(s, addr, _peer_cred(t), s.nonblocking)


def accept4(t, a):
    """Accept4 implements accept4(2) (accept(2) is accept4 with no flags)."""
    s = _sock(t, a.fd(0))
    flags = a.int(3) if len(a) > 3 else 0
    return _accept(t, s, a.ptr(1), a.ptr(2), flags)


def accept(t, a):
    return _accept(t, _sock(t, a.fd(0)), a.ptr(1), a.ptr(2), 0)


def _accept(t, s, addr_ptr, len_ptr, flags):
    if flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC):
        raise E(errno.EINVAL)
    if s.type == SOCK_DGRAM:
        raise E(errno.EOPNOTSUPP)
    try:
        new = s.accept(flags & SOCK_NONBLOCK)
    except WouldBlock as wb:
        return _wait(t, wb, s.rcvtimeo, 0)
    try:
        if addr_ptr:
            peer = new.remote if s.family.name != "unix" else (new.peer.local if new.peer else None)
            _write_addr(t, addr_ptr, len_ptr, s.family.format(peer))
    except SyscallError:
        new.refs = 0
        new.closed = True
        new.release()
        raise
    return t.files.install(new, cloexec=bool(flags & SOCK_CLOEXEC))


def getsockname(t, a):
    s = _sock(t, a.fd(0))
    _check_len(t, a.ptr(2))
    _write_addr(t, a.ptr(1), a.ptr(2), s.family.format(s.local))
    return 0


def getpeername(t, a):
    s = _sock(t, a.fd(0))
    _check_len(t, a.ptr(2))
    _write_addr(t, a.ptr(1), a.ptr(2), s.family.format(s.family.peer_address(s)))
    return 0


def _check_len(t, lenptr):
    if _I32.unpack(t.mm.read(lenptr, 4))[0] < 0:
        raise E(errno.EINVAL)


def shutdown(t, a):
    s = _sock(t, a.fd(0))
    how = a.int(1)
    if how < 0 or how > 2:
        raise E(errno.EINVAL)
    s.shutdown(how)
    return 0


# --- sending ----------------------------------------------------------------------------------
def _parse_control(t, s, ptr, ln):
    """SCM_RIGHTS files (referenced) and SCM_CREDENTIALS of a sendmsg's control buffer."""
    if ln > 0x7FFFFFFF:
        raise E(errno.ENOBUFS)
    if ln < CMSGHDR.size:
        return None, None
    raw = t.mm.read(ptr, ln)
    fds, cred, off = None, None, 0
    try:
        while off + CMSGHDR.size <= ln:
            clen, level, kind = CMSGHDR.unpack_from(raw, off)
            if clen < CMSGHDR.size or clen > ln - off:
                raise E(errno.EINVAL)
            body = raw[off + CMSGHDR.size:off + clen]
            if level == SOL_SOCKET:
                if s.family.name != "unix":
                    raise E(errno.EINVAL)
                if kind == SCM_RIGHTS:
                    n = len(body) // 4
                    if n == 0:
                        pass
                    elif n > SCM_MAX_FD or (fds and len(fds) + n > SCM_MAX_FD):
                        raise E(errno.EINVAL)
                    if fds is not None and n:
                        raise E(errno.EINVAL)
                    if n:
                        fds = []
                        for (fd,) in struct.iter_unpack("<i", body[:4 * n]):
                            fds.append(t.files.get(fd).get_ref())
                elif kind == SCM_CREDENTIALS:
                    if clen != cmsg_len(UCRED.size):
                        raise E(errno.EINVAL)
                    pid, uid, gid = UCRED.unpack(body)
                    c = t.group.creds
                    root = c.euid == 0
                    if not root and (pid != t.group.tgid or uid not in (c.uid, c.euid, c.suid) or
                                     gid not in (c.gid, c.egid, c.sgid)):
                        raise E(errno.EPERM)
                    cred = (pid, uid, gid)
                else:
                    raise E(errno.EINVAL)
            off += cmsg_align(clen)
    except BaseException:
        for f in fds or ():
            f.put_ref()
        raise
    return fds, cred


def _send(t, s, data_of, n, flags, addr, box, cred):
    """One send of ``n`` bytes (``data_of(done)`` gives what is left): a blocking stream
    sends everything, parking between chunks; EPIPE raises SIGPIPE unless MSG_NOSIGNAL.
    ``box[0]`` holds the files to pass; it is emptied once a record took them."""
    if flags & MSG_OOB:
        raise E(errno.EOPNOTSUPP)
    if getattr(s, "netlink", False):
        data = data_of(0)
        s.family.requests(s, data)
        return len(data)
    rb = t.restart_block
    done = rb.done if isinstance(rb, SockBlock) else 0
    cred = cred or _cred(t)
    nonblock = s.nonblocking or flags & MSG_DONTWAIT
    caller = t.kernel.caller(t)
    try:
        while True:
            data = data_of(done)
            fds = None if done else box[0]
            sent = s.send(data, flags, addr, fds, cred, caller)
            if fds is not None and (sent or s.type != SOCK_STREAM):
                box[0] = None
            done += sent
            if done >= n or s.type != SOCK_STREAM or nonblock:
                return done if s.type == SOCK_STREAM else sent
            if sent == 0:
                raise WouldBlock(s.waitq)
    except WouldBlock as wb:
        return _wait(t, wb, s.sndtimeo, done)
    except SyscallError as e:
        if e.errno == errno.EPIPE and not flags & MSG_NOSIGNAL and s.type != SOCK_DGRAM:
            t.kernel.send_signal(t, SIGPIPE)
        if done and e.errno != errno.EFAULT:
            return done
        raise


def _send_guarded(t, s, data_of, n, flags, addr, fds, cred):
    box = [fds]
    try:
        return _send(t, s, data_of, n, flags, addr, box, cred)
    finally:
        for f in box[0] or ():
            f.put_ref()


def _send_addr(t, s, ptr, ln):
    if not ptr:
        return None
    if s.type == SOCK_STREAM and s.family.name == "unix" and ln:
        raise E(errno.EISCONN if s.state == CONNECTED else errno.EOPNOTSUPP)
    if s.type != SOCK_DGRAM and not getattr(s, "netlink", False):
        return None
    return _read_addr(t, ptr, ln, s)


def sendto(t, a):
    """Sendto implements sendto(2) and send(2)."""
    s = _sock(t, a.fd(0))
    n = min(a.size(2), MAX_RW)
    flags = a.int(3)
    addr = _send_addr(t, s, a.ptr(4), a.int(5)) if a.ptr(4) else None
    buf = a.ptr(1)
    return _send_guarded(t, s, lambda done: t.mm.read(buf + done, n - done) if n > done else b"", n, flags, addr,
                         None, None)


def _read_msghdr(t, ptr):
    return MSGHDR.unpack(t.mm.read(ptr, MSGHDR.size))


def _sendmsg_one(t, s, hdr_ptr, flags):
    name, namelen, iov, iovlen, control, controllen, _ = _read_msghdr(t, hdr_ptr)
    vec = _iovecs(t, iov, iovlen)
    n = min(sum(ln for _, ln in vec), MAX_RW)
    addr = _send_addr(t, s, name, namelen) if name and namelen else None
    fds, cred = _parse_control(t, s, control, controllen) if control or controllen else (None, None)
    return _send_guarded(t, s, lambda done: _gather(t, vec, done), n, flags, addr, fds, cred)


def sendmsg(t, a):
    """Sendmsg implements sendmsg(2): SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX."""
    s = _sock(t, a.fd(0))
    return _sendmsg_one(t, s, a.ptr(1), a.int(2))


def sendmmsg(t, a):
    """Sendmmsg implements sendmmsg(2): messages one after another, the count sent."""
    s = _sock(t, a.fd(0))
    vec, vlen, flags = a.ptr(1), min(a.uint(2), UIO_MAXIOV), a.int(3)
    rb = t.restart_block
    count = rb.fds if isinstance(rb, SockBlock) and isinstance(rb.fds, int) else 0
    while count < vlen:
        hdr = vec + count * MMSGHDR_SIZE
        try:
            sent = _sendmsg_one(t, s, hdr, flags)
        except WouldBlock:
            if count:
                _block(t).fds = None
                return count
            raise
        except SyscallError:
            if count:
                return count
            raise
        t.restart_block = None
        t.mm.write(hdr + MSGHDR.size, struct.pack("<I", sent))
        count += 1
    return count


# --- receiving --------------------------------------------------------------------------------
def _recv(t, s, n, flags, write_data):
    """One receive into guest memory (``write_data(data, done)``): MSG_WAITALL streams
    keep what they got across waits."""
    if flags & MSG_OOB:
        raise E(errno.EINVAL if s.type == SOCK_STREAM and s.family.name != "unix" else errno.EOPNOTSUPP)
    if flags & MSG_ERRQUEUE:
        raise E(errno.EAGAIN)
    rb = t.restart_block
    done = rb.done if isinstance(rb, SockBlock) else 0
    waitall = flags & MSG_WAITALL and s.type == SOCK_STREAM and not (flags & (MSG_PEEK | MSG_DONTWAIT))
    first = None
    try:
        while True:
            r = s.recv(n - done, flags)
            if first is None:
                first = r
            write_data(r.data, done)
            done += len(r.data)
            if r.fds and (first is not r):
                first.fds = (first.fds or []) + list(r.fds)
            if not waitall or done >= n or not r.data or s.nonblocking:
                break
            if r.fds:
                break
    except WouldBlock as wb:
        if first is not None and first.fds:
            for f in first.fds:
                f.put_ref()
        return _wait(t, wb, s.rcvtimeo, done)
    except SyscallError:
        if done:
            return Received(b"", full=done)
        raise
    first.full = done if s.type == SOCK_STREAM else first.full
    return first


def _drop_fds(r):
    if isinstance(r, Received) and r.fds:
        for f in r.fds:
            f.put_ref()
        r.fds = None


def recvfrom(t, a):
    """Recvfrom implements recvfrom(2) and recv(2)."""
    s = _sock(t, a.fd(0))
    n = min(a.size(2), MAX_RW)
    flags = a.int(3)
    buf = a.ptr(1)
    r = _recv(t, s, n, flags, lambda data, off: t.mm.write(buf + off, data) if data else None)
    if not isinstance(r, Received):
        return r
    _drop_fds(r)
    if a.ptr(4):
        _write_addr(t, a.ptr(4), a.ptr(5), _addr_bytes(s, r))
    return r.full if flags & MSG_TRUNC and s.type != SOCK_STREAM else (r.full if s.type == SOCK_STREAM else len(r.data))


def _addr_bytes(s, r):
    if s.type == SOCK_STREAM and s.family.name != "unix":
        return b""
    if r.addr is None:
        return b""
    return s.family.format(r.addr)


class _Control:
    """A recvmsg control buffer being filled (put_cmsg, scm_detach_fds)."""

    def __init__(self, t, ptr, ln):
        self.t, self.ptr, self.left, self.start = t, ptr, ln, ln
        self.flags = 0

    def put(self, level, kind, data: bytes):
        if not self.ptr or self.left < CMSGHDR.size:
            self.flags |= MSG_CTRUNC
            return
        clen = cmsg_len(len(data))
        if self.left < clen:
            self.flags |= MSG_CTRUNC
            clen = self.left
        self.t.mm.write(self.ptr, (CMSGHDR.pack(clen, level, kind) + data)[:clen])
        step = min(cmsg_space(len(data)), self.left)
        self.ptr += step
        self.left -= step

    def put_fds(self, fds, cloexec):
        fdmax = (self.left - CMSGHDR.size) // 4 if self.ptr and self.left > CMSGHDR.size else 0
        fit = fds[:max(fdmax, 0)]
        nums = []
        for f in fit:
            try:
                nums.append(self.t.files.install(f, cloexec=cloexec))
            except SyscallError:
                self.flags |= MSG_CTRUNC
                break
        for f in fds:
            f.put_ref()            # the record's references; installed ones hold their own
        if nums:
            self.put(SOL_SOCKET, SCM_RIGHTS, b"".join(_I32.pack(n) for n in nums))
        if len(nums) < len(fds):
            self.flags |= MSG_CTRUNC


def _recvmsg_one(t, s, hdr_ptr, flags):
    name, namelen, iov, iovlen, control, controllen, _ = _read_msghdr(t, hdr_ptr)
    vec = _iovecs(t, iov, iovlen)
    n = min(sum(ln for _, ln in vec), MAX_RW)
    r = _recv(t, s, n, flags, lambda data, off: _scatter(t, vec, data, off))
    if not isinstance(r, Received):
        return r
    mflags = r.flags | (flags & MSG_CMSG_CLOEXEC)
    ctl = _Control(t, control, controllen)
    try:
        if s.passcred and s.family.name == "unix":
            ctl.put(SOL_SOCKET, SCM_CREDENTIALS, UCRED.pack(*(r.creds or _NO_CRED)))
        if r.fds:
            fds, r.fds = r.fds, None
            ctl.put_fds(fds, bool(flags & MSG_CMSG_CLOEXEC))
    finally:
        _drop_fds(r)
    mflags |= ctl.flags
    raw = _addr_bytes(s, r) if name else b""
    if name and raw:
        t.mm.write(name, raw[:max(namelen, 0)])
    t.mm.write(hdr_ptr + 8, struct.pack("<I", len(raw)))
    t.mm.write(hdr_ptr + 40, struct.pack("<Q", ctl.start - ctl.left))
    t.mm.write(hdr_ptr + 48, _I32.pack(mflags))
    if s.type == SOCK_STREAM:
        return r.full
    return r.full if flags & MSG_TRUNC else len(r.data)


def recvmsg(t, a):
    """Recvmsg implements recvmsg(2): SCM_CREDENTIALS with SO_PASSCRED, SCM_RIGHTS, MSG_CTRUNC/MSG_TRUNC."""
    s = _sock(t, a.fd(0))
    return _recvmsg_one(t, s, a.ptr(1), a.int(2))


def recvmmsg(t, a):
    """Recvmmsg implements recvmmsg(2) (MSG_WAITFORONE; the timeout is checked between messages)."""
    s = _sock(t, a.fd(0))
    vec, vlen, flags, tmo = a.ptr(1), min(a.uint(2), UIO_MAXIOV), a.int(3), a.ptr(4)
    deadline = None
    if tmo:
        sec, nsec = _TIMEVAL.unpack(t.mm.read(tmo, 16))
        if sec < 0 or not 0 <= nsec < 10 ** 9:
            raise E(errno.EINVAL)
        deadline = t.kernel.now_ns() + sec * 10 ** 9 + nsec
    count = 0
    while count < vlen:
        hdr = vec + count * MMSGHDR_SIZE
        f = flags | (MSG_DONTWAIT if count and flags & MSG_WAITFORONE else 0)
        try:
            got = _recvmsg_one(t, s, hdr, f & ~MSG_WAITFORONE)
        except WouldBlock:
            if count:
                t.restart_block = None
                return count
            raise
        except SyscallError:
            if count:
                return count
            raise
        t.restart_block = None
        t.mm.write(hdr + MSGHDR.size, struct.pack("<I", got))
        count += 1
        if deadline is not None and t.kernel.now_ns() >= deadline:
            break
    return count


# --- options ----------------------------------------------------------------------------------
_BOOL_SO = {SO.SO_REUSEADDR: "reuseaddr", SO.SO_REUSEPORT: "reuseport", SO.SO_KEEPALIVE: "keepalive",
            SO.SO_BROADCAST: "broadcast", SO.SO_DONTROUTE: "dontroute", SO.SO_OOBINLINE: "oobinline",
            SO.SO_DEBUG: "debug", SO.SO_TIMESTAMP_OLD: "timestamp", SO.SO_TIMESTAMPNS_OLD: "timestampns",
            SO.SO_RXQ_OVFL: "rxq_ovfl", SO.SO_WIFI_STATUS: "wifi", SO.SO_NOFCS: "nofcs",
            SO.SO_SELECT_ERR_QUEUE: "selerr", SO.SO_ZEROCOPY: "zerocopy", SO.SO_PASSSEC: "passsec"}
_INT_SO = {SO.SO_PRIORITY: "priority", SO.SO_RCVLOWAT: "rcvlowat", SO.SO_SNDLOWAT: "sndlowat",
           SO.SO_MARK: "mark", SO.SO_PEEK_OFF: "peek_off", SO.SO_BUSY_POLL: "busy_poll",
           SO.SO_INCOMING_CPU: "incoming_cpu", SO.SO_MAX_PACING_RATE: "pacing"}
_DEFAULTS = {"rcvlowat": 1, "sndlowat": 1, "peek_off": -1, "incoming_cpu": -1, "pacing": -1,
             "ttl": 64, "hops": 64, "mcast_hops": 1, "mcast_loop": 1, "mcast_ttl": 1, "keepidle": 7200,
             "keepintvl": 75, "keepcnt": 9, "syncnt": 6, "linger2": 60, "maxseg": 536, "mtu_discover": 1}
_TCP_INT = {TCPOPT.TCP_NODELAY: "nodelay", TCPOPT.TCP_CORK: "cork", TCPOPT.TCP_KEEPIDLE: "keepidle",
            TCPOPT.TCP_KEEPINTVL: "keepintvl", TCPOPT.TCP_KEEPCNT: "keepcnt", TCPOPT.TCP_SYNCNT: "syncnt",
            TCPOPT.TCP_LINGER2: "linger2", TCPOPT.TCP_DEFER_ACCEPT: "defer_accept",
            TCPOPT.TCP_WINDOW_CLAMP: "window_clamp", TCPOPT.TCP_QUICKACK: "quickack",
            TCPOPT.TCP_USER_TIMEOUT: "user_timeout", TCPOPT.TCP_FASTOPEN: "fastopen",
            TCPOPT.TCP_NOTSENT_LOWAT: "notsent_lowat", TCPOPT.TCP_MAXSEG: "maxseg",
            TCPOPT.TCP_FASTOPEN_CONNECT: "fastopen_connect", TCPOPT.TCP_THIN_LINEAR_TIMEOUTS: "thin_lt"}
_IP_INT = {IPOPT.IP_TOS: "tos", IPOPT.IP_TTL: "ttl", IPOPT.IP_RECVERR: "recverr", IPOPT.IP_PKTINFO: "pktinfo",
           IPOPT.IP_RECVTTL: "recvttl", IPOPT.IP_RECVTOS: "recvtos", IPOPT.IP_MTU_DISCOVER: "mtu_discover",
           IPOPT.IP_FREEBIND: "freebind", IPOPT.IP_MULTICAST_TTL: "mcast_ttl",
           IPOPT.IP_MULTICAST_LOOP: "mcast_loop", IPOPT.IP_BIND_ADDRESS_NO_PORT: "bind_no_port",
           IPOPT.IP_TRANSPARENT: "transparent", IPOPT.IP_RECVOPTS: "recvopts", IPOPT.IP_HDRINCL: "hdrincl"}
_IPV6_INT = {IPV6OPT.IPV6_V6ONLY: "v6only", IPV6OPT.IPV6_UNICAST_HOPS: "hops", IPV6OPT.IPV6_TCLASS: "tclass",
             IPV6OPT.IPV6_RECVPKTINFO: "recvpktinfo", IPV6OPT.IPV6_RECVERR: "recverr6",
             IPV6OPT.IPV6_MULTICAST_HOPS: "mcast_hops", IPV6OPT.IPV6_MULTICAST_LOOP: "mcast_loop6",
             IPV6OPT.IPV6_RECVHOPLIMIT: "recvhoplimit", IPV6OPT.IPV6_RECVTCLASS: "recvtclass",
             IPV6OPT.IPV6_MTU_DISCOVER: "mtu_discover6"}


def _opt_table(s, level):
    """The int options of ``level`` for this socket, or an errno."""
    fam = s.family.name
    if level == SOL_SOCKET:
        return None
    if fam == "unix":
        return errno.EOPNOTSUPP
    if fam == "netlink":
        return {} if level == SOL_NETLINK else errno.ENOPROTOOPT
    if level == SOL_TCP:
        return _TCP_INT if s.type == SOCK_STREAM else errno.EOPNOTSUPP
    if level == SOL_UDP:
        return {1: "udp_cork", 100: "udp_encap", 101: "udp_no_check6_tx", 102: "udp_no_check6_rx",
                103: "udp_segment", 104: "udp_gro"} if s.type == SOCK_DGRAM else errno.ENOPROTOOPT
    if level == SOL_IP:
        return _IP_INT
    if level == SOL_IPV6 and s.family.family == AF_INET6:
        return _IPV6_INT
    return errno.EOPNOTSUPP


def _timeo(raw):
    sec, usec = _TIMEVAL.unpack(raw[:16])
    if not 0 <= usec < 10 ** 6:
        raise E(errno.EDOM)
    if sec < 0:
        return 0
    return sec * 10 ** 9 + usec * 1000


def setsockopt(t, a):
    """Setsockopt implements setsockopt(2) for the common SOL_SOCKET, TCP, IP and IPv6 options."""
    s = _sock(t, a.fd(0))
    level, name, ptr, ln = a.int(1), a.int(2), a.ptr(3), a.int(4)
    if ln < 0:
        raise E(errno.EINVAL)
    table = _opt_table(s, level)
    if isinstance(table, int):
        raise E(table)
    if level == SOL_SOCKET and name in (SO.SO_RCVTIMEO_OLD, SO.SO_SNDTIMEO_OLD, 66, 67):
        if ln < 16:
            raise E(errno.EINVAL)
        ns = _timeo(t.mm.read(ptr, 16))
        if name in (SO.SO_RCVTIMEO_OLD, 66):
            s.rcvtimeo = ns
        else:
            s.sndtimeo = ns
        return 0
    if level == SOL_SOCKET and name == SO.SO_LINGER:
        if ln < LINGER.size:
            raise E(errno.EINVAL)
        on, secs = LINGER.unpack(t.mm.read(ptr, LINGER.size))
        s.linger = (1 if on else 0, secs if on else s.linger[1])
        return 0
    if level == SOL_SOCKET and name == SO.SO_BINDTODEVICE:
        dev = t.mm.read(ptr, min(ln, 16)).split(b"\0", 1)[0] if ln else b""
        if dev and dev != b"lo":
            raise E(errno.ENODEV)
        s.opts["bindtodevice"] = dev
        return 0
    if level == SOL_SOCKET and name in (SO.SO_ATTACH_FILTER, SO.SO_DETACH_FILTER, SO.SO_LOCK_FILTER):
        return 0
    if level == SOL_TCP and name == TCPOPT.TCP_CONGESTION:
        algo = t.mm.read(ptr, min(ln, 16)).split(b"\0", 1)[0]
        if algo not in (b"cubic", b"reno"):
            raise E(errno.ENOENT)
        s.opts["congestion"] = algo
        return 0
    if ln < 4:
        raise E(errno.EINVAL)
    val = _I32.unpack(t.mm.read(ptr, 4))[0]
    if table is None:
        if name in _BOOL_SO:
            s.opts[_BOOL_SO[name]] = 1 if val else 0
        elif name in _INT_SO:
            s.opts[_INT_SO[name]] = val
        elif name in (SO.SO_SNDBUF, SO.SO_SNDBUFFORCE):
            s.sndbuf = max(min(val & 0xFFFFFFFF, SK_MEM_MAX if name == SO.SO_SNDBUF else 1 << 30) * 2,
                           SOCK_MIN_SNDBUF)
            s.waitq.notify()
        elif name in (SO.SO_RCVBUF, SO.SO_RCVBUFFORCE):
            s.rcvbuf = max(min(val & 0xFFFFFFFF, SK_MEM_MAX if name == SO.SO_RCVBUF else 1 << 30) * 2,
                           SOCK_MIN_RCVBUF)
            if s.peer is not None:
                s.peer.waitq.notify()
        elif name == SO.SO_PASSCRED:
            s.passcred = bool(val)
        elif name in (SO.SO_TYPE, SO.SO_ERROR, SO.SO_ACCEPTCONN, SO.SO_DOMAIN, SO.SO_PROTOCOL, SO.SO_PEERCRED,
                      SO.SO_PEERNAME, SO.SO_COOKIE):
            raise E(errno.ENOPROTOOPT)
        else:
            raise E(errno.ENOPROTOOPT)
        return 0
    if name not in table:
        if level == SOL_NETLINK:
            s.opts[("nl", name)] = val
            return 0
        raise E(errno.ENOPROTOOPT)
    key = table[name]
    if key == "v6only":
        if s.local is not None:
            raise E(errno.EINVAL)
        val = 1 if val else 0
    elif key in ("hops", "mcast_hops") and val == -1:
        val = _DEFAULTS[key]
    elif key in ("hops", "mcast_hops", "ttl") and not (1 <= val <= 255):
        raise E(errno.EINVAL)
    elif key in ("nodelay", "cork", "quickack", "recverr", "pktinfo", "recvpktinfo", "freebind"):
        val = 1 if val else 0
    elif key in ("keepidle", "keepintvl") and not 1 <= val <= 32767:
        raise E(errno.EINVAL)
    elif key == "keepcnt" and not 1 <= val <= 127:
        raise E(errno.EINVAL)
    s.opts[key] = val
    return 0


def getsockopt(t, a):
    """Getsockopt implements getsockopt(2): the values setsockopt stored, and the socket's
    type, domain, protocol, pending error, listening state and peer credentials."""
    s = _sock(t, a.fd(0))
    level, name, ptr, lenptr = a.int(1), a.int(2), a.ptr(3), a.ptr(4)
    ln = _I32.unpack(t.mm.read(lenptr, 4))[0]
    if ln < 0:
        raise E(errno.EINVAL)
    table = _opt_table(s, level)
    if isinstance(table, int):
        raise E(table)
    val = None
    raw = None
    if table is None:
        if name == SO.SO_TYPE:
            val = s.type
        elif name == SO.SO_DOMAIN:
            val = s.family.family
        elif name == SO.SO_PROTOCOL:
            val = s.proto
        elif name == SO.SO_ERROR:
            val = s.take_error()
        elif name == SO.SO_ACCEPTCONN:
            val = 1 if s.state == LISTENING else 0
        elif name == SO.SO_SNDBUF:
            val = s.sndbuf
        elif name == SO.SO_RCVBUF:
            val = s.rcvbuf
        elif name == SO.SO_PASSCRED:
            val = 1 if s.passcred else 0
        elif name in _BOOL_SO:
            val = s.opts.get(_BOOL_SO[name], 0)
        elif name in _INT_SO:
            key = _INT_SO[name]
            val = s.opts.get(key, _DEFAULTS.get(key, 0))
        elif name in (SO.SO_RCVTIMEO_OLD, SO.SO_SNDTIMEO_OLD):
            ns = s.rcvtimeo if name == SO.SO_RCVTIMEO_OLD else s.sndtimeo
            raw = _TIMEVAL.pack(ns // 10 ** 9, (ns % 10 ** 9) // 1000)
        elif name == SO.SO_LINGER:
            raw = LINGER.pack(*s.linger)
        elif name == SO.SO_PEERCRED:
            pc = s.peer_cred if s.family.name == "unix" else None
            raw = UCRED.pack(*pc) if pc else UCRED.pack(0, 0xFFFFFFFF, 0xFFFFFFFF)
        elif name == SO.SO_PEERNAME:
            try:
                raw = s.family.format(s.family.peer_address(s))
            except SyscallError:
                raise E(errno.ENOTCONN)
            if ln < len(raw):
                raise E(errno.EINVAL)
        elif name == SO.SO_BINDTODEVICE:
            raw = s.opts.get("bindtodevice", b"")
            if raw:
                raw += b"\0"
            if ln < len(raw):
                raise E(errno.EINVAL)
        elif name == SO.SO_COOKIE:
            raw = struct.pack("<Q", s.sock_ino.meta.ino)
        else:
            raise E(errno.ENOPROTOOPT)
    else:
        if level == SOL_TCP and name == TCPOPT.TCP_CONGESTION:
            raw = s.opts.get("congestion", b"cubic").ljust(16, b"\0")
        elif level == SOL_TCP and name == TCPOPT.TCP_INFO:
            raw = bytes([1 if s.state == CONNECTED else (10 if s.state == LISTENING else 7)]) + b"\0" * 231
        elif name in table:
            key = table[name]
            val = s.opts.get(key, _DEFAULTS.get(key, 0))
            if key == "maxseg" and s.state == CONNECTED and "maxseg" not in s.opts:
                val = 65483
        elif level == SOL_NETLINK:
            val = s.opts.get(("nl", name), 0)
        else:
            raise E(errno.ENOPROTOOPT)
    if raw is None:
        raw = _I32.pack(val)
        out = raw[:min(ln, 4)]
    else:
        out = raw[:min(ln, len(raw))]
    if out:
        t.mm.write(ptr, out)
    t.mm.write(lenptr, _I32.pack(len(out)))
    return 0


FAMILY = [
    supported("socket", socket, "AF_UNIX, AF_INET/AF_INET6 on the guest's own loopback (--net loopback), "
              "AF_NETLINK NETLINK_ROUTE; other families EAFNOSUPPORT"),
    supported("socketpair", socketpair),
    supported("bind", bind),
    supported("listen", listen),
    partial("accept", accept, "inet listen backlogs never refuse a connection"),
    partial("accept4", accept4, "inet listen backlogs never refuse a connection"),
    partial("connect", connect, "loopback connections complete at once (EINPROGRESS still answered); no TIME_WAIT"),
    supported("getsockname", getsockname),
    supported("getpeername", getpeername),
    partial("sendto", sendto, "no urgent data (MSG_OOB: EOPNOTSUPP)"),
    partial("recvfrom", recvfrom, "no urgent data, no error queue (MSG_ERRQUEUE: EAGAIN)"),
    partial("sendmsg", sendmsg, "SCM_RIGHTS/SCM_CREDENTIALS on AF_UNIX; no unix_gc of in-flight fd cycles"),
    partial("recvmsg", recvmsg, "SCM_RIGHTS/SCM_CREDENTIALS on AF_UNIX; no IP_PKTINFO/timestamps cmsgs"),
    supported("sendmmsg", sendmmsg),
    partial("recvmmsg", recvmmsg, "the timeout is checked between messages only"),
    supported("shutdown", shutdown),
    partial("setsockopt", setsockopt, "common SOL_SOCKET, TCP, IP, IPv6 options; filters accepted and ignored"),
    partial("getsockopt", getsockopt, "common options; TCP_INFO gives the state only"),
]
