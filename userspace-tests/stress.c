// SPDX-License-Identifier: GPL-2.0
/*
 * Differential stress: one seeded random sequence of operations, applied
 * step by step to a .mmap_prepare twin and to its .mmap twin - the two
 * character devices, or a file of each filesystem twin - each in a
 * process of its own (a worker), at the same addresses with the same
 * lengths, offsets and data.  After every step the workers must agree on
 *  - the result and errno of the step, and whether an armed failure fired;
 *  - the VMAs of the arena: address, offset and VmFlags of every range;
 *  - what every page of the arena reads (its hash, or the signal), in the
 *    worker and, after a fork, in the child.
 *
 * The operations: mmap (every mode this kernel's prepare twin has,
 * MAP_SHARED or MAP_PRIVATE, next to a VMA with the contiguous offset or
 * anywhere, MAP_FIXED over what is there or MAP_FIXED_NOREPLACE, now and
 * then with a failure armed, MMAPDEMO_IOC_SET_FAIL), munmap of a whole VMA
 * or of any range, mprotect, mremap (shrink, grow in place, move),
 * madvise(MADV_DONTNEED), fork with the child reading every page, writes
 * and reads.
 *
 * Where the kernel treats the twins differently by design, the difference
 * is not ignored: it is recognised by all of its conditions, counted, and
 * anything else fails the step (README, "What the kit shows"; reference
 * api-generations.md, section 3):
 *  - FLAGS_SPLIT: a legacy FLAGS mmap does not merge at mmap time (its
 *    flags come after the kernel's only merge attempt).  The two layouts
 *    are then the same ranges with the same offsets and VmFlags, cut at
 *    more (or other) places, and only inside FLAGS ranges ("dc");
 *  - MREMAP_SPLIT: so an mremap() whose old range (less the tail a shrink
 *    drops first) is one VMA in one twin and several, all FLAGS, in the
 *    other may succeed in one twin only;
 *  - ARMED_MERGED: a legacy mmap() that the kernel merges into its
 *    neighbour never reaches .mmap, so a failure armed for it does not
 *    fire (the prepare hook runs for every mmap);
 *  - PAST_END_MERGED: for the same reason the legacy character device's
 *    range check is not reached: a FAULT mmap past the end of the buffer
 *    that merges into its neighbour succeeds, where the prepare twin says
 *    EINVAL (its pages past the end SIGBUS);
 *  - MERGED_PRIVATE: with kernel-bug merge-clobber (kbugs.h, measured)
 *    a merged prepare mmap sets the neighbour's vm_private_data to NULL;
 *    on 7.1, with vm_ops->mapped, that state object is orphaned, so the
 *    prepare twin's live_objects may end above its start by at most the
 *    number of merged prepare mmaps.
 * After MREMAP_SPLIT, ARMED_MERGED or PAST_END_MERGED both workers unmap
 * the ranges involved, and the run goes on.  At the end every mapping is
 * gone: live_objects is back at its start (legacy: exactly), both twins
 * injected as many failures (less ARMED_MERGED), and the kernel log has
 * nothing new that is a WARNING, BUG, Oops or refcount report.
 *
 * Environment: STRESS_SEED (default a fixed seed), STRESS_STEPS (default
 * 200 per variant, what make check runs), STRESS_TRACE=1 prints every
 * step.  A failing step prints the seed, the step, both workers' view,
 * and a make stress command that replays the run up to that step.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kbugs.h"
#include "vma.h"

KBUGS_MEASURE_AT_START()

/* Far below mmap_base: the kernel puts nothing of its own choice here. */
#define ARENA_ADDR	0x100000000000UL
#define ARENA_PAGES	48
#define FILE_PAGES	64
#define DEFAULT_SEED	0x6d6d617064656d6fULL	/* "mmapdemo" */
#define DEFAULT_STEPS	200
#define REPLY_TIMEOUT_MS 60000
#define NR_MODES	4

enum op_type {
	OP_MMAP, OP_MUNMAP, OP_MPROTECT, OP_MREMAP, OP_DONTNEED, OP_FORK,
	OP_WRITE, OP_READ, OP_END,
};

static const char * const op_names[] = {
	[OP_MMAP] = "mmap", [OP_MUNMAP] = "munmap", [OP_MPROTECT] = "mprotect",
	[OP_MREMAP] = "mremap", [OP_DONTNEED] = "madvise(DONTNEED)",
	[OP_FORK] = "fork", [OP_WRITE] = "write", [OP_READ] = "read",
	[OP_END] = "end",
};

static const char * const mode_names[NR_MODES] = {
	[MMAPDEMO_MODE_FAULT] = "FAULT", [MMAPDEMO_MODE_FLAGS] = "FLAGS",
	[MMAPDEMO_MODE_REMAP] = "REMAP", [MMAPDEMO_MODE_PAGES] = "PAGES",
};

/* One step; addresses and lengths in pages, relative to the arena. */
struct op {
	__u32 type;
	__u32 mode;		/* mmap: the worker's fd of that mode */
	__u32 stage;		/* mmap: failure armed for it, or NONE */
	int error;		/* its errno */
	int shared, noreplace, prot, mremap_flags;
	long addr, len;
	long off;		/* mmap: file offset */
	long new_addr, new_len;	/* mremap */
	long byte;		/* write: byte offset in the arena */
	__u64 value;
};

struct rvma {
	long start, end, off;	/* pages; start, end relative to the arena */
	char perms[8];		/* of /proc/self/maps: tells a change */
	char flags[96];		/* VmFlags, single spaces */
};

/* A page of the arena: 0 (no VMA, or no "rd"), 'r' and a hash, or a signal. */
struct pview {
	int state;
	__u64 hash;
};

