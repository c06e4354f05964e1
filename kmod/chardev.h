/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CHARDEV_H
#define _COHORT_CHARDEV_H

#include <linux/types.h>

int cohort_chardev_init(void);
void cohort_chardev_exit(void);

#endif /* _COHORT_CHARDEV_H */
