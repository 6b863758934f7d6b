"""Terminals: the tty core, its job control and the N_TTY line discipline.

A :class:`Tty` is Linux's ``tty_struct`` with ``n_tty`` attached: termios,
window size, the session it controls and its foreground process group, the
input the line discipline has cooked (complete lines in canonical mode,
bytes otherwise), and a driver that takes its output (a pty master's read
buffer, the host console).  Input enters with :meth:`Tty.receive` (a pty
master's write); the discipline applies c_iflag (ISTRIP, IGNCR, ICRNL,
INLCR, IUCLC), IXON (^S/^Q), ISIG (VINTR, VQUIT, VSUSP: a signal to the
foreground process group, input flushed unless NOFLSH), ICANON editing
(VERASE, VKILL, VWERASE, VREPRINT, VLNEXT, VEOF, VEOL, VEOL2) and echo
(ECHO, ECHOE, ECHOK, ECHOKE, ECHOCTL, ECHONL); output goes through c_oflag
(OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS).  Reads follow ICANON or
VMIN/VTIME.

Job control is Linux's (drivers/tty/tty_jobctrl.c): a process of a
background process group reading its controlling terminal gets SIGTTIN (EIO
if it ignores or blocks it, or if its group is orphaned); writing with
TOSTOP, or changing the terminal's settings, gets SIGTTOU (writing goes on
when SIGTTOU is ignored or blocked).  The call is then restarted once the
signal has been dealt with (``SyscallError(ERESTARTSYS)``).  Everything the
tty needs of processes goes through a :class:`JobHost` (the kernel's side,
``umlpy.kernel.ttyjob``); fs never sees a task.

A hung-up tty (its pty master closed) reads end of file, writes and most
ioctls fail with EIO, and poll reports everything.
"""

from __future__ import annotations

import errno
import struct

from umlpy.abi.errno_tab import ERESTARTSYS
from umlpy.abi.fcntl import (FIONREAD, IOCTL, TCGETS, TCSETS, TCSETSF, TCSETSW, TERMIOS_FORMAT, TIOCGPGRP,
                             TIOCGSID, TIOCGWINSZ, TIOCSCTTY, TIOCSPGRP, TIOCSWINSZ, WINSIZE_FORMAT)
from umlpy.abi.poll import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM
from umlpy.abi.signal import Sig
from umlpy.abi.termios import CFLAG, IFLAG, LFLAG, OFLAG, TABDLY
from umlpy.errors import SyscallError
from umlpy.fs.file import File
from umlpy.waiter import Queue, WouldBlock

SIGINT, SIGQUIT, SIGTSTP = int(Sig.SIGINT), int(Sig.SIGQUIT), int(Sig.SIGTSTP)
SIGTTIN, SIGTTOU, SIGHUP = int(Sig.SIGTTIN), int(Sig.SIGTTOU), int(Sig.SIGHUP)
SIGCONT, SIGWINCH = int(Sig.SIGCONT), int(Sig.SIGWINCH)

# c_cc indices (asm-generic/termbits.h).
VINTR, VQUIT, VERASE, VKILL, VEOF, VTIME, VMIN, VSWTC = range(8)
VSTART, VSTOP, VSUSP, VEOL, VREPRINT, VDISCARD, VWERASE, VLNEXT, VEOL2 = range(8, 17)
NCCS = 19
_DISABLED = 0      # _POSIX_VDISABLE

I = IFLAG
O = OFLAG
L = LFLAG
TAB3 = 0x1800
B38400 = 0x0F
CS8 = 0x30
#: Linux's tty_std_termios, and INIT_C_CC.
INIT_C_CC = bytes([3, 0x1C, 0x7F, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1A, 0, 0x12, 0x0F, 0x17, 0x16, 0])
STD_IFLAG = int(I.ICRNL | I.IXON)
STD_OFLAG = int(O.OPOST | O.ONLCR)
STD_CFLAG = B38400 | CS8 | int(CFLAG.CREAD | CFLAG.HUPCL)
STD_LFLAG = int(L.ISIG | L.ICANON | L.ECHO | L.ECHOE | L.ECHOK | L.ECHOCTL | L.ECHOKE | L.IEXTEN)

