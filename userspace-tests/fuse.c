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
 * Two things differ: FUSE passthrough maps the backing file writable
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
 * calls ->mapped.  Line numbers are from api-generations.md.  fs/fuse/ is
 * not in it, nor in this kit's cache (headers only): what these comments
 * say of fs/fuse/file.c, iomode.c and ioctl.c is INFERRED from mainline
 * and checked only by what the tests assert on the nine kernels.
 *
 * Each test runs in a mount namespace of its own: whatever a test that
 * dies half-way leaves mounted goes away with its processes, and cannot
 * pin the module.  Teardown unmounts all the same, and fails the test
 * when it cannot.
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

/*
 * A filesystem twin and a FUSE mount over it.  lower/f, 4 pages 'a' to
 * 'd', exists from the start; the server registered it once, as its probe.
 */
struct stack {
	char lower[48];		/* the filesystem twin's mount point */
	char mnt[48];		/* the FUSE mount over it */
	char path[64];		/* lower/f: the file, directly */
	char fpath[64];		/* mnt/f: the same file through FUSE */
	int root;		/* the lower mount's root directory */
	size_t psz;
	bool prepare;
	/* ->mapped calls and state objects per new VMA: 1, or 0 (fs.c) */
	int state;
	/* hook (legacy) or ->mapped (prepare) calls that get no ->close */
	long unclosed;
	struct mmapdemo_stats base;
	struct fuse_server srv;
};

/*
 * Mount the twin and the FUSE filesystem over it; false if the test is
 * skipped or failed (then nothing is left mounted: a failed or skipped
 * setup gets no teardown).
 */
