// SPDX-License-Identifier: GPL-2.0
/*
 * The two filesystem twins, mmapdemofs_prepare and mmapdemofs_legacy: a
 * small in-memory filesystem on the page cache, built from the kernel's
 * libfs helpers in the pattern of fs/ramfs/inode.c.  Everything here is
 * shared; fs_prepare.c and fs_legacy.c hold only the mmap hook, its
 * vm_operations and the file_operations of regular files.
 *
 * Each filesystem type is a twin with its own counters.  Every open
 * regular file gets a struct mmapdemo_file, as an open character device
 * does, so the same ioctls work on it.  A stacked filesystem (overlayfs)
 * opens the file itself, out of reach of userspace ioctls, so the root
 * directory of a mount takes the same ioctls too: they set the state
 * that files opened later on that mount start with.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/security.h>
#include <linux/seq_file.h>

#include "watch.h"

#define MMAPDEMOFS_MAGIC	0x6d6d6673	/* "mmfs" */
#define MMAPDEMOFS_DEFAULT_MODE	0755

/* A filesystem type and the twin that counts for all its files. */
struct mmapdemo_fs {
	struct file_system_type type;
	struct mmapdemo_twin twin;
	const struct file_operations *fops;	/* of regular files */
};

/* sb->s_fs_info */
struct mmapdemo_fs_info {
	umode_t root_mode;
	spinlock_t lock;		/* protects defaults */
	struct mmapdemo_file defaults;	/* what a new open file starts with */
};

static struct mmapdemo_fs *mmapdemo_fs_of(struct super_block *sb)
{
	return container_of(sb->s_type, struct mmapdemo_fs, type);
}

/* --- open files ------------------------------------------------------- */

int mmapdemo_fs_open(struct inode *inode, struct file *file)
{
	struct mmapdemo_fs_info *fsi = inode->i_sb->s_fs_info;
	struct mmapdemo_file *mf;
	int err;

	err = mmapdemo_file_open(file, &mmapdemo_fs_of(inode->i_sb)->twin);
	if (err)
		return err;
	mf = file->private_data;
	spin_lock(&fsi->lock);
	mf->mode = fsi->defaults.mode;
	mf->state = fsi->defaults.state;
	mf->fail = fsi->defaults.fail;
	spin_unlock(&fsi->lock);
	return 0;
}

/*
 * On a directory, the ioctls act on the mount's defaults.  Done on a
 * copy, so that a file opening meanwhile sees the old or the new state.
 */
static long mmapdemo_fs_dir_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct mmapdemo_fs_info *fsi = sb->s_fs_info;
	struct mmapdemo_file mf = { .twin = &mmapdemo_fs_of(sb)->twin };
	long ret;

	spin_lock_init(&mf.fail_lock);
	spin_lock(&fsi->lock);
	mf.mode = fsi->defaults.mode;
	mf.state = fsi->defaults.state;
	mf.fail = fsi->defaults.fail;
	spin_unlock(&fsi->lock);
	ret = mmapdemo_watch_file_ioctl(&mf, cmd, arg);
	if (ret)
		return ret;
	spin_lock(&fsi->lock);
	fsi->defaults.mode = mf.mode;
	fsi->defaults.state = mf.state;
	fsi->defaults.fail = mf.fail;
	spin_unlock(&fsi->lock);
	return 0;
}

/* simple_dir_operations (fs/libfs.c) plus the ioctls */
static const struct file_operations mmapdemo_fs_dir_operations = {
	.open		= dcache_dir_open,
	.release	= dcache_dir_close,
	.llseek		= dcache_dir_lseek,
	.read		= generic_read_dir,
	.iterate_shared	= dcache_readdir,
	.fsync		= noop_fsync,
	.unlocked_ioctl	= mmapdemo_fs_dir_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* --- vm_operations: the generic filemap ones, counted (the kit's) ------ */

vm_fault_t mmapdemo_fs_fault(struct vm_fault *vmf)
{
	mmapdemo_count(mmapdemo_file_twin(vmf->vma->vm_file), MMAPDEMO_FAULTS);
	return filemap_fault(vmf);
}

vm_fault_t mmapdemo_fs_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				 pgoff_t end_pgoff)
{
	mmapdemo_count(mmapdemo_file_twin(vmf->vma->vm_file),
		       MMAPDEMO_MAP_PAGES);
	return filemap_map_pages(vmf, start_pgoff, end_pgoff);
}

vm_fault_t mmapdemo_fs_page_mkwrite(struct vm_fault *vmf)
{
	mmapdemo_count(mmapdemo_file_twin(vmf->vma->vm_file),
		       MMAPDEMO_PAGE_MKWRITE);
	return filemap_page_mkwrite(vmf);
}

/* --- inodes and directories (fs/ramfs/inode.c) ------------------------ */

static const struct inode_operations mmapdemo_fs_dir_inode_operations;

static const struct inode_operations mmapdemo_fs_file_inode_operations = {
	.setattr	= simple_setattr,
	.getattr	= simple_getattr,
};

static struct inode *mmapdemo_fs_get_inode(struct super_block *sb,
					   const struct inode *dir,
					   umode_t mode, dev_t dev)
{
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = get_next_ino();
	inode_init_owner(&nop_mnt_idmap, inode, dir, mode);
	inode->i_mapping->a_ops = &ram_aops;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER);
	mapping_set_unevictable(inode->i_mapping);
	simple_inode_init_ts(inode);
	switch (mode & S_IFMT) {
	default:
		init_special_inode(inode, mode, dev);
		break;
	case S_IFREG:
		inode->i_op = &mmapdemo_fs_file_inode_operations;
		inode->i_fop = mmapdemo_fs_of(sb)->fops;
		break;
	case S_IFDIR:
		inode->i_op = &mmapdemo_fs_dir_inode_operations;
		inode->i_fop = &mmapdemo_fs_dir_operations;
		inc_nlink(inode);	/* "." */
		break;
	case S_IFLNK:
		inode->i_op = &page_symlink_inode_operations;
		inode_nohighmem(inode);
		break;
	}
	return inode;
}

