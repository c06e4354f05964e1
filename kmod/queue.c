// SPDX-License-Identifier: GPL-2.0
/*
 * The queue manager: named queues and topics homed on this node, their
 * message stores, and the delivery rules (priorities, acknowledgments,
 * redelivery, dead letters, TTL, limits).
 *
 * A queue has one store shared by competing consumers. A topic has one
 * store per subscription and copies each message into every one. Every
 * store of a queue is under the queue's spinlock, so a publish is one
 * critical section however many subscriptions there are; allocation and
 * user copies happen outside it.
 *
 * Lock order: an actor's mutex, qm->lock (mutex), then q->lock. Two queue
 * locks are never held together. A sender writing into a consumer's ring
 * holds its own actor's mutex and q->lock when it takes the consumer's
 * actor's, so it only tries (cohort_queue_direct()). Memory: a store is
 * bounded by max_msgs and max_bytes (payloads and stamps, queued or in
 * flight), and its max_bytes is reserved from the owner's budget on this
 * node when it is created.
 */
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/timekeeping.h>

#include "buf.h"
#include "chardev.h"
#include "genl.h"
#include "node.h"
#include "queue.h"
#include "queue_remote.h"
#include "queue_ring.h"

static u32 name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

struct cohort_queue *cohort_queue_lookup(struct cohort_qmgr *qm,
					 const char *name)
{
	struct cohort_queue *q;

	lockdep_assert_held(&qm->lock);

	hash_for_each_possible(qm->names, q, hnode, name_hash(name))
		if (!strcmp(q->name, name))
			return q;
	return NULL;
}

/* Take @bytes from @uid's budget on this node. */
static int budget_take(struct cohort_qmgr *qm, kuid_t uid, u64 bytes)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	u64 used = xa_to_value(xa_load(&qm->budget, key) ?: xa_mk_value(0));

	lockdep_assert_held(&qm->lock);

	if (used + bytes > COHORT_USER_MAX_BYTES)
		return -ENOSPC;
	return xa_err(xa_store(&qm->budget, key, xa_mk_value(used + bytes),
			       GFP_KERNEL));
}

static void budget_give(struct cohort_qmgr *qm, kuid_t uid, u64 bytes)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	u64 used = xa_to_value(xa_load(&qm->budget, key) ?: xa_mk_value(0));

	lockdep_assert_held(&qm->lock);

	if (WARN_ON_ONCE(used < bytes))
		bytes = used;
	if (used == bytes)
		xa_erase(&qm->budget, key);
	else
		xa_store(&qm->budget, key, xa_mk_value(used - bytes), GFP_KERNEL);
}

/* The same, for what a descriptor holds on this node (its ring). */
int cohort_queue_budget_take(struct cohort_qmgr *qm, kuid_t uid, u64 bytes)
{
	int err;

	mutex_lock(&qm->lock);
	err = budget_take(qm, uid, bytes);
	mutex_unlock(&qm->lock);
	return err;
}

void cohort_queue_budget_give(struct cohort_qmgr *qm, kuid_t uid, u64 bytes)
{
	mutex_lock(&qm->lock);
	budget_give(qm, uid, bytes);
	mutex_unlock(&qm->lock);
}

/*
 * A payload of more than half a page gets its own buffer, as POSIX mq
 * splits its messages: otherwise a 4 KiB payload takes an 8 KiB object (a
 * 16 KiB one, 32 KiB). The buffer comes from the recycled ones (buf.c),
 * which init_on_alloc does not zero again.
 */
static bool qmsg_split(u32 len)
{
	return len > COHORT_BUF_RECYCLED_ABOVE;
}

/*
 * A message whose payload is in it; small ones (buf.c) recycled. A split
 * one's header stays a plain allocation: its size is not kept.
 */
struct cohort_qmsg *cohort_qmsg_alloc(u32 len, u32 vc_room, gfp_t gfp)
{
	size_t head = struct_size_t(struct cohort_qmsg, vc, vc_room);
	bool split = qmsg_split(len);
	struct cohort_qmsg *m;

	m = split ? kmalloc(head, gfp) : cohort_buf_alloc(head + len, gfp);
	if (!m)
		return NULL;
	m->own_data = split;
	m->data = (u8 *)&m->vc[vc_room];
	if (split) {
		m->data = cohort_buf_alloc(len, gfp);
		if (!m->data) {
			kfree(m);
			return NULL;
		}
	}
	m->len = len;
	m->vc_len = 0;
	m->tag = 0;
	m->deliveries = 0;
	m->key = 0;
	return m;
}

/* What cohort_qmsg_alloc() took for @m, whose payload is in it. */
static size_t qmsg_inline_size(const struct cohort_qmsg *m)
{
	return m->data - (const u8 *)m + m->len;
}

void cohort_qmsg_free(struct cohort_qmsg *m)
{
	if (m->own_data) {
		cohort_buf_free(m->data, m->len);
		kfree(m);
	} else {
		cohort_buf_free(m, qmsg_inline_size(m));
	}
}

static struct cohort_qmsg *qmsg_clone(const struct cohort_qmsg *m, gfp_t gfp)
{
	struct cohort_qmsg *c = cohort_qmsg_alloc(m->len, m->vc_len, gfp);

	if (!c)
		return NULL;
	c->sender = m->sender;
	c->enqueue_ns = m->enqueue_ns;
	c->expire_ns = m->expire_ns;
	c->lamport = m->lamport;
	c->prio = m->prio;
	c->key = m->key;
	c->vc_len = m->vc_len;
	memcpy(c->data, m->data, m->len);
	memcpy(c->vc, m->vc, m->vc_len * sizeof(*m->vc));
	return c;
}

/*
 * Many messages go through the slab's bulk path, in chunks; those whose
 * buffer buf.c keeps back to their stack, as cohort_qmsg_free() has them.
 */
static noinline void qmsg_free_bulk(struct list_head *head)
{
	struct cohort_qmsg *m, *t;
	void *p[16];
	size_t n = 0;

	list_for_each_entry_safe(m, t, head, list) {
		if (!m->own_data && cohort_buf_recycles(qmsg_inline_size(m))) {
			cohort_buf_free(m, qmsg_inline_size(m));
			continue;
		}
		if (n == ARRAY_SIZE(p)) {
			kfree_bulk(n, p);
			n = 0;
		}
		p[n++] = m;
		if (m->own_data)
			cohort_buf_free(m->data, m->len);
	}
	kfree_bulk(n, p);
}

/*
 * The messages on @head, not empty (cohort_qmsg_free_list()). Most calls
 * free one: they skip the bulk path, whose array the kernel zeroes on
 * every call (CONFIG_INIT_STACK_ALL_ZERO) and which costs more for one.
 */
void __cohort_qmsg_free_list(struct list_head *head)
{
	if (list_is_singular(head))
		cohort_qmsg_free(list_first_entry(head, struct cohort_qmsg,
						  list));
	else
		qmsg_free_bulk(head);
	INIT_LIST_HEAD(head);
}

/* ---- attributes ---- */

int cohort_queue_attr_check(struct cohort_queue_attr *a, u32 kind,
			    const char *name)
{
	if (a->flags & ~COHORT_QA_SETTABLE || a->__reserved)
		return -EINVAL;
	if (a->max_msgs > COHORT_QMAX_MAX_MSGS ||
	    a->max_bytes > COHORT_QMAX_MAX_BYTES ||
	    a->max_msg_size > COHORT_QMSG_MAX ||
	    a->ack_timeout_ms > 24 * 3600 * 1000)
		return -ERANGE;
	if (!a->max_msgs)
		a->max_msgs = COHORT_QDEF_MAX_MSGS;
	if (!a->max_bytes)
		a->max_bytes = COHORT_QDEF_MAX_BYTES;
	if (!a->max_msg_size)
		a->max_msg_size = COHORT_QMSG_MAX;
	if (!a->ack_timeout_ms)
		a->ack_timeout_ms = COHORT_QDEF_ACK_TIMEOUT;
	if (!a->overflow)
		a->overflow = kind == COHORT_TOPIC ? COHORT_OVERFLOW_DROP_OLD :
						     COHORT_OVERFLOW_BLOCK;
	if (kind == COHORT_QUEUE && a->overflow != COHORT_OVERFLOW_BLOCK)
		return -EINVAL;
	if (kind == COHORT_TOPIC && a->overflow != COHORT_OVERFLOW_DROP_OLD &&
	    a->overflow != COHORT_OVERFLOW_REJECT)
		return -EINVAL;
	if (strnlen(a->dlq, sizeof(a->dlq)) == sizeof(a->dlq) ||
	    !cohort_node_name_valid(a->dlq) || !strcmp(a->dlq, name))
		return -EINVAL;
	return 0;
}

/* ---- stores ---- */

