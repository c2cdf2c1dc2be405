// SPDX-License-Identifier: GPL-2.0
/*
 * examples/remap: exremap_legacy.ko (.mmap, remap_pfn_range(), every
 * kernel) and exremap.ko (.mmap_prepare, mmap_action_remap_full(), 6.19+),
 * loaded from /extra/example.  Both must map the buffer at every offset
 * with the flags of a remap and nothing else, never merge two adjacent
 * mappings (VM_PFNMAP and VM_IO are VM_SPECIAL:
 * mm/vma.c:vma_merge_new_range), refuse to grow (VM_DONTEXPAND: mm/mremap.c
 * returns EFAULT), refuse what lies beyond the buffer with EINVAL, and
 * unload once the last mapping is gone.  A module this kernel's probes
 * did not build SKIPs, with the probe named by /extra/example/examples.txt.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "../example_test.h"

#define PAGES		4	/* EXREMAP_PAGES */

EXAMPLE_FIXTURE(exremap)

FIXTURE_VARIANT_ADD(exremap, legacy) { .name = "exremap_legacy" };
FIXTURE_VARIANT_ADD(exremap, prepare) { .name = "exremap" };

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exremap, data_at_offsets)
{
	example_check_data(_metadata, self->fd, PAGES);
}

/* The flags of a remap; two adjacent mmap()s stay two VMAs. */
TEST_F(exremap, flags_no_merge)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p;

	p = example_map_adjacent(_metadata, self->fd);
	EXPECT_EQ(2, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags)));
	EXPECT_TRUE(same_flags(flags, want_flags()))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, want_flags());
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ('d', p[3 * psz]);
	munmap(p, PAGES * psz);
}

/* VM_DONTEXPAND | VM_PFNMAP: mremap() cannot grow it. */
TEST_F(exremap, no_grow)
{
	size_t psz = self->psz;
	char *p;

	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(MAP_FAILED, mremap(p, psz, 2 * psz, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ('a', p[0]);
	munmap(p, psz);
}

/* Beyond the buffer: EINVAL from the hook. */
TEST_F(exremap, bad_requests)
{
	example_check_past_end(_metadata, self->fd, PAGES);
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exremap, rmmod)
{
	example_check_rmmod(_metadata, &self->fd, variant->name);
}

TEST_HARNESS_MAIN
