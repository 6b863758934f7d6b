"""Syscall tracing: strace-compatible text, JSON Lines, timelines, summaries, injection.

Tracing is separate from emulation: the kernel calls the hooks of a
:class:`~umlpy.trace.tracer.Tracer` when one is attached, and handlers never
print.  With no tracer the kernel's hot path has a single ``is None`` test.
"""
