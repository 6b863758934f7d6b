"""umlpy: a hosted virtual machine monitor in the spirit of User-Mode Linux.

The public API: :func:`run` boots a guest program and returns a
:class:`RunResult` (status, captured stdout/stderr).
"""

__version__ = "0.1.0"


def run(argv, **kwargs):
    """Run ``argv`` in a new guest; see :func:`umlpy.api.run`.

    ``trace=TraceOptions(...)`` traces the run (strace-compatible; the lines
    are in the result's ``trace`` unless ``TraceOptions.output`` names a file).
    """
    from umlpy.api import run as _run
    return _run(argv, **kwargs)


def __getattr__(name):
    if name == "TraceOptions":
        from umlpy.trace.options import TraceOptions
        return TraceOptions
    if name in ("RunResult", "Machine", "default_image"):
        from umlpy import api
        return getattr(api, name)
    raise AttributeError(name)
