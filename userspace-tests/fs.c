// SPDX-License-Identifier: GPL-2.0
/*
 * The filesystem twins, mmapdemofs_prepare (.mmap_prepare) and
 * mmapdemofs_legacy (.mmap): page-cache coherence,
 * executing a binary, bad input and rmmod while mounted.  Through
 * overlayfs: stacked.c.
 *
 * Every test mounts a fresh instance and ends with the counters of that
 * filesystem type back at their baseline and a successful umount.
 * Counter expectations need deterministic fault-around: mappings are
 * placed in a 2 MiB-aligned reservation, so one page table covers them,
 * and fault_around_bytes is its default 64 KiB (mm/memory.c:
 * fault_around_pages = 16).
 *
 * Expected values are derived from the Linux 7.3 source; each names the
 * function it comes from.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vma.h"

#define PMD_SZ		(2UL << 20)
#define RW		(PROT_READ | PROT_WRITE)

/* A 2 MiB-aligned PROT_NONE reservation of 2 MiB to MAP_FIXED into. */
static char *reserve_aligned(void)
{
	char *p = reserve(2 * PMD_SZ);

	if (p == MAP_FAILED)
		return p;
	return (char *)(((unsigned long)p + PMD_SZ - 1) & ~(PMD_SZ - 1));
}

/* Write n pages, page i filled with (i + seed), to a new file. */
static int make_file(const char *path, int n, int seed)
{
	size_t psz = getpagesize();
	char *buf = malloc(psz);
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !buf)
		return -1;
	for (i = 0; i < n; i++) {
		memset(buf, i + seed, psz);
		if (write(fd, buf, psz) != (ssize_t)psz) {
			close(fd);
			fd = -1;
			break;
		}
	}
	free(buf);
	return fd;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, sig);
}

/* Read one byte at p; 0 if it worked, SIGBUS if that was raised. */
static int touch(volatile char *p)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	int sig;

	sigaction(SIGBUS, &sa, NULL);
	sig = sigsetjmp(sigbus_jmp, 1);
	if (!sig)
		(void)*p;
	signal(SIGBUS, SIG_DFL);
	return sig;
}

#define DELTA(a, b, f)	((long)((b).f - (a).f))

/* Is name a line of /proc/filesystems ("nodev\tname" or "\tname")? */
static bool have_fs(const char *name)
{
	FILE *f = fopen("/proc/filesystems", "r");
	char line[128], *tab;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tab = strchr(line, '\t');
		found = tab && !strcmp(tab + 1, name);
	}
	fclose(f);
	return found;
}

/* The fixture's fields and its mount and unmount. */
#define FS_FIELDS							\
	char dir[64];							\
	char path[96];							\
	int root;		/* the mount's root directory */	\
	size_t psz;							\
	unsigned int features;	/* MMAPDEMO_FEAT_* */			\
	/*								\
	 * hook calls (legacy) or ->mapped calls (prepare) that by	\
	 * the kernel source get no ->close: set by the tests		\
	 */								\
	long unclosed;							\
	/* state objects orphaned with them (6.12 retry merge) */	\
	long orphans;							\
	/*								\
	 * ->mapped calls and state objects per new VMA: 1, or 0 for	\
	 * a prepare twin without vm_ops->mapped (before 7.1)		\
	 */								\
	int state;							\
	struct mmapdemo_stats base

/*
 * A kernel without .mmap_prepare (6.12) gets the legacy twins only
 * (driver/fs_common.c:mmapdemo_fs_types): the prepare variants skip.
 * SKIP comes before the mount, so nothing is left to undo; after the
 * mount, a failure unmounts first (a failed setup runs no teardown, and
 * a mount left behind would pin the module).
 */
