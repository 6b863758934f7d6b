"""Golden lines for umlpy.trace.decode: each expected line is what strace 6.1
printed for the same call on x86-64 (static glibc/musl test programs, with
the guest's addresses put at the same places in a fake memory)."""

import struct

import pytest

from umlpy.trace import decode, format as fmt


class FakeCtx:
    """A DecodeContext over a dict of memory regions ``{addr: bytes}``."""

    def __init__(self, mem=None, *, strsize=32, xmode="abbrev", show_paths=False, verbose=False,
                 paths=None):
        self.mem = dict(mem or {})
        self.strsize, self.xmode, self.show_paths, self.verbose = strsize, xmode, show_paths, verbose
        self.paths = paths or {}

    def read_mem(self, addr, n):
        for base, data in self.mem.items():
            if base <= addr and addr + n <= base + len(data):
                return bytes(data[addr - base: addr - base + n])
        return None

    def read_cstring(self, addr, limit):
        for base, data in self.mem.items():
            if base <= addr < base + len(data):
                s = data[addr - base:]
                nul = s.find(b"\0")
                if nul < 0 or nul > limit:
                    return bytes(s[:limit]), False
                return bytes(s[:nul]), True
        return None

    def fd_path(self, fd):
        return self.paths.get(fd)


def line(name, args, ret, ctx=None):
    """``name(args) = ret`` as the tracer assembles it."""
    ctx = ctx or FakeCtx()
    args = tuple(args) + (0,) * (6 - len(args))
    enter = decode.decode_enter(name, ctx, args)
    exit_ = decode.decode_exit(name, ctx, args, ret)
    if ret is None:
        r = "?"
    elif -4096 < ret < 0:
        r = decode.format_error(-ret)
    else:
        r = decode.format_retval(name, ctx, args, ret)
    name = name if isinstance(name, str) else decode.syscall_name(name)
    return "%s(%s) = %s" % (name, ", ".join(enter + exit_), r)


def cstr(s):
    return s.encode() + b"\0"


AT_FDCWD = (1 << 64) - 100
P = 0x7ffd0000            # a page of guest memory for strings and structs
B = 0x7ffe0000


# --- format helpers -------------------------------------------------------------

@pytest.mark.parametrize("data,limit,complete,want", [
    (b"hello, files\n", 32, True, r'"hello, files\n"'),
    (b"a\0b\1\0012\n\t\r\v\f\"\\\x7f\xff 9\x1b[0m\0", 32, True, r'"a\0b\1\0012\n\t\r\v\f\"\\\177\377 9\33[0m\0"'),
    (b"\1\2\3\4\5\6\7\10", 32, True, r'"\1\2\3\4\5\6\7\10"'),
    (b"\0018\0019\0017\x7f0", 32, True, r'"\18\19\0017\1770"'),
    (b"a\0b\1\0012", 5, True, r'"a\0b\1\1"...'),
    (b"ab?c\x80", 32, True, r'"ab?c\200"'),
    (b"abc", 2, True, r'"ab"...'),
    (b"/proc/self", 32, False, r'"/proc/self"...'),
])
def test_quote_bytes(data, limit, complete, want):
    assert fmt.quote_bytes(data, limit, complete=complete) == want


def test_quote_bytes_hex():
    assert fmt.quote_bytes(b"\x77\x48\xfd\xe7", 32, complete=True, hexall=True) == r'"\x77\x48\xfd\xe7"'


def test_flags_and_enums_by_xmode():
    prot = decode.PROT_FLAGS
    assert fmt.fmt_flags(1, prot, "PROT_NONE") == "PROT_READ"
    assert fmt.fmt_flags(1, prot, "PROT_NONE", "raw") == "0x1"
    assert fmt.fmt_flags(1, prot, "PROT_NONE", "verbose") == "0x1 /* PROT_READ */"
    assert fmt.fmt_flags(0, prot, "PROT_NONE", "verbose") == "0 /* PROT_NONE */"
    assert fmt.fmt_flags(0x40, prot, "PROT_NONE", dflt="PROT_???") == "0x40 /* PROT_??? */"
    assert fmt.fmt_flags(0xff, prot, "PROT_NONE") == "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|0xf0"
    assert fmt.fmt_enum(3, decode.RLIMITS, "verbose") == "0x3 /* RLIMIT_STACK */"
    assert fmt.fmt_enum(0x63, decode.RLIMITS, "abbrev", "RLIMIT_???") == "0x63 /* RLIMIT_??? */"
    assert fmt.fmt_enum(0x9999, decode.ARCH_CODES, "raw", "ARCH_???") == "0x9999"
    assert fmt.fmt_ptr(0) == "NULL" and fmt.fmt_ptr(0x401000) == "0x401000"
    assert fmt.fmt_octal(0) == "000" and fmt.fmt_octal(0o644) == "0644" and fmt.fmt_octal(0o4755) == "04755"
    assert fmt.fmt_int((1 << 64) - 1) == "-1"