struct reply {
	long ret;		/* -1, 0, or the address mmap/mremap returned */
	int err;		/* errno when ret is -1; a signal for write */
	struct mmapdemo_stats before, after;
	int nvmas;
	struct rvma v[ARENA_PAGES];
	struct pview page[ARENA_PAGES];
	struct pview child[ARENA_PAGES];	/* OP_FORK: the child's view */
};

enum doc {
	DOC_FLAGS_SPLIT, DOC_MREMAP_SPLIT, DOC_ARMED_MERGED,
	DOC_PAST_END_MERGED, DOC_MERGED_PRIVATE, NR_DOCS,
};

static const char * const doc_names[NR_DOCS] = {
	[DOC_FLAGS_SPLIT] = "FLAGS_SPLIT", [DOC_MREMAP_SPLIT] = "MREMAP_SPLIT",
	[DOC_ARMED_MERGED] = "ARMED_MERGED",
	[DOC_PAST_END_MERGED] = "PAST_END_MERGED",
	[DOC_MERGED_PRIVATE] = "MERGED_PRIVATE",
};

/* What a worker maps: the object of one twin. */
struct wcfg {
	const char *path;	/* device node or file */
	bool fs;
	long pages;		/* the object's size */
	__u64 seed;		/* its initial contents */
	int nmodes;
	__u32 modes[NR_MODES];
};

struct worker {
	pid_t pid;
	int to, from;		/* pipes: ops to it, a byte per reply back */
	struct reply *shared;	/* where it puts its reply */
};

FIXTURE(stress) {
	struct worker w[2];	/* 0: prepare, 1: legacy */
	char dir[2][64];	/* fs: the mounts */
	bool mounted[2];
	int statfd[2];		/* a file of each twin, for its counters */
	struct mmapdemo_stats base[2];
	int kmsg;		/* /dev/kmsg, read from the test's start */
	__u64 seed, rng;
	long steps, pages;
	bool trace;
	int nmodes;
	__u32 modes[NR_MODES];
	struct reply rep[2], prev[2];
	long docs[NR_DOCS];
	long merges;		/* prepare mmaps merged into a neighbour */
};

FIXTURE_VARIANT(stress) {
	const char *name;
	bool fs;
	const char *obj[2];	/* device nodes, or filesystem types */
};

FIXTURE_VARIANT_ADD(stress, chardev) {
	.name = "chardev",
	.fs = false,
	.obj = { MMAPDEMO_DEV_PREPARE, MMAPDEMO_DEV_LEGACY },
};

FIXTURE_VARIANT_ADD(stress, fs) {
	.name = "fs",
	.fs = true,
	.obj = { MMAPDEMO_FS_PREPARE, MMAPDEMO_FS_LEGACY },
};

/* ---- small helpers ---- */

static __u64 env_u64(const char *name, __u64 def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/* splitmix64: the same sequence on every libc */
static __u64 rnd(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long pick(__u64 *state, long n)
{
	return n > 0 ? (long)(rnd(state) % (__u64)n) : 0;
}

static bool chance(__u64 *state, int percent)
{
	return pick(state, 100) < percent;
}

static bool has_flag(const char *flags, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = flags;

	while ((p = strstr(p, tok))) {
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static ssize_t io_full(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = wr ? write(fd, (char *)buf + done, len - done) :
			 read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += n;
	}
	return done;
}

static __u64 page_pattern(__u64 seed, long page, long word)
{
	__u64 state = seed ^ ((__u64)page << 32) ^ (__u64)word;

	return rnd(&state);
}

/* ---- the worker: one twin's process ---- */

static sigjmp_buf probe_env;

static void on_fault(int sig)
{
	siglongjmp(probe_env, sig);
}

static __u64 hash_page(const volatile __u64 *p, size_t words)
{
	__u64 h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < words; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* 'r' and the page's hash, or the signal reading it raised. */
static int read_page(const char *p, size_t psz, __u64 *hash)
{
	int sig = sigsetjmp(probe_env, 1);

	if (sig)
		return sig;
	*hash = hash_page((const volatile __u64 *)p, psz / 8);
	return 'r';
}

/* 0, or the signal the write raised. */
static int write_word(char *p, __u64 value)
{
	int sig = sigsetjmp(probe_env, 1);

	if (sig)
		return sig;
	*(volatile __u64 *)p = value;
	return 0;
}

static const struct rvma *vma_of(const struct reply *r, long page)
{
	int i;

	for (i = 0; i < r->nvmas; i++)
		if (r->v[i].start <= page && page < r->v[i].end)
			return &r->v[i];
	return NULL;
}

static void view_pages(const struct reply *r, struct pview *pv, char *arena,
		       size_t psz)
{
	const struct rvma *v;
	long i;

	for (i = 0; i < ARENA_PAGES; i++) {
		pv[i].state = 0;
		pv[i].hash = 0;
		v = vma_of(r, i);
		if (v && has_flag(v->flags, "rd"))
			pv[i].state = read_page(arena + i * psz, psz, &pv[i].hash);
	}
}

/*
 * /proc/self/smaps and maps are read with read(2) into a static buffer
 * and parsed by hand: stdio and sscanf() cost ten times the kernel's own
 * work under TCG.
 */
static char procbuf[1 << 18];

static long slurp(const char *path)
{
	long len = 0, n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, procbuf + len, sizeof(procbuf) - 1 - len)) > 0)
		len += n;
	close(fd);
	procbuf[len] = '\0';
	return n < 0 || len >= (long)sizeof(procbuf) - 1 ? -1 : len;
}

/* "start-end perms offset ...": 0, or -1 for any other line. */
static int parse_header(const char *line, unsigned long *start,
			unsigned long *end, char *perms,
			unsigned long long *off)
{
	char *p;

	*start = strtoul(line, &p, 16);
	if (p == line || *p != '-')
		return -1;
	*end = strtoul(p + 1, &p, 16);
	if (*p != ' ' || !p[1] || !p[2] || !p[3] || !p[4])
		return -1;
	memcpy(perms, p + 1, 4);
	perms[4] = '\0';
	*off = strtoull(p + 6, NULL, 16);
	return 0;
}

/* After "VmFlags:", with single spaces, none at the end. */
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

/*
 * The arena's VMAs, from smaps (with VmFlags) or from maps (without):
 * their number, or -1.
 */
static int read_layout(struct rvma *v, bool smaps, char *arena, size_t psz)
{
	unsigned long lo = (unsigned long)arena, hi = lo + ARENA_PAGES * psz;
	unsigned long start, end;
	unsigned long long off;
	char *line, *next;
	bool in = false;
	int n = 0;

	if (slurp(smaps ? "/proc/self/smaps" : "/proc/self/maps") < 0)
		return -1;
	for (line = procbuf; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (in && !strncmp(line, "VmFlags:", 8)) {
			copy_vmflags(v[n - 1].flags, sizeof(v[n - 1].flags),
				     line + 8);
			in = false;
			continue;
		}
		if (!isxdigit((unsigned char)*line) || n == ARENA_PAGES)
			continue;
		if (parse_header(line, &start, &end, v[n].perms, &off))
			continue;
		in = start < hi && end > lo;
		if (!in)
			continue;
		v[n].start = ((long)start - (long)lo) / (long)psz;
		v[n].end = ((long)end - (long)lo) / (long)psz;
		v[n].off = off / psz;
		v[n].flags[0] = '\0';
		n++;
	}
	return n;
}

static bool same_ranges(const struct rvma *a, int na, const struct rvma *b,
			int nb)
{
	int i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].start != b[i].start || a[i].end != b[i].end ||
		    a[i].off != b[i].off || strcmp(a[i].perms, b[i].perms))
			return false;
	return true;
}

