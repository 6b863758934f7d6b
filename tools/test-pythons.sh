#!/bin/sh
# Test umlpy on every supported CPython (3.10 to 3.13) this machine has: for each one,
# a fresh virtual environment in build/pythons/VERSION, umlpy installed from this tree
# with its test extra, a smoke run of the CLI, the fast unit and differential tests, and
# the faces' tests (plugin, strace habits, gdb stub, docs).
#   make pythons            (PYTHONS="python3.12 /usr/bin/python3.11" to choose)
set -eu
cd "$(dirname "$0")/.."
found=""
for v in 3.10 3.11 3.12 3.13; do
    for cand in "python$v" /root/.pyenv/versions/$v*/bin/python$v "$HOME"/.pyenv/versions/$v*/bin/python$v /usr/bin/python$v; do
        if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            found="$found $(command -v "$cand")"
            break
        fi
    done
done
PYTHONS=${PYTHONS:-$found}
[ -n "$PYTHONS" ] || { echo "test-pythons: no CPython 3.10-3.13 found" >&2; exit 1; }
status=0
summary=""
for py in $PYTHONS; do
    ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv=build/pythons/$ver
    echo "== CPython $ver ($py)"
    rm -rf "$venv"
    if "$py" -m venv "$venv" \
        && "$venv/bin/python" -m pip install -q --disable-pip-version-check '.[test]' \
        && (cd /tmp && "$OLDPWD/$venv/bin/umlpy" --version && "$OLDPWD/$venv/bin/umlpy" run | tail -1 \
            && "$OLDPWD/$venv/bin/umlpy" trace -o /dev/null echo "umlpy trace on $ver") \
        && UMLPY_DEBUG=1 "$venv/bin/python" -m pytest -q -n 2 -m "not slow" -p no:cacheprovider \
            tests/unit tests/integration/test_differential.py \
        && UMLPY_DEBUG=1 "$venv/bin/python" -m pytest -q -n 2 -p no:cacheprovider \
            tests/integration/test_plugin.py tests/integration/test_strace_habits.py \
            tests/integration/test_gdbstub.py tests/integration/test_docs.py; then
        summary="$summary
  $ver: ok"
    else
        status=1
        summary="$summary
  $ver: FAILED"
    fi
done
echo "CPython versions:$summary"
exit $status
