/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the calling process's VMAs, and small helpers for the twins. */
#ifndef MMAPDEMO_VMA_H
#define MMAPDEMO_VMA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mmapdemo.h"

struct vma {
	unsigned long start, end;	/* [start, end) */
	unsigned long long offset;	/* file offset in bytes */
	char perms[5];			/* "rw-s" */
	char flags[160];		/* "VmFlags:" mnemonics, single spaces */
};

/*
 * The one reader of /proc/self/smaps (smaps: with VmFlags) and maps (flags
 * empty): the VMAs that intersect [start, end) into out[], in address
 * order, at most max of them; the x86 [vsyscall] gate area, which is no
 * VMA of the mm, is left out.  Returns how many there are (more than max,
 * maybe), or -1.  read(2) into a static buffer, parsed by hand: no stdio,
 * sscanf() or malloc(), which cost ten times the kernel's own work under
 * TCG (stress.c reads the layout after every step), and near
 * vm.max_map_count brk() fails (mm/vma.c:do_brk_flags).
 */
int vmas_read(bool smaps, unsigned long start, unsigned long end,
	      struct vma *out, int max);

/* Find the VMA containing addr in /proc/self/smaps; 0 or -1 if none. */
int vma_at(unsigned long addr, struct vma *out);

/*
 * Fill out[] with the VMAs that intersect [start, end), in address order;
 * returns how many (at most max), or -1 on error.
 */
int vmas_in(unsigned long start, unsigned long end, struct vma *out, int max);

/*
 * Does v have flag, one "VmFlags:" mnemonic ("dc", "pf", ...)?  As
 * tools/testing/selftests/mm/vm_util.c:check_vmflag_io() and its kind
 * ask, one flag at a time.
 */
bool vma_has_flag(const struct vma *v, const char *flag);

/* The same of a VmFlags string (single spaces). */
bool vmflags_has(const char *flags, const char *flag);

/* How many flags v has. */
int vma_flag_count(const struct vma *v);

/* The twin's counters, read through any fd of that twin. */
struct mmapdemo_stats twin_stats(int fd);

/* MMAPDEMO_FEAT_* bits of the loaded module (0 if it cannot tell). */
unsigned int mmapdemo_features(void);

/*
 * SKIP reason for a test of the .mmap_prepare twins where the module has
 * none (a kernel without the API, e.g. 6.12).
 */
#define NO_PREPARE_TWINS \
	"kernel lacks the .mmap_prepare API: module registered the legacy twins only"

/*
 * Does this kernel still have the mmap() retry merge?  6.12's mm/mmap.c:
 * mmap_region merges again after a legacy .mmap changed the VMA flags,
 * and frees the new VMA with vm_area_free() - no ->close - so whatever
 * .mmap put in vm_private_data is orphaned.  "mm/vma: remove mmap() retry
 * merge" went in with f_op->mmap_prepare (6.16): a kernel with the hook
 * has no retry merge.
 */
static inline int kernel_retries_merge(void)
{
	return !(mmapdemo_features() & MMAPDEMO_FEAT_MMAP_PREPARE);
}

static inline int has_feature(unsigned int feat)
{
	return !!(mmapdemo_features() & feat);
}

/*
 * Does the prepare twin keep per-mapping state?  Only with vm_ops->mapped
 * (7.1): before it nothing of a .mmap_prepare driver runs once per new
 * VMA, so the twin keeps none and mapped_calls, live_objects stay 0.
 */
static inline int prepare_keeps_state(void)
{
	return has_feature(MMAPDEMO_FEAT_VM_OPS_MAPPED);
}

/*
 * Whether this kernel has a kernel bug is never told from the API: it is
 * measured (kbugs.h, kbug_present()).
 */

/*
 * Why the prepare twin cannot be asked to map in mode, fail at stage or
 * replace an error with -override on this kernel: a SKIP reason naming
 * the missing API, or NULL if it can.  The module refuses each of these
 * with EOPNOTSUPP (uapi/mmapdemo.h, MMAPDEMO_FEAT_*).
 */
const char *prepare_lacks(__u32 mode, __u32 stage, int override);

/* The "pages" parameter of the loaded module, or -1. */
long module_pages(void);

