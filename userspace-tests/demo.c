// SPDX-License-Identifier: GPL-2.0
/*
 * make demo: a Markdown table per mode x twin, then the error-unwind table.
 * The twins: the character devices and the filesystem twins (a file on a
 * fresh mmapdemofs_prepare / mmapdemofs_legacy mount; FAULT and FLAGS
 * only, the other modes are for the device buffer).
 *
 * Sequence per row: two adjacent MAP_SHARED PROT_READ|PROT_WRITE mmaps of
 * one fd (2 pages each, contiguous offsets, MAP_FIXED into a PROT_NONE
 * reservation), every page touched once, one munmap of both; the counters
 * are the deltas over that sequence.  Scale: 2N one-page adjacent mmaps
 * under vm.max_map_count = N (N = pages / 2), as in scale.c.
 *
 * Error unwind, per failure point x twin, run in every mode (a row says
 * "all" when the four modes agree): a two-page MAP_FIXED mmap over the
 * middle of a four-page anonymous mapping with known contents, with a
 * failure armed by MMAPDEMO_IOC_SET_FAIL (-EIO; again with error_override
 * -EAGAIN).  "before the hook" is RLIMIT_AS one page short of a replacement
 * that grows the mapping by one page, with a HOOK_ENTRY failure armed.  As
 * unwind.c, which asserts every value.  The filesystem twins get the same
 * rows (fs.c asserts them), and rows "via overlayfs": the file opened
 * through an overlay with the filesystem as lower layer, the failure
 * armed on the lower mount's root, PROT_READ (the overlay file is opened
 * read-only, so that it is not copied up).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vma.h"

#define MAX_MAP_COUNT "/proc/sys/vm/max_map_count"

static const char * const mode_names[] = { "FAULT", "FLAGS", "REMAP", "PAGES" };

/* A twin: a character device, or a file on a mount of a filesystem twin. */
struct twin {
	const char *name;
	const char *path;	/* what to open */
	const char *fs;		/* filesystem type, NULL for a device */
	const char *dir;	/* its mount point */
	const char *ovl;	/* an overlay over it, for the stacked rows */
	const char *ovl_rw;	/* the overlay's tmpfs for upper and work */
	int root;		/* the mount's root directory, -1 if none */
	bool ovl_up;		/* the overlay is mounted */
	bool prepare;		/* a .mmap_prepare twin */
};

static struct twin twins[] = {
	{ .name = "prepare", .path = MMAPDEMO_DEV_PREPARE, .root = -1,
	  .prepare = true },
	{ .name = "legacy", .path = MMAPDEMO_DEV_LEGACY, .root = -1 },
	{ .name = "fs_prepare", .path = "/tmp/demo-fs-prepare/f",
	  .fs = MMAPDEMO_FS_PREPARE, .dir = "/tmp/demo-fs-prepare",
	  .ovl = "/tmp/demo-fs-prepare.ovl",
	  .ovl_rw = "/tmp/demo-fs-prepare.ovl-rw", .root = -1,
	  .prepare = true },
	{ .name = "fs_legacy", .path = "/tmp/demo-fs-legacy/f",
	  .fs = MMAPDEMO_FS_LEGACY, .dir = "/tmp/demo-fs-legacy",
	  .ovl = "/tmp/demo-fs-legacy.ovl",
	  .ovl_rw = "/tmp/demo-fs-legacy.ovl-rw", .root = -1 },
};

#define NR_TWINS (sizeof(twins) / sizeof(twins[0]))

/* The modes a twin has: a page-cache file cannot REMAP or insert PAGES. */
static unsigned int twin_modes(const struct twin *tw)
{
	return tw->fs ? MMAPDEMO_MODE_FLAGS + 1 : MMAPDEMO_MODE_PAGES + 1;
}

/*
 * Why this kernel's prepare twin cannot map in mode (vma.c:prepare_lacks),
 * or NULL; a twin this kernel lacks altogether is left out of the demo.
 */
static const char *twin_lacks(const struct twin *tw, __u32 mode)
{
	return tw->prepare ? prepare_lacks(mode, 0, 0) : NULL;
}

/*
 * Mount a filesystem twin with a file of n pages (page i filled with
 * 'a' + i), and an overlay over it if overlayfs is there; -1 on error.
 */
