/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal FUSE passthrough server for the tests (fuse_server.c): it
 * serves the regular files of one directory, each opened with
 * FOPEN_PASSTHROUGH, so that the kernel reads, writes and maps the
 * backing file itself.
 */
#ifndef MMAPDEMO_FUSE_SERVER_H
#define MMAPDEMO_FUSE_SERVER_H

#include <linux/fuse.h>
#include <linux/types.h>
#include <sys/types.h>

#define FUSE_SERVER_OPS	64	/* requests counted per opcode below this */

/* What the server did, shared with the process that started it. */
struct fuse_server_counts {
	__u32 op[FUSE_SERVER_OPS];	/* requests received, by opcode */
	__u32 backing_open;		/* FUSE_DEV_IOC_BACKING_OPEN that worked */
	__u32 backing_close;		/* FUSE_DEV_IOC_BACKING_CLOSE that worked */
	__s32 backing_errno;		/* the last BACKING_OPEN error, or 0 */
};

struct fuse_server {
	char mnt[96];			/* the mount point */
	pid_t pid;			/* the serving child, 0 when stopped */
	struct fuse_server_counts *counts;
	char why[192];			/* why start or stop did not work */
};

/*
 * Mount a FUSE filesystem at mnt (an existing directory) that serves the
 * regular files of dir, and serve it from a forked child.  The child has
 * negotiated FUSE_PASSTHROUGH and registered probe (a regular file in
 * dir) with FUSE_DEV_IOC_BACKING_OPEN once before this returns 0.  1: it
 * cannot be done here (no /dev/fuse, no passthrough in this kernel, the
 * backing file refused; s->why says which); -1: it failed (s->why).
 * Either way nothing is left mounted and no child is left.
 */
int fuse_server_start(struct fuse_server *s, const char *dir, const char *mnt,
		      const char *probe);

/*
 * Unmount (lazily, if the mount is busy) and reap the child; 0, or -1 if
 * the mount was busy or the child did not exit cleanly (s->why).
 */
int fuse_server_stop(struct fuse_server *s);

#endif
