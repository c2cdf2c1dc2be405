/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests of examples/ share: loading an example's module from
 * /extra/example (where make check puts the modules a kernel built, and
 * examples.txt, the list of those built and not built, from
 * scripts/examples-built), the VmFlags and the VMA count of a range from
 * /proc/self/smaps, and module parameters.  Static functions, included
 * once by each examples/NAME/test.c after kselftest_harness.h, and by
 * userspace-tests/bench.c (no harness: it gets all but example_open()).
 */
#ifndef EXAMPLE_TEST_H
#define EXAMPLE_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define EXAMPLE_DIR	"/extra/example"

/*
 * Load NAME.ko: 0, or 1 with the probe that did not build it in why (a
 * SKIP), or -1 (an error, in why).
 */
static inline int example_load(const char *name, char *why, size_t size)
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

static inline int example_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* The VmFlags of the VMA that holds addr, and how many VMAs [s, e) has. */
static inline int vma_flags(unsigned long addr, unsigned long s, unsigned long e,
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
static inline bool same_flags(const char *got, const char *want)
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
static inline bool kernel_before(int major, int minor)
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
static inline const char *want_flags(void)
{
	return kernel_before(6, 16) ? "rd wr sh mr mw me ms io pf ar de dd" :
				      "rd wr sh mr mw me ms io pf de dd";
}
/* The value of parameter PARAM of module NAME, or -1. */
static inline long example_param(const char *name, const char *param)
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


#ifdef __KSELFTEST_HARNESS_H
/*
 * A fixture's set-up: load module NAME (a SKIP naming the probe if this
 * kernel's build left it out) and open /dev/NAME read-write into *fd.
 */
static inline void example_open(struct __test_metadata *_metadata,
				const char *name, int *fd)
{
	char why[256], dev[64];
	int ret;

	*fd = -1;
	ret = example_load(name, why, sizeof(why));
	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
	snprintf(dev, sizeof(dev), "/dev/%s", name);
	*fd = open(dev, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *fd) TH_LOG("open %s: %s", dev, strerror(errno));
}

/*
 * Page i of the example's buffer of @pages pages is filled with 'a' + i:
 * check it through a mapping at offset 0 and through one at page 2.
 */
static inline void example_check_data(struct __test_metadata *_metadata,
				      int fd, int pages)
{
	size_t psz = getpagesize();
	char *p, *q;
	int i;

	p = mmap(NULL, pages * psz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, fd, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap at 2: %s", strerror(errno));
	for (i = 0; i < pages; i++) {
		EXPECT_EQ('a' + i, p[i * psz]);
		EXPECT_EQ('a' + i, p[(i + 1) * psz - 1]);
	}
	EXPECT_EQ('c', q[0]);
	EXPECT_EQ('d', q[psz]);
	munmap(p, pages * psz);
	munmap(q, 2 * psz);
}

/*
 * Requests beyond the example's buffer of @pages pages: EINVAL from its
 * hook, for an offset at the end, a length one page too long and two
 * pages from the last one.
 */
static inline void example_check_past_end(struct __test_metadata *_metadata,
					  int fd, int pages)
{
	size_t psz = getpagesize();

	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, fd,
				   pages * psz));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, (pages + 1) * psz, PROT_READ,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, fd,
				   (pages - 1) * psz));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * A mapping keeps module @name in use after close(*fd) (*fd becomes -1):
 * rmmod fails with EWOULDBLOCK until munmap, then succeeds.
 */
static inline void example_check_rmmod(struct __test_metadata *_metadata,
				       int *fd, const char *name)
{
	size_t psz = getpagesize();
	char *p;

	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, *fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	close(*fd);
	*fd = -1;
	EXPECT_EQ(-1, example_unload(name));
	EXPECT_EQ(EWOULDBLOCK, errno);
	munmap(p, psz);
	EXPECT_EQ(0, example_unload(name))
		TH_LOG("rmmod %s: %s", name, strerror(errno));
}

/*
 * EXAMPLE_FIXTURE(F): fixture F of one open example device, the module
 * its variant names (FIXTURE_VARIANT_ADD(F, v) { .name = "NAME" }) loaded
 * in set-up and unloaded in tear-down.
 */
#define EXAMPLE_FIXTURE(F)						\
	FIXTURE(F) {							\
		int fd;							\
		size_t psz;						\
	};								\
	FIXTURE_VARIANT(F) {						\
		const char *name;					\
	};								\
	FIXTURE_SETUP(F)						\
	{								\
		self->psz = getpagesize();				\
		example_open(_metadata, variant->name, &self->fd);	\
	}								\
	FIXTURE_TEARDOWN(F)						\
	{								\
		if (self->fd >= 0)					\
			close(self->fd);				\
		/* ENOENT after the rmmod test */			\
		example_unload(variant->name);				\
	}

/*
 * Two adjacent MAP_SHARED mmap()s of fd at contiguous offsets, pages 0-1
 * and 2-3, in a 4-page range reserved for them: its start.
 */
static inline char *example_map_adjacent(struct __test_metadata *_metadata,
					 int fd)
{
	size_t psz = getpagesize();
	char *p, *q;

	p = mmap(NULL, 4 * psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(p, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	ASSERT_EQ(p, q) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(p + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 2 * psz);
	ASSERT_EQ(p + 2 * psz, q) TH_LOG("mmap: %s", strerror(errno));
	return p;
}
#endif /* __KSELFTEST_HARNESS_H */

#endif /* EXAMPLE_TEST_H */
