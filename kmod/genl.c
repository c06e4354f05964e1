// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "cohort". Every request acts on the node of
 * the network namespace of the requesting socket.
 *
 * Lock order: node lock, then node clock_lock. A node message is filled
 * under both, so it is one consistent snapshot, and a change is multicast
 * before the lock is dropped, so listeners see changes in order.
 */
#include <linux/ctype.h>
#include <net/genetlink.h>

#include "genl.h"
#include "node.h"

enum cohort_mcgrp {
	COHORT_MCGRP_EVENTS,
};

static const struct genl_multicast_group cohort_mcgrps[] = {
	[COHORT_MCGRP_EVENTS] = { .name = COHORT_GENL_MCGRP_EVENTS },
};

/*
 * Range and character checks live in the handler so that the extack message
 * can name the attribute in words rather than as a policy failure.
 */
static const struct nla_policy node_set_policy[COHORT_A_NODE_MAX + 1] = {
	[COHORT_A_NODE_ID]	= { .type = NLA_U32 },
	[COHORT_A_NODE_NAME]	= { .type = NLA_NUL_STRING },
};

static struct genl_family cohort_genl_family;

static size_t node_msg_size(void)
{
	size_t entry = nla_total_size(nla_total_size_64bit(sizeof(u64)) * 2);

	return nla_total_size(sizeof(u32)) * 2 +	/* id, actors */
	       nla_total_size(COHORT_NAME_MAX) +
	       nla_total_size_64bit(sizeof(u64)) +	/* lamport */
	       nla_total_size(entry * COHORT_VC_MAX_ENTRIES);
}

static int put_vector(struct sk_buff *skb, int attr,
		      const struct cohort_vector *v)
{
	struct nlattr *vec, *ent;
	u32 i;

	vec = nla_nest_start(skb, attr);
	if (!vec)
		return -EMSGSIZE;
	for (i = 0; i < v->len; i++) {
		ent = nla_nest_start(skb, COHORT_A_VCLOCK_ENTRY);
		if (!ent ||
		    nla_put_u64_64bit(skb, COHORT_A_VC_ID, v->entry[i].id,
				      COHORT_A_VC_PAD) ||
		    nla_put_u64_64bit(skb, COHORT_A_VC_COUNTER,
				      v->entry[i].counter, COHORT_A_VC_PAD))
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
		err = put_vector(skb, COHORT_A_NODE_VCLOCK, &node->clocks.vc);
	spin_unlock_bh(&node->clock_lock);
	return err;
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

/* ASCII only: the kernel's isalnum() also accepts Latin-1 letters. */
static bool node_name_char_ok(char c)
{
	return isascii(c) && (isalnum(c) || c == '.' || c == '_' || c == '-');
}

static int check_node_name(const struct nlattr *attr,
			   struct netlink_ext_ack *extack)
{
	const char *name = nla_data(attr);
	size_t len = strnlen(name, nla_len(attr));
	size_t i;

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
	for (i = 0; i < len; i++) {
		if (!node_name_char_ok(name[i])) {
			NL_SET_ERR_MSG_ATTR(extack, attr,
					    "node name may contain only letters, digits, '.', '_' and '-'");
			return -EINVAL;
		}
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

static int node_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *id_attr = info->attrs[COHORT_A_NODE_ID];
	struct nlattr *name_attr = info->attrs[COHORT_A_NODE_NAME];
	struct net *net = genl_info_net(info);
	struct cohort_node *node = cohort_node_get(net);
	u32 id;
	int err;

	if (!id_attr && !name_attr) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "nothing to set: give a node id or name");
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
	err = cohort_node_set_locked(node, id_attr ? &id : NULL,
				     name_attr ? nla_data(name_attr) : NULL);
	if (err)
		NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
				    "node id cannot change while actors are bound to it");
	else
		node_notify(net, node);
	mutex_unlock(&node->lock);
	return err;
}

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
};

static struct genl_family cohort_genl_family __ro_after_init = {
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
	return genl_register_family(&cohort_genl_family);
}

void cohort_genl_exit(void)
{
	genl_unregister_family(&cohort_genl_family);
}
