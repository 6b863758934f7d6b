/*
 * init: the default image's first process (no C library).  Runs each test
 * program of the image in turn with fork + execve + wait4, reports how each
 * ended, and exits 0 only if all of them exited with status 0.  The address-space
 * demos come last: new_as/switch_as, first-class VASes, a VAS shared by two
 * unrelated processes, the 8-context switcher, and remap_file_pages with 100,000
 * pages of their own protection (about 20 s).
 */
#include "freestanding.h"

static const char *const programs[][4] = {
	{"/bin/hello"}, {"/bin/hello-glibc"}, {"/bin/hello-musl"}, {"/bin/auxv"},
	{"/bin/mmcalls"}, {"/bin/minivmm-unpriv"}, {"/bin/minivmm-skas3"}, {"/bin/unprivself"},
	{"/bin/asdemo"}, {"/bin/vasdemo"}, {"/bin/vaspair", "both", "init-pair", "hello from init"},
	{"/bin/asswitch"}, {"/bin/rfpdemo"}, {"/bin/rfpdemo", "noinherit", "100000"},
};

static void report(const char *path, int status)
{
	char num[24];
	put_str(1, "init: ");
	put_str(1, path);
	if ((status & 0x7f) == 0) {
		put_str(1, " exited with status ");
		put_str(1, fmt_long(num, (status >> 8) & 0xff));
	} else {
		put_str(1, " killed by signal ");
		put_str(1, fmt_long(num, status & 0x7f));
	}
	put_str(1, "\n");
}

int main(int argc, char **argv, char **envp)
{
	(void)argc; (void)argv;
	int failed = 0;
	char num[24];

	put_str(1, "umlpy default image: /init starting\n");
	for (unsigned i = 0; i < sizeof programs / sizeof programs[0]; i++) {
		const char *path = programs[i][0];
		long pid = sys0(SYS_fork);
		if (pid < 0) {
			put_str(2, "init: fork failed: -");
			put_str(2, fmt_long(num, -pid));
			put_str(2, "\n");
			sys_exit_group(1);
		}
		if (pid == 0) {
			const char *child_argv[5] = {path, programs[i][1], programs[i][2], programs[i][3], 0};
			long err = sys3(SYS_execve, (long)path, (long)child_argv, (long)envp);
			put_str(2, "init: execve ");
			put_str(2, path);
			put_str(2, " failed: -");
			put_str(2, fmt_long(num, -err));
			put_str(2, "\n");
			sys1(SYS_exit, 127);
		}
		int status = 0;
		long r = sys4(SYS_wait4, pid, (long)&status, 0, 0);
		if (r != pid) {
			put_str(2, "init: wait4 failed\n");
			sys_exit_group(1);
		}
		report(path, status);
		if (status != 0)
			failed = 1;
	}
	put_str(1, "init: all done\n");
	return failed;
}
