/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kit's shims: how one source builds on every kernel of the matrix.
 *
 * Not for copying.  A driver for one kernel calls that kernel's API
 * directly; these shims exist only because the kit's twins are written
 * once for 6.12 to 7.3.  Every shim carries the kit's prefix (mmapdemo_,
 * MMAPDEMO_): a name without it is the kernel's own.  Each block is keyed
 * by one compile probe of driver/conftest.sh, never by a version number,
 * and no shim stands in for something a kernel cannot do: where a series
 * cannot map in a mode, Kbuild does not build that path (the REMAP and
 * PAGES hooks, chardev_prepare_remap.c and chardev_prepare_pages.c), and
 * where it has no vm_ops->mapped, the prepare twins' vm_ops come from
 * prepare_vm_ops.c instead of prepare_vm_ops_mapped.c.
 */
#ifndef _MMAPDEMO_COMPAT_H
#define _MMAPDEMO_COMPAT_H

#include <linux/args.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/slab.h>

/* --- Every kernel ------------------------------------------------------ */

/* The typed allocators (7.x), which checkpatch asks for; GFP_KERNEL. */
#ifdef HAVE_KMALLOC_OBJ
#define mmapdemo_kzalloc_obj(obj)	kzalloc_obj(obj)
#define mmapdemo_kmalloc_obj(obj)	kmalloc_obj(obj)
#define mmapdemo_kvmalloc_objs(obj, n)	kvmalloc_objs(obj, n)
#else
#define mmapdemo_kzalloc_obj(obj)	kzalloc(sizeof(obj), GFP_KERNEL)
#define mmapdemo_kmalloc_obj(obj)	kmalloc(sizeof(obj), GFP_KERNEL)
#define mmapdemo_kvmalloc_objs(obj, n)	kvmalloc_array(n, sizeof(obj), GFP_KERNEL)
#endif

/*
 * The filesystem twins' VFS calls, in the pattern of fs/ramfs/inode.c,
 * which moved under them.
 *
 * Pin the dentry of a new inode of an in-memory filesystem:
 * d_make_persistent(); before it, d_instantiate() and an extra dget(),
 * which kill_litter_super() drops (mmapdemo_kill_sb).
 */
static inline void mmapdemo_d_make_persistent(struct dentry *dentry,
					      struct inode *inode)
{
#ifdef HAVE_D_MAKE_PERSISTENT
	d_make_persistent(dentry, inode);
#else
	d_instantiate(dentry, inode);
	dget(dentry);
#endif
}

static inline void mmapdemo_kill_sb(struct super_block *sb)
{
#ifdef HAVE_D_MAKE_PERSISTENT
	kill_anon_super(sb);
#else
	kill_litter_super(sb);	/* drops the dget() of every new dentry */
#endif
}

/*
 * Unused dentries are not kept: super_block->s_d_flags = DCACHE_DONTCACHE
 * where it exists (fs/ramfs/inode.c); before it, simple_dentry_operations
 * for every dentry, which fs/libfs.c:simple_lookup gives each dentry when
 * the super block has none.
 */
static inline void mmapdemo_sb_dontcache(struct super_block *sb)
{
#ifdef HAVE_SB_D_FLAGS
	sb->s_d_flags = DCACHE_DONTCACHE;
#else
	sb->s_d_op = &simple_dentry_operations;
#endif
}

/* super_operations->drop_inode: inode_just_drop, before generic_delete_inode. */
#ifdef HAVE_INODE_JUST_DROP
#define mmapdemo_inode_just_drop	inode_just_drop
#else
#define mmapdemo_inode_just_drop	generic_delete_inode
#endif

/*
 * inode_operations->mkdir returns a dentry (6.15; NULL: the one passed
 * in) and ->create lost its "bool excl" (7.3).  The filesystem twins
 * write both the old way (fs_common.c: an int result, no excl); these
 * give them this kernel's signature.
 */
int mmapdemo_fs_do_mkdir(struct mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode);
int mmapdemo_fs_do_create(struct mnt_idmap *idmap, struct inode *dir,
			  struct dentry *dentry, umode_t mode);

#ifdef HAVE_IOP_MKDIR_DENTRY
static inline struct dentry *mmapdemo_iop_mkdir(struct mnt_idmap *idmap,
						struct inode *dir,
						struct dentry *dentry,
						umode_t mode)
{
	return ERR_PTR(mmapdemo_fs_do_mkdir(idmap, dir, dentry, mode));
}
#else
#define mmapdemo_iop_mkdir	mmapdemo_fs_do_mkdir
#endif

#ifdef HAVE_IOP_CREATE_NO_EXCL
#define mmapdemo_iop_create	mmapdemo_fs_do_create
#else
static inline int mmapdemo_iop_create(struct mnt_idmap *idmap,
				      struct inode *dir, struct dentry *dentry,
				      umode_t mode, bool excl)
{
	return mmapdemo_fs_do_create(idmap, dir, dentry, mode);
}
#endif

/* --- The .mmap_prepare API (6.16 and later) ---------------------------- */