static bool stack_up(struct __test_metadata *_metadata, struct stack *s,
		     const char *type, bool prepare)
{
	int fd, ret;

	s->psz = getpagesize();
	s->prepare = prepare;
	s->root = -1;
	/* driver/fs_common.c:mmapdemo_fs_types: 6.12 has the legacy twin only */
	if (prepare && !has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
		SKIP(return false, NO_PREPARE_TWINS);
	s->state = !prepare || prepare_keeps_state();
	snprintf(s->lower, sizeof(s->lower), "/tmp/fuse-%s", type);
	snprintf(s->mnt, sizeof(s->mnt), "/tmp/fuse-%s.mnt", type);
	snprintf(s->path, sizeof(s->path), "%s/f", s->lower);
	snprintf(s->fpath, sizeof(s->fpath), "%s/f", s->mnt);
	ASSERT_EQ(0, unshare(CLONE_NEWNS)) TH_LOG("unshare: %s", strerror(errno));
	/* nothing mounted here propagates back out */
	ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	mkdir(s->lower, 0755);
	mkdir(s->mnt, 0755);
	ASSERT_EQ(0, mount("none", s->lower, type, 0, NULL))
		TH_LOG("mount %s: %s", type, strerror(errno));
	s->root = open(s->lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = make_file(s->path, 4, 'a');
	if (fd >= 0)
		close(fd);
	if (s->root < 0 || fd < 0) {
		umount(s->lower);
		ASSERT_TRUE(false) TH_LOG("%s: %s", s->path, strerror(errno));
	}
	ret = fuse_server_start(&s->srv, s->lower, s->mnt, "f");
	if (ret) {
		close(s->root);
		umount(s->lower);
		if (ret > 0)
			SKIP(return false, "%s", s->srv.why);
		ASSERT_EQ(0, ret) TH_LOG("%s", s->srv.why);
	}
	s->base = twin_stats(s->root);
	return true;
}

/*
 * Every mapping is gone: the state objects are back at their baseline,
 * one ->close per VMA ever made less those the kernel never closes, and
 * the kernel never read or wrote through the server.  Then both mounts
 * go, and the server is reaped.
 */
static void stack_down(struct __test_metadata *_metadata, struct stack *s)
{
	struct mmapdemo_stats end;

	twin_set_fail(s->root, MMAPDEMO_FAIL_NONE, 0, 0);
	twin_set_mode(s->root, MMAPDEMO_MODE_FAULT);
	end = twin_stats(s->root);
	EXPECT_EQ(s->base.live_objects, end.live_objects);
	/* without ->mapped nothing counts the new VMAs (fs.c) */
	if (s->state)
		EXPECT_EQ(DELTA(s->base, end, vm_close),
			  (s->prepare ? DELTA(s->base, end, mapped_calls) :
					DELTA(s->base, end, hook_calls)) +
			  DELTA(s->base, end, vm_open) - s->unclosed);
	/*
	 * FOPEN_PASSTHROUGH: fs/fuse/file.c:fuse_file_read_iter and
	 * fuse_file_write_iter go to the backing file
	 * (fuse_passthrough_read_iter, _write_iter), never to the server.
	 */
	EXPECT_EQ(0, s->srv.counts->op[FUSE_READ])
		TH_LOG("the kernel read through the server: no passthrough");
	EXPECT_EQ(0, s->srv.counts->op[FUSE_WRITE]);
	EXPECT_EQ(0, fuse_server_stop(&s->srv)) TH_LOG("%s", s->srv.why);
	close(s->root);
	if (umount(s->lower)) {
		EXPECT_EQ(0, errno) TH_LOG("umount %s: %s", s->lower,
					   strerror(errno));
		umount2(s->lower, MNT_DETACH);
	}
}

/* Open the FUSE file with the lower root's default mode set to mode. */
static int open_in_mode(const struct stack *s, int flags, __u32 mode)
{
	int fd;

	if (twin_set_mode(s->root, mode))
		return -1;
	fd = open(s->fpath, flags | O_CLOEXEC);
	twin_set_mode(s->root, MMAPDEMO_MODE_FAULT);
	return fd;
}

FIXTURE(fuse) {
	struct stack s;
};

FIXTURE_VARIANT(fuse) {
	const char *type;
	bool prepare;
};

FIXTURE_VARIANT_ADD(fuse, prepare) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
};

FIXTURE_VARIANT_ADD(fuse, legacy) {
	.type = MMAPDEMO_FS_LEGACY,
	.prepare = false,
};

FIXTURE_SETUP(fuse)
{
	stack_up(_metadata, &self->s, variant->type, variant->prepare);
}

FIXTURE_TEARDOWN(fuse)
{
	stack_down(_metadata, &self->s);
}

/* 1. Data: one page cache, whichever way it is reached */

TEST_F(fuse, read_shared)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats a, b, c;
	char *base = reserve_aligned(), *p, ch;
	struct vma v;
	int fd, i;

	ASSERT_NE(MAP_FAILED, base);
	fd = open(s->fpath, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0) TH_LOG("%s: %s", s->fpath, strerror(errno));
	a = twin_stats(s->root);
	p = mmap(base, 3 * s->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (s->prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16.12:fs/backing-file.c:336-337: no f_op->mmap, -ENODEV
		 * before any hook, private mappings too.  read() needs no
		 * hook: fuse_passthrough_read_iter reads the backing file.
		 */
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
		p = mmap(NULL, s->psz, PROT_READ, MAP_PRIVATE, fd, 0);
		EXPECT_EQ(MAP_FAILED, p);
		EXPECT_EQ(ENODEV, errno);
		EXPECT_EQ(0, DELTA(a, twin_stats(s->root), hook_calls));
		ASSERT_EQ(1, pread(fd, &ch, 1, s->psz));
		EXPECT_EQ('b', ch);
		close(fd);
		return;
	}
	ASSERT_EQ(base, p) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + i, p[i * s->psz + 5]);
	b = twin_stats(s->root);
	/* backing_file_mmap -> vfs_mmap: one hook call */
	EXPECT_EQ(1, DELTA(a, b, hook_calls));
	/*
	 * mm/util.c:__compat_vma_mmap -> mmap_action_complete(, true) ->
	 * mmap_action_finish -> call_vma_mapped (7.1.13:mm/util.c:1229-1235)
	 */
	EXPECT_EQ(s->prepare ? s->state : 0, DELTA(a, b, mapped_calls));
	EXPECT_EQ(s->state, DELTA(a, b, live_objects));
	/* the twin's vm_ops serve the faults: one ->map_pages maps all three */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_EQ((unsigned long)p + 3 * s->psz, v.end);
	EXPECT_EQ(0, v.offset);
	EXPECT_EQ(0, munmap(p, 3 * s->psz));
	c = twin_stats(s->root);
	EXPECT_EQ(1, DELTA(b, c, vm_close));
	EXPECT_EQ(a.live_objects, c.live_objects);
	close(fd);
}

