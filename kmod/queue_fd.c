// SPDX-License-Identifier: GPL-2.0
/*
 * Queue descriptors: COHORT_IOC_QUEUE_OPEN on /dev/cohort returns an anon
 * inode file that sends to and receives from one queue or topic, with
 * batches, timeouts, acknowledgments and poll.
 *
 * A descriptor belongs to the actor that opened it and holds that file:
 * every message sent is a send event of the actor's clocks and carries its
 * stamps; every message received is a receive event.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "chardev.h"
#include "node.h"
#include "queue.h"
#include "queue_fd.h"
#include "queue_remote.h"
#include "queue_ring.h"

static_assert(sizeof(struct cohort_queue_attr) == 96);
static_assert(sizeof(struct cohort_queue_open) == 280);
static_assert(offsetof(struct cohort_queue_open, filter_mask) ==
	      COHORT_QUEUE_OPEN_SIZE_VER0);
static_assert(offsetof(struct cohort_queue_open, prefetch) ==
	      COHORT_QUEUE_OPEN_SIZE_VER1);
static_assert(sizeof(struct cohort_qmsg_out) == 24);
static_assert(sizeof(struct cohort_qmsg_in) == 88);
static_assert(sizeof(struct cohort_qsend) == 24);
static_assert(sizeof(struct cohort_qrecv) == 24);
static_assert(sizeof(struct cohort_qack) == 24);

/*
 * One descriptor: of a queue homed here (@q), or elsewhere (@px). A
 * consumer may have a receive ring, set once under the actor's lock; it
 * is the mapping's as much as the descriptor's, and goes with the file.
 */
struct qfd {
	struct file *afile;		/* the actor's /dev/cohort file */
	struct cohort_afile *actor;
	struct cohort_qmgr *qm;
	struct cohort_queue *q;
	struct cohort_qproxy *px;
	u32 role;
	bool explicit_ack;
	struct cohort_qcons cons;	/* role CONSUME, @q */
	struct cohort_qring *ring;
	kuid_t ring_owner;		/* whose budget pays for it */
	u64 ring_charge;
};

static const struct cohort_queue_attr *qfd_attr(const struct qfd *h)
{
	return h->px ? &h->px->attr : &h->q->attr;
}

/*
 * Payloads of small messages are copied word by word in one user access
 * window: hardened usercopy (check_object_size()) looks up the slab object
 * of every copy, which costs a small message more than the copy itself.
 * The bounds it would check are the message's own length.
 */
#define QFD_COPY_SMALL	256

