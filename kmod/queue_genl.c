// SPDX-License-Identifier: GPL-2.0
/*
 * Queue management over the "cohort" generic netlink family: QUEUE_ADD
 * (system queues, CAP_NET_ADMIN), QUEUE_DEL, QUEUE_GET (doit and dump) and
 * QUEUE_NTF events. A queue's message is filled under its lock, so its
 * counters are one snapshot.
 */
#include <linux/cred.h>
#include <linux/sizes.h>
#include <net/genetlink.h>

#include "genl.h"
#include "node.h"
#include "queue.h"

const struct nla_policy cohort_queue_policy[COHORT_A_QUEUE_MAX + 1] = {
	[COHORT_A_QUEUE_NAME]		= { .type = NLA_NUL_STRING,
					    .len = COHORT_NAME_MAX - 1 },
	[COHORT_A_QUEUE_KIND]		= NLA_POLICY_RANGE(NLA_U32, COHORT_QUEUE,
							   COHORT_TOPIC),
	[COHORT_A_QUEUE_MODE]		= NLA_POLICY_MAX(NLA_U32, 0777),
	[COHORT_A_QUEUE_UID]		= { .type = NLA_U32 },
	[COHORT_A_QUEUE_GID]		= { .type = NLA_U32 },
	[COHORT_A_QUEUE_FLAGS]		= NLA_POLICY_MASK(NLA_U32,
							  COHORT_QA_SETTABLE),
	[COHORT_A_QUEUE_MAX_MSGS]	= { .type = NLA_U32 },
	[COHORT_A_QUEUE_MAX_BYTES]	= { .type = NLA_U32 },
	[COHORT_A_QUEUE_MAX_MSG_SIZE]	= { .type = NLA_U32 },
	[COHORT_A_QUEUE_ACK_TIMEOUT]	= { .type = NLA_U32 },
	[COHORT_A_QUEUE_MAX_DELIVERIES]	= { .type = NLA_U32 },
	[COHORT_A_QUEUE_OVERFLOW]	= NLA_POLICY_RANGE(NLA_U32,
							   COHORT_OVERFLOW_BLOCK,
							   COHORT_OVERFLOW_REJECT),
	[COHORT_A_QUEUE_DLQ]		= { .type = NLA_NUL_STRING,
					    .len = COHORT_NAME_MAX - 1 },
	[COHORT_A_QUEUE_SUB_NAME]	= { .type = NLA_NUL_STRING,
					    .len = COHORT_NAME_MAX - 1 },
};

static u32 get_u32(struct nlattr **a, int type, u32 def)
{
	return a[type] ? nla_get_u32(a[type]) : def;
}

static int queue_spec_from_attrs(struct genl_info *info,
				 struct cohort_qspec *s)
{
	struct cohort_queue_attr *at = &s->attr;
	struct nlattr **a = info->attrs;
	const char *name;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_QUEUE_NAME))
		return -EINVAL;
	name = nla_data(a[COHORT_A_QUEUE_NAME]);
	if (!*name || !cohort_node_name_valid(name)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[COHORT_A_QUEUE_NAME],
				    "queue name must be 1 to 63 letters, digits, '.', '_' or '-'");
		return -EINVAL;
	}
	s->name = name;
	s->kind = get_u32(a, COHORT_A_QUEUE_KIND, COHORT_QUEUE);
	s->flags = COHORT_QO_CREATE | COHORT_QO_EXCL;
	s->mode = get_u32(a, COHORT_A_QUEUE_MODE, 0660);
	s->uid = make_kuid(current_user_ns(), get_u32(a, COHORT_A_QUEUE_UID, 0));
	s->gid = make_kgid(current_user_ns(), get_u32(a, COHORT_A_QUEUE_GID, 0));
	s->system = true;
	if (!uid_valid(s->uid) || !gid_valid(s->gid)) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[uid_valid(s->uid) ? COHORT_A_QUEUE_GID :
							  COHORT_A_QUEUE_UID],
				    "owner is not mapped in this user namespace");
		return -EINVAL;
	}
	at->flags = get_u32(a, COHORT_A_QUEUE_FLAGS, 0);
	at->max_msgs = get_u32(a, COHORT_A_QUEUE_MAX_MSGS, 0);
	at->max_bytes = get_u32(a, COHORT_A_QUEUE_MAX_BYTES, 0);
	at->max_msg_size = get_u32(a, COHORT_A_QUEUE_MAX_MSG_SIZE, 0);
	at->ack_timeout_ms = get_u32(a, COHORT_A_QUEUE_ACK_TIMEOUT, 0);
	at->max_deliveries = get_u32(a, COHORT_A_QUEUE_MAX_DELIVERIES, 0);
	at->overflow = get_u32(a, COHORT_A_QUEUE_OVERFLOW, 0);
	if (a[COHORT_A_QUEUE_DLQ])
		nla_strscpy(at->dlq, a[COHORT_A_QUEUE_DLQ], sizeof(at->dlq));
	err = cohort_queue_attr_check(at, s->kind, name);
	if (err == -ERANGE)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "a limit is out of range (max-msgs, max-bytes, max-size or ack-timeout)");
	else if (err)
		NL_SET_ERR_MSG_MOD(info->extack,
				   "bad overflow policy for this kind, or bad dead-letter queue name");
	return err;
}

