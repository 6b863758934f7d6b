import errno
import os

from umlpy.fs import make_pipe


def test_dev_null_zero_full_random(vfs, root, err):
    n = vfs.open(root, b"/dev/null", os.O_RDWR)
    assert n.read(10) == b"" and n.write(b"abc") == 3 and n.lseek(5, 0) == 0
    z = vfs.open(root, b"/dev/zero", os.O_RDONLY)
    assert z.read(4) == bytes(4)
    fl = vfs.open(root, b"/dev/full", os.O_RDWR)
    assert err(fl.write, b"x") == errno.ENOSPC
    r = vfs.open(root, b"/dev/urandom", os.O_RDONLY)
    assert r.read(3) == b"\xab\xab\xab"
    s = vfs.stat(root, b"/dev/null")
    assert s.st_mode & 0o170000 == 0o020000 and s.st_rdev == (1 << 8) | 3


def test_dev_console_and_stdio_links(vfs, root, out, proc):
    c = vfs.open(root, b"/dev/tty", os.O_RDWR)
    assert c.write(b"hi\n") == 3 and bytes(out) == b"hi\n"
    assert c.read(100) == b"typed\n"
    assert not c.isatty()
    assert vfs.readlink(root, b"/dev/stdout") == b"/proc/self/fd/1"
    proc.files[1] = c
    w = vfs.open(root, b"/dev/stdout", os.O_WRONLY)
    w.write(b"via link")
    assert bytes(out).endswith(b"via link")


def test_proc_self_and_pid(vfs, root, user):
    assert vfs.readlink(root, b"/proc/self") == b"1"
    assert vfs.readlink(user, b"/proc/self") == b"7"
    assert vfs.readlink(root, b"/proc/self/exe") == b"/bin/prog"
    assert vfs.open(root, b"/proc/7/cmdline", os.O_RDONLY).read(100) == b"prog\0-v\0"
    assert b"Pid:\t7" in vfs.open(root, b"/proc/7/status", 0).read(100)
    assert b"r-xp" in vfs.open(root, b"/proc/self/maps", 0).read(1000)
    assert vfs.open(root, b"/proc/sys/kernel/hostname", 0).read(100) == b"guest\n"
    assert b"/proc proc" in vfs.open(root, b"/proc/mounts", 0).read(1000)
    assert b"MemTotal" in vfs.open(root, b"/proc/meminfo", 0).read(1000)


def test_proc_readdir_and_errors(vfs, root, err):
    d = vfs.open(root, b"/proc", os.O_RDONLY)
    blob = d.getdents64(4096)
    for name in (b"self", b"1", b"7", b"mounts"):
        assert name + b"\0" in blob
    assert err(vfs.stat, root, b"/proc/99") == errno.ENOENT
    assert err(vfs.open, root, b"/proc/1/status", os.O_WRONLY) == errno.EACCES
    assert err(vfs.open, root, b"/proc/x", os.O_CREAT | os.O_WRONLY) == errno.EACCES
    assert err(vfs.mkdir, root, b"/proc/d") == errno.EACCES


def test_proc_fd_magic_link_reopens_pipe(vfs, root, proc):
    r, w = make_pipe()
    proc.files[3] = w
    assert vfs.readlink(root, b"/proc/self/fd/3").startswith(b"pipe:[")
    w2 = vfs.open(root, b"/proc/self/fd/3", os.O_WRONLY)
    w2.write(b"ping")
    assert r.read(10) == b"ping"


def test_register_proc_entry(vfs, root):
    from umlpy.fs.procfs import ProcFile
    vfs.procfs.register(b"mm", lambda pfs: ProcFile(pfs, "mm", lambda: b"", 0o666))
    assert vfs.stat(root, b"/proc/mm").st_mode & 0o777 == 0o666


def test_proc_task_dirs_and_system_files(vfs, root, err):
    task = vfs.open(root, b"/proc/7/task", os.O_RDONLY).getdents64(4096)
    assert b"7\0" in task
    assert vfs.open(root, b"/proc/7/task/7/stat", 0).read(100) == b"7 (prog) S 0\n"
    assert vfs.open(root, b"/proc/7/task/7/status", 0).read(100) == b"Name:\tprog\nPid:\t7\n"
    assert err(vfs.stat, root, b"/proc/7/task/7/task") == errno.ENOENT     # no task/ in a thread's dir
    assert vfs.open(root, b"/proc/7/statm", 0).read(100) == b"1 1 0 0 0 1 0\n"
    assert vfs.open(root, b"/proc/7/environ", 0).read(100) == b"HOME=/\0"
    assert vfs.open(root, b"/proc/7/comm", 0).read(100) == b"prog\n"
    assert vfs.readlink(root, b"/proc/thread-self") == b"1/task/1"
    assert vfs.open(root, b"/proc/uptime", 0).read(100) == b"2.50 2.40\n"
    assert vfs.open(root, b"/proc/loadavg", 0).read(100) == b"0.00 0.00 0.00 1/2 7\n"
    stat = vfs.open(root, b"/proc/stat", 0).read(1000).decode().splitlines()
    assert stat[0] == "cpu  10 0 0 240 0 0 0 0 0 0" and "btime 946684800" in stat and "processes 7" in stat
    assert b"MemFree:            1000 kB\n" in vfs.open(root, b"/proc/meminfo", 0).read(2000)
    # /proc/PID/mem belongs to the process's owner, mode 0600; opening it is the provider's call.
    s = vfs.stat(root, b"/proc/7/mem")
    assert (s.st_mode & 0o7777, s.st_uid) == (0o600, 1000)
    assert err(vfs.open, root, b"/proc/7/mem", os.O_RDONLY) == errno.EACCES
