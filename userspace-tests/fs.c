// SPDX-License-Identifier: GPL-2.0
/*
 * The filesystem twins, mmapdemofs_prepare (.mmap_prepare) and
 * mmapdemofs_legacy (.mmap), where they differ from the character device:
 * the page-cache vm_ops their hooks install, the modes a file has,
 * executing a binary, bad input, and rmmod while mounted.  Their VmFlags,
 * merges and error unwinding are asserted with the device's, on the
 * filesystem backend (flags.c, merge.c, scale.c, unwind.c); overlayfs on
 * top of them in stacked.c.
 *
 * Every test mounts a fresh instance and ends with the counters of that
 * filesystem type back at their baseline and a successful umount
 * (fixture.h).  Counter expectations need deterministic fault-around:
 * mappings are placed in a 2 MiB-aligned reservation, so one page table
 * covers them, and fault_around_bytes is its default 64 KiB (mm/memory.c:
 * fault_around_pages = 16).
 *
 * Expected values are derived from the Linux 7.3 source; each names the
 * function it comes from.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

#define RW		(PROT_READ | PROT_WRITE)

TWIN_FIXTURE(fs, BACKEND_FS, 1)

/* 1. The page cache through the vm_ops the hooks install */

TEST_F(fs, write_then_read_shared)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p;
	int fd, i;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->tb.t.file, 3, 'a');
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 3 * psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	for (i = 0; i < 3; i++)
		EXPECT_EQ('a' + i, p[i * psz + 5]);
	b = twin_stats(fd);
	/* mm/vma.c:__mmap_region: one hook call for one new VMA */
	EXPECT_EQ(1, DELTA(a, b, hook_calls));
	/* mm/util.c:mmap_action_finish: ->mapped for .mmap_prepare only */
	EXPECT_EQ(variant->prepare ? self->tb.state : 0,
		  DELTA(a, b, mapped_calls));
	/*
	 * mm/memory.c:do_read_fault -> do_fault_around: one ->map_pages over
	 * the whole (cached) VMA maps all three pages; ->fault is not needed.
	 */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	EXPECT_EQ(self->tb.state, DELTA(a, b, live_objects));
	EXPECT_EQ(0, munmap(p, 3 * psz));
	close(fd);
}

TEST_F(fs, store_shared_then_read)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, buf[16];
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->tb.t.file, 2, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 2 * psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	memcpy(p + 10, "hello", 5);
	memcpy(p + psz, "world", 5);
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
	ASSERT_EQ(5, pread(fd, buf, 5, psz));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(0, munmap(p, 2 * psz));
	close(fd);
}

/*
 * The page protection is computed from the vm_ops the hook installed:
 * for .mmap_prepare, from desc->vm_ops, applied before
 * mm/mmap.c:vma_set_page_prot.  A VMA with ->page_mkwrite wants write
 * notification (mm/mmap.c:vma_wants_writenotify), so a read fault maps
 * the pages read-only and each store comes back through ->page_mkwrite.
 */
TEST_F(fs, read_then_store_shared)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p, c;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->tb.t.file, 2, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	p = mmap(base, 2 * psz, RW, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	(void)*(volatile char *)p;
	p[0] = 'x';
	p[psz] = 'y';
	b = twin_stats(fd);
	/*
	 * mm/memory.c:do_read_fault maps both pages read-only through
	 * ->map_pages; each store then goes through do_wp_page ->
	 * wp_page_shared -> do_page_mkwrite, no ->fault.
	 */
	EXPECT_EQ(1, DELTA(a, b, map_pages));
	EXPECT_EQ(0, DELTA(a, b, faults));
	EXPECT_EQ(2, DELTA(a, b, page_mkwrite));
	ASSERT_EQ(1, pread(fd, &c, 1, psz));
	EXPECT_EQ('y', c);
	EXPECT_EQ(0, munmap(p, 2 * psz));
	close(fd);
}

/* 2. The modes a file has */

TEST_F(fs, set_mode)
{
	int fd = self->tb.fd;

	EXPECT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FLAGS));
	EXPECT_EQ(0, twin_set_mode(fd, MMAPDEMO_MODE_FAULT));
	/* driver/common.c:mmapdemo_set_mode: no buffer to remap or insert */
	EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_REMAP));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, twin_set_mode(fd, MMAPDEMO_MODE_PAGES));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, twin_set_mode(self->tb.t.root, MMAPDEMO_MODE_REMAP));
	EXPECT_EQ(EINVAL, errno);
}

/* 3. Execute a static binary stored on the filesystem */

TEST_F(fs, exec_static_binary)
{
	char *const argv_true[] = { "true", NULL };
	char *const argv_false[] = { "false", NULL };
	struct mmapdemo_stats a, b;
	char bin[128];
	int loads;

	snprintf(bin, sizeof(bin), "%s/busybox", self->tb.t.dir);
	ASSERT_EQ(0, copy_file("/bin/busybox", bin));
	loads = elf_file_loads(bin);
	ASSERT_GT(loads, 0);
	a = target_stats(&self->tb.t);
	if (variant->prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE)) {
		/*
		 * 6.16 fs/binfmt_elf.c:load_elf_binary wants f_op->mmap and
		 * refuses a .mmap_prepare file with -ENOEXEC before mapping
		 * anything; 6.17 asks can_mmap_file() instead.
		 */
		EXPECT_EQ(126, run_binary(bin, argv_true));
		EXPECT_EQ(0, DELTA(a, target_stats(&self->tb.t), hook_calls));
		EXPECT_EQ(0, unlink(bin));
		return;
	}
	EXPECT_EQ(0, run_binary(bin, argv_true));
	EXPECT_EQ(1, run_binary(bin, argv_false));
	b = target_stats(&self->tb.t);
	TH_LOG("%d file-backed PT_LOADs; hook %ld mapped %ld open %ld close %ld faults %ld map_pages %ld",
	       loads, DELTA(a, b, hook_calls), DELTA(a, b, mapped_calls),
	       DELTA(a, b, vm_open), DELTA(a, b, vm_close), DELTA(a, b, faults),
	       DELTA(a, b, map_pages));
	/* fs/binfmt_elf.c:elf_load -> elf_map -> vm_mmap: one hook per segment */
	EXPECT_EQ(2 * loads, DELTA(a, b, hook_calls));
	EXPECT_EQ(variant->prepare ? 2 * loads * self->tb.state : 0,
		  DELTA(a, b, mapped_calls));
	/* both processes exited: every VMA closed, every object freed */
	EXPECT_EQ(2 * loads + DELTA(a, b, vm_open), DELTA(a, b, vm_close));
	EXPECT_EQ(a.live_objects, b.live_objects);
	EXPECT_EQ(0, unlink(bin));
}

