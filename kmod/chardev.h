/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CHARDEV_H
#define _COHORT_CHARDEV_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <net/net_trackers.h>

#include "clock.h"

struct cohort_node;
struct net;

/* An open /dev/cohort: one actor. Queue descriptors stamp with its clocks. */
struct cohort_afile {
	struct net *net;
	netns_tracker ns_tracker;
	struct cohort_node *node;
	struct mutex lock;		/* the ioctls of one file; the clocks */
	u64 id;				/* 0 until bound */
	struct cohort_clocks clocks;
};

int cohort_chardev_init(void);
void cohort_chardev_exit(void);

int cohort_afile_bind(struct cohort_afile *a);
int cohort_get_arg_sized(void *karg, size_t ksize, size_t min,
			 void __user *uarg, u32 usize);

/*
 * An ioctl argument whose first u32 is its size: a caller built for an
 * older or newer layout gets copy_struct_from_user()'s rules. Inline, the
 * common copy of exactly @ksize has a size known at build time, which
 * hardened usercopy checks at build time instead of on every call (4 % of
 * a one-message QSEND and QRECV, counted in guest instructions).
 */
static __always_inline int cohort_get_arg(void *karg, size_t ksize,
					  void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (likely(*usize == ksize))
		return copy_from_user(karg, uarg, ksize) ? -EFAULT : 0;
	return cohort_get_arg_sized(karg, ksize, ksize, uarg, *usize);
}

/*
 * The same for a structure that grew at its end: a caller built for its
 * first layout passes @min bytes, and the fields it does not know are 0.
 */
static inline int cohort_get_arg_min(void *karg, size_t ksize, size_t min,
				     void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	return cohort_get_arg_sized(karg, ksize, min, uarg, *usize);
}

int cohort_put_arg(void __user *uarg, u32 usize, const void *karg,
		   size_t ksize);

#endif /* _COHORT_CHARDEV_H */
