/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mmapdemo userspace contract: the only header userspace includes.
 *
 * Two character devices map the same kind of object, a buffer of
 * "pages" pages per device.  /dev/mmapdemo_prepare implements only
 * f_op->mmap_prepare, /dev/mmapdemo_legacy implements only f_op->mmap.
 */
#ifndef _UAPI_MMAPDEMO_H
#define _UAPI_MMAPDEMO_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MMAPDEMO_DEV_PREPARE	"/dev/mmapdemo_prepare"
#define MMAPDEMO_DEV_LEGACY	"/dev/mmapdemo_legacy"
/*
 * Filesystem types with the same pair of hooks, for page-cache files.
 * The ioctls below work on their regular files (SET_MODE: FAULT and
 * FLAGS only, else -EINVAL; GET_STATS: the counters of that filesystem
 * type).  On a directory they act on the mount's defaults, the state that
 * files opened later on that mount start with: a stacked filesystem such
 * as overlayfs opens the file itself, where no ioctl can reach it.
 */
#define MMAPDEMO_FS_PREPARE	"mmapdemofs_prepare"
#define MMAPDEMO_FS_LEGACY	"mmapdemofs_legacy"

/* How the next mmap() on an open file maps the buffer. */
enum mmapdemo_mode {
	MMAPDEMO_MODE_FAULT,	/* pages served one by one by vm_ops->fault */
	MMAPDEMO_MODE_FLAGS,	/* FAULT, plus merge-relevant VMA flags */
	MMAPDEMO_MODE_REMAP,	/* all PFNs remapped at mmap time */
	MMAPDEMO_MODE_PAGES,	/* all pages inserted at mmap time */
};

/* Counters of one twin, global to that twin (all its open files). */
struct mmapdemo_stats {
	__u64 hook_calls;	/* entries into .mmap_prepare or .mmap */
	__u64 mapped_calls;	/* entries into vm_ops->mapped */
	__u64 vm_open;		/* vm_ops->open calls (split, fork) */
	__u64 vm_close;		/* vm_ops->close calls */
	__u64 faults;		/* vm_ops->fault calls */
	__u64 live_objects;	/* per-mapping state objects allocated now */
	__u64 injected;		/* failures injected so far */
	__u64 map_pages;	/* vm_ops->map_pages calls (filesystems) */
	__u64 page_mkwrite;	/* vm_ops->page_mkwrite calls (filesystems) */
};

/*
 * Where the next mmap() on an open file fails.  One failure is armed per
 * open file; it is consumed (and counted in "injected") when it fires.
 * A failure that is not reached stays armed: a legacy mmap() merged into
 * a neighbour never calls .mmap, a merged mmap_prepare mmap() never calls
 * ->mapped, and a failure before the hook (e.g. RLIMIT_AS) calls neither.
 */
enum mmapdemo_stage {
	MMAPDEMO_FAIL_NONE,		/* disarm; error and override 0 */
	MMAPDEMO_FAIL_HOOK_ENTRY,	/* the hook fails before doing anything */
	MMAPDEMO_FAIL_HOOK_EXIT,	/* the hook does all its work, then fails */
	MMAPDEMO_FAIL_MAPPED,		/* ->mapped allocates, then fails (prepare) */
};

/*
 * error_override is 0 (none) or -511..-1.  Anything else - an unknown
 * stage, a bad errno or override, MAPPED or an override on the legacy
 * twin, reserved != 0 - is refused with -EINVAL.  A request the prepare
 * twin cannot honour on this kernel (MAPPED without vm_ops->mapped, an
 * override without mmap actions, or other than -EAGAIN with only
 * action.error_hook: see MMAPDEMO_FEAT_*) is refused with -EOPNOTSUPP.
 */
struct mmapdemo_fail {
	__u32 stage;		/* enum mmapdemo_stage */
	__s32 error;		/* negative errno to return, -511..-1 */
	__s32 error_override;	/* prepare only: desc->action.error_override */
	__u32 reserved;		/* must be 0 */
};

