"""Sockets (issue 10): guest programs compared with native runs, and real programs with the
host's root as the guest's root (python3's http.server fetched with curl, asyncio, bash).

AF_UNIX and the loopback behave the same natively and under umlpy, so the guest programs
of guest_images/src (unixsock, inetsock) are differential: same stdout and exit status,
on both platforms.  The real programs talk only to each other inside one guest.
"""

import os
import shutil
import subprocess
import sys

import pytest

import umlpy

from .test_differential import assert_same, run_native

SOCKET_PROGS = [name + "-" + libc for name in ("unixsock", "inetsock") for libc in ("musl", "glibc")]


@pytest.mark.parametrize("prog", SOCKET_PROGS)
def test_socket_programs(guest_bin, platform, prog, tmp_path):
    path = os.path.join(guest_bin, prog)
    (tmp_path / "native").mkdir()
    (tmp_path / "guest").mkdir()
    native = run_native([path], cwd=str(tmp_path / "native"))
    guest = umlpy.run([path], platform=platform, cwd=str(tmp_path / "guest"))
    assert native.returncode == 0, native.stderr
    assert_same(native, guest)


def test_bash_stdin_is_not_a_socket(tmp_path):
    """bash asks getpeername(0) whether sshd started it (then it sources ~/.bashrc): ENOTSOCK
    must say no, as natively."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    if os.environ.get("SSH_CLIENT") is not None or os.environ.get("SSH2_CLIENT") is not None:
        pytest.skip("run under ssh: bash sources ~/.bashrc natively too")
    (tmp_path / ".bashrc").write_text("echo bashrc was sourced\n")
    env = {"HOME": str(tmp_path), "SHLVL": "0"}
    argv = [bash, "-c", "echo ran"]
    native = run_native(argv, env=env)
    guest = umlpy.run(argv, env=env)
    assert native.stdout == b"ran\n"
    assert_same(native, guest)


HTTP_SCRIPT = r"""
set -e
cd "$1"
echo 'served by the guest' > index.txt
python3 -m http.server --bind 127.0.0.1 0 > server.log 2>&1 &
pid=$!
port=
for i in $(seq 1 200); do
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' server.log | head -n 1)
    [ -n "$port" ] && break
    sleep 0.05
done
curl -s "http://127.0.0.1:$port/index.txt"
curl -s -o /dev/null -w '%{http_code}\n' "http://localhost:$port/missing"
kill $pid
wait $pid || true
"""


def test_http_server_and_curl(tmp_path):
    """``python3 -m http.server`` in the guest, fetched with curl in the same guest."""
    if shutil.which("curl") is None or not os.path.exists("/usr/bin/python3"):
        pytest.skip("curl or python3 missing")
    r = umlpy.run(["/bin/sh", "-c", HTTP_SCRIPT, "sh", str(tmp_path)], env={"PYTHONUNBUFFERED": "1"})
    assert r.stdout == b"served by the guest\n404\n", r.stderr
    assert r.returncode == 0


ASYNCIO_ECHO = r"""
import asyncio

async def handle(reader, writer):
    while data := await reader.readline():
        writer.write(data.upper())
        await writer.drain()
    writer.close()

async def main():
    for family_host in ("127.0.0.1", "::1"):
        server = await asyncio.start_server(handle, family_host, 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection(family_host, port)
        for word in ("ping", "pong", "x" * 50000):
            writer.write(word.encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
            print(family_host, len(line), line[:8])
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
    # unix sockets too
    path = "echo.sock"
    server = await asyncio.start_unix_server(handle, path)
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(b"over unix\n")
    print(await reader.readline())
    writer.close()
    server.close()

asyncio.run(main())
"""


def test_asyncio_echo(tmp_path, platform):
    """An asyncio echo server and client (TCP over 127.0.0.1 and ::1, and AF_UNIX) in one guest."""
    script = tmp_path / "echo.py"
    script.write_text(ASYNCIO_ECHO)
    argv = ["/usr/bin/python3", str(script)]
    native = subprocess.run(argv, cwd=str(tmp_path), stdout=subprocess.PIPE, timeout=60)
    os.unlink(tmp_path / "echo.sock")
    guest = umlpy.run(argv, cwd=str(tmp_path), platform=platform)
    assert native.returncode == 0
    assert guest.stdout == native.stdout
    assert guest.returncode == 0


def test_net_none_refuses_inet():
    code = ("import socket\n"
            "try:\n socket.socket()\nexcept OSError as e:\n print(e.errno)\n"
            "a, b = socket.socketpair(); a.send(b'u'); print(b.recv(1))\n")
    r = umlpy.run([sys.executable if sys.executable.startswith("/usr/bin/") else "/usr/bin/python3", "-c", code],
                  net="none")
    assert r.stdout == b"97\nb'u'\n"