#: The line discipline's buffer (N_TTY_BUF_SIZE), and the driver's input buffer in front
#: of it (the flip buffers a pty master's writes fill).
N_TTY_BUF_SIZE = 4096
INPUT_BUF_SIZE = 65536

_TERMIOS = struct.Struct(TERMIOS_FORMAT)
_WINSIZE = struct.Struct(WINSIZE_FORMAT)
_INT = struct.Struct("<i")

TCFLSH = int(IOCTL.TCFLSH)
TCSBRK, TCSBRKP, TCXONC = int(IOCTL.TCSBRK), int(IOCTL.TCSBRKP), int(IOCTL.TCXONC)
TIOCNOTTY, TIOCOUTQ, TIOCSTI = int(IOCTL.TIOCNOTTY), int(IOCTL.TIOCOUTQ), int(IOCTL.TIOCSTI)
TIOCGETD, TIOCSETD = int(IOCTL.TIOCGETD), int(IOCTL.TIOCSETD)
TIOCEXCL, TIOCNXCL = int(IOCTL.TIOCEXCL), int(IOCTL.TIOCNXCL)
TCGETA, TCSETA, TCSETAW, TCSETAF = (int(IOCTL.TCGETA), int(IOCTL.TCSETA), int(IOCTL.TCSETAW),
                                    int(IOCTL.TCSETAF))
TIOCGEXCL = 0x80045440
TIOCVHANGUP = 0x5437
TCIFLUSH, TCOFLUSH, TCIOFLUSH = 0, 1, 2
TCOOFF, TCOON, TCIOFF, TCION = 0, 1, 2, 3
_TCSETS = (TCSETS, TCSETSW, TCSETSF)
#: struct termio (TCGETA/TCSETA*): four unsigned shorts, c_line, c_cc[8].
_TERMIO = struct.Struct("<HHHHB8B")


class JobHost:
    """What a tty asks of the kernel.  ``who`` is the task making the current call
    (:meth:`current`); processes are named by it, sessions and groups by number."""

    def current(self): ...
    def now_ns(self) -> int: ...
    def pgrp(self, who) -> int: ...
    def sid(self, who) -> int: ...
    def is_session_leader(self, who) -> bool: ...
    def ctty(self, who): ...                            # -> Tty | None
    def set_ctty(self, who, tty) -> None: ...           # this process only (proc_set_tty)
    def clear_session_tty(self, sid: int, tty) -> None: ...
    def signal_pgrp(self, pgid: int, signo: int) -> None: ...
    def signal_session_leader(self, sid: int, signo: int) -> None: ...
    def is_orphaned_pgrp(self, pgid: int) -> bool: ...
    def ignores_or_blocks(self, who, signo: int) -> bool: ...
    def pgrp_session(self, pgid: int) -> int | None: ...   # its session, None: no such group
    def capable(self, who) -> bool: ...


class Termios:
    """The kernel's ``struct termios`` (36 bytes, what TCGETS copies)."""

    __slots__ = ("iflag", "oflag", "cflag", "lflag", "line", "cc")

    def __init__(self, iflag=STD_IFLAG, oflag=STD_OFLAG, cflag=STD_CFLAG, lflag=STD_LFLAG, cc=INIT_C_CC):
        self.iflag, self.oflag, self.cflag, self.lflag, self.line = iflag, oflag, cflag, lflag, 0
        self.cc = bytearray(cc) + bytearray(NCCS - len(cc))

    def pack(self) -> bytes:
        return _TERMIOS.pack(self.iflag, self.oflag, self.cflag, self.lflag, self.line, *self.cc)

    @classmethod
    def unpack(cls, raw: bytes) -> "Termios":
        v = _TERMIOS.unpack(raw[:_TERMIOS.size])
        t = cls(v[0], v[1], v[2], v[3], bytes(v[5:]))
        t.line = v[4]
        return t

    def pack_termio(self) -> bytes:
        return _TERMIO.pack(self.iflag & 0xFFFF, self.oflag & 0xFFFF, self.cflag & 0xFFFF,
                            self.lflag & 0xFFFF, self.line, *self.cc[:8])

    def set_termio(self, raw: bytes):
        v = _TERMIO.unpack(raw[:_TERMIO.size])
        self.iflag = (self.iflag & ~0xFFFF) | v[0]
        self.oflag = (self.oflag & ~0xFFFF) | v[1]
        self.cflag = (self.cflag & ~0xFFFF) | v[2]
        self.lflag = (self.lflag & ~0xFFFF) | v[3]
        self.line = v[4]
        self.cc[:8] = bytes(v[5:])


