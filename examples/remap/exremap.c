// SPDX-License-Identifier: GPL-2.0
/*
 * exremap: a misc device whose buffer of EXREMAP_PAGES physically
 * contiguous pages (page i filled with 'a' + i) is remapped whole at
 * mmap() time, as remap_pfn_range() does from .mmap.  No per-mapping
 * state.
 *
 * Needs the mmap actions of 6.19 (include/linux/mm.h:
 * mmap_action_remap_full): the hook cannot remap, as no VMA exists yet;
 * it asks the kernel to, and the kernel does once the VMA is in the tree
 * (mm/util.c:mmap_action_complete).  On 6.16 to 6.18 there are no actions:
 * such a driver keeps .mmap there, as exremap_legacy.c.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#define EXREMAP_PAGES	4

static void *exremap_buf;
static unsigned long exremap_pfn;

static int exremap_mmap_prepare(struct vm_area_desc *desc)
{
	if (desc->pgoff >= EXREMAP_PAGES ||
	    vma_desc_pages(desc) > EXREMAP_PAGES - desc->pgoff)
		return -EINVAL;
	/* the kernel adds VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP */
	mmap_action_remap_full(desc, exremap_pfn + desc->pgoff);
	return 0;
}

static const struct file_operations exremap_fops = {
	.owner		= THIS_MODULE,
	.mmap_prepare	= exremap_mmap_prepare,
};

static struct miscdevice exremap_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &exremap_fops,
	.mode	= 0600,
};

static int __init exremap_init(void)
{
	unsigned long i;
	int err;

	exremap_buf = alloc_pages_exact(EXREMAP_PAGES * PAGE_SIZE, GFP_KERNEL);
	if (!exremap_buf)
		return -ENOMEM;
	for (i = 0; i < EXREMAP_PAGES; i++)
		memset(exremap_buf + i * PAGE_SIZE, 'a' + i, PAGE_SIZE);
	exremap_pfn = page_to_pfn(virt_to_page(exremap_buf));
	err = misc_register(&exremap_misc);
	if (err)
		free_pages_exact(exremap_buf, EXREMAP_PAGES * PAGE_SIZE);
	return err;
}
module_init(exremap_init);

static void __exit exremap_exit(void)
{
	misc_deregister(&exremap_misc);
	free_pages_exact(exremap_buf, EXREMAP_PAGES * PAGE_SIZE);
}
module_exit(exremap_exit);

MODULE_DESCRIPTION("Example: a kernel buffer remapped by mmap_action_remap_full()");
MODULE_LICENSE("GPL");
