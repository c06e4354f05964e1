// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "cohort". Every request acts on the node of
 * the network namespace of the requesting socket.
 *
 * Lock order: node lock, then the transport lock, then the node clock_lock.
 * Configuration requests serialise on the node lock. A node message is
 * filled under the locks, so it is one consistent snapshot, and a change
 * is multicast before they are dropped, so listeners see changes in order.
 * Nothing here waits for the network: pings answer later, by unicast.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>

#include "dgram.h"
#include "genl.h"
#include "node.h"
#include "transport.h"

static const struct genl_multicast_group cohort_mcgrps[] = {
	[COHORT_MCGRP_EVENTS] = { .name = COHORT_GENL_MCGRP_EVENTS },
};

/*
 * Range and character checks live in the handler so that the extack message
 * can name the attribute in words rather than as a policy failure.
 */
/* The s16 min/max of a policy cannot hold these (not const: 6.1). */
static struct netlink_range_validation hb_interval_range = {
	.min = COHORT_HB_INTERVAL_MIN,
	.max = COHORT_HB_INTERVAL_MAX,
};

static const struct nla_policy node_set_policy[COHORT_A_NODE_MAX + 1] = {
	[COHORT_A_NODE_ID]		= { .type = NLA_U32 },
	[COHORT_A_NODE_NAME]		= { .type = NLA_NUL_STRING },
	[COHORT_A_NODE_LISTEN_ADDR]	= { .type = NLA_BE32 },
	[COHORT_A_NODE_PORT]		= NLA_POLICY_MIN(NLA_U16, 1),
	[COHORT_A_NODE_HB_INTERVAL]	= NLA_POLICY_FULL_RANGE(NLA_U32,
							&hb_interval_range),
	[COHORT_A_NODE_HB_TOLERANCE]	= { .type = NLA_U32 },
};

