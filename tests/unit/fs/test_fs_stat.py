import struct

from umlpy.abi import stat as st


def test_stat_layout():
    s = st.Stat(st_dev=1, st_ino=2, st_nlink=3, st_mode=st.S_IFREG | 0o644, st_uid=4,
                st_gid=5, st_rdev=6, st_size=7, st_blksize=4096, st_blocks=8,
                st_atime=(9, 10), st_mtime=(11, 12), st_ctime=(13, 14))
    b = s.pack_stat()
    assert len(b) == 144
    assert struct.unpack_from("<QQQIII", b, 0) == (1, 2, 3, st.S_IFREG | 0o644, 4, 5)
    assert struct.unpack_from("<Qqqq", b, 40) == (6, 7, 4096, 8)
    assert struct.unpack_from("<6q", b, 72) == (9, 10, 11, 12, 13, 14)


def test_statx_layout():
    s = st.Stat(st_dev=st.makedev(8, 1), st_ino=99, st_mode=st.S_IFDIR | 0o755,
                st_size=4096, st_mtime=(5, 6), st_rdev=st.makedev(1, 3))
    b = s.pack_statx(st.STATX_BASIC_STATS)
    assert len(b) == 256
    mask, blksize = struct.unpack_from("<II", b, 0)
    assert mask & st.STATX_BASIC_STATS == st.STATX_BASIC_STATS and blksize == 4096
    assert struct.unpack_from("<H", b, 28)[0] == st.S_IFDIR | 0o755
    assert struct.unpack_from("<Q", b, 32)[0] == 99
    assert struct.unpack_from("<qI", b, 112) == (5, 6)   # stx_mtime
    assert struct.unpack_from("<4I", b, 128) == (1, 3, 8, 1)


def test_makedev_roundtrip():
    for ma, mi in ((0, 0), (1, 3), (259, 70000), (4095, 255)):
        d = st.makedev(ma, mi)
        assert (st.dev_major(d), st.dev_minor(d)) == (ma, mi)


def test_dirent64_alignment():
    for name in (b"a", b"abcdefg", b"x" * 100):
        rec = st.pack_dirent64(5, 1, st.DT_REG, name)
        assert len(rec) % 8 == 0
        ino, off, reclen, dtype = struct.unpack_from("<QqHB", rec)
        assert (ino, off, reclen, dtype) == (5, 1, len(rec), st.DT_REG)
        assert rec[19:19 + len(name) + 1] == name + b"\0"


def test_statfs_size():
    assert len(st.pack_statfs(st.TMPFS_MAGIC)) == 120
