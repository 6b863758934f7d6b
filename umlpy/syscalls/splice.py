"""Data moved by the kernel: sendfile, copy_file_range, splice, tee, vmsplice; and the
hints and allocations around files: fallocate, readahead, fadvise64.

Pipes are the kernel's buffers here as on Linux (fs/splice.c): splice needs a
pipe on one side, tee and vmsplice a pipe.  Data is copied (there is no page
to give away), in Linux's argument order, with its errnos; a pipe side that
must wait parks the task on the pipe's queue unless SPLICE_F_NONBLOCK or the
pipe's own O_NONBLOCK says EAGAIN, and writing into a pipe without readers is
EPIPE with SIGPIPE.  Guest files live in memory (tmpfs rules): fallocate
allocates, keeps the size or punches holes (FALLOC_FL_KEEP_SIZE,
FALLOC_FL_PUNCH_HOLE; other modes EOPNOTSUPP, as tmpfs), readahead and
fadvise64 check their arguments and have nothing else to do.
"""

import errno
import struct

from umlpy.abi import stat as st
from umlpy.abi.fcntl import O_APPEND, O_NONBLOCK
from umlpy.abi.fs import (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, IOV_MAX, MAX_RW_COUNT, SPLICE_F_ALL,
                          SPLICE_F_NONBLOCK, FADV)
from umlpy.abi.signal import Sig
from umlpy.errors import SyscallError
from umlpy.fs.file import PathFile
from umlpy.fs.memfs import MemfdFile
from umlpy.fs.pipe import pipe_of, pipe_put, pipe_room, pipe_take

from umlpy.fs import inotify as fsn
from umlpy.fs.inotify import IN_ACCESS, IN_MODIFY

from .inotify import notifying
from .table import partial, supported


def _moved(fin, fout, n):
    """inotify: data went from ``fin`` to ``fout``."""
    if n > 0 and fsn.active:
        fsn.fsnotify_file(fin, IN_ACCESS)
        fsn.fsnotify_file(fout, IN_MODIFY)
    return n

E = SyscallError
SIGPIPE = int(Sig.SIGPIPE)
_OFF = struct.Struct("<q")
#: The largest offset a file can have (MAX_LFS_FILESIZE).
MAX_LFS_FILESIZE = (1 << 63) - 1
#: What one step of a file-to-file copy moves (the loop goes on until done).
CHUNK = 1 << 20


def _file(t, fd):
    f = t.files.get(fd)
    if isinstance(f, PathFile):
        raise E(errno.EBADF)
    return f


def _read_off(t, ptr):
    return _OFF.unpack(t.mm.read(ptr, 8))[0] if ptr else None


def _epipe(t):
    """EPIPE, with the SIGPIPE Linux sends the caller (send_sig: SI_USER from itself)."""
    k = t.kernel
    # SI_USER from the caller: the kernel's default once it fills infos in (user_siginfo).
    k.send_signal(t, SIGPIPE, None if hasattr(k, "user_siginfo") else (SIGPIPE, 0, 0, t.group.tgid, 0))
    return E(errno.EPIPE)


def _kind(f) -> int:
    try:
        return f.fstat().st_mode & st.S_IFMT
    except SyscallError:
        return 0


def _read_from(f, pos, n):
    """Up to ``n`` bytes of ``f`` at ``pos`` (None: the file's position, advanced)."""
    if pos is None:
        return f.read(n)
    return f.pread(n, pos)


def _write_to(t, f, data, pos):
    """Write ``data`` to ``f`` at ``pos`` (None: its position / a stream)."""
    try:
        if pos is None:
            return f.write_for(t, data)
        return f.pwrite(data, pos)
    except SyscallError as e:
        if e.errno == errno.EPIPE:
            raise _epipe(t) from None
        raise