/* Unlike overlayfs, which copies up, FUSE maps the backing file writable. */
TEST_F(fuse, store_through_fuse_mapping)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, buf[8];
	struct vma v;
	int fd, lower;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, s->prepare))
		return;
	ASSERT_NE(MAP_FAILED, base);
	fd = open(s->fpath, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	lower = open(s->path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(lower, 0);
	a = twin_stats(s->root);
	p = mmap(base, 2 * s->psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_STREQ("rd wr sh mr mw me ms sd", v.flags);
	memcpy(p + 10, "hello", 5);
	memcpy(p + s->psz, "world", 5);
	b = twin_stats(s->root);
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
	ASSERT_EQ(5, pread(fd, buf, 5, s->psz));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(0, munmap(p, 2 * s->psz));
	close(lower);
	close(fd);
}

TEST_F(fuse, write_shows_in_both_mappings)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats a, b;
	char *p, *q, c;
	int fd, lower;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, s->prepare))
		return;
	fd = open(s->fpath, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	lower = open(s->path, O_RDWR | O_CLOEXEC);
	ASSERT_GE(lower, 0);
	a = twin_stats(s->root);
	p = mmap(NULL, 2 * s->psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, 2 * s->psz, PROT_READ, MAP_SHARED, lower, 0);
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
	ASSERT_EQ(1, pwrite(lower, "Y", 1, s->psz + 1));
	EXPECT_EQ('Y', p[s->psz + 1]);
	EXPECT_EQ('Y', q[s->psz + 1]);
	ASSERT_EQ(1, pread(fd, &c, 1, s->psz + 1));
	EXPECT_EQ('Y', c);
	b = twin_stats(s->root);
	/* one hook call each: directly, and through backing_file_mmap */
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	EXPECT_EQ(0, munmap(p, 2 * s->psz));
	EXPECT_EQ(0, munmap(q, 2 * s->psz));
	close(lower);
	close(fd);
}