/*
 * The layout after the step: smaps after an operation that changes VMAs;
 * after any other, maps, and smaps only if maps shows a change (the
 * VmFlags of an unchanged VMA stay what they were).
 */
static void observe(struct reply *r, const struct op *op, char *arena,
		    size_t psz)
{
	static struct rvma last[ARENA_PAGES], v[ARENA_PAGES];
	static int nlast = -1;
	bool smaps = nlast < 0 || op->type <= OP_MREMAP;
	int n;

	n = read_layout(v, smaps, arena, psz);
	if (!smaps && !same_ranges(v, n, last, nlast)) {
		smaps = true;
		n = read_layout(v, smaps, arena, psz);
	}
	if (!smaps)
		memcpy(v, last, sizeof(v));
	r->nvmas = n < 0 ? 0 : n;
	memcpy(r->v, v, sizeof(r->v));
	memcpy(last, v, sizeof(last));
	nlast = r->nvmas;
	view_pages(r, r->page, arena, psz);
}

/* The child reads every page into the shared reply, r->child. */
static void fork_and_view(struct reply *r, char *arena, size_t psz)
{
	int status;
	pid_t pid;

	pid = fork();
	if (!pid) {
		view_pages(r, r->child, arena, psz);
		_exit(0);
	}
	r->ret = pid < 0 ? -1 : 0;
	r->err = pid < 0 ? errno : 0;
	if (pid > 0 && (waitpid(pid, &status, 0) != pid ||
			!WIFEXITED(status) || WEXITSTATUS(status)))
		r->ret = -2;
}

static long to_pages(void *p, char *arena, size_t psz)
{
	return p == MAP_FAILED ? -1 : ((char *)p - arena) / (long)psz;
}

static void run_op(const struct op *op, struct reply *r, const int *fd,
		   char *arena, size_t psz)
{
	char *a = arena + op->addr * psz;
	int flags;
	void *p;

	errno = 0;
	switch (op->type) {
	case OP_MMAP:
		if (op->stage &&
		    twin_set_fail(fd[op->mode], op->stage, -op->error, 0)) {
			r->ret = -2;	/* SET_FAIL refused: fails the step */
			r->err = errno;
			break;
		}
		flags = (op->shared ? MAP_SHARED : MAP_PRIVATE) |
			(op->noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED);
		p = mmap(a, op->len * psz, op->prot, flags, fd[op->mode],
			 op->off * psz);
		r->err = p == MAP_FAILED ? errno : 0;
		r->ret = to_pages(p, arena, psz);
		if (op->stage)
			twin_set_fail(fd[op->mode], MMAPDEMO_FAIL_NONE, 0, 0);
		break;
	case OP_MUNMAP:
		r->ret = munmap(a, op->len * psz);
		r->err = r->ret ? errno : 0;
		break;
	case OP_MPROTECT:
		r->ret = mprotect(a, op->len * psz, op->prot);
		r->err = r->ret ? errno : 0;
		break;
	case OP_MREMAP:
		if (op->mremap_flags & MREMAP_FIXED)
			p = mremap(a, op->len * psz, op->new_len * psz,
				   op->mremap_flags, arena + op->new_addr * psz);
		else
			p = mremap(a, op->len * psz, op->new_len * psz,
				   op->mremap_flags);
		r->err = p == MAP_FAILED ? errno : 0;
		r->ret = to_pages(p, arena, psz);
		break;
	case OP_DONTNEED:
		r->ret = madvise(a, op->len * psz, MADV_DONTNEED);
		r->err = r->ret ? errno : 0;
		break;
	case OP_WRITE:
		r->err = write_word(arena + op->byte, op->value);
		r->ret = r->err ? -1 : 0;
		break;
	default:
		break;
	}
}

