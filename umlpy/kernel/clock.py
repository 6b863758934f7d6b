"""The guest's clocks: the host's, or a virtual one for deterministic runs.

A :class:`VirtualClock` starts at a fixed date and moves only when the guest
kernel says so: by a fixed step per system call and instantly to the next
timer when every task sleeps.  Two runs of the same guest then see the same
times, and their traces are byte-identical.
"""


#: 2000-01-01T00:00:00Z, the virtual epoch of deterministic runs.
VIRTUAL_EPOCH_NS = 946684800 * 10 ** 9
#: How far the virtual clock moves for each system call.
STEP_NS = 1000


class VirtualClock:
    virtual = True

    def __init__(self, step_ns: int = STEP_NS):
        self.mono = 10 ** 9
        self.step_ns = step_ns

    def monotonic_ns(self) -> int:
        return self.mono

    def realtime_ns(self) -> int:
        return VIRTUAL_EPOCH_NS + self.mono

    def tick(self, n: int = 1):
        self.mono += self.step_ns * n

    def advance_to(self, mono_ns: int):
        if mono_ns > self.mono:
            self.mono = mono_ns


class SeededRandom:
    """Deterministic bytes for getrandom, AT_RANDOM and /dev/urandom."""

    def __init__(self, seed: int = 0):
        import random               # only deterministic runs need it
        self.rng = random.Random(seed)

    def __call__(self, n: int) -> bytes:
        return self.rng.randbytes(n)
