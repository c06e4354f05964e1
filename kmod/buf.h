/* SPDX-License-Identifier: GPL-2.0 */
#ifndef COHORT_BUF_H
#define COHORT_BUF_H

#include <linux/mm.h>
#include <linux/types.h>

struct dentry;

/*
 * Buffers of up to COHORT_BUF_SMALL bytes (all of that size) and larger
 * than COHORT_BUF_RECYCLED_ABOVE (up to COHORT_BUF_RECYCLED_MAX) are
 * recycled.
 */
#define COHORT_BUF_SMALL		256
#define COHORT_BUF_RECYCLED_ABOVE	(PAGE_SIZE / 2)
#define COHORT_BUF_RECYCLED_MAX		(PAGE_SIZE << 3)

/* Does cohort_buf_free() keep a buffer of @size for the next alloc? */
static inline bool cohort_buf_recycles(size_t size)
{
	return size <= COHORT_BUF_SMALL ||
	       (size > COHORT_BUF_RECYCLED_ABOVE &&
		size <= COHORT_BUF_RECYCLED_MAX);
}

void *cohort_buf_alloc(size_t size, gfp_t gfp);
bool cohort_buf_pages(const void *p, size_t size);
void cohort_buf_free(void *p, size_t size);
int cohort_buf_module_init(struct dentry *debugfs);
void cohort_buf_module_exit(void);

#endif
