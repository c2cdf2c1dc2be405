// SPDX-License-Identifier: GPL-2.0
/*
 * The .mmap_prepare twins' vm_operations where the kernel has no
 * vm_ops->mapped (6.16 to 7.0): Kbuild builds this file, not
 * prepare_vm_ops_mapped.c, where the HAVE_VM_OPS_MAPPED probe of
 * conftest.sh fails.
 *
 * Without ->mapped no callback can attach state to a new VMA: the hook
 * runs before the kernel knows whether it will merge the mmap() into a
 * neighbour or fail it, and desc->action.success_hook (6.19 to 7.1), which
 * does run once per new VMA (/dev/zero uses it, 6.19.14:drivers/char/
 * mem.c:507-516), gets a const VMA.  So the prepare twins keep no
 * per-mapping state here: vm_private_data stays NULL, mapped_calls and
 * live_objects 0, and SET_STATE refuses the SHARED shape.
 */
#include "prepare.h"
#include "watch.h"

/* FAULT, FLAGS: pages served one by one. */
const struct vm_operations_struct mmapdemo_chardev_prepare_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
	.fault	= mmapdemo_watch_vm_fault,
};

/* REMAP (6.19, 7.0): every PTE is set at mmap time; nothing to fault in. */
const struct vm_operations_struct mmapdemo_chardev_prepare_remap_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
};

const struct vm_operations_struct mmapdemo_fs_prepare_vm_ops = {
	.open		= mmapdemo_watch_vm_open,
	.close		= mmapdemo_watch_vm_close,
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
};
