// SPDX-License-Identifier: GPL-2.0
/*
 * examples/exbuf: docs/porting.md's driver at each of its states -
 * exbuf_legacy.ko, exbuf_step1.ko, exbuf_step2.ko (all f_op->mmap, every
 * kernel) and exbuf_prepare.ko (f_op->mmap_prepare, 7.1+) - loaded from
 * /extra/example.  Every state must give the same data at offset 0 and
 * beyond, the VmFlags of a remap, refuse the same bad requests, hold one
 * reference per VMA (the "refs" parameter) and none once unmapped, and
 * unload once the last mapping is gone.  A module this kernel's probes
 * did not build SKIPs, with the probe named by examples.txt.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "../example_test.h"

#define PAGES		4	/* EXBUF_PAGES */

EXAMPLE_FIXTURE(exbuf)

FIXTURE_VARIANT_ADD(exbuf, legacy) { .name = "exbuf_legacy" };
FIXTURE_VARIANT_ADD(exbuf, step1) { .name = "exbuf_step1" };
FIXTURE_VARIANT_ADD(exbuf, step2) { .name = "exbuf_step2" };
FIXTURE_VARIANT_ADD(exbuf, prepare) { .name = "exbuf_prepare" };

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exbuf, data_at_offsets)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p, *q;
	int i;

	EXPECT_EQ(0, example_param(variant->name, "refs"));
	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap at 2: %s", strerror(errno));
	for (i = 0; i < PAGES; i++) {
		EXPECT_EQ('a' + i, p[i * psz]);
		EXPECT_EQ('a' + i, p[(i + 1) * psz - 1]);
	}
	EXPECT_EQ('c', q[0]);
	EXPECT_EQ('d', q[psz]);
	EXPECT_EQ(1, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags)));
	EXPECT_TRUE(same_flags(flags, want_flags()))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, want_flags());
	EXPECT_EQ(2, example_param(variant->name, "refs"));
	munmap(p, PAGES * psz);
	munmap(q, 2 * psz);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* One reference per VMA: a split adds one (->open), munmap drops all. */
TEST_F(exbuf, refs_follow_vmas)
{
	size_t psz = self->psz;
	char *p;

	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(1, example_param(variant->name, "refs"));
	ASSERT_EQ(0, munmap(p + psz, psz));	/* three pieces: two VMAs */
	EXPECT_EQ(2, example_param(variant->name, "refs"));
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* Out of range, or private: EINVAL from the hook, and no reference. */
TEST_F(exbuf, bad_requests)
{
	size_t psz = self->psz;

	example_check_past_end(_metadata, self->fd, PAGES);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exbuf, rmmod)
{
	example_check_rmmod(_metadata, &self->fd, variant->name);
}

TEST_HARNESS_MAIN
