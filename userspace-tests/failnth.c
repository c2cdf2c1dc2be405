// SPDX-License-Identifier: GPL-2.0
/*
 * The fail-nth sweep: every allocation a call makes, failed in turn.
 *
 * For each twin (both character devices, both filesystems), each mode and
 * each scenario below, the scenario's one call runs with
 * /proc/thread-self/fail-nth armed at N = 1, 2, ...: the Nth fault
 * injection check of this task fails (lib/fault-inject.c:should_fail_ex
 * honours current->fail_nth before anything else and counts it down).
 * With failslab and fail_page_alloc set so that GFP_KERNEL and order-0
 * allocations count (mm/failslab.c:should_failslab,
 * mm/fail_page_alloc.c:should_fail_alloc_page skip reclaiming requests
 * while ignore-gfp-wait is set, and orders below min-order), that is every
 * slab and page allocation of the call, the kernel's own (maple tree,
 * vm_area_struct, page tables) and the twin's (its per-mapping state).
 * The sweep of a call is complete when fail-nth reads back non-zero: the
 * call made fewer than N checks and nothing was injected
 * (fs/proc/base.c:proc_fail_nth_read).
 *
 * After every attempt the program asserts
 *  - the call succeeded, or failed with an errno it documents;
 *  - the VMAs over the scenario's window are one of the outcomes the
 *    kernel's unwind promises for it (each struct outcome cites where);
 *    anything else - a VMA a failed call left behind, half a change - fails
 *    the test, naming N;
 *  - every page still mapped reads back its file offset's pattern;
 *  - once the attempt's mappings are gone, the twin's live_objects is back
 *    at its baseline and there was one ->close per VMA made;
 *  - the kernel logged no report (/dev/kmsg).
 *
 * One line "# failnth: BACKEND TWIN MODE SCENARIO points=P failed=F
 * absorbed=A classes=C:n,... cap=... finding=N" per test is what
 * scripts/failnth-table turns into docs/failnth.md's table: P injection points,
 * F of them failed the call, A the kernel absorbed (the call still
 * succeeded); cap says where a cap stopped the sweep (none, or N above
 * FAILNTH_MAX_N, or the run time); finding, the N at which an attempt
 * failed a check (0: none), which the test's log then describes.
 *
 * Caps: N at most FAILNTH_MAX_N per call (shown as cap=N, the test
 * passes); the whole program at most FAILNTH_SECONDS (environment,
 * default 1500) of sweeping, a test at most FAILNTH_TEST_SECONDS: a sweep
 * either run-time cap stops, or that it leaves no time to start, fails.
 * On a kernel without CONFIG_FAULT_INJECTION (every Debian kernel) every
 * test SKIPs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fixture.h"

#define FAULT	MMAPDEMO_MODE_FAULT
#define FLAGS	MMAPDEMO_MODE_FLAGS
#define REMAP	MMAPDEMO_MODE_REMAP
#define PAGES	MMAPDEMO_MODE_PAGES

#define FAIL_NTH		"/proc/thread-self/fail-nth"
#define FAULT_DIR		"/sys/kernel/debug/"
#define FAILNTH_MAX_N		300
#define FAILNTH_SECONDS		1500
#define FAILNTH_TEST_SECONDS	300
#define WIN			8	/* pages in a scenario's window */
#define FILE_PAGES		6	/* of the twin's file or buffer */
#define MAX_OUTCOMES		6

/* The ledger of a sweep: at its start and its end only (ledger.h). */
static void __attribute__((constructor)) failnth_ledger(void)
{
	ledger_points(false);
}

/* Page i of the twin's file or buffer holds this byte (scenario.c:target_up). */
#define PATTERN(pgoff)		('a' + (pgoff))

static struct timespec t0;

/* The sweeping budget counts from the start of the program. */
static void __attribute__((constructor)) failnth_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
}

static double seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - t->tv_sec + (now.tv_nsec - t->tv_nsec) / 1e9;
}

static long budget(void)
{
	const char *s = getenv("FAILNTH_SECONDS");

	return s ? atol(s) : FAILNTH_SECONDS;
}

/*
 * The debugfs knobs the sweep needs, and what they were.  probability
 * stays 0: fail-nth works without it (lib/fault-inject.c:should_fail_ex
 * checks fail_nth first), so nothing fails but the Nth.  verbose 0: no
 * "FAULT_INJECTION: forcing a failure" and, at 2 (the default,
 * FAULT_ATTR_INITIALIZER), no stack dump per failure (fail_dump) - the
 * host counts a "Call Trace" as a kernel report.
 */
static const struct knob {
	const char *path;
	const char *value;
} knobs[] = {
	{ FAULT_DIR "failslab/ignore-gfp-wait", "N" },
	{ FAULT_DIR "failslab/verbose", "0" },
	{ FAULT_DIR "fail_page_alloc/ignore-gfp-wait", "N" },
	{ FAULT_DIR "fail_page_alloc/min-order", "0" },
	{ FAULT_DIR "fail_page_alloc/verbose", "0" },
};

#define NR_KNOBS	(sizeof(knobs) / sizeof(knobs[0]))

static int read_str(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/* One expected state of the window after the call. */
struct outcome {
	const char *cls;	/* its name in the table */
	bool ok;		/* the call succeeded */
	const char *layout;	/* describe() of the window */
};

/* What one attempt looked like. */
struct attempt {
	int n;
	int ret, err;		/* the call's result, and errno */
	bool injected;		/* fail-nth read back 0 */
	char layout[256];
	char why[320];		/* a check that failed, or "" */
};

/* What a sweep arms and must put back: fail-nth, the knobs, /dev/kmsg. */
struct armory {
	int nth, kmsg;		/* fail-nth of this thread; /dev/kmsg */
	char saved[NR_KNOBS][32];
	bool knobs_set;
};

/*
 * SKIP where fail-nth cannot sweep: a kernel without fault injection, or
 * the program's run-time cap spent.  0, or -1 after a SKIP.
 */
static int sweep_usable(struct __test_metadata *_metadata)
{
	if (access(FAIL_NTH, W_OK))
		SKIP(return -1, "no %s: a kernel without CONFIG_FAULT_INJECTION "
		     "(every Debian kernel); the sweep needs the debug kernel",
		     FAIL_NTH);
	if (access(FAULT_DIR "failslab", F_OK) ||
	    access(FAULT_DIR "fail_page_alloc", F_OK))
		SKIP(return -1, "no failslab or fail_page_alloc in debugfs "
		     "(CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, "
		     "CONFIG_FAULT_INJECTION_DEBUG_FS)");
	/* a sweep that never ran is no result: it fails (nothing is set up) */
	if (seconds_since(&t0) > budget()) {
		TH_LOG("run-time cap: FAILNTH_SECONDS=%ld spent before this sweep",
		       budget());
		_metadata->exit_code = KSFT_FAIL;
		return -1;
	}
	return 0;
}

/*
 * Whether a cap stops a sweep before attempt n: "N" above FAILNTH_MAX_N,
 * "time" past the program's or the test's time, else "none".
 */
static const char *sweep_cap(int n, const struct timespec *start)
{
	if (n > FAILNTH_MAX_N)
		return "N";
	if (seconds_since(&t0) > budget() ||
	    seconds_since(start) > FAILNTH_TEST_SECONDS)
		return "time";
	return "none";
}

static void armory_init(struct armory *ar)
{
	ar->nth = -1;
	ar->kmsg = -1;
	ar->knobs_set = false;
}

/* Set the knobs (saving them), open fail-nth and /dev/kmsg. */
static void armory_setup(struct __test_metadata *_metadata, struct armory *ar)
{
	unsigned int i;

	/* nothing but fail-nth may inject: every probability is 0 */
	ASSERT_EQ(0, read_str(FAULT_DIR "failslab/probability",
			      ar->saved[0], sizeof(ar->saved[0])));
	ASSERT_STREQ("0", ar->saved[0]);
	ASSERT_EQ(0, read_str(FAULT_DIR "fail_page_alloc/probability",
			      ar->saved[0], sizeof(ar->saved[0])));
	ASSERT_STREQ("0", ar->saved[0]);
	for (i = 0; i < NR_KNOBS; i++)
		ASSERT_EQ(0, read_str(knobs[i].path, ar->saved[i],
				      sizeof(ar->saved[i])))
			TH_LOG("knob %u: %s", i, strerror(errno));
	ar->knobs_set = true;
	for (i = 0; i < NR_KNOBS; i++)
		ASSERT_EQ(0, write_str(knobs[i].path, knobs[i].value))
			TH_LOG("knob %u: %s", i, strerror(errno));
	ar->nth = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, ar->nth);
	/* only what the sweep makes the kernel say */
	ar->kmsg = kmsg_open();
	ASSERT_LE(0, ar->kmsg);
}

