"""Guest side of winch_driver: report the terminal size, wait for SIGWINCH, report it again."""
import signal, os, sys, time
got = []
signal.signal(signal.SIGWINCH, lambda s, f: got.append(s))
print(os.get_terminal_size(0), "ready", flush=True)
while not got:
    time.sleep(0.05)
print("got SIGWINCH, size", tuple(os.get_terminal_size(0)), flush=True)
