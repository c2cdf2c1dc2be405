// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal FUSE passthrough server, speaking the raw /dev/fuse protocol.
 *
 * Why not libfuse: libfuse3-dev is not in the trixie chroot, and adding
 * it to scripts/setup's package list makes a new chroot (its key).  The protocol needs nothing
 * but <linux/fuse.h>, which the chroot's libc headers have (7.41: 6.9's
 * passthrough is in it), and a dozen requests.  A static test binary
 * stays self-contained, too.
 *
 * What it does, all in a child forked by fuse_server_start() (its own mm:
 * nothing it does shows in the test process's VMAs or smaps):
 *  - FUSE_INIT: asks for FUSE_PASSTHROUGH (flags2, hence FUSE_INIT_EXT)
 *    with max_stack_depth 1 - the backing filesystem must then have
 *    s_stack_depth 0 (fuse_backing_open, -ELOOP: fs/fuse/passthrough.c
 *    in 6.16 and 6.17, fs/fuse/backing.c from 6.18).
 *    The kernel enables passthrough only if it offered the flag
 *    (CONFIG_FUSE_PASSTHROUGH) and no writeback cache was asked for
 *    (fs/fuse/inode.c:process_init_reply).  Then one BACKING_OPEN and
 *    BACKING_CLOSE of the probe file, and the result to the parent.
 *  - LOOKUP, GETATTR, FORGET: the regular files of the directory, one
 *    node each; attributes from fstatat() of the backing file.
 *  - OPEN: the first open of a node opens the backing file and registers
 *    it (FUSE_DEV_IOC_BACKING_OPEN, CAP_SYS_ADMIN), later ones reuse the
 *    id: a FUSE inode takes one backing file only (fs/fuse/iomode.c:
 *    fuse_inode_uncached_io_start, -EBUSY for another one).  The reply
 *    carries FOPEN_PASSTHROUGH and the backing_id; the kernel then opens
 *    the backing file itself for this FUSE file, in the opener's context
 *    (fs/fuse/passthrough.c:fuse_passthrough_open -> backing_file_open),
 *    and that file is the one read, written and mapped
 *    (fuse_passthrough_mmap -> fs/backing-file.c:backing_file_mmap).
 *  - RELEASE of the last open file of a node: FUSE_DEV_IOC_BACKING_CLOSE.
 *  - READ: pread() of the backing file.  With passthrough the kernel never
 *    sends it; the tests count it (counts->op[FUSE_READ]) to catch a FUSE
 *    file that lost its passthrough.
 *  - FLUSH, STATFS; IOCTL gets -ENOTTY; anything else -ENOSYS.
 * Unmounting aborts the connection (fs/fuse/inode.c:fuse_conn_destroy),
 * read() of /dev/fuse then fails with ENODEV, and the child exits.
 *
 * The fs/fuse/ functions named here are those of the 6.16, 6.17 and 7.3
 * sources, which agree but for fuse_backing_open (above).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuse_server.h"

#define MAX_WRITE	(64 * 1024)
/* fs/fuse/dev.c:fuse_dev_do_read wants room for a whole FUSE_WRITE */
#define BUF_SIZE	(MAX_WRITE + 4096)
#define NODES		32
#define ENTRY_VALID	3600	/* seconds a name stays cached */

/* What the child tells the parent once INIT is done. */
struct init_status {
	__u32 major, minor;	/* the kernel's protocol version */
	__u64 offered;		/* its INIT flags, flags2 in the upper half */
	int probe_errno;	/* of BACKING_OPEN of the probe file, or 0 */
	int probe_step;		/* 0 open, 1 BACKING_OPEN */
};

struct node {
	char name[256];
	__u64 nlookup;
	int fd;			/* the server's own open, registered */
	int backing_id;
	int opens;		/* FUSE files open on it */
};

struct server {
	int dev, dir;
	struct fuse_server_counts *counts;
	struct node nodes[NODES];	/* nodeid = index + 2 */
};

/* a FUSE_READ asks for at most max_pages (32 by default) pages */
static char req[BUF_SIZE], data[128 * 1024];

static void reply(struct server *sv, __u64 unique, int err, const void *arg,
		  size_t len)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + (err ? 0 : len),
		.error = err,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ .iov_base = &out, .iov_len = sizeof(out) },
		{ .iov_base = (void *)arg, .iov_len = err ? 0 : len },
	};

	/* ENOENT: the request was interrupted or aborted meanwhile */
	if (writev(sv->dev, iov, 2) < 0 && errno != ENOENT)
		dprintf(2, "# fuse_server: reply %d: %s\n", err, strerror(errno));
}

