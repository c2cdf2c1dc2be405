// SPDX-License-Identifier: GPL-2.0
/*
 * What does .mmap_prepare cost against .mmap, and against the kernel's own
 * mappings?  make bench runs this in the guest (run-all does not: it is no
 * test) and scripts/bench-report turns its records into tables and plots.
 *
 * Every comparison is made within this one run, in rows: the contenders
 * of a row run interleaved, round by round, one batch each per round, in
 * an order drawn anew for each round (seeded: the same in every run) that
 * never starts with the contender that ended the round before: a batch
 * run right after one of its own contender is faster (same file, same
 * address, warm slab objects and page tables), and a fixed order would
 * give that edge to whoever ends and starts rounds.  One round
 * more than asked for runs first and is thrown away (page cache, slab
 * caches).  A batch is K operations, K such that it takes about 1 ms:
 * short against the host's time slice.  A row holds the legacy twin, the
 * prepare twin, the legacy twin once more through a file of its own
 * ("legacy2", the A/A control: what two identical contenders differ by in
 * this run) and the file floors.  scripts/bench-report takes the median
 * of the per-round ratios: the batches of a round run within a few ms of
 * each other, so the host's load phases slow them alike, and its spikes
 * hit a few rounds only.
 *
 * ops:   per twin x mode (character devices: FAULT FLAGS REMAP PAGES;
 *        filesystems: FAULT FLAGS): mmap + munmap of 1, 16, 256 pages,
 *        untouched and with every page written; 64 adjacent one-page
 *        mmaps with contiguous offsets, which merge (except legacy FLAGS
 *        and the VM_SPECIAL modes); mmap + munmap of a file through
 *        overlayfs.  Floors in each row: the same on a memfd, a tmpfs
 *        file and a ramfs file (through overlayfs: a tmpfs file there);
 *        a floors table per case adds /dev/zero MAP_SHARED and anonymous
 *        memory.
 * count: one mmap + munmap of one page as the process holds 10, 1000,
 *        10000, 60000 VMAs (single pages of alternating protection).
 * maps:  N one-page mmaps next to each other, N = vm.max_map_count
 *        (65530), each contender in a process of its own, in chunks of
 *        2048 round by round: time per map (each chunk's fastest 64 and
 *        its average), VMAs held (from the vm_area_struct slab,
 *        /sys/kernel/slab), until N maps or ENOMEM; then a fork of that
 *        process and the munmap of the range, timed, with the
 *        vm_area_struct and maple_node memory they free.  The character
 *        devices hold "pages" pages (make bench loads the module with
 *        pages=1024), so page i is mapped at offset i mod pages: the same
 *        pages through several offsets; a mapping merges with its
 *        neighbour except where the offset wraps, so a merging twin holds
 *        N / pages VMAs.  The filesystem twins and the memfd map a sparse
 *        256 MiB file at offset i: one VMA.
 *
 * examples: mmap + munmap of 1 page, untouched and written, FLAGS and
 *        REMAP, where the contenders are the kit's twins (legacy,
 *        prepare, legacy2) and the example drivers of examples/, which
 *        carry no instrumentation, loaded from /extra/example
 *        (finit_module) for the section and unloaded after it: FLAGS
 *        "ex-prepare" exflags (7.0+) or exflags_vm_flags (6.16-6.19),
 *        fault-served with VM_DONTCOPY | VM_DONTDUMP like the kit's FLAGS,
 *        and the memfd floor; REMAP "ex-legacy" exremap_legacy and
 *        "ex-prepare" exremap (6.19+).  "ex-prepare2" is the example
 *        prepare once more through a file of its own (its A/A control).
 *        Example prepare / example legacy is what the API costs, kit
 *        prepare / example prepare what the kit's instrumentation costs;
 *        FLAGS has no legacy example (scripts/bench-report takes the
 *        kit's legacy twin there).  Its own records (ex, exrounds, exna),
 *        so that the rows of ops stay as they were.
 * A contender the kernel cannot run (the prepare twin's REMAP before
 * 6.19, PAGES before 7.1, a .mmap_prepare file through overlayfs on 6.16)
 * gets a record "na" with the reason, from prepare_lacks().
 *
 * Records, one per line, tab-separated, first field "B":
 *   B meta    KEY VALUE
 *   B op      CASE OBJECT MODE TWIN MEDIAN MIN MAX ROUNDS VMAS
 *   B rounds  CASE OBJECT MODE TWIN NS,NS,... (one per round, in order)
 *   B na      CASE OBJECT MODE TWIN REASON
 *   B count   VMAS_HELD OBJECT MODE TWIN MEDIAN MIN MAX ROUNDS 1
 *   B crounds VMAS_HELD OBJECT MODE TWIN NS,NS,...
 *   B ex      CASE OBJECT MODE TWIN MEDIAN MIN MAX ROUNDS VMAS
 *   B exrounds CASE OBJECT MODE TWIN NS,NS,...
 *   B exna    CASE OBJECT MODE TWIN REASON
 *   B maps    OBJECT MODE TWIN MAPS NS_PER_MAP VMAS FASTEST_NS_PER_MAP
 *   B mapsend OBJECT MODE TWIN MAPS ERRNO VMAS NS_PER_MAP FORK_NS MUNMAP_NS
 *             VMA_BYTES MAPLE_BYTES FREED_VMA_BYTES FREED_MAPLE_BYTES
 * (ns; OBJECT chardev, fs, overlay, or floor for the floors table, in
 * ex records an example's module or memfd; TWIN prepare, legacy, legacy2,
 * ex-legacy, ex-prepare, ex-prepare2 or a floor's name.  maps: one chunk of CHUNK maps, NS_PER_MAP its average,
 * FASTEST_NS_PER_MAP that of its fastest 64 maps, VMAS the growth of the
 * vm_area_struct slab while it mapped; mapsend: VMAS the process's own count of them, *_BYTES the
 * growth of the vm_area_struct and maple_node slabs while it mapped and
 * what its munmap gave back, slab_size each.  The slab counters are exact
 * to a few dozen objects: SLUB counts the free objects of per-CPU slabs
 * and sheaves as in use.)  Usage: bench [-r ROUNDS] [-s ops|examples|count|maps]...
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vma.h"
#include "../examples/example_test.h"

#define MAX_ROUNDS	64
#define BATCH_NS	1000000.0	/* a batch takes about this long */
#define MAX_BATCH	4096
#define MERGE_MAPS	64		/* adjacent mmaps per merge batch */
#define BIG_PAGES	65536		/* the sparse files: 256 MiB */
#define CHUNK		2048		/* maps per chunk of the maps section */
#define SUB		64		/* ... timed in batches of SUB */
#define DIR		"/tmp/bench"

