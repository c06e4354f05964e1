// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: the generic netlink family "cohort" (node state).
 *
 * The request socket is opened on the first netlink call of a handle, with
 * NETLINK_EXT_ACK enabled so that a kernel error arrives with its message;
 * the error callback copies that message into the handle for
 * cohort_errmsg() and keeps the errno exactly as the kernel sent it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

/* One request in flight: what the callbacks need and what they found. */
struct request {
	struct cohort *c;
	struct cohort_node *node;	/* reply destination, NULL if none */
	int done;			/* ACK or error seen */
	int err;			/* kernel errno (negative) */
	int parse_err;			/* reply could not be parsed */
};

void cohort_nl_close(struct cohort *c)
{
	nl_socket_free(c->nl);
	c->nl = NULL;
	c->family = 0;
}

static int nl_open(struct cohort *c)
{
	int one = 1, ret;

	c->nl = nl_socket_alloc();
	if (!c->nl)
		return -ENOMEM;
	ret = genl_connect(c->nl);
	if (ret < 0)
		return -cohort_nle_to_errno(ret);
	/* Old kernels without extended acks still work, only less verbosely. */
	setsockopt(nl_socket_get_fd(c->nl), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	ret = genl_ctrl_resolve(c->nl, COHORT_GENL_NAME);
	if (ret < 0) {
		ret = -cohort_nle_to_errno(ret);
		if (ret == -ENOENT)
			cohort_set_errmsg(c,
				"generic netlink family \"%s\" not found",
				COHORT_GENL_NAME);
		return ret;
	}
	c->family = ret;
	return 0;
}

/* Open the request socket and resolve the family once per handle. */
int cohort_nl_ensure(struct cohort *c)
{
	int ret;

	if (c->nl)
		return 0;
	ret = nl_open(c);
	if (ret < 0)
		cohort_nl_close(c);
	return ret;
}

static const struct nla_policy vc_policy[COHORT_A_VC_MAX + 1] = {
	[COHORT_A_VC_ID]	= { .type = NLA_U64 },
	[COHORT_A_VC_COUNTER]	= { .type = NLA_U64 },
};

static int parse_vclock(struct nlattr *nest, struct cohort_vector *v)
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

static const struct nla_policy node_policy[COHORT_A_NODE_MAX + 1] = {
	[COHORT_A_NODE_ID]	= { .type = NLA_U32 },
	[COHORT_A_NODE_NAME]	= { .type = NLA_STRING },
	[COHORT_A_NODE_ACTORS]	= { .type = NLA_U32 },
	[COHORT_A_NODE_LAMPORT]	= { .type = NLA_U64 },
	[COHORT_A_NODE_VCLOCK]	= { .type = NLA_NESTED },
};

static int parse_name(struct nlattr *attr, char *name)
{
	size_t len = strnlen(nla_data(attr), nla_len(attr));

	if (len >= COHORT_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, nla_data(attr), len);
	name[len] = '\0';
	return 0;
}

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
		ret = parse_name(tb[COHORT_A_NODE_NAME], node->name);
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
		ret = parse_vclock(tb[COHORT_A_NODE_VCLOCK], &node->vclock);
		if (ret < 0)
			return ret;
		node->fields |= COHORT_NODE_F_VCLOCK;
	}
	return 0;
}

/*
 * The extended ack TLVs follow the echoed request, which is cut down to its
 * header when the kernel sets NLM_F_CAPPED.
 */
static void save_extack(struct cohort *c, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (void *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t hlen = sizeof(*e), total;
	struct nlattr *attrs;
	char *msg;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	hlen = NLMSG_ALIGN(hlen);
	total = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (hlen >= total)
		return;
	attrs = (struct nlattr *)((char *)e + hlen);
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, total - hlen, NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	msg = nla_data(tb[NLMSGERR_ATTR_MSG]);
	cohort_set_errmsg(c, "%.*s",
			  (int)strnlen(msg, nla_len(tb[NLMSGERR_ATTR_MSG])),
			  msg);
}

static int err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct request *r = arg;

	r->err = e->error < 0 ? e->error : -e->error;
	if (!r->err)
		r->err = -EPROTO;
	save_extack(r->c, e);
	r->done = 1;
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;

	r->done = 1;
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct request *r = arg;
	int ret;

	if (!r->node)
		return NL_OK;
	ret = cohort_nl_parse_node(nlmsg_hdr(msg), r->node);
	if (ret < 0 && !r->parse_err)
		r->parse_err = ret;
	return NL_OK;
}

/* Send @msg and read replies until the kernel acks or refuses it. */
static int transact(struct cohort *c, struct nl_msg *msg,
		    struct cohort_node *node)
{
	struct request r = { .c = c, .node = node };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, err_cb, &r);

	ret = nl_send_auto(c->nl, msg);
	while (ret >= 0 && !r.done)
		ret = nl_recvmsgs(c->nl, cb);
	nl_cb_put(cb);

	if (r.err)
		return r.err;
	if (ret < 0)
		return -cohort_nle_to_errno(ret);
	return r.parse_err;
}

static struct nl_msg *new_request(struct cohort *c, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0, 0, cmd,
			 COHORT_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
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
	msg = new_request(c, COHORT_CMD_NODE_GET);
	if (!msg)
		return -ENOMEM;
	memset(node, 0, sizeof(*node));
	ret = transact(c, msg, node);
	nlmsg_free(msg);
	return ret;
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

COHORT_API int cohort_node_set(struct cohort *c, const struct cohort_node *node)
{
	struct nl_msg *msg;
	int ret;

	if (!c || !node)
		return -EINVAL;
	cohort_clear_errmsg(c);
	ret = check_set(c, node);
	if (ret < 0)
		return ret;
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	msg = new_request(c, COHORT_CMD_NODE_SET);
	if (!msg)
		return -ENOMEM;
	ret = put_set_attrs(msg, node);
	if (!ret)
		ret = transact(c, msg, NULL);
	nlmsg_free(msg);
	return ret;
}
