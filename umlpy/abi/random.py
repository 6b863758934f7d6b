"""getrandom(2) flags (uapi ``linux/random.h``)."""

import enum


class GRND(enum.IntFlag):
    GRND_NONBLOCK = 0x0001
    GRND_RANDOM = 0x0002
    GRND_INSECURE = 0x0004


GRND_NONBLOCK = GRND.GRND_NONBLOCK
GRND_RANDOM = GRND.GRND_RANDOM
GRND_INSECURE = GRND.GRND_INSECURE