struct target {
	const char *object;	/* chardev, fs, overlay, floor */
	const char *twin;	/* prepare, legacy, or the floor's name */
	const char *mode;	/* FAULT ... or "-" */
	int fd;			/* -1: anonymous memory */
	int flags;		/* mmap flags */
	int prot;
	const char *na;		/* why it cannot run here, or NULL */
	bool own;		/* fd is its own (not a shared floor's) */
	double ns[MAX_ROUNDS + 1];
};

static const char * const mode_names[] = { "FAULT", "FLAGS", "REMAP", "PAGES" };
static size_t psz;
static int rounds = 61;
static long dev_pages;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Round by round, in the order of their rounds, the first one left out. */
static void print_rounds(const struct target *t)
{
	int r;

	for (r = 1; r <= rounds; r++)
		printf("%s%.0f", r > 1 ? "," : "", t->ns[r]);
	printf("\n");
}

/* Median, minimum, maximum of the rounds after the first. */
static void summary(const struct target *t, double *med, double *min,
		    double *max)
{
	double v[MAX_ROUNDS];

	memcpy(v, t->ns + 1, rounds * sizeof(v[0]));
	qsort(v, rounds, sizeof(v[0]), cmp_double);
	*med = rounds % 2 ? v[rounds / 2] : (v[rounds / 2 - 1] + v[rounds / 2]) / 2;
	*min = v[0];
	*max = v[rounds - 1];
}

/* ---- the objects mapped ---- */

static void must(int ret, const char *what)
{
	if (ret)
		die(what);
}

static int open_file(const char *path, long pages)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 || ftruncate(fd, pages * psz))
		die(path);
	return fd;
}

static void mount_fs(const char *type, const char *dir)
{
	mkdir(dir, 0755);
	if (mount("none", dir, type, 0, NULL))
		die(dir);
}

/* An overlay with lower LOWER, upper and work on /tmp; 0 or -1. */
static int mount_overlay(const char *lower, const char *name)
{
	char ovl[128], up[128], work[128], opts[512];

	snprintf(ovl, sizeof(ovl), DIR "/%s.ovl", name);
	snprintf(up, sizeof(up), DIR "/%s.up", name);
	snprintf(work, sizeof(work), DIR "/%s.work", name);
	mkdir(ovl, 0755);
	mkdir(up, 0755);
	mkdir(work, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 lower, up, work);
	return mount("overlay", ovl, "overlay", 0, opts);
}

struct objects {
	int dev[2];		/* character devices, opened per mode below */
	int fsroot[2];		/* filesystem twins' roots */
	char fsfile[2][96];
	int memfd, zero, tmpfs, ramfs;
	bool ovl[3];		/* prepare, legacy, tmpfs: overlay mounted */
};

