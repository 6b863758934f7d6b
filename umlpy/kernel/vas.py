"""First-class virtual address spaces and segments (Smejkal 2017; DESIGN.md "first-class VAS").

One :class:`VasRegistry` per guest machine (``kernel.vas``) keeps:

- :class:`Vas` objects: named, with an owner, group and mode, and an mm of
  their own (no stub: nobody runs in it directly) holding the VAS's mappings:
  its segments and what threads mmap while switched in.  A VAS lives until
  vas_delete (EBUSY while attached), independently of any process;
- :class:`Segment` objects: named fixed ranges [start, end) of memory that
  belongs to no file (a SharedObject), mapped only in the VASes they are
  attached to, read-only where attached O_RDONLY;
- :class:`Attachment` objects, one per (process, VAS): the attach type and
  the :class:`~umlpy.mm.vasview.VasView` its threads run in once they switch
  (made at the first vas_switch).  ``ThreadGroup.spaces.vas`` maps vid ->
  attachment; attachments are not inherited by fork and are dropped at exec
  and exit (``aspace.drop_spaces``).

Rules (DESIGN.md's table): ids are positive; names shorter than
VAS_MAX_NAME_LENGTH counting the NUL; mode/user/group checked like file
permission bits for the caller's effective ids (uid 0 passes); a writable VAS
is attached by one process at a time (any attach while another process
holds it writable, or a writable attach while anyone else holds it, is
EBUSY).  Beyond the table: vas_setattr/vas_seg_setattr by anyone but the
owner or uid 0 is EPERM (as chmod); vas_delete and vas_seg_delete need write
permission; attaching a segment needs the segment's permission for the type
and write permission on the VAS, and a range free in it (else EEXIST).

Persistent segments (``--vas-store DIR``, "Later additions"): see
:class:`SegmentStore`.
"""

import errno
import os

from umlpy.abi.extensions import VAS_MAX_NAME_LENGTH
from umlpy.abi.fcntl import O_ACCMODE, O_RDONLY, O_RDWR, O_WRONLY
from umlpy.abi.memory import MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, TASK_SIZE
from umlpy.abi.mman import MAP_ANONYMOUS, MAP_FIXED, MAP_SHARED
from umlpy.errors import SyscallError
from umlpy.mm.shared import SharedObject
from umlpy.mm.vasview import VasView

from . import aspace
from .task import TaskState

_R, _W = 4, 2
_SHARED_FIXED = int(MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS)


def _err(e):
    return SyscallError(e)


def may(obj, creds, want: int) -> bool:
    """Whether ``creds`` may access ``obj`` (mode/uid/gid) for ``want`` (r=4, w=2): as files."""
    if creds.euid == 0:
        return True
    if creds.euid == obj.uid:
        bits = obj.mode >> 6
    elif creds.egid == obj.gid or obj.gid in creds.groups:
        bits = obj.mode >> 3
    else:
        bits = obj.mode
    return bits & want == want


def want_of(kind: int) -> int:
    """The access an attach type asks for; EINVAL for anything but O_RDONLY/O_WRONLY/O_RDWR."""
    if kind & ~O_ACCMODE or kind & O_ACCMODE == O_ACCMODE:
        raise _err(errno.EINVAL)
    return {O_RDONLY: _R, O_WRONLY: _W, O_RDWR: _R | _W}[kind & O_ACCMODE]


class Vas:
    __slots__ = ("vid", "name", "mode", "uid", "gid", "mm", "attachments")

    def __init__(self, vid, name, mode, uid, gid, mm):
        self.vid, self.name, self.mode, self.uid, self.gid, self.mm = vid, name, mode, uid, gid, mm
        #: tgid -> Attachment
        self.attachments: dict = {}


class Segment:
    __slots__ = ("sid", "name", "start", "end", "mode", "uid", "gid", "so", "attached", "stored")

    def __init__(self, sid, name, start, end, mode, uid, gid, so):
        self.sid, self.name, self.start, self.end = sid, name, start, end
        self.mode, self.uid, self.gid, self.so = mode, uid, gid, so
        #: vid -> attach type
        self.attached: dict = {}
        #: Whether its content and attributes live in the store.
        self.stored = False

    @property
    def npages(self) -> int:
        return (self.end - self.start) >> PAGE_SHIFT


