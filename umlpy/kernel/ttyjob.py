"""The kernel's side of terminals: :class:`TtyJobHost` answers a tty's questions
about processes (``umlpy.fs.tty.JobHost``), and :func:`session_leader_exit`
is what an exiting session leader does to its controlling terminal.

A process's controlling terminal is ``ThreadGroup.tty`` (Linux's
``signal->tty``): set for the process that acquires it (TIOCSCTTY, or an
open by a session leader without one), copied by fork, dropped by setsid,
and cleared in every process of the session when the session leader lets
it go or the terminal hangs up.
"""

from umlpy.abi.signal import SI_KERNEL as _SI_KERNEL, Sig

from . import signals as sigs

SIGHUP, SIGCONT = int(Sig.SIGHUP), int(Sig.SIGCONT)


def _live(k):
    return [g for g in k.groups.values() if not g.zombie]


SI_KERNEL = int(_SI_KERNEL)


def kernel_siginfo(signo: int):
    """The info of a signal the kernel itself sends (SEND_SIG_PRIV: SI_KERNEL), in the
    form the kernel's signal code keeps (a SigInfo once the signals work has it)."""
    cls = getattr(sigs, "SigInfo", None)
    return cls(signo, SI_KERNEL) if cls is not None else (signo, SI_KERNEL, 0, 0, 0)


class TtyJobHost:
    """JobHost for the ttys of kernel ``k``; ``who`` is a Task."""

    def __init__(self, k):
        self.k = k

    def current(self):
        return self.k.current

    def now_ns(self) -> int:
        return self.k.now_ns()

    @staticmethod
    def _group(who):
        return who.group if who is not None else None

    def pgrp(self, who) -> int:
        return who.group.pgid

    def sid(self, who) -> int:
        return who.group.sid

    def is_session_leader(self, who) -> bool:
        return who is not None and who.group.sid == who.group.tgid

    def ctty(self, who):
        return who.group.tty if who is not None else None

    def set_ctty(self, who, tty):
        who.group.tty = tty

    def clear_session_tty(self, sid: int, tty):
        for g in self.k.groups.values():
            if g.sid == sid and g.tty is tty:
                g.tty = None

    def signal_pgrp(self, pgid: int, signo: int):
        for g in _live(self.k):
            if g.pgid == pgid:
                self.k.send_signal(g, signo, kernel_siginfo(signo))

    def signal_session_leader(self, sid: int, signo: int):
        g = self.k.groups.get(sid)
        if g is not None and not g.zombie and g.sid == sid:
            self.k.send_signal(g, signo, kernel_siginfo(signo))

    def is_orphaned_pgrp(self, pgid: int) -> bool:
        """No member has a parent in another group of the same session (init aside)."""
        for g in _live(self.k):
            if g.pgid != pgid:
                continue
            p = g.parent
            if p is None or p.tgid == 1:
                continue
            if p.pgid != pgid and p.sid == g.sid:
                return False
        return True

    def ignores_or_blocks(self, who, signo: int) -> bool:
        act = who.group.handlers.actions[signo]
        return act.handler == sigs.SIG_IGN or bool(who.sigmask & sigs.bit(signo))

    def pgrp_session(self, pgid: int):
        for g in self.k.groups.values():
            if g.pgid == pgid and not g.reaped:
                return g.sid
        return None

    def capable(self, who) -> bool:
        return who is not None and who.group.creds.euid == 0


def session_leader_exit(k, g):
    """A session leader with a controlling terminal exits (disassociate_ctty(1))."""
    tty = g.tty
    if tty is not None and g.sid == g.tgid and tty.session == g.sid:
        tty.disassociate(on_exit=True)
    g.tty = None
