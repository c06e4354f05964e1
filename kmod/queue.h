/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_QUEUE_H
#define _COHORT_QUEUE_H

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/cohort.h>

struct cohort_afile;
struct cohort_node;
struct cohort_qring;
struct netlink_ext_ack;

/*
 * One message. Queued, it sits on a priority list of its store; in flight
 * (explicit ack), on its consumer's list with the attempt's @tag. The
 * sender's vector stamp follows the header, then the payload, unless the
 * payload has its own allocation (cohort_qmsg_alloc()).
 */
struct cohort_qmsg {
	struct list_head list;
	u64 id;
	u64 tag;			/* delivery id of the current attempt */
	u64 sender;			/* actor id */
	u64 enqueue_ns;			/* CLOCK_REALTIME_COARSE */
	u64 expire_ns;			/* CLOCK_MONOTONIC; 0: never */
	u64 lamport;
	unsigned long deadline;		/* jiffies: ack timeout */
	u32 len;
	u32 deliveries;
	u16 vc_len;
	u8 prio;
	bool own_data;			/* @data is a separate allocation */
	u32 key;			/* for subscription filters */
	u8 *data;
	struct cohort_vc_entry vc[];
};

/* What a subscription keeps: keys with (key & mask) == value. */
struct cohort_qfilter {
	u32 mask;
	u32 value;
};

static inline bool cohort_qfilter_match(const struct cohort_qfilter *f,
					u32 key)
{
	return (key & f->mask) == f->value;
}

/*
 * Only a topic's consumers filter, and only with a filter some key
 * matches (no value bits outside the mask); 0 and 0 keeps everything.
 */
static inline bool cohort_qfilter_valid(const struct cohort_qfilter *f,
					u32 kind, u32 role)
{
	if (!f->mask && !f->value)
		return true;
	return kind == COHORT_TOPIC && role & COHORT_QR_CONSUME &&
	       !(f->value & ~f->mask);
}

/* CLOCK_MONOTONIC expiry of a message sent now with @ttl_ms; 0: never. */
static inline u64 cohort_qmsg_expiry(u32 ttl_ms)
{
	return ttl_ms ? ktime_get_ns() + (u64)ttl_ms * NSEC_PER_MSEC : 0;
}

/* The COHORT_QM_* flags a delivery of @m starts with. */
static inline u32 cohort_qmsg_flags(const struct cohort_qmsg *m)
{
	return m->deliveries > 1 ? COHORT_QM_REDELIVERED : 0;
}

/* Bytes a message holds against its store's max_bytes. */
static inline u32 cohort_qmsg_size(const struct cohort_qmsg *m)
{
	return m->len + m->vc_len * sizeof(struct cohort_vc_entry);
}

struct cohort_qcons;

/*
 * A message store: the one of a queue, or a subscription of a topic. All
 * stores of a queue share the queue's lock.
 */
struct cohort_mq {
	struct cohort_queue *q;
	struct list_head sub_node;	/* q->subs */
	char sub[COHORT_NAME_MAX];	/* subscription name; "": none */
	struct cohort_qfilter filter;	/* set when made */
	bool dead;			/* deleted: consumers get EIDRM */
	struct list_head prio[COHORT_QPRIO_MAX + 1];
	u8 top;				/* no message above this priority */
	u32 depth, bytes, inflight;
	u32 ttl_msgs;			/* queued with a TTL: mq_expire() has work */
	u64 next_expire;		/* no queued message expires before */
	u32 consumers;
	u32 remote_cons;		/* of them, on other nodes */
	u32 ring_cons;			/* of them, senders may write to */
	atomic_t ring_gen;		/* bumped when a ring has more room */
	wait_queue_head_t ring_wait;	/* senders: a ring has more room */
	bool ring_spill;		/* a sender gave up: no waits till empty */
	struct list_head cons;		/* struct cohort_qcons */
	wait_queue_head_t rwait;	/* consumers: a message is ready */
	u64 next_tag;
	u64 stats[COHORT_A_QSTATS_MAX + 1];
};

/*
 * A consumer attached to a store; what it holds unacked is on @inflight.
 * A descriptor on this node may receive through a ring (cohort_qring):
 * its fills reserve a record for each message they dequeue, from
 * @ring_pos on, and senders may write to it directly
 * (cohort_queue_direct()).
 */
