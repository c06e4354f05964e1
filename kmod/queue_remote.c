// SPDX-License-Identifier: GPL-2.0
/*
 * Queues across the cluster. A descriptor whose queue lives on another
 * node is a proxy here; the queue's home keeps a remote handle for it and
 * attaches its consumer to the store like a local one. They talk in routed
 * QUEUE frames over the reliable transport (see wire.h):
 *
 *   opener                         home
 *   OPEN (to the home, or to every reachable node to find the name)  ->
 *                               <- OPENED (status; the first 0 wins, the
 *                                  others get CLOSE: nothing they sent
 *                                  reached a user)
 *   PUB (messages)                 ->  enqueued in order, or parked until
 *                               <- PUBACK (credit)  there is room: the opener
 *                                  has COHORT_QREMOTE_PUB_WINDOW in flight
 *                               <- DELIVER (messages, attempt tags): at most
 *                                  the OPEN's window held by the opener
 *   CREDIT (taken without acks)    ->
 *   ACK / NACK (tags)              ->  as a local ack or nack
 *                               <- REVOKE (tags): ack timeout, redelivered
 *                               <- GONE: the queue was deleted, or the
 *                                  home does not know the handle
 *   CLOSE (first unread attempt)   ->  what the consumer held goes back,
 *                                      what no user received uncounted
 *
 * PUB and DELIVER frames carry as many messages as fit in one body
 * (COHORT_WIRE_MAX_QBODY) and, for PUB, as the credit allows; a frame goes
 * or fails as a whole, and is built in place in the routed frame.
 *
 * Persistence across link failures comes from the transport, which sends
 * again what a broken connection lost; a message is only ever held by the
 * home's store or in flight to one consumer. The home trusts the uid and
 * gid the opener's node sends, as NFS AUTH_SYS does; the transport header
 * says how peers are trusted.
 *
 * Lock order: transport lock, then qm->lock, then a queue's or a proxy's
 * spinlock. An actor's mutex comes before all of them (a sender holds its
 * own while it sends); a consumer's is only tried under them, when a
 * publish is written straight into its ring (rx_pub_direct_run()). Frames
 * from the home go out from the push work, which also retries when a link
 * pushes back, sends the CLOSEs an opener could not, and runs again when a
 * node becomes reachable (route_compute()): nothing is taken from a store
 * for a node that cannot be sent to.
 */
#include <linux/cred.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "chardev.h"
#include "compat.h"
#include "dgram.h"
#include "node.h"
#include "queue_remote.h"
#include "queue_ring.h"
#include "transport.h"

#define SCRATCH_SIZE	(sizeof(struct cohort_wire_q) + \
			 COHORT_QBATCH_MAX * sizeof(__be64))
#define PUSH_RETRY	msecs_to_jiffies(20)
/* qm->push_flags: the work is queued to run at once; a proxy's CREDIT failed */
#define QM_PUSH_KICKED	0
#define QM_PUSH_CREDIT	1
/* Publishes credited back at once from this many; fewer wait PUBACK_DELAY. */
#define PUBACK_EVERY	(COHORT_QREMOTE_PUB_WINDOW / 4)
#define PUBACK_DELAY	msecs_to_jiffies(2)

static_assert(sizeof(struct cohort_wire_q) + sizeof(struct cohort_wire_qopen) <=
	      SCRATCH_SIZE);
/* One message of the largest size fits a frame alone. */
static_assert(sizeof(struct cohort_wire_q) + sizeof(struct cohort_wire_qmsg) +
	      COHORT_VC_MAX_ENTRIES * sizeof(struct cohort_wire_vc) +
	      COHORT_QMSG_MAX <= COHORT_WIRE_MAX_QBODY);

static struct cohort_transport *qm_tp(struct cohort_qmgr *qm)
{
	return &qm->node->tp;
}

/* @hdr (in the scratch buffer) with @extra bytes after it, then @payload. */
static int wq_send(struct cohort_qmgr *qm, u32 dst, u32 extra,
		   const void *payload, u32 plen, gfp_t gfp)
{
	return cohort_dgram_send_kind(qm_tp(qm), dst, COHORT_WIRE_QUEUE,
				      qm->scratch,
				      sizeof(struct cohort_wire_q) + extra,
				      payload, plen, gfp);
}

static void wq_hdr_at(struct cohort_wire_q *h, u8 op, u64 handle, u64 arg,
		      u32 status)
{
	memset(h, 0, sizeof(*h));
	h->op = op;
	h->status = cpu_to_be32(status);
	h->handle = cpu_to_be64(handle);
	h->arg = cpu_to_be64(arg);
}

static struct cohort_wire_q *wq_hdr(struct cohort_qmgr *qm, u8 op,
				    u64 handle, u64 arg, u32 status)
{
	struct cohort_wire_q *h = (void *)qm->scratch;

	wq_hdr_at(h, op, handle, arg, status);
	return h;
}

static int wq_simple(struct cohort_qmgr *qm, u32 dst, u8 op, u64 handle,
		     u64 arg, u32 status)
{
	wq_hdr(qm, op, handle, arg, status);
	return wq_send(qm, dst, 0, NULL, 0, GFP_KERNEL);
}

/* Tags after the header; arg says how many. */
static int wq_tags(struct cohort_qmgr *qm, u32 dst, u8 op, u64 handle,
		   const u64 *tags, u32 n, gfp_t gfp)
{
	__be64 *p;
	u32 i;

	wq_hdr(qm, op, handle, n, 0);
	p = (void *)(qm->scratch + sizeof(struct cohort_wire_q));
	for (i = 0; i < n; i++)
		put_unaligned_be64(tags[i], &p[i]);
	return wq_send(qm, dst, n * sizeof(*p), NULL, 0, gfp);
}

/* Bytes @m takes in a PUB or DELIVER body. */
static u32 qmsg_wire_len(const struct cohort_qmsg *m)
{
	return sizeof(struct cohort_wire_qmsg) +
	       m->vc_len * sizeof(struct cohort_wire_vc) + m->len;
}

/*
 * How many messages of @head, from @m on and at most @max, go in one
 * frame; *@body_len is the body they make. The first always fits.
 */
static u32 wq_pack(struct list_head *head, struct cohort_qmsg *m, u32 max,
		   u32 *body_len)
{
	u32 n = 0, len = sizeof(struct cohort_wire_q), l;

	list_for_each_entry_from(m, head, list) {
		l = qmsg_wire_len(m);
		if (n == max || (n && len + l > COHORT_WIRE_MAX_QBODY))
			break;
		len += l;
		n++;
	}
	*body_len = len;
	return n;
}

/*
 * The header of @m at @w, with @ttl_or_deliveries (see the wire format),
 * and its stamps @vc after it; returns where the payload goes.
 */
static u8 *qmsg_hdr_to_wire(struct cohort_wire_qmsg *w,
			    const struct cohort_qmsg *m,
			    const struct cohort_vc_entry *vc,
			    u32 ttl_or_deliveries)
{
	struct cohort_wire_vc *wvc = (void *)(w + 1);

	put_unaligned_be64(m->id, &w->id);
	put_unaligned_be64(m->tag, &w->tag);
	put_unaligned_be64(m->sender, &w->sender);
	put_unaligned_be64(m->enqueue_ns, &w->enqueue_ns);
	put_unaligned_be64(m->lamport, &w->lamport);
	put_unaligned_be32(ttl_or_deliveries, &w->ttl_ms);
	put_unaligned_be32(m->len, &w->len);
	put_unaligned_be16(m->vc_len, &w->vc_len);
	w->prio = m->prio;
	w->reserved = 0;
	put_unaligned_be32(m->key, &w->key);
	cohort_wire_vc_put(wvc, vc, m->vc_len);
	return (u8 *)(wvc + m->vc_len);
}

/*
 * @m at @p, as @op carries it; returns the end. A PUB's TTL is left from
 * *@now, read once per frame for its first message with a TTL.
 */
static u8 *qmsg_to_wire(u8 *p, u8 op, const struct cohort_qmsg *m, u64 *now)
{
	u32 ttl = 0;

	if (op == COHORT_WQ_PUB && m->expire_ns) {
		if (!*now)
			*now = ktime_get_ns();
		ttl = m->expire_ns > *now ?
		      max_t(u64, div_u64(m->expire_ns - *now, NSEC_PER_MSEC), 1) : 1;
	}
	p = qmsg_hdr_to_wire((void *)p, m, m->vc,
			     op == COHORT_WQ_PUB ? ttl : m->deliveries);
	memcpy(p, m->data, m->len);
	return p + m->len;
}

/*
 * A PUB or DELIVER frame of @n messages of @head from @m on, making
 * @body_len (from wq_pack()), written straight into the routed frame.
 * 0 when it went, or why none of them did.
 */
static int wq_msgs(struct cohort_qmgr *qm, u32 dst, u8 op, u64 handle,
		   struct list_head *head, struct cohort_qmsg *m, u32 n,
		   u32 body_len, gfp_t gfp)
{
	struct cohort_transport *tp = qm_tp(qm);
	struct cohort_frame *f;
	u64 now = 0;
	void *body;
	u8 *p;
	u32 i;

	f = cohort_dgram_frame_new(tp, dst, COHORT_WIRE_QUEUE, body_len, gfp,
				   &body);
	if (IS_ERR(f))
		return PTR_ERR(f);
	wq_hdr_at(body, op, handle, n, 0);
	p = (u8 *)body + sizeof(struct cohort_wire_q);
	for (i = 0; i < n; i++) {
		p = qmsg_to_wire(p, op, m, &now);
		m = list_next_entry(m, list);
	}
	/* A gap would send what the recycled buffer held before. */
	if (WARN_ON_ONCE(p != (u8 *)body + body_len)) {
		cohort_dgram_frame_drop(tp, f);
		return -EOVERFLOW;
	}
	return cohort_dgram_frame_send(tp, dst, f);
}

