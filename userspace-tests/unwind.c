// SPDX-License-Identifier: GPL-2.0
/*
 * Error unwinding: a failure injected at every stage of both twins
 * (MMAPDEMO_IOC_SET_FAIL), and what the kernel undoes afterwards.
 *
 * Order of a new mapping in 7.3 (mm/vma.c:__mmap_region):
 *  1. __mmap_setup: old VMAs under a MAP_FIXED range are split and
 *     detached; RLIMIT_AS (may_expand_vm) and overcommit are checked -
 *     a failure here reattaches them: the old mapping survives
 *     (vms_abort_munmap_vmas -> reattach_vmas, clear_ptes still set);
 *     then vms_clean_up_area zaps their PTEs and calls their ->close
 *     (clear_ptes = false): from here on an abort leaves a hole.
 *  2. call_mmap_prepare: .mmap_prepare; its error is returned verbatim.
 *  3. vma_merge_new_range: the only merge attempt.
 *  4. __mmap_new_vma -> __mmap_new_file_vma: legacy .mmap; on error
 *     mm/internal.h:mmap_file() puts dummy vm_ops on the VMA (no ->close)
 *     and unmap_region() zaps what it mapped; error verbatim.
 *  5. __mmap_complete frees the old VMAs; mmap_action_complete runs the
 *     action, then ->mapped (mm/util.c:mmap_action_finish); on an error
 *     the VMA is do_munmap()ed - ->close IS called, with the
 *     vm_private_data from before ->mapped (NULL) - and the error is
 *     replaced by action.error_override if set.
 * So every injected failure leaves a hole under MAP_FIXED, for both twins
 * and every stage, and the override changes only a ->mapped failure.
 *
 * The injected error is -EIO; the override is -EAGAIN (as /dev/mem,
 * drivers/char/mem.c:mmap_mem_prepare).  Expected values are per variant;
 * the mode does not change any of them, so every mode is run to show it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vma.h"

#define ENTRY	MMAPDEMO_FAIL_HOOK_ENTRY
#define EXIT	MMAPDEMO_FAIL_HOOK_EXIT
#define MAPPED	MMAPDEMO_FAIL_MAPPED

static char maps_before[65536], maps_after[65536];

FIXTURE(unwind) {
	int fd;
	size_t psz;
};

FIXTURE_VARIANT(unwind) {
	bool prepare;
	__u32 mode;
	__u32 stage;
	int override;		/* error_override as a positive errno, 0 = none */
	int err;		/* errno of the failed mmap() */
	int mapped;		/* ->mapped calls for it */
	int close;		/* ->close calls for it */
};

