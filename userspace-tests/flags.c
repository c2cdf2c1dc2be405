// SPDX-License-Identifier: GPL-2.0
/*
 * Which VmFlags does each mapping style get, and do both twins agree?
 *
 * Every mode x {MAP_SHARED, MAP_PRIVATE} x {PROT_READ, PROT_READ|PROT_WRITE}
 * on both twins; the device is opened O_RDWR.  Each variant maps two pages
 * at offset one page and checks the extents, the offset /proc shows, the
 * exact VmFlags, that the other twin gives the very same flags, and that
 * the pages read back what the buffer holds.
 *
 * Baseline (see basic.c): mm/mmap.c:do_mmap gives rd/wr from prot and
 * mr mw me, MAP_SHARED adds sh ms; mm/vma.c:accountable_mapping adds ac to
 * a private writable mapping; mm/vma.c:__mmap_complete adds sd
 * (CONFIG_MEM_SOFT_DIRTY=y).  fs/proc/task_mmu.c:show_smap_vma_flags prints
 * them in bit order: rd wr sh mr mw me ms pf io dc de ac dd sd mm.
 * What the modes add:
 *  FLAGS  dc dd   the hooks: VMA_DONTCOPY_BIT, VMA_DONTDUMP_BIT
 *  REMAP  pf io de dd  mm.h:VMA_REMAP_FLAGS via mm/memory.c:
 *                 remap_pfn_range_prepare (prepare) and
 *                 remap_pfn_range_internal (legacy)
 *  PAGES  mm      mm/memory.c:map_kernel_pages_prepare (prepare),
 *                 vm_insert_pages via vm_map_pages (legacy)
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
#include "vma.h"

FIXTURE(flags) {
	int fd, other;
	size_t psz;
};

FIXTURE_VARIANT(flags) {
	bool prepare;
	__u32 mode;
	int map, prot;
	int err;		/* expected errno, 0 = mapping succeeds */
	const char *expect;	/* VmFlags */
};

