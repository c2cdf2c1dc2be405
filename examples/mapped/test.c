// SPDX-License-Identifier: GPL-2.0
/*
 * examples/mapped: exmapped.ko (vm_ops->mapped, 7.1+), loaded from
 * /extra/example.  Each open file has its own buffer; the "buffers"
 * parameter counts the buffers alive.  A buffer must live exactly as long
 * as its file or a mapping of it: through close(), a split (->open),
 * fork(), and a merge - two adjacent mmap()s of contiguous offsets become
 * one VMA, with ->mapped called once, and on 7.1 and 7.2.0-7.2.9 the
 * kernel writes desc->private_data and desc->vm_ops onto the VMA merged
 * into (mm/vma.c:__mmap_region, set_vma_user_defined_fields): that may
 * neither leak the buffer nor free it early.  A kernel the probes did not
 * build exmapped.ko for SKIPs, with the probe named by examples.txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"


#define EXAMPLE_DIR	"/extra/example"
#define NAME		"exmapped"
#define PAGES		4	/* EXMAPPED_PAGES */

/*
 * mm/mmap.c:do_mmap's flags for a MAP_SHARED, PROT_READ | PROT_WRITE
 * mapping of a file opened O_RDWR; the driver adds none.
 */
#define WANT_FLAGS	"rd wr sh mr mw me ms"

/*
 * Load NAME.ko: 0, or 1 with the probe that did not build it in why (a
 * SKIP), or -1 (an error, in why).
 */
static int example_load(const char *name, char *why, size_t size)
{
	char path[128], line[160], mod[64], state[16], probe[64];
	int fd, ret = -1;
	FILE *list;

	snprintf(path, sizeof(path), EXAMPLE_DIR "/%s.ko", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ret = syscall(SYS_finit_module, fd, "", 0) ? -1 : 0;
		snprintf(why, size, "load %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	snprintf(why, size, "%s: %s, and examples.txt does not say why",
		 path, strerror(errno));
	list = fopen(EXAMPLE_DIR "/examples.txt", "r");
	while (list && fgets(line, sizeof(line), list))
		if (sscanf(line, "%63s %15s %63s", mod, state, probe) == 3 &&
		    !strcmp(mod, name) && !strcmp(state, "not-built")) {
			snprintf(why, size, "%s not built: this kernel lacks %s",
				 name, probe);
			ret = 1;
		}
	if (list)
		fclose(list);
	return ret;
}

static int example_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* The VmFlags of the VMA that holds addr, and how many VMAs [s, e) has. */
static int vma_flags(unsigned long addr, unsigned long s, unsigned long e,
		     char *flags, size_t size)
{
	unsigned long start, end, in = 0;
	bool here = false;
	char line[512];
	int vmas = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			here = start <= addr && addr < end;
			in = start < e && end > s;
			vmas += in;
		} else if (here && !strncmp(line, "VmFlags:", 8)) {
			size_t len = strcspn(line + 9, "\n");

			while (len && line[9 + len - 1] == ' ')
				len--;
			if (len >= size)
				len = size - 1;
			memcpy(flags, line + 9, len);
			flags[len] = '\0';
		}
	}
	fclose(f);
	return vmas;
}

/*
 * Are the mnemonics of got those of want?  "sd" (VM_SOFTDIRTY, which
 * mm/vma.c:__mmap_complete sets on every new VMA where the kernel has
 * CONFIG_MEM_SOFT_DIRTY) may come on top.
 */
