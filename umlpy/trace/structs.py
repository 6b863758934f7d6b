"""Structures in guest memory printed strace style: ``fmt_x(ctx, addr)``.

Each formatter reads one structure at ``addr`` through :mod:`.guest` and
returns its ``{field=value, ...}`` text, or the address when it cannot be
read.  Without ``-v`` (``ctx.verbose``) the long ones print a few fields
and ``...``, as strace does.  Layouts are x86-64's.
"""

from __future__ import annotations

import struct
import time

from umlpy.abi import stat as abi_stat
from umlpy.abi import termios
from umlpy.abi.extensions import UMLPY_SYSCALL, VAS_ATTR
from umlpy.abi.signal import SA, SIG_DFL, SIG_IGN
from umlpy.abi.time import UTIME_NOW, UTIME_OMIT

from .format import comment, fmt_enum, fmt_flags, fmt_hex, fmt_list, fmt_octal, fmt_ptr, fmt_struct, quote_bytes
from .guest import read_mem, read_struct, xmode_of
from .tables import (FS_MAGICS, LOCK_TYPES, S_IFMT_NAMES, S_MODE_BITS, SA_FLAGS, SEEK_WHENCE, SS_FLAGS,
                     ST_FLAGS, STATX_MASK, TC_BAUD, TC_CFLAG, TC_CSIZE, TC_IFLAG, TC_LFLAG, TC_ODELAYS, TC_OFLAG)
from .values import fmt_rlim, fmt_sigset, fmt_wait_status, format_siginfo, syscall_name

_SIG_HANDLERS = ((SIG_DFL, "SIG_DFL"), (SIG_IGN, "SIG_IGN"))


def fmt_sigaction(ctx, addr: int) -> str:
    vals = read_struct(ctx, addr, struct.Struct("<QQQQ"))
    if vals is None:
        return fmt_ptr(addr)
    handler, flags, restorer, mask = vals
    xm = xmode_of(ctx)
    h = fmt_enum(handler, _SIG_HANDLERS, xm, None, fmt_hex) if handler < 2 else fmt_hex(handler)
    fields = [("sa_handler", h), ("sa_mask", fmt_sigset(mask, xm)),
              ("sa_flags", fmt_flags(flags, SA_FLAGS, None, xm))]
    if flags & int(SA.SA_RESTORER):
        fields.append(("sa_restorer", fmt_ptr(restorer)))
    return fmt_struct(fields)


def mode_text(mode: int, xmode: str) -> str:
    """An st_mode: ``S_IFREG|0644``."""
    if xmode == "raw":
        return "0%o" % mode
    ftype = mode & abi_stat.S_IFMT
    parts = []
    if ftype:
        parts.append(dict(S_IFMT_NAMES).get(ftype, "%#o" % ftype))
    for bit, name in S_MODE_BITS:
        if mode & bit:
            parts.append(name)
    parts.append(fmt_octal(mode & 0o777))
    return "|".join(parts)


def _dev(major: int, minor: int) -> str:
    return "makedev(%s, %s)" % (fmt_hex(major), fmt_hex(minor))


def _time_field(name: str, sec: int, nsec: int):
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%09d+0000" % nsec
    return [(name, comment(str(sec), iso)), (name + "_nsec", str(nsec))]


_STAT = struct.Struct("<QQQIIIiQqqqqqqqqq24x")


def fmt_stat(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, _STAT)
    if v is None:
        return fmt_ptr(addr)
    dev, ino, nlink, mode, uid, gid, _, rdev, size, blksize, blocks, at, atn, mt, mtn, ct, ctn = v
    xm = xmode_of(ctx)
    is_dev = mode & abi_stat.S_IFMT in (abi_stat.S_IFCHR, abi_stat.S_IFBLK)
    sz = [("st_rdev", _dev(abi_stat.dev_major(rdev), abi_stat.dev_minor(rdev)))] if is_dev else \
        [("st_size", str(size))]
    if not getattr(ctx, "verbose", False):
        return fmt_struct([("st_mode", mode_text(mode, xm))] + sz, more=True)
    fields = [("st_dev", _dev(abi_stat.dev_major(dev), abi_stat.dev_minor(dev))), ("st_ino", str(ino)),
              ("st_mode", mode_text(mode, xm)), ("st_nlink", str(nlink)), ("st_uid", str(uid)),
              ("st_gid", str(gid)), ("st_blksize", str(blksize)), ("st_blocks", str(blocks))] + sz
    fields += _time_field("st_atime", at, atn) + _time_field("st_mtime", mt, mtn) + _time_field("st_ctime", ct, ctn)
    return fmt_struct(fields)