# --- files --------------------------------------------------------------------------

def test_openat():
    ctx = FakeCtx({P: cstr("/tmp/umlpy-files-OQxp97/a.txt"), B: cstr("/etc/hostname")})
    assert line("openat", (AT_FDCWD, P, 0o302, 0o640), 3, ctx) == \
        'openat(AT_FDCWD, "/tmp/umlpy-files-OQxp97/a.txt", O_RDWR|O_CREAT|O_EXCL, 0640) = 3'
    assert line("openat", (AT_FDCWD, P, 0o302, 0o640), -17, ctx) == \
        'openat(AT_FDCWD, "/tmp/umlpy-files-OQxp97/a.txt", O_RDWR|O_CREAT|O_EXCL, 0640) = -1 EEXIST (File exists)'
    assert line("openat", (AT_FDCWD, B, 0o2204000), 3, ctx) == \
        'openat(AT_FDCWD, "/etc/hostname", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 3'
    assert line("open", (B, 0o100101, 0), 3, ctx) == 'open("/etc/hostname", O_WRONLY|O_CREAT|O_LARGEFILE, 000) = 3'


def test_open_flag_order_and_paths_not_cut():
    ctx = FakeCtx({P: cstr("/nonexistent/long/path/name")}, strsize=5)
    flags = 0o777777777 & ~0o20200000
    assert line("openat", (AT_FDCWD, P, flags, 0o644), -2, ctx) == (
        'openat(AT_FDCWD, "/nonexistent/long/path/name", O_ACCMODE|O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|'
        'O_NONBLOCK|O_SYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_CLOEXEC|O_PATH|FASYNC|0x780003c, 0644)'
        ' = -1 ENOENT (No such file or directory)')
    assert line("openat", (AT_FDCWD, P, 0o20200002, 0o600), -2, ctx).startswith(
        'openat(AT_FDCWD, "/nonexistent/long/path/name", O_RDWR|O_TMPFILE, 0600)')
    assert line("openat", (7, P, 0xc0000001), -2, ctx).startswith('openat(7, "/nonexistent/long/path/name", O_WRONLY|0xc0000000)')


def test_openat_xmodes_and_paths():
    ctx = FakeCtx({P: cstr("/etc/hostname")}, xmode="verbose")
    assert line("openat", (AT_FDCWD, P, 0x410002, 0o600), -2, ctx) == \
        'openat(-100 /* AT_FDCWD */, "/etc/hostname", 0x410002 /* O_RDWR|O_TMPFILE */, 0600) = -1 ENOENT (No such file or directory)'
    ctx.xmode = "raw"
    assert line("openat", (AT_FDCWD, P, 0), 3, ctx) == 'openat(-100, "/etc/hostname", 0) = 3'
    ctx = FakeCtx({P: cstr("/etc/hostname")}, show_paths=True, paths={3: "/etc/hostname", -100: "/tmp/dec_probe"})
    assert line("openat", (AT_FDCWD, P, 0), 3, ctx) == \
        'openat(AT_FDCWD</tmp/dec_probe>, "/etc/hostname", O_RDONLY) = 3</etc/hostname>'
    assert line("read", (99, B, 300), -9, ctx) == 'read(99, 0x7ffe0000, 300) = -1 EBADF (Bad file descriptor)'
    assert line("dup2", (3, 20), 20, FakeCtx(show_paths=True, paths={3: "/etc/hostname", 20: "/etc/hostname"})) == \
        'dup2(3</etc/hostname>, 20) = 20</etc/hostname>'


