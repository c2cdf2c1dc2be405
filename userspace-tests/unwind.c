// SPDX-License-Identifier: GPL-2.0
/*
 * Error unwinding: a failure injected at every stage of both twins
 * (MMAPDEMO_IOC_SET_FAIL), on each backend - the character device, a file
 * of the filesystem twins, and that file through overlayfs and through
 * FUSE passthrough - and what the kernel undoes afterwards.
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
 * Through overlayfs (fs/overlayfs/file.c:ovl_mmap -> fs/backing-file.c:
 * backing_file_mmap -> include/linux/fs.h:vfs_mmap) the failing hook is
 * inside the overlay's .mmap, step 4 of the outer mmap(): .mmap for the
 * legacy twin, mm/util.c:compat_vma_mmap for the prepare twin, which runs
 * .mmap_prepare and ->mapped on the VMA that already exists.  Through
 * FUSE passthrough the same (fs/fuse/file.c:fuse_file_mmap ->
 * fs/fuse/passthrough.c:fuse_passthrough_mmap -> backing_file_mmap), and
 * the errno is what fuse_passthrough_mmap returned, backing_file_mmap's
 * unchanged.
 * So every injected failure leaves a hole under MAP_FIXED, for both twins,
 * every stage and every backend, and the override changes only a direct
 * ->mapped failure.
 *
 * The injected error is -EIO; the override is -EAGAIN (as /dev/mem,
 * drivers/char/mem.c:mmap_mem_prepare).  The mode changes none of the
 * expected values, so every mode of the backend is run to show it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

/*
 * A test's limit, past the harness's 30 s (TEST_TIMEOUT_DEFAULT): one
 * unwind scenario reads the commit-charge ledger (ledger.h) at each step,
 * and on the debug kernel (KASAN, lockdep) of a loaded 2-core machine
 * some took over 30 s and were killed with no assertion failed, leaving
 * the module referenced (docs/kernels.md, the 6.18 runs).
 */
#define UNWIND_TEST_SECONDS	180

/* kbug_present(KBUG_MERGE_CLOBBER) below */
KBUGS_WANT(KBUGS_ALL);

#define FAULT	MMAPDEMO_MODE_FAULT
#define FLAGS	MMAPDEMO_MODE_FLAGS
#define REMAP	MMAPDEMO_MODE_REMAP
#define PAGES	MMAPDEMO_MODE_PAGES
#define ENTRY	MMAPDEMO_FAIL_HOOK_ENTRY
#define EXIT	MMAPDEMO_FAIL_HOOK_EXIT
#define MAPPED	MMAPDEMO_FAIL_MAPPED

static char maps_before[65536], maps_after[65536];

FIXTURE(unwind) {
	struct testbed tb;
};

FIXTURE_VARIANT(unwind) {
	enum backend backend;
	bool prepare;
	__u32 mode;
	__u32 stage;
	int override;		/* error_override as a positive errno, 0 = none */
};

/*
 * One variant: the twin on backend be in mode md, failing at stage st,
 * error_override ovr (a positive errno, or 0).
 */
#define UNWIND_VARIANT(v, be, twin, md, st, ovr)			\
	FIXTURE_VARIANT_ADD(unwind, v) {				\
		.backend = (be), .prepare = (twin), .mode = (md),	\
		.stage = (st), .override = (ovr),			\
	};