_STATX = struct.Struct("<IIQIIIHHQQQQ")


def fmt_statx(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, _STATX)
    if v is None:
        return fmt_ptr(addr)
    mask, blksize, attrs, nlink, uid, gid, mode, _, ino, size, blocks, amask = v
    xm = xmode_of(ctx)
    m = fmt_flags(mask, STATX_MASK, None, xm)
    if not getattr(ctx, "verbose", False):
        return fmt_struct([("stx_mask", m), ("stx_attributes", fmt_hex(attrs)),
                           ("stx_mode", mode_text(mode, xm)), ("stx_size", str(size))], more=True)
    return fmt_struct([("stx_mask", m), ("stx_blksize", str(blksize)), ("stx_attributes", fmt_hex(attrs)),
                       ("stx_nlink", str(nlink)), ("stx_uid", str(uid)), ("stx_gid", str(gid)),
                       ("stx_mode", mode_text(mode, xm)), ("stx_ino", str(ino)), ("stx_size", str(size)),
                       ("stx_blocks", str(blocks)), ("stx_attributes_mask", fmt_hex(amask))], more=True)


_STATFS = struct.Struct("<qqQQQQQiiqqq32x")


def fmt_statfs(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, _STATFS)
    if v is None:
        return fmt_ptr(addr)
    ftype, bsize, blocks, bfree, bavail, files, ffree, fsid0, fsid1, namelen, frsize, flags = v
    xm = xmode_of(ctx)
    return fmt_struct([
        ("f_type", fmt_enum(ftype, FS_MAGICS, xm)), ("f_bsize", str(bsize)), ("f_blocks", str(blocks)),
        ("f_bfree", str(bfree)), ("f_bavail", str(bavail)), ("f_files", str(files)), ("f_ffree", str(ffree)),
        ("f_fsid", "{val=[%s, %s]}" % (fmt_hex(fsid0 & 0xFFFFFFFF), fmt_hex(fsid1 & 0xFFFFFFFF))),
        ("f_namelen", str(namelen)), ("f_frsize", str(frsize)), ("f_flags", fmt_flags(flags, ST_FLAGS, None, xm))])


_FLOCK = struct.Struct("<hh4xqqi4x")      # l_start is 8-aligned


def fmt_flock(ctx, addr: int, with_pid: bool) -> str:
    v = read_struct(ctx, addr, _FLOCK)
    if v is None:
        return fmt_ptr(addr)
    fields = [("l_type", fmt_enum(v[0], LOCK_TYPES, xmode_of(ctx), "F_???")),
              ("l_whence", fmt_enum(v[1], SEEK_WHENCE, xmode_of(ctx), "SEEK_???")),
              ("l_start", str(v[2])), ("l_len", str(v[3]))]
    if with_pid:
        fields.append(("l_pid", str(v[4])))
    return fmt_struct(fields)


