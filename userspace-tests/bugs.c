// SPDX-License-Identifier: GPL-2.0
/*
 * Which of the kernel bugs the kit knows does this kernel have?  Each is
 * measured (kbugs.c) and reported in one KTAP diagnostic line,
 *	# kernel-bug NAME: present | absent | n/a (REASON)
 * and the test passes either way, as long as the measurement worked and
 * the kit's invariants hold; "inconclusive (WHY)" fails it.  One line
 *	# kernel-release: UNAME_RELEASE UNAME_VERSION
 * names the kernel: scripts/bug-table compares the lines with what
 * kernels/kernel-bugs.tsv records for a release the repository pins, and
 * prints the table kernel x bug (docs/kernel-bugs.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kbugs.h"
#include "scenario.h"

static void report(struct __test_metadata *_metadata, enum kbug b,
		   const struct kbug_result *r)
{
	if (r->verdict == KBUG_PRESENT || r->verdict == KBUG_ABSENT)
		ksft_print_msg("kernel-bug %s: %s\n", kbug_name(b),
			       kbug_verdict_name(r->verdict));
	else
		ksft_print_msg("kernel-bug %s: %s (%s)\n", kbug_name(b),
			       kbug_verdict_name(r->verdict), r->why);
	if (r->evidence[0])
		TH_LOG("%s: %s", kbug_name(b), r->evidence);
	EXPECT_NE(KBUG_INCONCLUSIVE, r->verdict) TH_LOG("%s", r->why);
}

TEST(kernel_release)
{
	struct utsname u;

	ASSERT_EQ(0, uname(&u));
	ksft_print_msg("kernel-release: %s %s\n", u.release, u.version);
}

/*
 * kbugs.h: KBUG_CHARGE_KEPT.  The legacy twin, the same measurement on
 * a failing .mmap, is the control: mm/vma.c:__mmap_region sends that
 * error to unacct_error in every series (6.12.117(deb) mm/mmap.c:
 * mmap_region "unacct_error", 6.16.12:mm/vma.c:2622-2625, 2635-2637,
 * 7.3.4:mm/vma.c:__mmap_region), so it must say absent; a measurement
 * that found the charge kept there would be measuring something else.
 */
TEST(charge_kept)
{
	struct kbug_result r, control;
	struct mmapdemo_stats b, a;
	int fd = open(MMAPDEMO_DEV_LEGACY, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	b = twin_stats(fd);
	kbug_measure(KBUG_CHARGE_KEPT, &r);
	report(_metadata, KBUG_CHARGE_KEPT, &r);
	kbug_measure_charge(MMAPDEMO_DEV_LEGACY, &control);
	TH_LOG("control, legacy twin: %s %s", kbug_verdict_name(control.verdict),
	       control.evidence);
	EXPECT_EQ(KBUG_ABSENT, control.verdict) TH_LOG("%s", control.why);
	a = twin_stats(fd);
	EXPECT_EQ(b.live_objects, a.live_objects);
	close(fd);
}

/*
 * kbugs.h: KBUG_MERGE_CLOBBER.  What it leaves on a kernel with the bug,
 * one orphaned state object, is the bug's; module exit frees it
 * (driver/common.c:mmapdemo_twin_reap), and vm-run checks that rmmod
 * works.
 */
TEST(merge_clobber)
{
	struct kbug_result r;

	kbug_measure(KBUG_MERGE_CLOBBER, &r);
	report(_metadata, KBUG_MERGE_CLOBBER, &r);
}

TEST_HARNESS_MAIN