#define UNWIND(name, prepare, mode, stage, override, err, mapped, close) \
	FIXTURE_VARIANT_ADD(unwind, name) { \
		prepare, MMAPDEMO_MODE_##mode, stage, override, err, mapped, close }

/*
 * .mmap_prepare fails at entry or exit: mm/vma.c:call_mmap_prepare returns
 * the hook's error verbatim (no VMA yet: no ->mapped, no ->close); the
 * override is only read by mm/util.c:mmap_action_finish, never reached.
 */
UNWIND(prepare_fault_entry,	true, FAULT, ENTRY, 0, EIO, 0, 0);
UNWIND(prepare_fault_entry_ovr,	true, FAULT, ENTRY, EAGAIN, EIO, 0, 0);
UNWIND(prepare_fault_exit,	true, FAULT, EXIT, 0, EIO, 0, 0);
UNWIND(prepare_fault_exit_ovr,	true, FAULT, EXIT, EAGAIN, EIO, 0, 0);
UNWIND(prepare_flags_entry,	true, FLAGS, ENTRY, 0, EIO, 0, 0);
UNWIND(prepare_flags_entry_ovr,	true, FLAGS, ENTRY, EAGAIN, EIO, 0, 0);
UNWIND(prepare_flags_exit,	true, FLAGS, EXIT, 0, EIO, 0, 0);
UNWIND(prepare_flags_exit_ovr,	true, FLAGS, EXIT, EAGAIN, EIO, 0, 0);
UNWIND(prepare_remap_entry,	true, REMAP, ENTRY, 0, EIO, 0, 0);
UNWIND(prepare_remap_entry_ovr,	true, REMAP, ENTRY, EAGAIN, EIO, 0, 0);
UNWIND(prepare_remap_exit,	true, REMAP, EXIT, 0, EIO, 0, 0);
UNWIND(prepare_remap_exit_ovr,	true, REMAP, EXIT, EAGAIN, EIO, 0, 0);
UNWIND(prepare_pages_entry,	true, PAGES, ENTRY, 0, EIO, 0, 0);
UNWIND(prepare_pages_entry_ovr,	true, PAGES, ENTRY, EAGAIN, EIO, 0, 0);
UNWIND(prepare_pages_exit,	true, PAGES, EXIT, 0, EIO, 0, 0);
UNWIND(prepare_pages_exit_ovr,	true, PAGES, EXIT, EAGAIN, EIO, 0, 0);
/*
 * ->mapped fails: mm/util.c:mmap_action_finish do_munmap()s the inserted
 * VMA (mm/vma.c:remove_vma -> vma_close: ->close once) and returns
 * "action->error_override ?: err".
 */
UNWIND(prepare_fault_mapped,	true, FAULT, MAPPED, 0, EIO, 1, 1);
UNWIND(prepare_fault_mapped_ovr, true, FAULT, MAPPED, EAGAIN, EAGAIN, 1, 1);
UNWIND(prepare_flags_mapped,	true, FLAGS, MAPPED, 0, EIO, 1, 1);
UNWIND(prepare_flags_mapped_ovr, true, FLAGS, MAPPED, EAGAIN, EAGAIN, 1, 1);
UNWIND(prepare_remap_mapped,	true, REMAP, MAPPED, 0, EIO, 1, 1);
UNWIND(prepare_remap_mapped_ovr, true, REMAP, MAPPED, EAGAIN, EAGAIN, 1, 1);
UNWIND(prepare_pages_mapped,	true, PAGES, MAPPED, 0, EIO, 1, 1);
UNWIND(prepare_pages_mapped_ovr, true, PAGES, MAPPED, EAGAIN, EAGAIN, 1, 1);
/*
 * .mmap fails: mm/vma.c:__mmap_new_file_vma returns it verbatim; the VMA
 * got dummy vm_ops (mm/internal.h:mmap_file), so no ->close - the driver
 * freed its state itself (driver/chardev_legacy.c:chardev_legacy_mmap).
 */
UNWIND(legacy_fault_entry,	false, FAULT, ENTRY, 0, EIO, 0, 0);
UNWIND(legacy_fault_exit,	false, FAULT, EXIT, 0, EIO, 0, 0);
UNWIND(legacy_flags_entry,	false, FLAGS, ENTRY, 0, EIO, 0, 0);
UNWIND(legacy_flags_exit,	false, FLAGS, EXIT, 0, EIO, 0, 0);
UNWIND(legacy_remap_entry,	false, REMAP, ENTRY, 0, EIO, 0, 0);
UNWIND(legacy_remap_exit,	false, REMAP, EXIT, 0, EIO, 0, 0);
UNWIND(legacy_pages_entry,	false, PAGES, ENTRY, 0, EIO, 0, 0);
UNWIND(legacy_pages_exit,	false, PAGES, EXIT, 0, EIO, 0, 0);

FIXTURE_SETUP(unwind)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;
	const char *lacks = variant->prepare ?
		prepare_lacks(variant->mode, variant->stage, variant->override) :
		NULL;

	if (lacks)
		SKIP(return, "%s", lacks);
	self->psz = getpagesize();
	ASSERT_GE(module_pages(), 4);
	self->fd = twin_open(dev, O_RDWR, variant->mode);
	ASSERT_GE(self->fd, 0) TH_LOG("%s: %s", dev, strerror(errno));
}

FIXTURE_TEARDOWN(unwind)
{
	close(self->fd);
}

static int arm(int fd, const FIXTURE_VARIANT(unwind) *variant)
{
	return twin_set_fail(fd, variant->stage, -EIO, -variant->override);
}

/* Two pages of the device, MAP_SHARED (REMAP needs it). */
static void *map_dev(int fd, void *addr, size_t psz, int flags)
{
	return mmap(addr, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED | flags,
		    fd, 0);
}