# --- sendfile and copy_file_range --------------------------------------------------------
def sendfile(t, a):
    """Sendfile implements sendfile(2): from a file with a position (not a pipe or a stream)
    to anything; a pipe as output waits for room."""
    out_fd, in_fd, offp, count = a.fd(0), a.fd(1), a.ptr(2), a.size(3)
    off = _read_off(t, offp)
    fin = _file(t, in_fd)
    if not fin.readable:
        raise E(errno.EBADF)
    if off is not None and not fin.seekable:
        raise E(errno.ESPIPE)
    if off is not None and off < 0:
        raise E(errno.EINVAL)
    count = min(count, MAX_RW_COUNT)
    fout = _file(t, out_fd)
    if not fout.writable:
        raise E(errno.EBADF)
    if not fin.seekable or pipe_of(fin) is not None:
        raise E(errno.EINVAL)         # no splice_read: pipes, terminals, sockets
    pos = fin.pos if off is None else off
    opipe = pipe_of(fout)
    if opipe is None and fout.flags & O_APPEND:
        raise E(errno.EINVAL)
    done = 0
    if count:
        if opipe is not None:
            room = pipe_room_or_epipe(t, fout, bool(fout.flags & O_NONBLOCK))
            data = fin.pread(min(count, room), pos)
            done = pipe_put(fout, data)
        else:
            while done < count:
                data = fin.pread(min(count - done, CHUNK), pos + done)
                if not data:
                    break
                n = _write_to(t, fout, data, None)
                done += n
                if n < len(data):
                    break
    if off is None:
        fin.pos = pos + done
    else:
        t.mm.write(offp, _OFF.pack(pos + done))
    return _moved(fin, fout, done)


def pipe_room_or_epipe(t, f, nonblock):
    try:
        return pipe_room(f, nonblock)
    except SyscallError as e:
        if e.errno == errno.EPIPE:
            raise _epipe(t) from None
        raise


def copy_file_range(t, a):
    """Copy_file_range implements copy_file_range(2) between regular files of one filesystem."""
    fd_in, offp_in, fd_out, offp_out, length, flags = a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.size(4), a.uint(5)
    if flags:
        raise E(errno.EINVAL)
    fin, fout = _file(t, fd_in), _file(t, fd_out)
    off_in, off_out = _read_off(t, offp_in), _read_off(t, offp_out)
    if not fin.readable or not fout.writable or fout.flags & O_APPEND:
        raise E(errno.EBADF)
    kin, kout = _kind(fin), _kind(fout)
    if st.S_IFDIR in (kin, kout):
        raise E(errno.EISDIR)
    if kin != st.S_IFREG or kout != st.S_IFREG:
        raise E(errno.EINVAL)
    pin = fin.pos if off_in is None else off_in
    pout = fout.pos if off_out is None else off_out
    if pin < 0 or pout < 0:
        raise E(errno.EINVAL)
    length = min(length, MAX_RW_COUNT)
    if pin + length > MAX_LFS_FILESIZE or pout + length > MAX_LFS_FILESIZE:
        raise E(errno.EOVERFLOW)
    sin, sout = fin.fstat(), fout.fstat()
    if sin.st_dev != sout.st_dev:
        raise E(errno.EXDEV)
    if sin.st_ino == sout.st_ino and pin < pout + length and pout < pin + length:
        raise E(errno.EINVAL)            # overlapping ranges of one file
    done = 0
    while done < length:
        data = fin.pread(min(length - done, CHUNK), pin + done)
        if not data:
            break
        n = fout.pwrite(data, pout + done)
        done += n
        if n < len(data):
            break
    if off_in is None:
        fin.pos = pin + done
    else:
        t.mm.write(offp_in, _OFF.pack(pin + done))
    if off_out is None:
        fout.pos = pout + done
    else:
        t.mm.write(offp_out, _OFF.pack(pout + done))
    return _moved(fin, fout, done)


