// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, legacy .mmap twin: same behaviour as
 * chardev_prepare.c, written the pre-6.16 way.
 *
 * .mmap is called on a VMA that is already set up but not yet in the
 * tree, and only when the kernel could not merge the new range into a
 * neighbour.  It allocates the per-mapping state here, last: if it fails
 * after allocating, it must free what it allocated itself, since the
 * kernel replaces vm_ops with dummy ones and never calls ->close
 * (mm/internal.h:mmap_file).  It does zap the page tables REMAP or PAGES
 * filled (mm/vma.c:__mmap_new_file_vma -> unmap_region).
 *
 * Flags set here are set after the kernel's only merge attempt
 * (mm/vma.c:__mmap_region; 6.12's mm/mmap.c:__mmap_region still tried
 * again), so from 6.16 on a FLAGS mapping does not merge at mmap time.
 * REMAP's flags (VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP) are set
 * by remap_pfn_range() itself (7.3: remap_pfn_range_prepare_vma(),
 * 7.3.4:mm/memory.c:3305).
 */
#include "watch.h"

/* FAULT, FLAGS, PAGES: a PAGES VMA zapped by MADV_DONTNEED refaults. */
static const struct vm_operations_struct chardev_legacy_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
	.fault	= mmapdemo_watch_vm_fault,
};

/* REMAP: every PTE is set at mmap time; nothing to fault in. */
static const struct vm_operations_struct chardev_legacy_remap_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
};

static int chardev_legacy_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	u32 mode = mmapdemo_file_mode(file);
	int err;

	err = mmapdemo_check_request(twin, mode, vma->vm_pgoff, vma_pages(vma),
				     vma->vm_flags & VM_MAYSHARE);
	if (err)
		return err;
	vma->vm_ops = &chardev_legacy_vm_ops;
	switch (mode) {
	case MMAPDEMO_MODE_FLAGS:
		vm_flags_set(vma, VM_DONTDUMP | VM_DONTCOPY);
		break;
	case MMAPDEMO_MODE_REMAP:
		vma->vm_ops = &chardev_legacy_remap_vm_ops;
		err = remap_pfn_range(vma, vma->vm_start,
				      twin->dev.pfn + vma->vm_pgoff,
				      vma->vm_end - vma->vm_start,
				      vma->vm_page_prot);
		break;
	case MMAPDEMO_MODE_PAGES:
		err = vm_map_pages(vma, twin->dev.pages, twin->dev.nr_pages);
		break;
	}
	if (err)
		return err;	/* the kernel zaps what was mapped */
	/* last, when nothing else can fail: no ->close after a failed .mmap */
	return mmapdemo_legacy_attach(file, vma);
}

/*
 * FAULT and FLAGS for a driver that keeps no per-mapping state
 * (MMAPDEMO_STATE_NONE): no ->open or ->close, so that a merge may remove
 * one of its VMAs (mm/vma.c:can_merge_remove_vma).  Nothing to undo on
 * failure.
 */
static const struct vm_operations_struct chardev_legacy_stateless_vm_ops = {
	.fault	= mmapdemo_watch_vm_fault,
};

static int chardev_legacy_mmap_stateless(struct file *file,
					 struct vm_area_struct *vma)
{
	u32 mode = mmapdemo_file_mode(file);
	int err;

	err = mmapdemo_check_request(mmapdemo_file_twin(file), mode,
				     vma->vm_pgoff, vma_pages(vma),
				     vma->vm_flags & VM_MAYSHARE);
	if (err)
		return err;
	vma->vm_ops = &chardev_legacy_stateless_vm_ops;
	if (mode == MMAPDEMO_MODE_FLAGS)
		vm_flags_set(vma, VM_DONTDUMP | VM_DONTCOPY);
	return 0;
}

/*
 * What the kit's file_operations point at: the hook of the file's state
 * shape, counted, may inject a failure (watch.c).  A driver's fops point
 * at its hook, chardev_legacy_mmap.
 */
static int chardev_legacy_mmap_watched(struct file *file,
				       struct vm_area_struct *vma)
{
	if (mmapdemo_file_stateless(file))
		return mmapdemo_watch_mmap(file, vma,
					   chardev_legacy_mmap_stateless);
	return mmapdemo_watch_mmap(file, vma, chardev_legacy_mmap);
}

const struct file_operations mmapdemo_chardev_legacy_fops = {
	.owner		= THIS_MODULE,
	.open		= mmapdemo_open,
	.release	= mmapdemo_release,
	.unlocked_ioctl	= mmapdemo_watch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= chardev_legacy_mmap_watched,
};
