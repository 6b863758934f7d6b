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


_vsyscall_perms = False


def host_vsyscall_perms():
    """The permissions of the host's vsyscall page as /proc/PID/maps shows them
    ("--xp" in xonly mode, "r-xp" in emulate mode), or None when it has none."""
    global _vsyscall_perms
    if _vsyscall_perms is False:
        _vsyscall_perms = None
        try:
            with open("/proc/self/maps") as f:
                for line in f:
                    if line.rstrip().endswith("[vsyscall]"):
                        _vsyscall_perms = line.split()[1]
        except OSError:
            pass
    return _vsyscall_perms


class CpuPin:
    """Keep the supervisor (and so the stubs it starts, which inherit it) on one CPU.

    A ptrace round trip costs about 3 µs when tracer and tracee share a CPU
    and about 9 µs when each stop has to wake the other CPU (DESIGN.md,
    "Where time goes").  The CPU chosen is the one the supervisor runs on;
    :meth:`release` gives back the affinity it had.
    """

    def __init__(self):
        import os
        self.saved = os.sched_getaffinity(0)
        cpu = _current_cpu()
        if cpu is None or cpu not in self.saved:
            cpu = min(self.saved)
        os.sched_setaffinity(0, {cpu})
        self.cpu = cpu

    def release(self):
        import os
        if self.saved is not None:
            try:
                os.sched_setaffinity(0, self.saved)
            except OSError:
                pass
            self.saved = None


def _current_cpu():
    try:
        with open("/proc/thread-self/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None