# --- splice, tee, vmsplice ----------------------------------------------------------------
def splice(t, a):
    """Splice implements splice(2): pipe to pipe, file to pipe, pipe to file."""
    fd_in, offp_in, fd_out, offp_out, length, flags = a.fd(0), a.ptr(1), a.fd(2), a.ptr(3), a.size(4), a.uint(5)
    if not length:
        return 0
    if flags & ~SPLICE_F_ALL:
        raise E(errno.EINVAL)
    fin, fout = _file(t, fd_in), _file(t, fd_out)
    ipipe, opipe = pipe_of(fin), pipe_of(fout)
    if ipipe is not None and offp_in or opipe is not None and offp_out:
        raise E(errno.ESPIPE)
    off_in, off_out = _read_off(t, offp_in), _read_off(t, offp_out)
    if not fin.readable or not fout.writable:
        raise E(errno.EBADF)
    length = min(length, MAX_RW_COUNT)
    nonblock = bool(flags & SPLICE_F_NONBLOCK)
    if ipipe is not None and opipe is not None:
        if ipipe is opipe:
            raise E(errno.EINVAL)
        nb = nonblock or bool((fin.flags | fout.flags) & O_NONBLOCK)
        probe = pipe_take(fin, length, nb, peek=True)
        if not probe:
            return 0
        room = pipe_room_or_epipe(t, fout, nb)
        data = pipe_take(fin, min(length, room), nb)
        return pipe_put(fout, data)
    if ipipe is not None:
        if off_out is not None:
            if not fout.seekable:
                raise E(errno.ESPIPE)
            if off_out < 0:
                raise E(errno.EINVAL)
        if fout.flags & O_APPEND:
            raise E(errno.EINVAL)
        nb = nonblock or bool(fin.flags & O_NONBLOCK)
        probe = pipe_take(fin, length, nb, peek=True)
        if not probe:
            return 0
        n = _write_to(t, fout, probe, off_out)
        pipe_take(fin, n, True)          # consume what was written
        if off_out is not None:
            t.mm.write(offp_out, _OFF.pack(off_out + n))
        return _moved(fin, fout, n)
    if opipe is not None:
        if off_in is not None:
            if not fin.seekable:
                raise E(errno.ESPIPE)
            if off_in < 0:
                raise E(errno.EINVAL)
        nb = nonblock or bool(fout.flags & O_NONBLOCK)
        room = pipe_room_or_epipe(t, fout, nb)
        data = _read_from(fin, off_in, min(length, room)) if off_in is not None or fin.seekable \
            else fin.read_for(t, min(length, room))
        n = pipe_put(fout, data)
        if off_in is not None:
            t.mm.write(offp_in, _OFF.pack(off_in + n))
        return _moved(fin, fout, n)
    raise E(errno.EINVAL)


def tee(t, a):
    """Tee implements tee(2): copies between two pipes, leaving the input in place."""
    fd_in, fd_out, length, flags = a.fd(0), a.fd(1), a.size(2), a.uint(3)
    if flags & ~SPLICE_F_ALL:
        raise E(errno.EINVAL)
    if not length:
        return 0
    fin, fout = _file(t, fd_in), _file(t, fd_out)
    ipipe, opipe = pipe_of(fin), pipe_of(fout)
    if not fin.readable or not fout.writable:
        raise E(errno.EBADF)
    if ipipe is None or opipe is None or ipipe is opipe:
        raise E(errno.EINVAL)
    nb = bool(flags & SPLICE_F_NONBLOCK)
    data = pipe_take(fin, min(length, MAX_RW_COUNT), nb, peek=True)
    if not data:
        return 0
    room = pipe_room_or_epipe(t, fout, nb)
    return pipe_put(fout, data[:room])


def _iovecs(t, ptr, cnt):
    if cnt > IOV_MAX:
        raise E(errno.EINVAL)
    raw = t.mm.read(ptr, 16 * cnt) if cnt else b""
    return [v for v in struct.iter_unpack("<QQ", raw)]


