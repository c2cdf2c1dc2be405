// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: module parameters, buffers, device registration, debugfs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/module.h>

#include "watch.h"

static unsigned int pages = 64;
module_param(pages, uint, 0444);
MODULE_PARM_DESC(pages, "Buffer size of each device in pages (default 64, at most one maximum-order block)");

/* A twin whose fops are NULL is not built for this kernel (internal.h). */
static struct mmapdemo_twin mmapdemo_twins[] = {
	{
		.name = "prepare",
		.prepare = true,
		.dev.misc = {
			.minor	= MISC_DYNAMIC_MINOR,
			.name	= "mmapdemo_prepare",
			.fops	= MMAPDEMO_CHARDEV_PREPARE_FOPS,
		},
	},
	{
		.name = "legacy",
		.dev.misc = {
			.minor	= MISC_DYNAMIC_MINOR,
			.name	= "mmapdemo_legacy",
			.fops	= &mmapdemo_chardev_legacy_fops,
		},
	},
};

static struct dentry *mmapdemo_debugfs;

/*
 * One physically contiguous block, so that a single PFN range can be
 * remapped.  alloc_pages_exact() splits it into order-0 pages, each with
 * its own refcount, as ->fault and page insertion need.  The page array
 * is what vm_map_pages() and mmap_action_map_kernel_pages() take.
 */
static int mmapdemo_buffer_alloc(struct mmapdemo_dev *dev)
{
	unsigned long i;

	dev->nr_pages = pages;
	dev->pages = mmapdemo_kvmalloc_objs(*dev->pages, pages);
	if (!dev->pages)
		return -ENOMEM;
	dev->buf = alloc_pages_exact(pages * PAGE_SIZE,
				     GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!dev->buf) {
		kvfree(dev->pages);
		return -ENOMEM;
	}
	for (i = 0; i < pages; i++)
		dev->pages[i] = virt_to_page(dev->buf + i * PAGE_SIZE);
	dev->pfn = page_to_pfn(dev->pages[0]);
	return 0;
}

static void mmapdemo_buffer_free(struct mmapdemo_dev *dev)
{
	free_pages_exact(dev->buf, dev->nr_pages * PAGE_SIZE);
	kvfree(dev->pages);
}

static void mmapdemo_twin_destroy(struct mmapdemo_twin *twin)
{
	if (!twin->dev.misc.fops)
		return;
	misc_deregister(&twin->dev.misc);
	mmapdemo_watch_reap(twin);
	mmapdemo_buffer_free(&twin->dev);
}

static int mmapdemo_twin_create(struct mmapdemo_twin *twin)
{
	int err;

	if (!twin->dev.misc.fops)
		return 0;
	mmapdemo_watch_init(twin);
	err = mmapdemo_buffer_alloc(&twin->dev);
	if (err) {
		pr_err("cannot allocate %u pages for %s\n",
		       pages, twin->dev.misc.name);
		return err;
	}
	err = misc_register(&twin->dev.misc);
	if (err) {
		pr_err("cannot register %s: %d\n", twin->dev.misc.name, err);
		mmapdemo_buffer_free(&twin->dev);
		return err;
	}
	mmapdemo_debugfs_add(mmapdemo_debugfs, twin);
	return 0;
}

/* What this kernel got, from the compile probes: one line at load time. */
static void mmapdemo_report_features(void)
{
	u32 f = mmapdemo_features();

	if (!(f & MMAPDEMO_FEAT_PREPARE_TWINS)) {
		pr_info("this kernel has no f_op->mmap_prepare: registered the .mmap twins only: /dev/mmapdemo_legacy (%u pages), %s\n",
			pages, MMAPDEMO_FS_LEGACY);
		return;
	}
	pr_info("registered the .mmap_prepare and .mmap twins: /dev/mmapdemo_prepare, /dev/mmapdemo_legacy (%u pages each), %s, %s\n",
		pages, MMAPDEMO_FS_PREPARE, MMAPDEMO_FS_LEGACY);
	pr_info(".mmap_prepare twins: modes FAULT FLAGS%s%s; per-mapping state: %s; error replacement: %s; under overlayfs: %s\n",
		f & MMAPDEMO_FEAT_MMAP_ACTION ? " REMAP" : "",
		f & MMAPDEMO_FEAT_MAP_KERNEL_PAGES ? " PAGES" : "",
		f & MMAPDEMO_FEAT_VM_OPS_MAPPED ? "vm_ops->mapped" :
		"none (no vm_ops->mapped)",
		f & MMAPDEMO_FEAT_ERROR_OVERRIDE ? "action.error_override" :
		f & MMAPDEMO_FEAT_ERROR_HOOK ? "action.error_hook, -EAGAIN only" :
		"none (no mmap actions)",
		f & MMAPDEMO_FEAT_STACKED_PREPARE ? "yes" :
		"no (backing_file_mmap wants .mmap)");
}

static int __init mmapdemo_init(void)
{
	int err, i;

	if (pages < 1 || pages > MAX_ORDER_NR_PAGES) {
		pr_err("pages=%u is out of range 1..%u\n", pages,
		       MAX_ORDER_NR_PAGES);
		return -EINVAL;
	}
	mmapdemo_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	for (i = 0; i < ARRAY_SIZE(mmapdemo_twins); i++) {
		err = mmapdemo_twin_create(&mmapdemo_twins[i]);
		if (err)
			goto undo;
	}
	err = mmapdemo_fs_register(mmapdemo_debugfs);
	if (err)
		goto undo;
	mmapdemo_report_features();
	return 0;
undo:
	while (--i >= 0)
		mmapdemo_twin_destroy(&mmapdemo_twins[i]);
	debugfs_remove_recursive(mmapdemo_debugfs);
	return err;
}

static void __exit mmapdemo_exit(void)
{
	int i;

	mmapdemo_fs_unregister();
	debugfs_remove_recursive(mmapdemo_debugfs);
	for (i = ARRAY_SIZE(mmapdemo_twins) - 1; i >= 0; i--)
		mmapdemo_twin_destroy(&mmapdemo_twins[i]);
}

module_init(mmapdemo_init);
module_exit(mmapdemo_exit);

MODULE_DESCRIPTION("Reference kit for f_op->mmap_prepare beside legacy f_op->mmap");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1");
