"""The pytest plugin: the ``umlpy`` fixture, the ``umlpy`` marker, trace assertions, golden traces.

Registered by umlpy's ``pytest11`` entry point, so any test suite of a project
that installs umlpy can write::

    @pytest.mark.umlpy(memory="256M", deterministic=True)
    def test_cat(umlpy, tmp_path):
        res = umlpy.run(["cat", "notes.txt"], cwd=tmp_path, trace=True)
        assert res.exit_code == 0
        opened = res.trace.calls("openat")
        assert opened[-1].args[1] == '"notes.txt"' and opened[-1].ret == 3
        umlpy.assert_calls(res, ["openat", "read", "write", "close"])
        umlpy.assert_golden(res)

Options:
  ``--umlpy-platform c|python|auto``  the platform of every run (a marker may override it)
  ``--umlpy-update-goldens``          (re)write golden traces instead of comparing with them

The marker's keywords are defaults for ``umlpy.run`` in that test: any keyword
of :func:`umlpy.api.run` (``rootfs``, ``memory`` (``"256M"`` or bytes),
``platform``, ``deterministic``, ``env``, ``clean_env``, ``cwd``, ``trace``...).
The fixture's runs give host programs the minimal environment by default
(``clean_env=True``), so that a test does not depend on who runs it.

Parallel runs (pytest-xdist) are safe: guests are private to the run that
makes them, and a golden file is written atomically, each test its own.
"""

import difflib
import inspect
import os
import re

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("umlpy")
    group.addoption("--umlpy-platform", default="auto", choices=("auto", "c", "python"),
                    help="platform the umlpy fixture runs guests on (default: auto)")
    group.addoption("--umlpy-update-goldens", action="store_true", default=False,
                    help="write the golden traces of umlpy.assert_golden instead of comparing with them")


def pytest_configure(config):
    config.addinivalue_line("markers", "umlpy(**options): defaults for umlpy.run in this test (rootfs, memory, "
                                       "platform, deterministic, env, clean_env, cwd, trace...)")


def _run_keywords():
    from umlpy.api import run
    return set(inspect.signature(run).parameters) - {"argv"}


class GuestRunner:
    """What the ``umlpy`` fixture gives a test."""

    def __init__(self, platform="auto", options=None, *, update_goldens=False, golden_dir=None, test_name="test"):
        from umlpy.trace.options import TraceOptions
        self.TraceOptions = TraceOptions
        self.defaults = {"platform": platform, "capture": True, "clean_env": True}
        options = dict(options or {})
        unknown = set(options) - _run_keywords()
        if unknown:
            raise pytest.UsageError("@pytest.mark.umlpy: unknown option(s) %s" % ", ".join(sorted(unknown)))
        self.defaults.update(options)
        self.update_goldens = update_goldens
        self.golden_dir = golden_dir
        self.test_name = test_name

    # --- running -------------------------------------------------------------------
    def run(self, argv, **kwargs):
        """``umlpy.run(argv, ...)`` with the test's defaults; returns a RunResult whose
        ``trace`` is a :class:`~umlpy.testing.trace.Trace` (empty unless ``trace=`` was
        given: ``True`` for all calls of all processes, or a ``TraceOptions``)."""
        from umlpy.api import parse_size
        from umlpy.api import run as api_run
        from umlpy.testing.trace import Trace
        opts = dict(self.defaults)
        opts.update(kwargs)
        if "memory" in opts:
            opts["memory"] = parse_size(opts["memory"])
        if opts.get("cwd") is not None:
            opts["cwd"] = os.fspath(opts["cwd"])
        if opts.get("rootfs") is not None:
            opts["rootfs"] = os.fspath(opts["rootfs"])
        trace = opts.pop("trace", None)
        argv = [os.fspath(a) if isinstance(a, os.PathLike) else a for a in argv]
        if trace is None or trace is False:
            res = api_run(argv, **opts)
            res.trace = Trace()
            return res
        topts = self.TraceOptions(follow_forks=True) if trace is True else trace
        if topts.deterministic:
            opts["deterministic"] = True
        text, jsonl = bytearray(), bytearray()
        tracer = _tracer(topts, text.extend, jsonl.extend)
        res = api_run(argv, tracer=tracer, **opts)
        res.trace = Trace.from_json_lines(bytes(jsonl), bytes(text).decode(errors="surrogateescape"))
        return res

    # --- assertions ----------------------------------------------------------------
    def assert_calls(self, res, expected, *, exact=False, pid=None):
        assert_calls(res, expected, exact=exact, pid=pid)

    def golden_path(self, name=None) -> str:
        name = name or self.test_name
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_") or "trace"
        return os.path.join(self.golden_dir or "goldens", safe + ".trace")

    def assert_golden(self, res, name=None, *, normalise=None):
        """Compare the run's trace text with its golden file (``goldens/<test>.trace``
        beside the test module); ``--umlpy-update-goldens`` writes it instead."""
        trace = getattr(res, "trace", res)
        text = trace.text if hasattr(trace, "text") else os.fsdecode(trace)
        if normalise is not None:
            text = normalise(text)
        path = self.golden_path(name)
        if self.update_goldens:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = "%s.%d.tmp" % (path, os.getpid())
            with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text)
            os.replace(tmp, path)          # atomic: parallel workers never see half a file
            return
        if not os.path.exists(path):
            pytest.fail("golden trace %s is missing: run pytest with --umlpy-update-goldens to write it"
                        % path, pytrace=False)
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            golden = f.read()
        if golden != text:
            diff = difflib.unified_diff(golden.splitlines(), text.splitlines(), "golden " + path, "this run",
                                        lineterm="", n=2)
            pytest.fail("the trace differs from its golden file (--umlpy-update-goldens rewrites it):\n"
                        + "\n".join(diff), pytrace=False)


