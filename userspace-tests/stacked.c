// SPDX-License-Identifier: GPL-2.0
/*
 * Stacked callers: a filesystem twin mapped through overlayfs, as its
 * lower layer.  fs/overlayfs/file.c:ovl_mmap -> fs/backing-file.c:
 * backing_file_mmap sets vm_file to the real file and calls vfs_mmap():
 * .mmap for the legacy twin, mm/util.c:compat_vma_mmap for the prepare
 * twin, which runs .mmap_prepare on the VMA that already exists, copies
 * its flags and vm_ops into it and calls ->mapped.  Opened read-only, the
 * file stays on the lower layer (no copy-up).
 *
 * 6.16 refuses a backing file without f_op->mmap with -ENODEV
 * (MMAPDEMO_FEAT_STACKED_PREPARE).  Error unwinding through the overlay
 * is in unwind.c, on its overlay backend.  The fuse_ variants run the
 * same tests through FUSE passthrough (fs/fuse/passthrough.c:
 * fuse_passthrough_mmap -> backing_file_mmap), opened read-only too;
 * what is FUSE's own is in fuse.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

FIXTURE(stacked) {
	struct testbed tb;
};

FIXTURE_VARIANT(stacked) {
	enum backend backend;	/* BACKEND_OVERLAY or BACKEND_FUSE */
	bool prepare;
};

TWIN_PAIR(stacked, , , .backend = BACKEND_OVERLAY)
/* FUSE passthrough (fuse.c): the same backing_file_mmap */
TWIN_PAIR(stacked, fuse_, , .backend = BACKEND_FUSE)

FIXTURE_SETUP(stacked)
{
	testbed_setup(_metadata, &self->tb, variant->backend, variant->prepare,
		      MMAPDEMO_MODE_FAULT, 4);
}

FIXTURE_TEARDOWN(stacked)
{
	testbed_teardown(_metadata, &self->tb);
}

/*
 * One mmap through the overlay in mode: the hook, ->mapped and our
 * vm_ops as for a direct mmap(), and the VmFlags of the direct mapping of
 * the real file (mm/vma.h:compat_set_vma_from_desc copies the prepare
 * hook's flags; the legacy hook sets them on the VMA itself).
 */
static void stacked_map(struct __test_metadata *_metadata, struct testbed *tb,
			__u32 mode)
{
	struct mmapdemo_stats a, b, c;
	size_t len = 2 * tb->psz;
	struct vma v, w;
	int fd, direct;
	char *p;

	/* the direct mapping first, with the same open flags */
	direct = twin_open(tb->t.file, O_RDONLY, mode);
	ASSERT_GE(direct, 0);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, direct, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vma_at((unsigned long)p, &w));
	EXPECT_EQ(0, munmap(p, len));
	close(direct);

	fd = target_open(&tb->t, O_RDONLY, mode);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", tb->t.path, strerror(errno));
	a = target_stats(&tb->t);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (tb->t.prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16 fs/backing-file.c:backing_file_mmap: a backing file
		 * without f_op->mmap is refused with -ENODEV, before any hook.
		 */
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(0, DELTA(a, target_stats(&tb->t), hook_calls));
		close(fd);
		return;
	}
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ('b', p[tb->psz]);
	b = target_stats(&tb->t);
	EXPECT_EQ(1, DELTA(a, b, hook_calls));
	/* mm/util.c:mmap_action_finish, reached from compat_vma_mmap too */
	EXPECT_EQ(tb->t.prepare ? tb->state : 0, DELTA(a, b, mapped_calls));
	EXPECT_EQ(tb->state, DELTA(a, b, live_objects));
	/* our vm_ops serve the faults: one ->map_pages maps both pages */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_STREQ(w.flags, v.flags);
	/* FLAGS: the hook's VMA_DONTCOPY_BIT, VMA_DONTDUMP_BIT */
	EXPECT_EQ(mode == MMAPDEMO_MODE_FLAGS, vma_has_flag(&v, "dc"));
	EXPECT_EQ(mode == MMAPDEMO_MODE_FLAGS, vma_has_flag(&v, "dd"));
	EXPECT_EQ(0, munmap(p, len));
	c = target_stats(&tb->t);
	EXPECT_EQ(1, DELTA(b, c, vm_close));
	close(fd);
}

