// SPDX-License-Identifier: GPL-2.0
/*
 * exmapped: a misc device that gives each open file a buffer of its own,
 * EXMAPPED_PAGES pages (page i filled with 'a' + i) served from ->fault.
 * The buffer outlives close() as long as a mapping of it exists: each VMA
 * holds a reference on the open file's object, taken in vm_ops->mapped
 * for a new VMA, in ->open for a copy (split, fork) and dropped in
 * ->close.  The "buffers" parameter counts the objects alive.
 *
 * Needs vm_ops->mapped: 7.1 and later (include/linux/mm.h; called once a
 * new VMA exists, mm/util.c:call_vma_mapped).  The hook itself must not
 * take the reference: it also runs for an mmap() that merges into its
 * neighbour, or fails after it, and no ->close would drop it
 * (Documentation/filesystems/mmap_prepare.rst).
 *
 * The shape of fs/afs/file.c (afs_mapped): ->mapped counts on an object
 * that exists already, found from the file, and vm_private_data is not
 * used.  That is what survives 7.1 and 7.2.0 to 7.2.9, which write
 * desc->private_data and desc->vm_ops onto the neighbour a new mapping
 * merged into (mm/vma.c:__mmap_region, set_vma_user_defined_fields; fixed
 * in 7.2.10 by "mm/vma: predicate setting mmap_prepare VMA fields on new
 * vma alloc"): a merge needs the same file, so the neighbour's object is
 * this one, and a pointer allocated per VMA into vm_private_data would be
 * overwritten and leak.
 */
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#define EXMAPPED_PAGES	4

struct exmapped_buf {
	struct kref kref;	/* the open file, and each VMA */
	void *data;
};

static atomic_t exmapped_bufs = ATOMIC_INIT(0);

static void exmapped_buf_free(struct kref *kref)
{
	struct exmapped_buf *eb = container_of(kref, struct exmapped_buf, kref);

	free_pages_exact(eb->data, EXMAPPED_PAGES * PAGE_SIZE);
	kfree(eb);
	atomic_dec(&exmapped_bufs);
}

static struct exmapped_buf *exmapped_file_buf(const struct file *file)
{
	return file->private_data;
}

static vm_fault_t exmapped_fault(struct vm_fault *vmf)
{
	struct exmapped_buf *eb = exmapped_file_buf(vmf->vma->vm_file);
	struct page *page;

	if (vmf->pgoff >= EXMAPPED_PAGES)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(eb->data + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}

/* A new VMA exists: the last step of mmap(), and it cannot fail here. */
static int exmapped_mapped(unsigned long start, unsigned long end,
			   pgoff_t pgoff, const struct file *file,
			   void **vm_private_data)
{
	kref_get(&exmapped_file_buf(file)->kref);
	return 0;
}

/* A copy of a VMA: split, fork, mremap. */
static void exmapped_vm_open(struct vm_area_struct *vma)
{
	kref_get(&exmapped_file_buf(vma->vm_file)->kref);
}

static void exmapped_vm_close(struct vm_area_struct *vma)
{
	kref_put(&exmapped_file_buf(vma->vm_file)->kref, exmapped_buf_free);
}

static const struct vm_operations_struct exmapped_vm_ops = {
	.mapped	= exmapped_mapped,
	.open	= exmapped_vm_open,
	.close	= exmapped_vm_close,
	.fault	= exmapped_fault,
};

static int exmapped_mmap_prepare(struct vm_area_desc *desc)
{
	if (desc->pgoff >= EXMAPPED_PAGES ||
	    vma_desc_pages(desc) > EXMAPPED_PAGES - desc->pgoff)
		return -EINVAL;
	desc->vm_ops = &exmapped_vm_ops;
	return 0;
}

static int exmapped_open(struct inode *inode, struct file *file)
{
	struct exmapped_buf *eb;
	unsigned long i;

	eb = kzalloc_obj(*eb, GFP_KERNEL);
	if (!eb)
		return -ENOMEM;
	eb->data = alloc_pages_exact(EXMAPPED_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!eb->data) {
		kfree(eb);
		return -ENOMEM;
	}
	for (i = 0; i < EXMAPPED_PAGES; i++)
		memset(eb->data + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
	kref_init(&eb->kref);
	atomic_inc(&exmapped_bufs);
	file->private_data = eb;
	return 0;
}

static int exmapped_release(struct inode *inode, struct file *file)
{
	kref_put(&exmapped_file_buf(file)->kref, exmapped_buf_free);
	return 0;
}

static const struct file_operations exmapped_fops = {
	.owner		= THIS_MODULE,
	.open		= exmapped_open,
	.release	= exmapped_release,
	.mmap_prepare	= exmapped_mmap_prepare,
};

static struct miscdevice exmapped_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &exmapped_fops,
	.mode	= 0600,
};

static int exmapped_bufs_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&exmapped_bufs));
}

static const struct kernel_param_ops exmapped_bufs_ops = {
	.get	= exmapped_bufs_get,
};
module_param_cb(buffers, &exmapped_bufs_ops, NULL, 0444);
MODULE_PARM_DESC(buffers, "buffers alive: open files and their mappings");

module_misc_device(exmapped_misc);

MODULE_DESCRIPTION("Example: per-mapping references taken in vm_ops->mapped");
MODULE_LICENSE("GPL");