static struct cohort_mq *mq_alloc(struct cohort_queue *q, const char *sub,
				  const struct cohort_qfilter *filter)
{
	struct cohort_mq *mq = kzalloc(sizeof(*mq), GFP_KERNEL_ACCOUNT);
	int i;

	if (!mq)
		return NULL;
	mq->q = q;
	strscpy(mq->sub, sub, sizeof(mq->sub));
	if (filter)
		mq->filter = *filter;
	for (i = 0; i <= COHORT_QPRIO_MAX; i++)
		INIT_LIST_HEAD(&mq->prio[i]);
	INIT_LIST_HEAD(&mq->cons);
	INIT_LIST_HEAD(&mq->sub_node);
	init_waitqueue_head(&mq->rwait);
	init_waitqueue_head(&mq->ring_wait);
	return mq;
}

/* Empty @mq; the messages go on @freed, to be freed unlocked. */
static void mq_clear(struct cohort_mq *mq, struct list_head *freed)
{
	struct cohort_qcons *c;
	int i;

	for (i = 0; i <= COHORT_QPRIO_MAX; i++)
		list_splice_init(&mq->prio[i], freed);
	list_for_each_entry(c, &mq->cons, list)
		list_splice_init(&c->inflight, freed);
	mq->depth = 0;
	WRITE_ONCE(mq->ring_spill, false);
	mq->inflight = 0;
	mq->bytes = 0;
	mq->ttl_msgs = 0;
	mq->next_expire = 0;
}

static bool mq_full(const struct cohort_mq *mq, u32 size)
{
	const struct cohort_queue_attr *a = &mq->q->attr;

	return mq->depth + mq->inflight >= a->max_msgs ||
	       mq->bytes + size > a->max_bytes;
}

/* @n messages leave the store; an empty store ends a ring spill. */
static void mq_depth_sub(struct cohort_mq *mq, u32 n)
{
	mq->depth -= n;
	if (!mq->depth)
		WRITE_ONCE(mq->ring_spill, false);
}

static void mq_unlink(struct cohort_mq *mq, struct cohort_qmsg *m)
{
	list_del(&m->list);
	mq_depth_sub(mq, 1);
	mq->bytes -= cohort_qmsg_size(m);
	mq->ttl_msgs -= !!m->expire_ns;
}

/*
 * A message with a TTL is queued. next_expire stays a lower bound as
 * messages leave; mq_expire() makes it exact again.
 */
static void mq_ttl_add(struct cohort_mq *mq, u64 expire_ns)
{
	if (expire_ns && (!mq->next_expire || expire_ns < mq->next_expire))
		mq->next_expire = expire_ns;
}

/* Messages of priority @prio were queued: raise the bound of mq_top(). */
static void mq_prio_add(struct cohort_mq *mq, u8 prio)
{
	mq->top = max(mq->top, prio);
}

/*
 * The highest priority with messages, or 0. A dequeue starts there rather
 * than look at every empty list above the default priority.
 */
static int mq_top(struct cohort_mq *mq)
{
	while (mq->top && list_empty(&mq->prio[mq->top]))
		mq->top--;
	return mq->top;
}

/* Back first in line (m->list is free); its bytes are still counted. */
static void mq_push_front(struct cohort_mq *mq, struct cohort_qmsg *m)
{
	list_add(&m->list, &mq->prio[m->prio]);
	mq_prio_add(mq, m->prio);
	mq->depth++;
	mq->ttl_msgs += !!m->expire_ns;
	mq_ttl_add(mq, m->expire_ns);
}

/* Drop what is past its TTL; true if anything went. */
static bool mq_expire(struct cohort_mq *mq, struct list_head *freed)
{
	struct cohort_qmsg *m, *t;
	bool any = false;
	u64 now, next = 0;
	int i;

	if (!mq->ttl_msgs)
		return false;
	now = ktime_get_ns();
	if (now < mq->next_expire)
		return false;
	for (i = 0; i <= COHORT_QPRIO_MAX; i++) {
		list_for_each_entry_safe(m, t, &mq->prio[i], list) {
			if (!m->expire_ns)
				continue;
			if (m->expire_ns > now) {
				if (!next || m->expire_ns < next)
					next = m->expire_ns;
				continue;
			}
			mq_unlink(mq, m);
			list_add(&m->list, freed);
			mq->stats[COHORT_A_QSTATS_EXPIRED]++;
			any = true;
		}
	}
	mq->next_expire = next;
	return any;
}

/*
 * Have the work run by @when, never later than it was due: pending with
 * no timer running, it is queued to run now. Every arming holds q->lock,
 * so the timer's expiry is stable here.
 */
static void queue_arm(struct cohort_queue *q, unsigned long when)
{
	struct delayed_work *w = &q->work;

	lockdep_assert_held(&q->lock);

	if (delayed_work_pending(w) &&
	    (!timer_pending(&w->timer) || time_before_eq(w->timer.expires, when)))
		return;
	mod_delayed_work(system_wq, w, max_t(long, when - jiffies, 0));
}

/* Far expiries are looked at again within this; jiffies stay in range. */
#define TTL_ALARM_MAX_NS	(3600ULL * NSEC_PER_SEC)

/* When the first queued message of @mq expires, in jiffies. */
static unsigned long mq_expire_at(const struct cohort_mq *mq)
{
	u64 now = ktime_get_ns(), at = mq->next_expire;

	return jiffies + nsecs_to_jiffies(at > now ?
					  min_t(u64, at - now, TTL_ALARM_MAX_NS) :
					  0) + 1;
}

/*
 * @mq is full and someone waits for room (a sender, poll, a parked remote
 * publish): when a message expires, the work drops it and wakes them.
 */
static void mq_expire_alarm(struct cohort_mq *mq)
{
	if (!mq->ttl_msgs)
		return;
	mq->q->ttl_alarm = true;
	queue_arm(mq->q, mq_expire_at(mq));
}

/* Topics: the oldest queued message of the lowest priority gives way. */
static bool mq_drop_oldest(struct cohort_mq *mq, struct list_head *freed)
{
	struct cohort_qmsg *m;
	int i;

	for (i = 0; i <= COHORT_QPRIO_MAX; i++) {
		m = list_first_entry_or_null(&mq->prio[i], struct cohort_qmsg,
					     list);
		if (m) {
			mq_unlink(mq, m);
			list_add(&m->list, freed);
			mq->stats[COHORT_A_QSTATS_DROPPED]++;
			return true;
		}
	}
	return false;
}

/*
 * A message is ready: wake local consumers, push to remote ones. Called
 * after the change, with or without the lock; wq_has_sleeper() orders the
 * check against a waiter's prepare_to_wait(), and most calls find none.
 */
static void mq_ready(struct cohort_mq *mq)
{
	if (wq_has_sleeper(&mq->rwait))
		wake_up(&mq->rwait);
	if (READ_ONCE(mq->remote_cons))
		cohort_qremote_kick(mq->q->qm);
}

/* Room was made: wake producers, and take parked remote publishes. */
static void queue_room(struct cohort_queue *q)
{
	if (wq_has_sleeper(&q->wwait))
		wake_up(&q->wwait);
	if (READ_ONCE(q->parked))
		cohort_qremote_kick(q->qm);
}

/* The caller says it is ready (mq_ready), once per batch. */
static void mq_add(struct cohort_mq *mq, struct cohort_qmsg *m)
{
	list_add_tail(&m->list, &mq->prio[m->prio]);
	mq_prio_add(mq, m->prio);
	mq->depth++;
	mq->bytes += cohort_qmsg_size(m);
	mq->ttl_msgs += !!m->expire_ns;
	mq_ttl_add(mq, m->expire_ns);
	mq->stats[COHORT_A_QSTATS_ENQUEUED]++;
}

/* Kept for the consumers a store has, or will have if persistent. */
static bool mq_keeps(const struct cohort_mq *mq)
{
	return mq->consumers || mq->q->attr.flags & COHORT_QA_PERSISTENT;
}

/* Has @m had all the deliveries its queue allows? */
static bool mq_spent(const struct cohort_mq *mq, const struct cohort_qmsg *m)
{
	u32 limit = mq->q->attr.max_deliveries;

	return limit && m->deliveries >= limit;
}

/*
 * An attempt is over without an ack: back first in line, or to the dead
 * letters once it had its deliveries. @m's bytes are in mq->bytes.
 */
static void mq_retry(struct cohort_mq *mq, struct cohort_qmsg *m)
{
	struct cohort_queue *q = mq->q;

	m->tag = 0;
	if (mq_spent(mq, m)) {
		mq->bytes -= cohort_qmsg_size(m);
		list_add_tail(&m->list, &q->poison);
		mod_delayed_work(system_wq, &q->work, 0);
		queue_room(q);
		return;
	}
	mq_push_front(mq, m);
	mq->stats[COHORT_A_QSTATS_REDELIVERED]++;
	mq_ready(mq);
}

/* The attempt in flight @m is over without an ack. */
static void mq_requeue(struct cohort_mq *mq, struct cohort_qmsg *m)
{
	mq->inflight--;
	mq_retry(mq, m);
}