static const struct nla_policy peer_policy[COHORT_A_PEER_MAX + 1] = {
	[COHORT_A_PEER_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[COHORT_A_PEER_ADDR]	= { .type = NLA_BE32 },
	[COHORT_A_PEER_PORT]	= NLA_POLICY_MIN(NLA_U16, 1),
};

static const struct nla_policy msg_policy[COHORT_A_MSG_MAX + 1] = {
	[COHORT_A_MSG_DST]	= NLA_POLICY_MIN(NLA_U32, 1),
	[COHORT_A_MSG_PORT]	= NLA_POLICY_MIN(NLA_U32, 1),
	[COHORT_A_MSG_SRC_PORT]	= { .type = NLA_U32 },
	[COHORT_A_MSG_PAYLOAD]	= { .type = NLA_BINARY, .len = COHORT_MSG_MAX },
	[COHORT_A_MSG_COOKIE]	= { .type = NLA_U64 },
};

static size_t vector_size(u32 n)
{
	size_t entry = nla_total_size(nla_total_size_64bit(sizeof(u64)) * 2);

	return nla_total_size(entry * n);
}

static size_t stats_size(void)
{
	return nla_total_size(nla_total_size_64bit(sizeof(u64)) *
			      COHORT_A_STATS_MAX);
}

static size_t node_msg_size(void)
{
	return nla_total_size(sizeof(u32)) * 5 +	/* id .. tolerance */
	       nla_total_size(sizeof(u16)) +		/* port */
	       nla_total_size(COHORT_NAME_MAX) +
	       nla_total_size_64bit(sizeof(u64)) +	/* lamport */
	       vector_size(COHORT_VC_MAX_ENTRIES) + stats_size();
}

static int put_vector(struct sk_buff *skb, int attr,
		      const struct cohort_vc_entry *e, u32 n)
{
	struct nlattr *vec, *ent;
	u32 i;

	vec = nla_nest_start(skb, attr);
	if (!vec)
		return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		ent = nla_nest_start(skb, COHORT_A_VCLOCK_ENTRY);
		if (!ent ||
		    nla_put_u64_64bit(skb, COHORT_A_VC_ID, e[i].id,
				      COHORT_A_VC_PAD) ||
		    nla_put_u64_64bit(skb, COHORT_A_VC_COUNTER,
				      e[i].counter, COHORT_A_VC_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, ent);
	}
	nla_nest_end(skb, vec);
	return 0;
}

static int put_node_clocks(struct sk_buff *skb, struct cohort_node *node)
{
	int err;

	spin_lock_bh(&node->clock_lock);
	err = nla_put_u64_64bit(skb, COHORT_A_NODE_LAMPORT,
				node->clocks.lamport, COHORT_A_NODE_PAD);
	if (!err)
		err = put_vector(skb, COHORT_A_NODE_VCLOCK,
				 node->clocks.vc.entry, node->clocks.vc.len);
	spin_unlock_bh(&node->clock_lock);
	return err;
}

/* Counters [COHORT_A_STATS_TX_FRAMES, @last] of @v, nested in @attr. */
static int put_stats(struct sk_buff *skb, int attr, const u64 *v, int last)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(skb, attr);
	if (!nest)
		return -EMSGSIZE;
	for (i = COHORT_A_STATS_TX_FRAMES; i <= last; i++)
		if (nla_put_u64_64bit(skb, i, v[i], COHORT_A_STATS_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* Node-wide counters: its own plus the sum over its links. */
static int put_node_stats(struct sk_buff *skb, struct cohort_transport *tp)
{
	u64 sum[COHORT_A_STATS_MAX + 1];
	struct cohort_peer *peer;
	int i;

	memcpy(sum, tp->stats, sizeof(sum));
	list_for_each_entry(peer, &tp->peers, list) {
		peer->stats[COHORT_A_STATS_QUEUED] = peer->txq_frames;
		for (i = 0; i <= COHORT_A_STATS_HEARTBEATS_RX; i++)
			sum[i] += peer->stats[i];
	}
	return put_stats(skb, COHORT_A_NODE_STATS, sum, COHORT_A_STATS_MAX);
}

static int put_node_transport(struct sk_buff *skb, struct cohort_node *node)
{
	struct cohort_transport *tp = &node->tp;
	int err;

	mutex_lock(&tp->lock);
	err = nla_put_be32(skb, COHORT_A_NODE_LISTEN_ADDR, tp->listen_addr) ||
	      nla_put_u16(skb, COHORT_A_NODE_PORT, tp->port) ||
	      nla_put_u32(skb, COHORT_A_NODE_HB_INTERVAL, tp->hb_interval_ms) ||
	      nla_put_u32(skb, COHORT_A_NODE_HB_TOLERANCE,
			  tp->hb_tolerance_ms) ||
	      put_node_stats(skb, tp);
	mutex_unlock(&tp->lock);
	return err ? -EMSGSIZE : 0;
}

static int fill_node(struct sk_buff *skb, struct cohort_node *node,
		     u32 portid, u32 seq, u8 cmd)
{
	void *hdr;

	lockdep_assert_held(&node->lock);

	hdr = genlmsg_put(skb, portid, seq, &cohort_genl_family, 0, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, COHORT_A_NODE_ID, node->id) ||
	    nla_put_u32(skb, COHORT_A_NODE_ACTORS, node->actors) ||
	    (node->name[0] &&
	     nla_put_string(skb, COHORT_A_NODE_NAME, node->name)) ||
	    put_node_transport(skb, node) ||
	    put_node_clocks(skb, node)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static struct sk_buff *node_msg(struct cohort_node *node, u32 portid,
				u32 seq, u8 cmd)
{
	struct sk_buff *skb;
	int err;

	skb = genlmsg_new(node_msg_size(), GFP_KERNEL);
	if (!skb)
		return ERR_PTR(-ENOMEM);
	err = fill_node(skb, node, portid, seq, cmd);
	if (err) {
		nlmsg_free(skb);
		return ERR_PTR(err);
	}
	return skb;
}

static int node_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_node *node = cohort_node_get(genl_info_net(info));
	struct sk_buff *msg;

	mutex_lock(&node->lock);
	msg = node_msg(node, info->snd_portid, info->snd_seq,
		       COHORT_CMD_NODE_GET);
	mutex_unlock(&node->lock);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return genlmsg_reply(msg, info);
}

static int check_node_name(const struct nlattr *attr,
			   struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);
	size_t len = strnlen(name, nla_len(attr));

	if (len + 1 != nla_len(attr)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "node name must be one NUL-terminated string");
		return -EINVAL;
	}
	if (!len || len >= COHORT_NAME_MAX) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "node name must be 1 to 63 bytes long");
		return -EINVAL;
	}
	if (!cohort_node_name_valid(name)) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "node name may contain only letters, digits, '.', '_' and '-'");
		return -EINVAL;
	}
	return 0;
}