/*
 * The messages of a PUB or DELIVER body, checked as a whole before any is
 * used: 1..@max of them, each header valid, their lengths adding up to
 * exactly the body.
 */
static int qmsgs_check(u64 count, u32 max, const u8 *p, u32 len)
{
	const struct cohort_wire_qmsg *w;
	u32 n, plen, l;
	u64 i;

	if (!count || count > max || count > len / sizeof(*w))
		return -EINVAL;
	for (i = 0; i < count; i++) {
		w = (const void *)p;
		if (len < sizeof(*w) || w->prio > COHORT_QPRIO_MAX ||
		    w->reserved)
			return -EINVAL;
		n = get_unaligned_be16(&w->vc_len);
		plen = get_unaligned_be32(&w->len);
		if (n > COHORT_VC_MAX_ENTRIES || plen > COHORT_QMSG_MAX)
			return -EINVAL;
		l = sizeof(*w) + n * sizeof(struct cohort_wire_vc) + plen;
		if (l > len)
			return -EINVAL;
		p += l;
		len -= l;
	}
	return len ? -EINVAL : 0;
}

/* One message of a body qmsgs_check() passed; *@p moves past it. */
static struct cohort_qmsg *msg_from_wire(const u8 **p, bool pub)
{
	const struct cohort_wire_qmsg *w = (const void *)*p;
	const struct cohort_wire_vc *vc = (const void *)(w + 1);
	struct cohort_qmsg *m;
	u32 n, plen, ttl;

	n = get_unaligned_be16(&w->vc_len);
	plen = get_unaligned_be32(&w->len);
	m = cohort_qmsg_alloc(plen, n, GFP_KERNEL);
	if (!m)
		return ERR_PTR(-ENOMEM);
	cohort_wire_vc_get(m->vc, vc, n);
	m->vc_len = n;
	if (cohort_vector_validate(m->vc, n)) {
		cohort_qmsg_free(m);
		return ERR_PTR(-EINVAL);
	}
	memcpy(m->data, (const u8 *)(vc + n), plen);
	*p = (const u8 *)(vc + n) + plen;
	m->sender = get_unaligned_be64(&w->sender);
	m->lamport = get_unaligned_be64(&w->lamport);
	m->prio = w->prio;
	m->key = get_unaligned_be32(&w->key);
	ttl = get_unaligned_be32(&w->ttl_ms);
	if (pub) {
		m->expire_ns = cohort_qmsg_expiry(ttl);
		return m;
	}
	m->expire_ns = 0;
	m->id = get_unaligned_be64(&w->id);
	m->tag = get_unaligned_be64(&w->tag);
	m->enqueue_ns = get_unaligned_be64(&w->enqueue_ns);
	m->deliveries = ttl;
	return m;
}

/* All @count messages of a checked body onto @out, or none of them. */
static int msgs_from_wire(struct list_head *out, u32 count, const u8 *p,
			  bool pub)
{
	struct cohort_qmsg *m;
	u32 i;
	int err;

	for (i = 0; i < count; i++) {
		m = msg_from_wire(&p, pub);
		if (IS_ERR(m)) {
			err = PTR_ERR(m);
			cohort_qmsg_free_list(out);
			return err;
		}
		list_add_tail(&m->list, out);
	}
	return 0;
}

/* ---- at the home ---- */

static struct cohort_qrh *rh_find(struct cohort_qmgr *qm, u32 node,
				  u64 handle)
{
	struct cohort_qrh *rh;

	lockdep_assert_held(&qm->lock);

	list_for_each_entry(rh, &qm->rhs, list)
		if (rh->node == node && rh->handle == handle)
			return rh;
	return NULL;
}

/*
 * Run the push work now (also if it waits for a retry). A stream of
 * messages kicks once per message; until the work has started, the first
 * kick stands for the others, sparing each one mod_delayed_work(). The
 * work is unbound: on the kicking producer's CPU it would build every
 * frame there, after the producer's own copies, while a consumer's CPU
 * waits.
 */
void cohort_qremote_kick(struct cohort_qmgr *qm)
{
	if (READ_ONCE(qm->stopping) || test_and_set_bit(QM_PUSH_KICKED, &qm->push_flags))
		return;
	mod_delayed_work(system_unbound_wq, &qm->push_work, 0);
}

/* Under the queue lock: the opener must forget this attempt. */
void cohort_qremote_revoked(struct cohort_qrh *rh, u64 tag)
{
	if (rh->n_revoked < ARRAY_SIZE(rh->revoked))
		rh->revoked[rh->n_revoked++] = tag;
	cohort_qremote_kick(rh->q->qm);
}

static int qopen_spec(struct net *net, const struct cohort_wire_qopen *w,
		      struct cohort_qspec *s, char *name, char *sub)
{
	const struct cohort_wire_qattr *wa = &w->attr;
	struct cohort_queue_attr *a = &s->attr;

	memcpy(name, w->name, COHORT_NAME_MAX);
	memcpy(sub, w->sub, COHORT_NAME_MAX);
	if (name[COHORT_NAME_MAX - 1] || sub[COHORT_NAME_MAX - 1] ||
	    !*name || !cohort_node_name_valid(name) ||
	    !cohort_node_name_valid(sub) || wa->dlq[COHORT_NAME_MAX - 1])
		return -EINVAL;
	s->name = name;
	s->kind = get_unaligned_be32(&w->kind);
	s->flags = get_unaligned_be32(&w->flags);
	s->mode = get_unaligned_be32(&w->mode);
	s->uid = make_kuid(net->user_ns, get_unaligned_be32(&w->uid));
	s->gid = make_kgid(net->user_ns, get_unaligned_be32(&w->gid));
	if ((s->kind != COHORT_QUEUE && s->kind != COHORT_TOPIC) ||
	    s->flags & ~(COHORT_QO_CREATE | COHORT_QO_EXCL) ||
	    s->mode & ~0777 || !uid_valid(s->uid) || !gid_valid(s->gid))
		return -EINVAL;
	a->flags = get_unaligned_be32(&wa->flags);
	a->max_msgs = get_unaligned_be32(&wa->max_msgs);
	a->max_msg_size = get_unaligned_be32(&wa->max_msg_size);
	a->max_bytes = get_unaligned_be32(&wa->max_bytes);
	a->ack_timeout_ms = get_unaligned_be32(&wa->ack_timeout_ms);
	a->max_deliveries = get_unaligned_be32(&wa->max_deliveries);
	a->overflow = get_unaligned_be32(&wa->overflow);
	a->__reserved = get_unaligned_be32(&wa->reserved);
	memcpy(a->dlq, wa->dlq, sizeof(a->dlq));
	return cohort_queue_attr_check(a, s->kind, name);
}

static void attr_to_wire(struct cohort_wire_qattr *wa,
			 const struct cohort_queue *q)
{
	const struct cohort_queue_attr *a = &q->attr;

	wa->flags = cpu_to_be32(a->flags | (q->system ? COHORT_QA_SYSTEM : 0));
	wa->max_msgs = cpu_to_be32(a->max_msgs);
	wa->max_msg_size = cpu_to_be32(a->max_msg_size);
	wa->max_bytes = cpu_to_be32(a->max_bytes);
	wa->ack_timeout_ms = cpu_to_be32(a->ack_timeout_ms);
	wa->max_deliveries = cpu_to_be32(a->max_deliveries);
	wa->overflow = cpu_to_be32(a->overflow);
	wa->reserved = 0;
	memcpy(wa->dlq, a->dlq, sizeof(wa->dlq));
}

static int opened_reply(struct cohort_qmgr *qm, u32 dst, u64 handle,
			int err, const struct cohort_queue *q)
{
	struct cohort_wire_qattr *wa;

	wq_hdr(qm, COHORT_WQ_OPENED, handle, q ? q->kind : 0, -err);
	wa = (void *)(qm->scratch + sizeof(struct cohort_wire_q));
	if (q)
		attr_to_wire(wa, q);
	return wq_send(qm, dst, q ? sizeof(*wa) : 0, NULL, 0, GFP_KERNEL);
}

/* The handle for an OPEN that found (or made) the queue. */
static struct cohort_qrh *rh_new(struct cohort_queue *q, u32 src, u64 handle,
				 const struct cohort_wire_qopen *w,
				 const char *sub, const struct cohort_qfilter *f)
{
	struct cohort_qrh *rh = kzalloc(sizeof(*rh), GFP_KERNEL);
	bool explicit = get_unaligned_be32(&w->ack) == COHORT_ACK_EXPLICIT;
	struct cohort_mq *mq;

	if (!rh)
		return ERR_PTR(-ENOMEM);
	rh->node = src;
	rh->handle = handle;
	rh->q = q;
	rh->role = get_unaligned_be32(&w->role);
	rh->window = get_unaligned_be32(&w->window);
	INIT_LIST_HEAD(&rh->parked);
	if (rh->role & COHORT_QR_CONSUME) {
		mq = cohort_queue_attach(q, sub, f, &rh->cons, explicit, rh);
		if (IS_ERR(mq)) {
			kfree(rh);
			return ERR_CAST(mq);
		}
	}
	if (rh->role & COHORT_QR_PRODUCE)
		cohort_queue_producer(q, 1);
	return rh;
}

