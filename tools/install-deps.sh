#!/bin/sh
# Installs the Debian/Ubuntu packages umlpy needs, if they are missing.  Uses
# apt-get as root, or sudo when available; otherwise says what to install.
#
#   install-deps.sh          what umlpy needs to build (gcc, make, musl-gcc for
#                            the guest images, python3-venv, python3-dev)
#   install-deps.sh test     that, plus the host programs the tests compare
#                            umlpy with (strace, gdb, busybox, CPython's test suite...)
#   install-deps.sh bench    that, plus the peers `make bench` runs beside umlpy
#                            (proot, qemu-user, User-Mode Linux)
#
# Debian and Ubuntu alike (apt-get; package names that one of them lacks are left
# out with a note).  DRY_RUN=1 prints the apt-get commands instead of running them.
set -e
need=""
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need="$need python3-venv"
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    >/dev/null 2>&1 || need="$need python3-dev"

# Packages wanted for a purpose, added when dpkg does not know them (and the
# distribution has them: a name apt-cache cannot find is left out).
want() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
    done
}
case "${1:-build}" in
    build) ;;
    test)  # CPython's own tests, for the python3 the tests compare with (3.11 on Debian 12,
           # 3.12 on Ubuntu 24.04, ...).
           pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)
           want strace gdb busybox-static procps curl socat python3 "libpython$pyver-testsuite" ;;
    bench) want strace proot qemu-user user-mode-linux ;;
    *) echo "usage: install-deps.sh [build|test|bench]" >&2; exit 2 ;;
esac
[ -z "$need" ] && exit 0
if [ -n "${DRY_RUN:-}" ]; then
    SUDO="echo"
elif [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "umlpy: please install:$need (apt-get install$need)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
[ -n "${DRY_RUN:-}" ] && SUDO="echo"
avail=""
for p in $need; do
    if apt-cache show "$p" >/dev/null 2>&1; then avail="$avail $p"; else echo "umlpy: no package $p here; going on without it" >&2; fi
done
[ -z "$avail" ] && exit 0
echo "umlpy: installing packages:$avail"
if [ -n "${DRY_RUN:-}" ]; then
    echo apt-get install -y -qq $avail
    exit 0
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $avail >/dev/null
