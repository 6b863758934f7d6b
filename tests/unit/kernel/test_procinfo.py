"""ProcInfo (/proc/PID/status and friends) over a kernel on the fake platform."""

import re

from kernel_helpers import DATA, syscall
from umlpy.abi.memory import STACK_SIZE
from umlpy.abi.syscall_nr import NR
from umlpy.kernel.procinfo import ProcInfo

def test_pids_exe_cmdline(machine):
    m = machine()
    m.kernel.init.exe = "/bin/prog"
    m.kernel.init.cmdline = b"prog\0-x\0"
    p = ProcInfo(m.kernel)
    assert p.pids() == [1]
    assert p.exe(1) == "/bin/prog"
    assert p.cmdline(1) == b"prog\0-x\0"
    assert p.exe(2) is None
    assert p.hostname() == "umlpy"


def test_status_reports_memory_in_kb(machine):
    m = machine()
    m.mm.write(DATA, b"x")                         # one present page
    text = ProcInfo(m.kernel).status(1)
    vm_kb = (1 + 4 + STACK_SIZE // 4096) * 4        # text, data, stack pages
    assert re.search(r"VmSize:\s+%d kB" % vm_kb, text), text
    assert re.search(r"VmRSS:\s+%d kB" % (m.mm.rss_pages * 4), text), text
    assert "Pid:\t1\n" in text


def test_guest_reading_proc_self_status_does_not_crash_the_supervisor(machine):
    m = machine()
    m.mm.write(DATA, b"/proc/self/status\0")
    m.run(syscall(NR.openat, -100, DATA, 0), syscall(NR.read, 3, DATA + 0x100, 2048), syscall(NR.exit_group, 0))
    assert m.ctx.seen[1]["rax"] == 3
    assert 0 < m.ctx.seen[2]["rax"] < 2048