/* The prepare twin in mode md: each stage, without and with the override */
#define UNWIND_PREPARE(pfx, be, m, md)					\
	UNWIND_VARIANT(pfx##prepare_##m##_entry, be, true, md, ENTRY, 0) \
	UNWIND_VARIANT(pfx##prepare_##m##_entry_ovr, be, true, md, ENTRY, \
		       EAGAIN)						\
	UNWIND_VARIANT(pfx##prepare_##m##_exit, be, true, md, EXIT, 0)	\
	UNWIND_VARIANT(pfx##prepare_##m##_exit_ovr, be, true, md, EXIT,	\
		       EAGAIN)						\
	UNWIND_VARIANT(pfx##prepare_##m##_mapped, be, true, md, MAPPED, 0) \
	UNWIND_VARIANT(pfx##prepare_##m##_mapped_ovr, be, true, md,	\
		       MAPPED, EAGAIN)
/* The legacy twin: hook entry and exit (no ->mapped, no override) */
#define UNWIND_LEGACY(pfx, be, m, md)					\
	UNWIND_VARIANT(pfx##legacy_##m##_entry, be, false, md, ENTRY, 0) \
	UNWIND_VARIANT(pfx##legacy_##m##_exit, be, false, md, EXIT, 0)

/* The character device: every mode */
UNWIND_PREPARE(, BACKEND_DEV, fault, FAULT)
UNWIND_PREPARE(, BACKEND_DEV, flags, FLAGS)
UNWIND_PREPARE(, BACKEND_DEV, remap, REMAP)
UNWIND_PREPARE(, BACKEND_DEV, pages, PAGES)
UNWIND_LEGACY(, BACKEND_DEV, fault, FAULT)
UNWIND_LEGACY(, BACKEND_DEV, flags, FLAGS)
UNWIND_LEGACY(, BACKEND_DEV, remap, REMAP)
UNWIND_LEGACY(, BACKEND_DEV, pages, PAGES)

/* A file of the filesystem twins: FAULT and FLAGS, the modes they have */
UNWIND_PREPARE(fs_, BACKEND_FS, fault, FAULT)
UNWIND_PREPARE(fs_, BACKEND_FS, flags, FLAGS)
UNWIND_LEGACY(fs_, BACKEND_FS, fault, FAULT)
UNWIND_LEGACY(fs_, BACKEND_FS, flags, FLAGS)

/* That file through overlayfs */
UNWIND_PREPARE(ovl_, BACKEND_OVERLAY, fault, FAULT)
UNWIND_PREPARE(ovl_, BACKEND_OVERLAY, flags, FLAGS)
UNWIND_LEGACY(ovl_, BACKEND_OVERLAY, fault, FAULT)
UNWIND_LEGACY(ovl_, BACKEND_OVERLAY, flags, FLAGS)

/*
 * FUSE passthrough (fuse.c): the FAULT mode, as fuse.c had it.  The mode
 * and the armed failure are set on the lower mount's root and taken by
 * the kernel's own open of the backing file, per FUSE open
 * (fs/fuse/passthrough.c:fuse_passthrough_open -> backing_file_open); the
 * testbed's fd, opened first and unarmed, keeps the server's one
 * registration of f (fuse_server.c) for the opens of the tests.
 * - entry, exit: mm/util.c:compat_vma_mmap returns the hook's error
 *   verbatim;
 * - mapped: mm/util.c:mmap_action_finish, compat: raw, no unmap, "if (!err
 *   || is_compat) return err;" (7.1.13:mm/util.c:1408-1409, 7.3: 1407):
 *   error_override ignored; mm/internal.h:mmap_file: no ->close;
 * - legacy: mm/internal.h:mmap_file: the .mmap error verbatim, no ->close.
 */
UNWIND_PREPARE(fuse_, BACKEND_FUSE, fault, FAULT)
UNWIND_LEGACY(fuse_, BACKEND_FUSE, fault, FAULT)

/* Through backing_file_mmap: overlayfs or FUSE passthrough. */
static bool stacked(const FIXTURE_VARIANT(unwind) *variant)
{
	return variant->backend == BACKEND_OVERLAY ||
	       variant->backend == BACKEND_FUSE;
}

FIXTURE_SETUP(unwind)
{
	const char *lacks = variant->prepare ?
		prepare_lacks(variant->mode, variant->stage, variant->override) :
		NULL;

	if (lacks)
		SKIP(return, "%s", lacks);
	if (stacked(variant) &&
	    skip_without_stacked_prepare(_metadata, variant->prepare))
		return;
	testbed_setup(_metadata, &self->tb, variant->backend, variant->prepare,
		      variant->mode, 4);
}

FIXTURE_TEARDOWN(unwind)
{
	testbed_teardown(_metadata, &self->tb);
}

/*
 * The errno of the failed mmap().  A hook's own error comes back verbatim
 * (mm/vma.c:call_mmap_prepare, __mmap_new_file_vma; through overlayfs
 * mm/util.c:compat_vma_mmap and the overlay's .mmap): the override is read
 * only by mm/util.c:mmap_action_finish, after ->mapped - "action->
 * error_override ?: err" - and through overlayfs not even there: "if (!err
 * || is_compat) return err;" returns the raw error first.
 */
static int want_errno(const FIXTURE_VARIANT(unwind) *variant)
{
	if (variant->stage == MAPPED && variant->override &&
	    !stacked(variant))
		return variant->override;
	return EIO;
}

/* ->mapped calls for the failed mmap(): only a ->mapped failure gets there. */
static int want_mapped(const FIXTURE_VARIANT(unwind) *variant)
{
	return variant->stage == MAPPED;
}

/*
 * ->close calls for it.  A failing .mmap_prepare ran before any VMA
 * existed; a failing .mmap leaves a VMA with the dummy vm_ops of
 * mm/internal.h:mmap_file, so the twin freed its state itself
 * (driver/common.c:mmapdemo_legacy_attach).  After ->mapped,
 * mmap_action_finish do_munmap()s the new VMA (mm/vma.c:remove_vma ->
 * vma_close: ->close once, vm_private_data NULL, as mm/util.c:
 * call_vma_mapped stores it only on success).  Through overlayfs or FUSE
 * the outer __mmap_new_file_vma unwinds it as any .mmap failure: dummy
 * vm_ops, no ->close, even after ->mapped put ours on the VMA.
 */
static int want_close(const FIXTURE_VARIANT(unwind) *variant)
{
	return variant->stage == MAPPED && !stacked(variant);
}

/* Hook calls (legacy) or ->mapped calls (prepare) that get no ->close. */
static int unclosed_by(const FIXTURE_VARIANT(unwind) *variant)
{
	return (variant->prepare ? want_mapped(variant) : 1) - want_close(variant);
}

/*
 * The counters across one mmap() that failed where the variant says; the
 * VMAs the kernel never closes are noted for testbed_teardown.
 */
static void expect_unwound(struct __test_metadata *_metadata,
			   struct testbed *tb,
			   const FIXTURE_VARIANT(unwind) *variant,
			   const struct mmapdemo_stats *b,
			   const struct mmapdemo_stats *a)
{
	expect_unwound_counts(_metadata, b, a, want_mapped(variant),
			      want_close(variant));
	tb->unclosed += unclosed_by(variant);
}

/* A new open of the twin in the variant's mode, with its failure armed. */
static int open_armed(struct testbed *tb,
		      const FIXTURE_VARIANT(unwind) *variant)
{
	return target_open_armed(&tb->t, variant->mode, variant->stage,
				 variant->override);
}

/* A plain mmap() fails and leaves /proc/self/maps exactly as it was. */
TEST_F_TIMEOUT(unwind, plain_mmap, UNWIND_TEST_SECONDS)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats before, after;
	size_t len = 2 * tb->psz;
	char *p;
	int fd, err;

	fd = open_armed(tb, variant);
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(errno));
	before = target_stats(&tb->t);
	ASSERT_LT(0, maps_snapshot(maps_before, sizeof(maps_before)));
	p = mmap(NULL, len, tb->t.prot, MAP_SHARED, fd, 0);
	err = errno;
	ASSERT_LT(0, maps_snapshot(maps_after, sizeof(maps_after)));
	after = target_stats(&tb->t);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(want_errno(variant), err) TH_LOG("errno %s", strerror(err));
	EXPECT_STREQ(maps_before, maps_after);
	expect_unwound(_metadata, tb, variant, &before, &after);

	/* one-shot: the failure was consumed, the next mmap() works */
	p = mmap(NULL, len, tb->t.prot, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* the file's page 1; the device's buffer holds nothing known */
	if (variant->backend != BACKEND_DEV)
		EXPECT_EQ('b', p[tb->psz]);
	ASSERT_EQ(0, munmap(p, len));
	after = target_stats(&tb->t);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(1, DELTA(before, after, injected));
	close(fd);
}

/*
 * The failure came after mm/vma.c:vms_clean_up_area zapped the old pages:
 * vms_abort_munmap_vmas (clear_ptes false), or the do_munmap of
 * mmap_action_finish, leaves a hole (fixture.h:expect_hole).
 */
/* MAP_FIXED over the middle two pages of anon_four(). */
TEST_F_TIMEOUT(unwind, fixed_over_anon_leaves_a_hole, UNWIND_TEST_SECONDS)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats before, after;
	char *base = anon_four();
	void *p;
	int fd, err;

	ASSERT_NE(NULL, base);
	fd = open_armed(tb, variant);
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(errno));
	before = target_stats(&tb->t);
	p = mmap(base + tb->psz, 2 * tb->psz, tb->t.prot,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	err = errno;
	after = target_stats(&tb->t);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(want_errno(variant), err) TH_LOG("errno %s", strerror(err));
	expect_unwound(_metadata, tb, variant, &before, &after);
	expect_hole(_metadata, base);
	anon_four_free(base);
	close(fd);
}

/*
 * MAP_FIXED over a mapping of the same twin: its ->close runs in
 * mm/vma.c:vms_clean_up_area, before the hook, so the twin sees one
 * ->close more than in fixed_over_anon_leaves_a_hole - the old VMA's,
 * with no ->open to match - and its state is freed there; the range ends
 * as a hole (mm/vma.c:vms_abort_munmap_vmas), never the old mapping.
 */
TEST_F_TIMEOUT(unwind, fixed_over_own_mapping_closes_it_first, UNWIND_TEST_SECONDS)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats before, after;
	size_t len = 2 * tb->psz;
	unsigned char v;
	char *old;
	void *p;
	int fd, err;

	before = target_stats(&tb->t);
	old = mmap(NULL, len, tb->t.prot, MAP_SHARED, tb->fd, 0);
	ASSERT_NE(MAP_FAILED, old);
	EXPECT_EQ(0, probe_read(old, &v));	/* a page table entry to zap */
	fd = open_armed(tb, variant);
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(errno));
	p = mmap(old, len, tb->t.prot, MAP_SHARED | MAP_FIXED, fd, 0);
	err = errno;
	after = target_stats(&tb->t);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(want_errno(variant), err) TH_LOG("errno %s", strerror(err));
	EXPECT_EQ(2, DELTA(before, after, hook_calls));
	EXPECT_EQ(0, DELTA(before, after, vm_open));
	EXPECT_EQ(1 + want_close(variant), DELTA(before, after, vm_close));
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(1, DELTA(before, after, injected));
	EXPECT_EQ(SIGSEGV, probe_read(old, &v));
	EXPECT_EQ(0, map_count_in((unsigned long)old, (unsigned long)old + len));
	tb->unclosed += unclosed_by(variant);
	close(fd);
}

/*
 * A failure before the hook: RLIMIT_AS has no room for the one page a
 * MAP_FIXED replacement of pages [2, 5) of anon_four() adds
 * (mm/vma.c:__mmap_setup -> may_expand_vm, -ENOMEM).  The old VMAs were
 * split and detached but their PTEs not yet zapped (clear_ptes), so
 * mm/vma.c:vms_abort_munmap_vmas reattaches them: the old data survives.
 * The hook is not called, so the armed failure is not consumed and fires
 * on the next mmap().
 */
TEST_F_TIMEOUT(unwind, before_the_hook_old_mapping_survives, UNWIND_TEST_SECONDS)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats before, after;
	char *base = anon_four();
	struct old_pages o;
	void *p;
	int fd, err, i;

	ASSERT_NE(NULL, base);
	fd = open_armed(tb, variant);
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(errno));
	before = target_stats(&tb->t);
	p = mmap_at_rlimit(base + 2 * tb->psz, 3 * tb->psz, tb->t.prot,
			   MAP_SHARED | MAP_FIXED, fd, 0);
	err = errno;
	after = target_stats(&tb->t);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENOMEM, err) TH_LOG("errno %s", strerror(err));
	old_pages_read(base, &o);
	for (i = 0; i < 4; i++) {
		EXPECT_TRUE(o.intact[i]) TH_LOG("page %d", i);
	}
	/*
	 * mm/vma.c:vms_gather_munmap_vmas split the old VMA at page 2 before
	 * may_expand_vm failed; mm/vma.c:reattach_vmas only marks the
	 * detached piece attached again, nothing merges it back ("we don't
	 * undo the first split", vms_gather_munmap_vmas).
	 */
	EXPECT_EQ(2, o.vmas);
	/* no hook, no VMA, nothing injected */
	EXPECT_EQ(0, DELTA(before, after, hook_calls));
	EXPECT_EQ(0, DELTA(before, after, mapped_calls));
	EXPECT_EQ(0, DELTA(before, after, vm_close));
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(0, DELTA(before, after, injected));

	/* still armed: it fires on the next mmap(), as in plain_mmap */
	p = mmap(NULL, 2 * tb->psz, tb->t.prot, MAP_SHARED, fd, 0);
	err = errno;
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(want_errno(variant), err);
	after = target_stats(&tb->t);
	EXPECT_EQ(1, DELTA(before, after, injected));
	EXPECT_EQ(before.live_objects, after.live_objects);
	tb->unclosed += unclosed_by(variant);
	anon_four_free(base);
	close(fd);
}

