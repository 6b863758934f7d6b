"""The supervisor's own host file descriptors: where they may land.

A guest names host fds in one way only: its console is the supervisor's fds
0, 1 and 2.  If umlpy is started with one of them closed (``umlpy run prog
<&-``, as daemons and some CI steps do), the next fd the supervisor opens
(the physical-memory file, a host file, a socket) would take that number and
the guest's console would read or write it.  :func:`guard_std_fds` therefore
runs before anything else is opened: it remembers which of 0-2 were closed
(the guest then finds them closed too, EBADF, as natively) and parks
``/dev/null`` on them, so that no later fd of the supervisor can land there.

:func:`move_high` puts an fd the supervisor keeps for the whole run above
the low numbers and makes it close-on-exec; stubs get the physmem file by an
explicit dup2 (``umlpy.platform.stub``), never by inheritance.
"""

import fcntl
import os
import resource

#: Where :func:`move_high` puts fds, when RLIMIT_NOFILE allows.
FD_FLOOR = 64

_closed_at_start = None


def guard_std_fds() -> frozenset:
    """Occupy the closed ones of fds 0-2 with /dev/null; return those that were closed.

    Idempotent: the answer is the one of the first call (later calls find
    them open, on /dev/null)."""
    global _closed_at_start
    if _closed_at_start is None:
        closed = set()
        for fd in (0, 1, 2):
            try:
                fcntl.fcntl(fd, fcntl.F_GETFD)
            except OSError:
                closed.add(fd)
        for fd in sorted(closed):
            nfd = os.open(os.devnull, os.O_RDWR)      # the lowest free number: fd itself
            if nfd != fd:
                os.dup2(nfd, fd)
                os.close(nfd)
            os.set_inheritable(fd, True)              # a std fd, as a shell would leave it
        _closed_at_start = frozenset(closed)
    return _closed_at_start


def move_high(fd: int) -> int:
    """A close-on-exec duplicate of ``fd`` at FD_FLOOR or above (``fd`` is closed)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    floor = FD_FLOOR if soft == resource.RLIM_INFINITY or soft > FD_FLOOR + 16 else 3
    try:
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor)
    except OSError:
        new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return new