TEST_F(fuse, private_cow_leaves_file)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, c;
	int fd;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, s->prepare))
		return;
	ASSERT_NE(MAP_FAILED, base);
	fd = open(s->fpath, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	a = twin_stats(s->root);
	p = mmap(base, 2 * s->psz, RW, MAP_PRIVATE | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	p[0] = 'X';
	p[s->psz] = 'Y';
	b = twin_stats(s->root);
	/* mm/memory.c:do_cow_fault: ->fault per page, no ->page_mkwrite */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(0, DELTA(a, b, page_mkwrite));
	EXPECT_EQ('X', p[0]);
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('a', c);
	EXPECT_EQ(0, munmap(p, 2 * s->psz));
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
	struct stack *s = &self->s;
	unsigned int i;
	struct vma v;
	char *p;
	int fd;

	/* 6.16.12:fs/backing-file.c:336-337: asserted by read_shared */
	if (skip_without_stacked_prepare(_metadata, s->prepare))
		return;
	for (i = 0; i < sizeof(flag_cases) / sizeof(flag_cases[0]); i++) {
		const struct flags_case *c = &flag_cases[i];

		fd = open_in_mode(s, c->open_flags, c->mode);
		ASSERT_GE(fd, 0) TH_LOG("case %u: %s", i, strerror(errno));
		p = mmap(NULL, 2 * s->psz, c->prot, c->map, fd, s->psz);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("case %u: %s", i, strerror(errno));
		ASSERT_EQ(0, vma_at((unsigned long)p, &v));
		EXPECT_EQ((unsigned long)p + 2 * s->psz, v.end);
		EXPECT_EQ(s->psz, v.offset);
		EXPECT_STREQ(c->expect, v.flags) TH_LOG("case %u", i);
		EXPECT_EQ(0, munmap(p, 2 * s->psz));
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
 * a legacy .mmap changed the flags compares the same two files (INFERRED:
 * 6.12 mm/mmap.c:mmap_region keeps the FUSE file in vmg.file; 6.12 agrees,
 * two VMAs and nothing orphaned, unlike a direct FLAGS mapping there).
 */
static void fuse_merge_pair(struct __test_metadata *_metadata,
			    struct stack *s, __u32 mode)
{
	size_t psz = s->psz;
	struct mmapdemo_stats a, b, c;
	char *base = reserve_aligned();
	struct vma v[3];
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = open_in_mode(s, O_RDWR, mode);
	ASSERT_GE(fd, 0);
	a = twin_stats(s->root);
	ASSERT_EQ(0, map_pair(fd, base, RW)) TH_LOG("%s", strerror(errno));
	b = twin_stats(s->root);
	ASSERT_EQ(2, vmas_in((unsigned long)base, (unsigned long)base + 4 * psz,
			     v, 3));
	EXPECT_EQ((unsigned long)base + 2 * psz, v[0].end);
	EXPECT_EQ(2 * psz, v[1].offset);
	EXPECT_STREQ(v[0].flags, v[1].flags);
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	EXPECT_EQ(s->prepare ? 2 * s->state : 0, DELTA(a, b, mapped_calls));
	EXPECT_EQ(2 * s->state, DELTA(a, b, live_objects));
	EXPECT_EQ(0, munmap(base, 4 * psz));
	c = twin_stats(s->root);
	EXPECT_EQ(2, DELTA(b, c, vm_close));
	EXPECT_EQ(a.live_objects, c.live_objects);
	close(fd);
}

TEST_F(fuse, merge_fault_mode)
{
	if (skip_without_stacked_prepare(_metadata, self->s.prepare))
		return;
	fuse_merge_pair(_metadata, &self->s, MMAPDEMO_MODE_FAULT);
}

TEST_F(fuse, merge_flags_mode)
{
	if (skip_without_stacked_prepare(_metadata, self->s.prepare))
		return;
	fuse_merge_pair(_metadata, &self->s, MMAPDEMO_MODE_FLAGS);
}

/*
 * The twin's ioctls do not reach it through FUSE: fs/fuse/ioctl.c sends
 * FUSE_IOCTL to the server, which has no backing file to pass it to (so
 * the mode and armed failures go through the lower mount's root).
 */
TEST_F(fuse, ioctl_goes_to_server)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats st, a, b;
	int fd;

	fd = open(s->fpath, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	a = twin_stats(s->root);
	EXPECT_EQ(-1, ioctl(fd, MMAPDEMO_IOC_GET_STATS, &st));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(1, s->srv.counts->op[FUSE_IOCTL]);
	b = twin_stats(s->root);
	EXPECT_EQ(0, memcmp(&a, &b, sizeof(a)));
	close(fd);
}

/* 3. Execute a static binary through FUSE */

TEST_F(fuse, exec_static_binary)
{
	char *const argv_true[] = { "true", NULL };
	struct stack *s = &self->s;
	struct mmapdemo_stats a, b;
	char bin[96];
	int loads;

	snprintf(bin, sizeof(bin), "%s/busybox", s->lower);
	ASSERT_EQ(0, copy_file("/bin/busybox", bin));
	loads = elf_file_loads(bin);
	ASSERT_GT(loads, 0);
	snprintf(bin, sizeof(bin), "%s/busybox", s->mnt);
	a = twin_stats(s->root);
	if (s->prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16 fs/binfmt_elf.c:load_elf_binary checks the FUSE file
		 * for f_op->mmap, and it has one (fuse_file_mmap): unlike a
		 * direct exec of the file (fs.c, ENOEXEC), execve goes on,
		 * past the point of no return (fs/exec.c:begin_new_exec),
		 * and the first elf_map() gets backing_file_mmap's -ENODEV:
		 * fs/exec.c:bprm_execve kills the process with SIGSEGV
		 * (INFERRED from the 6.16 flow; 6.16 agrees).
		 */
		EXPECT_EQ(128 + SIGSEGV, run_binary(bin, argv_true));
		EXPECT_EQ(0, DELTA(a, twin_stats(s->root), hook_calls));
		return;
	}
	EXPECT_EQ(0, run_binary(bin, argv_true));
	b = twin_stats(s->root);
	/* elf_load -> elf_map -> vm_mmap -> fuse_file_mmap: one hook per segment */
	EXPECT_EQ(loads, DELTA(a, b, hook_calls));
	EXPECT_EQ(s->prepare ? loads * s->state : 0, DELTA(a, b, mapped_calls));
	/* the process exited: every VMA closed, every object freed */
	EXPECT_EQ(loads + DELTA(a, b, vm_open), DELTA(a, b, vm_close));
	EXPECT_EQ(a.live_objects, b.live_objects);
}

/*
 * 4. Error unwinding: a failure injected with MMAPDEMO_IOC_SET_FAIL
 * (-EIO; error_override -EAGAIN, as drivers/char/mem.c) at each stage
 * the twin has, in the backing file that FUSE maps.
 *
 * The failing hook is inside FUSE's .mmap, so mm/vma.c:
 * __mmap_new_file_vma unwinds it as any .mmap failure: the new VMA is
 * unmapped (unmap_region), mm/internal.h:mmap_file (vfs_mmap in 6.17+)
 * has set dummy vm_ops first - no ->close, even after ->mapped put the
 * twin's vm_ops on the VMA - and the errno is what fuse_passthrough_mmap
 * returned, backing_file_mmap's unchanged:
 *  - prepare, hook entry/exit: compat_vma_mmap returns the hook's error
 *    (mm/util.c); the override is never read;
 *  - prepare, ->mapped (7.1): mmap_action_finish returns it raw and
 *    unmaps nothing, "if (!err || is_compat) return err;"
 *    (7.1.13:mm/util.c:1408-1409, 7.3: 1407): error_override ignored;
 *  - legacy: the twin's .mmap error.
 * Under MAP_FIXED the old pages are gone already (vms_clean_up_area ran
 * before FUSE's .mmap): a hole, as for a direct mapping.
 */
FIXTURE(fuse_unwind) {
	struct stack s;
	int held;		/* a FUSE fd of f, opened before arming */
};

FIXTURE_VARIANT(fuse_unwind) {
	const char *type;
	bool prepare;
	__u32 stage;
	int override;		/* error_override as a positive errno, 0 = none */
	int err;		/* errno of the failed mmap() */
	int mapped;		/* ->mapped calls for it */
	int close;		/* ->close calls for it */
};

/* mm/util.c:compat_vma_mmap: the hook's error, verbatim */
FIXTURE_VARIANT_ADD(fuse_unwind, prepare_entry) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_HOOK_ENTRY,
	.err = EIO,
};

FIXTURE_VARIANT_ADD(fuse_unwind, prepare_entry_ovr) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_HOOK_ENTRY,
	.override = EAGAIN,
	.err = EIO,
};

FIXTURE_VARIANT_ADD(fuse_unwind, prepare_exit) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_HOOK_EXIT,
	.err = EIO,
};