/* MMAPDEMO_IOC_SET_MODE; 0 or -1 with errno. */
int twin_set_mode(int fd, __u32 mode);

/* Open dev and set its mode; the fd, or -1. */
int twin_open(const char *dev, int flags, __u32 mode);

/* A PROT_NONE reservation of len bytes to MAP_FIXED into, or MAP_FAILED. */
void *reserve(size_t len);

/*
 * A 2 MiB-aligned PROT_NONE reservation of 2 MiB (PMD_SZ), so that a
 * mapping at its start sees the fault-around of a whole PMD, and that
 * once it is unmapped whole no VMA is left in that PMD's range: munmap
 * frees the page table (mm/memory.c:free_pgtables), and the next mapping
 * there allocates one.  Its start, or MAP_FAILED.
 */
#define PMD_SZ		(2UL << 20)
char *reserve_aligned(void);

/*
 * The process's mm->map_count: the VMAs of /proc/self/maps (vmas_read);
 * -1 on error.
 */
int map_count(void);

/* Same, only the VMAs that intersect [start, end). */
int map_count_in(unsigned long start, unsigned long end);

/*
 * A /proc file, kept open for the next read (see vma.c: an open and a
 * close cost ten times a read on the debug kernel): proc_open() gives an
 * fd at offset 0 (/proc/self/ as /proc/PID/), proc_close() closes it
 * unless it is kept; proc_read() reads it whole into buf, NUL-terminated,
 * its length or -1 (also if it does not fit).  proc_check(pid): drop
 * pid's kept files if it is gone; proc_forget(alive, n): those of every
 * process not in alive.  Other paths are opened and closed as usual.
 */
int proc_open(const char *path, int flags);
void proc_close(int fd);
ssize_t proc_read(const char *path, char *buf, size_t size);
void proc_check(pid_t pid);
void proc_forget(const pid_t *alive, int n);

/*
 * fn(line, arg) for each line of the file path (a /proc file), without
 * the newline, read with read() into static buffers: no malloc(), so the
 * reading moves no heap.  0, or -1 with errno.
 */
int proc_lines(const char *path, void (*fn)(const char *line, void *arg),
	       void *arg);

/* /dev/kmsg, non-blocking, positioned at its end: what is logged from now on. */
int kmsg_open(void);

/*
 * The next record read from fd (kmsg_open) that is a kernel report -
 * the patterns scripts/vm-run fails a run on: KASAN's "BUG:", lockdep,
 * DEBUG_VM, refcount_t, a kmemleak leak...  Its text goes to line; false
 * when no report is left to read.
 */
bool kmsg_report(int fd, char *line, size_t size);

/* "sysctl" read and write of an integer under /proc/sys; -1 on error. */
long sysctl_read(const char *path);
int sysctl_write(const char *path, long val);

/*
 * Map n single pages of fd one at a time, adjacent, at base (a reservation
 * of n pages), offset i for page i, MAP_SHARED, PROT_READ|PROT_WRITE.
 * Returns how many mmap() calls succeeded; *err is the errno of the first
 * failure, or 0.
 */
int map_one_by_one(int fd, char *base, int n, int *err);

/* MMAPDEMO_IOC_SET_FAIL with reserved = 0; 0 or -1 with errno. */
int twin_set_fail(int fd, __u32 stage, __s32 error, __s32 error_override);

/*
 * Read one byte at p: 0 and *val, or the signal the read raised (SIGSEGV,
 * SIGBUS).  A handler, not a child process: the caller's mm is probed.
 */
int probe_read(const volatile void *p, unsigned char *val);

/*
 * /proc/self/maps into buf, NUL-terminated, with no malloc() and no
 * mmap() on the way, so that two snapshots around a call differ only by
 * what that call did.  The length, or -1 (also if buf is too small).
 */
long maps_snapshot(char *buf, size_t size);

/* A "Name:  N kB" line of /proc/meminfo, in kB, no malloc; -1 on error. */
long meminfo_kb(const char *name);
/* The same of a line of /proc/self/status ("VmData"), in kB; -1. */
long status_kb(const char *key);

/* VmSize of /proc/self/status in bytes (mm->total_vm), no malloc; -1. */
long vm_size(void);

#endif