/* 0xB7 is not in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define MMAPDEMO_IOC_MAGIC	0xB7
/*
 * Set the mode for later mmaps on this open file; -EINVAL if unknown,
 * -EOPNOTSUPP if this kernel's .mmap_prepare cannot do it (prepare twin).
 */
#define MMAPDEMO_IOC_SET_MODE	_IOW(MMAPDEMO_IOC_MAGIC, 1, __u32)
/* Read the counters of the twin this file belongs to. */
#define MMAPDEMO_IOC_GET_STATS	_IOR(MMAPDEMO_IOC_MAGIC, 2, struct mmapdemo_stats)
/* Arm a failure for the next mmap on this open file; -EINVAL if bad. */
#define MMAPDEMO_IOC_SET_FAIL	_IOW(MMAPDEMO_IOC_MAGIC, 3, struct mmapdemo_fail)

/*
 * What the module found in the kernel it was built for (its compile
 * probes, driver/conftest.sh), as MMAPDEMO_FEAT_* bits.
 */
#define MMAPDEMO_IOC_GET_FEATURES	_IOR(MMAPDEMO_IOC_MAGIC, 4, __u32)
/*
 * Each bit is one step of the .mmap_prepare API that the module's compile
 * probes found; the first kernel series with it is in brackets.
 */
/* f_op->mmap_prepare [6.16] */
#define MMAPDEMO_FEAT_MMAP_PREPARE	0x1U
/* The .mmap_prepare twins are registered: wherever the hook exists. */
#define MMAPDEMO_FEAT_PREPARE_TWINS	0x2U
/* A whole-VMA remap carries VM_PAT ("ar" in VmFlags; x86, older kernels). */
#define MMAPDEMO_FEAT_VM_PAT		0x4U
/*
 * can_mmap_file() [6.17]: the callers that check for an mmap hook accept a
 * file that has only .mmap_prepare.  Before, they want .mmap: stacked
 * callers (overlayfs, FUSE passthrough: fs/backing-file.c:
 * backing_file_mmap) fail with -ENODEV, execve (fs/binfmt_elf.c:
 * load_elf_binary) with -ENOEXEC.
 */
#define MMAPDEMO_FEAT_STACKED_PREPARE	0x8U
/*
 * struct mmap_action, mmap_action_remap_full() [6.19]: MMAPDEMO_MODE_REMAP
 * on the prepare twins.  Without it SET_MODE refuses REMAP: -EOPNOTSUPP.
 */
#define MMAPDEMO_FEAT_MMAP_ACTION	0x10U
/*
 * action.error_hook [6.19, removed in 7.2]: an error override is a fixed
 * function, so SET_FAIL offers error_override -EAGAIN only; any other
 * override gets -EOPNOTSUPP.
 */
#define MMAPDEMO_FEAT_ERROR_HOOK	0x20U
/* desc->vma_flags and vma_desc_set_flags() [7.0] */
#define MMAPDEMO_FEAT_VMA_FLAGS		0x40U
/*
 * vm_ops->mapped() [7.1]: the prepare twins keep per-mapping state,
 * SET_FAIL accepts MMAPDEMO_FAIL_MAPPED and SET_STATE accepts
 * MMAPDEMO_STATE_SHARED.  Without it the prepare twins keep none
 * (mapped_calls and live_objects stay 0), and MAPPED and SHARED get
 * -EOPNOTSUPP: no callback can attach state to a new VMA there.  (6.19 to
 * 7.1 do call desc->action.success_hook once per new VMA - /dev/zero uses
 * it, 6.19.14:drivers/char/mem.c:507-516 - but with a const VMA.)
 */
#define MMAPDEMO_FEAT_VM_OPS_MAPPED	0x80U
/*
 * mmap_action_map_kernel_pages_full() [7.1]: MMAPDEMO_MODE_PAGES on the
 * prepare twins.  Without it SET_MODE refuses PAGES: -EOPNOTSUPP.
 */
