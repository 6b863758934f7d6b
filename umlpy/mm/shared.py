"""Shared memory objects: the page cache behind MAP_SHARED mappings.

A :class:`SharedObject` holds the frames of one shared memory object (an
anonymous MAP_SHARED region, or one file's pages when mapped MAP_SHARED),
as ``pages: dict[pgoff, frame offset]``, allocated on first use.  Every VMA
that maps it holds one reference (``get``/``put``); page tables that map its
frames hold none, because a VMA that maps them exists as long as they do.
When the last reference goes, dirty content is written back (for a file:
every cached page, through ``writeback``) and the frames are freed.

The :class:`MappableFile` protocol is what ``mm`` needs from a file to map it.
"""


from umlpy.abi.memory import PAGE_SHIFT, PAGE_SIZE


class MappableFile:
    """What a file offers to mmap (implemented by ``umlpy.fs`` inodes/files).

    - ``name``: the path shown in /proc/pid/maps.
    - ``size``: the current file size in bytes (pages wholly past it give SIGBUS).
    - ``read_at(offset, n) -> bytes``: up to n bytes (short at EOF).
    - ``shared_object(frames) -> SharedObject``: the file's page cache, one per
      inode while it is mapped (a new one once the previous is ``released``).
    - optional ``dev`` ((major, minor)) and ``ino`` for /proc/pid/maps.
    """

    name: str
    size: int

    def read_at(self, offset: int, n: int) -> bytes: ...

    def shared_object(self, frames) -> "SharedObject": ...


class SharedObject:
    """Lazily allocated, refcounted frames of a shared memory object.

    ``fill(pgoff) -> bytes`` (optional) gives a page's initial content (short
    means zero tail); ``writeback(pgoff, data)`` (optional) receives a whole
    page of content at ``sync``/``release``; its owner clips to the file size.
    """

    def __init__(self, frames, fill: "Callable[[int], bytes] | None" = None,
                 writeback: "Callable[[int, bytes], None] | None" = None, name: str = ""):
        self.frames = frames
        self.physmem = frames.physmem
        self.fill = fill
        self.writeback = writeback
        self.name = name
        self.pages: dict[int, int] = {}
        #: The object's size in pages for an anonymous object (None: a file's, which
        #: its mappings read from the file).
        self.size_pages: int | None = None
        self.refs = 0
        self.released = False

    def get(self) -> "SharedObject":
        assert not self.released
        self.refs += 1
        return self

    def put(self) -> None:
        self.refs -= 1
        assert self.refs >= 0
        if self.refs == 0:
            self.release()

    def frame(self, pgoff: int) -> int:
        """The frame holding page ``pgoff``, allocated (and filled) if needed."""
        off = self.pages.get(pgoff)
        if off is None:
            off = self.frames_for(pgoff, 1)[0]
        return off

    def may_fit(self, pgoff: int, npages: int, available: int) -> bool:
        """Whether the absent pages of [pgoff, pgoff+npages) might fit in ``available``
        frames (a cheap bound: False means they certainly do not)."""
        return npages - len(self.pages) <= available

    def frames_for(self, pgoff: int, npages: int) -> list[int]:
        """The frames of pages [pgoff, pgoff+npages), allocating absent ones together.

        Raises OutOfMemory (ENOMEM) when frames run out.
        """
        pages = self.pages
        missing = [p for p in range(pgoff, pgoff + npages) if p not in pages]
        if missing:
            runs = self.frames.alloc(len(missing))
            it = iter(missing)
            write = self.physmem.write
            for off, n in runs:
                for i in range(n):
                    p = next(it)
                    f = off + (i << PAGE_SHIFT)
                    pages[p] = f
                    if self.fill is not None:
                        data = self.fill(p)
                        if data:
                            write(f, data[:PAGE_SIZE])
        return [pages[p] for p in range(pgoff, pgoff + npages)]

    def sync(self, pgoff: int = 0, npages: int | None = None) -> None:
        """Write back the cached pages in [pgoff, pgoff+npages) (all by default)."""
        if self.writeback is None:
            return
        read = self.physmem.read
        for p in sorted(self.pages):
            if p >= pgoff and (npages is None or p < pgoff + npages):
                self.writeback(p, read(self.pages[p], PAGE_SIZE))

    def update(self, offset: int, data) -> None:
        """Copy file content written by other means into the cached pages (coherence)."""
        pos, end = 0, len(data)
        while pos < end:
            p = (offset + pos) >> PAGE_SHIFT
            in_page = (offset + pos) & (PAGE_SIZE - 1)
            n = min(PAGE_SIZE - in_page, end - pos)
            f = self.pages.get(p)
            if f is not None:
                self.physmem.write(f + in_page, data[pos:pos + n])
            pos += n

    def zero_pages(self, pgoff: int, npages: int) -> None:
        """Zero the cached pages in the range (MADV_REMOVE: every mapper sees zero)."""
        end = pgoff + npages
        if npages < len(self.pages):
            cached = [p for p in range(pgoff, end) if p in self.pages]
        else:
            cached = [p for p in self.pages if pgoff <= p < end]
        for p in cached:
            self.physmem.zero(self.pages[p], PAGE_SIZE)

    def release(self) -> None:
        """Write back and free every frame (the last mapping went away)."""
        if self.released:
            return
        self.sync()
        self.released = True
        pages, self.pages = self.pages, {}
        self.frames.unref_many(pages.values())
