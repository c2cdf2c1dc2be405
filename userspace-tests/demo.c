// SPDX-License-Identifier: GPL-2.0
/*
 * make demo: a Markdown table per mode x twin, then the error-unwind table.
 * The twins: the character devices and the filesystem twins (a file on a
 * fresh mmapdemofs_prepare / mmapdemofs_legacy mount; FAULT and FLAGS
 * only, the other modes are for the device buffer).  Every cell sets its
 * twin up afresh (scenario.h: target_up) and runs the scenario the tests
 * assert, printing what they check:
 *
 * Sequence per row: two adjacent MAP_SHARED PROT_READ|PROT_WRITE mmaps of
 * one fd (map_pair: 2 pages each, contiguous offsets, MAP_FIXED into a
 * PROT_NONE reservation), every page touched once, one munmap of both;
 * the counters are the deltas over that sequence (merge.c).  "partial
 * mprotect": the VMAs over the pair after mprotect(PROT_READ) and back
 * over its first three pages (merge.c: partial_mprotect_round_trip).  The
 * "no ->close" rows map with MMAPDEMO_STATE_NONE: vm_ops without ->open,
 * ->close and ->mapped (FAULT and FLAGS only).  Scale: 2N
 * one-page adjacent mmaps under vm.max_map_count = N (N = pages / 2),
 * map_2n_under_limit as in scale.c.
 *
 * Error unwind, per failure point x twin, run in every mode (a row says
 * "all" when the modes agree): a two-page MAP_FIXED mmap over the middle
 * of anon_four(), with a failure armed by MMAPDEMO_IOC_SET_FAIL (-EIO;
 * again with error_override -EAGAIN).  "before the hook" is
 * mmap_at_rlimit() of a replacement that grows the mapping by one page,
 * with a HOOK_ENTRY failure armed; "adjacent mmap that merges" arms it
 * between the two mmaps of map_pair().  The stacked callers, whose .mmap
 * maps the twin's file with fs/backing-file.c:backing_file_mmap (armed on
 * the lower mount's root, target_open_armed): "via overlayfs", the file
 * through an overlay with the filesystem twin as lower layer, PROT_READ
 * (opened read-only, so that it is not copied up); "via FUSE
 * passthrough", the file through a FUSE mount served by fuse_server.c
 * with FOPEN_PASSTHROUGH, PROT_READ | PROT_WRITE (no copy-up), in FAULT
 * mode only, the mode of unwind.c's fuse_ variants.  A stacked row this
 * kernel cannot run says why instead of a result: no overlay, no FUSE
 * passthrough (fuse_server.c's reason), or 6.16's ENODEV for a backing
 * file with only .mmap_prepare.  The demo runs in a mount namespace of its
 * own, as fixture.h runs a FUSE test.  unwind.c asserts every value, on
 * each backend; stacked.c the ENODEV.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "scenario.h"

static const char * const mode_names[] = { "FAULT", "FLAGS", "REMAP", "PAGES" };

struct twin {
	const char *name;
	enum backend backend;	/* BACKEND_DEV or BACKEND_FS */
	bool prepare;
	__u32 state;		/* MMAPDEMO_IOC_SET_STATE; 0: PER_VMA */
};

#define NOCLOSE	.state = MMAPDEMO_STATE_NONE

static const struct twin twins[] = {
	{ .name = "prepare", .backend = BACKEND_DEV, .prepare = true },
	{ .name = "legacy", .backend = BACKEND_DEV, .prepare = false },
	{ .name = "fs_prepare", .backend = BACKEND_FS, .prepare = true },
	{ .name = "fs_legacy", .backend = BACKEND_FS, .prepare = false },
	{ .name = "prepare, no ->close", .backend = BACKEND_DEV,
	  .prepare = true, NOCLOSE },
	{ .name = "legacy, no ->close", .backend = BACKEND_DEV,
	  .prepare = false, NOCLOSE },
	{ .name = "fs_prepare, no ->close", .backend = BACKEND_FS,
	  .prepare = true, NOCLOSE },
	{ .name = "fs_legacy, no ->close", .backend = BACKEND_FS,
	  .prepare = false, NOCLOSE },
};