#define MMAPDEMO_FEAT_MAP_KERNEL_PAGES	0x100U
/*
 * action.error_override [7.2]: any override -511..-1.  Whether a failed
 * hook's commit charge is given back, or a merged neighbour's
 * vm_private_data kept, cannot be told from this bit: 7.2 got those fixes
 * only with its stable updates 7.2.8 ("mm/vma: correctly unaccount on
 * mmap_prepare() failure") and 7.2.10 ("mm/vma: predicate setting
 * mmap_prepare VMA fields on new vma alloc"); measure them.
 */
#define MMAPDEMO_FEAT_ERROR_OVERRIDE	0x200U

/*
 * How the mappings of an open file keep their per-mapping state; the
 * next mmap() on the file takes it (MMAPDEMO_IOC_SET_STATE).
 *
 * PER_VMA, the default: a new object for each new VMA, allocated by
 * vm_ops->mapped (prepare twins, 7.1+) or at the end of .mmap (legacy),
 * in vm_private_data.  Where the kernel writes a merged mmap's
 * desc->private_data (NULL) over its neighbour's vm_private_data - 7.1
 * and 7.2.0-7.2.9, mm/vma.c:__mmap_region - the neighbour's object is
 * orphaned: live_objects keeps it until rmmod.
 *
 * SHARED, the shape of fs/afs/file.c: one object per open file, made by
 * this ioctl; the prepare hook hands it over in desc->private_data and
 * ->mapped only takes a reference on it (legacy: .mmap puts it in
 * vm_private_data with a reference).  A merge writes the same object over
 * the same object, so nothing is orphaned.  FAULT and FLAGS only: an
 * action that fails after the VMA exists gets ->close called for a VMA
 * ->mapped never saw, with desc->private_data in vm_private_data
 * (mm/util.c:mmap_action_finish), and a reference taken in ->mapped
 * cannot be told apart there.
 *
 * NONE: no per-mapping state at all, as a driver whose mappings need
 * nothing per VMA writes it: the hooks install vm_ops with ->fault (and a
 * file's ->map_pages, ->page_mkwrite) and no ->open, ->close or ->mapped,
 * and leave vm_private_data NULL.  Without ->close a merge may remove a
 * VMA of the file (mm/vma.c:can_merge_remove_vma), so a mapping that was
 * split (a partial mprotect() round trip) joins up again.  vm_open,
 * vm_close, mapped_calls and live_objects do not move.  FAULT and FLAGS
 * only: REMAP and PAGES set VM_SPECIAL flags, which no merge ever takes
 * (mm/vma.c:vma_merge_new_range, vma_merge_existing_range), so there a
 * mapping without ->close would merge no more than one with it.
 */
enum mmapdemo_state {
	MMAPDEMO_STATE_PER_VMA,
	MMAPDEMO_STATE_SHARED,
	MMAPDEMO_STATE_NONE,
};

/*
 * Set the state shape for later mmaps on this open file.  -EINVAL if
 * unknown, or SHARED or NONE in mode REMAP or PAGES (and SET_MODE refuses
 * REMAP and PAGES on a SHARED or NONE file), or SHARED or NONE with a
 * MAPPED failure armed (a ->mapped that only takes a reference cannot
 * fail, and NONE has no ->mapped: SET_FAIL refuses MAPPED on such a
 * file); -EOPNOTSUPP for SHARED on a prepare twin of a kernel without
 * vm_ops->mapped (MMAPDEMO_FEAT_VM_OPS_MAPPED; NONE works on every
 * kernel); -ENOMEM.
 */
#define MMAPDEMO_IOC_SET_STATE	_IOW(MMAPDEMO_IOC_MAGIC, 5, __u32)
/*
 * SHARED: how many VMAs hold a count on this open file's object now (0
 * once all are unmapped, whatever the kernel merged); 0 on a PER_VMA file
 * that was never SHARED.
 */
#define MMAPDEMO_IOC_GET_MAPS	_IOR(MMAPDEMO_IOC_MAGIC, 6, __s64)

#endif /* _UAPI_MMAPDEMO_H */
