/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the calling process's VMAs, and small helpers for the twins. */
#ifndef MMAPDEMO_VMA_H
#define MMAPDEMO_VMA_H

#include <stddef.h>
#include <sys/types.h>

#include "mmapdemo.h"

struct vma {
	unsigned long start, end;	/* [start, end) */
	unsigned long long offset;	/* file offset in bytes */
	char flags[160];		/* "VmFlags:" mnemonics, single spaces */
};

/* Find the VMA containing addr in /proc/self/smaps; 0 or -1 if none. */
int vma_at(unsigned long addr, struct vma *out);

/*
 * Fill out[] with the VMAs that intersect [start, end), in address order;
 * returns how many (at most max), or -1 on error.
 */
int vmas_in(unsigned long start, unsigned long end, struct vma *out, int max);

/* The twin's counters, read through any fd of that twin. */
struct mmapdemo_stats twin_stats(int fd);

/* The "pages" parameter of the loaded module, or -1. */
long module_pages(void);

#endif
