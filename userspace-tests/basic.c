// SPDX-License-Identifier: GPL-2.0
/*
 * First questions, asked of both twins: do the devices exist, does data
 * written through one mapping show through another, which VmFlags does the
 * kernel give a FAULT-mode mapping, do the counters come back to their
 * baseline after munmap, and are out-of-range requests refused.
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
#include "vma.h"

FIXTURE(twin) {
	int fd;
	long pages;
	size_t psz;
};

FIXTURE_VARIANT(twin) {
	const char *dev;
	bool prepare;
};

FIXTURE_VARIANT_ADD(twin, prepare) {
	.dev = MMAPDEMO_DEV_PREPARE,
	.prepare = true,
};

FIXTURE_VARIANT_ADD(twin, legacy) {
	.dev = MMAPDEMO_DEV_LEGACY,
	.prepare = false,
};

FIXTURE_SETUP(twin)
{
	if (twin_missing(variant->prepare))
		SKIP(return, NO_PREPARE_TWINS);
	self->psz = getpagesize();
	self->pages = module_pages();
	ASSERT_GE(self->pages, 4) TH_LOG("mmapdemo not loaded, or pages < 4");
	self->fd = open(variant->dev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", variant->dev, strerror(errno));
}

FIXTURE_TEARDOWN(twin)
{
	close(self->fd);
}

TEST_F(twin, device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(variant->dev, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* include/linux/miscdevice.h: MISC_MAJOR 10 */
	ASSERT_EQ(10, major(st.st_rdev));
}

TEST_F(twin, data_through_two_mappings)
{
	size_t len = self->pages * self->psz;
	unsigned char *a, *b;
	size_t i;
	int fd2;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, a);
	b = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 7 + variant->prepare);
	ASSERT_EQ(0, memcmp(a, b, len));

	/* Another open file of the same device maps the same buffer. */
	fd2 = open(variant->dev, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	munmap(b, len);
	b = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, fd2, 3 * self->psz);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, memcmp(a + 3 * self->psz, b, self->psz));
	munmap(b, self->psz);
	munmap(a, len);
	close(fd2);
}

TEST_F(twin, counters_return_to_baseline)
{
	struct mmapdemo_stats before, during, after;
	size_t len = 4 * self->psz;
	/* a prepare twin keeps state only with vm_ops->mapped (7.1) */
	int state = !variant->prepare || prepare_keeps_state();
	volatile unsigned char *p;
	int i;

	before = twin_stats(self->fd);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, self->psz);
	ASSERT_NE(MAP_FAILED, (void *)p);
	for (i = 0; i < 4; i++)
		(void)p[i * self->psz];
	during = twin_stats(self->fd);
	ASSERT_EQ(0, munmap((void *)p, len));
	after = twin_stats(self->fd);

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

TEST_F(twin, out_of_range_is_einval)
{
	struct mmapdemo_stats before, after;
	size_t psz = self->psz, n = self->pages;
	struct {
		size_t off, len;
	} bad[] = {
		{ n * psz, psz },		/* offset at the end */
		{ 0, (n + 1) * psz },		/* longer than the buffer */
		{ (n - 1) * psz, 2 * psz },	/* straddles the end */
	};
	unsigned int i;
	void *p;

	before = twin_stats(self->fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = mmap(NULL, bad[i].len, PROT_READ, MAP_SHARED, self->fd,
			 bad[i].off);
		/* driver/common.c:mmapdemo_check_range, called by both hooks */
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(EINVAL, errno);
	}
	after = twin_stats(self->fd);
	/* each request reached the hook, none left state behind */
	EXPECT_EQ(before.hook_calls + 3, after.hook_calls);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(before.vm_close, after.vm_close);
}

TEST_F(twin, unknown_mode_is_einval)
{
	__u32 mode = MMAPDEMO_MODE_FAULT;

	EXPECT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_SET_MODE, &mode));
	mode = 1000;
	EXPECT_EQ(-1, ioctl(self->fd, MMAPDEMO_IOC_SET_MODE, &mode));
	EXPECT_EQ(EINVAL, errno);
	/* driver/common.c:mmapdemo_ioctl: unknown commands */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(MMAPDEMO_IOC_MAGIC, 99)));
	EXPECT_EQ(ENOTTY, errno);
}

