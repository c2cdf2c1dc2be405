// SPDX-License-Identifier: GPL-2.0
/*
 * examples/flags: exflags_vm_flags.ko (desc->vm_flags, 6.16-6.19) and
 * exflags.ko (vma_desc_set_flags(), 7.0+), loaded from /extra/example.
 * Each must map its pages at every offset, show VM_DONTDUMP and
 * VM_DONTCOPY ("dd", "dc") and nothing else of its own in VmFlags, merge
 * two adjacent mmap()s into one VMA (the flags are set before the
 * kernel's only merge attempt, mm/vma.c:__mmap_region), leave the mapping
 * out of a fork()ed child (VM_DONTCOPY: mm/mmap.c:dup_mmap skips it),
 * refuse what lies beyond the buffer with EINVAL, and unload once the
 * last mapping is gone.  A module this kernel's probes did not build
 * SKIPs, with the probe named by /extra/example/examples.txt.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "../example_test.h"

#define PAGES		4	/* EXFLAGS_PAGES */

/*
 * mm/mmap.c:do_mmap gives a MAP_SHARED, PROT_READ | PROT_WRITE mapping of
 * a file opened O_RDWR VM_READ, VM_WRITE, VM_SHARED and VM_MAY{READ,
 * WRITE,EXEC,SHARE}; the driver adds VM_DONTCOPY and VM_DONTDUMP.
 */
#define WANT_FLAGS	"rd wr sh mr mw me ms dc dd"

EXAMPLE_FIXTURE(exflags)

FIXTURE_VARIANT_ADD(exflags, vm_flags) { .name = "exflags_vm_flags" };
FIXTURE_VARIANT_ADD(exflags, set_flags) { .name = "exflags" };

/* Page i of the buffer is filled with 'a' + i: at offset 0 and at 2. */
TEST_F(exflags, data_at_offsets)
{
	example_check_data(_metadata, self->fd, PAGES);
}

/* The flags, and two adjacent mmap()s of contiguous offsets: one VMA. */
TEST_F(exflags, flags_and_merge)
{
	size_t psz = self->psz;
	char flags[256] = "";
	char *p;

	p = example_map_adjacent(_metadata, self->fd);
	EXPECT_EQ(1, vma_flags((unsigned long)p, (unsigned long)p,
			       (unsigned long)p + PAGES * psz, flags,
			       sizeof(flags)));
	EXPECT_TRUE(same_flags(flags, WANT_FLAGS))
		TH_LOG("VmFlags \"%s\", want \"%s\"", flags, WANT_FLAGS);
	EXPECT_EQ('a', p[0]);
	EXPECT_EQ('d', p[3 * psz]);
	munmap(p, PAGES * psz);
}

/* VM_DONTCOPY: a child has no mapping there (msync: ENOMEM). */
TEST_F(exflags, not_inherited)
{
	size_t psz = self->psz;
	int status;
	pid_t pid;
	char *p;

	p = mmap(NULL, psz, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_EQ('a', p[0]);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(msync(p, psz, MS_ASYNC) == -1 && errno == ENOMEM ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child still maps the page");
	EXPECT_EQ(0, msync(p, psz, MS_ASYNC));
	munmap(p, psz);
}

/* Beyond the buffer: EINVAL from the hook. */
TEST_F(exflags, bad_requests)
{
	example_check_past_end(_metadata, self->fd, PAGES);
}

/* A mapping keeps the module in use after close(); munmap frees it. */
TEST_F(exflags, rmmod)
{
	example_check_rmmod(_metadata, &self->fd, variant->name);
}

TEST_HARNESS_MAIN
