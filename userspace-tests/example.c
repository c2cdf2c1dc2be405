// SPDX-License-Identifier: GPL-2.0
/*
 * docs/example: exbuf_legacy.ko (f_op->mmap) and its conversion,
 * exbuf_prepare.ko (f_op->mmap_prepare, vm_ops->mapped), loaded here from
 * /extra/example (make check adds them; vm-run --add DIR does by hand).
 * Both must give the same data at offset 0 and beyond, the same VmFlags,
 * refuse the same bad requests, count their references back to 0, and
 * unload once the last mapping is gone.  exbuf_prepare.ko exists only
 * where the kernel has vm_ops->mapped (7.1): elsewhere its tests SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vma.h"

#define EXAMPLE_DIR	"/extra/example"
#define EXBUF_PAGES	4	/* EXBUF_PAGES of docs/example/exbuf_*.c */
#define NO_EXBUF_PREPARE \
	"kernel lacks vm_ops->mapped (7.1): docs/example/exbuf_prepare.c not built"

/*
 * Load module NAME from EXAMPLE_DIR: 0, or a SKIP reason in *why (not in
 * the guest, or not built for this kernel), or -1 with errno.
 */
static int exbuf_load(const char *name, const char **why)
{
	char path[128];
	int fd, ret;

	*why = NULL;
	snprintf(path, sizeof(path), EXAMPLE_DIR "/%s.ko", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (access(EXAMPLE_DIR, F_OK))
			*why = EXAMPLE_DIR " not in the guest (make check adds it)";
		else if (!strcmp(name, "exbuf_prepare") &&
			 !has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED))
			*why = NO_EXBUF_PREPARE;
		return -1;
	}
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static int exbuf_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* The "refs" parameter of module NAME, or -1. */
static long exbuf_refs(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/refs", name);
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
	char dev[64];
};

FIXTURE_VARIANT(exbuf) {
	const char *name;
};

FIXTURE_VARIANT_ADD(exbuf, legacy) { .name = "exbuf_legacy" };
FIXTURE_VARIANT_ADD(exbuf, prepare) { .name = "exbuf_prepare" };

FIXTURE_SETUP(exbuf)
{
	const char *why;

	self->fd = -1;
	self->psz = getpagesize();
	if (exbuf_load(variant->name, &why)) {
		if (why)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, -1) TH_LOG("load %s: %s", variant->name, strerror(errno));
	}
	snprintf(self->dev, sizeof(self->dev), "/dev/%s", variant->name);
	self->fd = open(self->dev, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->fd, 0) TH_LOG("open %s: %s", self->dev, strerror(errno));
	ASSERT_EQ(0, exbuf_refs(variant->name));
}

FIXTURE_TEARDOWN(exbuf)
{
	if (self->fd >= 0)
		close(self->fd);
	exbuf_unload(variant->name);	/* ENOENT after the rmmod test */
}

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exbuf, data_at_offsets)
{
	size_t psz = self->psz;
	char *p, *q;
	int i;

	p = mmap(NULL, EXBUF_PAGES * psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	q = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 2 * psz);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap at 2: %s", strerror(errno));
	for (i = 0; i < EXBUF_PAGES; i++) {
		EXPECT_EQ('a' + i, p[i * psz]);
		EXPECT_EQ('a' + i, p[(i + 1) * psz - 1]);
	}
	EXPECT_EQ('c', q[0]);
	EXPECT_EQ('d', q[psz]);
	EXPECT_EQ(0, memcmp(p + 2 * psz, q, 2 * psz));
	EXPECT_EQ(2, exbuf_refs(variant->name));
	munmap(p, EXBUF_PAGES * psz);
	munmap(q, 2 * psz);
	EXPECT_EQ(0, exbuf_refs(variant->name));
}

/* One reference per VMA: a split adds one (->open), munmap drops all. */
TEST_F(exbuf, refs_follow_vmas)
{
	size_t psz = self->psz;
	char *p;

	p = mmap(NULL, EXBUF_PAGES * psz, PROT_READ | PROT_WRITE, MAP_SHARED,
		 self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ(1, exbuf_refs(variant->name));
	ASSERT_EQ(0, munmap(p + psz, psz));	/* three pieces: two VMAs */
	EXPECT_EQ(2, exbuf_refs(variant->name));
	munmap(p, EXBUF_PAGES * psz);
	EXPECT_EQ(0, exbuf_refs(variant->name));
}

/* Out of range, or private: EINVAL from the hook, and no reference. */
TEST_F(exbuf, bad_requests)
{
	size_t psz = self->psz;

	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd,
				   EXBUF_PAGES * psz));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, (EXBUF_PAGES + 1) * psz, PROT_READ,
				   MAP_SHARED, self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, psz, PROT_READ, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, exbuf_refs(variant->name));
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exbuf, rmmod)
{
	char *p;

	p = mmap(NULL, self->psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(-1, exbuf_unload(variant->name));
	EXPECT_EQ(EWOULDBLOCK, errno);
	munmap(p, self->psz);
	EXPECT_EQ(0, exbuf_unload(variant->name))
		TH_LOG("rmmod %s: %s", variant->name, strerror(errno));
}

/* The VmFlags of the first VMA mapping dev at page offset pgoff. */
static int flags_of(const char *dev, int pgoff, char *flags, size_t size)
{
	size_t psz = getpagesize();
	struct vma v;
	int fd, ret;
	char *p;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	p = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 pgoff * psz);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	ret = vma_at((unsigned long)p, &v);
	munmap(p, psz);
	snprintf(flags, size, "%s", v.flags);
	return ret;
}

/* Both drivers loaded: the same VmFlags at offset 0 and at 1. */
TEST(same_vmflags)
{
	char legacy[160], prepare[160];
	const char *why;
	int pgoff;

	if (exbuf_load("exbuf_prepare", &why)) {
		if (why)
			SKIP(return, "%s", why);
		ASSERT_EQ(0, -1) TH_LOG("load exbuf_prepare: %s", strerror(errno));
	}
	ASSERT_EQ(0, exbuf_load("exbuf_legacy", &why)) TH_LOG("%s", why ?: strerror(errno));
	for (pgoff = 0; pgoff < 2; pgoff++) {
		ASSERT_EQ(0, flags_of("/dev/exbuf_legacy", pgoff, legacy,
				      sizeof(legacy)));
		ASSERT_EQ(0, flags_of("/dev/exbuf_prepare", pgoff, prepare,
				      sizeof(prepare)));
		EXPECT_STREQ(legacy, prepare);
		TH_LOG("offset %d: %s", pgoff, prepare);
	}
	EXPECT_EQ(0, exbuf_unload("exbuf_legacy"));
	EXPECT_EQ(0, exbuf_unload("exbuf_prepare"));
}

TEST_HARNESS_MAIN
