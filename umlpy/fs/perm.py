"""Who is asking, and what the mode bits let them do.

:class:`Caller` is built by the kernel for each file system call from the
current task: pid, credentials, cwd and root nodes.  fs keeps no notion of
a current task.
"""

from __future__ import annotations

import errno

from umlpy.abi import stat as st
from umlpy.abi.record import record, replace
from umlpy.errors import SyscallError

R_OK, W_OK, X_OK, F_OK = 4, 2, 1, 0


@record
class Caller:
    """The task on whose behalf fs works.

    uid/gid are the real ids (what access(2) checks), euid/egid the ones
    every other call checks (None: same as real).  cwd/root are directory
    nodes (None: the VFS root)."""

    pid: int = 1
    uid: int = 0
    gid: int = 0
    euid: int | None = None
    egid: int | None = None
    groups: tuple = ()
    cwd: object = None
    root: object = None
    umask: int = 0o022

    @property
    def fsuid(self) -> int:
        return self.uid if self.euid is None else self.euid

    @property
    def fsgid(self) -> int:
        return self.gid if self.egid is None else self.egid

    def real(self) -> "Caller":
        """The same caller checking with its real ids (access/faccessat)."""
        return replace(self, euid=self.uid, egid=self.gid)

    def in_group(self, gid: int) -> bool:
        return gid == self.fsgid or gid in self.groups


def permitted(caller: Caller, s: st.Stat, want: int) -> bool:
    """Whether ``caller`` may ``want`` (R_OK|W_OK|X_OK bits) a node with stat ``s``.

    uid 0 passes everything except execute, which needs some x bit on a
    non-directory (generic_permission in fs/namei.c)."""
    if want == 0:
        return True
    mode = s.st_mode
    if caller.fsuid == 0:
        if want & X_OK and (mode & st.S_IFMT) != st.S_IFDIR and not mode & 0o111:
            return False
        return True
    if caller.fsuid == s.st_uid:
        bits = (mode >> 6) & 7
    elif caller.in_group(s.st_gid):
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return (bits & want) == want


def check_search(caller: Caller, node):
    """Search (X_OK) permission on directory ``node``, as each component of a path walk
    needs it: from the node's mode and owner alone (``Inode.owner_mode``), never a whole
    stat (a directory of the host's root would lstat the host and count its entries)."""
    if caller.fsuid == 0:               # root searches every directory
        return
    mode, uid, gid = node.owner_mode()
    if caller.fsuid == uid:
        bits = mode >> 6
    elif caller.in_group(gid):
        bits = mode >> 3
    else:
        bits = mode
    if not bits & X_OK:
        raise SyscallError(errno.EACCES)


def check(caller: Caller, s: st.Stat, want: int):
    if not permitted(caller, s, want):
        raise SyscallError(errno.EACCES)


def may_delete(caller: Caller, dir_stat: st.Stat, victim_stat: st.Stat):
    """Write+search on the directory, and the sticky-bit rule."""
    check(caller, dir_stat, W_OK | X_OK)
    if (dir_stat.st_mode & st.S_ISVTX and caller.fsuid != 0
            and caller.fsuid not in (dir_stat.st_uid, victim_stat.st_uid)):
        raise SyscallError(errno.EPERM)
