// SPDX-License-Identifier: GPL-2.0
/*
 * Map 2N single pages one by one, adjacent, with contiguous offsets, under
 * vm.max_map_count = N.  A twin whose mmaps merge ends with one VMA; one
 * whose mmaps do not merge runs into the limit.
 *
 * N is half the module's buffer (module parameter pages; 32 by default,
 * 512 with pages=1024), and must exceed the process's map count M0
 * (counted with the reservation in place).  The character device in every
 * mode, a file of 2N pages of the filesystem twins in FAULT and FLAGS.
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
#include "fixture.h"

KBUGS_MEASURE_AT_START()

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

#define FAULT	MMAPDEMO_MODE_FAULT
#define FLAGS	MMAPDEMO_MODE_FLAGS
#define REMAP	MMAPDEMO_MODE_REMAP
#define PAGES	MMAPDEMO_MODE_PAGES

FIXTURE(scale) {
	struct testbed tb;
	long n, old_max;
	char *base;		/* 2N pages */
	bool merges, retried;	/* retried: merged by 6.12's retry merge */
	int mapped1;		/* ->mapped calls per new VMA: 1 or 0 */
};

FIXTURE_VARIANT(scale) {
	enum backend backend;
	bool prepare;
	__u32 mode;
};

FIXTURE_VARIANT_ADD(scale, prepare_fault) {
	.backend = BACKEND_DEV, .prepare = true, .mode = FAULT,
};

FIXTURE_VARIANT_ADD(scale, legacy_fault) {
	.backend = BACKEND_DEV, .prepare = false, .mode = FAULT,
};

FIXTURE_VARIANT_ADD(scale, prepare_flags) {
	.backend = BACKEND_DEV, .prepare = true, .mode = FLAGS,
};

FIXTURE_VARIANT_ADD(scale, legacy_flags) {
	.backend = BACKEND_DEV, .prepare = false, .mode = FLAGS,
};

FIXTURE_VARIANT_ADD(scale, prepare_remap) {
	.backend = BACKEND_DEV, .prepare = true, .mode = REMAP,
};

FIXTURE_VARIANT_ADD(scale, legacy_remap) {
	.backend = BACKEND_DEV, .prepare = false, .mode = REMAP,
};

FIXTURE_VARIANT_ADD(scale, prepare_pages) {
	.backend = BACKEND_DEV, .prepare = true, .mode = PAGES,
};

FIXTURE_VARIANT_ADD(scale, legacy_pages) {
	.backend = BACKEND_DEV, .prepare = false, .mode = PAGES,
};

FIXTURE_VARIANT_ADD(scale, fs_prepare_fault) {
	.backend = BACKEND_FS, .prepare = true, .mode = FAULT,
};

FIXTURE_VARIANT_ADD(scale, fs_legacy_fault) {
	.backend = BACKEND_FS, .prepare = false, .mode = FAULT,
};

FIXTURE_VARIANT_ADD(scale, fs_prepare_flags) {
	.backend = BACKEND_FS, .prepare = true, .mode = FLAGS,
};

FIXTURE_VARIANT_ADD(scale, fs_legacy_flags) {
	.backend = BACKEND_FS, .prepare = false, .mode = FLAGS,
};

/*
 * Do the one-page mmaps merge?  A FAULT hook changes no flag, and a
 * legacy FAULT mmap merges before .mmap; the prepare hook sets dc dd
 * before vma_merge_new_range, the legacy one after the only merge
 * attempt (6.16+; 6.12 retries: self->retried); VMA_SPECIAL_FLAGS (REMAP,
 * PAGES) never merge, in either twin.
 */
static bool pages_merge(const FIXTURE_VARIANT(scale) *variant)
{
	return variant->mode == FAULT ||
	       (variant->mode == FLAGS && variant->prepare);
}