#define NR_TWINS (sizeof(twins) / sizeof(twins[0]))

/*
 * The modes a twin has: a page-cache file cannot REMAP or insert PAGES,
 * and a mapping without ->close is FAULT or FLAGS (uapi/mmapdemo.h).
 */
static unsigned int twin_modes(const struct twin *tw)
{
	return tw->backend == BACKEND_FS || tw->state ?
	       MMAPDEMO_MODE_FLAGS + 1 : MMAPDEMO_MODE_PAGES + 1;
}

/*
 * Why this kernel's prepare twin cannot map in mode (vma.c:prepare_lacks),
 * or NULL; a twin this kernel lacks altogether is left out of the demo.
 */
static const char *twin_lacks(const struct twin *tw, __u32 mode)
{
	return tw->prepare ? prepare_lacks(mode, 0, 0) : NULL;
}

struct row {
	char flags[160];
	int vmas;
	struct mmapdemo_stats before, after;	/* around the sequence */
	int partial;		/* VMAs after the partial mprotect round trip */
	char scale[80];
};

/* map_pair(), every page touched, its VMAs, one munmap. */
static int two_adjacent(const struct target *t, int fd, struct row *r)
{
	size_t psz = getpagesize();
	char *base = reserve(4 * psz);
	struct vma v[4];
	int i;

	if (base == MAP_FAILED)
		return -1;
	r->before = target_stats(t);
	if (map_pair(fd, base, PROT_READ | PROT_WRITE))
		return -1;
	for (i = 0; i < 4; i++)
		base[i * psz] = (char)i;
	r->vmas = vmas_in((unsigned long)base, (unsigned long)base + 4 * psz,
			  v, 4);
	snprintf(r->flags, sizeof(r->flags), "%s", r->vmas > 0 ? v[0].flags : "?");
	munmap(base, 4 * psz);
	r->after = target_stats(t);
	return 0;
}

/* map_pair(), mprotect() of its first 3 pages to PROT_READ and back. */
static int partial_round_trip(int fd, struct row *r)
{
	size_t psz = getpagesize();
	char *base = reserve(4 * psz);

	if (base == MAP_FAILED || map_pair(fd, base, PROT_READ | PROT_WRITE) ||
	    mprotect(base, 3 * psz, PROT_READ) ||
	    mprotect(base, 3 * psz, PROT_READ | PROT_WRITE))
		return -1;
	r->partial = map_count_in((unsigned long)base,
				  (unsigned long)base + 4 * psz);
	munmap(base, 4 * psz);
	return 0;
}

static int scale(int fd, struct row *r)
{
	long n = module_pages() / 2;
	struct scale_run s;
	char *base;

	base = reserve(2 * n * getpagesize());
	if (base == MAP_FAILED ||
	    sysctl_read("/proc/sys/vm/max_map_count") <= n ||
	    map_2n_under_limit(fd, base, n, &s))
		return -1;
	if (s.err)
		snprintf(r->scale, sizeof(r->scale),
			 "%s after %d of %ld maps, map count %d",
			 strerrorname_np(s.err), s.done, 2 * n, s.map_count);
	else
		snprintf(r->scale, sizeof(r->scale), "%d of %ld maps, %d VMA%s",
			 s.done, 2 * n, s.count, s.count == 1 ? "" : "s");
	munmap(base, 2 * n * getpagesize());
	return 0;
}

static int mode_row(const struct twin *tw, __u32 mode)
{
	struct target t;
	struct row r;
	int fd, ret = -1;

	memset(&r, 0, sizeof(r));
	if (target_up(&t, tw->backend, tw->prepare, module_pages()))
		return -1;
	fd = target_open(&t, O_RDWR, mode);
	if (fd >= 0 && tw->state &&
	    ioctl(fd, MMAPDEMO_IOC_SET_STATE, &tw->state)) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0 && !two_adjacent(&t, fd, &r) &&
	    !partial_round_trip(fd, &r) && !scale(fd, &r))
		ret = 0;
	if (fd >= 0)
		close(fd);
	if (target_down(&t) || ret)
		return -1;
	printf("| %s | %s | `%s` | %d | %llu | %llu | %llu | %llu | %llu | %llu | %d | %s |\n",
	       mode_names[mode], tw->name, r.flags, r.vmas,
	       r.after.hook_calls - r.before.hook_calls,
	       r.after.mapped_calls - r.before.mapped_calls,
	       r.after.vm_open - r.before.vm_open,
	       r.after.vm_close - r.before.vm_close,
	       r.after.faults - r.before.faults,
	       (unsigned long long)r.after.live_objects, r.partial, r.scale);
	return 0;
}

