// SPDX-License-Identifier: GPL-2.0
/*
 * make demo: the same sequence on both twins, printed side by side as a
 * Markdown table.  Two adjacent MAP_SHARED mmaps of one fd with contiguous
 * offsets (FAULT mode), every page touched once, then one munmap of both.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vma.h"

struct row {
	const char *twin;
	char flags[160];
	int vmas;
	struct mmapdemo_stats d;	/* counter deltas for the sequence */
	__u64 live_after;
};

#define DELTA(f) (after.f - before.f)

static int run(const char *dev, struct row *r)
{
	size_t psz = getpagesize(), half = 2 * psz;
	struct mmapdemo_stats before, after;
	struct vma v[4];
	char *base;
	int fd, i;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A PROT_NONE reservation makes the two mappings adjacent. */
	base = mmap(NULL, 2 * half, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	before = twin_stats(fd);
	if (mmap(base, half, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED ||
	    mmap(base + half, half, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, half) == MAP_FAILED)
		return -1;
	for (i = 0; i < 4; i++)
		base[i * psz] = (char)i;
	r->vmas = vmas_in((unsigned long)base, (unsigned long)base + 2 * half,
			  v, 4);
	snprintf(r->flags, sizeof(r->flags), "%s", r->vmas > 0 ? v[0].flags : "?");
	munmap(base, 2 * half);
	after = twin_stats(fd);
	r->d.hook_calls = DELTA(hook_calls);
	r->d.mapped_calls = DELTA(mapped_calls);
	r->d.vm_open = DELTA(vm_open);
	r->d.vm_close = DELTA(vm_close);
	r->d.faults = DELTA(faults);
	r->live_after = after.live_objects;
	close(fd);
	return 0;
}

int main(void)
{
	struct row rows[] = { { .twin = "prepare" }, { .twin = "legacy" } };
	const char *devs[] = { MMAPDEMO_DEV_PREPARE, MMAPDEMO_DEV_LEGACY };
	struct utsname u;
	unsigned int i;

	uname(&u);
	printf("Kernel %s. FAULT mode: two adjacent MAP_SHARED mmaps of one fd,\n"
	       "contiguous offsets, 2 pages each, every page touched, one munmap.\n\n",
	       u.release);
	printf("| twin | VmFlags | VMAs | hook | mapped | open | close | faults | live after |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < 2; i++) {
		if (run(devs[i], &rows[i])) {
			perror(devs[i]);
			return 1;
		}
		printf("| %s | `%s` | %d | %llu | %llu | %llu | %llu | %llu | %llu |\n",
		       rows[i].twin, rows[i].flags, rows[i].vmas,
		       (unsigned long long)rows[i].d.hook_calls,
		       (unsigned long long)rows[i].d.mapped_calls,
		       (unsigned long long)rows[i].d.vm_open,
		       (unsigned long long)rows[i].d.vm_close,
		       (unsigned long long)rows[i].d.faults,
		       (unsigned long long)rows[i].live_after);
	}
	return 0;
}