def vmsplice(t, a):
    """Vmsplice implements vmsplice(2): user memory into a pipe's write end, or out of its
    read end (copied: SPLICE_F_GIFT gives nothing away)."""
    fd, iovp, nr, flags = a.fd(0), a.ptr(1), a.size(2), a.uint(3)
    if flags & ~SPLICE_F_ALL:
        raise E(errno.EINVAL)
    f = t.files.get(fd)
    if isinstance(f, PathFile) or not (f.readable or f.writable):
        raise E(errno.EBADF)
    vec = _iovecs(t, iovp, nr)
    total = min(sum(n for _, n in vec), MAX_RW_COUNT)
    if not total:
        return 0
    if pipe_of(f) is None:
        raise E(errno.EBADF)
    nb = bool(flags & SPLICE_F_NONBLOCK) or bool(f.flags & O_NONBLOCK)
    if f.writable:
        room = pipe_room_or_epipe(t, f, nb)
        parts, want = [], min(total, room)
        for base, n in vec:
            if want <= 0:
                break
            k = min(n, want)
            if k:
                parts.append(t.mm.read(base, k))
                want -= k
        return pipe_put(f, b"".join(parts))
    data = pipe_take(f, total, nb, peek=True)
    off = 0
    for base, n in vec:
        if off >= len(data):
            break
        chunk = data[off:off + n]
        t.mm.write(base, chunk)
        off += len(chunk)
    pipe_take(f, off, True)
    return off


# --- fallocate, readahead, fadvise64 -----------------------------------------------------------
def fallocate(t, a):
    """Fallocate implements fallocate(2) with tmpfs's modes: 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE."""
    fd, mode, offset, length = a.fd(0), a.int(1), a.s64(2), a.s64(3)
    f = _file(t, fd)
    if offset < 0 or length <= 0:
        raise E(errno.EINVAL)
    if mode & FALLOC_FL_PUNCH_HOLE and not mode & FALLOC_FL_KEEP_SIZE:
        raise E(errno.EOPNOTSUPP)
    if not f.writable:
        raise E(errno.EBADF)
    kind = _kind(f)
    if pipe_of(f) is not None or kind == st.S_IFIFO:
        raise E(errno.ESPIPE)
    if kind == st.S_IFDIR:
        raise E(errno.EISDIR)
    if kind != st.S_IFREG:
        raise E(errno.ENODEV)
    if offset + length > MAX_LFS_FILESIZE:
        raise E(errno.EFBIG)
    if mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE):
        raise E(errno.EOPNOTSUPP)
    size = f.size()
    if isinstance(f, MemfdFile):
        from umlpy.abi.fcntl import F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_WRITE
        seals = f.inode.seals
        if mode & FALLOC_FL_PUNCH_HOLE and seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE):
            raise E(errno.EPERM)
        if not mode & FALLOC_FL_KEEP_SIZE and offset + length > size and seals & F_SEAL_GROW:
            raise E(errno.EPERM)
    if mode & FALLOC_FL_PUNCH_HOLE:
        end = min(offset + length, size)
        if end > offset:
            f.pwrite(bytes(end - offset), offset)
        return 0
    if not mode & FALLOC_FL_KEEP_SIZE and offset + length > size:
        f.ftruncate(offset + length)
    return 0


def readahead(t, a):
    """Readahead implements readahead(2): only the checks (everything is in memory)."""
    f = t.files.get(a.fd(0))
    if isinstance(f, PathFile) or not f.readable:
        raise E(errno.EBADF)
    if _kind(f) != st.S_IFREG or not f.seekable:
        raise E(errno.EINVAL)
    return 0


_FADVICE = frozenset(int(v) for v in FADV)


def fadvise64(t, a):
    """Fadvise64 implements fadvise64(2): the checks, no effect (everything is in memory)."""
    f = _file(t, a.fd(0))
    length, advice = a.s64(2), a.int(3)
    if pipe_of(f) is not None or _kind(f) == st.S_IFIFO:
        raise E(errno.ESPIPE)
    if length < 0 or advice not in _FADVICE:
        raise E(errno.EINVAL)
    return 0


FAMILY = [
    supported("sendfile", sendfile), supported("copy_file_range", copy_file_range),
    partial("splice", splice, "data is copied; SPLICE_F_MOVE/GIFT give no pages away"),
    supported("tee", tee), partial("vmsplice", vmsplice, "data is copied; SPLICE_F_GIFT gives no pages away"),
    partial("fallocate", notifying(fallocate, IN_MODIFY, on_zero=True), "tmpfs modes: 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE; others EOPNOTSUPP"),
    partial("readahead", readahead, "argument checks only: guest files are in memory"),
    partial("fadvise64", fadvise64, "argument checks only: guest files are in memory"),
]
