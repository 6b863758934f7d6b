import errno
import os


def test_dotdot_cannot_escape(vfs, root):
    f = vfs.open(root, b"/../../../etc/passwd", os.O_RDONLY)
    assert f.read(100).startswith(b"root:")
    assert vfs.stat(root, b"/..").st_ino == vfs.stat(root, b"/").st_ino
    assert vfs.open(root, b"bin/../../../../etc/hosts", os.O_RDONLY).read(9) == b"127.0.0.1"


def test_absolute_symlink_stays_in_root(vfs, root):
    assert vfs.readlink(root, b"/abs_link") == b"/etc/passwd"
    assert vfs.open(root, b"/abs_link", os.O_RDONLY).read(5) == b"root:"
    assert vfs.open(root, b"/bin/rel_link", os.O_RDONLY).read(5) == b"root:"


def test_symlink_to_host_path_is_a_guest_path(vfs, root, err, rootfs):
    # The target names a host file outside the rootfs; in the guest it does not exist.
    assert err(vfs.open, root, b"/host_abs", os.O_RDONLY) == errno.ENOENT


def test_loops(vfs, root, err):
    assert err(vfs.open, root, b"/loop_a", os.O_RDONLY) == errno.ELOOP
    assert err(vfs.stat, root, b"/loop_a/x") == errno.ELOOP
    assert vfs.stat(root, b"/loop_a", follow=False).st_mode & 0o170000 == 0o120000


def test_forty_hops_allowed_not_forty_one(vfs, root, err):
    vfs.symlink(root, b"/etc/passwd", b"/tmp/l0")
    for i in range(1, 41):
        vfs.symlink(root, b"l%d" % (i - 1), b"/tmp/l%d" % i)
    assert vfs.stat(root, b"/tmp/l39").st_size > 0
    assert err(vfs.stat, root, b"/tmp/l40") == errno.ELOOP


def test_name_and_path_limits(vfs, root, err):
    assert err(vfs.stat, root, b"/" + b"a" * 256) == errno.ENAMETOOLONG
    assert err(vfs.stat, root, b"/" + b"a" * 255) == errno.ENOENT
    assert err(vfs.stat, root, b"/" + b"a/" * 2048) == errno.ENAMETOOLONG
    assert err(vfs.stat, root, b"") == errno.ENOENT


def test_enotdir_and_trailing_slash(vfs, root, err):
    assert err(vfs.stat, root, b"/etc/passwd/x") == errno.ENOTDIR
    assert err(vfs.stat, root, b"/etc/passwd/") == errno.ENOTDIR
    assert vfs.stat(root, b"/etc/").st_mode & 0o170000 == 0o040000
    assert err(vfs.open, root, b"/etc/passwd", os.O_RDONLY | os.O_DIRECTORY) == errno.ENOTDIR


def test_search_permission(vfs, root, user, err):
    vfs.mkdir(root, b"/tmp/private", 0o700)
    vfs.open(root, b"/tmp/private/f", os.O_CREAT | os.O_WRONLY, 0o644).close()
    assert err(vfs.stat, user, b"/tmp/private/f") == errno.EACCES
    assert err(vfs.open, user, b"/etc/secret", os.O_RDONLY) == errno.EACCES
    assert err(vfs.access, user, b"/etc/passwd", os.W_OK) == errno.EACCES
    vfs.access(user, b"/etc/passwd", os.R_OK)
    vfs.access(root, b"/etc/secret", os.R_OK | os.W_OK)
    assert err(vfs.access, root, b"/etc/passwd", os.X_OK) == errno.EACCES
    vfs.access(root, b"/bin/prog", os.X_OK)


def test_cwd_and_relative(vfs, root):
    root.cwd = vfs.chdir(root, b"/bin")
    assert vfs.getcwd(root) == b"/bin"
    assert vfs.open(root, b"../etc/hosts", os.O_RDONLY).read(3) == b"127"
    d = vfs.open(root, b"/etc", os.O_RDONLY | os.O_DIRECTORY)
    assert vfs.stat(root, b"passwd", dirfd_file=d).st_size == 26
    root.cwd = vfs.chdir(root, b"/proc/self")
    assert vfs.getcwd(root) == b"/proc/1"


def test_rootlink(vfs, root):
    assert vfs.stat(root, b"/rootlink").st_ino == vfs.stat(root, b"/").st_ino
    assert vfs.open(root, b"/rootlink/etc/passwd", os.O_RDONLY).read(4) == b"root"


def test_exec(vfs, root, user, err):
    f, path = vfs.open_exec(root, b"/bin/prog")
    with f:
        f.seek(1)
        assert f.read(3) == b"ELF"
    assert path == b"/bin/prog"
    assert err(vfs.open_exec, root, b"/etc/passwd") == errno.EACCES
    assert err(vfs.open_exec, root, b"/etc") == errno.EACCES
    assert err(vfs.open_exec, user, b"/nope") == errno.ENOENT
