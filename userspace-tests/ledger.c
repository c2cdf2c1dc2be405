// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "vma.h"

#define MAX_PIDS	16

/*
 * One process's charged VMAs, kB: "ac" in VmFlags, and shared anonymous
 * ones ("/dev/zero (deleted)", "[anon_shmem:...]", SysV "/SYSV...")
 * less what of them is resident (counted in Shmem).  Reads
 * /proc/PID/smaps with stdio; -1 if it cannot.
 */
static long charged_kb(pid_t pid)
{
	char path[64], line[512];
	long size = 0, rss = 0, sum = 0;
	bool shanon = false;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/smaps");
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;
		int n = 0;

		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &s, &e, &n) == 2 &&
		    n) {
			shanon = strstr(line + n, "/dev/zero (deleted)") ||
				 strstr(line + n, "[anon_shmem") ||
				 !strncmp(line + n, "/SYSV", 5);
			size = rss = 0;
		} else if (!strncmp(line, "Size:", 5)) {
			size = atol(line + 5);
		} else if (!strncmp(line, "Rss:", 4)) {
			rss = atol(line + 4);
		} else if (!strncmp(line, "VmFlags:", 8)) {
			/* each mnemonic with a space before and after it */
			if (strstr(line + 8, " ac "))
				sum += size;
			else if (shanon && strstr(line + 8, " sh "))
				sum += size - rss;
		}
	}
	fclose(f);
	return sum;
}

/* Live children of pid (0: this process), appended to pids[*n]. */
static void add_children(pid_t pid, pid_t *pids, int *n)
{
	char path[80], buf[256], *p, *end;
	int fd;
	ssize_t len;

	if (!pid)
		pid = getpid();
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid,
		 (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';
	for (p = buf; *n < MAX_PIDS; p = end) {
		long c = strtol(p, &end, 10);

		if (end == p)
			break;
		pids[(*n)++] = (pid_t)c;
	}
}

static long status_kb(const char *key)
{
	static char buf[4096];
	char k[32];
	const char *p;
	ssize_t len;
	int fd;

	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = '\0';
	snprintf(k, sizeof(k), "\n%s:", key);
	p = strstr(buf, k);
	return p ? atol(p + strlen(k)) : -1;
}

int ledger_read(struct ledger_read *r, const pid_t *pids, int n)
{
	pid_t all[MAX_PIDS];
	int i, nall = 0;
	long kb;

	all[nall++] = 0;
	for (i = 0; i < n && nall < MAX_PIDS; i++)
		if (pids[i])
			all[nall++] = pids[i];
	for (i = 0; i < nall && nall < MAX_PIDS; i++)
		add_children(all[i], all, &nall);
	memset(r, 0, sizeof(*r));
	for (i = 0; i < nall; i++) {
		kb = charged_kb(all[i]);
		/* a child that is gone between the two reads: no charge */
		if (kb < 0 && i == 0)
			return -1;
		if (kb > 0)
			r->accountable += kb;
	}
	r->committed = meminfo_kb("Committed_AS");
	r->shmem = meminfo_kb("Shmem");
	r->vm_size = status_kb("VmSize");
	r->vm_data = status_kb("VmData");
	if (r->committed < 0 || r->shmem < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

long ledger_unexplained(const struct ledger_read *a,
			const struct ledger_read *b)
{
	return (b->committed - a->committed) - (b->accountable - a->accountable) -
	       (b->shmem - a->shmem);
}

/* ---- one scenario ---- */

static struct {
	bool running;
	pid_t extra;
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
		 program_invocation_short_name, (int)getppid());
	return path;
}

void ledger_begin(pid_t extra)
{
	memset(&sc, 0, sizeof(sc));
	sc.extra = extra;
	sc.running = !ledger_read(&sc.base, &sc.extra, 1);
}

void ledger_point(void)
{
	struct ledger_read r;
	long u;

	if (!sc.running || ledger_read(&r, &sc.extra, 1))
		return;
	sc.reads++;
	u = ledger_unexplained(&sc.base, &r);
	if (labs(u) > labs(sc.worst)) {
		sc.worst = u;
		sc.worst_read = sc.reads;
		sc.at_worst = r;
	}
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
	ledger_point();
	if (!ledger_read(&r, &sc.extra, 1))
		left = ledger_unexplained(&sc.base, &r);
	finding = labs(sc.worst) >= LEDGER_NOISE_KB;
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

	snprintf(path, sizeof(path), "/tmp/mmapdemo-ledger.%s.%d",
		 program_invocation_short_name, (int)getpid());
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