class Attachment:
    """One process's attachment of one VAS."""

    __slots__ = ("registry", "vas", "group", "kind", "view")

    def __init__(self, registry, vas, group, kind):
        self.registry, self.vas, self.group, self.kind = registry, vas, group, kind
        self.view = None

    @property
    def writable(self) -> bool:
        return self.kind & O_ACCMODE != O_RDONLY

    def view_for(self, t):
        """The view the process's threads run in (made, without a stub, the first time)."""
        if self.view is None:
            self.view = aspace.adopt(VasView(self.vas.mm, self.group.leader.home_mm, self.writable))
            aspace.get_holder(self.view)
        return self.view

    def drop(self) -> None:
        """Detach: threads running in the view go back to their own mm; the view goes."""
        self.vas.attachments.pop(self.group.tgid, None)
        sp = self.group.spaces
        if sp is not None:
            sp.vas.pop(self.vas.vid, None)
        view, self.view = self.view, None
        if view is not None:
            for t in list(self.group.tasks):
                if t.mm is view and t.state != TaskState.DEAD:     # a dying task let go already
                    aspace.switch_mm(t, t.home_mm)
            aspace.put_holder(view)


class VasRegistry:
    """Every VAS and segment of one guest machine (see the module docstring)."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.vases: dict[int, Vas] = {}
        self.segments: dict[int, Segment] = {}
        self._next_vid = 1
        self._next_sid = 1
        self.store = None

    # --- names and ids ----------------------------------------------------------------------
    @staticmethod
    def read_name(t, addr: int) -> bytes:
        name = t.mm.read_cstring(addr, VAS_MAX_NAME_LENGTH)
        if len(name) >= VAS_MAX_NAME_LENGTH:
            raise _err(errno.ENAMETOOLONG)
        if not name:
            raise _err(errno.EINVAL)
        return name

    def vas(self, vid: int) -> Vas:
        v = self.vases.get(vid)
        if v is None:
            raise _err(errno.EINVAL)
        return v

    def segment(self, sid: int) -> Segment:
        s = self.segments.get(sid)
        if s is None:
            raise _err(errno.EINVAL)
        return s

    def _alloc_vid(self) -> int:
        vid = self._next_vid
        while vid in self.vases:
            vid += 1
        self._next_vid = vid + 1 if vid + 1 < 1 << 31 else 1
        return vid

    def _alloc_sid(self) -> int:
        sid = self._next_sid
        while sid in self.segments:
            sid += 1
        self._next_sid = sid + 1 if sid + 1 < 1 << 31 else 1
        return sid

    # --- VASes --------------------------------------------------------------------------------
    def create(self, t, name: bytes, mode: int) -> int:
        if any(v.name == name for v in self.vases.values()):
            raise _err(errno.EEXIST)
        c = t.group.creds
        vid = self._alloc_vid()
        mm = aspace.deferred_mm(self.kernel)
        aspace.get_holder(mm)
        self.vases[vid] = Vas(vid, name, mode & 0o7777, c.euid, c.egid, mm)
        return vid

    def find(self, name: bytes) -> int:
        for v in self.vases.values():
            if v.name == name:
                return v.vid
        raise _err(errno.ENOENT)

    def delete(self, t, vid: int) -> None:
        v = self.vas(vid)
        if not may(v, t.group.creds, _W):
            raise _err(errno.EACCES)
        if v.attachments:
            raise _err(errno.EBUSY)
        for s in self.segments.values():
            s.attached.pop(vid, None)
        del self.vases[vid]
        aspace.put_holder(v.mm)

    def attach(self, t, group, vid: int, kind: int) -> None:
        v = self.vas(vid)
        want = want_of(kind)
        if not may(v, t.group.creds, want):
            raise _err(errno.EACCES)
        if group.tgid in v.attachments:
            raise _err(errno.EEXIST)
        others = [a for tgid, a in v.attachments.items() if tgid != group.tgid]
        if others and (want & _W or any(a.writable for a in others)):
            raise _err(errno.EBUSY)
        att = Attachment(self, v, group, kind)
        v.attachments[group.tgid] = att
        aspace.spaces_of(group).vas[vid] = att

    def detach(self, group, vid: int) -> None:
        v = self.vas(vid)
        att = v.attachments.get(group.tgid)
        if att is None:
            raise _err(errno.EINVAL)
        att.drop()

    def switch(self, t, vid: int) -> None:
        if vid == 0:
            aspace.switch_mm(t, t.home_mm)
            return
        sp = t.group.spaces
        att = sp.vas.get(vid) if sp is not None else None
        if att is None:
            raise _err(errno.EINVAL)
        aspace.switch_mm(t, att.view_for(t))

    def active(self, t) -> int:
        sp = t.group.spaces
        if sp is not None:
            for vid, att in sp.vas.items():
                if att.view is not None and t.mm is att.view:
                    return vid
        return 0

    def setattr(self, t, obj, mode: int, uid: int, gid: int) -> None:
        c = t.group.creds
        if c.euid != 0 and c.euid != obj.uid:
            raise _err(errno.EPERM)
        if c.euid != 0 and (uid != obj.uid or (gid != obj.gid and gid != c.egid
                                               and gid not in c.groups)):
            raise _err(errno.EPERM)     # giving it away needs uid 0, as chown
        obj.mode, obj.uid, obj.gid = mode & 0o7777, uid, gid
        if isinstance(obj, Segment) and obj.stored:
            self.store.save_attr(obj)

    # --- segments -------------------------------------------------------------------------------
    def seg_create(self, t, name: bytes, start: int, end: int, mode: int) -> int:
        if start & (PAGE_SIZE - 1) or end & (PAGE_SIZE - 1) or end <= start:
            raise _err(errno.EINVAL)
        if start < MMAP_MIN_ADDR or end > TASK_SIZE:
            raise _err(errno.EINVAL)
        if any(s.name == name for s in self.segments.values()):
            raise _err(errno.EEXIST)
        npages = (end - start) >> PAGE_SHIFT
        if npages > self.kernel.frames.limit_pages:
            raise _err(errno.ENOMEM)
        c = t.group.creds
        seg = self._add_segment(name, start, end, mode & 0o7777, c.euid, c.egid)
        if self.store is not None:
            self.store.create(seg)
        return seg.sid

    def _add_segment(self, name, start, end, mode, uid, gid, fill=None, writeback=None) -> Segment:
        so = SharedObject(self.kernel.frames, fill, writeback, name="[vas segment %s]"
                          % name.decode(errors="replace"))
        so.size_pages = (end - start) >> PAGE_SHIFT
        so.get()                     # the segment's own reference
        seg = Segment(self._alloc_sid(), name, start, end, mode, uid, gid, so)
        self.segments[seg.sid] = seg
        return seg

    def seg_find(self, name: bytes) -> int:
        for s in self.segments.values():
            if s.name == name:
                return s.sid
        raise _err(errno.ENOENT)

    def seg_delete(self, t, sid: int) -> None:
        s = self.segment(sid)
        if not may(s, t.group.creds, _W):
            raise _err(errno.EACCES)
        if s.attached:
            raise _err(errno.EBUSY)
        del self.segments[sid]
        if s.stored:
            self.store.remove(s)
        s.so.writeback = None        # deleted: nothing to keep
        s.so.put()

    def seg_attach(self, t, vid: int, sid: int, kind: int) -> None:
        v, s = self.vas(vid), self.segment(sid)
        want = want_of(kind)
        creds = t.group.creds
        if not may(s, creds, want) or not may(v, creds, _W):
            raise _err(errno.EACCES)
        if vid in s.attached or not v.mm.vmas.is_free(s.start, s.end):
            raise _err(errno.EEXIST)
        prot = 1 if kind & O_ACCMODE == O_RDONLY else 3
        v.mm.mmap(s.start, s.end - s.start, prot, _SHARED_FIXED, shared_obj=s.so, max_prot=prot | 4,
                  name="[vas segment %s]" % s.name.decode(errors="replace"))
        s.attached[vid] = kind

    def seg_detach(self, t, vid: int, sid: int) -> None:
        v, s = self.vas(vid), self.segment(sid)
        if vid not in s.attached:
            raise _err(errno.EINVAL)
        if not may(v, t.group.creds, _W):
            raise _err(errno.EACCES)
        del s.attached[vid]
        for m in v.mm.vmas.overlapping(s.start, s.end):
            if m.shared_obj is s.so:
                v.mm.munmap(m.start, m.end - m.start)

    def open_store(self, path: str) -> None:
        """Keep segments in ``path`` (``--vas-store``): load what is there."""
        self.store = SegmentStore(self, path)
        self.store.load(self.kernel.warn)

    # --- the machine's end ---------------------------------------------------------------
    def close(self) -> None:
        """The machine ends: write every stored segment back (normal end, SIGTERM, a crash
        of the guest), then free every VAS and segment."""
        segments, vases = list(self.segments.values()), list(self.vases.values())
        self.segments, self.vases = {}, {}
        for s in segments:
            if s.stored:
                self.store.sync(s)
        for v in vases:
            for att in list(v.attachments.values()):
                att.drop()
            aspace.put_holder(v.mm)
        for s in segments:
            s.so.writeback = None        # written back above
            s.so.put()


class SegmentStore:
    """``--vas-store DIR``: segment NAME's content in ``DIR/Q.seg`` and its attributes
    (start end mode uid gid, one line of integers) in ``DIR/Q.attr``, where Q is NAME
    percent-encoded (any byte but letters, digits and ``-_.~``; a leading dot too).

    At start every ``.attr`` is read: a segment whose files are sound comes back under
    its name with its attributes, its pages read from ``.seg`` when first touched; a
    corrupt or foreign one (an ``.attr`` that does not parse, a missing or short
    ``.seg``) is reported in one line on stderr, left untouched and skipped, and its
    name is free in that run (a new segment of that name is then kept in memory only,
    never written over those files).  Pages are written back by msync (and made
    durable with fsync) and when the machine ends.
    """

    def __init__(self, registry, path: str):
        self.registry = registry
        self.path = path
        self.untouchable: set = set()
        os.makedirs(path, exist_ok=True)

    @staticmethod
    def file_name(name: bytes) -> str:
        import urllib.parse         # only with a store: it costs every start-up
        q = urllib.parse.quote_from_bytes(name, safe="-_~.")
        if q.startswith("."):
            q = "%2E" + q[1:]
        return q

    def _paths(self, name: bytes):
        base = os.path.join(self.path, self.file_name(name))
        return base + ".seg", base + ".attr"

    def load(self, warn) -> None:
        try:
            entries = sorted(os.listdir(self.path))
        except OSError as e:
            warn("--vas-store %s: %s" % (self.path, e.strerror))
            return
        for entry in entries:
            if not entry.endswith(".attr"):
                continue
            stem = entry[:-5]
            import urllib.parse
            name = urllib.parse.unquote_to_bytes(stem)
            seg_path, attr_path = self._paths(name)
            why = None
            try:
                with open(attr_path, "rb") as f:
                    fields = f.read(4096).split()
                start, end, mode, uid, gid = (int(x) for x in fields)
                if (len(fields) != 5 or start & (PAGE_SIZE - 1) or end & (PAGE_SIZE - 1)
                        or not MMAP_MIN_ADDR <= start < end <= TASK_SIZE or not 0 <= mode <= 0o7777
                        or not 0 <= uid < 1 << 32 or not 0 <= gid < 1 << 32
                        or self.file_name(name) != stem or not name
                        or len(name) >= VAS_MAX_NAME_LENGTH):
                    why = "attributes that do not parse"
                elif not os.path.isfile(seg_path) or os.path.getsize(seg_path) < end - start:
                    why = "a .seg shorter than the segment"
            except (OSError, ValueError):
                why = "attributes that do not parse"
            if why is None and any(s.name == name for s in self.registry.segments.values()):
                why = "a second segment of that name"
            if why is not None:
                warn("--vas-store: skipping %s (%s); left as it is" % (attr_path, why))
                self.untouchable.add(name)
                continue
            seg = self.registry._add_segment(name, start, end, mode, uid, gid,
                                             *self._io(seg_path, end - start))
            seg.stored = True

    def _io(self, seg_path: str, size: int):
        def fill(pgoff):
            try:
                with open(seg_path, "rb") as f:
                    f.seek(pgoff << PAGE_SHIFT)
                    return f.read(PAGE_SIZE)
            except OSError:
                return b""

        def writeback(pgoff, data):
            off = pgoff << PAGE_SHIFT
            if off >= size:
                return
            fd = os.open(seg_path, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.pwrite(fd, data[:size - off], off)
            finally:
                os.close(fd)
        return fill, writeback

    def create(self, seg: Segment) -> None:
        if seg.name in self.untouchable:
            return                    # never write over a file we did not trust
        seg_path, attr_path = self._paths(seg.name)
        size = seg.end - seg.start
        fd = os.open(seg_path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        fill, writeback = self._io(seg_path, size)
        seg.so.writeback = writeback
        seg.stored = True
        self.save_attr(seg)

    def save_attr(self, seg: Segment) -> None:
        _, attr_path = self._paths(seg.name)
        tmp = attr_path + ".new"
        with open(tmp, "w") as f:
            f.write("%d %d %d %d %d\n" % (seg.start, seg.end, seg.mode, seg.uid, seg.gid))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, attr_path)

    def sync(self, seg: Segment) -> None:
        seg.so.sync()
        seg_path, _ = self._paths(seg.name)
        try:
            fd = os.open(seg_path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, seg: Segment) -> None:
        for p in self._paths(seg.name):
            try:
                os.unlink(p)
            except OSError:
                pass