/*
 * Does the second of two adjacent mmaps of one fd merge (merge.c)?  In
 * FAULT mode in both twins; in FLAGS mode only in the prepare twin, whose
 * flags are set before the merge attempt; REMAP and PAGES set VM_SPECIAL
 * flags, which never merge.
 */
static bool second_merges(const FIXTURE_VARIANT(unwind) *variant)
{
	return variant->mode == FAULT ||
	       (variant->mode == FLAGS && variant->prepare);
}

/*
 * A failure armed before the second of two adjacent mmaps of one fd:
 *  - it merges, legacy: vma_merge_new_range swallows the mmap() before
 *    __mmap_new_file_vma, so .mmap is never called: mmap() succeeds and
 *    the failure stays armed for the next new VMA;
 *  - it merges, prepare, hook stages: mm/vma.c:call_mmap_prepare runs
 *    before the merge attempt, so the failure always reaches userspace
 *    (and the MAP_FIXED range, the PROT_NONE reservation, becomes a hole);
 *  - it merges, prepare, MAPPED: ->mapped is called only for a new VMA
 *    (__mmap_region: "have_mmap_prepare && allocated_new"), so the merged
 *    mmap() succeeds and the failure stays armed, as for legacy;
 *  - it does not merge: a new VMA, and the failure is reached.
 */
