"""Host side: run a program on a pty of its own, resize the pty (and send SIGWINCH as the
host kernel does), print what the program wrote."""
import os, pty, sys, time, struct, fcntl, termios, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
buf = b""
end = time.time() + 30
def until(pat):
    global buf
    while pat not in buf and time.time() < end:
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try: buf += os.read(fd, 1000)
            except OSError: break
until(b"ready")
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
os.kill(pid, 28)          # what the host kernel sends to the pty's foreground group
while time.time() < end:                   # everything, up to the end of the program
    r, _, _ = select.select([fd], [], [], 1)
    if r:
        try:
            data = os.read(fd, 1000)
        except OSError:
            break
        if not data:
            break
        buf += data
print(buf.decode().replace("\r", ""))
os.waitpid(pid, 0)
