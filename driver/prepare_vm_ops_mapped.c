// SPDX-License-Identifier: GPL-2.0
/*
 * The .mmap_prepare twins' vm_operations where the kernel has
 * vm_ops->mapped (7.1): Kbuild builds this file, not prepare_vm_ops.c,
 * where the HAVE_VM_OPS_MAPPED probe of conftest.sh compiles.
 *
 * ->mapped is the one place where a .mmap_prepare driver can attach state
 * to a new VMA: the kernel calls it once the VMA exists, never for an
 * mmap() it merged into a neighbour (mm/util.c:mmap_action_finish).  The
 * prepare twins attach theirs there (state.c: mmapdemo_vm_mapped); the
 * callbacks here are the kit's counting wrappers of those in state.c and
 * common.c (watch.c, watch_prepare.c).
 */
#include "prepare.h"
#include "watch.h"

/* FAULT, FLAGS, PAGES: a PAGES VMA zapped by MADV_DONTNEED refaults. */
const struct vm_operations_struct mmapdemo_chardev_prepare_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
	.fault	= mmapdemo_watch_vm_fault,
	.mapped	= mmapdemo_watch_vm_mapped,
};

/* REMAP: every PTE is set at mmap time; nothing to fault in. */
const struct vm_operations_struct mmapdemo_chardev_prepare_remap_vm_ops = {
	.open	= mmapdemo_watch_vm_open,
	.close	= mmapdemo_watch_vm_close,
	.mapped	= mmapdemo_watch_vm_mapped,
};

const struct vm_operations_struct mmapdemo_fs_prepare_vm_ops = {
	.open		= mmapdemo_watch_vm_open,
	.close		= mmapdemo_watch_vm_close,
	.fault		= mmapdemo_fs_fault,
	.map_pages	= mmapdemo_fs_map_pages,
	.page_mkwrite	= mmapdemo_fs_page_mkwrite,
	.mapped		= mmapdemo_watch_vm_mapped,
};
