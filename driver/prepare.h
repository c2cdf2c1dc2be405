/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the .mmap_prepare twins' files share; included only by files that
 * Kbuild builds where the kernel has f_op->mmap_prepare (6.16).
 */
#ifndef _MMAPDEMO_PREPARE_H
#define _MMAPDEMO_PREPARE_H

#include "internal.h"

/*
 * The prepare twins' vm_operations.  Kbuild takes them from
 * prepare_vm_ops_mapped.c where the kernel has vm_ops->mapped (7.1), from
 * prepare_vm_ops.c (no ->mapped: no per-mapping state) elsewhere.
 */
extern const struct vm_operations_struct mmapdemo_chardev_prepare_vm_ops;
extern const struct vm_operations_struct mmapdemo_chardev_prepare_remap_vm_ops;
extern const struct vm_operations_struct mmapdemo_fs_prepare_vm_ops;

/*
 * The character device's hooks that exist only where Kbuild builds their
 * file: REMAP, chardev_prepare_remap.c, with struct mmap_action (6.19);
 * PAGES, chardev_prepare_pages.c, with mmap_action_map_kernel_pages (7.1).
 * NULL elsewhere: that mode is not built, and SET_MODE refuses it.
 */
#ifdef HAVE_MMAP_ACTION
int chardev_mmap_prepare_remap(struct vm_area_desc *desc);
#define MMAPDEMO_CHARDEV_PREPARE_REMAP	chardev_mmap_prepare_remap
#else
#define MMAPDEMO_CHARDEV_PREPARE_REMAP	NULL
#endif
#ifdef HAVE_MMAP_ACTION_MAP_KERNEL_PAGES
int chardev_mmap_prepare_pages(struct vm_area_desc *desc);
#define MMAPDEMO_CHARDEV_PREPARE_PAGES	chardev_mmap_prepare_pages
#else
#define MMAPDEMO_CHARDEV_PREPARE_PAGES	NULL
#endif

/* The checks of every character-device hook, mmapdemo_check_request(). */
static inline int chardev_prepare_check(const struct vm_area_desc *desc,
					u32 mode)
{
	return mmapdemo_check_request(mmapdemo_file_twin(desc->file), mode,
				      desc->pgoff, mmapdemo_desc_pages(desc),
				      mmapdemo_desc_test(desc, VMA_MAYSHARE_BIT));
}

#endif /* _MMAPDEMO_PREPARE_H */
