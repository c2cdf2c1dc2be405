// SPDX-License-Identifier: GPL-2.0
/*
 * exremap_legacy: a misc device whose buffer of EXREMAP_PAGES physically
 * contiguous pages (page i filled with 'a' + i) is remapped whole at
 * mmap() time, as remap_pfn_range() does from .mmap.  No per-mapping
 * state.
 *
 * This driver keeps f_op->mmap, and must on 6.16 to 6.18: a remap needs
 * the VMA, which only .mmap gets, and those series have no mmap action to
 * ask the kernel for it (the actions came in 6.19: include/linux/mm.h,
 * mmap_action_remap_full).  From 6.19 it can be converted: exremap.c.
 * Builds on every kernel, 6.12 included.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>

#define EXREMAP_PAGES	4

static void *exremap_buf;
static unsigned long exremap_pfn;

static int exremap_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff >= EXREMAP_PAGES ||
	    vma_pages(vma) > EXREMAP_PAGES - vma->vm_pgoff)
		return -EINVAL;
	/* sets VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP */
	return remap_pfn_range(vma, vma->vm_start, exremap_pfn + vma->vm_pgoff,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static const struct file_operations exremap_fops = {
	.owner	= THIS_MODULE,
	.mmap	= exremap_mmap,
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

MODULE_DESCRIPTION("Example: a kernel buffer remapped by remap_pfn_range() from .mmap");
MODULE_LICENSE("GPL");
