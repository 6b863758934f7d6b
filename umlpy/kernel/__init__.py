"""The guest kernel: tasks, scheduling, signals, fork/exec/exit/wait, dispatch."""