#define FS_MOUNT()							\
	do {								\
		self->psz = getpagesize();				\
		self->features = mmapdemo_features();			\
		if (variant->prepare &&					\
		    !(self->features & MMAPDEMO_FEAT_PREPARE_TWINS))	\
			SKIP(return, NO_PREPARE_TWINS);			\
		self->state = !variant->prepare || prepare_keeps_state(); \
		/* the feature bit says what the module registered */	\
		ASSERT_TRUE(have_fs(variant->type))			\
			TH_LOG("features %#x", self->features);		\
		snprintf(self->dir, sizeof(self->dir), "/tmp/%s",	\
			 variant->type);				\
		snprintf(self->path, sizeof(self->path), "%s/f",	\
			 self->dir);					\
		mkdir(self->dir, 0755);					\
		ASSERT_EQ(0, mount("none", self->dir, variant->type, 0, NULL)) \
			TH_LOG("mount %s: %s", variant->type, strerror(errno)); \
		self->root = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC); \
		if (self->root < 0)					\
			umount(self->dir);				\
		ASSERT_GE(self->root, 0);				\
		/* driver/fs_common.c:mmapdemo_fs_dir_ioctl: the root takes the ioctls */ \
		self->base = twin_stats(self->root);			\
	} while (0)

/*
 * Every mapping is gone: the state objects are back at their baseline
 * (compared with the test's own start, so that a leak fails the test
 * that made it and not every later one), and one ->close per VMA ever
 * made - by ->mapped (prepare) or .mmap (legacy), or by ->open on a split
 * or fork (include/linux/mm.h: vm_operations_struct) - less those that
 * the kernel never closes (self->unclosed, set by the test that made
 * them).
 */
#define FS_UNMOUNT()							\
	do {								\
		struct mmapdemo_stats end;				\
									\
		end = twin_stats(self->root);				\
		EXPECT_EQ(self->base.live_objects + self->orphans,	\
			  end.live_objects);				\
		/* without ->mapped nothing counts the new VMAs */	\
		if (self->state)					\
			EXPECT_EQ(DELTA(self->base, end, vm_close),	\
				  (variant->prepare ? DELTA(self->base, end, mapped_calls) : \
						      DELTA(self->base, end, hook_calls)) + \
				  DELTA(self->base, end, vm_open) - self->unclosed); \
		close(self->root);					\
		EXPECT_EQ(0, umount(self->dir))				\
			TH_LOG("umount: %s", strerror(errno));		\
	} while (0)

FIXTURE(fs) {
	FS_FIELDS;
};

FIXTURE_VARIANT(fs) {
	const char *type;
	bool prepare;
};

FIXTURE_VARIANT_ADD(fs, prepare) {
	.type = MMAPDEMO_FS_PREPARE,
	.prepare = true,
};

FIXTURE_VARIANT_ADD(fs, legacy) {
	.type = MMAPDEMO_FS_LEGACY,
	.prepare = false,
};

FIXTURE_SETUP(fs)
{
	FS_MOUNT();
}

FIXTURE_TEARDOWN(fs)
{
	FS_UNMOUNT();
}

/* 1. Coherence */

TEST_F(fs, write_then_read_shared)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p;
	int fd, i;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 3, 'a');
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 3 * self->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + i, p[i * self->psz + 5]);
	b = twin_stats(fd);
	/* mm/vma.c:__mmap_region: one hook call for one new VMA */
	EXPECT_EQ(1, DELTA(a, b, hook_calls));
	/* mm/util.c:mmap_action_finish: ->mapped for .mmap_prepare only */
	EXPECT_EQ(variant->prepare ? self->state : 0, DELTA(a, b, mapped_calls));
	/*
	 * mm/memory.c:do_read_fault -> do_fault_around: one ->map_pages over
	 * the whole (cached) VMA maps all three pages; ->fault is not needed.
	 */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	EXPECT_EQ(self->state, b.live_objects);
	EXPECT_EQ(0, munmap(p, 3 * self->psz));
	close(fd);
}

TEST_F(fs, store_shared_then_read)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, buf[16];
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 2, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 2 * self->psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	memcpy(p + 10, "hello", 5);
	memcpy(p + self->psz, "world", 5);
	b = twin_stats(fd);
	/*
	 * mm/memory.c:do_shared_fault: a write fault on a shared mapping has
	 * no fault-around; ->fault, then ->page_mkwrite, for each page.
	 */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(2, DELTA(a, b, page_mkwrite));
	EXPECT_EQ(0, DELTA(a, b, map_pages));
	ASSERT_EQ(5, pread(fd, buf, 5, 10));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(5, pread(fd, buf, 5, self->psz));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(0, munmap(p, 2 * self->psz));
	close(fd);
}

