"""mknod's special files and FIFO opens at the fs layer."""

import errno
import os

from umlpy.abi import stat as st
from umlpy.fs.memfs import MemFifo, MemSocket

from .conftest import errno_of


def test_mknod_kinds_and_errors(vfs, root):
    assert isinstance(vfs.mknod(root, b"/tmp/f", st.S_IFIFO | 0o644), MemFifo)
    s = vfs.mknod(root, b"/tmp/s", st.S_IFSOCK | 0o600)
    assert isinstance(s, MemSocket) and s.socket is None          # the socket layer's hook
    assert vfs.stat(root, b"/tmp/s", follow=False).st_mode & st.S_IFMT == st.S_IFSOCK
    assert errno_of(vfs.open, root, b"/tmp/s", os.O_RDWR) == errno.ENXIO
    # The guest's root has no CAP_MKNOD: devices are EPERM, after the path checks.
    assert errno_of(vfs.mknod, root, b"/tmp/dev", st.S_IFCHR | 0o600, st.makedev(1, 3)) == errno.EPERM
    assert errno_of(vfs.mknod, root, b"/tmp/f", st.S_IFBLK | 0o600) == errno.EEXIST
    assert errno_of(vfs.mknod, root, b"/nodir/x", st.S_IFCHR | 0o600) == errno.ENOENT
    assert errno_of(vfs.mknod, root, b"/tmp/d", st.S_IFDIR | 0o700) == errno.EPERM
    assert errno_of(vfs.mknod, root, b"/tmp/x", 0o170000) == errno.EINVAL


def test_fifo_opens(vfs, root):
    vfs.mknod(root, b"/tmp/f", st.S_IFIFO | 0o600)
    assert errno_of(vfs.open, root, b"/tmp/f", os.O_WRONLY | os.O_NONBLOCK) == errno.ENXIO
    r = vfs.open(root, b"/tmp/f", os.O_RDONLY)
    assert r.open_wait() is not None                        # waits for a writer
    w = vfs.open(root, b"/tmp/f", os.O_WRONLY)
    assert w.open_wait() is None and r.open_wait() is None
    r.get_ref(), w.get_ref()
    assert w.write(b"abc") == 3 and r.read(10) == b"abc"
    w.put_ref()
    assert r.read(10) == b""
    r.put_ref()
    node = vfs.resolve(root, b"/tmp/f").node
    assert node.pipe is None                                 # the last end freed the pipe
