/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The set-up and tear-down the fixtures share: the twin under test on its
 * backend, the counters' baseline, and the check that the test left them
 * as it found them.  These take the harness's _metadata for SKIP, ASSERT
 * and EXPECT, so they live in a header that a test includes after
 * kselftest_harness.h, as tools/testing/selftests/landlock/common.h does.
 */
#ifndef MMAPDEMO_FIXTURE_H
#define MMAPDEMO_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "kbugs.h"
#include "ledger.h"
#include "scenario.h"

/*
 * Every test program of a twin knows the kernel bugs it may meet before
 * its first test: kbug_present() (kbugs.h) for its expectations, and for
 * the ledger's findings.
 */
KBUGS_MEASURE_AT_START()

/* How much a counter grew from the snapshot a to the snapshot b. */
#define DELTA(a, b, f)	((long)((b).f - (a).f))

#define NO_OVERLAY "no overlay in /proc/filesystems " \
	"(CONFIG_OVERLAY_FS=m: load overlay.ko, vm-run --kmod)"

struct testbed {
	struct target t;
	int fd;			/* t's path, open in the variant's mode */
	size_t psz;
	/*
	 * ->mapped calls and state objects per new VMA: 1, or 0 for a
	 * prepare twin without vm_ops->mapped (before 7.1)
	 */
	int state;
	/*
	 * hook calls (legacy) or ->mapped calls (prepare) that by the kernel
	 * source get no ->close: set by the tests that make them
	 */
	long unclosed;
	/* state objects the kernel orphaned: set by the tests too */
	long orphans;
	/* the state shape of fd (MMAPDEMO_IOC_SET_STATE): testbed_set_state */
	__u32 shape;
	struct mmapdemo_stats base;
	bool up;
};

static inline long testbed_prepare_hooks(const struct testbed *tb)
{
	int fd = open(MMAPDEMO_DEV_PREPARE, O_RDONLY | O_CLOEXEC);
	long n = 0;

	/* the prepare device (a test may map it beside tb's twin: flags.c) */
	if (fd >= 0) {
		n = twin_stats(fd).hook_calls;
		close(fd);
	}
	if (tb->t.prepare && tb->t.backend != BACKEND_DEV)
		n += twin_stats(tb->t.stats).hook_calls;
	return n;
}

/* the prepare hooks counted at the scenario's start (its ledger's) */
static long testbed_hooks_at_start;

/*
 * Set tb up for a test of one twin on one backend, in mode, with a file
 * of pages pages (or a buffer of at least that many): SKIP where this
 * kernel's prepare twin cannot map in mode (prepare_lacks; 6.12 has no
 * prepare twins) or overlayfs is missing - before anything exists, so
 * nothing is left to undo.  0, or -1 after a SKIP: the setup returns.
 * A setup that has more to do does it before this: an ASSERT that fails
 * in a setup runs no teardown, and a mount left behind pins the module.
 */
static inline int testbed_setup(struct __test_metadata *_metadata,
				struct testbed *tb, enum backend backend,
				bool prepare, __u32 mode, int pages)
{
	const char *lacks = prepare ? prepare_lacks(mode, 0, 0) : NULL;
	int err;

	tb->psz = getpagesize();
	tb->fd = -1;
	if (lacks)
		SKIP(return -1, "%s", lacks);
	if (backend == BACKEND_OVERLAY && !have_fs("overlay"))
		SKIP(return -1, NO_OVERLAY);
	if (backend == BACKEND_DEV) {
		ASSERT_GE(module_pages(), pages);
	} else {
		/* the feature bits say what the module registered */
		ASSERT_TRUE(have_fs(prepare ? MMAPDEMO_FS_PREPARE :
					      MMAPDEMO_FS_LEGACY))
			TH_LOG("features %#x", mmapdemo_features());
	}
	if (backend == BACKEND_FUSE) {
		/*
		 * A mount namespace of the test's own: what a test that dies
		 * half-way leaves mounted goes with its processes, and the
		 * FUSE connection's backing files cannot pin the module.
		 */
		ASSERT_EQ(0, unshare(CLONE_NEWNS))
			TH_LOG("unshare: %s", strerror(errno));
		/* nothing mounted here propagates back out */
		ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	}
	err = target_up(&tb->t, backend, prepare, pages);
	if (err > 0)
		SKIP(return -1, "%s", tb->t.srv.why);
	ASSERT_EQ(0, err) TH_LOG("set-up: %s %s", strerror(errno),
				 tb->t.srv.why);
	tb->fd = target_open(&tb->t, tb->t.oflags, mode);
	if (tb->fd < 0) {
		err = errno;
		target_down(&tb->t);
		errno = err;
	}
	ASSERT_GE(tb->fd, 0) TH_LOG("%s: %s", tb->t.path, strerror(errno));
	tb->state = !prepare || prepare_keeps_state();
	/* the commit-charge ledger of the scenario (ledger.h) */
	testbed_hooks_at_start = testbed_prepare_hooks(tb);
	ledger_begin();
	/* no ledger point: ledger_begin() has just read */
	tb->base = twin_stats(tb->t.stats);
	tb->up = true;
	return 0;
}

