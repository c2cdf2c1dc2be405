// SPDX-License-Identifier: GPL-2.0
/*
 * edu_simple: BAR 0 of QEMU's "edu" PCI device (1234:11e8) mapped to
 * userspace with f_op->mmap_prepare and mmap_action_simple_ioremap().  It
 * differs from edu_prepare.c in the hook alone: the driver names the BAR's
 * physical range, and the kernel checks pgoff and length against it, as
 * vm_iomap_memory() does for .mmap.  One misc device per bound PCI device,
 * /dev/edu_simple-<PCI address>.  Load one of edu_legacy, edu_prepare and
 * edu_simple at a time: all claim the device.
 *
 * Kernels: 7.1 on: mmap_action_simple_ioremap() and vma_desc_test() are 7.1
 * (7.1 include/linux/mm.h).  drivers/char/hpet.c and drivers/misc/
 * open-dice.c use it so from 7.1.
 *
 * The hook runs before any VMA exists and only describes the mapping.
 * Preparing the action (mm/memory.c:simple_ioremap_prepare) checks the
 * range with the code vm_iomap_memory() uses (__simple_ioremap_prep: -EINVAL
 * when pgoff or the length falls outside [phys, phys + size)), then turns
 * it into an I/O remap of the PFNs from desc->page_prot as it is when the
 * hook has returned, and sets VM_IO, VM_PFNMAP, VM_DONTEXPAND and
 * VM_DONTDUMP (mm/memory.c:remap_pfn_range_prepare, VMA_REMAP_FLAGS).
 *
 * Only MAP_SHARED: in a private mapping the first write to a page would
 * copy it into RAM (mm/memory.c:do_wp_page), and the write would never
 * reach the device.  The kernel does not refuse it: the driver must.
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
	resource_size_t len;
};

static int edu_mmap_prepare(struct vm_area_desc *desc)
{
	/* misc_open() set private_data to the misc device */
	struct edu_bar *bar = container_of(desc->file->private_data,
					   struct edu_bar, misc);

	if (!vma_desc_test(desc, VMA_MAYSHARE_BIT))
		return -EINVAL;

	/* device registers: no caching, every access reaches the device */
	desc->page_prot = pgprot_noncached(desc->page_prot);
	mmap_action_simple_ioremap(desc, bar->start, bar->len);
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
	bar->len = pci_resource_len(pdev, EDU_BAR);
	if (!(pci_resource_flags(pdev, EDU_BAR) & IORESOURCE_MEM) ||
	    !PAGE_ALIGNED(bar->start) || bar->len < PAGE_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "BAR %d is not page-aligned memory\n",
				     EDU_BAR);

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

MODULE_DESCRIPTION("QEMU edu BAR 0 to userspace, mmap_action_simple_ioremap()");
MODULE_LICENSE("GPL");
