// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ledger.h"
#include "vma.h"

#define MAX_PIDS	256

/*
 * Shared anonymous objects ("/dev/zero (deleted)", "[anon_shmem:...]",
 * SysV "/SYSV..."), one entry per inode whatever processes and VMAs map
 * it: charged whole at mmap (mm/shmem.c:shmem_acct_size), its pages in
 * Shmem once touched.  Size and Rss: the largest any VMA of it shows.
 */
struct shanon {
	unsigned long ino;
	long size, rss;
};

#define MAX_SHANON	16

struct tally {
	long ac;			/* "ac" VMAs, kB */
	struct shanon sh[MAX_SHANON];
	int nsh;
};

static void shanon_add(struct tally *t, unsigned long ino, long size, long rss)
{
	int i;

	for (i = 0; i < t->nsh && t->sh[i].ino != ino; i++)
		;
	if (i == t->nsh) {
		if (t->nsh == MAX_SHANON)
			return;
		t->sh[t->nsh++] = (struct shanon){ .ino = ino };
	}
	if (size > t->sh[i].size)
		t->sh[i].size = size;
	if (rss > t->sh[i].rss)
		t->sh[i].rss = rss;
}

/* One smaps line into t; *cur carries a VMA's fields to its VmFlags. */
struct vma_fields {
	unsigned long ino;
	long size, rss;
	bool shanon;
};

static void tally_line(const char *line, struct vma_fields *cur,
		       struct tally *t)
{
	unsigned long s, e, ino;
	int n = 0;

	if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %n", &s, &e, &ino, &n) == 3 &&
	    n) {
		cur->ino = ino;
		cur->shanon = strstr(line + n, "/dev/zero (deleted)") ||
			      strstr(line + n, "[anon_shmem") ||
			      !strncmp(line + n, "/SYSV", 5);
		cur->size = cur->rss = 0;
	} else if (!strncmp(line, "Size:", 5)) {
		cur->size = atol(line + 5);
	} else if (!strncmp(line, "Rss:", 4)) {
		cur->rss = atol(line + 4);
	} else if (!strncmp(line, "VmFlags:", 8)) {
		/* each mnemonic with a space before and after it */
		if (strstr(line + 8, " ac "))
			t->ac += cur->size;
		else if (cur->shanon && strstr(line + 8, " sh "))
			shanon_add(t, cur->ino, cur->size, cur->rss);
	}
}

struct tally_arg {
	struct vma_fields cur;
	struct tally *t;
};

static void tally_one(const char *line, void *arg)
{
	struct tally_arg *a = arg;

	tally_line(line, &a->cur, a->t);
}

/*
 * A process's part of the tally, as its smaps last showed it, and the
 * /proc/PID/statm line it had then: size, resident, shared, text, lib,
 * data (fs/proc/task_mmu.c:task_statm).  What the ledger needs of smaps
 * changes only with one of those numbers: an "ac" VMA is mapped, unmapped
 * or resized (size), a private mapping made writable (data: mm->data_vm,
 * mm/mmap.c:vm_stat_account), a shared anonymous page touched or dropped
 * (resident).  So a process whose statm line is what it was is not read
 * again: a statm read costs a tenth of an smaps read, which walks every
 * page table, and the processes that are only waiting (init, run-all,
 * tee, the harness's parent) are most of those read.
 */
struct proc_tally {
	pid_t pid;
	char statm[96];
	struct tally t;
};

static struct proc_tally known[MAX_PIDS];
static int nknown;

static void tally_merge(struct tally *into, const struct tally *t)
{
	int i;

	into->ac += t->ac;
	for (i = 0; i < t->nsh; i++)
		shanon_add(into, t->sh[i].ino, t->sh[i].size, t->sh[i].rss);
}

/*
 * One process's charged VMAs into t: from /proc/PID/smaps, or from what
 * it showed last if its statm line has not changed.  -1 if it is gone.
 * proc_lines() (vma.h) and read(), no stdio: no malloc() that would move
 * this process's heap, a charged VMA, while it is read.
 */