static int mmapdemo_fs_mknod(struct mnt_idmap *idmap, struct inode *dir,
			     struct dentry *dentry, umode_t mode, dev_t dev)
{
	struct inode *inode;
	int err;

	inode = mmapdemo_fs_get_inode(dir->i_sb, dir, mode, dev);
	if (!inode)
		return -ENOSPC;
	err = security_inode_init_security(inode, dir, &dentry->d_name,
					   NULL, NULL);
	if (err) {
		iput(inode);
		return err;
	}
	mmapdemo_d_make_persistent(dentry, inode);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	return 0;
}

int mmapdemo_fs_do_mkdir(struct mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	int err = mmapdemo_fs_mknod(idmap, dir, dentry, mode | S_IFDIR, 0);

	if (!err)
		inc_nlink(dir);
	return err;
}

int mmapdemo_fs_do_create(struct mnt_idmap *idmap, struct inode *dir,
			  struct dentry *dentry, umode_t mode)
{
	return mmapdemo_fs_mknod(idmap, dir, dentry, mode | S_IFREG, 0);
}

static int mmapdemo_fs_symlink(struct mnt_idmap *idmap, struct inode *dir,
			       struct dentry *dentry, const char *symname)
{
	struct inode *inode;
	int err;

	inode = mmapdemo_fs_get_inode(dir->i_sb, dir, S_IFLNK | 0777, 0);
	if (!inode)
		return -ENOSPC;
	err = security_inode_init_security(inode, dir, &dentry->d_name,
					   NULL, NULL);
	if (!err)
		err = page_symlink(inode, symname, strlen(symname) + 1);
	if (err) {
		iput(inode);
		return err;
	}
	mmapdemo_d_make_persistent(dentry, inode);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	return 0;
}

static const struct inode_operations mmapdemo_fs_dir_inode_operations = {
	.create		= mmapdemo_iop_create,
	.lookup		= simple_lookup,
	.link		= simple_link,
	.unlink		= simple_unlink,
	.symlink	= mmapdemo_fs_symlink,
	.mkdir		= mmapdemo_iop_mkdir,
	.rmdir		= simple_rmdir,
	.mknod		= mmapdemo_fs_mknod,
	.rename		= simple_rename,
};

/* --- super block and mount options ------------------------------------ */

static int mmapdemo_fs_show_options(struct seq_file *m, struct dentry *root)
{
	struct mmapdemo_fs_info *fsi = root->d_sb->s_fs_info;

	if (fsi->root_mode != MMAPDEMOFS_DEFAULT_MODE)
		seq_printf(m, ",mode=%o", fsi->root_mode);
	return 0;
}

static const struct super_operations mmapdemo_fs_super_operations = {
	.statfs		= simple_statfs,
	.drop_inode	= mmapdemo_inode_just_drop,
	.show_options	= mmapdemo_fs_show_options,
};

enum mmapdemo_fs_param {
	MMAPDEMOFS_OPT_MODE,
};

static const struct fs_parameter_spec mmapdemo_fs_parameters[] = {
	fsparam_u32oct("mode", MMAPDEMOFS_OPT_MODE),
	{}
};

/* Unlike ramfs, refuse what we do not know, and say which option it was. */
static int mmapdemo_fs_parse_param(struct fs_context *fc,
				   struct fs_parameter *param)
{
	struct mmapdemo_fs_info *fsi = fc->s_fs_info;
	struct fs_parse_result result;
	int opt;

	opt = fs_parse(fc, mmapdemo_fs_parameters, param, &result);
	if (opt == -ENOPARAM) {
		opt = vfs_parse_fs_param_source(fc, param);
		if (opt != -ENOPARAM)
			return opt;
		return invalfc(fc, "unknown mount option '%s'", param->key);
	}
	if (opt < 0)
		return opt;
	switch (opt) {
	case MMAPDEMOFS_OPT_MODE:
		fsi->root_mode = result.uint_32 & S_IALLUGO;
		break;
	}
	return 0;
}

