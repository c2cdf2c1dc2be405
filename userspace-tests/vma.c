// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vma.h"

/* Copy the mnemonics after "VmFlags:", single spaces, none at the end. */
static void copy_flags(char *dst, size_t size, char *src)
{
	char *tok, *save;

	dst[0] = '\0';
	for (tok = strtok_r(src, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (dst[0])
			strncat(dst, " ", size - strlen(dst) - 1);
		strncat(dst, tok, size - strlen(dst) - 1);
	}
}

int vmas_in(unsigned long start, unsigned long end, struct vma *out, int max)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	struct vma cur;
	int n = 0, in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		unsigned long long off;

		if (sscanf(line, "%lx-%lx %*s %llx", &s, &e, &off) == 3) {
			in = s < end && e > start;
			memset(&cur, 0, sizeof(cur));
			cur.start = s;
			cur.end = e;
			cur.offset = off;
		} else if (in && !strncmp(line, "VmFlags:", 8)) {
			copy_flags(cur.flags, sizeof(cur.flags), line + 8);
			if (n < max)
				out[n] = cur;
			n++;
			in = 0;
		}
	}
	fclose(f);
	return n < max ? n : max;
}

int vma_at(unsigned long addr, struct vma *out)
{
	return vmas_in(addr, addr + 1, out, 1) == 1 ? 0 : -1;
}

struct mmapdemo_stats twin_stats(int fd)
{
	struct mmapdemo_stats st;

	if (ioctl(fd, MMAPDEMO_IOC_GET_STATS, &st)) {
		perror("MMAPDEMO_IOC_GET_STATS");
		exit(2);
	}
	return st;
}

long module_pages(void)
{
	FILE *f = fopen("/sys/module/mmapdemo/parameters/pages", "r");
	long pages = -1;

	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = -1;
		fclose(f);
	}
	return pages;
}
