// SPDX-License-Identifier: GPL-2.0
/*
 * Does a second mmap() of the same fd, adjacent and with the next offset,
 * merge into the first VMA?  And what do the driver's callbacks see when
 * it does, when a VMA is split, forked, or mprotect()ed?
 *
 * Adjacency comes from a PROT_NONE reservation and MAP_FIXED, as in
 * tools/testing/selftests/mm/merge.c.  Each mapping is MAP_SHARED
 * (MAP_PRIVATE in the KSM and anon-name tests), PROT_READ|PROT_WRITE, of
 * the character device or of a file of the filesystem twins (FAULT and
 * FLAGS): the expected values are the same for both.  Through overlayfs
 * nothing merges: stacked.c.  The mm features that gate merging (KSM,
 * userfaultfd, NUMA policy, anon names, soft-dirty): docs/behaviour.md,
 * "Merging under the mm features that gate it".
 *
 * Where the twins differ (mm/vma.c:__mmap_region): the only merge attempt,
 * vma_merge_new_range(), runs after .mmap_prepare but before .mmap, and
 * 7.3 has no retry merge.  So a legacy hook that sets merge-relevant flags
 * (FLAGS: dc dd) leaves two VMAs where the prepare twin has one.  A merged
 * legacy mmap never reaches .mmap (__mmap_new_file_vma is not called);
 * .mmap_prepare runs for every mmap, ->mapped only for a new VMA
 * (mm/util.c:mmap_action_finish).  REMAP and PAGES set VM_SPECIAL flags
 * (pf io de / mm), and vma_merge_new_range() never merges those.
 *
 * With and without ->close: the ..._noclose variants map files in state
 * shape MMAPDEMO_STATE_NONE, whose vm_ops have no ->open, ->close or
 * ->mapped.  A merge that removes a VMA needs that (mm/vma.c:
 * can_merge_remove_vma, 6.12 to 7.3), so a partial mprotect() round trip
 * or a mapping into the gap between two others joins the pieces into one
 * VMA only there (docs/behaviour.md, "Do you need ->close?").
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

/* kbug_present(KBUG_MERGE_CLOBBER) below */
KBUGS_WANT(KBUGS_ALL);

#define FAULT	MMAPDEMO_MODE_FAULT
#define FLAGS	MMAPDEMO_MODE_FLAGS
#define REMAP	MMAPDEMO_MODE_REMAP
#define PAGES	MMAPDEMO_MODE_PAGES

FIXTURE(merge) {
	struct testbed tb;
	char *base;		/* 8-page PROT_NONE reservation */
	int vmas, partial_open;	/* the table's, or a retry-merge kernel's */
	int objs;		/* state objects per new VMA: 1, or 0 (below) */
	int mapped;		/* ->mapped calls for the two mmaps */
	int pair_extra;		/* objects beyond objs per VMA after map_pair() */
	int pair_orphans;	/* state objects orphaned by one map_pair() */
	int pair_unclosed;	/* VMAs one map_pair() leaves without ->close */
	/* ->open and ->close calls per split, copy or VMA: 0 for NONE */
	int ops;
	int round_vmas;		/* VMAs after a full mprotect() round trip */
};

/*
 * fixture.h: every mode of the character device, FAULT and FLAGS of a
 * file; and FAULT and FLAGS once more without ->close
 */
TWIN_MODE_VARIANTS(merge, )
TWIN_NOCLOSE_VARIANTS(merge, )

/* What two adjacent mmaps of one twin in one mode do, on any backend. */
struct pair_expect {
	int vmas;		/* VMAs after two adjacent mmaps */
	int hook;		/* hook calls for the two mmaps */
	int mapped;		/* ->mapped calls for the two mmaps */
	bool dontcopy;		/* the VMA is not copied on fork */
	int partial_vmas;	/* VMAs after a round trip over 3 of 4 pages */
	int partial_open;	/* ->open calls in that round trip */
	int round_vmas;		/* NONE: VMAs after a round trip over all */
};

static const struct pair_expect prepare_pair[] = {
	/* hook x2 (call_mmap_prepare), merged -> ->mapped x1 */
	[FAULT] = { .vmas = 1, .hook = 2, .mapped = 1,
		    .partial_vmas = 2, .partial_open = 1 },
	/* dc dd set before vma_merge_new_range -> merged */
	[FLAGS] = { .vmas = 1, .hook = 2, .mapped = 1, .dontcopy = true,
		    .partial_vmas = 2, .partial_open = 1 },
	/* VMA_SPECIAL_FLAGS: vma_merge_new_range returns early, 2 new VMAs */
	[REMAP] = { .vmas = 2, .hook = 2, .mapped = 2,
		    .partial_vmas = 3, .partial_open = 1 },
	[PAGES] = { .vmas = 2, .hook = 2, .mapped = 2,
		    .partial_vmas = 3, .partial_open = 1 },
};

static const struct pair_expect legacy_pair[] = {
	/* merged in vma_merge_new_range, .mmap x1, no ->mapped */
	[FAULT] = { .vmas = 1, .hook = 1,
		    .partial_vmas = 2, .partial_open = 1 },
	/* dc dd set after the merge attempt, no retry -> 2 VMAs, .mmap x2 */
	[FLAGS] = { .vmas = 2, .hook = 2, .dontcopy = true,
		    .partial_vmas = 2, .partial_open = 0 },
	[REMAP] = { .vmas = 2, .hook = 2,
		    .partial_vmas = 3, .partial_open = 1 },
	[PAGES] = { .vmas = 2, .hook = 2,
		    .partial_vmas = 3, .partial_open = 1 },
};

