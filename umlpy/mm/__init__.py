"""Guest address spaces: page frames, VMAs, shared objects, faults and guest I/O.

Imports only ``umlpy.errors``, ``umlpy.abi`` and ``umlpy.platform.base/physmem``.
"""

from umlpy.mm.frames import FrameAllocator, OutOfMemory
from umlpy.mm.hostcache import HostCache
from umlpy.mm.mm import FAULT_AROUND_PAGES, MM
from umlpy.mm.shared import MappableFile, SharedObject
from umlpy.mm.vma import Vma, VmaSet, VmFlag

__all__ = ["FrameAllocator", "OutOfMemory", "HostCache", "MM", "FAULT_AROUND_PAGES", "MappableFile",
           "SharedObject", "Vma", "VmaSet", "VmFlag"]