static struct objects obj;

static const char *twin_name(int k)
{
	return k ? "legacy" : "prepare";
}

static void setup_objects(void)
{
	static const char * const types[2] = { MMAPDEMO_FS_PREPARE, MMAPDEMO_FS_LEGACY };
	char dir[64];
	int k;

	mkdir(DIR, 0755);
	obj.fsroot[0] = obj.fsroot[1] = -1;
	for (k = 0; k < 2; k++) {
		if (!k && !has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
			continue;	/* 6.12: no mmapdemofs_prepare */
		snprintf(dir, sizeof(dir), DIR "/%s", twin_name(k));
		mount_fs(types[k], dir);
		obj.fsroot[k] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(obj.fsfile[k], sizeof(obj.fsfile[k]), "%s/f", dir);
		close(open_file(obj.fsfile[k], BIG_PAGES));
	}
	obj.memfd = memfd_create("bench", MFD_CLOEXEC);
	if (obj.memfd < 0 || ftruncate(obj.memfd, BIG_PAGES * psz))
		die("memfd");
	obj.zero = open("/dev/zero", O_RDWR | O_CLOEXEC);
	mkdir(DIR "/tmpdir", 0755);
	obj.tmpfs = open_file(DIR "/tmpdir/f", BIG_PAGES);	/* /tmp is tmpfs */
	mount_fs("ramfs", DIR "/ramfs");
	obj.ramfs = open_file(DIR "/ramfs/f", BIG_PAGES);
	obj.ovl[0] = obj.fsroot[0] >= 0 && !mount_overlay(DIR "/prepare", "prepare");
	obj.ovl[1] = !mount_overlay(DIR "/legacy", "legacy");
	obj.ovl[2] = !mount_overlay(DIR "/tmpdir", "tmpfs");
}

/* Nothing may stay open on a mount: it would pin the module. */
static void teardown_objects(void)
{
	static const char * const dirs[] = {
		DIR "/prepare.ovl", DIR "/legacy.ovl", DIR "/tmpfs.ovl",
		DIR "/prepare", DIR "/legacy", DIR "/ramfs",
	};
	size_t i;

	close(obj.memfd);
	close(obj.zero);
	close(obj.tmpfs);
	close(obj.ramfs);
	for (i = 0; i < 2; i++)
		if (obj.fsroot[i] >= 0)
			close(obj.fsroot[i]);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (umount(dirs[i]) && errno != EINVAL && errno != ENOENT)
			fprintf(stderr, "bench: umount %s: %s\n", dirs[i],
				strerror(errno));
}

static struct target target(const char *object, const char *twin,
			    const char *mode, int fd, int flags)
{
	struct target t = {
		.object = object, .twin = twin, .mode = mode, .fd = fd,
		.flags = flags, .prot = PROT_READ | PROT_WRITE,
	};

	return t;
}

/* A twin in a mode: its own open file, or n/a and why. */
static struct target twin(bool fs, int k, __u32 mode)
{
	const char *object = fs ? "fs" : "chardev";
	struct target t = target(object, twin_name(k), mode_names[mode], -1,
				 MAP_SHARED);
	const char *path = fs ? obj.fsfile[k] :
			   k ? MMAPDEMO_DEV_LEGACY : MMAPDEMO_DEV_PREPARE;

	t.na = k ? NULL : prepare_lacks(mode, 0, 0);
	if (!t.na) {
		t.fd = twin_open(path, O_RDWR, mode);
		if (t.fd < 0)
			die(path);
		t.own = true;
	}
	return t;
}

/* A file of a twin (or of tmpfs) opened through its overlay, read-only. */
static struct target overlay_twin(int k, __u32 mode)
{
	struct target t = target("overlay", k < 2 ? twin_name(k) : "ovl-tmpfs",
				 mode_names[mode], -1, MAP_SHARED);
	char path[128];

	if (!k && !has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
		t.na = NO_PREPARE_TWINS;
	else if (!k && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE))
		t.na = "no can_mmap_file() (6.17): backing_file_mmap refuses a file without .mmap, ENODEV";
	else if (!obj.ovl[k])
		t.na = "no overlayfs in this guest";
	if (t.na)
		return t;
	snprintf(path, sizeof(path), DIR "/%s.ovl/f",
		 k < 2 ? twin_name(k) : "tmpfs");
	if (k < 2)	/* driver/fs_common.c: what files opened later start with */
		must(twin_set_mode(obj.fsroot[k], mode), "SET_MODE on the root");
	t.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (k < 2)
		twin_set_mode(obj.fsroot[k], MMAPDEMO_MODE_FAULT);
	if (t.fd < 0)
		die(path);
	t.own = true;
	t.prot = PROT_READ;
	return t;
}

/* The floors table of a case: what the kernel offers itself. */
static int floors(struct target *t)
{
	t[0] = target("floor", "memfd", "-", obj.memfd, MAP_SHARED);
	t[1] = target("floor", "zero", "-", obj.zero, MAP_SHARED);
	t[2] = target("floor", "tmpfs", "-", obj.tmpfs, MAP_SHARED);
	t[3] = target("floor", "ramfs", "-", obj.ramfs, MAP_SHARED);
	t[4] = target("floor", "anon", "-", -1, MAP_PRIVATE | MAP_ANONYMOUS);
	return 5;
}

/*
 * What one row compares, interleaved round by round: the legacy twin, the
 * prepare twin, the legacy twin once more through a file of its own
 * ("legacy2", the A/A control: what two identical contenders differ by
 * in this run), then the file floors with the row's kind of mapping
 * (memfd, tmpfs, ramfs: shared file mappings, faulted).  prepare sits
 * between the two legacy copies: each ratio is one of adjacent batches.
 */
static int group(struct target *t, bool fs, __u32 mode, bool with_floors)
{
	const char *object = fs ? "fs" : "chardev";
	int n = 0;

	t[n++] = twin(fs, 1, mode);
	t[n++] = twin(fs, 0, mode);
	t[n] = twin(fs, 1, mode);
	t[n++].twin = "legacy2";
	if (!with_floors)
		return n;
	t[n++] = target(object, "memfd", mode_names[mode], obj.memfd, MAP_SHARED);
	t[n++] = target(object, "tmpfs", mode_names[mode], obj.tmpfs, MAP_SHARED);
	t[n++] = target(object, "ramfs", mode_names[mode], obj.ramfs, MAP_SHARED);
	return n;
}

/* The same through overlayfs, read-only; the floor a tmpfs file there. */
static int overlay_group(struct target *t, __u32 mode)
{
	int n = 0;

	t[n++] = overlay_twin(1, mode);
	t[n++] = overlay_twin(0, mode);
	t[n] = overlay_twin(1, mode);
	t[n++].twin = "legacy2";
	t[n++] = overlay_twin(2, mode);
	return n;
}

static void close_targets(struct target *t, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (t[i].own)
			close(t[i].fd);
}

/* ---- the operations timed ---- */

/* K times mmap + munmap of n pages, each written (read, if read-only). */
static double batch_map(struct target *t, long n, bool touch, int k)
{
	size_t len = n * psz;
	double t0 = now_ns();
	volatile char *p;
	long i;

	while (k--) {
		p = mmap(NULL, len, t->prot, t->flags, t->fd, 0);
		if (p == MAP_FAILED)
			die("mmap");
		if (touch) {
			for (i = 0; i < n; i++) {
				if (t->prot & PROT_WRITE)
					p[i * psz] = 1;
				else
					(void)p[i * psz];
			}
		}
		munmap((void *)p, len);
	}
	return now_ns() - t0;
}

/*
 * A one-page mapping, then K one-page mmaps next to it with the
 * contiguous offsets: the time of the K mmaps.  *vmas: what they made.
 */
static double batch_merge(struct target *t, int k, int *vmas)
{
	char *base = reserve((k + 1) * psz);
	double t0, t1;
	int i;

	if (base == MAP_FAILED)
		die("reserve");
	if (mmap(base, psz, t->prot, t->flags | MAP_FIXED, t->fd, 0) == MAP_FAILED)
		die("mmap");
	t0 = now_ns();
	for (i = 1; i <= k; i++)
		if (mmap(base + i * psz, psz, t->prot, t->flags | MAP_FIXED,
			 t->fd, i * psz) == MAP_FAILED)
			die("adjacent mmap");
	t1 = now_ns();
	if (vmas)
		*vmas = map_count_in((unsigned long)base,
				     (unsigned long)base + (k + 1) * psz);
	munmap(base, (k + 1) * psz);
	return t1 - t0;
}

enum kind { MAP, MAP_TOUCHED, MERGE };

static double run_one(struct target *t, enum kind kind, long n, int k,
		      int *vmas)
{
	if (kind == MERGE)
		return batch_merge(t, k, vmas);
	return batch_map(t, n, kind == MAP_TOUCHED, k);
}

/* The first contender that can run: how many ops make a batch. */
static int calibrate(struct target *t, int n, enum kind kind, long pages)
{
	double ns = 0;
	int i, k;

	if (kind == MERGE)
		return MERGE_MAPS;
	for (i = 0; i < n && t[i].na; i++)
		;
	if (i == n)
		return 1;
	run_one(&t[i], kind, pages, 2, NULL);
	ns = run_one(&t[i], kind, pages, 4, NULL) / 4;
	k = ns > 0 ? (int)(BATCH_NS / ns) : MAX_BATCH;
	return k < 1 ? 1 : k > MAX_BATCH ? MAX_BATCH : k;
}

/* The order of a round: a permutation of n, not starting with *last. */
static void round_order(int *order, int n, int *last)
{
	static __u64 state = 0x6d6d617064656d6fULL;
	int i, j, t;

	do {
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {
			state ^= state << 13;
			state ^= state >> 7;
			state ^= state << 17;
			j = state % (i + 1);
			t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	} while (n > 1 && order[0] == *last);
	*last = order[n - 1];
}

/*
 * Rounds of the contenders of one row, interleaved (round_order()); two
 * records each: REC ("op" or "count") and its rounds.
 */
static void run_case(const char *rec, const char *name, struct target *t,
		     int n, enum kind kind, long pages)
{
	int k = calibrate(t, n, kind, pages), r, i;
	int vmas[64] = { 0 }, order[64], last = -1, j;
	bool ex = !strcmp(rec, "ex");
	double med, min, max;

	for (r = 0; r <= rounds; r++) {
		round_order(order, n, &last);
		for (j = 0; j < n; j++) {
			i = order[j];
			if (!t[i].na)
				t[i].ns[r] = run_one(&t[i], kind, pages, k,
						     r ? NULL : &vmas[i]) / k;
		}
	}
	for (i = 0; i < n; i++) {
		if (t[i].na) {
			printf("B\t%s\t%s\t%s\t%s\t%s\t%s\n", ex ? "exna" : "na",
			       name, t[i].object, t[i].mode, t[i].twin,
			       t[i].na);	/* rec count: as "op" */
			continue;
		}
		summary(&t[i], &med, &min, &max);
		printf("B\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%d\t%d\n", rec,
		       name, t[i].object, t[i].mode, t[i].twin, med, min, max,
		       rounds, kind == MERGE ? vmas[i] : 1);
		printf("B\t%srounds\t%s\t%s\t%s\t%s\t", ex ? "ex" : *rec == 'c' ? "c" : "",
		       name, t[i].object, t[i].mode, t[i].twin);
		print_rounds(&t[i]);
	}
	fflush(stdout);
}

static void section_ops(void)
{
	static const long sizes[] = { 1, 16, 256 };
	struct target t[16];
	char name[64];
	int n, s, touch, fs;
	enum kind kind;
	__u32 m;

	for (touch = 0; touch < 2; touch++) {
		for (s = 0; s < 3; s++) {
			snprintf(name, sizeof(name), "mmap+munmap %ld page%s%s",
				 sizes[s], sizes[s] > 1 ? "s" : "",
				 touch ? ", touched" : "");
			fprintf(stderr, "bench: %s\n", name);
			kind = touch ? MAP_TOUCHED : MAP;
			for (fs = 0; fs < 2; fs++) {
				for (m = 0; m < (fs ? 2U : 4U); m++) {
					n = group(t, fs, m, true);
					run_case("op", name, t, n, kind, sizes[s]);
					close_targets(t, n);
				}
			}
			n = floors(t);
			run_case("op", name, t, n, kind, sizes[s]);
		}
	}

	/* merging: FAULT and FLAGS of both objects */
	fprintf(stderr, "bench: adjacent mmap\n");
	for (fs = 0; fs < 2; fs++) {
		for (m = 0; m < 2; m++) {
			n = group(t, fs, m, true);
			run_case("op", "adjacent mmap (merges)", t, n, MERGE, 1);
			close_targets(t, n);
		}
	}
	n = floors(t);
	run_case("op", "adjacent mmap (merges)", t, n, MERGE, 1);

	fprintf(stderr, "bench: via overlayfs\n");
	for (s = 0; s < 2; s++) {
		for (m = 0; m < 2; m++) {
			n = overlay_group(t, m);
			run_case("op", s ? "mmap+munmap 16 pages via overlayfs" :
				 "mmap+munmap 1 page via overlayfs", t, n, MAP,
				 sizes[s]);
			close_targets(t, n);
		}
	}
}

/* ---- the examples beside the kit's twins ---- */

struct example {
	const char *name;
	bool loaded;
	char why[272];		/* why it cannot run here */
};

/* Load the example's module; false and ex->why if it cannot run. */
static bool example_up(struct example *ex, const char *name)
{
	int ret;

	ex->name = name;
	ret = example_load(name, ex->why, sizeof(ex->why));
	ex->loaded = !ret;
	if (ret < 0)	/* an error, not a probe: say so on stderr too */
		fprintf(stderr, "bench: %s\n", ex->why);
	return ex->loaded;
}

static void example_down(struct example *ex)
{
	if (ex->loaded && example_unload(ex->name))
		fprintf(stderr, "bench: rmmod %s: %s\n", ex->name, strerror(errno));
	ex->loaded = false;
}

/* The example's device, /dev/NAME, opened for a contender of its own. */
static struct target example_target(struct example *ex, const char *twin,
				    __u32 mode)
{
	struct target t = target(ex->name, twin, mode_names[mode], -1,
				 MAP_SHARED);
	char dev[64];

	if (!ex->loaded) {
		t.na = ex->why;
		return t;
	}
	snprintf(dev, sizeof(dev), "/dev/%s", ex->name);
	t.fd = open(dev, O_RDWR | O_CLOEXEC);
	if (t.fd < 0)
		die(dev);
	t.own = true;
	return t;
}

/*
 * One row: the kit's twins in MODE (legacy, prepare, legacy2), then the
 * example legacy (REMAP) or the memfd floor (FLAGS), the example prepare
 * and its A/A copy.
 */
static int example_group(struct target *t, __u32 mode, struct example *pre,
			 struct example *leg)
{
	int n = group(t, false, mode, false);

	if (leg)
		t[n++] = example_target(leg, "ex-legacy", mode);
	else
		t[n++] = target("memfd", "memfd", mode_names[mode], obj.memfd,
				MAP_SHARED);
	t[n++] = example_target(pre, "ex-prepare", mode);
	t[n++] = example_target(pre, "ex-prepare2", mode);
	return n;
}

static void section_examples(void)
{
	struct example flags, remap, remap_legacy;
	struct target t[16];
	char name[64];
	int n, touch;

	/* the flags example in its series' spelling: 7.0+, else 6.16-6.19 */
	if (!example_up(&flags, "exflags")) {
		char first[sizeof(flags.why)];

		memcpy(first, flags.why, sizeof(first));
		if (!example_up(&flags, "exflags_vm_flags")) {
			char second[sizeof(flags.why)];

			memcpy(second, flags.why, sizeof(second));
			snprintf(flags.why, sizeof(flags.why), "%.130s; %.130s",
				 first, second);
		}
	}
	example_up(&remap, "exremap");
	example_up(&remap_legacy, "exremap_legacy");
	for (touch = 0; touch < 2; touch++) {
		snprintf(name, sizeof(name), "mmap+munmap 1 page%s",
			 touch ? ", touched" : "");
		fprintf(stderr, "bench: examples: %s\n", name);
		n = example_group(t, MMAPDEMO_MODE_FLAGS, &flags, NULL);
		run_case("ex", name, t, n, touch ? MAP_TOUCHED : MAP, 1);
		close_targets(t, n);
		n = example_group(t, MMAPDEMO_MODE_REMAP, &remap, &remap_legacy);
		run_case("ex", name, t, n, touch ? MAP_TOUCHED : MAP, 1);
		close_targets(t, n);
	}
	example_down(&flags);
	example_down(&remap);
	example_down(&remap_legacy);
}

/* ---- scale: as the VMA count grows ---- */

/* Single pages of alternating protection until the process has total VMAs. */
static char *grow_vmas(int total, long *pages)
{
	long n = total - map_count(), i;
	char *r;

	*pages = 0;
	if (n <= 1)
		return NULL;
	r = reserve(n * psz);
	if (r == MAP_FAILED)
		die("reserve");
	for (i = 0; i < n; i += 2)
		must(mprotect(r + i * psz, psz, PROT_READ), "mprotect");
	*pages = n;
	return r;
}

static void section_count(void)
{
	static const int levels[] = { 10, 1000, 10000, 60000 };
	static const struct { bool fs; __u32 mode; } rows[] = {
		{ false, MMAPDEMO_MODE_FAULT }, { false, MMAPDEMO_MODE_FLAGS },
		{ true, MMAPDEMO_MODE_FAULT },
	};
	struct target t[16];
	char name[32];
	int l, r, n;
	long pages;
	char *bg;

	for (l = 0; l < 4; l++) {
		fprintf(stderr, "bench: mmap+munmap at %d VMAs\n", levels[l]);
		bg = grow_vmas(levels[l], &pages);
		snprintf(name, sizeof(name), "%d", map_count());
		for (r = 0; r < 3; r++) {
			n = group(t, rows[r].fs, rows[r].mode, false);
			t[n++] = target(t[0].object, "memfd", t[0].mode,
					obj.memfd, MAP_SHARED);
			run_case("count", name, t, n, MAP, 1);
			close_targets(t, n);
		}
		t[0] = target("floor", "memfd", "-", obj.memfd, MAP_SHARED);
		t[1] = target("floor", "anon", "-", -1, MAP_PRIVATE | MAP_ANONYMOUS);
		run_case("count", name, t, 2, MAP, 1);
		if (bg)
			munmap(bg, pages * psz);
	}
}

/* ---- scale: N adjacent one-page maps ---- */

static long slab_objects(const char *cache)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/objects", cache);
	return sysctl_read(path);	/* "N N0=N": the first number */
}

static long slab_size(const char *cache)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/slab_size", cache);
	return sysctl_read(path);
}

