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
def expect(pat, timeout=30):
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

# Each step waits for what proves the job is where the next key must find it: the job
# says "started" once it runs (so it holds the terminal), the shell echoes "fg"'s job.
JOB = b"sh -c 'echo started; exec sleep 100'"
step("prompt", expect(PROMPT))
send(b"echo hello $((6*7))\n")
step("echo", expect(PROMPT))
send(JOB + b"\n")
step("job", expect(rb"started\r\n"))
send(b"\x1a")                       # ^Z
step("^Z", expect(PROMPT))
send(b"jobs\n")
step("jobs", expect(PROMPT))
send(b"bg\n")
step("bg", expect(PROMPT))
send(b"jobs\n")
step("jobs", expect(PROMPT))
send(b"fg\n")
step("fg", expect(rb"sleep 100['\"]\r\n"))
time.sleep(0.5)                     # the shell gives the job the terminal and continues it
send(b"\x03")                       # ^C
step("^C", expect(PROMPT))
send(b"while :; do :; done\n")      # the shell itself spins: ^C must still get through
step("spin", expect(rb"done\r\n"))
time.sleep(0.5)
send(b"\x03")
step("^C", expect(PROMPT))
send(b"sh -c 'echo ready; exec cat'\n")
step("cat", expect(rb"ready\r\n"))
send(b"typed\n")
step("typed", expect(rb"typed\r\ntyped\r\n"))
send(b"\x04")                       # ^D: end of file for cat
step("^D", expect(PROMPT))
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