def test_read_write():
    ctx = FakeCtx({B: b"HELLO, files\n" + bytes(50)})
    assert line("read", (3, B, 63), 13, ctx) == r'read(3, "HELLO, files\n", 63) = 13'
    assert line("read", (3, B, 300), 0, ctx) == 'read(3, "", 300) = 0'
    assert line("read", (99, B, 300), -9, ctx) == 'read(99, 0x7ffe0000, 300) = -1 EBADF (Bad file descriptor)'
    ctx = FakeCtx({B: b"x" * 4096})
    assert line("read", (3, B, 4096), 4096, ctx) == 'read(3, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 4096) = 4096'
    assert line("write", (4, B, 200000), 200000, FakeCtx({B: b"x" * 64})) == \
        'write(4, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"..., 200000) = 200000'
    ctx = FakeCtx({B: b"a\0b\1\0012\n\t\r\v\f\"\\\x7f\xff 9\x1b[0m\0"})
    assert line("write", (-1 & (2**64 - 1), B, 22), -9, ctx) == \
        r'write(-1, "a\0b\1\0012\n\t\r\v\f\"\\\177\377 9\33[0m\0", 22) = -1 EBADF (Bad file descriptor)'
    ctx.strsize = 5
    assert line("write", (2**64 - 1, B, 22), -9, ctx) == r'write(-1, "a\0b\1\1"..., 22) = -1 EBADF (Bad file descriptor)'
    assert line("write", (2**64 - 1, 0x10, 5), -9) == 'write(-1, 0x10, 5) = -1 EBADF (Bad file descriptor)'
    assert line("write", (2**64 - 1, 0, 5), -9) == 'write(-1, NULL, 5) = -1 EBADF (Bad file descriptor)'
    # entry and exit halves, as an unfinished/resumed pair shows them
    args = (3, B, 4096, 0, 0, 0)
    assert decode.decode_enter("read", ctx, args) == ["3"]
    assert decode.decode_enter("write", ctx, (4, B, 22, 0, 0, 0)) == ["4", r'"a\0b\1\1"...', "22"]


def test_readv_writev():
    iov = struct.pack("<QQQQ", B, 2, B + 2, 10)
    ctx = FakeCtx({P: iov, B: b"vm\n" + bytes(20)})
    assert line("readv", (3, P, 2), 3, ctx) == 'readv(3, [{iov_base="vm", iov_len=2}, {iov_base="\\n", iov_len=10}], 2) = 3'
    assert line("readv", (3, 8, 2), -14, ctx) == 'readv(3, 0x8, 2) = -1 EFAULT (Bad address)'
    iov = struct.pack("<QQQQ", B, 12, 0, 0)
    ctx = FakeCtx({P: iov, B: b"Hello, world"})
    assert line("writev", (1, P, 2), 12, ctx) == \
        'writev(1, [{iov_base="Hello, world", iov_len=12}, {iov_base=NULL, iov_len=0}], 2) = 12'