/* @m did not reach a user: first in line, and not counted (m->list free). */
static void mq_unget_one(struct cohort_qcons *c, struct cohort_qmsg *m)
{
	struct cohort_mq *mq = c->mq;

	m->deliveries--;
	mq->stats[COHORT_A_QSTATS_DELIVERED]--;
	if (c->explicit_ack) {
		m->tag = 0;
		mq->inflight--;		/* in flight, it kept its bytes */
	} else {
		mq->bytes += cohort_qmsg_size(m);
	}
	mq_push_front(mq, m);
}

/*
 * Of messages a ring took without acks and no process read, those the
 * store has room for (from the first) stay on @unread; the others go to
 * @freed. How many went.
 */
static u32 mq_unread_room(struct cohort_mq *mq, struct list_head *unread,
			  struct list_head *freed)
{
	const struct cohort_queue_attr *a = &mq->q->attr;
	u32 n = 0, bytes = 0, lost = 0;
	struct cohort_qmsg *m;
	LIST_HEAD(keep);

	list_for_each_entry(m, unread, list) {
		if (mq->depth + mq->inflight + n >= a->max_msgs ||
		    mq->bytes + bytes + cohort_qmsg_size(m) > a->max_bytes)
			break;
		n++;
		bytes += cohort_qmsg_size(m);
	}
	list_cut_before(&keep, unread, &m->list);
	list_for_each_entry(m, unread, list)
		lost++;
	list_splice_init(unread, freed);
	list_splice(&keep, unread);
	return lost;
}

/* ---- queues ---- */

static void queue_work_fn(struct work_struct *work);

static struct cohort_queue *queue_alloc(struct cohort_qmgr *qm,
					const struct cohort_qspec *s)
{
	struct cohort_queue *q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);

	if (!q)
		return NULL;
	q->qm = qm;
	kref_init(&q->ref);
	strscpy(q->name, s->name, sizeof(q->name));
	q->kind = s->kind;
	q->uid = s->uid;
	q->gid = s->gid;
	q->mode = s->mode;
	q->system = s->system;
	q->attr = s->attr;
	spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->subs);
	INIT_LIST_HEAD(&q->poison);
	init_waitqueue_head(&q->wwait);
	INIT_DELAYED_WORK(&q->work, queue_work_fn);
	if (s->kind == COHORT_QUEUE) {
		q->mq = mq_alloc(q, "", NULL);
		if (!q->mq) {
			kfree(q);
			return NULL;
		}
	}
	return q;
}

static void queue_release(struct kref *ref)
{
	struct cohort_queue *q = container_of(ref, struct cohort_queue, ref);
	struct cohort_mq *mq, *t;
	LIST_HEAD(freed);

	cancel_delayed_work_sync(&q->work);
	if (q->mq)
		mq_clear(q->mq, &freed);
	kfree(q->mq);
	list_for_each_entry_safe(mq, t, &q->subs, sub_node) {
		mq_clear(mq, &freed);
		kfree(mq);
	}
	list_splice_init(&q->poison, &freed);
	cohort_qmsg_free_list(&freed);
	kfree(q);
}

void cohort_queue_put(struct cohort_queue *q)
{
	kref_put(&q->ref, queue_release);
}

/* Owner bits for the owner, group bits for the group, other bits else. */
bool cohort_queue_may(const struct cohort_queue *q, u32 role)
{
	umode_t need = 0, have;

	if (role & COHORT_QR_CONSUME)
		need |= 04;
	if (role & COHORT_QR_PRODUCE)
		need |= 02;
	if (uid_eq(current_fsuid(), q->uid))
		have = q->mode >> 6;
	else if (in_group_p(q->gid))
		have = q->mode >> 3;
	else
		have = q->mode;
	return (have & need) == need || capable(CAP_DAC_OVERRIDE);
}

/* For a descriptor of another node: its ids as sent, and no privilege. */
bool cohort_queue_may_id(const struct cohort_queue *q, u32 role, kuid_t uid,
			 kgid_t gid)
{
	umode_t need = 0, have;

	if (role & COHORT_QR_CONSUME)
		need |= 04;
	if (role & COHORT_QR_PRODUCE)
		need |= 02;
	if (uid_eq(uid, q->uid))
		have = q->mode >> 6;
	else if (gid_eq(gid, q->gid))
		have = q->mode >> 3;
	else
		have = q->mode;
	return (have & need) == need;
}

static struct cohort_queue *queue_create(struct cohort_qmgr *qm,
					 const struct cohort_qspec *s,
					 struct netlink_ext_ack *extack)
{
	struct cohort_queue *q;
	int err;

	if (qm->n_objects >= COHORT_QUEUES_MAX) {
		NL_SET_ERR_MSG(extack, "too many queues on this node");
		return ERR_PTR(-ENOSPC);
	}
	q = queue_alloc(qm, s);
	if (!q)
		return ERR_PTR(-ENOMEM);
	if (s->kind == COHORT_QUEUE) {
		err = budget_take(qm, s->uid, s->attr.max_bytes);
		if (err) {
			NL_SET_ERR_MSG(extack, "owner's queue budget is spent");
			cohort_queue_put(q);
			return ERR_PTR(err);
		}
		q->reserved = s->attr.max_bytes;
	}
	qm->n_objects++;
	hash_add(qm->names, &q->hnode, name_hash(q->name));
	qm->names_gen++;
	kref_get(&q->ref);		/* the table's */
	cohort_genl_queue_notify(qm->node, q->name, q->kind, COHORT_QEVENT_ADD,
				 NULL);
	return q;
}

/* Open or create; the caller gets a reference. */
struct cohort_queue *cohort_queue_get(struct cohort_qmgr *qm,
				      const struct cohort_qspec *s,
				      struct netlink_ext_ack *extack)
{
	struct cohort_queue *q;

	mutex_lock(&qm->lock);
	q = cohort_queue_lookup(qm, s->name);
	if (q) {
		if ((s->flags & COHORT_QO_EXCL) || q->kind != s->kind) {
			if (q->kind != s->kind)
				NL_SET_ERR_MSG(extack, "name taken by the other kind");
			else
				NL_SET_ERR_MSG(extack, "queue exists");
			q = ERR_PTR(-EEXIST);
		} else {
			kref_get(&q->ref);
		}
	} else if (s->flags & COHORT_QO_CREATE) {
		q = queue_create(qm, s, extack);
	} else {
		NL_SET_ERR_MSG(extack, "no such queue");
		q = ERR_PTR(-ENOENT);
	}
	mutex_unlock(&qm->lock);
	return q;
}

static void queue_kill(struct cohort_queue *q, struct list_head *freed)
{
	struct cohort_mq *mq;

	spin_lock(&q->lock);
	q->dead = true;
	if (q->mq) {
		q->mq->dead = true;
		mq_clear(q->mq, freed);
		wake_up_all(&q->mq->rwait);
		wake_up_all(&q->mq->ring_wait);
	}
	list_for_each_entry(mq, &q->subs, sub_node) {
		mq->dead = true;
		mq_clear(mq, freed);
		wake_up_all(&mq->rwait);
	}
	list_splice_init(&q->poison, freed);
	wake_up_all(&q->wwait);
	spin_unlock(&q->lock);
}

static struct cohort_mq *find_sub(struct cohort_queue *q, const char *sub)
{
	struct cohort_mq *mq;

	list_for_each_entry(mq, &q->subs, sub_node)
		if (!strcmp(mq->sub, sub))
			return mq;
	return NULL;
}

static int sub_del(struct cohort_qmgr *qm, struct cohort_queue *q,
		   const char *sub, struct netlink_ext_ack *extack)
{
	struct cohort_mq *mq;
	LIST_HEAD(freed);

	spin_lock(&q->lock);
	mq = find_sub(q, sub);
	if (!mq || mq->consumers) {
		spin_unlock(&q->lock);
		if (mq)
			NL_SET_ERR_MSG(extack, "subscription has consumers");
		else
			NL_SET_ERR_MSG(extack, "no such subscription");
		return mq ? -EBUSY : -ENOENT;
	}
	list_del(&mq->sub_node);
	q->n_subs--;
	q->n_filtering -= !!mq->filter.mask;
	mq_clear(mq, &freed);
	spin_unlock(&q->lock);

	cohort_qmsg_free_list(&freed);
	kfree(mq);
	budget_give(qm, q->uid, q->attr.max_bytes);
	qm->n_objects--;
	cohort_genl_queue_notify(qm->node, q->name, q->kind,
				 COHORT_QEVENT_SUB_DEL, sub);
	return 0;
}

/*
 * Out of the table and dead. The caller drops the table's reference once
 * qm->lock is released: the last put waits for the queue's work, which
 * may take that lock. Named subscriptions count as objects and hold
 * reservations too.
 */
