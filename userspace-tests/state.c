// SPDX-License-Identifier: GPL-2.0
/*
 * Which shape of per-mapping state survives the kernels that clobber a
 * merged neighbour (MMAPDEMO_IOC_SET_STATE, driver/state.c)?
 *
 * PER_VMA, the default: one object per new VMA in vm_private_data.  On
 * 7.1, and on 7.2 before its 7.2.10 stable update ("mm/vma: predicate
 * setting mmap_prepare VMA fields on new vma alloc"), an mmap() that
 * merges into its neighbour has its desc->private_data, NULL, written
 * over the neighbour's vm_private_data: mm/vma.c:__mmap_region calls
 * set_vma_user_defined_fields() on the new or merged VMA
 * (7.1.13:mm/vma.c:2777-2778).  7.2.10 and 7.3 do it for a new VMA only
 * (7.2.12:mm/vma.c:2805-2806, 7.3.4:mm/vma.c:2918-2919).  So a prepare
 * twin's object, made by the first mmap's ->mapped, is orphaned there.
 * 6.16 to 7.0 overwrite too, but have no ->mapped and keep no object.
 * The legacy twin is never clobbered: the kernel writes the fields for a
 * .mmap_prepare file only (have_mmap_prepare).  Whether the running
 * kernel clobbers is measured once at start (kbugs.c, KBUG_MERGE_CLOBBER,
 * never told from the release: the fix came in a stable update); whether
 * an object was orphaned here is measured too (live_objects after the
 * munmap), and the two must agree.
 *
 * SHARED, the shape of fs/afs/file.c: the open file's own object, handed
 * over in desc->private_data, ->mapped (or .mmap) only takes a count on
 * it.  A merge writes the same pointer over itself: nothing is orphaned
 * on any kernel, and the count (MMAPDEMO_IOC_GET_MAPS) is back at 0 once
 * everything is unmapped.
 *
 * Every mapping is MAP_SHARED, FAULT mode, of the character device or of
 * a file of the filesystem twins.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

KBUGS_WANT(KBUGS_ALL);

#define NO_MAPPED_SHARED "no vm_ops->mapped (7.1): no callback takes the " \
	"count of the SHARED shape"

/* How many VMAs hold a count on fd's SHARED object; -1 on error. */
static long shared_maps(int fd)
{
	__s64 n;

	if (ioctl(fd, MMAPDEMO_IOC_GET_MAPS, &n))
		return -1;
	return n;
}

FIXTURE(state) {
	struct testbed tb;
	char *base;		/* 8-page PROT_NONE reservation */
	/* state objects and SHARED counts one new VMA makes */
	int objs, counts;
};

FIXTURE_VARIANT(state) {
	enum backend backend;
	bool prepare;
	__u32 shape;
};

FIXTURE_VARIANT_ADD(state, prepare_per_vma) {
	.backend = BACKEND_DEV, .prepare = true, .shape = MMAPDEMO_STATE_PER_VMA,
};

FIXTURE_VARIANT_ADD(state, prepare_shared) {
	.backend = BACKEND_DEV, .prepare = true, .shape = MMAPDEMO_STATE_SHARED,
};

FIXTURE_VARIANT_ADD(state, legacy_per_vma) {
	.backend = BACKEND_DEV, .prepare = false, .shape = MMAPDEMO_STATE_PER_VMA,
};

FIXTURE_VARIANT_ADD(state, legacy_shared) {
	.backend = BACKEND_DEV, .prepare = false, .shape = MMAPDEMO_STATE_SHARED,
};

FIXTURE_VARIANT_ADD(state, fs_prepare_per_vma) {
	.backend = BACKEND_FS, .prepare = true, .shape = MMAPDEMO_STATE_PER_VMA,
};

FIXTURE_VARIANT_ADD(state, fs_prepare_shared) {
	.backend = BACKEND_FS, .prepare = true, .shape = MMAPDEMO_STATE_SHARED,
};