/* Called under the node lock, so that notifications keep the set order. */
static void node_notify(struct net *net, struct cohort_node *node)
{
	struct sk_buff *msg;

	msg = node_msg(node, 0, 0, COHORT_CMD_NODE_NTF);
	if (IS_ERR(msg))
		return;
	genlmsg_multicast_netns(&cohort_genl_family, net, msg, 0,
				COHORT_MCGRP_EVENTS, GFP_KERNEL);
}

static int check_node_set(struct cohort_node *node, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct cohort_transport *tp = &node->tp;
	u32 iv = a[COHORT_A_NODE_HB_INTERVAL] ?
		 nla_get_u32(a[COHORT_A_NODE_HB_INTERVAL]) : tp->hb_interval_ms;
	u32 tol = a[COHORT_A_NODE_HB_TOLERANCE] ?
		  nla_get_u32(a[COHORT_A_NODE_HB_TOLERANCE]) :
		  tp->hb_tolerance_ms;

	if (tp->running && (a[COHORT_A_NODE_LISTEN_ADDR] ||
			    a[COHORT_A_NODE_PORT] ||
			    (a[COHORT_A_NODE_ID] &&
			     nla_get_u32(a[COHORT_A_NODE_ID]) != node->id))) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "node id, listen address and port cannot change while peers are configured");
		return -EBUSY;
	}
	if (tol < 2 * iv) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[COHORT_A_NODE_HB_TOLERANCE] ?:
				    a[COHORT_A_NODE_HB_INTERVAL],
				    "heartbeat tolerance must be at least two intervals");
		return -EINVAL;
	}
	return 0;
}

/* Under the node lock: the transport's copy of the settings. */
static void apply_node_set(struct cohort_node *node, struct nlattr **a)
{
	struct cohort_transport *tp = &node->tp;

	mutex_lock(&tp->lock);
	tp->self = node->id;
	if (a[COHORT_A_NODE_LISTEN_ADDR])
		tp->listen_addr = nla_get_be32(a[COHORT_A_NODE_LISTEN_ADDR]);
	if (a[COHORT_A_NODE_PORT])
		tp->port = nla_get_u16(a[COHORT_A_NODE_PORT]);
	if (a[COHORT_A_NODE_HB_INTERVAL])
		tp->hb_interval_ms = nla_get_u32(a[COHORT_A_NODE_HB_INTERVAL]);
	if (a[COHORT_A_NODE_HB_TOLERANCE])
		tp->hb_tolerance_ms = nla_get_u32(a[COHORT_A_NODE_HB_TOLERANCE]);
	if (a[COHORT_A_NODE_NAME]) {
		strscpy(tp->name, node->name, sizeof(tp->name));
		if (tp->running)
			cohort_route_originate(tp);
	}
	mutex_unlock(&tp->lock);
}

static int node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct nlattr *id_attr = a[COHORT_A_NODE_ID];
	struct nlattr *name_attr = a[COHORT_A_NODE_NAME];
	struct net *net = genl_info_net(info);
	struct cohort_node *node = cohort_node_get(net);
	u32 id;
	int i, err;

	for (i = COHORT_A_NODE_ID; i <= COHORT_A_NODE_MAX; i++)
		if (a[i])
			break;
	if (i > COHORT_A_NODE_MAX) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "nothing to set: give a node id, name, listen address, port, heartbeat interval or tolerance");
		return -EINVAL;
	}
	if (id_attr) {
		id = nla_get_u32(id_attr);
		if (!id) {
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "node id 0 is reserved for 'unset'");
			return -EINVAL;
		}
	}
	if (name_attr) {
		err = check_node_name(name_attr, info->extack);
		if (err)
			return err;
	}

	mutex_lock(&node->lock);
	err = check_node_set(node, info);
	if (err)
		goto out;
	err = cohort_node_set_locked(node, id_attr ? &id : NULL,
				     name_attr ? nla_data(name_attr) : NULL);
	if (err) {
		NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
				    "node id cannot change while actors are bound to it");
		goto out;
	}
	apply_node_set(node, a);
	node_notify(net, node);
