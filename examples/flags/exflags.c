// SPDX-License-Identifier: GPL-2.0
/*
 * exflags: a misc device whose buffer of EXFLAGS_PAGES pages (page i
 * filled with 'a' + i) is mapped page by page from ->fault, with
 * VM_DONTDUMP (left out of core dumps) and VM_DONTCOPY (not inherited by
 * fork()).  No per-mapping state: nothing is allocated for a mapping, so
 * there is nothing to release and the hook may run for an mmap() that the
 * kernel then merges into its neighbour or fails.
 *
 * Needs vma_desc_set_flags(), which sets VMA_*_BIT flag numbers in
 * desc->vma_flags: 7.0 and later (include/linux/mm.h; as mm/secretmem.c:
 * secretmem_mmap_prepare sets them since 7.0).  6.16 to 6.19 spell it
 * desc->vm_flags |= VM_DONTDUMP | VM_DONTCOPY: exflags_vm_flags.c, which
 * differs from this file only in its hook.
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
	if (desc->pgoff >= EXFLAGS_PAGES ||
	    vma_desc_pages(desc) > EXFLAGS_PAGES - desc->pgoff)
		return -EINVAL;
	vma_desc_set_flags(desc, VMA_DONTDUMP_BIT, VMA_DONTCOPY_BIT);
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

MODULE_DESCRIPTION("Example: a fault-served buffer with flags set by vma_desc_set_flags()");
MODULE_LICENSE("GPL");
