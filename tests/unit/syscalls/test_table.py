"""The syscall table: a row for every number, explicit ENOSYS rows, one registration per handler."""

import errno
import inspect

import pytest

from umlpy.abi.extensions import EXTENSION_NAMES
from umlpy.abi.syscall_nr import SYSCALL_NAMES
from umlpy.abi.sysargs import SysArgs, to_u64
from umlpy.errors import SyscallError
from umlpy.syscalls import default_table, full_table
from umlpy.syscalls.table import LazyRow, Row, Support, build_table, enosys, lazy_table, partial, supported

REQUIRED = """write writev read readv pread64 openat close lseek fstat newfstatat statx exit exit_group brk
mmap munmap mprotect mremap madvise arch_prctl set_tid_address set_robust_list rseq uname getpid gettid
getppid getuid geteuid getgid getegid setuid setgid readlink readlinkat prlimit64 getrandom clock_gettime
gettimeofday ioctl sched_getaffinity rt_sigaction rt_sigprocmask""".split()

M64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def table():
    return default_table()


def test_every_linux_number_has_its_row(table):
    for nr, name in SYSCALL_NAMES.items():
        row = table.lookup(nr)
        assert isinstance(row, Row)
        assert (row.nr, row.name) == (nr, name)
        assert table.name(nr) == name


def test_every_extension_number_has_its_row(table):
    assert EXTENSION_NAMES
    for nr, name in EXTENSION_NAMES.items():
        assert nr >= 1000
        row = table.lookup(nr)
        assert (row.nr, row.name) == (nr, name)


def test_enosys_rows_answer_enosys(table):
    rows = [r for r in table if r.support == Support.ENOSYS]
    assert rows
    for row in rows:
        with pytest.raises(SyscallError) as ei:
            row.handler(None, SysArgs((0,) * 6))
        assert ei.value.errno == errno.ENOSYS, row.name
        assert row.note


@pytest.mark.parametrize("nr", [335, 462, 500, 999, 1007, 1024, 1 << 20, 1 << 40, M64, -1])
def test_unknown_numbers_get_an_enosys_row(table, nr):
    if nr in SYSCALL_NAMES or nr in EXTENSION_NAMES:
        pytest.skip("%d is a known number here" % nr)
    row = table.lookup(nr)
    assert row.support == Support.ENOSYS
    assert row.nr == nr
    assert row.name                      # visible in traces under some name
    with pytest.raises(SyscallError) as ei:
        row.handler(None, SysArgs((0,) * 6))
    assert ei.value.errno == errno.ENOSYS
    assert table.lookup(nr) is row       # the same row every time


def test_iteration_gives_each_known_row_once(table):
    rows = list(table)
    assert len({r.nr for r in rows}) == len(rows)
    assert {r.nr for r in rows} == set(SYSCALL_NAMES) | set(EXTENSION_NAMES)


def test_implemented_handlers_are_plain_functions_of_t_and_args(table):
    for row in table:
        if row.support == Support.ENOSYS:
            continue
        h = row.handler
        assert inspect.isfunction(h), (row.name, h)
        params = list(inspect.signature(h).parameters.values())
        assert len(params) == 2, (row.name, params)
        assert all(p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty for p in params), row.name


#: Calls that share one handler on purpose (same semantics in umlpy).
SHARED_HANDLERS = [{"fsync", "fdatasync"}, {"mlock", "munlock"}, {"mlockall", "munlockall"}]


def test_a_handler_serves_two_names_only_on_purpose(table):
    names = {}
    for row in table:
        if row.support != Support.ENOSYS:
            names.setdefault(id(row.handler), set()).add(row.name)
    shared = [n for n in names.values() if len(n) > 1]
    assert sorted(map(sorted, shared)) == sorted(map(sorted, SHARED_HANDLERS))


def test_partial_rows_say_what_is_missing(table):
    for row in table:
        if row.support == Support.PARTIAL:
            assert row.note.strip(), row.name


@pytest.mark.parametrize("name", REQUIRED)
def test_required_calls_are_implemented(table, name):
    nr = next(n for n, s in SYSCALL_NAMES.items() if s == name)
    row = table.lookup(nr)
    assert row.support != Support.ENOSYS, name
    assert row.handler is not None


def _h(t, a):
    return 0


def test_build_table_refuses_a_name_registered_twice():
    with pytest.raises(ValueError, match="getpid"):
        build_table([supported("getpid", _h)], [supported("getpid", _h)])
    with pytest.raises(ValueError, match="read"):
        build_table([supported("read", _h), partial("read", _h, "again")])
    with pytest.raises(ValueError):
        build_table([supported("write", _h)], [enosys("write")])


def test_build_table_refuses_unknown_names():
    with pytest.raises(ValueError, match="not_a_syscall"):
        build_table([supported("not_a_syscall", _h)])


def test_tiny_family_table():
    t = build_table([supported("getpid", _h), partial("mmap", _h, "no huge pages"), enosys("acct", "obsolete")])
    assert t.lookup(39).handler is _h and t.lookup(39).support == Support.FULL
    assert t.lookup(9).support == Support.PARTIAL and t.lookup(9).note == "no huge pages"
    acct = t.lookup(163)
    assert acct.name == "acct" and acct.support == Support.ENOSYS and acct.note == "obsolete"
    with pytest.raises(SyscallError):
        acct.handler(None, SysArgs((0,) * 6))
    # Everything else is still a row, answering ENOSYS.
    assert t.lookup(0).name == "read" and t.lookup(0).support == Support.ENOSYS