/* What a child of the maps section reports after each command. */
struct maps_state {
	long maps;		/* mmaps done */
	int err;		/* errno of the one that failed, or 0 */
	double ns;		/* time of the last chunk, or of the fork/munmap */
	double best;		/* the chunk's fastest SUB maps, ns per map */
	int vmas;		/* VMAs in the range (at the end only) */
};

enum { CMD_CHUNK, CMD_COUNT, CMD_FORK, CMD_MUNMAP, CMD_EXIT };

static void __attribute__((noreturn))
maps_child(struct target *t, long n, bool wrap, int in, int out)
{
	char *base = reserve(n * psz);
	struct maps_state st = { 0 };
	double t0, t1;
	long end, sub, n0;
	pid_t pid;
	int cmd;

	if (base == MAP_FAILED)
		die("reserve");
	while (read(in, &cmd, sizeof(cmd)) == sizeof(cmd) && cmd != CMD_EXIT) {
		t0 = now_ns();
		switch (cmd) {
		case CMD_CHUNK:
			end = st.maps + CHUNK < n ? st.maps + CHUNK : n;
			st.best = 0;
			while (!st.err && st.maps < end) {
				sub = st.maps + SUB < end ? st.maps + SUB : end;
				n0 = st.maps;
				t1 = now_ns();
				for (; st.maps < sub; st.maps++) {
					long off = wrap ? st.maps % dev_pages : st.maps;

					if (mmap(base + st.maps * psz, psz, t->prot,
						 t->flags | MAP_FIXED, t->fd,
						 off * psz) == MAP_FAILED) {
						st.err = errno;
						break;
					}
				}
				t1 = (now_ns() - t1) / (st.maps - n0 + !!st.err);
				if (!st.best || t1 < st.best)
					st.best = t1;
			}
			break;
		case CMD_COUNT:
			st.vmas = map_count_in((unsigned long)base,
					       (unsigned long)base + n * psz);
			break;
		case CMD_FORK:
			pid = fork();
			if (!pid)
				_exit(0);
			waitpid(pid, NULL, 0);
			break;
		case CMD_MUNMAP:
			munmap(base, n * psz);
			break;
		}
		st.ns = now_ns() - t0;
		if (write(out, &st, sizeof(st)) != sizeof(st))
			break;
	}
	_exit(0);
}

