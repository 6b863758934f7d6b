"""A gdb stub for umlpy guests: ``umlpy run --gdb PORT`` (see :mod:`umlpy.gdbstub.server`).

Layering: this package sits beside ``trace`` above the kernel (it is a
:class:`~umlpy.kernel.hooks.KernelHooks` implementation) and below the faces.
"""


def __getattr__(name):
    if name == "GdbStub":
        from .server import GdbStub
        return GdbStub
    raise AttributeError(name)
