// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: node state and transport settings (NODE_GET, NODE_SET), and
 * the attribute parsers the other files share.
 *
 * Integer attributes whose width the ABI header leaves open (states, hop
 * counts, times) are read at any width of 1, 2, 4 or 8 bytes.
 */
#include <errno.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

int cohort_attr_uint(const struct nlattr *a, uint64_t *v)
{
	const void *d = nla_data(a);

	switch (nla_len(a)) {
	case 1:
		*v = *(const uint8_t *)d;
		return 0;
	case 2:
		*v = *(const uint16_t *)d;
		return 0;
	case 4:
		*v = *(const uint32_t *)d;
		return 0;
	case 8:
		memcpy(v, d, sizeof(*v));
		return 0;
	}
	return -EPROTO;
}

int cohort_attr_u32(const struct nlattr *a, uint32_t *v)
{
	uint64_t x;

	if (cohort_attr_uint(a, &x) < 0 || x > UINT32_MAX)
		return -EPROTO;
	*v = x;
	return 0;
}

int cohort_attr_name(const struct nlattr *a, char *name)
{
	size_t len = strnlen(nla_data(a), nla_len(a));

	if (len >= COHORT_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, nla_data(a), len);
	name[len] = '\0';
	return 0;
}

static const struct nla_policy vc_policy[COHORT_A_VC_MAX + 1] = {
	[COHORT_A_VC_ID]	= { .type = NLA_U64 },
	[COHORT_A_VC_COUNTER]	= { .type = NLA_U64 },
};

int cohort_parse_vclock(struct nlattr *nest, struct cohort_vector *v)
{
	struct nlattr *tb[COHORT_A_VC_MAX + 1];
	struct nlattr *pos;
	int rem;

	v->len = 0;
	nla_for_each_nested(pos, nest, rem) {
		if (nla_type(pos) != COHORT_A_VCLOCK_ENTRY)
			continue;
		if (v->len >= COHORT_VC_MAX_ENTRIES)
			return -E2BIG;
		if (nla_parse_nested(tb, COHORT_A_VC_MAX, pos, vc_policy) < 0)
			return -EPROTO;
		if (!tb[COHORT_A_VC_ID] || !tb[COHORT_A_VC_COUNTER])
			return -EPROTO;
		v->entry[v->len].id = nla_get_u64(tb[COHORT_A_VC_ID]);
		v->entry[v->len].counter = nla_get_u64(tb[COHORT_A_VC_COUNTER]);
		v->len++;
	}
	return 0;
}

/* Counters by attribute type; unknown (newer) counters are skipped. */
int cohort_parse_stats(struct nlattr *nest, struct cohort_stats *st)
{
	struct nlattr *pos;
	int rem, type;

	memset(st, 0, sizeof(*st));
	nla_for_each_nested(pos, nest, rem) {
		type = nla_type(pos);
		if (type <= COHORT_A_STATS_PAD || type > COHORT_A_STATS_MAX)
			continue;
		if (cohort_attr_uint(pos, &st->v[type]) < 0)
			return -EPROTO;
	}
	return 0;
}

static const struct nla_policy node_policy[COHORT_A_NODE_MAX + 1] = {
	[COHORT_A_NODE_ID]		= { .type = NLA_U32 },
	[COHORT_A_NODE_NAME]		= { .type = NLA_STRING },
	[COHORT_A_NODE_ACTORS]		= { .type = NLA_U32 },
	[COHORT_A_NODE_LAMPORT]		= { .type = NLA_U64 },
	[COHORT_A_NODE_VCLOCK]		= { .type = NLA_NESTED },
	[COHORT_A_NODE_LISTEN_ADDR]	= { .type = NLA_U32 },
	[COHORT_A_NODE_PORT]		= { .type = NLA_U16 },
	[COHORT_A_NODE_HB_INTERVAL]	= { .type = NLA_U32 },
	[COHORT_A_NODE_HB_TOLERANCE]	= { .type = NLA_U32 },
	[COHORT_A_NODE_STATS]		= { .type = NLA_NESTED },
};