static int tally_process(pid_t pid, struct tally *t)
{
	struct proc_tally *k, now = { .pid = pid };
	struct tally_arg a = { .t = &now.t };
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if (proc_read(path, now.statm, sizeof(now.statm)) <= 0)
		return -1;
	for (i = 0; i < nknown && known[i].pid != pid; i++)
		;
	k = &known[i];
	if (i < nknown && !strcmp(k->statm, now.statm)) {
		tally_merge(t, &k->t);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	if (proc_lines(path, tally_one, &a))
		return -1;
	if (i == nknown && nknown < MAX_PIDS)
		nknown++;
	if (i < nknown)
		*k = now;
	tally_merge(t, &now.t);
	return 0;
}

/* Forget the processes that are gone: their pids may come back. */
static void forget_gone(const pid_t *pids, int n)
{
	int i, j;

	proc_forget(pids, n);

	for (i = 0; i < nknown;) {
		for (j = 0; j < n && pids[j] != known[i].pid; j++)
			;
		if (j < n)
			i++;
		else
			known[i] = known[--nknown];
	}
}

/*
 * The numbers of directory dir's entries (getdents64 into a static
 * buffer: no opendir(), whose malloc() would move this process's heap)
 * after pids[0..n), at most max in all; the new n.
 */
static int dir_pids(const char *dir, pid_t *pids, int n, int max)
{
	static char buf[16384];
	long got, off;
	int fd;

	fd = proc_open(dir, O_DIRECTORY);
	if (fd < 0)
		return n;
	while (n < max && (got = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (off = 0; off < got && n < max;) {
			struct dirent64 *d = (void *)(buf + off);

			if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
				pids[n++] = (pid_t)atol(d->d_name);
			off += d->d_reclen;
		}
	}
	proc_close(fd);
	return n;
}

/*
 * The program's first process, the harness's parent: its tests run in
 * children and grandchildren (kselftest_harness.h: __TEST_F_IMPL), which
 * inherit this, and the /proc files of it that every read opens, kept
 * open here so that every test inherits them (proc_open(), vma.h).
 */
static pid_t owner;

static void __attribute__((constructor)) ledger_owner(void)
{
	char path[64];

	owner = getpid();
	proc_close(proc_open("/proc/meminfo", 0));
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)owner);
	proc_close(proc_open(path, 0));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)owner);
	proc_close(proc_open(path, O_DIRECTORY));
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)owner,
		 (int)owner);
	proc_close(proc_open(path, 0));
}

/*
 * The processes whose charge a scenario can move, at most max: the
 * program's (owner) and its descendants - the harness's processes, the
 * test and its children - from each thread's /proc/PID/task/TID/children
 * (CONFIG_PROC_CHILDREN, which CONFIG_CHECKPOINT_RESTORE selects: every
 * Debian kernel and kernels/debug.config have it).  The harness's
 * processes map shared anonymous pages that the test maps too (its
 * results, no_teardown: kselftest_harness.h), and only their Rss there
 * says those pages were touched.  The rest of the guest (init, run-all's
 * shell, its tee) waits while a test runs; what tee writes to /tmp is
 * counted by tmpfs_kb().  On the debug kernel under TCG an open of a
 * /proc file costs some 9 ms, so a read opens no more of them than that,
 * and keeps them open for the next (proc_open(), vma.h).  Without that
 * file: every process.
 */
static int scenario_pids(pid_t *pids, int max)
{
	static pid_t tids[MAX_PIDS];
	static char buf[4096];
	char path[96];
	int n = 1, i, j, ntid;
	char *p, *end;

	if (access("/proc/1/task/1/children", R_OK))
		return dir_pids("/proc", pids, 0, max);
	pids[0] = owner;
	for (i = 0; i < n; i++) {
		proc_check(pids[i]);
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pids[i]);
		ntid = dir_pids(path, tids, 0, MAX_PIDS);
		for (j = 0; j < ntid && n < max; j++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
				 (int)pids[i], (int)tids[j]);
			if (proc_read(path, buf, sizeof(buf)) <= 0)
				continue;
			for (p = buf; n < max; p = end) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				pids[n++] = (pid_t)pid;
			}
		}
	}
	return n;
}

/*
 * The pages of every tmpfs mounted here (statfs: mm/shmem.c:shmem_statfs,
 * used_blocks, an exact sum), kB: a tmpfs file is charged per page it
 * allocates (mm/shmem.c:shmem_acct_blocks, VM_NORESERVE), as run-all's
 * tee writing to /tmp or an overlay's copy-up to its tmpfs upper do.
 */
static long tmpfs_kb(void)
{
	static char buf[16384];
	char *line, *save, dev[64], dir[256], type[32];
	struct statfs st;
	long kb = 0;
	ssize_t len;
	int fd;

	fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %255s %31s", dev, dir, type) != 3 ||
		    strcmp(type, "tmpfs") || statfs(dir, &st))
			continue;
		kb += (long)((st.f_blocks - st.f_bfree) * st.f_bsize / 1024);
	}
	return kb;
}