def _tracer(topts, text_sink, json_sink):
    """A tracer writing strace text to ``text_sink`` and JSON Lines to ``json_sink``."""
    from umlpy.trace.tracer import Tracer
    from umlpy.trace.writers import JsonWriter, Output
    tracer = Tracer(topts, stderr=text_sink)
    if not any(isinstance(w, JsonWriter) for w in tracer.writers):
        tracer.writers.append(JsonWriter(topts, Output(func=json_sink)))
    else:                      # --format json asked: the same lines serve both
        tracer.sink = Output(func=lambda b: (text_sink(b), json_sink(b)))
        for w in tracer.writers:
            if isinstance(w, JsonWriter):
                w.sink = tracer.sink
    return tracer


def assert_calls(res, expected, *, exact=False, pid=None):
    """Check the order of system calls, with a readable diff when it is wrong.

    ``expected``: names ("openat") or lines with ``*`` wildcards
    ('openat(*"data.txt"*) = 3'), in order.  By default only the calls whose
    name appears in ``expected`` are compared (the rest of the program's calls
    do not matter); ``exact=True`` compares every call.
    """
    trace = getattr(res, "trace", res)
    expected = list(expected)
    names = {e.split("(", 1)[0] for e in expected}
    calls = trace.calls(pid=pid)
    if not exact:
        calls = [c for c in calls if any(c.matches(n) for n in names)]
    ok = len(calls) == len(expected) and all(c.matches(e) for c, e in zip(calls, expected))
    if ok:
        return
    # Show each actual call in the form its expectation uses: a name, or the whole line.
    shown = []
    for i, c in enumerate(calls):
        e = expected[i] if i < len(expected) else None
        shown.append(c.line if e is None or "(" in e else c.name)
    exp = [e if not (i < len(calls) and calls[i].matches(e)) else shown[i] for i, e in enumerate(expected)]
    diff = difflib.unified_diff(exp, shown, "expected", "actual", lineterm="", n=3)
    raise AssertionError("system calls differ from the expected sequence:\n" + "\n".join(diff))


@pytest.fixture
def umlpy(request):
    """A runner of guest programs (see :class:`GuestRunner`)."""
    marker = request.node.get_closest_marker("umlpy")
    options = dict(marker.kwargs) if marker is not None else {}
    path = getattr(request.node, "path", None) or getattr(request, "fspath", None)
    module = os.fspath(path) if path is not None else os.getcwd()
    stem = os.path.splitext(os.path.basename(module))[0]
    return GuestRunner(request.config.getoption("--umlpy-platform", default="auto"), options,
                       update_goldens=request.config.getoption("--umlpy-update-goldens", default=False),
                       golden_dir=os.path.join(os.path.dirname(module), "goldens", stem),
                       test_name=request.node.name)
