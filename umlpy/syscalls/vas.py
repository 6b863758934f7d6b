"""Many address spaces per process and across processes: new_as/switch_as (1003-1004,
Chubb 2007) and first-class virtual address spaces and segments (1008-1023, Smejkal 2017).

The objects and their rules live in :mod:`umlpy.kernel.aspace` (contexts, the one
function that switches a task's mm) and :mod:`umlpy.kernel.vas` (VASes, segments,
attachments, the persistent store); these handlers decode arguments.
"""

import errno
import struct

from umlpy.abi.extensions import VAS_ATTR
from umlpy.errors import SyscallError
from umlpy.kernel import aspace

from .table import supported

E = SyscallError
_ATTR = struct.Struct(VAS_ATTR.format)


def new_as(t, a):
    """new_as(2) (1003): a copy-on-write duplicate of the caller's address space as a new
    context of its process; the context's index (1..15), ENOENT when all are used."""
    return aspace.new_context(t)


def switch_as(t, a):
    """switch_as(2) (1004): the calling thread continues in context ``n``, every register
    kept (0 in rax); ENOENT for an index that does not exist."""
    aspace.switch_context(t, a.int(0))
    return 0


def _id(a, i) -> int:
    v = a.int(i)
    if v <= 0:
        raise E(errno.EINVAL)
    return v


def _group(t, pid: int):
    """The process ``pid`` names (0: the caller's); ESRCH, or EPERM for another user's."""
    if pid == 0:
        return t.group
    g = t.kernel.groups.get(pid)
    if g is None or g.zombie or not g.tasks or pid < 0:
        raise E(errno.ESRCH)
    me, them = t.group.creds, g.creds
    if me.euid != 0 and me.euid != them.uid and me.euid != them.euid:
        raise E(errno.EPERM)
    return g


def vas_create(t, a):
    reg = t.kernel.vas
    return reg.create(t, reg.read_name(t, a.ptr(0)), a.int(1))


def vas_delete(t, a):
    t.kernel.vas.delete(t, _id(a, 0))
    return 0


def vas_find(t, a):
    reg = t.kernel.vas
    return reg.find(reg.read_name(t, a.ptr(0)))


def vas_attach(t, a):
    vid, kind = _id(a, 1), a.int(2)
    t.kernel.vas.attach(t, _group(t, a.int(0)), vid, kind)
    return 0


def vas_detach(t, a):
    vid = _id(a, 1)
    t.kernel.vas.detach(_group(t, a.int(0)), vid)
    return 0


def vas_switch(t, a):
    vid = a.int(0)
    if vid < 0:
        raise E(errno.EINVAL)
    t.kernel.vas.switch(t, vid)
    return 0


def active_vas(t, a):
    return t.kernel.vas.active(t)


def _getattr(t, obj, addr):
    t.mm.write(addr, _ATTR.pack(obj.mode, obj.uid, obj.gid))
    return 0


def _setattr(t, obj, addr):
    mode, uid, gid = _ATTR.unpack(t.mm.read(addr, _ATTR.size))
    t.kernel.vas.setattr(t, obj, mode, uid, gid)
    return 0


def vas_getattr(t, a):
    return _getattr(t, t.kernel.vas.vas(_id(a, 0)), a.ptr(1))


def vas_setattr(t, a):
    return _setattr(t, t.kernel.vas.vas(_id(a, 0)), a.ptr(1))


def vas_seg_create(t, a):
    reg = t.kernel.vas
    return reg.seg_create(t, reg.read_name(t, a.ptr(0)), a.ptr(1), a.ptr(2), a.int(3))


def vas_seg_delete(t, a):
    t.kernel.vas.seg_delete(t, _id(a, 0))
    return 0


def vas_seg_find(t, a):
    reg = t.kernel.vas
    return reg.seg_find(reg.read_name(t, a.ptr(0)))


def vas_seg_attach(t, a):
    t.kernel.vas.seg_attach(t, _id(a, 0), _id(a, 1), a.int(2))
    return 0


def vas_seg_detach(t, a):
    t.kernel.vas.seg_detach(t, _id(a, 0), _id(a, 1))
    return 0


def vas_seg_getattr(t, a):
    return _getattr(t, t.kernel.vas.segment(_id(a, 0)), a.ptr(1))


def vas_seg_setattr(t, a):
    return _setattr(t, t.kernel.vas.segment(_id(a, 0)), a.ptr(1))


FAMILY = [
    supported("new_as", new_as), supported("switch_as", switch_as),
    supported("vas_create", vas_create), supported("vas_delete", vas_delete),
    supported("vas_find", vas_find), supported("vas_attach", vas_attach),
    supported("vas_detach", vas_detach), supported("vas_switch", vas_switch),
    supported("active_vas", active_vas), supported("vas_getattr", vas_getattr),
    supported("vas_setattr", vas_setattr), supported("vas_seg_create", vas_seg_create),
    supported("vas_seg_delete", vas_seg_delete), supported("vas_seg_find", vas_seg_find),
    supported("vas_seg_attach", vas_seg_attach), supported("vas_seg_detach", vas_seg_detach),
    supported("vas_seg_getattr", vas_seg_getattr), supported("vas_seg_setattr", vas_seg_setattr),
]
