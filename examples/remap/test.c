// SPDX-License-Identifier: GPL-2.0
/*
 * examples/remap: exremap_legacy.ko (.mmap, remap_pfn_range(), every
 * kernel) and exremap.ko (.mmap_prepare, mmap_action_remap_full(), 6.19+),
 * loaded from /extra/example.  Both must map the buffer at every offset
 * with the flags of a remap and nothing else, never merge two adjacent
 * mappings (VM_PFNMAP and VM_IO are VM_SPECIAL:
 * mm/vma.c:vma_merge_new_range), refuse to grow (VM_DONTEXPAND: mm/mremap.c
 * returns EFAULT), refuse what lies beyond the buffer with EINVAL, and
 * unload once the last mapping is gone.  A module this kernel's probes
 * did not build SKIPs, with the probe named by /extra/example/examples.txt.
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
#define PAGES		4	/* EXREMAP_PAGES */

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

FIXTURE(exremap) {
	int fd;
	size_t psz;
};

FIXTURE_VARIANT(exremap) {
	const char *name;
};

FIXTURE_VARIANT_ADD(exremap, legacy) { .name = "exremap_legacy" };
FIXTURE_VARIANT_ADD(exremap, prepare) { .name = "exremap" };

FIXTURE_SETUP(exremap)
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

FIXTURE_TEARDOWN(exremap)
{
	if (self->fd >= 0)
		close(self->fd);
	example_unload(variant->name);	/* ENOENT after the rmmod test */
}

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exremap, data_at_offsets)
{
	size_t psz = self->psz;
	char *p, *q;
	int i;

	p = mmap(NULL, PAGES * psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap at 2: %s", strerror(errno));
	for (i = 0; i < PAGES; i++) {
		EXPECT_EQ('a' + i, p[i * psz]);
		EXPECT_EQ('a' + i, p[(i + 1) * psz - 1]);
	}
	EXPECT_EQ('c', q[0]);
	EXPECT_EQ('d', q[psz]);
	munmap(p, PAGES * psz);
	munmap(q, 2 * psz);
}

/* The flags of a remap; two adjacent mmap()s stay two VMAs. */
TEST_F(exremap, flags_no_merge)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p, *q;

	p = mmap(NULL, PAGES * psz, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(p, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 self->fd, 0);
	ASSERT_EQ(p, q) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(p + 2 * psz, 2 * psz, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, self->fd, 2 * psz);
	ASSERT_EQ(p + 2 * psz, q) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(2, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags)));
	EXPECT_TRUE(same_flags(flags, want_flags()))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, want_flags());
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ('d', p[3 * psz]);
	munmap(p, PAGES * psz);
}

/* VM_DONTEXPAND | VM_PFNMAP: mremap() cannot grow it. */
TEST_F(exremap, no_grow)
{
	size_t psz = self->psz;
	char *p;

	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(MAP_FAILED, mremap(p, psz, 2 * psz, MREMAP_MAYMOVE));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ('a', p[0]);
	munmap(p, psz);
}

/* Beyond the buffer: EINVAL from the hook. */
TEST_F(exremap, bad_requests)
{
	size_t psz = self->psz;

	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd,
				   PAGES * psz));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, (PAGES + 1) * psz, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED,
				   self->fd, (PAGES - 1) * psz));
	EXPECT_EQ(EINVAL, errno);
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exremap, rmmod)
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