/* The counters after one mmap() that failed where the variant says. */
static void expect_unwound(struct __test_metadata *_metadata,
			   const FIXTURE_VARIANT(unwind) *variant,
			   const struct mmapdemo_stats *b,
			   const struct mmapdemo_stats *a)
{
	/* the injected failures fire in the hook or after it */
	EXPECT_EQ(b->hook_calls + 1, a->hook_calls);
	EXPECT_EQ(b->mapped_calls + variant->mapped, a->mapped_calls);
	/* include/linux/mm.h (vm_operations_struct): no ->open on first map */
	EXPECT_EQ(b->vm_open, a->vm_open);
	EXPECT_EQ(b->vm_close + variant->close, a->vm_close);
	/* nothing the driver allocated outlives the failure */
	EXPECT_EQ(b->live_objects, a->live_objects);
	/* driver/common.c:mmapdemo_fail_at: counted once, when it fires */
	EXPECT_EQ(b->injected + 1, a->injected);
}

/* A plain mmap() fails and leaves /proc/self/maps exactly as it was. */
TEST_F(unwind, plain_mmap)
{
	struct mmapdemo_stats before, after;
	void *p;
	int err;

	ASSERT_EQ(0, arm(self->fd, variant));
	before = twin_stats(self->fd);
	ASSERT_LT(0, maps_snapshot(maps_before, sizeof(maps_before)));
	p = map_dev(self->fd, NULL, self->psz, 0);
	err = errno;
	ASSERT_LT(0, maps_snapshot(maps_after, sizeof(maps_after)));
	after = twin_stats(self->fd);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));
	EXPECT_STREQ(maps_before, maps_after);
	expect_unwound(_metadata, variant, &before, &after);

	/* one-shot: the failure was consumed, the next mmap() works */
	p = map_dev(self->fd, NULL, self->psz, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, 2 * self->psz));
	after = twin_stats(self->fd);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(before.injected + 1, after.injected);
}

/*
 * MAP_FIXED over the middle two pages of a four-page anonymous mapping
 * (inside a PROT_NONE reservation, so nothing merges with it): every
 * injected failure is at or after the hook, after vms_clean_up_area, so
 * mm/vma.c:vms_abort_munmap_vmas (or the do_munmap of mmap_action_finish)
 * leaves a hole where the old pages were.  The outer pages keep their data.
 */
TEST_F(unwind, fixed_over_anon_leaves_a_hole)
{
	struct mmapdemo_stats before, after;
	size_t psz = self->psz;
	unsigned char v;
	char *r, *base;
	void *p;
	int err, i;

	r = reserve(6 * psz);
	ASSERT_NE(MAP_FAILED, r);
	base = mmap(r + psz, 4 * psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(r + psz, base);
	for (i = 0; i < 4; i++)
		memset(base + i * psz, 0x41 + i, psz);

	ASSERT_EQ(0, arm(self->fd, variant));
	before = twin_stats(self->fd);
	p = map_dev(self->fd, base + psz, psz, MAP_FIXED);
	err = errno;
	after = twin_stats(self->fd);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));
	expect_unwound(_metadata, variant, &before, &after);

	EXPECT_EQ(0, probe_read(base, &v));
	EXPECT_EQ(0x41, v);
	EXPECT_EQ(SIGSEGV, probe_read(base + psz, &v));
	EXPECT_EQ(SIGSEGV, probe_read(base + 2 * psz, &v));
	EXPECT_EQ(0, probe_read(base + 3 * psz, &v));
	EXPECT_EQ(0x44, v);
	/* no VMA in the hole; the two outer anonymous pieces remain */
	EXPECT_EQ(0, map_count_in((unsigned long)base + psz,
				  (unsigned long)base + 3 * psz));
	EXPECT_EQ(2, map_count_in((unsigned long)base,
				  (unsigned long)base + 4 * psz));
	munmap(r, 6 * psz);
}

/*
 * MAP_FIXED over a mapping of the same twin: its ->close runs in
 * mm/vma.c:vms_clean_up_area, before the hook, so the driver sees one
 * ->close more than in fixed_over_anon_leaves_a_hole - the old VMA's,
 * with no ->open to match - and its state is freed there; the range ends
 * as a hole (mm/vma.c:vms_abort_munmap_vmas), never the old mapping.
 */
