// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vma.h"

/* "start-end perms offset ...": 0, or -1 for any other line. */
static int parse_header(const char *line, struct vma *v)
{
	char *p;

	v->start = strtoul(line, &p, 16);
	if (p == line || *p != '-')
		return -1;
	v->end = strtoul(p + 1, &p, 16);
	if (*p != ' ' || !p[1] || !p[2] || !p[3] || !p[4])
		return -1;
	memcpy(v->perms, p + 1, 4);
	v->perms[4] = '\0';
	v->offset = strtoull(p + 6, NULL, 16);
	return 0;
}

/* The mnemonics after "VmFlags:", single spaces, none at the end. */
static void copy_vmflags(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; *src && *src != '\n' && n < size - 1; src++) {
		if (*src == ' ' && (!n || dst[n - 1] == ' '))
			continue;
		dst[n++] = *src;
	}
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* What vmas_read() has found so far. */
struct vma_scan {
	bool smaps, in;
	unsigned long start, end;
	struct vma cur, *out;
	int max, n;
};

static void scan_line(struct vma_scan *sc, const char *line)
{
	struct vma v = { 0 };

	if (sc->in && !strncmp(line, "VmFlags:", 8)) {
		copy_vmflags(sc->cur.flags, sizeof(sc->cur.flags), line + 8);
		if (sc->n < sc->max)
			sc->out[sc->n] = sc->cur;
		sc->n++;
		sc->in = false;
		return;
	}
	/* smaps' "AnonHugePages:" and the like start with a hex digit too */
	if (!isxdigit((unsigned char)*line) || parse_header(line, &v))
		return;
	sc->in = false;
	if (strstr(line, "[vsyscall]"))
		return;
	sc->cur = v;
	sc->in = v.start < sc->end && v.end > sc->start;
	if (sc->in && !sc->smaps) {
		if (sc->n < sc->max)
			sc->out[sc->n] = sc->cur;
		sc->n++;
		sc->in = false;
	}
}

/*
 * The /proc files the tests read again and again (smaps, statm, meminfo,
 * status, a task's children), kept open between reads.  On the debug
 * kernel under TCG an open and a close of one costs 5 to 10 ms, a read of
 * the open file from its start under 1 ms; and a file read again from
 * its start is shown afresh (fs/seq_file.c:seq_lseek and seq_read_iter
 * reset the iterator; a directory after lseek() to 0 is listed again).
 * An entry names its process by number, never "self" (proc_open() turns
 * /proc/self/ into /proc/PID/), so an entry a child inherits reads what
 * it read in its parent, and the child opens its own /proc/self files.
 * A process's entries go when it is gone (proc_forget(), proc_check()):
 * its number may come back as another process.  Not kept: a mounts file
 * (it shows its opener's mount namespace as it was at open, and a test
 * may unshare), and what is not under /proc.
 */
struct kept_file {
	pid_t of;		/* the process it describes; 0: none */
	int fd;			/* -1: a free slot */
	char path[48];
};

#define MAX_KEPT	48

static struct kept_file kept[MAX_KEPT] = {
	[0 ... MAX_KEPT - 1] = { .fd = -1 },
};

static void kept_close(struct kept_file *k)
{
	close(k->fd);
	k->fd = -1;
}

int proc_open(const char *path, int flags)
{
	char own[sizeof(kept[0].path)];
	int i, slot = -1, fd;
	pid_t of = 0;

	if (!strncmp(path, "/proc/self/", 11)) {
		of = getpid();
		if (snprintf(own, sizeof(own), "/proc/%d/%s", (int)of,
			     path + 11) < (int)sizeof(own))
			path = own;
	} else if (!strncmp(path, "/proc/", 6)) {
		of = (pid_t)atol(path + 6);	/* 0: not a process's */
	}
	if (strncmp(path, "/proc/", 6) || strstr(path, "mounts") ||
	    strlen(path) >= sizeof(own))
		return open(path, flags | O_RDONLY | O_CLOEXEC);
	for (i = 0; i < MAX_KEPT; i++) {
		if (kept[i].fd < 0) {
			if (slot < 0)
				slot = i;
		} else if (!strcmp(kept[i].path, path)) {
			if (lseek(kept[i].fd, 0, SEEK_SET) == 0)
				return kept[i].fd;
			kept_close(&kept[i]);	/* and open it again */
			if (slot < 0)
				slot = i;
			break;
		}
	}
	fd = open(path, flags | O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && slot >= 0) {
		kept[slot].of = of;
		kept[slot].fd = fd;
		strcpy(kept[slot].path, path);
	}
	return fd;
}

void proc_close(int fd)
{
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < MAX_KEPT && kept[i].fd != fd; i++)
		;
	if (i == MAX_KEPT)
		close(fd);
}

