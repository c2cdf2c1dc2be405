/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel bugs the kit knows, each measured on the running kernel -
 * never inferred from an API probe (a bug fixed by a stable update has
 * no compile probe: Debian's 7.2.0-7.2.7 have action.error_override and
 * the charge bug, 7.2.0-7.2.9 the merge bug).  userspace-tests/bugs.c
 * prints one line per bug:
 *	# kernel-bug NAME: present
 *	# kernel-bug NAME: absent
 *	# kernel-bug NAME: n/a (REASON)		the kernel lacks what it needs
 *	# kernel-bug NAME: inconclusive (WHY)	the measurement failed
 * (docs/kernel-bugs.md; scripts/bug-table reads them).  The other tests
 * take their expectations about a kernel bug from kbug_present(), which
 * is the same measurement, made once per program before any test runs
 * (KBUGS_MEASURE_AT_START).
 */
#ifndef MMAPDEMO_KBUGS_H
#define MMAPDEMO_KBUGS_H

#include <stdbool.h>

enum kbug {
	/*
	 * A failing .mmap_prepare keeps the mapping's commit charge:
	 * mm/vma.c:__mmap_region sends a hook error to abort_munmap, past
	 * unacct_error (6.16.12:mm/vma.c:2610-2611, 2635-2639).  Fixed by
	 * "mm/vma: correctly unaccount on mmap_prepare() failure" (7.2.8;
	 * 7.2.12:mm/vma.c:2782-2785).
	 */
	KBUG_CHARGE_KEPT,
	/*
	 * A .mmap_prepare mmap() merged into its neighbour writes its
	 * desc->vm_ops and desc->private_data onto that neighbour:
	 * set_vma_user_defined_fields() on the new or merged VMA
	 * (6.16.12:mm/vma.c:2627-2628, 7.1.13:mm/vma.c:2777-2778).  Fixed by
	 * "mm/vma: predicate setting mmap_prepare VMA fields on new vma
	 * alloc" (7.2.10; 7.2.12:mm/vma.c:2805-2806).
	 */
	KBUG_MERGE_CLOBBER,
	NR_KBUGS
};

enum kbug_verdict {
	KBUG_UNMEASURED,
	KBUG_ABSENT,
	KBUG_PRESENT,
	KBUG_NA,
	KBUG_INCONCLUSIVE,
};

struct kbug_result {
	enum kbug_verdict verdict;
	char why[200];		/* n/a or inconclusive: the reason */
	char evidence[200];	/* what was measured */
};

/* Its name in the "# kernel-bug NAME: ..." line. */
const char *kbug_name(enum kbug b);

/* "present", "absent", "n/a", "inconclusive". */
const char *kbug_verdict_name(enum kbug_verdict v);

/*
 * Measure bug b now, into r.  Leaves the kit's invariants as they were,
 * except what the bug itself does: a kept charge stays kept
 * (Committed_AS), an orphaned state object stays in live_objects until
 * rmmod frees it (driver/common.c:mmapdemo_twin_reap).
 */
void kbug_measure(enum kbug b, struct kbug_result *r);

/*
 * KBUG_CHARGE_KEPT's measurement on the twin dev (a device path): the
 * legacy twin's is the control, absent in every series.
 */
void kbug_measure_charge(const char *dev, struct kbug_result *r);

/* This program's measurement of b (made at start, or now): present? */
bool kbug_present(enum kbug b);

/* This program's verdict on b, without measuring: KBUG_UNMEASURED if none. */
enum kbug_verdict kbug_verdict_of(enum kbug b);

/* Measure every bug now, for kbug_present(). */
void kbugs_measure_all(void);

/*
 * In a test program that asks kbug_present(): measure before the harness
 * runs any test, so that no test's baseline of the counters sees what the
 * measurement leaves, and every test (a child of the harness) has it.
 */
#define KBUGS_MEASURE_AT_START()					\
	static void __attribute__((constructor)) kbugs_at_start(void)	\
	{								\
		kbugs_measure_all();					\
	}

#endif
