// SPDX-License-Identifier: GPL-2.0
/*
 * First questions, asked of both twins: do the devices exist, do the
 * counters come back to their baseline after munmap, are out-of-range
 * requests and unknown ioctls refused, and what did the module's probes
 * find.  Which views share the buffer: data.c; VmFlags: flags.c.
 *
 * Expected values are derived from the Linux 7.3 source; each one names the
 * function it comes from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

TWIN_FIXTURE(twin, BACKEND_DEV, 4)

TEST_F(twin, device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(self->tb.t.file, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* include/linux/miscdevice.h: MISC_MAJOR 10 */
	ASSERT_EQ(10, major(st.st_rdev));
}

TEST_F(twin, counters_return_to_baseline)
{
	size_t psz = self->tb.psz, len = 4 * psz;
	struct mmapdemo_stats before, during, after;
	/* a prepare twin keeps state only with vm_ops->mapped (7.1) */
	int state = self->tb.state;
	volatile unsigned char *p;
	int i;

	before = twin_stats(self->tb.fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->tb.fd, psz);
	ASSERT_NE(MAP_FAILED, (void *)p);
	for (i = 0; i < 4; i++)
		(void)p[i * psz];
	during = twin_stats(self->tb.fd);
	ASSERT_EQ(0, munmap((void *)p, len));
	after = twin_stats(self->tb.fd);

	/*
	 * mm/vma.c:__mmap_region: one hook call for one new VMA
	 * (call_mmap_prepare, or __mmap_new_file_vma -> mmap_file).
	 */
	EXPECT_EQ(before.hook_calls + 1, after.hook_calls);
	/* mm/util.c:mmap_action_finish calls ->mapped for .mmap_prepare only */
	EXPECT_EQ(before.mapped_calls + (variant->prepare ? state : 0),
		  after.mapped_calls);
	/* include/linux/mm.h (vm_operations_struct): no ->open on first map */
	EXPECT_EQ(before.vm_open, after.vm_open);
	/* mm/vma.c:remove_vma -> vma_close: one ->close at munmap */
	EXPECT_EQ(before.vm_close + 1, after.vm_close);
	/* mm/memory.c:do_read_fault: no ->map_pages, so one ->fault per page */
	EXPECT_EQ(before.faults + 4, after.faults);
	/* the driver's own state: one object while mapped, none after */
	EXPECT_EQ(before.live_objects + state, during.live_objects);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(0, after.live_objects);
}

/*
 * Out of the buffer is refused the same way in every mode this kernel's
 * twin has, shared or private, read-only or writable:
 * driver/common.c:mmapdemo_check_range, the first check of both hooks.
 */
TEST_F(twin, out_of_range_is_einval)
{
	static const int maps[] = { MAP_SHARED, MAP_PRIVATE };
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE };
	struct testbed *tb = &self->tb;
	size_t psz = tb->psz, n = module_pages();
	const struct {
		size_t off, len;
	} bad[] = {
		{ .off = n * psz, .len = psz },		/* offset at the end */
		{ .off = 0, .len = (n + 1) * psz },	/* longer than the buffer */
		{ .off = (n - 1) * psz, .len = 2 * psz },	/* straddles the end */
	};
	struct mmapdemo_stats before, after;
	unsigned int i, j, k;
	long requests = 0;
	__u32 mode;
	void *p;
	int fd;

	before = target_stats(&tb->t);
	for (mode = MMAPDEMO_MODE_FAULT; mode <= MMAPDEMO_MODE_PAGES; mode++) {
		if (variant->prepare && prepare_lacks(mode, 0, 0))
			continue;
		fd = target_open(&tb->t, O_RDWR, mode);
		ASSERT_GE(fd, 0);
		for (i = 0; i < 2; i++) {
			for (j = 0; j < 2; j++) {
				for (k = 0; k < 3; k++) {
					p = mmap(NULL, bad[k].len, prots[j],
						 maps[i], fd, bad[k].off);
					EXPECT_EQ(MAP_FAILED, p)
						TH_LOG("mode %u, request %u", mode, k);
					EXPECT_EQ(EINVAL, errno)
						TH_LOG("mode %u, request %u", mode, k);
					requests++;
				}
			}
		}
		close(fd);
	}
	after = target_stats(&tb->t);
	/* each request reached the hook, none left state behind */
	EXPECT_EQ(requests, DELTA(before, after, hook_calls));
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(0, DELTA(before, after, vm_close));
	if (!variant->prepare)
		tb->unclosed += requests;
}

TEST_F(twin, unknown_mode_is_einval)
{
	__u32 mode = MMAPDEMO_MODE_FAULT;
	int fd = self->tb.fd;

	EXPECT_EQ(0, ioctl(fd, MMAPDEMO_IOC_SET_MODE, &mode));
	mode = 1000;
	EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_SET_MODE, &mode));
	EXPECT_EQ(EINVAL, errno);
	/* driver/common.c:mmapdemo_ioctl: unknown commands */
	EXPECT_EQ(-1, ioctl(fd, _IO(MMAPDEMO_IOC_MAGIC, 99)));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * What the module's compile probes found (MMAPDEMO_IOC_GET_FEATURES), for
 * the log (scripts/api-table reads the line) and checked against what
 * the module registered: the prepare twins exist exactly where the
 * probes found f_op->mmap_prepare, and each later API step implies the
 * hook.
 */
TEST(features)
{
	unsigned int f = mmapdemo_features();
	int prepare = access(MMAPDEMO_DEV_PREPARE, F_OK) == 0;

	printf("# features: %#x\n", f);
	fflush(stdout);
	EXPECT_EQ(prepare, has_feature(MMAPDEMO_FEAT_MMAP_PREPARE));
	EXPECT_EQ(prepare, has_feature(MMAPDEMO_FEAT_PREPARE_TWINS));
	if (!prepare)
		EXPECT_EQ(0u, f & ~MMAPDEMO_FEAT_VM_PAT);
	/* error_hook (6.19) and error_override (7.2) never together */
	EXPECT_FALSE(has_feature(MMAPDEMO_FEAT_ERROR_HOOK) &&
		     has_feature(MMAPDEMO_FEAT_ERROR_OVERRIDE));
	/* map kernel pages (7.1) is an mmap action (6.19) */
	if (has_feature(MMAPDEMO_FEAT_MAP_KERNEL_PAGES))
		EXPECT_TRUE(has_feature(MMAPDEMO_FEAT_MMAP_ACTION));
}

TEST_HARNESS_MAIN