/* Give the object the contents every run of this seed starts with. */
static int fill_object(const struct wcfg *cfg, int fd, size_t psz)
{
	long words = cfg->pages * psz / 8, i;
	__u64 *p;

	p = mmap(NULL, cfg->pages * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (i = 0; i < words; i++)
		p[i] = page_pattern(cfg->seed, i * 8 / psz, i);
	return munmap(p, cfg->pages * psz);
}

static int worker_setup(const struct wcfg *cfg, int *fd, char **arena,
			size_t psz)
{
	struct sigaction sa = { .sa_handler = on_fault };
	int i;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL))
		return -1;
	for (i = 0; i < NR_MODES; i++)
		fd[i] = -1;
	for (i = 0; i < cfg->nmodes; i++) {
		fd[cfg->modes[i]] = twin_open(cfg->path, O_RDWR, cfg->modes[i]);
		if (fd[cfg->modes[i]] < 0)
			return -1;
	}
	if (!cfg->fs && fill_object(cfg, fd[MMAPDEMO_MODE_FAULT], psz))
		return -1;
	/* the arena is free: nothing of ours or the kernel's is there */
	*arena = mmap((void *)ARENA_ADDR, ARENA_PAGES * psz, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (*arena != (char *)ARENA_ADDR)
		return -1;
	return munmap(*arena, ARENA_PAGES * psz);
}

/*
 * The worker's loop: an op from the pipe in, its reply into the shared r,
 * then one byte on out.
 */