int ledger_read(struct ledger_read *r)
{
	static pid_t all[MAX_PIDS];
	struct tally t = { 0 };
	int i, nall, try;
	long before;

	/*
	 * Committed_AS before and after the VMAs: the same both times, or
	 * something charged meanwhile and the read is made again.
	 */
	for (try = 0; try < 3; try++) {
		memset(r, 0, sizeof(*r));
		memset(&t, 0, sizeof(t));
		before = meminfo_kb("Committed_AS");
		nall = scenario_pids(all, MAX_PIDS);
		forget_gone(all, nall);
		/* a process gone between listing and reading had no charge */
		for (i = 0; i < nall; i++)
			tally_process(all[i], &t);
		r->committed = meminfo_kb("Committed_AS");
		if (r->committed == before)
			break;
	}
	if (!nall || r->committed < 0) {
		errno = EIO;
		return -1;
	}
	r->accountable = t.ac + tmpfs_kb();
	for (i = 0; i < t.nsh; i++)
		r->accountable += t.sh[i].size - t.sh[i].rss;
	r->shmem = meminfo_kb("Shmem");
	r->vm_size = status_kb("VmSize");
	r->vm_data = status_kb("VmData");
	return 0;
}

long ledger_unexplained(const struct ledger_read *a,
			const struct ledger_read *b)
{
	return (b->committed - a->committed) - (b->accountable - a->accountable);
}

/* ---- one scenario ---- */

static struct {
	bool running;
	struct ledger_read base;
	int reads;		/* reads so far, the baseline not counted */
	int worst_read;		/* which one saw worst */
	long worst;		/* largest |unexplained| so far, signed */
	struct ledger_read at_worst;
} sc;

static const char *prog_file(void)
{
	static char path[96];

	snprintf(path, sizeof(path), "/tmp/mmapdemo-ledger.%s.%d",
		 program_invocation_short_name, (int)owner);
	return path;
}

void ledger_begin(void)
{
	memset(&sc, 0, sizeof(sc));
	sc.running = !ledger_read(&sc.base);
}

static bool points_on = true;

void ledger_points(bool on)
{
	points_on = on;
}

/* One read of the scenario: remembered if the worst so far; its change. */
static long point_of(const struct ledger_read *r)
{
	long u = ledger_unexplained(&sc.base, r);

	sc.reads++;
	if (labs(u) > labs(sc.worst)) {
		sc.worst = u;
		sc.worst_read = sc.reads;
		sc.at_worst = *r;
	}
	return u;
}

void ledger_point(void)
{
	struct ledger_read r;

	if (sc.running && points_on && !ledger_read(&r))
		point_of(&r);
}

long ledger_worst(void)
{
	return sc.worst;
}

bool ledger_running(void)
{
	return sc.running;
}

long ledger_end(const char *name, const char *explained_by)
{
	struct ledger_read r;
	long left = 0;
	bool finding;
	FILE *f;

	if (!sc.running)
		return 0;
	/* the last read, after unmapping: a point also without points */
	if (!ledger_read(&r))
		left = point_of(&r);
	finding = labs(sc.worst) >= LEDGER_NOISE_KB;
	/* a kept charge only ever adds */
	if (sc.worst <= 0)
		explained_by = NULL;
	if (finding) {
		printf("# ledger-finding %s: %+ld kB unexplained at read %d of %d, %+ld kB left after unmapping (Committed_AS %+ld kB, charged VMAs %+ld kB, Shmem %+ld kB)%s%s\n",
		       name, sc.worst, sc.worst_read, sc.reads, left,
		       sc.at_worst.committed - sc.base.committed,
		       sc.at_worst.accountable - sc.base.accountable,
		       sc.at_worst.shmem - sc.base.shmem,
		       explained_by ? ": " : "", explained_by ?: "");
		fflush(stdout);
	}
	/* counted for the summary after the last read: tmpfs charges too */
	f = fopen(prog_file(), "ae");
	if (f) {
		fprintf(f, "%s %ld %s\n", name, finding ? sc.worst : 0,
			explained_by && finding ? "explained" : "-");
		fclose(f);
	}
	sc.running = false;
	return left;
}

/*
 * In the harness's parent, at exit (the tests are its children, which
 * _exit): one line per program, "# ledger PROG: N scenarios, F findings
 * (E explained by a known kernel bug)", from what they counted.
 */
static void __attribute__((destructor)) ledger_summary(void)
{
	char path[96], line[512], name[400], how[16];
	long n = 0, found = 0, expl = 0, kb;
	FILE *f;

	if (getpid() != owner)
		return;
	snprintf(path, sizeof(path), "%s", prog_file());
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%399s %ld %15s", name, &kb, how) != 3)
			continue;
		n++;
		found += kb != 0;
		expl += kb != 0 && !strcmp(how, "explained");
	}
	fclose(f);
	unlink(path);
	printf("# ledger %s: %ld scenarios, %ld findings (%ld explained by a known kernel bug)\n",
	       program_invocation_short_name, n, found, expl);
	fflush(stdout);
}