static void armory_teardown(struct __test_metadata *_metadata,
			    struct armory *ar)
{
	unsigned int i;

	if (ar->nth >= 0) {
		pwrite(ar->nth, "0", 1, 0);
		close(ar->nth);
	}
	if (ar->kmsg >= 0)
		close(ar->kmsg);
	for (i = 0; ar->knobs_set && i < NR_KNOBS; i++)
		EXPECT_EQ(0, write_str(knobs[i].path, ar->saved[i]));
}

/*
 * Arm fail-nth at n: 0, or -1 with why set.  disarm() reads back what is
 * left of the count (fs/proc/base.c:proc_fail_nth_read) - 0 once the Nth
 * check failed - and disarms: was anything injected?
 */
static int arm(struct armory *ar, int n, char *why, size_t size)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%d", n);

	if (pwrite(ar->nth, num, len, 0) == len)
		return 0;
	snprintf(why, size, "arming fail-nth: %s", strerror(errno));
	return -1;
}

static bool disarm(struct armory *ar, char *why, size_t size)
{
	char left[16] = "";

	if (pread(ar->nth, left, sizeof(left) - 1, 0) < 0)
		snprintf(why, size, "reading fail-nth: %s", strerror(errno));
	pwrite(ar->nth, "0", 1, 0);
	return atoi(left) == 0;
}

/*
 * Kernel reports since the last look: the first line that is one, or "".
 * KASAN and lockdep say "BUG:" or "WARNING:", kmemleak "unreferenced
 * object" (when scanned), refcount_t its own; "INFO:" is hung tasks and
 * RCU stalls (vma.c:kmsg_report).
 */
static void kernel_reports(struct armory *ar, char *why, size_t size)
{
	char line[160];

	while (kmsg_report(ar->kmsg, line, sizeof(line)))
		if (!why[0])
			snprintf(why, size, "kernel: %.140s", line);
}

FIXTURE(failnth) {
	struct testbed tb;
	struct armory ar;
	/* one attempt's world */
	/*
	 * a PMD of its own (vma.h:reserve_aligned), so that each attempt
	 * starts without page tables there and allocates them again;
	 * page i of the window at base + i pages
	 */
	char *base;
	char *addr;		/* what describe() looks at: base, or new_mmap's */
	int win;		/* pages from addr it looks at: WIN, or 2 */
	__u32 mode;
	int uffd;
	const char *child_layout;	/* what the child of fork must see */
	pid_t child;
	char maps_before[32768], maps_after[32768];
};

/* fixture.h: every mode of the character device, FAULT and FLAGS of a file */
TWIN_MODE_VARIANTS(failnth, dev_)

static const char *const mode_names[] = {
	[FAULT] = "FAULT", [FLAGS] = "FLAGS", [REMAP] = "REMAP", [PAGES] = "PAGES",
};

/*
 * VM_SPECIAL flags (REMAP: io pf de dd; PAGES: mm) keep a VMA from every
 * merge: mm/vma.c:vma_merge_new_range and vma_merge_existing_range return
 * early on VMA_SPECIAL_FLAGS.
 */
static bool special(const FIXTURE_VARIANT(failnth) *variant)
{
	return variant->mode == REMAP || variant->mode == PAGES;
}

/*
 * The set-up of a failnth sweep (and of failnth_noclose's, below): the
 * twin in the variant's mode and state shape, its pattern, the knobs.
 */
static void failnth_up(struct __test_metadata *_metadata,
		       FIXTURE_DATA(failnth) *self,
		       const FIXTURE_VARIANT(failnth) *variant)
{
	size_t psz = getpagesize();
	unsigned int i;
	char *p;

	armory_init(&self->ar);
	self->uffd = -1;
	self->child = 0;
	self->mode = variant->mode;
	if (sweep_usable(_metadata))
		return;
	if (testbed_setup(_metadata, &self->tb, variant->backend,
			  variant->prepare, variant->mode, FILE_PAGES))
		return;
	if (variant->state)
		testbed_set_state(_metadata, &self->tb, variant->state);
	if (variant->backend == BACKEND_DEV) {
		/* the buffer gets the file's pattern: page i holds PATTERN(i) */
		p = mmap(NULL, FILE_PAGES * psz, PROT_READ | PROT_WRITE,
			 MAP_SHARED, self->tb.fd, 0);
		ASSERT_NE(MAP_FAILED, p);
		for (i = 0; i < FILE_PAGES; i++)
			memset(p + i * psz, PATTERN(i), psz);
		ASSERT_EQ(0, munmap(p, FILE_PAGES * psz));
	}
	armory_setup(_metadata, &self->ar);
}

static void failnth_down(struct __test_metadata *_metadata,
			 FIXTURE_DATA(failnth) *self)
{
	armory_teardown(_metadata, &self->ar);
	testbed_teardown(_metadata, &self->tb);
}

FIXTURE_SETUP(failnth)
{
	failnth_up(_metadata, self, variant);
}

FIXTURE_TEARDOWN(failnth)
{
	failnth_down(_metadata, self);
}

/*
 * The window [addr, addr + WIN pages) as "S-E:K ..." in pages from addr,
 * one entry per VMA: K is "res" for the PROT_NONE reservation (adjacent
 * pieces of it as one: a split of it is no change), else "f" + the file
 * page offset + "w" if writable or "-" + "u" if registered with
 * userfaultfd in write-protect mode ("uw" in VmFlags,
 * fs/proc/task_mmu.c:show_smap_vma_flags).
 */
static void describe(FIXTURE_DATA(failnth) *self, char *buf, size_t size)
{
	unsigned long a = (unsigned long)self->addr;
	size_t psz = getpagesize(), len = 0;
	struct vma v[WIN * 2];
	long res_end = -1;
	int n, i;

	buf[0] = '\0';
	n = vmas_in(a, a + self->win * psz, v, WIN * 2);
	for (i = 0; i < n; i++) {
		unsigned long s = v[i].start < a ? a : v[i].start;
		unsigned long e = v[i].end > a + self->win * psz ?
				  a + self->win * psz : v[i].end;
		long sp = (s - a) / psz, ep = (e - a) / psz;

		if (!vma_has_flag(&v[i], "sh")) {
			if (res_end == sp) {	/* the reservation, continued */
				len -= snprintf(NULL, 0, "%ld:res", res_end);
				len += snprintf(buf + len, size - len, "%ld:res", ep);
			} else {
				len += snprintf(buf + len, size - len, "%s%ld-%ld:res",
						len ? " " : "", sp, ep);
			}
			res_end = ep;
			continue;
		}
		len += snprintf(buf + len, size - len, "%s%ld-%ld:f%llu%s%s",
				len ? " " : "", sp, ep,
				(v[i].offset + (s - v[i].start)) / psz,
				vma_has_flag(&v[i], "wr") ? "w" : "-",
				vma_has_flag(&v[i], "uw") ? "u" : "");
	}
}