TEST_F(fs, read_then_store_shared)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, c;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 2, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 2 * self->psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	(void)*(volatile char *)p;
	p[0] = 'x';
	p[self->psz] = 'y';
	b = twin_stats(fd);
	/*
	 * mm/memory.c:do_read_fault maps both pages read-only through
	 * ->map_pages (write-notify: mm/mmap.c:vma_wants_writenotify, the
	 * VMA has ->page_mkwrite); each store then goes through
	 * do_wp_page -> wp_page_shared -> do_page_mkwrite, no ->fault.
	 */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	EXPECT_EQ(2, DELTA(a, b, page_mkwrite));
	ASSERT_EQ(1, pread(fd, &c, 1, self->psz));
	EXPECT_EQ('y', c);
	EXPECT_EQ(0, munmap(p, 2 * self->psz));
	close(fd);
}

TEST_F(fs, private_cow_leaves_file)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, *q, c;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 2, 'a');
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 2 * self->psz, RW, MAP_PRIVATE | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	q = mmap(NULL, 2 * self->psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	p[0] = 'X';
	p[self->psz] = 'Y';
	b = twin_stats(fd);
	/* mm/memory.c:do_cow_fault: ->fault per page, no ->page_mkwrite */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(0, DELTA(a, b, page_mkwrite));
	EXPECT_EQ('X', p[0]);
	/* the file and a shared mapping of it keep the old data */
	ASSERT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ('a', c);
	EXPECT_EQ('a', q[0]);
	EXPECT_EQ('b', q[self->psz]);
	/* a later write() shows through the page not yet copied ... */
	ASSERT_EQ(1, pwrite(fd, "Z", 1, 1));
	EXPECT_EQ('Z', q[1]);
	/* ... but not through the private copy */
	EXPECT_EQ('a', p[1]);
	EXPECT_EQ(0, munmap(p, 2 * self->psz));
	EXPECT_EQ(0, munmap(q, 2 * self->psz));
	close(fd);
}

TEST_F(fs, msync)
{
	char *p, c;
	int fd, fd2;

	fd = make_file(self->path, 1, 0);
	ASSERT_GE(fd, 0);
	p = mmap(NULL, self->psz, RW, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[100] = 'm';
	/* mm/msync.c: vfs_fsync_range -> noop_fsync: 0 */
	EXPECT_EQ(0, msync(p, self->psz, MS_SYNC));
	EXPECT_EQ(0, msync(p, self->psz, MS_ASYNC));
	EXPECT_EQ(0, msync(p, self->psz, MS_INVALIDATE));
	fd2 = open(self->path, O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(1, pread(fd2, &c, 1, 100));
	EXPECT_EQ('m', c);
	EXPECT_EQ(0, munmap(p, self->psz));
	close(fd2);
	close(fd);
}

TEST_F(fs, truncate_below_mapping_sigbus)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 4, 'a');
	ASSERT_GE(fd, 0);
	p = mmap(base, 4 * self->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	EXPECT_EQ(0, touch(p + 3 * self->psz));
	/* one and a half pages remain: the second is partly inside EOF */
	ASSERT_EQ(0, ftruncate(fd, self->psz + self->psz / 2));
	a = twin_stats(fd);
	EXPECT_EQ(0, touch(p));
	EXPECT_EQ(0, touch(p + self->psz + self->psz / 2 + 1));
	/* mm/filemap.c:filemap_fault: index >= DIV_ROUND_UP(i_size) */
	EXPECT_EQ(SIGBUS, touch(p + 2 * self->psz));
	EXPECT_EQ(SIGBUS, touch(p + 3 * self->psz));
	b = twin_stats(fd);
	/*
	 * mm/truncate.c:truncate_pagecache zapped every PTE of the mapping
	 * past the new EOF page... and the first two pages are still
	 * mapped; mm/filemap.c:filemap_map_pages maps nothing past EOF, so
	 * each SIGBUS access is one ->map_pages and one ->fault.
	 */
	EXPECT_EQ(2, DELTA(a, b, faults));
	EXPECT_EQ(2, DELTA(a, b, map_pages));
	EXPECT_EQ(0, munmap(p, 4 * self->psz));
	close(fd);
}

/* 2. Modes (VmFlags: flags.c, merges: merge.c) */

TEST_F(fs, set_mode)
{
	int fd = make_file(self->path, 1, 0);

	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FLAGS));
	EXPECT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FAULT));
	/* driver/common.c:mmapdemo_set_mode: no buffer to remap or insert */
	EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_PAGES));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, twin_set_mode(self->root, MMAPDEMO_MODE_REMAP));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/* 5. Execute a static binary stored on the filesystem */

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in, out, ret = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			ret = -1;
	if (n < 0)
		ret = -1;
	close(in);
	close(out);
	return ret;
}

