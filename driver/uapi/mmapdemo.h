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
 * vm_ops->mapped() [7.1]: the prepare twins keep per-mapping state and
 * SET_FAIL accepts MMAPDEMO_FAIL_MAPPED.  Without it the prepare twins
 * keep none (mapped_calls and live_objects stay 0) and MAPPED gets
 * -EOPNOTSUPP.
 */
#define MMAPDEMO_FEAT_VM_OPS_MAPPED	0x80U
/*
 * mmap_action_map_kernel_pages_full() [7.1]: MMAPDEMO_MODE_PAGES on the
 * prepare twins.  Without it SET_MODE refuses PAGES: -EOPNOTSUPP.
 */
#define MMAPDEMO_FEAT_MAP_KERNEL_PAGES	0x100U
/* action.error_override [7.2]: any override -511..-1. */
#define MMAPDEMO_FEAT_ERROR_OVERRIDE	0x200U

#endif /* _UAPI_MMAPDEMO_H */
