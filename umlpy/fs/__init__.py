"""The guest's file layer: VFS and mounts, path resolution, the rootfs
overlay, tmpfs, devfs, procfs, open file descriptions, pipes, the console
and fd tables.

Imports only ``umlpy.errors``, ``umlpy.abi`` and the standard library.
"""

from umlpy.fs.console import Console, ConsoleIO, std_files
from umlpy.fs.fdtable import NOFILE_DEFAULT, FdTable
from umlpy.fs.file import BytesFile, DirFile, File, PathFile, RegularFile, WouldBlock
from umlpy.fs.node import Inode
from umlpy.fs.perm import Caller
from umlpy.fs.pipe import PIPE_BUF, PIPE_SIZE, Pipe, make_pipe
from umlpy.fs.procfs import ProcProvider
from umlpy.fs.vfs import VFS

__all__ = [
    "BytesFile", "Caller", "Console", "ConsoleIO", "DirFile", "FdTable", "File", "Inode",
    "NOFILE_DEFAULT", "PIPE_BUF", "PIPE_SIZE", "PathFile", "Pipe", "ProcProvider",
    "RegularFile", "VFS", "WouldBlock", "make_pipe", "std_files",
]
