/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commit-charge ledger: around every scenario, is the kernel's commit
 * charge (Committed_AS) what the process's mappings explain?
 *
 * Committed_AS (fs/proc/meminfo.c: vm_memory_committed, an exact
 * percpu_counter_sum of vm_committed_as) is system-wide.  What a process
 * is charged for is, by mm/vma.c:accountable_mapping and
 * mm/mmap.c:do_brk_flags, exactly its VMAs with VM_ACCOUNT, "ac" in
 * /proc/PID/smaps' VmFlags (fs/proc/task_mmu.c:show_smap_vma_flags).  So
 * a read is
 *	unexplained = Committed_AS - "ac" VMAs of the process (and of
 *		      the processes it names: a FUSE server, its children)
 *		      - Shmem - shared anonymous VMAs not yet touched
 * The one other charger in a guest that runs one test at a time is tmpfs
 * (/tmp, where run-all's tee writes the output): mm/shmem.c:
 * shmem_acct_blocks charges each page a VM_NORESERVE file allocates, and
 * Shmem counts the same page.  A shared anonymous mapping is charged
 * whole at mmap (mm/shmem.c:shmem_acct_size via shmem_zero_setup), its
 * pages count in Shmem once touched: Size - Rss of such a VMA.
 * Between two reads of one scenario the unexplained part does not move;
 * where it does by LEDGER_NOISE_KB or more, that is a finding.
 */
#ifndef MMAPDEMO_LEDGER_H
#define MMAPDEMO_LEDGER_H

#include <stdbool.h>
#include <sys/types.h>

/* Two pages: below any mapping's charge, above a read's rounding. */
#define LEDGER_NOISE_KB		8

struct ledger_read {
	long committed;		/* Committed_AS, kB */
	long shmem;		/* Shmem, kB */
	long accountable;	/* "ac" VMAs + untouched shared anonymous, kB */
	long vm_size, vm_data;	/* VmSize, VmData of this process, kB */
};

/*
 * Read the ledger for this process and the n processes in pids (0 is this
 * process), and their live children (/proc/PID/task/PID/children, when
 * the kernel has CONFIG_PROC_CHILDREN).  0, or -1 with errno.
 */
int ledger_read(struct ledger_read *r, const pid_t *pids, int n);

/* What moved between a and b that the mappings do not explain, kB. */
long ledger_unexplained(const struct ledger_read *a,
			const struct ledger_read *b);

/*
 * A scenario's ledger (fixture.h's testbed: set-up, every target_stats(),
 * tear-down after unmapping).  ledger_begin() takes the baseline;
 * ledger_point() reads again and remembers the largest unexplained
 * change; ledger_end() reads once more, prints a diagnostic line
 *	# ledger-finding NAME: +N kB unexplained at read K of M (...)
 * for each finding, counts the scenario for ledger_summary() and returns
 * the unexplained change left after unmapping (kB).  extra: a process
 * to read too (a FUSE server), or 0.
 */
void ledger_begin(pid_t extra);
void ledger_point(void);
long ledger_end(const char *name, const char *explained_by);

/*
 * The largest unexplained change of the scenario so far, kB (signed),
 * and whether the ledger is running.
 */
long ledger_worst(void);
bool ledger_running(void);

#endif