int cohort_queue_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_node *node = cohort_node_get(genl_info_net(info));
	struct cohort_qspec spec = {};
	struct cohort_queue *q;
	int err;

	err = queue_spec_from_attrs(info, &spec);
	if (err)
		return err;
	q = cohort_queue_get(&node->qm, &spec, info->extack);
	if (IS_ERR(q))
		return PTR_ERR(q);
	cohort_queue_put(q);
	return 0;
}

/*
 * Whose queues the opener of @skb's socket lets the sender delete as
 * their owner: its own fsuid's, or the sender's if it holds CAP_NET_ADMIN
 * (a daemon that opened its socket before dropping to the owner's uid).
 */
static kuid_t sock_opener_fsuid(const struct sk_buff *skb, struct net *net)
{
	const struct socket *sock = NETLINK_CB(skb).sk->sk_socket;

	if (!sock || !sock->file)
		return INVALID_UID;
	if (file_ns_capable(sock->file, net->user_ns, CAP_NET_ADMIN))
		return current_fsuid();
	return sock->file->f_cred->fsuid;
}

int cohort_queue_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct nlattr **a = info->attrs;
	const char *sub = NULL;
	bool admin;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_QUEUE_NAME))
		return -EINVAL;
	/* An empty name is no subscription: it must not mean the topic. */
	if (a[COHORT_A_QUEUE_SUB_NAME]) {
		sub = nla_data(a[COHORT_A_QUEUE_SUB_NAME]);
		if (!*sub) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    a[COHORT_A_QUEUE_SUB_NAME],
					    "subscription name is empty");
			return -EINVAL;
		}
	}
	admin = netlink_ns_capable(skb, net->user_ns, CAP_NET_ADMIN);
	return cohort_queue_del(&cohort_node_get(net)->qm,
				nla_data(a[COHORT_A_QUEUE_NAME]), sub, admin,
				sock_opener_fsuid(skb, net), info->extack);
}

/* ---- QUEUE_GET ---- */

static size_t qstats_size(void)
{
	return nla_total_size(nla_total_size_64bit(sizeof(u64)) *
			      COHORT_A_QSTATS_MAX);
}

/*
 * A QUEUE_GET reply in at most 32 KiB with its skb, as a dump's part
 * (netlink_dump()): what readers size their buffers for, and what fits in
 * the receive buffer of a libnl socket.
 */
#define QUEUE_REPLY_MAX		SKB_WITH_OVERHEAD(SZ_32K)

static size_t queue_msg_size(u32 n_subs)
{
	return nla_total_size(COHORT_NAME_MAX) * 2 +
	       nla_total_size(sizeof(u32)) * 12 + qstats_size() +
	       n_subs * nla_total_size(nla_total_size(COHORT_NAME_MAX) +
				       nla_total_size(sizeof(u32)) * 2 +
				       qstats_size());
}