FIXTURE_SETUP(scale)
{
	self->n = module_pages() / 2;
	self->old_max = sysctl_read(MAX_MAP_COUNT);
	ASSERT_GT(self->old_max, self->n);
	self->base = reserve(2 * self->n * getpagesize());
	ASSERT_NE(MAP_FAILED, self->base);
	/* see kernel_retries_merge(): on 6.12 the legacy FLAGS pages merge */
	self->retried = !variant->prepare && variant->mode == FLAGS &&
			kernel_retries_merge();
	self->merges = pages_merge(variant) || self->retried;
	/* ->mapped per new VMA: prepare twins with vm_ops->mapped (7.1) */
	self->mapped1 = variant->prepare && prepare_keeps_state();
	testbed_setup(_metadata, &self->tb, variant->backend, variant->prepare,
		      variant->mode, 2 * self->n);
}

FIXTURE_TEARDOWN(scale)
{
	EXPECT_EQ(0, sysctl_write(MAX_MAP_COUNT, self->old_max));
	munmap(self->base, 2 * self->n * self->tb.psz);
	testbed_teardown(_metadata, &self->tb);
}

TEST_F(scale, map_2n_pages)
{
	struct mmapdemo_stats before, after;
	unsigned long start = (unsigned long)self->base;
	unsigned long end = start + 2 * self->n * self->tb.psz;
	struct scale_run r;
	int n = self->n, ret;
	struct vma v;

	before = target_stats(&self->tb.t);
	ret = map_2n_under_limit(self->tb.fd, self->base, n, &r);
	after = target_stats(&self->tb.t);
	if (ret == 1)
		SKIP(return, "map count %d too close to N = %d", r.m0, n);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", MAX_MAP_COUNT, strerror(errno));
	TH_LOG("N %d, M0 %d: %d mmaps done, errno %d, map count %d", n, r.m0,
	       r.done, r.err, r.map_count);
	if (self->merges) {
		ASSERT_EQ(2 * n, r.done);
		EXPECT_EQ(0, r.err);
		EXPECT_EQ(1, r.count);
		ASSERT_EQ(0, vma_at(start, &v));
		EXPECT_EQ(start, v.start);
		EXPECT_EQ(end, v.end);
		/* the last page took what was left of the reservation */
		EXPECT_EQ(r.m0, r.map_count);
		/*
		 * call_mmap_prepare for every mmap; .mmap only for the first,
		 * unless the retry merge came after it (6.12): then .mmap ran
		 * for every page, and all but the first one's state is
		 * orphaned with the VMA freed without ->close.
		 */
		EXPECT_EQ(variant->prepare || self->retried ? 2 * n : 1,
			  DELTA(before, after, hook_calls));
		if (self->retried) {
			self->tb.orphans = 2 * n - 1;
			self->tb.unclosed = 2 * n - 1;
			EXPECT_EQ(1 + self->tb.orphans,
				  DELTA(before, after, live_objects));
		}
		/* mm/util.c:mmap_action_finish, for the one new VMA */
		EXPECT_EQ(self->mapped1, DELTA(before, after, mapped_calls));
		/*
		 * kernel-bug merge-clobber, measured (kbugs.h): the second
		 * mmap cleared the first VMA's vm_private_data; that state
		 * object is never put.
		 */
		if (self->mapped1 && kbug_present(KBUG_MERGE_CLOBBER))
			self->tb.orphans = 1;
	} else {
		/* mm/mmap.c:do_mmap: map_count > max_map_count -> ENOMEM */
		EXPECT_EQ(ENOMEM, r.err);
		EXPECT_EQ(n + 1 - r.m0, r.done);
		EXPECT_EQ(n + 1, r.map_count);
		EXPECT_EQ(r.done + 1, r.count);
		/* the failing mmap reached no hook (checked in do_mmap) */
		EXPECT_EQ(r.done, DELTA(before, after, hook_calls));
		EXPECT_EQ(self->mapped1 * r.done, DELTA(before, after, mapped_calls));
	}
}

TEST_HARNESS_MAIN
