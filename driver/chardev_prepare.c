// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin.
 *
 * .mmap_prepare runs before any VMA exists, for every mmap() - also for
 * one that the kernel then merges into a neighbour, and for one that
 * fails later.  So it only describes the mapping in @desc and allocates
 * nothing.  The per-mapping state is allocated in vm_ops->mapped, which
 * the kernel calls once, only when it really created a new VMA.
 */
#include "internal.h"

static int chardev_prepare_mapped(unsigned long start, unsigned long end,
				  pgoff_t pgoff, const struct file *file,
				  void **vm_private_data)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	struct mmapdemo_map *map;

	mmapdemo_count(twin, MMAPDEMO_MAPPED_CALLS);
	map = mmapdemo_map_alloc(twin);
	if (!map)
		return -ENOMEM;		/* the kernel unmaps the new VMA */
	*vm_private_data = map;
	return 0;
}

static const struct vm_operations_struct chardev_prepare_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	.fault	= mmapdemo_vm_fault,
	.mapped	= chardev_prepare_mapped,
};

static int chardev_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	int err;

	mmapdemo_count(twin, MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_check_range(twin, desc->pgoff, vma_desc_pages(desc));
	if (err)
		return err;
	desc->vm_ops = &chardev_prepare_vm_ops;
	return 0;
}

const struct file_operations mmapdemo_chardev_prepare_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap_prepare	= chardev_mmap_prepare,
};