TEST_F(unwind, fixed_over_own_mapping_closes_it_first)
{
	struct mmapdemo_stats before, after;
	size_t psz = self->psz;
	unsigned char v;
	char *old;
	void *p;
	int err;

	before = twin_stats(self->fd);
	old = map_dev(self->fd, NULL, psz, 0);
	ASSERT_NE(MAP_FAILED, old);
	old[0] = 0x5a;
	ASSERT_EQ(0, arm(self->fd, variant));
	p = map_dev(self->fd, old, psz, MAP_FIXED);
	err = errno;
	after = twin_stats(self->fd);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err);
	EXPECT_EQ(before.hook_calls + 2, after.hook_calls);
	EXPECT_EQ(before.vm_open, after.vm_open);
	EXPECT_EQ(before.vm_close + 1 + variant->close, after.vm_close);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(before.injected + 1, after.injected);
	EXPECT_EQ(SIGSEGV, probe_read(old, &v));
	EXPECT_EQ(0, map_count_in((unsigned long)old,
				  (unsigned long)old + 2 * psz));
}

/*
 * A failure before the hook: RLIMIT_AS has no room for the one page a
 * MAP_FIXED replacement adds (mm/vma.c:__mmap_setup -> may_expand_vm,
 * -ENOMEM).  The old VMAs were split and detached but their PTEs not yet
 * zapped (clear_ptes), so mm/vma.c:vms_abort_munmap_vmas reattaches them:
 * the old data survives, for both twins.  The hook is not called, so the
 * armed failure is not consumed and fires on the next mmap().
 */
TEST_F(unwind, before_the_hook_old_mapping_survives)
{
	struct mmapdemo_stats before, after;
	struct rlimit old, lim;
	size_t psz = self->psz;
	unsigned char v;
	char *r, *base;
	long size;
	void *p;
	int err, i;

	/* pages: r[0] none, r[1..4] anonymous data, r[5] unmapped */
	r = reserve(6 * psz);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, munmap(r + 5 * psz, psz));
	base = mmap(r + psz, 4 * psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_EQ(r + psz, base);
	for (i = 0; i < 4; i++)
		memset(base + i * psz, 0x41 + i, psz);

	ASSERT_EQ(0, arm(self->fd, variant));
	before = twin_stats(self->fd);
	ASSERT_EQ(0, getrlimit(RLIMIT_AS, &old));
	size = vm_size();
	ASSERT_LT(0, size);
	lim.rlim_cur = size;		/* exactly what is mapped now */
	lim.rlim_max = old.rlim_max;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &lim));
	/* r[3..5]: replaces two anonymous pages, adds one */
	p = mmap(base + 2 * psz, 3 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->fd, 0);
	err = errno;
	ASSERT_EQ(0, setrlimit(RLIMIT_AS, &old));
	after = twin_stats(self->fd);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENOMEM, err) TH_LOG("errno %s", strerror(err));

	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, probe_read(base + i * psz, &v));
		EXPECT_EQ(0x41 + i, v);
	}
	/*
	 * mm/vma.c:vms_gather_munmap_vmas split the old VMA at r[3] before
	 * may_expand_vm failed; mm/vma.c:reattach_vmas only marks the
	 * detached piece attached again, nothing merges it back ("we don't
	 * undo the first split", vms_gather_munmap_vmas).
	 */
	EXPECT_EQ(2, map_count_in((unsigned long)base,
				  (unsigned long)base + 4 * psz));
	/* no hook, no VMA, nothing injected */
	EXPECT_EQ(before.hook_calls, after.hook_calls);
	EXPECT_EQ(before.mapped_calls, after.mapped_calls);
	EXPECT_EQ(before.vm_close, after.vm_close);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(before.injected, after.injected);

	/* still armed: it fires on the next mmap(), as in plain_mmap */
	p = map_dev(self->fd, NULL, psz, 0);
	err = errno;
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err);
	after = twin_stats(self->fd);
	EXPECT_EQ(before.injected + 1, after.injected);
	EXPECT_EQ(before.live_objects, after.live_objects);
	munmap(r, 5 * psz);
}