out:
	mutex_unlock(&node->lock);
	return err;
}

/* ---- peers ---- */

static size_t peer_msg_size(void)
{
	return nla_total_size(sizeof(u32)) * 3 + nla_total_size(sizeof(u16)) +
	       nla_total_size(sizeof(u8)) + stats_size();
}

static int fill_peer(struct sk_buff *skb, struct cohort_peer *peer,
		     u32 portid, u32 seq, int flags, u8 cmd, bool full)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &cohort_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, COHORT_A_PEER_ID, peer->id) ||
	    nla_put_u8(skb, COHORT_A_PEER_STATE, peer->state))
		goto cancel;
	if (!full)
		goto end;
	peer->stats[COHORT_A_STATS_QUEUED] = peer->txq_frames;
	if (nla_put_be32(skb, COHORT_A_PEER_ADDR, peer->addr) ||
	    nla_put_u16(skb, COHORT_A_PEER_PORT, peer->port) ||
	    (peer->heard &&
	     nla_put_u32(skb, COHORT_A_PEER_LAST_HEARD,
			 jiffies_to_msecs(jiffies - peer->last_heard))) ||
	    put_stats(skb, COHORT_A_PEER_STATS, peer->stats,
		      COHORT_A_STATS_HEARTBEATS_RX))
		goto cancel;
end:
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int peer_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct cohort_node *node = cohort_node_get(genl_info_net(info));
	u16 port = COHORT_DEFAULT_PORT;
	u32 id;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_PEER_ID) ||
	    GENL_REQ_ATTR_CHECK(info, COHORT_A_PEER_ADDR))
		return -EINVAL;
	id = nla_get_u32(a[COHORT_A_PEER_ID]);
	if (a[COHORT_A_PEER_PORT])
		port = nla_get_u16(a[COHORT_A_PEER_PORT]);

	mutex_lock(&node->lock);
	err = -EINVAL;
	if (!node->id) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[COHORT_A_PEER_ID],
				    "set the node id before adding peers");
		goto out;
	}
	if (id == node->id) {
		NL_SET_ERR_MSG_ATTR(info->extack, a[COHORT_A_PEER_ID],
				    "a node is not its own peer");
		goto out;
	}
	mutex_lock(&node->tp.lock);
	node->tp.self = node->id;
	strscpy(node->tp.name, node->name, sizeof(node->tp.name));
	err = cohort_peer_add(&node->tp, id,
			      nla_get_be32(a[COHORT_A_PEER_ADDR]), port,
			      info->extack);
	mutex_unlock(&node->tp.lock);
out:
	mutex_unlock(&node->lock);
	return err;
}

static int peer_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_node *node = cohort_node_get(genl_info_net(info));
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_PEER_ID))
		return -EINVAL;
	mutex_lock(&node->lock);
	err = cohort_peer_del(&node->tp,
			      nla_get_u32(info->attrs[COHORT_A_PEER_ID]));
	mutex_unlock(&node->lock);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[COHORT_A_PEER_ID],
				    "no such peer");
	return err;
}

static int peer_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_transport *tp =
		&cohort_node_get(genl_info_net(info))->tp;
	struct cohort_peer *peer;
	struct sk_buff *msg;
	int err = -ENOENT;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_PEER_ID))
		return -EINVAL;
	msg = genlmsg_new(peer_msg_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	mutex_lock(&tp->lock);
	peer = cohort_peer_find(tp, nla_get_u32(info->attrs[COHORT_A_PEER_ID]));
	if (peer)
		err = fill_peer(msg, peer, info->snd_portid, info->snd_seq, 0,
				COHORT_CMD_PEER_GET, true);
	mutex_unlock(&tp->lock);
	if (err) {
		nlmsg_free(msg);
		if (err == -ENOENT)
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[COHORT_A_PEER_ID],
					    "no such peer");
		return err;
	}
	return genlmsg_reply(msg, info);
}

