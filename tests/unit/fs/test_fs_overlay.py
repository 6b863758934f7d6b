import errno
import os
import struct

from umlpy.abi import stat as st


def _names(blob):
    out, off = [], 0
    while off < len(blob):
        ino, doff, reclen, dtype = struct.unpack_from("<QqHB", blob, off)
        name = blob[off + 19:off + reclen].split(b"\0", 1)[0]
        out.append((name, dtype, doff))
        off += reclen
    return out


def _snapshot(rootfs):
    return sorted((str(p), p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() and not
                   p.is_symlink() else None) for p in rootfs.rglob("*"))


def test_copy_up_never_writes_host(vfs, root, rootfs):
    before = _snapshot(rootfs)
    f = vfs.open(root, b"/etc/passwd", os.O_RDWR)
    assert f.read(5) == b"root:"
    f.write(b"XX")
    f.lseek(0, 0)
    assert f.read(7) == b"root:XX"
    g = vfs.open(root, b"/etc/hosts", os.O_WRONLY | os.O_APPEND)
    g.write(b"::1 localhost\n")
    vfs.open(root, b"/etc/hosts", os.O_WRONLY | os.O_TRUNC).close()
    vfs.open(root, b"/etc/new", os.O_CREAT | os.O_WRONLY, 0o644).write(b"n")
    vfs.mkdir(root, b"/etc/d")
    vfs.unlink(root, b"/bin/rel_link")
    vfs.rename(root, b"/etc/passwd", b"/etc/passwd2")
    vfs.chmod(root, b"/bin/prog", 0o700)
    vfs.truncate(root, b"/bin/prog", 1)
    assert _snapshot(rootfs) == before
    assert vfs.open(root, b"/etc/passwd2", os.O_RDONLY).read(7) == b"root:XX"
    assert vfs.stat(root, b"/etc/hosts").st_size == 0
    assert vfs.stat(root, b"/bin/prog").st_mode & 0o777 == 0o700


def test_whiteouts_and_readdir(vfs, root, err):
    vfs.unlink(root, b"/etc/hosts")
    assert err(vfs.stat, root, b"/etc/hosts") == errno.ENOENT
    vfs.open(root, b"/etc/extra", os.O_CREAT | os.O_WRONLY, 0o600).close()
    d = vfs.open(root, b"/etc", os.O_RDONLY | os.O_DIRECTORY)
    names = [n for n, _, _ in _names(d.getdents64(4096))]
    assert names[:2] == [b".", b".."]
    assert sorted(names[2:]) == [b"extra", b"passwd", b"secret"]
    assert d.getdents64(4096) == b""
    # Recreate over the whiteout.
    vfs.open(root, b"/etc/hosts", os.O_CREAT | os.O_WRONLY, 0o644).write(b"new")
    assert vfs.open(root, b"/etc/hosts", os.O_RDONLY).read(10) == b"new"


def test_getdents_resumes_and_small_buffer(vfs, root, err):
    for i in range(20):
        vfs.open(root, b"/tmp/file%02d" % i, os.O_CREAT | os.O_WRONLY).close()
    d = vfs.open(root, b"/tmp", os.O_RDONLY)
    assert err(d.getdents64, 10) == errno.EINVAL
    seen = []
    while True:
        blob = d.getdents64(100)
        if not blob:
            break
        recs = _names(blob)
        assert recs[-1][2] == d.pos
        seen += [n for n, _, _ in recs]
    assert seen[:2] == [b".", b".."] and len(seen) == 22
    d.lseek(0, 0)
    assert _names(d.getdents64(4096))[0][0] == b"."
    types = dict((n, t) for n, t, _ in _names(vfs.open(root, b"/", 0).getdents64(8192)))
    assert types[b"etc"] == st.DT_DIR and types[b"abs_link"] == st.DT_LNK
    assert types[b"proc"] == st.DT_DIR


