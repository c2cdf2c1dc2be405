/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests and make demo do to a twin, written once: the twin on
 * its backend, and the sequences of mmap() calls whose outcome the tests
 * assert and the demo prints.  No test harness here: demo.c links it too.
 */
#ifndef MMAPDEMO_SCENARIO_H
#define MMAPDEMO_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fuse_server.h"
#include "vma.h"

/* Where a twin's file comes from. */
enum backend {
	BACKEND_DEV,		/* /dev/mmapdemo_prepare, /dev/mmapdemo_legacy */
	BACKEND_FS,		/* a file on a fresh mount of a filesystem twin */
	BACKEND_OVERLAY,	/* that file through an overlay, as lower layer */
	BACKEND_FUSE,		/* that file through FUSE passthrough */
};

/* One twin on one backend. */
struct target {
	enum backend backend;
	bool prepare;
	const char *fs;		/* the filesystem twin, NULL for a device */
	char dir[64];		/* its mount point */
	char file[96];		/* the device, or the file "f" on that mount */
	char ovl[80];		/* the overlay's mount point */
	char ovl_rw[80];	/* the tmpfs of the overlay's upper and work */
	char fuse[80];		/* the FUSE mount over dir (fuse_server.c) */
	char path[96];		/* what to open: file, or through ovl or fuse */
	/*
	 * How to open and map path: O_RDWR and PROT_READ | PROT_WRITE, but
	 * O_RDONLY and PROT_READ through the overlay, where opening for
	 * writing copies the file up and the tmpfs maps it.
	 */
	int oflags, prot;
	int root;		/* the mount's root directory, or -1 */
	int stats;		/* what the counters are read through */
	bool mounted, rw_mounted, ovl_mounted;
	struct fuse_server srv;	/* serving fuse while srv.pid */
};

/*
 * Is t's file reached through a stacked filesystem, whose .mmap maps the
 * twin's file with fs/backing-file.c:backing_file_mmap?  Then the file
 * that reaches the hook is one the kernel opened itself, out of reach of
 * an ioctl, and the mount's root takes the mode and armed failures.
 */
static inline bool target_stacked(const struct target *t)
{
	return t->backend == BACKEND_OVERLAY || t->backend == BACKEND_FUSE;
}

/*
 * Set t up: open the device, or mount the filesystem twin with a file of
 * pages pages (page i filled with 'a' + i) and, for the overlay, an
 * overlay on top; for FUSE, a FUSE mount over it served by fuse_server.c
 * with FOPEN_PASSTHROUGH (read, write and mmap go to the twin's file, O_RDWR
 * and PROT_READ | PROT_WRITE: no copy-up).  0; -1 with errno; 1 if FUSE
 * passthrough cannot be had here, t->srv.why says why.  Having undone
 * all of it unless 0.
 */
int target_up(struct target *t, enum backend backend, bool prepare,
	      int pages);

/* Undo target_up; 0, or -1 with errno if an umount failed. */
int target_down(struct target *t);

/*
 * Mount and unmount t's overlay (a test that changes the lower layer does
 * so with the overlay down: Documentation/filesystems/overlayfs.rst); 0,
 * or -1 with errno.
 */
int overlay_up(struct target *t);
int overlay_down(struct target *t);

/*
 * Open t's path with oflags in mode.  Through the overlay the file that
 * reaches the hook is the one overlayfs opens itself (fs/overlayfs/file.c:
 * ovl_open; through FUSE fs/fuse/passthrough.c:fuse_passthrough_open ->
 * backing_file_open), out of reach of an ioctl: it starts with the lower mount's
 * defaults, so the mode is set on its root for that open
 * (driver/fs_common.c:mmapdemo_fs_dir_ioctl).  The fd, or -1.
 */
int target_open(const struct target *t, int oflags, __u32 mode);

/*
 * The same with t->oflags, and a failure armed for the next mmap() of the
 * file (MMAPDEMO_IOC_SET_FAIL: stage, -EIO, error_override -override).
 * The fd, or -1 with errno - SET_FAIL's if it refused.
 */
int target_open_armed(const struct target *t, __u32 mode, __u32 stage,
		      int override);

/* The counters of t's twin. */
struct mmapdemo_stats target_stats(const struct target *t);

/*
 * Map pages [first, first + n) of fd at base + first pages, MAP_SHARED |
 * MAP_FIXED; what mmap() returned.
 */
void *map_at(int fd, char *base, int first, int n, int prot);

/*
 * Two adjacent mmaps of fd at base, 2 pages each, contiguous offsets
 * (pages [0, 2) and [2, 4)): the pair that merges or not.  0, or -1.
 */
int map_pair(int fd, char *base, int prot);

/*
 * A userfaultfd in *fd (-1 if none was made) with UFFD_FEATURE_WP_ASYNC,
 * and [start, start + len) registered with it in write-protect mode:
 * mm/userfaultfd.c:vma_can_userfault accepts any VMA without VM_SPECIAL
 * flags for it ("If WP is the only mode enabled and context is wp async,
 * allow any memory type"); the twins have no vm_uffd_ops for any other
 * mode.  0, or -1 with errno.
 */
int uffd_wp_async_register(int *fd, unsigned long start, size_t len);

/*
 * Four anonymous pages at base, page i filled with ANON_BYTE(i), in a
 * PROT_NONE reservation of six: page -1 reserved, page 4 unmapped.  So
 * nothing merges with them, and a mapping of pages [2, 5) replaces two of
 * them and grows the address space by one page.  NULL on error.
 */
#define ANON_BYTE(i)	(0x41 + (i))
char *anon_four(void);
void anon_four_free(char *base);

/* What is left of anon_four()'s pages. */
struct old_pages {
	int sig[4];		/* the signal reading page i raised, or 0 */
	bool intact[4];		/* page i reads back ANON_BYTE(i) */
	int vmas_middle;	/* VMAs over pages 1 and 2 */
	int vmas;		/* VMAs over all four */
};
void old_pages_read(char *base, struct old_pages *o);

/*
 * mmap() under RLIMIT_AS = VmSize, so that any growth of the address
 * space fails in mm/vma.c:__mmap_setup (may_expand_vm, -ENOMEM) before
 * any hook runs; the limit is restored.  What mmap() returned, errno its.
 */
void *mmap_at_rlimit(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off);

/* 2n one-page mmaps under vm.max_map_count = n. */
struct scale_run {
	int m0;			/* the process's map count before */
	int done;		/* mmaps that worked */
	int err;		/* errno of the first that failed, or 0 */
	int count;		/* VMAs over the 2n pages afterwards */
	int map_count;		/* the process's map count afterwards */
};

/*
 * map_one_by_one() of 2n pages of fd at base (2n pages reserved) with
 * vm.max_map_count at n (checked in mm/mmap.c:do_mmap), then the old
 * value back.  0; 1 if the process already has n - 1 VMAs or more (not
 * run); -1 if the sysctl could not be set or restored.
 */
int map_2n_under_limit(int fd, char *base, long n, struct scale_run *r);

/* Write n pages, page i filled with (i + seed), to a new file: its fd. */
int make_file(const char *path, int n, int seed);

/* Copy a file, mode 0755; 0 or -1. */
int copy_file(const char *from, const char *to);

/* PT_LOAD segments with file contents: fs/binfmt_elf.c:elf_load maps each. */
int elf_file_loads(const char *path);

/* Run path in a child: its exit status, 126 for ENOEXEC, as a shell does. */
int run_binary(const char *path, char *const argv[]);

/* Is name a line of /proc/filesystems ("nodev\tname" or "\tname")? */
bool have_fs(const char *name);

#endif