FIXTURE_VARIANT_ADD(fuse_unwind, prepare_exit_ovr) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_HOOK_EXIT,
	.override = EAGAIN,
	.err = EIO,
};

/* mm/util.c:mmap_action_finish, compat: raw, no unmap; mmap_file: no close */
FIXTURE_VARIANT_ADD(fuse_unwind, prepare_mapped) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_MAPPED,
	.err = EIO,
	.mapped = 1,
};

FIXTURE_VARIANT_ADD(fuse_unwind, prepare_mapped_ovr) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
	.stage = MMAPDEMO_FAIL_MAPPED,
	.override = EAGAIN,
	.err = EIO,
	.mapped = 1,
};

/* mm/internal.h:mmap_file: verbatim, no close */
FIXTURE_VARIANT_ADD(fuse_unwind, legacy_entry) {
	.type = MMAPDEMO_FS_LEGACY,
	.prepare = false,
	.stage = MMAPDEMO_FAIL_HOOK_ENTRY,
	.err = EIO,
};

FIXTURE_VARIANT_ADD(fuse_unwind, legacy_exit) {
	.type = MMAPDEMO_FS_LEGACY,
	.prepare = false,
	.stage = MMAPDEMO_FAIL_HOOK_EXIT,
	.err = EIO,
};

