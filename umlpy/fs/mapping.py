"""An open file as mm's MappableFile: what mmap of a regular file hands to mm.

:class:`FileMapping` takes what it needs from the file when it is made (its
mapping source, inode, name, device and inode number), so the mapping stays
valid after the guest closes the fd.  MAP_SHARED mappings of one inode share
one :class:`~umlpy.mm.shared.SharedObject`, kept in the machine's page cache
(a dict keyed by ``id(inode)``, owned by the kernel and passed in here), and
dirty pages are written back to the inode when the last mapping goes.
"""

from umlpy.abi.memory import PAGE_SIZE
from umlpy.errors import SyscallError
from umlpy.mm.shared import SharedObject


class FileMapping:
    """The MappableFile view of an open file, for mm."""

    def __init__(self, page_cache: dict, f):
        self.page_cache = page_cache
        self.source = f.mapping_source()
        self.inode = f.inode
        self.name = f.path.decode(errors="replace")
        st = f.fstat()
        self.dev = (st.st_dev >> 8, st.st_dev & 0xFF)
        self.ino = st.st_ino

    @property
    def size(self):
        return self.source.size()

    def read_at(self, offset, n):
        return self.source.read_at(offset, n)

    def shared_object(self, frames):
        cache = self.page_cache
        so = cache.get(id(self.inode))
        if so is None or so.released:
            inode = self.inode
            source = self.source

            def fill(pgoff):
                return source.read_at(pgoff * PAGE_SIZE, PAGE_SIZE)

            def writeback(pgoff, data):
                size = source.size()
                off = pgoff * PAGE_SIZE
                if off < size and hasattr(inode, "write_at"):
                    try:
                        inode.write_at(off, data[:size - off])
                    except SyscallError:
                        pass

            so = SharedObject(frames, fill, writeback, self.name)
            cache[id(self.inode)] = so
        return so
