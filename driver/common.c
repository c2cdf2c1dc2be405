// SPDX-License-Identifier: GPL-2.0
/*
 * What both twins share: open files and their ioctls, the range check,
 * the refcounted per-mapping state, the vm_operations callbacks that
 * behave the same whichever hook created the VMA, and failure injection.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/uaccess.h>

#include "internal.h"

/* Give @file its per-open state, in FAULT mode, for @twin. */
int mmapdemo_file_open(struct file *file, struct mmapdemo_twin *twin)
{
	struct mmapdemo_file *mf;

	mf = kzalloc_obj(*mf, GFP_KERNEL);
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
 * Free the per-mapping state no VMA will ever ->close: at module exit
 * every VMA is gone, so anything left was dropped by the kernel.  This
 * happens on kernels with the mmap() retry merge (6.12 mm/mmap.c:
 * mmap_region frees the VMA that .mmap set up with vm_area_free(), which
 * calls no ->close).  live_objects shows those objects until here.
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

	map = kmalloc_obj(*map, GFP_KERNEL);
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

/*
 * vm_ops->mapped of both .mmap_prepare twins.  The kernel calls it once it
 * has made a new VMA, never for an mmap() merged into a neighbour
 * (mm/util.c:mmap_action_finish), so this is where per-mapping state is
 * allocated.  If it fails, the kernel unmaps the new VMA and calls ->close
 * with the vm_private_data it had before, NULL here
 * (mm/util.c:call_vma_mapped): nothing allocated here may be left over.
 */
int mmapdemo_prepare_mapped(unsigned long start, unsigned long end,
			    pgoff_t pgoff, const struct file *file,
			    void **vm_private_data)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	struct mmapdemo_map *map;
	int err;

	mmapdemo_count(twin, MMAPDEMO_MAPPED_CALLS);
	map = mmapdemo_map_alloc(twin);
	if (!map)
		return -ENOMEM;		/* the kernel unmaps the new VMA */
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_MAPPED);
	if (err) {
		/* not stored: ->close gets the old vm_private_data, NULL */
		mmapdemo_map_put(map);
		return err;
	}
	*vm_private_data = map;
	return 0;
}

/*
 * The end of both legacy .mmap hooks, once the VMA is set up: attach the
 * per-mapping state.  After a failed .mmap the kernel replaces vm_ops with
 * dummy ones and never calls ->close (mm/internal.h:mmap_file), so an
 * injected HOOK_EXIT failure undoes this itself.
 */
int mmapdemo_legacy_attach(struct file *file, struct vm_area_struct *vma)
{
	struct mmapdemo_map *map;
	int err;

	map = mmapdemo_map_alloc(mmapdemo_file_twin(file));
	if (!map)
		return -ENOMEM;
	vma->vm_private_data = map;
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_HOOK_EXIT);
	if (err) {
		vma->vm_private_data = NULL;
		mmapdemo_map_put(map);
	}
	return err;
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

/*
 * Failure injection, MMAPDEMO_IOC_SET_FAIL: one armed failure per open
 * file, for the next mmap() on that file, consumed when it fires.
 *
 * The twins ask at fixed points whether the failure armed for that point
 * fires (mmapdemo_fail_at); nothing else about injection lives in them.
 * A failure that is never reached stays armed: a legacy mmap() that the
 * kernel merges into a neighbour never calls .mmap (mm/vma.c:
 * __mmap_region), and a merged .mmap_prepare mmap() never calls ->mapped
 * (mm/util.c:mmap_action_finish runs only for a new VMA).
 *
 * error_override is checked here, not by the kernel: mm/util.c:
 * check_mmap_action() WARNs on a value outside -MAX_ERRNO..-1, and no
 * request from userspace may reach a WARN.
 */
static bool mmapdemo_is_errno(s32 err)
{
	return err < 0 && err >= -MAX_ERRNO;
}

static int mmapdemo_fail_check(const struct mmapdemo_fail *req, bool prepare)
{
	if (req->reserved)
		return -EINVAL;
	switch (req->stage) {
	case MMAPDEMO_FAIL_NONE:		/* disarm */
		return req->error || req->error_override ? -EINVAL : 0;
	case MMAPDEMO_FAIL_MAPPED:
		if (!prepare)			/* ->mapped is never called */
			return -EINVAL;
		break;
	case MMAPDEMO_FAIL_HOOK_ENTRY:
	case MMAPDEMO_FAIL_HOOK_EXIT:
		break;
	default:
		return -EINVAL;
	}
	if (!mmapdemo_is_errno(req->error))
		return -EINVAL;
	if (req->error_override &&
	    (!prepare || !mmapdemo_is_errno(req->error_override)))
		return -EINVAL;
	/* valid, but beyond what this kernel's API can do: MMAPDEMO_FEAT_* */
	if (req->stage == MMAPDEMO_FAIL_MAPPED &&
	    !(mmapdemo_features() & MMAPDEMO_FEAT_VM_OPS_MAPPED))
		return -EOPNOTSUPP;
	if (req->error_override &&
	    !mmapdemo_prepare_has_override(req->error_override))
		return -EOPNOTSUPP;
	return 0;
}

int mmapdemo_set_fail(struct mmapdemo_file *mf,
		      struct mmapdemo_fail __user *arg)
{
	struct mmapdemo_fail req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = mmapdemo_fail_check(&req, mf->twin->prepare);
	if (err)
		return err;
	spin_lock(&mf->fail_lock);
	mf->fail = req;
	spin_unlock(&mf->fail_lock);
	return 0;
}

/*
 * The error armed for @stage on @file, or 0.  A failure that fires is
 * disarmed and counted once in "injected".
 */
int mmapdemo_fail_at(const struct file *file, enum mmapdemo_stage stage)
{
	struct mmapdemo_file *mf = file->private_data;
	int err = 0;

	spin_lock(&mf->fail_lock);
	if (mf->fail.stage == stage && stage != MMAPDEMO_FAIL_NONE) {
		err = mf->fail.error;
		memset(&mf->fail, 0, sizeof(mf->fail));
	}
	spin_unlock(&mf->fail_lock);
	if (err)
		mmapdemo_count(mf->twin, MMAPDEMO_INJECTED);
	return err;
}

/* The armed error_override, for desc->action.error_override; 0 = none. */
int mmapdemo_fail_override(const struct file *file)
{
	struct mmapdemo_file *mf = file->private_data;
	int override;

	spin_lock(&mf->fail_lock);
	override = mf->fail.error_override;
	spin_unlock(&mf->fail_lock);
	return override;
}
