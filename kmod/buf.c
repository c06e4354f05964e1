// SPDX-License-Identifier: GPL-2.0
/*
 * Recycled buffers, for payloads and frames of more than half a page and
 * for small messages and frames (of up to COHORT_BUF_SMALL bytes, all
 * given out at that size so that any one serves any other).
 *
 * With init_on_alloc (a common distribution default) every allocation
 * zeroes the whole object, and each new slab again: for a stream of 4 KiB
 * messages across nodes that is a large part of the cost. Small messages
 * add the slab's churn: with the producer on one CPU and the consumer on
 * another, slab pages empty on one side as fast as new ones fill on the
 * other. In a profile of 64-message sends of 64 bytes (6.12 guest) the
 * allocation was a third of the producer's time. Freed buffers of these
 * sizes wait on a small stack per size class and are handed out again as
 * they are. That leaks nothing: a frame is sent up to its length, a
 * message read up to its length and stamp, and both are written up to
 * there first.
 *
 * With init_on_free nothing is kept: freed data must not stay readable.
 *
 * Buffers of more than a page are pages of their own, never slab (kmalloc()
 * gives 8 KiB from a slab): TCP can take the pages of a frame rather than
 * copy them (peer_tx()). It holds them until the last packet made of them
 * is gone, which may be after the frame was acked (a receiver on this host
 * reads those very pages) or dropped unsent. A buffer whose pages another
 * still holds is not kept; they go back to the system with the last
 * reference.
 *
 * The stacks are for all nodes, and hold 11 MiB at most (pool_bytes): a
 * backlog of a thousand small messages or 4 KiB payloads taken at once
 * (a queue's default depth), or 8 KiB frames of 4 KiB messages acked a
 * publication window (COHORT_QREMOTE_PUB_WINDOW) at a time by several
 * homes, comes back whole for the next burst. With a quarter of that,
 * every such burst overflowed its stack and the next one went to the
 * allocator again. Global memory pressure empties the stacks
 * (the shrinker). A buffer stays charged to the cgroup that allocated it
 * until it is freed for good, whoever uses it in between; the shrinker is
 * not memcg-aware, so a cgroup at its own limit does not get back what
 * waits here. Callers may hold mutexes, not spinlocks: freeing a buffer
 * that came from vmalloc may sleep. Each class has one lock for all CPUs,
 * taken once per buffer.
 */
#include <linux/debugfs.h>
#include <linux/kmemleak.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "buf.h"
#include "compat.h"

#define POOL_CLASSES	5		/* small, then PAGE_SIZE << 0 .. 3 */

/* Bytes each class keeps at most (see above). */
static const unsigned int pool_bytes[POOL_CLASSES] = {
	SZ_1M, SZ_4M, SZ_4M, SZ_1M, SZ_1M
};

struct buf_pool {
	spinlock_t lock;		/* n and buf */
	unsigned int n;
	unsigned int cap;		/* the length of buf */
	void **buf;
};

static struct buf_pool pools[POOL_CLASSES] = {
	[0 ... POOL_CLASSES - 1] = {
		.lock = __SPIN_LOCK_UNLOCKED(pools.lock),
	},
};

static struct shrinker *buf_shrinker;
static struct dentry *buf_debugfs;

/* The class of @size, or -1: too small to be worth it, or too large. */
static int buf_class(size_t size)
{
	BUILD_BUG_ON(ilog2(COHORT_BUF_RECYCLED_MAX / PAGE_SIZE) + 2 !=
		     POOL_CLASSES);

	if (!cohort_buf_recycles(size))
		return -1;
	if (size <= COHORT_BUF_SMALL)
		return 0;
	return 1 + order_base_2(DIV_ROUND_UP(size, PAGE_SIZE));
}

/* The size of the buffers of class @c. */
static size_t class_size(int c)
{
	return c ? PAGE_SIZE << (c - 1) : COHORT_BUF_SMALL;
}

/* Are buffers of class @c pages of their own (else slab)? */
static bool class_pages(int c)
{
	return class_size(c) > PAGE_SIZE;
}

/*
 * A new buffer of class @c: above a page, pages, or vmalloc when there
 * are none (seen by kmemleak, as kmalloc()'s would be).
 */
static void *buf_new(int c, gfp_t gfp)
{
	size_t size = class_size(c);
	struct page *page;
	void *p;

	if (!class_pages(c))
		return kmalloc(size, gfp);
	page = alloc_pages(gfp | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY,
			   get_order(size));
	if (!page)
		return gfpflags_allow_blocking(gfp) ? __vmalloc(size, gfp) : NULL;
	p = page_address(page);
	kmemleak_alloc(p, size, 1, gfp);
	return p;
}

