// SPDX-License-Identifier: GPL-2.0
/*
 * examples/mapped: exmapped.ko (vm_ops->mapped, 7.1+), loaded from
 * /extra/example.  Each open file has its own buffer, which write()
 * resets - refused with EBUSY while a VMA maps it, so the driver's count
 * of VMAs is measured by write().  It must be exact through a split
 * (->open), fork() and a merge: two adjacent mmap()s of contiguous offsets
 * become one VMA, with ->mapped called once, and on 7.1 and 7.2.0-7.2.9
 * the kernel writes desc->private_data and desc->vm_ops onto the VMA
 * merged into (mm/vma.c:__mmap_region, set_vma_user_defined_fields).  The
 * "buffers" parameter counts the buffers alive, back to 0 once every file
 * is closed and unmapped.  A kernel the probes did not build exmapped.ko
 * for SKIPs, with the probe named by examples.txt.
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "../example_test.h"

#define NAME		"exmapped"
#define PAGES		4	/* EXMAPPED_PAGES */

/*
 * mm/mmap.c:do_mmap's flags for a MAP_SHARED, PROT_READ | PROT_WRITE
 * mapping of a file opened O_RDWR; the driver adds none.
 */
#define WANT_FLAGS	"rd wr sh mr mw me ms"

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
	self->psz = getpagesize();
	example_open(_metadata, NAME, &self->fd);
	if (self->fd >= 0)	/* else a SKIP */
		ASSERT_EQ(1, buffers());
}

FIXTURE_TEARDOWN(exmapped)
{
	if (self->fd >= 0)
		close(self->fd);
	example_unload(NAME);	/* ENOENT after the rmmod test */
}

/* write(fd, "c", 1): 0 if the reset happened, else the errno. */
static int reset(int fd, char c)
{
	return write(fd, &c, 1) == 1 ? 0 : errno;
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
	EXPECT_EQ(2, buffers());	/* each VMA holds its file */
	EXPECT_EQ('X', p[2 * psz]);
	munmap(q, psz);
	EXPECT_EQ(1, buffers());
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, buffers());
}

/* Unmapped, the reset happens; mapped, EBUSY; the mapping sees the new pages. */
TEST_F(exmapped, reset_only_unmapped)
{
	size_t psz = self->psz;
	char *p;

	EXPECT_EQ(0, reset(self->fd, 'x'));
	p = mmap(NULL, 2 * psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ('x', p[0]);
	EXPECT_EQ('x', p[psz]);
	EXPECT_EQ(EBUSY, reset(self->fd, 'y'));
	munmap(p, 2 * psz);
	EXPECT_EQ(0, reset(self->fd, 'y'));
}

/*
 * Two adjacent mmap()s merge into one VMA: the driver counts it once, and
 * not at all once it is gone - not a ->close too many, not a count of the
 * merged mmap() that nothing drops.
 */
TEST_F(exmapped, merge_counts_one)
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
	for (i = 0; i < PAGES; i++)
		EXPECT_EQ('a' + i, p[i * psz]);
	EXPECT_EQ(EBUSY, reset(self->fd, 'x'));
	ASSERT_EQ(0, munmap(p + 3 * psz, psz));	/* still one VMA */
	EXPECT_EQ(EBUSY, reset(self->fd, 'x'));
	munmap(p, PAGES * psz);
	EXPECT_EQ(0, reset(self->fd, 'x'))
		TH_LOG("a merged mmap() left a count behind");
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, buffers());
}

/* A split and a fork: each copy is counted, each ->close uncounts it. */
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
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(p[0] == 'a' && p[3 * psz] == 'd' ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	munmap(p, psz);
	EXPECT_EQ(EBUSY, reset(self->fd, 'x'));
	EXPECT_EQ('c', p[2 * psz]);
	munmap(p + 2 * psz, 2 * psz);
	EXPECT_EQ(0, reset(self->fd, 'x'));
}

/* Beyond the buffer: EINVAL from the hook, and nothing counted. */
TEST_F(exmapped, bad_requests)
{
	example_check_past_end(_metadata, self->fd, PAGES);
	EXPECT_EQ(0, reset(self->fd, 'x'));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, buffers());
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exmapped, rmmod)
{
	example_check_rmmod(_metadata, &self->fd, NAME);
}

TEST_HARNESS_MAIN