/*
 * Give tb's open file the state shape (MMAPDEMO_IOC_SET_STATE), after
 * testbed_setup() and before the test maps anything.  NONE: the twin's
 * vm_ops have no ->open, ->close or ->mapped (driver/uapi/mmapdemo.h), so
 * no state objects and nothing for testbed_teardown() to pair up.  0, or
 * the return of a failed ASSERT.
 */
static inline int testbed_set_state(struct __test_metadata *_metadata,
				    struct testbed *tb, __u32 shape)
{
	ASSERT_EQ(0, ioctl(tb->fd, MMAPDEMO_IOC_SET_STATE, &shape))
		TH_LOG("SET_STATE %u: %s", shape, strerror(errno));
	tb->shape = shape;
	if (shape == MMAPDEMO_STATE_NONE)
		tb->state = 0;
	return 0;
}

/*
 * The ledger's last read, every mapping of the test gone.  A prepare twin
 * whose hook ran, on a kernel where this program measured the charge
 * bug: a charge that stayed is consistent with that bug (a failed
 * private writable mmap keeps its charge), and says so.
 */
static inline void testbed_ledger_end(struct __test_metadata *_metadata,
				      const struct testbed *tb)
{
	bool hooked = testbed_prepare_hooks(tb) != testbed_hooks_at_start;
	char name[256];

	snprintf(name, sizeof(name), "%s:%s.%s(%s,%s)",
		 program_invocation_short_name, _metadata->fixture->name,
		 _metadata->name, tb->t.prepare ? "prepare" : "legacy",
		 tb->t.fs ? tb->t.fs : "dev");
	ledger_end(name, hooked &&
			 kbug_verdict_of(KBUG_CHARGE_KEPT) == KBUG_PRESENT ?
			 "consistent with kernel-bug charge-kept" : NULL);
}

/*
 * Every mapping of the test is gone: the state objects are back at their
 * baseline (the test's own start, so that a leak fails the test that made
 * it and not every later one), and there was one ->close per VMA ever
 * made - by ->mapped (prepare) or .mmap (legacy), or by ->open on a split
 * or fork (include/linux/mm.h: vm_operations_struct) - less those that
 * the kernel never closes.  Then the mounts go.
 */
static inline void testbed_teardown(struct __test_metadata *_metadata,
				    struct testbed *tb)
{
	struct mmapdemo_stats end;

	if (!tb->up)
		return;
	close(tb->fd);
	/* a mount's defaults armed by a test that failed half-way */
	if (tb->t.root >= 0) {
		twin_set_fail(tb->t.root, MMAPDEMO_FAIL_NONE, 0, 0);
		twin_set_mode(tb->t.root, MMAPDEMO_MODE_FAULT);
	}
	/* no ledger point: testbed_ledger_end() reads, below */
	end = twin_stats(tb->t.stats);
	if (tb->t.backend == BACKEND_FUSE) {
		/*
		 * FOPEN_PASSTHROUGH: fs/fuse/file.c:fuse_file_read_iter and
		 * fuse_file_write_iter go to the backing file
		 * (fuse_passthrough_read_iter, _write_iter), never to the
		 * server, and an mmap() maps the backing file (fuse.c).
		 */
		EXPECT_EQ(0, tb->t.srv.counts->op[FUSE_READ])
			TH_LOG("the kernel read through the server: no passthrough");
		EXPECT_EQ(0, tb->t.srv.counts->op[FUSE_WRITE]);
	}
	EXPECT_EQ(tb->base.live_objects + tb->orphans, end.live_objects);
	/*
	 * NONE: vm_ops without ->open, ->close and ->mapped (driver/
	 * chardev_*.c, fs_*.c), whatever the kernel split, merged or forked
	 */
	if (tb->shape == MMAPDEMO_STATE_NONE) {
		EXPECT_EQ(0, DELTA(tb->base, end, vm_open));
		EXPECT_EQ(0, DELTA(tb->base, end, vm_close));
		EXPECT_EQ(0, DELTA(tb->base, end, mapped_calls));
	}
	/* without ->mapped nothing counts the new VMAs */
	if (tb->state)
		EXPECT_EQ(DELTA(tb->base, end, vm_close),
			  (tb->t.prepare ? DELTA(tb->base, end, mapped_calls) :
					   DELTA(tb->base, end, hook_calls)) +
			  DELTA(tb->base, end, vm_open) - tb->unclosed);
	/* the ledger's last read before the mounts go: hooks still counted */
	testbed_ledger_end(_metadata, tb);
	EXPECT_EQ(0, target_down(&tb->t)) TH_LOG("umount: %s %s",
						 strerror(errno), tb->t.srv.why);
	tb->up = false;
}

