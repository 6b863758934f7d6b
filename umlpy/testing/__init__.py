"""Testing programs under umlpy from pytest: a plugin (``umlpy.testing.plugin``) and traces.

Installed with umlpy (entry point ``pytest11``): any test suite gets the
``umlpy`` fixture, the ``@pytest.mark.umlpy(...)`` marker, structured traces
(``res.trace.calls("openat")``), ``umlpy.assert_calls`` with a readable diff,
golden traces (``umlpy.assert_golden``, ``--umlpy-update-goldens``) and
``--umlpy-platform``.  See ``docs/testing.md`` and ``docs/examples/``.
"""


def __getattr__(name):
    if name in ("Trace", "Call", "Signal", "Exit"):
        from . import trace
        return getattr(trace, name)
    if name in ("assert_calls", "GuestRunner"):
        from . import plugin
        return getattr(plugin, name)
    raise AttributeError(name)
