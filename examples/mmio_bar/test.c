// SPDX-License-Identifier: GPL-2.0
/*
 * examples/mmio_bar: each of edu_legacy.ko (.mmap, io_remap_pfn_range),
 * edu_prepare.ko (.mmap_prepare, mmap_action_ioremap_full) and
 * edu_simple.ko (.mmap_prepare, mmap_action_simple_ioremap), loaded one
 * at a time from /extra/example, binds QEMU's edu PCI device (scripts/vm-run
 * --device edu) and maps its BAR 0.  The mapping must reach the device,
 * not RAM: the identification register reads 0x010000ed and the liveness
 * register returns the inverse of what was written (QEMU hw/misc/edu.c:
 * edu_mmio_read, edu_mmio_write); RAM would return what was written.  The
 * VMA carries the flags the kernel's remap sets, bad offsets, lengths and
 * private mappings are refused with EINVAL, the three agree, and rmmod
 * works once the last mapping is gone.  A module missing because the
 * kernel lacks its API is a SKIP naming that API.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define EXAMPLE_DIR	"/extra/example"
#define PCI_DEVICES	"/sys/bus/pci/devices"

/* QEMU hw/misc/edu.c: edu_class_init, edu_mmio_read, edu_mmio_write */
#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00	/* reads 0x010000ed: version 1.0, 0xed */
#define EDU_ID_VALUE	0x010000edu
#define EDU_LIVENESS	0x04	/* reads back ~(what was written) */
#define EDU_NO_REG	0xffffffffu	/* an offset without a register */

static const char *const twins[] = { "edu_legacy", "edu_prepare", "edu_simple" };

/* A u32 register at byte offset off of a mapping (edu wants 4-byte access). */
static volatile uint32_t *reg(void *map, size_t off)
{
	return (volatile uint32_t *)((char *)map + off);
}

static unsigned long read_hex(const char *path)
{
	unsigned long val = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lx", &val) != 1)
		val = 0;
	fclose(f);
	return val;
}

/* The PCI address of the first edu device into addr, or -1. */
static int find_edu(char *addr, size_t size)
{
	char path[512];
	struct dirent *d;
	DIR *dir;
	int ret = -1;

	dir = opendir(PCI_DEVICES);
	if (!dir)
		return -1;
	while (ret && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/vendor", d->d_name);
		if (read_hex(path) != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), PCI_DEVICES "/%s/device", d->d_name);
		if (read_hex(path) != EDU_DEVICE)
			continue;
		if (strlen(d->d_name) >= size)
			continue;
		memcpy(addr, d->d_name, strlen(d->d_name) + 1);
		ret = 0;
	}
	closedir(dir);
	return ret;
}

/* The size of BAR 0 of PCI device addr from sysfs, or 0. */
static unsigned long bar0_size(const char *addr)
{
	unsigned long long start, end, flags;
	char path[512];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/resource", addr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%llx %llx %llx", &start, &end, &flags);
	fclose(f);
	return n == 3 && end > start ? end - start + 1 : 0;
}

/*
 * The kernel functions that the variants name (.symbol, .first), looked
 * up in /proc/kallsyms once, before the harness forks the tests: on a
 * distribution kernel it is some 10 MB, a second to read under QEMU's
 * TCG, three to scan line by line.
 */
#define SYM_ACTIONS	"mmap_action_prepare"		/* 6.19 mm/util.c */
#define SYM_SIMPLE	"simple_ioremap_prepare"	/* 7.1 mm/memory.c */
static const char *const kernel_syms[] = { SYM_ACTIONS, SYM_SIMPLE };
static int kernel_syms_found[2];

/* Each line is "ADDRESS TYPE NAME\n", or "...NAME\t[MODULE]\n". */
static void __attribute__((constructor)) read_kallsyms(void)
{
	char *buf = NULL, *grown, key[128];
	size_t len = 0, size = 0, i;
	ssize_t n;
	int fd;

	fd = open("/proc/kallsyms", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	do {
		if (size - len < 65536) {
			grown = realloc(buf, size + (1 << 20));
			if (!grown)
				break;
			buf = grown;
			size += 1 << 20;
		}
		n = read(fd, buf + len, size - len);
		if (n > 0)
			len += n;
	} while (n > 0);
	close(fd);
	for (i = 0; buf && i < sizeof(kernel_syms) / sizeof(kernel_syms[0]); i++) {
		snprintf(key, sizeof(key), " %s\n", kernel_syms[i]);
		kernel_syms_found[i] = memmem(buf, len, key, strlen(key)) != NULL;
		key[strlen(key) - 1] = '\t';
		kernel_syms_found[i] |= memmem(buf, len, key, strlen(key)) != NULL;
	}
	free(buf);
}

/*
 * Whether /proc/kallsyms names the kernel function sym, which must be one
 * of kernel_syms: any other name is this test's own bug, not an answer.
 */
static int kernel_has(const char *sym)
{
	size_t i;

	for (i = 0; i < sizeof(kernel_syms) / sizeof(kernel_syms[0]); i++)
		if (!strcmp(sym, kernel_syms[i]))
			return kernel_syms_found[i];
	fprintf(stderr, "kernel_has(%s): not in kernel_syms\n", sym);
	abort();
}

static int twin_load(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), EXAMPLE_DIR "/%s.ko", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static int twin_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

static int twin_built(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), EXAMPLE_DIR "/%s.ko", name);
	return !access(path, R_OK);
}

