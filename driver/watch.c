// SPDX-License-Identifier: GPL-2.0
/*
 * How the kit watches the twins: the counters (MMAPDEMO_IOC_GET_STATS and
 * debugfs), failure injection (MMAPDEMO_IOC_SET_FAIL) and the list of live
 * per-mapping state objects behind live_objects.  The twins'
 * file_operations and vm_operations point at the wrappers below, which
 * call the real callbacks; those are what a driver would write, and know
 * nothing of this file.  Nothing here is part of the pattern.
 *
 * The wrappers of the .mmap_prepare twins are in watch_prepare.c, built
 * only where the kernel has the hook.
 *
 * One failure is armed per open file, for the next mmap() on that file,
 * and consumed when it fires.  A failure that is never reached stays
 * armed: a legacy mmap() that the kernel merges into a neighbour never
 * calls .mmap (mm/vma.c:__mmap_region), and a merged .mmap_prepare mmap()
 * never calls ->mapped (mm/util.c:mmap_action_finish runs only for a new
 * VMA).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/errno.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "watch.h"

/*
 * An errno userspace may see: -1 .. -511.  error_override is checked here,
 * not by the kernel: mm/util.c:check_mmap_action WARNs on a value outside
 * -MAX_ERRNO..-1, and no request from userspace may reach a WARN.  The
 * kernel-internal codes from ERESTARTSYS (512) on must never reach
 * userspace at all (include/linux/errno.h).
 */
static bool mmapdemo_is_errno(s32 err)
{
	return err < 0 && err > -ERESTARTSYS;
}

static int mmapdemo_fail_check(const struct mmapdemo_fail *req,
			       const struct mmapdemo_file *mf)
{
	bool prepare = mf->twin->prepare;

	if (req->reserved)
		return -EINVAL;
	switch (req->stage) {
	case MMAPDEMO_FAIL_NONE:		/* disarm */
		return req->error || req->error_override ? -EINVAL : 0;
	case MMAPDEMO_FAIL_MAPPED:
		if (!prepare)			/* ->mapped is never called */
			return -EINVAL;
		/*
		 * a ->mapped that only takes a count cannot fail; NONE's
		 * vm_ops have no ->mapped
		 */
		if (READ_ONCE(mf->state) != MMAPDEMO_STATE_PER_VMA)
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

static int mmapdemo_set_fail(struct mmapdemo_file *mf,
			     struct mmapdemo_fail __user *arg)
{
	struct mmapdemo_fail req;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	err = mmapdemo_fail_check(&req, mf);
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

/* The armed error_override, 0 = none. */
int mmapdemo_fail_override(const struct file *file)
{
	struct mmapdemo_file *mf = file->private_data;
	int override;

	spin_lock(&mf->fail_lock);
	override = mf->fail.error_override;
	spin_unlock(&mf->fail_lock);
	return override;
}

static int mmapdemo_get_stats(struct mmapdemo_twin *twin,
			      struct mmapdemo_stats __user *arg)
{
	u64 val[MMAPDEMO_NR_COUNTERS];
	int i;

	BUILD_BUG_ON(sizeof(struct mmapdemo_stats) != sizeof(val));
	for (i = 0; i < MMAPDEMO_NR_COUNTERS; i++)
		val[i] = atomic64_read(&twin->watch.counters[i]);
	return copy_to_user(arg, val, sizeof(val)) ? -EFAULT : 0;
}

/*
 * The SHARED shape changes what a MAPPED failure would undo; NONE has no
 * ->mapped to fail in.
 */
static int mmapdemo_watch_set_state(struct mmapdemo_file *mf,
				    unsigned long arg)
{
	u32 __user *uarg = (u32 __user *)arg;
	u32 state;
	bool mapped_armed;

	if (get_user(state, uarg))
		return -EFAULT;
	spin_lock(&mf->fail_lock);
	mapped_armed = mf->fail.stage == MMAPDEMO_FAIL_MAPPED;
	spin_unlock(&mf->fail_lock);
	if (state != MMAPDEMO_STATE_PER_VMA && mapped_armed)
		return -EINVAL;
	return mmapdemo_file_ioctl(mf, MMAPDEMO_IOC_SET_STATE, arg);
}

/* The kit's ioctls; the rest are the pattern's settings (common.c). */
long mmapdemo_watch_file_ioctl(struct mmapdemo_file *mf, unsigned int cmd,
			       unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MMAPDEMO_IOC_GET_STATS:
		return mmapdemo_get_stats(mf->twin, uarg);
	case MMAPDEMO_IOC_SET_FAIL:
		return mmapdemo_set_fail(mf, uarg);
	case MMAPDEMO_IOC_GET_MAPS:
		return put_user((s64)atomic_long_read(&mf->maps),
				(s64 __user *)uarg);
	case MMAPDEMO_IOC_SET_STATE:
		return mmapdemo_watch_set_state(mf, arg);
	default:
		return mmapdemo_file_ioctl(mf, cmd, arg);
	}
}

long mmapdemo_watch_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	return mmapdemo_watch_file_ioctl(file->private_data, cmd, arg);
}

/* --- live per-mapping state objects ------------------------------------ */

void mmapdemo_watch_init(struct mmapdemo_twin *twin)
{
	mutex_init(&twin->watch.lock);
	INIT_LIST_HEAD(&twin->watch.maps);
}

/* A new PER_VMA object exists: count it and keep it on the list. */
void mmapdemo_watch_track(struct mmapdemo_twin *twin, struct mmapdemo_map *map)
{
	mutex_lock(&twin->watch.lock);
	list_add(&map->node, &twin->watch.maps);
	mutex_unlock(&twin->watch.lock);
	mmapdemo_count(twin, MMAPDEMO_LIVE_OBJECTS);
}

/*
 * ->close of every twin: drop @vma's reference (state.c), and if it is the
 * last on a PER_VMA object, take the object off the list first.  Every
 * drop is made under the lock, so that the reference read here is the one
 * dropped.  Taking one needs no lock: the last reference of a VMA being
 * closed cannot be copied meanwhile (->open copies a VMA of the same mm,
 * under the same mmap lock).
 */
void mmapdemo_watch_vm_close(struct vm_area_struct *vma)
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(vma->vm_file);
	struct mmapdemo_map *map = mmapdemo_vma_map(vma);

	mmapdemo_count(twin, MMAPDEMO_VM_CLOSE);
	mutex_lock(&twin->watch.lock);
	if (map && refcount_read(&map->refs) == 1) {
		list_del(&map->node);
		atomic64_dec(&twin->watch.counters[MMAPDEMO_LIVE_OBJECTS]);
	}
	mmapdemo_vm_close(vma);
	mutex_unlock(&twin->watch.lock);
}