def fmt_timespec(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<qq"))
    return fmt_ptr(addr) if v is None else "{tv_sec=%d, tv_nsec=%d}" % v


def fmt_timeval(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<qq"))
    return fmt_ptr(addr) if v is None else "{tv_sec=%d, tv_usec=%d}" % v


def fmt_utimes(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<qqqq"))
    if v is None:
        return fmt_ptr(addr)
    out = []
    for sec, nsec in ((v[0], v[1]), (v[2], v[3])):
        if nsec == UTIME_NOW:
            out.append("UTIME_NOW")
        elif nsec == UTIME_OMIT:
            out.append("UTIME_OMIT")
        else:
            out.append("{tv_sec=%d, tv_nsec=%d}" % (sec, nsec))
    return fmt_list(out)


def fmt_utsname(ctx, addr: int) -> str:
    data = read_mem(ctx, addr, 6 * 65)
    if data is None:
        return fmt_ptr(addr)
    names = ("sysname", "nodename", "release", "version", "machine", "domainname")
    fields = []
    for k, n in enumerate(names):
        raw = data[65 * k: 65 * (k + 1)]
        s = raw.split(b"\0", 1)[0]
        fields.append((n, quote_bytes(s, ctx.strsize, complete=True)))
    if getattr(ctx, "verbose", False):
        return fmt_struct(fields)
    return fmt_struct(fields[:2], more=True)


def fmt_rlimit(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<QQ"))
    if v is None:
        return fmt_ptr(addr)
    xm = xmode_of(ctx)
    return fmt_struct([("rlim_cur", fmt_rlim(v[0], xm)), ("rlim_max", fmt_rlim(v[1], xm))])


def fmt_rusage(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<qqqq14q"))
    if v is None:
        return fmt_ptr(addr)
    head = [("ru_utime", "{tv_sec=%d, tv_usec=%d}" % v[0:2]), ("ru_stime", "{tv_sec=%d, tv_usec=%d}" % v[2:4])]
    if not getattr(ctx, "verbose", False):
        return fmt_struct(head, more=True)
    names = ("ru_maxrss ru_ixrss ru_idrss ru_isrss ru_minflt ru_majflt ru_nswap ru_inblock ru_oublock "
             "ru_msgsnd ru_msgrcv ru_nsignals ru_nvcsw ru_nivcsw").split()
    return fmt_struct(head + [(n, str(x)) for n, x in zip(names, v[4:])])


def fmt_wait_status_at(ctx, addr: int) -> str:
    """The ``int`` wait status at ``addr``."""
    v = read_mem(ctx, addr, 4)
    return fmt_ptr(addr) if v is None else fmt_wait_status(int.from_bytes(v, "little"), xmode_of(ctx))


def fmt_stack_t(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<Qi4xQ"))
    if v is None:
        return fmt_ptr(addr)
    return fmt_struct([("ss_sp", fmt_ptr(v[0])),
                       ("ss_flags", fmt_flags(v[1] & 0xFFFFFFFF, SS_FLAGS, None, xmode_of(ctx))),
                       ("ss_size", str(v[2]))])


def fmt_siginfo_at(ctx, addr: int) -> str:
    data = read_mem(ctx, addr, 48)
    if data is None:
        return fmt_ptr(addr)
    signo, _, code = struct.unpack_from("<iii", data, 0)
    if signo == 0:
        return "{}"
    pid, uid, status = struct.unpack_from("<iIi", data, 16)
    faddr = struct.unpack_from("<Q", data, 16)[0]
    return format_siginfo(signo, code, faddr, pid, uid, status)


def fmt_tms(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<qqqq"))
    if v is None:
        return fmt_ptr(addr)
    return "{tms_utime=%d, tms_stime=%d, tms_cutime=%d, tms_cstime=%d}" % v


def fmt_sysinfo(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<q3QQQQQQQH6xQQI"))
    if v is None:
        return fmt_ptr(addr)
    up, l1, l2, l3, tot, free, shared, buf, tswap, fswap, procs, thigh, fhigh, unit = v
    return ("{uptime=%d, loads=[%d, %d, %d], totalram=%d, freeram=%d, sharedram=%d, bufferram=%d, "
            "totalswap=%d, freeswap=%d, procs=%d, totalhigh=%d, freehigh=%d, mem_unit=%d}"
            % (up, l1, l2, l3, tot, free, shared, buf, tswap, fswap, procs, thigh, fhigh, unit))


def fmt_cpuset(ctx, addr: int, n: int) -> str:
    """A CPU mask of ``n`` bytes: ``[0 1]``."""
    data = read_mem(ctx, addr, n)
    if data is None:
        return fmt_ptr(addr)
    bits = int.from_bytes(data, "little")
    return "[" + " ".join(str(k) for k in range(8 * n) if bits >> k & 1) + "]"


def fmt_termios(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<IIII"))
    if v is None:
        return fmt_ptr(addr)
    iflag, oflag, cflag, lflag = v
    xm = xmode_of(ctx)
    if xm == "raw":
        return "{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s, ...}" % tuple(fmt_hex(x) for x in v)
    o = []
    for mask, names in TC_ODELAYS:
        shift = (mask & -mask).bit_length() - 1
        o.append(names[(oflag & mask) >> shift])
    rest = oflag & ~sum(m for m, _ in TC_ODELAYS)
    if rest:
        o.append(fmt_flags(rest, TC_OFLAG))
    c = [fmt_enum(cflag & termios.CBAUD, TC_BAUD, "abbrev"), dict(TC_CSIZE)[cflag & termios.CSIZE]]
    ibaud = (cflag >> termios.IBSHIFT) & termios.CBAUD
    if ibaud:
        c.append("%s<<IBSHIFT" % fmt_enum(ibaud, TC_BAUD, "abbrev"))
    crest = cflag & ~termios.CBAUD & ~termios.CSIZE & ~(termios.CBAUD << termios.IBSHIFT)
    if crest:
        c.append(fmt_flags(crest, TC_CFLAG))
    return "{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s, ...}" % (
        fmt_flags(iflag, TC_IFLAG), "|".join(o), "|".join(c), fmt_flags(lflag, TC_LFLAG))


def fmt_winsize(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<HHHH"))
    if v is None:
        return fmt_ptr(addr)
    return "{ws_row=%d, ws_col=%d, ws_xpixel=%d, ws_ypixel=%d}" % v


# --- umlpy's guest ABI extensions -----------------------------------------------

def fmt_vas_attr(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<" + "III"))
    if v is None:
        return fmt_ptr(addr)
    return fmt_struct([("mode", fmt_octal(v[0])), ("user", str(v[1])), ("group", str(v[2]))])


assert VAS_ATTR.size == 12


def fmt_umlpy_syscall(ctx, addr: int) -> str:
    v = read_struct(ctx, addr, struct.Struct("<q6Q"))
    if v is None:
        return fmt_ptr(addr)
    nr = v[0]
    name = syscall_name(nr) if nr >= 0 else None
    nrs = "__NR_" + name if name and not name.startswith("syscall_") else str(nr)
    return "{nr=%s, args=[%s]}" % (nrs, ", ".join(fmt_hex(a) for a in v[1:]))


assert UMLPY_SYSCALL.size == 56


# --- event files ---------------------------------------------------------------------

_EPOLL_EVENT = struct.Struct("<IQ")


def fmt_epoll_event_data(ctx, events: int, data: int) -> str:
    from .tables import EPOLL_EVENTS
    return "{events=%s, data={u32=%d, u64=%d}}" % (fmt_flags(events, EPOLL_EVENTS, None, xmode_of(ctx)),
                                                   data & 0xFFFFFFFF, data)


def fmt_epoll_event(ctx, addr: int) -> str:
    """``{events=EPOLLIN, data={u32=100, u64=100}}``."""
    v = read_struct(ctx, addr, _EPOLL_EVENT)
    return fmt_ptr(addr) if v is None else fmt_epoll_event_data(ctx, *v)


def fmt_epoll_events(ctx, addr: int, n: int) -> str:
    """epoll_wait's ``n`` returned events, as a list."""
    from .guest import MAX_ARRAY
    shown = max(0, min(n, MAX_ARRAY))
    data = read_mem(ctx, addr, shown * _EPOLL_EVENT.size) if shown else b""
    if data is None:
        return fmt_ptr(addr)
    items = [fmt_epoll_event_data(ctx, *_EPOLL_EVENT.unpack_from(data, k * _EPOLL_EVENT.size))
             for k in range(shown)]
    if n > shown:
        items.append("...")
    return fmt_list(items)


def fmt_itimerspec(ctx, addr: int) -> str:
    """``{it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=0}}``."""
    v = read_struct(ctx, addr, struct.Struct("<qqqq"))
    if v is None:
        return fmt_ptr(addr)
    return "{it_interval={tv_sec=%d, tv_nsec=%d}, it_value={tv_sec=%d, tv_nsec=%d}}" % v
