// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemofs_prepare: regular files mapped through .mmap_prepare.
 *
 * The hook is generic_file_mmap_prepare() (mm/filemap.c: -ENOEXEC without
 * ->read_folio, file_accessed(), the generic filemap vm_ops), then our
 * own vm_ops, which count and call the same filemap functions.  As for
 * the character device, the hook runs for every mmap() - also one that
 * the kernel then merges into a neighbour - so the per-mapping state is
 * allocated in vm_ops->mapped, called only for a new VMA; the same
 * ->mapped as the character device's (chardev_prepare.c).
 *
 * A stacked filesystem (overlayfs) maps these files through its own
 * .mmap and vfs_mmap() -> compat_vma_mmap() (mm/util.c), which runs this
 * hook on the already existing VMA and then ->mapped.  6.16 refuses that
 * (fs/backing-file.c:backing_file_mmap wants f_op->mmap: -ENODEV), and so
 * does its execve (fs/binfmt_elf.c:load_elf_binary: -ENOEXEC).
 */
#include "internal.h"
#include "compat.h"
#include "watch.h"

/* What the kit's vm_ops point at: counts and may inject (watch_prepare.c). */
static int __maybe_unused fs_mapped_watched(unsigned long start,
					    unsigned long end, pgoff_t pgoff,
					    const struct file *file,
					    void **vm_private_data)
{
	return mmapdemo_watch_mapped(start, end, pgoff, file, vm_private_data,
				     mmapdemo_prepare_mapped);
}

static const struct vm_operations_struct fs_prepare_vm_ops = {
	.open		= mmapdemo_vm_open,
	.close		= mmapdemo_vm_close,
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
	MMAPDEMO_VM_OPS_MAPPED(fs_mapped_watched)
};

static int fs_mmap_prepare(struct vm_area_desc *desc)
{
	int err;

	err = generic_file_mmap_prepare(desc);
	if (err)
		return err;
	desc->vm_ops = &fs_prepare_vm_ops;
	if (mmapdemo_file_mode(desc->file) == MMAPDEMO_MODE_FLAGS)
		vma_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
	return 0;
}

/* What the kit's fops point at (watch_prepare.c); a driver's: the hook. */
static int fs_mmap_prepare_watched(struct vm_area_desc *desc)
{
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
	.unlocked_ioctl	= mmapdemo_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
