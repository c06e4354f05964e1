/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_QUEUE_RING_H
#define _COHORT_QUEUE_RING_H

#include <linux/types.h>
#include <linux/cohort.h>

struct cohort_qmsg;
struct vm_area_struct;

/*
 * A receive ring, mapped by its descriptor's process (see the uapi header):
 * the page of struct cohort_qring_ctl, the page of struct
 * cohort_qring_status, then the data pages twice over, all in one vmap so
 * that a record that wraps is one piece here as in user space.
 *
 * Writers reserve records in order, fill them and commit them in order,
 * all under the mutex of the descriptor's actor (a sender takes it only
 * by trying: cohort_queue_direct()): so the published tail moves past each
 * record as it is committed, never over one being written, and what a
 * writer reserved last it may take back. For a store on this node,
 * reservations are also made under the queue's lock, which orders them
 * with the store. Only the head is the process's to write, and it is
 * never trusted: space is given back record by record, from lengths this
 * side wrote, up to where head points (@kstart; hints read it without the
 * lock).
 */
struct cohort_qring {
	struct page **pages;		/* ctl, status, data, data again */
	u32 nr_data;			/* data pages */
	void *base;			/* @pages, mapped in order */
	struct cohort_qring_ctl *ctl;
	struct cohort_qring_status *status;
	u8 *data;
	u32 mask;			/* data bytes - 1 */
	u32 hdr;			/* record header bytes (setup's rec_size) */
	u64 tail;			/* reserved up to; status->tail: committed */
	u64 kstart;			/* the first record not known taken */
};

/* Does this ring's header have @key (callers that know it asked for it)? */
static inline bool cohort_qring_has_key(const struct cohort_qring *r)
{
	return r->hdr >= offsetofend(struct cohort_qrec, __reserved);
}

/*
 * A header without @key (the first layout) has no place for it: such a
 * record ends with the key instead, in 8 bytes within @len that its reader
 * skips, so that a record that goes back unread keeps it. Header and
 * trailer take what the current header does: a record is as long in
 * either layout.
 */
#define COHORT_QRING_KEY_TRAILER	8

/* Bytes a record takes for a message of @size (payload and stamps). */
static inline u32 cohort_qring_rec_size(u32 size)
{
	return ALIGN(sizeof(struct cohort_qrec) + size, 8);
}

/* Bytes a record of @data_len bytes and @vc_len stamp entries takes. */
static inline u32 cohort_qring_rec_len(u32 vc_len, u32 data_len)
{
	return cohort_qring_rec_size(vc_len * sizeof(struct cohort_vc_entry) +
				     data_len);
}

static inline struct cohort_qrec *cohort_qring_rec(struct cohort_qring *r,
						   u64 pos)
{
	return (struct cohort_qrec *)(r->data + (pos & r->mask));
}

/* Where the vector stamp of the record @rec starts: after its header. */
static inline struct cohort_vc_entry *
cohort_qring_rec_vc(const struct cohort_qring *r, const struct cohort_qrec *rec)
{
	return (struct cohort_vc_entry *)((u8 *)rec + r->hdr);
}

/* The trailer of a first-layout record (@len is the kernel's own). */
static inline __u32 *cohort_qring_rec_trailer(struct cohort_qrec *rec)
{
	return (__u32 *)((u8 *)rec + rec->len - COHORT_QRING_KEY_TRAILER);
}

/* The key of the reserved record @rec, and a zero after it. */
static inline void cohort_qring_set_key(const struct cohort_qring *r,
					struct cohort_qrec *rec, u32 key)
{
	__u32 *t;

	if (cohort_qring_has_key(r)) {
		rec->key = key;
		rec->__reserved = 0;
		return;
	}
	t = cohort_qring_rec_trailer(rec);
	t[0] = key;
	t[1] = 0;
}

static inline u32 cohort_qring_get_key(const struct cohort_qring *r,
				       struct cohort_qrec *rec)
{
	return cohort_qring_has_key(r) ? rec->key :
	       *cohort_qring_rec_trailer(rec);
}

struct cohort_qring *cohort_qring_new(u32 bytes, u32 hdr);
void cohort_qring_free(struct cohort_qring *r);
int cohort_qring_mmap(struct cohort_qring *r, struct vm_area_struct *vma);

int cohort_qring_head(struct cohort_qring *r, u64 *head);
int cohort_qring_sync(struct cohort_qring *r, const u64 *next, bool *room);
int cohort_qring_check(struct cohort_qring *r, const u64 *next);
bool cohort_qring_reclaimable(struct cohort_qring *r);
bool cohort_qring_reserve(struct cohort_qring *r, u32 len, u64 *pos);
void cohort_qring_put_msg(struct cohort_qring *r, u64 pos,
			  const struct cohort_qmsg *m);
int cohort_qring_copy_from_user(struct cohort_qring *r, u64 pos,
				const void __user *src, u32 len);
void cohort_qring_commit(struct cohort_qring *r, u64 pos);
void cohort_qring_unreserve(struct cohort_qring *r, u64 pos);
bool cohort_qring_ready(struct cohort_qring *r, const u64 *next);
u64 cohort_qring_unread(struct cohort_qring *r);

#endif /* _COHORT_QUEUE_RING_H */