TEST_F_TIMEOUT(unwind, failure_behind_a_merge, UNWIND_TEST_SECONDS)
{
	struct testbed *tb = &self->tb;
	bool reached = !second_merges(variant) ||
		       (variant->prepare && variant->stage != MAPPED);
	struct mmapdemo_stats before, after;
	size_t psz = tb->psz;
	unsigned long b;
	char *base;
	void *p;
	int err;

	if (stacked(variant))
		SKIP(return, "stacked mappings never merge (stacked.c: no_merge)");
	base = reserve(4 * psz);
	ASSERT_NE(MAP_FAILED, base);
	b = (unsigned long)base;
	ASSERT_EQ(base, map_at(tb->fd, base, 0, 2, tb->t.prot));
	base[0] = 1;
	ASSERT_EQ(0, twin_set_fail(tb->fd, variant->stage, -EIO,
				   -variant->override));
	before = target_stats(&tb->t);
	p = map_at(tb->fd, base, 2, 2, tb->t.prot);
	err = errno;
	after = target_stats(&tb->t);
	if (reached) {
		ASSERT_EQ(MAP_FAILED, p);
		EXPECT_EQ(want_errno(variant), err);
		expect_unwound(_metadata, tb, variant, &before, &after);
		/* the first mapping is untouched; the reservation half is gone */
		EXPECT_EQ(1, map_count_in(b, b + 4 * psz));
		EXPECT_EQ(0, map_count_in(b + 2 * psz, b + 4 * psz));
		EXPECT_EQ(1, base[0]);
		munmap(base, 4 * psz);
		return;
	}
	ASSERT_EQ(base + 2 * psz, p);
	/* merged: no new VMA, so no .mmap and no ->mapped */
	EXPECT_EQ(variant->prepare, DELTA(before, after, hook_calls));
	EXPECT_EQ(0, DELTA(before, after, mapped_calls));
	EXPECT_EQ(0, DELTA(before, after, vm_close));
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(0, DELTA(before, after, injected));
	EXPECT_EQ(1, map_count_in(b, b + 4 * psz));
	base[2 * psz] = 2;
	/*
	 * kernel-bug merge-clobber, measured (kbugs.h): the merged mmap set
	 * the first VMA's vm_private_data to its NULL; that state is never
	 * put again.
	 */
	if (variant->prepare && tb->state && kbug_present(KBUG_MERGE_CLOBBER))
		tb->orphans++;

	/* still armed: the next new VMA gets it */
	p = mmap(NULL, 2 * psz, tb->t.prot, MAP_SHARED, tb->fd, 0);
	err = errno;
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(want_errno(variant), err);
	after = target_stats(&tb->t);
	EXPECT_EQ(1, DELTA(before, after, injected));
	EXPECT_EQ(before.live_objects, after.live_objects);
	tb->unclosed += unclosed_by(variant);
	munmap(base, 4 * psz);
}