static void queue_unhash(struct cohort_qmgr *qm, struct cohort_queue *q)
{
	struct cohort_mq *mq;
	u32 named = 0;
	LIST_HEAD(freed);

	hash_del(&q->hnode);
	qm->names_gen++;
	queue_kill(q, &freed);
	cohort_qmsg_free_list(&freed);
	/* Unnamed subscriptions go, with their reservation, on detach. */
	list_for_each_entry(mq, &q->subs, sub_node)
		named += !!mq->sub[0];
	qm->n_objects -= 1 + named;
	budget_give(qm, q->uid, q->reserved + (u64)named * q->attr.max_bytes);
	cohort_genl_queue_notify(qm->node, q->name, q->kind, COHORT_QEVENT_DEL,
				 NULL);
	cohort_qremote_kick(qm);	/* tell remote descriptors */
}

/*
 * The owner of a queue may delete it when the socket's opener lets it
 * (@opener: whose queues it does, sock_opener_fsuid()), as
 * netlink_ns_capable() wants the opener to hold CAP_NET_ADMIN as well as
 * the sender: a socket handed to another process does not lend the
 * sender's queues to its opener.
 */
int cohort_queue_del(struct cohort_qmgr *qm, const char *name,
		     const char *sub, bool admin, kuid_t opener,
		     struct netlink_ext_ack *extack)
{
	struct cohort_queue *q, *gone = NULL;
	int err = 0;

	mutex_lock(&qm->lock);
	q = cohort_queue_lookup(qm, name);
	if (!q) {
		NL_SET_ERR_MSG(extack, "no such queue");
		err = -ENOENT;
	} else if (!admin && (q->system || !uid_eq(current_fsuid(), q->uid) ||
			      !uid_eq(opener, q->uid))) {
		if (q->system)
			NL_SET_ERR_MSG(extack, "system queues need CAP_NET_ADMIN");
		else
			NL_SET_ERR_MSG(extack, "only the owner may delete the queue");
		err = -EPERM;
	} else if (sub && q->kind != COHORT_TOPIC) {
		NL_SET_ERR_MSG(extack, "only a topic has subscriptions");
		err = -EINVAL;
	} else if (sub) {
		err = sub_del(qm, q, sub, extack);
	} else {
		queue_unhash(qm, q);
		gone = q;
	}
	mutex_unlock(&qm->lock);
	if (gone)
		cohort_queue_put(gone);
	return err;
}

/* ---- consumers and producers ---- */

/* A new subscription's reservation, made before the queue lock. */
static struct cohort_mq *sub_new(struct cohort_qmgr *qm,
				 struct cohort_queue *q, const char *sub,
				 const struct cohort_qfilter *filter)
{
	struct cohort_mq *mq;
	int err;

	lockdep_assert_held(&qm->lock);

	if (*sub && qm->n_objects >= COHORT_QUEUES_MAX)
		return ERR_PTR(-ENOSPC);
	err = budget_take(qm, q->uid, q->attr.max_bytes);
	if (err)
		return ERR_PTR(err);
	mq = mq_alloc(q, sub, filter);
	if (!mq) {
		budget_give(qm, q->uid, q->attr.max_bytes);
		return ERR_PTR(-ENOMEM);
	}
	qm->n_objects += !!*sub;
	return mq;
}

static void sub_undo(struct cohort_qmgr *qm, struct cohort_mq *mq)
{
	lockdep_assert_held(&qm->lock);

	qm->n_objects -= !!mq->sub[0];
	budget_give(qm, mq->q->uid, mq->q->attr.max_bytes);
	kfree(mq);
}

/*
 * Find or make the store @c consumes from and attach it there. A topic's
 * named subscription keeps the @filter it was made with: it exists, but
 * not as asked for (EEXIST, as for a name of another kind). A queue's
 * consumers compete for every message: no filter.
 */
struct cohort_mq *cohort_queue_attach(struct cohort_queue *q, const char *sub,
				      const struct cohort_qfilter *filter,
				      struct cohort_qcons *c, bool explicit_ack,
				      struct cohort_qrh *rh)
{
	struct cohort_qmgr *qm = q->qm;
	struct cohort_mq *mq = NULL, *fresh = NULL;
	bool created = false;
	int err = 0;

	INIT_LIST_HEAD(&c->inflight);
	c->n_inflight = 0;
	c->explicit_ack = explicit_ack;
	c->rh = rh;
	c->ring = NULL;
	c->ring_direct = false;
	if (!cohort_qfilter_valid(filter, q->kind, COHORT_QR_CONSUME))
		return ERR_PTR(-EINVAL);
	mutex_lock(&qm->lock);
	if (q->kind == COHORT_TOPIC) {
		spin_lock(&q->lock);
		mq = *sub ? find_sub(q, sub) : NULL;
		spin_unlock(&q->lock);
		if (mq && memcmp(&mq->filter, filter, sizeof(*filter))) {
			err = -EEXIST;
			goto out;
		}
		if (!mq) {
			fresh = sub_new(qm, q, sub, filter);
			if (IS_ERR(fresh)) {
				err = PTR_ERR(fresh);
				goto out;
			}
		}
	}
	spin_lock(&q->lock);
	if (q->dead) {
		err = -EIDRM;
	} else {
		if (fresh) {
			mq = fresh;
			fresh = NULL;
			created = true;
			list_add_tail(&mq->sub_node, &q->subs);
			q->n_subs++;
			q->n_filtering += !!mq->filter.mask;
		} else if (!mq) {
			mq = q->mq;
		}
		c->mq = mq;
		list_add_tail(&c->list, &mq->cons);
		mq->consumers++;
		mq->remote_cons += !!rh;
		if (rh && mq->depth)
			cohort_qremote_kick(qm);
		/* Senders waiting for ring room now feed the store. */
		if (q->kind == COHORT_QUEUE)
			wake_up(&mq->ring_wait);
	}
	spin_unlock(&q->lock);
	if (fresh)
		sub_undo(qm, fresh);
	else if (created && *sub)
		cohort_genl_queue_notify(qm->node, q->name, q->kind,
					 COHORT_QEVENT_SUB_ADD, sub);
out:
	mutex_unlock(&qm->lock);
	return err ? ERR_PTR(err) : mq;
}

/*
 * The consumer leaves: what it held goes back first in line at once, in
 * the order it was delivered. Attempts from tag @unread_from on (0: none)
 * never reached a user, as a remote consumer is sent deliveries ahead of
 * its reads: they go back uncounted, as do the messages on @unread (NULL:
 * none), rebuilt from records of a ring without acks that no process
 * took, as far as the store has room; the others, and @lost more that
 * could not be rebuilt, are dropped and counted. An unnamed subscription
 * goes too.
 */
void cohort_queue_detach(struct cohort_qcons *c, u64 unread_from,
			 struct list_head *unread, u32 lost)
{
	struct cohort_mq *mq = c->mq;
	struct cohort_queue *q = mq->q;
	struct cohort_qmgr *qm = q->qm;
	struct cohort_qmsg *m, *t;
	bool drop_sub = false, back = false, room;
	LIST_HEAD(freed);

	mutex_lock(&qm->lock);
	spin_lock(&q->lock);
	list_for_each_entry_safe_reverse(m, t, &c->inflight, list) {
		list_del(&m->list);
		if (unread_from && m->tag >= unread_from) {
			mq_unget_one(c, m);
			back = true;
		} else {
			mq_requeue(mq, m);
		}
	}
	if (unread && !list_empty(unread)) {
		lost += mq_unread_room(mq, unread, &freed);
		list_for_each_entry_safe_reverse(m, t, unread, list) {
			list_del(&m->list);
			mq_unget_one(c, m);
			back = true;
		}
	}
	if (back)
		mq_ready(mq);
	mq->stats[COHORT_A_QSTATS_DELIVERED] -= lost;
	mq->stats[COHORT_A_QSTATS_DROPPED] += lost;
	c->n_inflight = 0;
	list_del(&c->list);
	mq->consumers--;
	mq->remote_cons -= !!c->rh;
	mq->ring_cons -= c->ring_direct;
	if (!mq->consumers && !mq->sub[0] && q->kind == COHORT_TOPIC) {
		list_del(&mq->sub_node);
		q->n_subs--;
		q->n_filtering -= !!mq->filter.mask;
		mq_clear(mq, &freed);
		drop_sub = true;
	}
	/* The last consumer of a transient queue gone: senders now drop. */
	room = q->kind == COHORT_QUEUE && !mq_keeps(mq);
	spin_unlock(&q->lock);
	if (room)
		queue_room(q);
	cohort_qmsg_free_list(&freed);
	if (drop_sub)
		sub_undo(qm, mq);
	mutex_unlock(&qm->lock);
}

void cohort_queue_producer(struct cohort_queue *q, int delta)
{
	spin_lock(&q->lock);
	q->producers += delta;
	spin_unlock(&q->lock);
}

/*
 * @c receives through @r from now on. Senders write straight into the
 * rings of a queue's consumers without acks: those of a topic get copies
 * from their subscription's store, and those with acks keep each message
 * in flight until its ack.
 */
