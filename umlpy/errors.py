"""Error values of the guest kernel.

Handlers raise :class:`SyscallError` with a Linux errno; exactly one place in
``umlpy.kernel`` turns it into the guest's ``-errno``.  :class:`UmlpyError` is
for the user of umlpy (bad ELF, missing image, ...): the CLI prints it as one
line and exits non-zero, never with a traceback.
"""

import errno as _host_errno


class SyscallError(Exception):
    """A guest system call fails with ``errno`` (a positive Linux errno)."""

    __slots__ = ("errno",)

    def __init__(self, err: int):
        super().__init__(err)
        self.errno = err

    def __repr__(self):
        return "SyscallError(%s)" % _host_errno.errorcode.get(self.errno, self.errno)


class UmlpyError(Exception):
    """An error reported to the user of umlpy as a single line."""


class GuestLoadError(UmlpyError):
    """The program given to umlpy cannot be loaded (malformed or foreign ELF...)."""


class PlatformError(UmlpyError):
    """The host platform failed in a way the guest kernel cannot recover from."""