/*
 * Two adjacent FAULT mmaps of one fd with contiguous offsets merge
 * (merge.c).  A failure armed before the second one:
 *  - legacy: the merge in mm/vma.c:vma_merge_new_range swallows the
 *    mmap() before __mmap_new_file_vma, so .mmap is never called; mmap()
 *    succeeds and the failure stays armed for the next new VMA;
 *  - prepare, hook stages: mm/vma.c:call_mmap_prepare runs before the
 *    merge attempt, so the failure always reaches userspace (and the
 *    MAP_FIXED range, the PROT_NONE reservation, becomes a hole);
 *  - prepare, MAPPED: ->mapped is called only for a new VMA
 *    (__mmap_region: "have_mmap_prepare && allocated_new"), so a merged
 *    mmap() succeeds and the failure stays armed, like legacy.
 */
FIXTURE(merged) {
	int fd;
	size_t psz;
	char *base;		/* 4-page PROT_NONE reservation */
};

FIXTURE_VARIANT(merged) {
	bool prepare;
	__u32 stage;
	bool reached;		/* the second mmap() fails */
	int hook;		/* hook calls for the second mmap() */
};

FIXTURE_VARIANT_ADD(merged, prepare_entry) { true, ENTRY, true, 1 };
FIXTURE_VARIANT_ADD(merged, prepare_exit) { true, EXIT, true, 1 };
FIXTURE_VARIANT_ADD(merged, prepare_mapped) { true, MAPPED, false, 1 };
FIXTURE_VARIANT_ADD(merged, legacy_entry) { false, ENTRY, false, 0 };
FIXTURE_VARIANT_ADD(merged, legacy_exit) { false, EXIT, false, 0 };

FIXTURE_SETUP(merged)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;
	const char *lacks = variant->prepare ?
		prepare_lacks(MMAPDEMO_MODE_FAULT, variant->stage, 0) : NULL;

	if (lacks)
		SKIP(return, "%s", lacks);
	self->psz = getpagesize();
	ASSERT_GE(module_pages(), 4);
	self->fd = twin_open(dev, O_RDWR, MMAPDEMO_MODE_FAULT);
	ASSERT_GE(self->fd, 0);
	self->base = reserve(4 * self->psz);
	ASSERT_NE(MAP_FAILED, self->base);
}

FIXTURE_TEARDOWN(merged)
{
	munmap(self->base, 4 * self->psz);
	close(self->fd);
}

TEST_F(merged, failure_behind_a_merge)
{
	struct mmapdemo_stats before, after;
	size_t psz = self->psz;
	unsigned long b = (unsigned long)self->base;
	void *p;
	int err;

	p = mmap(self->base, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->fd, 0);
	ASSERT_EQ(self->base, p);
	self->base[0] = 1;
	ASSERT_EQ(0, twin_set_fail(self->fd, variant->stage, -EIO, 0));
	before = twin_stats(self->fd);
	p = mmap(self->base + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->fd, 2 * psz);
	err = errno;
	after = twin_stats(self->fd);
	EXPECT_EQ(before.hook_calls + variant->hook, after.hook_calls);
	EXPECT_EQ(before.mapped_calls, after.mapped_calls);
	EXPECT_EQ(before.vm_close, after.vm_close);
	EXPECT_EQ(before.live_objects, after.live_objects);
	if (variant->reached) {
		ASSERT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EIO, err);
		EXPECT_EQ(before.injected + 1, after.injected);
		/* the first mapping is untouched; the reservation half is gone */
		EXPECT_EQ(1, map_count_in(b, b + 4 * psz));
		EXPECT_EQ(0, map_count_in(b + 2 * psz, b + 4 * psz));
		EXPECT_EQ(1, self->base[0]);
		return;
	}
	ASSERT_EQ(self->base + 2 * psz, p);
	EXPECT_EQ(before.injected, after.injected);
	/* one VMA over both: merged, so no new VMA and no hook/->mapped */
	EXPECT_EQ(1, map_count_in(b, b + 4 * psz));
	self->base[2 * psz] = 2;

	/* still armed: the next new VMA gets it */
	p = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 0);
	err = errno;
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EIO, err);
	after = twin_stats(self->fd);
	EXPECT_EQ(before.injected + 1, after.injected);
	EXPECT_EQ(before.live_objects, after.live_objects);
}