void cohort_queue_set_ring(struct cohort_qcons *c, struct cohort_qring *r)
{
	struct cohort_mq *mq = c->mq;

	spin_lock(&mq->q->lock);
	c->ring = r;
	c->ring_direct = mq->q->kind == COHORT_QUEUE && !c->explicit_ack;
	mq->ring_cons += c->ring_direct;
	spin_unlock(&mq->q->lock);
}

/*
 * No sender picks @c's ring any more; one that has (and holds @c's actor)
 * may still be writing to it. Senders waiting for ring room hear of it.
 */
void cohort_queue_ring_off(struct cohort_qcons *c)
{
	struct cohort_mq *mq = c->mq;

	spin_lock(&mq->q->lock);
	mq->ring_cons -= c->ring_direct;
	c->ring_direct = false;
	spin_unlock(&mq->q->lock);
	cohort_queue_ring_room(mq->q);
}

/* ---- enqueue ---- */

/* Make room in a subscription; false if the publish must be refused. */
static bool sub_room(struct cohort_mq *mq, u32 size, struct list_head *freed)
{
	if (!mq_full(mq, size) || (mq_expire(mq, freed) && !mq_full(mq, size)))
		return true;
	if (mq->q->attr.overflow == COHORT_OVERFLOW_REJECT) {
		mq_expire_alarm(mq);
		return false;
	}
	while (mq_full(mq, size) && mq_drop_oldest(mq, freed))
		;
	return !mq_full(mq, size);
}

/* Subscriptions of @q whose filter keeps @key: all, when none filters. */
static u32 topic_takers(struct cohort_queue *q, u32 key)
{
	struct cohort_mq *mq;
	u32 n = 0;

	lockdep_assert_held(&q->lock);

	if (!q->n_filtering)
		return q->n_subs;
	list_for_each_entry(mq, &q->subs, sub_node)
		n += cohort_qfilter_match(&mq->filter, key);
	return n;
}

static int topic_publish_locked(struct cohort_queue *q, struct cohort_qmsg *m,
				struct list_head *copies,
				struct list_head *freed)
{
	u32 size = cohort_qmsg_size(m);
	struct cohort_mq *mq, *last = NULL;
	bool filtered = false, matched = false;

	if (q->attr.overflow == COHORT_OVERFLOW_REJECT) {
		list_for_each_entry(mq, &q->subs, sub_node) {
			if (cohort_qfilter_match(&mq->filter, m->key) &&
			    mq_keeps(mq) && !sub_room(mq, size, freed)) {
				mq->stats[COHORT_A_QSTATS_REJECTED]++;
				q->stats[COHORT_A_QSTATS_REJECTED]++;
				return -EAGAIN;
			}
		}
	}
	m->id = ++q->next_id;
	q->stats[COHORT_A_QSTATS_ENQUEUED]++;
	list_for_each_entry(mq, &q->subs, sub_node) {
		if (!cohort_qfilter_match(&mq->filter, m->key)) {
			mq->stats[COHORT_A_QSTATS_FILTERED]++;
			filtered = true;
			continue;
		}
		matched = true;
		if (!mq_keeps(mq) || !sub_room(mq, size, freed)) {
			mq->stats[COHORT_A_QSTATS_DROPPED]++;
			continue;
		}
		if (last) {
			struct cohort_qmsg *c;

			c = list_first_entry(copies, struct cohort_qmsg, list);
			list_del(&c->list);
			c->id = m->id;
			mq_add(last, c);
			mq_ready(last);
		}
		last = mq;
	}
	if (last) {
		mq_add(last, m);
		mq_ready(last);
		return 0;
	}
	list_add(&m->list, freed);
	/* Kept nowhere: by choice when only filters refused it. */
	if (filtered && !matched)
		q->stats[COHORT_A_QSTATS_FILTERED]++;
	else
		q->stats[COHORT_A_QSTATS_DROPPED]++;
	return 0;
}

/*
 * Copies for every subscription that keeps @m but one, made before taking
 * the lock.
 */
static int topic_copies(struct cohort_queue *q, const struct cohort_qmsg *m,
			struct list_head *copies, u32 *n)
{
	struct cohort_qmsg *c;
	u32 want;

	spin_lock(&q->lock);
	want = topic_takers(q, m->key);
	want = want ? want - 1 : 0;
	spin_unlock(&q->lock);
	while (*n < want) {
		c = qmsg_clone(m, GFP_KERNEL_ACCOUNT);
		if (!c)
			return -ENOMEM;
		list_add(&c->list, copies);
		(*n)++;
	}
	return 0;
}

static int topic_publish(struct cohort_queue *q, struct cohort_qmsg *m)
{
	LIST_HEAD(copies);
	LIST_HEAD(freed);
	u32 have = 0;
	int err;

	m->enqueue_ns = ktime_get_coarse_real_ns();
	for (;;) {
		err = topic_copies(q, m, &copies, &have);
		if (err)
			break;
		spin_lock(&q->lock);
		if (q->dead) {
			err = -EIDRM;
		} else if (have + 1 < topic_takers(q, m->key)) {
			spin_unlock(&q->lock);
			continue;	/* a subscription came: copy again */
		} else {
			err = topic_publish_locked(q, m, &copies, &freed);
		}
		spin_unlock(&q->lock);
		break;
	}
	/*
	 * What expired made room that refused publishers may wait for; only
	 * a topic that rejects has them (one that drops never lacks room).
	 */
	if (q->attr.overflow == COHORT_OVERFLOW_REJECT && !list_empty(&freed))
		queue_room(q);
	cohort_qmsg_free_list(&copies);
	cohort_qmsg_free_list(&freed);
	return err;
}

/*
 * Move the longest run at the head of @msgs that has one priority and
 * fits into @q's store, with two list operations; how many moved (0: the
 * first does not fit).
 */
static u32 queue_take_run(struct cohort_queue *q, struct list_head *msgs,
			  u64 now)
{
	const struct cohort_queue_attr *a = &q->attr;
	struct cohort_mq *mq = q->mq;
	struct cohort_qmsg *m, *last = NULL;
	u32 n = 0, bytes = 0, ttl = 0, size;
	LIST_HEAD(run);
	u8 prio;

	prio = list_first_entry(msgs, struct cohort_qmsg, list)->prio;
	list_for_each_entry(m, msgs, list) {
		size = cohort_qmsg_size(m);
		if (m->prio != prio || mq->depth + mq->inflight + n >= a->max_msgs ||
		    mq->bytes + bytes + size > a->max_bytes)
			break;
		m->id = ++q->next_id;
		m->enqueue_ns = now;
		bytes += size;
		ttl += !!m->expire_ns;
		mq_ttl_add(mq, m->expire_ns);
		last = m;
		n++;
	}
	if (!n)
		return 0;
	list_cut_position(&run, msgs, &last->list);
	list_splice_tail(&run, &mq->prio[prio]);
	mq_prio_add(mq, prio);
	mq->depth += n;
	mq->bytes += bytes;
	mq->ttl_msgs += ttl;
	mq->stats[COHORT_A_QSTATS_ENQUEUED] += n;
	return n;
}

/* Transient and nobody to take them: dropped, and counted. */
static u32 queue_drop_all(struct cohort_mq *mq, struct list_head *msgs,
			  struct list_head *freed)
{
	struct cohort_qmsg *m;
	u32 n = 0;

	list_for_each_entry(m, msgs, list)
		n++;
	list_splice_init(msgs, freed);
	mq->stats[COHORT_A_QSTATS_DROPPED] += n;
	return n;
}

/*
 * A queue takes a batch under one hold of its lock, in runs, and wakes its
 * consumers once: per-message lock round trips, list operations and
 * wakeups were most of the cost of a small message. The enqueue time is
 * the coarse clock's: a clock read per message cost as much again where
 * the clocksource is slow to read (a VM's HPET).
 */
static int queue_enqueue_batch(struct cohort_queue *q, struct list_head *msgs,
			       u32 *done)
{
	u64 now = ktime_get_coarse_real_ns();
	struct cohort_mq *mq = q->mq;
	struct cohort_qmsg *m;
	LIST_HEAD(freed);
	u32 n = 0, got;
	int err = 0;
	bool ready;

	spin_lock(&q->lock);
	if (q->dead) {
		err = -EIDRM;
	} else if (!mq_keeps(mq)) {
		n = queue_drop_all(mq, msgs, &freed);
	} else {
		while (!list_empty(msgs)) {
			got = queue_take_run(q, msgs, now);
			n += got;
			if (got)
				continue;
			m = list_first_entry(msgs, struct cohort_qmsg, list);
			if (cohort_qmsg_size(m) > q->attr.max_bytes) {
				/* Not even an empty queue would take it. */
				mq->stats[COHORT_A_QSTATS_REJECTED]++;
				err = -EMSGSIZE;
				break;
			}
			/* Full: what outlived its TTL gives way, if any did. */
			if (!mq_expire(mq, &freed) ||
			    mq_full(mq, cohort_qmsg_size(m))) {
				mq_expire_alarm(mq);
				mq->stats[COHORT_A_QSTATS_REJECTED]++;
				err = -EAGAIN;
				break;
			}
		}
	}
	ready = n && mq->depth;
	spin_unlock(&q->lock);
	if (ready)
		mq_ready(mq);
	/*
	 * Room that expiry made and this send did not fill (or could not
	 * use) may be a waiting sender's: the alarm it armed finds nothing
	 * left to expire. (What a queue that keeps nothing dropped is here
	 * too: nobody waits for room in such a queue.)
	 */
	if (!list_empty(&freed))
		queue_room(q);
	cohort_qmsg_free_list(&freed);
	*done += n;
	return err;
}

