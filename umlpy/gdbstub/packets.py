"""gdb's remote serial protocol on a socket: packet framing, acknowledgements, escapes.

A packet is ``$payload#xx`` with ``xx`` the modulo-256 sum of the payload
bytes in hex; the receiver answers ``+`` (or ``-`` to ask for it again)
until both sides agree on QStartNoAckMode.  Binary data (``X`` writes,
``qXfer`` replies) escapes ``#``, ``$``, ``}`` and ``*`` as ``}`` followed
by the byte XOR 0x20.  A lone 0x03 byte is gdb's interrupt request.
"""

import socket

INTERRUPT = b"\x03"
_SPECIAL = frozenset(b"#$}*")


class Disconnected(Exception):
    """gdb closed the connection."""


def hexs(data: bytes) -> bytes:
    return data.hex().encode()


def unhex(text: bytes) -> bytes:
    return bytes.fromhex(text.decode())


def escape(data: bytes) -> bytes:
    """Binary data as a packet may carry it."""
    if not any(b in _SPECIAL for b in data):
        return data
    out = bytearray()
    for b in data:
        if b in _SPECIAL:
            out += bytes((0x7D, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out = bytearray()
    it = iter(data)
    for b in it:
        if b == 0x7D:
            out.append(next(it, 0x20) ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


class Connection:
    """One gdb client."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()
        self.ack = True

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            raise Disconnected()
        self.buf += data

    def _send_raw(self, data: bytes):
        try:
            self.sock.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            raise Disconnected() from None

    def read_packet(self) -> bytes:
        """The next packet's payload (escapes kept), or INTERRUPT."""
        while True:
            while not self.buf:
                self._fill()
            c = self.buf[0]
            if c == 0x24:                                  # '$'
                end = self.buf.find(b"#")
                while end < 0 or len(self.buf) < end + 3:
                    self._fill()
                    end = self.buf.find(b"#")
                payload = bytes(self.buf[1:end])
                try:
                    ok = int(self.buf[end + 1:end + 3], 16) == sum(payload) & 0xFF
                except ValueError:
                    ok = False
                del self.buf[:end + 3]
                if self.ack:
                    self._send_raw(b"+" if ok else b"-")
                if ok or not self.ack:
                    return payload
            elif c == 0x03:
                del self.buf[0]
                return INTERRUPT
            else:                                          # '+', '-', noise between packets
                del self.buf[0]

    def send(self, payload: bytes):
        """Send one packet (waiting for gdb's '+' while acknowledgements are on)."""
        packet = b"$" + payload + b"#%02x" % (sum(payload) & 0xFF)
        while True:
            self._send_raw(packet)
            if not self.ack:
                return
            while True:
                while not self.buf:
                    self._fill()
                c = self.buf[0]
                if c in (0x2B, 0x2D):                      # '+' / '-'
                    del self.buf[0]
                    break
                return                                     # a new packet: gdb took ours
            if c == 0x2B:
                return

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
