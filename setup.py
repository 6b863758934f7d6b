"""umlpy: a hosted VMM in Python with a small C core.

``pip install .`` builds the C shim (cffi, API mode) and the stub executable
that realises guest address spaces, and installs the ``umlpy`` command.
"""

import os
import shutil
import subprocess
import sys

from setuptools import find_packages, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
#: Where stub_abi.h lives: inside the package, which reads it at import (umlpy/abi/stub.py).
ABI_INCLUDE = os.path.join(HERE, "umlpy", "abi")

STUB_CFLAGS = [
    "-O2", "-Wall", "-ffreestanding", "-fno-stack-protector", "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables", "-mgeneral-regs-only", "-fcf-protection=none", "-fpie", "-no-pie",
    "-nostdlib", "-static", "-Wl,--build-id=none",
]


def build_stub(out_path, cc="gcc"):
    """Compile csrc/stub.c into the freestanding stub executable at out_path."""
    src = os.path.join(HERE, "csrc")
    cmd = [cc, *STUB_CFLAGS, "-I", ABI_INCLUDE, "-Wl,-T," + os.path.join(src, "stub.lds"),
           "-o", out_path, os.path.join(src, "stub.c")]
    subprocess.check_call(cmd)


def build_images(out_dir):
    """Build the default root image into out_dir/rootfs (the programs are built beside it,
    in a temporary directory, and only the image is kept: it holds them)."""
    musl = os.environ.get("MUSL_CC", "musl-gcc")
    if shutil.which(musl) is None or shutil.which("make") is None:
        print("umlpy: %s or make missing: the default guest image is not built "
              "(install musl-tools, or set UMLPY_IMAGE)" % musl, file=sys.stderr)
        return
    import tempfile
    with tempfile.TemporaryDirectory(prefix="umlpy-images-") as tmp:
        subprocess.check_call(["make", "-s", "-C", os.path.join(HERE, "guest_images"), "OUT=" + tmp,
                               "MUSL_CC=" + musl])
        dst = os.path.join(out_dir, "rootfs")
        shutil.rmtree(dst, ignore_errors=True)
        os.makedirs(out_dir, exist_ok=True)
        shutil.copytree(os.path.join(tmp, "rootfs"), dst, symlinks=True)


class BuildExtWithStub(build_ext):
    """build_ext that also builds the stub beside the shim, and (for an
    installed, not in-place, package) the default guest image inside it."""

    def run(self):
        super().run()
        out_dir = os.path.dirname(self.get_ext_fullpath("umlpy.platform._shim"))
        os.makedirs(out_dir, exist_ok=True)
        build_stub(os.path.join(out_dir, "umlpy-stub"))
        if not self.inplace:
            build_images(os.path.abspath(os.path.join(out_dir, "..", "_image")))


def _version():
    with open(os.path.join(HERE, "umlpy", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=", 1)[1].strip().strip('"')
    raise RuntimeError("no __version__ in umlpy/__init__.py")


def _long_description():
    with open(os.path.join(HERE, "README.md")) as f:
        return f.read()


#: The CPython versions umlpy is tested on (make pythons: each one the machine has).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")

setup(
    name="umlpy",
    version=_version(),
    description="A hosted virtual machine monitor in the spirit of User-Mode Linux",
    long_description=_long_description(),
    long_description_content_type="text/markdown",
    license="MIT",
    classifiers=["Operating System :: POSIX :: Linux", "Programming Language :: Python :: 3",
                 "Programming Language :: C", "Topic :: System :: Emulators",
                 "Framework :: Pytest"] + ["Programming Language :: Python :: %s" % v for v in PYTHONS],
    packages=find_packages(include=["umlpy", "umlpy.*"]),
    package_data={"umlpy.abi": ["stub_abi.h"]},
    python_requires=">=3.10",
    platforms=["Linux x86-64"],
    setup_requires=["cffi>=1.15"],
    install_requires=["cffi>=1.15", "pyelftools>=0.29", "psutil>=5.9", "python-ptrace>=0.9.8"],
    extras_require={"test": ["pytest>=7", "pytest-xdist>=3", "build>=1", "pyyaml>=6"]},
    cffi_modules=["csrc/shim_build.py:ffibuilder"],
    cmdclass={"build_ext": BuildExtWithStub},
    entry_points={"console_scripts": ["umlpy = umlpy.cli:main"],
                  "pytest11": ["umlpy = umlpy.testing.plugin"]},
    zip_safe=False,
)
