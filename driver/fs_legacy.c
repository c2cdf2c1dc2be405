// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemofs_legacy: regular files mapped through the legacy .mmap, the
 * same filesystem as mmapdemofs_prepare otherwise.
 *
 * The hook is generic_file_mmap() (mm/filemap.c), then our own vm_ops.
 * It runs only when the kernel creates a new VMA, after its one merge
 * attempt (mm/vma.c:__mmap_region), so the per-mapping state can be
 * allocated here, last, when nothing can fail any more: after a failed
 * .mmap the kernel never calls ->close.  Flags set here come after that
 * merge attempt, so a FLAGS mapping does not merge at mmap time.
 */
#include "watch.h"

static const struct vm_operations_struct fs_legacy_vm_ops = {
	.open		= mmapdemo_watch_vm_open,
	.close		= mmapdemo_watch_vm_close,
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
};

static int fs_legacy_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err;

	err = generic_file_mmap(file, vma);
	if (err)
		return err;
	vma->vm_ops = &fs_legacy_vm_ops;
	if (mmapdemo_file_mode(file) == MMAPDEMO_MODE_FLAGS)
		vm_flags_set(vma, VM_DONTDUMP | VM_DONTCOPY);
	/* last, when nothing else can fail (state.c) */
	return mmapdemo_legacy_attach(file, vma);
}

/*
 * For a file whose mappings keep no per-mapping state
 * (MMAPDEMO_STATE_NONE): no ->open or ->close, so that a merge may remove
 * one of its VMAs (mm/vma.c:can_merge_remove_vma).
 */
static const struct vm_operations_struct fs_legacy_stateless_vm_ops = {
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
};

static int fs_legacy_mmap_stateless(struct file *file,
				    struct vm_area_struct *vma)
{
	int err;

	err = generic_file_mmap(file, vma);
	if (err)
		return err;
	vma->vm_ops = &fs_legacy_stateless_vm_ops;
	if (mmapdemo_file_mode(file) == MMAPDEMO_MODE_FLAGS)
		vm_flags_set(vma, VM_DONTDUMP | VM_DONTCOPY);
	return 0;
}

/*
 * What the kit's fops point at (watch.c): the hook of the file's state
 * shape.  A driver's: the hook.
 */
static int fs_legacy_mmap_watched(struct file *file, struct vm_area_struct *vma)
{
	if (mmapdemo_file_stateless(file))
		return mmapdemo_watch_mmap(file, vma, fs_legacy_mmap_stateless);
	return mmapdemo_watch_mmap(file, vma, fs_legacy_mmap);
}

const struct file_operations mmapdemo_fs_legacy_fops = {
	.open		= mmapdemo_fs_open,
	.release	= mmapdemo_release,
	.read_iter	= generic_file_read_iter,
	.write_iter	= generic_file_write_iter,
	.mmap		= fs_legacy_mmap_watched,
	.fsync		= noop_fsync,
	.splice_read	= filemap_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= generic_file_llseek,
	.unlocked_ioctl	= mmapdemo_watch_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