def test_rmdir_rename_semantics(vfs, root, err):
    vfs.mkdir(root, b"/tmp/a")
    vfs.mkdir(root, b"/tmp/a/b")
    assert err(vfs.mkdir, root, b"/tmp/a") == errno.EEXIST
    assert err(vfs.rmdir, root, b"/tmp/a") == errno.ENOTEMPTY
    assert err(vfs.rename, root, b"/tmp/a", b"/tmp/a/b/c") == errno.EINVAL
    assert err(vfs.unlink, root, b"/tmp/a") == errno.EISDIR
    assert err(vfs.rmdir, root, b"/tmp") == errno.EBUSY
    assert err(vfs.rename, root, b"/etc/passwd", b"/tmp/p") == errno.EXDEV
    assert err(vfs.rename, root, b"/etc", b"/etc2") == errno.EXDEV
    vfs.rename(root, b"/tmp/a/b", b"/tmp/c")
    vfs.rmdir(root, b"/tmp/a")
    assert err(vfs.rmdir, root, b"/tmp/a") == errno.ENOENT
    vfs.open(root, b"/tmp/f", os.O_CREAT | os.O_WRONLY).close()
    assert err(vfs.rename, root, b"/tmp/c", b"/tmp/f") == errno.ENOTDIR
    assert err(vfs.rename, root, b"/tmp/f", b"/tmp/c") == errno.EISDIR
    root.cwd = vfs.chdir(root, b"/tmp/c")
    vfs.rename(root, b"/tmp/c", b"/tmp/d")
    assert vfs.getcwd(root) == b"/tmp/d"


def test_open_flags(vfs, root, err):
    assert err(vfs.open, root, b"/etc/passwd", os.O_CREAT | os.O_EXCL | os.O_WRONLY) == errno.EEXIST
    assert err(vfs.open, root, b"/etc", os.O_WRONLY) == errno.EISDIR
    assert err(vfs.open, root, b"/abs_link", os.O_RDONLY | os.O_NOFOLLOW) == errno.ELOOP
    assert err(vfs.open, root, b"/nope/x", os.O_CREAT | os.O_WRONLY) == errno.ENOENT
    f = vfs.open(root, b"/etc/passwd", os.O_RDONLY)
    assert err(f.write, b"x") == errno.EBADF
    w = vfs.open(root, b"/tmp/w", os.O_CREAT | os.O_WRONLY, 0o600)
    assert err(w.read, 1) == errno.EBADF
    assert w.path == b"/tmp/w"
    p = vfs.open(root, b"/etc/passwd", os.O_PATH)
    assert err(p.read, 1) == errno.EBADF and p.fstat().st_size == 26
    # O_CREAT through a dangling symlink creates its target.
    vfs.symlink(root, b"/tmp/target", b"/tmp/dangle")
    vfs.open(root, b"/tmp/dangle", os.O_CREAT | os.O_WRONLY).write(b"t")
    assert vfs.stat(root, b"/tmp/target").st_size == 1


def test_host_stat_reports_root_owner(vfs, root, rootfs):
    s = vfs.stat(root, b"/etc/passwd")
    h = os.stat(rootfs / "etc" / "passwd")
    assert (s.st_uid, s.st_gid, s.st_size, s.st_mode) == (0, 0, h.st_size, h.st_mode)
    assert s.st_mtime == (h.st_mtime_ns // 10**9, h.st_mtime_ns % 10**9)
    assert s.st_dev != h.st_dev


def test_hard_links_and_tmpfs(vfs, root, user, err):
    f = vfs.open(root, b"/tmp/x", os.O_CREAT | os.O_RDWR, 0o644)
    f.write(b"hello")
    vfs.link(root, b"/tmp/x", b"/tmp/y")
    assert vfs.stat(root, b"/tmp/y").st_nlink == 2
    vfs.unlink(root, b"/tmp/x")
    assert vfs.stat(root, b"/tmp/y").st_nlink == 1
    assert f.pread(5, 0) == b"hello"
    # Sticky /tmp: another user may not remove root's file.
    assert err(vfs.unlink, user, b"/tmp/y") == errno.EPERM
    assert f.lseek(10, 0) == 10 and f.write(b"!") == 1
    assert f.pread(20, 0) == b"hello" + bytes(5) + b"!"
    assert vfs.stat(root, b"/tmp").st_dev != vfs.stat(root, b"/").st_dev
    assert f.fstat().st_uid == 0
