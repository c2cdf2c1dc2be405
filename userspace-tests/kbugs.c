// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kbugs.h"
#include "ledger.h"
#include "scenario.h"

static const char * const names[NR_KBUGS] = {
	[KBUG_CHARGE_KEPT] = "charge-kept",
	[KBUG_MERGE_CLOBBER] = "merge-clobber",
};

const char *kbug_name(enum kbug b)
{
	return b < NR_KBUGS ? names[b] : "?";
}

const char *kbug_verdict_name(enum kbug_verdict v)
{
	switch (v) {
	case KBUG_ABSENT:
		return "absent";
	case KBUG_PRESENT:
		return "present";
	case KBUG_NA:
		return "n/a";
	case KBUG_INCONCLUSIVE:
		return "inconclusive";
	default:
		return "unmeasured";
	}
}

static void set(struct kbug_result *r, enum kbug_verdict v, const char *fmt, ...)
{
	va_list ap;

	r->verdict = v;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/*
 * KBUG_CHARGE_KEPT.  CHARGE_TRIES private writable mmaps of CHARGE_LEN
 * each, which the twin's own hook refuses: an offset past the end of its
 * buffer (driver/common.c:mmapdemo_check_request, -EINVAL).  Each is
 * charged its CHARGE_LEN in mm/vma.c:__mmap_setup (accountable_mapping,
 * security_vm_enough_memory_mm) before the hook runs.  With the bug the
 * charge stays: Committed_AS ends CHARGE_TRIES * CHARGE_LEN higher
 * (16 MiB, far above anything else in a guest that runs one test at a
 * time), with no VMA to explain it; without it, within a few pages.
 * The legacy twin is the control: a failing .mmap goes to unacct_error
 * in every series (mm/vma.c:__mmap_new_file_vma -> __mmap_region).
 */
#define CHARGE_TRIES	16
#define CHARGE_LEN	(1UL << 20)

void kbug_measure_charge(const char *dev, struct kbug_result *r)
{
	struct mmapdemo_stats b, a;
	struct ledger_read lb, la;
	long pages = module_pages(), full, kept, i;
	int fd, err;
	void *p;

	memset(r, 0, sizeof(*r));
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pages <= 0) {
		set(r, KBUG_INCONCLUSIVE, "open %s: %s", dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	b = twin_stats(fd);
	if (ledger_read(&lb, NULL, 0)) {
		set(r, KBUG_INCONCLUSIVE, "reading the ledger: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < CHARGE_TRIES; i++) {
		p = mmap(NULL, CHARGE_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE,
			 fd, pages * getpagesize());
		err = errno;
		if (p != MAP_FAILED || err != EINVAL) {
			set(r, KBUG_INCONCLUSIVE,
			    "a MAP_PRIVATE mmap past the buffer's end %s",
			    p == MAP_FAILED ? strerror(err) : "succeeded");
			if (p != MAP_FAILED)
				munmap(p, CHARGE_LEN);
			close(fd);
			return;
		}
	}
	ledger_read(&la, NULL, 0);
	a = twin_stats(fd);
	close(fd);
	kept = ledger_unexplained(&lb, &la);
	full = CHARGE_TRIES * (CHARGE_LEN >> 10);
	snprintf(r->evidence, sizeof(r->evidence),
		 "%d failed %lu kB MAP_PRIVATE mmaps: Committed_AS %+ld kB, unexplained %+ld kB of %ld kB charged; VmSize %+ld kB, VmData %+ld kB",
		 CHARGE_TRIES, CHARGE_LEN >> 10, la.committed - lb.committed,
		 kept, full, la.vm_size - lb.vm_size, la.vm_data - lb.vm_data);
	/* the hook itself refused each one; nothing was mapped */
	if (a.hook_calls - b.hook_calls != CHARGE_TRIES ||
	    a.live_objects != b.live_objects ||
	    la.vm_size != lb.vm_size || la.vm_data != lb.vm_data) {
		set(r, KBUG_INCONCLUSIVE,
		    "%llu hook calls for %d mmaps, live_objects %+lld, VmSize %+ld kB",
		    (unsigned long long)(a.hook_calls - b.hook_calls),
		    CHARGE_TRIES, (long long)(a.live_objects - b.live_objects),
		    la.vm_size - lb.vm_size);
		return;
	}
	if (kept >= full * 3 / 4)
		r->verdict = KBUG_PRESENT;
	else if (labs(kept) <= full / 4)
		r->verdict = KBUG_ABSENT;
	else
		set(r, KBUG_INCONCLUSIVE, "%+ld kB unexplained: neither none nor all of %ld kB",
		    kept, full);
}

/*
 * KBUG_MERGE_CLOBBER, where the prepare twin keeps per-mapping state
 * (vm_ops->mapped, 7.1): two adjacent FAULT mmaps of one fd, contiguous
 * offsets, merge (merge.c); only the first made a VMA and got its state
 * from ->mapped in vm_private_data.  With the bug the merged second
 * mmap writes its own desc->private_data, NULL, there: after munmap
 * ->close puts NULL, and the first state object stays live.
 */
static void measure_clobber_state(struct kbug_result *r)
{
	size_t psz = getpagesize();
	struct mmapdemo_stats b, m, a;
	long orphans;
	char *base;
	int fd, vmas;

	fd = twin_open(MMAPDEMO_DEV_PREPARE, O_RDWR, MMAPDEMO_MODE_FAULT);
	base = reserve(4 * psz);
	if (fd < 0 || base == MAP_FAILED) {
		set(r, KBUG_INCONCLUSIVE, "set-up: %s", strerror(errno));
		goto out;
	}
	b = twin_stats(fd);
	if (map_pair(fd, base, PROT_READ | PROT_WRITE)) {
		set(r, KBUG_INCONCLUSIVE, "two adjacent mmaps: %s", strerror(errno));
		goto out;
	}
	vmas = map_count_in((unsigned long)base, (unsigned long)base + 4 * psz);
	m = twin_stats(fd);
	munmap(base, 4 * psz);
	base = MAP_FAILED;
	a = twin_stats(fd);
	orphans = (long)(a.live_objects - b.live_objects);
	snprintf(r->evidence, sizeof(r->evidence),
		 "two adjacent FAULT mmaps: %d VMA, %llu hook calls, %llu ->mapped; after munmap live_objects %+ld, %llu ->close",
		 vmas, (unsigned long long)(m.hook_calls - b.hook_calls),
		 (unsigned long long)(m.mapped_calls - b.mapped_calls), orphans,
		 (unsigned long long)(a.vm_close - b.vm_close));
	if (vmas != 1 || m.mapped_calls - b.mapped_calls != 1 ||
	    a.vm_close - b.vm_close != 1)
		set(r, KBUG_INCONCLUSIVE, "the pair did not merge into one VMA with one ->mapped and one ->close");
	else if (orphans == 1)
		r->verdict = KBUG_PRESENT;
	else if (orphans == 0)
		r->verdict = KBUG_ABSENT;
	else
		set(r, KBUG_INCONCLUSIVE, "live_objects %+ld", orphans);
out:
	if (base != MAP_FAILED)
		munmap(base, 4 * psz);
	if (fd >= 0)
		close(fd);
}

void kbug_measure(enum kbug b, struct kbug_result *r)
{
	memset(r, 0, sizeof(*r));
	if (!has_feature(MMAPDEMO_FEAT_PREPARE_TWINS)) {
		set(r, KBUG_NA, "no .mmap_prepare");
		return;
	}
	switch (b) {
	case KBUG_CHARGE_KEPT:
		kbug_measure_charge(MMAPDEMO_DEV_PREPARE, r);
		break;
	case KBUG_MERGE_CLOBBER:
		if (!has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED)) {
			set(r, KBUG_NA, "no vm_ops->mapped: the prepare twin's VMA holds no state a merge could overwrite");
			break;
		}
		measure_clobber_state(r);
		break;
	default:
		set(r, KBUG_INCONCLUSIVE, "unknown bug %d", b);
	}
}

static struct kbug_result results[NR_KBUGS];

void kbugs_measure_all(void)
{
	int b;

	for (b = 0; b < NR_KBUGS; b++)
		kbug_measure(b, &results[b]);
}

enum kbug_verdict kbug_verdict_of(enum kbug b)
{
	return b < NR_KBUGS ? results[b].verdict : KBUG_UNMEASURED;
}

bool kbug_present(enum kbug b)
{
	if (b >= NR_KBUGS)
		return false;
	if (results[b].verdict == KBUG_UNMEASURED)
		kbug_measure(b, &results[b]);
	return results[b].verdict == KBUG_PRESENT;
}
