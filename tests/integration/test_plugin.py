"""The pytest plugin's ``umlpy`` fixture, used as a downstream test suite would."""

import os


def test_fixture_runs_a_guest(umlpy, guest_bin):
    res = umlpy.run([os.path.join(guest_bin, "hello-musl")])
    assert res.exit_code == 0
    assert res.stdout.startswith(b"Hello, world!")


def test_fixture_traces(umlpy, guest_bin):
    res = umlpy.run([os.path.join(guest_bin, "writes")],
                    trace=umlpy.TraceOptions(deterministic=True, trace=frozenset({"write"})))
    assert res.exit_code == 0
    assert b'write(1, "write number 1\\n", 15)' in res.trace
