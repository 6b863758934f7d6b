"""poll(2)/select(2) ABI: event bits and limits (include/uapi/asm-generic/poll.h,
include/uapi/linux/posix_types.h, fs/select.c)."""

POLLIN = 0x0001
POLLPRI = 0x0002
POLLOUT = 0x0004
POLLERR = 0x0008
POLLHUP = 0x0010
POLLNVAL = 0x0020
POLLRDNORM = 0x0040
POLLRDBAND = 0x0080
POLLWRNORM = 0x0100
POLLWRBAND = 0x0200
POLLMSG = 0x0400
POLLRDHUP = 0x2000

#: The size of select's fd_set (__FD_SETSIZE).
FD_SETSIZE = 1024
#: The most pollfd entries one poll accepts (fs/file.c sysctl_nr_open's default, 1 << 20).
NFDS_MAX = 1 << 20
