/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the twins share: what a driver has (device, buffer, open files,
 * per-mapping state) and, apart, what the kit watches of it (watch.c).
 */
#ifndef _MMAPDEMO_INTERNAL_H
#define _MMAPDEMO_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "compat.h"
#include "uapi/mmapdemo.h"

/*
 * Where the kernel has f_op->mmap_prepare, Kbuild builds the .mmap_prepare
 * twins and defines MMAPDEMO_PREPARE_TWINS; elsewhere (6.12) their file
 * operations are NULL and only the legacy twins are registered.
 */
#ifdef MMAPDEMO_PREPARE_TWINS
extern const struct file_operations mmapdemo_chardev_prepare_fops;
extern const struct file_operations mmapdemo_fs_prepare_fops;
#define MMAPDEMO_CHARDEV_PREPARE_FOPS	(&mmapdemo_chardev_prepare_fops)
#define MMAPDEMO_FS_PREPARE_FOPS	(&mmapdemo_fs_prepare_fops)
#else
#define MMAPDEMO_CHARDEV_PREPARE_FOPS	NULL
#define MMAPDEMO_FS_PREPARE_FOPS	NULL
#endif

/*
 * What this kernel's .mmap_prepare API lets the prepare twins do: the
 * compile probes (driver/conftest.h), as MMAPDEMO_FEAT_* bits, reported to
 * userspace by MMAPDEMO_IOC_GET_FEATURES and at load time.
 */
static inline u32 mmapdemo_features(void)
{
	u32 features = 0;

#ifdef MMAPDEMO_PREPARE_TWINS
	features |= MMAPDEMO_FEAT_MMAP_PREPARE | MMAPDEMO_FEAT_PREPARE_TWINS;
#endif
#ifdef HAVE_VM_PAT
	features |= MMAPDEMO_FEAT_VM_PAT;
#endif
#ifdef HAVE_CAN_MMAP_FILE
	features |= MMAPDEMO_FEAT_STACKED_PREPARE;
#endif
#ifdef HAVE_MMAP_ACTION
	features |= MMAPDEMO_FEAT_MMAP_ACTION;
#endif
#ifdef HAVE_MMAP_ACTION_ERROR_HOOK
	features |= MMAPDEMO_FEAT_ERROR_HOOK;
#endif
#ifdef HAVE_VMA_DESC_SET_FLAGS
	features |= MMAPDEMO_FEAT_VMA_FLAGS;
#endif
#ifdef HAVE_VM_OPS_MAPPED
	features |= MMAPDEMO_FEAT_VM_OPS_MAPPED;
#endif
#ifdef HAVE_MMAP_ACTION_MAP_KERNEL_PAGES
	features |= MMAPDEMO_FEAT_MAP_KERNEL_PAGES;
#endif
#ifdef HAVE_MMAP_ACTION_ERROR_OVERRIDE
	features |= MMAPDEMO_FEAT_ERROR_OVERRIDE;
#endif
	return features;
}

/*
 * Can the prepare twins map in @mode on this kernel?  The same probes pick
 * the files of the REMAP and PAGES hooks in Kbuild.
 */
static inline bool mmapdemo_prepare_has_mode(u32 mode)
{
	switch (mode) {
	case MMAPDEMO_MODE_REMAP:
		return mmapdemo_features() & MMAPDEMO_FEAT_MMAP_ACTION;
	case MMAPDEMO_MODE_PAGES:
		return mmapdemo_features() & MMAPDEMO_FEAT_MAP_KERNEL_PAGES;
	default:
		return true;
	}
}

/* Can the prepare twins replace an action or ->mapped error with @err? */
static inline bool mmapdemo_prepare_has_override(int err)
{
	u32 features = mmapdemo_features();

	if (features & MMAPDEMO_FEAT_ERROR_OVERRIDE)
		return true;
	/* error_hook: one fixed function (watch_prepare.c) */
	return (features & MMAPDEMO_FEAT_ERROR_HOOK) && err == -EAGAIN;
}

/* Same order as the fields of struct mmapdemo_stats. */
enum mmapdemo_counter {
	MMAPDEMO_HOOK_CALLS,
	MMAPDEMO_MAPPED_CALLS,
	MMAPDEMO_VM_OPEN,
	MMAPDEMO_VM_CLOSE,
	MMAPDEMO_FAULTS,
	MMAPDEMO_LIVE_OBJECTS,
	MMAPDEMO_INJECTED,
	MMAPDEMO_MAP_PAGES,
	MMAPDEMO_PAGE_MKWRITE,
	MMAPDEMO_NR_COUNTERS
};

/* What a driver has: a device and the buffer it maps. */
struct mmapdemo_dev {
	struct miscdevice misc;
	void *buf;			/* nr_pages * PAGE_SIZE bytes, zeroed */
	unsigned long nr_pages;
	unsigned long pfn;		/* first PFN of buf, for REMAP */
	struct page **pages;		/* nr_pages entries, for PAGES */
};