/*
 * Every page of the twin in the window reads back the pattern of its file
 * offset; a page of the reservation or of no VMA is not read.  The first
 * page that does not, or "".
 */
static void check_data(FIXTURE_DATA(failnth) *self, char *why, size_t size)
{
	unsigned long a = (unsigned long)self->addr;
	size_t psz = getpagesize();
	struct vma v[WIN * 2];
	unsigned char val;
	unsigned long p;
	int n, i, sig;

	n = vmas_in(a, a + self->win * psz, v, WIN * 2);
	for (i = 0; i < n; i++) {
		if (!vma_has_flag(&v[i], "sh"))
			continue;
		for (p = v[i].start < a ? a : v[i].start;
		     p < v[i].end && p < a + self->win * psz; p += psz) {
			unsigned long pgoff = (v[i].offset + p - v[i].start) / psz;

			sig = probe_read((void *)p, &val);
			if (sig || val != PATTERN(pgoff)) {
				snprintf(why, size, "page %lu (offset %lu) reads %s%#x",
					 (p - a) / psz, pgoff,
					 sig ? strsignal(sig) : "", sig ? 0 : val);
				return;
			}
		}
	}
}

/* A scenario: its set-up, its one call, and what may come of it. */
struct scenario {
	const char *name;
	/* the state before the call; 0, or -1 with errno */
	int (*setup)(FIXTURE_DATA(failnth) *self);
	/* the call; 0, or -1 with errno */
	int (*call)(FIXTURE_DATA(failnth) *self);
	/* errnos the call documents for an allocation failure */
	int errnos[2];
	/*
	 * new_mmap: a failure must leave /proc/self/maps as it was; the
	 * layout of a failure is "unchanged" or "changed"
	 */
	bool snapshot;
	/* a child's exit status to check after the call (fork) */
	bool child;
};

static void attempt_cleanup(FIXTURE_DATA(failnth) *self)
{
	int status;

	if (self->child > 0)
		waitpid(self->child, &status, 0);
	self->child = 0;
	if (self->uffd >= 0)
		close(self->uffd);
	self->uffd = -1;
	if (self->addr && self->addr != self->base)
		munmap(self->addr, 2 * getpagesize());
	munmap(self->base, PMD_SZ);
	self->addr = NULL;
}

/* Arm fail-nth at at->n, make the call, disarm; was anything injected? */
static void arm_and_call(FIXTURE_DATA(failnth) *self,
			 const struct scenario *s, struct attempt *at)
{
	if (arm(&self->ar, at->n, at->why, sizeof(at->why)))
		return;
	at->ret = s->call(self);
	at->err = errno;
	at->injected = disarm(&self->ar, at->why, sizeof(at->why));
}

/* Which outcome this is; NULL if none. */
static const struct outcome *classify(const struct outcome *out,
				      const struct attempt *at)
{
	int i;

	for (i = 0; i < MAX_OUTCOMES && out[i].cls; i++)
		if (out[i].ok == !at->ret && !strcmp(out[i].layout, at->layout))
			return &out[i];
	return NULL;
}

/* The outcomes, for a message: "done 0-4:f0w 4-8:res | ...". */
static void list_outcomes(const struct outcome *out, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < MAX_OUTCOMES && out[i].cls && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s(%s) %s",
				i ? " | " : "", out[i].cls,
				out[i].ok ? "ok" : "fails", out[i].layout);
}

/*
 * One attempt at N = at->n, from a fresh set-up to the counters after
 * the clean-up.  at->why says what went wrong, if anything.
 */
static void attempt(FIXTURE_DATA(failnth) *self,
		    const FIXTURE_VARIANT(failnth) *variant,
		    const struct scenario *s, const struct outcome *out,
		    struct attempt *at, const struct outcome **cls)
{
	struct mmapdemo_stats b, mid, a;
	long created, extra, unclosed = 0;
	bool action_failed;
	int status, i;
	bool errno_ok;

	*cls = NULL;
	self->base = reserve_aligned();
	if (self->base == MAP_FAILED) {
		snprintf(at->why, sizeof(at->why), "reserve: %s", strerror(errno));
		return;
	}
	self->addr = self->base;
	self->win = WIN;
	b = target_stats(&self->tb.t);
	if (s->setup && s->setup(self)) {
		snprintf(at->why, sizeof(at->why), "set-up: %s", strerror(errno));
		attempt_cleanup(self);
		return;
	}
	if (s->snapshot &&
	    maps_snapshot(self->maps_before, sizeof(self->maps_before)) < 0) {
		snprintf(at->why, sizeof(at->why), "maps snapshot too big");
		attempt_cleanup(self);
		return;
	}
	mid = target_stats(&self->tb.t);
	arm_and_call(self, s, at);
	if (at->ret && s->snapshot) {
		maps_snapshot(self->maps_after, sizeof(self->maps_after));
		snprintf(at->layout, sizeof(at->layout), "%s",
			 strcmp(self->maps_before, self->maps_after) ?
			 "changed" : "unchanged");
	} else {
		describe(self, at->layout, sizeof(at->layout));
	}
	a = target_stats(&self->tb.t);
	/*
	 * A failed legacy .mmap leaves the VMA with the dummy vm_ops of
	 * mm/internal.h:mmap_file, no ->close; after .mmap nothing in
	 * mm/vma.c:__mmap_new_vma fails (vma_iter_prealloc comes first).
	 */
	if (!variant->prepare && at->ret && DELTA(mid, a, hook_calls))
		unclosed = DELTA(mid, a, hook_calls);
	errno_ok = !at->ret;
	for (i = 0; i < 2 && !errno_ok; i++)
		errno_ok = s->errnos[i] && at->err == s->errnos[i];
	if (!at->why[0] && !errno_ok)
		snprintf(at->why, sizeof(at->why), "errno %s (%d)",
			 strerror(at->err), at->err);
	*cls = classify(out, at);
	if (!at->why[0] && !*cls)
		snprintf(at->why, sizeof(at->why), "%s %s",
			 at->ret ? "failed, leaving" : "succeeded, leaving",
			 at->layout);
	if (!at->why[0])
		check_data(self, at->why, sizeof(at->why));
	if (s->child && !at->ret) {
		/* the child checks itself (fork_child) and exits */
		waitpid(self->child, &status, 0);
		self->child = 0;
		if (!at->why[0] && (!WIFEXITED(status) || WEXITSTATUS(status)))
			snprintf(at->why, sizeof(at->why),
				 "the child found its copy wrong (status %#x)",
				 status);
	}
	/*
	 * A prepare mmap whose action failed (REMAP, PAGES: page tables)
	 * had its VMA inserted with our vm_ops and no ->mapped yet:
	 * mm/util.c:mmap_action_finish do_munmap()s it, and ->close runs
	 * for a VMA ->mapped never saw (vm_private_data NULL).
	 */
	action_failed = variant->prepare && special(variant) && at->ret &&
			DELTA(mid, a, hook_calls) && !DELTA(mid, a, mapped_calls);
	attempt_cleanup(self);
	a = target_stats(&self->tb.t);
	self->tb.unclosed += unclosed;
	/* ->mapped (prepare) or a .mmap that worked (legacy) made a VMA */
	created = variant->prepare ? DELTA(b, a, mapped_calls) :
				     DELTA(b, a, hook_calls) - unclosed;
	extra = DELTA(b, a, vm_close) - created - DELTA(b, a, vm_open);
	if (!at->why[0] && a.live_objects != self->tb.base.live_objects)
		snprintf(at->why, sizeof(at->why),
			 "live_objects %llu after clean-up, %llu before",
			 (unsigned long long)a.live_objects,
			 (unsigned long long)self->tb.base.live_objects);
	if (!at->why[0] && self->tb.state &&
	    !(extra == 0 || (extra == 1 && action_failed)))
		snprintf(at->why, sizeof(at->why),
			 "%ld ->close for %ld VMAs made and %ld ->open",
			 DELTA(b, a, vm_close), created, DELTA(b, a, vm_open));
	/* for testbed_teardown's count: that VMA was made, and closed */
	if (extra == 1 && action_failed)
		self->tb.unclosed--;
	kernel_reports(&self->ar, at->why, sizeof(at->why));
}

