"""File status: ``struct stat``, ``struct statx`` and ``struct linux_dirent64``.

From uapi ``asm/stat.h`` (x86-64), ``linux/stat.h`` and ``linux/dirent.h``
(the dirent64 layout is in ``fs/readdir.c``).  Layouts are checked by
``tests/unit/fs/test_stat.py``: ``struct stat`` is 144 bytes, ``struct statx``
256 bytes.
"""

import struct

from .record import record

# File types (st_mode & S_IFMT) and permission bits, from linux/stat.h.
S_IFMT = 0o170000
S_IFSOCK = 0o140000
S_IFLNK = 0o120000
S_IFREG = 0o100000
S_IFBLK = 0o060000
S_IFDIR = 0o040000
S_IFCHR = 0o020000
S_IFIFO = 0o010000
S_ISUID = 0o4000
S_ISGID = 0o2000
S_ISVTX = 0o1000
S_IRWXU = 0o700
S_IRUSR = 0o400
S_IWUSR = 0o200
S_IXUSR = 0o100
S_IRWXG = 0o070
S_IRWXO = 0o007

# d_type values of struct linux_dirent64 (linux/fs_types.h): S_IFMT >> 12.
DT_UNKNOWN = 0
DT_FIFO = 1
DT_CHR = 2
DT_DIR = 4
DT_BLK = 6
DT_REG = 8
DT_LNK = 10
DT_SOCK = 12

# statx mask bits (linux/stat.h).
STATX_TYPE = 0x0001
STATX_MODE = 0x0002
STATX_NLINK = 0x0004
STATX_UID = 0x0008
STATX_GID = 0x0010
STATX_ATIME = 0x0020
STATX_MTIME = 0x0040
STATX_CTIME = 0x0080
STATX_INO = 0x0100
STATX_SIZE = 0x0200
STATX_BLOCKS = 0x0400
STATX_BASIC_STATS = 0x07FF
STATX_BTIME = 0x0800
STATX_MNT_ID = 0x1000

# AT_* flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH...) live in umlpy.abi.fcntl.

STAT_SIZE = 144
STATX_STRUCT_SIZE = 256          # sizeof(struct statx); STATX_SIZE is the mask bit

# struct stat (x86-64): dev, ino, nlink (u64); mode, uid, gid (u32), __pad0;
# rdev (u64); size, blksize, blocks (i64); atime, mtime, ctime as (sec, nsec)
# i64 pairs; 3 reserved i64.
_STAT = struct.Struct("<QQQIIIiQqqqqqqqqq3q")
# struct statx: mask u32, blksize u32, attributes u64, nlink/uid/gid u32,
# mode u16, spare u16, ino/size/blocks/attributes_mask u64, 4 timestamps
# (atime, btime, ctime, mtime: i64 sec, u32 nsec, i32 pad), rdev_major,
# rdev_minor, dev_major, dev_minor u32, then spare to 256 bytes.
_STATX_HEAD = struct.Struct("<IIQIIIHHQQQQ" + "qIi" * 4 + "IIIIQ")   # ... stx_dev_minor, stx_mnt_id
_STATX = struct.Struct(_STATX_HEAD.format + "%dx" % (256 - _STATX_HEAD.size))      # the whole struct
_DIRENT64_HEAD = struct.Struct("<QqHB")  # d_ino, d_off, d_reclen, d_type

assert _STAT.size == STAT_SIZE


def dev_major(dev: int) -> int:
    """Major number of a Linux dev_t (glibc/kernel new_encode_dev layout)."""
    return ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF & 0xFFFFFFFF)


def dev_minor(dev: int) -> int:
    return (dev & 0xFF) | ((dev >> 12) & ~0xFF & 0xFFFFFFFF)


def makedev(major: int, minor: int) -> int:
    return ((major & 0xFFF) << 8) | ((major & ~0xFFF) << 32) | (minor & 0xFF) | ((minor & ~0xFF) << 12)


def mode_to_dtype(mode: int) -> int:
    return (mode & S_IFMT) >> 12