struct maps_proc {
	struct target t;
	pid_t pid;
	int to, from;
	struct maps_state st;
	long vmas, maple;	/* slab objects its chunks added */
	double map_ns;		/* all chunks */
	bool done;
};

static void maps_cmd(struct maps_proc *p, int cmd)
{
	if (write(p->to, &cmd, sizeof(cmd)) != sizeof(cmd) ||
	    read(p->from, &p->st, sizeof(p->st)) != sizeof(p->st))
		die("maps child");
}

static void section_maps(void)
{
	long n = sysctl_read("/proc/sys/vm/max_map_count"), vma0, maple0, prev;
	long vsz = slab_size("vm_area_struct"), msz = slab_size("maple_node");
	struct maps_proc p[8];
	int np = 0, i, cmd, to[2], from[2], active;
	long vma_bytes, maple_bytes;
	double fork_ns;
	__u32 m;
	int k;

	for (m = 0; m < 2; m++)
		for (k = 0; k < 2; k++)
			p[np++].t = twin(false, k, m);
	for (k = 0; k < 2; k++)
		p[np++].t = twin(true, k, MMAPDEMO_MODE_FLAGS);
	p[np++].t = target("floor", "memfd", "-", obj.memfd, MAP_SHARED);
	printf("B\tmeta\tmaps_n\t%ld\n", n);
	for (i = 0; i < np; i++) {
		memset(&p[i].st, 0, sizeof(p[i].st));
		p[i].vmas = p[i].maple = 0;
		p[i].done = !!p[i].t.na;
		if (p[i].t.na) {
			printf("B\tna\tmaps\t%s\t%s\t%s\t%s\n", p[i].t.object,
			       p[i].t.mode, p[i].t.twin, p[i].t.na);
			continue;
		}
		if (pipe(to) || pipe(from))
			die("pipe");
		fflush(stdout);
		p[i].pid = fork();
		if (!p[i].pid) {
			close(to[1]);
			close(from[0]);
			maps_child(&p[i].t, n, !strcmp(p[i].t.object, "chardev"),
				   to[0], from[1]);
		}
		close(to[0]);
		close(from[1]);
		p[i].to = to[1];
		p[i].from = from[0];
		p[i].map_ns = 0;
	}
	/* chunk by chunk, round robin; the slab delta of each chunk is its VMAs */
	for (active = np; active;) {
		for (i = 0, active = 0; i < np; i++) {
			if (p[i].done)
				continue;
			prev = p[i].st.maps;
			vma0 = slab_objects("vm_area_struct");
			maple0 = slab_objects("maple_node");
			maps_cmd(&p[i], CMD_CHUNK);
			p[i].vmas += slab_objects("vm_area_struct") - vma0;
			p[i].maple += slab_objects("maple_node") - maple0;
			p[i].map_ns += p[i].st.ns;
			printf("B\tmaps\t%s\t%s\t%s\t%ld\t%.0f\t%ld\t%.0f\n",
			       p[i].t.object, p[i].t.mode, p[i].t.twin, p[i].st.maps,
			       p[i].st.maps > prev ?
			       p[i].st.ns / (p[i].st.maps - prev) : 0.0,
			       p[i].vmas, p[i].st.best);
			p[i].done = p[i].st.err || p[i].st.maps >= n;
			active += !p[i].done;
		}
		fflush(stdout);
	}
	/* one at a time: the VMAs held, a fork, the munmap */
	for (i = 0; i < np; i++) {
		if (p[i].t.na)
			continue;
		maps_cmd(&p[i], CMD_COUNT);
		maps_cmd(&p[i], CMD_FORK);
		fork_ns = p[i].st.ns;
		vma0 = slab_objects("vm_area_struct");
		maple0 = slab_objects("maple_node");
		maps_cmd(&p[i], CMD_MUNMAP);
		vma_bytes = (vma0 - slab_objects("vm_area_struct")) * vsz;
		maple_bytes = (maple0 - slab_objects("maple_node")) * msz;
		printf("B\tmapsend\t%s\t%s\t%s\t%ld\t%d\t%d\t%.0f\t%.0f\t%.0f\t%ld\t%ld\t%ld\t%ld\n",
		       p[i].t.object, p[i].t.mode, p[i].t.twin, p[i].st.maps,
		       p[i].st.err, p[i].st.vmas,
		       p[i].st.maps ? p[i].map_ns / p[i].st.maps : 0.0,
		       fork_ns, p[i].st.ns, p[i].vmas * vsz, p[i].maple * msz,
		       vma_bytes, maple_bytes);
		fflush(stdout);
		cmd = CMD_EXIT;
		if (write(p[i].to, &cmd, sizeof(cmd)) != sizeof(cmd))
			die("maps child");
		waitpid(p[i].pid, NULL, 0);
		close(p[i].to);
		close(p[i].from);
		if (p[i].t.own)
			close(p[i].t.fd);
	}
}

