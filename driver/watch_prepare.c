// SPDX-License-Identifier: GPL-2.0
/*
 * The wrappers through which the kit watches the .mmap_prepare twins
 * (see watch.c); built only where the kernel has f_op->mmap_prepare.
 */
#include "prepare.h"
#include "watch.h"

/*
 * f_op->mmap_prepare of the prepare twins: count, fail at entry if armed,
 * run the hook, ask for the armed error_override, fail at exit if armed.
 */
int mmapdemo_watch_mmap_prepare(struct vm_area_desc *desc,
				int (*hook)(struct vm_area_desc *desc))
{
	int override, err;

	mmapdemo_count(mmapdemo_file_twin(desc->file), MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
	if (!hook)	/* a mode Kbuild did not build: SET_MODE refuses it */
		return -EOPNOTSUPP;
	err = hook(desc);
	if (err)
		return err;
	override = mmapdemo_fail_override(desc->file);
	if (override) {
		err = mmapdemo_desc_error_override(desc, override);
		if (err)
			return err;
	}
	return mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_EXIT);
}

/*
 * vm_ops->mapped of the prepare twins (7.1): count, run the real
 * ->mapped, and if a MAPPED failure is armed, fail after it - undoing what
 * it did, as a ->mapped that fails late must: the kernel then calls
 * ->close with the vm_private_data from before ->mapped
 * (mm/util.c:call_vma_mapped).  SET_FAIL refuses MAPPED on a SHARED file,
 * whose ->mapped only takes a count and cannot fail.
 */
int mmapdemo_watch_vm_mapped(unsigned long start, unsigned long end,
			     pgoff_t pgoff, const struct file *file,
			     void **vm_private_data)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	void *before = *vm_private_data;
	int err;

	mmapdemo_count(twin, MMAPDEMO_MAPPED_CALLS);
	err = mmapdemo_vm_mapped(start, end, pgoff, file, vm_private_data);
	if (err)
		return err;
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_MAPPED);
	if (err) {
		mmapdemo_map_put(*vm_private_data);	/* not tracked yet */
		*vm_private_data = before;
		return err;
	}
	if (*vm_private_data != before)			/* a new PER_VMA object */
		mmapdemo_watch_track(twin, *vm_private_data);
	return 0;
}
