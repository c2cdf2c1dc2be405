// SPDX-License-Identifier: GPL-2.0
/*
 * Which views share the buffer?
 *
 * Each twin has one buffer (driver/main.c:mmapdemo_buffer_alloc), and every
 * mode maps those same pages: FAULT and FLAGS hand them out in ->fault,
 * REMAP maps their PFNs, PAGES inserts them.  So a MAP_SHARED write through
 * any mode of a twin shows through every mode of that twin, shared or
 * private (until the private page is written).  The other twin has its own
 * buffer and sees nothing of it.  A write through MAP_PRIVATE goes to an
 * anonymous CoW copy (mm/memory.c:do_cow_fault, wp_page_copy) and shows
 * nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

#define NR_MODES 4

FIXTURE(data) {
	struct testbed tb;	/* this twin */
	int fd[NR_MODES];	/* one open file per mode, -1 if it lacks it */
	int other;		/* the other twin, FAULT mode */
	size_t len;
};

FIXTURE_VARIANT(data) {
	bool prepare;
	__u32 mode;		/* the mode written through */
};

/* fixture.h: both twins in every mode */
TWIN_PAIR(data, , _fault, .mode = MMAPDEMO_MODE_FAULT)
TWIN_PAIR(data, , _flags, .mode = MMAPDEMO_MODE_FLAGS)
TWIN_PAIR(data, , _remap, .mode = MMAPDEMO_MODE_REMAP)
TWIN_PAIR(data, , _pages, .mode = MMAPDEMO_MODE_PAGES)

FIXTURE_SETUP(data)
{
	const char *other = variant->prepare ? MMAPDEMO_DEV_LEGACY :
					       MMAPDEMO_DEV_PREPARE;
	__u32 m;

	for (m = 0; m < NR_MODES; m++)
		self->fd[m] = -1;
	self->other = -1;
	if (testbed_setup(_metadata, &self->tb, BACKEND_DEV, variant->prepare,
			  variant->mode, 4))
		return;
	self->len = module_pages() * self->tb.psz;
	for (m = 0; m < NR_MODES; m++) {
		/* a mode this kernel's prepare twin cannot do stays -1 */
		if (variant->prepare && prepare_lacks(m, 0, 0))
			continue;
		self->fd[m] = target_open(&self->tb.t, O_RDWR, m);
		ASSERT_GE(self->fd[m], 0) TH_LOG("%s", strerror(errno));
	}
	if (has_feature(MMAPDEMO_FEAT_PREPARE_TWINS)) {
		self->other = twin_open(other, O_RDWR, MMAPDEMO_MODE_FAULT);
		ASSERT_GE(self->other, 0);
	}
}

FIXTURE_TEARDOWN(data)
{
	int m;

	for (m = 0; m < NR_MODES; m++)
		if (self->fd[m] >= 0)
			close(self->fd[m]);
	if (self->other >= 0)
		close(self->other);
	testbed_teardown(_metadata, &self->tb);
}

/*
 * A pattern that differs from page to page: i * 13 alone repeats every
 * 256 bytes, which would make a hook that maps the wrong pages look right.
 */
static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 13 + i / 251 + seed);
}

TEST_F(data, shared_write_shows_in_every_view_of_the_twin)
{
	unsigned int seed = 1 + variant->mode * 2 + variant->prepare;
	unsigned char *w, *r, *o, *expect;
	int m;

	expect = malloc(self->len);
	ASSERT_NE(NULL, expect);
	/* the other twin (if any) first gets a pattern of its own */
	o = NULL;
	if (self->other >= 0) {
		o = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->other, 0);
		ASSERT_NE(MAP_FAILED, o);
		fill(o, self->len, 100);
	}

	w = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd[variant->mode], 0);
	ASSERT_NE(MAP_FAILED, w);
	fill(w, self->len, seed);
	fill(expect, self->len, seed);

	for (m = 0; m < NR_MODES; m++) {
		if (self->fd[m] < 0)
			continue;
		r = mmap(NULL, self->len, PROT_READ, MAP_SHARED, self->fd[m], 0);
		ASSERT_NE(MAP_FAILED, r);
		EXPECT_EQ(0, memcmp(expect, r, self->len)) TH_LOG("shared mode %d", m);
		munmap(r, self->len);
		/* from a non-zero offset: the hook maps from pgoff, not page 0 */
		r = mmap(NULL, 2 * self->tb.psz, PROT_READ, MAP_SHARED, self->fd[m],
			 3 * self->tb.psz);
		ASSERT_NE(MAP_FAILED, r);
		EXPECT_EQ(0, memcmp(expect + 3 * self->tb.psz, r, 2 * self->tb.psz))
			TH_LOG("shared mode %d at page 3", m);
		munmap(r, 2 * self->tb.psz);
		/* driver/common.c:mmapdemo_check_request: no private REMAP */
		if (m == MMAPDEMO_MODE_REMAP)
			continue;
		r = mmap(NULL, self->len, PROT_READ, MAP_PRIVATE, self->fd[m], 0);
		ASSERT_NE(MAP_FAILED, r);
		EXPECT_EQ(0, memcmp(expect, r, self->len)) TH_LOG("private mode %d", m);
		munmap(r, self->len);
	}
	/* separate buffers: the other twin still holds its own pattern */
	if (o) {
		fill(expect, self->len, 100);
		EXPECT_EQ(0, memcmp(expect, o, self->len));
		munmap(o, self->len);
	}
	munmap(w, self->len);
	free(expect);
}

TEST_F(data, private_write_stays_private)
{
	size_t psz = self->tb.psz;
	unsigned char *s, *p;

	s = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd[MMAPDEMO_MODE_FAULT], 0);
	ASSERT_NE(MAP_FAILED, s);
	s[0] = 1;
	s[psz] = 2;
	p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		 self->fd[variant->mode], 0);
	if (variant->mode == MMAPDEMO_MODE_REMAP) {
		/* driver/common.c:mmapdemo_check_request */
		ASSERT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
		self->tb.unclosed += !variant->prepare;
		munmap(s, 2 * psz);
		return;
	}
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(1, p[0]);
	p[0] = 7;			/* CoW: page 0 becomes anonymous */
	EXPECT_EQ(1, s[0]);
	s[0] = 3;
	EXPECT_EQ(7, p[0]);
	/* page 1 was not written privately: still the buffer's page */
	s[psz] = 4;
	EXPECT_EQ(4, p[psz]);
	munmap(p, 2 * psz);
	munmap(s, 2 * psz);
}

TEST_HARNESS_MAIN
