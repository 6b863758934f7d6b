/* auxv: prints argc, argv[1..], the environment and the auxiliary vector
 * (found on the stack after envp's NULL), one "AT_NAME value" line per entry
 * in stack order.  Values that are addresses the loader chooses freely are
 * printed as "present" so that native and guest runs can be compared. */
#include <stdio.h>

enum kind { NUM, HEX, PTR, STR, NAME };

struct at_type {
	unsigned long type;
	const char *name;
	enum kind kind;
};

static const struct at_type types[] = {
	{0, "AT_NULL", NAME},           {1, "AT_IGNORE", NAME},
	{2, "AT_EXECFD", NUM},          {3, "AT_PHDR", HEX},
	{4, "AT_PHENT", NUM},           {5, "AT_PHNUM", NUM},
	{6, "AT_PAGESZ", NUM},          {7, "AT_BASE", PTR},
	{8, "AT_FLAGS", HEX},           {9, "AT_ENTRY", HEX},
	{10, "AT_NOTELF", NUM},         {11, "AT_UID", NUM},
	{12, "AT_EUID", NUM},           {13, "AT_GID", NUM},
	{14, "AT_EGID", NUM},           {15, "AT_PLATFORM", STR},
	{16, "AT_HWCAP", HEX},          {17, "AT_CLKTCK", NUM},
	{23, "AT_SECURE", NUM},         {24, "AT_BASE_PLATFORM", PTR},
	{25, "AT_RANDOM", PTR},         {26, "AT_HWCAP2", HEX},
	{27, "AT_RSEQ_FEATURE_SIZE", NAME}, {28, "AT_RSEQ_ALIGN", NAME},
	{31, "AT_EXECFN", STR},         {33, "AT_SYSINFO_EHDR", PTR},
	{51, "AT_MINSIGSTKSZ", NAME},
};

int main(int argc, char **argv, char **envp)
{
	printf("argc %d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d] %s\n", i, argv[i]);
	char **p = envp;
	for (; *p; p++)
		printf("env %s\n", *p);
	unsigned long *av = (unsigned long *)(p + 1);
	for (; av[0] != 0; av += 2) {
		const struct at_type *t = 0;
		for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++)
			if (types[i].type == av[0])
				t = &types[i];
		if (!t) {
			printf("AT_%lu\n", av[0]);
			continue;
		}
		switch (t->kind) {
		case NUM:
			printf("%s %lu\n", t->name, av[1]);
			break;
		case HEX:
			printf("%s 0x%lx\n", t->name, av[1]);
			break;
		case PTR:
			printf("%s %s\n", t->name, av[1] ? "present" : "null");
			break;
		case STR:
			printf("%s present %s\n", t->name, av[1] ? (const char *)av[1] : "(null)");
			break;
		case NAME:
			printf("%s\n", t->name);
			break;
		}
	}
	printf("AT_NULL\n");
	return 0;
}