/*
 * Does a failed mmap() give back its commit charge?  A private writable
 * mapping is charged in mm/vma.c:__mmap_setup (accountable_mapping,
 * security_vm_enough_memory_mm) before any hook runs.  A failing .mmap
 * goes to unacct_error in every series; a failing .mmap_prepare does only
 * without kernel-bug charge-kept (kbugs.h, measured by bugs.c: 6.16 to
 * 7.1 and 7.2.0 to 7.2.7 keep the charge for good).  Committed_AS (fs/proc/meminfo.c,
 * vm_memory_committed: an exact percpu_counter_sum) shows it.
 */
#define CHARGE_MAPS	64
#define CHARGE_LEN	(1UL << 20)

TWIN_FIXTURE(charge, BACKEND_DEV, 1)

TEST_F_TIMEOUT(charge, failed_hook_returns_commit_charge, UNWIND_TEST_SECONDS)
{
	long before, after, kept;
	int i, err;
	void *p;

	before = meminfo_kb("Committed_AS");
	ASSERT_LE(0, before);
	for (i = 0; i < CHARGE_MAPS; i++) {
		/* fails at hook entry, before the range check: any length */
		ASSERT_EQ(0, twin_set_fail(self->tb.fd, ENTRY, -EIO, 0));
		p = mmap(NULL, CHARGE_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE, self->tb.fd, 0);
		err = errno;
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EIO, err);
		self->tb.unclosed += !variant->prepare;
	}
	after = meminfo_kb("Committed_AS");
	kept = variant->prepare && kbug_present(KBUG_CHARGE_KEPT) ?
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
TWIN_FIXTURE(set_fail, BACKEND_DEV, 1)

