// SPDX-License-Identifier: GPL-2.0
/*
 * Map 2N single pages one by one, adjacent, with contiguous offsets, under
 * vm.max_map_count = N.  A twin whose mmaps merge ends with one VMA; one
 * whose mmaps do not merge runs into the limit.
 *
 * N is half the module's buffer (module parameter pages; 32 by default,
 * 512 with pages=1024), and must exceed the process's map count M0
 * (counted with the reservation in place).
 *
 * The limit (mm/mmap.c:do_mmap): "if (mm->map_count > max_map_count)
 * return -ENOMEM", checked before any hook runs.  So a mapping is still
 * allowed at map_count == N, and the process reaches N + 1 VMAs.  Each
 * non-merging page adds one VMA (the reservation shrinks from the left,
 * a one-sided split that mm/vma.c:vms_gather_munmap_vmas does not count
 * against the limit), so N + 1 - M0 mmaps succeed and the next one fails.
 * A merging page leaves the count at M0 + 1; the last one swallows the
 * rest of the reservation, back to M0.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vma.h"

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

FIXTURE(scale) {
	int fd;
	size_t psz;
	long n, old_max;
	char *base;		/* 2N pages */
	bool merges, retried;	/* retried: merged by 6.12's retry merge */
	__u64 live_before;
	long orphans;		/* state objects the kernel orphaned */
	int mapped1;		/* ->mapped calls per new VMA: 1 or 0 */
};

FIXTURE_VARIANT(scale) {
	bool prepare;
	__u32 mode;
	bool merges;
};

/* call_mmap_prepare sets no VM_SPECIAL flag: every page merges */
FIXTURE_VARIANT_ADD(scale, prepare_fault) { true, MMAPDEMO_MODE_FAULT, true };
/* a legacy FAULT mmap changes no flag and merges before .mmap */
FIXTURE_VARIANT_ADD(scale, legacy_fault) { false, MMAPDEMO_MODE_FAULT, true };
/* dc dd set before vma_merge_new_range: merges */
FIXTURE_VARIANT_ADD(scale, prepare_flags) { true, MMAPDEMO_MODE_FLAGS, true };
/* dc dd set by .mmap after the only merge attempt (6.16+; 6.12 retries) */
FIXTURE_VARIANT_ADD(scale, legacy_flags) { false, MMAPDEMO_MODE_FLAGS, false };
/* VMA_SPECIAL_FLAGS never merge, in either twin */
FIXTURE_VARIANT_ADD(scale, prepare_remap) { true, MMAPDEMO_MODE_REMAP, false };
FIXTURE_VARIANT_ADD(scale, legacy_remap) { false, MMAPDEMO_MODE_REMAP, false };
FIXTURE_VARIANT_ADD(scale, prepare_pages) { true, MMAPDEMO_MODE_PAGES, false };
FIXTURE_VARIANT_ADD(scale, legacy_pages) { false, MMAPDEMO_MODE_PAGES, false };

FIXTURE_SETUP(scale)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;
	const char *lacks = variant->prepare ?
		prepare_lacks(variant->mode, 0, 0) : NULL;

	if (lacks)
		SKIP(return, "%s", lacks);
	self->psz = getpagesize();
	self->old_max = -1;
	self->base = MAP_FAILED;
	self->n = module_pages() / 2;
	self->fd = twin_open(dev, O_RDWR, variant->mode);
	ASSERT_GE(self->fd, 0) TH_LOG("%s: %s", dev, strerror(errno));
	self->base = reserve(2 * self->n * self->psz);
	ASSERT_NE(MAP_FAILED, self->base);
	self->live_before = twin_stats(self->fd).live_objects;
	/* see kernel_retries_merge(): on 6.12 the legacy FLAGS pages merge */
	self->retried = !variant->prepare &&
			variant->mode == MMAPDEMO_MODE_FLAGS &&
			kernel_retries_merge();
	self->merges = variant->merges || self->retried;
	/* ->mapped per new VMA: prepare twins with vm_ops->mapped (7.1) */
	self->mapped1 = variant->prepare && prepare_keeps_state();
	self->old_max = sysctl_read(MAX_MAP_COUNT);
	ASSERT_GT(self->old_max, self->n);
}

FIXTURE_TEARDOWN(scale)
{
	if (self->old_max > 0)
		EXPECT_EQ(0, sysctl_write(MAX_MAP_COUNT, self->old_max));
	if (self->base != MAP_FAILED)
		munmap(self->base, 2 * self->n * self->psz);
	EXPECT_EQ(self->live_before + self->orphans,
		  twin_stats(self->fd).live_objects);
	close(self->fd);
}

TEST_F(scale, map_2n_pages)
{
	struct mmapdemo_stats before, after;
	unsigned long start = (unsigned long)self->base;
	unsigned long end = start + 2 * self->n * self->psz;
	int m0, done, err, n = self->n;
	struct vma v;

	m0 = map_count();
	if (m0 + 1 >= n)
		SKIP(return, "map count %d too close to N = %d", m0, n);
	before = twin_stats(self->fd);
	ASSERT_EQ(0, sysctl_write(MAX_MAP_COUNT, n));
	done = map_one_by_one(self->fd, self->base, 2 * n, &err);
	after = twin_stats(self->fd);
	TH_LOG("N %d, M0 %d: %d mmaps done, errno %d, map count %d", n, m0,
	       done, err, map_count());
	if (self->merges) {
		ASSERT_EQ(2 * n, done);
		EXPECT_EQ(0, err);
		EXPECT_EQ(1, map_count_in(start, end));
		ASSERT_EQ(0, vma_at(start, &v));
		EXPECT_EQ(start, v.start);
		EXPECT_EQ(end, v.end);
		/* the last page took what was left of the reservation */
		EXPECT_EQ(m0, map_count());
		/*
		 * call_mmap_prepare for every mmap; .mmap only for the first,
		 * unless the retry merge came after it (6.12): then .mmap ran
		 * for every page, and all but the first one's state is
		 * orphaned with the VMA freed without ->close.
		 */
		EXPECT_EQ(before.hook_calls +
			  (variant->prepare || self->retried ? 2 * n : 1),
			  after.hook_calls);
		if (self->retried) {
			self->orphans = 2 * n - 1;
			EXPECT_EQ(before.live_objects + 1 + self->orphans,
				  after.live_objects);
		}
		/* mm/util.c:mmap_action_finish, for the one new VMA */
		EXPECT_EQ(before.mapped_calls + self->mapped1,
			  after.mapped_calls);
		/*
		 * kernel_overwrites_merged_private() (7.1): the second mmap
		 * cleared the first VMA's vm_private_data; that state
		 * object is never put.
		 */
		if (self->mapped1 && kernel_overwrites_merged_private())
			self->orphans = 1;
	} else {
		/* mm/mmap.c:do_mmap: map_count > max_map_count -> ENOMEM */
		EXPECT_EQ(ENOMEM, err);
		EXPECT_EQ(n + 1 - m0, done);
		EXPECT_EQ(n + 1, map_count());
		EXPECT_EQ(done + 1, map_count_in(start, end));
		/* the failing mmap reached no hook (checked in do_mmap) */
		EXPECT_EQ(before.hook_calls + done, after.hook_calls);
		EXPECT_EQ(before.mapped_calls + self->mapped1 * done,
			  after.mapped_calls);
	}
	EXPECT_EQ(0, sysctl_write(MAX_MAP_COUNT, self->old_max));
}

TEST_HARNESS_MAIN