/*
 * Detach and free; parked publishes keep a closed handle until placed.
 * Attempts from tag @unread_from on (0: none) never reached a user.
 */
static void rh_release(struct cohort_qrh *rh, u64 unread_from)
{
	if (rh->role & COHORT_QR_CONSUME)
		cohort_queue_detach(&rh->cons, unread_from, NULL, 0);
	if (rh->role & COHORT_QR_PRODUCE)
		cohort_queue_producer(rh->q, -1);
	rh->role = 0;
}

/* With nothing parked, or at exit (parked_bytes is the transport lock's). */
static void rh_free(struct cohort_qrh *rh)
{
	struct cohort_qmsg *m, *t;

	spin_lock(&rh->q->lock);
	rh->q->parked -= rh->n_parked;
	spin_unlock(&rh->q->lock);
	list_for_each_entry_safe(m, t, &rh->parked, list) {
		rh->q->qm->parked_bytes -= cohort_qmsg_size(m);
		cohort_qmsg_free(m);
	}
	cohort_queue_put(rh->q);
	kfree(rh);
}

static int rx_open(struct cohort_qmgr *qm, u32 src, u64 handle,
		   const u8 *body, u32 len)
{
	const struct cohort_wire_qopen *w = (const void *)body;
	char name[COHORT_NAME_MAX], sub[COHORT_NAME_MAX];
	struct cohort_queue *q = NULL;
	struct cohort_qspec spec = {};
	struct cohort_qrh *rh;
	struct cohort_qfilter f;
	u32 role, ack, window;
	int err;

	if (len != sizeof(*w))
		return -EINVAL;
	role = get_unaligned_be32(&w->role);
	ack = get_unaligned_be32(&w->ack);
	window = get_unaligned_be32(&w->window);
	f.mask = get_unaligned_be32(&w->filter_mask);
	f.value = get_unaligned_be32(&w->filter_value);
	err = qopen_spec(qm_tp(qm)->net, w, &spec, name, sub);
	if (err || !role || role & ~(COHORT_QR_PRODUCE | COHORT_QR_CONSUME) ||
	    (ack != COHORT_ACK_NONE && ack != COHORT_ACK_EXPLICIT) ||
	    !window || window > COHORT_QREMOTE_WINDOW ||
	    (*sub && (spec.kind != COHORT_TOPIC ||
		      !(role & COHORT_QR_CONSUME))) ||
	    !cohort_qfilter_valid(&f, spec.kind, role)) {
		opened_reply(qm, src, handle, -EINVAL, NULL);
		return 0;
	}
	mutex_lock(&qm->lock);
	err = rh_find(qm, src, handle) ? -EPROTO :
	      qm->n_rhs >= COHORT_QREMOTE_MAX ? -ENOSPC : 0;
	mutex_unlock(&qm->lock);
	if (err)
		goto reply;
	q = cohort_queue_get(qm, &spec, NULL);
	if (IS_ERR(q)) {
		err = PTR_ERR(q);
		q = NULL;
		goto reply;
	}
	if (!cohort_queue_may_id(q, role, spec.uid, spec.gid)) {
		err = -EACCES;
		goto reply;
	}
	rh = rh_new(q, src, handle, w, sub, &f);
	if (IS_ERR(rh)) {
		err = PTR_ERR(rh);
		goto reply;
	}
	/*
	 * An opener that hears nothing gives up and never closes: without
	 * the reply the handle must go. Nothing went to it yet, as the push
	 * work waits for the transport lock held here.
	 */
	if (opened_reply(qm, src, handle, 0, q)) {
		rh_release(rh, 0);
		rh_free(rh);
		return 0;
	}
	mutex_lock(&qm->lock);
	list_add_tail(&rh->list, &qm->rhs);
	qm->n_rhs++;
	mutex_unlock(&qm->lock);
	return 0;
reply:
	opened_reply(qm, src, handle, err, NULL);
	if (q)
		cohort_queue_put(q);
	return 0;
}

/*
 * CLOSE says from which attempt on the opener had no user receive what
 * it was sent (arg; 0: from none): those go back uncounted.
 */
static int rx_close(struct cohort_qmgr *qm, struct cohort_qrh *rh,
		    u64 unread_from)
{
	bool now;

	mutex_lock(&qm->lock);
	now = !rh->n_parked;
	if (now) {
		list_del(&rh->list);
		qm->n_rhs--;
	}
	rh->closed = true;
	mutex_unlock(&qm->lock);
	rh_release(rh, unread_from);
	if (now)
		rh_free(rh);
	return 0;
}

/* One publish of a PUB frame, in order behind the ones before it. */
static void rx_pub_one(struct cohort_qmgr *qm, struct cohort_qrh *rh,
		       struct cohort_qmsg *m)
{
	struct cohort_queue *q = rh->q;
	int err;

	/*
	 * Behind parked ones, to keep the producer's order. What a node may
	 * park is bounded: beyond that, a publish is refused and counted.
	 */
	err = rh->n_parked ? -EAGAIN : cohort_queue_enqueue(q, m);
	if (err == -EAGAIN && q->kind == COHORT_QUEUE &&
	    rh->n_parked < COHORT_QREMOTE_PUB_WINDOW &&
	    qm->parked_bytes + cohort_qmsg_size(m) <=
	    COHORT_QREMOTE_PARKED_BYTES) {
		list_add_tail(&m->list, &rh->parked);
		rh->n_parked++;
		qm->parked_bytes += cohort_qmsg_size(m);
		spin_lock(&q->lock);
		q->parked++;
		spin_unlock(&q->lock);
		return;
	}
	if (err == -EAGAIN && q->kind == COHORT_QUEUE) {
		spin_lock(&q->lock);
		q->mq->stats[COHORT_A_QSTATS_REJECTED]++;
		spin_unlock(&q->lock);
	}
	if (err)
		cohort_qmsg_free(m);	/* refused or queue deleted: counted */
	rh->pub_due++;
}

/* Publishes handed to cohort_queue_direct() at a time. */
#define RX_DIRECT_CHUNK	64U

/* The message after @w in a body qmsgs_check() passed. */
static const struct cohort_wire_qmsg *
wire_qmsg_next(const struct cohort_wire_qmsg *w)
{
	return (const void *)((const u8 *)(w + 1) +
			      get_unaligned_be16(&w->vc_len) *
			      sizeof(struct cohort_wire_vc) +
			      get_unaligned_be32(&w->len));
}

/*
 * The record reserved at d->pos from the checked message at @w, received
 * by the consumer's actor (locked): 0, or why it cannot be (a stamp that
 * is no vector, or one the consumer's clocks cannot take).
 */
static int rx_direct_one(struct cohort_qdirect *d,
			 const struct cohort_wire_qmsg *w)
{
	const struct cohort_wire_vc *wvc = (const void *)(w + 1);
	struct cohort_qring *r = d->c->ring;
	struct cohort_qrec *rec = cohort_qring_rec(r, d->pos);
	struct cohort_vc_entry *vc = cohort_qring_rec_vc(r, rec);
	u32 n = get_unaligned_be16(&w->vc_len);
	struct cohort_afile *c = d->actor;
	int err;

	cohort_wire_vc_get(vc, wvc, n);
	rec->lamport = get_unaligned_be64(&w->lamport);
	err = cohort_vector_validate(vc, n) ?:
	      cohort_clocks_event(&c->clocks, COHORT_CLOCK_RECV, rec->lamport,
				  vc, n, c->id);
	if (err) {
		/* The process sees the ring: no stamp stays behind the tail. */
		memset(vc, 0, n * sizeof(*vc));
		rec->lamport = 0;
		return err;
	}
	rec->data_len = get_unaligned_be32(&w->len);
	memcpy(vc + n, wvc + n, rec->data_len);
	rec->vc_len = n;
	rec->sender = get_unaligned_be64(&w->sender);
	rec->expire_ns = cohort_qmsg_expiry(get_unaligned_be32(&w->ttl_ms));
	rec->prio = w->prio;
	cohort_qring_set_key(r, rec, get_unaligned_be32(&w->key));
	cohort_queue_direct_commit(d);
	return 0;
}

/*
 * Up to @n of the checked publishes at *@p straight into the ring of one
 * of @q's consumers, as a sender on this node would write them
 * (cohort_queue_direct()): no message is built and the store is not
 * touched. How many went, from the first; *@p moves past them. One the
 * store would refuse (too large, a Lamport stamp of U64_MAX) stops the
 * run there, and the rest take the store's way.
 */
static u32 rx_pub_direct_run(struct cohort_queue *q, const u8 **p, u32 n)
{
	const struct cohort_wire_qmsg *w = (const void *)*p;
	u32 size[RX_DIRECT_CHUNK], plen, i, k;
	struct cohort_qdirect d;

	n = min(n, RX_DIRECT_CHUNK);
	for (i = 0; i < n; i++, w = wire_qmsg_next(w)) {
		plen = get_unaligned_be32(&w->len);
		if (plen > q->attr.max_msg_size ||
		    get_unaligned_be64(&w->lamport) == U64_MAX)
			break;
		size[i] = plen + get_unaligned_be16(&w->vc_len) *
				 sizeof(struct cohort_vc_entry);
	}
	k = cohort_queue_direct(q, NULL, size, i, &d);
	if (!k)
		return 0;
	w = (const void *)*p;
	for (i = 0; i < k; i++, w = wire_qmsg_next(w)) {
		if (rx_direct_one(&d, w))
			break;
	}
	/* The others' records were the last reserved: taken back. */
	if (i < k)
		cohort_qring_unreserve(d.c->ring, d.pos);
	cohort_queue_direct_end(&d);
	mutex_unlock(&d.actor->lock);
	fput(d.file);
	cohort_queue_direct_done(q, &d, k - i);
	*p = (const u8 *)w;
	return i;
}

