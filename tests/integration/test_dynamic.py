"""Dynamically linked host programs with the host's / as the guest's root.

The guest reads the host's files through the supervisor (never writing
them: writes go to the in-memory overlay), loads ld.so as the interpreter,
and maps libc from the host file.  Each command is run natively and under
umlpy (both platforms); stdout and exit status must be the same.
"""

import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

import umlpy
from umlpy.api import guest_env

SCRIPTS = [
    ("/bin/true",),
    ("/bin/false",),
    ("/bin/echo", "hello", "dynamic", "world"),
    ("/bin/sh", "-c", "echo a | cat; printf '%s\\n' x y z | sort -r; expr 6 \\* 7; exit 5"),
    ("/bin/sh", "-c", "ls /etc/apt | head -3; cat /etc/debian_version | wc -c; uname -s"),
    ("/bin/bash", "-c", "f() { echo in $1; return 3; }; f one; echo status $?; "
                        "a=(p q r); echo ${#a[@]} ${a[1]}; echo $((2**10))"),
    ("/usr/bin/env",),
    ("/usr/bin/find", "/etc/apt"),
    ("/usr/bin/sort", "-r", "/etc/passwd"),
    ("/bin/sh", "-c", "tar -cf - /etc/apt 2>/dev/null | md5sum; gzip -c /etc/passwd | gzip -dc | wc -c"),
    ("/bin/sed", "s/root/ROOT/", "/etc/passwd"),
    ("/usr/bin/python3", "-c", "import json, hashlib; print(json.dumps(sorted({3: 1, 1: 2})), "
                               "hashlib.sha256(b'umlpy').hexdigest(), sum(range(10 ** 6)))"),
]


def _native(argv):
    env = dict(kv.decode().split("=", 1) for kv in guest_env())
    p = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, cwd="/", timeout=60)
    return p.returncode, p.stdout


@pytest.mark.parametrize("argv", SCRIPTS, ids=[" ".join(a)[:40] for a in SCRIPTS])
def test_same_as_native(argv, platform):
    if not os.path.exists(argv[0]):
        pytest.skip("%s is not on this host" % argv[0])
    nrc, nout = _native(argv)
    res = umlpy.run(list(argv), rootfs="/", platform=platform)
    assert res.stdout == nout
    assert res.returncode == nrc


@pytest.fixture
def host_dir():
    """A host directory the guest can see: not under /tmp, which is the guest's own tmpfs."""
    d = tempfile.mkdtemp(prefix="umlpy-test-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    yield pathlib.Path(d)
    shutil.rmtree(d, ignore_errors=True)


def test_guest_writes_never_reach_the_host(host_dir):
    """A guest with the host's / as its root writes into its overlay only."""
    target = host_dir / "file"
    target.write_text("host content\n")
    script = "echo guest > %s; cat %s; rm -f %s; touch %s/new; ls %s" % (
        target, target, target, host_dir, host_dir)
    res = umlpy.run(["/bin/sh", "-c", script], rootfs="/")
    assert res.exit_code == 0, res.stderr
    assert res.stdout == b"guest\nnew\n"                 # the guest sees its own changes
    assert target.read_text() == "host content\n"          # the host does not
    assert sorted(os.listdir(host_dir)) == ["file"]


def _ignoring(*signos):
    import signal

    def pre():
        for s in signos:
            signal.signal(s, signal.SIG_IGN)
    return pre


@pytest.mark.parametrize("platform", ["c", "python"])
def test_ignored_signals_are_inherited_as_across_exec(platform):
    """`nohup umlpy run prog` and a background job's `umlpy run prog`: prog starts with
    SIGHUP / SIGINT ignored, exactly as it would natively (exec keeps SIG_IGN)."""
    import signal
    import sys
    prog = ["/usr/bin/python3", "-c",
            "import signal; print([int(signal.getsignal(s) == signal.SIG_IGN) for s in "
            "(signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGUSR1)])"]
    if not os.path.exists(prog[0]):
        pytest.skip("/usr/bin/python3 is not installed")
    pre = _ignoring(signal.SIGHUP, signal.SIGINT, signal.SIGUSR1)
    native = subprocess.run(prog, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=pre,
                            timeout=60)
    under = subprocess.run([sys.executable, "-m", "umlpy", "run", "--platform", platform] + prog,
                           stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=pre, timeout=120)
    assert native.stdout == b"[1, 1, 0, 0, 1]\n"
    assert (under.returncode, under.stdout) == (native.returncode, native.stdout)