/*
 * Enqueue from the head of @msgs, in order, until one is refused; what
 * went is the queue's and is counted in *done. -EAGAIN: no room for the
 * next one (queues wait for it, topics refuse).
 */
int cohort_queue_enqueue_batch(struct cohort_queue *q, struct list_head *msgs,
			       u32 *done)
{
	struct cohort_qmsg *m;
	int err;

	if (q->kind == COHORT_QUEUE)
		return queue_enqueue_batch(q, msgs, done);
	while ((m = list_first_entry_or_null(msgs, struct cohort_qmsg, list))) {
		/* No subscription could hold it: refused, nothing dropped. */
		if (cohort_qmsg_size(m) > q->attr.max_bytes) {
			spin_lock(&q->lock);
			q->stats[COHORT_A_QSTATS_REJECTED]++;
			spin_unlock(&q->lock);
			return -EMSGSIZE;
		}
		list_del(&m->list);
		err = topic_publish(q, m);
		if (err) {
			list_add(&m->list, msgs);
			return err;
		}
		(*done)++;
	}
	return 0;
}

/* Enqueue @m, which the queue owns on success; errors as for a batch. */
int cohort_queue_enqueue(struct cohort_queue *q, struct cohort_qmsg *m)
{
	LIST_HEAD(one);
	u32 done = 0;
	int err;

	list_add(&m->list, &one);
	err = cohort_queue_enqueue_batch(q, &one, &done);
	if (err)
		list_del(&m->list);
	return err;
}

/*
 * Should a sender that may wait for a message of @size wait for room
 * before it builds it? Only when the store is full and would take it
 * empty: a deleted queue, or a message too large, is for the enqueue to
 * refuse.
 */
bool cohort_queue_must_wait(struct cohort_queue *q, u32 size)
{
	struct cohort_mq *mq = q->mq;
	bool wait = false;
	LIST_HEAD(freed);

	if (q->kind != COHORT_QUEUE || size > q->attr.max_bytes)
		return false;
	/*
	 * Most senders find room: a look without the lock says so, and costs
	 * a small message less than the lock. A wrong "room" only means the
	 * enqueue finds the store full, and waits there.
	 */
	if (!data_race(mq_full(mq, size)))
		return false;
	spin_lock(&q->lock);
	/* What outlived its TTL gives way, as at an enqueue. */
	if (!q->dead && mq_keeps(mq) && mq_full(mq, size) &&
	    (!mq_expire(mq, &freed) || mq_full(mq, size))) {
		mq_expire_alarm(mq);
		wait = true;
	}
	spin_unlock(&q->lock);
	if (!list_empty(&freed)) {
		queue_room(q);
		cohort_qmsg_free_list(&freed);
	}
	return wait;
}

/* Would a message of @size be taken now (0: any small one)? */
bool cohort_queue_room(struct cohort_queue *q, u32 size)
{
	struct cohort_mq *mq;
	bool room = true;

	spin_lock(&q->lock);
	if (q->dead) {
		room = false;
	} else if (q->kind == COHORT_QUEUE) {
		room = !mq_keeps(q->mq) || !mq_full(q->mq, size);
		if (!room)
			mq_expire_alarm(q->mq);
	} else if (q->attr.overflow == COHORT_OVERFLOW_REJECT) {
		list_for_each_entry(mq, &q->subs, sub_node) {
			if (mq_keeps(mq) && mq_full(mq, size)) {
				mq_expire_alarm(mq);
				room = false;
			}
		}
	}
	spin_unlock(&q->lock);
	return room;
}

/* ---- dequeue and acknowledgment ---- */

/*
 * Take up to @max from one priority list of @c's store onto @out, in one
 * cut; what outlived its TTL goes to @freed on the way. For a ring, only
 * what it has room for, with a record reserved for each; *@full once the
 * next does not fit (nothing after it may overtake it).
 */
static u32 mq_take_run(struct cohort_qcons *c, struct cohort_qring *r,
		       struct list_head *list, u32 max, struct list_head *out,
		       struct list_head *freed, bool *full)
{
	struct cohort_mq *mq = c->mq;
	struct cohort_qmsg *m, *t, *last = NULL;
	u32 n = 0, bytes = 0, ttl = 0;
	LIST_HEAD(run);
	u64 now = 0, pos;

	list_for_each_entry_safe(m, t, list, list) {
		if (n == max)
			break;
		if (m->expire_ns) {
			/* Only messages with a TTL pay for reading the clock. */
			if (!now)
				now = ktime_get_ns();
			if (m->expire_ns <= now) {
				mq_unlink(mq, m);
				list_add(&m->list, freed);
				mq->stats[COHORT_A_QSTATS_EXPIRED]++;
				continue;
			}
		}
		if (r && !cohort_qring_reserve(r, cohort_qring_rec_len(m->vc_len,
								       m->len),
					       &pos)) {
			*full = true;
			break;
		}
		ttl += !!m->expire_ns;
		m->deliveries++;
		if (c->explicit_ack)
			m->tag = ++mq->next_tag;
		bytes += cohort_qmsg_size(m);
		last = m;
		n++;
	}
	if (!n)
		return 0;
	list_cut_position(&run, list, &last->list);
	list_splice_tail(&run, out);
	mq_depth_sub(mq, n);
	mq->ttl_msgs -= ttl;
	/* In flight, a message still holds its bytes until its ack. */
	if (c->explicit_ack)
		mq->inflight += n;
	else
		mq->bytes -= bytes;
	return n;
}

/*
 * Take up to @max messages for @c onto @out, best first. They are the
 * caller's until cohort_queue_taken() says which reached the user. Returns
 * how many; *err is set when there are none (EAGAIN, EIDRM). With @r (the
 * caller holds its writers' lock), only what fits in the ring, each with
 * a record reserved, one after the other from c->ring_pos on; ENOSPC when
 * the first waiting does not fit.
 */
u32 cohort_queue_dequeue(struct cohort_qcons *c, struct cohort_qring *r,
			 struct list_head *out, u32 max, int *err)
{
	struct cohort_mq *mq = c->mq;
	struct cohort_queue *q = mq->q;
	bool full = false;
	LIST_HEAD(freed);
	u32 n = 0;
	int i;

	spin_lock(&q->lock);
	if (r)
		c->ring_pos = r->tail;
	for (i = mq_top(mq); i >= 0 && n < max && !mq->dead && !full; i--)
		n += mq_take_run(c, r, &mq->prio[i], max - n, out, &freed,
				 &full);
	*err = mq->dead ? -EIDRM : full ? -ENOSPC : -EAGAIN;
	mq->stats[COHORT_A_QSTATS_DELIVERED] += n;
	spin_unlock(&q->lock);
	if (!list_empty(&freed) || (n && !c->explicit_ack))
		queue_room(q);
	cohort_qmsg_free_list(&freed);
	return n;
}

/* Put back what did not reach the user, first in line and not counted. */
static void mq_unget(struct cohort_qcons *c, struct list_head *back)
{
	struct cohort_qmsg *m, *t;

	list_for_each_entry_safe_reverse(m, t, back, list) {
		list_del(&m->list);
		mq_unget_one(c, m);
	}
	mq_ready(c->mq);
}

/* What cohort_queue_taken() has to do: acks to wait for, or messages back. */
void __cohort_queue_taken(struct cohort_qcons *c, struct list_head *got,
			  struct list_head *back)
{
	struct cohort_mq *mq = c->mq;
	struct cohort_queue *q = mq->q;
	unsigned long deadline;
	struct cohort_qmsg *m;
	LIST_HEAD(freed);
	u32 n = 0;

	deadline = jiffies + msecs_to_jiffies(q->attr.ack_timeout_ms);
	spin_lock(&q->lock);
	if (mq->dead) {
		list_splice_init(back, &freed);
		if (c->explicit_ack)
			list_splice_init(got, &freed);
		goto out;
	}
	list_for_each_entry(m, got, list)
		n++;
	if (!list_empty(back))
		mq_unget(c, back);
	if (c->explicit_ack && n) {
		list_for_each_entry(m, got, list)
			m->deadline = deadline;
		list_splice_tail_init(got, &c->inflight);
		c->n_inflight += n;
		queue_arm(q, deadline);
	}
out:
	spin_unlock(&q->lock);
	cohort_qmsg_free_list(&freed);
}