/*
 * The ->close-less twins (MMAPDEMO_STATE_NONE: FAULT and FLAGS).  Mapping
 * time is as above: vma_merge_new_range() only extends a neighbour.  But
 * mm/vma.c:vma_merge_existing_range may now remove the VMA it changes
 * (can_merge_remove_vma: no ->close; 6.18.15:mm/vma.c:776-779, 882):
 *  - partial round trip (see partial_mprotect_round_trip): back to RW,
 *    [0,3) merges into [3,4) by removing itself -> 1 VMA, every twin;
 *  - full round trip, legacy FLAGS [0,2) [2,4): READ changes [0,2) in
 *    place, then merges [2,4) into it by removing [2,4) -> 1 VMA, which
 *    stays 1 back to RW.  The one VMA of the others stays 1.
 * No ->open: no open count (include/linux/mm.h: vm_operations_struct).
 */
static const struct pair_expect noclose_prepare_pair[] = {
	[FAULT] = { .vmas = 1, .hook = 2, .mapped = 0,
		    .partial_vmas = 1, .round_vmas = 1 },
	[FLAGS] = { .vmas = 1, .hook = 2, .mapped = 0, .dontcopy = true,
		    .partial_vmas = 1, .round_vmas = 1 },
};

static const struct pair_expect noclose_legacy_pair[] = {
	[FAULT] = { .vmas = 1, .hook = 1,
		    .partial_vmas = 1, .round_vmas = 1 },
	[FLAGS] = { .vmas = 2, .hook = 2, .dontcopy = true,
		    .partial_vmas = 1, .round_vmas = 1 },
};

static const struct pair_expect *expect_of(const FIXTURE_VARIANT(merge) *variant)
{
	if (variant->state == MMAPDEMO_STATE_NONE)
		return &(variant->prepare ? noclose_prepare_pair :
					    noclose_legacy_pair)[variant->mode];
	return &(variant->prepare ? prepare_pair : legacy_pair)[variant->mode];
}

FIXTURE_SETUP(merge)
{
	const struct pair_expect *e = expect_of(variant);

	self->base = reserve(8 * getpagesize());
	ASSERT_NE(MAP_FAILED, self->base);
	self->vmas = e->vmas;
	self->partial_open = e->partial_open;
	self->objs = 1;
	self->mapped = e->mapped;
	self->ops = 1;
	/* with ->close vma_merge_existing_range removes no VMA */
	self->round_vmas = e->vmas;
	if (variant->state == MMAPDEMO_STATE_NONE) {
		/* no ->open, ->close, ->mapped: nothing allocated, counted */
		self->objs = 0;
		self->ops = 0;
		self->round_vmas = e->round_vmas;
	}
	if (variant->prepare && !prepare_keeps_state()) {
		/* no vm_ops->mapped before 7.1: the twin keeps no state */
		self->objs = 0;
		self->mapped = 0;
	}
	if (variant->prepare && e->vmas == 1 && self->objs &&
	    kbug_present(KBUG_MERGE_CLOBBER)) {
		/*
		 * kernel-bug merge-clobber, measured (kbugs.h; 7.1.13
		 * mm/vma.c:__mmap_region): the merged second mmap sets
		 * the first VMA's vm_private_data to its desc->private_data,
		 * NULL; the first mmap's state object is never put again.
		 */
		self->pair_orphans = 1;
	}
	if (!variant->prepare && variant->mode == FLAGS &&
	    kernel_retries_merge()) {
		/*
		 * 6.12 mm/mmap.c:mmap_region: the second .mmap sets dc dd,
		 * the retry merge joins it to the first VMA and frees it
		 * without ->close.  One VMA, as in FAULT mode, and one
		 * orphaned state object per pair (none without state).
		 */
		self->vmas = 1;
		self->round_vmas = 1;
		self->partial_open = self->ops;
		self->pair_extra = self->objs;
		self->pair_orphans = self->objs;
		self->pair_unclosed = self->ops;
	}
	if (testbed_setup(_metadata, &self->tb, variant->backend,
			  variant->prepare, variant->mode, 4))
		return;
	if (variant->state)
		testbed_set_state(_metadata, &self->tb, variant->state);
}

FIXTURE_TEARDOWN(merge)
{
	munmap(self->base, 8 * getpagesize());
	testbed_teardown(_metadata, &self->tb);
}

/* Map pages [first, first + n) of the twin at base + first pages. */
static char *map_pages(FIXTURE_DATA(merge) *self, int first, int n)
{
	return map_at(self->tb.fd, self->base, first, n, PROT_READ | PROT_WRITE);
}

/* The two adjacent mmaps of map_pair(), and what the kernel orphans. */
static int pair(FIXTURE_DATA(merge) *self)
{
	if (map_pair(self->tb.fd, self->base, PROT_READ | PROT_WRITE))
		return -1;
	self->tb.orphans += self->pair_orphans;
	self->tb.unclosed += self->pair_unclosed;
	return 0;
}

static int vmas_of(char *base, size_t psz, int n, struct vma *v, int max)
{
	return vmas_in((unsigned long)base, (unsigned long)base + n * psz,
		       v, max);
}

TEST_F(merge, two_adjacent)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid, end;
	struct vma v[4];
	int n;

	ASSERT_EQ(0, pair(self));
	n = vmas_of(self->base, psz, 4, v, 4);
	mid = target_stats(&self->tb.t);
	ASSERT_EQ(self->vmas, n);
	EXPECT_EQ((unsigned long)self->base, v[0].start);
	EXPECT_EQ(0, v[0].offset);
	if (n == 1) {
		EXPECT_EQ((unsigned long)self->base + 4 * psz, v[0].end);
	} else {
		/* two VMAs, contiguous in address and offset, same flags */
		EXPECT_EQ((unsigned long)self->base + 2 * psz, v[0].end);
		EXPECT_EQ(v[0].end, v[1].start);
		EXPECT_EQ((unsigned long)self->base + 4 * psz, v[1].end);
		EXPECT_EQ(2 * psz, v[1].offset);
		EXPECT_STREQ(v[0].flags, v[1].flags);
	}
	EXPECT_EQ(self->tb.base.hook_calls + expect_of(variant)->hook, mid.hook_calls);
	EXPECT_EQ(self->tb.base.mapped_calls + self->mapped, mid.mapped_calls);
	/* include/linux/mm.h (vm_operations_struct): no ->open on first map */
	EXPECT_EQ(self->tb.base.vm_open, mid.vm_open);
	/* one state object per new VMA: ->mapped (prepare) or .mmap (legacy) */
	EXPECT_EQ(self->tb.base.live_objects + self->vmas * self->objs +
		  self->pair_extra, mid.live_objects);

	ASSERT_EQ(0, munmap(self->base, 4 * psz));
	end = target_stats(&self->tb.t);
	/* mm/vma.c:remove_vma -> vma_close, once per VMA */
	EXPECT_EQ(self->tb.base.vm_close + self->vmas * self->ops, end.vm_close);
	EXPECT_EQ(self->tb.base.vm_open, end.vm_open);
}

