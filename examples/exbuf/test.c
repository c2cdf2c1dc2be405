// SPDX-License-Identifier: GPL-2.0
/*
 * examples/exbuf: docs/porting.md's driver at each of its states -
 * exbuf_legacy.ko, exbuf_step1.ko, exbuf_step2.ko (all f_op->mmap, every
 * kernel) and exbuf_prepare.ko (f_op->mmap_prepare, 7.1+) - loaded from
 * /extra/example.  Every state must give the same data at offset 0 and
 * beyond, the VmFlags of a remap, refuse the same bad requests, hold one
 * reference per VMA (the "refs" parameter) and none once unmapped, and
 * unload once the last mapping is gone.  A module this kernel's probes
 * did not build SKIPs, with the probe named by examples.txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kselftest_harness.h"


#define EXAMPLE_DIR	"/extra/example"
#define PAGES		4	/* EXBUF_PAGES */

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


/* Is the running kernel older than major.minor? */
static bool kernel_before(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma < major || (ma == major && mi < minor);
}

/*
 * What remap_pfn_range() sets (mm/memory.c: remap_pfn_range_internal to
 * 6.18, remap_pfn_range_prepare from 6.19: VM_IO, VM_PFNMAP,
 * VM_DONTEXPAND, VM_DONTDUMP) on top of mm/mmap.c:do_mmap's flags for a
 * MAP_SHARED, PROT_READ | PROT_WRITE mapping of a file opened O_RDWR;
 * before 6.16 also VM_PAT ("ar"), which x86's track_pfn_remap
 * (arch/x86/mm/pat/memtype.c) set for a remap of a whole VMA.
 */
static const char *want_flags(void)
{
	return kernel_before(6, 16) ? "rd wr sh mr mw me ms io pf ar de dd" :
				      "rd wr sh mr mw me ms io pf de dd";
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

FIXTURE(exbuf) {
	int fd;
	size_t psz;
};

FIXTURE_VARIANT(exbuf) {
	const char *name;
};

FIXTURE_VARIANT_ADD(exbuf, legacy) { .name = "exbuf_legacy" };
FIXTURE_VARIANT_ADD(exbuf, step1) { .name = "exbuf_step1" };
FIXTURE_VARIANT_ADD(exbuf, step2) { .name = "exbuf_step2" };
FIXTURE_VARIANT_ADD(exbuf, prepare) { .name = "exbuf_prepare" };

FIXTURE_SETUP(exbuf)
{
	char why[256], dev[64];
	int ret;

	self->fd = -1;
	self->psz = getpagesize();
	ret = example_load(variant->name, why, sizeof(why));
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	snprintf(dev, sizeof(dev), "/dev/%s", variant->name);
	self->fd = open(dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev, strerror(errno));
}

FIXTURE_TEARDOWN(exbuf)
{
	if (self->fd >= 0)
		close(self->fd);
	example_unload(variant->name);	/* ENOENT after the rmmod test */
}

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exbuf, data_at_offsets)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p, *q;
	int i;

	EXPECT_EQ(0, example_param(variant->name, "refs"));
	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap at 2: %s", strerror(errno));
	for (i = 0; i < PAGES; i++) {
		EXPECT_EQ('a' + i, p[i * psz]);
		EXPECT_EQ('a' + i, p[(i + 1) * psz - 1]);
	}
	EXPECT_EQ('c', q[0]);
	EXPECT_EQ('d', q[psz]);
	EXPECT_EQ(1, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags)));
	EXPECT_TRUE(same_flags(flags, want_flags()))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, want_flags());
	EXPECT_EQ(2, example_param(variant->name, "refs"));
	munmap(p, PAGES * psz);
	munmap(q, 2 * psz);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* One reference per VMA: a split adds one (->open), munmap drops all. */
TEST_F(exbuf, refs_follow_vmas)
{
	size_t psz = self->psz;
	char *p;

	p = mmap(NULL, PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(1, example_param(variant->name, "refs"));
	ASSERT_EQ(0, munmap(p + psz, psz));	/* three pieces: two VMAs */
	EXPECT_EQ(2, example_param(variant->name, "refs"));
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* Out of range, or private: EINVAL from the hook, and no reference. */
TEST_F(exbuf, bad_requests)
{
	size_t psz = self->psz;

	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd,
				   PAGES * psz));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, (PAGES + 1) * psz, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, example_param(variant->name, "refs"));
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exbuf, rmmod)
{
	char *p;

	p = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, example_unload(variant->name));
	EXPECT_EQ(EWOULDBLOCK, errno);
	munmap(p, self->psz);
	EXPECT_EQ(0, example_unload(variant->name))
		TH_LOG("rmmod %s: %s", variant->name, strerror(errno));
}

TEST_HARNESS_MAIN
