"""Testing guests from pytest: the ``umlpy`` fixture and options (a pytest plugin).

Installed with umlpy (entry point ``pytest11``), so any test suite may write::

    def test_hello(umlpy):
        res = umlpy.run(["./hello"])
        assert res.exit_code == 0 and res.stdout == b"hello\\n"

    def test_trace(umlpy):
        res = umlpy.run(["./hello"], trace=umlpy.TraceOptions(deterministic=True))
        assert b'write(1, "hello\\\\n", 6) = 6' in res.trace

``--umlpy-platform c|python|auto`` chooses the platform for every run.
"""
