"""The gdb stub's pieces without gdb: packet framing, signal numbers, the register file."""

import socket
import struct
import types

import pytest

from umlpy.gdbstub import packets, signals, target


def _pair():
    a, b = socket.socketpair()
    return packets.Connection(a), b


def test_packet_checksum_and_ack():
    conn, peer = _pair()
    peer.sendall(b"+$qSupported:multiprocess+#2a")   # stray ack, then a bad checksum
    peer.sendall(b"$g#67")
    assert conn.read_packet() == b"g"
    assert peer.recv(10) == b"-+"                    # asked again for the bad one, took the good one
    peer.sendall(b"\x03")
    assert conn.read_packet() == packets.INTERRUPT


def test_send_waits_for_ack_and_resends_on_nak():
    conn, peer = _pair()
    peer.sendall(b"-+")
    conn.send(b"OK")
    assert peer.recv(100) == b"$OK#9a$OK#9a"
    conn.ack = False
    conn.send(b"")
    assert peer.recv(100) == b"$#00"


def test_binary_escapes_round_trip():
    data = bytes(range(256))
    esc = packets.escape(data)
    assert b"#" not in esc and b"$" not in esc and b"*" not in esc
    assert packets.unescape(esc) == data


def test_disconnect():
    conn, peer = _pair()
    peer.close()
    with pytest.raises(packets.Disconnected):
        conn.read_packet()


@pytest.mark.parametrize("linux,gdb", [(5, 5), (11, 11), (10, 30), (12, 31), (17, 20), (18, 19), (19, 17),
                                       (29, 23), (31, 12), (32, 77), (33, 45), (63, 75), (64, 78)])
def test_signal_numbers(linux, gdb):
    assert signals.gdb_signal(linux) == gdb
    assert signals.linux_signal(gdb) == linux


def test_target_description_names_gdbs_features():
    xml = target.TARGET_XML.decode()
    for feature in ("i386.core", "i386.sse", "i386.linux", "i386.segments", "i386.avx"):
        assert 'name="org.gnu.gdb.%s"' % feature in xml
    assert "<architecture>i386:x86-64</architecture>" in xml
    nums = [int(n) for n in __import__("re").findall(r'regnum="(\d+)"', xml)]
    assert nums == list(range(len(target.REGISTERS)))       # the g packet's order


class _Ctx:
    def __init__(self, xstate):
        self.regs = types.SimpleNamespace(**{n: 0 for n, _, w in target.REGISTERS if w in ("gpr", "seg")})
        self.xstate = xstate

    def xstate_snapshot(self, host):
        return None if self.xstate is None else bytes(self.xstate)

    def xstate_restore(self, host, state):
        self.xstate = bytearray(state)


def _task(xstate=None):
    return types.SimpleNamespace(ctx=_Ctx(xstate), mm=types.SimpleNamespace(host=None))


def test_registers_round_trip_through_g_and_G():
    t = _task(bytearray(576 + 256))
    t.ctx.regs.rip = 0x401000
    t.ctx.regs.rax = (1 << 64) - 1
    t.ctx.regs.eflags = 0x202
    raw = bytearray(target.read_all(t))
    assert len(raw) == sum(target.register_sizes()) == 816
    assert raw[:8] == b"\xff" * 8
    sizes = target.register_sizes()
    off = {n: sum(sizes[:i]) for i, (n, _, _) in enumerate(target.REGISTERS)}
    raw[off["rbx"]:off["rbx"] + 8] = struct.pack("<Q", 7)
    raw[off["xmm3"]:off["xmm3"] + 16] = bytes(range(16))
    raw[off["ymm3h"]:off["ymm3h"] + 16] = bytes(range(16, 32))
    raw[off["st0"]:off["st0"] + 10] = bytes(range(1, 11))
    target.write_all(t, bytes(raw))
    assert t.ctx.regs.rbx == 7
    again = target.read_all(t)
    for name in ("rbx", "xmm3", "ymm3h", "st0", "rip"):
        i = target.REG_INDEX[name]
        assert target.read_register(t, i) == bytes(raw[off[name]:off[name] + sizes[i]]), name
    assert again == bytes(raw[:off["ftag"]]) + again[off["ftag"]:]
    assert struct.unpack_from("<Q", t.ctx.xstate, 512)[0] & 7 == 7      # x87, SSE, AVX present


def test_fresh_fpu_state_and_tag_word():
    t = _task(None)
    assert target.read_register(t, target.REG_INDEX["fctrl"]) == struct.pack("<I", 0x37F)
    assert target.read_register(t, target.REG_INDEX["mxcsr"]) == struct.pack("<I", 0x1F80)
    assert target.read_register(t, target.REG_INDEX["ftag"]) == struct.pack("<I", 0xFFFF)   # all empty
    assert target.read_register(t, target.REG_INDEX["ymm0h"]) == bytes(16)


def test_eflags_and_bases_are_checked():
    t = _task(None)
    target.write_register(t, target.REG_INDEX["eflags"], struct.pack("<I", 0xFFFFFFFF))
    assert t.ctx.regs.eflags == 0x50DD5                       # only what a tracer may change
    with pytest.raises(ValueError):
        target.write_register(t, target.REG_INDEX["fs_base"], struct.pack("<Q", 1 << 63))