static int fs_up(struct twin *tw, long n)
{
	char opts[512];
	size_t psz = getpagesize();
	char *buf = malloc(psz);
	int fd, i;

	mkdir(tw->dir, 0755);
	if (!buf || mount("none", tw->dir, tw->fs, 0, NULL))
		return -1;
	tw->root = open(tw->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open(tw->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tw->root < 0 || fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		memset(buf, 'a' + i % 26, psz);
		if (write(fd, buf, psz) != (ssize_t)psz)
			return -1;
	}
	close(fd);
	free(buf);
	mkdir(tw->ovl, 0755);
	mkdir(tw->ovl_rw, 0755);
	if (mount("tmpfs", tw->ovl_rw, "tmpfs", 0, NULL))
		return -1;
	snprintf(opts, sizeof(opts), "%s/up", tw->ovl_rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "%s/work", tw->ovl_rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts),
		 "lowerdir=%s,upperdir=%s/up,workdir=%s/work",
		 tw->dir, tw->ovl_rw, tw->ovl_rw);
	/* overlay.ko is loaded by vm-run --kmod; without it, no stacked rows */
	tw->ovl_up = !mount("overlay", tw->ovl, "overlay", 0, opts);
	return 0;
}

static void fs_down(struct twin *tw)
{
	if (tw->ovl_up)
		umount(tw->ovl);
	umount(tw->ovl_rw);
	if (tw->root >= 0)
		close(tw->root);
	umount(tw->dir);
}

struct row {
	char flags[160];
	int vmas;
	struct mmapdemo_stats d;	/* counter deltas for the sequence */
	__u64 live_after;
	char scale[80];
};

#define DELTA(f) (after.f - before.f)

