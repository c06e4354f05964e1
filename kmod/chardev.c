// SPDX-License-Identifier: GPL-2.0
/*
 * The misc device /dev/cohort. Each open file is an actor of the node (the
 * network namespace) of the process that opened it, wherever the file is
 * passed later; it holds a reference on that namespace, as a socket does.
 *
 * Lock order: actor lock, then the node's locks.
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
#include "queue_fd.h"

/* The layout that compat_ptr_ioctl() relies on: same for 32 and 64 bit. */
static_assert(sizeof(struct cohort_actor) == 24);
static_assert(sizeof(struct cohort_lamport) == 16);
static_assert(sizeof(struct cohort_vclock) == 40);

/* Ioctl arguments larger than this are refused even with a zero tail. */
#define ARG_MAX_SIZE PAGE_SIZE

int cohort_get_arg_sized(void *karg, size_t ksize, size_t min,
			 void __user *uarg, u32 usize)
{
	if (usize < min)
		return -EINVAL;
	if (usize > ARG_MAX_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/* Copy back no more than the caller's structure holds. */
int cohort_put_arg(void __user *uarg, u32 usize, const void *karg,
		   size_t ksize)
{
	if (copy_to_user(uarg, karg, min_t(size_t, usize, ksize)))
		return -EFAULT;
	return 0;
}

/*
 * Binding comes after argument checks so that a bad call binds nothing.
 * Called under a->lock.
 */
int cohort_afile_bind(struct cohort_afile *a)
{
	int err;

	lockdep_assert_held(&a->lock);

	if (a->id)
		return 0;
	err = cohort_clocks_init(&a->clocks, GFP_KERNEL_ACCOUNT);
	if (err)
		return err;
	return cohort_node_bind_actor(a->node, &a->id);
}

static long actor_info_ioctl(struct cohort_afile *a, void __user *arg)
{
	struct cohort_actor info;
	u32 usize;
	int err;

	err = cohort_get_arg(&info, sizeof(info), arg, &usize);
	if (err)
		return err;
	if (info.flags || info.__reserved)
		return -EINVAL;
	err = cohort_afile_bind(a);
	if (err)
		return err;
	info.actor_id = a->id;
	info.node_id = a->id >> 32;
	return cohort_put_arg(arg, usize, &info, sizeof(info));
}

static long lamport_ioctl(struct cohort_afile *a, void __user *arg)
{
	struct cohort_lamport l;
	u32 usize;
	u64 now;
	int err;

	err = cohort_get_arg(&l, sizeof(l), arg, &usize);
	if (err)
		return err;
	if (l.op >= __COHORT_CLOCK_OP_MAX)
		return -EINVAL;
	err = cohort_afile_bind(a);
	if (err)
		return err;
	err = cohort_lamport_event(a->clocks.lamport, l.op, l.time, &now);
	if (err)
		return err;
	l.time = now;
	err = cohort_put_arg(arg, usize, &l, sizeof(l));
	if (!err)
		a->clocks.lamport = now;
	return err;
}

/* The received vector of a RECV, validated; NULL for other ops. */
static struct cohort_vc_entry *vclock_copy_in(const struct cohort_vclock *v)
{
	struct cohort_vc_entry *in;
	int err;

	if (v->op != COHORT_CLOCK_RECV)
		return v->in_len || v->in_ptr ? ERR_PTR(-EINVAL) : NULL;
	if (!v->in_len)
		return v->in_ptr ? ERR_PTR(-EINVAL) : NULL;
	if (v->in_len > COHORT_VC_MAX_ENTRIES)
		return ERR_PTR(-E2BIG);
	in = memdup_user(u64_to_user_ptr(v->in_ptr),
			 array_size(v->in_len, sizeof(*in)));
	if (IS_ERR(in))
		return in;
	err = cohort_vector_validate(in, v->in_len);
	if (err) {
		kfree(in);
		return ERR_PTR(err);
	}
	return in;
}

/* The vector in c->spare to v->out_ptr; -ENOSPC still reports out_len. */
static int vclock_copy_out(struct cohort_vclock *v,
			   const struct cohort_vector *res)
{
	v->out_len = res->len;
	if (!v->out_ptr)
		return 0;
	if (v->out_cap < res->len)
		return -ENOSPC;
	if (copy_to_user(u64_to_user_ptr(v->out_ptr), res->entry,
			 array_size(res->len, sizeof(*res->entry))))
		return -EFAULT;
	return 0;
}

static long vclock_ioctl(struct cohort_afile *a, void __user *arg)
{
	struct cohort_vc_entry *in;
	struct cohort_vclock v;
	u32 usize;
	int err, perr;

	err = cohort_get_arg(&v, sizeof(v), arg, &usize);
	if (err)
		return err;
	if (v.op >= __COHORT_CLOCK_OP_MAX || v.__reserved)
		return -EINVAL;
	in = vclock_copy_in(&v);
	if (IS_ERR(in))
		return PTR_ERR(in);
	err = cohort_afile_bind(a);
	if (!err)
		err = cohort_vector_event(&a->clocks, in, v.in_len, v.op,
					  a->id);
	kfree(in);
	if (err)
		return err;

	err = vclock_copy_out(&v, &a->clocks.spare);
	if (err && err != -ENOSPC)
		return err;
	perr = cohort_put_arg(arg, usize, &v, sizeof(v));
	if (perr)
		return perr;
	if (!err && v.op != COHORT_CLOCK_READ)
		cohort_vector_commit(&a->clocks);
	return err;
}

static long actor_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct cohort_afile *a = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	mutex_lock(&a->lock);
	switch (cmd) {
	case COHORT_IOC_ACTOR:
		ret = actor_info_ioctl(a, uarg);
		break;
	case COHORT_IOC_LAMPORT:
		ret = lamport_ioctl(a, uarg);
		break;
	case COHORT_IOC_VCLOCK:
		ret = vclock_ioctl(a, uarg);
		break;
	case COHORT_IOC_QUEUE_OPEN:
		ret = cohort_qfd_open(file, a, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&a->lock);
	return ret;
}

static int actor_open(struct inode *inode, struct file *file)
{
	struct cohort_afile *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return -ENOMEM;
	a->net = get_net_track(current->nsproxy->net_ns, &a->ns_tracker,
			       GFP_KERNEL);
	a->node = cohort_node_get(a->net);
	mutex_init(&a->lock);
	file->private_data = a;
	return nonseekable_open(inode, file);
}

static int actor_release(struct inode *inode, struct file *file)
{
	struct cohort_afile *a = file->private_data;

	if (a->id)
		cohort_node_unbind_actor(a->node, a->id);
	cohort_clocks_free(&a->clocks);
	mutex_destroy(&a->lock);
	put_net_track(a->net, &a->ns_tracker);
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