static void __attribute__((noreturn))
worker_main(const struct wcfg *cfg, struct reply *r, int in, int out)
{
	size_t psz = getpagesize();
	int fd[NR_MODES], i;
	char *arena = NULL;
	char done = 1;
	struct op op;
	bool ok;

	memset(r, 0, sizeof(*r));
	ok = !worker_setup(cfg, fd, &arena, psz);
	if (!ok) {
		r->ret = -1;
		r->err = errno;
	}
	io_full(out, &done, 1, true);	/* ready, or why not */
	while (ok && io_full(in, &op, sizeof(op), false) == sizeof(op) &&
	       op.type != OP_END) {
		memset(r, 0, sizeof(*r));
		r->before = twin_stats(fd[MMAPDEMO_MODE_FAULT]);
		run_op(&op, r, fd, arena, psz);
		r->after = twin_stats(fd[MMAPDEMO_MODE_FAULT]);
		observe(r, &op, arena, psz);
		if (op.type == OP_FORK)
			fork_and_view(r, arena, psz);
		ok = io_full(out, &done, 1, true) == 1;
	}
	if (arena)
		munmap(arena, ARENA_PAGES * psz);
	for (i = 0; i < NR_MODES; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	_exit(0);
}

/* ---- the parent: generate, send, compare ---- */

static void start_worker(struct __test_metadata *_metadata,
			 struct worker *w, const struct wcfg *cfg,
			 struct reply *ready)
{
	int to[2], from[2];
	char done;

	w->shared = mmap(NULL, sizeof(*w->shared), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w->shared);
	ASSERT_EQ(0, pipe(to));
	ASSERT_EQ(0, pipe(from));
	w->pid = fork();
	ASSERT_GE(w->pid, 0);
	if (!w->pid) {
		close(to[1]);
		close(from[0]);
		worker_main(cfg, w->shared, to[0], from[1]);
	}
	close(to[0]);
	close(from[1]);
	w->to = to[1];
	w->from = from[0];
	ASSERT_EQ(1, io_full(w->from, &done, 1, false));
	*ready = *w->shared;
	ASSERT_EQ(0, ready->ret) TH_LOG("worker for %s: %s", cfg->path,
					strerror(ready->err));
}

static void stop_worker(struct worker *w)
{
	struct op op = { .type = OP_END };
	int status;

	if (w->pid <= 0)
		return;
	io_full(w->to, &op, sizeof(op), true);
	close(w->to);
	close(w->from);
	waitpid(w->pid, &status, 0);
	munmap(w->shared, sizeof(*w->shared));
	w->pid = 0;
}

static void send_op(struct __test_metadata *_metadata, struct worker *w,
		    const struct op *op)
{
	ASSERT_EQ(sizeof(*op), io_full(w->to, (void *)op, sizeof(*op), true));
}

static void get_reply(struct __test_metadata *_metadata, struct worker *w,
		      struct reply *r, long step)
{
	struct pollfd pfd = { .fd = w->from, .events = POLLIN };
	char done;

	ASSERT_EQ(1, poll(&pfd, 1, REPLY_TIMEOUT_MS))
		TH_LOG("step %ld: worker %d did not answer in %d s", step,
		       w->pid, REPLY_TIMEOUT_MS / 1000);
	ASSERT_EQ(1, io_full(w->from, &done, 1, false))
		TH_LOG("step %ld: worker %d died", step, w->pid);
	*r = *w->shared;
}

/* Both workers do op, the prepare one first; the replies in self->rep. */
static void both(struct __test_metadata *_metadata,
		 FIXTURE_DATA(stress) *self, const struct op *op, long step)
{
	send_op(_metadata, &self->w[0], op);
	send_op(_metadata, &self->w[1], op);
	get_reply(_metadata, &self->w[0], &self->rep[0], step);
	get_reply(_metadata, &self->w[1], &self->rep[1], step);
}

static void describe(const struct op *op, char *buf, size_t size)
{
	static const char * const prots[] = {
		[PROT_NONE] = "---", [PROT_READ] = "r--",
		[PROT_READ | PROT_WRITE] = "rw-",
	};
	const char *prot = op->prot < 4 ? prots[op->prot] : "?";

	switch (op->type) {
	case OP_MMAP:
		snprintf(buf, size,
			 "mmap [%ld,%ld) %s %s %s%s off %ld%s%s%s", op->addr,
			 op->addr + op->len, mode_names[op->mode],
			 op->shared ? "MAP_SHARED" : "MAP_PRIVATE", prot,
			 op->noreplace ? " FIXED_NOREPLACE" : "", op->off,
			 op->stage ? ", armed " : "",
			 op->stage == MMAPDEMO_FAIL_HOOK_ENTRY ? "HOOK_ENTRY" :
			 op->stage == MMAPDEMO_FAIL_HOOK_EXIT ? "HOOK_EXIT" : "",
			 op->stage ? (op->error == EIO ? " EIO" : " ENOSPC") : "");
		break;
	case OP_MPROTECT:
		snprintf(buf, size, "mprotect [%ld,%ld) %s", op->addr,
			 op->addr + op->len, prot);
		break;
	case OP_MREMAP:
		if (op->mremap_flags & MREMAP_FIXED)
			snprintf(buf, size, "mremap [%ld,%ld) to %ld pages at %ld",
				 op->addr, op->addr + op->len, op->new_len,
				 op->new_addr);
		else
			snprintf(buf, size, "mremap [%ld,%ld) to %ld pages in place",
				 op->addr, op->addr + op->len, op->new_len);
		break;
	case OP_WRITE:
		snprintf(buf, size, "write %#llx at page %ld + %ld",
			 (unsigned long long)op->value, op->byte / getpagesize(),
			 op->byte % getpagesize());
		break;
	case OP_FORK:
	case OP_READ:
		snprintf(buf, size, "%s", op_names[op->type]);
		break;
	default:
		snprintf(buf, size, "%s [%ld,%ld)", op_names[op->type],
			 op->addr, op->addr + op->len);
		break;
	}
}

/* ---- the generator ---- */

static __u32 mode_of(const char *flags)
{
	if (has_flag(flags, "pf"))
		return MMAPDEMO_MODE_REMAP;
	if (has_flag(flags, "mm"))
		return MMAPDEMO_MODE_PAGES;
	if (has_flag(flags, "dc"))
		return MMAPDEMO_MODE_FLAGS;
	return MMAPDEMO_MODE_FAULT;
}

static int prot_of(const char *flags)
{
	return (has_flag(flags, "rd") ? PROT_READ : 0) |
	       (has_flag(flags, "wr") ? PROT_WRITE : 0);
}

/* A range: a VMA of the prepare worker's layout, part of one, or any. */
static void pick_range(FIXTURE_DATA(stress) *self, long *addr, long *len)
{
	const struct reply *r = &self->rep[0];
	const struct rvma *v;
	long max;

	if (r->nvmas && chance(&self->rng, 70)) {
		v = &r->v[pick(&self->rng, r->nvmas)];
		*addr = v->start;
		*len = v->end - v->start;
		if (chance(&self->rng, 50)) {
			*addr += pick(&self->rng, *len);
			*len = 1 + pick(&self->rng, v->end - *addr);
		}
		return;
	}
	*addr = pick(&self->rng, ARENA_PAGES);
	max = ARENA_PAGES - *addr < 8 ? ARENA_PAGES - *addr : 8;
	*len = 1 + pick(&self->rng, max);
}

static void gen_mmap(FIXTURE_DATA(stress) *self, struct op *op)
{
	const struct reply *r = &self->rep[0];
	__u64 *rng = &self->rng;
	const struct rvma *v;
	bool placed = false;

	op->type = OP_MMAP;
	op->len = 1 + pick(rng, 6);
	if (r->nvmas && chance(rng, 50)) {
		/* next to a VMA, same fd, protection and contiguous offset */
		v = &r->v[pick(rng, r->nvmas)];
		op->mode = mode_of(v->flags);
		op->shared = has_flag(v->flags, "ms");
		op->prot = prot_of(v->flags);
		if (chance(rng, 50)) {
			op->addr = v->end;
			op->off = v->off + v->end - v->start;
		} else {
			op->addr = v->start - op->len;
			op->off = v->off - op->len;
		}
		placed = op->addr >= 0 && op->addr + op->len <= ARENA_PAGES &&
			 op->off >= 0;
	}
	if (!placed) {
		op->mode = self->modes[pick(rng, self->nmodes)];
		op->shared = chance(rng, 80) ||
			     (op->mode == MMAPDEMO_MODE_REMAP && chance(rng, 90));
		op->prot = chance(rng, 80) ? PROT_READ | PROT_WRITE : PROT_READ;
		op->addr = pick(rng, ARENA_PAGES - op->len + 1);
		op->off = pick(rng, self->pages - op->len + 1);
		if (chance(rng, 10))	/* up to the end of the object */
			op->off = self->pages - op->len;
		else if (chance(rng, 5))	/* partly past it */
			op->off = self->pages - op->len + 1 + pick(rng, 3);
	}
	op->noreplace = chance(rng, 10);
	if (chance(rng, 8)) {
		op->stage = chance(rng, 50) ? MMAPDEMO_FAIL_HOOK_ENTRY :
					      MMAPDEMO_FAIL_HOOK_EXIT;
		op->error = chance(rng, 50) ? EIO : ENOSPC;
	}
}

static void gen_mremap(FIXTURE_DATA(stress) *self, struct op *op)
{
	__u64 *rng = &self->rng;
	long kind = pick(rng, 10);

	op->type = OP_MREMAP;
	pick_range(self, &op->addr, &op->len);
	if (kind < 3 && op->len > 1) {			/* shrink */
		op->new_len = 1 + pick(rng, op->len - 1);
	} else if (kind < 6) {				/* grow in place */
		op->new_len = op->len + 1 + pick(rng, 3);
		if (op->addr + op->new_len > ARENA_PAGES)
			op->new_len = ARENA_PAGES - op->addr;
	} else {					/* move */
		op->new_len = op->len + pick(rng, 3) - 1;
		if (op->new_len < 1)
			op->new_len = 1;
		op->new_addr = pick(rng, ARENA_PAGES - op->new_len + 1);
		op->mremap_flags = MREMAP_MAYMOVE | MREMAP_FIXED;
	}
	if (chance(rng, 10) && op->addr + op->len < ARENA_PAGES)
		op->len++;	/* beyond the VMA */
}

static void gen_op(FIXTURE_DATA(stress) *self, struct op *op)
{
	__u64 *rng = &self->rng;
	long n = pick(rng, 100), page;

	memset(op, 0, sizeof(*op));
	if (n < 30) {
		gen_mmap(self, op);
	} else if (n < 40) {
		op->type = OP_MUNMAP;
		pick_range(self, &op->addr, &op->len);
	} else if (n < 52) {
		static const int prots[] = {
			PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE, PROT_READ,
		};

		op->type = OP_MPROTECT;
		pick_range(self, &op->addr, &op->len);
		op->prot = prots[pick(rng, 4)];
	} else if (n < 64) {
		gen_mremap(self, op);
	} else if (n < 72) {
		op->type = OP_DONTNEED;
		pick_range(self, &op->addr, &op->len);
	} else if (n < 92) {
		op->type = OP_WRITE;
		pick_range(self, &page, &op->len);
		page += pick(rng, op->len);
		op->len = 0;
		op->byte = page * getpagesize() + 8 * pick(rng, getpagesize() / 8);
		op->value = rnd(rng);
	} else if (n < 96) {
		op->type = OP_FORK;
	} else {
		op->type = OP_READ;
	}
}

/* ---- the comparison ---- */

static bool mergeable(const struct rvma *a, const struct rvma *b)
{
	return a->end == b->start && a->off + a->end - a->start == b->off &&
	       !strcmp(a->flags, b->flags);
}

/* The layout with neighbours that could be one VMA joined. */
static int coalesce(const struct reply *r, struct rvma *out)
{
	int i, n = 0;

	for (i = 0; i < r->nvmas; i++) {
		if (n && mergeable(&out[n - 1], &r->v[i]))
			out[n - 1].end = r->v[i].end;
		else
			out[n++] = r->v[i];
	}
	return n;
}

static bool has_boundary(const struct reply *r, long page)
{
	int i;

	for (i = 0; i < r->nvmas; i++)
		if (r->v[i].start == page)
			return true;
	return false;
}

/*
 * The same ranges, offsets and VmFlags; cut at the same places except
 * inside FLAGS ranges (FLAGS_SPLIT, counted).
 */
static bool same_layout(FIXTURE_DATA(stress) *self)
{
	static struct rvma c[2][ARENA_PAGES];
	const struct reply *r = self->rep;
	bool split = false;
	int n[2], i, k;

	n[0] = coalesce(&r[0], c[0]);
	n[1] = coalesce(&r[1], c[1]);
	if (n[0] != n[1])
		return false;
	for (i = 0; i < n[0]; i++)
		if (c[0][i].start != c[1][i].start || c[0][i].end != c[1][i].end ||
		    c[0][i].off != c[1][i].off || strcmp(c[0][i].flags, c[1][i].flags))
			return false;
	for (k = 0; k < 2; k++) {
		for (i = 0; i < r[k].nvmas; i++) {
			if (has_boundary(&r[!k], r[k].v[i].start))
				continue;
			if (!has_flag(r[k].v[i].flags, "dc"))
				return false;
			split = true;
		}
	}
	self->docs[DOC_FLAGS_SPLIT] += split;
	return true;
}

static bool same_pages(const struct pview *a, const struct pview *b)
{
	int i;

	for (i = 0; i < ARENA_PAGES; i++)
		if (a[i].state != b[i].state || a[i].hash != b[i].hash)
			return false;
	return true;
}

#define DELTA(r, f)	((long)((r)->after.f - (r)->before.f))

static bool same_result(const struct reply *p, const struct reply *l)
{
	return p->ret == l->ret && p->err == l->err &&
	       DELTA(p, injected) == DELTA(l, injected);
}

/* VMAs of r that intersect [start, end); -1 if one is not a FLAGS range. */
static int flags_vmas_in(const struct reply *r, long start, long end)
{
	int i, n = 0;

	for (i = 0; i < r->nvmas; i++) {
		if (r->v[i].end <= start || r->v[i].start >= end)
			continue;
		if (!has_flag(r->v[i].flags, "dc"))
			return -1;
		n++;
	}
	return n;
}

/*
 * Is this divergence of the results one of the documented ones, with all
 * of its conditions?  (See the comment at the top.)
 */
static int documented(FIXTURE_DATA(stress) *self, const struct op *op,
		      bool fs)
{
	const struct reply *p = &self->rep[0], *l = &self->rep[1];
	bool legacy_merged = op->type == OP_MMAP && l->ret >= 0 &&
			     p->ret == -1 && op->mode == MMAPDEMO_MODE_FAULT &&
			     !DELTA(l, hook_calls) && !DELTA(l, injected);
	int a, b;

	if (legacy_merged && op->stage && p->err == op->error &&
	    DELTA(p, injected) == 1)
		return DOC_ARMED_MERGED;
	if (legacy_merged && !fs && p->err == EINVAL &&
	    op->off + op->len > self->pages && !DELTA(p, injected))
		return DOC_PAST_END_MERGED;
	if (op->type == OP_MREMAP) {
		/* what is kept and moved: a shrink drops the tail first */
		long end = op->addr + (op->new_len < op->len ? op->new_len : op->len);

		a = flags_vmas_in(&self->prev[0], op->addr, end);
		b = flags_vmas_in(&self->prev[1], op->addr, end);
		if (a > 0 && b > 0 && a != b)
			return DOC_MREMAP_SPLIT;
	}
	return -1;
}

/* Undo what one twin did and the other did not: unmap those ranges. */
static void resync(struct __test_metadata *_metadata,
		   FIXTURE_DATA(stress) *self, const struct op *op, int doc,
		   long step)
{
	struct op un = { .type = OP_MUNMAP, .addr = op->addr, .len = op->len };

	if (doc == DOC_ARMED_MERGED || doc == DOC_PAST_END_MERGED) {
		send_op(_metadata, &self->w[1], &un);
		get_reply(_metadata, &self->w[1], &self->rep[1], step);
		return;
	}
	both(_metadata, self, &un, step);
	un.addr = op->mremap_flags & MREMAP_FIXED ? op->new_addr : op->addr;
	un.len = op->new_len;
	both(_metadata, self, &un, step);
}

static void log_reply(struct __test_metadata *_metadata, const char *who,
		      const struct reply *r, bool fork)
{
	char line[1024];
	size_t len = 0;
	int i;

	TH_LOG("  %s: ret %ld errno %d (%s), hook_calls +%ld, mapped_calls +%ld, injected +%ld",
	       who, r->ret, r->err, r->err ? strerror(r->err) : "-",
	       DELTA(r, hook_calls), DELTA(r, mapped_calls), DELTA(r, injected));
	for (i = 0; i < r->nvmas; i++)
		TH_LOG("  %s:   [%ld,%ld) off %ld  %s", who, r->v[i].start,
		       r->v[i].end, r->v[i].off, r->v[i].flags);
	for (i = 0; i < ARENA_PAGES && len < sizeof(line) - 32; i++) {
		const struct pview *pv = fork ? &r->child[i] : &r->page[i];

		if (pv->state == 'r')
			len += snprintf(line + len, sizeof(line) - len, " %d:%04llx",
					i, (unsigned long long)(pv->hash & 0xffff));
		else if (pv->state)
			len += snprintf(line + len, sizeof(line) - len, " %d:%s",
					i, strsignal(pv->state));
	}
	TH_LOG("  %s: %s pages:%s", who, fork ? "fork child's" : "readable",
	       len ? line : " none");
}

static void fail_step(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stress) *self, const char *variant,
		      const struct op *op, long step, const char *what)
{
	struct utsname u;
	char desc[256];

	uname(&u);
	describe(op, desc, sizeof(desc));
	TH_LOG("seed %#llx, step %ld: %s: the twins differ in %s",
	       (unsigned long long)self->seed, step, desc, what);
	log_reply(_metadata, "prepare", &self->rep[0], op->type == OP_FORK);
	log_reply(_metadata, "legacy ", &self->rep[1], op->type == OP_FORK);
	TH_LOG("replay: make stress KVER=%s STRESS_VARIANT=%s STRESS_SEED=%#llx STRESS_STEPS=%ld STRESS_TRACE=1%s",
	       u.release, variant, (unsigned long long)self->seed, step + 1,
	       self->pages == 64 || variant[0] == 'f' ? "" :
	       " VMRUN_FLAGS='--module-args pages=N' (N as in this run)");
	_metadata->exit_code = KSFT_FAIL;
}