def test_the_default_table_is_the_full_one():
    lazy, full = default_table(), full_table()
    assert [(r.nr, r.name, r.support, r.note, r.handler) for r in lazy] == \
        [(r.nr, r.name, r.support, r.note, r.handler) for r in full]


def test_the_family_index_is_current():
    """umlpy/syscalls/index.py lists each family's calls (tools/gen_syscall_index.py writes it)."""
    import pathlib
    import runpy
    tool = runpy.run_path(str(pathlib.Path(__file__).parents[3] / "tools" / "gen_syscall_index.py"))
    from umlpy.syscalls import index
    assert pathlib.Path(index.__file__).read_text() == tool["render"](), \
        "umlpy/syscalls/index.py is out of date: run python3 tools/gen_syscall_index.py"


def _lazy(index, loads):
    def loader(name, fam):
        def load():
            loads.append(name)
            return fam
        return load
    fams = {"a": [supported("getpid", _h), enosys("acct", "obsolete")], "b": [partial("mmap", _h, "no huge pages")]}
    return lazy_table({name: loader(name, fam) for name, fam in fams.items()}, index)


def test_a_lazy_table_imports_a_family_at_its_first_call():
    loads = []
    t = _lazy({"getpid": "a", "acct": "a", "mmap": "b"}, loads)
    assert isinstance(t.rows[39], LazyRow) and loads == []
    assert t.rows[39].handler is _h and loads == ["a"]
    assert t.rows[39].__class__ is Row and t.rows[163].support == Support.ENOSYS    # the whole family is in
    assert isinstance(t.rows[9], LazyRow)
    assert t.lookup(9).note == "no huge pages" and loads == ["a", "b"]
    # A number no family lists: every family is imported, and the row answers ENOSYS.
    assert t.lookup(0).support == Support.ENOSYS and not any(isinstance(r, LazyRow) for r in t.rows)


def test_an_out_of_date_index_costs_time_never_a_wrong_row():
    loads = []
    t = _lazy({"getpid": "b", "mmap": "gone"}, loads)     # getpid is a's, mmap's family is unknown
    assert t.rows[39].handler is _h
    assert t.lookup(9).support == Support.PARTIAL
    assert sorted(set(loads)) == ["a", "b"]


# --- SysArgs ------------------------------------------------------------------------------------

class _Regs:
    def __init__(self, **kw):
        for name in ("rdi", "rsi", "rdx", "r10", "r8", "r9", "rax", "orig_rax"):
            setattr(self, name, kw.get(name, 0))


def test_sysargs_slots_follow_the_syscall_abi():
    a = SysArgs.from_regs(_Regs(rdi=1, rsi=2, rdx=3, r10=4, r8=5, r9=6, rax=99))
    assert tuple(a) == (1, 2, 3, 4, 5, 6)
    assert [a.u64(i) for i in range(6)] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("raw,u64,s64,u32,s32", [
    (0, 0, 0, 0, 0),
    (1, 1, 1, 1, 1),
    (M64, M64, -1, 0xFFFFFFFF, -1),
    (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, -1),
    (0x80000000, 0x80000000, 0x80000000, 0x80000000, -(1 << 31)),
    (0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF),
    (1 << 63, 1 << 63, -(1 << 63), 0, 0),
    ((1 << 63) - 1, (1 << 63) - 1, (1 << 63) - 1, 0xFFFFFFFF, -1),
    (0x123456789ABCDEF0, 0x123456789ABCDEF0, 0x123456789ABCDEF0, 0x9ABCDEF0, 0x9ABCDEF0 - (1 << 32)),
    (0xFFFFFFFF_00000005, 0xFFFFFFFF_00000005, -(1 << 32) + 5, 5, 5),
    ((-100) & M64, (-100) & M64, -100, (-100) & 0xFFFFFFFF, -100),
    ((-100) & 0xFFFFFFFF, (-100) & 0xFFFFFFFF, (-100) & 0xFFFFFFFF, (-100) & 0xFFFFFFFF, -100),
])
def test_sysargs_sign_and_width(raw, u64, s64, u32, s32):
    a = SysArgs((raw, 0, 0, 0, 0, 0))
    assert a.u64(0) == u64 and a.s64(0) == s64 and a.u32(0) == u32 and a.s32(0) == s32
    assert a.ptr(0) == a.size(0) == a.ulong(0) == u64
    assert a.long(0) == s64
    assert a.fd(0) == a.int(0) == a.dirfd(0) == s32
    assert a.uint(0) == a.flags(0) == u32


def test_sysargs_dirfd_at_fdcwd_in_either_width():
    assert SysArgs(((-100) & M64,) + (0,) * 5).dirfd(0) == -100
    assert SysArgs(((-100) & 0xFFFFFFFF,) + (0,) * 5).dirfd(0) == -100   # a 32-bit int in a register


def test_sysargs_each_slot_is_independent():
    a = SysArgs((0, M64, 0, 0xFFFFFFFF, 0, 1 << 63))
    assert (a.s32(0), a.s32(1), a.s32(2), a.s32(3), a.s64(5)) == (0, -1, 0, -1, -(1 << 63))


@pytest.mark.parametrize("v,expected", [(0, 0), (5, 5), (-1, M64), (-errno.ENOSYS, M64 - errno.ENOSYS + 1),
                                        (-4095, M64 - 4094), (1 << 64, 0), (M64, M64)])
def test_to_u64(v, expected):
    assert to_u64(v) == expected