/* Ack (done) or nack (again, first in line) one attempt of @c. */
int cohort_queue_ack(struct cohort_qcons *c, u64 tag, bool ack)
{
	struct cohort_mq *mq = c->mq;
	struct cohort_queue *q = mq->q;
	struct cohort_qmsg *m, *found = NULL;
	int err = -ESTALE;

	spin_lock(&q->lock);
	if (mq->dead) {
		spin_unlock(&q->lock);
		return -EIDRM;
	}
	list_for_each_entry(m, &c->inflight, list) {
		if (m->tag == tag) {
			found = m;
			break;
		}
	}
	if (found) {
		err = 0;
		list_del(&found->list);
		c->n_inflight--;
		if (ack) {
			mq->inflight--;
			mq->bytes -= cohort_qmsg_size(found);
			mq->stats[COHORT_A_QSTATS_ACKED]++;
			queue_room(q);
		} else {
			mq_requeue(mq, found);
			found = NULL;
		}
	}
	spin_unlock(&q->lock);
	if (found)
		cohort_qmsg_free(found);
	return err;
}

/* ---- straight into a ring ---- */

/*
 * A sender is done writing into @c's ring, whose writers' lock (the actor)
 * it still holds: fills wait for the lock again. Whether a fill left room
 * that head gave back for it to announce (cohort_queue_fill_skip()).
 */
static bool ring_writer_end(struct cohort_qcons *c)
{
	WRITE_ONCE(c->ring_writer, false);
	/* Pairs with cohort_queue_fill_skip(): one sees the other's mark. */
	smp_mb();
	if (!READ_ONCE(c->ring_reclaim))
		return false;
	WRITE_ONCE(c->ring_reclaim, false);
	return true;
}

/*
 * A fill of @c's ring found the lock held, and nothing to fill. It does
 * not wait for the lock if a sender writing into the ring holds it: the
 * fill would spin on the mutex for as long as the sender copies, taking
 * the CPU from it where the two share one, while the sender's records
 * wake the fill's wait. Room that head gave back (@reclaim) the sender
 * then announces once it has unlocked (cohort_queue_direct_done(), or
 * cohort_queue_direct() if it reserved nothing), as the fill would have:
 * told earlier, waiting senders would find the ring busy and add to the
 * store. Any other holder, the fill waits for.
 */
bool cohort_queue_fill_skip(struct cohort_qcons *c, bool reclaim)
{
	if (reclaim)
		WRITE_ONCE(c->ring_reclaim, true);
	/* Pairs with ring_writer_end(); orders the failed trylock too. */
	smp_mb();
	return READ_ONCE(c->ring_writer);
}

/* Records for as many of the @n messages of @size bytes as fit in @r. */
static u32 ring_reserve_run(struct cohort_qring *r, const u32 *size, u32 n,
			    u64 *first)
{
	u32 k;
	u64 pos;

	for (k = 0; k < n; k++) {
		if (!cohort_qring_reserve(r, cohort_qring_rec_size(size[k]),
					  &pos))
			break;
		if (!k)
			*first = pos;
	}
	return k;
}

/*
 * May a sender of actor @a write to @c's ring now? Locks c's actor if so,
 * and marks the ring as a sender's (c->ring_writer); *@busy when it could
 * not say (the actor was busy, or its clocks far from roomy).
 */
static bool direct_to(struct cohort_qcons *c, struct cohort_afile *a,
		      bool *busy)
{
	if (!c->ring_direct)
		return false;
	if (c->actor != a && !mutex_trylock(&c->actor->lock)) {
		*busy = true;
		return false;
	}
	if (cohort_clocks_roomy(&c->actor->clocks)) {
		WRITE_ONCE(c->ring_writer, true);
		return true;
	}
	if (c->actor != a)
		mutex_unlock(&c->actor->lock);
	*busy = true;
	return false;
}

/*
 * Done with @c's ring without a record (it was full), its actor still
 * locked; room a fill left to announce, the caller announces.
 */
static void direct_undo(struct cohort_qcons *c, struct cohort_afile *a,
			bool *reclaim)
{
	*reclaim |= ring_writer_end(c);
	if (c->actor != a)
		mutex_unlock(&c->actor->lock);
}

/*
 * Records for up to @n messages of @size bytes each (payload and stamps,
 * as the store counts them), sent by @a (NULL: by an actor on another
 * node), straight in the ring of one of @q's consumers: when nothing waits
 * in the store, so that they cannot overtake anything. A message no store
 * of @q could hold ends the run: it goes the store's way and is refused
 * there. Their ids, and their counts as enqueued and delivered, are given
 * here; the caller writes and commits the records, calls
 * cohort_queue_direct_end() before it unlocks the consumer's actor, and
 * cohort_queue_direct_done() after.
 *
 * The consumer's actor receives them, so the caller needs it locked; that
 * lock comes after @a's and q->lock, so it is only tried, and its file is
 * held (d->file) until the caller is done with it: the unlock may still
 * be touching the mutex when the consumer, waiting for it, frees it. The
 * consumers take turns. @a's clocks must be roomy (cohort_clocks_roomy()),
 * like the consumer's, so that no event of the run can fail; another
 * node's stamps may not be, so a receive event can fail, and the caller
 * takes back the records from there on. How many were reserved (0: send
 * through the store; d->wait if rings will take them later: every ring
 * was full, or messages wait in the store before them).
 */
u32 cohort_queue_direct(struct cohort_queue *q, struct cohort_afile *a,
			const u32 *size, u32 n, struct cohort_qdirect *d)
{
	bool busy = false, any = false, reclaim = false;
	struct cohort_mq *mq = q->mq;
	struct cohort_qcons *c;
	u32 i, k = 0;

	d->wait = false;
	for (i = 0; i < n && size[i] <= q->attr.max_bytes; i++)
		;
	n = i;
	if (!n || !cohort_queue_may_direct(q))
		return 0;
	spin_lock(&q->lock);
	if (q->dead)
		goto out;
	if (mq->depth) {
		d->wait = true;
		goto out;
	}
	list_for_each_entry(c, &mq->cons, list) {
		if (!direct_to(c, a, &busy))
			continue;
		any = true;
		k = ring_reserve_run(c->ring, size, n, &d->pos);
		if (k)
			break;
		direct_undo(c, a, &reclaim);
	}
	if (!k) {
		d->wait = any && !busy;
		goto out;
	}
	d->c = c;
	d->actor = c->actor;
	d->file = c->actor != a ? get_file(c->actor_file) : NULL;
	d->id = q->next_id + 1;
	d->enqueue_ns = ktime_get_coarse_real_ns();
	q->next_id += k;
	mq->stats[COHORT_A_QSTATS_ENQUEUED] += k;
	mq->stats[COHORT_A_QSTATS_DELIVERED] += k;
	list_move_tail(&c->list, &mq->cons);
out:
	spin_unlock(&q->lock);
	if (reclaim)
		cohort_queue_ring_room(q);
	return k;
}

/*
 * The record at d->pos, its stamps, payload, sender, Lamport stamp,
 * priority, key and expiry written, is a first delivery: committed, and
 * d->pos moves to the next.
 */
void cohort_queue_direct_commit(struct cohort_qdirect *d)
{
	struct cohort_qring *r = d->c->ring;
	struct cohort_qrec *rec = cohort_qring_rec(r, d->pos);

	rec->flags = 0;
	rec->msg_id = d->id++;
	rec->delivery_id = 0;
	rec->enqueue_ns = d->enqueue_ns;
	rec->deliveries = 1;
	cohort_qring_commit(r, d->pos);
	d->pos += rec->len;
}

/*
 * The sender of cohort_queue_direct() is done with the ring, the last of
 * its records committed or taken back; the consumer's actor is still
 * locked.
 */
void cohort_queue_direct_end(struct cohort_qdirect *d)
{
	d->reclaim = ring_writer_end(d->c);
}

/*
 * The records of cohort_queue_direct() are committed, but for the last
 * @untaken, which were taken back (the sender's memory was not at hand);
 * the consumer's actor is unlocked.
 */
void cohort_queue_direct_done(struct cohort_queue *q,
			      const struct cohort_qdirect *d, u32 untaken)
{
	struct cohort_mq *mq = q->mq;

	if (untaken) {
		spin_lock(&q->lock);
		mq->stats[COHORT_A_QSTATS_ENQUEUED] -= untaken;
		mq->stats[COHORT_A_QSTATS_DELIVERED] -= untaken;
		spin_unlock(&q->lock);
	}
	/* Pairs with the consumer's wait: see qfd_fill_wait(). */
	if (wq_has_sleeper(&mq->rwait))
		wake_up(&mq->rwait);
	if (d->reclaim)
		cohort_queue_ring_room(q);
}

