// SPDX-License-Identifier: GPL-2.0
/*
 * exflags_vm_flags: a misc device whose buffer of EXFLAGS_PAGES pages
 * (page i filled with 'a' + i) is mapped page by page from ->fault, with
 * VM_DONTDUMP (left out of core dumps) and VM_DONTCOPY (not inherited
 * by fork()).  No per-mapping state: nothing is allocated for a mapping,
 * so there is nothing to release and the hook may run for an mmap() that
 * the kernel then merges into its neighbour or fails.
 *
 * Needs f_op->mmap_prepare with the flags in desc->vm_flags: 6.16 to 6.19
 * (include/linux/mm_types.h, struct vm_area_desc; as mm/secretmem.c:
 * secretmem_mmap_prepare sets them there).  7.0 replaced the field by
 * desc->vma_flags and vma_desc_set_flags(): exflags.c is this driver in
 * that spelling, and differs from this file only in its hook.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#define EXFLAGS_PAGES	4

static void *exflags_buf;

static vm_fault_t exflags_fault(struct vm_fault *vmf)
{
	struct page *page;

	if (vmf->pgoff >= EXFLAGS_PAGES)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(exflags_buf + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct exflags_vm_ops = {
	.fault	= exflags_fault,
};

static int exflags_mmap_prepare(struct vm_area_desc *desc)
{
	/* vma_desc_pages(desc) from 6.19 */
	unsigned long pages = (desc->end - desc->start) >> PAGE_SHIFT;

	if (desc->pgoff >= EXFLAGS_PAGES || pages > EXFLAGS_PAGES - desc->pgoff)
		return -EINVAL;
	desc->vm_flags |= VM_DONTDUMP | VM_DONTCOPY;
	desc->vm_ops = &exflags_vm_ops;
	return 0;
}

static const struct file_operations exflags_fops = {
	.owner		= THIS_MODULE,
	.mmap_prepare	= exflags_mmap_prepare,
};

static struct miscdevice exflags_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &exflags_fops,
	.mode	= 0600,
};

static int __init exflags_init(void)
{
	unsigned long i;
	int err;

	/* split into order-0 pages: each has the refcount ->fault takes */
	exflags_buf = alloc_pages_exact(EXFLAGS_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!exflags_buf)
		return -ENOMEM;
	for (i = 0; i < EXFLAGS_PAGES; i++)
		memset(exflags_buf + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
	err = misc_register(&exflags_misc);
	if (err)
		free_pages_exact(exflags_buf, EXFLAGS_PAGES * PAGE_SIZE);
	return err;
}
module_init(exflags_init);

static void __exit exflags_exit(void)
{
	misc_deregister(&exflags_misc);
	free_pages_exact(exflags_buf, EXFLAGS_PAGES * PAGE_SIZE);
}
module_exit(exflags_exit);

MODULE_DESCRIPTION("Example: a fault-served buffer with flags set in desc->vm_flags");
MODULE_LICENSE("GPL");