int main(int argc, char **argv)
{
	bool ops = false, count = false, maps = false, examples = false;
	struct utsname u;
	int opt;

	while ((opt = getopt(argc, argv, "r:s:h")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			ops |= !strcmp(optarg, "ops");
			count |= !strcmp(optarg, "count");
			maps |= !strcmp(optarg, "maps");
			examples |= !strcmp(optarg, "examples");
			break;
		default:
			fprintf(stderr, "usage: %s [-r ROUNDS] [-s ops|examples|count|maps]...\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench: -r wants 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	if (!ops && !count && !maps && !examples)
		ops = count = maps = examples = true;
	psz = getpagesize();
	dev_pages = module_pages();
	uname(&u);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("B\tmeta\tkernel\t%s\n", u.release);
	printf("B\tmeta\tpages\t%ld\n", dev_pages);
	printf("B\tmeta\trounds\t%d\n", rounds);
	printf("B\tmeta\tfeatures\t%#x\n", mmapdemo_features());
	printf("B\tmeta\tmax_map_count\t%ld\n", sysctl_read("/proc/sys/vm/max_map_count"));
	if (dev_pages < 256 + MERGE_MAPS)
		fprintf(stderr, "bench: the module has %ld pages; load it with pages=1024\n",
			dev_pages);
	setup_objects();
	if (ops)
		section_ops();
	if (examples)
		section_examples();
	if (count)
		section_count();
	if (maps)
		section_maps();
	teardown_objects();
	return 0;
}