/*
 * Does a failed mmap() give back its commit charge?  A private writable
 * mapping is charged in mm/vma.c:__mmap_setup (accountable_mapping,
 * security_vm_enough_memory_mm) before any hook runs.  A failing .mmap
 * goes to unacct_error in every series; a failing .mmap_prepare does only
 * from 7.2 (kernel_keeps_charge_of_failed_prepare in vma.h): 6.16 to 7.1
 * keep the charge for good.  Committed_AS (fs/proc/meminfo.c,
 * vm_memory_committed: an exact percpu_counter_sum) shows it.
 */
#define CHARGE_MAPS	64
#define CHARGE_LEN	(1UL << 20)

FIXTURE(charge) {
	int fd;
};

FIXTURE_VARIANT(charge) {
	bool prepare;
};

FIXTURE_VARIANT_ADD(charge, prepare) { .prepare = true };
FIXTURE_VARIANT_ADD(charge, legacy) { .prepare = false };

FIXTURE_SETUP(charge)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;

	if (twin_missing(variant->prepare))
		SKIP(return, NO_PREPARE_TWINS);
	self->fd = twin_open(dev, O_RDWR, MMAPDEMO_MODE_FAULT);
	ASSERT_GE(self->fd, 0) TH_LOG("%s: %s", dev, strerror(errno));
}

FIXTURE_TEARDOWN(charge)
{
	close(self->fd);
}

TEST_F(charge, failed_hook_returns_commit_charge)
{
	long before, after, kept;
	int i, err;
	void *p;

	before = meminfo_kb("Committed_AS");
	ASSERT_LE(0, before);
	for (i = 0; i < CHARGE_MAPS; i++) {
		/* fails at hook entry, before the range check: any length */
		ASSERT_EQ(0, twin_set_fail(self->fd, ENTRY, -EIO, 0));
		p = mmap(NULL, CHARGE_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE, self->fd, 0);
		err = errno;
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EIO, err);
	}
	after = meminfo_kb("Committed_AS");
	kept = variant->prepare && kernel_keeps_charge_of_failed_prepare() ?
		CHARGE_MAPS * (CHARGE_LEN >> 10) : 0;
	/* less than one mapping of noise from anything else in the guest */
	EXPECT_LT(labs(after - before - kept), (long)(CHARGE_LEN >> 11))
		TH_LOG("Committed_AS grew by %ld kB, expected %ld kB",
		       after - before, kept);
}

/*
 * MMAPDEMO_IOC_SET_FAIL validation (driver/common.c:mmapdemo_fail_check).
 * A bad error_override must never reach mm/util.c:check_mmap_action,
 * which would WARN; vm-run fails the run on any WARNING in the log.
 */
FIXTURE(set_fail) {
	int fd;
};

FIXTURE_VARIANT(set_fail) {
	bool prepare;
};

FIXTURE_VARIANT_ADD(set_fail, prepare) { true };
FIXTURE_VARIANT_ADD(set_fail, legacy) { false };

FIXTURE_SETUP(set_fail)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;

	if (twin_missing(variant->prepare))
		SKIP(return, NO_PREPARE_TWINS);
	self->fd = twin_open(dev, O_RDWR, MMAPDEMO_MODE_FAULT);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(set_fail)
{
	close(self->fd);
}

