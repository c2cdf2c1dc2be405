/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the kit watches the twins: counters, failure injection and the
 * live-object list.  None of this is part of the pattern a driver copies;
 * the twins' file_operations and vm_operations point at these wrappers,
 * which call the real callbacks (watch.c, watch_prepare.c).
 */
#ifndef _MMAPDEMO_WATCH_H
#define _MMAPDEMO_WATCH_H

#include "internal.h"

struct dentry;

static inline void mmapdemo_count(struct mmapdemo_twin *twin,
				  enum mmapdemo_counter c)
{
	atomic64_inc(&twin->watch.counters[c]);
}

/* The twins' .unlocked_ioctl: the kit's ioctls, then the pattern's. */
long mmapdemo_watch_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg);
long mmapdemo_watch_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			       unsigned long arg);

/* The legacy twins' .mmap, and every twin's ->open, ->close, ->fault. */
int mmapdemo_watch_mmap(struct file *file, struct vm_area_struct *vma,
			int (*hook)(struct file *file,
				    struct vm_area_struct *vma));
void mmapdemo_watch_vm_open(struct vm_area_struct *vma);
void mmapdemo_watch_vm_close(struct vm_area_struct *vma);
vm_fault_t mmapdemo_watch_vm_fault(struct vm_fault *vmf);

/* watch_prepare.c, where the kernel has f_op->mmap_prepare */
struct vm_area_desc;
int mmapdemo_watch_mmap_prepare(struct vm_area_desc *desc,
				int (*hook)(struct vm_area_desc *desc));
int mmapdemo_watch_vm_mapped(unsigned long start, unsigned long end,
			     pgoff_t pgoff, const struct file *file,
			     void **vm_private_data);

/* For watch_prepare.c */
int mmapdemo_fail_at(const struct file *file, enum mmapdemo_stage stage);
int mmapdemo_fail_override(const struct file *file);
void mmapdemo_watch_track(struct mmapdemo_twin *twin, struct mmapdemo_map *map);

void mmapdemo_watch_init(struct mmapdemo_twin *twin);
void mmapdemo_watch_reap(struct mmapdemo_twin *twin);
void mmapdemo_debugfs_add(struct dentry *parent, struct mmapdemo_twin *twin);

#endif /* _MMAPDEMO_WATCH_H */
