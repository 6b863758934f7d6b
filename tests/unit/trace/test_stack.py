"""The unwinder of ``trace --stack``: real guests built here, and fake tasks for the edges.

Each real test compiles a small non-stripped static program (main -> f1 -> f2
-> a system call), runs it under umlpy with a minimal tracer that takes the
backtrace at that call, and checks the chain and strace -k's line format.
"""

import os
import re
import shutil
import struct
import subprocess
import time
import types

import pytest

from umlpy.api import Machine, guest_env
from umlpy.errors import SyscallError
from umlpy.fs.console import ConsoleIO
from umlpy.kernel.hooks import KernelHooks
from umlpy.trace.stack import MAX_FRAMES, Unwinder

NR_WRITE, NR_GETPPID = 1, 110

PROGRAM = r"""
#include <unistd.h>
#include <sys/syscall.h>
__attribute__((noinline)) void f2(int i) { %s; __asm__ volatile(""); }
__attribute__((noinline)) void f1(int i) { f2(i); __asm__ volatile(""); }
int main(void) { for (int i = 0; i < 3; i++) f1(i); return 0; }
"""
WRITE = 'write(1, "x", 1)'
GETPPID = "syscall(SYS_getppid)"

FRAME = re.compile(r"^(?P<path>/[^()]*)\((?:(?P<sym>[^+()]+)\+0x(?P<off>[0-9a-f]+))?\) \[0x[0-9a-f]+\]$")


class StackTracer(KernelHooks):
    """Just enough of the kernel's tracer interface to take backtraces at one syscall."""

    active = True

    def __init__(self, nr):
        self.nr = nr
        self.unwinder = Unwinder()
        self.stacks, self.times = [], []

    def attach(self, kernel):
        self.kernel = kernel

    def fast_ok(self, nr):
        return False            # every call comes through syscall_enter

    def drain_fast(self, t):
        t.ctx.take_trace_ring()

    def syscall_enter(self, t, nr, args, restarted=False):
        if nr == self.nr and not restarted:
            t0 = time.perf_counter()
            self.stacks.append(self.unwinder.backtrace(t))
            self.times.append(time.perf_counter() - t0)
        return None

    def syscall_exit(self, t, nr, args, ret):
        pass

    def syscall_blocked(self, t, nr, args):
        pass

    def task_exit(self, t):
        pass

    def group_exit(self, g):
        pass

    def signal(self, t, signo, info):
        pass

    def initial_exec(self, t, program, argv, envc, envp_addr, raw=None):
        pass

    def task_created(self, parent, child):
        pass

    def exec_done(self, t):
        self.unwinder.forget(t.group.tgid)

    def close(self):
        pass


def run_traced(prog, nr):
    tracer = StackTracer(nr)
    out = bytearray()
    console = (ConsoleIO(input=b""), ConsoleIO(write=out.extend), ConsoleIO(write=out.extend))
    with Machine(console=console, tracer=tracer) as m:
        m.start(prog, [prog], guest_env(), host_program=True)
        status = m.run()
    assert status == 0, bytes(out)
    return tracer