struct cohort_qcons {
	struct list_head list;		/* mq->cons */
	struct cohort_mq *mq;
	struct list_head inflight;	/* by delivery, hence by deadline */
	u32 n_inflight;
	bool explicit_ack;
	struct cohort_qrh *rh;		/* a descriptor on another node */
	struct cohort_afile *actor;	/* a descriptor here: its actor */
	struct file *actor_file;	/* and the file that holds it */
	struct cohort_qring *ring;	/* set once, under q->lock */
	bool ring_direct;		/* counted in mq->ring_cons */
	bool ring_writer;		/* a sender holds @ring (the actor) */
	bool ring_reclaim;		/* room for that sender to announce */
	u64 ring_pos;			/* first record of the last dequeue */
};

/*
 * Records a sender reserved in a consumer's ring (cohort_queue_direct()):
 * the consumer's actor is locked for it unless it is the sender's own.
 */
struct cohort_qdirect {
	struct cohort_qcons *c;
	struct cohort_afile *actor;
	struct file *file;		/* held for @actor, unless the sender's */
	u64 pos;			/* the first record */
	u64 id;				/* its message id; the others follow */
	u64 enqueue_ns;
	bool wait;			/* none reserved; rings take them later */
	bool reclaim;			/* a fill left room to announce */
};

/* A queue or topic at its home node. */
struct cohort_queue {
	struct hlist_node hnode;	/* qm->names */
	struct list_head dead_node;	/* unhashed, for the final put */
	struct cohort_qmgr *qm;
	struct kref ref;
	char name[COHORT_NAME_MAX];
	u32 kind;			/* enum cohort_queue_kind */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	bool system;			/* made by QUEUE_ADD */
	struct cohort_queue_attr attr;

	spinlock_t lock;		/* everything below and the stores */
	bool dead;
	struct cohort_mq *mq;		/* COHORT_QUEUE: the store */
	struct list_head subs;		/* COHORT_TOPIC: struct cohort_mq */
	u32 n_subs;
	u32 n_filtering;		/* of them, with a filter */
	u32 producers;
	u32 parked;			/* remote publishes waiting for room */
	u64 next_id;
	u64 stats[COHORT_A_QSTATS_MAX + 1];	/* topic-level counters */
	wait_queue_head_t wwait;	/* producers: there is room */
	struct list_head poison;	/* for the dead-letter queue */
	bool ttl_alarm;			/* full: the work makes room at expiry */
	struct delayed_work work;	/* ack timeouts, dead letters, TTLs */
	u64 reserved;			/* bytes taken from the owner's budget */
};

/*
 * The queue manager of a node. Lock order: the transport lock, then @lock:
 * frames go out under the transport lock only.
 */
struct cohort_qmgr {
	struct mutex lock;		/* everything below */
	struct cohort_node *node;
	DECLARE_HASHTABLE(names, 6);
	u32 names_gen;			/* changes with @names: dumps resume */
	u32 n_objects;			/* queues, topics, named subscriptions */
	struct xarray budget;		/* uid -> bytes reserved */
	struct list_head rhs;		/* struct cohort_qrh: served descriptors */
	u32 n_rhs;
	u32 parked_bytes;		/* all parked publishes; transport lock */
	struct xarray proxies;		/* id -> struct cohort_qproxy */
	u32 next_proxy;
	struct list_head closes;	/* CLOSEs still to go (queue_remote.c) */
	u32 n_closes;
	struct delayed_work push_work;	/* frames from the home to descriptors */
	unsigned long push_flags;	/* QM_PUSH_*: what push_work is due for */
	bool stopping;			/* the namespace is going */
	u8 *scratch;			/* a frame body, under the tp lock */
};

/* What QUEUE_OPEN and QUEUE_ADD ask for. */
struct cohort_qspec {
	const char *name;
	u32 kind;
	u32 flags;			/* COHORT_QO_* */
	umode_t mode;
	kuid_t uid;
	kgid_t gid;
	bool system;
	struct cohort_queue_attr attr;
};

int cohort_qmgr_init(struct cohort_qmgr *qm, struct cohort_node *node);
void cohort_qmgr_exit(struct cohort_qmgr *qm);

int cohort_queue_attr_check(struct cohort_queue_attr *attr, u32 kind,
			    const char *name);
struct cohort_queue *cohort_queue_get(struct cohort_qmgr *qm,
				      const struct cohort_qspec *spec,
				      struct netlink_ext_ack *extack);
struct cohort_queue *cohort_queue_lookup(struct cohort_qmgr *qm,
					 const char *name);
void cohort_queue_put(struct cohort_queue *q);
int cohort_queue_del(struct cohort_qmgr *qm, const char *name,
		     const char *sub, bool admin, kuid_t opener,
		     struct netlink_ext_ack *extack);
