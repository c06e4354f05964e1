/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CHARDEV_H
#define _COHORT_CHARDEV_H

#include <linux/mutex.h>
#include <linux/types.h>
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
int cohort_get_arg(void *karg, size_t ksize, void __user *uarg, u32 *usize);
int cohort_put_arg(void __user *uarg, u32 usize, const void *karg,
		   size_t ksize);

#endif /* _COHORT_CHARDEV_H */
