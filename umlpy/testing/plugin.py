"""The pytest plugin: a ``umlpy`` fixture that runs guests and captures their output."""

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("umlpy")
    group.addoption("--umlpy-platform", default="auto", choices=("auto", "c", "python"),
                    help="platform the umlpy fixture runs guests on (default: auto)")


class GuestRunner:
    """What the ``umlpy`` fixture gives a test: ``run`` with the session's platform."""

    def __init__(self, platform: str):
        self.platform = platform
        from umlpy.trace.options import TraceOptions
        self.TraceOptions = TraceOptions

    def run(self, argv, **kwargs):
        """umlpy.run(argv, ...) with output captured and the chosen platform."""
        from umlpy.api import run
        kwargs.setdefault("platform", self.platform)
        kwargs.setdefault("capture", True)
        return run(list(argv), **kwargs)


@pytest.fixture
def umlpy(request):
    """A runner of guest programs (see :class:`GuestRunner`)."""
    return GuestRunner(request.config.getoption("--umlpy-platform", default="auto"))