FIXTURE_VARIANT_ADD(state, fs_legacy_per_vma) {
	.backend = BACKEND_FS, .prepare = false, .shape = MMAPDEMO_STATE_PER_VMA,
};

FIXTURE_VARIANT_ADD(state, fs_legacy_shared) {
	.backend = BACKEND_FS, .prepare = false, .shape = MMAPDEMO_STATE_SHARED,
};

FIXTURE_SETUP(state)
{
	bool shared = variant->shape == MMAPDEMO_STATE_SHARED;

	if (shared && variant->prepare &&
	    has_feature(MMAPDEMO_FEAT_PREPARE_TWINS) &&
	    !has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED))
		SKIP(return, NO_MAPPED_SHARED);
	self->base = reserve(8 * getpagesize());
	ASSERT_NE(MAP_FAILED, self->base);
	if (testbed_setup(_metadata, &self->tb, variant->backend,
			  variant->prepare, MMAPDEMO_MODE_FAULT, 4))
		return;
	ASSERT_EQ(0, ioctl(self->tb.fd, MMAPDEMO_IOC_SET_STATE, &variant->shape))
		TH_LOG("SET_STATE: %s", strerror(errno));
	self->objs = shared ? 0 : self->tb.state;
	self->counts = shared;
}

FIXTURE_TEARDOWN(state)
{
	if (self->base && self->base != MAP_FAILED)
		munmap(self->base, 8 * getpagesize());
	testbed_teardown(_metadata, &self->tb);
}

/* Read every page of [p, p + n pages): each fault goes to the twin. */
static void touch(const char *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		(void)*(const volatile char *)(p + i * getpagesize());
}

/*
 * Two adjacent mmaps of the fd, contiguous offsets: FAULT mode changes
 * nothing merge-relevant, so the second merges into the first on every
 * kernel (merge.c), and only the first made a new VMA.
 */
TEST_F(state, merge_then_unmap)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid, end;
	struct vma v[4];
	long orphans = 0;

	ASSERT_EQ(0, map_pair(self->tb.fd, self->base, PROT_READ | PROT_WRITE));
	touch(self->base, 4);
	ASSERT_EQ(1, vmas_in((unsigned long)self->base,
			     (unsigned long)self->base + 4 * psz, v, 4));
	mid = target_stats(&self->tb.t);
	/* one new VMA: one object (PER_VMA) or one count (SHARED) */
	EXPECT_EQ(self->tb.base.live_objects + self->objs, mid.live_objects);
	EXPECT_EQ(self->counts, shared_maps(self->tb.fd));

	ASSERT_EQ(0, munmap(self->base, 4 * psz));
	end = target_stats(&self->tb.t);
	/* the one VMA got its ->close */
	EXPECT_EQ(1, DELTA(mid, end, vm_close));
	EXPECT_EQ(0, shared_maps(self->tb.fd));
	if (variant->prepare && self->objs && kbug_present(KBUG_MERGE_CLOBBER))
		orphans = 1;
	EXPECT_EQ(self->tb.base.live_objects + orphans, end.live_objects)
		TH_LOG("%s", orphans ? "expected the merge to orphan the first "
		       "VMA's object (7.1, 7.2.0-7.2.9)" :
		       "expected no orphan");
	self->tb.orphans = end.live_objects - self->tb.base.live_objects;
}