/*
 * As many of @count checked publishes at *@p as go into rings at once:
 * none while some of this opener's wait parked (they would be overtaken);
 * nothing parks meanwhile, as only this frame's publishes could.
 */
static u32 rx_pub_direct(struct cohort_qrh *rh, const u8 **p, u32 count)
{
	u32 done = 0, k;

	if (rh->n_parked)
		return 0;
	while (done < count && cohort_queue_may_direct(rh->q)) {
		k = rx_pub_direct_run(rh->q, p, count - done);
		done += k;
		if (k < RX_DIRECT_CHUNK)
			break;
	}
	return done;
}

/* A PUB frame that passed qmsgs_check(): @count publishes, in order. */
static int rx_pub(struct cohort_qmgr *qm, struct cohort_qrh *rh, u32 count,
		  const u8 *body)
{
	struct cohort_qmsg *m, *t;
	u32 done = 0, direct;
	LIST_HEAD(msgs);
	int err;

	if (!(rh->role & COHORT_QR_PRODUCE))
		return -EINVAL;
	direct = rx_pub_direct(rh, &body, count);
	rh->pub_due += direct;
	count -= direct;
	if (!count)
		goto credit;
	err = msgs_from_wire(&msgs, count, body, true);
	if (err) {
		/*
		 * Not taken (out of memory, a bad stamp): the transport
		 * does not send a frame twice, so its publishes are lost.
		 * They are counted, and credited back: the opener would
		 * otherwise wait for them forever.
		 */
		if (rh->q->kind == COHORT_QUEUE) {
			spin_lock(&rh->q->lock);
			rh->q->mq->stats[COHORT_A_QSTATS_REJECTED] += count;
			spin_unlock(&rh->q->lock);
		}
		rh->pub_due += count;
		cohort_qremote_kick(qm);
		return err;
	}
	/*
	 * Too large for this queue, or with a stamp no receiver could take
	 * (refused locally at send): dropped, and credited back.
	 */
	list_for_each_entry_safe(m, t, &msgs, list) {
		if (m->len <= rh->q->attr.max_msg_size && m->lamport != U64_MAX)
			continue;
		list_del(&m->list);
		cohort_qmsg_free(m);
		rh->pub_due++;
	}
	/* With nothing parked, what there is room for goes in one batch. */
	if (!rh->n_parked && !list_empty(&msgs)) {
		cohort_queue_enqueue_batch(rh->q, &msgs, &done);
		rh->pub_due += done;
	}
	list_for_each_entry_safe(m, t, &msgs, list) {
		list_del(&m->list);
		rx_pub_one(qm, rh, m);
	}
credit:
	/*
	 * Credit goes back in batches: at once from a quarter of the window
	 * (the opener still holds the rest), else a little later, so that a
	 * stream of one-message frames is not answered frame by frame.
	 * Deliveries the publishes made possible were kicked by the queue.
	 */
	if (rh->n_parked || rh->pub_due >= PUBACK_EVERY)
		cohort_qremote_kick(qm);
	else if (rh->pub_due && !READ_ONCE(qm->stopping))
		queue_delayed_work(system_unbound_wq, &qm->push_work, PUBACK_DELAY);
	return 0;
}

static int rx_tags(struct cohort_qmgr *qm, struct cohort_qrh *rh, u8 op,
		   u64 n, const u8 *body, u32 len)
{
	const __be64 *p = (const void *)body;
	u32 i;

	if (!(rh->role & COHORT_QR_CONSUME) || !rh->cons.explicit_ack ||
	    n > COHORT_QBATCH_MAX || len != n * sizeof(*p))
		return -EINVAL;
	/* An attempt taken back already is not an error: it went elsewhere. */
	for (i = 0; i < n; i++)
		cohort_queue_ack(&rh->cons, get_unaligned_be64(&p[i]),
				 op == COHORT_WQ_ACK);
	cohort_qremote_kick(qm);
	return 0;
}

static int rx_home(struct cohort_qmgr *qm, u32 src,
		   const struct cohort_wire_q *h, const u8 *body, u32 len)
{
	u64 handle = get_unaligned_be64(&h->handle);
	u64 arg = get_unaligned_be64(&h->arg);
	struct cohort_qrh *rh;

	if (h->op == COHORT_WQ_OPEN)
		return rx_open(qm, src, handle, body, len);
	mutex_lock(&qm->lock);
	rh = rh_find(qm, src, handle);
	if (rh && rh->closed)
		rh = NULL;
	mutex_unlock(&qm->lock);
	if (!rh)
		return -ENOENT;
	switch (h->op) {
	case COHORT_WQ_CLOSE:
		return len ? -EINVAL : rx_close(qm, rh, arg);
	case COHORT_WQ_PUB:
		return rx_pub(qm, rh, arg, body);
	case COHORT_WQ_CREDIT:
		if (len || !(rh->role & COHORT_QR_CONSUME))
			return -EINVAL;
		rh->outstanding -= min_t(u64, arg, rh->outstanding);
		cohort_qremote_kick(qm);
		return 0;
	case COHORT_WQ_ACK:
	case COHORT_WQ_NACK:
		return rx_tags(qm, rh, h->op, arg, body, len);
	}
	return -EINVAL;
}

/* ---- the push work: from the home to descriptors elsewhere ---- */

/* Parked publishes into the queue, in order, while there is room. */
static void push_parked(struct cohort_qrh *rh)
{
	struct cohort_queue *q = rh->q;
	struct cohort_qmsg *m;
	u32 size;
	int err;

	while ((m = list_first_entry_or_null(&rh->parked, struct cohort_qmsg,
					     list))) {
		list_del(&m->list);
		size = cohort_qmsg_size(m);
		err = cohort_queue_enqueue(q, m);
		if (err == -EAGAIN) {
			list_add(&m->list, &rh->parked);
			return;
		}
		if (err)
			cohort_qmsg_free(m);
		rh->q->qm->parked_bytes -= size;
		rh->n_parked--;
		rh->pub_due++;
		spin_lock(&q->lock);
		q->parked--;
		spin_unlock(&q->lock);
	}
}

static int push_revokes(struct cohort_qmgr *qm, struct cohort_qrh *rh)
{
	u64 tags[COHORT_QREMOTE_WINDOW];
	u32 n;
	int err;

	spin_lock(&rh->q->lock);
	n = rh->n_revoked;
	memcpy(tags, rh->revoked, n * sizeof(*tags));
	rh->n_revoked = 0;
	spin_unlock(&rh->q->lock);
	if (!n)
		return 0;
	err = wq_tags(qm, rh->node, COHORT_WQ_REVOKE, rh->handle, tags, n,
		      GFP_KERNEL);
	if (err) {
		spin_lock(&rh->q->lock);
		n = min_t(u32, n, ARRAY_SIZE(rh->revoked) - rh->n_revoked);
		memcpy(rh->revoked + rh->n_revoked, tags, n * sizeof(*tags));
		rh->n_revoked += n;
		spin_unlock(&rh->q->lock);
	}
	return err;
}

/*
 * Deliver up to the window, in as few frames as fit; -EAGAIN when a link
 * pushed back. What did not go is put back first in line.
 */
static int push_deliveries(struct cohort_qmgr *qm, struct cohort_qrh *rh)
{
	struct cohort_qcons *c = &rh->cons;
	struct cohort_qmsg *m;
	u32 n = 0, total, k, i, body_len, held = rh->outstanding;
	LIST_HEAD(got);
	LIST_HEAD(back);
	int err = 0;

	/*
	 * The opener still holds what timed out until our REVOKE reaches
	 * it; an ack timeout moves attempts from one count to the other
	 * under the queue lock, so the sum is what it holds at most.
	 */
	if (c->explicit_ack) {
		spin_lock(&rh->q->lock);
		held = c->n_inflight + rh->n_revoked;
		spin_unlock(&rh->q->lock);
	}
	if (held >= rh->window)
		return 0;
	/*
	 * Take nothing for a node we cannot send to now: put back, it would
	 * make the queue ready again, which kicks this work, which would take
	 * it again, round and round for as long as the link is down or full.
	 * The route's return kicks the work; a full link is tried again.
	 */
	if (READ_ONCE(c->mq->depth)) {
		err = cohort_dgram_ready(qm_tp(qm), rh->node,
					 COHORT_WIRE_MAX_QBODY);
		if (err)
			return err;
	}
	total = cohort_queue_dequeue(c, NULL, &got,
				     rh->window - held, &err);
	if (!total)
		return err == -EIDRM ? err : 0;
	err = 0;
	m = list_first_entry(&got, struct cohort_qmsg, list);
	while (n < total) {
		k = wq_pack(&got, m, total - n, &body_len);
		err = wq_msgs(qm, rh->node, COHORT_WQ_DELIVER, rh->handle,
			      &got, m, k, body_len, GFP_KERNEL);
		if (err)
			break;
		n += k;
		for (i = 0; i < k; i++)
			m = list_next_entry(m, list);
	}
	if (err)
		cohort_qmsg_cut(&got, &back, m);
	cohort_queue_taken(c, &got, &back);
	if (!c->explicit_ack) {
		rh->outstanding += n;
		cohort_qmsg_free_list(&got);
	}
	return err;
}

