"""tools/install-deps.sh on Debian and on Ubuntu, simulated: fake dpkg-query, apt-cache and
python3 on PATH, DRY_RUN=1 so that apt-get is printed, not run."""

import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, "tools", "install-deps.sh")

#: What each distribution's apt knows (a part: the names the script may ask for).
DISTROS = {
    "debian12": ("3.11", {"gcc", "libc6-dev", "musl-tools", "python3-venv", "python3-dev", "strace", "gdb",
                          "busybox-static", "procps", "curl", "socat", "python3", "libpython3.11-testsuite",
                          "proot", "qemu-user", "user-mode-linux"}),
    "ubuntu2404": ("3.12", {"gcc", "libc6-dev", "musl-tools", "python3-venv", "python3-dev", "strace", "gdb",
                            "busybox-static", "procps", "curl", "socat", "python3", "libpython3.12-testsuite",
                            "proot", "qemu-user"}),
}


def _fake_bin(tmp_path, pyver, known):
    b = tmp_path / "bin"
    b.mkdir()
    (b / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")                       # nothing installed
    (b / "apt-cache").write_text("#!/bin/sh\ncase \" %s \" in *\" $2 \"*) exit 0;; esac\nexit 100\n"
                                 % " ".join(sorted(known)))
    (b / "python3").write_text("#!/bin/sh\ncase \"$2\" in *version_info*) echo %s; exit 0;; esac\nexit 1\n" % pyver)
    for f in b.iterdir():
        f.chmod(0o755)
    for tool in ("id", "grep", "sh"):
        os.symlink(subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.PIPE,
                                  check=True).stdout.decode().strip(), b / tool)
    return str(b)


@pytest.mark.parametrize("distro", sorted(DISTROS))
@pytest.mark.parametrize("what", ["build", "test", "bench"])
def test_packages_per_distribution(tmp_path, distro, what):
    pyver, known = DISTROS[distro]
    env = {"PATH": _fake_bin(tmp_path, pyver, known), "DRY_RUN": "1", "HOME": str(tmp_path)}
    p = subprocess.run(["sh", SCRIPT, what], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    install = [ln for ln in out.splitlines() if ln.startswith("apt-get install")]
    assert len(install) == 1, out
    pkgs = set(install[0].split()[4:])
    assert {"gcc", "libc6-dev", "musl-tools", "python3-venv", "python3-dev"} <= pkgs
    assert pkgs <= known                            # never a name this distribution lacks
    if what == "test":
        assert {"strace", "gdb", "libpython%s-testsuite" % pyver} <= pkgs
    if what == "bench":
        assert {"proot", "qemu-user"} <= pkgs
        if "user-mode-linux" not in known:
            assert b"no package user-mode-linux here" in p.stderr


def test_usage_error(tmp_path):
    p = subprocess.run(["sh", SCRIPT, "nonsense"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 2 and b"usage" in p.stderr