/* Back to the system, as buf_new() made it. */
static void buf_release(void *p, int c)
{
	if (!class_pages(c)) {
		kfree(p);
	} else if (is_vmalloc_addr(p)) {
		vfree(p);
	} else {
		kmemleak_free(p);
		folio_put(virt_to_folio(p));
	}
}

/* Has @p, of class @c, pages of its own (not vmalloc's fallback)? */
static bool buf_has_pages(const void *p, int c)
{
	return class_pages(c) && !is_vmalloc_addr(p);
}

/**
 * cohort_buf_pages - does a buffer have pages of its own?
 * @p: a buffer of cohort_buf_alloc()
 * @size: the size it was allocated with
 *
 * Those TCP may take rather than copy: not slab, not vmalloc.
 */
bool cohort_buf_pages(const void *p, size_t size)
{
	int c = buf_class(size);

	return c >= 0 && buf_has_pages(p, c);
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
		if (pool->n) {
			p = pool->buf[pool->n - 1];
			WRITE_ONCE(pool->n, pool->n - 1);
		}
		spin_unlock(&pool->lock);
	}
	return p ?: buf_new(c, gfp);
}

/*
 * May @p be handed out again: does nobody else hold its pages? Once they
 * are ours alone nobody takes them again (only TCP did, from a queued
 * frame), so a count of one stays one.
 */
static bool buf_unshared(const void *p, int c)
{
	return !buf_has_pages(p, c) || folio_ref_count(virt_to_folio(p)) == 1;
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
	if (c < 0) {
		kvfree(p);
		return;
	}
	if (!want_init_on_free() && buf_unshared(p, c)) {
		pool = &pools[c];
		spin_lock(&pool->lock);
		if (pool->n < pool->cap) {
			pool->buf[pool->n] = p;
			WRITE_ONCE(pool->n, pool->n + 1);
			p = NULL;
		}
		spin_unlock(&pool->lock);
	}
	if (p)
		buf_release(p, c);
}

/* Free up to @max buffers of @pool, a few at a time; how many. */
static unsigned long pool_drain(struct buf_pool *pool, unsigned long max)
{
	unsigned long freed = 0;
	unsigned int i, k;
	void *batch[16];

	do {
		spin_lock(&pool->lock);
		k = min_t(unsigned long, pool->n,
			  min_t(unsigned long, ARRAY_SIZE(batch), max - freed));
		WRITE_ONCE(pool->n, pool->n - k);
		memcpy(batch, &pool->buf[pool->n], k * sizeof(*batch));
		spin_unlock(&pool->lock);
		for (i = 0; i < k; i++)
			buf_release(batch[i], pool - pools);
		freed += k;
	} while (k && freed < max);
	return freed;
}

static unsigned long buf_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	unsigned long n = 0;
	int c;

	for (c = 0; c < POOL_CLASSES; c++)
		n += READ_ONCE(pools[c].n);
	return n ?: SHRINK_EMPTY;
}

/* The largest buffers go first: each gives back the most. */
static unsigned long buf_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long freed = 0;
	int c;

	for (c = POOL_CLASSES - 1; c >= 0 && freed < sc->nr_to_scan; c--)
		freed += pool_drain(&pools[c], sc->nr_to_scan - freed);
	return freed;
}

/* debugfs "buffers": per class, its size, buffers kept and the most kept. */
static int buf_show(struct seq_file *s, void *unused)
{
	int c;

	seq_puts(s, "size\tkept\tmax\n");
	for (c = 0; c < POOL_CLASSES; c++)
		seq_printf(s, "%zu\t%u\t%u\n", class_size(c),
			   READ_ONCE(pools[c].n),
			   want_init_on_free() ? 0 : pools[c].cap);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(buf);

/* The stacks, and the shrinker that empties them. */
int cohort_buf_module_init(struct dentry *debugfs)
{
	int c;

	for (c = 0; c < POOL_CLASSES; c++) {
		pools[c].cap = pool_bytes[c] / class_size(c);
		pools[c].buf = kcalloc(pools[c].cap, sizeof(void *),
				       GFP_KERNEL);
		if (!pools[c].buf)
			goto err;
	}
	buf_shrinker = cohort_shrinker_new("cohort-buf", buf_shrink_count,
					   buf_shrink_scan);
	if (!buf_shrinker)
		goto err;
	buf_debugfs = debugfs_create_file("buffers", 0400, debugfs, NULL,
					  &buf_fops);
	return 0;
err:
	while (c--)
		kfree(pools[c].buf);
	return -ENOMEM;
}

/* After every user is gone. */
void cohort_buf_module_exit(void)
{
	int c;

	debugfs_remove(buf_debugfs);
	cohort_shrinker_free(buf_shrinker);
	for (c = 0; c < POOL_CLASSES; c++) {
		pool_drain(&pools[c], ULONG_MAX);
		kfree(pools[c].buf);
	}
}