/*
 * The variants pfx##prepare##sfx and pfx##legacy##sfx of fixture f: the
 * two twins, each with .prepare and the designated initializers that
 * follow (pfx, sfx: name parts, either may be empty).
 */
#define TWIN_PAIR(f, pfx, sfx, ...)					\
	FIXTURE_VARIANT_ADD(f, pfx##prepare##sfx) {			\
		.prepare = true, __VA_ARGS__				\
	};								\
	FIXTURE_VARIANT_ADD(f, pfx##legacy##sfx) {			\
		.prepare = false, __VA_ARGS__				\
	};

/*
 * The fixture of a program that asks its questions of both twins on one
 * backend: variants prepare and legacy, each test on a testbed in FAULT
 * mode with a file (or buffer) of pages pages, checked by the teardown.
 * The tests see self->tb and variant->prepare.
 */
#define TWIN_FIXTURE(name, be, pages)					\
	FIXTURE(name) {							\
		struct testbed tb;					\
	};								\
	FIXTURE_VARIANT(name) {						\
		bool prepare;						\
	};								\
	TWIN_PAIR(name, , , )						\
	FIXTURE_SETUP(name)						\
	{								\
		testbed_setup(_metadata, &self->tb, (be),		\
			      variant->prepare, MMAPDEMO_MODE_FAULT,	\
			      (pages));					\
	}								\
	FIXTURE_TEARDOWN(name)						\
	{								\
		testbed_teardown(_metadata, &self->tb);			\
	}

/*
 * The struct of the variants below, for a fixture of its own that has
 * only some of them (failnth.c: TWIN_NOCLOSE_VARIANTS alone).
 */
#define TWIN_VARIANT(f)							\
	FIXTURE_VARIANT(f) {						\
		enum backend backend;					\
		bool prepare;						\
		__u32 mode;						\
		__u32 state;						\
	}

/*
 * The variants twin x mode x backend of fixture f, and their struct
 * { backend, prepare, mode, state }: each twin in every mode of the
 * character device (named dev##prepare_fault ..., dev a prefix: empty or
 * dev_), and in FAULT and FLAGS, the modes the filesystem twins have, on
 * a file of theirs (fs_prepare_fault ...).  In this order, so that KTAP
 * lists them as it always has.  state is 0, MMAPDEMO_STATE_PER_VMA, the
 * default shape of an open file (TWIN_NOCLOSE_VARIANTS adds others).
 */
#define TWIN_MODE_VARIANTS(f, dev)					\
	TWIN_VARIANT(f);						\
	TWIN_PAIR(f, dev, _fault, .backend = BACKEND_DEV,		\
		  .mode = MMAPDEMO_MODE_FAULT)				\
	TWIN_PAIR(f, dev, _flags, .backend = BACKEND_DEV,		\
		  .mode = MMAPDEMO_MODE_FLAGS)				\
	TWIN_PAIR(f, dev, _remap, .backend = BACKEND_DEV,		\
		  .mode = MMAPDEMO_MODE_REMAP)				\
	TWIN_PAIR(f, dev, _pages, .backend = BACKEND_DEV,		\
		  .mode = MMAPDEMO_MODE_PAGES)				\
	TWIN_PAIR(f, fs_, _fault, .backend = BACKEND_FS,		\
		  .mode = MMAPDEMO_MODE_FAULT)				\
	TWIN_PAIR(f, fs_, _flags, .backend = BACKEND_FS,		\
		  .mode = MMAPDEMO_MODE_FLAGS)