/* One step: false (and the step's failure logged) if the twins differ. */
static bool check_step(struct __test_metadata *_metadata,
		       FIXTURE_DATA(stress) *self,
		       const FIXTURE_VARIANT(stress) *variant,
		       const struct op *op, long step)
{
	const struct reply *p = &self->rep[0], *l = &self->rep[1];
	int doc;

	if (p->ret < -1 || l->ret < -1) {
		fail_step(_metadata, self, variant->name, op, step,
			  "the harness: a worker could not do the step");
		return false;
	}
	if (!same_result(p, l)) {
		doc = documented(self, op, variant->fs);
		if (doc < 0) {
			fail_step(_metadata, self, variant->name, op, step,
				  "result, errno or injected failures");
			return false;
		}
		self->docs[doc]++;
		resync(_metadata, self, op, doc, step);
	}
	if (!same_layout(self)) {
		fail_step(_metadata, self, variant->name, op, step,
			  "VMA layout or VmFlags");
		return false;
	}
	if (!same_pages(p->page, l->page)) {
		fail_step(_metadata, self, variant->name, op, step, "data");
		return false;
	}
	if (op->type == OP_FORK && !same_pages(p->child, l->child)) {
		fail_step(_metadata, self, variant->name, op, step,
			  "data in the fork child");
		return false;
	}
	/* a prepare mmap merged: the hook ran, ->mapped did not */
	if (op->type == OP_MMAP && p->ret >= 0 && prepare_keeps_state() &&
	    DELTA(p, hook_calls) == 1 && !DELTA(p, mapped_calls)) {
		self->merges++;
		self->docs[DOC_MERGED_PRIVATE] +=
			kbug_present(KBUG_MERGE_CLOBBER);
	}
	return true;
}

