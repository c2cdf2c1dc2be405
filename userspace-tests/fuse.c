// SPDX-License-Identifier: GPL-2.0
/*
 * The filesystem twins under FUSE passthrough: a FUSE mount served by
 * fuse_server.c, whose files are backed by the files of a fresh
 * mmapdemofs_prepare or mmapdemofs_legacy mount, so that an mmap() of the
 * FUSE file maps the backing file itself.  The kernel's path:
 *
 *   mm/vma.c:__mmap_region, vm_file the FUSE file, one merge attempt
 *   -> f_op->mmap: fs/fuse/file.c:fuse_file_mmap (FUSE has only .mmap)
 *   -> fs/fuse/passthrough.c:fuse_passthrough_mmap
 *   -> fs/backing-file.c:backing_file_mmap: vma_set_file(backing file),
 *      then include/linux/fs.h:vfs_mmap (call_mmap in 6.16): .mmap of the
 *      legacy twin, or mm/util.c:compat_vma_mmap (compat_vma_mmap_prepare
 *      before 6.19) for the prepare twin, which runs .mmap_prepare on the
 *      VMA that already exists, copies the description into it, and from
 *      7.1 calls ->mapped.
 *
 * The same path as overlayfs (fs.c, "Stacked caller": ovl_mmap), so the
 * same questions: data, VmFlags, merges, counters, error unwinding, exec.
 * FUSE is a backend of scenario.c (BACKEND_FUSE): error unwinding is in
 * unwind.c and the stacked mappings in stacked.c, on it; this file holds
 * what is FUSE's own.  Two things differ: FUSE passthrough maps the backing file writable
 * (overlayfs copies a file opened for writing up), and the backing file
 * is not opened by anyone a test can reach - the kernel opens it for each
 * FUSE open (fuse_passthrough_open -> backing_file_open), so a mode or an
 * armed failure is set on the lower mount's root, as for overlayfs
 * (driver/fs_common.c:mmapdemo_fs_dir_ioctl).
 *
 * Expectations per kernel come from the module's probes, never from
 * version numbers: MMAPDEMO_FEAT_STACKED_PREPARE (can_mmap_file(), 6.17)
 * says whether backing_file_mmap takes a file without .mmap,
 * prepare_keeps_state() (vm_ops->mapped, 7.1) whether compat_vma_mmap
 * calls ->mapped.  A line number names the Debian source of its series
 * (6.16.12:fs/backing-file.c:336-337); what these comments say of
 * fs/fuse/file.c, iomode.c and ioctl.c holds in the 6.12, 6.16 and 7.3
 * sources alike, and the tests assert it on every kernel.
 *
 * Each test runs in a mount namespace of its own (fixture.h:
 * testbed_setup): whatever a test that dies half-way leaves mounted goes
 * away with its processes, and cannot pin the module.  Teardown unmounts
 * all the same, and fails the test when it cannot, or when the kernel
 * read or wrote through the server.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"
#include "fuse_server.h"

#define RW		(PROT_READ | PROT_WRITE)

/* each test on BACKEND_FUSE (scenario.c, fixture.h) */
TWIN_FIXTURE(fuse, BACKEND_FUSE, 4)

/* 1. Data: one page cache, whichever way it is reached */

TEST_F(fuse, read_shared)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b, c;
	char *base = reserve_aligned(), *p, ch;
	struct vma v;
	int fd, i;

	ASSERT_NE(MAP_FAILED, base);
	fd = open(tb->t.path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", tb->t.path, strerror(errno));
	a = twin_stats(tb->t.root);
	p = mmap(base, 3 * tb->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (tb->t.prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16.12:fs/backing-file.c:336-337: no f_op->mmap, -ENODEV
		 * before any hook, private mappings too.  read() needs no
		 * hook: fuse_passthrough_read_iter reads the backing file.
		 */
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
		p = mmap(NULL, tb->psz, PROT_READ, MAP_PRIVATE, fd, 0);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(0, DELTA(a, twin_stats(tb->t.root), hook_calls));
		ASSERT_EQ(1, pread(fd, &ch, 1, tb->psz));
		EXPECT_EQ('b', ch);
		close(fd);
		return;
	}
	ASSERT_EQ(base, p) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + i, p[i * tb->psz + 5]);
	b = twin_stats(tb->t.root);
	/* backing_file_mmap -> vfs_mmap: one hook call */
	EXPECT_EQ(1, DELTA(a, b, hook_calls));
	/*
	 * mm/util.c:__compat_vma_mmap -> mmap_action_complete(, true) ->
	 * mmap_action_finish -> call_vma_mapped (7.1.13:mm/util.c:1229-1235)
	 */
	EXPECT_EQ(tb->t.prepare ? tb->state : 0, DELTA(a, b, mapped_calls));
	EXPECT_EQ(tb->state, DELTA(a, b, live_objects));
	/* the twin's vm_ops serve the faults: one ->map_pages maps all three */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_EQ((unsigned long)p + 3 * tb->psz, v.end);
	EXPECT_EQ(0, v.offset);
	EXPECT_EQ(0, munmap(p, 3 * tb->psz));
	c = twin_stats(tb->t.root);
	EXPECT_EQ(1, DELTA(b, c, vm_close));
	EXPECT_EQ(a.live_objects, c.live_objects);
	close(fd);
}