FIXTURE_SETUP(fuse_unwind)
{
	const char *lacks = variant->prepare ?
		prepare_lacks(MMAPDEMO_MODE_FAULT, variant->stage,
			      variant->override) : NULL;

	self->held = -1;
	if (lacks)
		SKIP(return, "%s", lacks);
	if (variant->prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE))
		SKIP(return, "no can_mmap_file() (6.17): backing_file_mmap refuses the file with ENODEV before any hook (fuse.read_shared)");
	if (!stack_up(_metadata, &self->s, variant->type, variant->prepare))
		return;
	/*
	 * The server opens and registers f at its first FUSE open, here,
	 * unarmed; the FUSE opens of the tests reuse that registration.  So
	 * the failure armed for them is taken by the kernel's own open of
	 * the backing file, fs/fuse/passthrough.c:fuse_passthrough_open ->
	 * backing_file_open, per FUSE file - the file it maps.
	 */
	self->held = open(self->s.fpath, O_RDWR | O_CLOEXEC);
	if (self->held < 0)
		stack_down(_metadata, &self->s);
	ASSERT_GE(self->held, 0) TH_LOG("%s: %s", self->s.fpath, strerror(errno));
}

FIXTURE_TEARDOWN(fuse_unwind)
{
	close(self->held);
	stack_down(_metadata, &self->s);
}

/* Open f through FUSE with the failure armed on the lower mount's root. */
static int open_armed(const FIXTURE_VARIANT(fuse_unwind) *variant,
		      const struct stack *s)
{
	int fd;

	if (twin_set_fail(s->root, variant->stage, -EIO, -variant->override))
		return -1;
	fd = open(s->fpath, O_RDWR | O_CLOEXEC);
	if (twin_set_fail(s->root, MMAPDEMO_FAIL_NONE, 0, 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The counters across one mmap() that failed where the variant says;
 * notes the VMAs that the kernel never closes, for stack_down().
 */
static void expect_unwound(struct __test_metadata *_metadata,
			   const FIXTURE_VARIANT(fuse_unwind) *variant,
			   const struct mmapdemo_stats *b,
			   const struct mmapdemo_stats *a, long *unclosed)
{
	expect_unwound_counts(_metadata, b, a, variant->mapped,
			      variant->close);
	*unclosed += (variant->prepare ? variant->mapped : 1) - variant->close;
}

static char maps_before[65536], maps_after[65536];

/* A plain mmap() fails and leaves /proc/self/maps exactly as it was. */
TEST_F(fuse_unwind, plain_mmap)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats before, after;
	void *p;
	int fd, err;

	fd = open_armed(variant, s);
	ASSERT_GE(fd, 0) TH_LOG("%s", strerror(errno));
	before = twin_stats(s->root);
	ASSERT_LT(0, maps_snapshot(maps_before, sizeof(maps_before)));
	p = mmap(NULL, 2 * s->psz, RW, MAP_SHARED, fd, 0);
	err = errno;
	ASSERT_LT(0, maps_snapshot(maps_after, sizeof(maps_after)));
	after = twin_stats(s->root);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));
	/* mm/vma.c:__mmap_new_file_vma: unmap_region, the VMA is gone */
	EXPECT_STREQ(maps_before, maps_after);
	expect_unwound(_metadata, variant, &before, &after, &s->unclosed);

	/* one-shot: consumed, the next mmap() of that FUSE file works */
	p = mmap(NULL, 2 * s->psz, RW, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	EXPECT_EQ('b', ((char *)p)[s->psz]);
	ASSERT_EQ(0, munmap(p, 2 * s->psz));
	after = twin_stats(s->root);
	EXPECT_EQ(before.live_objects, after.live_objects);
	EXPECT_EQ(1, DELTA(before, after, injected));
	close(fd);
}

/*
 * MAP_FIXED of two file pages over the middle of anon_four(): the old
 * pages are gone before FUSE's .mmap runs (mm/vma.c:vms_clean_up_area),
 * so a hole where they were, the outer pages intact (fixture.h).
 */
TEST_F(fuse_unwind, fixed_over_anon_leaves_a_hole)
{
	struct stack *s = &self->s;
	struct mmapdemo_stats before, after;
	char *base = anon_four();
	void *p;
	int fd, err;

	ASSERT_NE(NULL, base);
	fd = open_armed(variant, s);
	ASSERT_GE(fd, 0);
	before = twin_stats(s->root);
	p = mmap(base + s->psz, 2 * s->psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	err = errno;
	after = twin_stats(s->root);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));
	expect_unwound(_metadata, variant, &before, &after, &s->unclosed);
	expect_hole(_metadata, base);
	anon_four_free(base);
	close(fd);
}

TEST_HARNESS_MAIN
