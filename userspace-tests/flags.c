// SPDX-License-Identifier: GPL-2.0
/*
 * Which VmFlags does each mapping get, and do both twins agree?
 *
 * Every mode of a backend (the character device: all four; a file of the
 * filesystem twins: FAULT and FLAGS) on both twins, each mapped five ways
 * (below), two pages at offset one page: the extents, the offset /proc
 * shows, each flag on its own - those mm/mmap.c:do_mmap gives every file
 * mapping, those the mode adds, and no other - and that the other twin
 * gives the very same flags.
 *
 * fs/proc/task_mmu.c:show_smap_vma_flags prints them (in bit order) as:
 *  rd wr	VM_READ, VM_WRITE from prot (mm/mmap.c:do_mmap)
 *  sh		VM_SHARED: MAP_SHARED on a file opened for writing
 *  mr mw me	VM_MAY*: every file mapping; MAP_SHARED without
 *		FMODE_WRITE drops mw (and sh); guest-init and the
 *		filesystem twins' mounts are not noexec, so me stays
 *  ms		VM_MAYSHARE: MAP_SHARED
 *  ac		VM_ACCOUNT: a private writable mapping
 *		(mm/vma.c:accountable_mapping)
 *  sd		VM_SOFTDIRTY: mm/vma.c:__mmap_complete
 *		(CONFIG_MEM_SOFT_DIRTY=y)
 * What the modes add:
 *  FLAGS  dc dd	the hooks: VMA_DONTCOPY_BIT, VMA_DONTDUMP_BIT
 *  REMAP  pf io de dd	include/linux/mm.h:VMA_REMAP_FLAGS via mm/memory.c:
 *			remap_pfn_range_prepare (prepare) and
 *			remap_pfn_range_internal (legacy)
 *  PAGES  mm		mm/memory.c:map_kernel_pages_prepare (prepare),
 *			vm_insert_pages via vm_map_pages (legacy)
 * REMAP is refused for MAP_PRIVATE by both twins with EINVAL
 * (driver/common.c:mmapdemo_check_request): a CoW remap would rewrite
 * vm_pgoff to the PFN (mm/memory.c:get_remap_pgoff) and show it in maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

#define FAULT	MMAPDEMO_MODE_FAULT
#define FLAGS	MMAPDEMO_MODE_FLAGS
#define REMAP	MMAPDEMO_MODE_REMAP
#define PAGES	MMAPDEMO_MODE_PAGES

FIXTURE(flags) {
	struct testbed tb;
	struct target other;	/* the other twin, same backend */
	bool other_up;
};

/* fixture.h: every mode of the character device, FAULT and FLAGS of a file */
TWIN_MODE_VARIANTS(flags, )

FIXTURE_SETUP(flags)
{
	testbed_setup(_metadata, &self->tb, variant->backend, variant->prepare,
		      variant->mode, 3);
}

FIXTURE_TEARDOWN(flags)
{
	if (self->other_up)
		EXPECT_EQ(0, target_down(&self->other));
	testbed_teardown(_metadata, &self->tb);
}

/* The five ways each mode is mapped. */
static const struct mapping {
	const char *name;
	int oflags, prot, map;
} mappings[] = {
	{ .name = "shared rw", .oflags = O_RDWR,
	  .prot = PROT_READ | PROT_WRITE, .map = MAP_SHARED },
	{ .name = "shared ro", .oflags = O_RDWR,
	  .prot = PROT_READ, .map = MAP_SHARED },
	{ .name = "shared ro, fd ro", .oflags = O_RDONLY,
	  .prot = PROT_READ, .map = MAP_SHARED },
	{ .name = "private rw", .oflags = O_RDWR,
	  .prot = PROT_READ | PROT_WRITE, .map = MAP_PRIVATE },
	{ .name = "private ro", .oflags = O_RDWR,
	  .prot = PROT_READ, .map = MAP_PRIVATE },
};

/* What each mode adds, NULL-terminated (see the top of this file). */
static const char *const mode_adds[][5] = {
	[FAULT] = { NULL },
	[FLAGS] = { "dc", "dd", NULL },
	[REMAP] = { "pf", "io", "de", "dd", NULL },
	[PAGES] = { "mm", NULL },
};

