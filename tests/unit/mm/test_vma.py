from umlpy.mm.vma import Vma, VmaSet, VmFlag

P = 0x1000


def _set(*ranges, prot=3):
    s = VmaSet()
    for a, b in ranges:
        s.insert(Vma(a * P, b * P, prot), merge=False)
    return s


def test_find_and_overlapping():
    s = _set((16, 20), (30, 40))
    assert s.find(16 * P).start == 16 * P
    assert s.find(20 * P) is None
    assert s.find(39 * P + 5).start == 30 * P
    assert [v.start // P for v in s.overlapping(0, 100 * P)] == [16, 30]
    assert [v.start // P for v in s.overlapping(19 * P, 31 * P)] == [16, 30]
    assert s.overlapping(20 * P, 30 * P) == []
    assert s.is_free(20 * P, 30 * P)
    assert not s.covers(16 * P, 31 * P)
    assert s.covers(31 * P, 33 * P)
    assert s.next_after(25 * P).start == 30 * P
    assert s.prev_before(25 * P).start == 16 * P


def test_remove_range_splits_edges():
    s = _set((16, 32))
    removed = s.remove_range(20 * P, 24 * P)
    assert [(v.start // P, v.end // P) for v in removed] == [(20, 24)]
    assert [(v.start // P, v.end // P) for v in s] == [(16, 20), (24, 32)]


def test_split_keeps_file_offsets_and_shared_refs():
    class Obj:
        refs = 1

        def get(self):
            self.refs += 1
            return self

    o = Obj()
    s = VmaSet()
    s.insert(Vma(16 * P, 32 * P, 1, VmFlag.SHARED, backing=object(), pgoff=5, shared_obj=o))
    s.split(20 * P)
    a, b = list(s)
    assert (a.pgoff, b.pgoff) == (5, 9)
    assert o.refs == 2


def test_merge_adjacent_anonymous():
    s = VmaSet()
    s.insert(Vma(16 * P, 20 * P, 3))
    s.insert(Vma(24 * P, 28 * P, 3))
    s.insert(Vma(20 * P, 24 * P, 3))
    assert [(v.start // P, v.end // P) for v in s] == [(16, 28)]
    s.insert(Vma(28 * P, 30 * P, 1))           # other prot
    s.insert(Vma(30 * P, 32 * P, 1, name="[heap]"))  # other name
    s.insert(Vma(32 * P, 34 * P, 1, backing=object()))  # file
    assert len(s) == 4


def test_merge_range_after_prot_change():
    s = _set((16, 20), (20, 24))
    list(s)[1].prot = 3
    s.merge_range(16 * P, 24 * P)
    assert len(s) == 1