/* PT_LOAD segments with file contents: fs/binfmt_elf.c:elf_load maps each. */
static int file_backed_loads(const char *path)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd, i, n = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			return -1;
		if (ph.p_type == PT_LOAD && ph.p_filesz)
			n++;
	}
	close(fd);
	return n;
}

static int run_binary(const char *path, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(path, argv);
		_exit(errno == ENOEXEC ? 126 : 127);	/* as a shell does */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(fs, exec_static_binary)
{
	char *const argv_true[] = { "true", NULL };
	char *const argv_false[] = { "false", NULL };
	struct mmapdemo_stats a, b;
	char bin[128];
	int loads;

	snprintf(bin, sizeof(bin), "%s/busybox", self->dir);
	ASSERT_EQ(0, copy_file("/bin/busybox", bin));
	loads = file_backed_loads(bin);
	ASSERT_GT(loads, 0);
	a = twin_stats(self->root);
	if (variant->prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16 fs/binfmt_elf.c:load_elf_binary wants f_op->mmap and
		 * refuses a .mmap_prepare file with -ENOEXEC before mapping
		 * anything; 6.17 asks can_mmap_file() instead.
		 */
		EXPECT_EQ(126, run_binary(bin, argv_true));
		EXPECT_EQ(0, DELTA(a, twin_stats(self->root), hook_calls));
		EXPECT_EQ(0, unlink(bin));
		return;
	}
	EXPECT_EQ(0, run_binary(bin, argv_true));
	EXPECT_EQ(1, run_binary(bin, argv_false));
	b = twin_stats(self->root);
	TH_LOG("%d file-backed PT_LOADs; hook %ld mapped %ld open %ld close %ld faults %ld map_pages %ld",
	       loads, DELTA(a, b, hook_calls), DELTA(a, b, mapped_calls),
	       DELTA(a, b, vm_open), DELTA(a, b, vm_close), DELTA(a, b, faults),
	       DELTA(a, b, map_pages));
	/* fs/binfmt_elf.c:elf_load -> elf_map -> vm_mmap: one hook per segment */
	EXPECT_EQ(2 * loads, DELTA(a, b, hook_calls));
	EXPECT_EQ(variant->prepare ? 2 * loads * self->state : 0,
		  DELTA(a, b, mapped_calls));
	/* both processes exited: every VMA closed, every object freed */
	EXPECT_EQ(2 * loads + DELTA(a, b, vm_open), DELTA(a, b, vm_close));
	EXPECT_EQ(a.live_objects, b.live_objects);
	EXPECT_EQ(0, unlink(bin));
}

/* 6. Bad input */

/* Search the kernel log records written since fd was opened at the end. */
static bool kmsg_has(int fd, const char *needle)
{
	char rec[1024];
	ssize_t n;

	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = '\0';
		if (strstr(rec, needle))
			return true;
	}
	return false;
}