/* A frame the link pushed back, or memory ran out for, goes again later. */
static void push_retry(int err, bool *retry)
{
	if (err == -EAGAIN || err == -ENOMEM)
		*retry = true;
}

/* One handle's turn; true if it is done with and may be freed. */
static bool push_one(struct cohort_qmgr *qm, struct cohort_qrh *rh,
		     bool *retry)
{
	int err;

	push_parked(rh);
	/*
	 * The opener waits for credit: a link that pushed back is retried.
	 * Closed, nobody does, and the node may have a new life by now.
	 */
	if (rh->pub_due && !rh->closed) {
		err = wq_simple(qm, rh->node, COHORT_WQ_PUBACK, rh->handle,
				rh->pub_due, 0);
		if (!err)
			rh->pub_due = 0;
		push_retry(err, retry);
	}
	if (rh->closed)
		return !rh->n_parked;
	if (READ_ONCE(rh->q->dead)) {
		if (!rh->gone_sent) {
			err = wq_simple(qm, rh->node, COHORT_WQ_GONE,
					rh->handle, 0, 0);
			rh->gone_sent = !err;
			push_retry(err, retry);
		}
		return false;
	}
	if (rh->role & COHORT_QR_CONSUME) {
		err = push_revokes(qm, rh);
		if (!err)
			err = push_deliveries(qm, rh);
		push_retry(err, retry);
	}
	if (rh->n_parked)
		*retry = true;	/* room may come without a wakeup to us */
	return false;
}

/*
 * CREDIT for @due deliveries taken or refused. One that cannot go now is
 * kept for the push work to try again: with the window used up the home
 * sends nothing, so waiting for the next receive could wait forever. With
 * no route to the home it waits for the route's return, which kicks the
 * work; any other failure is tried again shortly. Only that work clears
 * the mark, as it takes what is due: a concurrent reader's credit that
 * went must not hide this one from it.
 */
static void px_credit(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		      u32 due)
{
	int err;

	err = wq_simple(qm, px->home, COHORT_WQ_CREDIT, px->id, due, 0);
	if (!err)
		return;
	spin_lock(&px->lock);
	px->credit_due += due;
	px->credit_stuck = true;
	spin_unlock(&px->lock);
	set_bit(QM_PUSH_CREDIT, &qm->push_flags);
	if (err != -EHOSTUNREACH && !READ_ONCE(qm->stopping))
		queue_delayed_work(system_unbound_wq, &qm->push_work, PUSH_RETRY);
}

/*
 * From the push work, under qm->lock (which keeps the proxies): the credit
 * that failed to go. What fails again is left marked, as above.
 */
static void px_credit_retry(struct cohort_qmgr *qm)
{
	struct cohort_qproxy *px;
	unsigned long id;
	u32 due;

	if (!test_and_clear_bit(QM_PUSH_CREDIT, &qm->push_flags))
		return;
	xa_for_each(&qm->proxies, id, px) {
		spin_lock(&px->lock);
		due = px->credit_stuck ? px->credit_due : 0;
		px->credit_due -= due;
		px->credit_stuck = false;
		spin_unlock(&px->lock);
		if (due)
			px_credit(qm, px, due);
	}
}

/*
 * A CLOSE that could not go (no route to the home, a full link, no
 * memory) waits here for the push work: without it the home would keep
 * a consumer nobody reads, sending it a window of messages and counting
 * it in the queue's load. At most COHORT_QREMOTE_MAX wait.
 */
struct cohort_qclose {
	struct list_head list;
	u32 home;
	u64 id;
	u64 unread_from;
};

static void close_later(struct cohort_qmgr *qm, u32 home, u64 id,
			u64 unread_from)
{
	struct cohort_qclose *c;

	lockdep_assert_held(&qm->lock);

	if (qm->n_closes >= COHORT_QREMOTE_MAX)
		return;
	c = kmalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return;
	c->home = home;
	c->id = id;
	c->unread_from = unread_from;
	list_add_tail(&c->list, &qm->closes);
	qm->n_closes++;
	queue_delayed_work(system_unbound_wq, &qm->push_work, PUSH_RETRY);
}

static void close_free(struct cohort_qmgr *qm, struct cohort_qclose *c)
{
	list_del(&c->list);
	kfree(c);
	qm->n_closes--;
}

/* CLOSE for handle @id at @home, now or from the push work. */
static void close_send(struct cohort_qmgr *qm, u32 home, u64 id,
		       u64 unread_from)
{
	if (wq_simple(qm, home, COHORT_WQ_CLOSE, id, unread_from, 0))
		close_later(qm, home, id, unread_from);
}

/*
 * From the push work: the CLOSEs that wait. True to come again (a link
 * pushed back); one without a route waits for the route to come back,
 * which kicks the work.
 */
static bool push_closes(struct cohort_qmgr *qm)
{
	struct cohort_qclose *c, *t;
	bool retry = false;
	int err;

	list_for_each_entry_safe(c, t, &qm->closes, list) {
		err = wq_simple(qm, c->home, COHORT_WQ_CLOSE, c->id,
				c->unread_from, 0);
		if (err)
			push_retry(err, &retry);
		else
			close_free(qm, c);
	}
	return retry;
}

/* @node's new life knows none of the old one's handles, nor @all. */
static void closes_drop(struct cohort_qmgr *qm, u32 node, bool all)
{
	struct cohort_qclose *c, *t;

	list_for_each_entry_safe(c, t, &qm->closes, list)
		if (all || c->home == node)
			close_free(qm, c);
}

static void push_work_fn(struct work_struct *work)
{
	struct cohort_qmgr *qm = container_of(to_delayed_work(work),
					      struct cohort_qmgr, push_work);
	struct cohort_transport *tp = qm_tp(qm);
	struct cohort_qrh *rh, *t;
	LIST_HEAD(done);
	bool retry = false;

	if (READ_ONCE(qm->stopping))
		return;
	/* Kicks from here on queue another run: this one may miss them. */
	clear_bit(QM_PUSH_KICKED, &qm->push_flags);
	/* Pairs with test_and_set_bit() in a kick: we see what it changed. */
	smp_mb__after_atomic();
	mutex_lock(&tp->lock);
	mutex_lock(&qm->lock);
	list_for_each_entry_safe(rh, t, &qm->rhs, list) {
		if (push_one(qm, rh, &retry)) {
			list_move(&rh->list, &done);
			qm->n_rhs--;
		}
	}
	px_credit_retry(qm);
	retry |= push_closes(qm);
	mutex_unlock(&qm->lock);
	mutex_unlock(&tp->lock);
	list_for_each_entry_safe(rh, t, &done, list)
		rh_free(rh);
	if (retry)
		queue_delayed_work(system_unbound_wq, &qm->push_work, PUSH_RETRY);
}

/* ---- at the opener ---- */

static struct cohort_qproxy *px_find(struct cohort_qmgr *qm, u64 handle)
{
	lockdep_assert_held(&qm->lock);

	return handle > U32_MAX ? NULL : xa_load(&qm->proxies, handle);
}

static void px_free(struct cohort_qproxy *px)
{
	cohort_qmsg_free_list(&px->rx);
	cohort_qmsg_free_list(&px->held);
	kfree(px);
}

static void attr_from_wire(struct cohort_queue_attr *a,
			   const struct cohort_wire_qattr *wa)
{
	a->flags = get_unaligned_be32(&wa->flags);
	a->max_msgs = get_unaligned_be32(&wa->max_msgs);
	a->max_msg_size = min_t(u32, get_unaligned_be32(&wa->max_msg_size),
				COHORT_QMSG_MAX);
	a->max_bytes = get_unaligned_be32(&wa->max_bytes);
	a->ack_timeout_ms = get_unaligned_be32(&wa->ack_timeout_ms);
	a->max_deliveries = get_unaligned_be32(&wa->max_deliveries);
	a->overflow = get_unaligned_be32(&wa->overflow);
	a->__reserved = 0;
	memcpy(a->dlq, wa->dlq, sizeof(a->dlq));
	a->dlq[sizeof(a->dlq) - 1] = '\0';
}

/* The first home to say yes wins; any other that did is told to close. */
static int rx_opened(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		     u32 src, const struct cohort_wire_q *h, const u8 *body,
		     u32 len)
{
	u32 status = get_unaligned_be32(&h->status);
	u64 kind = get_unaligned_be64(&h->arg);
	bool surplus = false;

	if (status ? len != 0 || status > MAX_ERRNO :
		     len != sizeof(struct cohort_wire_qattr) ||
		     (kind != COHORT_QUEUE && kind != COHORT_TOPIC))
		return -EINVAL;
	spin_lock(&px->lock);
	px->answered++;
	if (status) {
		if (!px->status || px->status == -ENOENT)
			px->status = -status;
	} else if (px->home || (px->kind && px->kind != kind)) {
		surplus = true;
	} else {
		px->home = src;
		px->kind = kind;
		attr_from_wire(&px->attr, (const void *)body);
		px->pub_credit = COHORT_QREMOTE_PUB_WINDOW;
	}
	spin_unlock(&px->lock);
	wake_up(&px->wait);
	/*
	 * What a surplus home sent meanwhile (attempt tags count from 1)
	 * reaches no user: with acks, it goes back uncounted. So does what
	 * a home sent a descriptor gone before its OPENED (rx_proxy()).
	 */
	if (surplus)
		close_send(qm, src, px->id, 1);
	return 0;
}

