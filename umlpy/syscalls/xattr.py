"""Extended-attribute calls: get, set, list and remove, by path (following links or
not, l*) and by fd (f*).  The rules are :mod:`umlpy.fs.xattr`'s."""

import errno

from umlpy.abi.fs import XATTR_LIST_MAX, XATTR_NAME_MAX, XATTR_SIZE_MAX
from umlpy.errors import SyscallError
from umlpy.fs import xattr as fx
from umlpy.fs.file import PathFile
from umlpy.fs.inotify import IN_ATTRIB, fsnotify

from .fs import _caller, _path
from .table import supported

E = SyscallError


def _name(t, ptr) -> bytes:
    name = t.mm.read_cstring(ptr, XATTR_NAME_MAX + 2)
    if not name or len(name) > XATTR_NAME_MAX:
        raise E(errno.ERANGE)
    return name


def _node(t, a, how, write, caller=None):
    """(node, (parent, name) or None) of the call's first argument (``caller``: the
    task's fs view when the handler has made it already)."""
    if how == "fd":
        f = t.files.get(a.fd(0))
        if isinstance(f, PathFile):
            raise E(errno.EBADF)
        if f.inode is None:
            raise E(errno.EOPNOTSUPP)
        if write and hasattr(f.inode, "host"):
            raise E(errno.EROFS)     # a read-only description of a host file: not copied up here
        return f.inode, getattr(f, "dentry", None)
    return t.kernel.vfs.xattr_node(caller or _caller(t), _path(t, a.ptr(0)), follow=how == "path", write=write)


def _put(t, ptr, size, data: bytes, limit) -> int:
    if size == 0:
        return len(data)
    if len(data) > min(size, limit):
        raise E(errno.ERANGE if len(data) <= limit else errno.E2BIG)
    if data:
        t.mm.write(ptr, data)
    return len(data)


def _get(how):
    def handler(t, a):
        name = _name(t, a.ptr(1))
        caller = _caller(t)
        node, _ = _node(t, a, how, False, caller)
        return _put(t, a.ptr(2), a.size(3), fx.get(caller, node, name), XATTR_SIZE_MAX)
    return handler


def _list(how):
    def handler(t, a):
        node, _ = _node(t, a, how, False)
        return _put(t, a.ptr(1), a.size(2), fx.listing(_caller(t), node), XATTR_LIST_MAX)
    return handler


def _set(how):
    def handler(t, a):
        name = _name(t, a.ptr(1))
        size = a.size(3)
        if size > XATTR_SIZE_MAX:
            raise E(errno.E2BIG)
        value = t.mm.read(a.ptr(2), size) if size else b""
        node, where = _node(t, a, how, True)
        fx.set_(_caller(t), node, name, value, a.int(4))
        fsnotify(node, IN_ATTRIB, *(where or (None, b"")))
        return 0
    return handler


def _remove(how):
    def handler(t, a):
        name = _name(t, a.ptr(1))
        node, where = _node(t, a, how, True)
        fx.remove(_caller(t), node, name)
        fsnotify(node, IN_ATTRIB, *(where or (None, b"")))
        return 0
    return handler


FAMILY = []
for _prefix, _how in (("", "path"), ("l", "lpath"), ("f", "fd")):
    for _op, _make in (("getxattr", _get), ("listxattr", _list), ("setxattr", _set), ("removexattr", _remove)):
        _h = _make(_how)
        _h.__name__ = _prefix + _op
        _h.__doc__ = "%s implements %s(2)." % (_h.__name__.capitalize(), _h.__name__)
        FAMILY.append(supported(_prefix + _op, _h))