#ifdef HAVE_FOP_MMAP_PREPARE

/*
 * VMA_*_BIT, the bit numbers of the VMA flags (6.19: DECLARE_VMA_BIT in
 * include/linux/mm.h).  Before them only the VM_* masks exist; the bit
 * number of a one-bit mask is its log2, the value the kernel later gives
 * these names.  The kernel's own names, so that the hooks name the flags
 * as 6.19 and later do.
 */
#ifndef HAVE_VMA_FLAG_BITS
#define VMA_DONTCOPY_BIT	ilog2(VM_DONTCOPY)
#define VMA_DONTDUMP_BIT	ilog2(VM_DONTDUMP)
#define VMA_MAYSHARE_BIT	ilog2(VM_MAYSHARE)
#endif

/*
 * Set VMA flags in the description, given as any number of VMA_*_BIT:
 * vma_desc_set_flags() (7.0: desc->vma_flags, a bitmap).  6.16 to 6.18
 * have desc->vm_flags, a mask; 6.19 has both, a union of vm_flags and
 * vma_flags (6.19.14:include/linux/mm_types.h:878-881), and no helper.
 * As the kernel's mk_vma_flags() does, the bits come in a compound
 * literal, so that any number of them can be given.
 */
#ifdef HAVE_VMA_DESC_SET_FLAGS
#define mmapdemo_desc_set_flags(desc, ...)	\
	vma_desc_set_flags(desc, __VA_ARGS__)
#else
static __always_inline vm_flags_t mmapdemo_vm_flags(size_t n, const int *bits)
{
	vm_flags_t flags = 0;
	size_t i;

	for (i = 0; i < n; i++)
		flags |= BIT(bits[i]);
	return flags;
}

#define mmapdemo_desc_set_flags(desc, ...)				\
	((desc)->vm_flags |= mmapdemo_vm_flags(COUNT_ARGS(__VA_ARGS__),	\
		(const int []){ __VA_ARGS__ }))
#endif

/*
 * Test one VMA flag of the description: vma_desc_test() (7.1); 7.0 has
 * only vma_desc_test_flags(), "any of" (bitmap_intersects), the same for
 * one bit; before 7.0, desc->vm_flags.
 */
#if defined(HAVE_VMA_DESC_TEST)
#define mmapdemo_desc_test(desc, bit)	vma_desc_test(desc, bit)
#elif defined(HAVE_VMA_DESC_SET_FLAGS)
#define mmapdemo_desc_test(desc, bit)	vma_desc_test_flags(desc, bit)
#else
#define mmapdemo_desc_test(desc, bit)	\
	(!!((desc)->vm_flags & BIT((__force int)(bit))))
#endif

/* Pages the mapping spans: vma_desc_pages() (6.19). */
static inline unsigned long mmapdemo_desc_pages(const struct vm_area_desc *desc)
{
#ifdef HAVE_VMA_DESC_PAGES
	return vma_desc_pages(desc);
#else
	return (desc->end - desc->start) >> PAGE_SHIFT;
#endif
}

/*
 * generic_file_mmap_prepare() (6.17); on 6.16 what its generic_file_mmap()
 * (mm/filemap.c) does to a VMA, done to the description.  The caller sets
 * its own vm_ops (generic_file_vm_ops is not exported).
 */
static inline int mmapdemo_generic_file_mmap_prepare(struct vm_area_desc *desc)
{
#ifdef HAVE_GENERIC_FILE_MMAP_PREPARE
	return generic_file_mmap_prepare(desc);
#else
	struct file *file = desc->file;

	if (!file->f_mapping->a_ops->read_folio)
		return -ENOEXEC;
	file_accessed(file);
	return 0;
#endif
}

/*
 * Ask for error_override @err: it replaces the error of a failed action
 * or ->mapped (never the hook's own).  7.2 has action.error_override;
 * 6.19 to 7.1 have action.error_hook, a function that gets the error and
 * returns its replacement: a hook cannot know the override a file asked
 * for, so there only -EAGAIN, the one the kernel's own
 * drivers/char/mem.c:mmap_filter_error returns, is offered
 * (mmapdemo_prepare_has_override()).  6.16 to 6.18 have no actions and
 * nothing to replace: SET_FAIL refuses an override there, and this is
 * never called with one.
 */
#ifdef HAVE_MMAP_ACTION_ERROR_HOOK
static inline int mmapdemo_error_eagain(int err)
{
	return -EAGAIN;
}
#endif

static inline int mmapdemo_desc_error_override(struct vm_area_desc *desc,
					       int err)
{
#if defined(HAVE_MMAP_ACTION_ERROR_OVERRIDE)
	desc->action.error_override = err;
	return 0;
#elif defined(HAVE_MMAP_ACTION_ERROR_HOOK)
	if (err != -EAGAIN)
		return -EOPNOTSUPP;
	desc->action.error_hook = mmapdemo_error_eagain;
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}

#endif /* HAVE_FOP_MMAP_PREPARE */

#endif /* _MMAPDEMO_COMPAT_H */