/* Resumable: cb->args[0] counts the peers already dumped. */
static int peer_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cohort_transport *tp =
		&cohort_node_get(sock_net(skb->sk))->tp;
	struct cohort_peer *peer;
	long i = 0;

	mutex_lock(&tp->lock);
	cb->seq = tp->peers_gen;
	list_for_each_entry(peer, &tp->peers, list) {
		if (i++ < cb->args[0])
			continue;
		if (fill_peer(skb, peer, NETLINK_CB(cb->skb).portid,
			      cb->nlh->nlmsg_seq, NLM_F_MULTI,
			      COHORT_CMD_PEER_GET, true)) {
			i--;
			break;
		}
		nl_dump_check_consistent(cb, nlmsg_hdr(skb));
	}
	mutex_unlock(&tp->lock);
	cb->args[0] = i;
	return skb->len;
}

/* ---- members ---- */

static int fill_member(struct sk_buff *skb, const struct cohort_lsa *lsa,
		       u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &cohort_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, COHORT_A_MEMBER_ID, lsa->origin) ||
	    (lsa->name[0] &&
	     nla_put_string(skb, COHORT_A_MEMBER_NAME, lsa->name)) ||
	    nla_put_u8(skb, COHORT_A_MEMBER_STATE, lsa->state) ||
	    (lsa->next_hop &&
	     nla_put_u32(skb, COHORT_A_MEMBER_NEXT_HOP, lsa->next_hop)) ||
	    nla_put_u32(skb, COHORT_A_MEMBER_HOPS, lsa->hops)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* Resumable: cb->args[0] is the next node id to dump. */
static int member_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cohort_transport *tp =
		&cohort_node_get(sock_net(skb->sk))->tp;
	struct cohort_lsa *lsa;
	unsigned long id;

	mutex_lock(&tp->lock);
	cb->seq = tp->route.gen;
	xa_for_each_start(&tp->route.lsdb, id, lsa, cb->args[0]) {
		if (fill_member(skb, lsa, NETLINK_CB(cb->skb).portid,
				cb->nlh->nlmsg_seq, NLM_F_MULTI,
				COHORT_CMD_MEMBER_GET))
			break;
		nl_dump_check_consistent(cb, nlmsg_hdr(skb));
		cb->args[0] = id + 1;
	}
	mutex_unlock(&tp->lock);
	return skb->len;
}

/* ---- ping and messages ---- */

static int ping_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_transport *tp =
		&cohort_node_get(genl_info_net(info))->tp;
	struct nlattr **a = info->attrs;
	u64 cookie = 0;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_MSG_DST))
		return -EINVAL;
	if (a[COHORT_A_MSG_COOKIE])
		cookie = nla_get_u64(a[COHORT_A_MSG_COOKIE]);
	mutex_lock(&tp->lock);
	err = tp->running ? cohort_dgram_ping(tp, nla_get_u32(a[COHORT_A_MSG_DST]),
					     cookie, info->snd_portid) :
			    -EHOSTUNREACH;
	mutex_unlock(&tp->lock);
	if (err == -EHOSTUNREACH)
		NL_SET_ERR_MSG_ATTR(info->extack, a[COHORT_A_MSG_DST],
				    "no route to the destination node");
	return err;
}

static int msg_bind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_transport *tp =
		&cohort_node_get(genl_info_net(info))->tp;
	struct nlattr *port = info->attrs[COHORT_A_MSG_PORT];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_MSG_PORT))
		return -EINVAL;
	mutex_lock(&tp->lock);
	err = cohort_dgram_bind(tp, nla_get_u32(port), info->snd_portid);
	mutex_unlock(&tp->lock);
	if (err == -EBUSY) {
		NL_SET_ERR_MSG_ATTR(info->extack, port,
				    "message port is bound by another socket");
		err = -EADDRINUSE;
	} else if (err == -ENOSPC) {
		NL_SET_ERR_MSG_ATTR(info->extack, port,
				    "too many message ports bound on this node");
	}
	return err;
}

