"""The /proc text of an address space: /proc/PID/maps.

:class:`ProcfsMixin` (part of :class:`~umlpy.mm.mm.MM`) formats the VMAs
as Linux's show_map_vma does; it reads the VMAs only, never the page table.
"""

from umlpy.abi.memory import PAGE_SHIFT

_R, _W, _X = 1, 2, 4


class ProcfsMixin:
    """/proc/PID/maps."""

    def maps_text(self) -> str:
        """The content of /proc/pid/maps."""
        lines = []
        for v in self.vmas:
            p = v.prot
            perms = ("r" if p & _R else "-") + ("w" if p & _W else "-") + \
                    ("x" if p & _X else "-") + ("s" if v.is_shared else "p")
            if v.backing is not None:
                off = v.pgoff << PAGE_SHIFT
                major, minor = getattr(v.backing, "dev", (0, 0))
                ino = getattr(v.backing, "ino", 0)
            else:
                off = (v.pgoff << PAGE_SHIFT) if v.is_shared else 0
                major = minor = ino = 0
            head = "%08x-%08x %s %08x %02x:%02x %d " % (v.start, v.end, perms, off, major, minor, ino)
            if v.name:
                head = head.ljust(72) + " " + v.name
            lines.append(head + "\n")
        return "".join(lines)
