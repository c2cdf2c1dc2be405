/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The commit-charge ledger: around every scenario, is the kernel's commit
 * charge (Committed_AS) what the process's mappings explain?
 *
 * Committed_AS (fs/proc/meminfo.c: vm_memory_committed, an exact
 * percpu_counter_sum of vm_committed_as) is system-wide.  What a process
 * is charged for is, by mm/vma.c:accountable_mapping and
 * mm/mmap.c:do_brk_flags, exactly its VMAs with VM_ACCOUNT, "ac" in
 * /proc/PID/smaps' VmFlags (fs/proc/task_mmu.c:show_smap_vma_flags).
 * So a read is
 *	unexplained = Committed_AS - "ac" VMAs of every process
 *		      - shared anonymous objects not yet touched
 *		      - the pages of every tmpfs mounted (statfs)
 * summed over the test program's processes: the harness's, the test and
 * its children (the guest runs one test at a time; init, run-all and its
 * tee wait meanwhile, ledger.c: scenario_pids), so that a child's
 * malloc() is no noise.  A process whose /proc/PID/statm is what it was
 * at the last read is not read again (ledger.c: tally_process).
 * A shared anonymous mapping is charged whole at mmap (mm/shmem.c:
 * shmem_acct_size via shmem_zero_setup) and has no "ac": Size - Rss of
 * its object (the largest over the VMAs that map it) stands for it.
 * Shmem is not subtracted: a vmstat counter with per-CPU deltas
 * (mm/vmstat.c), off by pages at any read; it is only reported.
 * Committed_AS is read before and after the VMAs, and the read made
 * again if it moved.  Between two reads of one scenario the unexplained
 * part stays where it was; a move of LEDGER_NOISE_KB or more is a
 * finding.
 */
#ifndef MMAPDEMO_LEDGER_H
#define MMAPDEMO_LEDGER_H

#include <stdbool.h>

/* Two pages: below any mapping's charge, above a read's rounding. */
#define LEDGER_NOISE_KB		8

struct ledger_read {
	long committed;		/* Committed_AS, kB */
	long shmem;		/* Shmem, kB */
	long accountable;	/* "ac" VMAs, untouched shared anonymous, tmpfs; kB */
	long vm_size, vm_data;	/* VmSize, VmData of this process, kB */
};

/* Read the ledger (the test program's processes); 0, or -1 with errno. */
int ledger_read(struct ledger_read *r);

/* What moved between a and b that the mappings do not explain, kB. */
long ledger_unexplained(const struct ledger_read *a,
			const struct ledger_read *b);

/*
 * A scenario's ledger (fixture.h's testbed: set-up, every target_stats()
 * of a test, tear-down after unmapping).  ledger_begin() takes the baseline;
 * ledger_point() reads again and remembers the largest unexplained
 * change; ledger_end() reads once more, prints a diagnostic line
 *	# ledger-finding NAME: +N kB unexplained at read K of M (...)
 * for each finding, counts the scenario for ledger_summary() and returns
 * the unexplained change left after unmapping (kB).
 */
void ledger_begin(void);
void ledger_point(void);
/*
 * ledger_points(false): ledger_point() reads nothing, the scenario's
 * ledger is its begin and end only (ledger_end()'s read counts as a point
 * either way).  For fail-nth, whose sweep makes thousands of attempts: a
 * read opens some ten /proc files, and on the debug kernel those reads
 * made the sweep several times slower.  A charge that any attempt kept
 * still shows at the sweep's end.
 */
void ledger_points(bool on);
long ledger_end(const char *name, const char *explained_by);

/*
 * The largest unexplained change of the scenario so far, kB (signed),
 * and whether the ledger is running.
 */
long ledger_worst(void);
bool ledger_running(void);

#endif