/* A split (mprotect) and a fork copy the VMA: ->open takes a count too. */
TEST_F(state, split_and_fork)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats mid;
	int status;
	pid_t pid;

	ASSERT_EQ(self->base, map_at(self->tb.fd, self->base, 0, 4,
				     PROT_READ | PROT_WRITE));
	touch(self->base, 4);
	ASSERT_EQ(0, mprotect(self->base + 2 * psz, 2 * psz, PROT_READ));
	/* two VMAs now, one object or two counts */
	EXPECT_EQ(2 * self->counts, shared_maps(self->tb.fd));
	mid = target_stats(&self->tb.t);
	EXPECT_EQ(self->tb.base.live_objects + self->objs, mid.live_objects);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the child's copies hold their counts until it exits */
		_exit(shared_maps(self->tb.fd) == 4 * self->counts ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child did not see 4 counts per SHARED object");
	EXPECT_EQ(2 * self->counts, shared_maps(self->tb.fd));

	ASSERT_EQ(0, munmap(self->base, 4 * psz));
	EXPECT_EQ(0, shared_maps(self->tb.fd));
	EXPECT_EQ(self->tb.base.live_objects,
		  target_stats(&self->tb.t).live_objects);
}

/*
 * What SET_STATE refuses, and the requests a SHARED or NONE file refuses
 * (driver/common.c:mmapdemo_set_state, mmapdemo_set_mode;
 * driver/watch.c:mmapdemo_fail_check).
 */
TEST(refusals)
{
	__u32 shared = MMAPDEMO_STATE_SHARED, bad = MMAPDEMO_STATE_NONE + 1;
	__u32 none = MMAPDEMO_STATE_NONE, per_vma = MMAPDEMO_STATE_PER_VMA;
	const char *dev[] = { MMAPDEMO_DEV_PREPARE, MMAPDEMO_DEV_LEGACY };
	int i, fd;

	for (i = 0; i < 2; i++) {
		bool prepare = i == 0;

		if (prepare && !has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
			continue;	/* 6.12: the legacy twin only */
		fd = twin_open(dev[i], O_RDWR, MMAPDEMO_MODE_FAULT);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", dev[i], strerror(errno));
		EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &bad));
		EXPECT_EQ(EINVAL, errno);
		/*
		 * NONE, on every kernel: REMAP and PAGES never merge
		 * (VM_SPECIAL), and there is no ->mapped to fail
		 */
		if (!prepare || has_feature(MMAPDEMO_FEAT_MMAP_ACTION)) {
			ASSERT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
			EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &none));
			EXPECT_EQ(EINVAL, errno);
			ASSERT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FAULT));
		}
		if (prepare && has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED)) {
			ASSERT_EQ(0, twin_set_fail(fd, MMAPDEMO_FAIL_MAPPED,
						   -EIO, 0));
			EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &none));
			EXPECT_EQ(EINVAL, errno);
			ASSERT_EQ(0, twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0));
		}
		ASSERT_EQ(0, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &none));
		EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_PAGES));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FLAGS));
		EXPECT_EQ(-1, twin_set_fail(fd, MMAPDEMO_FAIL_MAPPED, -EIO, 0));
		EXPECT_EQ(EINVAL, errno);
		ASSERT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FAULT));
		ASSERT_EQ(0, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &per_vma));
		if (prepare && !has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED)) {
			EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &shared));
			EXPECT_EQ(EOPNOTSUPP, errno);
			close(fd);
			continue;
		}
		/* an action that fails calls ->close for a VMA ->mapped never saw */
		if (!prepare || has_feature(MMAPDEMO_FEAT_MMAP_ACTION)) {
			ASSERT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
			EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &shared));
			EXPECT_EQ(EINVAL, errno);
			ASSERT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FAULT));
		}
		ASSERT_EQ(0, ioctl(fd, MMAPDEMO_IOC_SET_STATE, &shared));
		EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_PAGES));
		EXPECT_EQ(EINVAL, errno);
		if (prepare) {
			/* a ->mapped that only takes a count cannot fail */
			EXPECT_EQ(-1, twin_set_fail(fd, MMAPDEMO_FAIL_MAPPED,
						    -EIO, 0));
			EXPECT_EQ(EINVAL, errno);
		}
		EXPECT_EQ(0, shared_maps(fd));
		close(fd);
	}
}

TEST_HARNESS_MAIN
