// SPDX-License-Identifier: GPL-2.0
/*
 * make demo: one Markdown table, a row per mode x twin.
 *
 * Sequence per row: two adjacent MAP_SHARED PROT_READ|PROT_WRITE mmaps of
 * one fd (2 pages each, contiguous offsets, MAP_FIXED into a PROT_NONE
 * reservation), every page touched once, one munmap of both; the counters
 * are the deltas over that sequence.  Scale: 2N one-page adjacent mmaps
 * under vm.max_map_count = N (N = pages / 2), as in scale.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vma.h"

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

static const char * const mode_names[] = { "FAULT", "FLAGS", "REMAP", "PAGES" };

struct row {
	char flags[160];
	int vmas;
	struct mmapdemo_stats d;	/* counter deltas for the sequence */
	__u64 live_after;
	char scale[80];
};

#define DELTA(f) (after.f - before.f)

static int two_adjacent(int fd, struct row *r)
{
	size_t psz = getpagesize(), half = 2 * psz;
	struct mmapdemo_stats before, after;
	struct vma v[4];
	char *base;
	int i;

	base = reserve(2 * half);
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
	return 0;
}

static int scale(int fd, struct row *r)
{
	size_t psz = getpagesize();
	long n = module_pages() / 2, old = sysctl_read(MAX_MAP_COUNT);
	int m0, done, err, count;
	char *base;

	base = reserve(2 * n * psz);
	if (base == MAP_FAILED || old <= n)
		return -1;
	m0 = map_count();
	if (m0 + 1 >= n || sysctl_write(MAX_MAP_COUNT, n))
		return -1;
	done = map_one_by_one(fd, base, 2 * n, &err);
	count = map_count_in((unsigned long)base,
			     (unsigned long)base + 2 * n * psz);
	if (err)
		snprintf(r->scale, sizeof(r->scale),
			 "%s after %d of %ld maps, map count %d",
			 strerrorname_np(err), done, 2 * n, map_count());
	else
		snprintf(r->scale, sizeof(r->scale), "%d of %ld maps, %d VMA%s",
			 done, 2 * n, count, count == 1 ? "" : "s");
	munmap(base, 2 * n * psz);
	return sysctl_write(MAX_MAP_COUNT, old);
}

int main(void)
{
	const char *devs[] = { MMAPDEMO_DEV_PREPARE, MMAPDEMO_DEV_LEGACY };
	const char *twins[] = { "prepare", "legacy" };
	struct utsname u;
	unsigned int m, t;
	struct row r;
	int fd;

	uname(&u);
	printf("Kernel %s, pages=%ld. Two adjacent MAP_SHARED mmaps of one fd,\n"
	       "contiguous offsets, 2 pages each, every page touched, one munmap.\n"
	       "Scale: 2N one-page adjacent mmaps under vm.max_map_count = N = %ld.\n\n",
	       u.release, module_pages(), module_pages() / 2);
	printf("| mode | twin | VmFlags | VMAs | hook | mapped | open | close | faults | live after | scale |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (m = 0; m < 4; m++) {
		for (t = 0; t < 2; t++) {
			memset(&r, 0, sizeof(r));
			fd = twin_open(devs[t], O_RDWR, m);
			if (fd < 0 || two_adjacent(fd, &r) || scale(fd, &r)) {
				perror(devs[t]);
				return 1;
			}
			close(fd);
			printf("| %s | %s | `%s` | %d | %llu | %llu | %llu | %llu | %llu | %llu | %s |\n",
			       mode_names[m], twins[t], r.flags, r.vmas,
			       (unsigned long long)r.d.hook_calls,
			       (unsigned long long)r.d.mapped_calls,
			       (unsigned long long)r.d.vm_open,
			       (unsigned long long)r.d.vm_close,
			       (unsigned long long)r.d.faults,
			       (unsigned long long)r.live_after, r.scale);
		}
	}
	return 0;
}
