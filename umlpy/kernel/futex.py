"""The futex hash table: waiters by key, as Linux's futex_hash_bucket.

A futex word is found by its key (Linux's ``get_futex_key``): a word in a
MAP_SHARED mapping is keyed by the shared object and its offset in it, so
that every address space mapping that page (another process after fork, a
second mm of the same process) meets the same waiters; a private word
(FUTEX_PRIVATE_FLAG, or a private mapping) is keyed by (mm, address).

One vCPU runs one task at a time, so the compare-and-block of FUTEX_WAIT is
atomic by construction: no other guest code runs between the read of the
futex word and the parking of the task.
"""

from umlpy.abi.futex import FUTEX_BITSET_MATCH_ANY
from umlpy.abi.memory import PAGE_SIZE
from umlpy.waiter import Queue

from .restart import RestartBlock

_OFF = PAGE_SIZE - 1


def futex_key(mm, addr: int, private: bool):
    """The key of the futex word at ``addr`` of ``mm``."""
    if not private:
        v = mm.find_vma(addr)
        if v is not None and v.is_shared and v.shared_obj is not None:
            return (v.shared_obj, (v.pgoff_at(addr) * PAGE_SIZE) | (addr & _OFF))
    return (mm.key_mm(addr), addr)


class FutexWaiter(RestartBlock):
    """A task waiting on a futex word: its entry in the table and its call's restart block."""

    __slots__ = ("table", "key", "bitset", "queue", "woken", "deadline")

    def __init__(self, table, key, bitset, deadline):
        self.table = table
        self.key = key
        self.bitset = bitset
        self.queue = Queue()
        self.woken = False
        self.deadline = deadline

    def cancel(self):
        self.table.remove(self)


class FutexTable:
    """Every futex waiter of one guest machine."""

    __slots__ = ("_q",)

    def __init__(self):
        self._q: dict = {}

    def __len__(self):
        """How many waiters are queued (for tests: no registration may leak)."""
        return sum(len(v) for v in self._q.values())

    def enqueue(self, w: FutexWaiter) -> None:
        self._q.setdefault(w.key, []).append(w)

    def remove(self, w: FutexWaiter) -> None:
        """Take ``w`` off its queue (no-op when it was already woken or moved)."""
        lst = self._q.get(w.key)
        if lst and w in lst:
            lst.remove(w)
            if not lst:
                del self._q[w.key]

    def wake_key(self, key, n: int, bitset: int = FUTEX_BITSET_MATCH_ANY) -> int:
        waiters = self._q.get(key)
        if not waiters:
            return 0
        woken = 0
        keep = []
        for w in waiters:
            if woken < n and w.bitset & bitset:
                w.woken = True
                w.queue.notify()
                woken += 1
            else:
                keep.append(w)
        if keep:
            self._q[key] = keep
        else:
            del self._q[key]
        return woken

    def wake(self, mm, addr: int, n: int, bitset: int = FUTEX_BITSET_MATCH_ANY,
             private: bool = False) -> int:
        """Wake up to ``n`` waiters of the word at ``addr`` whose bitset meets ``bitset``."""
        return self.wake_key(futex_key(mm, addr, private), n, bitset)

    def requeue(self, key, key2, nwake: int, nreq: int) -> int:
        """FUTEX_REQUEUE: wake ``nwake``, move up to ``nreq`` of the rest to ``key2``."""
        woken = self.wake_key(key, nwake)
        rest = self._q.pop(key, [])
        moved, stay = rest[:nreq], rest[nreq:]
        if stay:
            self._q[key] = stay
        for w in moved:
            w.key = key2
        if moved:
            self._q.setdefault(key2, []).extend(moved)
        return woken + len(moved)