static int msg_unbind_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_transport *tp =
		&cohort_node_get(genl_info_net(info))->tp;
	struct nlattr *port = info->attrs[COHORT_A_MSG_PORT];
	int err;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_MSG_PORT))
		return -EINVAL;
	mutex_lock(&tp->lock);
	err = cohort_dgram_unbind(tp, nla_get_u32(port), info->snd_portid);
	mutex_unlock(&tp->lock);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, port,
				    "message port is not bound by this socket");
	return err;
}

/* How many of a batch went out, when not all did. */
static int msg_send_reply(struct genl_info *info, u32 count)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(nla_total_size(sizeof(u32)), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cohort_genl_family, 0,
				COHORT_CMD_MSG_SEND);
	if (!hdr || nla_put_u32(msg, COHORT_A_MSG_COUNT, count)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * Every PAYLOAD attribute is one message, queued in order until one cannot
 * be: the first failure is the error if nothing went, else the reply says
 * how many did, so a caller retries exactly the rest.
 */
static int msg_send_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cohort_transport *tp =
		&cohort_node_get(genl_info_net(info))->tp;
	struct nlattr **a = info->attrs;
	u32 dst, port, src_port = 0, count = 0, total = 0;
	struct nlattr *nla;
	int rem, err = 0;

	if (GENL_REQ_ATTR_CHECK(info, COHORT_A_MSG_DST) ||
	    GENL_REQ_ATTR_CHECK(info, COHORT_A_MSG_PORT))
		return -EINVAL;
	dst = nla_get_u32(a[COHORT_A_MSG_DST]);
	port = nla_get_u32(a[COHORT_A_MSG_PORT]);
	if (a[COHORT_A_MSG_SRC_PORT])
		src_port = nla_get_u32(a[COHORT_A_MSG_SRC_PORT]);

	mutex_lock(&tp->lock);
	nlmsg_for_each_attr(nla, info->nlhdr, GENL_HDRLEN, rem) {
		if (nla_type(nla) != COHORT_A_MSG_PAYLOAD)
			continue;
		total++;
		if (err)
			continue;
		err = tp->self ? cohort_dgram_send(tp, dst, port, src_port,
						   nla_data(nla),
						   nla_len(nla)) :
				 -EHOSTUNREACH;
		if (!err)
			count++;
	}
	if (!total)	/* an empty message */
		err = tp->self ? cohort_dgram_send(tp, dst, port, src_port,
						   NULL, 0) : -EHOSTUNREACH;
	cohort_genl_msg_flush(tp);	/* messages to this node itself */
	mutex_unlock(&tp->lock);

	if (err && count)
		return msg_send_reply(info, count);
	if (err == -EHOSTUNREACH)
		NL_SET_ERR_MSG_ATTR(info->extack, a[COHORT_A_MSG_DST],
				    "no route to the destination node");
	return err;
}

/* ---- messages and notifications from the transport (under tp->lock) ---- */

/*
 * Messages for one socket are gathered into one skb while a receive run
 * lasts (cohort_genl_msg_flush() ends it): one allocation and one wakeup
 * for many messages. The library reads datagrams of up to 32 KiB.
 */
#define DLV_SKB_SIZE	(16 * 1024)

void cohort_genl_msg_flush(struct cohort_transport *tp)
{
	struct sk_buff *skb = tp->dlv_skb;
	int err;

	lockdep_assert_held(&tp->lock);

	if (!skb)
		return;
	tp->dlv_skb = NULL;
	err = genlmsg_unicast(tp->net, skb, tp->dlv_portid);
	tp->stats[err ? COHORT_A_STATS_MSG_DROPPED :
		  COHORT_A_STATS_MSG_DELIVERED] += tp->dlv_count;
	if (err == -ECONNREFUSED)
		cohort_dgram_release_locked(tp, tp->dlv_portid);
}

