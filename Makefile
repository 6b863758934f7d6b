# umlpy: everything a fresh Debian machine needs, from two commands:
#   make demo    install, build the guest images, boot the default guest
#   make test    install, build the guest images, run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
IMAGES  = $(CURDIR)/guest_images/build
PYTEST_ARGS ?= -n 2

.PHONY: all deps install images demo test test-fast bench pythons dist clean distclean

all: install images

deps:
	@sh tools/install-deps.sh

$(VENV)/.installed: setup.py csrc/stub.c csrc/shim.c csrc/shim.h umlpy/abi/stub_abi.h csrc/shim_build.py
	@sh tools/install-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --config-settings editable_mode=compat -e '.[test]'
	@$(PY) -m compileall -q umlpy >/dev/null
	@touch $@

install: $(VENV)/.installed

images: install
	@$(MAKE) -s -C guest_images OUT=$(IMAGES)
	@$(PY) -m compileall -q umlpy >/dev/null

demo: install images
	$(VENV)/bin/umlpy run

test: install images
	@sh tools/install-deps.sh test
	$(PY) -m pytest $(PYTEST_ARGS) tests

test-fast: install images
	@sh tools/install-deps.sh test
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow" tests

# Every supported CPython (3.10-3.13) the machine has: install, smoke run, fast tests.
pythons: images
	@sh tools/install-deps.sh test
	@sh tools/test-pythons.sh

# The sdist and the wheel, in dist/.
dist: install
	$(PY) -m build --outdir dist .

bench: install images
	@sh tools/install-deps.sh bench
	$(PY) tools/bench.py

clean:
	rm -rf build guest_images/build umlpy/platform/_shim*.so umlpy/platform/_shim.c umlpy/platform/umlpy-stub
	find . -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
