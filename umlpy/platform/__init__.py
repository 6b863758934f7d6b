"""The host platform: stubs, the ptrace run loop, guest physical memory.

Two implementations of the same interface (``umlpy.platform.base``):
``"c"`` (csrc/shim.c through cffi, the default) and ``"python"``
(python-ptrace, for hosts where the C shim is not built).  Modules are
imported only when chosen, so that asking for one never needs the other.
"""

from umlpy.errors import PlatformError, UmlpyError

#: Platform names, best first.
PLATFORMS = ("c", "python")

_ALIASES = {"c": "c", "shim": "c", "python": "python", "ptrace": "python"}


def c_platform_available() -> bool:
    """True when the C shim extension (umlpy.platform._shim) is built."""
    try:
        from . import _shim  # noqa: F401
    except ImportError:
        return False
    return True


def get_platform(name: str, physmem):
    """Make the platform called ``name`` ("auto", "c"/"shim", "python"/"ptrace")."""
    if name == "auto":
        name = "c" if c_platform_available() else "python"
    kind = _ALIASES.get(name)
    if kind is None:
        raise UmlpyError("unknown platform %r (choose auto, %s)" % (name, ", ".join(PLATFORMS)))
    if kind == "c":
        if not c_platform_available():
            raise PlatformError("the C platform is not built (umlpy.platform._shim is missing):"
                                " run 'make' or 'pip install .', or use --platform python")
        from .shim import ShimPlatform
        return ShimPlatform(physmem)
    from .pyptrace import PyPtracePlatform
    return PyPtracePlatform(physmem)