TEST_F_TIMEOUT(set_fail, bad_requests_are_einval, UNWIND_TEST_SECONDS)
{
	static const struct mmapdemo_fail bad[] = {
		{ .stage = MAPPED + 1, .error = -EIO },		/* unknown stage */
		{ .stage = ~0u, .error = -EIO },		/* unknown stage */
		{ .stage = ENTRY, .error = 0 },			/* no error */
		{ .stage = ENTRY, .error = EIO },		/* positive */
		{ .stage = ENTRY, .error = -4096 },		/* below -MAX_ERRNO */
		{ .stage = ENTRY, .error = -512 },		/* -ERESTARTSYS: internal */
		{ .stage = ENTRY, .error = -515 },		/* -ENOIOCTLCMD: internal */
		{ .stage = ENTRY, .error = -EIO, .reserved = 1 },
		{ .stage = MAPPED, .error = -EIO, .error_override = -4096 },
		/* internal override */
		{ .stage = MAPPED, .error = -EIO, .error_override = -516 },
		{ .stage = MAPPED, .error = -EIO, .error_override = 1 },
		{ .stage = MAPPED, .error = -EIO,
		  .error_override = -2147483647 - 1 },
		/* NONE takes no error and no override */
		{ .stage = MMAPDEMO_FAIL_NONE, .error = -EIO },
		{ .stage = MMAPDEMO_FAIL_NONE, .error_override = -EIO },
	};
	int fd = self->tb.fd;
	struct mmapdemo_stats before, after;
	unsigned int i;
	void *p;

	before = twin_stats(fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_FAIL, &bad[i]))
			TH_LOG("request %u", i);
		EXPECT_EQ(EINVAL, errno) TH_LOG("request %u", i);
	}
	/* the legacy twin has no ->mapped and no action to override */
	if (!variant->prepare) {
		EXPECT_EQ(-1, twin_set_fail(fd, MAPPED, -EIO, 0));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, twin_set_fail(fd, ENTRY, -EIO, -EAGAIN));
		EXPECT_EQ(EINVAL, errno);
	}
	/* the extremes of the range are fine */
	EXPECT_EQ(0, twin_set_fail(fd, EXIT, -511, 0));
	EXPECT_EQ(0, twin_set_fail(fd, ENTRY, -1, 0));
	/* NONE disarms: nothing fires */
	EXPECT_EQ(0, twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0));
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, getpagesize());
	after = twin_stats(fd);
	EXPECT_EQ(before.injected, after.injected);
}

