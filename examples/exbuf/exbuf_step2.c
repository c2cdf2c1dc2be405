// SPDX-License-Identifier: GPL-2.0
/*
 * exbuf: a misc device that maps a buffer of EXBUF_PAGES pages (page i
 * filled with 'a' + i) with remap_pfn_range().  Each mapping holds a
 * reference on the buffer object, kept in step by ->open (split, fork)
 * and dropped by ->close; the "refs" parameter shows the count.
 *
 * Step 2 of docs/porting.md: exbuf_step1.c with the reference taken in
 * exbuf_vm_mapped(), a function of the signature of vm_ops->mapped called
 * last from .mmap, and a ->close that accepts a VMA it never saw.  Still
 * f_op->mmap: builds on every kernel.
 */
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#define EXBUF_ORDER	2
#define EXBUF_PAGES	BIT(EXBUF_ORDER)

struct exbuf {
	void *buf;
	unsigned long pfn;
	atomic_t refs;		/* one per VMA that maps the buffer */
};

static struct exbuf exbuf;

static void exbuf_vm_open(struct vm_area_struct *vma)
{
	struct exbuf *eb = vma->vm_private_data;

	atomic_inc(&eb->refs);
}

/* Also called, with NULL, for a VMA that exbuf_vm_mapped() never saw. */
static void exbuf_vm_close(struct vm_area_struct *vma)
{
	struct exbuf *eb = vma->vm_private_data;

	if (eb)
		atomic_dec(&eb->refs);
}

/*
 * A new VMA exists and its remap succeeded: attach it to the buffer and
 * take the reference.  The signature of vm_ops->mapped (7.1), called here
 * last from .mmap, where nothing can fail after it.
 */
static int exbuf_vm_mapped(unsigned long start, unsigned long end,
			   pgoff_t pgoff, const struct file *file,
			   void **vm_private_data)
{
	*vm_private_data = &exbuf;
	atomic_inc(&exbuf.refs);
	return 0;
}

static const struct vm_operations_struct exbuf_vm_ops = {
	.open	= exbuf_vm_open,
	.close	= exbuf_vm_close,
};

/*
 * The checks of a request, on the three values that .mmap_prepare will
 * read from its struct vm_area_desc: they move to the hook unchanged.
 */
static int exbuf_check(pgoff_t pgoff, unsigned long pages, bool shared)
{
	if (!shared)
		return -EINVAL;
	if (pgoff >= EXBUF_PAGES || pages > EXBUF_PAGES - pgoff)
		return -EINVAL;
	return 0;
}

static int exbuf_mmap(struct file *file, struct vm_area_struct *vma)
{
	int err;

	err = exbuf_check(vma->vm_pgoff, vma_pages(vma),
			  vma->vm_flags & VM_MAYSHARE);
	if (err)
		return err;
	vma->vm_ops = &exbuf_vm_ops;
	err = remap_pfn_range(vma, vma->vm_start, exbuf.pfn + vma->vm_pgoff,
			      vma->vm_end - vma->vm_start, vma->vm_page_prot);
	if (err)
		return err;	/* no ->close follows a failed .mmap */
	return exbuf_vm_mapped(vma->vm_start, vma->vm_end, vma->vm_pgoff,
			       file, &vma->vm_private_data);
}

static const struct file_operations exbuf_fops = {
	.owner	= THIS_MODULE,
	.mmap	= exbuf_mmap,
};

static struct miscdevice exbuf_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &exbuf_fops,
	.mode	= 0600,
};

static int exbuf_refs_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&exbuf.refs));
}

static const struct kernel_param_ops exbuf_refs_ops = {
	.get	= exbuf_refs_get,
};
module_param_cb(refs, &exbuf_refs_ops, NULL, 0444);
MODULE_PARM_DESC(refs, "mappings holding a reference on the buffer");

static int __init exbuf_init(void)
{
	unsigned long i;
	int err;

	exbuf.buf = (void *)__get_free_pages(GFP_KERNEL, EXBUF_ORDER);
	if (!exbuf.buf)
		return -ENOMEM;
	for (i = 0; i < EXBUF_PAGES; i++)
		memset(exbuf.buf + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
	exbuf.pfn = page_to_pfn(virt_to_page(exbuf.buf));
	err = misc_register(&exbuf_misc);
	if (err)
		free_pages((unsigned long)exbuf.buf, EXBUF_ORDER);
	return err;
}
module_init(exbuf_init);

static void __exit exbuf_exit(void)
{
	misc_deregister(&exbuf_misc);
	free_pages((unsigned long)exbuf.buf, EXBUF_ORDER);
}
module_exit(exbuf_exit);

MODULE_DESCRIPTION("mmapdemo example: exbuf, step 2 of its conversion");
MODULE_LICENSE("GPL");
