// SPDX-License-Identifier: GPL-2.0
/*
 * exmapped: a misc device that gives each open file a buffer of its own,
 * EXMAPPED_PAGES pages (page i filled with 'a' + i) served from ->fault.
 * write() resets the buffer: it replaces the pages by fresh ones filled
 * with the first byte written.  A mapping would go on seeing the old
 * pages, so the reset is refused with EBUSY while any VMA maps the
 * buffer: the driver counts those VMAs, in vm_ops->mapped for a new one,
 * in ->open for a copy (split, fork), and ->close.  The "buffers"
 * parameter counts the buffers alive (one per open file).
 *
 * Needs vm_ops->mapped: 7.1 and later (include/linux/mm.h; called once a
 * new VMA exists, mm/util.c:call_vma_mapped).  The hook itself must not
 * count: it also runs for an mmap() that merges into its neighbour, or
 * fails after it, and no ->close would balance it
 * (Documentation/filesystems/mmap_prepare.rst).
 *
 * The shape of fs/afs/file.c (afs_mapped): ->mapped counts on an object
 * that exists already, found from the file, and vm_private_data is not
 * used.  That is what survives 7.1 and 7.2.0 to 7.2.9, which write
 * desc->private_data and desc->vm_ops onto the neighbour a new mapping
 * merged into (mm/vma.c:__mmap_region, set_vma_user_defined_fields; fixed
 * in 7.2.10 by "mm/vma: predicate setting mmap_prepare VMA fields on new
 * vma alloc"): a merge needs the same file, so the neighbour's object is
 * this one, while a pointer stored per VMA in vm_private_data would be
 * overwritten there.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#define EXMAPPED_PAGES	4

struct exmapped_buf {
	struct mutex lock;	/* mappings, and data against a reset */
	unsigned int mappings;	/* VMAs that map data */
	void *data;
};

static atomic_t exmapped_bufs = ATOMIC_INIT(0);

/* The buffer's pages, filled with c, or page i with 'a' + i if c < 0. */
static void *exmapped_data_alloc(int c)
{
	void *data;

	/* split into order-0 pages: each has the refcount ->fault takes */
	data = alloc_pages_exact(EXMAPPED_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (data && c < 0) {
		unsigned long i;

		for (i = 0; i < EXMAPPED_PAGES; i++)
			memset(data + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
	} else if (data) {
		memset(data, c, EXMAPPED_PAGES * PAGE_SIZE);
	}
	return data;
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

static void exmapped_count(struct exmapped_buf *eb, int delta)
{
	mutex_lock(&eb->lock);
	eb->mappings += delta;
	mutex_unlock(&eb->lock);
}

/* A new VMA exists: the last step of mmap(), and it cannot fail here. */
static int exmapped_mapped(unsigned long start, unsigned long end,
			   pgoff_t pgoff, const struct file *file,
			   void **vm_private_data)
{
	exmapped_count(exmapped_file_buf(file), 1);
	return 0;
}

/* A copy of a VMA: split, fork, mremap. */
static void exmapped_vm_open(struct vm_area_struct *vma)
{
	exmapped_count(exmapped_file_buf(vma->vm_file), 1);
}

static void exmapped_vm_close(struct vm_area_struct *vma)
{
	exmapped_count(exmapped_file_buf(vma->vm_file), -1);
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

static ssize_t exmapped_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	struct exmapped_buf *eb = exmapped_file_buf(file);
	void *data, *old;
	u8 c;

	if (!len)
		return 0;
	if (get_user(c, ubuf))
		return -EFAULT;
	data = exmapped_data_alloc(c);
	if (!data)
		return -ENOMEM;
	mutex_lock(&eb->lock);
	if (eb->mappings) {
		mutex_unlock(&eb->lock);
		free_pages_exact(data, EXMAPPED_PAGES * PAGE_SIZE);
		return -EBUSY;
	}
	old = eb->data;
	eb->data = data;
	mutex_unlock(&eb->lock);
	free_pages_exact(old, EXMAPPED_PAGES * PAGE_SIZE);
	return len;
}

static int exmapped_open(struct inode *inode, struct file *file)
{
	struct exmapped_buf *eb;

	eb = kzalloc_obj(*eb, GFP_KERNEL);
	if (!eb)
		return -ENOMEM;
	eb->data = exmapped_data_alloc(-1);
	if (!eb->data) {
		kfree(eb);
		return -ENOMEM;
	}
	mutex_init(&eb->lock);
	atomic_inc(&exmapped_bufs);
	file->private_data = eb;
	return 0;
}

/* The last VMA of the file is gone too: each holds a reference on it. */
static int exmapped_release(struct inode *inode, struct file *file)
{
	struct exmapped_buf *eb = exmapped_file_buf(file);

	mutex_destroy(&eb->lock);
	free_pages_exact(eb->data, EXMAPPED_PAGES * PAGE_SIZE);
	kfree(eb);
	atomic_dec(&exmapped_bufs);
	return 0;
}

static const struct file_operations exmapped_fops = {
	.owner		= THIS_MODULE,
	.open		= exmapped_open,
	.release	= exmapped_release,
	.write		= exmapped_write,
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
MODULE_PARM_DESC(buffers, "buffers alive, one per open file");

module_misc_device(exmapped_misc);

MODULE_DESCRIPTION("Example: mappings counted from vm_ops->mapped");
MODULE_LICENSE("GPL");
