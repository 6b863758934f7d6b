"""Event files and epoll at the fs layer: eventfd counting, epoll's ready list
(level, edge, oneshot, release of watched files, nesting) and timerfd on a fake clock."""

import errno
import os
import struct

import pytest

from umlpy.abi.events import EPOLLET, EPOLLONESHOT
from umlpy.abi.poll import POLLIN, POLLOUT
from umlpy.errors import SyscallError
from umlpy.fs import WouldBlock, make_pipe
from umlpy.fs.epoll import EpollFile, check_nesting
from umlpy.fs.eventfd import EventFile
from umlpy.fs.timerfd import TimerFile
from umlpy.waiter import Timer


def u64(v):
    return struct.pack("<Q", v)


def test_eventfd_counter_and_semaphore():
    e = EventFile(2, os.O_RDWR | os.O_NONBLOCK, semaphore=False)
    assert e.poll() == POLLIN | POLLOUT
    assert e.read(8) == u64(2)
    with pytest.raises(SyscallError) as ex:
        e.read(8)
    assert ex.value.errno == errno.EAGAIN
    assert e.write(u64(3) + b"junk") == 8
    with pytest.raises(SyscallError) as ex:
        e.write(u64((1 << 64) - 1))
    assert ex.value.errno == errno.EINVAL
    with pytest.raises(SyscallError) as ex:
        e.write(u64((1 << 64) - 4))          # would reach the maximum: waits (EAGAIN here)
    assert ex.value.errno == errno.EAGAIN
    s = EventFile(2, os.O_RDWR, semaphore=True)
    assert s.read(8) == u64(1) and s.read(8) == u64(1)
    with pytest.raises(WouldBlock):
        s.read(8)
    with pytest.raises(SyscallError) as ex:
        s.read(7)
    assert ex.value.errno == errno.EINVAL


def _ref(f):
    return f.get_ref()


def test_epoll_level_edge_oneshot():
    r, w = make_pipe()
    _ref(r), _ref(w)
    ep = _ref(EpollFile(os.O_RDWR))
    ep.add(r, 3, POLLIN, 7)
    assert ep.collect(8) == []
    w.write(b"abc")
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 7)]
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 7)]              # level: still readable
    ep.modify(r, 3, POLLIN | EPOLLET, 8)
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 8)]
    assert ep.collect(8) == []                         # edge: reported once
    r.read(1)
    assert ep.collect(8) == []                         # a read is no new edge for readers
    w.write(b"d")
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 8)]
    ep.modify(r, 3, POLLIN | EPOLLONESHOT, 9)
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 9)]
    w.write(b"e")
    assert ep.collect(8) == []                         # disarmed until MOD
    ep.modify(r, 3, POLLIN | EPOLLONESHOT, 9)
    assert [x[:2] for x in ep.collect(8)] == [(POLLIN, 9)]


def test_epoll_item_goes_with_the_file():
    r, w = make_pipe()
    _ref(r), _ref(w)
    ep = _ref(EpollFile(os.O_RDWR))
    ep.add(w, 4, POLLOUT, 1)
    assert [x[:2] for x in ep.collect(8)] == [(POLLOUT, 1)]
    w.put_ref()
    assert ep.items == {} and ep.collect(8) == []
    assert len(r.waitq) == 0


def test_epoll_round_robin_and_maxevents():
    ep = _ref(EpollFile(os.O_RDWR))
    files = [_ref(EventFile(1, os.O_RDWR, False)) for _ in range(3)]
    for i, f in enumerate(files):
        ep.add(f, 10 + i, POLLIN, i)
    assert [d for _, d, _ in ep.collect(2)] == [0, 1]
    assert [d for _, d, _ in ep.collect(2)] == [2, 0]


def test_epoll_nesting_loops_and_depth():
    a, b = _ref(EpollFile(0)), _ref(EpollFile(0))
    a.add(b, 4, POLLIN, 0)
    with pytest.raises(SyscallError) as ex:
        check_nesting(b, a)
    assert ex.value.errno == errno.ELOOP
    chain = [_ref(EpollFile(0))]
    for i in range(1, 6):
        e = _ref(EpollFile(0))
        try:
            check_nesting(e, chain[-1])
        except SyscallError as err:
            assert err.errno == errno.ELOOP and i == 5
            break
        e.add(chain[-1], i, POLLIN, 0)
        chain.append(e)
    assert len(chain) == 5
    # Readiness travels up through nested epolls.
    r, w = make_pipe()
    _ref(r), _ref(w)
    chain[0].add(r, 9, POLLIN, 0)
    assert chain[-1].poll() == 0
    w.write(b"x")
    assert chain[-1].poll() & POLLIN


class FakeHost:
    def __init__(self):
        self.mono = 10 ** 9
        self.timers = []

    def now_ns(self):
        return self.mono

    def realtime_ns(self):
        return self.mono + 10 ** 18

    def add_timer(self, deadline, cb):
        tm = Timer(deadline, cb)
        self.timers.append(tm)
        return tm

    def advance(self, ns):
        self.mono += ns
        for tm in list(self.timers):
            if not tm.cancelled and tm.deadline <= self.mono:
                fn = tm.callback
                tm.cancel()
                fn()


def test_timerfd_oneshot_periodic_and_absolute():
    h = FakeHost()
    t = TimerFile(h, False, os.O_RDWR | os.O_NONBLOCK)
    with pytest.raises(SyscallError):
        t.read(8)
    t.settime(0, 0, 100)
    assert t.gettime() == (0, 100)
    h.advance(99)
    assert t.poll() == 0
    h.advance(1)
    assert t.poll() == POLLIN and t.read(8) == u64(1)
    assert t.gettime() == (0, 0)
    t.settime(0, 10, 10)
    h.advance(10)
    assert t.read(8) == u64(1)
    h.advance(35)                 # 3 more periods, the timer fires once and is forwarded on read
    assert t.read(8) == u64(3)
    assert t.gettime() == (10, 5)
    rt = TimerFile(h, True, os.O_RDWR | os.O_NONBLOCK)
    rt.settime(1, 0, h.realtime_ns() - 5)            # TFD_TIMER_ABSTIME in the past: due now
    assert rt.read(8) == u64(1)
    rt.settime(1, 0, h.realtime_ns() + 50)
    h.advance(50)
    assert rt.read(8) == u64(1)


def test_epoll_requeue_after_a_fault():
    """epoll_wait whose buffer faults reports nothing: the events stay, oneshot ones armed."""
    ep = _ref(EpollFile(0))
    a, b = _ref(EventFile(1, os.O_RDWR, False)), _ref(EventFile(1, os.O_RDWR, False))
    ep.add(a, 3, POLLIN | EPOLLONESHOT, 1)
    ep.add(b, 4, POLLIN | EPOLLET, 2)
    got = ep.collect(8)
    assert [d for _, d, _ in got] == [1, 2] and ep.collect(8) == []
    ep.requeue([item for _, _, item in got])
    assert [d for _, d, _ in ep.collect(8)] == [1, 2]
