"""The tty layer on a fake kernel: line discipline, job control and pty pairs."""

import errno
import os
import struct

import pytest

from umlpy.errors import SyscallError
from umlpy.fs import WouldBlock
from umlpy.fs.pty import Devpts, TIOCGPTN, TIOCSPTLCK
from umlpy.fs.tty import ERESTARTSYS, SIGINT, SIGTSTP, SIGTTIN, SIGWINCH, TIOCSWINSZ

from .test_fs_console_pipe import Mem


class Who:
    def __init__(self, pid, pgid, sid):
        self.pid, self.pgid, self.sid = pid, pgid, sid
        self.tty = None
        self.ignored = set()


class FakeHost:
    """A JobHost with processes as Who objects and signals recorded."""

    def __init__(self):
        self.me = Who(10, 10, 10)
        self.now = 0
        self.sent = []
        self.orphaned = False

    def current(self):
        return self.me

    def now_ns(self):
        return self.now

    def pgrp(self, who):
        return who.pgid

    def sid(self, who):
        return who.sid

    def is_session_leader(self, who):
        return who.pid == who.sid

    def ctty(self, who):
        return who.tty

    def set_ctty(self, who, tty):
        who.tty = tty

    def clear_session_tty(self, sid, tty):
        if self.me.sid == sid and self.me.tty is tty:
            self.me.tty = None

    def signal_pgrp(self, pgid, signo):
        self.sent.append((pgid, signo))

    def signal_session_leader(self, sid, signo):
        self.sent.append(("leader", sid, signo))

    def is_orphaned_pgrp(self, pgid):
        return self.orphaned

    def ignores_or_blocks(self, who, signo):
        return signo in who.ignored

    def pgrp_session(self, pgid):
        return 10 if pgid in (10, 11) else None

    def capable(self, who):
        return True


@pytest.fixture
def pair():
    host = FakeHost()
    devpts = Devpts(host, None)
    master = devpts.new_pair(os.O_RDWR, None).get_ref()
    mem = Mem()
    master.ioctl(TIOCSPTLCK, 0x10, mem)            # unlocked (0 read back from Mem)
    slave = devpts.children[b"0"].open(os.O_RDWR | os.O_NOCTTY, None, b"/dev/pts/0").get_ref()
    return host, master, slave, mem


def test_canonical_lines_echo_and_erase(pair):
    host, m, s, _ = pair
    m.write(b"ab\x7fc\n")
    assert m.read(100) == b"ab\b \bc\r\n"
    assert s.read(100) == b"ac\n"
    m.write(b"par")
    s.set_fl(os.O_NONBLOCK)
    with pytest.raises(SyscallError) as e:
        s.read(10)
    assert e.value.errno == errno.EAGAIN
    m.write(b"\x04")                               # VEOF ends the line without itself
    assert s.read(10) == b"par"


def test_isig_and_job_control(pair):
    host, m, s, mem = pair
    assert m.pair.tty.session is None
    s.tty.open_by(host.me, noctty=False)           # a session leader opens it: its ctty
    assert host.me.tty is s.tty and s.tty.pgrp == 10
    m.write(b"x\x03")
    assert (10, SIGINT) in host.sent and s.tty.available() == 0      # input flushed
    m.write(b"\x1a")
    assert (10, SIGTSTP) in host.sent
    mem.write(0x20, struct.pack("<HHHH", 24, 80, 0, 0))
    s.ioctl(TIOCSWINSZ, 0x20, mem)
    assert (10, SIGWINCH) in host.sent
    s.tty.pgrp = 11                                # we are in the background now
    with pytest.raises(SyscallError) as e:
        s.read(10)
    assert e.value.errno == ERESTARTSYS and (10, SIGTTIN) in host.sent
    host.orphaned = True                           # an orphaned group is never stopped: EIO
    before = len(host.sent)
    with pytest.raises(SyscallError) as e:
        s.read(10)
    assert e.value.errno == errno.EIO and len(host.sent) == before
    host.orphaned = False
    host.me.ignored.add(SIGTTIN)
    with pytest.raises(SyscallError) as e:
        s.read(10)
    assert e.value.errno == errno.EIO


def test_vmin_vtime(pair):
    host, m, s, mem = pair
    t = s.tty.termios
    t.lflag &= ~0o2                                # ICANON off
    t.cc[6], t.cc[5] = 0, 2                        # VMIN 0, VTIME 0.2 s
    with pytest.raises(WouldBlock) as w:
        s.read(10)
    assert w.value.deadline == 200_000_000
    host.now = 200_000_000
    assert s.read(10) == b""                       # the timer ran out
    t.cc[6], t.cc[5] = 2, 0                        # VMIN 2
    m.write(b"a")
    with pytest.raises(WouldBlock):
        s.read(10)
    m.write(b"b")
    assert s.read(10) == b"ab"


def test_pty_hangups(pair):
    host, m, s, mem = pair
    m.ioctl(TIOCGPTN, 0x30, mem)
    assert struct.unpack("<I", mem.read(0x30, 4))[0] == 0
    s.put_ref()
    with pytest.raises(SyscallError) as e:
        m.read(10)                                 # every slave closed: EIO
    assert e.value.errno == errno.EIO
    s2 = m.pair.open_slave(os.O_RDWR).get_ref()
    m.put_ref()                                    # the master goes: the slave hangs up
    assert s2.read(10) == b""
    with pytest.raises(SyscallError) as e:
        s2.write(b"x")
    assert e.value.errno == errno.EIO
