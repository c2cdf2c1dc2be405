// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemofs_prepare: regular files mapped through .mmap_prepare.
 *
 * The hook is generic_file_mmap_prepare() (6.17, mm/filemap.c: -ENOEXEC
 * without ->read_folio, file_accessed(), the generic filemap vm_ops; its
 * shim for 6.16 in compat.h), then our own vm_ops, which count and call
 * the same filemap functions.  As for the character device, the hook runs
 * for every mmap() - also one that the kernel then merges into a
 * neighbour - so the per-mapping state is attached in vm_ops->mapped,
 * called only for a new VMA: the same ->mapped and the same two state
 * shapes as the character device's (state.c; which kernels orphan the
 * PER_VMA shape: chardev_prepare.c).
 * The vm_ops, with ->mapped from 7.1, are in prepare_vm_ops*.c.
 *
 * A stacked filesystem (overlayfs) maps these files through its own
 * .mmap and vfs_mmap() -> compat_vma_mmap() (mm/util.c), which runs this
 * hook on the already existing VMA and then ->mapped.  6.16 refuses that
 * (fs/backing-file.c:backing_file_mmap wants f_op->mmap: -ENODEV), and so
 * does its execve (fs/binfmt_elf.c:load_elf_binary: -ENOEXEC).
 */
#include "prepare.h"
#include "watch.h"

static int fs_mmap_prepare(struct vm_area_desc *desc)
{
	int err;

	err = mmapdemo_generic_file_mmap_prepare(desc);
	if (err)
		return err;
	desc->vm_ops = &mmapdemo_fs_prepare_vm_ops;
	desc->private_data = mmapdemo_file_state(desc->file);
	if (mmapdemo_file_mode(desc->file) == MMAPDEMO_MODE_FLAGS)
		mmapdemo_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	return 0;
}

/*
 * For a file whose mappings keep no per-mapping state
 * (MMAPDEMO_STATE_NONE): no ->open, ->close or ->mapped, so that a merge
 * may remove one of its VMAs (mm/vma.c:can_merge_remove_vma).
 */
static const struct vm_operations_struct fs_prepare_stateless_vm_ops = {
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
};

static int fs_mmap_prepare_stateless(struct vm_area_desc *desc)
{
	int err;

	err = mmapdemo_generic_file_mmap_prepare(desc);
	if (err)
		return err;
	desc->vm_ops = &fs_prepare_stateless_vm_ops;
	if (mmapdemo_file_mode(desc->file) == MMAPDEMO_MODE_FLAGS)
		mmapdemo_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	return 0;
}

/*
 * What the kit's fops point at (watch_prepare.c): the hook of the file's
 * state shape.  A driver's: the hook.
 */
static int fs_mmap_prepare_watched(struct vm_area_desc *desc)
{
	if (mmapdemo_file_stateless(desc->file))
		return mmapdemo_watch_mmap_prepare(desc,
						   fs_mmap_prepare_stateless);
	return mmapdemo_watch_mmap_prepare(desc, fs_mmap_prepare);
}

const struct file_operations mmapdemo_fs_prepare_fops = {
	.open		= mmapdemo_fs_open,
	.release	= mmapdemo_release,
	.read_iter	= generic_file_read_iter,
	.write_iter	= generic_file_write_iter,
	.mmap_prepare	= fs_mmap_prepare_watched,
	.fsync		= noop_fsync,
	.splice_read	= filemap_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= generic_file_llseek,
	.unlocked_ioctl	= mmapdemo_watch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
