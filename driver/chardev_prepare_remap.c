// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin, REMAP: every PFN of the
 * buffer remapped at mmap time.  Built only where the kernel has struct
 * mmap_action and mmap_action_remap_full() (6.19): Kbuild asks the
 * HAVE_MMAP_ACTION probe of conftest.sh.  6.16 to 6.18 cannot remap from
 * .mmap_prepare at all (no VMA exists yet and no action to ask for): a
 * driver that remaps keeps .mmap there, and this twin refuses REMAP.
 *
 * The hook asks for the remap; the kernel performs it once the VMA is in
 * the tree (mm/util.c:mmap_action_complete), sets VM_IO | VM_PFNMAP |
 * VM_DONTEXPAND | VM_DONTDUMP, and on failure unmaps the VMA again.
 */
#include "prepare.h"

int chardev_mmap_prepare_remap(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	int err;

	err = chardev_prepare_check(desc, MMAPDEMO_MODE_REMAP);
	if (err)
		return err;
	desc->vm_ops = &mmapdemo_chardev_prepare_remap_vm_ops;
	mmap_action_remap_full(desc, twin->dev.pfn + desc->pgoff);
	return 0;
}