@record
class Stat:
    """What stat(2) reports about a guest file; timestamps are (sec, nsec)."""

    st_dev: int = 0
    st_ino: int = 0
    st_nlink: int = 1
    st_mode: int = 0
    st_uid: int = 0
    st_gid: int = 0
    st_rdev: int = 0
    st_size: int = 0
    st_blksize: int = 4096
    st_blocks: int = 0
    st_atime: tuple = (0, 0)
    st_mtime: tuple = (0, 0)
    st_ctime: tuple = (0, 0)

    @property
    def file_type(self) -> int:
        return self.st_mode & S_IFMT

    def is_dir(self) -> bool:
        return self.file_type == S_IFDIR

    def pack_stat(self) -> bytes:
        """The x86-64 ``struct stat`` (144 bytes)."""
        return _STAT.pack(
            self.st_dev, self.st_ino, self.st_nlink,
            self.st_mode, self.st_uid, self.st_gid, 0,
            self.st_rdev, self.st_size, self.st_blksize, self.st_blocks,
            self.st_atime[0], self.st_atime[1],
            self.st_mtime[0], self.st_mtime[1],
            self.st_ctime[0], self.st_ctime[1],
            0, 0, 0)

    def pack_statx(self, mask: int = STATX_BASIC_STATS) -> bytes:
        """``struct statx`` (256 bytes).  Everything basic is always filled in,
        as Linux does for local filesystems, and so is the mount id (STATX_MNT_ID,
        as since Linux 5.8); ``mask`` only narrows stx_mask for what the caller
        asked beyond that.  btime is reported as ctime."""
        stx_mask = STATX_BASIC_STATS | STATX_MNT_ID | (mask & STATX_BTIME)
        a, c, m = self.st_atime, self.st_ctime, self.st_mtime
        rdev, dev = self.st_rdev, self.st_dev
        return _STATX.pack(
            stx_mask, self.st_blksize, 0,
            self.st_nlink, self.st_uid, self.st_gid,
            self.st_mode & 0xFFFF, 0,
            self.st_ino, self.st_size, self.st_blocks, 0,
            a[0], a[1], 0, c[0], c[1], 0, c[0], c[1], 0, m[0], m[1], 0,     # atime, btime (= ctime), ctime, mtime
            dev_major(rdev) if rdev else 0, dev_minor(rdev) if rdev else 0,
            dev_major(dev), dev_minor(dev),
            dev)                        # stx_mnt_id (Linux 5.8+ always): one mount per guest device


def dirent64_reclen(name: bytes) -> int:
    """Record length of one ``linux_dirent64`` for ``name`` (8-byte aligned)."""
    return (_DIRENT64_HEAD.size + len(name) + 1 + 7) & ~7


def pack_dirent64(ino: int, off: int, dtype: int, name: bytes) -> bytes:
    """One ``struct linux_dirent64`` record: d_ino, d_off (the position after
    this entry), d_reclen, d_type, NUL-terminated name, zero padding."""
    reclen = dirent64_reclen(name)
    rec = _DIRENT64_HEAD.pack(ino, off, reclen, dtype) + name
    return rec + bytes(reclen - len(rec))


# struct statfs (x86-64, asm-generic/statfs.h with 64-bit longs): f_type,
# f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid[2] (int),
# f_namelen, f_frsize, f_flags, f_spare[4]: 120 bytes.
_STATFS = struct.Struct("<qqQQQQQiiqqq4q")
STATFS_SIZE = 120
assert _STATFS.size == STATFS_SIZE

TMPFS_MAGIC = 0x01021994
PROC_SUPER_MAGIC = 0x9FA0
OVERLAYFS_SUPER_MAGIC = 0x794C7630
ST_NOSUID = 0x0002
ST_NODEV = 0x0004
ST_NOEXEC = 0x0008


def pack_statfs(f_type: int, *, bsize=4096, blocks=0, bfree=0, bavail=0, files=0, ffree=0,
                fsid=(0, 0), namelen=255, flags=0) -> bytes:
    """``struct statfs`` (120 bytes)."""
    return _STATFS.pack(f_type, bsize, blocks, bfree, bavail, files, ffree,
                        fsid[0], fsid[1], namelen, bsize, flags, 0, 0, 0, 0)

# The rest of statfs's f_flags (linux/statfs.h) and magics (linux/magic.h).
ST_RDONLY = 0x0001
ST_SYNCHRONOUS = 0x0010
ST_VALID = 0x0020
ST_MANDLOCK = 0x0040
ST_NOATIME = 0x0400
ST_NODIRATIME = 0x0800
ST_RELATIME = 0x1000
EXT2_SUPER_MAGIC = 0xEF53

# statx masks not above (linux/stat.h): STATX_ALL is deprecated but still named.
STATX_ALL = 0x0FFF
STATX_DIOALIGN = 0x2000