TEST_F(set_fail, bad_requests_are_einval)
{
	static const struct mmapdemo_fail bad[] = {
		{ MAPPED + 1, -EIO, 0, 0 },		/* unknown stage */
		{ ~0u, -EIO, 0, 0 },			/* unknown stage */
		{ ENTRY, 0, 0, 0 },			/* no error */
		{ ENTRY, EIO, 0, 0 },			/* positive */
		{ ENTRY, -4096, 0, 0 },			/* below -MAX_ERRNO */
		{ ENTRY, -512, 0, 0 },			/* -ERESTARTSYS: internal */
		{ ENTRY, -515, 0, 0 },			/* -ENOIOCTLCMD: internal */
		{ ENTRY, -EIO, 0, 1 },			/* reserved */
		{ MAPPED, -EIO, -4096, 0 },		/* bad override */
		{ MAPPED, -EIO, -516, 0 },		/* internal override */
		{ MAPPED, -EIO, 1, 0 },			/* bad override */
		{ MAPPED, -EIO, -2147483647 - 1, 0 },	/* bad override */
		{ MMAPDEMO_FAIL_NONE, -EIO, 0, 0 },	/* NONE takes no error */
		{ MMAPDEMO_FAIL_NONE, 0, -EIO, 0 },
	};
	struct mmapdemo_stats before, after;
	unsigned int i;
	void *p;

	before = twin_stats(self->fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, ioctl(self->fd, MMAPDEMO_IOC_SET_FAIL, &bad[i]))
			TH_LOG("request %u", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("request %u", i);
	}
	/* the legacy twin has no ->mapped and no action to override */
	if (!variant->prepare) {
		EXPECT_EQ(-1, twin_set_fail(self->fd, MAPPED, -EIO, 0));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, twin_set_fail(self->fd, ENTRY, -EIO, -EAGAIN));
		EXPECT_EQ(EINVAL, errno);
	}
	/* the extremes of the range are fine */
	EXPECT_EQ(0, twin_set_fail(self->fd, EXIT, -511, 0));
	EXPECT_EQ(0, twin_set_fail(self->fd, ENTRY, -1, 0));
	/* NONE disarms: nothing fires */
	EXPECT_EQ(0, twin_set_fail(self->fd, MMAPDEMO_FAIL_NONE, 0, 0));
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, getpagesize());
	after = twin_stats(self->fd);
	EXPECT_EQ(before.injected, after.injected);
}

/*
 * What the prepare twin cannot do on this kernel's API it refuses with
 * EOPNOTSUPP (driver/common.c:mmapdemo_fail_check, mmapdemo_set_mode),
 * and does everything else; the MMAPDEMO_FEAT_* bits say which is which
 * (uapi/mmapdemo.h: ->mapped 7.1; actions 6.19, where error_hook offers
 * only -EAGAIN; error_override 7.2; map kernel pages 7.1).
 */
TEST_F(set_fail, generation_refusals)
{
	static const struct {
		__u32 stage;
		int override;		/* positive errno, 0 = none */
	} req[] = {
		{ MAPPED, 0 },
		{ ENTRY, EAGAIN },
		{ ENTRY, EBUSY },
		{ MAPPED, EAGAIN },
	};
	__u32 mode;
	unsigned int i;
	int rc;

	if (!variant->prepare)
		SKIP(return, "the legacy twin can do all of it on every kernel");
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		const char *lacks = prepare_lacks(MMAPDEMO_MODE_FAULT,
						  req[i].stage, req[i].override);

		rc = twin_set_fail(self->fd, req[i].stage, -EIO,
				   -req[i].override);
		EXPECT_EQ(lacks ? -1 : 0, rc) TH_LOG("request %u: %s", i,
						    lacks ?: "expected to work");
		if (lacks)
			EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("request %u", i);
	}
	EXPECT_EQ(0, twin_set_fail(self->fd, MMAPDEMO_FAIL_NONE, 0, 0));
	for (mode = MMAPDEMO_MODE_FAULT; mode <= MMAPDEMO_MODE_PAGES; mode++) {
		const char *lacks = prepare_lacks(mode, 0, 0);

		rc = twin_set_mode(self->fd, mode);
		EXPECT_EQ(lacks ? -1 : 0, rc) TH_LOG("mode %u: %s", mode,
						    lacks ?: "expected to work");
		if (lacks)
			EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("mode %u", mode);
	}
}

/* Armed per open file: another open file of the same twin is unaffected. */
TEST_F(set_fail, per_open_file)
{
	int fd2 = open(variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY,
		       O_RDWR | O_CLOEXEC);
	void *p;

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, twin_set_fail(self->fd, ENTRY, -EIO, 0));
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, getpagesize());
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EIO, errno);
	close(fd2);
}

TEST_HARNESS_MAIN
