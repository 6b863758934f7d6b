"""Extended attributes of guest files (fs/xattr.c, as an overlay over ext4 keeps them).

In-memory nodes keep theirs in ``node.xattr`` (a dict, made on first use); a
host file shows the host's user.* attributes read-only, and the overlay copies
them up with the file before a change.  Namespaces: user.* (regular files and
directories only; read permission to read, write permission to change),
trusted.* and security.* (the guest's root); no POSIX ACLs: reading
system.posix_acl_access/_default answers ENODATA (none set, as ext4 and tmpfs answer
for a file without one, which is what ls and cp ask), setting them EOPNOTSUPP; any
other name EOPNOTSUPP.  Limits: names 1..255 bytes (ERANGE),
values up to XATTR_SIZE_MAX (E2BIG).
"""

from __future__ import annotations

import errno
import os

from umlpy.abi import stat as st
from umlpy.abi.fs import XATTR_CREATE, XATTR_REPLACE, XATTR_SIZE_MAX
from umlpy.errors import SyscallError
from umlpy.fs import perm

_SPACES = (b"user.", b"trusted.", b"security.")
_ACLS = (b"system.posix_acl_access", b"system.posix_acl_default")


def check_name(name: bytes):
    if not name or len(name) > 255:
        raise SyscallError(errno.ERANGE)
    if not name.startswith(_SPACES):
        raise SyscallError(errno.EOPNOTSUPP)


def _permission(caller, node, name: bytes, write: bool):
    """xattr_permission."""
    s = node.stat()
    if name.startswith(b"trusted."):
        if caller.fsuid != 0:
            raise SyscallError(errno.EPERM if write else errno.ENODATA)
        return
    if name.startswith(b"user."):
        kind = s.st_mode & st.S_IFMT
        if kind not in (st.S_IFREG, st.S_IFDIR):
            raise SyscallError(errno.EPERM if write else errno.ENODATA)
        if write and caller.fsuid != 0 and s.st_mode & st.S_ISVTX and kind == st.S_IFDIR \
                and caller.fsuid != s.st_uid:
            raise SyscallError(errno.EPERM)
    perm.check(caller, s, perm.W_OK if write else perm.R_OK)


def _host_attrs(node) -> dict:
    host = getattr(node, "host", None)
    if host is None:
        return {}
    # Read once per node, as its lstat was (the node stands for what lookup saw; the
    # overlay copies the file up before any change): later calls make no host call.
    out = node.host_xattrs
    if out is not None:
        return out
    out = node.host_xattrs = {}
    try:
        for n in os.listxattr(host, follow_symlinks=False):
            b = os.fsencode(n)
            if b.startswith(b"user."):
                out[b] = os.getxattr(host, n, follow_symlinks=False)
    except OSError:
        pass
    return out


def attrs_of(node) -> dict:
    """The attributes a node shows (its own, or a host file's)."""
    own = getattr(node, "xattr", None)
    if own is not None:
        return own
    return _host_attrs(node) if hasattr(node, "host") else {}


def get(caller, node, name: bytes) -> bytes:
    if name in _ACLS:
        raise SyscallError(errno.ENODATA)      # no ACL on any guest file
    check_name(name)
    _permission(caller, node, name, write=False)
    value = attrs_of(node).get(name)
    if value is None:
        raise SyscallError(errno.ENODATA)
    return value


def listing(caller, node) -> bytes:
    names = sorted(attrs_of(node))
    if caller.fsuid != 0:
        names = [n for n in names if not n.startswith(b"trusted.")]
    return b"".join(n + b"\0" for n in names)


def set_(caller, node, name: bytes, value: bytes, flags: int):
    if flags & ~(XATTR_CREATE | XATTR_REPLACE):
        raise SyscallError(errno.EINVAL)
    check_name(name)
    if len(value) > XATTR_SIZE_MAX:
        raise SyscallError(errno.E2BIG)
    _permission(caller, node, name, write=True)
    attrs = _own(node)
    if flags & XATTR_CREATE and name in attrs:
        raise SyscallError(errno.EEXIST)
    if flags & XATTR_REPLACE and name not in attrs:
        raise SyscallError(errno.ENODATA)
    attrs[name] = bytes(value)
    node.meta.touch()


def remove(caller, node, name: bytes):
    check_name(name)
    _permission(caller, node, name, write=True)
    attrs = _own(node)
    if name not in attrs:
        raise SyscallError(errno.ENODATA)
    del attrs[name]
    node.meta.touch()


def _own(node) -> dict:
    if not hasattr(node, "meta") or not getattr(node, "writable_fs", False):
        raise SyscallError(errno.EOPNOTSUPP)      # procfs and the like keep none
    attrs = getattr(node, "xattr", None)
    if attrs is None:
        attrs = node.xattr = {}
    return attrs


def copy_up(old, new):
    """A host file copied into memory keeps its user.* attributes (overlayfs does)."""
    attrs = _host_attrs(old)
    if attrs:
        new.xattr = attrs
