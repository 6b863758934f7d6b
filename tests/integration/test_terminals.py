"""Terminals end to end: interactive shells with job control driven through a pty.

``guests/jobctl.py`` opens a pty pair, starts an interactive shell on the slave
(pty.fork: setsid and TIOCSCTTY), and types at it through the master: a command,
``sleep 100`` then ^Z, ``jobs``, ``bg``, ``fg`` then ^C, ``cat`` fed a line and ^D,
``exit 3``.  It runs natively and, with the host's root as the guest's, under umlpy
(Debian's python3, bash and busybox inside the guest); the transcripts must be
identical: echo, the shells' job messages, SIGTSTP/SIGINT from the line
discipline to the foreground group, tcsetpgrp, SIGTTIN-free background jobs.
"""

import os
import shutil
import subprocess
import sys

import pytest

import umlpy

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guests", "jobctl.py")
PYTHON = "/usr/bin/python3"

SHELLS = {"bash": ["/bin/bash", "--norc", "--noprofile", "-i"], "busybox": ["/bin/busybox", "sh", "-i"]}


@pytest.mark.slow
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_shell_job_control_through_a_pty(platform, shell):
    argv = SHELLS[shell]
    if not os.path.exists(PYTHON) or not os.path.exists(argv[0]):
        pytest.skip("%s or %s is not installed" % (PYTHON, argv[0]))
    native = subprocess.run([PYTHON, SCRIPT] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert native.returncode == 0, native.stdout + native.stderr
    assert b"Stopped" in native.stdout and b"shell exit status 3" in native.stdout
    guest = umlpy.run([PYTHON, SCRIPT] + argv, rootfs="/", platform=platform)
    assert guest.stdout == native.stdout
    assert guest.returncode == 0


@pytest.mark.slow
def test_script_records_a_session(platform, tmp_path):
    """util-linux script(1): openpty, signalfd and poll; the child reads the typed line
    through the pty (echoed by the line discipline) and answers."""
    script = shutil.which("script")
    if script is None:
        pytest.skip("util-linux script is not installed")
    stdin = b"read x; echo got $x\nabc\n"
    argv = [script, "-qec", "sh -c 'read x; echo got $x'", "/dev/null"]
    native = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert native.returncode == 0 and b"got read x; echo got $x\r\n" in native.stdout
    guest = umlpy.run(argv, rootfs="/", platform=platform, stdin=stdin)
    assert guest.stdout == native.stdout
    assert guest.returncode == native.returncode


@pytest.mark.slow
@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_console_is_a_terminal(platform, shell):
    """umlpy itself on a host pty: the host terminal becomes the guest's console tty (raw
    host mode, the guest's line discipline), pid 1's controlling terminal.  The same
    script types at ``umlpy run SHELL`` as at the shell natively; the transcripts match."""
    argv = SHELLS[shell]
    if not os.path.exists(PYTHON) or not os.path.exists(argv[0]):
        pytest.skip("%s or %s is not installed" % (PYTHON, argv[0]))
    native = subprocess.run([PYTHON, SCRIPT] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert native.returncode == 0, native.stdout + native.stderr
    umlpy_cmd = [sys.executable, "-m", "umlpy", "run", "--platform", platform, "--rootfs", "/",
                 "--env", "PS1=$ ", "--env", "TERM=dumb"]
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    guest = subprocess.run([PYTHON, SCRIPT] + umlpy_cmd + argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120, env=env)
    assert guest.stdout == native.stdout, guest.stderr
    assert guest.returncode == 0


@pytest.mark.slow
def test_console_follows_the_host_window_size(platform):
    """The host terminal is resized: the guest's console tty takes the new size and its
    foreground group gets SIGWINCH, as a program on the host terminal would."""
    driver = os.path.join(os.path.dirname(SCRIPT), "winch_driver.py")
    guest_prog = os.path.join(os.path.dirname(SCRIPT), "winch_guest.py")
    native = subprocess.run([PYTHON, driver, PYTHON, guest_prog], stdout=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, timeout=60)
    assert b"got SIGWINCH, size (100, 40)" in native.stdout
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    guest = subprocess.run([PYTHON, driver, sys.executable, "-m", "umlpy", "run", "--platform", platform,
                            "--rootfs", "/", PYTHON, guest_prog], stdout=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=60, env=env)
    assert guest.stdout == native.stdout