def test_stat_family():
    st = struct.pack("<QQQIIIiQqqqqqqqqq24x", 0xfe00, 612, 1, 0o100640, 0, 0, 0, 0, 13, 4096, 8,
                     1795309361, 626026209, 1795308367, 906026209, 1795308367, 906026209)
    ctx = FakeCtx({B: st, P: b"\0"})
    assert line("newfstatat", (3, P, B, 0x1000), 0, ctx) == \
        'newfstatat(3, "", {st_mode=S_IFREG|0640, st_size=13, ...}, AT_EMPTY_PATH) = 0'
    assert line("fstat", (3, B), 0, ctx) == 'fstat(3, {st_mode=S_IFREG|0640, st_size=13, ...}) = 0'
    dev = struct.pack("<QQQIIIiQqqqqqqqqq24x", 6, 3, 1, 0o20666, 0, 0, 0, 0x103, 0, 4096, 0, 0, 0, 0, 0, 0, 0)
    ctx = FakeCtx({B: dev, P: cstr("/dev/null")})
    assert line("newfstatat", (AT_FDCWD, P, B, 0), 0, ctx) == \
        'newfstatat(AT_FDCWD, "/dev/null", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}, 0) = 0'
    assert line("newfstatat", (AT_FDCWD, P, B + 8, 0), -2, ctx) == \
        'newfstatat(AT_FDCWD, "/dev/null", 0x7ffe0008, 0) = -1 ENOENT (No such file or directory)'
    assert line("stat", (P, 8), -14, ctx) == 'stat("/dev/null", 0x8) = -1 EFAULT (Bad address)'
    ctx.xmode = "raw"
    assert line("fstat", (1, B), 0, ctx) == 'fstat(1, {st_mode=020666, st_rdev=makedev(0x1, 0x3), ...}) = 0'
    ctx = FakeCtx({B: st}, verbose=True)
    assert line("fstat", (3, B), 0, ctx) == (
        'fstat(3, {st_dev=makedev(0xfe, 0), st_ino=612, st_mode=S_IFREG|0640, st_nlink=1, st_uid=0, st_gid=0, '
        'st_blksize=4096, st_blocks=8, st_size=13, st_atime=1795309361 /* 2026-11-22T01:02:41.626026209+0000 */, '
        'st_atime_nsec=626026209, st_mtime=1795308367 /* 2026-11-22T00:46:07.906026209+0000 */, '
        'st_mtime_nsec=906026209, st_ctime=1795308367 /* 2026-11-22T00:46:07.906026209+0000 */, '
        'st_ctime_nsec=906026209}) = 0')


def test_statx():
    stx = struct.pack("<IIQIIIHHQQQQ", 0x1fff, 4096, 0, 1, 0, 0, 0o100755, 0, 612, 3, 8, 0) + bytes(160)
    ctx = FakeCtx({B: stx, P: b"\0"})
    assert line("statx", (3, P, 0x1000, 0xfff, B), 0, ctx) == (
        'statx(3, "", AT_STATX_SYNC_AS_STAT|AT_EMPTY_PATH, STATX_ALL, {stx_mask=STATX_ALL|STATX_MNT_ID, '
        'stx_attributes=0, stx_mode=S_IFREG|0755, stx_size=3, ...}) = 0')
    stx = struct.pack("<IIQIIIHHQQQQ", 0x17ff, 4096, 0, 1, 0, 0, 0o20666, 0, 3, 0, 0, 0) + bytes(160)
    ctx = FakeCtx({B: stx, P: cstr("/dev/null")})
    assert line("statx", (AT_FDCWD, P, 0x4100, 0x7ff, B), 0, ctx) == (
        'statx(AT_FDCWD, "/dev/null", AT_STATX_DONT_SYNC|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, '
        '{stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0, stx_mode=S_IFCHR|0666, stx_size=0, ...}) = 0')


