// SPDX-License-Identifier: GPL-2.0
/*
 * The misc device /dev/cohort. Each open file is an actor of the node (the
 * network namespace) of the process that opened it; the file holds a
 * reference on that namespace, as a socket does.
 *
 * Ioctl arguments follow the iommufd pattern: a leading __u32 size, read
 * with copy_struct_from_user() so that structures can grow.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "chardev.h"
#include "clock.h"
#include "node.h"

struct actor {
	struct net *net;
	struct cohort_node *node;
	struct mutex lock;		/* serialises the ioctls of one file */
	u64 id;				/* 0 until bound */
	struct cohort_clocks clocks;
};

int cohort_ioctl_get_arg(void *karg, size_t ksize, size_t minsize,
			 void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < minsize)
		return -EINVAL;
	if (*usize > PAGE_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

/* Copy back no more than the caller's structure holds. */
int cohort_ioctl_put_arg(void __user *uarg, u32 usize, const void *karg,
			 size_t ksize)
{
	if (copy_to_user(uarg, karg, min_t(size_t, usize, ksize)))
		return -EFAULT;
	return 0;
}

static int actor_bind(struct actor *a)
{
	if (a->id)
		return 0;
	return cohort_node_bind_actor(a->node, &a->id);
}

static long actor_info_ioctl(struct actor *a, void __user *arg)
{
	struct cohort_actor info;
	u32 usize;
	int err;

	err = cohort_ioctl_get_arg(&info, sizeof(info), sizeof(info), arg,
				   &usize);
	if (err)
		return err;
	if (info.flags || info.__reserved)
		return -EINVAL;
	err = actor_bind(a);
	if (err)
		return err;
	info.actor_id = a->id;
	info.node_id = a->id >> 32;
	return cohort_ioctl_put_arg(arg, usize, &info, sizeof(info));
}

static long actor_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct actor *a = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	switch (cmd) {
	case COHORT_IOC_ACTOR:
	case COHORT_IOC_LAMPORT:
	case COHORT_IOC_VCLOCK:
		break;
	default:
		return -ENOTTY;
	}

	mutex_lock(&a->lock);
	if (cmd == COHORT_IOC_ACTOR) {
		ret = actor_info_ioctl(a, uarg);
		goto out;
	}
	ret = actor_bind(a);
	if (ret)
		goto out;
	if (cmd == COHORT_IOC_LAMPORT)
		ret = cohort_clock_lamport_ioctl(&a->clocks, uarg);
	else
		ret = cohort_clock_vclock_ioctl(&a->clocks, a->id, uarg);
out:
	mutex_unlock(&a->lock);
	return ret;
}

static int actor_open(struct inode *inode, struct file *file)
{
	struct actor *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	a->net = get_net(current->nsproxy->net_ns);
	a->node = cohort_node_get(a->net);
	mutex_init(&a->lock);
	file->private_data = a;
	return nonseekable_open(inode, file);
}

static int actor_release(struct inode *inode, struct file *file)
{
	struct actor *a = file->private_data;

	if (a->id)
		cohort_node_unbind_actor(a->node);
	cohort_vector_free(&a->clocks.vc);
	mutex_destroy(&a->lock);
	put_net(a->net);
	kfree(a);
	return 0;
}

static const struct file_operations actor_fops = {
	.owner		= THIS_MODULE,
	.open		= actor_open,
	.release	= actor_release,
	.unlocked_ioctl	= actor_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice cohort_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= COHORT_DEVICE_NAME,
	.fops	= &actor_fops,
	.mode	= 0666,
};

int cohort_chardev_init(void)
{
	return misc_register(&cohort_misc);
}

void cohort_chardev_exit(void)
{
	misc_deregister(&cohort_misc);
}