/* The VmFlags line of the VMA that starts at p, into flags; 0 or -1. */
static int vm_flags_of(void *p, char *flags, size_t size)
{
	char line[512], want[32];
	int in_vma = 0, ret = -1;
	FILE *f;

	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (ret && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, want, strlen(want)))
			in_vma = 1;
		else if (in_vma && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = 0;
			if (strlen(line + 8) >= size)
				break;
			memcpy(flags, line + 8, strlen(line + 8) + 1);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

/* The flags of want (space-separated) that flags lacks, into out. */
static void missing_flags(const char *flags, const char *want, char *out,
			  size_t size)
{
	char padded[300], word[8];
	size_t len = 0, n;
	const char *w;

	snprintf(padded, sizeof(padded), " %s ", flags);
	*out = 0;
	for (w = want + strspn(want, " "); *w; w += n + strspn(w + n, " ")) {
		n = strcspn(w, " ");
		snprintf(word, sizeof(word), " %.*s ", (int)n, w);
		if (!strstr(padded, word) && len + strlen(word) < size)
			len += snprintf(out + len, size - len, "%s", word + 1);
	}
}

FIXTURE(edu) {
	int fd;
	size_t psz;
	size_t bar;		/* BAR 0's size in bytes */
	unsigned long pages;	/* and in pages */
	char addr[64];
	char dev[128];
	int loaded;
};

FIXTURE_VARIANT(edu) {
	const char *name;
	const char *needs;	/* what the kernel lacks if it is not built */
	const char *symbol;	/* a kernel function that shows the API, or NULL */
	const char *first;	/* a function of the first of two APIs needed, */
	const char *then;	/* and the second: what lacks if first is there */
};

FIXTURE_VARIANT_ADD(edu, legacy) {
	.name = "edu_legacy",
};

FIXTURE_VARIANT_ADD(edu, prepare) {
	.name = "edu_prepare",
	.needs = "the mmap actions, mmap_action_ioremap_full() (6.19)",
	.first = SYM_ACTIONS,
	.then = "vma_desc_test() (7.1)",
};

FIXTURE_VARIANT_ADD(edu, simple) {
	.name = "edu_simple",
	.needs = "mmap_action_simple_ioremap() (7.1)",
	.symbol = SYM_SIMPLE,
};

FIXTURE_SETUP(edu)
{
	char link[256], target[256];
	ssize_t n;

	self->fd = -1;
	self->loaded = 0;
	self->psz = getpagesize();
	if (access(PCI_DEVICES, F_OK))
		SKIP(return, "kernel without PCI (no " PCI_DEVICES ")");
	ASSERT_EQ(0, find_edu(self->addr, sizeof(self->addr)))
		TH_LOG("no QEMU edu device %04x:%04x: boot with scripts/vm-run --device edu",
		       EDU_VENDOR, EDU_DEVICE);
	self->bar = bar0_size(self->addr);
	self->pages = self->bar / self->psz;
	ASSERT_GE(self->pages, 2UL)
		TH_LOG("BAR 0 of %s: %zu bytes", self->addr, self->bar);

	if (!twin_built(variant->name)) {
		ASSERT_NE(NULL, variant->needs)
			TH_LOG("%s.ko missing from " EXAMPLE_DIR, variant->name);
		ASSERT_FALSE(variant->symbol && kernel_has(variant->symbol))
			TH_LOG("the kernel has %s, yet %s.ko was not built",
			       variant->symbol, variant->name);
		SKIP(return, "%s.ko not built: the kernel lacks %s",
		     variant->name, variant->first && kernel_has(variant->first) ?
		     variant->then : variant->needs);
	}
	ASSERT_EQ(0, twin_load(variant->name))
		TH_LOG("load %s: %s", variant->name, strerror(errno));
	self->loaded = 1;

	/* bound to the device, with its misc device */
	snprintf(link, sizeof(link), PCI_DEVICES "/%s/driver", self->addr);
	n = readlink(link, target, sizeof(target) - 1);
	ASSERT_GT(n, 0) TH_LOG("%s did not bind %s", variant->name, self->addr);
	target[n] = 0;
	ASSERT_STREQ(variant->name, strrchr(target, '/') + 1);
	snprintf(self->dev, sizeof(self->dev), "/dev/%s-%s", variant->name,
		 self->addr);
	self->fd = open(self->dev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", self->dev, strerror(errno));
}

FIXTURE_TEARDOWN(edu)
{
	if (self->fd >= 0)
		close(self->fd);
	/* every test leaves nothing mapped: rmmod works (ENOENT: done) */
	if (self->loaded && twin_unload(variant->name))
		EXPECT_EQ(ENOENT, errno) TH_LOG("rmmod %s: %s", variant->name,
						strerror(errno));
}

static void *map(struct __test_metadata *_metadata, int fd, size_t len,
		 unsigned long pgoff, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd,
		       (off_t)pgoff * getpagesize());

	EXPECT_NE(MAP_FAILED, p) TH_LOG("mmap %zu bytes at page %lu: %s",
					len, pgoff, strerror(errno));
	return p == MAP_FAILED ? NULL : p;
}

/* The identification register, through the mapping. */
TEST_F(edu, identification)
{
	void *p = map(_metadata, self->fd, self->psz, 0, MAP_SHARED);

	ASSERT_NE(NULL, p);
	EXPECT_EQ(EDU_ID_VALUE, *reg(p, EDU_ID));
	munmap(p, self->psz);
}

/* What is written to the liveness register comes back inverted. */
TEST_F(edu, liveness_inverts)
{
	static const uint32_t vals[] = { 0, 0x12345678, 0xa5a5a5a5, 0xffffffff };
	void *p = map(_metadata, self->fd, self->psz, 0, MAP_SHARED);
	void *q = map(_metadata, self->fd, self->psz, 0, MAP_SHARED);
	size_t i;

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		*reg(p, EDU_LIVENESS) = vals[i];
		EXPECT_EQ(~vals[i], *reg(p, EDU_LIVENESS));
		/* the register, not the page: a second mapping sees it too */
		EXPECT_EQ(~vals[i], *reg(q, EDU_LIVENESS));
	}
	munmap(p, self->psz);
	munmap(q, self->psz);
}

