// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin.
 *
 * .mmap_prepare runs before any VMA exists, for every mmap() - also for
 * one that the kernel then merges into a neighbour, and for one that
 * fails later.  So it only describes the mapping in @desc and allocates
 * nothing.  The per-mapping state is allocated in vm_ops->mapped
 * (mmapdemo_prepare_mapped in common.c, shared with fs_prepare.c), which
 * the kernel calls once, only when it really created a new VMA.
 *
 * REMAP and PAGES only ask for an action; the kernel performs it after
 * the VMA is in the tree (mm/util.c:mmap_action_complete) and then calls
 * ->mapped.  Both set a VM_SPECIAL flag, so such a VMA never merges.
 *
 * Error unwinding is the kernel's: a failing hook has allocated nothing.
 * If ->mapped fails, the kernel unmaps the new VMA and calls ->close with
 * the vm_private_data it had before ->mapped, NULL here
 * (mm/util.c:call_vma_mapped); so ->mapped frees its own state first.
 */
#include "internal.h"
#include "compat.h"

/* FAULT, FLAGS, PAGES: a PAGES VMA zapped by MADV_DONTNEED refaults. */
static const struct vm_operations_struct chardev_prepare_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	.fault	= mmapdemo_vm_fault,
	MMAPDEMO_VM_OPS_MAPPED(mmapdemo_prepare_mapped)
};

/* REMAP: every PTE is set at mmap time; no struct page in a PFNMAP. */
static const struct vm_operations_struct chardev_prepare_remap_vm_ops = {
	.open	= mmapdemo_vm_open,
	.close	= mmapdemo_vm_close,
	MMAPDEMO_VM_OPS_MAPPED(mmapdemo_prepare_mapped)
};

static int chardev_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	u32 mode = mmapdemo_file_mode(desc->file);
	int err;

	mmapdemo_count(twin, MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
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
	/* replaces action and ->mapped errors, not this hook's own */
	mmapdemo_desc_error_override(desc, mmapdemo_fail_override(desc->file));
	return mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_EXIT);
}

const struct file_operations mmapdemo_chardev_prepare_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap_prepare	= chardev_mmap_prepare,
};