def _is_ctl(c: int) -> bool:
    return c < 0x20 or c == 0x7F


class Tty:
    """A terminal with the N_TTY line discipline.

    ``output(data) -> int`` is the driver: it takes what the tty writes (after
    output processing) and returns how much it took (fewer when its buffer is full);
    ``output_room()`` says how much it would take now.  ``name`` is the tty's path
    (/dev/pts/3).
    """

    def __init__(self, host: JobHost, name: bytes, output, output_room, termios: Termios | None = None):
        self.host = host
        self.name = name
        self._output = output
        self._output_room = output_room
        self.termios = termios or Termios()
        self.winsize = (0, 0, 0, 0)
        self.session = None       # sid this tty controls, None: none
        self.pgrp = None          # foreground process group
        self.waitq = Queue()      # readers and writers of this side
        self.hung_up = False
        self.exclusive = False
        self.stopped = False      # output stopped by VSTOP (IXON) or TCOOFF
        self.pending = bytearray()  # received, not yet taken by the discipline (flip buffer)
        self.lines: list = []     # canonical mode: complete lines (bytes; b"" for an EOF)
        self.cur = bytearray()    # canonical mode: the line being edited
        self.raw = bytearray()    # non-canonical mode: input bytes
        self.column = 0           # output column, for tabs, ONOCR and erasing
        self.lnext = False
        self.last_rx_ns = 0
        self._vtime_start: dict = {}   # id(reader) -> when a VMIN=0/VTIME>0 read began
        #: Called when room appears in the input buffer (a pty master's writers wait there).
        self.on_input_room = None
        #: ``(flags, path) -> File``: a new description of this tty (/dev/tty).
        self.open_file = None

    # --- flags -----------------------------------------------------------------------
    def _l(self, flag) -> bool:
        return bool(self.termios.lflag & flag)

    def _i(self, flag) -> bool:
        return bool(self.termios.iflag & flag)

    @property
    def icanon(self) -> bool:
        return bool(self.termios.lflag & L.ICANON)

    def _buffered(self) -> int:
        return sum(len(x) for x in self.lines) + len(self.cur) + len(self.raw)

    # --- output ------------------------------------------------------------------------
    def _opost(self, data: bytes) -> bytes:
        """c_oflag processing (n_tty's do_output_char), keeping the column."""
        t = self.termios
        if not t.oflag & O.OPOST:
            return bytes(data)
        of = t.oflag
        out = bytearray()
        col = self.column
        for c in data:
            if c == 0x0A:                              # \n
                if of & O.ONLRET:
                    col = 0
                if of & O.ONLCR:
                    out += b"\r\n"
                    col = 0
                    continue
                out.append(c)
            elif c == 0x0D:                            # \r
                if of & O.ONOCR and col == 0:
                    continue
                if of & O.OCRNL:
                    out.append(0x0A)
                    if of & O.ONLRET:
                        col = 0
                    continue
                out.append(c)
                col = 0
            elif c == 0x09:                            # \t
                spaces = 8 - (col & 7)
                if of & TABDLY == TAB3:
                    out += b" " * spaces
                else:
                    out.append(c)
                col += spaces
            elif c == 0x08:                            # \b
                col = max(col - 1, 0)
                out.append(c)
            else:
                if of & O.OLCUC and 0x61 <= c <= 0x7A:
                    c -= 0x20
                if not _is_ctl(c):
                    col += 1
                out.append(c)
        self.column = col
        return bytes(out)

    def _echo(self, data: bytes):
        """Echo through output processing; what the driver cannot take is lost."""
        if data:
            self._output(self._opost(data))

    def _echo_char(self, c: int):
        """An input character as echo shows it (ECHOCTL: control characters as ^X)."""
        if self._l(L.ECHOCTL) and _is_ctl(c) and c not in (0x09, 0x0A, self.termios.cc[VSTART],
                                                            self.termios.cc[VSTOP]):
            self._echo(b"^" + bytes([c ^ 0x40]))
        else:
            self._echo(bytes([c]))

    # --- input: the line discipline --------------------------------------------------------
    def receive(self, data: bytes) -> int:
        """Input from the driver (a pty master's write): how much was taken."""
        room = INPUT_BUF_SIZE - len(self.pending)
        take = bytes(data[:room])
        self.pending += take
        self._process()
        return len(take)

    def input_room(self) -> int:
        return INPUT_BUF_SIZE - len(self.pending)

    def _ldisc_room(self) -> int:
        return N_TTY_BUF_SIZE - 1 - self._buffered()

    def _process(self):
        """Move pending input through the discipline while it has room."""
        before = self._readable()
        moved = False
        while self.pending:
            if self._ldisc_room() <= 0:
                # Canonical mode with no complete line: keep going, dropping ordinary
                # characters (n_tty's overflow), so that a newline still ends the line.
                if not (self.icanon and not self.lines):
                    break
            c = self.pending[0]
            del self.pending[0]
            moved = True
            self._receive_char(c)
        if moved:
            self.last_rx_ns = self.host.now_ns()
            if self.on_input_room is not None:
                self.on_input_room()
        if moved or self._readable() != before:
            self.waitq.notify(POLLIN | POLLRDNORM)

    def _receive_char(self, c: int):
        t = self.termios
        cc = t.cc
        if self._i(I.ISTRIP):
            c &= 0x7F
        if self.lnext:
            self.lnext = False
            self._put(c, literal=True)
            return
        if self._i(I.IUCLC) and self._l(L.IEXTEN) and 0x41 <= c <= 0x5A:
            c += 0x20
        if c == 0x0D:
            if self._i(I.IGNCR):
                return
            if self._i(I.ICRNL):
                c = 0x0A
        elif c == 0x0A and self._i(I.INLCR):
            c = 0x0D
        if self._i(I.IXON):
            if c == cc[VSTOP] and c != _DISABLED:
                self.stopped = True
                return
            if c == cc[VSTART] and c != _DISABLED:
                self._start_output()
                return
            if self.stopped and self._i(I.IXANY):
                self._start_output()
        if self._l(L.ISIG) and c != _DISABLED:
            sig = {cc[VINTR]: SIGINT, cc[VQUIT]: SIGQUIT, cc[VSUSP]: SIGTSTP}.get(c)
            if sig is not None:
                self._isig(sig, c)
                return
        if self.icanon and c != _DISABLED:
            if c == cc[VERASE] or c == cc[VKILL] or (c == cc[VWERASE] and self._l(L.IEXTEN)):
                self._erase(c)
                return
            if c == cc[VLNEXT] and self._l(L.IEXTEN):
                self.lnext = True
                if self._l(L.ECHO) and self._l(L.ECHOCTL):
                    self._echo(b"^\b")
                    self.column = max(self.column - 1, 0)
                return
            if c == cc[VREPRINT] and self._l(L.IEXTEN) and self._l(L.ECHO):
                self._echo_char(c)
                self._echo(b"\n")
                for ch in self.cur:
                    self._echo_char(ch)
                return
            if c == cc[VEOF]:
                self._end_line(None)
                return
            if c == 0x0A or c == cc[VEOL] or c == cc[VEOL2]:
                if self._l(L.ECHO) or (c == 0x0A and self._l(L.ECHONL)):
                    if c == 0x0A:
                        self._echo(b"\n")
                    else:
                        self._echo_char(c)
                self._end_line(c)
                return
        self._put(c)

    def _put(self, c: int, literal=False):
        if self._l(L.ECHO):
            self._echo_char(c)
        if self.icanon:
            if self._ldisc_room() > 0:
                self.cur.append(c)
        elif self._ldisc_room() > 0:
            self.raw.append(c)

    def _end_line(self, c):
        line = bytes(self.cur) + (bytes([c]) if c is not None else b"")
        self.cur.clear()
        self.lines.append(line)

    def _erase(self, c: int):
        cc = self.termios.cc
        echo = self._l(L.ECHO)
        if not self.cur:
            return
        if c == cc[VKILL]:
            if echo and not (self._l(L.ECHOK) and self._l(L.ECHOKE) and self._l(L.ECHOE)):
                self._echo_char(c)
                if self._l(L.ECHOK):
                    self._echo(b"\n")
                self.cur.clear()
                return
            n = len(self.cur)
        elif c == cc[VERASE]:
            n = 1
        else:                                          # VWERASE: blanks, then a word
            n, k = 0, len(self.cur)
            while k and self.cur[k - 1] in b" \t":
                k, n = k - 1, n + 1
            while k and self.cur[k - 1] not in b" \t":
                k, n = k - 1, n + 1
        for _ in range(n):
            ch = self.cur.pop()
            if not echo:
                continue
            if self._l(L.ECHOE):
                width = 2 if self._l(L.ECHOCTL) and _is_ctl(ch) and ch != 0x09 else 1
                if ch == 0x09:
                    width = 1
                self._echo(b"\b \b" * width)
                self.column = max(self.column - width, 0)
            else:
                self._echo_char(cc[VERASE])

    def _isig(self, sig: int, c: int):
        if not self._l(L.NOFLSH):
            self.flush_input()
            self.flush_output()
        if self._i(I.IXON):
            self._start_output()
        if self._l(L.ECHO):
            self._echo_char(c)
        if self.pgrp is not None:
            self.host.signal_pgrp(self.pgrp, sig)

    def _start_output(self):
        if self.stopped:
            self.stopped = False
            self.waitq.notify(POLLOUT | POLLWRNORM)

    def flush_input(self):
        self.pending.clear()
        self.lines.clear()
        self.cur.clear()
        self.raw.clear()
        if self.on_input_room is not None:
            self.on_input_room()

    def flush_output(self):
        """The driver's output buffer is dropped (TCOFLUSH); a pty overrides this."""

    # --- reading ---------------------------------------------------------------------
    def _readable(self, for_poll=False) -> bool:
        if self.icanon:
            return bool(self.lines)
        need = 1
        t = self.termios
        if for_poll and not t.cc[VTIME] and t.cc[VMIN]:
            need = t.cc[VMIN]
        return len(self.raw) >= need

    def available(self) -> int:
        """FIONREAD: bytes a read could return (complete lines only in canonical mode)."""
        if self.icanon:
            return sum(len(x) for x in self.lines)
        return len(self.raw)

    def check_read(self):
        """Job control for a read (tty_check_change's SIGTTIN half)."""
        h = self.host
        who = h.current()
        if h.ctty(who) is not self or self.pgrp is None or h.pgrp(who) == self.pgrp:
            return
        if h.ignores_or_blocks(who, SIGTTIN) or h.is_orphaned_pgrp(h.pgrp(who)):
            raise SyscallError(errno.EIO)
        h.signal_pgrp(h.pgrp(who), SIGTTIN)
        raise SyscallError(ERESTARTSYS)

    def check_change(self, signo=SIGTTOU):
        """Job control for a write with TOSTOP or a change of settings (tty_check_change)."""
        h = self.host
        who = h.current()
        if h.ctty(who) is not self or self.pgrp is None or h.pgrp(who) == self.pgrp:
            return
        if h.ignores_or_blocks(who, signo):
            return
        if h.is_orphaned_pgrp(h.pgrp(who)):
            raise SyscallError(errno.EIO)
        h.signal_pgrp(h.pgrp(who), signo)
        raise SyscallError(ERESTARTSYS)

    def read(self, n: int, nonblocking: bool, reader=None) -> bytes:
        if self.hung_up:
            return b""
        self.check_read()
        if n == 0:
            return b""
        if self.icanon:
            if not self.lines:
                if nonblocking:
                    raise SyscallError(errno.EAGAIN)
                raise WouldBlock(self.waitq)
            line = self.lines[0]
            data = line[:n]
            if len(line) > n:
                self.lines[0] = line[n:]
            else:
                self.lines.pop(0)
            self._after_read()
            return data
        return self._read_raw(n, nonblocking, reader)

    def _read_raw(self, n, nonblocking, reader):
        t = self.termios
        vmin, vtime = t.cc[VMIN], t.cc[VTIME]
        have = len(self.raw)
        key = id(reader)
        deadline = None
        if vtime and not vmin:                  # a read timer: from the call's start
            start = self._vtime_start.setdefault(key, self.host.now_ns())
            deadline = start + vtime * 100_000_000
            ready = have > 0 or self.host.now_ns() >= deadline
        elif vtime:                             # an inter-byte timer, after the first byte
            if have:
                deadline = self.last_rx_ns + vtime * 100_000_000
            ready = have >= min(vmin, n) or (have and self.host.now_ns() >= deadline)
        else:
            ready = have >= min(vmin, n) if vmin else True
        if not ready:
            if nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq, deadline=deadline)
        self._vtime_start.pop(key, None)
        data = bytes(self.raw[:n])
        del self.raw[:n]
        self._after_read()
        return data

    def _after_read(self):
        if self.pending:
            self._process()
        if self.on_input_room is not None:
            self.on_input_room()

    # --- writing ---------------------------------------------------------------------
    def write(self, data: bytes, nonblocking: bool) -> int:
        if self.hung_up:
            raise SyscallError(errno.EIO)
        if self._l(L.TOSTOP):
            self.check_change()
        if not data:
            return 0
        if self.stopped or self._output_room() <= 0:
            if nonblocking:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock(self.waitq)
        done = 0
        for c in data:
            # Output processing may grow a byte (\n -> \r\n): write byte by byte
            # while the driver has room for the largest expansion.
            if self._output_room() < 8:
                break
            self._output(self._opost(bytes([c])))
            done += 1
        return done

    # --- poll ----------------------------------------------------------------------------
    def poll(self) -> int:
        if self.hung_up:
            return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM
        ev = 0
        if self._readable(for_poll=True):
            ev |= POLLIN | POLLRDNORM
        if not self.stopped and self._output_room() > 0:
            ev |= POLLOUT | POLLWRNORM
        return ev

    # --- sessions -------------------------------------------------------------------------
    def open_by(self, who, noctty: bool):
        """An open of this tty: it becomes the opener's controlling terminal when the
        opener leads a session that has none and the tty has no session
        (tty_open_proc_set_tty)."""
        h = self.host
        if self.exclusive and not h.capable(who):
            raise SyscallError(errno.EBUSY)
        if (not noctty and h.is_session_leader(who) and h.ctty(who) is None
                and self.session is None):
            self._set_ctty(who)

    def _set_ctty(self, who):
        h = self.host
        self.session = h.sid(who)
        self.pgrp = h.pgrp(who)
        h.set_ctty(who, self)

    def disassociate(self, on_exit: bool):
        """The session leader leaves its terminal (TIOCNOTTY, or its exit):
        SIGHUP (and SIGCONT unless exiting) to the foreground group, and the whole
        session loses its controlling terminal (disassociate_ctty)."""
        h = self.host
        if self.pgrp is not None:
            h.signal_pgrp(self.pgrp, SIGHUP)
            if not on_exit:
                h.signal_pgrp(self.pgrp, SIGCONT)
        if self.session is not None:
            h.clear_session_tty(self.session, self)
        self.session = self.pgrp = None

    def hangup(self):
        """The other side went away (a pty master closed): tty_vhangup.  The session
        leader gets SIGHUP and SIGCONT, the session loses its terminal."""
        if self.hung_up:
            return
        self.hung_up = True
        h = self.host
        if self.session is not None:
            h.signal_session_leader(self.session, SIGHUP)
            h.signal_session_leader(self.session, SIGCONT)
            h.clear_session_tty(self.session, self)
        self.session = self.pgrp = None
        self.waitq.notify()

    # --- ioctl -------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int, mem, *, readable=True, master=False) -> int:
        """The terminal ioctls (tty_ioctl, tty_mode_ioctl, n_tty_ioctl).  ``master``:
        called through a pty master, which acts on its slave without being anyone's
        controlling terminal."""
        h = self.host
        if self.hung_up and not master:          # hung_up_tty_ioctl
            raise SyscallError(errno.ENOTTY if request == TIOCSPGRP else errno.EIO)
        t = self.termios
        if request == TCGETS:
            mem.write(arg, t.pack())
            return 0
        if request in _TCSETS or request in (TCSETA, TCSETAW, TCSETAF):
            self.check_change()
            if request in (TCSETA, TCSETAW, TCSETAF):
                raw = mem.read(arg, _TERMIO.size)
                new = Termios.unpack(t.pack())
                new.set_termio(raw)
            else:
                new = Termios.unpack(mem.read(arg, _TERMIOS.size))
            if request in (TCSETSF, TCSETAF):
                self.flush_input()
            self._set_termios(new)
            return 0
        if request == TCGETA:
            mem.write(arg, t.pack_termio())
            return 0
        if request == TIOCGWINSZ:
            mem.write(arg, _WINSIZE.pack(*self.winsize))
            return 0
        if request == TIOCSWINSZ:
            ws = _WINSIZE.unpack(mem.read(arg, _WINSIZE.size))
            if ws != self.winsize:
                self.winsize = ws
                if self.pgrp is not None:
                    h.signal_pgrp(self.pgrp, SIGWINCH)
            return 0
        if request == FIONREAD:
            mem.write(arg, _INT.pack(min(self.available(), 0x7FFFFFFF)))
            return 0
        if request == TIOCOUTQ:
            mem.write(arg, _INT.pack(0))
            return 0
        if request == TIOCGPGRP:
            if not master and h.ctty(h.current()) is not self:
                raise SyscallError(errno.ENOTTY)
            mem.write(arg, _INT.pack(self.pgrp or 0))
            return 0
        if request == TIOCSPGRP:
            return self._tiocspgrp(arg, mem, master)
        if request == TIOCGSID:
            if not master and h.ctty(h.current()) is not self:
                raise SyscallError(errno.ENOTTY)
            if self.session is None:
                raise SyscallError(errno.ENOTTY)
            mem.write(arg, _INT.pack(self.session))
            return 0
        if request == TIOCSCTTY:
            return self._tiocsctty(arg, readable)
        if request == TIOCNOTTY:
            who = h.current()
            if h.ctty(who) is not self:
                raise SyscallError(errno.ENOTTY)
            if h.is_session_leader(who):
                self.disassociate(on_exit=False)
            h.set_ctty(who, None)
            return 0
        if request == TCFLSH:
            self.check_change()
            if arg == TCIFLUSH:
                self.flush_input()
            elif arg == TCOFLUSH:
                self.flush_output()
            elif arg == TCIOFLUSH:
                self.flush_input()
                self.flush_output()
            else:
                raise SyscallError(errno.EINVAL)
            return 0
        if request in (TCSBRK, TCSBRKP):
            self.check_change()
            return 0                      # output is never waiting on a line
        if request == TCXONC:
            self.check_change()
            if arg == TCOOFF:
                self.stopped = True
            elif arg == TCOON:
                self._start_output()
            elif arg in (TCIOFF, TCION):
                ch = t.cc[VSTOP if arg == TCIOFF else VSTART]
                if ch != _DISABLED:
                    self._output(bytes([ch]))         # tty_send_xchar: sent as is
            else:
                raise SyscallError(errno.EINVAL)
            return 0
        if request == TIOCGETD:
            mem.write(arg, _INT.pack(t.line))
            return 0
        if request == TIOCSETD:
            disc = _INT.unpack(mem.read(arg, 4))[0]
            if disc != 0:
                raise SyscallError(errno.EINVAL)      # only N_TTY
            return 0
        if request == TIOCEXCL:
            self.exclusive = True
            return 0
        if request == TIOCNXCL:
            self.exclusive = False
            return 0
        if request == TIOCGEXCL:
            mem.write(arg, _INT.pack(int(self.exclusive)))
            return 0
        if request == TIOCSTI:
            who = h.current()
            if h.ctty(who) is not self and not h.capable(who):
                raise SyscallError(errno.EPERM)
            ch = mem.read(arg, 1)
            self.pending += ch
            self._process()
            return 0
        if request == TIOCVHANGUP:
            if not h.capable(h.current()):
                raise SyscallError(errno.EPERM)
            self.hangup()
            return 0
        raise SyscallError(errno.ENOTTY)

    def _set_termios(self, new: Termios):
        old = self.termios
        was_canon = bool(old.lflag & L.ICANON)
        self.termios = new
        now_canon = bool(new.lflag & L.ICANON)
        if was_canon and not now_canon:
            self.raw[:0] = b"".join(self.lines) + bytes(self.cur)
            self.lines.clear()
            self.cur.clear()
        elif now_canon and not was_canon:
            self.cur[:0] = self.raw
            self.raw.clear()
        if not new.iflag & I.IXON:
            self._start_output()
        self._process()
        self.waitq.notify()

    def _tiocspgrp(self, arg, mem, master):
        h = self.host
        who = h.current()
        try:
            if not master:
                self.check_change()
        except SyscallError as e:
            if e.errno == errno.EIO:
                raise SyscallError(errno.ENOTTY) from None
            raise
        if h.ctty(who) is not self or self.session != h.sid(who):
            raise SyscallError(errno.ENOTTY)
        pgid = _INT.unpack(mem.read(arg, 4))[0]
        if pgid < 0:
            raise SyscallError(errno.EINVAL)
        sid = h.pgrp_session(pgid)
        if sid is None:
            raise SyscallError(errno.ESRCH)
        if sid != self.session:
            raise SyscallError(errno.EPERM)
        self.pgrp = pgid
        return 0

    def _tiocsctty(self, arg, readable):
        h = self.host
        who = h.current()
        if h.is_session_leader(who) and self.session == h.sid(who):
            return 0
        if not h.is_session_leader(who) or h.ctty(who) is not None:
            raise SyscallError(errno.EPERM)
        if self.session is not None:
            if arg == 1 and h.capable(who):
                h.clear_session_tty(self.session, self)
            else:
                raise SyscallError(errno.EPERM)
        if not readable and not h.capable(who):
            raise SyscallError(errno.EPERM)
        self._set_ctty(who)
        return 0


class TtyFile(File):
    """An open description of a terminal (a pty slave, the console)."""

    seekable = False
    blocking_stream = True

    def __init__(self, tty: Tty, node, flags: int, path: bytes):
        super().__init__(node, flags, path)
        self.tty = tty
        self.waitq = tty.waitq

    def read_for(self, caller, n):
        self.check_readable()
        return self.tty.read(n, self.nonblocking, reader=caller)

    def read(self, n):
        return self.read_for(None, n)

    def write(self, data):
        self.check_writable()
        return self.tty.write(data, self.nonblocking)

    def pread(self, n, off):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, off):
        raise SyscallError(errno.ESPIPE)

    def lseek(self, off, whence):
        raise SyscallError(errno.ESPIPE)

    def ftruncate(self, size):
        raise SyscallError(errno.EINVAL)

    def read_all(self):
        raise SyscallError(errno.EACCES)

    def isatty(self):
        return True

    def poll(self):
        return self.tty.poll()

    def ioctl(self, request, arg, mem=None):
        return self.tty.ioctl(request, arg, mem, readable=self.readable)

    def reopen(self, flags, caller):
        return self.tty.open_file(flags, self.path)
