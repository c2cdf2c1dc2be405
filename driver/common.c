// SPDX-License-Identifier: GPL-2.0
/*
 * What both twins share: open files and their ioctls, the range check,
 * the refcounted per-mapping state, and the vm_operations callbacks that
 * behave the same whichever hook created the VMA.  Counters and failure
 * injection are in watch.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "watch.h"

/* Give @file its per-open state, in FAULT mode, for @twin. */
int mmapdemo_file_open(struct file *file, struct mmapdemo_twin *twin)
{
	struct mmapdemo_file *mf;

	mf = kzalloc_obj(*mf);
	if (!mf)
		return -ENOMEM;
	mf->twin = twin;
	mf->mode = MMAPDEMO_MODE_FAULT;
	spin_lock_init(&mf->fail_lock);
	file->private_data = mf;
	return 0;
}

int mmapdemo_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;	/* set by misc_open() */

	return mmapdemo_file_open(file,
				  container_of(misc, struct mmapdemo_twin, misc));
}

int mmapdemo_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
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
	/* no mmap action to ask for on this kernel: MMAPDEMO_FEAT_* */
	if (mf->twin->prepare && !mmapdemo_prepare_has_mode(mode))
		return -EOPNOTSUPP;
	WRITE_ONCE(mf->mode, mode);
	return 0;
}

static int mmapdemo_get_stats(struct mmapdemo_twin *twin,
			      struct mmapdemo_stats __user *arg)
{
	u64 val[MMAPDEMO_NR_COUNTERS];
	int i;

	BUILD_BUG_ON(sizeof(struct mmapdemo_stats) != sizeof(val));
	for (i = 0; i < MMAPDEMO_NR_COUNTERS; i++)
		val[i] = atomic64_read(&twin->counters[i]);
	return copy_to_user(arg, val, sizeof(val)) ? -EFAULT : 0;
}

long mmapdemo_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			 unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MMAPDEMO_IOC_SET_MODE:
		return mmapdemo_set_mode(mf, uarg);
	case MMAPDEMO_IOC_GET_STATS:
		return mmapdemo_get_stats(mf->twin, uarg);
	case MMAPDEMO_IOC_SET_FAIL:
		return mmapdemo_set_fail(mf, uarg);
	case MMAPDEMO_IOC_GET_FEATURES:
		return put_user(mmapdemo_features(), (u32 __user *)uarg);
	default:
		return -ENOTTY;
	}
}

long mmapdemo_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return mmapdemo_file_ioctl(file->private_data, cmd, arg);
}

/*
 * The kernel accepts any character-device offset, so keeping a mapping
 * inside the buffer is the driver's job.  Both twins call this with the
 * same values and return the same errno for the same request.
 */
static int mmapdemo_check_range(const struct mmapdemo_twin *twin,
				pgoff_t pgoff, unsigned long nr_pages)
{
	if (pgoff >= twin->nr_pages || nr_pages > twin->nr_pages - pgoff)
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

void mmapdemo_twin_init(struct mmapdemo_twin *twin)
{
	spin_lock_init(&twin->maps_lock);
	INIT_LIST_HEAD(&twin->maps);
}

/*
 * Instrumentation, not pattern: every live state object is on its twin's
 * list, under one lock per twin, only so that the kit can show what the
 * kernel orphans and still free it at module exit.  A driver keeps no
 * such global list (nor takes a global lock per mmap): its state is
 * freed by ->close, as mmapdemo_vm_close does.
 *
 * Free the per-mapping state no VMA will ever ->close: at module exit
 * every VMA is gone, so anything left was dropped by the kernel.  6.12's
 * retry merge does that (mm/mmap.c:mmap_region frees the VMA that .mmap
 * set up with vm_area_free(), which calls no ->close), and so does
 * a merge that overwrites a neighbour's vm_private_data (6.16 to 7.1,
 * mm/vma.c:__mmap_region).  live_objects shows those objects until here.
 */
void mmapdemo_twin_reap(struct mmapdemo_twin *twin)
{
	struct mmapdemo_map *map, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(map, tmp, &twin->maps, node) {
		list_del(&map->node);
		kfree(map);
		n++;
	}
	if (n)
		pr_info("%s: freed %u per-mapping state objects whose VMA the kernel dropped without ->close\n",
			twin->name, n);
}

struct mmapdemo_map *mmapdemo_map_alloc(struct mmapdemo_twin *twin)
{
	struct mmapdemo_map *map;

	map = kmalloc_obj(*map);
	if (!map)
		return NULL;
	refcount_set(&map->refs, 1);
	map->twin = twin;
	spin_lock(&twin->maps_lock);
	list_add(&map->node, &twin->maps);
	spin_unlock(&twin->maps_lock);
	mmapdemo_count(twin, MMAPDEMO_LIVE_OBJECTS);
	return map;
}

void mmapdemo_map_put(struct mmapdemo_map *map)
{
	struct mmapdemo_twin *twin;

	if (!map || !refcount_dec_and_test(&map->refs))
		return;
	twin = map->twin;
	spin_lock(&twin->maps_lock);
	list_del(&map->node);
	spin_unlock(&twin->maps_lock);
	atomic64_dec(&twin->counters[MMAPDEMO_LIVE_OBJECTS]);
	kfree(map);
}

/* A split or a fork made a second VMA sharing vm_private_data. */
void mmapdemo_vm_open(struct vm_area_struct *vma)
{
	struct mmapdemo_map *map = vma->vm_private_data;

	mmapdemo_count(mmapdemo_file_twin(vma->vm_file), MMAPDEMO_VM_OPEN);
	if (map)
		refcount_inc(&map->refs);
}

/* vm_private_data may be NULL: a VMA whose state was never set up. */
void mmapdemo_vm_close(struct vm_area_struct *vma)
{
	mmapdemo_count(mmapdemo_file_twin(vma->vm_file), MMAPDEMO_VM_CLOSE);
	mmapdemo_map_put(vma->vm_private_data);
}

vm_fault_t mmapdemo_vm_fault(struct vm_fault *vmf)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(vmf->vma->vm_file);
	struct page *page;

	mmapdemo_count(twin, MMAPDEMO_FAULTS);
	if (vmf->pgoff >= twin->nr_pages)
		return VM_FAULT_SIGBUS;
	page = virt_to_page(twin->buf + (vmf->pgoff << PAGE_SHIFT));
	get_page(page);
	vmf->page = page;
	return 0;
}
