"""procps inside umlpy: Debian's ps and top read the guest kernel's /proc.

The same shell script runs natively (under setsid, so that its shell leads its session and
process group as the guest's first process does) and under umlpy with the host root as the
guest's root; ps lists the shell and a background sleep.  The columns that describe the
processes themselves (user, pid/ppid/pgid/sid relations, state, threads, tty, nice,
priority, command name and arguments) must agree once pids are renamed in order of
appearance; memory sizes, wait channels and times are the host's business and are not
compared.  ``ps -ef``, ``ps aux`` and ``top -b -n1`` must run cleanly and list the guest's
own processes.
"""

import os
import re
import shutil
import subprocess

import pytest

from umlpy.api import run

pytestmark = pytest.mark.skipif(shutil.which("ps") is None or shutil.which("top") is None,
                                reason="procps (ps, top) is not installed on this host")

#: Columns compared between the native and the guest run.
_COLUMNS = "user,pid,ppid,pgid,sid,stat,nlwp,tty,ni,pri,comm,args"
_SCRIPT = ("sleep 5 & ps -o %s -p $$,$!; kill $!; wait $! 2>/dev/null; echo done" % _COLUMNS)


def _normalise(out: bytes) -> list:
    """ps's table with each pid replaced by its order of first appearance; the first row's
    ppid (the shell's parent: the test runner natively, none in the guest) is dropped."""
    lines = out.decode().splitlines()
    names = {}
    rows = []
    for i, line in enumerate(lines):
        cells = line.split(None, len(_COLUMNS.split(",")) - 1)
        if i == 0 or len(cells) < 12:
            rows.append(cells)
            continue
        for col in (1, 2, 3, 4):         # pid ppid pgid sid
            if col == 2 and i == 1:
                cells[col] = "PARENT"
                continue
            cells[col] = names.setdefault(cells[col], "P%d" % len(names))
        rows.append(cells)
    return rows


def test_ps_columns_agree_with_native(platform):
    native = subprocess.run(["setsid", "sh", "-c", _SCRIPT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env={"PATH": os.environ["PATH"]},
                            timeout=60)
    assert native.returncode == 0, native.stderr
    guest = run(["sh", "-c", _SCRIPT], platform=platform, env={"PATH": os.environ["PATH"]},
                clean_env=True)      # as the native run: not the test runner's COLUMNS (xdist sets 80)
    assert guest.status == 0, guest.stderr
    assert guest.stderr == native.stderr == b""
    n, g = _normalise(native.stdout), _normalise(guest.stdout)
    assert len(g) == 4 and g[-1] == ["done"]
    assert g[1][5] == "Ss" and g[2][10:] == ["sleep", "sleep 5"]      # what the rows say
    assert g == n


def test_ps_ef_aux_and_top_list_the_guest(platform):
    script = "sleep 5 & ps -ef; ps aux; top -b -n1; kill $!"
    res = run(["sh", "-c", script], platform=platform, env={"PATH": os.environ["PATH"]}, clean_env=True)
    assert res.status == 0 and res.stderr == b"", res.stderr
    out = res.stdout.decode()
    ef_head, = [ln for ln in out.splitlines() if ln.startswith("UID ")]
    assert ef_head.split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    user = subprocess.run(["id", "-un"], stdout=subprocess.PIPE).stdout.decode().strip()
    ef = [ln.split(None, 7) for ln in out.split("\nUSER ")[0].splitlines()[1:]]
    assert [(r[0], r[1], r[2], r[7]) for r in ef] == [
        (user, "1", "0", "sh -c " + script), (user, "2", "1", "sleep 5"), (user, "3", "1", "ps -ef")]
    aux = out.split("\nUSER ")[1].split("\ntop - ")[0].splitlines()
    assert aux[0].split() == ["PID", "%CPU", "%MEM", "VSZ", "RSS", "TTY", "STAT", "START", "TIME", "COMMAND"]
    stats = {r.split(None, 10)[1]: r.split(None, 10)[7] for r in aux[1:]}
    assert stats == {"1": "Ss", "2": "S", "4": "R"}
    top = "top - " + out.split("\ntop - ")[1]
    assert re.search(r"^Tasks: +3 total, +1 running, +2 sleeping, +0 stopped, +0 zombie$", top, re.M), top
    assert re.search(r"^MiB Mem : +1024\.0 total,", top, re.M), top
    procs = re.findall(r"^ +(\d+) \S+ +\d+ +\d+ +\d+ +\d+ +\d+ ([RSTZt]) .* (\S+)$", top, re.M)
    assert sorted(procs) == [("1", "S", "sh"), ("2", "S", "sleep"), ("5", "R", "top")], top
