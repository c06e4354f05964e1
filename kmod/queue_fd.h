/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_QUEUE_FD_H
#define _COHORT_QUEUE_FD_H

#include <linux/fs.h>

struct cohort_afile;

int cohort_qfd_open(struct file *afile, struct cohort_afile *a,
		    void __user *arg);

#endif /* _COHORT_QUEUE_FD_H */