struct unwind {
	int err;		/* errno of the failed mmap(), 0 if it worked */
	int set_err;		/* errno of SET_FAIL, 0 if it was accepted */
	char why[224];		/* why the backend cannot be had, or "" */
	const char *old;	/* what is left of the old pages */
	long close, leaked, injected;	/* counter deltas */
};

/* What is left of anon_four()'s pages, in words. */
static const char *old_pages_name(const struct old_pages *o)
{
	if (o->intact[0] && o->intact[1] && o->intact[2] && o->intact[3])
		return "kept, data intact";
	if (o->intact[0] && o->intact[3] && o->sig[1] == SIGSEGV &&
	    o->sig[2] == SIGSEGV)
		return "hole (SIGSEGV)";
	return "mixed";
}

/* The failing mmap() over anon_four(), as unwind.c's MAP_FIXED tests. */
static int fixed_case(const struct target *t, __u32 mode, __u32 stage,
		      int override, bool rlimit, struct unwind *u)
{
	size_t psz = getpagesize();
	struct mmapdemo_stats before, after;
	struct old_pages o;
	char *base = anon_four();
	int fd;
	void *p;

	if (!base)
		return -1;
	before = target_stats(t);
	fd = target_open_armed(t, mode, stage, override);
	if (fd < 0) {
		anon_four_free(base);
		if (errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		u->set_err = errno;
		return 0;
	}
	if (rlimit)	/* pages [2, 5): two old pages and one more */
		p = mmap_at_rlimit(base + 2 * psz, 3 * psz, t->prot,
				   MAP_SHARED | MAP_FIXED, fd, 0);
	else
		p = mmap(base + psz, 2 * psz, t->prot, MAP_SHARED | MAP_FIXED,
			 fd, 0);
	u->err = p == MAP_FAILED ? errno : 0;
	old_pages_read(base, &o);
	u->old = old_pages_name(&o);
	anon_four_free(base);
	close(fd);
	after = target_stats(t);
	u->close = after.vm_close - before.vm_close;
	u->leaked = after.live_objects - before.live_objects;
	u->injected = after.injected - before.injected;
	return 0;
}

/* A HOOK_ENTRY failure armed between the two mmaps of map_pair(). */
static int merge_case(const struct target *t, __u32 mode, struct unwind *u)
{
	size_t psz = getpagesize();
	struct mmapdemo_stats before, after;
	char *base = reserve(4 * psz);
	int fd = target_open(t, t->oflags, mode);
	void *p;

	if (fd < 0 || base == MAP_FAILED)
		return -1;
	before = target_stats(t);
	if (map_at(fd, base, 0, 2, t->prot) != base ||
	    twin_set_fail(fd, MMAPDEMO_FAIL_HOOK_ENTRY, -EIO, 0))
		return -1;
	p = map_at(fd, base, 2, 2, t->prot);
	u->err = p == MAP_FAILED ? errno : 0;
	u->old = map_count_in((unsigned long)base, (unsigned long)base + 4 * psz) == 1 ?
		 (u->err ? "first kept, second range a hole" : "merged, 1 VMA") : "?";
	twin_set_fail(fd, MMAPDEMO_FAIL_NONE, 0, 0);
	munmap(base, 4 * psz);
	after = target_stats(t);
	u->close = after.vm_close - before.vm_close - 1;  /* less the first's */
	u->leaked = after.live_objects - before.live_objects;
	u->injected = after.injected - before.injected;
	close(fd);
	return 0;
}

struct unwind_point {
	const char *name;
	__u32 stage;
	bool rlimit, merge;
	/* BACKEND_OVERLAY or BACKEND_FUSE; BACKEND_DEV (0): the twin's own */
	enum backend via;
	unsigned int modes;	/* run in modes [0, modes) the twin has */
};

static const struct unwind_point unwind_points[] = {
	{ .name = "before the hook (RLIMIT_AS)",
	  .stage = MMAPDEMO_FAIL_HOOK_ENTRY, .rlimit = true, .modes = 4 },
	{ .name = "HOOK_ENTRY", .stage = MMAPDEMO_FAIL_HOOK_ENTRY, .modes = 4 },
	{ .name = "HOOK_EXIT", .stage = MMAPDEMO_FAIL_HOOK_EXIT, .modes = 4 },
	{ .name = "MAPPED", .stage = MMAPDEMO_FAIL_MAPPED, .modes = 4 },
	/* only FAULT merges in both twins */
	{ .name = "HOOK_ENTRY, adjacent mmap that merges",
	  .stage = MMAPDEMO_FAIL_HOOK_ENTRY, .merge = true, .modes = 1 },
	/*
	 * The stacked callers: fs/overlayfs/file.c:ovl_mmap, and
	 * fs/fuse/passthrough.c:fuse_passthrough_mmap in FAULT mode, as
	 * unwind.c asserts it
	 */
	{ .name = "HOOK_ENTRY via overlayfs",
	  .stage = MMAPDEMO_FAIL_HOOK_ENTRY, .via = BACKEND_OVERLAY, .modes = 4 },
	{ .name = "HOOK_ENTRY via FUSE passthrough",
	  .stage = MMAPDEMO_FAIL_HOOK_ENTRY, .via = BACKEND_FUSE, .modes = 1 },
	{ .name = "HOOK_EXIT via overlayfs",
	  .stage = MMAPDEMO_FAIL_HOOK_EXIT, .via = BACKEND_OVERLAY, .modes = 4 },
	{ .name = "HOOK_EXIT via FUSE passthrough",
	  .stage = MMAPDEMO_FAIL_HOOK_EXIT, .via = BACKEND_FUSE, .modes = 1 },
	{ .name = "MAPPED via overlayfs",
	  .stage = MMAPDEMO_FAIL_MAPPED, .via = BACKEND_OVERLAY, .modes = 4 },
	{ .name = "MAPPED via FUSE passthrough",
	  .stage = MMAPDEMO_FAIL_MAPPED, .via = BACKEND_FUSE, .modes = 1 },
};

/*
 * 6.16: fs/backing-file.c:backing_file_mmap refuses a backing file
 * without f_op->mmap with -ENODEV, before any hook (stacked.c asserts it);
 * 6.17 asks can_mmap_file().  Is that what u's mmap() met?
 */
static bool stacked_refused(const struct twin *tw,
			    const struct unwind_point *pt,
			    const struct unwind *u)
{
	return pt->via && tw->prepare && u->err == ENODEV &&
	       !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE);
}

