"""The kernel's door for an external debugger (the gdb stub): holding tasks still.

A debugger stops the whole machine from a hook (``KernelHooks.signal_stop``):
nothing runs while it serves gdb.  When gdb resumes only some threads (a
``vCont`` that names one thread to step over a breakpoint), the others must
not run meanwhile: :func:`hold` keeps a task off the CPU whatever wakes it
(it still blocks, wakes and receives signals as usual), :func:`release`
lets it run again.  The run loop tests ``Kernel.held`` only when it is not
empty.
"""

from .task import TaskState


def hold(k, t) -> None:
    """Keep ``t`` from running until :func:`release`."""
    k.held.add(t)


def release(k, t) -> None:
    """``t`` may run again (it goes back on the run queue if it became runnable)."""
    k.held.discard(t)
    if t in k.held_ready:
        k.held_ready.discard(t)
        if t.state is TaskState.RUNNABLE and t not in k.runq:
            k.runq.append(t)


def release_all(k) -> None:
    for t in list(k.held):
        release(k, t)