/* ---- kernel log ---- */

/* Reports logged since kmsg_open() (vma.c), each a failure. */
static void kmsg_check(struct __test_metadata *_metadata, int fd)
{
	char line[256];
	bool found;

	do {
		found = fd >= 0 && kmsg_report(fd, line, sizeof(line));
		EXPECT_FALSE(found) TH_LOG("kernel log: %s", line);
	} while (found);
}

/* ---- the fixture ---- */

static int make_file(const char *path, long pages, __u64 seed)
{
	size_t psz = getpagesize();
	__u64 *buf = malloc(psz);
	long page, i;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !buf)
		return -1;
	for (page = 0; page < pages && fd >= 0; page++) {
		for (i = 0; i < (long)(psz / 8); i++)
			buf[i] = page_pattern(seed, page, page * psz / 8 + i);
		if (write(fd, buf, psz) != (ssize_t)psz) {
			close(fd);
			fd = -1;
		}
	}
	free(buf);
	return fd;
}

FIXTURE_SETUP(stress)
{
	static const __u32 all[] = {
		MMAPDEMO_MODE_FAULT, MMAPDEMO_MODE_FLAGS,
		MMAPDEMO_MODE_REMAP, MMAPDEMO_MODE_PAGES,
	};
	char path[96];
	int k, i;

	self->statfd[0] = self->statfd[1] = -1;
	self->kmsg = -1;
	if (!has_feature(MMAPDEMO_FEAT_PREPARE_TWINS))
		SKIP(return, NO_PREPARE_TWINS);
	self->seed = env_u64("STRESS_SEED", DEFAULT_SEED);
	self->steps = env_u64("STRESS_STEPS", DEFAULT_STEPS);
	self->trace = env_u64("STRESS_TRACE", 0);
	self->rng = self->seed;
	self->pages = variant->fs ? FILE_PAGES : module_pages();
	ASSERT_GE(self->pages, 8);
	/* every mode the prepare twin has here; the filesystems: FAULT, FLAGS */
	for (i = 0; i < (variant->fs ? 2 : NR_MODES); i++)
		if (!prepare_lacks(all[i], 0, 0))
			self->modes[self->nmodes++] = all[i];
	for (k = 0; k < 2; k++) {
		if (!variant->fs) {
			self->statfd[k] = open(variant->obj[k], O_RDONLY | O_CLOEXEC);
			ASSERT_GE(self->statfd[k], 0);
			continue;
		}
		snprintf(self->dir[k], sizeof(self->dir[k]), "/tmp/stress.%s",
			 variant->obj[k]);
		mkdir(self->dir[k], 0755);
		ASSERT_EQ(0, mount("none", self->dir[k], variant->obj[k], 0, NULL))
			TH_LOG("mount %s: %s", variant->obj[k], strerror(errno));
		self->mounted[k] = true;
		snprintf(path, sizeof(path), "%s/f", self->dir[k]);
		self->statfd[k] = make_file(path, self->pages, self->seed);
		ASSERT_GE(self->statfd[k], 0);
	}
	self->base[0] = twin_stats(self->statfd[0]);
	self->base[1] = twin_stats(self->statfd[1]);
	self->kmsg = kmsg_open();
}

