#!/bin/sh
# Installs the Debian packages umlpy needs to build (gcc, make, musl-gcc for
# the guest images, python3-venv), if they are missing.  Uses apt-get as
# root, or sudo when available; otherwise says what to install.
set -e
need=""
command -v gcc >/dev/null 2>&1 || need="$need gcc libc6-dev"
command -v musl-gcc >/dev/null 2>&1 || need="$need musl-tools"
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need="$need python3-venv"
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    >/dev/null 2>&1 || need="$need python3-dev"
[ -z "$need" ] && exit 0
echo "umlpy: installing Debian packages:$need"
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "umlpy: please install:$need (apt-get install$need)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq $need >/dev/null