static size_t msg_recv_size(const struct cohort_msg_info *m)
{
	return nlmsg_total_size(GENL_HDRLEN + nla_total_size(sizeof(u32)) * 4 +
				nla_total_size_64bit(sizeof(u64)) +
				vector_size(m->vc_len) +
				nla_total_size(m->len));
}

void cohort_genl_msg_deliver(struct cohort_transport *tp, u32 portid,
			     const struct cohort_msg_info *m)
{
	size_t need = msg_recv_size(m);
	struct sk_buff *skb;
	void *hdr;

	if (tp->dlv_skb && (tp->dlv_portid != portid ||
			    skb_tailroom(tp->dlv_skb) < need))
		cohort_genl_msg_flush(tp);
	if (!tp->dlv_skb) {
		tp->dlv_skb = nlmsg_new(max_t(size_t, need, DLV_SKB_SIZE) -
					NLMSG_HDRLEN, GFP_KERNEL);
		if (!tp->dlv_skb) {
			tp->stats[COHORT_A_STATS_MSG_DROPPED]++;
			return;
		}
		tp->dlv_portid = portid;
		tp->dlv_count = 0;
	}
	skb = tp->dlv_skb;
	hdr = genlmsg_put(skb, 0, 0, &cohort_genl_family, 0,
			  COHORT_CMD_MSG_RECV);
	if (!hdr ||
	    nla_put_u32(skb, COHORT_A_MSG_SRC, m->src) ||
	    nla_put_u32(skb, COHORT_A_MSG_SRC_PORT, m->src_port) ||
	    nla_put_u32(skb, COHORT_A_MSG_PORT, m->port) ||
	    nla_put_u32(skb, COHORT_A_MSG_HOPS, m->hops) ||
	    nla_put_u64_64bit(skb, COHORT_A_MSG_LAMPORT, m->lamport,
			      COHORT_A_MSG_PAD) ||
	    put_vector(skb, COHORT_A_MSG_VCLOCK, m->vc, m->vc_len) ||
	    nla_put(skb, COHORT_A_MSG_PAYLOAD, m->len, m->payload)) {
		if (hdr)
			genlmsg_cancel(skb, hdr);
		tp->stats[COHORT_A_STATS_MSG_DROPPED]++;
		return;
	}
	genlmsg_end(skb, hdr);
	tp->dlv_count++;
}

void cohort_genl_ping_reply(struct cohort_transport *tp, u32 portid, u32 dst,
			    u64 cookie, u64 rtt_ns, u32 hops)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(nla_total_size(sizeof(u32)) * 2 +
			  nla_total_size_64bit(sizeof(u64)) * 2, GFP_KERNEL);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &cohort_genl_family, 0, COHORT_CMD_PING);
	if (!hdr ||
	    nla_put_u32(skb, COHORT_A_MSG_DST, dst) ||
	    nla_put_u64_64bit(skb, COHORT_A_MSG_COOKIE, cookie,
			      COHORT_A_MSG_PAD) ||
	    nla_put_u64_64bit(skb, COHORT_A_MSG_RTT, rtt_ns,
			      COHORT_A_MSG_PAD) ||
	    nla_put_u32(skb, COHORT_A_MSG_HOPS, hops)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_unicast(tp->net, skb, portid);
}

static void events_send(struct cohort_transport *tp, struct sk_buff *skb)
{
	genlmsg_multicast_netns(&cohort_genl_family, tp->net, skb, 0,
				COHORT_MCGRP_EVENTS, GFP_KERNEL);
}

void cohort_genl_link_notify(struct cohort_transport *tp,
			     struct cohort_peer *peer)
{
	struct sk_buff *skb;

	if (tp->stopping)
		return;
	skb = genlmsg_new(peer_msg_size(), GFP_KERNEL);
	if (!skb)
		return;
	if (fill_peer(skb, peer, 0, 0, 0, COHORT_CMD_LINK_NTF, false)) {
		nlmsg_free(skb);
		return;
	}
	events_send(tp, skb);
}