static int two_adjacent(int fd, struct row *r)
{
	size_t psz = getpagesize(), half = 2 * psz;
	struct mmapdemo_stats before, after;
	struct vma v[4];
	char *base;
	int i;

	base = reserve(2 * half);
	if (base == MAP_FAILED)
		return -1;
	before = twin_stats(fd);
	if (mmap(base, half, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED ||
	    mmap(base + half, half, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, half) == MAP_FAILED)
		return -1;
	for (i = 0; i < 4; i++)
		base[i * psz] = (char)i;
	r->vmas = vmas_in((unsigned long)base, (unsigned long)base + 2 * half,
			  v, 4);
	snprintf(r->flags, sizeof(r->flags), "%s", r->vmas > 0 ? v[0].flags : "?");
	munmap(base, 2 * half);
	after = twin_stats(fd);
	r->d.hook_calls = DELTA(hook_calls);
	r->d.mapped_calls = DELTA(mapped_calls);
	r->d.vm_open = DELTA(vm_open);
	r->d.vm_close = DELTA(vm_close);
	r->d.faults = DELTA(faults);
	r->live_after = after.live_objects;
	return 0;
}

static int scale(int fd, struct row *r)
{
	size_t psz = getpagesize();
	long n = module_pages() / 2, old = sysctl_read(MAX_MAP_COUNT);
	int m0, done, err, count;
	char *base;

	base = reserve(2 * n * psz);
	if (base == MAP_FAILED || old <= n)
		return -1;
	m0 = map_count();
	if (m0 + 1 >= n || sysctl_write(MAX_MAP_COUNT, n))
		return -1;
	done = map_one_by_one(fd, base, 2 * n, &err);
	count = map_count_in((unsigned long)base,
			     (unsigned long)base + 2 * n * psz);
	if (err)
		snprintf(r->scale, sizeof(r->scale),
			 "%s after %d of %ld maps, map count %d",
			 strerrorname_np(err), done, 2 * n, map_count());
	else
		snprintf(r->scale, sizeof(r->scale), "%d of %ld maps, %d VMA%s",
			 done, 2 * n, count, count == 1 ? "" : "s");
	munmap(base, 2 * n * psz);
	return sysctl_write(MAX_MAP_COUNT, old);
}

struct unwind {
	int err;		/* errno of the failed mmap(), 0 if it worked */
	int set_err;		/* errno of SET_FAIL, 0 if it was accepted */
	const char *old;	/* what is left of the old anonymous pages */
	long close, leaked, injected;	/* counter deltas */
};

/* "data kept", "hole" or "mixed", from the four old anonymous pages. */
static const char *old_pages(char *base, size_t psz)
{
	int kept = 0, i;
	unsigned char v;

	for (i = 0; i < 4; i++)
		kept += !probe_read(base + i * psz, &v) && v == 0x41 + i;
	if (kept == 4)
		return "kept, data intact";
	if (kept == 2 && probe_read(base + psz, &v) == SIGSEGV &&
	    probe_read(base + 2 * psz, &v) == SIGSEGV)
		return "hole (SIGSEGV)";
	return "mixed";
}

/*
 * Open the twin's file for an unwind case with the failure armed: the
 * file itself, or through the overlay, where overlayfs opens the real
 * file and the failure is armed as the lower mount's default
 * (MMAPDEMO_IOC_SET_FAIL on its root) for just that open.
 */
static int open_armed(const struct twin *tw, __u32 mode, __u32 stage,
		      int override, bool overlay, struct unwind *u)
{
	char path[128];
	int fd;

	if (!overlay) {
		fd = twin_open(tw->path, O_RDWR, mode);
		if (fd >= 0 && twin_set_fail(fd, stage, -EIO, -override))
			u->set_err = errno;
		return fd;
	}
	snprintf(path, sizeof(path), "%s/f", tw->ovl);
	if (twin_set_mode(tw->root, mode))
		return -1;
	if (twin_set_fail(tw->root, stage, -EIO, -override)) {
		u->set_err = errno;
		return open(path, O_RDONLY | O_CLOEXEC);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (twin_set_fail(tw->root, MMAPDEMO_FAIL_NONE, 0, 0) ||
	    twin_set_mode(tw->root, MMAPDEMO_MODE_FAULT)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int unwind_case(const struct twin *tw, __u32 mode, __u32 stage,
		       int override, bool rlimit, bool overlay,
		       struct unwind *u)
{
	struct mmapdemo_stats before, after;
	size_t psz = getpagesize();
	int prot = overlay ? PROT_READ : PROT_READ | PROT_WRITE;
	struct rlimit old, lim;
	char *r, *base;
	int fd, sfd, i;
	void *p;

	memset(u, 0, sizeof(*u));
	r = reserve(6 * psz);
	if (r == MAP_FAILED || munmap(r + 5 * psz, psz))
		return -1;
	base = mmap(r + psz, 4 * psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (base == MAP_FAILED)
		return -1;
	for (i = 0; i < 4; i++)
		memset(base + i * psz, 0x41 + i, psz);
	/* the counters, through the twin itself or its root directory */
	sfd = tw->root >= 0 ? tw->root : open(tw->path, O_RDONLY | O_CLOEXEC);
	if (sfd < 0)
		return -1;
	before = twin_stats(sfd);
	fd = open_armed(tw, mode, stage, override, overlay, u);
	if (fd < 0)
		return -1;
	if (u->set_err)
		goto out;
	if (rlimit) {
		if (getrlimit(RLIMIT_AS, &old))
			return -1;
		lim.rlim_cur = vm_size();
		lim.rlim_max = old.rlim_max;
		if (setrlimit(RLIMIT_AS, &lim))
			return -1;
		/* r[3..5]: two old pages and one more */
		p = mmap(base + 2 * psz, 3 * psz, prot, MAP_SHARED | MAP_FIXED,
			 fd, 0);
		u->err = p == MAP_FAILED ? errno : 0;
		if (setrlimit(RLIMIT_AS, &old))
			return -1;
	} else {
		p = mmap(base + psz, 2 * psz, prot, MAP_SHARED | MAP_FIXED,
			 fd, 0);
		u->err = p == MAP_FAILED ? errno : 0;
	}
	u->old = old_pages(base, psz);
	twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0);
out:
	munmap(r, 6 * psz);
	close(fd);
	after = twin_stats(sfd);
	u->close = DELTA(vm_close);
	u->leaked = DELTA(live_objects);
	u->injected = DELTA(injected);
	if (sfd != tw->root)
		close(sfd);
	return 0;
}

/*
 * A HOOK_ENTRY failure armed before the second of two adjacent FAULT
 * mmaps of one fd that merge (merge.c): does it reach mmap()?
 */
static int unwind_merge(const char *dev, __u32 mode, struct unwind *u)
{
	struct mmapdemo_stats before, after;
	size_t psz = getpagesize();
	char *base;
	int fd;
	void *p;

	memset(u, 0, sizeof(*u));
	fd = twin_open(dev, O_RDWR, mode);
	base = reserve(4 * psz);
	if (fd < 0 || base == MAP_FAILED)
		return -1;
	before = twin_stats(fd);
	if (mmap(base, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0) == MAP_FAILED ||
	    twin_set_fail(fd, MMAPDEMO_FAIL_HOOK_ENTRY, -EIO, 0))
		return -1;
	p = mmap(base + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 2 * psz);
	u->err = p == MAP_FAILED ? errno : 0;
	u->old = map_count_in((unsigned long)base, (unsigned long)base + 4 * psz) == 1 ?
		 (u->err ? "first kept, second range a hole" : "merged, 1 VMA") : "?";
	twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0);
	munmap(base, 4 * psz);
	after = twin_stats(fd);
	u->close = DELTA(vm_close) - 1;	/* less the first mapping's own */
	u->leaked = DELTA(live_objects);
	u->injected = DELTA(injected);
	close(fd);
	return 0;
}

static const char *err_name(int err)
{
	return err ? strerrorname_np(err) : "ok (mmap succeeds)";
}

struct unwind_point {
	const char *name;
	__u32 stage;
	bool rlimit, merge, overlay;
	unsigned int modes;	/* run in modes [0, modes) the twin has */
	bool fs_only;		/* filesystem twins only */
};

static const struct unwind_point unwind_points[] = {
	{ "before the hook (RLIMIT_AS)", MMAPDEMO_FAIL_HOOK_ENTRY, true, false, false, 4, false },
	{ "HOOK_ENTRY", MMAPDEMO_FAIL_HOOK_ENTRY, false, false, false, 4, false },
	{ "HOOK_EXIT", MMAPDEMO_FAIL_HOOK_EXIT, false, false, false, 4, false },
	{ "MAPPED", MMAPDEMO_FAIL_MAPPED, false, false, false, 4, false },
	/* only FAULT merges in both twins */
	{ "HOOK_ENTRY, adjacent mmap that merges", MMAPDEMO_FAIL_HOOK_ENTRY, false, true, false, 1, false },
	/* the stacked caller: fs/overlayfs/file.c:ovl_mmap */
	{ "HOOK_ENTRY via overlayfs", MMAPDEMO_FAIL_HOOK_ENTRY, false, false, true, 4, true },
	{ "HOOK_EXIT via overlayfs", MMAPDEMO_FAIL_HOOK_EXIT, false, false, true, 4, true },
	{ "MAPPED via overlayfs", MMAPDEMO_FAIL_MAPPED, false, false, true, 4, true },
};

/* One row's result columns for one mode, or -1. */
static int unwind_cells(const struct twin *tw, __u32 mode,
			const struct unwind_point *pt, char *buf, size_t size)
{
	struct unwind u, o;

	if (pt->merge ? unwind_merge(tw->path, mode, &u) :
	    unwind_case(tw, mode, pt->stage, 0, pt->rlimit, pt->overlay, &u))
		return -1;
	if (u.set_err) {
		snprintf(buf, size, "SET_FAIL: %s | - | - | - | - | - |",
			 strerrorname_np(u.set_err));
		return 0;
	}
	if (pt->merge || unwind_case(tw, mode, pt->stage, EAGAIN, pt->rlimit,
				     pt->overlay, &o))
		o.set_err = -1;
	snprintf(buf, size, "%s | %s | %s | %s | %s | %ld |",
		 err_name(u.err),
		 o.set_err > 0 ? (o.set_err == EOPNOTSUPP ? "SET_FAIL: EOPNOTSUPP" :
				  "SET_FAIL: EINVAL") :
		 o.set_err ? "-" : err_name(o.err),
		 u.old, u.close ? "yes" : "no", u.leaked ? "YES" : "no",
		 u.injected);
	return 0;
}

static int unwind_table(void)
{
	char cells[4][256];
	unsigned int p, t, m, modes;
	bool same;

	printf("\nError unwind: a failure injected with MMAPDEMO_IOC_SET_FAIL (-EIO),\n"
	       "a 2-page MAP_FIXED mmap over the middle of a 4-page anonymous mapping;\n"
	       "\"adjacent mmap that merges\": the failure armed before the second of two adjacent mmaps of one fd;\n"
	       "\"via overlayfs\": the file mapped through an overlay with the filesystem twin as lower layer,\n"
	       "the failure armed on the lower mount's root for the overlay's open of the real file.\n\n");
	printf("| failure point | twin | modes | errno | errno, override -EAGAIN | old pages | close called | state leaked | injected |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (p = 0; p < sizeof(unwind_points) / sizeof(unwind_points[0]); p++) {
		for (t = 0; t < NR_TWINS; t++) {
			const struct unwind_point *pt = &unwind_points[p];
			const struct twin *tw = &twins[t];

			if ((pt->fs_only && !tw->fs) ||
			    (pt->overlay && !tw->ovl_up) ||
			    twin_lacks(tw, MMAPDEMO_MODE_FAULT))
				continue;
			modes = pt->modes < twin_modes(tw) ? pt->modes : twin_modes(tw);
			/* REMAP, PAGES: the first modes a kernel may lack */
			while (modes > 1 && twin_lacks(tw, modes - 1))
				modes--;
			same = modes > 1;
			for (m = 0; m < modes; m++) {
				if (unwind_cells(tw, m, pt, cells[m],
						 sizeof(cells[m])))
					return -1;
				same &= !strcmp(cells[m], cells[0]);
			}
			for (m = 0; m < (same ? 1 : modes); m++)
				printf("| %s | %s | %s | %s\n", pt->name, tw->name,
				       same ? "all" : mode_names[m], cells[m]);
		}
	}
	return 0;
}

int main(void)
{
	struct utsname u;
	unsigned int m, t;
	struct row r;
	int fd, ret = 0;

	uname(&u);
	for (t = 0; t < NR_TWINS; t++) {
		if (twins[t].fs && !twin_lacks(&twins[t], MMAPDEMO_MODE_FAULT) &&
		    fs_up(&twins[t], module_pages())) {
			perror(twins[t].fs);
			ret = 1;
			goto out;
		}
	}
	printf("Kernel %s, pages=%ld. Two adjacent MAP_SHARED mmaps of one fd,\n"
	       "contiguous offsets, 2 pages each, every page touched, one munmap.\n"
	       "Scale: 2N one-page adjacent mmaps under vm.max_map_count = N = %ld.\n"
	       "fs_prepare, fs_legacy: a file of the filesystem twins (FAULT and FLAGS only).\n\n",
	       u.release, module_pages(), module_pages() / 2);
	printf("| mode | twin | VmFlags | VMAs | hook | mapped | open | close | faults | live after | scale |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (m = 0; m < 4; m++) {
		for (t = 0; t < NR_TWINS; t++) {
			if (m >= twin_modes(&twins[t]) ||
			    twin_lacks(&twins[t], MMAPDEMO_MODE_FAULT))
				continue;
			if (twin_lacks(&twins[t], m)) {
				printf("| %s | %s | no: %s | | | | | | | | |\n",
				       mode_names[m], twins[t].name,
				       twin_lacks(&twins[t], m));
				continue;
			}
			memset(&r, 0, sizeof(r));
			fd = twin_open(twins[t].path, O_RDWR, m);
			if (fd < 0 || two_adjacent(fd, &r) || scale(fd, &r)) {
				perror(twins[t].path);
				ret = 1;
				goto out;
			}
			close(fd);
			printf("| %s | %s | `%s` | %d | %llu | %llu | %llu | %llu | %llu | %llu | %s |\n",
			       mode_names[m], twins[t].name, r.flags, r.vmas,
			       (unsigned long long)r.d.hook_calls,
			       (unsigned long long)r.d.mapped_calls,
			       (unsigned long long)r.d.vm_open,
			       (unsigned long long)r.d.vm_close,
			       (unsigned long long)r.d.faults,
			       (unsigned long long)r.live_after, r.scale);
		}
	}
	if (unwind_table()) {
		perror("unwind");
		ret = 1;
	}
out:
	for (t = 0; t < NR_TWINS; t++)
		if (twins[t].fs && !twin_lacks(&twins[t], MMAPDEMO_MODE_FAULT))
			fs_down(&twins[t]);
	return ret;
}
