// SPDX-License-Identifier: GPL-2.0
/*
 * The character device, .mmap_prepare twin, PAGES: every page of the
 * buffer inserted at mmap time.  Built only where the kernel has
 * mmap_action_map_kernel_pages_full() (7.1): Kbuild asks the
 * HAVE_MMAP_ACTION_MAP_KERNEL_PAGES probe of conftest.sh.  Before 7.1 a
 * .mmap_prepare driver cannot insert pages at mmap time, and this twin
 * refuses PAGES.
 *
 * The kernel inserts the pages once the VMA is in the tree
 * (mm/memory.c:map_kernel_pages_complete) and sets VM_MIXEDMAP.
 */
#include "prepare.h"

int chardev_mmap_prepare_pages(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	int err;

	err = chardev_prepare_check(desc, MMAPDEMO_MODE_PAGES);
	if (err)
		return err;
	desc->vm_ops = &mmapdemo_chardev_prepare_vm_ops;
	mmap_action_map_kernel_pages_full(desc, twin->dev.pages + desc->pgoff);
	return 0;
}