/* Every flag the mapping m in mode should have, each on its own; no other. */
static void expect_flags(struct __test_metadata *_metadata,
			 const struct vma *v, const struct mapping *m,
			 __u32 mode)
{
	bool shared = m->map == MAP_SHARED, write = m->prot & PROT_WRITE;
	bool fd_write = m->oflags == O_RDWR;
	/*
	 * Where the module reports VM_PAT (x86 before 7.x: arch/x86/mm/pat/
	 * memtype.c:track_pfn_remap flags a whole-VMA remap), REMAP also
	 * shows ar (VM_ARCH_1).
	 */
	bool pat = mode == REMAP && has_feature(MMAPDEMO_FEAT_VM_PAT);
	const char *name = m->name;
	int n, i;

	EXPECT_TRUE(vma_has_flag(v, "rd")) TH_LOG("%s", name);
	EXPECT_EQ(write, vma_has_flag(v, "wr")) TH_LOG("%s", name);
	EXPECT_EQ(shared && fd_write, vma_has_flag(v, "sh")) TH_LOG("%s", name);
	EXPECT_TRUE(vma_has_flag(v, "mr")) TH_LOG("%s", name);
	EXPECT_EQ(!shared || fd_write, vma_has_flag(v, "mw")) TH_LOG("%s", name);
	EXPECT_TRUE(vma_has_flag(v, "me")) TH_LOG("%s", name);
	EXPECT_EQ(shared, vma_has_flag(v, "ms")) TH_LOG("%s", name);
	EXPECT_EQ(!shared && write, vma_has_flag(v, "ac")) TH_LOG("%s", name);
	EXPECT_TRUE(vma_has_flag(v, "sd")) TH_LOG("%s", name);
	/* rd mr me sd, and those that depend on the mapping */
	n = 4 + write + (shared && fd_write) + (!shared || fd_write) + shared +
	    (!shared && write);
	for (i = 0; mode_adds[mode][i]; i++) {
		EXPECT_TRUE(vma_has_flag(v, mode_adds[mode][i]))
			TH_LOG("%s: %s", name, mode_adds[mode][i]);
	}
	EXPECT_EQ(pat, vma_has_flag(v, "ar")) TH_LOG("%s", name);
	/* and no other flag */
	EXPECT_EQ(n + i + pat, vma_flag_count(v))
		TH_LOG("%s: %s", name, v->flags);
}

/* The other twin, on the same backend, opened to map as m in mode. */
static int open_other(struct __test_metadata *_metadata,
		      FIXTURE_DATA(flags) *self, bool prepare, __u32 mode,
		      const struct mapping *m)
{
	if (!self->other_up) {
		ASSERT_EQ(0, target_up(&self->other, self->tb.t.backend,
				       !prepare, 3))
			TH_LOG("%s", strerror(errno));
		self->other_up = true;
	}
	return target_open(&self->other, m->oflags, mode);
}

TEST_F(flags, vmflags)
{
	struct testbed *tb = &self->tb;
	size_t len = 2 * tb->psz;
	/* nothing to compare with where this kernel's prepare twin cannot */
	bool compare = variant->prepare || !prepare_lacks(variant->mode, 0, 0);
	struct mmapdemo_stats before, after;
	unsigned int i;
	struct vma v, w;
	char *p, *q;
	int fd, other;

	for (i = 0; i < sizeof(mappings) / sizeof(mappings[0]); i++) {
		const struct mapping *m = &mappings[i];

		fd = target_open(&tb->t, m->oflags, variant->mode);
		ASSERT_GE(fd, 0) TH_LOG("%s: %s", m->name, strerror(errno));
		before = target_stats(&tb->t);
		p = mmap(NULL, len, m->prot, m->map, fd, tb->psz);
		if (variant->mode == REMAP && m->map == MAP_PRIVATE) {
			ASSERT_EQ(MAP_FAILED, p) TH_LOG("%s", m->name);
			EXPECT_EQ(EINVAL, errno) TH_LOG("%s", m->name);
			after = target_stats(&tb->t);
			/* refused in the hook: nothing allocated, no VMA to close */
			EXPECT_EQ(1, DELTA(before, after, hook_calls));
			EXPECT_EQ(before.live_objects, after.live_objects);
			EXPECT_EQ(0, DELTA(before, after, vm_close));
			tb->unclosed += !variant->prepare;
		} else {
			ASSERT_NE(MAP_FAILED, p)
				TH_LOG("%s: %s", m->name, strerror(errno));
			ASSERT_EQ(0, vma_at((unsigned long)p, &v));
			EXPECT_EQ((unsigned long)p, v.start);
			EXPECT_EQ((unsigned long)p + len, v.end);
			/* the file offset for every allowed mode (no CoW remap) */
			EXPECT_EQ(tb->psz, v.offset) TH_LOG("%s", m->name);
			expect_flags(_metadata, &v, m, variant->mode);
			/* pages 1 and 2 are readable (fault or prefilled) */
			(void)*(volatile char *)p;
			(void)*(volatile char *)(p + tb->psz);
			EXPECT_EQ(0, munmap(p, len));
			after = target_stats(&tb->t);
			/* driver/common.c:mmapdemo_map_put: freed with the VMA */
			EXPECT_EQ(before.live_objects, after.live_objects)
				TH_LOG("%s", m->name);
		}
		close(fd);

		/* the other twin: the same errno, or the very same flags */
		if (!compare)
			continue;
		other = open_other(_metadata, self, variant->prepare,
				   variant->mode, m);
		ASSERT_GE(other, 0) TH_LOG("%s: %s", m->name, strerror(errno));
		q = mmap(NULL, len, m->prot, m->map, other, tb->psz);
		if (p == MAP_FAILED) {
			EXPECT_EQ(MAP_FAILED, q) TH_LOG("%s", m->name);
			EXPECT_EQ(EINVAL, errno) TH_LOG("%s", m->name);
		} else {
			ASSERT_NE(MAP_FAILED, q) TH_LOG("%s", m->name);
			ASSERT_EQ(0, vma_at((unsigned long)q, &w));
			EXPECT_STREQ(v.flags, w.flags) TH_LOG("%s", m->name);
			EXPECT_EQ(0, munmap(q, len));
		}
		close(other);
	}
}

TEST_HARNESS_MAIN