/* Unlike overlayfs, which copies up, FUSE maps the backing file writable. */
TEST_F(fuse, store_through_fuse_mapping)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, buf[8];
	struct vma v;
	int fd, lower;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, tb->t.prepare))
		return;
	ASSERT_NE(MAP_FAILED, base);
	fd = open(tb->t.path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	lower = open(tb->t.file, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(lower, 0);
	a = twin_stats(tb->t.root);
	p = mmap(base, 2 * tb->psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_STREQ("rd wr sh mr mw me ms sd", v.flags);
	memcpy(p + 10, "hello", 5);
	memcpy(p + tb->psz, "world", 5);
	b = twin_stats(tb->t.root);
	/*
	 * mm/memory.c:do_shared_fault through the twin's vm_ops: ->fault,
	 * then ->page_mkwrite, for each page (fs.c store_shared_then_read)
	 */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(2, DELTA(a, b, page_mkwrite));
	EXPECT_EQ(0, DELTA(a, b, map_pages));
	/* the backing file's page cache, read directly and through FUSE */
	ASSERT_EQ(5, pread(lower, buf, 5, 10));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(5, pread(fd, buf, 5, tb->psz));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(0, munmap(p, 2 * tb->psz));
	close(lower);
	close(fd);
}

TEST_F(fuse, write_shows_in_both_mappings)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b;
	char *p, *q, c;
	int fd, lower;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, tb->t.prepare))
		return;
	fd = open(tb->t.path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	lower = open(tb->t.file, O_RDWR | O_CLOEXEC);
	ASSERT_GE(lower, 0);
	a = twin_stats(tb->t.root);
	p = mmap(NULL, 2 * tb->psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, 2 * tb->psz, PROT_READ, MAP_SHARED, lower, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ('a', p[1]);
	EXPECT_EQ('a', q[1]);
	/*
	 * write() through FUSE: fuse_passthrough_write_iter ->
	 * backing_file_write_iter writes the backing file's page cache,
	 * which both mappings map.
	 */
	ASSERT_EQ(1, pwrite(fd, "X", 1, 1));
	EXPECT_EQ('X', p[1]);
	EXPECT_EQ('X', q[1]);
	/* and a write() of the backing file shows through FUSE */
	ASSERT_EQ(1, pwrite(lower, "Y", 1, tb->psz + 1));
	EXPECT_EQ('Y', p[tb->psz + 1]);
	EXPECT_EQ('Y', q[tb->psz + 1]);
	ASSERT_EQ(1, pread(fd, &c, 1, tb->psz + 1));
	EXPECT_EQ('Y', c);
	b = twin_stats(tb->t.root);
	/* one hook call each: directly, and through backing_file_mmap */
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	EXPECT_EQ(0, munmap(p, 2 * tb->psz));
	EXPECT_EQ(0, munmap(q, 2 * tb->psz));
	close(lower);
	close(fd);
}

TEST_F(fuse, private_cow_leaves_file)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, c;
	int fd;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, tb->t.prepare))
		return;
	ASSERT_NE(MAP_FAILED, base);
	fd = open(tb->t.path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	a = twin_stats(tb->t.root);
	p = mmap(base, 2 * tb->psz, RW, MAP_PRIVATE | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	p[0] = 'X';
	p[tb->psz] = 'Y';
	b = twin_stats(tb->t.root);
	/* mm/memory.c:do_cow_fault: ->fault per page, no ->page_mkwrite */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(0, DELTA(a, b, page_mkwrite));
	EXPECT_EQ('X', p[0]);
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('a', c);
	EXPECT_EQ(0, munmap(p, 2 * tb->psz));
	close(fd);
}

/* 2. VmFlags and merges */

struct flags_case {
	int open_flags, prot, map;
	__u32 mode;
	const char *expect;
};

/*
 * The flags of a direct mapping (fs.c flag_cases): mm/mmap.c:do_mmap
 * computes them from the FUSE file's f_mode, the same as the backing
 * file's (backing_file_open takes the FUSE file's flags), and the hooks
 * add dc dd in FLAGS mode - compat_vma_mmap copies them from the desc
 * (mm/vma.h:set_vma_from_desc: ORed in 6.16-6.19, assigned from 7.0,
 * from a desc made of the VMA itself).
 */
static const struct flags_case flag_cases[] = {
	{ O_RDWR, RW, MAP_SHARED, MMAPDEMO_MODE_FAULT, "rd wr sh mr mw me ms sd" },
	{ O_RDWR, PROT_READ, MAP_SHARED, MMAPDEMO_MODE_FAULT, "rd sh mr mw me ms sd" },
	{ O_RDONLY, PROT_READ, MAP_SHARED, MMAPDEMO_MODE_FAULT, "rd mr me ms sd" },
	{ O_RDWR, RW, MAP_PRIVATE, MMAPDEMO_MODE_FAULT, "rd wr mr mw me ac sd" },
	{ O_RDWR, PROT_READ, MAP_PRIVATE, MMAPDEMO_MODE_FAULT, "rd mr mw me sd" },
	{ O_RDWR, RW, MAP_SHARED, MMAPDEMO_MODE_FLAGS, "rd wr sh mr mw me ms dc dd sd" },
	{ O_RDWR, PROT_READ, MAP_SHARED, MMAPDEMO_MODE_FLAGS, "rd sh mr mw me ms dc dd sd" },
	{ O_RDONLY, PROT_READ, MAP_SHARED, MMAPDEMO_MODE_FLAGS, "rd mr me ms dc dd sd" },
	{ O_RDWR, RW, MAP_PRIVATE, MMAPDEMO_MODE_FLAGS, "rd wr mr mw me dc ac dd sd" },
	{ O_RDWR, PROT_READ, MAP_PRIVATE, MMAPDEMO_MODE_FLAGS, "rd mr mw me dc dd sd" },
};

TEST_F(fuse, vmflags)
{
	struct testbed *tb = &self->tb;
	unsigned int i;
	struct vma v;
	char *p;
	int fd;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, tb->t.prepare))
		return;
	for (i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		const struct flags_case *c = &flag_cases[i];

		fd = target_open(&tb->t, c->open_flags, c->mode);
		ASSERT_GE(fd, 0) TH_LOG("case %u: %s", i, strerror(errno));
		p = mmap(NULL, 2 * tb->psz, c->prot, c->map, fd, tb->psz);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("case %u: %s", i, strerror(errno));
		ASSERT_EQ(0, vma_at((unsigned long)p, &v));
		EXPECT_EQ((unsigned long)p + 2 * tb->psz, v.end);
		EXPECT_EQ(tb->psz, v.offset);
		EXPECT_STREQ(c->expect, v.flags) TH_LOG("case %u", i);
		EXPECT_EQ(0, munmap(p, 2 * tb->psz));
		close(fd);
	}
}