/*
 * Sweep scenario s: N = 1, 2, ... until nothing is injected, or a cap.
 * Every attempt must end in one of out[]; the first that does not fails
 * the test, naming N.
 */
static void sweep(struct __test_metadata *_metadata,
		  FIXTURE_DATA(failnth) *self,
		  const FIXTURE_VARIANT(failnth) *variant,
		  const struct scenario *s, const struct outcome *out)
{
	int counts[MAX_OUTCOMES] = { 0 }, points = 0, failed = 0, i, n;
	const struct outcome *cls;
	struct timespec start;
	char classes[256] = "", list[512];
	const char *cap = "none";
	struct attempt at;
	size_t len = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (n = 1; !strcmp(cap = sweep_cap(n, &start), "none"); n++) {
		memset(&at, 0, sizeof(at));
		at.n = n;
		attempt(self, variant, s, out, &at, &cls);
		/* the call as it is must work, and be the first outcome */
		if (!at.why[0] && !at.injected && cls != out)
			snprintf(at.why, sizeof(at.why),
				 "uninjected, the call ends %s, not %s",
				 cls ? cls->cls : "as nothing expected",
				 out[0].cls);
		if (at.why[0] || !at.injected)
			break;
		points++;
		failed += !!at.ret;
		counts[cls - out]++;
	}
	for (i = 0; i < MAX_OUTCOMES && out[i].cls; i++)
		if (counts[i])
			len += snprintf(classes + len, sizeof(classes) - len,
					"%s%s:%d", len ? "," : "", out[i].cls,
					counts[i]);
	/* finding=N: the sweep stopped at N, on what the log says above */
	ksft_print_msg("failnth: %s %s %s %s points=%d failed=%d absorbed=%d classes=%s cap=%s finding=%d\n",
		       variant->backend == BACKEND_DEV ? "dev" : "fs",
		       variant->prepare ? "prepare" : "legacy",
		       mode_names[variant->mode], s->name, points, failed,
		       points - failed, len ? classes : "-", cap,
		       at.why[0] ? n : 0);
	fflush(stdout);
	if (at.why[0]) {
		list_outcomes(out, list, sizeof(list));
		TH_LOG("N=%d (%s, %s): %s", n, at.injected ?
		       "injected" : "nothing injected", at.ret ?
		       strerror(at.err) : "call succeeded", at.why);
		TH_LOG("expected one of: %s", list);
		ASSERT_EQ(0, 1) TH_LOG("%s: finding at N=%d", s->name, n);
	}
	/* the points past a run-time cap went unswept: no result, a failure */
	ASSERT_STRNE("time", cap)
		TH_LOG("%s: a run-time cap (FAILNTH_SECONDS=%ld, %d s a test) stopped the sweep at N=%d",
		       s->name, budget(), FAILNTH_TEST_SECONDS, n);
}

/* Map pages [first, first + n) of the twin at base + first pages. */
static int map_twin(FIXTURE_DATA(failnth) *self, int first, int n)
{
	return map_at(self->tb.fd, self->base, first, n,
		      PROT_READ | PROT_WRITE) == MAP_FAILED ? -1 : 0;
}

static int map_two(FIXTURE_DATA(failnth) *self)
{
	return map_twin(self, 0, 2);
}

static int map_three(FIXTURE_DATA(failnth) *self)
{
	return map_twin(self, 0, 3);
}

static int map_four(FIXTURE_DATA(failnth) *self)
{
	return map_twin(self, 0, 4);
}

/* --- the kernel's own mmap hooks, as controls --------------------------- */

/*
 * The same sweep over a plain mmap() of files whose hook is the kernel's,
 * not the kit's: what it finds is the kernel's.  In 7.3 each is an
 * f_op->mmap_prepare user (on 6.16-6.18 /dev/zero still has .mmap, and
 * 6.16's ramfs and shmem too):
 *  - /dev/zero, MAP_SHARED: drivers/char/mem.c:mmap_zero_prepare ->
 *    mm/shmem.c:shmem_zero_setup_desc makes a shmem file of its own per
 *    mapping and puts it in desc->vm_file, the one hook in the tree that
 *    hands mm/vma.c:__mmap_region a file to drop on a later failure
 *    (map.file_doesnt_need_get; syzkaller's "mm/vma: fix memory leak in
 *    __mmap_region()", 6.19.13 in Debian's changelog);
 *  - /dev/zero, MAP_PRIVATE: vma_desc_set_anonymous, no file;
 *  - a memfd (shmem): mm/shmem.c:shmem_mmap_prepare;
 *  - a ramfs file: fs/ramfs/file-mmu.c, generic_file_mmap_prepare
 *    (ramfs is always built: fs/Makefile "obj-y += ramfs/").
 * After every attempt, once the mapping is gone, the inodes in use
 * (/proc/sys/fs/inode-nr, fs/inode.c:get_nr_inodes, an exact sum) must
 * not be more than before: a shmem file the kernel forgot keeps its
 * inode.  kmemleak (last) names what was leaked.  These run first, before
 * the twins' sweeps: they take seconds, and FAILNTH_SECONDS must not cap
 * them away.
 */
enum kfile { KFILE_ZERO, KFILE_MEMFD, KFILE_RAMFS };

FIXTURE(kfile) {
	struct armory ar;
	int fd, inode_nr;	/* the file; /proc/sys/fs/inode-nr */
	char dir[32];		/* the ramfs mount, or "" */
	char maps_before[32768], maps_after[32768];
};

FIXTURE_VARIANT(kfile) {
	enum kfile file;
	int flags;		/* MAP_SHARED or MAP_PRIVATE */
	const char *name;	/* in the "# failnth:" line */
	/*
	 * errnos of a failed allocation: ENOMEM; /dev/zero MAP_SHARED also
	 * ENOSPC, mm/shmem.c:__shmem_get_inode's "if (!inode) ...
	 * return ERR_PTR(-ENOSPC)" when new_inode() fails (not in mmap(2))
	 */
	int errnos[2];
};

