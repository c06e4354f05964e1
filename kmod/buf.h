/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COHORT_BUF_H
#define COHORT_BUF_H

#include <linux/types.h>

void *cohort_buf_alloc(size_t size, gfp_t gfp);
void cohort_buf_free(void *p, size_t size);
void cohort_buf_module_exit(void);

#endif
