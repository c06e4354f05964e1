/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_QUEUE_REMOTE_H
#define _COHORT_QUEUE_REMOTE_H

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/cohort.h>

#include "queue.h"

struct cohort_transport;
struct cohort_afile;

/* Deliveries a remote consumer may hold at most, and publishes in flight. */
#define COHORT_QREMOTE_WINDOW		COHORT_QPREFETCH_MAX
#define COHORT_QREMOTE_PUB_WINDOW	256
/* Descriptors of other nodes a home serves, and what they may park. */
#define COHORT_QREMOTE_MAX		1024
#define COHORT_QREMOTE_PARKED_BYTES	(64U << 20)
#define COHORT_QREMOTE_OPEN_MS		5000

/*
 * At the home: a descriptor on another node. Its consumer is attached to
 * the store like a local one; the push work sends what it takes.
 */
struct cohort_qrh {
	struct list_head list;		/* qm->rhs */
	u32 node;
	u64 handle;
	struct cohort_queue *q;
	u32 role;
	bool closed;			/* CLOSE came: free once unparked */
	bool gone_sent;			/* told the queue was deleted */
	struct cohort_qcons cons;
	u32 window;			/* deliveries the opener may hold */
	u32 outstanding;		/* no acks: delivered, not credited */
	u32 pub_due;			/* publishes to credit back */
	struct list_head parked;	/* publishes waiting for room */
	u32 n_parked;
	u32 n_revoked;			/* under q->lock */
	u64 revoked[COHORT_QREMOTE_WINDOW];
};

/* Not at the home: the far end of a descriptor. */
struct cohort_qproxy {
	u32 id;				/* the handle the home knows */
	u32 home;			/* 0 while opening */
	u32 role;
	bool explicit_ack;
	u32 window;			/* deliveries it may hold (prefetch) */
	u32 kind;
	struct cohort_queue_attr attr;

	spinlock_t lock;		/* everything below */
	wait_queue_head_t wait;		/* replies, deliveries, credit */
	u32 asked, answered;		/* OPEN requests and their replies */
	int status;			/* first error reply */
	bool dead;			/* the home said it is gone */
	struct list_head rx;		/* delivered, not yet received */
	u32 n_rx;
	u64 last_tag;			/* of the last delivery that came */
	struct list_head held;		/* received, not yet acked */
	u32 credit_due;			/* received without acks, not credited */
	bool credit_stuck;		/* a CREDIT failed: push work retries */
	u32 pub_credit;			/* publishes that may still go */
};

int cohort_qremote_rx(struct cohort_transport *tp, u32 src, const void *body,
		      u32 len);
void cohort_qremote_kick(struct cohort_qmgr *qm);
void cohort_qremote_revoked(struct cohort_qrh *rh, u64 tag);
void cohort_qremote_reborn(struct cohort_qmgr *qm, u32 node);
int cohort_qremote_init(struct cohort_qmgr *qm);
void cohort_qremote_stop(struct cohort_qmgr *qm);
void cohort_qremote_exit(struct cohort_qmgr *qm);

struct cohort_qproxy *cohort_qproxy_open(struct cohort_afile *a,
					 const struct cohort_queue_open *o,
					 u32 home);
void cohort_qproxy_close(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			 u64 ring_unread);
int cohort_qproxy_send(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		       struct list_head *msgs, long *left);
int cohort_qproxy_send_user(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			    struct cohort_afile *a,
			    const struct cohort_qmsg_out *o, u32 n, long *left);
int cohort_qproxy_take(struct cohort_qproxy *px, struct list_head *got,
		       u32 max, long left);
void cohort_qproxy_taken(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			 struct list_head *got, struct list_head *back);
int cohort_qproxy_ack(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		      const u64 *tags, u32 n, bool ack, u32 *done);
__poll_t cohort_qproxy_poll(struct cohort_qproxy *px);

#endif /* _COHORT_QUEUE_REMOTE_H */
