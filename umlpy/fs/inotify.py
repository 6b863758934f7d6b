"""inotify: events about guest files (fs/notify/inotify, fsnotify.h).

An :class:`InotifyFile` keeps its watches (wd -> :class:`Watch`) and a queue of
packed ``struct inotify_event``.  A watch hangs on its inode too
(``inode.inotify_watches``), so the VFS and the system calls report events with
the ``fsnotify_*`` functions below: each goes to the watches of the inode
itself and, with the child's name, to those of its parent directory, as
Linux's fsnotify_parent does.  Reporting costs one global test while nobody
watches anything (:data:`active`).

Reported: IN_ACCESS (read), IN_MODIFY (write, truncate, fallocate), IN_ATTRIB
(chmod, chown, utimes, link count), IN_OPEN, IN_CLOSE_WRITE/NOWRITE (last
close of a description), IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVED_FROM/TO
(one cookie per rename), IN_MOVE_SELF, IN_IGNORED (watch gone), IN_Q_OVERFLOW.
Differences from Linux: IN_DELETE_SELF of an unlinked file comes at the unlink,
not when its last open description closes; a watch on a host file follows it
when the guest's first write copies it into memory.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.events import IN
from umlpy.abi.poll import POLLIN, POLLRDNORM
from umlpy.errors import SyscallError
from umlpy.fs import file as file_mod
from umlpy.fs.anon import AnonFile
from umlpy.waiter import WouldBlock

IN_ACCESS, IN_MODIFY, IN_ATTRIB = int(IN.IN_ACCESS), int(IN.IN_MODIFY), int(IN.IN_ATTRIB)
IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_OPEN = int(IN.IN_CLOSE_WRITE), int(IN.IN_CLOSE_NOWRITE), int(IN.IN_OPEN)
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE = int(IN.IN_MOVED_FROM), int(IN.IN_MOVED_TO), int(IN.IN_CREATE)
IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = int(IN.IN_DELETE), int(IN.IN_DELETE_SELF), int(IN.IN_MOVE_SELF)
IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR, IN_ONESHOT = (int(IN.IN_Q_OVERFLOW), int(IN.IN_IGNORED), int(IN.IN_ISDIR),
                                                   int(IN.IN_ONESHOT))
IN_EXCL_UNLINK = int(IN.IN_EXCL_UNLINK)
IN_ALL_EVENTS = 0xFFF
#: Events a watch on a directory gets about its children (FS_EVENTS_POSS_ON_CHILD).
_ON_CHILD = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN
#: fs.inotify.max_queued_events's default.
MAX_QUEUED_EVENTS = 16384
_EVENT = struct.Struct("<iIII")

#: How many watches exist in this process's guests: reporting is skipped while 0.
active = 0
_cookie = [0]


class Watch:
    __slots__ = ("owner", "wd", "inode", "mask")

    def __init__(self, owner, wd, inode, mask):
        self.owner, self.wd, self.inode, self.mask = owner, wd, inode, mask


class InotifyFile(AnonFile):
    kind = "inotify"

    def __init__(self, flags: int):
        super().__init__(flags)
        self.watches: dict = {}      # wd -> Watch
        self.next_wd = 1
        self.events: list = []       # (wd, mask, cookie, name)

    # -- watches ---------------------------------------------------------------------
    def add_watch(self, inode, mask: int) -> int:
        for w in self.watches.values():
            if w.inode is inode:
                if mask & int(IN.IN_MASK_CREATE):
                    raise SyscallError(errno.EEXIST)
                w.mask = (w.mask | mask) if mask & int(IN.IN_MASK_ADD) else mask
                return w.wd
        wd = self.next_wd
        self.next_wd += 1
        w = Watch(self, wd, inode, mask)
        self.watches[wd] = w
        lst = getattr(inode, "inotify_watches", None)
        if lst is None:
            lst = inode.inotify_watches = []
        lst.append(w)
        _count(+1)
        return wd

    def remove_watch(self, wd: int):
        w = self.watches.get(wd)
        if w is None:
            raise SyscallError(errno.EINVAL)
        self._drop(w)

    def _drop(self, w: Watch):
        if self.watches.pop(w.wd, None) is None:
            return
        try:
            w.inode.inotify_watches.remove(w)
        except (AttributeError, ValueError):
            pass
        _count(-1)
        self.queue(w.wd, IN_IGNORED, 0, b"")

    def release(self):
        for w in list(self.watches.values()):
            try:
                w.inode.inotify_watches.remove(w)
            except (AttributeError, ValueError):
                pass
            _count(-1)
        self.watches.clear()

    # -- events --------------------------------------------------------------------------
    def queue(self, wd, mask, cookie, name: bytes):
        ev = (wd, mask, cookie, name)
        if self.events and self.events[-1] == ev:
            return                               # merged with the identical last event
        if len(self.events) >= MAX_QUEUED_EVENTS:
            if self.events[-1][1] != IN_Q_OVERFLOW:
                self.events.append((-1, IN_Q_OVERFLOW, 0, b""))
            return
        self.events.append(ev)
        self.waitq.notify(POLLIN | POLLRDNORM)

    @staticmethod
    def pack(ev) -> bytes:
        wd, mask, cookie, name = ev
        if name:
            ln = (len(name) + 1 + 15) & ~15
            return _EVENT.pack(wd, mask, cookie, ln) + name + bytes(ln - len(name))
        return _EVENT.pack(wd, mask, cookie, 0)

    def read(self, n):
        self.check_readable()
        if not self.events:
            if self.nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq)
        out = bytearray()
        while self.events:
            raw = self.pack(self.events[0])
            if len(out) + len(raw) > n:
                if not out:
                    raise SyscallError(errno.EINVAL)
                break
            out += raw
            self.events.pop(0)
        return bytes(out)

    def write(self, data):
        raise SyscallError(errno.EINVAL)

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def poll(self):
        return POLLIN | POLLRDNORM if self.events else 0

    def ioctl(self, request, arg, mem=None):
        if request == 0x541B:                   # FIONREAD
            mem.write(arg, struct.pack("<i", sum(len(self.pack(e)) for e in self.events)))
            return 0
        raise SyscallError(errno.ENOTTY)


# --- reporting ---------------------------------------------------------------------------
def _is_dir(node) -> bool:
    try:
        return node.is_dir()
    except SyscallError:
        return False


def _count(delta):
    """Keep :data:`active` and the close hook of ``umlpy.fs.file`` in step."""
    global active
    active += delta
    file_mod.notify_hook = fsnotify_file if active else None


def _send(node, mask, name=b"", cookie=0, child=False):
    watches = getattr(node, "inotify_watches", None)
    if not watches:
        return
    for w in list(watches):
        if not w.mask & mask & ~IN_ISDIR:
            continue
        w.owner.queue(w.wd, mask, cookie, name)
        if w.mask & IN_ONESHOT:
            w.owner._drop(w)


def fsnotify(node, mask, parent=None, name=b""):
    """``mask`` happened to ``node`` (reached through ``parent``/``name`` when known)."""
    if not active or node is None:
        return
    full = mask | (IN_ISDIR if _is_dir(node) else 0)
    if parent is not None and mask & _ON_CHILD:
        _send(parent, full, name, child=True)       # the parent hears first (fsnotify_parent)
    _send(node, full)


def fsnotify_file(f, mask):
    """An event through an open description (read, write, open, close)."""
    if not active:
        return
    parent, name = getattr(f, "dentry", (None, b""))
    fsnotify(f.inode, mask, parent, name)


def fsnotify_create(parent, name, node):
    if active:
        _send(parent, IN_CREATE | (IN_ISDIR if _is_dir(node) else 0), name, child=True)


def fsnotify_delete(parent, name, node, gone: bool):
    """``name`` was removed from ``parent``; ``gone``: the node has no link left."""
    if not active:
        return
    isdir = IN_ISDIR if _is_dir(node) else 0
    if not isdir:
        _send(node, IN_ATTRIB)                      # the link count changed
    if gone or isdir:
        _send(node, IN_DELETE_SELF)
        for w in list(getattr(node, "inotify_watches", None) or ()):
            w.owner._drop(w)
    _send(parent, IN_DELETE | isdir, name, child=True)


def fsnotify_move(old_parent, old_name, new_parent, new_name, node):
    if not active:
        return
    _cookie[0] = (_cookie[0] + 1) & 0xFFFFFFFF or 1
    c = _cookie[0]
    isdir = IN_ISDIR if _is_dir(node) else 0
    _send(old_parent, IN_MOVED_FROM | isdir, old_name, c, child=True)
    _send(new_parent, IN_MOVED_TO | isdir, new_name, c, child=True)
    _send(node, IN_MOVE_SELF | isdir)


def move_watches(old, new):
    """A node replaced by its copy (overlay copy-up) keeps its watches."""
    lst = getattr(old, "inotify_watches", None)
    if lst:
        new.inotify_watches = lst
        for w in lst:
            w.inode = new
        old.inotify_watches = []