/* A DELIVER frame that passed qmsgs_check(): all fit the window, or none. */
static int rx_deliver(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		      u32 count, const u8 *body)
{
	struct cohort_qmsg *m;
	LIST_HEAD(msgs);
	int err;

	if (!(px->role & COHORT_QR_CONSUME))
		return -EINVAL;
	err = msgs_from_wire(&msgs, count, body, false);
	if (err)
		goto refused;
	list_for_each_entry(m, &msgs, list)
		if (!m->tag != !px->explicit_ack)
			goto bad;
	/*
	 * The home keeps to the window we asked for; this bounds what any
	 * home can make us hold. One from before the window sends up to the
	 * most. So may a redelivery whose REVOKE came while a reader held
	 * the attempt, if the reader gave it back: both are here then.
	 */
	spin_lock(&px->lock);
	if (px->n_rx + count > COHORT_QREMOTE_WINDOW) {
		spin_unlock(&px->lock);
		goto bad;
	}
	if (px->explicit_ack)
		px->last_tag = list_last_entry(&msgs, struct cohort_qmsg,
					       list)->tag;
	list_splice_tail(&msgs, &px->rx);
	px->n_rx += count;
	spin_unlock(&px->lock);
	wake_up(&px->wait);
	return 0;
bad:
	cohort_qmsg_free_list(&msgs);
	err = -EINVAL;
refused:
	/*
	 * Without acks the home counts these as held here until CREDIT
	 * says they were taken: not credited, they would shrink the window
	 * for good. With acks, its ack timeout takes the attempts back.
	 */
	if (!px->explicit_ack)
		px_credit(qm, px, count);
	return err;
}

/* Forget attempts the home took back, received or not. */
static int rx_revoke(struct cohort_qproxy *px, u64 n, const u8 *body,
		     u32 len)
{
	const __be64 *p = (const void *)body;
	struct cohort_qmsg *m, *t;
	LIST_HEAD(freed);
	u64 tag;
	u32 i;

	if (n > COHORT_QREMOTE_WINDOW || len != n * sizeof(*p))
		return -EINVAL;
	spin_lock(&px->lock);
	for (i = 0; i < n; i++) {
		tag = get_unaligned_be64(&p[i]);
		list_for_each_entry_safe(m, t, &px->rx, list) {
			if (m->tag == tag) {
				list_move(&m->list, &freed);
				px->n_rx--;
			}
		}
		list_for_each_entry_safe(m, t, &px->held, list)
			if (m->tag == tag)
				list_move(&m->list, &freed);
	}
	spin_unlock(&px->lock);
	cohort_qmsg_free_list(&freed);
	return 0;
}

static int rx_proxy(struct cohort_qmgr *qm, u32 src,
		    const struct cohort_wire_q *h, const u8 *body, u32 len)
{
	u64 handle = get_unaligned_be64(&h->handle);
	u64 arg = get_unaligned_be64(&h->arg);
	struct cohort_qproxy *px = px_find(qm, handle);

	if (!px) {
		/* The descriptor is gone: the home must let go too. */
		if (h->op == COHORT_WQ_OPENED && !get_unaligned(&h->status))
			close_send(qm, src, handle, 1);
		return 0;
	}
	if (h->op == COHORT_WQ_OPENED)
		return rx_opened(qm, px, src, h, body, len);
	if (src != READ_ONCE(px->home))
		return -EINVAL;
	switch (h->op) {
	case COHORT_WQ_PUBACK:
		if (len || arg > COHORT_QREMOTE_PUB_WINDOW)
			return -EINVAL;
		spin_lock(&px->lock);
		px->pub_credit = min_t(u32, px->pub_credit + arg,
				       COHORT_QREMOTE_PUB_WINDOW);
		spin_unlock(&px->lock);
		break;
	case COHORT_WQ_DELIVER:
		return rx_deliver(qm, px, arg, body);
	case COHORT_WQ_REVOKE:
		return rx_revoke(px, arg, body, len);
	case COHORT_WQ_GONE:
		WRITE_ONCE(px->dead, true);
		break;
	default:
		return -EINVAL;
	}
	wake_up(&px->wait);
	return 0;
}

/* A QUEUE frame for this node, under the transport lock. */
int cohort_qremote_rx(struct cohort_transport *tp, u32 src, const void *body,
		      u32 len)
{
	struct cohort_qmgr *qm = &tp->node->qm;
	const struct cohort_wire_q *h = body;
	const u8 *rest = (const u8 *)(h + 1);
	int err;

	if (h->reserved[0] || h->reserved[1] || h->reserved[2] ||
	    READ_ONCE(qm->stopping))
		return -EINVAL;
	len -= sizeof(*h);
	/* A batch is checked whole, whether or not its handle is known. */
	if ((h->op == COHORT_WQ_PUB &&
	     qmsgs_check(get_unaligned_be64(&h->arg),
			 COHORT_QREMOTE_PUB_WINDOW, rest, len)) ||
	    (h->op == COHORT_WQ_DELIVER &&
	     qmsgs_check(get_unaligned_be64(&h->arg), COHORT_QREMOTE_WINDOW,
			 rest, len)))
		return -EINVAL;
	switch (h->op) {
	case COHORT_WQ_OPEN:
	case COHORT_WQ_CLOSE:
	case COHORT_WQ_PUB:
	case COHORT_WQ_CREDIT:
	case COHORT_WQ_ACK:
	case COHORT_WQ_NACK:
		err = rx_home(qm, src, h, rest, len);
		if (err != -ENOENT)
			return err;
		/*
		 * No descriptor of ours (this node restarted, say): the
		 * opener would wait for credit or deliveries forever.
		 */
		if (h->op != COHORT_WQ_CLOSE)
			wq_simple(qm, src, COHORT_WQ_GONE,
				  get_unaligned_be64(&h->handle), 0, 0);
		return 0;
	case COHORT_WQ_OPENED:
	case COHORT_WQ_PUBACK:
	case COHORT_WQ_DELIVER:
	case COHORT_WQ_REVOKE:
	case COHORT_WQ_GONE:
		mutex_lock(&qm->lock);
		err = rx_proxy(qm, src, h, rest, len);
		mutex_unlock(&qm->lock);
		return err;
	}
	return -EINVAL;
}

/* ---- the opener's calls ---- */

/* A search (@home 0) never creates: only the opener's node does, last. */
static void qopen_to_wire(struct cohort_wire_qopen *w,
			  const struct cohort_queue_open *o, u32 home,
			  u32 window)
{
	const struct cohort_queue_attr *a = &o->attr;
	struct user_namespace *ns = current_user_ns();

	memset(w, 0, sizeof(*w));
	w->kind = cpu_to_be32(o->kind);
	w->flags = cpu_to_be32(home ? o->flags & (COHORT_QO_CREATE |
						  COHORT_QO_EXCL) : 0);
	w->role = cpu_to_be32(o->role);
	w->ack = cpu_to_be32(o->ack);
	w->mode = cpu_to_be32(o->mode);
	w->uid = cpu_to_be32(from_kuid_munged(ns, current_fsuid()));
	w->gid = cpu_to_be32(from_kgid_munged(ns, current_fsgid()));
	w->window = cpu_to_be32(window);
	strscpy(w->name, o->name, sizeof(w->name));
	strscpy(w->sub, o->sub, sizeof(w->sub));
	w->filter_mask = cpu_to_be32(o->filter_mask);
	w->filter_value = cpu_to_be32(o->filter_value);
	w->attr.flags = cpu_to_be32(a->flags);
	w->attr.max_msgs = cpu_to_be32(a->max_msgs);
	w->attr.max_msg_size = cpu_to_be32(a->max_msg_size);
	w->attr.max_bytes = cpu_to_be32(a->max_bytes);
	w->attr.ack_timeout_ms = cpu_to_be32(a->ack_timeout_ms);
	w->attr.max_deliveries = cpu_to_be32(a->max_deliveries);
	w->attr.overflow = cpu_to_be32(a->overflow);
	memcpy(w->attr.dlq, a->dlq, sizeof(w->attr.dlq));
}

/* OPEN to @home, or to every reachable node; how many were asked. */
static u32 px_ask(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		  const struct cohort_queue_open *o, u32 home)
{
	struct cohort_transport *tp = qm_tp(qm);
	struct cohort_wire_qopen *w;
	struct cohort_lsa *lsa;
	unsigned long id;
	u32 asked = 0;

	mutex_lock(&tp->lock);
	xa_for_each(&tp->route.lsdb, id, lsa) {
		if (home ? id != home : lsa->state != COHORT_MEMBER_REACHABLE)
			continue;
		wq_hdr(qm, COHORT_WQ_OPEN, px->id, 0, 0);
		w = (void *)(qm->scratch + sizeof(struct cohort_wire_q));
		qopen_to_wire(w, o, home, px->window);
		if (!wq_send(qm, id, sizeof(*w), NULL, 0, GFP_KERNEL_ACCOUNT))
			asked++;
	}
	mutex_unlock(&tp->lock);
	spin_lock(&px->lock);
	px->asked = asked;
	spin_unlock(&px->lock);
	return asked;
}

static bool px_settled(struct cohort_qproxy *px)
{
	bool done;

	spin_lock(&px->lock);
	done = px->home || px->answered >= px->asked;
	spin_unlock(&px->lock);
	return done;
}

