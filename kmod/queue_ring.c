// SPDX-License-Identifier: GPL-2.0
/*
 * Receive rings of queue descriptors: memory shared with one process, into
 * which messages are delivered as records the process reads in place.
 *
 * The layout follows the BPF ring buffer: a page the process writes (its
 * head), a page it only reads (the tail), and the data pages mapped twice
 * in a row, in the kernel as in the process, so that no record is ever
 * split. Everything but the first page is mapped read-only and cannot be
 * made writable, so what this side reads back from the data (the lengths
 * of records, and at the end the records no process took) is what it
 * wrote. x86 and the other architectures cohort builds for have no cache
 * aliases between the mappings.
 *
 * Writers hold the owner actor's mutex (queue_ring.h); readers of the
 * positions here (poll, the fill wait, a fill that leaves the ring to a
 * busy writer) take no lock: what they find is a hint, or a check that
 * the writers make again.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "queue.h"
#include "queue_ring.h"

/* The ctl and status pages, before the data. */
#define QRING_META	2

static_assert(sizeof(struct cohort_qring_setup) == 40);
static_assert(sizeof(struct cohort_qrec) == 80);
static_assert(offsetof(struct cohort_qrec, key) == COHORT_QREC_SIZE_VER0);
/* A first-layout record, its trailer included, is as long as ours. */
static_assert(COHORT_QREC_SIZE_VER0 + COHORT_QRING_KEY_TRAILER ==
	      sizeof(struct cohort_qrec));
static_assert(sizeof(struct cohort_qfill) == 24);
/* The largest record fits in the smallest ring, whatever its position. */
static_assert(sizeof(struct cohort_qrec) + COHORT_VC_MAX_ENTRIES *
	      sizeof(struct cohort_vc_entry) + COHORT_QMSG_MAX <=
	      COHORT_QRING_MIN);

/* A ring of @bytes whose records have headers of @hdr bytes, a multiple of 8. */
struct cohort_qring *cohort_qring_new(u32 bytes, u32 hdr)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			  __GFP_RETRY_MAYFAIL;
	u32 nr_data = bytes >> PAGE_SHIFT, i;
	struct cohort_qring *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return NULL;
	r->nr_data = nr_data;
	r->pages = kvcalloc(QRING_META + 2 * nr_data, sizeof(*r->pages),
			    GFP_KERNEL_ACCOUNT);
	if (!r->pages)
		goto err;
	for (i = 0; i < QRING_META + nr_data; i++) {
		r->pages[i] = alloc_page(gfp);
		if (!r->pages[i])
			goto err;
		if (i >= QRING_META)
			r->pages[i + nr_data] = r->pages[i];
	}
	r->base = vmap(r->pages, QRING_META + 2 * nr_data, VM_MAP | VM_USERMAP,
		       PAGE_KERNEL);
	if (!r->base)
		goto err;
	r->ctl = r->base;
	r->status = r->base + PAGE_SIZE;
	r->data = r->base + QRING_META * PAGE_SIZE;
	r->mask = bytes - 1;
	r->hdr = hdr;
	return r;

err:
	cohort_qring_free(r);
	return NULL;
}

void cohort_qring_free(struct cohort_qring *r)
{
	u32 i;

	if (!r)
		return;
	if (r->base)
		vunmap(r->base);
	if (r->pages) {
		for (i = 0; i < QRING_META + r->nr_data && r->pages[i]; i++)
			__free_page(r->pages[i]);
		kvfree(r->pages);
	}
	kfree(r);
}

/*
 * Only the first page may be mapped writable. A read-only mapping loses
 * VM_MAYWRITE, so that mprotect() cannot make it writable later.
 */
int cohort_qring_mmap(struct cohort_qring *r, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_flags & VM_WRITE) {
		if (vma->vm_pgoff || vma_pages(vma) != 1)
			return -EPERM;
	} else {
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	vm_flags_clear(vma, VM_MAYEXEC);
	/* Checks that the range lies within the ring. */
	return remap_vmalloc_range(vma, r->base, vma->vm_pgoff);
}

/* The process's head, if it is one: 8-byte aligned, not past the tail. */
int cohort_qring_head(struct cohort_qring *r, u64 *head)
{
	u64 tail;

	/*
	 * Pairs with the process's release: it is done with what it passed.
	 * The tail after it: a head the process took from a tail a writer
	 * published meanwhile is not beyond it.
	 */
	*head = smp_load_acquire(&r->ctl->head);
	tail = READ_ONCE(r->status->tail);
	return *head & 7 || *head > tail ? -EINVAL : 0;
}

/*
 * Give back the records head has passed, one by one from lengths written
 * here; a record head points into stays. Whether anything was given back.
 */
static bool qring_reclaim(struct cohort_qring *r)
{
	u64 head, pos = r->kstart;
	u32 len;

	if (cohort_qring_head(r, &head))
		return false;
	while (pos < head) {
		len = cohort_qring_rec(r, pos)->len;
		if (head - pos < len || WARN_ON_ONCE(!len))
			break;
		pos += len;
	}
	if (pos == r->kstart)
		return false;
	/* Read without the lock by cohort_qring_reclaimable(). */
	WRITE_ONCE(r->kstart, pos);
	return true;
}

/*
 * Has head passed records not yet given back? Without the writers' lock:
 * a hint that a writer would find more room than it knows of.
 */