static int qfd_data_in(void *dst, const void __user *src, u32 len)
{
	u64 w;
	u8 b;

	if (!IS_ENABLED(CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS) ||
	    len > QFD_COPY_SMALL)
		return copy_from_user(dst, src, len) ? -EFAULT : 0;
	if (!user_access_begin(src, len))
		return -EFAULT;
	for (; len >= sizeof(w); len -= sizeof(w)) {
		unsafe_get_user(w, (const u64 __user *)src, efault);
		memcpy(dst, &w, sizeof(w));
		src += sizeof(w);
		dst += sizeof(w);
	}
	for (; len; len--) {
		unsafe_get_user(b, (const u8 __user *)src++, efault);
		*(u8 *)dst++ = b;
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

static int qfd_data_out(void __user *dst, const void *src, u32 len)
{
	if (len > QFD_COPY_SMALL)
		return copy_to_user(dst, src, len) ? -EFAULT : 0;
	if (!user_access_begin(dst, len))
		return -EFAULT;
	unsafe_copy_to_user(dst, src, len, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* ---- send ---- */

/*
 * Messages built per hold of the actor's lock and enqueued per hold of the
 * queue's; it also bounds what a batch allocates before any of it goes.
 */
#define QFD_CHUNK	64

/* Messages a send with no more than this many keeps on the stack. */
#define QFD_STACK_MSGS	4

/*
 * A message from user memory, stamped by a send event of the actor. The
 * clocks move only once the payload is in.
 */
static struct cohort_qmsg *qfd_build(struct cohort_afile *a,
				     const struct cohort_qmsg_out *o)
{
	struct cohort_clocks *c = &a->clocks;
	struct cohort_qmsg *m;
	int err;

	lockdep_assert_held(&a->lock);

	m = cohort_qmsg_alloc(o->len, min_t(u32, c->vc.len + 1,
					    COHORT_VC_MAX_ENTRIES),
			      GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	err = qfd_data_in(m->data, u64_to_user_ptr(o->data), o->len);
	if (err)
		goto free;
	/*
	 * A message stamped U64_MAX could never be received, by anyone:
	 * each receive would overflow, and it would block the queue.
	 */
	err = c->lamport >= U64_MAX - 1 ? -EOVERFLOW :
	      cohort_clocks_send(c, a->id);
	if (err)
		goto free;
	m->lamport = c->lamport;
	m->vc_len = c->vc.len;
	memcpy(m->vc, c->vc.entry, c->vc.len * sizeof(*m->vc));
	m->sender = a->id;
	m->prio = o->prio;
	m->key = o->key;
	m->expire_ns = cohort_qmsg_expiry(o->ttl_ms);
	return m;
free:
	cohort_qmsg_free(m);
	return ERR_PTR(err);
}

/* Build @n messages onto @msgs; stops at the first that fails. */
static int qfd_build_batch(struct qfd *h, const struct cohort_qmsg_out *o,
			   u32 n, struct list_head *msgs)
{
	struct cohort_qmsg *m;
	int err = 0;
	u32 i;

	mutex_lock(&h->actor->lock);
	for (i = 0; i < n; i++) {
		m = qfd_build(h->actor, &o[i]);
		if (IS_ERR(m)) {
			err = PTR_ERR(m);
			break;
		}
		list_add_tail(&m->list, msgs);
	}
	mutex_unlock(&h->actor->lock);
	return err;
}

/*
 * One message from user memory into the record reserved for it at d->pos,
 * stamped by a send event of @a and received by the consumer's actor. The
 * copy does not wait for a page fault: that would hold the consumer's
 * actor for as long as the sender's memory makes it wait.
 */
static int qfd_direct_one(struct cohort_afile *a, struct cohort_qdirect *d,
			  struct cohort_clocks_run *run,
			  const struct cohort_qmsg_out *o, u32 vc_len)
{
	struct cohort_qring *r = d->c->ring;
	struct cohort_qrec *rec = cohort_qring_rec(r, d->pos);
	struct cohort_vc_entry *vc = cohort_qring_rec_vc(r, rec);
	struct cohort_afile *c = d->actor;
	int err;

	pagefault_disable();
	err = cohort_qring_copy_from_user(r, d->pos + r->hdr +
					  vc_len * sizeof(*vc),
					  u64_to_user_ptr(o->data), o->len);
	pagefault_enable();
	if (err)
		return err;
	/* Both clocks are roomy: neither event can fail (see clock.c). */
	err = cohort_clocks_send(&a->clocks, a->id);
	if (WARN_ON_ONCE(err || a->clocks.vc.len != vc_len))
		return -EOVERFLOW;
	rec->data_len = o->len;
	rec->vc_len = vc_len;
	rec->sender = a->id;
	rec->lamport = a->clocks.lamport;
	rec->expire_ns = cohort_qmsg_expiry(o->ttl_ms);
	rec->prio = o->prio;
	memcpy(vc, a->clocks.vc.entry, vc_len * sizeof(*vc));
	cohort_qring_set_key(r, rec, o->key);
	err = cohort_clocks_recv_run(&c->clocks, run, rec->lamport, vc, vc_len,
				     c->id);
	if (WARN_ON_ONCE(err))
		return err;
	cohort_queue_direct_commit(d);
	return 0;
}

/*
 * The run of qfd_send_direct(), payloads at hand. Its arrays are here, not
 * there: the kernel zeroes a function's locals on every call
 * (CONFIG_INIT_STACK_ALL_ZERO), and most sends find no ring to take them.
 */
static u32 qfd_direct_run(struct qfd *h, const struct cohort_qmsg_out *o,
			  u32 n, bool *wait)
{
	struct cohort_clocks_run run = {};
	struct cohort_afile *a = h->actor;
	struct cohort_qdirect d;
	u32 vc_len, k = 0, i;
	u32 size[QFD_CHUNK];

	mutex_lock(&a->lock);
	if (!cohort_clocks_roomy(&a->clocks))
		goto out;
	vc_len = cohort_clocks_send_len(&a->clocks, a->id);
	for (i = 0; i < n; i++)
		size[i] = o[i].len + vc_len * sizeof(struct cohort_vc_entry);
	k = cohort_queue_direct(h->q, a, size, n, &d);
	*wait = d.wait;
	for (i = 0; i < k; i++) {
		if (qfd_direct_one(a, &d, &run, &o[i], vc_len))
			break;
	}
	/* The others' records were the last reserved: taken back. */
	if (i < k)
		cohort_qring_unreserve(d.c->ring, d.pos);
	if (k) {
		cohort_clocks_run_end(&d.actor->clocks, &run);
		cohort_queue_direct_end(&d);
		if (d.actor != a)
			mutex_unlock(&d.actor->lock);
	}
out:
	mutex_unlock(&a->lock);
	if (!k)
		return 0;
	if (d.file)
		fput(d.file);
	cohort_queue_direct_done(h->q, &d, k - i);
	return i;
}

/*
 * Send the first of the @n (at most QFD_CHUNK) messages at @o straight
 * into a consumer's ring, when the queue has one to take them
 * (cohort_queue_direct()): how many went; *@wait when none did, but the
 * rings will take them later (d->wait). The rest go through the store,
 * from a record that could not be filled on, or a message the store would
 * refuse (too large, which fails there): then they cannot overtake it.
 * Payloads are faulted in first, with no lock held.
 */
static u32 qfd_send_direct(struct qfd *h, const struct cohort_qmsg_out *o,
			   u32 n, bool *wait)
{
	u32 i = 0;

	*wait = false;
	if (!cohort_queue_may_direct(h->q))
		return 0;
	while (i < n && !fault_in_readable(u64_to_user_ptr(o[i].data),
					   o[i].len))
		i++;
	return i ? qfd_direct_run(h, o, i, wait) : 0;
}

/*
 * Bytes @o holds in a store at least, known without the actor's lock: the
 * payload and a stamp of as many entries as the vector has (vectors only
 * grow), and at least the sender's own.
 */
static u32 qfd_size_min(const struct qfd *h, const struct cohort_qmsg_out *o)
{
	u32 vc_len = max_t(u32, READ_ONCE(h->actor->clocks.vc.len), 1);

	return o->len + vc_len * sizeof(struct cohort_vc_entry);
}

/* Remaining wait in jiffies: MAX_SCHEDULE_TIMEOUT forever, 0 none. */
static long qfd_timeout(struct file *file, s32 ms)
{
	if (file->f_flags & O_NONBLOCK || !ms)
		return 0;
	if (ms < 0)
		return MAX_SCHEDULE_TIMEOUT;
	return msecs_to_jiffies(ms) ?: 1;
}

/* How long one send call waits for the rings before it adds to the store. */
#define QFD_RING_WAIT	msecs_to_jiffies(10)

/*
 * Wait for a ring of @q to have more room than at @gen, or for a fill to
 * empty its store, while senders wait at all (flow control,
 * cohort_queue_ring_flow()), until jiffies @end and within *left, charged
 * with the time it took: 0 to try the rings again, -EAGAIN to add to the
 * store (also once *left is spent: the store is still tried, without
 * waiting), or why not.
 */
static int qfd_wait_ring(struct cohort_queue *q, u32 gen, long *left,
			 unsigned long end)
{
	long want = min_t(long, *left, (long)(end - jiffies)), r;
	unsigned long start = jiffies;

	if (want <= 0)
		return -EAGAIN;
	r = wait_event_interruptible_timeout(q->mq->ring_wait,
					     cohort_queue_ring_gen(q) != gen ||
					     !cohort_queue_ring_flow(q), want);
	if (r < 0)
		return r;
	if (*left != MAX_SCHEDULE_TIMEOUT)
		*left = max_t(long, *left - (long)(jiffies - start), 0);
	return r ? 0 : -EAGAIN;
}

/* Wait up to *left for room for a message of @size in @q's store. */
static int qfd_wait_room(struct cohort_queue *q, u32 size, long *left)
{
	long r;

	if (!*left)
		return -EAGAIN;
	r = wait_event_interruptible_timeout(q->wwait,
					     cohort_queue_room(q, size) ||
					     READ_ONCE(q->dead), *left);
	if (r < 0)
		return r;
	if (!r) {
		*left = 0;
		return -ETIMEDOUT;
	}
	if (*left != MAX_SCHEDULE_TIMEOUT)
		*left = r;
	return 0;
}

/* Enqueue @msgs here, waiting up to *left for room; *sent counts them. */
static int qfd_enqueue(struct qfd *h, struct list_head *msgs, long *left,
		       u32 *sent)
{
	struct cohort_queue *q = h->q;
	struct cohort_qmsg *m;
	int err;

	for (;;) {
		err = cohort_queue_enqueue_batch(q, msgs, sent);
		if (err != -EAGAIN || q->kind == COHORT_TOPIC || !*left)
			return err;
		m = list_first_entry(msgs, struct cohort_qmsg, list);
		err = qfd_wait_room(q, cohort_qmsg_size(m), left);
		if (err)
			return err;
	}
}

/* One chunk to the queue here or to its home; *sent counts what went. */
static int qfd_send_chunk(struct qfd *h, struct list_head *msgs, long *left,
			  u32 *sent)
{
	int ret;

	if (!h->px)
		return qfd_enqueue(h, msgs, left, sent);
	ret = cohort_qproxy_send(h->qm, h->px, msgs, left);
	if (ret < 0)
		return ret;
	*sent += ret;
	return 0;
}

/*
 * Send the @count messages at @o in order, a chunk at a time. Returns how
 * many went, or the error of the first when none did; after a partial
 * batch, the error is for the next call to see.
 */
static int qfd_send_msgs(struct qfd *h, const struct cohort_qmsg_out *o,
			 u32 count, long *left)
{
	unsigned long ring_end = jiffies + QFD_RING_WAIT;
	bool blocking = *left, wait, spill = false;
	u32 sent = 0, n, done, size;
	LIST_HEAD(msgs);
	int err = 0;

	while (!err && sent < count) {
		n = min_t(u32, count - sent, QFD_CHUNK);
		if (h->px) {
			int ret = cohort_qproxy_send_user(h->qm, h->px,
							  h->actor, o + sent,
							  n, left);

			if (ret < 0) {
				err = ret;
				break;
			}
			sent += ret;
			if (ret)
				continue;
		}
		if (h->q && h->q->kind == COHORT_QUEUE) {
			u32 gen = cohort_queue_ring_gen(h->q);

			done = qfd_send_direct(h, o + sent, n, &wait);
			sent += done;
			if (done == n)
				continue;
			n -= done;
			if (!done && wait && *left &&
			    cohort_queue_ring_flow(h->q)) {
				err = qfd_wait_ring(h->q, gen, left, ring_end);
				if (!err)
					continue;
				if (err != -EAGAIN)
					break;
				spill = true;
				err = 0;
			}
			/*
			 * A full store is waited for before the chunk is built:
			 * once a fill has emptied it, the rings come first
			 * again. A chunk built before the wait would go into
			 * the store after it, and keep every later one there.
			 * One too large for any store is not waited for.
			 */
			size = qfd_size_min(h, &o[sent]);
			if (*left && cohort_queue_must_wait(h->q, size)) {
				err = qfd_wait_room(h->q, size, left);
				continue;
			}
		}
		err = qfd_build_batch(h, o + sent, n, &msgs);
		done = 0;
		if (!list_empty(&msgs)) {
			int serr = qfd_send_chunk(h, &msgs, left, &done);

			err = serr ?: err;
		}
		sent += done;
		if (spill && done) {
			cohort_queue_ring_spill(h->q);
			spill = false;
		}
		if (!list_empty(&msgs))
			break;		/* the home or the queue stopped us */
	}
	cohort_qmsg_free_list(&msgs);
	/*
	 * A queue's sender that could wait and found no room in the time it
	 * had (a topic's REJECT says EAGAIN to everyone).
	 */
	if (err == -EAGAIN && blocking && h->q && h->q->kind == COHORT_QUEUE)
		err = -ETIMEDOUT;
	return sent ?: err;
}

/* The whole batch is checked before any of it goes. */
static int qfd_send_check(const struct qfd *h, const struct cohort_qmsg_out *o,
			  u32 count)
{
	u32 i;

	for (i = 0; i < count; i++) {
		if (o[i].prio > COHORT_QPRIO_MAX)
			return -EINVAL;
		if (o[i].len > qfd_attr(h)->max_msg_size)
			return -EMSGSIZE;
	}
	return 0;
}

/*
 * The descriptors of a send of up to QFD_STACK_MSGS. One, the common case,
 * is copied with its size known at build time, which hardened usercopy
 * checks then instead of on every call.
 */
static int qfd_get_msgs(struct cohort_qmsg_out *o, const void __user *uo,
			u32 count)
{
	if (count == 1)
		return copy_from_user(o, uo, sizeof(*o)) ? -EFAULT : 0;
	return copy_from_user(o, uo, count * sizeof(*o)) ? -EFAULT : 0;
}

static long qfd_send_ioctl(struct file *file, struct qfd *h, void __user *arg)
{
	struct cohort_qmsg_out stack[QFD_STACK_MSGS], *o = stack;
	void __user *uo;
	struct cohort_qsend s;
	u32 usize;
	long left;
	int ret;

	ret = cohort_get_arg(&s, sizeof(s), arg, &usize);
	if (ret)
		return ret;
	if (s.flags || !s.count || s.count > COHORT_QBATCH_MAX)
		return -EINVAL;
	if (!(h->role & COHORT_QR_PRODUCE))
		return -EBADF;
	uo = u64_to_user_ptr(s.msgs);
	if (s.count > ARRAY_SIZE(stack))
		o = vmemdup_user(uo, s.count * sizeof(*o));
	else if (qfd_get_msgs(stack, uo, s.count))
		o = ERR_PTR(-EFAULT);
	if (IS_ERR(o))
		return PTR_ERR(o);
	ret = qfd_send_check(h, o, s.count);
	if (ret)
		goto out;
	left = qfd_timeout(file, s.timeout_ms);
	ret = qfd_send_msgs(h, o, s.count, &left);
	/* Only the count changes: usize covers it (cohort_get_arg). */
	if (ret > 0)
		ret = put_user(ret, &((struct cohort_qsend __user *)arg)->count);
out:
	if (o != stack)
		kvfree(o);
	return ret;
}

static ssize_t qfd_write(struct file *file, const char __user *buf,
			 size_t len, loff_t *ppos)
{
	struct qfd *h = file->private_data;
	long left = qfd_timeout(file, COHORT_WAIT_FOREVER);
	struct cohort_qmsg_out o = {
		.data = (uintptr_t)buf,
		.len = len,
	};
	int ret;

	if (!(h->role & COHORT_QR_PRODUCE))
		return -EBADF;
	if (len > qfd_attr(h)->max_msg_size)
		return -EMSGSIZE;
	ret = qfd_send_msgs(h, &o, 1, &left);
	return ret < 0 ? ret : len;
}

/* ---- receive ---- */

/* Wait for the first message; then take up to @max without waiting. */
static int qfd_take(struct file *file, struct qfd *h, struct list_head *got,
		    u32 max, long left)
{
	struct cohort_mq *mq = h->cons.mq;
	long r;
	int err;

	if (h->px)
		return cohort_qproxy_take(h->px, got, max, left);
	for (;;) {
		if (cohort_queue_dequeue(&h->cons, NULL, got, max, &err))
			return 0;
		if (err != -EAGAIN)
			return err;
		if (!left)
			return -EAGAIN;
		r = wait_event_interruptible_timeout(mq->rwait,
						     READ_ONCE(mq->depth) ||
						     READ_ONCE(mq->dead), left);
		if (r < 0)
			return r;
		if (!r)
			return -ETIMEDOUT;
		if (left != MAX_SCHEDULE_TIMEOUT)
			left = r;
	}
}

/*
 * A stamp whose ids would take @a's vector past COHORT_VC_MAX_ENTRIES is
 * received without its vector: the receiver has heard from too many
 * actors, or the stamp alone is that wide. The Lamport clock and @a's own
 * entry move; the vector keeps what it had, so that it claims no more than
 * it knows (no later stamp of @a says it follows @m). Refused, @m would
 * stay first in line for this receiver for good. *@flags says so.
 */
static int qfd_recv_unmerged(struct cohort_afile *a,
			     const struct cohort_qmsg *m, int err, u32 *flags)
{
	if (err != -E2BIG)
		return err;
	err = cohort_clocks_event(&a->clocks, COHORT_CLOCK_RECV, m->lamport,
				  NULL, 0, a->id);
	if (!err)
		*flags |= COHORT_QM_UNMERGED;
	return err;
}

/* The receive event of the actor @a for @m's stamps. */
static int qfd_recv_event(struct cohort_afile *a, const struct cohort_qmsg *m)
{
	u32 flags = 0;
	int err;

	lockdep_assert_held(&a->lock);

	err = cohort_clocks_event(&a->clocks, COHORT_CLOCK_RECV, m->lamport,
				  m->vc, m->vc_len, a->id);
	return qfd_recv_unmerged(a, m, err, &flags);
}

/*
 * The same, one of a run of receives (cohort_clocks_recv_run()); a
 * refused one leaves the run empty.
 */
static int qfd_recv_run(struct cohort_afile *a, struct cohort_clocks_run *run,
			const struct cohort_qmsg *m, u32 *flags)
{
	int err;

	lockdep_assert_held(&a->lock);

	err = cohort_clocks_recv_run(&a->clocks, run, m->lamport, m->vc,
				     m->vc_len, a->id);
	return qfd_recv_unmerged(a, m, err, flags);
}

/*
 * A stamp into user memory, entry by entry in one access window: a checked
 * copy looks up the slab object each time (hardened usercopy), which costs
 * a small message more than its payload does.
 */
static int qfd_put_vc(u64 uptr, const struct cohort_vc_entry *vc, u32 n)
{
	struct cohort_vc_entry __user *u = u64_to_user_ptr(uptr);
	u32 i;

	if (!user_access_begin(u, n * sizeof(*u)))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		unsafe_put_user(vc[i].id, &u[i].id, efault);
		unsafe_put_user(vc[i].counter, &u[i].counter, efault);
	}
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/*
 * One message into the caller's descriptor @ui. The descriptor is read and
 * written field by field in one user access window each: two checked
 * copies per message cost more than the payload.
 */
static int qfd_copy_out(const struct cohort_qmsg *m,
			struct cohort_qmsg_in __user *ui)
{
	u32 cap, vc_cap;
	u64 data, vc_ptr;

	if (!user_access_begin(ui, sizeof(*ui)))
		return -EFAULT;
	unsafe_get_user(data, &ui->data, efault);
	unsafe_get_user(cap, &ui->cap, efault);
	unsafe_get_user(vc_ptr, &ui->vc_ptr, efault);
	unsafe_get_user(vc_cap, &ui->vc_cap, efault);
	user_access_end();
	if (m->len > cap || (vc_ptr && m->vc_len > vc_cap)) {
		/* Tell the caller how much room the message needs. */
		if (put_user(m->len, &ui->len) ||
		    put_user(m->vc_len, &ui->vc_len))
			return -EFAULT;
		return -EMSGSIZE;
	}
	if (qfd_data_out(u64_to_user_ptr(data), m->data, m->len))
		return -EFAULT;
	if (vc_ptr && qfd_put_vc(vc_ptr, m->vc, m->vc_len))
		return -EFAULT;
	if (!user_access_begin(ui, sizeof(*ui)))
		return -EFAULT;
	unsafe_put_user(m->len, &ui->len, efault);
	unsafe_put_user(m->id, &ui->msg_id, efault);
	unsafe_put_user(m->tag, &ui->delivery_id, efault);
	unsafe_put_user(m->sender, &ui->sender, efault);
	unsafe_put_user(m->enqueue_ns, &ui->enqueue_ns, efault);
	unsafe_put_user(m->lamport, &ui->lamport, efault);
	unsafe_put_user((u32)m->vc_len, &ui->vc_len, efault);
	unsafe_put_user((u32)m->prio, &ui->prio, efault);
	unsafe_put_user(m->deliveries, &ui->deliveries, efault);
	unsafe_put_user(cohort_qmsg_flags(m), &ui->flags, efault);
	unsafe_put_user(m->key, &ui->key, efault);
	user_access_end();
	return 0;
efault:
	user_access_end();
	return -EFAULT;
}

/* Hand back what the user did not get; free what it got without acks. */
static void qfd_settle(struct qfd *h, struct list_head *got,
		       struct list_head *back)
{
	if (h->px) {
		cohort_qproxy_taken(h->qm, h->px, got, back);
		return;
	}
	cohort_queue_taken(&h->cons, got, back);
	if (!h->cons.explicit_ack)
		cohort_qmsg_free_list(got);
}

static long qfd_recv_ioctl(struct file *file, struct qfd *h, void __user *arg)
{
	struct cohort_clocks_run run = {};
	struct cohort_qmsg_in __user *ui;
	struct cohort_qmsg *m;
	struct cohort_qrecv r;
	LIST_HEAD(got);
	LIST_HEAD(back);
	u32 usize, n = 0;
	int err;

	err = cohort_get_arg(&r, sizeof(r), arg, &usize);
	if (err)
		return err;
	if (r.flags || !r.count || r.count > COHORT_QBATCH_MAX)
		return -EINVAL;
	if (!(h->role & COHORT_QR_CONSUME))
		return -EBADF;
	if (READ_ONCE(h->ring))
		return -EBUSY;
	err = qfd_take(file, h, &got, r.count, qfd_timeout(file, r.timeout_ms));
	if (err)
		return err;
	ui = u64_to_user_ptr(r.msgs);
	mutex_lock(&h->actor->lock);
	list_for_each_entry(m, &got, list) {
		u32 flags = 0;

		err = qfd_copy_out(m, &ui[n]) ?:
		      qfd_recv_run(h->actor, &run, m, &flags);
		/* Known only after the event the copy had to come before. */
		if (!err && flags)
			err = put_user(cohort_qmsg_flags(m) | flags, &ui[n].flags);
		if (err)
			break;
		n++;
	}
	cohort_clocks_run_end(&h->actor->clocks, &run);
	mutex_unlock(&h->actor->lock);
	if (err)
		cohort_qmsg_cut(&got, &back, m);
	qfd_settle(h, &got, &back);
	if (!n)
		return err;
	return put_user(n, &((struct cohort_qrecv __user *)arg)->count);
}

static ssize_t qfd_read(struct file *file, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct qfd *h = file->private_data;
	struct cohort_qmsg *m;
	LIST_HEAD(got);
	LIST_HEAD(back);
	int err;

	if (!(h->role & COHORT_QR_CONSUME))
		return -EBADF;
	if (READ_ONCE(h->ring))
		return -EBUSY;
	if (h->explicit_ack)
		return -EINVAL;		/* the delivery id has nowhere to go */
	err = qfd_take(file, h, &got, 1, qfd_timeout(file, COHORT_WAIT_FOREVER));
	if (err)
		return err;
	m = list_first_entry(&got, struct cohort_qmsg, list);
	mutex_lock(&h->actor->lock);
	if (m->len > len)
		err = -EMSGSIZE;
	else if (qfd_data_out(buf, m->data, m->len))
		err = -EFAULT;
	else
		err = qfd_recv_event(h->actor, m);
	mutex_unlock(&h->actor->lock);
	len = m->len;
	if (err)
		cohort_qmsg_cut(&got, &back, m);
	qfd_settle(h, &got, &back);
	return err ?: len;
}

/* ---- receive rings ---- */

static long qfd_ring_ioctl(struct qfd *h, void __user *arg)
{
	struct cohort_qring_setup rs;
	struct cohort_qring *r;
	u64 charge;
	u32 usize;
	int err;

	err = cohort_get_arg(&rs, sizeof(rs), arg, &usize);
	if (err)
		return err;
	if (!rs.rec_size)
		rs.rec_size = COHORT_QREC_SIZE_VER0;
	if (rs.flags || !is_power_of_2(rs.bytes) ||
	    rs.bytes < COHORT_QRING_MIN || rs.bytes > COHORT_QRING_MAX ||
	    rs.rec_size < COHORT_QREC_SIZE_VER0 || !IS_ALIGNED(rs.rec_size, 8))
		return -EINVAL;
	/* What the caller knows of the header, up to what we do. */
	rs.rec_size = min_t(u32, rs.rec_size, sizeof(struct cohort_qrec));
	if (!(h->role & COHORT_QR_CONSUME))
		return -EBADF;
	charge = rs.bytes + 2 * PAGE_SIZE;
	mutex_lock(&h->actor->lock);
	err = -EBUSY;
	if (h->ring)
		goto out;
	err = cohort_queue_budget_take(h->qm, current_fsuid(), charge);
	if (err)
		goto out;
	err = -ENOMEM;
	r = cohort_qring_new(rs.bytes, rs.rec_size);
	if (!r)
		goto err_budget;
	rs.ro_offset = PAGE_SIZE;
	rs.ro_len = PAGE_SIZE + 2 * (u64)rs.bytes;
	rs.data_offset = PAGE_SIZE;
	err = cohort_put_arg(arg, usize, &rs, sizeof(rs));
	if (err)
		goto err_ring;
	h->ring_owner = current_fsuid();
	h->ring_charge = charge;
	/* Published before senders may write to it; mmap() reads it too. */
	smp_store_release(&h->ring, r);
	if (!h->px)
		cohort_queue_set_ring(&h->cons, r);
	mutex_unlock(&h->actor->lock);
	return 0;

err_ring:
	cohort_qring_free(r);
err_budget:
	cohort_queue_budget_give(h->qm, current_fsuid(), charge);
out:
	mutex_unlock(&h->actor->lock);
	return err;
}

/*
 * The messages of @got into the records reserved for them, one after the
 * other from @pos on, each a receive event of the actor. From the first
 * the actor cannot receive on, they go to @back, and their records are
 * taken back. Under the actor's lock.
 */
static u32 qfd_fill_records(struct qfd *h, struct list_head *got,
			    struct list_head *back, u64 pos, int *err)
{
	struct cohort_clocks_run run = {};
	struct cohort_qring *r = h->ring;
	struct cohort_qmsg *m, *t;
	u32 n = 0, flags;

	list_for_each_entry_safe(m, t, got, list) {
		flags = 0;
		*err = qfd_recv_run(h->actor, &run, m, &flags);
		if (*err) {
			cohort_qring_unreserve(r, pos);
			cohort_qmsg_cut(got, back, m);
			break;
		}
		cohort_qring_put_msg(r, pos, m);
		cohort_qring_rec(r, pos)->flags |= flags;
		cohort_qring_commit(r, pos);
		pos += cohort_qring_rec_len(m->vc_len, m->len);
		n++;
	}
	cohort_clocks_run_end(&h->actor->clocks, &run);
	return n;
}

/*
 * What waits at the proxy, reserved in the ring as far as it fits; ENOSPC
 * when the first does not.
 */
static int qfd_fill_take_remote(struct qfd *h, struct list_head *got,
				struct list_head *back, u64 *first)
{
	struct cohort_qmsg *m, *t;
	bool any = false;
	u64 pos;
	int err;

	err = cohort_qproxy_take(h->px, got, QFD_CHUNK, 0);
	if (err)
		return err;
	list_for_each_entry_safe(m, t, got, list) {
		if (!cohort_qring_reserve(h->ring,
					  cohort_qring_rec_len(m->vc_len,
							       m->len), &pos)) {
			cohort_qmsg_cut(got, back, m);
			break;
		}
		if (!any)
			*first = pos;
		any = true;
	}
	return any ? 0 : -ENOSPC;
}

/*
 * Lock the ring's writers (the actor) for a fill: 0, or why the fill goes
 * without. With nothing to fill, it does not wait for a sender writing
 * into the ring (cohort_queue_fill_skip()): -EAGAIN, or -EINVAL for a head
 * or @next found bad without the records; between records or not, the
 * next fill that locks checks.
 */
static int qfd_fill_lock(struct qfd *h, const u64 *next)
{
	struct cohort_mq *mq = h->cons.mq;

	if (mutex_trylock(&h->actor->lock))
		return 0;
	if (!h->px && !READ_ONCE(mq->depth) && !READ_ONCE(mq->dead) &&
	    cohort_queue_fill_skip(&h->cons,
				   cohort_qring_reclaimable(h->ring)))
		return cohort_qring_check(h->ring, next) ?: -EAGAIN;
	mutex_lock(&h->actor->lock);
	return 0;
}

/*
 * One chunk into the ring: how many records, or why none (EAGAIN: nothing
 * waits, or nothing to fill while a sender writes into the ring; ENOSPC:
 * the next does not fit; EINVAL: a bad head or @next). *@next, if set, is
 * checked with head under the lock, and then cleared: once is enough for
 * a call.
 */
static int qfd_fill_once(struct qfd *h, const u64 **next)
{
	struct cohort_afile *a = h->actor;
	bool room = false, took = false;
	LIST_HEAD(got);
	LIST_HEAD(back);
	u64 pos = 0;
	u32 n = 0;
	int err;

	err = qfd_fill_lock(h, *next);
	if (err)
		return err;
	/* What this fill reclaims, it announces itself. */
	if (!h->px)
		WRITE_ONCE(h->cons.ring_reclaim, false);
	err = cohort_qring_sync(h->ring, *next, &room);
	if (err)
		goto out;
	*next = NULL;
	if (h->px) {
		err = qfd_fill_take_remote(h, &got, &back, &pos);
	} else {
		cohort_queue_dequeue(&h->cons, h->ring, &got, QFD_CHUNK, &err);
		pos = h->cons.ring_pos;
		took = !list_empty(&got);
	}
	if (!list_empty(&got)) {
		err = 0;
		n = qfd_fill_records(h, &got, &back, pos, &err);
	}
out:
	mutex_unlock(&a->lock);
	if (!list_empty(&got) || !list_empty(&back))
		qfd_settle(h, &got, &back);
	/*
	 * Senders waiting for room, or for the store to empty (what did not
	 * go in is back in it by now), find it now, and the actor free.
	 */
	if (!h->px && (room || (took && !READ_ONCE(h->cons.mq->depth))))
		cohort_queue_ring_room(h->q);
	return n ?: err ?: -EAGAIN;
}

/* Is there something for the filler to do (or to report)? */
static bool qfd_fill_due(struct qfd *h, const u64 *next)
{
	if (cohort_qring_ready(h->ring, next))
		return true;
	if (h->px)
		return cohort_qproxy_poll(h->px) & (EPOLLIN | EPOLLHUP);
	return READ_ONCE(h->cons.mq->depth) || READ_ONCE(h->cons.mq->dead);
}

/*
 * Wait up to *left for qfd_fill_due(). A sender's record, committed before
 * it looks for sleepers, is seen by the check after prepare_to_wait().
 */
static int qfd_fill_wait(struct qfd *h, const u64 *next, long *left)
{
	wait_queue_head_t *wq = h->px ? &h->px->wait : &h->cons.mq->rwait;
	long r;

	r = wait_event_interruptible_timeout(*wq, qfd_fill_due(h, next),
					     *left);
	if (r < 0)
		return r;
	if (!r)
		return -ETIMEDOUT;
	if (*left != MAX_SCHEDULE_TIMEOUT)
		*left = r;
	return 0;
}

/*
 * Fill the ring as far as it goes, then wait until a complete record is at
 * head. Records moved since the last fill count even when the call ends
 * with an error. When what waits does not fit, nothing can come (the
 * process holds records, which only it gives back): ENOSPC, not a wait.
 */
static long qfd_fill_ioctl(struct file *file, struct qfd *h, void __user *arg)
{
	struct cohort_qring *r = READ_ONCE(h->ring);
	const u64 *next, *check;
	struct cohort_qfill f;
	u32 usize, added = 0;
	long left;
	int n, err;

	err = cohort_get_arg(&f, sizeof(f), arg, &usize);
	if (err)
		return err;
	if (f.flags & ~COHORT_QFILL_NEXT || !r)
		return -EINVAL;
	next = f.flags & COHORT_QFILL_NEXT ? &f.next : NULL;
	check = next;
	left = qfd_timeout(file, f.timeout_ms);
	for (;;) {
		do {
			n = qfd_fill_once(h, &check);
			if (n > 0)
				added += n;
		} while (n >= QFD_CHUNK);
		/* A bad head or next: what is there is no record. */
		if (n == -EINVAL) {
			err = n;
			break;
		}
		if (added || cohort_qring_ready(r, next)) {
			err = 0;
			break;
		}
		err = n;
		if (err != -EAGAIN || !left)
			break;
		err = fatal_signal_pending(current) ? -EINTR :
		      qfd_fill_wait(h, next, &left);
		if (err)
			break;
	}
	f.count = added;
	n = cohort_put_arg(arg, usize, &f, sizeof(f));
	return err ?: n;
}

static struct cohort_qmsg *qmsg_from_rec(const struct cohort_qring *r,
					 struct cohort_qrec *rec)
{
	const struct cohort_vc_entry *vc = cohort_qring_rec_vc(r, rec);
	struct cohort_qmsg *m;

	m = cohort_qmsg_alloc(rec->data_len, rec->vc_len, GFP_KERNEL_ACCOUNT);
	if (!m)
		return NULL;
	m->id = rec->msg_id;
	m->sender = rec->sender;
	m->enqueue_ns = rec->enqueue_ns;
	m->expire_ns = rec->expire_ns;
	m->lamport = rec->lamport;
	m->prio = rec->prio;
	m->key = cohort_qring_get_key(r, rec);
	m->deliveries = rec->deliveries;
	m->vc_len = rec->vc_len;
	memcpy(m->vc, vc, rec->vc_len * sizeof(*vc));
	memcpy(m->data, vc + rec->vc_len, rec->data_len);
	return m;
}

/*
 * The records no process took, once no sender writes to the ring any
 * more: without acks, their messages rebuilt onto @unread, no more than
 * the store could ever hold (@lost counts the others); with acks, the
 * first one's attempt.
 */
static void qfd_ring_unread(struct qfd *h, struct list_head *unread,
			    u32 *lost, u64 *unread_from)
{
	struct cohort_qring *r = h->ring;
	struct cohort_qmsg *m = NULL;
	u32 n = 0, bytes = 0, size;
	struct cohort_qrec *rec;
	bool fits = true;
	u64 pos;

	if (!h->px)
		cohort_queue_ring_off(&h->cons);
	/* A sender still writing holds the actor. */
	mutex_lock(&h->actor->lock);
	for (pos = cohort_qring_unread(r); pos != r->tail; pos += rec->len) {
		rec = cohort_qring_rec(r, pos);
		if (WARN_ON_ONCE(!rec->len))
			break;
		if (h->explicit_ack) {
			*unread_from = rec->delivery_id;
			break;
		}
		/* Across nodes, lost as the deliveries not yet read. */
		if (h->px)
			break;
		size = rec->data_len + rec->vc_len * sizeof(struct cohort_vc_entry);
		fits = fits && n < h->q->attr.max_msgs &&
		       bytes + size <= h->q->attr.max_bytes;
		m = fits ? qmsg_from_rec(r, rec) : NULL;
		if (m) {
			list_add_tail(&m->list, unread);
			n++;
			bytes += size;
		} else {
			(*lost)++;
		}
	}
	mutex_unlock(&h->actor->lock);
}

static int qfd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct qfd *h = file->private_data;
	/* Pairs with the release in qfd_ring_ioctl(): a ring seen is whole. */
	struct cohort_qring *r = smp_load_acquire(&h->ring);

	return r ? cohort_qring_mmap(r, vma) : -EINVAL;
}

/* ---- acknowledgment ---- */

static long qfd_ack_remote(struct qfd *h, void __user *arg, u32 usize,
			   struct cohort_qack *k)
{
	u64 *tags;
	int err, perr;

	tags = memdup_user(u64_to_user_ptr(k->ids), k->count * sizeof(*tags));
	if (IS_ERR(tags))
		return PTR_ERR(tags);
	err = cohort_qproxy_ack(h->qm, h->px, tags, k->count,
				k->op == COHORT_QACK_ACK, &k->count);
	kfree(tags);
	perr = cohort_put_arg(arg, usize, k, sizeof(*k));
	return err ?: perr;
}

static long qfd_ack_ioctl(struct qfd *h, void __user *arg)
{
	struct cohort_qack k;
	u64 __user *ids;
	u32 usize, done;
	int err, perr;
	u64 id;

	err = cohort_get_arg(&k, sizeof(k), arg, &usize);
	if (err)
		return err;
	if ((k.op != COHORT_QACK_ACK && k.op != COHORT_QACK_NACK) ||
	    k.__reserved || !k.count || k.count > COHORT_QBATCH_MAX)
		return -EINVAL;
	if (!(h->role & COHORT_QR_CONSUME) || !h->explicit_ack)
		return -EBADF;
	ids = u64_to_user_ptr(k.ids);
	if (h->px)
		return qfd_ack_remote(h, arg, usize, &k);
	for (done = 0; done < k.count; done++) {
		if (get_user(id, &ids[done])) {
			err = -EFAULT;
			break;
		}
		err = cohort_queue_ack(&h->cons, id, k.op == COHORT_QACK_ACK);
		if (err)
			break;
	}
	k.count = done;
	perr = cohort_put_arg(arg, usize, &k, sizeof(k));
	return err ?: perr;
}

/* ---- the file ---- */

static long qfd_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct qfd *h = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case COHORT_IOC_QSEND:
		return qfd_send_ioctl(file, h, uarg);
	case COHORT_IOC_QRECV:
		return qfd_recv_ioctl(file, h, uarg);
	case COHORT_IOC_QACK:
		return qfd_ack_ioctl(h, uarg);
	case COHORT_IOC_QRING:
		return qfd_ring_ioctl(h, uarg);
	case COHORT_IOC_QFILL:
		return qfd_fill_ioctl(file, h, uarg);
	}
	return -ENOTTY;
}

/* A ring: EPOLLIN also for a complete record at head; a bad head, EPOLLERR. */
static __poll_t qfd_poll_ring(struct qfd *h, __poll_t mask)
{
	struct cohort_qring *r = READ_ONCE(h->ring);
	u64 head;

	if (!r)
		return mask;
	if (cohort_qring_head(r, &head))
		mask |= EPOLLERR;
	else if (cohort_qring_ready(r, NULL))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static __poll_t qfd_poll(struct file *file, poll_table *wait)
{
	struct qfd *h = file->private_data;
	struct cohort_queue *q = h->q;
	__poll_t mask = 0;

	if (h->px) {
		poll_wait(file, &h->px->wait, wait);
		return qfd_poll_ring(h, cohort_qproxy_poll(h->px));
	}
	if (h->role & COHORT_QR_CONSUME)
		poll_wait(file, &h->cons.mq->rwait, wait);
	if (h->role & COHORT_QR_PRODUCE)
		poll_wait(file, &q->wwait, wait);
	/* Joined the wait queues before reading depth: see mq_ready(). */
	smp_mb();
	if (READ_ONCE(q->dead))
		return EPOLLHUP | EPOLLERR;
	if (h->role & COHORT_QR_CONSUME && READ_ONCE(h->cons.mq->depth))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (h->role & COHORT_QR_PRODUCE && cohort_queue_room(q, 0))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return qfd_poll_ring(h, mask);
}

static void qfd_free(struct qfd *h)
{
	LIST_HEAD(unread);
	u64 unread_from = 0;
	u32 lost = 0;

	if (h->ring)
		qfd_ring_unread(h, &unread, &lost, &unread_from);
	if (h->px) {
		cohort_qproxy_close(h->qm, h->px, unread_from);
	} else {
		if (h->role & COHORT_QR_CONSUME)
			cohort_queue_detach(&h->cons, unread_from, &unread,
					    lost);
		if (h->role & COHORT_QR_PRODUCE)
			cohort_queue_producer(h->q, -1);
		cohort_queue_put(h->q);
	}
	if (h->ring) {
		cohort_qring_free(h->ring);
		cohort_queue_budget_give(h->qm, h->ring_owner, h->ring_charge);
	}
	fput(h->afile);
	kfree(h);
}

static int qfd_release(struct inode *inode, struct file *file)
{
	qfd_free(file->private_data);
	return 0;
}

static const struct file_operations qfd_fops = {
	.owner		= THIS_MODULE,
	.release	= qfd_release,
	.read		= qfd_read,
	.write		= qfd_write,
	.poll		= qfd_poll,
	.mmap		= qfd_mmap,
	.unlocked_ioctl	= qfd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* ---- open ---- */

static bool str_ok(const char *s, size_t size, bool empty_ok)
{
	size_t len = strnlen(s, size);

	return len < size && len < COHORT_NAME_MAX && (len || empty_ok) &&
	       cohort_node_name_valid(s);
}

/*
 * "name" or "name@node": the name is cut at '@' in place; *home is the
 * node, or 0 when none was given.
 */
static int parse_name(char *name, size_t size, u32 *home)
{
	char *at;

	if (strnlen(name, size) == size)
		return -EINVAL;
	*home = 0;
	at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (kstrtou32(at + 1, 10, home) || !*home)
			return -EINVAL;
	}
	return str_ok(name, size, false) ? 0 : -EINVAL;
}

/* The subscription filter an open asks for. */
static struct cohort_qfilter qopen_filter(const struct cohort_queue_open *o)
{
	return (struct cohort_qfilter){
		.mask = o->filter_mask,
		.value = o->filter_value,
	};
}

static int qopen_check(struct cohort_queue_open *o, u32 *home)
{
	struct cohort_qfilter f = qopen_filter(o);

	if (o->flags & ~COHORT_QO_ALL)
		return -EINVAL;
	if (o->kind != COHORT_QUEUE && o->kind != COHORT_TOPIC)
		return -EINVAL;
	if (!o->role || o->role & ~(COHORT_QR_PRODUCE | COHORT_QR_CONSUME))
		return -EINVAL;
	if (!o->ack)
		o->ack = COHORT_ACK_NONE;
	if (o->ack != COHORT_ACK_NONE && o->ack != COHORT_ACK_EXPLICIT)
		return -EINVAL;
	if (o->mode & ~0777)
		return -EINVAL;
	if (parse_name(o->name, sizeof(o->name), home))
		return -EINVAL;
	if (!str_ok(o->sub, sizeof(o->sub), true))
		return -EINVAL;
	if (o->sub[0] && (o->kind != COHORT_TOPIC ||
			  !(o->role & COHORT_QR_CONSUME)))
		return -EINVAL;
	if (!cohort_qfilter_valid(&f, o->kind, o->role))
		return -EINVAL;
	if (o->prefetch > COHORT_QPREFETCH_MAX ||
	    (o->prefetch && !(o->role & COHORT_QR_CONSUME)))
		return -EINVAL;
	return cohort_queue_attr_check(&o->attr, o->kind, o->name);
}

/* Attach to a local queue; takes over the reference on @q. */
static int qfd_attach(struct qfd *h, struct cohort_queue *q,
		      const struct cohort_queue_open *o)
{
	struct cohort_qfilter f = qopen_filter(o);
	struct cohort_mq *mq;

	if (o->role & COHORT_QR_CONSUME) {
		mq = cohort_queue_attach(q, o->sub, &f, &h->cons,
					 h->explicit_ack, NULL);
		if (IS_ERR(mq)) {
			cohort_queue_put(q);
			return PTR_ERR(mq);
		}
	}
	if (o->role & COHORT_QR_PRODUCE)
		cohort_queue_producer(q, 1);
	h->q = q;
	return 0;
}

static struct cohort_queue *qopen_local(struct cohort_afile *a,
					struct cohort_queue_open *o, u32 flags)
{
	struct cohort_qspec spec = {
		.name = o->name,
		.kind = o->kind,
		.flags = flags,
		.mode = o->mode,
		.uid = current_fsuid(),
		.gid = current_fsgid(),
		.attr = o->attr,
	};
	struct cohort_queue *q;

	q = cohort_queue_get(&a->node->qm, &spec, NULL);
	if (IS_ERR(q))
		return q;
	if (!cohort_queue_may(q, o->role)) {
		cohort_queue_put(q);
		return ERR_PTR(-EACCES);
	}
	return q;
}

/*
 * Where the queue is: "name@node" says; a bare name is looked up here,
 * then on the reachable nodes, and created here last (COHORT_QO_CREATE).
 * COHORT_QO_EXCL makes a bare name local: only the home can promise that
 * a name is new.
 */
static int qfd_find(struct qfd *h, struct cohort_afile *a,
		    struct cohort_queue_open *o, u32 home)
{
	u32 self = a->id >> 32;
	struct cohort_qproxy *px;
	struct cohort_queue *q;

	if (!home && o->flags & COHORT_QO_EXCL)
		home = self;
	if (!home || home == self) {
		q = qopen_local(a, o, home ? o->flags : 0);
		if (!IS_ERR(q))
			return qfd_attach(h, q, o);
		if (home || PTR_ERR(q) != -ENOENT)
			return PTR_ERR(q);
	}
	px = cohort_qproxy_open(a, o, home);
	if (!IS_ERR(px)) {
		h->px = px;
		return 0;
	}
	if (home || !(o->flags & COHORT_QO_CREATE) ||
	    (PTR_ERR(px) != -ENOENT && PTR_ERR(px) != -EHOSTUNREACH))
		return home || PTR_ERR(px) != -EHOSTUNREACH ? PTR_ERR(px) :
							     -ENOENT;
	q = qopen_local(a, o, o->flags);
	return IS_ERR(q) ? PTR_ERR(q) : qfd_attach(h, q, o);
}

/* COHORT_IOC_QUEUE_OPEN, under a->lock. */
int cohort_qfd_open(struct file *afile, struct cohort_afile *a,
		    void __user *arg)
{
	struct cohort_queue_open o;
	struct file *file;
	struct qfd *h;
	u32 usize, home;
	int fd, err;

	err = cohort_get_arg_min(&o, sizeof(o), COHORT_QUEUE_OPEN_SIZE_VER0,
				 arg, &usize);
	if (err)
		return err;
	err = qopen_check(&o, &home);
	if (err)
		return err;
	err = cohort_afile_bind(a);
	if (err)
		return err;
	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return -ENOMEM;
	h->afile = afile;
	h->actor = a;
	h->cons.actor = a;
	h->cons.actor_file = afile;
	h->qm = &a->node->qm;
	h->role = o.role;
	h->explicit_ack = o.ack == COHORT_ACK_EXPLICIT;
	err = qfd_find(h, a, &o, home);
	if (err) {
		kfree(h);
		return err;
	}
	get_file(afile);

	fd = get_unused_fd_flags(O_RDWR |
				 (o.flags & COHORT_QO_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		err = fd;
		goto err_release;
	}
	file = anon_inode_getfile("[cohort-queue]", &qfd_fops, h,
				  O_RDWR | (o.flags & COHORT_QO_NONBLOCK ?
					    O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_fd;
	}
	o.fd = fd;
	if (h->px) {
		o.home = h->px->home;
		o.kind = h->px->kind;
		o.attr = h->px->attr;
	} else {
		o.home = a->id >> 32;
		o.attr = h->q->attr;
		if (h->q->system)
			o.attr.flags |= COHORT_QA_SYSTEM;
	}
	err = cohort_put_arg(arg, usize, &o, sizeof(o));
	if (err) {
		fput(file);		/* releases h */
		put_unused_fd(fd);
		return err;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_release:
	qfd_free(h);
	return err;
}
