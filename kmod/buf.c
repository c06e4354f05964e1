// SPDX-License-Identifier: GPL-2.0
/*
 * Recycled buffers for payloads and frames of more than half a page. With
 * init_on_alloc (a common distribution default) every such allocation
 * zeroes the whole object, and each new slab again: for a stream of 4 KiB
 * messages across nodes that is a large part of the cost. Freed buffers
 * of these sizes wait on a small stack per size class and are handed out
 * again as they are. That leaks nothing: a frame is sent up to its length
 * and a payload read up to its length, and both are written up to there
 * first.
 *
 * With init_on_free nothing is kept: freed data must not stay readable.
 *
 * Each stack holds at most POOL_BYTES, for all nodes. A buffer stays
 * charged to the cgroup that allocated it until it is freed for good, at
 * module exit at the latest, whoever uses it in between; that is at most
 * POOL_BYTES per class. Callers may hold mutexes, not spinlocks: freeing
 * a buffer that came from vmalloc may sleep.
 */
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "buf.h"

#define POOL_CLASSES	4		/* PAGE_SIZE << 0 .. 3 */
#define POOL_BYTES	SZ_1M
#define POOL_MAX	(POOL_BYTES / PAGE_SIZE)

struct buf_pool {
	spinlock_t lock;		/* n and buf */
	unsigned int n;
	void *buf[POOL_MAX];
};

static struct buf_pool pools[POOL_CLASSES] = {
	[0 ... POOL_CLASSES - 1] = {
		.lock = __SPIN_LOCK_UNLOCKED(pools.lock),
	},
};

/* The class of @size, or -1: too small to be worth it, or too large. */
static int buf_class(size_t size)
{
	if (size <= COHORT_BUF_RECYCLED_ABOVE ||
	    size > (PAGE_SIZE << (POOL_CLASSES - 1)))
		return -1;
	return order_base_2(DIV_ROUND_UP(size, PAGE_SIZE));
}

static unsigned int pool_cap(int c)
{
	return POOL_MAX >> c;
}

void *cohort_buf_alloc(size_t size, gfp_t gfp)
{
	int c = buf_class(size);
	struct buf_pool *pool;
	void *p = NULL;

	if (c < 0)
		return kvmalloc(size, gfp);
	might_alloc(gfp);
	pool = &pools[c];
	/* Recycled buffers are not zeroed. */
	if (!(gfp & __GFP_ZERO) && READ_ONCE(pool->n)) {
		spin_lock(&pool->lock);
		if (pool->n)
			p = pool->buf[--pool->n];
		spin_unlock(&pool->lock);
	}
	return p ?: kvmalloc(PAGE_SIZE << c, gfp);
}

/**
 * cohort_buf_free - give back a buffer of cohort_buf_alloc()
 * @p: the buffer, or NULL
 * @size: the size it was allocated with
 */
void cohort_buf_free(void *p, size_t size)
{
	int c = buf_class(size);
	struct buf_pool *pool;

	if (!p)
		return;
	if (c >= 0 && !want_init_on_free()) {
		pool = &pools[c];
		spin_lock(&pool->lock);
		if (pool->n < pool_cap(c)) {
			pool->buf[pool->n++] = p;
			p = NULL;
		}
		spin_unlock(&pool->lock);
	}
	kvfree(p);
}

/* After every user is gone. */
void cohort_buf_module_exit(void)
{
	int c;

	for (c = 0; c < POOL_CLASSES; c++)
		while (pools[c].n)
			kvfree(pools[c].buf[--pools[c].n]);
}