bool cohort_queue_may(const struct cohort_queue *q, u32 role);
bool cohort_queue_may_id(const struct cohort_queue *q, u32 role, kuid_t uid,
			 kgid_t gid);

struct cohort_mq *cohort_queue_attach(struct cohort_queue *q, const char *sub,
				      const struct cohort_qfilter *filter,
				      struct cohort_qcons *c, bool explicit_ack,
				      struct cohort_qrh *rh);
void cohort_queue_detach(struct cohort_qcons *c, u64 unread_from,
			 struct list_head *unread, u32 lost);
void cohort_queue_set_ring(struct cohort_qcons *c, struct cohort_qring *r);
void cohort_queue_ring_off(struct cohort_qcons *c);
void cohort_queue_producer(struct cohort_queue *q, int delta);

int cohort_queue_enqueue(struct cohort_queue *q, struct cohort_qmsg *m);
int cohort_queue_enqueue_batch(struct cohort_queue *q, struct list_head *msgs,
			       u32 *done);
bool cohort_queue_room(struct cohort_queue *q, u32 size);
bool cohort_queue_must_wait(struct cohort_queue *q, u32 size);
u32 cohort_queue_dequeue(struct cohort_qcons *c, struct cohort_qring *r,
			 struct list_head *out, u32 max, int *err);
/* From @m on, the messages of @got go to the front of @back. */
static inline void cohort_qmsg_cut(struct list_head *got,
				   struct list_head *back,
				   struct cohort_qmsg *m)
{
	LIST_HEAD(first);

	list_cut_before(&first, got, &m->list);
	list_splice_init(got, back);
	list_splice_init(&first, got);
}

void __cohort_queue_taken(struct cohort_qcons *c, struct list_head *got,
			  struct list_head *back);

/*
 * After the copy to the user: @got reached it (in flight now, or the
 * caller frees them without explicit acks), @back did not. Dequeue
 * counted them delivered: without acks and with nothing back, that was
 * all there is to do, and most receives stop here.
 */
static inline void cohort_queue_taken(struct cohort_qcons *c,
				      struct list_head *got,
				      struct list_head *back)
{
	if (c->explicit_ack || !list_empty(back))
		__cohort_queue_taken(c, got, back);
}

int cohort_queue_ack(struct cohort_qcons *c, u64 tag, bool ack);
u32 cohort_queue_direct(struct cohort_queue *q, struct cohort_afile *a,
			const u32 *size, u32 n, struct cohort_qdirect *d);
void cohort_queue_direct_commit(struct cohort_qdirect *d);
void cohort_queue_direct_end(struct cohort_qdirect *d);
void cohort_queue_direct_done(struct cohort_queue *q,
			      const struct cohort_qdirect *d, u32 untaken);
bool cohort_queue_fill_skip(struct cohort_qcons *c, bool reclaim);
bool cohort_queue_ring_flow(struct cohort_queue *q);
void cohort_queue_ring_spill(struct cohort_queue *q);
void cohort_queue_ring_room(struct cohort_queue *q);

/*
 * The hints below are read by every send, and inline: most find no ring,
 * and a call would cost a small message more than the look does.
 */

/* Could a sender of @q write into a ring at all? Without a lock: a hint. */
static inline bool cohort_queue_may_direct(struct cohort_queue *q)
{
	return q->kind == COHORT_QUEUE && READ_ONCE(q->mq->ring_cons);
}

/* Bumped when a ring of @q has more room (cohort_queue_ring_room()). */
static inline u32 cohort_queue_ring_gen(struct cohort_queue *q)
{
	return q->kind == COHORT_QUEUE ? atomic_read(&q->mq->ring_gen) : 0;
}

int cohort_queue_budget_take(struct cohort_qmgr *qm, kuid_t uid, u64 bytes);
void cohort_queue_budget_give(struct cohort_qmgr *qm, kuid_t uid, u64 bytes);
struct cohort_qmsg *cohort_qmsg_alloc(u32 len, u32 vc_room, gfp_t gfp);
void cohort_qmsg_free(struct cohort_qmsg *m);
void __cohort_qmsg_free_list(struct list_head *head);

/* Free the messages on @head; most calls find it empty. */
static inline void cohort_qmsg_free_list(struct list_head *head)
{
	if (!list_empty(head))
		__cohort_qmsg_free_list(head);
}

#endif /* _COHORT_QUEUE_H */
