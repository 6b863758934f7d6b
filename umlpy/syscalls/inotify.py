"""inotify system calls: inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

The instance and the reporting are :mod:`umlpy.fs.inotify`'s; the read and
write handlers of the other families report their events through
:func:`notifying`.
"""

import errno

from umlpy.abi.events import IN, IN_ALL_EVENTS, IN_CLOEXEC, IN_NONBLOCK
from umlpy.abi.fcntl import O_RDONLY
from umlpy.errors import SyscallError
from umlpy.fs import inotify as fsn
from umlpy.fs.inotify import InotifyFile
from umlpy.fs.perm import R_OK, check

from .table import partial

E = SyscallError
IN_ONLYDIR, IN_DONT_FOLLOW = int(IN.IN_ONLYDIR), int(IN.IN_DONT_FOLLOW)
IN_MASK_ADD, IN_MASK_CREATE = int(IN.IN_MASK_ADD), int(IN.IN_MASK_CREATE)
#: Every bit inotify_add_watch accepts (ALL_INOTIFY_BITS).
_VALID = (IN_ALL_EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW | int(IN.IN_EXCL_UNLINK) | IN_MASK_ADD | IN_MASK_CREATE
          | int(IN.IN_ONESHOT) | int(IN.IN_ISDIR))


def inotify_init1(t, a):
    """Inotify_init1 implements inotify_init1(2)."""
    flags = a.int(0)
    if flags & ~(IN_CLOEXEC | IN_NONBLOCK):
        raise E(errno.EINVAL)
    return t.files.install(InotifyFile(O_RDONLY | (flags & IN_NONBLOCK)), cloexec=bool(flags & IN_CLOEXEC))


def inotify_init(t, a):
    return inotify_init1(t, type(a)((0,) * 6))


def inotify_add_watch(t, a):
    """Inotify_add_watch implements inotify_add_watch(2)."""
    from .fs import _caller, _path
    fd, mask = a.fd(0), a.uint(2)
    if not mask & IN_ALL_EVENTS:
        raise E(errno.EINVAL)
    if mask & IN_MASK_ADD and mask & IN_MASK_CREATE:
        raise E(errno.EINVAL)
    f = t.files.get(fd)
    if not isinstance(f, InotifyFile):
        raise E(errno.EINVAL)
    path = _path(t, a.ptr(1))
    caller = _caller(t)
    node = t.kernel.vfs.resolve(caller, path, follow=not mask & IN_DONT_FOLLOW).node
    check(caller, node.stat(), R_OK)
    if mask & IN_ONLYDIR and not node.is_dir():
        raise E(errno.ENOTDIR)
    return f.add_watch(node, mask & _VALID & ~(IN_ONLYDIR | IN_DONT_FOLLOW))


def inotify_rm_watch(t, a):
    f = t.files.get(a.fd(0))
    if not isinstance(f, InotifyFile):
        raise E(errno.EINVAL)
    f.remove_watch(a.int(1))
    return 0


def notifying(handler, mask, on_zero=False):
    """``handler`` (whose first argument is the fd) reports ``mask`` on its file when it
    moved data (or, ``on_zero``, when it returned 0: ftruncate, fallocate)."""
    def call(t, a):
        ret = handler(t, a)
        if fsn.active and type(ret) is int and (ret > 0 or on_zero and ret == 0):
            fsn.fsnotify_file(t.files.get(a.fd(0)), mask)
        return ret
    call.__name__ = handler.__name__
    call.__doc__ = handler.__doc__
    return call


_NOTE = ("events of guest files: IN_DELETE_SELF of an unlinked file comes at the unlink, "
         "not at its last close")
FAMILY = [
    partial("inotify_init", inotify_init, _NOTE), partial("inotify_init1", inotify_init1, _NOTE),
    partial("inotify_add_watch", inotify_add_watch, _NOTE), partial("inotify_rm_watch", inotify_rm_watch, _NOTE),
]
