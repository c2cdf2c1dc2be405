// SPDX-License-Identifier: GPL-2.0
/*
 * How the kit watches the twins: the counters (MMAPDEMO_IOC_GET_STATS and
 * debugfs) and failure injection (MMAPDEMO_IOC_SET_FAIL).  The twins'
 * file_operations and vm_operations point at thin wrappers that call the
 * real hooks through the functions below; the hooks themselves are what a
 * driver would write.  Nothing here is part of the pattern.
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

#include "internal.h"
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
	int err;

	mmapdemo_count(mmapdemo_file_twin(file), MMAPDEMO_HOOK_CALLS);
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_HOOK_ENTRY);
	if (err)
		return err;
	err = hook(file, vma);
	if (err)
		return err;
	err = mmapdemo_fail_at(file, MMAPDEMO_FAIL_HOOK_EXIT);
	if (err) {
		mmapdemo_map_put(vma->vm_private_data);
		vma->vm_private_data = NULL;
	}
	return err;
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
			   atomic64_read(&twin->counters[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmapdemo_counters);

/* PARENT/<twin name>: the twin's counters, one per line. */
void mmapdemo_debugfs_add(struct dentry *parent, struct mmapdemo_twin *twin)
{
	debugfs_create_file(twin->name, 0444, parent, twin,
			    &mmapdemo_counters_fops);
}
