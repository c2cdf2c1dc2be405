// SPDX-License-Identifier: GPL-2.0
/*
 * What both twins share, as a driver has it: open files and the ioctls
 * that set how they map, the range check, and the character device's
 * ->fault.  The per-mapping state is in state.c; counters and failure
 * injection are the kit's (watch.c), which calls in here, never the
 * reverse.
 */
#include <linux/uaccess.h>

#include "internal.h"

/* Give @file its per-open state, in FAULT mode and PER_VMA shape. */
int mmapdemo_file_open(struct file *file, struct mmapdemo_twin *twin)
{
	struct mmapdemo_file *mf;

	mf = mmapdemo_kzalloc_obj(*mf);
	if (!mf)
		return -ENOMEM;
	mf->twin = twin;
	mf->mode = MMAPDEMO_MODE_FAULT;
	mf->state = MMAPDEMO_STATE_PER_VMA;
	spin_lock_init(&mf->fail_lock);
	file->private_data = mf;
	return 0;
}

int mmapdemo_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;	/* set by misc_open() */

	return mmapdemo_file_open(file, container_of(misc, struct mmapdemo_twin,
						     dev.misc));
}

/* No VMA refers to the file any more: each holds a reference on it. */
int mmapdemo_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

/*
 * A SHARED count taken in ->mapped cannot be told apart after a failed
 * action; a VMA with an action never merges, so NONE would show nothing.
 */
static bool mmapdemo_has_action(u32 mode)
{
	return mode == MMAPDEMO_MODE_REMAP || mode == MMAPDEMO_MODE_PAGES;
}

static int mmapdemo_set_mode(struct mmapdemo_file *mf, u32 __user *arg)
{
	u32 mode;

	if (get_user(mode, arg))
		return -EFAULT;
	if (mode > MMAPDEMO_MODE_PAGES)
		return -EINVAL;
	/* a page-cache file has no buffer to remap or insert */
	if (mf->twin->pagecache && mode > MMAPDEMO_MODE_FLAGS)
		return -EINVAL;
	if (mf->state != MMAPDEMO_STATE_PER_VMA && mmapdemo_has_action(mode))
		return -EINVAL;
	/* no mmap action to ask for on this kernel: MMAPDEMO_FEAT_* */
	if (mf->twin->prepare && !mmapdemo_prepare_has_mode(mode))
		return -EOPNOTSUPP;
	WRITE_ONCE(mf->mode, mode);
	return 0;
}

static int mmapdemo_set_state(struct mmapdemo_file *mf, u32 __user *arg)
{
	u32 state;

	if (get_user(state, arg))
		return -EFAULT;
	if (state > MMAPDEMO_STATE_NONE)
		return -EINVAL;
	/* NONE: VM_SPECIAL never merges, ->close or not (uapi/mmapdemo.h) */
	if (state != MMAPDEMO_STATE_PER_VMA && mmapdemo_has_action(mf->mode))
		return -EINVAL;
	/* no vm_ops->mapped to take the count in: MMAPDEMO_FEAT_VM_OPS_MAPPED */
	if (state == MMAPDEMO_STATE_SHARED && mf->twin->prepare &&
	    !(mmapdemo_features() & MMAPDEMO_FEAT_VM_OPS_MAPPED))
		return -EOPNOTSUPP;
	WRITE_ONCE(mf->state, state);
	return 0;
}

/* The ioctls of the pattern's own settings; the kit's are in watch.c. */
long mmapdemo_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MMAPDEMO_IOC_SET_MODE:
		return mmapdemo_set_mode(mf, uarg);
	case MMAPDEMO_IOC_SET_STATE:
		return mmapdemo_set_state(mf, uarg);
	case MMAPDEMO_IOC_GET_FEATURES:
		return put_user(mmapdemo_features(), (u32 __user *)uarg);
	default:
		return -ENOTTY;
	}
}

/*
 * The kernel accepts any character-device offset, so keeping a mapping
 * inside the buffer is the driver's job.  Both twins call this with the
 * same values and return the same errno for the same request.
 */
static int mmapdemo_check_range(const struct mmapdemo_twin *twin,
				pgoff_t pgoff, unsigned long nr_pages)
{
	if (pgoff >= twin->dev.nr_pages ||
	    nr_pages > twin->dev.nr_pages - pgoff)
		return -EINVAL;
	return 0;
}

/*
 * Everything a twin checks before it maps anything, in the same order in
 * both twins, so that the same bad request gets the same errno:
 *  - the range must lie inside the buffer: -EINVAL;
 *  - REMAP needs MAP_SHARED: -EINVAL.  For a private (CoW) mapping
 *    remap_pfn_range() and mmap_action_remap() rewrite vm_pgoff to the PFN
 *    (mm/memory.c:get_remap_pgoff), which /proc/PID/maps then shows as
 *    the file offset - a physical address handed to userspace - and
 *    which breaks every pgoff-based assumption.  FAULT, FLAGS and PAGES
 *    keep vm_pgoff and allow MAP_PRIVATE (writes go to CoW copies).
 */
int mmapdemo_check_request(const struct mmapdemo_twin *twin, u32 mode,
			   pgoff_t pgoff, unsigned long nr_pages, bool shared)
{
	int err;

	err = mmapdemo_check_range(twin, pgoff, nr_pages);
	if (err)
		return err;
	if (mode == MMAPDEMO_MODE_REMAP && !shared)
		return -EINVAL;
	return 0;
}

/* ->fault of the character device: the buffer's page at the offset. */
vm_fault_t mmapdemo_vm_fault(struct vm_fault *vmf)
{
	const struct mmapdemo_dev *dev =
		&mmapdemo_file_twin(vmf->vma->vm_file)->dev;
	struct page *page;

	if (vmf->pgoff >= dev->nr_pages)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(dev->buf + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}
