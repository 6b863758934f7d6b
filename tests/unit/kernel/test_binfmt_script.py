"""binfmt_script's '#!' line, as fs/binfmt_script.c reads it."""

import errno

import pytest

from umlpy.errors import SyscallError
from umlpy.kernel.exec import script_interp


@pytest.mark.parametrize("head,interp,argv", [
    (b"#!/bin/sh\necho", b"/bin/sh", [b"/bin/sh", b"./s", b"a"]),
    (b"#! /usr/bin/env python3 -u \n", b"/usr/bin/env", [b"/usr/bin/env", b"python3 -u", b"./s", b"a"]),
    (b"#!/bin/sh\t-e\n", b"/bin/sh", [b"/bin/sh", b"-e", b"./s", b"a"]),
    (b"#!/bin/sh", b"/bin/sh", [b"/bin/sh", b"./s", b"a"]),                 # no newline, short file
    (b"#!/bin/sh\r\n", b"/bin/sh\r", [b"/bin/sh\r", b"./s", b"a"]),          # CR is part of the name
])
def test_lines(head, interp, argv):
    assert script_interp(head, b"./s", [b"s", b"a"]) == (interp, argv)


@pytest.mark.parametrize("head", [b"#!\n", b"#!   \n", b"#!/" + b"x" * 300])
def test_enoexec(head):
    with pytest.raises(SyscallError) as e:
        script_interp(head, b"./s", [b"s"])
    assert e.value.errno == errno.ENOEXEC


def test_not_a_script():
    assert script_interp(b"\x7fELF", b"./s", [b"s"]) is None