static struct node *node_of(struct server *sv, __u64 nodeid)
{
	if (nodeid < 2 || nodeid >= 2 + NODES || !sv->nodes[nodeid - 2].name[0])
		return NULL;
	return &sv->nodes[nodeid - 2];
}

static void fill_attr(struct fuse_attr *a, const struct stat *st, __u64 ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->size = st->st_size;
	a->blocks = st->st_blocks;
	a->atime = st->st_atim.tv_sec;
	a->atimensec = st->st_atim.tv_nsec;
	a->mtime = st->st_mtim.tv_sec;
	a->mtimensec = st->st_mtim.tv_nsec;
	a->ctime = st->st_ctim.tv_sec;
	a->ctimensec = st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->blksize = st->st_blksize;
}

static int node_stat(struct server *sv, __u64 nodeid, struct stat *st)
{
	struct node *n;

	if (nodeid == FUSE_ROOT_ID)
		return fstat(sv->dir, st) ? -errno : 0;
	n = node_of(sv, nodeid);
	if (!n)
		return -ENOENT;
	return fstatat(sv->dir, n->name, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/*
 * The handlers reply themselves and return 0, or return -errno for
 * serve() to send.
 */
static int do_lookup(struct server *sv, const struct fuse_in_header *in,
		     const char *name)
{
	struct fuse_entry_out out = { 0 };
	struct node *n = NULL;
	struct stat st;
	int i;

	if (in->nodeid != FUSE_ROOT_ID || strlen(name) >= sizeof(n->name))
		return -ENOENT;
	if (fstatat(sv->dir, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	for (i = 0; i < NODES && !n; i++)
		if (!strcmp(sv->nodes[i].name, name))
			n = &sv->nodes[i];
	for (i = 0; i < NODES && !n; i++)
		if (!sv->nodes[i].name[0]) {
			n = &sv->nodes[i];
			strcpy(n->name, name);
			n->fd = -1;
		}
	if (!n)
		return -ENFILE;
	n->nlookup++;
	out.nodeid = 2 + (n - sv->nodes);
	out.generation = 1;
	out.entry_valid = ENTRY_VALID;
	/* attributes always asked again: the backing file changes under us */
	out.attr_valid = 0;
	fill_attr(&out.attr, &st, out.nodeid);
	reply(sv, in->unique, 0, &out, sizeof(out));
	return 0;
}

static int do_getattr(struct server *sv, const struct fuse_in_header *in)
{
	struct fuse_attr_out out = { 0 };
	struct stat st;
	int err = node_stat(sv, in->nodeid, &st);

	if (err)
		return err;
	fill_attr(&out.attr, &st, in->nodeid);
	reply(sv, in->unique, 0, &out, sizeof(out));
	return 0;
}

static void forget(struct server *sv, __u64 nodeid, __u64 nlookup)
{
	struct node *n = node_of(sv, nodeid);

	if (!n)
		return;
	n->nlookup -= nlookup < n->nlookup ? nlookup : n->nlookup;
	/* a node with files open stays: its RELEASE is still to come */
	if (!n->nlookup && !n->opens)
		n->name[0] = '\0';
}

static int do_open(struct server *sv, const struct fuse_in_header *in)
{
	struct fuse_open_out out = { 0 };
	struct node *n = node_of(sv, in->nodeid);
	struct fuse_backing_map map = { 0 };
	int id;

	if (!n)
		return -ENOENT;
	if (!n->opens) {
		/*
		 * Read-only is enough: the kernel opens the backing file
		 * again, with the FUSE file's flags, under the credentials
		 * registered here (fuse_passthrough_open).
		 */
		n->fd = openat(sv->dir, n->name, O_RDONLY | O_CLOEXEC);
		if (n->fd < 0)
			return -errno;
		map.fd = n->fd;
		id = ioctl(sv->dev, FUSE_DEV_IOC_BACKING_OPEN, &map);
		if (id <= 0) {
			sv->counts->backing_errno = id ? errno : EINVAL;
			close(n->fd);
			n->fd = -1;
			return -sv->counts->backing_errno;
		}
		__atomic_fetch_add(&sv->counts->backing_open, 1, __ATOMIC_RELAXED);
		n->backing_id = id;
	}
	n->opens++;
	out.fh = in->nodeid;
	out.open_flags = FOPEN_PASSTHROUGH;
	out.backing_id = n->backing_id;
	reply(sv, in->unique, 0, &out, sizeof(out));
	return 0;
}

static void do_release(struct server *sv, const struct fuse_in_header *in,
		       const struct fuse_release_in *rel)
{
	struct node *n = node_of(sv, rel->fh);

	if (n && n->opens && !--n->opens) {
		__u32 id = n->backing_id;

		if (!ioctl(sv->dev, FUSE_DEV_IOC_BACKING_CLOSE, &id))
			__atomic_fetch_add(&sv->counts->backing_close, 1,
					   __ATOMIC_RELAXED);
		close(n->fd);
		n->fd = -1;
		if (!n->nlookup)
			n->name[0] = '\0';
	}
	reply(sv, in->unique, 0, NULL, 0);
}

static int do_read(struct server *sv, const struct fuse_in_header *in,
		   const struct fuse_read_in *rd)
{
	struct node *n = node_of(sv, rd->fh);
	size_t size = rd->size < sizeof(data) ? rd->size : sizeof(data);
	ssize_t got;

	if (!n || n->fd < 0)
		return -EBADF;
	got = pread(n->fd, data, size, rd->offset);
	if (got < 0)
		return -errno;
	reply(sv, in->unique, 0, data, got);
	return 0;
}

static void do_statfs(struct server *sv, const struct fuse_in_header *in)
{
	struct fuse_statfs_out out = {
		.st = { .bsize = 4096, .frsize = 4096, .namelen = 255 },
	};

	reply(sv, in->unique, 0, &out, sizeof(out));
}

/* Reply to INIT; the kernel's offer and a probe of passthrough in *st. */
static void do_init(struct server *sv, const struct fuse_in_header *in,
		    const struct fuse_init_in *init, const char *probe,
		    struct init_status *st)
{
	struct fuse_init_out out = { 0 };
	struct fuse_backing_map map = { 0 };
	__u64 want;
	int fd, id;

	st->major = init->major;
	st->minor = init->minor;
	st->offered = init->flags;
	if (init->flags & FUSE_INIT_EXT)
		st->offered |= (__u64)init->flags2 << 32;
	want = st->offered & (FUSE_INIT_EXT | FUSE_PASSTHROUGH);
	out.major = FUSE_KERNEL_VERSION;
	out.minor = FUSE_KERNEL_MINOR_VERSION;
	out.max_readahead = init->max_readahead;
	out.flags = (__u32)want;
	out.flags2 = want >> 32;
	out.max_background = 16;
	out.congestion_threshold = 12;
	out.max_write = MAX_WRITE;
	out.time_gran = 1;
	out.max_stack_depth = 1;
	/* fs/fuse/inode.c:process_init_reply runs in this write */
	reply(sv, in->unique, 0, &out, sizeof(out));
	if (!(want & FUSE_PASSTHROUGH))
		return;
	fd = openat(sv->dir, probe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st->probe_errno = errno;
		return;
	}
	st->probe_step = 1;
	map.fd = fd;
	id = ioctl(sv->dev, FUSE_DEV_IOC_BACKING_OPEN, &map);
	if (id <= 0)
		st->probe_errno = id ? errno : EINVAL;
	else if (ioctl(sv->dev, FUSE_DEV_IOC_BACKING_CLOSE, &id))
		st->probe_errno = errno;
	close(fd);
}

static int serve(struct server *sv, int status_fd, const char *probe)
{
	struct fuse_in_header *in = (struct fuse_in_header *)req;
	void *arg = req + sizeof(*in);
	struct init_status st = { 0 };
	ssize_t n;
	int err;

	for (;;) {
		n = read(sv->dev, req, sizeof(req));
		if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN))
			continue;
		if (n < 0)
			/* ENODEV: unmounted, the connection is gone */
			return errno == ENODEV ? 0 : errno;
		if (n < (ssize_t)sizeof(*in))
			return EPROTO;
		if (in->opcode < FUSE_SERVER_OPS)
			__atomic_fetch_add(&sv->counts->op[in->opcode], 1,
					   __ATOMIC_RELAXED);
		err = 0;
		switch (in->opcode) {
		case FUSE_INIT:
			do_init(sv, in, arg, probe, &st);
			if (write(status_fd, &st, sizeof(st)) != sizeof(st))
				return EPIPE;
			close(status_fd);
			break;
		case FUSE_LOOKUP:
			err = do_lookup(sv, in, arg);
			break;
		case FUSE_FORGET:
			forget(sv, in->nodeid,
			       ((struct fuse_forget_in *)arg)->nlookup);
			break;
		case FUSE_BATCH_FORGET: {
			struct fuse_batch_forget_in *b = arg;
			struct fuse_forget_one *one = (void *)(b + 1);
			__u32 i;

			for (i = 0; i < b->count; i++)
				forget(sv, one[i].nodeid, one[i].nlookup);
			break;
		}
		case FUSE_GETATTR:
			err = do_getattr(sv, in);
			break;
		case FUSE_OPEN:
			err = do_open(sv, in);
			break;
		case FUSE_READ:
			err = do_read(sv, in, arg);
			break;
		case FUSE_FLUSH:
			reply(sv, in->unique, 0, NULL, 0);
			break;
		case FUSE_RELEASE:
			do_release(sv, in, arg);
			break;
		case FUSE_STATFS:
			do_statfs(sv, in);
			break;
		case FUSE_INTERRUPT:
			break;	/* no reply; every request here is quick */
		case FUSE_IOCTL:
			/* the backing file's ioctls are not passed through */
			err = -ENOTTY;
			break;
		case FUSE_DESTROY:
			reply(sv, in->unique, 0, NULL, 0);
			return 0;
		default:
			err = -ENOSYS;
			break;
		}
		if (err)
			reply(sv, in->unique, err, NULL, 0);
	}
}

/* The child: keep /dev/fuse, the directory and the pipe, close the rest. */
static void child(int dev, int dir, int status_fd, const char *probe,
		  struct fuse_server_counts *counts, pid_t parent)
{
	static struct server sv;
	int fd;

	/* the test process died: end the connection (and its mount's use) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	for (fd = 3; fd < 1024; fd++)
		if (fd != dev && fd != dir && fd != status_fd)
			close(fd);
	sv.dev = dev;
	sv.dir = dir;
	sv.counts = counts;
	_exit(serve(&sv, status_fd, probe));
}

static int start_failed(struct fuse_server *s, int ret)
{
	fuse_server_stop(s);
	return ret;
}

int fuse_server_start(struct fuse_server *s, const char *dir, const char *mnt,
		      const char *probe)
{
	struct init_status st;
	struct pollfd pfd;
	char opts[128];
	int dev, dirfd, p[2], err;
	pid_t parent = getpid();
	ssize_t n;

	memset(s, 0, sizeof(*s));
	snprintf(s->mnt, sizeof(s->mnt), "%s", mnt);
	s->counts = mmap(NULL, sizeof(*s->counts), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->counts == MAP_FAILED) {
		s->counts = NULL;
		snprintf(s->why, sizeof(s->why), "mmap: %s", strerror(errno));
		return -1;
	}
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		err = errno;
		snprintf(s->why, sizeof(s->why), "no /dev/fuse (%s): CONFIG_FUSE_FS",
			 strerror(err));
		return start_failed(s, err == ENOENT || err == ENODEV ||
				       err == ENXIO ? 1 : -1);
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || pipe2(p, O_CLOEXEC)) {
		snprintf(s->why, sizeof(s->why), "%s: %s", dir, strerror(errno));
		close(dev);
		if (dirfd >= 0)
			close(dirfd);
		return start_failed(s, -1);
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=%o,user_id=0,group_id=0",
		 dev, S_IFDIR | 0755);
	if (mount("mmapdemo", mnt, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		err = errno;
		snprintf(s->why, sizeof(s->why), "mount -t fuse %s: %s", mnt,
			 strerror(err));
		close(dev);
		close(dirfd);
		close(p[0]);
		close(p[1]);
		return start_failed(s, err == ENODEV ? 1 : -1);
	}
	/*
	 * Mounted: the kernel has queued FUSE_INIT (fs/fuse/inode.c:
	 * fuse_send_init) and waits for it on the first access.
	 */
	s->pid = fork();
	if (s->pid == 0)
		child(dev, dirfd, p[1], probe, s->counts, parent);
	close(dev);
	close(dirfd);
	close(p[1]);
	if (s->pid < 0) {
		s->pid = 0;
		snprintf(s->why, sizeof(s->why), "fork: %s", strerror(errno));
		umount2(mnt, MNT_DETACH);
		close(p[0]);
		return start_failed(s, -1);
	}
	pfd.fd = p[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 10000) == 1 ? read(p[0], &st, sizeof(st)) : -1;
	close(p[0]);
	if (n != sizeof(st)) {
		snprintf(s->why, sizeof(s->why),
			 "the server did not report FUSE_INIT (%zd)", n);
		return start_failed(s, -1);
	}
	if (!(st.offered & FUSE_PASSTHROUGH)) {
		snprintf(s->why, sizeof(s->why),
			 "FUSE %u.%u: the kernel's FUSE_INIT lacks FUSE_PASSTHROUGH (CONFIG_FUSE_PASSTHROUGH)",
			 st.major, st.minor);
		return start_failed(s, 1);
	}
	/*
	 * The kernel offered FUSE_PASSTHROUGH, so it has the feature
	 * (fs/fuse/dev.c:fuse_dev_ioctl_backing_open says EOPNOTSUPP only
	 * without CONFIG_FUSE_PASSTHROUGH): any error of BACKING_OPEN
	 * (EPERM, EBADF, EINVAL, ELOOP: fuse_backing_open) is one of the
	 * server or the test set-up, and fails.
	 */
	if (st.probe_errno) {
		snprintf(s->why, sizeof(s->why), "%s %s/%s: %s",
			 st.probe_step ? "FUSE_DEV_IOC_BACKING_OPEN of" : "open",
			 dir, probe, strerror(st.probe_errno));
		return start_failed(s, -1);
	}
	return 0;
}

int fuse_server_stop(struct fuse_server *s)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int ret = 0, status = 0, i;
	pid_t got = 0;

	if (s->pid) {
		if (umount(s->mnt)) {
			snprintf(s->why, sizeof(s->why), "umount %s: %s",
				 s->mnt, strerror(errno));
			/* gone from the tree now, freed with its last user */
			umount2(s->mnt, MNT_DETACH);
			ret = -1;
		}
		/* the connection is aborted: the child's read() fails */
		for (i = 0; i < 500 && !got; i++) {
			got = waitpid(s->pid, &status, WNOHANG);
			if (!got)
				nanosleep(&pause, NULL);
		}
		if (!got) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			snprintf(s->why, sizeof(s->why),
				 "the server did not exit after umount: killed");
			ret = -1;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			snprintf(s->why, sizeof(s->why),
				 "the server ended with status %#x", status);
			ret = -1;
		}
		s->pid = 0;
	}
	if (s->counts) {
		munmap(s->counts, sizeof(*s->counts));
		s->counts = NULL;
	}
	return ret;
}