/*
 * Free the per-mapping state no VMA will ever ->close: at module exit
 * every VMA is gone, so anything left was dropped by the kernel.  6.12's
 * retry merge does that (mm/mmap.c:__mmap_region frees the VMA that .mmap
 * set up with vm_area_free(), which calls no ->close), and so does a merge
 * that overwrites a neighbour's vm_private_data (7.1, and 7.2 before
 * its 7.2.10 stable update: mm/vma.c:__mmap_region; 6.16 to 7.0 overwrite
 * too, but have no ->mapped and no object to lose).
 * live_objects shows those objects until here.
 */
void mmapdemo_watch_reap(struct mmapdemo_twin *twin)
{
	struct mmapdemo_map *map, *tmp;
	unsigned int n = 0;

	list_for_each_entry_safe(map, tmp, &twin->watch.maps, node) {
		list_del(&map->node);
		kfree(map);
		n++;
	}
	if (n)
		pr_info("%s: freed %u per-mapping state objects whose VMA the kernel dropped without ->close\n",
			twin->name, n);
}

/* --- the wrappers ------------------------------------------------------- */

/* What a failed .mmap must undo of mmapdemo_legacy_attach: drop it. */
static void mmapdemo_legacy_detach(struct vm_area_struct *vma)
{
	mmapdemo_vm_close(vma);
	vma->vm_private_data = NULL;
}

/*
 * f_op->mmap of the legacy twins: count, fail at entry if armed, run the
 * hook, and fail at exit if armed - after the hook attached its state,
 * which is then dropped here, as the hook's own late error path would:
 * after a failed .mmap the kernel never calls ->close
 * (mm/internal.h:mmap_file).
 */
int mmapdemo_watch_mmap(struct file *file, struct vm_area_struct *vma,
			int (*hook)(struct file *file,
				    struct vm_area_struct *vma))
{
	struct mmapdemo_twin *twin = mmapdemo_file_twin(file);
	struct mmapdemo_map *map;
	int err;

	mmapdemo_count(twin, MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
	err = hook(file, vma);
	if (err)
		return err;
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_HOOK_EXIT);
	if (err) {
		mmapdemo_legacy_detach(vma);	/* not tracked yet */
		return err;
	}
	map = mmapdemo_vma_map(vma);
	if (map)
		mmapdemo_watch_track(twin, map);
	return 0;
}

void mmapdemo_watch_vm_open(struct vm_area_struct *vma)
{
	mmapdemo_count(mmapdemo_file_twin(vma->vm_file), MMAPDEMO_VM_OPEN);
	mmapdemo_vm_open(vma);
}

vm_fault_t mmapdemo_watch_vm_fault(struct vm_fault *vmf)
{
	mmapdemo_count(mmapdemo_file_twin(vmf->vma->vm_file), MMAPDEMO_FAULTS);
	return mmapdemo_vm_fault(vmf);
}

static const char * const mmapdemo_counter_names[MMAPDEMO_NR_COUNTERS] = {
	[MMAPDEMO_HOOK_CALLS]	= "hook_calls",
	[MMAPDEMO_MAPPED_CALLS]	= "mapped_calls",
	[MMAPDEMO_VM_OPEN]	= "vm_open",
	[MMAPDEMO_VM_CLOSE]	= "vm_close",
	[MMAPDEMO_FAULTS]	= "faults",
	[MMAPDEMO_LIVE_OBJECTS]	= "live_objects",
	[MMAPDEMO_INJECTED]	= "injected",
	[MMAPDEMO_MAP_PAGES]	= "map_pages",
	[MMAPDEMO_PAGE_MKWRITE]	= "page_mkwrite",
};

static int mmapdemo_counters_show(struct seq_file *m, void *unused)
{
	struct mmapdemo_twin *twin = m->private;
	int i;

	for (i = 0; i < MMAPDEMO_NR_COUNTERS; i++)
		seq_printf(m, "%s %lld\n", mmapdemo_counter_names[i],
			   atomic64_read(&twin->watch.counters[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmapdemo_counters);

/* PARENT/<twin name>: the twin's counters, one per line. */
void mmapdemo_debugfs_add(struct dentry *parent, struct mmapdemo_twin *twin)
{
	debugfs_create_file(twin->name, 0444, parent, twin,
			    &mmapdemo_counters_fops);
}