TEST_F(fs, unknown_mount_option)
{
	char dir[80], line[128];
	int kmsg;

	snprintf(dir, sizeof(dir), "%s.bad", self->dir);
	mkdir(dir, 0755);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(kmsg, 0);
	ASSERT_EQ(0, lseek(kmsg, 0, SEEK_END));
	/* driver/fs_common.c:mmapdemo_fs_parse_param -> invalfc */
	EXPECT_EQ(-1, mount("none", dir, variant->type, 0, "mode=700,bogus=1"));
	EXPECT_EQ(EINVAL, errno);
	/* fs/fs_context.c:logfc: "<fs_type->name>: <message>" */
	snprintf(line, sizeof(line), "%s: unknown mount option 'bogus'",
		 variant->type);
	EXPECT_TRUE(kmsg_has(kmsg, line)) TH_LOG("no '%s' in /dev/kmsg", line);
	close(kmsg);
	/* the known option works */
	ASSERT_EQ(0, mount("none", dir, variant->type, 0, "mode=700"));
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

TEST_F(fs, mmap_beyond_eof)
{
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->path, 1, 'a');
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	/* mm/mmap.c:do_mmap does not look at i_size: the mmap works ... */
	p = mmap(base, 3 * self->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	EXPECT_EQ(0, touch(p));
	/* ... mm/filemap.c:filemap_fault: SIGBUS past EOF */
	EXPECT_EQ(SIGBUS, touch(p + self->psz));
	EXPECT_EQ(0, munmap(p, 3 * self->psz));
	/* entirely past EOF */
	p = mmap(base, self->psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		 8 * self->psz);
	ASSERT_EQ(base, p);
	EXPECT_EQ(SIGBUS, touch(p));
	EXPECT_EQ(0, munmap(p, self->psz));
	b = twin_stats(fd);
	EXPECT_EQ(2, DELTA(a, b, hook_calls));
	/*
	 * The hook's vm_ops serve the faults: filemap_map_pages maps nothing
	 * past EOF, so each SIGBUS comes from our ->fault (filemap_fault).
	 * How page 0 is mapped - by fault-around (->map_pages) or by ->fault -
	 * is filemap's business and differs between series (6.16 and 7.3
	 * differ), not the hook's: not asserted.
	 */
	EXPECT_LE(2, DELTA(a, b, faults));
	/* mm/mmap.c:file_mmap_ok: past MAX_LFS_FILESIZE for a regular file */
	p = mmap(NULL, 2 * self->psz, PROT_READ, MAP_SHARED, fd,
		 (off_t)0x7ffffffffffff000LL);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(b.hook_calls, twin_stats(fd).hook_calls);
	close(fd);
}

TEST_F(fs, mmap_directory)
{
	void *p;

	/* mm/mmap.c:do_mmap: can_mmap_file() is false without a hook */
	p = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, self->root, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	p = mmap(NULL, self->psz, PROT_READ, MAP_PRIVATE, self->root, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(fs, exec_on_noexec_mount)
{
	struct mmapdemo_stats a, b;
	char dir[80], path[96];
	struct vma v;
	char *p;
	int fd;

	snprintf(dir, sizeof(dir), "%s.noexec", self->dir);
	snprintf(path, sizeof(path), "%s/f", dir);
	mkdir(dir, 0755);
	ASSERT_EQ(0, mount("none", dir, variant->type, MS_NOEXEC, NULL));
	fd = make_file(path, 1, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	/* mm/mmap.c:do_mmap: path_noexec() and VM_EXEC: -EPERM, no hook */
	p = mmap(NULL, self->psz, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	b = twin_stats(fd);
	EXPECT_EQ(0, DELTA(a, b, hook_calls));
	/* ... and without PROT_EXEC: mapped, VM_MAYEXEC (me) cleared */
	p = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	EXPECT_STREQ("rd sh mr mw ms sd", v.flags);
	EXPECT_EQ(0, munmap(p, self->psz));
	close(fd);
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
}

TEST_F(fs, rmmod_while_mounted)
{
	/*
	 * fs/filesystems.c:get_fs_type took a module reference for the
	 * mount (fs_type.owner); kernel/module/main.c:try_stop_module
	 * refuses with -EWOULDBLOCK.
	 */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "mmapdemo", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_GE(module_pages(), 1);
}

TEST_HARNESS_MAIN