static int mmapdemo_fs_fill_super(struct super_block *sb,
				  struct fs_context *fc)
{
	struct mmapdemo_fs_info *fsi = sb->s_fs_info;
	struct inode *inode;

	sb->s_maxbytes		= MAX_LFS_FILESIZE;
	sb->s_blocksize		= PAGE_SIZE;
	sb->s_blocksize_bits	= PAGE_SHIFT;
	sb->s_magic		= MMAPDEMOFS_MAGIC;
	sb->s_op		= &mmapdemo_fs_super_operations;
	sb->s_time_gran		= 1;
	mmapdemo_sb_dontcache(sb);

	inode = mmapdemo_fs_get_inode(sb, NULL, S_IFDIR | fsi->root_mode, 0);
	sb->s_root = d_make_root(inode);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int mmapdemo_fs_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, mmapdemo_fs_fill_super);
}

static void mmapdemo_fs_free_fc(struct fs_context *fc)
{
	kfree(fc->s_fs_info);	/* NULL once a super block took it */
}

static const struct fs_context_operations mmapdemo_fs_context_ops = {
	.free		= mmapdemo_fs_free_fc,
	.parse_param	= mmapdemo_fs_parse_param,
	.get_tree	= mmapdemo_fs_get_tree,
};

static int mmapdemo_fs_init_fs_context(struct fs_context *fc)
{
	struct mmapdemo_fs *fs = container_of(fc->fs_type, struct mmapdemo_fs,
					      type);
	struct mmapdemo_fs_info *fsi;

	fsi = mmapdemo_kzalloc_obj(*fsi);
	if (!fsi)
		return -ENOMEM;
	fsi->root_mode = MMAPDEMOFS_DEFAULT_MODE;
	spin_lock_init(&fsi->lock);
	fsi->defaults.twin = &fs->twin;
	fsi->defaults.mode = MMAPDEMO_MODE_FAULT;
	fsi->defaults.state = MMAPDEMO_STATE_PER_VMA;
	fc->s_fs_info = fsi;
	fc->ops = &mmapdemo_fs_context_ops;
	return 0;
}

static void mmapdemo_fs_kill_sb(struct super_block *sb)
{
	kfree(sb->s_fs_info);
	mmapdemo_kill_sb(sb);
}

/*
 * .owner: a mounted super block holds a reference on the module
 * (fs/filesystems.c:get_fs_type), so rmmod is refused while mounted.
 */
#define MMAPDEMO_FS(fs_name, twin_name, is_prepare, file_ops) {		\
	.type = {							\
		.owner			= THIS_MODULE,			\
		.name			= fs_name,			\
		.init_fs_context	= mmapdemo_fs_init_fs_context,	\
		.parameters		= mmapdemo_fs_parameters,	\
		.kill_sb		= mmapdemo_fs_kill_sb,		\
	},								\
	.twin = {							\
		.name			= twin_name,			\
		.prepare		= is_prepare,			\
		.pagecache		= true,				\
	},								\
	.fops = file_ops,						\
}

/* A type whose fops are NULL is not built for this kernel (internal.h). */
static struct mmapdemo_fs mmapdemo_fs_types[] = {
	MMAPDEMO_FS(MMAPDEMO_FS_PREPARE, "fs_prepare", true,
		    MMAPDEMO_FS_PREPARE_FOPS),
	MMAPDEMO_FS(MMAPDEMO_FS_LEGACY, "fs_legacy", false,
		    &mmapdemo_fs_legacy_fops),
};

int mmapdemo_fs_register(struct dentry *debugfs)
{
	int err, i;

	for (i = 0; i < ARRAY_SIZE(mmapdemo_fs_types); i++) {
		mmapdemo_watch_init(&mmapdemo_fs_types[i].twin);
		if (!mmapdemo_fs_types[i].fops)
			continue;
		err = register_filesystem(&mmapdemo_fs_types[i].type);
		if (err) {
			pr_err("cannot register filesystem %s: %d\n",
			       mmapdemo_fs_types[i].type.name, err);
			goto undo;
		}
		mmapdemo_debugfs_add(debugfs, &mmapdemo_fs_types[i].twin);
	}
	return 0;
undo:
	while (--i >= 0) {
		if (mmapdemo_fs_types[i].fops)
			unregister_filesystem(&mmapdemo_fs_types[i].type);
	}
	return err;
}

/* Only reached with nothing mounted: each mount holds a module reference. */
void mmapdemo_fs_unregister(void)
{
	int i;

	for (i = ARRAY_SIZE(mmapdemo_fs_types) - 1; i >= 0; i--) {
		if (!mmapdemo_fs_types[i].fops)
			continue;
		unregister_filesystem(&mmapdemo_fs_types[i].type);
		mmapdemo_watch_reap(&mmapdemo_fs_types[i].twin);
	}
}