/*
 * pgoff selects the page of the BAR: the registers are in page 0, every
 * other page reads ~0 and ignores writes.
 */
TEST_F(edu, offsets)
{
	unsigned long last = self->pages - 1;
	void *all = map(_metadata, self->fd, self->bar, 0, MAP_SHARED);
	void *one = map(_metadata, self->fd, self->psz, 1, MAP_SHARED);
	void *end = map(_metadata, self->fd, self->psz, last, MAP_SHARED);

	ASSERT_NE(NULL, all);
	ASSERT_NE(NULL, one);
	ASSERT_NE(NULL, end);
	EXPECT_EQ(EDU_ID_VALUE, *reg(all, EDU_ID));
	EXPECT_EQ(EDU_NO_REG, *reg(all, self->psz + EDU_ID));
	EXPECT_EQ(EDU_NO_REG, *reg(one, EDU_ID));
	EXPECT_EQ(EDU_NO_REG, *reg(end, EDU_ID));
	*reg(all, EDU_LIVENESS) = 0x0f0f0f0f;
	*reg(end, EDU_LIVENESS) = 0x12345678;	/* no register there */
	EXPECT_EQ(EDU_NO_REG, *reg(end, EDU_LIVENESS));
	EXPECT_EQ(0xf0f0f0f0, *reg(all, EDU_LIVENESS));
	munmap(all, self->bar);
	munmap(one, self->psz);
	munmap(end, self->psz);
}

/*
 * The remap sets VM_IO, VM_PFNMAP, VM_DONTEXPAND and VM_DONTDUMP: smaps'
 * io pf de dd (fs/proc/task_mmu.c:show_smap_vma_flags).  .mmap: 6.16
 * mm/memory.c:remap_pfn_range_internal, 7.3 remap_pfn_range_prepare_vma;
 * .mmap_prepare: 7.1 and 7.3 mm/memory.c:remap_pfn_range_prepare
 * (VMA_REMAP_FLAGS, include/linux/mm.h).  MAP_SHARED: sh.
 */
