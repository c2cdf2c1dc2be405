// SPDX-License-Identifier: GPL-2.0
/*
 * edu_prepare: BAR 0 of QEMU's "edu" PCI device (1234:11e8) mapped to
 * userspace with f_op->mmap_prepare and mmap_action_ioremap_full(): the
 * twin of edu_legacy.c, the same but for the hook.  One misc device per
 * bound PCI device, /dev/edu_prepare-<PCI address>.  Load one of
 * edu_legacy, edu_prepare and edu_simple at a time: all claim the device.
 *
 * Kernels: 7.1 on.  mmap_action_ioremap_full() came with the actions in
 * 6.19 (6.19 include/linux/mm.h:mmap_action_ioremap_full); the test for
 * MAP_SHARED is spelled vma_desc_test(desc, VMA_MAYSHARE_BIT), which is 7.1
 * (7.1 include/linux/mm.h:vma_desc_test).  On 6.19 the same test reads
 * desc->vm_flags & VM_MAYSHARE, on 7.0 vma_desc_test_flags(desc,
 * VMA_MAYSHARE_BIT); nothing else changes.  On 6.16-6.18 keep .mmap
 * (edu_legacy.c): there is no action to remap PFNs.
 *
 * The hook runs before any VMA exists and only describes the mapping: the
 * kernel does the remap once the VMA is in place.  Two rules follow:
 *  - desc->page_prot first: mmap_action_ioremap_full() copies it into the
 *    action when called (include/linux/mm.h:mmap_action_remap,
 *    action->remap.pgprot = desc->page_prot), so a change after the call
 *    is lost.
 *  - no flags to set: preparing the action rewrites it to MMAP_REMAP_PFN
 *    (mm/internal.h:io_remap_pfn_range_prepare) and sets VM_IO, VM_PFNMAP,
 *    VM_DONTEXPAND and VM_DONTDUMP on the descriptor (7.1 and 7.3
 *    mm/memory.c:remap_pfn_range_prepare, VMA_REMAP_FLAGS), the flags
 *    io_remap_pfn_range() gives edu_legacy's VMA.
 *
 * Only MAP_SHARED: in a private mapping the first write to a page would
 * copy it into RAM (mm/memory.c:do_wp_page), and the write would never
 * reach the device.  The range is checked here: pgoff and length within
 * the BAR, else -EINVAL; edu_simple.c leaves that check to the kernel.
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

static int edu_mmap_prepare(struct vm_area_desc *desc)
{
	/* misc_open() set private_data to the misc device */
	struct edu_bar *bar = container_of(desc->file->private_data,
					   struct edu_bar, misc);

	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT))
		return -EINVAL;
	if (desc->pgoff >= bar->pages ||
	    vma_desc_pages(desc) > bar->pages - desc->pgoff)
		return -EINVAL;

	/* device registers: no caching; before the action, which copies it */
	desc->page_prot = pgprot_noncached(desc->page_prot);
	mmap_action_ioremap_full(desc, PHYS_PFN(bar->start) + desc->pgoff);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner		= THIS_MODULE,
	.mmap_prepare	= edu_mmap_prepare,
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

MODULE_DESCRIPTION("QEMU edu BAR 0 to userspace, mmap_action_ioremap_full()");
MODULE_LICENSE("GPL");