/*
 * How an open that waited @r ended. Decided under qm->lock, which OPENED
 * replies take, and a failed proxy unlisted under it: a reply after the
 * decision finds no proxy and closes its handle, where one between the two
 * would have left the handle open at the home.
 */
static int px_outcome(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		      long r)
{
	int err;

	mutex_lock(&qm->lock);
	spin_lock(&px->lock);
	err = px->home ? 0 : r < 0 ? r : px->answered < px->asked ?
	      -ETIMEDOUT : px->status ?: -ENOENT;
	spin_unlock(&px->lock);
	if (err)
		xa_erase(&qm->proxies, px->id);
	mutex_unlock(&qm->lock);
	return err;
}

/*
 * Open @o's queue at @home, or find it on the reachable nodes (home 0):
 * -ENOENT when none has it, -EHOSTUNREACH when there is nobody to ask.
 */
struct cohort_qproxy *cohort_qproxy_open(struct cohort_afile *a,
					 const struct cohort_queue_open *o,
					 u32 home)
{
	struct cohort_qmgr *qm = &a->node->qm;
	struct cohort_qproxy *px;
	long r;
	int err;

	px = kzalloc(sizeof(*px), GFP_KERNEL_ACCOUNT);
	if (!px)
		return ERR_PTR(-ENOMEM);
	px->role = o->role;
	px->explicit_ack = o->ack == COHORT_ACK_EXPLICIT;
	px->window = o->prefetch ?: COHORT_QREMOTE_WINDOW;
	spin_lock_init(&px->lock);
	init_waitqueue_head(&px->wait);
	INIT_LIST_HEAD(&px->rx);
	INIT_LIST_HEAD(&px->held);
	px->asked = U32_MAX;
	mutex_lock(&qm->lock);
	err = xa_alloc_cyclic(&qm->proxies, &px->id, px, XA_LIMIT(1, U32_MAX),
			      &qm->next_proxy, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&qm->lock);
	if (err < 0) {
		kfree(px);
		return ERR_PTR(err);
	}
	if (!px_ask(qm, px, o, home)) {
		err = -EHOSTUNREACH;
		goto fail;
	}
	r = wait_event_interruptible_timeout(px->wait, px_settled(px),
					     msecs_to_jiffies(COHORT_QREMOTE_OPEN_MS));
	err = px_outcome(qm, px, r);
	if (!err)
		return px;
	px_free(px);
	return ERR_PTR(err);
fail:
	mutex_lock(&qm->lock);
	xa_erase(&qm->proxies, px->id);
	mutex_unlock(&qm->lock);
	px_free(px);
	return ERR_PTR(err);
}

/*
 * What CLOSE tells the home: the first attempt no user here received, the
 * first record no process took from the descriptor's ring (@ring_unread),
 * else the head of what is waiting, else the one after the last that
 * came. Users take deliveries in the order of their tags, so every later
 * attempt, also one still on its way, is unread too (see rx_close()).
 */
static u64 px_unread_from(struct cohort_qproxy *px, u64 ring_unread)
{
	struct cohort_qmsg *m;
	u64 unread_from = 0;

	spin_lock(&px->lock);
	m = list_first_entry_or_null(&px->rx, struct cohort_qmsg, list);
	if (px->explicit_ack)
		unread_from = ring_unread ?: m ? m->tag : px->last_tag + 1;
	spin_unlock(&px->lock);
	return unread_from;
}

void cohort_qproxy_close(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			 u64 ring_unread)
{
	struct cohort_transport *tp = qm_tp(qm);

	mutex_lock(&tp->lock);
	mutex_lock(&qm->lock);
	xa_erase(&qm->proxies, px->id);
	/* Still opening (no home yet): the homes that answer get CLOSE. */
	if (!qm->stopping && px->home)
		close_send(qm, px->home, px->id,
			   px_unread_from(px, ring_unread));
	mutex_unlock(&qm->lock);
	mutex_unlock(&tp->lock);
	px_free(px);
}

static bool px_has_credit(struct cohort_qproxy *px)
{
	return READ_ONCE(px->pub_credit) > 0;
}

static bool px_has_rx(struct cohort_qproxy *px)
{
	return READ_ONCE(px->n_rx) > 0;
}

/* Wait up to *left for @ready; 0, or why not. */
static int px_wait(struct cohort_qproxy *px,
		   bool (*ready)(struct cohort_qproxy *px), long *left)
{
	long r;

	if (!ready(px) && !READ_ONCE(px->dead)) {
		if (!*left)
			return -EAGAIN;
		r = wait_event_interruptible_timeout(px->wait,
						     ready(px) ||
						     READ_ONCE(px->dead),
						     *left);
		if (r < 0)
			return r;
		if (!r)
			return -ETIMEDOUT;
		if (*left != MAX_SCHEDULE_TIMEOUT)
			*left = r;
	}
	return READ_ONCE(px->dead) ? -EIDRM : 0;
}

/* Credit taken for @n publishes that did not go goes back to waiters. */
static void px_credit_back(struct cohort_qproxy *px, u32 n)
{
	spin_lock(&px->lock);
	px->pub_credit += n;
	spin_unlock(&px->lock);
	wake_up(&px->wait);
}

/*
 * Publish the messages of @msgs in order while the home has room for them,
 * packed into as few frames as the credit and the body bound allow. Returns
 * how many went (they are freed), or the error of the first frame.
 */
int cohort_qproxy_send(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		       struct list_head *msgs, long *left)
{
	struct cohort_transport *tp = qm_tp(qm);
	u32 n, i, body_len;
	struct cohort_qmsg *m;
	int sent = 0, err = 0;

	while (!list_empty(msgs) && !err) {
		err = px_wait(px, px_has_credit, left);
		if (err)
			break;
		mutex_lock(&tp->lock);
		while (!list_empty(msgs)) {
			m = list_first_entry(msgs, struct cohort_qmsg, list);
			spin_lock(&px->lock);
			n = wq_pack(msgs, m, px->pub_credit, &body_len);
			px->pub_credit -= n;
			spin_unlock(&px->lock);
			if (!n)
				break;
			err = wq_msgs(qm, px->home, COHORT_WQ_PUB, px->id, msgs,
				      m, n, body_len, GFP_KERNEL_ACCOUNT);
			if (err) {
				px_credit_back(px, n);
				break;
			}
			for (i = 0; i < n; i++) {
				m = list_first_entry(msgs, struct cohort_qmsg,
						     list);
				list_del(&m->list);
				cohort_qmsg_free(m);
			}
			sent += n;
		}
		mutex_unlock(&tp->lock);
	}
	return sent ?: err;
}

/*
 * How many of the @n messages at @o, each with @vc_len stamps, go in one
 * PUB frame of at most @max; *@body_len is the body they make.
 */
static u32 wq_pack_user(const struct cohort_qmsg_out *o, u32 n, u32 max,
			u32 vc_len, u32 *body_len)
{
	u32 k, len = sizeof(struct cohort_wire_q), l;

	for (k = 0; k < min(n, max); k++) {
		l = sizeof(struct cohort_wire_qmsg) +
		    vc_len * sizeof(struct cohort_wire_vc) + o[k].len;
		if (k && len + l > COHORT_WIRE_MAX_QBODY)
			break;
		len += l;
	}
	*body_len = len;
	return k;
}

/*
 * The payloads of the @n messages at @o into the PUB body at @body, each
 * after room for its header and @vc_len stamps; -EFAULT if one is not at
 * hand (page faults are not waited for under the transport lock).
 */
static int wq_user_payloads(u8 *body, const struct cohort_qmsg_out *o, u32 n,
			    u32 vc_len)
{
	u8 *p = body + sizeof(struct cohort_wire_q);
	unsigned long left = 0;
	u32 i;

	pagefault_disable();
	for (i = 0; i < n && !left; i++) {
		p += sizeof(struct cohort_wire_qmsg) +
		     vc_len * sizeof(struct cohort_wire_vc);
		left = copy_from_user(p, u64_to_user_ptr(o[i].data), o[i].len);
		p += o[i].len;
	}
	pagefault_enable();
	return left ? -EFAULT : 0;
}

/*
 * Stamp the @n messages of a PUB body whose payloads are in, each by a
 * send event of @a, and write their headers; a TTL is what is left of it
 * after @waited_ms. The end of what was written, or NULL if a stamp
 * failed or has not the @vc_len entries room was left for (roomy clocks
 * make both impossible).
 */
static u8 *wq_user_stamp(u8 *body, struct cohort_afile *a,
			 const struct cohort_qmsg_out *o, u32 n, u32 vc_len,
			 u32 waited_ms)
{
	struct cohort_clocks *c = &a->clocks;
	struct cohort_qmsg m = { .sender = a->id };
	u8 *p = body + sizeof(struct cohort_wire_q);
	u32 i, ttl;
	int err;

	for (i = 0; i < n; i++) {
		err = cohort_clocks_send(c, a->id);
		if (WARN_ON_ONCE(err || c->vc.len != vc_len))
			return NULL;
		m.lamport = c->lamport;
		m.len = o[i].len;
		m.vc_len = vc_len;
		m.prio = o[i].prio;
		m.key = o[i].key;
		ttl = o[i].ttl_ms ?
		      max(o[i].ttl_ms - min(o[i].ttl_ms, waited_ms), 1U) : 0;
		p = qmsg_hdr_to_wire((void *)p, &m, c->vc.entry, ttl);
		p += o[i].len;
	}
	return p;
}