static int put_qstats(struct sk_buff *skb, int attr, const u64 *stats,
		      const u32 *level)
{
	struct nlattr *nest = nla_nest_start(skb, attr);
	int i;

	if (!nest)
		return -EMSGSIZE;
	for (i = COHORT_A_QSTATS_DEPTH; i <= COHORT_A_QSTATS_PRODUCERS; i++)
		if (nla_put_u32(skb, i, level[i - COHORT_A_QSTATS_DEPTH]))
			goto cancel;
	for (i = COHORT_A_QSTATS_ENQUEUED; i <= COHORT_A_QSTATS_MAX; i++)
		if (nla_put_u64_64bit(skb, i, stats[i], COHORT_A_QSTATS_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* DEPTH, BYTES, INFLIGHT, CONSUMERS, PRODUCERS of a store. */
static void mq_levels(const struct cohort_mq *mq, u32 producers, u32 *level)
{
	level[0] = mq->depth;
	level[1] = mq->bytes;
	level[2] = mq->inflight;
	level[3] = mq->consumers;
	level[4] = producers;
}

/*
 * A topic's totals: its own counters and its subscriptions' sums; but
 * REJECTED, DEAD_LETTERED and FILTERED (publishes no subscription kept)
 * are the topic's own.
 */
static void topic_totals(struct cohort_queue *q, u64 *sum, u32 *level)
{
	struct cohort_mq *mq;
	u32 l[5];
	int i;

	memcpy(sum, q->stats, sizeof(q->stats));
	list_for_each_entry(mq, &q->subs, sub_node) {
		mq_levels(mq, 0, l);
		for (i = 0; i < 4; i++)
			level[i] += l[i];
		for (i = COHORT_A_QSTATS_DELIVERED; i <= COHORT_A_QSTATS_MAX; i++)
			if (i != COHORT_A_QSTATS_REJECTED &&
			    i != COHORT_A_QSTATS_DEAD_LETTERED &&
			    i != COHORT_A_QSTATS_FILTERED)
				sum[i] += mq->stats[i];
	}
	level[4] = q->producers;
}

static int put_subs(struct sk_buff *skb, struct cohort_queue *q)
{
	struct cohort_mq *mq;
	struct nlattr *nest;
	u32 l[5];

	list_for_each_entry(mq, &q->subs, sub_node) {
		mq_levels(mq, 0, l);
		nest = nla_nest_start(skb, COHORT_A_QUEUE_SUB);
		if (!nest)
			return -EMSGSIZE;
		if ((mq->sub[0] &&
		     nla_put_string(skb, COHORT_A_SUB_NAME, mq->sub)) ||
		    (mq->filter.mask &&
		     (nla_put_u32(skb, COHORT_A_SUB_FILTER_MASK,
				  mq->filter.mask) ||
		      nla_put_u32(skb, COHORT_A_SUB_FILTER_VALUE,
				  mq->filter.value))) ||
		    put_qstats(skb, COHORT_A_SUB_STATS, mq->stats, l)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int put_queue_attrs(struct sk_buff *skb, struct cohort_queue *q)
{
	const struct cohort_queue_attr *a = &q->attr;
	struct user_namespace *ns = current_user_ns();

	if (nla_put_string(skb, COHORT_A_QUEUE_NAME, q->name) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_KIND, q->kind) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_HOME, q->qm->node->id) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_MODE, q->mode) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_UID, from_kuid_munged(ns, q->uid)) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_GID, from_kgid_munged(ns, q->gid)) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_FLAGS,
			a->flags | (q->system ? COHORT_QA_SYSTEM : 0)) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_MAX_MSGS, a->max_msgs) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_MAX_BYTES, a->max_bytes) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_MAX_MSG_SIZE, a->max_msg_size) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_ACK_TIMEOUT, a->ack_timeout_ms) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_MAX_DELIVERIES, a->max_deliveries) ||
	    nla_put_u32(skb, COHORT_A_QUEUE_OVERFLOW, a->overflow) ||
	    (a->dlq[0] && nla_put_string(skb, COHORT_A_QUEUE_DLQ, a->dlq)))
		return -EMSGSIZE;
	return 0;
}