ssize_t proc_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t got;
	int fd;

	fd = proc_open(path, 0);
	if (fd < 0)
		return -1;
	while ((got = read(fd, buf + len, size - len - 1)) > 0)
		len += got;
	proc_close(fd);
	buf[len] = '\0';
	return got < 0 || len >= size - 1 ? -1 : (ssize_t)len;
}

void proc_check(pid_t pid)
{
	char path[sizeof(kept[0].path)], buf[96];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	for (i = 0; i < MAX_KEPT; i++) {
		if (kept[i].fd >= 0 && !strcmp(kept[i].path, path))
			break;
	}
	if (i == MAX_KEPT || pread(kept[i].fd, buf, sizeof(buf), 0) > 0)
		return;
	for (i = 0; i < MAX_KEPT; i++) {
		if (kept[i].fd >= 0 && kept[i].of == pid)
			kept_close(&kept[i]);
	}
}

void proc_forget(const pid_t *alive, int n)
{
	int i, j;

	for (i = 0; i < MAX_KEPT; i++) {
		if (kept[i].fd < 0 || !kept[i].of)
			continue;
		for (j = 0; j < n && alive[j] != kept[i].of; j++)
			;
		if (j == n)
			kept_close(&kept[i]);
	}
}

int vmas_read(bool smaps, unsigned long start, unsigned long end,
	      struct vma *out, int max)
{
	static char buf[1 << 16];
	struct vma_scan sc = {
		.smaps = smaps, .start = start, .end = end,
		.out = out, .max = max,
	};
	size_t have = 0;
	char *line, *nl;
	ssize_t got;
	int fd;

	fd = proc_open(smaps ? "/proc/self/smaps" : "/proc/self/maps", 0);
	if (fd < 0)
		return -1;
	do {
		got = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (got < 0)
			break;
		have += got;
		buf[have] = '\0';
		for (line = buf; (nl = memchr(line, '\n', buf + have - line));
		     line = nl + 1) {
			*nl = '\0';
			scan_line(&sc, line);
		}
		have = buf + have - line;
		if (got == 0 && have)		/* the last line, unended */
			scan_line(&sc, line);
		/* a line longer than buf (none is): dropped */
		if (have == sizeof(buf) - 1)
			have = 0;
		memmove(buf, line, have);
	} while (got > 0);
	proc_close(fd);
	return got < 0 ? -1 : sc.n;
}

int vmas_in(unsigned long start, unsigned long end, struct vma *out, int max)
{
	int n = vmas_read(true, start, end, out, max);

	return n < max ? n : max;
}

int vma_at(unsigned long addr, struct vma *out)
{
	return vmas_in(addr, addr + 1, out, 1) == 1 ? 0 : -1;
}

