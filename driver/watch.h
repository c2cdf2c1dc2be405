/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the kit watches the twins: counters and failure injection.  None of
 * this is part of the pattern a driver copies; the file_operations and
 * vm_operations of the twins point at thin wrappers that call the real
 * hooks through these functions (watch.c).
 */
#ifndef _MMAPDEMO_WATCH_H
#define _MMAPDEMO_WATCH_H

#include <linux/fs.h>
#include <linux/mm.h>

#include "uapi/mmapdemo.h"

struct dentry;
struct vm_area_desc;
struct mmapdemo_file;
struct mmapdemo_fail;
struct mmapdemo_twin;

int mmapdemo_watch_mmap_prepare(struct vm_area_desc *desc,
				int (*hook)(struct vm_area_desc *desc));
int mmapdemo_watch_mapped(unsigned long start, unsigned long end,
			  pgoff_t pgoff, const struct file *file,
			  void **vm_private_data,
			  int (*mapped)(unsigned long start, unsigned long end,
					pgoff_t pgoff, const struct file *file,
					void **vm_private_data));
int mmapdemo_watch_mmap(struct file *file, struct vm_area_struct *vma,
			int (*hook)(struct file *file,
				    struct vm_area_struct *vma));

int mmapdemo_fail_at(const struct file *file, enum mmapdemo_stage stage);
int mmapdemo_fail_override(const struct file *file);
int mmapdemo_set_fail(struct mmapdemo_file *mf,
		      struct mmapdemo_fail __user *arg);
void mmapdemo_debugfs_add(struct dentry *parent, struct mmapdemo_twin *twin);

#endif /* _MMAPDEMO_WATCH_H */