/*
 * One queue. A topic's subscriptions come after its totals; those that do
 * not fit in the message are left out.
 */
static int fill_queue(struct sk_buff *skb, struct cohort_queue *q,
		      u32 portid, u32 seq, int flags)
{
	u64 sum[COHORT_A_QSTATS_MAX + 1];
	u32 level[5] = {};
	void *hdr;
	int err;

	hdr = genlmsg_put(skb, portid, seq, &cohort_genl_family, flags,
			  COHORT_CMD_QUEUE_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (put_queue_attrs(skb, q))
		goto cancel;
	spin_lock(&q->lock);
	if (q->mq) {
		mq_levels(q->mq, q->producers, level);
		err = put_qstats(skb, COHORT_A_QUEUE_STATS, q->mq->stats, level);
	} else {
		topic_totals(q, sum, level);
		err = put_qstats(skb, COHORT_A_QUEUE_STATS, sum, level);
		if (!err)
			put_subs(skb, q);	/* as many as fit */
	}
	spin_unlock(&q->lock);
	if (err)
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

int cohort_queue_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_qmgr *qm = &cohort_node_get(genl_info_net(info))->qm;
	struct cohort_queue *q;
	struct sk_buff *msg;
	size_t size;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_QUEUE_NAME))
		return -EINVAL;
	mutex_lock(&qm->lock);
	q = cohort_queue_lookup(qm, nla_data(info->attrs[COHORT_A_QUEUE_NAME]));
	if (!q) {
		mutex_unlock(&qm->lock);
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[COHORT_A_QUEUE_NAME],
				    "no such queue");
		return -ENOENT;
	}
	/* Any user may add subscriptions: the reply holds those that fit. */
	size = genlmsg_total_size(queue_msg_size(READ_ONCE(q->n_subs)));
	msg = alloc_skb(min_t(size_t, nlmsg_total_size(size), QUEUE_REPLY_MAX),
			GFP_KERNEL);
	err = msg ? fill_queue(msg, q, info->snd_portid, info->snd_seq, 0) :
		    -ENOMEM;
	mutex_unlock(&qm->lock);
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

/*
 * cb->args[0]: hash bucket, [1]: queues of that bucket already sent. A
 * queue added or deleted between two parts moves those positions: the
 * dump says so (NLM_F_DUMP_INTR).
 */
int cohort_queue_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cohort_qmgr *qm = &cohort_node_get(sock_net(skb->sk))->qm;
	long bkt = cb->args[0], skip = cb->args[1], i;
	struct cohort_queue *q;
	int err = 0;

	mutex_lock(&qm->lock);
	cb->seq = qm->names_gen;
	for (; bkt < HASH_SIZE(qm->names); bkt++, skip = 0) {
		i = 0;
		hlist_for_each_entry(q, &qm->names[bkt], hnode) {
			if (i++ < skip)
				continue;
			err = fill_queue(skb, q, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI);
			if (err) {
				skip = i - 1;
				goto out;
			}
			nl_dump_check_consistent(cb, nlmsg_hdr(skb));
		}
	}
out:
	mutex_unlock(&qm->lock);
	cb->args[0] = bkt;
	cb->args[1] = skip;
	return err && !skb->len ? err : skb->len;
}

/* Under qm->lock, so that listeners see changes in order. */
void cohort_genl_queue_notify(struct cohort_node *node, const char *name,
			      u32 kind, u32 event, const char *sub)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(COHORT_NAME_MAX) * 2 +
			  nla_total_size(sizeof(u32)) * 2, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &cohort_genl_family, 0,
			  COHORT_CMD_QUEUE_NTF);
	if (!hdr ||
	    nla_put_string(msg, COHORT_A_QUEUE_NAME, name) ||
	    nla_put_u32(msg, COHORT_A_QUEUE_KIND, kind) ||
	    nla_put_u32(msg, COHORT_A_QUEUE_EVENT, event) ||
	    (sub && nla_put_string(msg, COHORT_A_QUEUE_SUB_NAME, sub))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast_netns(&cohort_genl_family, node->tp.net, msg, 0,
				COHORT_MCGRP_EVENTS, GFP_KERNEL);
}
