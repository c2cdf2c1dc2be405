// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin.
 *
 * .mmap_prepare runs before any VMA exists, for every mmap() - also for
 * one that the kernel then merges into a neighbour, and for one that
 * fails later.  So it only describes the mapping in @desc and allocates
 * nothing.  The per-mapping state is allocated in vm_ops->mapped (7.1),
 * which the kernel calls once, only when it really created a new VMA;
 * before 7.1 this twin keeps none (driver/compat.h).
 *
 * REMAP and PAGES only ask for an action; the kernel performs it after
 * the VMA is in the tree (mm/util.c:mmap_action_complete) and then calls
 * ->mapped.  Both set VM_SPECIAL flags, so such a VMA never merges.
 *
 * Error unwinding is the kernel's: a failing hook has allocated nothing.
 * If ->mapped fails, the kernel unmaps the new VMA and calls ->close with
 * the vm_private_data it had before ->mapped, i.e. desc->private_data
 * (mm/util.c:call_vma_mapped writes it back only on success): whatever
 * ->mapped allocated it must free itself before failing.
 */
#include "internal.h"
#include "compat.h"
#include "watch.h"

/*
 * vm_ops->mapped: a new VMA [start, end) exists.  Attach a fresh state
 * object to it; ->open (split, fork) and ->close refcount it.  Shared
 * with fs_prepare.c.
 */
int mmapdemo_prepare_mapped(unsigned long start, unsigned long end,
			    pgoff_t pgoff, const struct file *file,
			    void **vm_private_data)
{
	struct mmapdemo_map *map;

	map = mmapdemo_map_alloc(mmapdemo_file_twin(file));
	if (!map)
		return -ENOMEM;		/* the kernel unmaps the new VMA */
	*vm_private_data = map;
	return 0;
}

/* What the kit's vm_ops point at: counts and may inject (watch_prepare.c). */
static int __maybe_unused chardev_mapped_watched(unsigned long start,
						 unsigned long end,
						 pgoff_t pgoff,
						 const struct file *file,
						 void **vm_private_data)
{
	return mmapdemo_watch_mapped(start, end, pgoff, file, vm_private_data,
				     mmapdemo_prepare_mapped);
}

/* FAULT, FLAGS, PAGES: a PAGES VMA zapped by MADV_DONTNEED refaults. */
static const struct vm_operations_struct chardev_prepare_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	.fault	= mmapdemo_vm_fault,
	MMAPDEMO_VM_OPS_MAPPED(chardev_mapped_watched)
};

/* REMAP: every PTE is set at mmap time; nothing to fault in. */
static const struct vm_operations_struct chardev_prepare_remap_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	MMAPDEMO_VM_OPS_MAPPED(chardev_mapped_watched)
};

static int chardev_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	u32 mode = mmapdemo_file_mode(desc->file);
	int err;

	err = mmapdemo_check_request(twin, mode, desc->pgoff,
				     vma_desc_pages(desc),
				     vma_desc_test(desc, VMA_MAYSHARE_BIT));
	if (err)
		return err;
	desc->vm_ops = &chardev_prepare_vm_ops;
	switch (mode) {
	case MMAPDEMO_MODE_FLAGS:
		vma_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
		break;
	case MMAPDEMO_MODE_REMAP:
		desc->vm_ops = &chardev_prepare_remap_vm_ops;
		mmap_action_remap_full(desc, twin->pfn + desc->pgoff);
		break;
	case MMAPDEMO_MODE_PAGES:
		mmap_action_map_kernel_pages_full(desc,
						  twin->pages + desc->pgoff);
		break;
	}
	return 0;
}

/*
 * What the kit's file_operations point at: counts, may inject a failure
 * and an error override (watch_prepare.c).  A driver's fops point at its
 * hook, chardev_mmap_prepare.
 */
static int chardev_mmap_prepare_watched(struct vm_area_desc *desc)
{
	return mmapdemo_watch_mmap_prepare(desc, chardev_mmap_prepare);
}

const struct file_operations mmapdemo_chardev_prepare_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap_prepare	= chardev_mmap_prepare_watched,
};