/* Fill @node from a NODE_GET reply or a NODE_NTF notification. */
int cohort_nl_parse_node(struct nlmsghdr *nlh, struct cohort_node *node)
{
	struct nlattr *tb[COHORT_A_NODE_MAX + 1];
	int ret;

	memset(node, 0, sizeof(*node));
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_NODE_MAX, node_policy) < 0)
		return -EPROTO;
	if (tb[COHORT_A_NODE_ID]) {
		node->id = nla_get_u32(tb[COHORT_A_NODE_ID]);
		if (node->id)
			node->fields |= COHORT_NODE_F_ID;
	}
	if (tb[COHORT_A_NODE_NAME]) {
		ret = cohort_attr_name(tb[COHORT_A_NODE_NAME], node->name);
		if (ret < 0)
			return ret;
		node->fields |= COHORT_NODE_F_NAME;
	}
	if (tb[COHORT_A_NODE_ACTORS]) {
		node->actors = nla_get_u32(tb[COHORT_A_NODE_ACTORS]);
		node->fields |= COHORT_NODE_F_ACTORS;
	}
	if (tb[COHORT_A_NODE_LAMPORT]) {
		node->lamport = nla_get_u64(tb[COHORT_A_NODE_LAMPORT]);
		node->fields |= COHORT_NODE_F_LAMPORT;
	}
	if (tb[COHORT_A_NODE_VCLOCK]) {
		ret = cohort_parse_vclock(tb[COHORT_A_NODE_VCLOCK], &node->vclock);
		if (ret < 0)
			return ret;
		node->fields |= COHORT_NODE_F_VCLOCK;
	}
	return 0;
}

static int node_reply(struct nlmsghdr *nlh, void *arg)
{
	return cohort_nl_parse_node(nlh, arg);
}

COHORT_API int cohort_node_get(struct cohort *c, struct cohort_node *node)
{
	struct nl_msg *msg;
	int ret;

	if (!c || !node)
		return -EINVAL;
	cohort_clear_errmsg(c);
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	msg = cohort_nl_new(c, COHORT_CMD_NODE_GET);
	if (!msg)
		return -ENOMEM;
	memset(node, 0, sizeof(*node));
	return cohort_nl_do(c, msg, node_reply, node);
}