/*
 * Two adjacent MAP_SHARED mmaps of one FUSE fd, contiguous offsets: never
 * one VMA.  The one merge attempt (mm/vma.c:__mmap_region ->
 * vma_merge_new_range) compares the new mapping's file, the FUSE file,
 * with the neighbour's vm_file, which backing_file_mmap made the backing
 * file (mm/vma.c:is_mergeable_vma).  So each mmap() makes a VMA and calls
 * the hook - and ->mapped - of either twin, in either mode; where a
 * direct prepare mapping merges (fs.c merge_pair), 6.16-7.1 cannot
 * clobber a neighbour's vm_private_data here.  6.12's retry merge after
 * a legacy .mmap changed the flags compares the same two files (6.12
 * mm/mmap.c:mmap_region keeps the FUSE file in vmg.file): two VMAs and
 * nothing orphaned, unlike a direct FLAGS mapping there.
 */
static void fuse_merge_pair(struct __test_metadata *_metadata,
			    struct testbed *tb, __u32 mode)
{
	size_t psz = tb->psz;
	struct mmapdemo_stats a, b, c;
	char *base = reserve_aligned();
	struct vma v[3];
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = target_open(&tb->t, O_RDWR, mode);
	ASSERT_GE(fd, 0);
	a = twin_stats(tb->t.root);
	ASSERT_EQ(0, map_pair(fd, base, RW)) TH_LOG("%s", strerror(errno));
	b = twin_stats(tb->t.root);
	ASSERT_EQ(2, vmas_in((unsigned long)base, (unsigned long)base + 4 * psz,
			     v, 3));
	EXPECT_EQ((unsigned long)base + 2 * psz, v[0].end);
	EXPECT_EQ(2 * psz, v[1].offset);
	EXPECT_STREQ(v[0].flags, v[1].flags);
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	EXPECT_EQ(tb->t.prepare ? 2 * tb->state : 0, DELTA(a, b, mapped_calls));
	EXPECT_EQ(2 * tb->state, DELTA(a, b, live_objects));
	EXPECT_EQ(0, munmap(base, 4 * psz));
	c = twin_stats(tb->t.root);
	EXPECT_EQ(2, DELTA(b, c, vm_close));
	EXPECT_EQ(a.live_objects, c.live_objects);
	close(fd);
}