/*
 * One case on a fresh target: the point's backend is the twin's, or the
 * stacked one.  0, also when the overlay or FUSE passthrough cannot be
 * had here (u->why says why); -1 on error.
 */
static int unwind_case(const struct twin *tw, const struct unwind_point *pt,
		       __u32 mode, int override, struct unwind *u)
{
	struct target t;
	int ret;

	memset(u, 0, sizeof(*u));
	/* overlay.ko is loaded by vm-run --kmod */
	if (pt->via == BACKEND_OVERLAY && !have_fs("overlay")) {
		snprintf(u->why, sizeof(u->why),
			 "not run: no overlay in /proc/filesystems");
		return 0;
	}
	ret = target_up(&t, pt->via ?: tw->backend, tw->prepare,
			module_pages());
	if (ret > 0) {
		snprintf(u->why, sizeof(u->why), "not run: %s", t.srv.why);
		return 0;
	}
	if (ret)
		return -1;
	ret = pt->merge ? merge_case(&t, mode, u) :
	      fixed_case(&t, mode, pt->stage, override, pt->rlimit, u);
	if (target_down(&t))
		ret = -1;
	return ret;
}

static const char *err_name(int err)
{
	return err ? strerrorname_np(err) : "ok (mmap succeeds)";
}

/* One row's result columns for one mode, or -1. */
static int unwind_cells(const struct twin *tw, __u32 mode,
			const struct unwind_point *pt, char *buf, size_t size)
{
	struct unwind u, o;

	if (unwind_case(tw, pt, mode, 0, &u))
		return -1;
	if (u.why[0]) {
		snprintf(buf, size, "%s | - | - | - | - | - |", u.why);
		return 0;
	}
	if (stacked_refused(tw, pt, &u)) {
		snprintf(buf, size, "ENODEV: no can_mmap_file() (6.17), "
			 "backing_file_mmap refuses a file without .mmap | "
			 "- | - | - | - | - |");
		return 0;
	}
	if (u.set_err) {
		snprintf(buf, size, "SET_FAIL: %s | - | - | - | - | - |",
			 strerrorname_np(u.set_err));
		return 0;
	}
	if (pt->merge || unwind_case(tw, pt, mode, EAGAIN, &o))
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
	char cells[4][320];
	unsigned int p, t, m, modes;
	bool same;

	printf("\nError unwind: a failure injected with MMAPDEMO_IOC_SET_FAIL (-EIO),\n"
	       "a 2-page MAP_FIXED mmap over the middle of a 4-page anonymous mapping;\n"
	       "\"adjacent mmap that merges\": the failure armed before the second of two adjacent mmaps of one fd;\n"
	       "\"via overlayfs\": the file mapped through an overlay with the filesystem twin as lower layer;\n"
	       "\"via FUSE passthrough\": through a FUSE mount whose server opens it with FOPEN_PASSTHROUGH\n"
	       "(mapped writable, FAULT only); the failure armed on the lower mount's root for the kernel's\n"
	       "own open of the real file.\n\n");
	printf("| failure point | twin | modes | errno | errno, override -EAGAIN | old pages | close called | state leaked | injected |\n");
	printf("|---|---|---|---|---|---|---|---|---|\n");
	for (p = 0; p < sizeof(unwind_points) / sizeof(unwind_points[0]); p++) {
		for (t = 0; t < NR_TWINS; t++) {
			const struct unwind_point *pt = &unwind_points[p];
			const struct twin *tw = &twins[t];

			if ((pt->via && tw->backend != BACKEND_FS) ||
			    tw->state || twin_lacks(tw, MMAPDEMO_MODE_FAULT))
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

	/*
	 * As fixture.h does for a FUSE test: what a demo that fails half-way
	 * leaves mounted goes with its processes, and cannot pin the module.
	 */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		perror("mount namespace");
		return 1;
	}
	uname(&u);
	printf("Kernel %s, pages=%ld. Two adjacent MAP_SHARED mmaps of one fd,\n"
	       "contiguous offsets, 2 pages each, every page touched, one munmap.\n"
	       "Partial mprotect: VMAs after mprotect(PROT_READ) and back over the first 3 of the 4 pages.\n"
	       "Scale: 2N one-page adjacent mmaps under vm.max_map_count = N = %ld.\n"
	       "fs_prepare, fs_legacy: a file of the filesystem twins (FAULT and FLAGS only).\n"
	       "no ->close: MMAPDEMO_STATE_NONE, vm_ops without ->open, ->close, ->mapped (FAULT and FLAGS only).\n\n",
	       u.release, module_pages(), module_pages() / 2);
	printf("| mode | twin | VmFlags | VMAs | hook | mapped | open | close | faults | live after | partial mprotect | scale |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (m = 0; m < 4; m++) {
		for (t = 0; t < NR_TWINS; t++) {
			if (m >= twin_modes(&twins[t]) ||
			    twin_lacks(&twins[t], MMAPDEMO_MODE_FAULT))
				continue;
			if (twin_lacks(&twins[t], m)) {
				printf("| %s | %s | no: %s | | | | | | | | | |\n",
				       mode_names[m], twins[t].name,
				       twin_lacks(&twins[t], m));
				continue;
			}
			if (mode_row(&twins[t], m)) {
				perror(twins[t].name);
				return 1;
			}
		}
	}
	if (unwind_table()) {
		perror("unwind");
		return 1;
	}
	return 0;
}
