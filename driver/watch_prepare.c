// SPDX-License-Identifier: GPL-2.0
/*
 * The wrappers through which the kit watches the .mmap_prepare twins
 * (see watch.c); built only where the kernel has f_op->mmap_prepare.
 */
#include "internal.h"
#include "compat.h"
#include "watch.h"

/*
 * f_op->mmap_prepare of the prepare twins: count, fail at entry if armed,
 * run the hook, ask for the armed error_override (it replaces an action's
 * or ->mapped's error, never the hook's own), fail at exit if armed.
 */
int mmapdemo_watch_mmap_prepare(struct vm_area_desc *desc,
				int (*hook)(struct vm_area_desc *desc))
{
	int err;

	mmapdemo_count(mmapdemo_file_twin(desc->file), MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
	err = hook(desc);
	if (err)
		return err;
	mmapdemo_desc_error_override(desc, mmapdemo_fail_override(desc->file));
	return mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_EXIT);
}

/*
 * vm_ops->mapped of the prepare twins: count, run the real ->mapped, and
 * if a MAPPED failure is armed, fail after it - undoing what it did, as
 * a ->mapped that fails late must: the kernel then calls ->close with the
 * vm_private_data from before ->mapped (mm/util.c:call_vma_mapped).
 */
int mmapdemo_watch_mapped(unsigned long start, unsigned long end,
			  pgoff_t pgoff, const struct file *file,
			  void **vm_private_data,
			  int (*mapped)(unsigned long start, unsigned long end,
					pgoff_t pgoff, const struct file *file,
					void **vm_private_data))
{
	void *before = *vm_private_data;
	int err;

	mmapdemo_count(mmapdemo_file_twin(file), MMAPDEMO_MAPPED_CALLS);
	err = mapped(start, end, pgoff, file, vm_private_data);
	if (err)
		return err;
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_MAPPED);
	if (err) {
		mmapdemo_map_put(*vm_private_data);
		*vm_private_data = before;
	}
	return err;
}