static bool same_flags(const char *got, const char *want)
{
	char g[256], w[256], padded[264], tok_padded[16], *tok, *save;
	int n = 0, m = 0;

	snprintf(padded, sizeof(padded), " %s ", want);
	snprintf(g, sizeof(g), "%s", got);
	for (tok = strtok_r(g, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "sd"))
			continue;
		snprintf(tok_padded, sizeof(tok_padded), " %s ", tok);
		if (!strstr(padded, tok_padded))
			return false;
		n++;
	}
	snprintf(w, sizeof(w), "%s", want);
	for (tok = strtok_r(w, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		m++;
	return n == m;
}


/* The value of parameter PARAM of module NAME, or -1. */
static long example_param(const char *name, const char *param)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", name, param);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static long buffers(void)
{
	return example_param(NAME, "buffers");
}

FIXTURE(exmapped) {
	int fd;
	size_t psz;
};

FIXTURE_SETUP(exmapped)
{
	char why[256];
	int ret;

	self->fd = -1;
	self->psz = getpagesize();
	ret = example_load(NAME, why, sizeof(why));
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	self->fd = open("/dev/" NAME, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(1, buffers());
}

FIXTURE_TEARDOWN(exmapped)
{
	if (self->fd >= 0)
		close(self->fd);
	example_unload(NAME);	/* ENOENT after the rmmod test */
}

/* Each open file has its own buffer, and it outlives close(). */
TEST_F(exmapped, buffer_per_file)
{
	size_t psz = self->psz;
	int fd2;
	char *p, *q;

	fd2 = open("/dev/" NAME, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(2, buffers());
	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, psz, PROT_READ, MAP_SHARED, fd2, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ('d', p[3 * psz]);
	p[2 * psz] = 'X';
	EXPECT_EQ('c', q[0]);		/* fd2's own buffer */
	close(fd2);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(2, buffers());	/* the mappings hold them */
	EXPECT_EQ('X', p[2 * psz]);
	munmap(q, psz);
	EXPECT_EQ(1, buffers());
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, buffers());
}

/*
 * Two adjacent mmap()s merge into one VMA: the buffer is held once, by
 * that VMA, and goes when it goes - not before (a ->close too many), not
 * never (a reference of the merged mmap() that nothing drops).
 */
TEST_F(exmapped, merge_orphans_nothing)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p, *q;
	int i;

	p = mmap(NULL, PAGES * psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < PAGES; i += 2) {
		q = mmap(p + i * psz, 2 * psz, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, self->fd, i * psz);
		ASSERT_EQ(p + i * psz, q) TH_LOG("mmap: %s", strerror(errno));
	}
	ASSERT_EQ(1, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags))) TH_LOG("the mmap()s did not merge");
	EXPECT_TRUE(same_flags(flags, WANT_FLAGS))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, WANT_FLAGS);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(1, buffers());
	TH_LOG("two mmap()s, one VMA: %ld buffer alive after close()", buffers());
	for (i = 0; i < PAGES; i++)
		EXPECT_EQ('a' + i, p[i * psz]);
	ASSERT_EQ(0, munmap(p + 3 * psz, psz));	/* still one VMA */
	EXPECT_EQ(1, buffers());
	EXPECT_EQ('a', p[0]);
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, buffers());
}

/* A split and a fork: each copy holds the buffer, ->close drops it. */
TEST_F(exmapped, split_and_fork)
{
	size_t psz = self->psz;
	int status;
	pid_t pid;
	char *p;

	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, munmap(p + psz, psz));	/* two VMAs */
	close(self->fd);
	self->fd = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(p[0] == 'a' && p[3 * psz] == 'd' ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1, buffers());
	munmap(p, psz);
	EXPECT_EQ(1, buffers());
	EXPECT_EQ('c', p[2 * psz]);
	munmap(p + 2 * psz, 2 * psz);
	EXPECT_EQ(0, buffers());
}

/* Beyond the buffer: EINVAL from the hook, and no reference taken. */
TEST_F(exmapped, bad_requests)
{
	size_t psz = self->psz;

	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd,
				   PAGES * psz));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, (PAGES + 1) * psz, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, buffers());
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exmapped, rmmod)
{
	char *p;

	p = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, example_unload(NAME));
	EXPECT_EQ(EWOULDBLOCK, errno);
	munmap(p, self->psz);
	EXPECT_EQ(0, example_unload(NAME)) TH_LOG("rmmod: %s", strerror(errno));
}

TEST_HARNESS_MAIN