/*
 * What the prepare twin cannot do on this kernel's API it refuses with
 * EOPNOTSUPP (driver/common.c:mmapdemo_fail_check, mmapdemo_set_mode),
 * and does everything else; the MMAPDEMO_FEAT_* bits say which is which
 * (uapi/mmapdemo.h: ->mapped 7.1; actions 6.19, where error_hook offers
 * only -EAGAIN; error_override 7.2; map kernel pages 7.1).
 */
TEST_F_TIMEOUT(set_fail, generation_refusals, UNWIND_TEST_SECONDS)
{
	static const struct {
		__u32 stage;
		int override;		/* positive errno, 0 = none */
	} req[] = {
		{ .stage = MAPPED },
		{ .stage = ENTRY, .override = EAGAIN },
		{ .stage = ENTRY, .override = EBUSY },
		{ .stage = MAPPED, .override = EAGAIN },
	};
	int fd = self->tb.fd;
	unsigned int i;
	__u32 mode;
	int rc;

	if (!variant->prepare)
		SKIP(return, "the legacy twin can do all of it on every kernel");
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		const char *lacks = prepare_lacks(FAULT, req[i].stage,
						  req[i].override);

		rc = twin_set_fail(fd, req[i].stage, -EIO, -req[i].override);
		EXPECT_EQ(lacks ? -1 : 0, rc) TH_LOG("request %u: %s", i,
						    lacks ?: "expected to work");
		if (lacks) {
			EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("request %u", i);
		}
	}
	EXPECT_EQ(0, twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0));
	for (mode = FAULT; mode <= PAGES; mode++) {
		const char *lacks = prepare_lacks(mode, 0, 0);

		rc = twin_set_mode(fd, mode);
		EXPECT_EQ(lacks ? -1 : 0, rc) TH_LOG("mode %u: %s", mode,
						    lacks ?: "expected to work");
		if (lacks) {
			EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("mode %u", mode);
		}
	}
}

/* Armed per open file: another open file of the same twin is unaffected. */
TEST_F_TIMEOUT(set_fail, per_open_file, UNWIND_TEST_SECONDS)
{
	int fd2 = target_open(&self->tb.t, O_RDWR, FAULT);
	void *p;

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, twin_set_fail(self->tb.fd, ENTRY, -EIO, 0));
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, p);
	munmap(p, getpagesize());
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, self->tb.fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EIO, errno);
	self->tb.unclosed += !variant->prepare;
	close(fd2);
}

TEST_HARNESS_MAIN
