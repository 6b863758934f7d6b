"""memfs.SparseData (the contents of in-memory files) against a plain bytearray."""

import random

from umlpy.fs.memfs import _BLOCK, SparseData


def test_sparse_data_matches_a_bytearray():
    rnd = random.Random(7)
    ref, d = bytearray(), SparseData()
    for _ in range(400):
        if rnd.random() < 0.8:
            off, n = rnd.randrange(0, 3 * _BLOCK), rnd.randrange(0, _BLOCK // 3)
            data = bytes(rnd.getrandbits(8) for _ in range(64)) * (n // 64) + b"x" * (n % 64)
            if off > len(ref):
                ref.extend(bytes(off - len(ref)))
            ref[off:off + len(data)] = data
            d.write(off, data)
        else:
            size = rnd.randrange(0, 4 * _BLOCK)
            del ref[size:]
            ref.extend(bytes(size - len(ref)))
            d.truncate(size)
        off, n = rnd.randrange(0, 4 * _BLOCK), rnd.randrange(0, 2 * _BLOCK)
        assert d.read(off, n) == bytes(ref[off:off + n])
        assert len(d) == len(ref)
    assert bytes(d) == bytes(ref)


def test_a_write_far_out_holds_only_its_bytes():
    d = SparseData(b"head")
    d.write(5 << 30, b"abc")
    assert len(d) == (5 << 30) + 3
    assert d.read(5 << 30, 10) == b"abc" and d.read(1 << 30, 4) == bytes(4)
    assert d.allocated() == 2 * 4096             # a page each, as tmpfs
    d.truncate(2)
    assert bytes(d) == b"he" and d.allocated() == 4096