FIXTURE_TEARDOWN(stress)
{
	int k, status;

	for (k = 0; k < 2; k++) {
		if (self->w[k].pid > 0) {
			kill(self->w[k].pid, SIGKILL);
			waitpid(self->w[k].pid, &status, 0);
		}
		if (self->statfd[k] >= 0)
			close(self->statfd[k]);
		if (self->mounted[k])
			EXPECT_EQ(0, umount(self->dir[k]));
	}
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/* Every mapping gone: the counters are back where they started. */
static void check_end(struct __test_metadata *_metadata,
		      FIXTURE_DATA(stress) *self)
{
	struct mmapdemo_stats p = twin_stats(self->statfd[0]);
	struct mmapdemo_stats l = twin_stats(self->statfd[1]);

	EXPECT_EQ(self->base[1].live_objects, l.live_objects);
	if (kbug_present(KBUG_MERGE_CLOBBER) && prepare_keeps_state()) {
		/* MERGED_PRIVATE: at most one orphan per merged prepare mmap */
		EXPECT_LE(self->base[0].live_objects, p.live_objects);
		EXPECT_LE(p.live_objects,
			  self->base[0].live_objects + self->merges);
		TH_LOG("MERGED_PRIVATE: %lld state objects orphaned by %ld merged prepare mmaps",
		       (long long)(p.live_objects - self->base[0].live_objects),
		       self->merges);
	} else {
		EXPECT_EQ(self->base[0].live_objects, p.live_objects);
	}
	/* ARMED_MERGED: the legacy twin's failure was not reached */
	EXPECT_EQ(p.injected - self->base[0].injected,
		  l.injected - self->base[1].injected + self->docs[DOC_ARMED_MERGED]);
	kmsg_check(_metadata, self->kmsg);
}

TEST_F_TIMEOUT(stress, differential, 86400)
{
	struct timespec t0, t1;
	struct wcfg cfg[2];
	char desc[256];
	long step;
	struct op op;
	int k;

	for (k = 0; k < 2; k++) {
		cfg[k] = (struct wcfg){
			.fs = variant->fs,
			.pages = self->pages,
			.seed = self->seed,
			.nmodes = self->nmodes,
		};
		memcpy(cfg[k].modes, self->modes, sizeof(self->modes));
		if (variant->fs) {
			static char paths[2][96];

			snprintf(paths[k], sizeof(paths[k]), "%s/f", self->dir[k]);
			cfg[k].path = paths[k];
		} else {
			cfg[k].path = variant->obj[k];
		}
		start_worker(_metadata, &self->w[k], &cfg[k], &self->rep[k]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (step = 0; step < self->steps; step++) {
		gen_op(self, &op);
		if (self->trace) {
			describe(&op, desc, sizeof(desc));
			printf("# step %ld: %s\n", step, desc);
		}
		memcpy(self->prev, self->rep, sizeof(self->prev));
		both(_metadata, self, &op, step);
		if (!check_step(_metadata, self, variant, &op, step))
			break;
	}
	stop_worker(&self->w[0]);
	stop_worker(&self->w[1]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (step == self->steps)
		check_end(_metadata, self);
	TH_LOG("seed %#llx, %ld of %ld steps in %.1f s, %d modes; documented differences (steps): %s %ld, %s %ld, %s %ld, %s %ld, %s %ld (merged prepare mmaps %ld)",
	       (unsigned long long)self->seed, step, self->steps,
	       t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       self->nmodes,
	       doc_names[0], self->docs[0], doc_names[1], self->docs[1],
	       doc_names[2], self->docs[2], doc_names[3], self->docs[3],
	       doc_names[4], self->docs[4], self->merges);
}

TEST_HARNESS_MAIN
