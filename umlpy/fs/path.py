"""Guest path resolution (the guest's namei).

Walks component by component from the caller's root or a start directory.
``..`` at the caller's root stays there; symlink targets are guest paths
(absolute ones restart at the caller's root, never the host's /); at most
MAXSYMLINKS links are followed per resolution (ELOOP); components over
NAME_MAX and paths of PATH_MAX or more bytes give ENAMETOOLONG; a
non-directory in the middle gives ENOTDIR; a directory the caller may not
search gives EACCES.
"""

from __future__ import annotations

import errno
from collections import namedtuple

from umlpy.errors import SyscallError
from umlpy.fs import perm

PATH_MAX = 4096
NAME_MAX = 255
MAXSYMLINKS = 40


class Resolved(namedtuple("Resolved", "parent name node trailing_slash")):
    """parent: the directory holding the last component; name: that
    component (b"." or b".." when the path ends so); node: what it names,
    or None when it does not exist (only with want_parent); trailing_slash:
    the path ended in "/".  (collections.namedtuple: typing.NamedTuple would
    import typing at every start-up.)"""

    __slots__ = ()


def split(path: bytes):
    """(components, trailing slash); empty components dropped."""
    return [c for c in path.split(b"/") if c], path.endswith(b"/")


def check_path(path: bytes):
    if b"\0" in path:
        raise SyscallError(errno.EINVAL)
    if len(path) >= PATH_MAX:
        raise SyscallError(errno.ENAMETOOLONG)
    if not path:
        raise SyscallError(errno.ENOENT)


def resolve(caller, root, start, path: bytes, *, follow: bool = True,
            want_parent: bool = False) -> Resolved:
    """Resolve ``path`` for ``caller``.  ``root`` is the caller's root
    directory node, ``start`` where relative paths begin."""
    check_path(path)
    comps, trailing = split(path)
    cur = root if path.startswith(b"/") else start
    if not comps:
        return Resolved(cur.parent if cur is not root else cur, b".", cur, trailing)
    comps.reverse()             # a stack: the next component last (symlinks push theirs)
    todo = comps
    hops = 0
    check_search = None if caller.fsuid == 0 else perm.check_search    # root searches every directory
    while todo:
        name = todo.pop()
        last = not todo
        if not cur.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if check_search is not None:
            check_search(caller, cur)
        if len(name) > NAME_MAX:
            raise SyscallError(errno.ENAMETOOLONG)
        if name == b".":
            child = cur
        elif name == b"..":
            child = cur if cur is root else (cur.parent or cur)
        else:
            try:
                child = cur.lookup(name, caller)
            except SyscallError as e:
                if e.errno == errno.ENOENT and last and want_parent:
                    return Resolved(cur, name, None, trailing)
                raise
        if child.is_symlink() and (not last or follow or trailing):
            hops += 1
            if hops > MAXSYMLINKS:
                raise SyscallError(errno.ELOOP)
            target = child.follow(caller)
            if not isinstance(target, bytes):
                child = target  # a /proc magic link: the object itself
            else:
                if not target:
                    raise SyscallError(errno.ENOENT)
                tcomps, _ = split(target)
                if target.startswith(b"/"):
                    cur = root
                tcomps.reverse()
                todo.extend(tcomps)
                if not todo:
                    # The link named a root-like directory ("/", "." ...).
                    return Resolved(cur.parent if cur is not root else cur, b".", cur, trailing)
                continue
        if last:
            if trailing and not child.is_dir():
                raise SyscallError(errno.ENOTDIR)
            return Resolved(cur, name, child, trailing)
        cur = child
    raise AssertionError("unreachable")