def compile_c(tmp_path, source, cc, flags, name):
    if shutil.which(cc) is None:
        pytest.skip("%s is not installed" % cc)
    src = tmp_path / (name + ".c")
    src.write_text(source)
    out = tmp_path / name
    proc = subprocess.run([cc, "-static", *flags, "-o", str(out), str(src)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        pytest.skip("%s cannot build static programs:\n%s" % (cc, proc.stdout.decode(errors="replace")))
    return str(out)


def symbols(frames, path):
    """The symbol of each frame, checking every line's format on the way."""
    names = []
    for f in frames:
        m = FRAME.match(f)
        assert m, f
        assert m["path"] == path, f
        names.append(m["sym"])
    return names


def assert_chain(names, first_options, tail):
    """``names`` starts with one of ``first_options`` and then has ``tail`` in order."""
    assert names[0] in first_options, names
    pos = 0
    for want in tail:
        options = want if isinstance(want, tuple) else (want,)
        while pos < len(names) and names[pos] not in options:
            pos += 1
        assert pos < len(names), (want, names)
        pos += 1


GLIBC_START = ("__libc_start_main", "__libc_start_main_impl", "__libc_start_call_main")
CASES = {
    # name: (compiler, flags, syscall, innermost symbols)
    "glibc-O2": ("gcc", ["-O2", "-g0"], WRITE, ("write", "__write", "__libc_write")),
    "glibc-O0-fp-no-cfi": ("gcc", ["-O0", "-fno-omit-frame-pointer", "-fno-asynchronous-unwind-tables",
                                   "-fno-unwind-tables"], WRITE, ("write", "__write", "__libc_write")),
    "glibc-syscall": ("gcc", ["-O2"], GETPPID, ("syscall",)),
    "musl-O2": ("musl-gcc", ["-O2"], WRITE, ("write", "sccp", "__syscall_cp", "__syscall_cp_asm")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backtrace_of_a_static_program(tmp_path, case):
    cc, flags, call, innermost = CASES[case]
    prog = compile_c(tmp_path, PROGRAM % call, cc, flags, case)
    tracer = run_traced(prog, NR_WRITE if call == WRITE else NR_GETPPID)
    assert len(tracer.stacks) == 3
    for frames in tracer.stacks:
        names = symbols(frames, prog)
        start = GLIBC_START if cc == "gcc" else ("__libc_start_main", "libc_start_main_stage2")
        assert_chain(names, innermost, ["f2", "f1", "main", start])
        assert names[-1] == "_start", names
    # The loop may be unrolled (other call sites in main), but the depth is the same.
    assert len({len(s) for s in tracer.stacks}) == 1


def test_frame_offsets_are_return_addresses(tmp_path):
    """symbol+off is the raw return address, [0x..] its offset in the file (strace -k)."""
    prog = compile_c(tmp_path, PROGRAM % WRITE, "gcc", ["-O2", "-no-pie"], "offsets")
    frames = run_traced(prog, NR_WRITE).stacks[0]
    nm = subprocess.run(["nm", prog], stdout=subprocess.PIPE, text=True).stdout
    addr = {line.split()[2]: int(line.split()[0], 16) for line in nm.splitlines() if len(line.split()) == 3}
    m = FRAME.match(frames[1])
    assert m["sym"] == "f2"
    ret = addr["f2"] + int(m["off"], 16)
    with open(prog, "rb") as f:
        data = f.read()
    # The call to write ends exactly at the return address.
    off = int(frames[1].rsplit("[", 1)[1][:-1], 16)
    assert data[off - 5] == 0xE8
    target = ret + struct.unpack_from("<i", data, off - 4)[0]
    assert target in (addr.get("write"), addr.get("__libc_write"))


def test_freestanding_inline_asm(build_guest):
    prog = build_guest(r"""
__attribute__((noinline)) long f2(void) { long r = sc0(110); __asm__ volatile(""); return r; }
__attribute__((noinline)) long f1(void) { long r = f2(); __asm__ volatile(""); return r + 1; }
__attribute__((noinline)) long main(int argc, char **argv) { return f1() < 0; }
""")
    frames = run_traced(prog, NR_GETPPID).stacks[0]
    names = symbols(frames, prog)
    assert names[:3] == ["f2", "f1", "main"], names
    assert "start_c" in names, names


def test_speed_after_the_first_backtrace(tmp_path):
    prog = compile_c(tmp_path, (PROGRAM % GETPPID).replace("i < 3", "i < 50"), "gcc", ["-O2"], "speed")
    times = run_traced(prog, NR_GETPPID).times
    assert len(times) == 50
    assert sorted(times[1:])[24] < 0.005, times   # cached image: bisects and a few reads


def test_stripped_program_has_offsets_only(guest_bin):
    prog = os.path.join(guest_bin, "hello-glibc")
    frames = run_traced(prog, NR_WRITE).stacks[0]
    assert frames
    for f in frames:
        assert re.fullmatch(re.escape(prog) + r"\(\) \[0x[0-9a-f]+\]", f), f


# --- fake tasks: the edges ----------------------------------------------------------------
class FakeMM:
    def __init__(self, base=0, data=b""):
        self.base, self.data = base, data

    def read(self, addr, n):
        i = addr - self.base
        if i < 0 or i + n > len(self.data):
            raise SyscallError(14)
        return self.data[i:i + n]


def fake_task(image, rip, rsp, rbp=0, mm=None, tgid=1):
    regs = types.SimpleNamespace(**{r: 0 for r in ("rax", "rdx", "rcx", "rbx", "rsi", "rdi", "r8", "r9",
                                                   "r10", "r11", "r12", "r13", "r14", "r15")})
    regs.rip, regs.rsp, regs.rbp = rip, rsp, rbp
    return types.SimpleNamespace(ctx=types.SimpleNamespace(regs=regs), mm=mm or FakeMM(),
                                 group=types.SimpleNamespace(tgid=tgid, image=image))


@pytest.fixture(scope="module")
def static_prog(tmp_path_factory):
    return compile_c(tmp_path_factory.mktemp("stack"), PROGRAM % WRITE, "gcc",
                     ["-O2", "-no-pie"], "fake")


def test_address_outside_the_image(static_prog):
    with open(static_prog, "rb") as f:
        image = (static_prog, f.read(), 0)
    t = fake_task(image, rip=0xDEAD0000, rsp=0x7000)
    assert Unwinder().backtrace(t) == ["unexpected_backtracing_error [0xdead0000]"]
    assert Unwinder().backtrace(fake_task(image, rip=0, rsp=0x7000)) == []


def test_unreadable_stack_ends_the_chain(static_prog):
    with open(static_prog, "rb") as f:
        data = f.read()
    nm = subprocess.run(["nm", static_prog], stdout=subprocess.PIPE, text=True).stdout
    f2 = next(int(line.split()[0], 16) for line in nm.splitlines() if line.endswith(" f2"))
    t = fake_task((static_prog, data, 0), rip=f2 + 1, rsp=0x7FF0)
    frames = Unwinder().backtrace(t)
    assert len(frames) == 1 and frames[0].startswith(static_prog + "(f2+0x1) ")


def test_no_image_and_broken_task_never_raise():
    assert Unwinder().backtrace(fake_task(None, rip=0x401000, rsp=0x7000)) == \
        ["unexpected_backtracing_error [0x401000]"]
    assert Unwinder().backtrace(object()) == []
    bad = fake_task(("/x", b"not an elf", 0), rip=0x401000, rsp=0x7000)
    assert Unwinder().backtrace(bad) == ["unexpected_backtracing_error [0x401000]"]


def test_executable_mapping_outside_the_image(static_prog):
    """Code the image does not cover is named by its mapping and left by the rbp chain."""
    with open(static_prog, "rb") as f:
        data = f.read()
    nm = subprocess.run(["nm", static_prog], stdout=subprocess.PIPE, text=True).stdout
    main = next(int(line.split()[0], 16) for line in nm.splitlines() if line.endswith(" T main"))
    base = 0x7000
    stack = struct.pack("<QQ", base, main + 1) * 4
    t = fake_task((static_prog, data, 0), rip=0xDEAD0000, rsp=base, rbp=base, mm=FakeMM(base, stack))
    t.mm.find_vma = lambda addr: types.SimpleNamespace(prot=5, start=0xDEAD0000, pgoff=0, name="[anon]") \
        if 0xDEAD0000 <= addr < 0xDEAD1000 else None
    frames = Unwinder().backtrace(t)
    assert frames[0] == "[anon]() [0x0]"
    assert frames[1].startswith(static_prog + "(main+0x1) ")
    assert len(frames) <= MAX_FRAMES + 1


def test_image_cache_is_by_contents(static_prog):
    with open(static_prog, "rb") as f:
        data = f.read()
    u = Unwinder()
    a = u.image_for(static_prog, data)
    assert u.image_for(static_prog, bytes(bytearray(data))) is a
    u.forget(1)
    assert u.image_for(static_prog, data[:-1] + b"\0") is not a or data[-1] == 0


def test_trace_stack_end_to_end(tmp_path):
    pytest.importorskip("umlpy.trace.decode")
    import umlpy
    from umlpy.trace.options import TraceOptions
    prog = compile_c(tmp_path, PROGRAM % WRITE, "gcc", ["-O2"], "e2e")
    res = umlpy.run([prog], trace=TraceOptions(stack=True, trace=frozenset({"write"})))
    text = res.trace.decode()
    assert re.search(r"^write\(1, .*\n > %s\((__)?(libc_)?write\+0x[0-9a-f]+\) \[0x[0-9a-f]+\]\n"
                     r" > %s\(f2\+0x[0-9a-f]+\) " % (re.escape(prog), re.escape(prog)), text, re.M), text