/*
 * What the kit watches of a twin (watch.c): its counters, and every live
 * per-mapping state object, so that it can show what the kernel orphans
 * and still free it at module exit.  No driver has this.
 */
struct mmapdemo_watch {
	atomic64_t counters[MMAPDEMO_NR_COUNTERS];
	struct mutex lock;	/* protects maps, and each drop of a map's refs */
	struct list_head maps;	/* struct mmapdemo_map, by its node */
};

/*
 * One twin: a device and its buffer; or a filesystem type (pagecache
 * set), whose files live in the page cache: no misc device and no buffer,
 * and only the FAULT and FLAGS modes.
 */
struct mmapdemo_twin {
	const char *name;		/* its debugfs file */
	bool prepare;			/* maps through .mmap_prepare */
	bool pagecache;
	struct mmapdemo_dev dev;
	struct mmapdemo_watch watch;
};

/*
 * One open file: the mode and state shape its next mmap() uses.  In the
 * SHARED shape (fs/afs/file.c's) this struct is the object the mappings
 * share: each VMA holds one of its "maps" references.  The struct outlives
 * them all, as each VMA holds a reference on the file (vm_file).
 */
struct mmapdemo_file {
	struct mmapdemo_twin *twin;
	u32 mode;
	u32 state;			/* enum mmapdemo_state */
	atomic_long_t maps;		/* SHARED: VMAs that refer to it */
	/* what the kit watches (watch.c): the failure armed for this file */
	spinlock_t fail_lock;		/* protects fail */
	struct mmapdemo_fail fail;	/* stage MMAPDEMO_FAIL_NONE: none */
};

/*
 * Per-mapping state of the PER_VMA shape: one object per new VMA, shared
 * by the VMAs a split or fork makes of it.
 */
struct mmapdemo_map {
	refcount_t refs;		/* the VMAs that refer to it */
	struct list_head node;		/* the kit's: in mmapdemo_watch.maps */
};

static inline struct mmapdemo_twin *mmapdemo_file_twin(const struct file *file)
{
	const struct mmapdemo_file *mf = file->private_data;

	return mf->twin;
}

static inline u32 mmapdemo_file_mode(const struct file *file)
{
	const struct mmapdemo_file *mf = file->private_data;

	return READ_ONCE(mf->mode);
}

/* Do the mappings of @file keep no per-mapping state (MMAPDEMO_STATE_NONE)? */
static inline bool mmapdemo_file_stateless(const struct file *file)
{
	const struct mmapdemo_file *mf = file->private_data;

	return READ_ONCE(mf->state) == MMAPDEMO_STATE_NONE;
}

/* common.c: open files, the pattern's ioctls, the range check, ->fault */
int mmapdemo_file_open(struct file *file, struct mmapdemo_twin *twin);
int mmapdemo_open(struct inode *inode, struct file *file);
int mmapdemo_release(struct inode *inode, struct file *file);
long mmapdemo_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			 unsigned long arg);
int mmapdemo_check_request(const struct mmapdemo_twin *twin, u32 mode,
			   pgoff_t pgoff, unsigned long nr_pages, bool shared);
vm_fault_t mmapdemo_vm_fault(struct vm_fault *vmf);

/* state.c: the per-mapping state, both shapes, for every twin */
void *mmapdemo_file_state(const struct file *file);
struct mmapdemo_map *mmapdemo_vma_map(const struct vm_area_struct *vma);
void mmapdemo_map_put(struct mmapdemo_map *map);
void mmapdemo_vm_open(struct vm_area_struct *vma);
void mmapdemo_vm_close(struct vm_area_struct *vma);
int mmapdemo_vm_mapped(unsigned long start, unsigned long end,
		       pgoff_t pgoff, const struct file *file,
		       void **vm_private_data);
int mmapdemo_legacy_attach(struct file *file, struct vm_area_struct *vma);

/* The character device's file operations (chardev_*.c). */
extern const struct file_operations mmapdemo_chardev_legacy_fops;

/* The filesystem twins (fs_common.c, fs_prepare.c, fs_legacy.c). */
extern const struct file_operations mmapdemo_fs_legacy_fops;

int mmapdemo_fs_open(struct inode *inode, struct file *file);
vm_fault_t mmapdemo_fs_fault(struct vm_fault *vmf);
vm_fault_t mmapdemo_fs_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				 pgoff_t end_pgoff);
vm_fault_t mmapdemo_fs_page_mkwrite(struct vm_fault *vmf);
int mmapdemo_fs_register(struct dentry *debugfs);
void mmapdemo_fs_unregister(void);

#endif /* _MMAPDEMO_INTERNAL_H */