/*
 * How many of the @n messages at @o have their payloads at hand, from the
 * first: the copy into a frame does not wait for page faults.
 */
static u32 wq_user_fault_in(const struct cohort_qmsg_out *o, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (fault_in_readable(u64_to_user_ptr(o[i].data), o[i].len))
			break;
	}
	return i;
}

/*
 * Publish the first of the @n messages at @o, sent by @a, straight from
 * user memory into one PUB frame: no message is built on the way. Waits
 * up to *left for credit. Returns how many went (0: none could go this
 * way, as a payload was not at hand: build them), or why none did.
 */
int cohort_qproxy_send_user(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			    struct cohort_afile *a,
			    const struct cohort_qmsg_out *o, u32 n, long *left)
{
	struct cohort_transport *tp = qm_tp(qm);
	u32 k = 0, vc_len, body_len, waited_ms;
	u64 start = ktime_get_ns();
	struct cohort_frame *f;
	void *body;
	int err;

	/* A bad pointer says EFAULT at once, credit or not: the slow way. */
	n = wq_user_fault_in(o, n);
	if (!n)
		return 0;
	err = px_wait(px, px_has_credit, left);
	if (err)
		return err;
	waited_ms = div_u64(ktime_get_ns() - start, NSEC_PER_MSEC);
	mutex_lock(&a->lock);
	if (!cohort_clocks_roomy(&a->clocks))
		goto out_actor;
	vc_len = cohort_clocks_send_len(&a->clocks, a->id);
	mutex_lock(&tp->lock);
	spin_lock(&px->lock);
	k = wq_pack_user(o, n, px->pub_credit, vc_len, &body_len);
	px->pub_credit -= k;
	spin_unlock(&px->lock);
	if (!k)
		goto out;
	f = cohort_dgram_frame_new(tp, px->home, COHORT_WIRE_QUEUE, body_len,
				   GFP_KERNEL_ACCOUNT, &body);
	if (IS_ERR(f)) {
		err = PTR_ERR(f);
		goto undo;
	}
	wq_hdr_at(body, COHORT_WQ_PUB, px->id, k, 0);
	err = wq_user_payloads(body, o, k, vc_len);
	if (!err &&
	    wq_user_stamp(body, a, o, k, vc_len, waited_ms) != body + body_len)
		err = -EOVERFLOW;
	if (err) {
		cohort_dgram_frame_drop(tp, f);
		/* Not at hand after all: the slow way faults it in. */
		err = err == -EFAULT ? 0 : err;
		goto undo;
	}
	err = cohort_dgram_frame_send(tp, px->home, f);
	if (!err)
		goto out;
undo:
	px_credit_back(px, k);
	k = 0;
out:
	mutex_unlock(&tp->lock);
out_actor:
	mutex_unlock(&a->lock);
	return k ?: err;
}

/* Wait for the first delivery (a revoke may take it away again). */
int cohort_qproxy_take(struct cohort_qproxy *px, struct list_head *got,
		       u32 max, long left)
{
	struct cohort_qmsg *m, *t;
	int err;

	while (list_empty(got)) {
		err = px_wait(px, px_has_rx, &left);
		if (err)
			return err;
		spin_lock(&px->lock);
		list_for_each_entry_safe(m, t, &px->rx, list) {
			if (!max--)
				break;
			list_move_tail(&m->list, got);
			px->n_rx--;
		}
		spin_unlock(&px->lock);
	}
	return 0;
}

/*
 * After the copy to the user: @back goes first in line again; @got is
 * held for acks, or freed and credited to the home.
 */
void cohort_qproxy_taken(struct cohort_qmgr *qm, struct cohort_qproxy *px,
			 struct list_head *got, struct list_head *back)
{
	struct cohort_transport *tp = qm_tp(qm);
	struct cohort_qmsg *m, *t;
	u32 n = 0, due = 0;

	list_for_each_entry(m, got, list)
		n++;
	spin_lock(&px->lock);
	list_for_each_entry_safe_reverse(m, t, back, list) {
		list_move(&m->list, &px->rx);
		px->n_rx++;
	}
	if (px->explicit_ack) {
		list_splice_tail_init(got, &px->held);
	} else {
		px->credit_due += n;
		/* Credit in batches, but at once when nothing is left here. */
		if (px->credit_due >= px->window / 4 || !px->n_rx) {
			due = px->credit_due;
			px->credit_due = 0;
		}
	}
	spin_unlock(&px->lock);
	cohort_qmsg_free_list(got);
	if (!due)
		return;
	mutex_lock(&tp->lock);
	px_credit(qm, px, due);
	mutex_unlock(&tp->lock);
}

/* Acks or nacks for attempts this descriptor holds; ESTALE stops. */
int cohort_qproxy_ack(struct cohort_qmgr *qm, struct cohort_qproxy *px,
		      const u64 *tags, u32 n, bool ack, u32 *done)
{
	struct cohort_transport *tp = qm_tp(qm);
	struct cohort_qmsg *m, *t;
	LIST_HEAD(acked);
	int err = 0, serr;
	u32 i;

	spin_lock(&px->lock);
	for (i = 0; i < n; i++) {
		err = -ESTALE;
		list_for_each_entry_safe(m, t, &px->held, list) {
			if (m->tag == tags[i]) {
				list_move_tail(&m->list, &acked);
				err = 0;
				break;
			}
		}
		if (err)
			break;
	}
	spin_unlock(&px->lock);
	*done = i;
	if (!i)
		return err;
	mutex_lock(&tp->lock);
	serr = wq_tags(qm, px->home, ack ? COHORT_WQ_ACK : COHORT_WQ_NACK,
		       px->id, tags, i, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&tp->lock);
	if (serr) {
		spin_lock(&px->lock);
		list_splice(&acked, &px->held);
		spin_unlock(&px->lock);
		*done = 0;
		return serr;
	}
	cohort_qmsg_free_list(&acked);
	return err;
}

__poll_t cohort_qproxy_poll(struct cohort_qproxy *px)
{
	__poll_t mask = 0;

	if (READ_ONCE(px->dead))
		return EPOLLHUP | EPOLLERR;
	if (px->role & COHORT_QR_CONSUME && px_has_rx(px))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (px->role & COHORT_QR_PRODUCE && px_has_credit(px))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* ---- setup ---- */

int cohort_qremote_init(struct cohort_qmgr *qm)
{
	INIT_LIST_HEAD(&qm->rhs);
	INIT_LIST_HEAD(&qm->closes);
	xa_init_flags(&qm->proxies, XA_FLAGS_ALLOC1);
	/*
	 * A new life of the node does not start its handles where the old
	 * one did: a late frame for an old handle would find a new proxy.
	 */
	qm->next_proxy = get_random_u32();
	INIT_DELAYED_WORK(&qm->push_work, push_work_fn);
	qm->scratch = kmalloc(SCRATCH_SIZE, GFP_KERNEL);
	return qm->scratch ? 0 : -ENOMEM;
}

/* A handle of @node this home still serves, CLOSE not yet come. */
static struct cohort_qrh *rh_of_node(struct cohort_qmgr *qm, u32 node)
{
	struct cohort_qrh *rh, *found = NULL;

	mutex_lock(&qm->lock);
	list_for_each_entry(rh, &qm->rhs, list) {
		if (rh->node == node && !rh->closed) {
			found = rh;
			break;
		}
	}
	mutex_unlock(&qm->lock);
	return found;
}

/*
 * @node started a new life (its LSA says so), and what was on its way to
 * or from the old one went with it: descriptors across it are over. Its
 * handles here close as on CLOSE (what they parked still goes in, with no
 * PUBACK to the new life); descriptors here of queues it was home to hear
 * that the queue is gone, which an idle consumer would not otherwise.
 * Under the transport lock, as frames are; rare enough for a scan per
 * handle.
 */
void cohort_qremote_reborn(struct cohort_qmgr *qm, u32 node)
{
	struct cohort_qproxy *px;
	struct cohort_qrh *rh;
	unsigned long id;

	lockdep_assert_held(&qm_tp(qm)->lock);

	if (READ_ONCE(qm->stopping))
		return;
	mutex_lock(&qm->lock);
	xa_for_each(&qm->proxies, id, px) {
		if (READ_ONCE(px->home) != node)
			continue;
		WRITE_ONCE(px->dead, true);
		wake_up(&px->wait);
	}
	closes_drop(qm, node, false);
	mutex_unlock(&qm->lock);
	while ((rh = rh_of_node(qm, node)))
		rx_close(qm, rh, 0);
}

/* Before the transport stops: no more frames in or out. */
void cohort_qremote_stop(struct cohort_qmgr *qm)
{
	WRITE_ONCE(qm->stopping, true);
	cancel_delayed_work_sync(&qm->push_work);
}

/* After the transport stopped: let go of the descriptors served. */
void cohort_qremote_exit(struct cohort_qmgr *qm)
{
	struct cohort_qrh *rh, *t;

	cancel_delayed_work_sync(&qm->push_work);
	list_for_each_entry_safe(rh, t, &qm->rhs, list) {
		list_del(&rh->list);
		if (!rh->closed)
			rh_release(rh, 0);
		rh_free(rh);
	}
	qm->n_rhs = 0;
	closes_drop(qm, 0, true);
	WARN_ON(!xa_empty(&qm->proxies));
	xa_destroy(&qm->proxies);
	kfree(qm->scratch);
}