TEST_F(stacked, fault_mode)
{
	stacked_map(_metadata, &self->tb, MMAPDEMO_MODE_FAULT);
}

TEST_F(stacked, flags_mode)
{
	stacked_map(_metadata, &self->tb, MMAPDEMO_MODE_FLAGS);
}

/*
 * Two adjacent mmaps of one overlay fd never merge: the merge attempt in
 * mm/vma.c:__mmap_region compares the overlay file with the existing
 * VMA's vm_file, the real file (fs/backing-file.c:backing_file_mmap).
 */
TEST_F(stacked, no_merge)
{
	struct testbed *tb = &self->tb;
	size_t psz = tb->psz;
	struct mmapdemo_stats a, b;
	struct vma v[3];
	char *base;

	if (skip_without_stacked_prepare(_metadata, variant->prepare))
		return;
	base = reserve(4 * psz);
	ASSERT_NE(MAP_FAILED, base);
	a = target_stats(&tb->t);
	ASSERT_EQ(0, map_pair(tb->fd, base, PROT_READ));
	b = target_stats(&tb->t);
	EXPECT_EQ(2, vmas_in((unsigned long)base, (unsigned long)base + 4 * psz,
			     v, 3));
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	EXPECT_EQ(variant->prepare ? 2 * tb->state : 0,
		  DELTA(a, b, mapped_calls));
	EXPECT_EQ(0, munmap(base, 4 * psz));
}

/* Opened for writing, overlayfs copies the file up: the tmpfs maps it. */
TEST_F(stacked, copy_up_leaves_lower)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b;
	char *p, c;
	int fd;

	if (variant->backend != BACKEND_OVERLAY)
		SKIP(return, "no copy-up: FUSE maps the file (fuse.c)");
	a = target_stats(&tb->t);
	fd = open(tb->t.path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, tb->psz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 'u';
	EXPECT_EQ(0, munmap(p, tb->psz));
	b = target_stats(&tb->t);
	/* fs/overlayfs/copy_up.c copies with read, not mmap: no hook here */
	EXPECT_EQ(0, DELTA(a, b, hook_calls));
	close(fd);
	fd = open(tb->t.file, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('a', c);
	close(fd);
}

TEST_F(stacked, exec)
{
	char *const argv_true[] = { "true", NULL };
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b;
	char bin[128];
	int loads;

	if (skip_without_stacked_prepare(_metadata, variant->prepare))
		return;
	/*
	 * the lower layer changes only while no overlay is mounted on it;
	 * the FUSE server looks the new file up in it when asked
	 */
	if (variant->backend == BACKEND_OVERLAY) {
		close(tb->fd);
		tb->fd = -1;
		ASSERT_EQ(0, overlay_down(&tb->t)) TH_LOG("%s", strerror(errno));
	}
	snprintf(bin, sizeof(bin), "%s/busybox", tb->t.dir);
	ASSERT_EQ(0, copy_file("/bin/busybox", bin));
	loads = elf_file_loads(bin);
	ASSERT_GT(loads, 0);
	if (variant->backend == BACKEND_OVERLAY) {
		ASSERT_EQ(0, overlay_up(&tb->t)) TH_LOG("%s", strerror(errno));
		snprintf(bin, sizeof(bin), "%s/busybox", tb->t.ovl);
	} else {
		snprintf(bin, sizeof(bin), "%s/busybox", tb->t.fuse);
	}
	a = target_stats(&tb->t);
	EXPECT_EQ(0, run_binary(bin, argv_true));
	b = target_stats(&tb->t);
	/*
	 * fs/binfmt_elf.c:elf_load -> elf_map -> vm_mmap through ovl_mmap or
	 * fuse_file_mmap: one hook per segment
	 */
	EXPECT_EQ(loads, DELTA(a, b, hook_calls));
	EXPECT_EQ(variant->prepare ? loads * tb->state : 0,
		  DELTA(a, b, mapped_calls));
	/* the process exited: every VMA closed, every object freed */
	EXPECT_EQ(loads + DELTA(a, b, vm_open), DELTA(a, b, vm_close));
	EXPECT_EQ(a.live_objects, b.live_objects);
}

TEST_HARNESS_MAIN