bool vmflags_has(const char *flags, const char *flag)
{
	size_t len = strlen(flag);
	const char *p;

	for (p = flags; (p = strstr(p, flag)); p += len)
		if ((p == flags || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

bool vma_has_flag(const struct vma *v, const char *flag)
{
	return vmflags_has(v->flags, flag);
}

int vma_flag_count(const struct vma *v)
{
	const char *p;
	int n = 0;

	for (p = v->flags; *p; p++)
		n += p[0] != ' ' && (p[1] == ' ' || p[1] == '\0');
	return n;
}

struct mmapdemo_stats twin_stats(int fd)
{
	struct mmapdemo_stats st;

	if (ioctl(fd, MMAPDEMO_IOC_GET_STATS, &st)) {
		perror("MMAPDEMO_IOC_GET_STATS");
		exit(2);
	}
	return st;
}

unsigned int mmapdemo_features(void)
{
	int fd = open(MMAPDEMO_DEV_LEGACY, O_RDONLY | O_CLOEXEC);
	__u32 features = 0;

	if (fd >= 0) {
		if (ioctl(fd, MMAPDEMO_IOC_GET_FEATURES, &features))
			features = 0;
		close(fd);
	}
	return features;
}

const char *prepare_lacks(__u32 mode, __u32 stage, int override)
{
	if (!has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
		return NO_PREPARE_TWINS;
	if (mode == MMAPDEMO_MODE_REMAP && !has_feature(MMAPDEMO_FEAT_MMAP_ACTION))
		return "no struct mmap_action (6.19): .mmap_prepare cannot remap PFNs";
	if (mode == MMAPDEMO_MODE_PAGES &&
	    !has_feature(MMAPDEMO_FEAT_MAP_KERNEL_PAGES))
		return "no mmap_action_map_kernel_pages (7.1): .mmap_prepare cannot insert pages";
	if (stage == MMAPDEMO_FAIL_MAPPED &&
	    !has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED))
		return "no vm_ops->mapped (7.1): nothing of the driver can attach state to a new VMA";
	if (override && !has_feature(MMAPDEMO_FEAT_ERROR_OVERRIDE)) {
		if (!has_feature(MMAPDEMO_FEAT_ERROR_HOOK))
			return "no mmap_action (6.19): no error_hook or error_override to replace an error";
		if (override != EAGAIN)
			return "only action.error_hook (6.19-7.1): the twin offers override EAGAIN only";
	}
	return NULL;
}

long module_pages(void)
{
	FILE *f = fopen("/sys/module/mmapdemo/parameters/pages", "r");
	long pages = -1;

	if (f) {
		if (fscanf(f, "%ld", &pages) != 1)
			pages = -1;
		fclose(f);
	}
	return pages;
}

int twin_set_mode(int fd, __u32 mode)
{
	return ioctl(fd, MMAPDEMO_IOC_SET_MODE, &mode);
}

int twin_open(const char *dev, int flags, __u32 mode)
{
	int fd = open(dev, flags | O_CLOEXEC);

	if (fd >= 0 && twin_set_mode(fd, mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

void *reserve(size_t len)
{
	return mmap(NULL, len, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

char *reserve_aligned(void)
{
	char *p = reserve(2 * PMD_SZ), *a;

	if (p == MAP_FAILED)
		return p;
	a = (char *)(((unsigned long)p + PMD_SZ - 1) & ~(PMD_SZ - 1));
	/* what lies around the aligned PMD_SZ goes */
	if (a > p)
		munmap(p, a - p);
	munmap(a + PMD_SZ, p + PMD_SZ - a);
	return a;
}

int proc_lines(const char *path, void (*fn)(const char *line, void *arg),
	       void *arg)
{
	static char buf[4096], line[512];
	size_t len = 0;
	ssize_t got, i;
	int fd;

	fd = proc_open(path, 0);
	if (fd < 0)
		return -1;
	while ((got = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < got; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = '\0';
			fn(line, arg);
			len = 0;
		}
	}
	proc_close(fd);
	return got < 0 ? -1 : 0;
}

int map_count_in(unsigned long start, unsigned long end)
{
	return vmas_read(false, start, end, NULL, 0);
}

int map_count(void)
{
	return map_count_in(0, ~0UL);
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool kmsg_report(int fd, char *line, size_t size)
{
	static const char * const bad[] = {
		"BUG:", "WARNING:", "kernel BUG", "unreferenced object",
		"refcount_t", "INFO:", "Oops", "general protection",
		"Call Trace", "Kernel panic",
	};
	char rec[2048], *msg;
	unsigned int i;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: read on */
			continue;
		if (n <= 0)
			return false;
		rec[n] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (!strstr(rec, bad[i]))
				continue;
			/* "LEVEL,SEQ,TIME,FLAGS;MESSAGE\n" */
			msg = strchr(rec, ';');
			msg = msg ? msg + 1 : rec;
			msg[strcspn(msg, "\n")] = '\0';
			snprintf(line, size, "%s", msg);
			return true;
		}
	}
}

long sysctl_read(const char *path)
{
	FILE *f = fopen(path, "r");
	long val = -1;

	if (f) {
		if (fscanf(f, "%ld", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

int sysctl_write(const char *path, long val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", val) < 0;
	ret |= fclose(f) != 0;
	return ret ? -1 : 0;
}

int map_one_by_one(int fd, char *base, int n, int *err)
{
	size_t psz = getpagesize();
	int i;

	*err = 0;
	for (i = 0; i < n; i++) {
		if (mmap(base + i * psz, psz, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, i * psz) == MAP_FAILED) {
			*err = errno;
			break;
		}
	}
	return i;
}

int twin_set_fail(int fd, __u32 stage, __s32 error, __s32 error_override)
{
	struct mmapdemo_fail f = {
		.stage = stage,
		.error = error,
		.error_override = error_override,
	};

	return ioctl(fd, MMAPDEMO_IOC_SET_FAIL, &f);
}

static sigjmp_buf probe_env;

static void probe_handler(int sig)
{
	siglongjmp(probe_env, sig);
}

int probe_read(const volatile void *p, unsigned char *val)
{
	struct sigaction sa = { .sa_handler = probe_handler }, old_segv, old_bus;
	int sig;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	sig = sigsetjmp(probe_env, 1);
	if (!sig)
		*val = *(const volatile unsigned char *)p;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return sig;
}

long maps_snapshot(char *buf, size_t size)
{
	return proc_read("/proc/self/maps", buf, size);
}

/* The number of a "Key:  N kB" line of a /proc file; -1 on error. */
static long proc_kb(const char *path, const char *key)
{
	static char buf[8192];
	char k[64];
	const char *p;
	long kb;

	if (proc_read(path, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(k, sizeof(k), "\n%s:", key);
	p = strstr(buf, k);
	if (!p || sscanf(p + strlen(k), "%ld", &kb) != 1)
		return -1;
	return kb;
}

long vm_size(void)
{
	long kb = proc_kb("/proc/self/status", "VmSize");

	return kb < 0 ? -1 : kb * 1024;
}

long status_kb(const char *key)
{
	return proc_kb("/proc/self/status", key);
}

long meminfo_kb(const char *name)
{
	return proc_kb("/proc/meminfo", name);
}
