/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CHARDEV_H
#define _COHORT_CHARDEV_H

#include <linux/types.h>

int cohort_chardev_init(void);
void cohort_chardev_exit(void);

int cohort_ioctl_get_arg(void *karg, size_t ksize, size_t minsize,
			 void __user *uarg, u32 *usize);
int cohort_ioctl_put_arg(void __user *uarg, u32 usize, const void *karg,
			 size_t ksize);

#endif /* _COHORT_CHARDEV_H */
