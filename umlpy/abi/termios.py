"""Terminal attributes: ``struct termios`` flag bits (uapi ``asm-generic/termbits.h``,
which x86-64 uses, and ``asm-generic/termbits-common.h``).

``c_oflag`` holds delay fields (NLDLY, CRDLY, ...) whose values are named
``NL0``/``NL1`` etc.; ``c_cflag`` holds the output speed (CBAUD), the
character size (CSIZE) and, ``IBSHIFT`` bits higher, the input speed.
"""

import enum


class IFLAG(enum.IntFlag):
    """c_iflag."""

    IGNBRK = 0x001
    BRKINT = 0x002
    IGNPAR = 0x004
    PARMRK = 0x008
    INPCK = 0x010
    ISTRIP = 0x020
    INLCR = 0x040
    IGNCR = 0x080
    ICRNL = 0x100
    IUCLC = 0x200
    IXON = 0x400
    IXANY = 0x800
    IXOFF = 0x1000
    IMAXBEL = 0x2000
    IUTF8 = 0x4000


class OFLAG(enum.IntFlag):
    """c_oflag's single bits (the delay fields are in OFLAG_DELAYS)."""

    OPOST = 0x01
    OLCUC = 0x02
    ONLCR = 0x04
    OCRNL = 0x08
    ONOCR = 0x10
    ONLRET = 0x20
    OFILL = 0x40
    OFDEL = 0x80


NLDLY = 0x00100
CRDLY = 0x00600
TABDLY = 0x01800
BSDLY = 0x02000
VTDLY = 0x04000
FFDLY = 0x08000

#: (field mask, names of its values in order: NL0 is 0, NL1 is 0x100, ...).
OFLAG_DELAYS = ((NLDLY, ("NL0", "NL1")), (CRDLY, ("CR0", "CR1", "CR2", "CR3")),
                (TABDLY, ("TAB0", "TAB1", "TAB2", "TAB3")), (BSDLY, ("BS0", "BS1")),
                (VTDLY, ("VT0", "VT1")), (FFDLY, ("FF0", "FF1")))

CBAUD = 0x0000100F
CBAUDEX = 0x00001000
CSIZE = 0x00000030
#: The input speed is ``c_cflag >> IBSHIFT & CBAUD``.
IBSHIFT = 16

#: Speed codes: B0..B38400 are 0..15, B57600.. are CBAUDEX|1.. (CBAUDEX|0 is unused).
BAUD_NAMES: dict[int, str] = dict(
    [(i, "B%d" % b) for i, b in enumerate(
        (0, 50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400))]
    + [(CBAUDEX + i, "B%d" % b) for i, b in enumerate(
        (0, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000,
         2000000, 2500000, 3000000, 3500000, 4000000)) if i])

CSIZE_NAMES: dict[int, str] = {0x00: "CS5", 0x10: "CS6", 0x20: "CS7", 0x30: "CS8"}


class CFLAG(enum.IntFlag):
    """c_cflag's single bits (speeds and CSIZE apart)."""

    CSTOPB = 0x040
    CREAD = 0x080
    PARENB = 0x100
    PARODD = 0x200
    HUPCL = 0x400
    CLOCAL = 0x800
    CMSPAR = 0x40000000
    CRTSCTS = 0x80000000


class LFLAG(enum.IntFlag):
    """c_lflag."""

    ISIG = 0x00001
    ICANON = 0x00002
    XCASE = 0x00004
    ECHO = 0x00008
    ECHOE = 0x00010
    ECHOK = 0x00020
    ECHONL = 0x00040
    NOFLSH = 0x00080
    TOSTOP = 0x00100
    ECHOCTL = 0x00200
    ECHOPRT = 0x00400
    ECHOKE = 0x00800
    FLUSHO = 0x01000
    PENDIN = 0x04000
    IEXTEN = 0x08000
    EXTPROC = 0x10000
