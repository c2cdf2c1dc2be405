// SPDX-License-Identifier: GPL-2.0
/*
 * Per-mapping state, as a driver keeps it: the same for every twin, in
 * two shapes, chosen per open file (MMAPDEMO_IOC_SET_STATE).
 *
 * PER_VMA: a new refcounted object for each new VMA, in vm_private_data;
 * ->open (split, fork) takes a reference, ->close drops one.  The prepare
 * twins allocate it in vm_ops->mapped (7.1), the legacy twins at the end
 * of .mmap.  Where the kernel writes a merged mmap's desc->private_data
 * over its neighbour's vm_private_data (7.1 and 7.2.0-7.2.9; see
 * chardev_prepare.c), the neighbour's object is orphaned.
 *
 * SHARED (the shape of fs/afs/file.c, whose afs_mapped() only takes a
 * count on the vnode): the object already exists - the open file's own
 * struct mmapdemo_file - and each VMA holds a count on it.  The prepare
 * hook hands it over in desc->private_data, ->mapped only takes a count;
 * the legacy hook stores it with a count.  A merge writes the same object
 * over the same object: nothing is lost.
 *
 * A third shape, NONE, keeps nothing: its hooks install vm_ops without
 * ->open, ->close and ->mapped (chardev_*.c, fs_*.c), and nothing here
 * runs for its mappings.
 *
 * No counters, lock or list here: the kit counts and tracks the objects
 * through its wrappers (watch.c), which call these.
 */
#include "internal.h"

/* What a prepare hook hands over in desc->private_data: SHARED's object. */
void *mmapdemo_file_state(const struct file *file)
{
	struct mmapdemo_file *mf = file->private_data;

	return READ_ONCE(mf->state) == MMAPDEMO_STATE_SHARED ? mf : NULL;
}

/* The SHARED object @vma refers to, or NULL. */
static struct mmapdemo_file *mmapdemo_vma_shared(const struct vm_area_struct *vma)
{
	if (vma->vm_private_data != vma->vm_file->private_data)
		return NULL;
	return vma->vm_private_data;
}

/*
 * The PER_VMA object of @vma, or NULL: none (a VMA whose state was never
 * set up) or the SHARED one.
 */
struct mmapdemo_map *mmapdemo_vma_map(const struct vm_area_struct *vma)
{
	if (mmapdemo_vma_shared(vma))
		return NULL;
	return vma->vm_private_data;
}

static struct mmapdemo_map *mmapdemo_map_alloc(void)
{
	struct mmapdemo_map *map;

	map = mmapdemo_kmalloc_obj(*map);
	if (!map)
		return NULL;
	refcount_set(&map->refs, 1);
	return map;
}

void mmapdemo_map_put(struct mmapdemo_map *map)
{
	if (map && refcount_dec_and_test(&map->refs))
		kfree(map);
}

/* A split or a fork made a second VMA sharing vm_private_data. */
void mmapdemo_vm_open(struct vm_area_struct *vma)
{
	struct mmapdemo_file *mf = mmapdemo_vma_shared(vma);
	struct mmapdemo_map *map = mmapdemo_vma_map(vma);

	if (mf)
		atomic_long_inc(&mf->maps);
	else if (map)
		refcount_inc(&map->refs);
}

/*
 * vm_private_data may be NULL: a VMA whose state was never set up (a
 * prepare twin's failed action or ->mapped: the kernel calls ->close with
 * desc->private_data, mm/util.c:mmap_action_finish).
 */
void mmapdemo_vm_close(struct vm_area_struct *vma)
{
	struct mmapdemo_file *mf = mmapdemo_vma_shared(vma);

	if (mf)
		atomic_long_dec(&mf->maps);
	else
		mmapdemo_map_put(mmapdemo_vma_map(vma));
}

/*
 * The prepare twins' piece, vm_ops->mapped (7.1): a new VMA [start, end)
 * exists.  SHARED: the hook handed over the file's object, take a count
 * on it (this cannot fail).  PER_VMA: attach a fresh object; if that
 * fails, the kernel unmaps the new VMA and calls ->close with the
 * vm_private_data from before, NULL (mm/util.c:call_vma_mapped).
 */
int mmapdemo_vm_mapped(unsigned long start, unsigned long end,
		       pgoff_t pgoff, const struct file *file,
		       void **vm_private_data)
{
	struct mmapdemo_file *mf = *vm_private_data;
	struct mmapdemo_map *map;

	if (mf) {
		atomic_long_inc(&mf->maps);
		return 0;
	}
	map = mmapdemo_map_alloc();
	if (!map)
		return -ENOMEM;
	*vm_private_data = map;
	return 0;
}

/*
 * The legacy twins' piece: the end of .mmap, when nothing else can fail,
 * since after a failed .mmap the kernel never calls ->close.  SHARED: the
 * file's object with a count; PER_VMA: a fresh object.
 */
int mmapdemo_legacy_attach(struct file *file, struct vm_area_struct *vma)
{
	struct mmapdemo_file *mf = mmapdemo_file_state(file);
	struct mmapdemo_map *map;

	if (mf) {
		atomic_long_inc(&mf->maps);
		vma->vm_private_data = mf;
		return 0;
	}
	map = mmapdemo_map_alloc();
	if (!map)
		return -ENOMEM;
	vma->vm_private_data = map;
	return 0;
}