TEST_F(merge, split_middle_page)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid, end;
	struct vma v[4];

	ASSERT_EQ(self->base, map_pages(self, 0, 3));
	ASSERT_EQ(0, munmap(self->base + psz, psz));
	mid = target_stats(&self->tb.t);
	ASSERT_EQ(2, vmas_of(self->base, psz, 3, v, 4));
	EXPECT_EQ(2 * psz, v[1].offset);
	/*
	 * mm/vma.c:vms_gather_munmap_vmas splits twice (__split_vma calls
	 * ->open on each new piece), then vms_complete_munmap_vmas ->
	 * remove_vma closes the middle one.  No hook, no ->mapped.
	 */
	EXPECT_EQ(self->tb.base.vm_open + 2 * self->ops, mid.vm_open);
	EXPECT_EQ(self->tb.base.vm_close + self->ops, mid.vm_close);
	EXPECT_EQ(self->tb.base.hook_calls + 1, mid.hook_calls);
	EXPECT_EQ(self->tb.base.mapped_calls + (variant->prepare && self->objs),
		  mid.mapped_calls);
	/* one object, now referenced by the two remaining VMAs */
	EXPECT_EQ(self->tb.base.live_objects + self->objs, mid.live_objects);

	ASSERT_EQ(0, munmap(self->base, 3 * psz));
	end = target_stats(&self->tb.t);
	EXPECT_EQ(self->tb.base.vm_close + 3 * self->ops, end.vm_close);
}

TEST_F(merge, fork)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid;
	int status;
	pid_t pid;

	ASSERT_EQ(self->base, map_pages(self, 0, 2));
	self->base[0] = 42;
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct vma v;
		bool copied = vma_at((unsigned long)self->base, &v) == 0 &&
			      vma_has_flag(&v, "rd");

		/* the child sees the shared buffer if it has the VMA at all */
		_exit(copied ? (self->base[0] == 42 ? 1 : 3) : 2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/*
	 * mm/mmap.c:dup_mmap skips VM_DONTCOPY VMAs: the child has a hole
	 * there.  Otherwise it copies the VMA and calls ->open on the copy;
	 * the child's exit_mmap closes it.
	 */
	EXPECT_EQ(expect_of(variant)->dontcopy ? 2 : 1, WEXITSTATUS(status));
	mid = target_stats(&self->tb.t);
	EXPECT_EQ(self->tb.base.vm_open + !expect_of(variant)->dontcopy * self->ops,
		  mid.vm_open);
	EXPECT_EQ(self->tb.base.vm_close + !expect_of(variant)->dontcopy * self->ops,
		  mid.vm_close);
	/* fork calls neither hook nor ->mapped */
	EXPECT_EQ(self->tb.base.hook_calls + 1, mid.hook_calls);
	EXPECT_EQ(self->tb.base.mapped_calls + (variant->prepare && self->objs),
		  mid.mapped_calls);
	ASSERT_EQ(0, munmap(self->base, 2 * psz));
}

/*
 * Does an mprotect() round trip heal the legacy FLAGS fragmentation?
 * No: mprotect(PROT_READ) over both VMAs changes the first one in place
 * (its neighbour still differs), then would merge the second one into the
 * first - which removes the second VMA, and mm/vma.c:
 * vma_merge_existing_range refuses that when it has ->close
 * (can_merge_remove_vma).  The driver needs ->close to drop its state, so
 * the two VMAs stay two, both ways, and nothing is opened or closed.
 * For every other variant the count does not change either.  Without
 * ->close (NONE) the merge removes the second VMA: legacy FLAGS heals to
 * one VMA at the first mprotect() (noclose_legacy_pair).
 */
TEST_F(merge, mprotect_round_trip)
{
	size_t psz = self->tb.psz, len = 4 * psz;
	struct mmapdemo_stats mid;
	struct vma v[4];

	ASSERT_EQ(0, pair(self));
	ASSERT_EQ(self->vmas, vmas_of(self->base, psz, 4, v, 4));
	ASSERT_EQ(0, mprotect(self->base, len, PROT_READ));
	EXPECT_EQ(self->round_vmas, vmas_of(self->base, psz, 4, v, 4));
	EXPECT_FALSE(vma_has_flag(&v[0], "wr"));
	EXPECT_TRUE(vma_has_flag(&v[0], "rd") && vma_has_flag(&v[0], "sh"));
	ASSERT_EQ(0, mprotect(self->base, len, PROT_READ | PROT_WRITE));
	EXPECT_EQ(self->round_vmas, vmas_of(self->base, psz, 4, v, 4));
	EXPECT_TRUE(vma_has_flag(&v[0], "rd") && vma_has_flag(&v[0], "wr") &&
		    vma_has_flag(&v[0], "sh"));
	mid = target_stats(&self->tb.t);
	EXPECT_EQ(self->tb.base.vm_open, mid.vm_open);
	EXPECT_EQ(self->tb.base.vm_close, mid.vm_close);
	ASSERT_EQ(0, munmap(self->base, len));
}