static int check_set(struct cohort *c, const struct cohort_node *node)
{
	const uint32_t settable = COHORT_NODE_F_ID | COHORT_NODE_F_NAME;

	if (node->fields & ~settable) {
		cohort_set_errmsg(c, "only the node id and name can be set");
		return -EINVAL;
	}
	if (!node->fields) {
		cohort_set_errmsg(c, "nothing to set");
		return -EINVAL;
	}
	if ((node->fields & COHORT_NODE_F_NAME) &&
	    strnlen(node->name, COHORT_NAME_MAX) >= COHORT_NAME_MAX) {
		cohort_set_errmsg(c, "node name longer than %d bytes",
				  COHORT_NAME_MAX - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int put_set_attrs(struct nl_msg *msg, const struct cohort_node *node)
{
	if ((node->fields & COHORT_NODE_F_ID) &&
	    nla_put_u32(msg, COHORT_A_NODE_ID, node->id) < 0)
		return -EMSGSIZE;
	if ((node->fields & COHORT_NODE_F_NAME) &&
	    nla_put_string(msg, COHORT_A_NODE_NAME, node->name) < 0)
		return -EMSGSIZE;
	return 0;
}

/* Send a NODE_SET built by @put. */
static int node_set(struct cohort *c, const void *what,
		    int (*put)(struct nl_msg *msg, const void *what))
{
	struct nl_msg *msg;
	int ret;

	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	msg = cohort_nl_new(c, COHORT_CMD_NODE_SET);
	if (!msg)
		return -ENOMEM;
	ret = put(msg, what);
	if (ret < 0) {
		nlmsg_free(msg);
		return ret;
	}
	return cohort_nl_do(c, msg, NULL, NULL);
}

static int put_node(struct nl_msg *msg, const void *what)
{
	return put_set_attrs(msg, what);
}

COHORT_API int cohort_node_set(struct cohort *c, const struct cohort_node *node)
{
	int ret;

	if (!c || !node)
		return -EINVAL;
	cohort_clear_errmsg(c);
	ret = check_set(c, node);
	if (ret < 0)
		return ret;
	return node_set(c, node, put_node);
}

/* ---- transport settings: the same NODE_GET/NODE_SET ---- */

struct config_reply {
	struct cohort_link_config *cfg;
	struct cohort_stats *stats;
};

static int config_reply(struct nlmsghdr *nlh, void *arg)
{
	struct config_reply *r = arg;
	struct nlattr *tb[COHORT_A_NODE_MAX + 1];
	struct cohort_link_config *cfg = r->cfg;

	if (genlmsg_parse(nlh, 0, tb, COHORT_A_NODE_MAX, node_policy) < 0)
		return -EPROTO;
	if (tb[COHORT_A_NODE_LISTEN_ADDR]) {
		memcpy(&cfg->listen_addr, nla_data(tb[COHORT_A_NODE_LISTEN_ADDR]),
		       sizeof(cfg->listen_addr));
		cfg->fields |= COHORT_LINK_F_ADDR;
	}
	if (tb[COHORT_A_NODE_PORT]) {
		cfg->port = nla_get_u16(tb[COHORT_A_NODE_PORT]);
		cfg->fields |= COHORT_LINK_F_PORT;
	}
	if (tb[COHORT_A_NODE_HB_INTERVAL]) {
		cfg->hb_interval_ms = nla_get_u32(tb[COHORT_A_NODE_HB_INTERVAL]);
		cfg->fields |= COHORT_LINK_F_INTERVAL;
	}
	if (tb[COHORT_A_NODE_HB_TOLERANCE]) {
		cfg->hb_tolerance_ms = nla_get_u32(tb[COHORT_A_NODE_HB_TOLERANCE]);
		cfg->fields |= COHORT_LINK_F_TOLERANCE;
	}
	if (r->stats && tb[COHORT_A_NODE_STATS])
		return cohort_parse_stats(tb[COHORT_A_NODE_STATS], r->stats);
	return 0;
}

COHORT_API int cohort_link_config_get(struct cohort *c,
				      struct cohort_link_config *cfg,
				      struct cohort_stats *node_stats)
{
	struct config_reply r = { .cfg = cfg, .stats = node_stats };
	struct nl_msg *msg;
	int ret;

	if (!c || !cfg)
		return -EINVAL;
	cohort_clear_errmsg(c);
	memset(cfg, 0, sizeof(*cfg));
	if (node_stats)
		memset(node_stats, 0, sizeof(*node_stats));
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	msg = cohort_nl_new(c, COHORT_CMD_NODE_GET);
	if (!msg)
		return -ENOMEM;
	return cohort_nl_do(c, msg, config_reply, &r);
}

static int put_config(struct nl_msg *msg, const void *what)
{
	const struct cohort_link_config *cfg = what;

	if ((cfg->fields & COHORT_LINK_F_ADDR) &&
	    nla_put(msg, COHORT_A_NODE_LISTEN_ADDR, sizeof(cfg->listen_addr),
		    &cfg->listen_addr) < 0)
		return -EMSGSIZE;
	if ((cfg->fields & COHORT_LINK_F_PORT) &&
	    nla_put_u16(msg, COHORT_A_NODE_PORT, cfg->port) < 0)
		return -EMSGSIZE;
	if ((cfg->fields & COHORT_LINK_F_INTERVAL) &&
	    nla_put_u32(msg, COHORT_A_NODE_HB_INTERVAL, cfg->hb_interval_ms) < 0)
		return -EMSGSIZE;
	if ((cfg->fields & COHORT_LINK_F_TOLERANCE) &&
	    nla_put_u32(msg, COHORT_A_NODE_HB_TOLERANCE,
			cfg->hb_tolerance_ms) < 0)
		return -EMSGSIZE;
	return 0;
}

COHORT_API int cohort_link_config_set(struct cohort *c,
				      const struct cohort_link_config *cfg)
{
	const uint32_t known = COHORT_LINK_F_ADDR | COHORT_LINK_F_PORT |
			       COHORT_LINK_F_INTERVAL | COHORT_LINK_F_TOLERANCE;

	if (!c || !cfg)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (!cfg->fields || (cfg->fields & ~known)) {
		cohort_set_errmsg(c, cfg->fields ? "unknown field in cfg->fields"
						 : "nothing to set");
		return -EINVAL;
	}
	return node_set(c, cfg, put_config);
}