bool cohort_qring_reclaimable(struct cohort_qring *r)
{
	u64 head;

	return !cohort_qring_head(r, &head) && head > READ_ONCE(r->kstart);
}

/*
 * Give back what head has passed (*@room: anything), -EINVAL unless it
 * points right after a record (or at the tail), and so does @next if
 * given. Under the writers' lock every reserved record is committed, so a
 * position the walk does not reach is inside a record, or behind it.
 */
int cohort_qring_sync(struct cohort_qring *r, const u64 *next, bool *room)
{
	u64 head, pos;
	int err;

	err = cohort_qring_head(r, &head);
	if (err)
		return err;
	*room = qring_reclaim(r);
	if (r->kstart != head)
		return -EINVAL;
	if (!next)
		return 0;
	if (*next > r->tail)
		return -EINVAL;
	for (pos = head; pos < *next;)
		pos += cohort_qring_rec(r, pos)->len;
	return pos == *next ? 0 : -EINVAL;
}

/*
 * What cohort_qring_sync() checks of head and @next without the writers'
 * lock: each aligned, and in order up to the tail.
 */
int cohort_qring_check(struct cohort_qring *r, const u64 *next)
{
	u64 head;
	int err;

	err = cohort_qring_head(r, &head);
	if (err || !next)
		return err;
	return *next & 7 || *next < head ||
	       *next > READ_ONCE(r->status->tail) ? -EINVAL : 0;
}

/*
 * Reserve a record of @len bytes after the last one reserved; false when
 * it does not fit. Nobody sees it before cohort_qring_commit().
 */
bool cohort_qring_reserve(struct cohort_qring *r, u32 len, u64 *pos)
{
	u64 size = (u64)r->mask + 1;

	if (size - (r->tail - r->kstart) < len) {
		qring_reclaim(r);
		if (size - (r->tail - r->kstart) < len)
			return false;
	}
	cohort_qring_rec(r, r->tail)->len = len;
	*pos = r->tail;
	r->tail += len;
	return true;
}

/* The header of a reserved record for @m; the caller writes the rest. */
static void qring_put_hdr(struct cohort_qrec *rec, const struct cohort_qmsg *m)
{
	rec->flags = cohort_qmsg_flags(m);
	rec->data_len = m->len;
	rec->vc_len = m->vc_len;
	rec->msg_id = m->id;
	rec->delivery_id = m->tag;
	rec->sender = m->sender;
	rec->enqueue_ns = m->enqueue_ns;
	rec->lamport = m->lamport;
	rec->expire_ns = m->expire_ns;
	rec->prio = m->prio;
	rec->deliveries = m->deliveries;
}

/* @m into the record reserved at @pos, not yet committed. */
void cohort_qring_put_msg(struct cohort_qring *r, u64 pos,
			  const struct cohort_qmsg *m)
{
	struct cohort_qrec *rec = cohort_qring_rec(r, pos);
	struct cohort_vc_entry *vc = cohort_qring_rec_vc(r, rec);

	qring_put_hdr(rec, m);
	memcpy(vc, m->vc, m->vc_len * sizeof(*vc));
	memcpy(vc + m->vc_len, m->data, m->len);
	cohort_qring_set_key(r, rec, m->key);
}

/*
 * @len bytes from user memory to ring position @pos, page by page through
 * the kernel's own mapping of each: hardened usercopy checks such a
 * destination for free, where it looks a vmap address up under a lock.
 */
int cohort_qring_copy_from_user(struct cohort_qring *r, u64 pos,
				const void __user *src, u32 len)
{
	u32 off, n;
	void *dst;

	while (len) {
		off = pos & r->mask;
		n = min_t(u32, len, PAGE_SIZE - offset_in_page(off));
		dst = page_address(r->pages[QRING_META + (off >> PAGE_SHIFT)]) +
		      offset_in_page(off);
		if (copy_from_user(dst, src, n))
			return -EFAULT;
		pos += n;
		src += n;
		len -= n;
	}
	return 0;
}

/*
 * The record at @pos, the first reserved not yet committed, is complete:
 * the tail moves past it, and readers may use it from now on.
 */
void cohort_qring_commit(struct cohort_qring *r, u64 pos)
{
	/* Pairs with the reader's acquire of the tail: the record is written. */
	smp_store_release(&r->status->tail,
			  pos + cohort_qring_rec(r, pos)->len);
}

/*
 * Take back the reservations from @pos on, none committed: all writers
 * hold the same lock, so the last reservations are the caller's, and no
 * reader has seen them.
 */
void cohort_qring_unreserve(struct cohort_qring *r, u64 pos)
{
	r->tail = pos;
}

/*
 * Is a complete record at head (at @next if given)? Without a lock: a hint
 * to look again.
 */
bool cohort_qring_ready(struct cohort_qring *r, const u64 *next)
{
	u64 pos, tail = READ_ONCE(r->status->tail);

	if (next)
		pos = *next;
	else if (cohort_qring_head(r, &pos))
		return false;
	return pos < tail && !(pos & 7) && tail - pos <= (u64)r->mask + 1;
}

/*
 * Where the records no process took begin, once the writers are gone:
 * from there to the tail, each record's length leads to the next.
 */
u64 cohort_qring_unread(struct cohort_qring *r)
{
	qring_reclaim(r);
	return r->kstart;
}
