// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin.
 *
 * .mmap_prepare runs before any VMA exists, for every mmap() - also for
 * one that the kernel then merges into a neighbour, and for one that
 * fails later.  So it only describes the mapping in @desc and allocates
 * nothing.  Per-mapping state is attached in vm_ops->mapped (7.1), which
 * the kernel calls once, only when it really created a new VMA; before
 * 7.1 this twin keeps none (prepare_vm_ops.c).
 *
 * Which kernels orphan that state, and why.  On 7.1, and on 7.2 before
 * its 7.2.10 stable update ("mm/vma: predicate setting mmap_prepare VMA
 * fields on new vma alloc"), an mmap() that the kernel merges into its
 * neighbour still has its description's fields written onto the VMA it
 * merged into: mm/vma.c:__mmap_region calls set_vma_user_defined_fields()
 * on the new or merged VMA (7.1.13:mm/vma.c:2777-2778), and that sets
 * vm_private_data to the merged mmap's desc->private_data, always
 * (6.16.12:mm/vma.c:2588-2594).  With one new object per VMA
 * (MMAPDEMO_STATE_PER_VMA, the default) desc->private_data is NULL, so the
 * neighbour's object, allocated by its ->mapped, is never put again:
 * orphaned (the kit counts it in live_objects and frees it at rmmod).
 * 7.2.10 and 7.3 write the fields onto a new VMA only
 * (7.2.12:mm/vma.c:2805-2806, 7.3.4:mm/vma.c:2918-2919).  6.16 to 7.0
 * overwrite the same way (6.16.12:mm/vma.c:2627-2628) but have no
 * ->mapped, so no object to lose.  The shape of fs/afs/file.c survives
 * every one of them (MMAPDEMO_STATE_SHARED): ->mapped only takes a count
 * on an object that exists anyway (afs: the vnode, afs_mapped()), which
 * the hook hands over in desc->private_data - here the open file's own
 * struct - so a merge writes the same pointer over itself.  Neither fix
 * of 7.2 can be told from the API: userspace-tests/state.c measures it.
 *
 * REMAP and PAGES only ask for an action; the kernel performs it after
 * the VMA is in the tree (mm/util.c:mmap_action_complete) and then calls
 * ->mapped.  Both set VM_SPECIAL flags, so such a VMA never merges.  Their
 * hooks are in files of their own, which Kbuild builds only where the
 * kernel has the action: chardev_prepare_remap.c (6.19),
 * chardev_prepare_pages.c (7.1).
 *
 * Error unwinding is the kernel's: a failing hook has allocated nothing.
 * If ->mapped fails, the kernel unmaps the new VMA and calls ->close with
 * the vm_private_data it had before ->mapped, i.e. desc->private_data
 * (mm/util.c:call_vma_mapped writes it back only on success): whatever
 * ->mapped allocated it must free itself before failing.
 */
#include "prepare.h"
#include "watch.h"

/* FAULT and FLAGS: pages served one by one by ->fault. */
static int chardev_mmap_prepare(struct vm_area_desc *desc)
{
	u32 mode = mmapdemo_file_mode(desc->file);
	int err;

	err = chardev_prepare_check(desc, mode);
	if (err)
		return err;
	desc->vm_ops = &mmapdemo_chardev_prepare_vm_ops;
	desc->private_data = mmapdemo_file_state(desc->file);
	if (mode == MMAPDEMO_MODE_FLAGS)
		mmapdemo_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	return 0;
}

/*
 * FAULT and FLAGS for a driver that keeps no per-mapping state
 * (MMAPDEMO_STATE_NONE): no ->open, ->close or ->mapped, so that a merge
 * may remove one of its VMAs (mm/vma.c:can_merge_remove_vma).
 */
static const struct vm_operations_struct chardev_prepare_stateless_vm_ops = {
	.fault	= mmapdemo_watch_vm_fault,
};

static int chardev_mmap_prepare_stateless(struct vm_area_desc *desc)
{
	u32 mode = mmapdemo_file_mode(desc->file);
	int err;

	err = chardev_prepare_check(desc, mode);
	if (err)
		return err;
	desc->vm_ops = &chardev_prepare_stateless_vm_ops;
	if (mode == MMAPDEMO_MODE_FLAGS)
		mmapdemo_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	return 0;
}

/* The hook of each mode; NULL where Kbuild did not build it (prepare.h). */
static int (* const chardev_prepare_hooks[])(struct vm_area_desc *desc) = {
	[MMAPDEMO_MODE_FAULT]	= chardev_mmap_prepare,
	[MMAPDEMO_MODE_FLAGS]	= chardev_mmap_prepare,
	[MMAPDEMO_MODE_REMAP]	= MMAPDEMO_CHARDEV_PREPARE_REMAP,
	[MMAPDEMO_MODE_PAGES]	= MMAPDEMO_CHARDEV_PREPARE_PAGES,
};

/*
 * What the kit's file_operations point at: the hook of the file's mode
 * and state shape, counted, maybe with a failure and an error override
 * injected (watch_prepare.c).  A driver's fops point at its hook.
 */
static int chardev_mmap_prepare_watched(struct vm_area_desc *desc)
{
	if (mmapdemo_file_stateless(desc->file))
		return mmapdemo_watch_mmap_prepare(desc,
						   chardev_mmap_prepare_stateless);
	return mmapdemo_watch_mmap_prepare(desc,
		chardev_prepare_hooks[mmapdemo_file_mode(desc->file)]);
}

const struct file_operations mmapdemo_chardev_prepare_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_watch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap_prepare	= chardev_mmap_prepare_watched,
};