/*
 * Flow control: while every consumer of a queue reads through a ring, a
 * sender that may wait, whose messages no ring took though one will (the
 * rings were full, or messages wait in the store, which it may not
 * overtake: cohort_queue_direct()'s d->wait), waits a little for the
 * consumers rather than adding to the store, as a pipe's writer waits for
 * its reader; the fills empty the store into the rings meanwhile. What
 * the store holds is copied twice, and under a steady load a store once
 * started would never empty again: every later message would take its
 * way. A sender that waited in vain (the consumers are slow, or away)
 * adds to the store, and until the store is empty again nobody waits:
 * one wait per spell, not one per call.
 */
bool cohort_queue_ring_flow(struct cohort_queue *q)
{
	struct cohort_mq *mq = q->mq;
	u32 rc;

	if (q->kind != COHORT_QUEUE)
		return false;
	rc = READ_ONCE(mq->ring_cons);
	return rc && rc == READ_ONCE(mq->consumers) && !READ_ONCE(q->dead) &&
	       !READ_ONCE(mq->ring_spill);
}

/*
 * A sender waited for the rings of @q in vain and added to the store: the
 * spell lasts while the store holds messages (it is over at once if a fill
 * emptied it meanwhile), and senders waiting now stop too.
 */
void cohort_queue_ring_spill(struct cohort_queue *q)
{
	bool spill;

	if (q->kind != COHORT_QUEUE)
		return;
	spin_lock(&q->lock);
	spill = q->mq->depth > 0;
	WRITE_ONCE(q->mq->ring_spill, spill);
	spin_unlock(&q->lock);
	if (spill && wq_has_sleeper(&q->mq->ring_wait))
		wake_up(&q->mq->ring_wait);
}

/*
 * A ring of @q has more room (a consumer gave records back, or left), or
 * a fill emptied the store into one: senders waiting for that
 * (cohort_queue_ring_flow()) try again.
 */
void cohort_queue_ring_room(struct cohort_queue *q)
{
	if (q->kind != COHORT_QUEUE)
		return;
	atomic_inc(&q->mq->ring_gen);
	/* Orders the bump before the check, as wq_has_sleeper() does. */
	if (wq_has_sleeper(&q->mq->ring_wait))
		wake_up(&q->mq->ring_wait);
}

/* ---- timeouts and dead letters ---- */

/* @c's attempt @m (on a list of its own) is past its ack deadline. */
static void mq_timeout_one(struct cohort_mq *mq, struct cohort_qcons *c,
			   struct cohort_qmsg *m)
{
	list_del(&m->list);
	c->n_inflight--;
	if (c->rh)
		cohort_qremote_revoked(c->rh, m->tag);
	mq_requeue(mq, m);
}

/*
 * Requeue what is past its ack deadline; the next deadline, or 0. Each
 * goes first in line, so a consumer's run of them goes back from its last
 * delivered, and comes again in the order it came; the spent ones go to
 * the dead letters first, in that order too.
 */
static unsigned long mq_timeouts(struct cohort_mq *mq, unsigned long now)
{
	unsigned long next = 0;
	struct cohort_qcons *c;
	struct cohort_qmsg *m, *t;
	LIST_HEAD(late);

	list_for_each_entry(c, &mq->cons, list) {
		/* In flight by deadline: the late ones lead. */
		list_for_each_entry(m, &c->inflight, list) {
			if (time_before(now, m->deadline)) {
				if (!next || time_before(m->deadline, next))
					next = m->deadline;
				break;
			}
		}
		list_cut_before(&late, &c->inflight, &m->list);
		list_for_each_entry_safe(m, t, &late, list)
			if (mq_spent(mq, m))
				mq_timeout_one(mq, c, m);
		list_for_each_entry_safe_reverse(m, t, &late, list)
			mq_timeout_one(mq, c, m);
	}
	return next;
}

static unsigned long queue_timeouts(struct cohort_queue *q)
{
	unsigned long now = jiffies, next = 0, n;
	struct cohort_mq *mq;

	if (q->mq)
		next = mq_timeouts(q->mq, now);
	list_for_each_entry(mq, &q->subs, sub_node) {
		n = mq_timeouts(mq, now);
		if (n && (!next || time_before(n, next)))
			next = n;
	}
	return next;
}

/* Poison messages to the dead-letter queue, as new messages there. */
static void queue_dead_letters(struct cohort_queue *q, struct list_head *list)
{
	struct cohort_qmgr *qm = q->qm;
	struct cohort_queue *dlq = NULL;
	struct cohort_qmsg *m, *t;
	u64 moved = 0, lost = 0;

	mutex_lock(&qm->lock);
	if (q->attr.dlq[0])
		dlq = cohort_queue_lookup(qm, q->attr.dlq);
	list_for_each_entry_safe(m, t, list, list) {
		list_del(&m->list);
		m->deliveries = 0;
		if (dlq && dlq->kind == COHORT_QUEUE &&
		    !cohort_queue_enqueue(dlq, m)) {
			moved++;
		} else {
			cohort_qmsg_free(m);
			lost++;
		}
	}
	mutex_unlock(&qm->lock);

	spin_lock(&q->lock);
	if (q->mq) {
		q->mq->stats[COHORT_A_QSTATS_DEAD_LETTERED] += moved;
		q->mq->stats[COHORT_A_QSTATS_DROPPED] += lost;
	} else {
		q->stats[COHORT_A_QSTATS_DEAD_LETTERED] += moved;
		q->stats[COHORT_A_QSTATS_DROPPED] += lost;
	}
	spin_unlock(&q->lock);
}

/*
 * The TTL alarm: what expired goes, and the waiters hear of it (they arm
 * the alarm again if they still wait). When the first expiry of a full
 * store was a stale bound, wait for the real one. The next run, or 0.
 */
static unsigned long queue_ttl_alarm(struct cohort_queue *q,
				     struct list_head *freed)
{
	unsigned long next = 0, at;
	struct cohort_mq *mq;

	if (!q->ttl_alarm)
		return 0;
	if (q->mq)
		mq_expire(q->mq, freed);
	list_for_each_entry(mq, &q->subs, sub_node)
		mq_expire(mq, freed);
	q->ttl_alarm = false;
	if (!list_empty(freed))
		return 0;
	if (q->mq && q->mq->ttl_msgs)
		next = mq_expire_at(q->mq);
	list_for_each_entry(mq, &q->subs, sub_node) {
		if (!mq->ttl_msgs)
			continue;
		at = mq_expire_at(mq);
		if (!next || time_before(at, next))
			next = at;
	}
	q->ttl_alarm = next != 0;
	return next;
}

static void queue_work_fn(struct work_struct *work)
{
	struct cohort_queue *q = container_of(to_delayed_work(work),
					      struct cohort_queue, work);
	unsigned long next = 0, at;
	LIST_HEAD(expired);
	LIST_HEAD(poison);

	spin_lock(&q->lock);
	if (!q->dead) {
		next = queue_timeouts(q);
		at = queue_ttl_alarm(q, &expired);
		if (at && (!next || time_before(at, next)))
			next = at;
	}
	list_splice_init(&q->poison, &poison);
	/*
	 * Re-armed under the lock: a nack that queues poison after it asks
	 * for a run at once, which a later re-arm here would postpone.
	 */
	if (next)
		mod_delayed_work(system_wq, &q->work,
				 max_t(long, next - jiffies, 1));
	spin_unlock(&q->lock);
	if (!list_empty(&expired)) {
		queue_room(q);
		cohort_qmsg_free_list(&expired);
	}
	if (!list_empty(&poison))
		queue_dead_letters(q, &poison);
}

/* ---- the manager ---- */

int cohort_qmgr_init(struct cohort_qmgr *qm, struct cohort_node *node)
{
	mutex_init(&qm->lock);
	qm->node = node;
	hash_init(qm->names);
	qm->names_gen = 1;		/* 0 would never flag a dump */
	xa_init(&qm->budget);
	return cohort_qremote_init(qm);
}

/*
 * No descriptor is left: each holds the namespace. Descriptors of other
 * nodes go first, with the transport stopped.
 */
void cohort_qmgr_exit(struct cohort_qmgr *qm)
{
	struct cohort_queue *q, *n;
	struct hlist_node *t;
	int b;

	LIST_HEAD(gone);

	cohort_qremote_exit(qm);
	mutex_lock(&qm->lock);
	hash_for_each_safe(qm->names, b, t, q, hnode) {
		queue_unhash(qm, q);
		list_add(&q->dead_node, &gone);
	}
	WARN_ON(qm->n_objects);
	mutex_unlock(&qm->lock);
	list_for_each_entry_safe(q, n, &gone, dead_node)
		cohort_queue_put(q);
	WARN_ON(!xa_empty(&qm->budget));
	xa_destroy(&qm->budget);
	mutex_destroy(&qm->lock);
}