TEST_F(fuse, merge_fault_mode)
{
	if (skip_without_stacked_prepare(_metadata, self->tb.t.prepare))
		return;
	fuse_merge_pair(_metadata, &self->tb, MMAPDEMO_MODE_FAULT);
}

TEST_F(fuse, merge_flags_mode)
{
	if (skip_without_stacked_prepare(_metadata, self->tb.t.prepare))
		return;
	fuse_merge_pair(_metadata, &self->tb, MMAPDEMO_MODE_FLAGS);
}

/*
 * The twin's ioctls do not reach it through FUSE: fs/fuse/ioctl.c sends
 * FUSE_IOCTL to the server, which has no backing file to pass it to (so
 * the mode and armed failures go through the lower mount's root).
 */
TEST_F(fuse, ioctl_goes_to_server)
{
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats st, a, b;
	int fd;

	fd = open(tb->t.path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	a = twin_stats(tb->t.root);
	EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_GET_STATS, &st));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(1, tb->t.srv.counts->op[FUSE_IOCTL]);
	b = twin_stats(tb->t.root);
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	close(fd);
}

/*
 * 3. Execute a static binary through FUSE: stacked.c exec runs it on the
 * fuse_ variants where backing_file_mmap takes the file; here what 6.16
 * does instead.
 */
TEST_F(fuse, exec_without_stacked_prepare)
{
	char *const argv_true[] = { "true", NULL };
	struct testbed *tb = &self->tb;
	struct mmapdemo_stats a;
	char bin[96];

	if (!tb->t.prepare || has_feature(MMAPDEMO_FEAT_STACKED_PREPARE))
		SKIP(return, "backing_file_mmap takes the file: stacked.c exec");
	snprintf(bin, sizeof(bin), "%s/busybox", tb->t.dir);
	ASSERT_EQ(0, copy_file("/bin/busybox", bin));
	ASSERT_GT(elf_file_loads(bin), 0);
	snprintf(bin, sizeof(bin), "%s/busybox", tb->t.fuse);
	a = twin_stats(tb->t.root);
	/*
	 * 6.16 fs/binfmt_elf.c:load_elf_binary checks the FUSE file for
	 * f_op->mmap, and it has one (fuse_file_mmap): unlike a direct exec
	 * of the file (fs.c, ENOEXEC), execve goes on, past the point of no
	 * return (fs/exec.c:begin_new_exec), and the first elf_map() gets
	 * backing_file_mmap's -ENODEV: fs/exec.c:bprm_execve kills the
	 * process with SIGSEGV.
	 */
	EXPECT_EQ(128 + SIGSEGV, run_binary(bin, argv_true));
	EXPECT_EQ(0, DELTA(a, twin_stats(tb->t.root), hook_calls));
}

TEST_HARNESS_MAIN