/*
 * The ->close-less twins beside TWIN_MODE_VARIANTS(f, dev): the same
 * variants in FAULT and FLAGS (NONE refuses REMAP and PAGES) with state
 * MMAPDEMO_STATE_NONE, named ..._noclose (dev##prepare_fault_noclose,
 * fs_legacy_flags_noclose ...).  The fixture's setup gives the file that
 * shape (testbed_set_state).
 */
#define TWIN_NOCLOSE_VARIANTS(f, dev)					\
	TWIN_PAIR(f, dev, _fault_noclose, .backend = BACKEND_DEV,	\
		  .mode = MMAPDEMO_MODE_FAULT,				\
		  .state = MMAPDEMO_STATE_NONE)				\
	TWIN_PAIR(f, dev, _flags_noclose, .backend = BACKEND_DEV,	\
		  .mode = MMAPDEMO_MODE_FLAGS,				\
		  .state = MMAPDEMO_STATE_NONE)				\
	TWIN_PAIR(f, fs_, _fault_noclose, .backend = BACKEND_FS,	\
		  .mode = MMAPDEMO_MODE_FAULT,				\
		  .state = MMAPDEMO_STATE_NONE)				\
	TWIN_PAIR(f, fs_, _flags_noclose, .backend = BACKEND_FS,	\
		  .mode = MMAPDEMO_MODE_FLAGS,				\
		  .state = MMAPDEMO_STATE_NONE)

/*
 * 6.16 refuses a file with only .mmap_prepare where it checks for
 * f_op->mmap: fs/backing-file.c:backing_file_mmap with -ENODEV (asserted
 * by stacked.c), fs/binfmt_elf.c:load_elf_binary with -ENOEXEC; 6.17
 * asks can_mmap_file() instead.  SKIP a test that needs a stacked mmap
 * of a prepare twin there; -1 after the SKIP.
 */
static inline int skip_without_stacked_prepare(struct __test_metadata *_metadata,
					       bool prepare)
{
	if (prepare && !has_feature(MMAPDEMO_FEAT_STACKED_PREPARE))
		SKIP(return -1, "no can_mmap_file() (6.17): backing_file_mmap "
		     "refuses a file without .mmap, ENODEV (asserted by stacked.c)");
	return 0;
}

/*
 * The counters across one mmap() that failed in the hook or after it
 * (MMAPDEMO_IOC_SET_FAIL): mapped ->mapped calls and close ->close calls
 * for it, from b before to a after.
 */
static inline void expect_unwound_counts(struct __test_metadata *_metadata,
					 const struct mmapdemo_stats *b,
					 const struct mmapdemo_stats *a,
					 int mapped, int close)
{
	/* every injected failure fires in the hook or after it */
	EXPECT_EQ(1, DELTA(*b, *a, hook_calls));
	EXPECT_EQ(mapped, DELTA(*b, *a, mapped_calls));
	/* include/linux/mm.h (vm_operations_struct): no ->open on first map */
	EXPECT_EQ(0, DELTA(*b, *a, vm_open));
	EXPECT_EQ(close, DELTA(*b, *a, vm_close));
	/* nothing the twin allocated outlives the failure */
	EXPECT_EQ(b->live_objects, a->live_objects);
	/* driver/common.c:mmapdemo_fail_at: counted once, when it fires */
	EXPECT_EQ(1, DELTA(*b, *a, injected));
}

/*
 * anon_four()'s middle pages were zapped before the failure (mm/vma.c:
 * vms_clean_up_area): a hole, the outer pages keep their data.
 */
static inline void expect_hole(struct __test_metadata *_metadata, char *base)
{
	struct old_pages o;

	old_pages_read(base, &o);
	EXPECT_TRUE(o.intact[0]);
	EXPECT_EQ(SIGSEGV, o.sig[1]);
	EXPECT_EQ(SIGSEGV, o.sig[2]);
	EXPECT_TRUE(o.intact[3]);
	/* no VMA in the hole; the two outer anonymous pieces remain */
	EXPECT_EQ(0, o.vmas_middle);
	EXPECT_EQ(2, o.vmas);
}

#endif
