"""Packaging: ``python -m build`` makes an sdist and a wheel; the wheel installed into a
fresh virtual environment gives a working ``umlpy`` (its C shim, its stub, and the default
image when musl-gcc was there at build time, else a clear message).

Slow (a build from the sdist in an isolated environment, and pip installs): a minute or so.
"""

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.slow


def _build_module_available():
    try:
        import build  # noqa: F401
    except ImportError:
        return False
    return True


def _run(cmd, **kw):
    kw.setdefault("timeout", 900)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    assert p.returncode == 0, (cmd, p.stdout.decode(errors="replace")[-3000:])
    return p.stdout.decode(errors="replace")


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "UMLPY_", "VIRTUAL_ENV", "PYTEST"))}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    if not _build_module_available():
        pytest.fail("the 'build' package is missing: pip install build (it is in umlpy's [test] extra)")
    out = tmp_path_factory.mktemp("dist")
    src = tmp_path_factory.mktemp("src") / "umlpy"
    # Build from a copy of the committed tree, as a fresh clone would.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, stdout=subprocess.PIPE, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        if os.path.exists(os.path.join(REPO, rel)):
            os.makedirs(os.path.dirname(src / rel), exist_ok=True)
            shutil.copy2(os.path.join(REPO, rel), src / rel)
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(src)], env=_clean_env())
    wheels = [f for f in os.listdir(out) if f.endswith(".whl")]
    sdists = [f for f in os.listdir(out) if f.endswith(".tar.gz")]
    assert len(wheels) == 1 and len(sdists) == 1, os.listdir(out)
    return out / wheels[0], out / sdists[0], src


def _venv(path):
    _run([sys.executable, "-m", "venv", str(path)])
    return path / "bin"


def test_sdist_carries_the_c_sources_and_the_images_sources(dist):
    _, sdist, _ = dist
    names = tarfile.open(sdist).getnames()
    top = names[0].split("/")[0]
    for rel in ("csrc/shim.c", "csrc/shim.h", "csrc/stub.c", "csrc/stub.lds", "csrc/shim_build.py",
                "umlpy/abi/stub_abi.h", "guest_images/Makefile", "guest_images/src/init.c",
                "guest_images/include/umlpy.h", "setup.py", "pyproject.toml", "README.md"):
        assert "%s/%s" % (top, rel) in names, rel
    assert not any("/guest_images/build/" in n for n in names)


def test_wheel_installs_into_a_fresh_venv_and_works(dist, tmp_path):
    wheel, _, _ = dist
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("umlpy/platform/_shim") and n.endswith(".so") for n in names)
    assert "umlpy/platform/umlpy-stub" in names
    assert "umlpy/_image/rootfs/init" in names
    assert "umlpy/abi/stub_abi.h" in names
    assert "umlpy/gdbstub/server.py" in names
    bin_ = _venv(tmp_path / "venv")
    _run([str(bin_ / "pip"), "install", "-q", str(wheel)], env=_clean_env())
    work = tmp_path / "work"                     # not the source tree: the installed package only
    work.mkdir()
    env = _clean_env()
    assert _run([str(bin_ / "umlpy"), "--version"], cwd=work, env=env).strip().startswith("umlpy ")
    assert _run([str(bin_ / "python"), "-m", "umlpy", "--version"], cwd=work, env=env).startswith("umlpy ")
    out = _run([str(bin_ / "umlpy"), "run"], cwd=work, env=env)          # the default image's /init
    assert out.splitlines()[-1] == "init: all done"
    out = _run([str(bin_ / "umlpy"), "trace", "-o", "t.txt", "-e", "trace=write", "echo", "hi"], cwd=work, env=env)
    assert out == "hi\n"
    assert 'write(1, "hi\\n", 3)' in (work / "t.txt").read_text()


def test_wheel_without_musl_says_so(dist, tmp_path):
    _, _, src = dist
    out = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(src)],
         env=_clean_env(MUSL_CC="no-such-musl-gcc"))
    wheel = next(out.glob("*.whl"))
    assert not any(n.startswith("umlpy/_image/") for n in zipfile.ZipFile(wheel).namelist())
    bin_ = _venv(tmp_path / "venv")
    _run([str(bin_ / "pip"), "install", "-q", str(wheel)], env=_clean_env())
    p = subprocess.run([str(bin_ / "umlpy"), "run"], cwd=str(tmp_path), env=_clean_env(),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 125
    err = p.stderr.decode()
    assert err.count("\n") == 1 and "without its default guest image" in err and "musl" in err, err
    p = subprocess.run([str(bin_ / "umlpy"), "run", "true"], cwd=str(tmp_path), env=_clean_env(),
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr                                   # host programs need no image