def test_pipe2_getdents_misc_files():
    ctx = FakeCtx({B: struct.pack("<ii", 3, 4)})
    assert line("pipe2", (B, 0), 0, ctx) == "pipe2([3, 4], 0) = 0"
    assert line("pipe2", (B, 0o4000 | 0o2000000), 0, ctx) == "pipe2([3, 4], O_NONBLOCK|O_CLOEXEC) = 0"
    assert line("pipe2", (8, 0), -14, ctx) == "pipe2(0x8, 0) = -1 EFAULT (Bad address)"
    ctx = FakeCtx({B: struct.pack("<ii", 4, 5)}, show_paths=True, paths={4: "pipe:[30755]", 5: "pipe:[30755]"})
    assert line("pipe2", (B, 0), 0, ctx) == "pipe2([4<pipe:[30755]>, 5<pipe:[30755]>], 0) = 0"
    ents = b"".join(_dirent(i, n) for i, n in enumerate([b".", b"..", b"a", b"b", b"c", b"f0", b"sub"]))
    ctx = FakeCtx({B: ents})
    assert line("getdents64", (3, B, 32768), len(ents), ctx) == \
        "getdents64(3, 0x7ffe0000 /* 7 entries */, 32768) = %d" % len(ents)
    assert line("getdents64", (3, B, 32768), 0, ctx) == "getdents64(3, 0x7ffe0000 /* 0 entries */, 32768) = 0"
    assert line("getdents64", (99, B, 300), -9, ctx) == "getdents64(99, 0x7ffe0000, 300) = -1 EBADF (Bad file descriptor)"
    ctx = FakeCtx({P: cstr("/proc/self/exe"), B: b"/work/main/guest_images/build/bin/hello-glibc"})
    assert line("readlink", (P, B, 4096), 45, ctx) == \
        'readlink("/proc/self/exe", "/work/main/guest_images/build/bi"..., 4096) = 45'
    ctx = FakeCtx({B: cstr("/tmp/umlpy-files-OQxp97")})
    assert line("getcwd", (B, 256), 24, ctx) == 'getcwd("/tmp/umlpy-files-OQxp97", 256) = 24'
    ctx = FakeCtx({P: cstr("/tmp/umlpy-files-OQxp97/a.txt")})
    assert line("access", (P, 0), -2, ctx) == \
        'access("/tmp/umlpy-files-OQxp97/a.txt", F_OK) = -1 ENOENT (No such file or directory)'
    assert line("access", (P, 7), 0, ctx) == 'access("/tmp/umlpy-files-OQxp97/a.txt", R_OK|W_OK|X_OK) = 0'
    assert line("access", (P, 0x80), -22, ctx).startswith('access("/tmp/umlpy-files-OQxp97/a.txt", 0x80 /* ?_OK */)')
    assert line("mkdir", (P, 0o700), 0, ctx) == 'mkdir("/tmp/umlpy-files-OQxp97/a.txt", 0700) = 0'
    assert line("lseek", (3, 0, 2), 13) == "lseek(3, 0, SEEK_END) = 13"
    assert line("pwrite64", (3, B, 5, 0), 5, FakeCtx({B: b"HELLO"})) == 'pwrite64(3, "HELLO", 5, 0) = 5'
    assert line("umask", (0o22,), 0o22) == "umask(022) = 022"
    assert line("umask", (0,), 0o22) == "umask(000) = 022"
    assert line("close", (3,), 0) == "close(3) = 0"
    assert line("dup3", (3, 21, 0o2000000), 21) == "dup3(3, 21, O_CLOEXEC) = 21"
    assert line("unlinkat", (AT_FDCWD, P, 0x200), -2, ctx) == \
        'unlinkat(AT_FDCWD, "/tmp/umlpy-files-OQxp97/a.txt", AT_REMOVEDIR) = -1 ENOENT (No such file or directory)'
    assert line("fchownat", (AT_FDCWD, P, 2**64 - 1, 0, 0x100), 0, ctx) == \
        'fchownat(AT_FDCWD, "/tmp/umlpy-files-OQxp97/a.txt", -1, 0, AT_SYMLINK_NOFOLLOW) = 0'
    assert line("close_range", (100, 0xFFFFFFFF, 4), 0) == "close_range(100, 4294967295, CLOSE_RANGE_CLOEXEC) = 0"


def _dirent(i, name):
    reclen = (19 + len(name) + 1 + 7) & ~7
    rec = struct.pack("<QqHB", 100 + i, i + 1, reclen, 8) + name
    return rec + bytes(reclen - len(rec))


def test_fcntl():
    assert line("fcntl", (3, 3), 0x8000) == "fcntl(3, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)"
    assert line("fcntl", (1, 3), 0x8001) == "fcntl(1, F_GETFL) = 0x8001 (flags O_WRONLY|O_LARGEFILE)"
    assert line("fcntl", (3, 4, 0o6000), 0) == "fcntl(3, F_SETFL, O_RDONLY|O_APPEND|O_NONBLOCK) = 0"
    assert line("fcntl", (3, 1030, 10), 11) == "fcntl(3, F_DUPFD_CLOEXEC, 10) = 11"
    assert line("fcntl", (3, 2, 1), 0) == "fcntl(3, F_SETFD, FD_CLOEXEC) = 0"
    assert line("fcntl", (3, 2, 0), 0) == "fcntl(3, F_SETFD, 0) = 0"
    assert line("fcntl", (1, 1), 1) == "fcntl(1, F_GETFD) = 0x1 (flags FD_CLOEXEC)"
    assert line("fcntl", (0, 1), 0) == "fcntl(0, F_GETFD) = 0"
    assert line("fcntl", (3, 9999, 0), -22) == "fcntl(3, 0x270f /* F_??? */, 0) = -1 EINVAL (Invalid argument)"
    assert line("fcntl", (1, 2, 1), 0, FakeCtx(xmode="verbose")) == \
        "fcntl(1, 0x2 /* F_SETFD */, 0x1 /* FD_CLOEXEC */) = 0"


