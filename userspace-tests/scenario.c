// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger.h"
#include "scenario.h"

#define MAX_MAP_COUNT	"/proc/sys/vm/max_map_count"

/* The FUSE mount over t's twin mount, which registers f as its probe. */
static int fuse_up(struct target *t)
{
	int ret;

	snprintf(t->fuse, sizeof(t->fuse), "%s.fuse", t->dir);
	mkdir(t->fuse, 0755);
	ret = fuse_server_start(&t->srv, t->dir, t->fuse, "f");
	if (ret) {
		target_down(t);
		errno = EIO;
		return ret;
	}
	snprintf(t->path, sizeof(t->path), "%s/f", t->fuse);
	return 0;
}

int target_up(struct target *t, enum backend backend, bool prepare,
	      int pages)
{
	int fd, err;

	memset(t, 0, sizeof(*t));
	t->backend = backend;
	t->prepare = prepare;
	t->oflags = O_RDWR;
	t->prot = PROT_READ | PROT_WRITE;
	t->root = -1;
	t->stats = -1;
	if (backend == BACKEND_DEV) {
		snprintf(t->file, sizeof(t->file), "%s",
			 prepare ? MMAPDEMO_DEV_PREPARE : MMAPDEMO_DEV_LEGACY);
		snprintf(t->path, sizeof(t->path), "%s", t->file);
		t->stats = open(t->file, O_RDONLY | O_CLOEXEC);
		return t->stats < 0 ? -1 : 0;
	}
	t->fs = prepare ? MMAPDEMO_FS_PREPARE : MMAPDEMO_FS_LEGACY;
	snprintf(t->dir, sizeof(t->dir), "/tmp/%s", t->fs);
	snprintf(t->file, sizeof(t->file), "%s/f", t->dir);
	snprintf(t->ovl, sizeof(t->ovl), "%s.ovl", t->dir);
	snprintf(t->ovl_rw, sizeof(t->ovl_rw), "%s.ovl-rw", t->dir);
	snprintf(t->path, sizeof(t->path), "%s", t->file);
	mkdir(t->dir, 0755);
	if (mount("none", t->dir, t->fs, 0, NULL))
		return -1;
	t->mounted = true;
	/* driver/fs_common.c:mmapdemo_fs_dir_ioctl: the root takes the ioctls */
	t->root = open(t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t->stats = t->root;
	fd = make_file(t->file, pages, 'a');
	if (fd >= 0)
		close(fd);
	if (t->root >= 0 && fd >= 0 &&
	    (backend != BACKEND_OVERLAY || !overlay_up(t)))
		return backend == BACKEND_FUSE ? fuse_up(t) : 0;
	err = errno;
	target_down(t);
	errno = err;
	return -1;
}

/*
 * An umount that fails (a file still open after a failed test) is done
 * lazily, so that the mount goes when the test process exits and does
 * not pin the module.
 */
static int umount_or_detach(const char *dir)
{
	int err;

	if (!umount(dir))
		return 0;
	err = errno;
	umount2(dir, MNT_DETACH);
	errno = err;
	return -1;
}

int overlay_up(struct target *t)
{
	char opts[512], up[96], work[96];

	mkdir(t->ovl, 0755);
	mkdir(t->ovl_rw, 0755);
	if (mount("tmpfs", t->ovl_rw, "tmpfs", 0, NULL))
		return -1;
	t->rw_mounted = true;
	snprintf(up, sizeof(up), "%s/up", t->ovl_rw);
	snprintf(work, sizeof(work), "%s/work", t->ovl_rw);
	mkdir(up, 0755);
	mkdir(work, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		 t->dir, up, work);
	if (mount("overlay", t->ovl, "overlay", 0, opts))
		return -1;
	t->ovl_mounted = true;
	snprintf(t->path, sizeof(t->path), "%s/f", t->ovl);
	t->oflags = O_RDONLY;
	t->prot = PROT_READ;
	return 0;
}

int overlay_down(struct target *t)
{
	int ret = 0, err = 0;

	if (t->ovl_mounted && umount_or_detach(t->ovl)) {
		err = errno;
		ret = -1;
	}
	t->ovl_mounted = false;
	if (t->rw_mounted && umount_or_detach(t->ovl_rw) && !ret) {
		err = errno;
		ret = -1;
	}
	t->rw_mounted = false;
	errno = err;
	return ret;
}

int target_down(struct target *t)
{
	int ret, err;

	ret = overlay_down(t);
	err = errno;
	if (t->srv.pid && fuse_server_stop(&t->srv) && !ret) {
		err = EBUSY;
		ret = -1;
	}
	if (t->stats >= 0)
		close(t->stats);
	t->stats = -1;
	t->root = -1;
	if (t->mounted && umount_or_detach(t->dir) && !ret) {
		err = errno;
		ret = -1;
	}
	t->mounted = false;
	errno = err;
	return ret;
}

int target_open(const struct target *t, int oflags, __u32 mode)
{
	int fd, err;

	if (!target_stacked(t))
		return twin_open(t->path, oflags, mode);
	if (twin_set_mode(t->root, mode))
		return -1;
	fd = open(t->path, oflags | O_CLOEXEC);
	err = errno;
	if (twin_set_mode(t->root, MMAPDEMO_MODE_FAULT) && fd >= 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

int target_open_armed(const struct target *t, __u32 mode, __u32 stage,
		      int override)
{
	int fd, err;

	if (!target_stacked(t)) {
		fd = twin_open(t->path, t->oflags, mode);
		if (fd >= 0 && twin_set_fail(fd, stage, -EIO, -override)) {
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		return fd;
	}
	/* armed as the lower mount's default for just this open */
	if (twin_set_fail(t->root, stage, -EIO, -override))
		return -1;
	fd = target_open(t, t->oflags, mode);
	err = errno;
	if (twin_set_fail(t->root, MMAPDEMO_FAIL_NONE, 0, 0) && fd >= 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

struct mmapdemo_stats target_stats(const struct target *t)
{
	/* a scenario reads the counters before and after its call */
	ledger_point();
	return twin_stats(t->stats);
}

void *map_at(int fd, char *base, int first, int n, int prot)
{
	size_t psz = getpagesize();

	return mmap(base + first * psz, n * psz, prot, MAP_SHARED | MAP_FIXED,
		    fd, first * psz);
}

int map_pair(int fd, char *base, int prot)
{
	size_t psz = getpagesize();

	if (map_at(fd, base, 0, 2, prot) != base ||
	    map_at(fd, base, 2, 2, prot) != base + 2 * psz)
		return -1;
	return 0;
}

int uffd_wp_async_register(int *fd, unsigned long start, size_t len)
{
	struct uffdio_api api = {
		.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC,
	};
	struct uffdio_register reg = {
		.range = { .start = start, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	*fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (*fd < 0 || ioctl(*fd, UFFDIO_API, &api))
		return -1;
	return ioctl(*fd, UFFDIO_REGISTER, &reg);
}

char *anon_four(void)
{
	size_t psz = getpagesize();
	char *r = reserve(6 * psz), *base;
	int i;

	if (r == MAP_FAILED)
		return NULL;
	base = mmap(r + psz, 4 * psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (base != r + psz || munmap(r + 5 * psz, psz)) {
		munmap(r, 6 * psz);
		return NULL;
	}
	for (i = 0; i < 4; i++)
		memset(base + i * psz, ANON_BYTE(i), psz);
	return base;
}

void anon_four_free(char *base)
{
	size_t psz = getpagesize();

	munmap(base - psz, 6 * psz);
}

void old_pages_read(char *base, struct old_pages *o)
{
	size_t psz = getpagesize();
	unsigned long b = (unsigned long)base;
	unsigned char v;
	int i;

	for (i = 0; i < 4; i++) {
		o->sig[i] = probe_read(base + i * psz, &v);
		o->intact[i] = !o->sig[i] && v == ANON_BYTE(i);
	}
	o->vmas_middle = map_count_in(b + psz, b + 3 * psz);
	o->vmas = map_count_in(b, b + 4 * psz);
}

void *mmap_at_rlimit(void *addr, size_t len, int prot, int flags, int fd,
		     off_t off)
{
	struct rlimit old, lim;
	long size = vm_size();
	void *p;
	int err;

	if (size < 0 || getrlimit(RLIMIT_AS, &old))
		return MAP_FAILED;
	lim.rlim_cur = size;		/* exactly what is mapped now */
	lim.rlim_max = old.rlim_max;
	if (setrlimit(RLIMIT_AS, &lim))
		return MAP_FAILED;
	p = mmap(addr, len, prot, flags, fd, off);
	err = errno;
	/* back up to the old soft limit, below the hard one: cannot fail */
	setrlimit(RLIMIT_AS, &old);
	errno = err;
	return p;
}

int map_2n_under_limit(int fd, char *base, long n, struct scale_run *r)
{
	unsigned long start = (unsigned long)base;
	long old = sysctl_read(MAX_MAP_COUNT);
	int ret = 0;

	memset(r, 0, sizeof(*r));
	r->m0 = map_count();
	if (r->m0 + 1 >= n)
		return 1;
	if (old < 0 || sysctl_write(MAX_MAP_COUNT, n))
		return -1;
	r->done = map_one_by_one(fd, base, 2 * n, &r->err);
	r->count = map_count_in(start, start + 2 * n * getpagesize());
	r->map_count = map_count();
	if (sysctl_write(MAX_MAP_COUNT, old))
		ret = -1;
	return ret;
}

int make_file(const char *path, int n, int seed)
{
	size_t psz = getpagesize();
	char *buf = malloc(psz);
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !buf) {
		free(buf);
		return -1;
	}
	for (i = 0; i < n; i++) {
		memset(buf, i + seed, psz);
		if (write(fd, buf, psz) != (ssize_t)psz) {
			close(fd);
			fd = -1;
			break;
		}
	}
	free(buf);
	return fd;
}

int copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, ret = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		ret = -1;
	while (!ret && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			ret = -1;
	if (!ret && n < 0)
		ret = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

int elf_file_loads(const char *path)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph;
	int fd, i, n = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh))
		n = -1;
	for (i = 0; n >= 0 && i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) !=
		    sizeof(ph))
			n = -1;
		else if (ph.p_type == PT_LOAD && ph.p_filesz)
			n++;
	}
	close(fd);
	return n;
}

int run_binary(const char *path, char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(path, argv);
		_exit(errno == ENOEXEC ? 126 : 127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool have_fs(const char *name)
{
	FILE *f = fopen("/proc/filesystems", "r");
	char line[128], *tab;
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tab = strchr(line, '\t');
		found = tab && !strcmp(tab + 1, name);
	}
	fclose(f);
	return found;
}
