/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The .mmap_prepare API of the newest kernels, given to the older series
 * that have the hook (6.16 and later) wherever it can be given there, so
 * that the twins are written once, against the newest API.
 *
 * Each block below is keyed by one compile probe of driver/conftest.sh,
 * never by a version number.  What a series cannot do from .mmap_prepare
 * at all is not emulated here: mmapdemo_features() (internal.h) says so,
 * and the ioctls refuse such a request with -EOPNOTSUPP before any hook
 * runs.
 *
 * Only built where f_op->mmap_prepare exists (Kbuild).
 */
#ifndef _MMAPDEMO_COMPAT_H
#define _MMAPDEMO_COMPAT_H

#include <linux/args.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>

/*
 * VMA_*_BIT, the bit numbers of the VMA flags (6.19).  Before them only
 * the VM_* masks exist; the bit number of a one-bit mask is its log2.
 */
#ifndef HAVE_VMA_FLAG_BITS
#define VMA_DONTCOPY_BIT	ilog2(VM_DONTCOPY)
#define VMA_DONTDUMP_BIT	ilog2(VM_DONTDUMP)
#define VMA_MAYSHARE_BIT	ilog2(VM_MAYSHARE)
#endif

/*
 * vma_desc_set_flags() and vma_desc_test() (7.0, 7.1): desc->vma_flags,
 * a bitmap set by bit number.  6.16 to 6.19 have desc->vm_flags, a mask.
 */
#ifndef HAVE_VMA_DESC_SET_FLAGS
#define __mmapdemo_mask_1(a)		BIT((__force int)(a))
#define __mmapdemo_mask_2(a, b)		(BIT((__force int)(a)) | \
					 BIT((__force int)(b)))
#define vma_desc_set_flags(desc, ...)					\
	((desc)->vm_flags |=						\
	 CONCATENATE(__mmapdemo_mask_, COUNT_ARGS(__VA_ARGS__))(__VA_ARGS__))
#endif

#ifndef HAVE_VMA_DESC_TEST
#ifdef HAVE_VMA_DESC_SET_FLAGS
/* 7.0: vma_desc_test_flags() tests "any of" (bitmap_intersects) */
#define vma_desc_test(desc, bit)	vma_desc_test_flags(desc, bit)
#else
#define vma_desc_test(desc, bit)	\
	(!!((desc)->vm_flags & BIT((__force int)(bit))))
#endif
#endif

/* vma_desc_pages() (6.19). */
#ifndef HAVE_VMA_DESC_PAGES
static inline unsigned long vma_desc_pages(const struct vm_area_desc *desc)
{
	return (desc->end - desc->start) >> PAGE_SHIFT;
}
#endif

/*
 * generic_file_mmap_prepare() (6.17), what 6.16's generic_file_mmap()
 * (mm/filemap.c) does to a VMA, done to the description.  The caller sets
 * its own vm_ops (generic_file_vm_ops is not exported).
 */
#ifndef HAVE_GENERIC_FILE_MMAP_PREPARE
static inline int generic_file_mmap_prepare(struct vm_area_desc *desc)
{
	struct file *file = desc->file;

	if (!file->f_mapping->a_ops->read_folio)
		return -ENOEXEC;
	file_accessed(file);
	return 0;
}
#endif

/*
 * mmap actions (6.19: remap; 7.1: map kernel pages).  Without them a
 * .mmap_prepare driver cannot fill page tables at mmap time: there is no
 * VMA yet and nothing of the driver's runs after one exists.  REMAP and
 * PAGES are refused by mmapdemo_set_mode() (-EOPNOTSUPP) on such a kernel,
 * so these are never reached; they exist so that the hooks compile.
 */
#ifndef HAVE_MMAP_ACTION
static inline void mmap_action_remap_full(struct vm_area_desc *desc,
					  unsigned long start_pfn)
{
}
#endif
#ifndef HAVE_MMAP_ACTION_MAP_KERNEL_PAGES
static inline void mmap_action_map_kernel_pages_full(struct vm_area_desc *desc,
						     struct page **pages)
{
}
#endif

/*
 * vm_operations_struct->mapped (7.1), called once a new VMA exists: the
 * only place a .mmap_prepare driver can allocate per-mapping state.
 * Before it, the hook may be followed by a merge into a neighbour or by a
 * failure, and nothing of the driver's runs once per new VMA: the prepare
 * twins then keep no per-mapping state at all.
 */
#ifdef HAVE_VM_OPS_MAPPED
#define MMAPDEMO_VM_OPS_MAPPED(fn)	.mapped = (fn),
#else
#define MMAPDEMO_VM_OPS_MAPPED(fn)
#endif

/*
 * Replace the error of a failing action or ->mapped: 7.2 has
 * action.error_override, 6.19 to 7.1 have action.error_hook, a function
 * that gets the error and returns its replacement.  A hook cannot know
 * the override a file asked for, so there only -EAGAIN, the one the
 * kernel's own drivers/char/mem.c:mmap_filter_error returns, is offered
 * (mmapdemo_prepare_has_override() says which).  6.16 to 6.18 have no actions at all.
 */
#if defined(HAVE_MMAP_ACTION_ERROR_OVERRIDE)
static inline void mmapdemo_desc_error_override(struct vm_area_desc *desc,
						int err)
{
	desc->action.error_override = err;
}
#elif defined(HAVE_MMAP_ACTION_ERROR_HOOK)
static inline int mmapdemo_error_eagain(int err)
{
	return -EAGAIN;
}

static inline void mmapdemo_desc_error_override(struct vm_area_desc *desc,
						int err)
{
	if (err == -EAGAIN)
		desc->action.error_hook = mmapdemo_error_eagain;
}
#else
static inline void mmapdemo_desc_error_override(struct vm_area_desc *desc,
						int err)
{
}
#endif

#endif /* _MMAPDEMO_COMPAT_H */