/*
 * The same round trip over pages [0, 3) of the two adjacent mmaps: it
 * fragments every twin for good.  mm/mprotect.c:mprotect_fixup ->
 * vma_modify_flags tries vma_merge_existing_range, else splits
 * (__split_vma: ->open on the new piece).
 *  - one VMA [0,4) (FAULT, prepare FLAGS): READ splits off [3,4), open x1;
 *    back to RW, [0,3) would merge into [3,4) by removing itself, refused
 *    (can_merge_remove_vma: ->close) -> 2 VMAs.
 *  - legacy FLAGS [0,2) [2,4): READ changes [0,2) in place, then merges
 *    [2,3) into it by moving the boundary (no removal, no split, no open)
 *    -> [0,3) [3,4); back to RW, [0,3) cannot be removed -> 2 VMAs.
 *  - REMAP, PAGES [0,2) [2,4): VM_SPECIAL, no merge at all; [2,4) is
 *    split at 3, open x1 -> 3 VMAs.
 * Without ->close (NONE) the last step may remove [0,3): 1 VMA for
 * every twin (noclose_*_pair), the scenario of the README's "Do you need
 * ->close?".
 */
TEST_F(merge, partial_mprotect_round_trip)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid;
	struct vma v[4];

	ASSERT_EQ(0, pair(self));
	ASSERT_EQ(0, mprotect(self->base, 3 * psz, PROT_READ));
	ASSERT_EQ(0, mprotect(self->base, 3 * psz, PROT_READ | PROT_WRITE));
	EXPECT_EQ(expect_of(variant)->partial_vmas, vmas_of(self->base, psz, 4, v, 4));
	mid = target_stats(&self->tb.t);
	EXPECT_EQ(self->tb.base.vm_open + self->partial_open, mid.vm_open);
	EXPECT_EQ(self->tb.base.vm_close, mid.vm_close);
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * A mapping into the gap between two of the file's own, offsets
 * contiguous on both sides: pages [0,1) and [3,4), then [1,3).
 * mm/vma.c:vma_merge_new_range (6.18.15:mm/vma.c:1047-1100; the same in
 * 6.12 to 7.3) joins it to prev and next at once only if next may be
 * removed (can_merge_remove_vma): without ->close 1 VMA; with ->close it
 * merges into prev alone and next stays, 2 VMAs.  Where two adjacent
 * mmaps do not merge at mmap time (legacy FLAGS, REMAP, PAGES) all three
 * stay: 3.  6.12's retry after .mmap (mm/mmap.c:mmap_region) merges
 * legacy FLAGS as FAULT (self->vmas 1), orphaning as map_pair() does.
 */