void cohort_genl_member_notify(struct cohort_transport *tp,
			       const struct cohort_lsa *lsa)
{
	struct sk_buff *skb;

	if (tp->stopping)
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return;
	if (fill_member(skb, lsa, 0, 0, 0, COHORT_CMD_MEMBER_NTF)) {
		nlmsg_free(skb);
		return;
	}
	events_send(tp, skb);
}

/* A netlink socket went away: its message ports are free again. */
static int nl_release(struct notifier_block *nb, unsigned long event,
		      void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC)
		cohort_dgram_release(&cohort_node_get(n->net)->tp, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block nl_release_nb = {
	.notifier_call = nl_release,
};

static const struct genl_ops cohort_genl_ops[] = {
	{
		.cmd	= COHORT_CMD_NODE_GET,
		.doit	= node_get_doit,
	},
	{
		.cmd	= COHORT_CMD_NODE_SET,
		.doit	= node_set_doit,
		.policy	= node_set_policy,
		.maxattr = COHORT_A_NODE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= COHORT_CMD_PEER_ADD,
		.doit	= peer_add_doit,
		.policy	= peer_policy,
		.maxattr = COHORT_A_PEER_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= COHORT_CMD_PEER_DEL,
		.doit	= peer_del_doit,
		.policy	= peer_policy,
		.maxattr = COHORT_A_PEER_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd	= COHORT_CMD_PEER_GET,
		.doit	= peer_get_doit,
		.dumpit	= peer_get_dumpit,
		.policy	= peer_policy,
		.maxattr = COHORT_A_PEER_MAX,
	},
	{
		.cmd	= COHORT_CMD_MEMBER_GET,
		.dumpit	= member_get_dumpit,
	},
	{
		.cmd	= COHORT_CMD_PING,
		.doit	= ping_doit,
		.policy	= msg_policy,
		.maxattr = COHORT_A_MSG_MAX,
	},
	{
		.cmd	= COHORT_CMD_MSG_BIND,
		.doit	= msg_bind_doit,
		.policy	= msg_policy,
		.maxattr = COHORT_A_MSG_MAX,
	},
	{
		.cmd	= COHORT_CMD_MSG_UNBIND,
		.doit	= msg_unbind_doit,
		.policy	= msg_policy,
		.maxattr = COHORT_A_MSG_MAX,
	},
	{
		.cmd	= COHORT_CMD_MSG_SEND,
		.doit	= msg_send_doit,
		.policy	= msg_policy,
		.maxattr = COHORT_A_MSG_MAX,
	},
	{
		.cmd	= COHORT_CMD_QUEUE_ADD,
		.doit	= cohort_queue_add_doit,
		.policy	= cohort_queue_policy,
		.maxattr = COHORT_A_QUEUE_MAX,
		.flags	= GENL_UNS_ADMIN_PERM,
	},
	{
		/* the owner of a non-system queue may delete it */
		.cmd	= COHORT_CMD_QUEUE_DEL,
		.doit	= cohort_queue_del_doit,
		.policy	= cohort_queue_policy,
		.maxattr = COHORT_A_QUEUE_MAX,
	},
	{
		.cmd	= COHORT_CMD_QUEUE_GET,
		.doit	= cohort_queue_get_doit,
		.dumpit	= cohort_queue_get_dumpit,
		.policy	= cohort_queue_policy,
		.maxattr = COHORT_A_QUEUE_MAX,
	},
};

struct genl_family cohort_genl_family __ro_after_init = {
	.name		= COHORT_GENL_NAME,
	.version	= COHORT_GENL_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.ops		= cohort_genl_ops,
	.n_ops		= ARRAY_SIZE(cohort_genl_ops),
	.mcgrps		= cohort_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(cohort_mcgrps),
};

int __init cohort_genl_init(void)
{
	int err;

	err = netlink_register_notifier(&nl_release_nb);
	if (err)
		return err;
	err = genl_register_family(&cohort_genl_family);
	if (err)
		netlink_unregister_notifier(&nl_release_nb);
	return err;
}

void cohort_genl_exit(void)
{
	genl_unregister_family(&cohort_genl_family);
	netlink_unregister_notifier(&nl_release_nb);
}
