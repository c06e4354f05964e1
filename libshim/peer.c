// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: peers, the configured neighbours of this node, and the state
 * of the link to each (PEER_ADD, PEER_DEL, PEER_GET do and dump). LINK_NTF
 * events carry the same attributes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

int cohort_parse_peer(struct nlmsghdr *nlh, struct cohort_peer *p)
{
	struct nlattr *tb[COHORT_A_PEER_MAX + 1];
	uint64_t v;

	memset(p, 0, sizeof(*p));
	p->last_heard_ms = -1;
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_PEER_MAX, NULL) < 0)
		return -EPROTO;
	if (!tb[COHORT_A_PEER_ID] || cohort_attr_u32(tb[COHORT_A_PEER_ID], &p->id))
		return -EPROTO;
	if (tb[COHORT_A_PEER_ADDR]) {
		if (nla_len(tb[COHORT_A_PEER_ADDR]) != sizeof(p->addr))
			return -EPROTO;
		memcpy(&p->addr, nla_data(tb[COHORT_A_PEER_ADDR]), sizeof(p->addr));
	}
	if (tb[COHORT_A_PEER_PORT]) {
		if (cohort_attr_uint(tb[COHORT_A_PEER_PORT], &v) || v > UINT16_MAX)
			return -EPROTO;
		p->port = v;
	}
	if (tb[COHORT_A_PEER_STATE]) {
		if (cohort_attr_uint(tb[COHORT_A_PEER_STATE], &v) || v > UINT8_MAX)
			return -EPROTO;
		p->state = v;
	}
	if (tb[COHORT_A_PEER_LAST_HEARD]) {
		if (cohort_attr_uint(tb[COHORT_A_PEER_LAST_HEARD], &v) ||
		    v > INT64_MAX)
			return -EPROTO;
		p->last_heard_ms = v;
	}
	if (tb[COHORT_A_PEER_STATS])
		return cohort_parse_stats(tb[COHORT_A_PEER_STATS], &p->stats);
	return 0;
}

/* A request carrying COHORT_A_PEER_ID, the rest added by the caller. */
static struct nl_msg *peer_msg(struct cohort *c, uint8_t cmd, uint32_t id)
{
	struct nl_msg *msg = cohort_nl_new(c, cmd);

	if (msg && nla_put_u32(msg, COHORT_A_PEER_ID, id) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int begin(struct cohort *c)
{
	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	return cohort_nl_ensure(c);
}

COHORT_API int cohort_peer_add(struct cohort *c, uint32_t id, uint32_t addr,
			       uint16_t port)
{
	struct nl_msg *msg;
	int ret = begin(c);

	if (ret < 0)
		return ret;
	msg = peer_msg(c, COHORT_CMD_PEER_ADD, id);
	if (!msg)
		return -ENOMEM;
	if (nla_put(msg, COHORT_A_PEER_ADDR, sizeof(addr), &addr) < 0 ||
	    (port && nla_put_u16(msg, COHORT_A_PEER_PORT, port) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return cohort_nl_do(c, msg, NULL, NULL);
}

COHORT_API int cohort_peer_del(struct cohort *c, uint32_t id)
{
	struct nl_msg *msg;
	int ret = begin(c);

	if (ret < 0)
		return ret;
	msg = peer_msg(c, COHORT_CMD_PEER_DEL, id);
	if (!msg)
		return -ENOMEM;
	return cohort_nl_do(c, msg, NULL, NULL);
}

static int peer_reply(struct nlmsghdr *nlh, void *arg)
{
	return cohort_parse_peer(nlh, arg);
}

COHORT_API int cohort_peer_get(struct cohort *c, uint32_t id,
			       struct cohort_peer *peer)
{
	struct nl_msg *msg;
	int ret;

	if (!peer)
		return -EINVAL;
	ret = begin(c);
	if (ret < 0)
		return ret;
	memset(peer, 0, sizeof(*peer));
	peer->last_heard_ms = -1;
	msg = peer_msg(c, COHORT_CMD_PEER_GET, id);
	if (!msg)
		return -ENOMEM;
	return cohort_nl_do(c, msg, peer_reply, peer);
}

/* A growing array filled by a dump. */
struct peer_list {
	struct cohort_peer *v;
	size_t n, cap;
};

static int peer_entry(struct nlmsghdr *nlh, void *arg)
{
	struct peer_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	if (cohort_parse_peer(nlh, &l->v[l->n]) < 0)
		return -EPROTO;
	l->n++;
	return 0;
}

static void peer_reset(void *arg)
{
	((struct peer_list *)arg)->n = 0;
}

COHORT_API int cohort_peer_list(struct cohort *c, struct cohort_peer **peers,
				size_t *n)
{
	struct peer_list l = { 0 };
	int ret;

	if (!peers || !n)
		return -EINVAL;
	*peers = NULL;
	*n = 0;
	ret = begin(c);
	if (ret < 0)
		return ret;
	ret = cohort_nl_dump(c, COHORT_CMD_PEER_GET, peer_entry, peer_reset, &l);
	if (ret < 0) {
		free(l.v);
		return ret;
	}
	*peers = l.v;
	*n = l.n;
	return 0;
}