TEST_F(merge, middle_of_three)
{
	size_t psz = self->tb.psz;
	int want = self->vmas != 1 ? 3 : self->ops ? 2 : 1;
	struct vma v[4];

	ASSERT_EQ(self->base, map_pages(self, 0, 1));
	ASSERT_EQ(self->base + 3 * psz, map_pages(self, 3, 1));
	ASSERT_EQ(self->base + psz, map_pages(self, 1, 2));
	/* the merged mmap orphans and leaves unclosed as map_pair()'s */
	self->tb.orphans += self->pair_orphans;
	self->tb.unclosed += self->pair_unclosed;
	EXPECT_EQ(want, vmas_of(self->base, psz, 4, v, 4));
	EXPECT_EQ(0, v[0].offset);
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * The legacy range-check bypass (docs/contract.md).  Two adjacent mmaps:
 * the last two pages of the buffer or file [n-2, n), then the two past
 * its end [n, n+2).  mm/vma.c:__mmap_region (6.16 to 7.3; 6.12:
 * mm/mmap.c:mmap_region) tries vma_merge_new_range() before it calls
 * .mmap (__mmap_new_file_vma -> mmap_file), but after .mmap_prepare
 * (call_mmap_prepare / __mmap_prepare).  So:
 *  - character device, legacy FAULT: the second mmap merges and never
 *    reaches chardev_legacy_mmap's mmapdemo_check_request(): it succeeds,
 *    one VMA, one hook call; its pages raise SIGBUS
 *    (driver/common.c:mmapdemo_vm_fault's bound check);
 *  - character device, legacy FLAGS, REMAP, PAGES: no merge (the request
 *    lacks dc dd; the neighbour has VM_SPECIAL flags), .mmap checks: EINVAL;
 *  - character device, prepare, every mode: the hook checks: EINVAL;
 *  - a file, both twins: neither hook checks a range
 *    (mm/filemap.c:generic_file_mmap, generic_file_mmap_prepare), the
 *    mmap succeeds and merges as map_pair() does; its pages raise SIGBUS,
 *    past i_size (mm/filemap.c:filemap_fault).
 * The same with and without ->close: a merge at mmap time removes no VMA.
 */
TEST_F(merge, past_end_merged)
{
	size_t psz = self->tb.psz;
	long n = variant->backend == BACKEND_DEV ? module_pages() : 4;
	bool maps = variant->backend != BACKEND_DEV ||
		    (!variant->prepare && variant->mode == FAULT);
	struct mmapdemo_stats mid;
	unsigned char c;
	struct vma v[4];
	void *p;

	ASSERT_GE(n, 2);
	ASSERT_EQ(self->base, mmap(self->base, 2 * psz, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, self->tb.fd,
				   (n - 2) * psz));
	p = mmap(self->base + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->tb.fd, n * psz);
	mid = target_stats(&self->tb.t);
	if (!maps) {
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
		/* both mmaps reached the hook */
		EXPECT_EQ(self->tb.base.hook_calls + 2, mid.hook_calls);
		EXPECT_EQ(1, vmas_of(self->base, psz, 4, v, 4));
		/* a failed .mmap gets no ->close (mm/internal.h:mmap_file) */
		self->tb.unclosed += !variant->prepare && self->ops;
		ASSERT_EQ(0, munmap(self->base, 2 * psz));
		return;
	}
	ASSERT_EQ(self->base + 2 * psz, p) TH_LOG("%s", strerror(errno));
	self->tb.orphans += self->pair_orphans;
	self->tb.unclosed += self->pair_unclosed;
	EXPECT_EQ(self->tb.base.hook_calls + expect_of(variant)->hook,
		  mid.hook_calls);
	ASSERT_EQ(self->vmas, vmas_of(self->base, psz, 4, v, 4));
	EXPECT_EQ((n - 2) * psz, v[0].offset);
	/* the last page inside, the first past the end */
	EXPECT_EQ(0, probe_read(self->base + psz, &c));
	EXPECT_EQ(SIGBUS, probe_read(self->base + 2 * psz, &c));
	EXPECT_EQ(SIGBUS, probe_read(self->base + 3 * psz, &c));
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * Item 4: what other attribute changes of one page inside a mapping leave,
 * on every twin.  One 4-page mmap (one VMA in every variant), page [1,2)
 * changed, then changed back.  Each change goes through
 * mm/vma.c:vma_modify_flags: a split on each side (two ->open), and the
 * way back is vma_merge_existing_range over the whole middle VMA, which
 * removes it - refused with ->close (can_merge_remove_vma) -> 3 VMAs; 1
 * without.  VM_SPECIAL VMAs (REMAP: pf io de, PAGES: mm) never merge.
 */
static bool special(const FIXTURE_VARIANT(merge) *variant)
{
	return variant->mode == REMAP || variant->mode == PAGES;
}

/*
 * Pages [0,4) of the twin at base, MAP_PRIVATE, each page written once:
 * a CoW copy in each, and so an anon_vma (mm/memory.c:do_wp_page ->
 * vmf_anon_prepare).  0, or -1 with errno.
 */
static int map_private_cow(FIXTURE_DATA(merge) *self)
{
	size_t psz = self->tb.psz;
	int i;

	if (mmap(self->base, 4 * psz, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_FIXED, self->tb.fd, 0) != self->base)
		return -1;
	for (i = 0; i < 4; i++)
		self->base[i * psz] = 'A' + i;
	return 0;
}

/*
 * Map pages [0,4) (MAP_SHARED, or private: map_private_cow), apply set to
 * page 1, count, apply undo, count: the VMAs after each in *after_set and
 * *after_undo; 0 or -1.
 */
static int middle_round_trip_of(FIXTURE_DATA(merge) *self, bool private,
				int (*set)(void *addr, size_t len),
				int (*undo)(void *addr, size_t len),
				int *after_set, int *after_undo)
{
	size_t psz = self->tb.psz;
	struct vma v[4];

	if (private ? map_private_cow(self) :
		      map_pages(self, 0, 4) != self->base)
		return -1;
	if (set(self->base + psz, psz))
		return -1;
	*after_set = vmas_of(self->base, psz, 4, v, 4);
	if (undo(self->base + psz, psz))
		return -1;
	*after_undo = vmas_of(self->base, psz, 4, v, 4);
	return 0;
}

static int middle_round_trip(FIXTURE_DATA(merge) *self,
			     int (*set)(void *addr, size_t len),
			     int (*undo)(void *addr, size_t len),
			     int *after_set, int *after_undo)
{
	return middle_round_trip_of(self, false, set, undo, after_set,
				    after_undo);
}

/*
 * What a change of the middle page and its undoing leave where the split
 * it makes can be undone only by removing the middle VMA: 3 VMAs after
 * the change; after the undo 1 without ->close, 3 with it
 * (can_merge_remove_vma).
 */
static int undo_vmas(const FIXTURE_DATA(merge) *self)
{
	return self->ops ? 3 : 1;
}

static int do_mlock(void *addr, size_t len)
{
	return mlock(addr, len);
}

static int do_mlock_onfault(void *addr, size_t len)
{
	return mlock2(addr, len, MLOCK_ONFAULT);
}

static int do_munlock(void *addr, size_t len)
{
	return munlock(addr, len);
}

/*
 * mlock(): mm/mlock.c:mlock_fixup leaves a VM_SPECIAL VMA alone (no
 * VM_LOCKED, no split; 6.18.15:mm/mlock.c:475), and mlock() still
 * succeeds (__mm_populate skips VM_IO | VM_PFNMAP).  Elsewhere VM_LOCKED
 * splits the middle page off, munlock() clears it and can join the three
 * again only by removing the middle VMA.
 */
TEST_F(merge, mlock_middle)
{
	struct mmapdemo_stats mid;
	int set, undo;

	ASSERT_EQ(0, middle_round_trip(self, do_mlock, do_munlock, &set, &undo))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(special(variant) ? 1 : 3, set);
	EXPECT_EQ(special(variant) || !self->ops ? 1 : 3, undo);
	mid = target_stats(&self->tb.t);
	/* __split_vma calls ->open on each new piece */
	EXPECT_EQ(self->tb.base.vm_open + (special(variant) ? 0 : 2 * self->ops),
		  mid.vm_open);
	ASSERT_EQ(0, munmap(self->base, 4 * self->tb.psz));
}

/* mlock2(MLOCK_ONFAULT): VM_LOCKED | VM_LOCKONFAULT, the same way. */
TEST_F(merge, mlock_onfault_middle)
{
	int set, undo;

	ASSERT_EQ(0, middle_round_trip(self, do_mlock_onfault, do_munlock,
				       &set, &undo))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(special(variant) ? 1 : 3, set);
	EXPECT_EQ(special(variant) || !self->ops ? 1 : 3, undo);
	ASSERT_EQ(0, munmap(self->base, 4 * self->tb.psz));
}

static int do_dontfork(void *addr, size_t len)
{
	return madvise(addr, len, MADV_DONTFORK);
}

static int do_dofork(void *addr, size_t len)
{
	return madvise(addr, len, MADV_DOFORK);
}

/*
 * MADV_DONTFORK, then MADV_DOFORK (mm/madvise.c:madvise_vma_behavior ->
 * madvise_update_vma -> vma_modify_flags).  FLAGS has dc already:
 * DONTFORK changes nothing (madvise_update_vma returns on equal flags),
 * DOFORK clears dc on the middle page alone -> 3 VMAs, ->close or not.
 * FAULT: 3, then 3 with ->close, 1 without.  REMAP and PAGES are not
 * asserted: MADV_DOFORK refuses VM_IO only in 6.18.15 (mm/madvise.c:
 * 1379-1381, "if (new_flags & VM_IO) return -EINVAL"), every VM_SPECIAL
 * flag in 7.3.4 (mm/madvise.c:1395-1397, "if (new_flags & VM_SPECIAL)";
 * VM_SPECIAL is VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP,
 * include/linux/mm.h:593-595).  So REMAP (io pf de) gets EINVAL from
 * both, PAGES (mm: VM_MIXEDMAP alone) from 7.3.4 only, measured; the
 * series between have not been read.
 */
TEST_F(merge, dontfork_middle)
{
	size_t psz = self->tb.psz;
	struct vma v[4];
	int set;

	if (special(variant))
		SKIP(return, "MADV_DOFORK on VM_SPECIAL: EINVAL for VM_IO "
		     "(6.18.15:mm/madvise.c:1380), for any VM_SPECIAL flag, "
		     "PAGES' VM_MIXEDMAP too (7.3.4:mm/madvise.c:1396); the "
		     "series between not read");
	ASSERT_EQ(self->base, map_pages(self, 0, 4));
	ASSERT_EQ(0, do_dontfork(self->base + psz, psz));
	set = vmas_of(self->base, psz, 4, v, 4);
	EXPECT_EQ(variant->mode == FLAGS ? 1 : 3, set);
	EXPECT_EQ(0, do_dofork(self->base + psz, psz))
		TH_LOG("MADV_DOFORK: %s", strerror(errno));
	EXPECT_EQ(variant->mode == FAULT && !self->ops ? 1 : 3,
		  vmas_of(self->base, psz, 4, v, 4));
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * MADV_WIPEONFORK is for anonymous memory only: mm/madvise.c:
 * madvise_vma_behavior returns -EINVAL for a VMA with vm_file, on every
 * twin and series (6.18.15:mm/madvise.c:1384-1387); nothing splits.
 */
TEST_F(merge, wipeonfork_refused)
{
	size_t psz = self->tb.psz;
	struct vma v[4];

	ASSERT_EQ(self->base, map_pages(self, 0, 4));
	EXPECT_EQ(-1, madvise(self->base + psz, psz, MADV_WIPEONFORK));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1, vmas_of(self->base, psz, 4, v, 4));
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * Item 4, the mm features that gate merging (mm/vma.c:is_mergeable_vma:
 * equal flags but soft-dirty, policy, file, userfaultfd context, anon
 * name; 6.18.15:mm/vma.c:79-102, the same fields in 6.12 and 7.3).  REMAP
 * refuses MAP_PRIVATE (driver/common.c:mmapdemo_check_request), so the
 * private tests leave it out.
 */
#define NO_PRIVATE_REMAP "REMAP refuses MAP_PRIVATE: EINVAL " \
	"(driver/common.c:mmapdemo_check_request)"

/*
 * KSM for the whole process: prctl(PR_SET_MEMORY_MERGE, 1) marks every
 * new KSM-compatible VMA VM_MERGEABLE ("mg"), a private one among them
 * (mm/ksm.c:ksm_compatible refuses VM_SHARED, VM_MAYSHARE and
 * VM_SPECIAL).  Two adjacent private mmaps: where is the flag set?
 *  - 6.18 and 7.3, mm/vma.c:__mmap_region: before the merge attempt
 *    only if can_set_ksm_flags_early() - the file has .mmap_prepare (or
 *    is shmem); for a .mmap file after .mmap (__mmap_new_vma:
 *    update_ksm_flags).  The prepare twin's second request carries "mg"
 *    and merges; the legacy twin's lacks it and does not: 2 VMAs, both
 *    "mg" (7.3.4:mm/vma.c:2844-2867, 2890-2901, 2706-2709; 6.18.15:
 *    2652-2697, 2523-2524).  6.17.13 merges the prepare twin too,
 *    6.16.12 does not (ksm_flags_early);
 *  - 6.12, mm/mmap.c:mmap_region: ksm_add_vma() after .mmap and after
 *    the retry merge, so legacy FLAGS' retry fails too: 2 VMAs.
 * PAGES (mm, VM_MIXEDMAP) is VM_SPECIAL: no "mg", 2 VMAs, as always.
 * The ->close-less twins as the others: a merge at mmap time removes no
 * VMA.
 */
/*
 * Does __mmap_region mark a .mmap_prepare file's request VM_MERGEABLE
 * before its merge attempt?  Measured: 6.17.13 yes, 6.16.12 no - its
 * prepare twin too ends with two VMAs, both "mg", the flag set after the
 * hook as for .mmap; the 6.16 and 6.17 sources have not been read here.
 * No API tells it: can_mmap_file() (MMAPDEMO_FEAT_STACKED_PREPARE) came
 * in the same series, 6.17, and stands for it.
 */
static bool ksm_flags_early(void)
{
	return has_feature(MMAPDEMO_FEAT_STACKED_PREPARE);
}

TEST_F(merge, ksm_prctl_pair)
{
	size_t psz = self->tb.psz;
	bool merges = variant->prepare && !special(variant) &&
		      ksm_flags_early();
	struct vma v[4];
	int n, i;

	if (variant->mode == REMAP)
		SKIP(return, NO_PRIVATE_REMAP);
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
		SKIP(return, "PR_SET_MEMORY_MERGE: %s (CONFIG_KSM)",
		     strerror(errno));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(self->base + 2 * i * psz,
			  mmap(self->base + 2 * i * psz, 2 * psz,
			       PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
			       self->tb.fd, 2 * i * psz))
			TH_LOG("mmap %d: %s", i, strerror(errno));
	if (merges) {
		/* the merged second mmap, as map_pair()'s */
		self->tb.orphans += self->pair_orphans;
		self->tb.unclosed += self->pair_unclosed;
	}
	n = vmas_of(self->base, psz, 4, v, 4);
	EXPECT_EQ(merges ? 1 : 2, n);
	for (i = 0; i < n && i < 4; i++)
		EXPECT_EQ(!special(variant), vma_has_flag(&v[i], "mg"))
			TH_LOG("VMA %d: %s", i, v[i].flags);
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

static int do_mergeable(void *addr, size_t len)
{
	return madvise(addr, len, MADV_MERGEABLE);
}

static int do_unmergeable(void *addr, size_t len)
{
	return madvise(addr, len, MADV_UNMERGEABLE);
}

/*
 * MADV_MERGEABLE, then MADV_UNMERGEABLE, on the middle page of a private
 * mapping after CoW: mm/ksm.c:ksm_madvise sets VM_MERGEABLE ->
 * madvise_update_vma splits (3), and back only by removing the middle
 * VMA (undo_vmas).  "Just ignore the advice" for a VMA ksm_compatible()
 * refuses (PAGES: VM_MIXEDMAP): no change, 1 and 1, and madvise()
 * succeeds (7.3.4:mm/ksm.c:3018-3022; 6.18.15:2955-2959; 6.12: the
 * same test of VM_SPECIAL flags in ksm_madvise).
 */
TEST_F(merge, ksm_madvise_middle)
{
	int set, undo;

	if (variant->mode == REMAP)
		SKIP(return, NO_PRIVATE_REMAP);
	ASSERT_EQ(0, middle_round_trip_of(self, true, do_mergeable,
					  do_unmergeable, &set, &undo))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(special(variant) ? 1 : 3, set);
	EXPECT_EQ(special(variant) ? 1 : undo_vmas(self), undo);
	ASSERT_EQ(0, munmap(self->base, 4 * self->tb.psz));
}

/* The userfaultfd of uffd_wp_middle's set and undo. */
static int uffd = -1;

static int do_uffd_register(void *addr, size_t len)
{
	return uffd_wp_async_register(&uffd, (unsigned long)addr, len);
}

/*
 * The undo is close(), not UFFDIO_UNREGISTER: on 6.12 that panics the
 * guest here (see uffd_wp_middle).  close() releases the context there
 * and then (fs/file_table.c:fput_close_sync) and clears every VMA it
 * registered the same way (userfaultfd_release_all).
 */
static int do_uffd_release(void *addr, size_t len)
{
	int fd = uffd;

	(void)addr;
	(void)len;
	uffd = -1;
	return close(fd);
}

/*
 * A userfaultfd registration of the middle page, write-protect mode,
 * WP_ASYNC (the only mode mm/userfaultfd.c:vma_can_userfault gives these
 * VMAs): the registered VMA has its own uffd flags and context, so it is
 * split off (userfaultfd_register_range -> vma_modify_flags_uffd; 3).
 * Closing the userfaultfd clears them (userfaultfd_release_all ->
 * userfaultfd_clear_vma) and merges back only by removing the middle
 * VMA (undo_vmas).  REMAP and PAGES: 7.x refuses VM_SPECIAL VMAs with
 * EINVAL, 6.18 registers them (failnth.c: uffd_usable): not asserted.
 *
 * UFFDIO_UNREGISTER of the middle page instead is a kernel BUG on 6.12
 * for a twin with ->close, measured (6.12.117: "kernel BUG at
 * fs/userfaultfd.c:1501", the guest panics).  6.12.118:mm/vma.c:726-740,
 * vma_merge_existing_range: it moves the iterator to prev (vma_prev),
 * then gives up the merge, which would remove a VMA with ->close, and
 * returns without moving it back; userfaultfd_unregister's loop
 * (fs/userfaultfd.c:1498-1501) so meets the VMA it has just cleared
 * once more, and BUG_ON(!vma_can_userfault()) fires: without VM_UFFD_WP
 * a file VMA that is neither anonymous, shmem nor hugetlb does not
 * qualify.  6.18.15 and 7.3.4 test "VMA not registered" first and skip
 * it (6.18.15:fs/userfaultfd.c:1505-1507, 7.3.4:mm/userfaultfd.c:4026-4028).
 */
TEST_F(merge, uffd_wp_middle)
{
	int set, undo, ret;

	if (special(variant))
		SKIP(return, "userfaultfd on VM_SPECIAL VMAs: series-dependent "
		     "(failnth.c: uffd_usable)");
	ret = middle_round_trip(self, do_uffd_register, do_uffd_release,
				&set, &undo);
	if (ret && errno == EINVAL && uffd >= 0)
		SKIP(return, "UFFDIO_API or UFFDIO_REGISTER: EINVAL, "
		     "no UFFD_FEATURE_WP_ASYNC (6.7)?");
	ASSERT_EQ(0, ret) TH_LOG("userfaultfd: %s", strerror(errno));
	EXPECT_EQ(3, set);
	EXPECT_EQ(undo_vmas(self), undo);
	ASSERT_EQ(0, munmap(self->base, 4 * self->tb.psz));
}

static long mbind_node0(void *addr, size_t len)
{
	unsigned long node0 = 1;

	return syscall(__NR_mbind, addr, len, MPOL_BIND, &node0,
		       8 * sizeof(node0), 0);
}

static int do_mbind(void *addr, size_t len)
{
	return mbind_node0(addr, len) ? -1 : 0;
}

static int do_mbind_default(void *addr, size_t len)
{
	return syscall(__NR_mbind, addr, len, MPOL_DEFAULT, NULL, 0, 0) ?
		-1 : 0;
}

/*
 * A NUMA policy of the middle page: mbind(MPOL_BIND, node 0), then
 * MPOL_DEFAULT.  mm/mempolicy.c:mbind_range -> vma_modify_policy: a
 * policy of its own splits the page off (3); the way back is a merge
 * that removes the middle VMA (undo_vmas).  VM_SPECIAL VMAs are split too
 * (vma_modify splits what it cannot merge), and never merge back: 3 and 3.
 * Without CONFIG_NUMA mbind is sys_ni_syscall: ENOSYS (kernel/sys_ni.c).
 */
TEST_F(merge, mbind_middle)
{
	int set, undo;

	/* length 0: a no-op where mbind exists (do_mbind: end == start) */
	if (mbind_node0(self->base, 0) && errno == ENOSYS)
		SKIP(return, "mbind: ENOSYS, a kernel without CONFIG_NUMA");
	ASSERT_EQ(0, middle_round_trip(self, do_mbind, do_mbind_default,
				       &set, &undo))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(3, set);
	EXPECT_EQ(special(variant) ? 3 : undo_vmas(self), undo);
	ASSERT_EQ(0, munmap(self->base, 4 * self->tb.psz));
}

/*
 * An anonymous VMA name for the middle page of a private mapping after
 * CoW: refused, the VMA has a file - mm/madvise.c, __MADV_SET_ANON_VMA_NAME
 * "Only anonymous mappings can be named": -EBADF (7.3.4:1433-1436,
 * 6.18.15:1417-1420; 6.12 madvise_vma_anon_name, the same test), on every
 * twin.  Without CONFIG_ANON_VMA_NAME (every Debian kernel and the debug
 * kernel) prctl(PR_SET_VMA) refuses any name first: -EINVAL
 * (include/linux/mm.h:set_anon_vma_name), which naming an anonymous
 * page tells.  Nothing splits either way.
 */
TEST_F(merge, anon_name_refused)
{
	size_t psz = self->tb.psz;
	int named, want;
	struct vma v[4];
	char *anon;

	if (variant->mode == REMAP)
		SKIP(return, NO_PRIVATE_REMAP);
	anon = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	named = prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, anon, psz, "mmapdemo");
	want = named ? EINVAL : EBADF;
	if (named)
		EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, munmap(anon, psz));
	ASSERT_EQ(0, map_private_cow(self)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, self->base + psz,
			    psz, "mmapdemo"));
	EXPECT_EQ(want, errno);
	EXPECT_EQ(1, vmas_of(self->base, psz, 4, v, 4));
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * Soft-dirty: writing "4" to /proc/self/clear_refs clears VM_SOFTDIRTY
 * ("sd") of every VMA (fs/proc/task_mmu.c:clear_refs_write,
 * CLEAR_REFS_SOFT_DIRTY; 7.3.4:1906-1910), and the next adjacent mmap
 * comes with it set.  It is the one flag a merge ignores (6.18.15:
 * mm/vma.c:93 "~VM_SOFTDIRTY"; 7.3: VMA_IGNORE_MERGE_FLAGS), so the
 * pair merges as two_adjacent's does, and the merged VMA is soft-dirty
 * (7.3: a sticky flag, vma_merge_new_range; 6.12 to 6.18: "New (or
 * expanded) vma always get soft dirty status", mmap_region /
 * __mmap_complete).  Where it does not merge, only the new VMA has "sd".
 */
TEST_F(merge, soft_dirty_pair)
{
	size_t psz = self->tb.psz;
	struct vma v[4];
	int fd, n;

	ASSERT_EQ(self->base, map_pages(self, 0, 2));
	ASSERT_EQ(1, vmas_of(self->base, psz, 2, v, 4));
	if (!vma_has_flag(&v[0], "sd")) {
		munmap(self->base, 2 * psz);
		SKIP(return, "no \"sd\" on a new VMA: no CONFIG_MEM_SOFT_DIRTY");
	}
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "4", 1));
	close(fd);
	ASSERT_EQ(1, vmas_of(self->base, psz, 2, v, 4));
	EXPECT_FALSE(vma_has_flag(&v[0], "sd"));
	ASSERT_EQ(self->base + 2 * psz, map_pages(self, 2, 2));
	/* the merged mmap orphans and leaves unclosed as map_pair()'s */
	self->tb.orphans += self->pair_orphans;
	self->tb.unclosed += self->pair_unclosed;
	n = vmas_of(self->base, psz, 4, v, 4);
	ASSERT_EQ(self->vmas, n);
	if (n == 1) {
		EXPECT_TRUE(vma_has_flag(&v[0], "sd"));
	} else {
		EXPECT_FALSE(vma_has_flag(&v[0], "sd"));
		EXPECT_TRUE(vma_has_flag(&v[1], "sd"));
	}
	ASSERT_EQ(0, munmap(self->base, 4 * psz));
}

