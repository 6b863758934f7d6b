"""ExtentMap: the range structure under the page table, the host cache and frame refcounts,
checked against a plain per-unit dict model."""

import random

from umlpy.mm.extents import ExtentMap

STEP = 4096


def model_of(m: ExtentMap) -> dict:
    return {x: v for s, e, v0 in m.all_items() for x, v in ((x, v0 + (x - s) * m.step) for x in range(s, e))}


def check_invariants(m: ExtentMap):
    assert m.starts == sorted(m.starts)
    for i in range(len(m)):
        assert m.starts[i] < m.ends[i]
        if i + 1 < len(m):
            assert m.ends[i] <= m.starts[i + 1]
            # Maximal: a neighbour that continues would have been merged.
            assert not (m.ends[i] == m.starts[i + 1]
                        and m.vals[i] + (m.ends[i] - m.starts[i]) * m.step == m.vals[i + 1])
    assert m.units == sum(e - s for s, e in zip(m.starts, m.ends))


def test_insert_merges_continuing_neighbours():
    m = ExtentMap(STEP)
    m.insert(10, 20, 0x10000)
    m.insert(30, 40, 0x10000 + 20 * STEP)
    m.insert(20, 30, 0x10000 + 10 * STEP)      # continues both: one extent
    assert m.all_items() == [(10, 40, 0x10000)]
    m.insert(40, 41, 0x999000)                 # does not continue
    assert len(m) == 2 and m.units == 31
    assert m.get(25) == 0x10000 + 15 * STEP and m.get(40) == 0x999000 and m.get(41) is None


def test_remove_items_gaps_and_apply():
    m = ExtentMap(STEP)
    m.insert(0, 100, 0)
    assert m.remove(10, 20) == [(10, 20, 10 * STEP)]
    assert m.items(5, 25) == [(5, 10, 5 * STEP), (20, 25, 20 * STEP)]
    assert m.gaps(5, 25) == [(10, 20)]
    assert m.count(0, 100) == 90
    m.apply(0, 100, lambda v: v | 1)
    assert m.get(50) == 50 * STEP | 1 and len(m) == 2
    m.apply(30, 40, lambda v: v & ~1)
    assert len(m) == 4
    m.apply(30, 40, lambda v: v | 1)          # back as it was: merged again
    assert len(m) == 2
    check_invariants(m)


def test_constant_values_for_refcounts():
    m = ExtentMap(0)
    m.insert(0, 8, 1)
    m.apply(2, 4, lambda v: v + 1)
    assert m.all_items() == [(0, 2, 1), (2, 4, 2), (4, 8, 1)]
    m.apply(2, 4, lambda v: v - 1)
    assert m.all_items() == [(0, 8, 1)]


def test_random_operations_match_a_dict_model():
    rnd = random.Random(7)
    for step in (0, STEP):
        m = ExtentMap(step)
        model = {}
        for _ in range(3000):
            lo = rnd.randrange(0, 300)
            hi = lo + rnd.randrange(1, 40)
            op = rnd.random()
            if op < 0.35:
                base = rnd.choice([0, 7, 0x40000, rnd.randrange(0, 1 << 20) * STEP])
                m.assign(lo, hi, base)
                for x in range(lo, hi):
                    model[x] = base + (x - lo) * step
            elif op < 0.6:
                got = m.remove(lo, hi)
                assert model_of_items(got, step) == {x: model[x] for x in range(lo, hi) if x in model}
                for x in range(lo, hi):
                    model.pop(x, None)
            elif op < 0.8:
                m.apply(lo, hi, lambda v: v ^ 2)
                for x in range(lo, hi):
                    if x in model:
                        model[x] ^= 2
            else:
                assert m.gaps(lo, hi) == model_gaps(model, lo, hi)
                assert model_of_items(m.items(lo, hi), step) == {x: model[x] for x in range(lo, hi)
                                                                 if x in model}
            x = rnd.randrange(0, 340)
            assert m.get(x) == model.get(x) and (x in m) == (x in model)
        assert model_of(m) == model
        check_invariants(m)
        c = m.copy()
        c.remove(0, 1000)
        assert model_of(m) == model and not c


def model_of_items(items, step):
    return {x: v + (x - s) * step for s, e, v in items for x in range(s, e)}


def model_gaps(model, lo, hi):
    out, start = [], None
    for x in range(lo, hi):
        if x not in model and start is None:
            start = x
        if x in model and start is not None:
            out.append((start, x))
            start = None
    if start is not None:
        out.append((start, hi))
    return out
