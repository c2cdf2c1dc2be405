/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plumbing shared by the twins: buffer, counters, per-mapping state and
 * the file operations that have nothing to do with mmap.
 */
#ifndef _MMAPDEMO_INTERNAL_H
#define _MMAPDEMO_INTERNAL_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "uapi/mmapdemo.h"

/* Kernels without the typed allocators (GFP_KERNEL by default) */
#ifndef HAVE_KMALLOC_OBJ
#define kmalloc_obj(obj)	kmalloc(sizeof(obj), GFP_KERNEL)
#define kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#define kvmalloc_objs(obj, n)	kvmalloc_array(n, sizeof(obj), GFP_KERNEL)
#endif

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

/* Can the prepare twins map in @mode on this kernel? */
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
	/* error_hook: one fixed function, compat.h */
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

/*
 * One twin: a device, its buffer and its counters; or a filesystem type
 * (pagecache set), whose files live in the page cache: no misc device and
 * no buffer, and only the FAULT and FLAGS modes.
 */
struct mmapdemo_twin {
	const char *name;		/* its debugfs file */
	bool prepare;			/* maps through .mmap_prepare */
	bool pagecache;
	struct miscdevice misc;
	void *buf;			/* pages * PAGE_SIZE bytes, zeroed */
	unsigned long nr_pages;
	unsigned long pfn;		/* first PFN of buf, for REMAP */
	struct page **pages;		/* nr_pages entries, for PAGES */
	atomic64_t counters[MMAPDEMO_NR_COUNTERS];
	spinlock_t maps_lock;		/* protects maps */
	struct list_head maps;		/* live struct mmapdemo_map */
};

/* One open file: the mode its next mmap() uses, and its armed failure. */
struct mmapdemo_file {
	struct mmapdemo_twin *twin;
	u32 mode;
	spinlock_t fail_lock;		/* protects fail */
	struct mmapdemo_fail fail;	/* stage MMAPDEMO_FAIL_NONE: none */
};

/* Per-mapping state, shared by the VMAs a split or fork makes of it. */
struct mmapdemo_map {
	refcount_t refs;
	struct mmapdemo_twin *twin;
	struct list_head node;		/* in twin->maps */
};

extern const struct file_operations mmapdemo_chardev_legacy_fops;

static inline void mmapdemo_count(struct mmapdemo_twin *twin,
				  enum mmapdemo_counter c)
{
	atomic64_inc(&twin->counters[c]);
}

static inline struct mmapdemo_twin *mmapdemo_file_twin(const struct file *file)
{
	const struct mmapdemo_file *mf = file->private_data;

	return mf->twin;
}

int mmapdemo_file_open(struct file *file, struct mmapdemo_twin *twin);
int mmapdemo_open(struct inode *inode, struct file *file);
int mmapdemo_release(struct inode *inode, struct file *file);
long mmapdemo_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			 unsigned long arg);
long mmapdemo_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

static inline u32 mmapdemo_file_mode(const struct file *file)
{
	const struct mmapdemo_file *mf = file->private_data;

	return READ_ONCE(mf->mode);
}

int mmapdemo_check_request(const struct mmapdemo_twin *twin, u32 mode,
			   pgoff_t pgoff, unsigned long nr_pages, bool shared);
void mmapdemo_twin_init(struct mmapdemo_twin *twin);
void mmapdemo_twin_reap(struct mmapdemo_twin *twin);
struct mmapdemo_map *mmapdemo_map_alloc(struct mmapdemo_twin *twin);
void mmapdemo_map_put(struct mmapdemo_map *map);
/* chardev_prepare.c, also fs_prepare.c's; chardev_legacy.c, also fs_legacy.c's */
int mmapdemo_prepare_mapped(unsigned long start, unsigned long end,
			    pgoff_t pgoff, const struct file *file,
			    void **vm_private_data);
int mmapdemo_legacy_attach(struct file *file, struct vm_area_struct *vma);
void mmapdemo_vm_open(struct vm_area_struct *vma);
void mmapdemo_vm_close(struct vm_area_struct *vma);
vm_fault_t mmapdemo_vm_fault(struct vm_fault *vmf);

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
