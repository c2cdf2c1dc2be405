// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, legacy .mmap twin: same behaviour as
 * chardev_prepare.c, written the pre-6.16 way.
 *
 * .mmap is called on a VMA that is already set up but not yet in the
 * tree, and only when the kernel could not merge the new range into a
 * neighbour.  It may allocate the per-mapping state here; if it fails
 * after that, it must free what it allocated itself: the kernel replaces
 * vm_ops with dummy ones and never calls ->close.
 */
#include "internal.h"

static const struct vm_operations_struct chardev_legacy_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	.fault	= mmapdemo_vm_fault,
};

static int chardev_legacy_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	struct mmapdemo_map *map;
	int err;

	mmapdemo_count(twin, MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_check_range(twin, vma->vm_pgoff, vma_pages(vma));
	if (err)
		return err;
	map = mmapdemo_map_alloc(twin);
	if (!map)
		return -ENOMEM;
	vma->vm_private_data = map;
	vma->vm_ops = &chardev_legacy_vm_ops;
	return 0;
}

const struct file_operations mmapdemo_chardev_legacy_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= chardev_legacy_mmap,
};