#define RW	(PROT_READ | PROT_WRITE)
#define RO	PROT_READ
#define TWINS(name, mode, map, prot, err, expect)			\
	FIXTURE_VARIANT_ADD(flags, prepare_##name) {			\
		true, MMAPDEMO_MODE_##mode, map, prot, err, expect };	\
	FIXTURE_VARIANT_ADD(flags, legacy_##name) {			\
		false, MMAPDEMO_MODE_##mode, map, prot, err, expect }

/* mm/mmap.c:do_mmap baseline, nothing added by the FAULT hooks */
TWINS(fault_shared_rw, FAULT, MAP_SHARED, RW, 0, "rd wr sh mr mw me ms sd");
TWINS(fault_shared_ro, FAULT, MAP_SHARED, RO, 0, "rd sh mr mw me ms sd");
TWINS(fault_private_rw, FAULT, MAP_PRIVATE, RW, 0, "rd wr mr mw me ac sd");
TWINS(fault_private_ro, FAULT, MAP_PRIVATE, RO, 0, "rd mr mw me sd");
/* driver hooks: VMA_DONTCOPY_BIT (dc) and VMA_DONTDUMP_BIT (dd) */
TWINS(flags_shared_rw, FLAGS, MAP_SHARED, RW, 0, "rd wr sh mr mw me ms dc dd sd");
TWINS(flags_shared_ro, FLAGS, MAP_SHARED, RO, 0, "rd sh mr mw me ms dc dd sd");
TWINS(flags_private_rw, FLAGS, MAP_PRIVATE, RW, 0, "rd wr mr mw me dc ac dd sd");
TWINS(flags_private_ro, FLAGS, MAP_PRIVATE, RO, 0, "rd mr mw me dc dd sd");
/* include/linux/mm.h:VMA_REMAP_FLAGS = io pf de dd */
TWINS(remap_shared_rw, REMAP, MAP_SHARED, RW, 0, "rd wr sh mr mw me ms pf io de dd sd");
TWINS(remap_shared_ro, REMAP, MAP_SHARED, RO, 0, "rd sh mr mw me ms pf io de dd sd");
/* driver/common.c:mmapdemo_check_request: REMAP needs MAP_SHARED */
TWINS(remap_private_rw, REMAP, MAP_PRIVATE, RW, EINVAL, NULL);
TWINS(remap_private_ro, REMAP, MAP_PRIVATE, RO, EINVAL, NULL);
/* mm/memory.c:map_kernel_pages_prepare / vm_insert_pages: mm */
TWINS(pages_shared_rw, PAGES, MAP_SHARED, RW, 0, "rd wr sh mr mw me ms sd mm");
TWINS(pages_shared_ro, PAGES, MAP_SHARED, RO, 0, "rd sh mr mw me ms sd mm");
TWINS(pages_private_rw, PAGES, MAP_PRIVATE, RW, 0, "rd wr mr mw me ac sd mm");
TWINS(pages_private_ro, PAGES, MAP_PRIVATE, RO, 0, "rd mr mw me sd mm");

FIXTURE_SETUP(flags)
{
	const char *dev = variant->prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY;
	const char *other = variant->prepare ? MMAPDEMO_DEV_LEGACY : MMAPDEMO_DEV_PREPARE;

	self->psz = getpagesize();
	self->other = -1;
	if (prepare_lacks(variant->mode, 0, 0)) {
		if (variant->prepare)
			SKIP(return, "%s", prepare_lacks(variant->mode, 0, 0));
		other = NULL;	/* nothing to compare with */
	}
	ASSERT_GE(module_pages(), 3);
	self->fd = twin_open(dev, O_RDWR, variant->mode);
	ASSERT_GE(self->fd, 0) TH_LOG("%s: %s", dev, strerror(errno));
	if (other) {
		self->other = twin_open(other, O_RDWR, variant->mode);
		ASSERT_GE(self->other, 0) TH_LOG("%s: %s", other, strerror(errno));
	}
}

FIXTURE_TEARDOWN(flags)
{
	close(self->fd);
	if (self->other >= 0)
		close(self->other);
}

/*
 * Where the module reports VM_PAT (x86 before 7.x: arch/x86/mm/pat/
 * memtype.c:track_pfn_remap flags a whole-VMA remap), REMAP also shows
 * "ar" (VM_ARCH_1, bit 24), just before "dd" (bit 26).
 */
static void expected_flags(char *buf, size_t size,
			   const FIXTURE_VARIANT(flags) *variant)
{
	const char *dd = strstr(variant->expect, " dd");

	if (variant->mode == MMAPDEMO_MODE_REMAP && dd &&
	    (mmapdemo_features() & MMAPDEMO_FEAT_VM_PAT))
		snprintf(buf, size, "%.*s ar%s", (int)(dd - variant->expect),
			 variant->expect, dd);
	else
		snprintf(buf, size, "%s", variant->expect);
}

TEST_F(flags, vmflags)
{
	char expect[sizeof(((struct vma *)0)->flags)];
	struct mmapdemo_stats before, after;
	size_t len = 2 * self->psz;
	struct vma v, w;
	char *p, *q;

	before = twin_stats(self->fd);
	p = mmap(NULL, len, variant->prot, variant->map, self->fd, self->psz);
	if (variant->err) {
		ASSERT_EQ(MAP_FAILED, p);
		EXPECT_EQ(variant->err, errno);
		/* same request, same errno from the other twin */
		if (self->other >= 0) {
			q = mmap(NULL, len, variant->prot, variant->map,
				 self->other, self->psz);
			ASSERT_EQ(MAP_FAILED, q);
			EXPECT_EQ(variant->err, errno);
		}
		after = twin_stats(self->fd);
		/* refused in the hook: nothing allocated, no VMA to close */
		EXPECT_EQ(before.hook_calls + 1, after.hook_calls);
		EXPECT_EQ(before.live_objects, after.live_objects);
		EXPECT_EQ(before.vm_close, after.vm_close);
		return;
	}
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_EQ((unsigned long)p, v.start);
	EXPECT_EQ((unsigned long)p + len, v.end);
	/* the offset is the file offset for every allowed mode (no CoW remap) */
	EXPECT_EQ(self->psz, v.offset);
	expected_flags(expect, sizeof(expect), variant);
	EXPECT_STREQ(expect, v.flags);
	if (self->other >= 0) {
		/* both twins give the same set */
		q = mmap(NULL, len, variant->prot, variant->map, self->other,
			 self->psz);
		ASSERT_NE(MAP_FAILED, q);
		ASSERT_EQ(0, vma_at((unsigned long)q, &w));
		EXPECT_STREQ(v.flags, w.flags);
		EXPECT_EQ(0, munmap(q, len));
	}
	/* pages 1 and 2 of the buffer are readable (fault or prefilled) */
	(void)*(volatile char *)p;
	(void)*(volatile char *)(p + self->psz);
	EXPECT_EQ(0, munmap(p, len));
	after = twin_stats(self->fd);
	/* driver/common.c:mmapdemo_map_put: state freed with the last VMA */
	EXPECT_EQ(before.live_objects, after.live_objects);
}

/* Out of the buffer is refused the same way in every mode and twin. */
TEST_F(flags, out_of_range)
{
	size_t psz = self->psz, n = module_pages();
	struct mmapdemo_stats before, after;
	int fds[2] = { self->fd, self->other };
	void *p;
	int i;

	before = twin_stats(self->fd);
	for (i = 0; i < 2 && fds[i] >= 0; i++) {
		/* driver/common.c:mmapdemo_check_range, first check of both hooks */
		p = mmap(NULL, psz, variant->prot, variant->map, fds[i], n * psz);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
		p = mmap(NULL, 2 * psz, variant->prot, variant->map, fds[i],
			 (n - 1) * psz);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
	}
	after = twin_stats(self->fd);
	EXPECT_EQ(before.hook_calls + 2, after.hook_calls);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(before.vm_close, after.vm_close);
}

TEST_HARNESS_MAIN