/*
 * Item 3: mremap() the middle page away and back into place.  One mmap of
 * pages [0,4) (one VMA in every variant); page 1 moved to page 6 of the
 * reservation (mm/mremap.c:move_vma -> copy_vma: split off, copied, the
 * source unmapped), then moved back to page 1.  copy_vma's merge
 * (mm/vma.c:vma_merge_copied_range -> vma_merge_new_range; 6.12 to 7.3)
 * may extend [0,1) over it, and also remove [2,4) only without ->close
 * (can_merge_remove_vma): 1 VMA without ->close, 2 with it; VM_SPECIAL
 * VMAs never merge: 3.
 */
TEST_F(merge, mremap_back_into_place)
{
	size_t psz = self->tb.psz;
	int want = special(variant) ? 3 : self->ops ? 2 : 1;
	struct vma v[8];

	ASSERT_EQ(self->base, map_pages(self, 0, 4));
	ASSERT_EQ(self->base + 6 * psz,
		  mremap(self->base + psz, psz, psz,
			 MREMAP_MAYMOVE | MREMAP_FIXED, self->base + 6 * psz))
		TH_LOG("away: %s", strerror(errno));
	EXPECT_EQ(2, vmas_of(self->base, psz, 4, v, 8));
	ASSERT_EQ(self->base + psz,
		  mremap(self->base + 6 * psz, psz, psz,
			 MREMAP_MAYMOVE | MREMAP_FIXED, self->base + psz))
		TH_LOG("back: %s", strerror(errno));
	EXPECT_EQ(want, vmas_of(self->base, psz, 4, v, 8));
	EXPECT_EQ(0, v[0].offset);
	ASSERT_EQ(0, munmap(self->base, 8 * psz));
}

TEST_HARNESS_MAIN
