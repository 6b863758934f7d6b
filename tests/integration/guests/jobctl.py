"""Drive an interactive shell with job control through a pty: ^Z, jobs, bg, fg, ^C."""
import os, pty, sys, time, select, re

shell = sys.argv[1:] or ["/bin/bash", "--norc", "--noprofile", "-i"]
pid, fd = pty.fork()
if pid == 0:
    os.environ["PS1"] = "$ "
    os.environ["TERM"] = "dumb"
    os.execv(shell[0], shell)

buf = b""
PROMPT = rb"\$ (\x1b\[6n)?$"
def expect(pat, timeout=10):
    global buf
    end = time.time() + timeout
    while True:
        m = re.search(pat, buf)
        if m:
            out, buf = buf[:m.end()], buf[m.end():]
            return out
        left = end - time.time()
        if left <= 0:
            raise SystemExit("timeout waiting for %r, got %r" % (pat, buf))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise SystemExit("EOF waiting for %r, got %r" % (pat, buf))
            buf += data

def send(s):
    os.write(fd, s)

def step(name, out):
    text = out.decode().replace("\x1b[6n", "").replace("\r\n", "\n").replace("\r", "")
    print("--", name)
    print(text)

step("prompt", expect(PROMPT))
send(b"echo hello $((6*7))\n")
step("echo", expect(PROMPT))
send(b"sleep 100\n")
time.sleep(0.3)
send(b"\x1a")                       # ^Z
step("^Z", expect(PROMPT))
send(b"jobs\n")
step("jobs", expect(PROMPT))
send(b"bg\n")
step("bg", expect(PROMPT))
send(b"jobs\n")
step("jobs", expect(PROMPT))
send(b"fg\n")
time.sleep(0.3)
send(b"\x03")                       # ^C
step("fg, ^C", expect(PROMPT))
send(b"cat\n")
time.sleep(0.2)
send(b"typed\n")
time.sleep(0.2)
send(b"\x04")                       # ^D: end of file for cat
step("cat", expect(PROMPT))
send(b"exit 3\n")
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
_, st = os.waitpid(pid, 0)
print("shell exit status", os.waitstatus_to_exitcode(st))
