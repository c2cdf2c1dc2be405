// SPDX-License-Identifier: GPL-2.0
/*
 * edu_legacy: BAR 0 of QEMU's "edu" PCI device (1234:11e8) mapped to
 * userspace with f_op->mmap and io_remap_pfn_range().  One misc device per
 * bound PCI device: /dev/edu_legacy-<PCI address>, e.g.
 * /dev/edu_legacy-0000:00:02.0.  Its .mmap_prepare twins are edu_prepare.c
 * and edu_simple.c; load one of the three at a time, all claim the device.
 *
 * Kernels: every one (6.12 on).  This is the driver that must stay .mmap on
 * 6.16-6.18: their .mmap_prepare has no way to remap PFNs; the actions that
 * do, mmap_action_ioremap_full() among them, came with 6.19
 * (6.19 include/linux/mm.h:mmap_action_ioremap_full).
 *
 * What the kernel does with the VMA: io_remap_pfn_range() sets VM_IO,
 * VM_PFNMAP, VM_DONTEXPAND and VM_DONTDUMP (6.16 mm/memory.c:
 * remap_pfn_range_internal; 7.3 mm/memory.c:remap_pfn_range_prepare_vma,
 * VMA_REMAP_FLAGS) and fills every page table entry before mmap() returns.
 *
 * Only MAP_SHARED: in a private mapping the first write to a page would
 * copy it into RAM (mm/memory.c:do_wp_page), and the write would never
 * reach the device.  The range is checked here: pgoff and length within
 * the BAR, else -EINVAL.
 *
 * Lifetime: an open file or a mapping holds a reference on this module
 * (.owner), so rmmod, the only caller of .remove here, waits until the last
 * mapping is gone; unbinding through sysfs is switched off
 * (suppress_bind_attrs).  A driver for a hot-pluggable device must instead
 * zap its mappings in .remove (unmap_mapping_range()) and keep its state
 * alive until the last file is closed.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>

#define EDU_VENDOR_ID	0x1234
#define EDU_DEVICE_ID	0x11e8
#define EDU_BAR		0

struct edu_bar {
	struct miscdevice misc;
	phys_addr_t start;
	unsigned long pages;
};

static int edu_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* misc_open() set private_data to the misc device */
	struct edu_bar *bar = container_of(file->private_data,
					   struct edu_bar, misc);

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= bar->pages ||
	    vma_pages(vma) > bar->pages - vma->vm_pgoff)
		return -EINVAL;

	/* device registers: no caching, every access reaches the device */
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	return io_remap_pfn_range(vma, vma->vm_start,
				  PHYS_PFN(bar->start) + vma->vm_pgoff,
				  vma->vm_end - vma->vm_start,
				  vma->vm_page_prot);
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.mmap		= edu_mmap,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct edu_bar *bar;
	resource_size_t len;
	int err;

	bar = devm_kzalloc(dev, sizeof(*bar), GFP_KERNEL);
	if (!bar)
		return -ENOMEM;
	err = pcim_enable_device(pdev);
	if (err)
		return dev_err_probe(dev, err, "cannot enable the device\n");
	err = pcim_request_region(pdev, EDU_BAR, KBUILD_MODNAME);
	if (err)
		return dev_err_probe(dev, err, "BAR %d is busy\n", EDU_BAR);

	bar->start = pci_resource_start(pdev, EDU_BAR);
	len = pci_resource_len(pdev, EDU_BAR);
	if (!(pci_resource_flags(pdev, EDU_BAR) & IORESOURCE_MEM) ||
	    !PAGE_ALIGNED(bar->start) || len < PAGE_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "BAR %d is not page-aligned memory\n",
				     EDU_BAR);
	bar->pages = len >> PAGE_SHIFT;

	bar->misc.minor = MISC_DYNAMIC_MINOR;
	bar->misc.name = devm_kasprintf(dev, GFP_KERNEL, KBUILD_MODNAME "-%s",
					pci_name(pdev));
	if (!bar->misc.name)
		return -ENOMEM;
	bar->misc.fops = &edu_fops;
	bar->misc.parent = dev;
	pci_set_drvdata(pdev, bar);
	return misc_register(&bar->misc);
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_bar *bar = pci_get_drvdata(pdev);

	misc_deregister(&bar->misc);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name		= KBUILD_MODNAME,
	.id_table	= edu_ids,
	.probe		= edu_probe,
	.remove		= edu_remove,
	.driver		= {
		.suppress_bind_attrs = true,
	},
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("QEMU edu BAR 0 to userspace with f_op->mmap");
MODULE_LICENSE("GPL");
