"""CPython's own tests of the file side, with the host's root as the guest's root.

Debian's ``/usr/bin/python3 -m test -v MODULE`` runs natively and under umlpy; every test
that passes natively must pass under umlpy, except the ones listed in EXCEPTIONS, each
with its reason (and each must still pass natively, so that the list cannot hide a
test that went away).
"""

import os
import subprocess
import sys

import pytest

PYTHON = "/usr/bin/python3"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

#: module -> extra arguments of ``python3 -m test`` (a selection of classes with -m).
MODULES = {
    "test_fcntl": [],
    "test_select": [],
    "test_poll": [],
    "test_pty": [],
    "test_os-files": ["test_os", "-m", "FileTests", "-m", "ExtendedAttributeTests", "-m", "MakedirTests",
                      "-m", "RemoveDirsTests", "-m", "TestScandir", "-m", "FDInheritanceTests"],
}

#: (module, test id) -> why it cannot pass under umlpy yet.
EXCEPTIONS = {
    ("test_pty", "test.test_pty.SmallPtyTests.test__copy_eof_on_all"):
        "uses socket.socketpair(): AF_UNIX sockets are the socket layer's (not in this branch)",
    ("test_pty", "test.test_pty.SmallPtyTests.test__copy_to_each"):
        "uses socket.socketpair(): AF_UNIX sockets are the socket layer's (not in this branch)",
}

#: Runs regrtest with a JUnit XML report and prints the report: inside the guest the
#: file is in the guest's own overlay, so it travels on stdout both ways.
SCRIPT = ('x=/tmp/umlpy-cpython-$$.xml; %s -m test --junit-xml $x "$@" >/dev/null 2>&1; cat $x; rm -f $x'
          % PYTHON)


def _results(xml: bytes) -> dict:
    """{test id: "ok" | "skipped" | "error" | "failure"} of a regrtest JUnit report."""
    import xml.etree.ElementTree as ET
    start = xml.find(b"<testsuites")
    if start < 0:
        return {}
    out = {}
    for tc in ET.fromstring(xml[start:]).iter("testcase"):
        tags = [c.tag for c in tc]
        out[tc.get("name")] = tags[0] if tags else "ok"
    return out


def _run(cmd, **kw) -> bytes:
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                          timeout=900, **kw).stdout


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(MODULES))
def test_cpython_module(module, tmp_path):
    if not os.path.exists(PYTHON) or not os.path.isdir("/usr/lib/python3.11/test"):
        pytest.skip("Debian's python3 and libpython3.11-testsuite are not installed")
    args = MODULES[module] or [module]
    sh = ["/bin/sh", "-c", SCRIPT, "sh"] + args
    native = _results(_run(sh, cwd=str(tmp_path)))
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    guest = _results(_run([sys.executable, "-m", "umlpy", "run", "--rootfs", "/"] + sh, cwd=str(tmp_path), env=env))
    passed = {t for t, r in native.items() if r == "ok"}
    assert passed, "no test passed natively: %r" % native
    name = args[0]
    expected = {t for (m, t) in EXCEPTIONS if m == name}
    assert expected <= passed, "listed exceptions that no longer pass natively: %s" % (expected - passed)
    missing = sorted(t for t in passed - expected if guest.get(t) != "ok")
    assert not missing, "pass natively, not under umlpy: %s" % ["%s: %s" % (t, guest.get(t)) for t in missing]