# --- memory ---------------------------------------------------------------------

def test_memory_calls():
    assert line("brk", (0,), 0xd3dc000) == "brk(NULL) = 0xd3dc000"
    assert line("brk", (0xd3dcd00,), 0xd3dcd00) == "brk(0xd3dcd00) = 0xd3dcd00"
    assert line("mmap", (0, 8392704, 3, 0x22, 2**64 - 1, 0), 0x7f5ad3a98000) == \
        "mmap(NULL, 8392704, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f5ad3a98000"
    assert line("mmap", (0, 8392704, 0, 0x20022, 2**64 - 1, 0), 0x7f1c8a360000) == \
        "mmap(NULL, 8392704, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK, -1, 0) = 0x7f1c8a360000"
    assert line("mmap", (0x1d303000, 4096, 0, 0x32, 2**64 - 1, 0), 0x1d303000) == \
        "mmap(0x1d303000, 4096, PROT_NONE, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0) = 0x1d303000"
    assert line("mmap", (0, 4096, 0xff, 0xffffffff, 99, 0x1000), -22) == (
        "mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|0xf0, 0xf /* MAP_??? */|MAP_FIXED|MAP_ANONYMOUS|"
        "MAP_32BIT|MAP_NORESERVE|MAP_POPULATE|MAP_NONBLOCK|MAP_GROWSDOWN|MAP_DENYWRITE|MAP_EXECUTABLE|MAP_LOCKED|"
        "MAP_STACK|MAP_HUGETLB|MAP_SYNC|MAP_FIXED_NOREPLACE|0x3e00680|63<<MAP_HUGE_SHIFT, 99, 0x1000)"
        " = -1 EINVAL (Invalid argument)")
    assert line("mmap", (0x10000, 8192, 5, 0x01 | 0x10 | 0x40000 | (21 << 26), 99, 0), -9) == \
        "mmap(0x10000, 8192, PROT_READ|PROT_EXEC, MAP_SHARED|MAP_FIXED|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, 99, 0)" \
        " = -1 EBADF (Bad file descriptor)"
    assert line("mmap", (0, 4096, 0, 0, 99, 0), -9).startswith("mmap(NULL, 4096, PROT_NONE, MAP_FILE, 99, 0)")
    assert line("mmap", (0, 4096, 1, 0x30, 2**64 - 1, 0), -22, FakeCtx(xmode="verbose")).startswith(
        "mmap(NULL, 4096, 0x1 /* PROT_READ */, 0x30 /* MAP_FILE|MAP_FIXED|MAP_ANONYMOUS */, -1, 0)")
    assert line("mprotect", (0x4a0000, 16384, 1), 0) == "mprotect(0x4a0000, 16384, PROT_READ) = 0"
    assert line("mprotect", (0, 0, 0x40), 0) == "mprotect(NULL, 0, 0x40 /* PROT_??? */) = 0"
    assert line("munmap", (0x7f5ad3a98000, 8392704), 0) == "munmap(0x7f5ad3a98000, 8392704) = 0"
    assert line("mremap", (0x7f5ad4199000, 1048576, 4194304, 1), 0x7f5ad3c00000) == \
        "mremap(0x7f5ad4199000, 1048576, 4194304, MREMAP_MAYMOVE) = 0x7f5ad3c00000"
    assert line("madvise", (0, 0, 4), 0) == "madvise(NULL, 0, MADV_DONTNEED) = 0"
    assert line("madvise", (0, 0, 77), -22) == "madvise(NULL, 0, 0x4d /* MADV_??? */) = -1 EINVAL (Invalid argument)"
    assert line("msync", (0, 0, 6), 0) == "msync(NULL, 0, MS_SYNC|MS_INVALIDATE) = 0"
    assert line("mlockall", (3,), 0) == "mlockall(MCL_CURRENT|MCL_FUTURE) = 0"