/*
 * VmFlags of one FAULT-mode mapping.  Derivation (mm/mmap.c:do_mmap):
 * every file mapping gets mr mw me (VM_MAYREAD|MAYWRITE|MAYEXEC) plus rd/wr
 * from prot; MAP_SHARED adds sh ms, and without FMODE_WRITE clears sh and
 * mw.  guest-init mounts /dev without noexec, so me stays.
 * mm/vma.c:accountable_mapping adds ac to a private writable mapping.
 * mm/vma.c:__mmap_complete sets sd (CONFIG_MEM_SOFT_DIRTY=y in Debian).
 * The FAULT-mode hooks change no flag.  fs/proc/task_mmu.c:show_smap_vma_flags
 * prints them in bit order.
 */
FIXTURE(vmflags) {
	int fd;
};

FIXTURE_VARIANT(vmflags) {
	const char *dev;
	int open_flags, prot, map;
	const char *expect;
};

#define SHARED_RW	O_RDWR, PROT_READ | PROT_WRITE, MAP_SHARED
#define SHARED_RO	O_RDWR, PROT_READ, MAP_SHARED
#define SHARED_RO_FD	O_RDONLY, PROT_READ, MAP_SHARED
#define PRIVATE_RW	O_RDWR, PROT_READ | PROT_WRITE, MAP_PRIVATE
#define PRIVATE_RO	O_RDWR, PROT_READ, MAP_PRIVATE

FIXTURE_VARIANT_ADD(vmflags, prepare_shared_rw) {
	MMAPDEMO_DEV_PREPARE, SHARED_RW, "rd wr sh mr mw me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, legacy_shared_rw) {
	MMAPDEMO_DEV_LEGACY, SHARED_RW, "rd wr sh mr mw me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, prepare_shared_ro) {
	MMAPDEMO_DEV_PREPARE, SHARED_RO, "rd sh mr mw me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, legacy_shared_ro) {
	MMAPDEMO_DEV_LEGACY, SHARED_RO, "rd sh mr mw me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, prepare_shared_ro_fd) {
	MMAPDEMO_DEV_PREPARE, SHARED_RO_FD, "rd mr me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, legacy_shared_ro_fd) {
	MMAPDEMO_DEV_LEGACY, SHARED_RO_FD, "rd mr me ms sd" };
FIXTURE_VARIANT_ADD(vmflags, prepare_private_rw) {
	MMAPDEMO_DEV_PREPARE, PRIVATE_RW, "rd wr mr mw me ac sd" };
FIXTURE_VARIANT_ADD(vmflags, legacy_private_rw) {
	MMAPDEMO_DEV_LEGACY, PRIVATE_RW, "rd wr mr mw me ac sd" };
FIXTURE_VARIANT_ADD(vmflags, prepare_private_ro) {
	MMAPDEMO_DEV_PREPARE, PRIVATE_RO, "rd mr mw me sd" };
FIXTURE_VARIANT_ADD(vmflags, legacy_private_ro) {
	MMAPDEMO_DEV_LEGACY, PRIVATE_RO, "rd mr mw me sd" };

FIXTURE_SETUP(vmflags)
{
	if (twin_missing(!strcmp(variant->dev, MMAPDEMO_DEV_PREPARE)))
		SKIP(return, NO_PREPARE_TWINS);
	self->fd = open(variant->dev, variant->open_flags | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", variant->dev, strerror(errno));
}

FIXTURE_TEARDOWN(vmflags)
{
	close(self->fd);
}

TEST_F(vmflags, fault_mode)
{
	size_t len = 2 * getpagesize();
	struct vma v;
	char *p;

	p = mmap(NULL, len, variant->prot, variant->map, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_EQ((unsigned long)p, v.start);
	EXPECT_EQ((unsigned long)p + len, v.end);
	EXPECT_STREQ(variant->expect, v.flags);
	munmap(p, len);
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
