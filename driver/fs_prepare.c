// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemofs_prepare: regular files mapped through .mmap_prepare.
 *
 * The hook is generic_file_mmap_prepare() (mm/filemap.c: -ENOEXEC without
 * ->read_folio, file_accessed(), the generic filemap vm_ops), then our
 * own vm_ops, which count and call the same filemap functions.  As for
 * the character device, the hook runs for every mmap() - also one that
 * the kernel then merges into a neighbour - so the per-mapping state is
 * allocated in vm_ops->mapped, called only for a new VMA.
 *
 * A stacked filesystem (overlayfs) maps these files through its own
 * .mmap and vfs_mmap() -> compat_vma_mmap() (mm/util.c), which runs this
 * hook on the already existing VMA and then ->mapped.
 */
#include "internal.h"
#include "compat.h"

static const struct vm_operations_struct fs_prepare_vm_ops = {
	.open		= mmapdemo_vm_open,
	.close		= mmapdemo_vm_close,
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
	MMAPDEMO_VM_OPS_MAPPED(mmapdemo_prepare_mapped)
};

static int fs_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(desc->file);
	u32 mode = mmapdemo_file_mode(desc->file);
	int err;

	mmapdemo_count(twin, MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
	err = generic_file_mmap_prepare(desc);
	if (err)
		return err;
	desc->vm_ops = &fs_prepare_vm_ops;
	if (mode == MMAPDEMO_MODE_FLAGS)
		vma_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	/* replaces ->mapped errors, not this hook's own */
	mmapdemo_desc_error_override(desc, mmapdemo_fail_override(desc->file));
	return mmapdemo_fail_at(desc->file, MMAPDEMO_FAIL_HOOK_EXIT);
}

const struct file_operations mmapdemo_fs_prepare_fops = {
	.open		= mmapdemo_fs_open,
	.release	= mmapdemo_release,
	.read_iter	= generic_file_read_iter,
	.write_iter	= generic_file_write_iter,
	.mmap_prepare	= fs_mmap_prepare,
	.fsync		= noop_fsync,
	.splice_read	= filemap_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= generic_file_llseek,
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