/* 4. Bad input */

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
	const char *type = self->tb.t.fs;
	char dir[80], line[128];
	int kmsg;

	snprintf(dir, sizeof(dir), "%s.bad", self->tb.t.dir);
	mkdir(dir, 0755);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(kmsg, 0);
	ASSERT_EQ(0, lseek(kmsg, 0, SEEK_END));
	/* driver/fs_common.c:mmapdemo_fs_parse_param -> invalfc */
	EXPECT_EQ(-1, mount("none", dir, type, 0, "mode=700,bogus=1"));
	EXPECT_EQ(EINVAL, errno);
	/* fs/fs_context.c:logfc: "<fs_type->name>: <message>" */
	snprintf(line, sizeof(line), "%s: unknown mount option 'bogus'", type);
	EXPECT_TRUE(kmsg_has(kmsg, line)) TH_LOG("no '%s' in /dev/kmsg", line);
	close(kmsg);
	/* the known option works */
	ASSERT_EQ(0, mount("none", dir, type, 0, "mode=700"));
	EXPECT_EQ(0, umount(dir));
	rmdir(dir);
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

TEST_F(fs, mmap_beyond_eof)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats a, b;
	char *base = reserve_aligned(), *p;
	int fd;

	ASSERT_NE(MAP_FAILED, base);
	fd = make_file(self->tb.t.file, 1, 'a');
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	/* mm/mmap.c:do_mmap does not look at i_size: the mmap works ... */
	p = mmap(base, 3 * psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_EQ(base, p);
	EXPECT_EQ(0, touch(p));
	/* ... mm/filemap.c:filemap_fault: SIGBUS past EOF */
	EXPECT_EQ(SIGBUS, touch(p + psz));
	EXPECT_EQ(0, munmap(p, 3 * psz));
	/* entirely past EOF */
	p = mmap(base, psz, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 8 * psz);
	ASSERT_EQ(base, p);
	EXPECT_EQ(SIGBUS, touch(p));
	EXPECT_EQ(0, munmap(p, psz));
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
	p = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, fd,
		 (off_t)0x7ffffffffffff000LL);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EOVERFLOW, errno);
	EXPECT_EQ(b.hook_calls, twin_stats(fd).hook_calls);
	close(fd);
}

TEST_F(fs, mmap_directory)
{
	int root = self->tb.t.root;
	void *p;

	/* mm/mmap.c:do_mmap: can_mmap_file() is false without a hook */
	p = mmap(NULL, self->tb.psz, PROT_READ, MAP_SHARED, root, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
	p = mmap(NULL, self->tb.psz, PROT_READ, MAP_PRIVATE, root, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(ENODEV, errno);
}

TEST_F(fs, exec_on_noexec_mount)
{
	size_t psz = self->tb.psz;
	struct mmapdemo_stats a, b;
	char dir[80], path[96], *flag, *save;
	struct vma v, w;
	char *p, *q;
	int fd;

	snprintf(dir, sizeof(dir), "%s.noexec", self->tb.t.dir);
	snprintf(path, sizeof(path), "%s/f", dir);
	mkdir(dir, 0755);
	ASSERT_EQ(0, mount("none", dir, self->tb.t.fs, MS_NOEXEC, NULL));
	fd = make_file(path, 1, 0);
	ASSERT_GE(fd, 0);
	a = twin_stats(fd);
	/* mm/mmap.c:do_mmap: path_noexec() and VM_EXEC: -EPERM, no hook */
	p = mmap(NULL, psz, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
	b = twin_stats(fd);
	EXPECT_EQ(0, DELTA(a, b, hook_calls));
	/*
	 * ... and without PROT_EXEC mapped, VM_MAYEXEC (me) cleared: the
	 * flags of the same mapping on the test's own mount, less me.
	 */
	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, psz, PROT_READ, MAP_SHARED, self->tb.fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, vma_at((unsigned long)p, &v));
	ASSERT_EQ(0, vma_at((unsigned long)q, &w));
	EXPECT_TRUE(vma_has_flag(&w, "me"));
	EXPECT_FALSE(vma_has_flag(&v, "me"));
	EXPECT_EQ(vma_flag_count(&w) - 1, vma_flag_count(&v));
	for (flag = strtok_r(w.flags, " ", &save); flag;
	     flag = strtok_r(NULL, " ", &save)) {
		if (strcmp(flag, "me")) {
			EXPECT_TRUE(vma_has_flag(&v, flag)) TH_LOG("%s", flag);
		}
	}
	EXPECT_EQ(0, munmap(p, psz));
	EXPECT_EQ(0, munmap(q, psz));
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