TEST_F(edu, vm_flags)
{
	void *p = map(_metadata, self->fd, 2 * self->psz, 0, MAP_SHARED);
	char flags[256], missing[64];

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, vm_flags_of(p, flags, sizeof(flags)));
	TH_LOG("%s VmFlags:%s", variant->name, flags);
	missing_flags(flags, "sh io pf de dd", missing, sizeof(missing));
	EXPECT_STREQ("", missing) TH_LOG("VmFlags:%s lacks %s", flags, missing);
	munmap(p, 2 * self->psz);
}

/* Outside the BAR, or private: EINVAL, and a good request still works. */
TEST_F(edu, bad_requests)
{
	size_t psz = self->psz;
	unsigned long n = self->pages;
	const struct {
		size_t len;
		unsigned long pgoff;
		int flags;
	} bad[] = {
		{ psz, n, MAP_SHARED },			/* starts at the end */
		{ psz, n + 1, MAP_SHARED },		/* beyond it */
		{ (n + 1) * psz, 0, MAP_SHARED },	/* longer than the BAR */
		{ 2 * psz, n - 1, MAP_SHARED },		/* runs past the end */
		{ psz, 1UL << 30, MAP_SHARED },		/* far beyond */
		{ psz, 0, MAP_PRIVATE },		/* writes would go to RAM */
	};
	size_t i;
	void *p;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = mmap(NULL, bad[i].len, PROT_READ | PROT_WRITE, bad[i].flags,
			 self->fd, (off_t)bad[i].pgoff * psz);
		EXPECT_EQ(MAP_FAILED, p)
			TH_LOG("case %zu: %zu bytes at page %lu mapped", i,
			       bad[i].len, bad[i].pgoff);
		if (p != MAP_FAILED)
			munmap(p, bad[i].len);
		else
			EXPECT_EQ(EINVAL, errno) TH_LOG("case %zu: %s", i,
							strerror(errno));
	}
	p = map(_metadata, self->fd, psz, 0, MAP_SHARED);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(EDU_ID_VALUE, *reg(p, EDU_ID));
	munmap(p, psz);
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(edu, rmmod)
{
	void *p = map(_metadata, self->fd, self->psz, 0, MAP_SHARED);

	ASSERT_NE(NULL, p);
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, twin_unload(variant->name));
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(EDU_ID_VALUE, *reg(p, EDU_ID));	/* still the device */
	munmap(p, self->psz);
	EXPECT_EQ(0, twin_unload(variant->name))
		TH_LOG("rmmod %s: %s", variant->name, strerror(errno));
}

/*
 * The twins agree: for each one built, the same VmFlags, the same
 * registers and the same refusals as edu_legacy's.
 */
TEST(twins_agree)
{
	char addr[64], dev[128], flags[256], legacy[256] = "";
	size_t psz = getpagesize(), i;
	unsigned long pages;
	int fd, ran = 0;
	void *p;

	if (access(PCI_DEVICES, F_OK))
		SKIP(return, "kernel without PCI (no " PCI_DEVICES ")");
	ASSERT_EQ(0, find_edu(addr, sizeof(addr)));
	ASSERT_TRUE(twin_built(twins[0])) TH_LOG("edu_legacy.ko missing");
	pages = bar0_size(addr) / psz;
	for (i = 0; i < sizeof(twins) / sizeof(twins[0]); i++) {
		if (!twin_built(twins[i]))
			continue;
		ASSERT_EQ(0, twin_load(twins[i]))
			TH_LOG("load %s: %s", twins[i], strerror(errno));
		snprintf(dev, sizeof(dev), "/dev/%s-%s", twins[i], addr);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		ASSERT_GE(fd, 0) TH_LOG("open %s: %s", dev, strerror(errno));
		p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("%s: %s", twins[i], strerror(errno));
		ASSERT_EQ(0, vm_flags_of(p, flags, sizeof(flags)));
		if (!ran)
			snprintf(legacy, sizeof(legacy), "%s", flags);
		EXPECT_STREQ(legacy, flags) TH_LOG("%s differs from %s",
						   twins[i], twins[0]);
		EXPECT_EQ(EDU_ID_VALUE, *reg(p, EDU_ID));
		*reg(p, EDU_LIVENESS) = i;
		EXPECT_EQ(~(uint32_t)i, *reg(p, EDU_LIVENESS));
		munmap(p, 2 * psz);
		EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, fd,
					   pages * psz));
		EXPECT_EQ(EINVAL, errno);
		close(fd);
		EXPECT_EQ(0, twin_unload(twins[i]))
			TH_LOG("rmmod %s: %s", twins[i], strerror(errno));
		TH_LOG("%s: VmFlags:%s", twins[i], flags);
		ran++;
	}
}

TEST_HARNESS_MAIN