FIXTURE_VARIANT_ADD(kfile, zero_shared) {
	.file = KFILE_ZERO, .flags = MAP_SHARED, .name = "zero-shared",
	.errnos = { ENOMEM, ENOSPC },
};
FIXTURE_VARIANT_ADD(kfile, zero_private) {
	.file = KFILE_ZERO, .flags = MAP_PRIVATE, .name = "zero-private",
	.errnos = { ENOMEM },
};
FIXTURE_VARIANT_ADD(kfile, memfd) {
	.file = KFILE_MEMFD, .flags = MAP_SHARED, .name = "memfd",
	.errnos = { ENOMEM },
};
FIXTURE_VARIANT_ADD(kfile, ramfs) {
	.file = KFILE_RAMFS, .flags = MAP_SHARED, .name = "ramfs",
	.errnos = { ENOMEM },
};

/* What page pgoff of the variant's file reads. */
static unsigned char kfile_byte(const FIXTURE_VARIANT(kfile) *variant,
				unsigned long pgoff)
{
	return variant->file == KFILE_ZERO ? 0 : PATTERN(pgoff);
}

static long inodes_in_use(FIXTURE_DATA(kfile) *self)
{
	char buf[64] = "";

	if (pread(self->inode_nr, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return atol(buf);
}

FIXTURE_SETUP(kfile)
{
	size_t psz = getpagesize();
	char page[4096], path[48];
	unsigned int i;

	armory_init(&self->ar);
	self->fd = -1;
	self->dir[0] = '\0';
	if (sweep_usable(_metadata))
		return;
	ASSERT_EQ(sizeof(page), psz);
	switch (variant->file) {
	case KFILE_ZERO:
		self->fd = open("/dev/zero", O_RDWR | O_CLOEXEC);
		break;
	case KFILE_MEMFD:
		self->fd = memfd_create("kfile", MFD_CLOEXEC);
		break;
	case KFILE_RAMFS:
		/* a mount namespace of this test's process, gone with it */
		ASSERT_EQ(0, unshare(CLONE_NEWNS));
		ASSERT_EQ(0, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
		snprintf(self->dir, sizeof(self->dir), "/tmp/kfile.ramfs");
		ASSERT_EQ(0, mkdir(self->dir, 0700));
		ASSERT_EQ(0, mount("ramfs", self->dir, "ramfs", 0, NULL))
			TH_LOG("mount ramfs: %s", strerror(errno));
		snprintf(path, sizeof(path), "%s/f", self->dir);
		self->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		break;
	}
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", variant->name, strerror(errno));
	for (i = 0; variant->file != KFILE_ZERO && i < FILE_PAGES; i++) {
		memset(page, PATTERN(i), psz);
		ASSERT_EQ((ssize_t)psz, pwrite(self->fd, page, psz, i * psz));
	}
	self->inode_nr = open("/proc/sys/fs/inode-nr", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->inode_nr);
	armory_setup(_metadata, &self->ar);
}

FIXTURE_TEARDOWN(kfile)
{
	armory_teardown(_metadata, &self->ar);
	if (self->fd >= 0)
		close(self->fd);
	if (self->dir[0]) {
		EXPECT_EQ(0, umount(self->dir));
		EXPECT_EQ(0, rmdir(self->dir));
	}
}

/*
 * One attempt at at->n (0: nothing armed): mmap() two pages, every page
 * read, munmap().  A failure must be one the variant documents and leave
 * /proc/self/maps as it was (no MAP_FIXED: nothing to unmap first, every
 * failure an abort, mm/vma.c:__mmap_region); then no inode more in use.
 */
static void kfile_attempt(FIXTURE_DATA(kfile) *self,
			  const FIXTURE_VARIANT(kfile) *variant,
			  struct attempt *at)
{
	size_t psz = getpagesize();
	long before, after;
	unsigned char val;
	unsigned int i;
	char *p;
	int sig;

	if (maps_snapshot(self->maps_before, sizeof(self->maps_before)) < 0) {
		snprintf(at->why, sizeof(at->why), "maps snapshot too big");
		return;
	}
	before = inodes_in_use(self);
	if (at->n && arm(&self->ar, at->n, at->why, sizeof(at->why)))
		return;
	p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, variant->flags,
		 self->fd, 0);
	at->ret = p == MAP_FAILED ? -1 : 0;
	at->err = errno;
	if (at->n)
		at->injected = disarm(&self->ar, at->why, sizeof(at->why));
	if (at->ret) {
		if (at->err != variant->errnos[0] &&
		    (!variant->errnos[1] || at->err != variant->errnos[1]))
			snprintf(at->why, sizeof(at->why), "errno %s (%d)",
				 strerror(at->err), at->err);
		maps_snapshot(self->maps_after, sizeof(self->maps_after));
		if (!at->why[0] && strcmp(self->maps_before, self->maps_after))
			snprintf(at->why, sizeof(at->why),
				 "failed, leaving /proc/self/maps changed");
	} else {
		for (i = 0; i < 2 && !at->why[0]; i++) {
			sig = probe_read(p + i * psz, &val);
			if (sig || val != kfile_byte(variant, i))
				snprintf(at->why, sizeof(at->why),
					 "page %u reads %s%#x", i,
					 sig ? strsignal(sig) : "", sig ? 0 : val);
		}
		munmap(p, 2 * psz);
	}
	after = inodes_in_use(self);
	if (!at->why[0] && (before < 0 || after > before))
		snprintf(at->why, sizeof(at->why),
			 "inode-nr %ld after clean-up, %ld before: the kernel "
			 "kept an inode of the %s", after, before,
			 at->ret ? "failed mmap" : "mapping");
	kernel_reports(&self->ar, at->why, sizeof(at->why));
}

TEST_F_TIMEOUT(kfile, new_mmap, FAILNTH_TEST_SECONDS + 60)
{
	int points = 0, failed = 0, n = 0;
	struct timespec start;
	const char *cap = "none";
	struct attempt at = { 0 };
	char classes[64] = "-";

	/* once unarmed first: /proc's own inodes for this process exist */
	kfile_attempt(self, variant, &at);
	ASSERT_EQ(0, at.ret) TH_LOG("mmap: %s", strerror(at.err));
	memset(&at, 0, sizeof(at));
	kfile_attempt(self, variant, &at);
	ASSERT_STREQ("", at.why);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (n = 1; !strcmp(cap = sweep_cap(n, &start), "none"); n++) {
		memset(&at, 0, sizeof(at));
		at.n = n;
		kfile_attempt(self, variant, &at);
		if (!at.why[0] && !at.injected && at.ret)
			snprintf(at.why, sizeof(at.why),
				 "uninjected, mmap fails: %s", strerror(at.err));
		if (at.why[0] || !at.injected)
			break;
		points++;
		failed += !!at.ret;
	}
	/* the classes of failnth's new_mmap: done, or intact (unchanged) */
	if (points - failed && failed)
		snprintf(classes, sizeof(classes), "done:%d,intact:%d",
			 points - failed, failed);
	else if (points)
		snprintf(classes, sizeof(classes), "%s:%d",
			 failed ? "intact" : "done", points);
	ksft_print_msg("failnth: kernel prepare %s new_mmap points=%d failed=%d absorbed=%d classes=%s cap=%s finding=%d\n",
		       variant->name, points, failed, points - failed,
		       classes, cap, at.why[0] ? n : 0);
	fflush(stdout);
	if (at.why[0]) {
		TH_LOG("N=%d (%s, %s): %s", n, at.injected ?
		       "injected" : "nothing injected", at.ret ?
		       strerror(at.err) : "call succeeded", at.why);
		ASSERT_EQ(0, 1) TH_LOG("%s new_mmap: finding at N=%d",
				       variant->name, n);
	}
}

/* --- a new mmap ------------------------------------------------------- */

static int new_mmap(FIXTURE_DATA(failnth) *self)
{
	char *p = mmap(NULL, 2 * getpagesize(), PROT_READ | PROT_WRITE,
		       MAP_SHARED, self->tb.fd, 0);

	if (p == MAP_FAILED)
		return -1;
	self->addr = p;
	self->win = 2;
	return 0;
}

/*
 * No MAP_FIXED: nothing is unmapped first (mm/vma.c:__mmap_setup finds no
 * old VMA), so every failure is an abort with nothing to reattach or
 * leave as a hole, and /proc/self/maps is as it was.  Allocations: the
 * maple tree preallocation and vm_area_struct (mm/vma.c:__mmap_new_vma),
 * the twin's state (->mapped, or .mmap), page tables for REMAP and PAGES
 * (mm/memory.c:remap_pfn_range_complete, insert_pages) - all ENOMEM.
 */
TEST_F_TIMEOUT(failnth, new_mmap, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "new_mmap", .call = new_mmap,
		.errnos = { ENOMEM }, .snapshot = true,
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f0w" },
		{ .cls = "intact", .layout = "unchanged" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- the second, merging mmap of an adjacent pair ---------------------- */

static int map_second(FIXTURE_DATA(failnth) *self)
{
	return map_twin(self, 2, 2);
}

/*
 * Pages [2, 4) after [0, 2), same fd, contiguous offsets, MAP_FIXED over
 * the reservation (merge.c: two_adjacent).  It merges in FAULT mode and in
 * the prepare twin's FLAGS mode (the hook's flags come before
 * mm/vma.c:vma_merge_new_range; legacy .mmap's after it); REMAP and PAGES
 * never merge.  Outcomes:
 *  - done: merged, or two VMAs where it does not merge;
 *  - unmerged: vma_merge_new_range could not allocate
 *    (commit_merge -> vma_iter_prealloc), and mm/vma.c:__mmap_region goes
 *    on to a new VMA: the call works, two VMAs;
 *  - intact: a failure in __mmap_setup before vms_clean_up_area (the
 *    reservation's split, mas_store_gfp of the detached tree):
 *    vms_abort_munmap_vmas reattaches it (clear_ptes still set);
 *  - hole: any failure after it - the prepare hook, vm_area_alloc, the
 *    action, ->mapped, .mmap: vms_abort_munmap_vmas leaves [2, 4) empty.
 */
TEST_F_TIMEOUT(failnth, merge_second, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "merge_second", .setup = map_two, .call = map_second,
		.errnos = { ENOMEM },
	};
	/* merge.c: prepare_pair, legacy_pair */
	bool merges = variant->mode == FAULT ||
		      (variant->mode == FLAGS && variant->prepare);
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = merges ?
		  "0-4:f0w 4-8:res" : "0-2:f0w 2-4:f2w 4-8:res" },
		{ .cls = "intact", .layout = "0-2:f0w 2-8:res" },
		{ .cls = "hole", .layout = "0-2:f0w 4-8:res" },
		/* the end of the list where nothing merges */
		{ .cls = merges ? "unmerged" : NULL, .ok = true,
		  .layout = "0-2:f0w 2-4:f2w 4-8:res" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- MAP_FIXED over a mapping of the same twin ------------------------- */

static int map_over(FIXTURE_DATA(failnth) *self)
{
	size_t psz = getpagesize();

	/* file pages [2, 4) over the mapping of [0, 2): other data */
	return mmap(self->base, 2 * psz, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, self->tb.fd, 2 * psz) ==
		MAP_FAILED ? -1 : 0;
}

/*
 * Outcomes (unwind.c: fixed_over_own_mapping_closes_it_first):
 *  - intact: mm/vma.c:__mmap_setup failed before vms_clean_up_area
 *    (mas_store_gfp in vms_gather_munmap_vmas): reattach_vmas, the old
 *    mapping and its data survive;
 *  - hole: any later failure; the old VMA's ->close ran in
 *    vms_clean_up_area, vms_abort_munmap_vmas leaves [0, 2) empty.
 */
TEST_F_TIMEOUT(failnth, fixed_over_own, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "fixed_over_own", .setup = map_two, .call = map_over,
		.errnos = { ENOMEM },
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f2w 2-8:res" },
		{ .cls = "intact", .layout = "0-2:f0w 2-8:res" },
		{ .cls = "hole", .layout = "2-8:res" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- munmap of a middle page ------------------------------------------- */

static int unmap_middle(FIXTURE_DATA(failnth) *self)
{
	return munmap(self->base + getpagesize(), getpagesize());
}

/*
 * mm/vma.c:vms_gather_munmap_vmas splits at the start (page 1), then at
 * the end (page 2), then stores the middle in the detached tree.
 *  - intact: the first split failed, or the store (reattach_vmas);
 *  - split: the second split failed - "we don't undo the first split"
 *    (its comment): [0, 1) [1, 3), the data intact;
 *  - done: [0, 1) and [2, 3).
 */
TEST_F_TIMEOUT(failnth, munmap_middle, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "munmap_middle", .setup = map_three,
		.call = unmap_middle, .errnos = { ENOMEM },
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-1:f0w 2-3:f2w 3-8:res" },
		{ .cls = "intact", .layout = "0-3:f0w 3-8:res" },
		{ .cls = "split", .layout = "0-1:f0w 1-3:f1w 3-8:res" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- mprotect of part of a mapping, and part of that back -------------- */

static int protect_first_two(FIXTURE_DATA(failnth) *self)
{
	return mprotect(self->base, 2 * getpagesize(), PROT_READ);
}

static int map_four_protect(FIXTURE_DATA(failnth) *self)
{
	return map_four(self) || protect_first_two(self) ? -1 : 0;
}

static int unprotect_second(FIXTURE_DATA(failnth) *self)
{
	return mprotect(self->base + getpagesize(), getpagesize(),
			PROT_READ | PROT_WRITE);
}

/*
 * mprotect(PROT_READ) of [0, 2) of one VMA [0, 4): mm/mprotect.c:
 * mprotect_fixup -> mm/vma.c:vma_modify_flags -> vma_modify: no merge
 * (no neighbour has the new flags), split at 2 (__split_vma, ->open on
 * the new piece).  Nothing after the split can fail: done, or intact.
 */
TEST_F_TIMEOUT(failnth, mprotect_split, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "mprotect_split", .setup = map_four,
		.call = protect_first_two, .errnos = { ENOMEM },
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f0- 2-4:f2w 4-8:res" },
		{ .cls = "intact", .layout = "0-4:f0w 4-8:res" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/*
 * Then page 1 back to PROT_READ | PROT_WRITE: it joins [2, 4) by moving
 * the boundary (mm/vma.c:vma_merge_existing_range, merge_right without
 * removing a VMA: __adjust_next_start), the one merge of an existing
 * range that a VMA with ->close allows (can_merge_remove_vma).  A merge
 * that cannot allocate fails the call (vma_modify: "if (vmg_nomem(vmg))
 * return ERR_PTR(-ENOMEM)"), untouched.  REMAP and PAGES do not merge:
 * page 1 is split off instead.
 */
TEST_F_TIMEOUT(failnth, mprotect_merge, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "mprotect_merge", .setup = map_four_protect,
		.call = unprotect_second, .errnos = { ENOMEM },
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = special(variant) ?
		  "0-1:f0- 1-2:f1w 2-4:f2w 4-8:res" :
		  "0-1:f0- 1-4:f1w 4-8:res" },
		{ .cls = "intact", .layout = "0-2:f0- 2-4:f2w 4-8:res" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- mremap: grow and move --------------------------------------------- */

/*
 * REMAP cannot grow: mm/mremap.c:check_prep_vma refuses DONTEXPAND or
 * PFNMAP ("vma_test_any(vma, VMA_DONTEXPAND_BIT, VMA_PFNMAP_BIT)":
 * -EFAULT), so it only moves.
 */
static size_t grown_len(const FIXTURE_DATA(failnth) *self)
{
	return (self->mode == REMAP ? 2 : 4) * getpagesize();
}

static int grow_move(FIXTURE_DATA(failnth) *self)
{
	size_t psz = getpagesize();

	return mremap(self->base, 2 * psz, grown_len(self),
		      MREMAP_MAYMOVE | MREMAP_FIXED, self->base + 4 * psz) ==
		MAP_FAILED ? -1 : 0;
}

/*
 * Pages [0, 2) to [4, 8) (REMAP: [4, 6)), over the reservation.
 * mm/mremap.c:mremap_to unmaps the destination first; then move_vma:
 * copy_vma (vm_area_dup, ->open on the copy), move_page_tables, and
 * unmap_source_vma.
 *  - intact: a failure before the destination was unmapped;
 *  - dest_hole: a failure after it (copy_vma: -ENOMEM; a partial
 *    move_page_tables is moved back and the new VMA unmapped,
 *    copy_vma_and_data): the source intact, the destination empty;
 *  - kept: unmap_source_vma's do_vmi_munmap failed - "OOM: unable to
 *    split vma, just get accounts right" - and mremap() still succeeds,
 *    with the source and its copy both mapped;
 *  - done.
 */
TEST_F_TIMEOUT(failnth, mremap_grow_move, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "mremap_grow_move", .setup = map_two,
		.call = grow_move, .errnos = { ENOMEM },
	};
	bool remap = variant->mode == REMAP;
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = remap ?
		  "2-4:res 4-6:f0w 6-8:res" : "2-4:res 4-8:f0w" },
		{ .cls = "intact", .layout = "0-2:f0w 2-8:res" },
		{ .cls = "dest_hole", .layout = remap ?
		  "0-2:f0w 2-4:res 6-8:res" : "0-2:f0w 2-4:res" },
		{ .cls = "kept", .ok = true, .layout = remap ?
		  "0-2:f0w 2-4:res 4-6:f0w 6-8:res" : "0-2:f0w 2-4:res 4-8:f0w" },
		{ 0 },
	};

	sweep(_metadata, self, variant, &s, out);
}

/* --- fork with the mapping --------------------------------------------- */

/* In the child: its copy of the window is what it should be, data too. */
static void __attribute__((noreturn)) fork_child(FIXTURE_DATA(failnth) *self)
{
	char layout[256], why[160] = "";

	describe(self, layout, sizeof(layout));
	if (strcmp(layout, self->child_layout))
		_exit(1);
	check_data(self, why, sizeof(why));
	_exit(why[0] ? 2 : 0);
}

static int do_fork(FIXTURE_DATA(failnth) *self)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		fork_child(self);
	self->child = pid;
	return 0;
}

/*
 * kernel/fork.c:copy_process -> dup_mm -> mm/mmap.c:dup_mmap copies the
 * VMA (vm_area_dup, ->open on the copy) and its page tables
 * (copy_page_range), except a VM_DONTCOPY one (FLAGS: dc), which the
 * child does not have.  The child starts with fail_nth 0
 * (kernel/fork.c:dup_task_struct).  A failed fork leaves the parent as it
 * was; fork(2) documents EAGAIN and ENOMEM.
 */
TEST_F_TIMEOUT(failnth, fork, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "fork", .setup = map_two, .call = do_fork,
		.errnos = { ENOMEM, EAGAIN }, .child = true,
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f0w 2-8:res" },
		{ .cls = "intact", .layout = "0-2:f0w 2-8:res" },
		{ 0 },
	};

	self->child_layout = variant->mode == FLAGS ? "2-8:res" :
						      "0-2:f0w 2-8:res";
	sweep(_metadata, self, variant, &s, out);
}

/* --- userfaultfd: the give_up_on_oom path ------------------------------ */

/* Pages [first, first + n) of the window (scenario.h); -1 with errno. */
static int uffd_register(FIXTURE_DATA(failnth) *self, int first, int n)
{
	return uffd_wp_async_register(&self->uffd, (unsigned long)self->base +
				      first * getpagesize(), n * getpagesize());
}

/*
 * Four pages registered, then split in two by an mprotect round trip of
 * [2, 4): both halves keep the context, and they do not merge back - the
 * merge would remove one, and a VMA with ->close cannot be removed by a
 * merge (mm/vma.c:can_merge_remove_vma; merge.c:
 * partial_mprotect_round_trip).
 */
static int uffd_split(FIXTURE_DATA(failnth) *self)
{
	size_t psz = getpagesize();

	if (map_four(self) || uffd_register(self, 0, 4))
		return -1;
	if (mprotect(self->base + 2 * psz, 2 * psz, PROT_READ) ||
	    mprotect(self->base + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE))
		return -1;
	return 0;
}

/* UFFDIO_UNREGISTER of pages [first, first + n) of the window. */
static int uffd_unregister_range(FIXTURE_DATA(failnth) *self, int first,
				 int n)
{
	struct uffdio_range range = {
		.start = (unsigned long)self->base + first * getpagesize(),
		.len = n * getpagesize(),
	};

	return ioctl(self->uffd, UFFDIO_UNREGISTER, &range);
}

static int uffd_unregister(FIXTURE_DATA(failnth) *self)
{
	return uffd_unregister_range(self, 0, 4);
}

static int uffd_close(FIXTURE_DATA(failnth) *self)
{
	int fd = self->uffd;

	self->uffd = -1;
	return close(fd);
}

/*
 * SKIP where the sweep cannot register: REMAP and PAGES are VM_SPECIAL
 * (asserted: UFFDIO_REGISTER fails with EINVAL), or a kernel without
 * WP_ASYNC.  -1 after a SKIP.
 */
static int uffd_usable(struct __test_metadata *_metadata,
		       FIXTURE_DATA(failnth) *self,
		       const FIXTURE_VARIANT(failnth) *variant)
{
	int ret, err;

	self->base = reserve_aligned();
	ASSERT_NE(MAP_FAILED, self->base);
	self->addr = self->base;
	ASSERT_EQ(0, map_four(self));
	ret = uffd_register(self, 0, 4);
	err = errno;
	attempt_cleanup(self);
	/*
	 * 6.18's vma_can_userfault (include/linux/userfaultfd_k.h:211-229)
	 * has no VM_SPECIAL test: there WP_ASYNC registers REMAP and PAGES
	 * too, which this sweep's outcomes (7.x's) do not describe.
	 */
	if (special(variant) && !ret)
		SKIP(return -1, "this kernel registers VM_SPECIAL VMAs "
		     "(REMAP, PAGES) for WP_ASYNC: no VM_SPECIAL test in "
		     "vma_can_userfault (6.18); the outcomes here are 7.x's");
	if (special(variant)) {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EINVAL, err);
		SKIP(return -1, "mm/userfaultfd.c:vma_can_userfault refuses "
		     "VM_SPECIAL VMAs (REMAP, PAGES): EINVAL");
	}
	if (ret && err == EINVAL)
		SKIP(return -1, "no UFFD_FEATURE_WP_ASYNC here");
	ASSERT_EQ(0, ret) TH_LOG("userfaultfd: %s", strerror(err));
	return 0;
}

/*
 * UFFDIO_UNREGISTER of both halves: mm/userfaultfd.c:userfaultfd_clear_vma
 * on each whole VMA, so give_up_on_oom is set and
 * vma_modify_flags_uffd may only merge or leave the VMA as it is, never
 * fail (mm/vma.c:vma_merge_existing_range: "if (!vmg->give_up_on_oom)
 * vmg->state = VMA_MERGE_ERROR_NOMEM").  Here there is not even a merge
 * to try: it would remove a VMA with ->close.  So: done, with no "uw";
 * never one half cleared and not the other.
 */
TEST_F_TIMEOUT(failnth, uffd_unregister, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "uffd_unregister", .setup = uffd_split,
		.call = uffd_unregister, .errnos = { ENOMEM },
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f0w 2-4:f2w 4-8:res" },
		{ .cls = "intact", .layout = "0-2:f0wu 2-4:f2wu 4-8:res" },
		{ 0 },
	};

	if (uffd_usable(_metadata, self, variant))
		return;
	sweep(_metadata, self, variant, &s, out);
}

/*
 * close() of the userfaultfd: fs/open.c:close -> fs/file_table.c:
 * fput_close_sync releases it there and then, in this task;
 * mm/userfaultfd.c:userfaultfd_release -> userfaultfd_release_all
 * clears every registered VMA whole (give_up_on_oom, as above).  close()
 * does not fail: done, both halves cleared.
 */
TEST_F_TIMEOUT(failnth, uffd_close, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "uffd_close", .setup = uffd_split, .call = uffd_close,
	};
	const struct outcome out[] = {
		{ .cls = "done", .ok = true, .layout = "0-2:f0w 2-4:f2w 4-8:res" },
		{ 0 },
	};

	if (uffd_usable(_metadata, self, variant))
		return;
	sweep(_metadata, self, variant, &s, out);
}

/* --- userfaultfd without ->close: the merge give_up_on_oom guards ------ */

/*
 * The two sweeps above never reach that merge: it would remove a VMA with
 * ->close.  Over the ->close-less twins (MMAPDEMO_STATE_NONE, FAULT and
 * FLAGS: TWIN_NOCLOSE_VARIANTS) it is made.  A fixture of their own, with
 * failnth's world and set-up, so that the rest of the sweep does not run
 * for them too.
 */
FIXTURE(failnth_noclose) {
	FIXTURE_DATA(failnth) w;
	FIXTURE_VARIANT(failnth) v;	/* the variant, as failnth's */
};

TWIN_VARIANT(failnth_noclose);
TWIN_NOCLOSE_VARIANTS(failnth_noclose, dev_)

FIXTURE_SETUP(failnth_noclose)
{
	self->v = (FIXTURE_VARIANT(failnth)) {
		.backend = variant->backend, .prepare = variant->prepare,
		.mode = variant->mode, .state = variant->state,
	};
	failnth_up(_metadata, &self->w, &self->v);
}

FIXTURE_TEARDOWN(failnth_noclose)
{
	failnth_down(_metadata, &self->w);
}

/*
 * Four pages, [2, 4) registered: mm/userfaultfd.c:
 * userfaultfd_register_range -> mm/vma.c:vma_modify_flags_uffd (with
 * give_up_on_oom false) splits it off.  [0, 2) and [2, 4) differ in the
 * uffd flags and context alone.  (An mprotect round trip, as uffd_split,
 * would not split these twins: the way back merges, merge.c.)
 */
static int uffd_half(FIXTURE_DATA(failnth) *self)
{
	return map_four(self) || uffd_register(self, 2, 2) ? -1 : 0;
}

/*
 * UFFDIO_UNREGISTER of [2, 4) - of [0, 4) it fails with EINVAL, measured:
 * userfaultfd_unregister's first loop asks vma_can_userfault() of [0, 2)
 * with its own flags, without VM_UFFD_WP, and that refuses a file VMA
 * with no vm_uffd_ops - or close(), which clears every registered VMA
 * (userfaultfd_release_all): userfaultfd_clear_vma on [2, 4) whole sets
 * give_up_on_oom (7.3.4:mm/userfaultfd.c:2282-2283), and
 * vma_modify_flags_uffd -> vma_modify -> vma_merge_existing_range finds
 * [2, 4), its uffd flags and context cleared, equal to prev [0, 2): merge
 * left, removing [2, 4) (can_merge_remove_vma: no ->close).  If that
 * merge cannot allocate (commit_merge's vma_iter_prealloc, before any VMA
 * is changed; dup_anon_vma has nothing to copy, MAP_SHARED), it is given
 * up: the state stays VMA_MERGE_NOMERGE, not VMA_MERGE_ERROR_NOMEM
 * (mm/vma.c:1091), vma_modify returns [2, 4) untouched and
 * userfaultfd_clear_vma clears its flags and context in place
 * (userfaultfd_reset_ctx).  So:
 *  - done: one VMA [0, 4), no "uw";
 *  - unmerged: [0, 2) [2, 4), neither with "uw", and the call succeeds.
 * No errno is listed: an error that reaches userspace fails the test.
 */
static int uffd_unregister_second(FIXTURE_DATA(failnth) *self)
{
	return uffd_unregister_range(self, 2, 2);
}

static const struct outcome uffd_noclose_out[] = {
	{ .cls = "done", .ok = true, .layout = "0-4:f0w 4-8:res" },
	{ .cls = "unmerged", .ok = true, .layout = "0-2:f0w 2-4:f2w 4-8:res" },
	{ 0 },
};

TEST_F_TIMEOUT(failnth_noclose, uffd_unregister, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "uffd_unregister_noclose", .setup = uffd_half,
		.call = uffd_unregister_second,
	};

	if (uffd_usable(_metadata, &self->w, &self->v))
		return;
	sweep(_metadata, &self->w, &self->v, &s, uffd_noclose_out);
}

TEST_F_TIMEOUT(failnth_noclose, uffd_close, FAILNTH_TEST_SECONDS + 60)
{
	static const struct scenario s = {
		.name = "uffd_close_noclose", .setup = uffd_half,
		.call = uffd_close,
	};

	if (uffd_usable(_metadata, &self->w, &self->v))
		return;
	sweep(_metadata, &self->w, &self->v, &s, uffd_noclose_out);
}

/*
 * After the sweep, kmemleak: what nothing references any more.  Its
 * objects younger than 5 s are not reported (mm/kmemleak.c: jiffies_min_age),
 * and one scan may miss a leak (conservative scanning): wait, scan twice.
 */
#define KMEMLEAK FAULT_DIR "kmemleak"

FIXTURE(kmemleak) {
};

FIXTURE_SETUP(kmemleak)
{
	if (access(FAIL_NTH, W_OK))
		SKIP(return, "no %s: no sweep ran", FAIL_NTH);
	if (access(KMEMLEAK, W_OK))
		SKIP(return, "no %s (CONFIG_DEBUG_KMEMLEAK)", KMEMLEAK);
}

FIXTURE_TEARDOWN(kmemleak)
{
}

TEST_F_TIMEOUT(kmemleak, after_the_sweep, 600)
{
	static char report[8192];
	int i;

	sleep(6);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, write_str(KMEMLEAK, "scan"));
	ASSERT_EQ(0, read_str(KMEMLEAK, report, sizeof(report)));
	EXPECT_STREQ("", report);
}

TEST_HARNESS_MAIN
