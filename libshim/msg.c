// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: datagrams through the overlay (MSG_BIND, MSG_UNBIND,
 * MSG_SEND, and the MSG_RECV unicasts to the socket that bound a port).
 *
 * cohort_msg_send() is on the hot path of every benchmark: its request is
 * built on the stack and sent with the payload as a second iovec, so a send
 * costs one sendmsg() and one recvmsg() for the ack, no allocation and no
 * copy in user space.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

/* Receive buffer asked for on the first bind: room for bursts. */
#define BIND_RCVBUF	(4 * 1024 * 1024)

static int begin(struct cohort *c)
{
	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	return cohort_nl_ensure(c);
}

static int port_cmd(struct cohort *c, uint8_t cmd, uint32_t port)
{
	struct nl_msg *msg;
	int ret = begin(c);

	if (ret < 0)
		return ret;
	msg = cohort_nl_new(c, cmd);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, COHORT_A_MSG_PORT, port) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return cohort_nl_do(c, msg, NULL, NULL);
}

COHORT_API int cohort_msg_bind(struct cohort *c, uint32_t port)
{
	int ret = port_cmd(c, COHORT_CMD_MSG_BIND, port);
	int size = BIND_RCVBUF;

	if (!ret && !c->rcvbuf_set) {
		/* Capped at net.core.rmem_max; a failure only costs room. */
		setsockopt(c->nlfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		c->rcvbuf_set = 1;
	}
	return ret;
}

COHORT_API int cohort_msg_unbind(struct cohort *c, uint32_t port)
{
	return port_cmd(c, COHORT_CMD_MSG_UNBIND, port);
}

static size_t put_u32(char *p, uint16_t type, uint32_t v)
{
	struct nlattr *a = (struct nlattr *)p;

	a->nla_len = NLA_HDRLEN + sizeof(v);
	a->nla_type = type;
	memcpy(p + NLA_HDRLEN, &v, sizeof(v));
	return NLA_ALIGN(a->nla_len);
}

COHORT_API int cohort_msg_send(struct cohort *c, uint32_t dst, uint32_t port,
			       uint32_t src_port, const void *buf, size_t len)
{
	static const char zero[NLA_ALIGNTO];
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
		char attrs[4 * NLA_HDRLEN + 3 * sizeof(uint32_t)];
	} __attribute__((aligned(NLMSG_ALIGNTO))) h;
	struct iovec iov[3];
	struct nlattr *pl;
	size_t off = 0;
	int ret;

	if (!c || (len && !buf))
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (len > COHORT_MSG_MAX) {
		cohort_set_errmsg(c, "payload longer than %d bytes",
				  COHORT_MSG_MAX);
		return -EMSGSIZE;
	}
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;

	off += put_u32(h.attrs + off, COHORT_A_MSG_DST, dst);
	off += put_u32(h.attrs + off, COHORT_A_MSG_PORT, port);
	if (src_port)
		off += put_u32(h.attrs + off, COHORT_A_MSG_SRC_PORT, src_port);
	pl = (struct nlattr *)(h.attrs + off);
	pl->nla_len = NLA_HDRLEN + len;
	pl->nla_type = COHORT_A_MSG_PAYLOAD;
	off += NLA_HDRLEN;

	memset(&h.g, 0, sizeof(h.g));
	h.g.cmd = COHORT_CMD_MSG_SEND;
	h.g.version = COHORT_GENL_VERSION;
	h.nlh.nlmsg_type = c->family;
	h.nlh.nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + off + NLA_ALIGN(len);
	iov[0].iov_base = &h;
	iov[0].iov_len = NLMSG_HDRLEN + GENL_HDRLEN + off;
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)zero;
	iov[2].iov_len = NLA_ALIGN(len) - len;
	return cohort_nl_do_iov(c, iov, 3);
}

/* Fill @m from one MSG_RECV; only the payload bytes received are copied. */
static int parse_msg(struct nlmsghdr *nlh, struct cohort_msg *m)
{
	struct nlattr *tb[COHORT_A_MSG_MAX + 1];
	uint32_t *u32[] = {
		[COHORT_A_MSG_SRC] = &m->src,
		[COHORT_A_MSG_SRC_PORT] = &m->src_port,
		[COHORT_A_MSG_PORT] = &m->port,
		[COHORT_A_MSG_HOPS] = &m->hops,
	};
	size_t i;

	m->src = m->src_port = m->port = m->hops = 0;
	m->lamport = 0;
	m->vclock.len = 0;
	m->len = 0;
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_MSG_MAX, NULL) < 0)
		return -EPROTO;
	for (i = 0; i < sizeof(u32) / sizeof(u32[0]); i++)
		if (u32[i] && tb[i] && cohort_attr_u32(tb[i], u32[i]))
			return -EPROTO;
	if (tb[COHORT_A_MSG_LAMPORT] &&
	    cohort_attr_uint(tb[COHORT_A_MSG_LAMPORT], &m->lamport))
		return -EPROTO;
	if (tb[COHORT_A_MSG_VCLOCK] &&
	    cohort_parse_vclock(tb[COHORT_A_MSG_VCLOCK], &m->vclock) < 0)
		return -EPROTO;
	if (tb[COHORT_A_MSG_PAYLOAD]) {
		m->len = nla_len(tb[COHORT_A_MSG_PAYLOAD]);
		if (m->len > COHORT_MSG_MAX)
			return -EMSGSIZE;
		memcpy(m->payload, nla_data(tb[COHORT_A_MSG_PAYLOAD]), m->len);
	}
	return 0;
}

COHORT_API int cohort_msg_recv(struct cohort *c, struct cohort_msg *msg,
			       int timeout_ms)
{
	struct nlmsghdr *nlh;
	int ret;

	if (!msg)
		return -EINVAL;
	ret = begin(c);
	if (ret < 0)
		return ret;
	ret = cohort_rx_next(c, COHORT_CMD_MSG_RECV, NULL, NULL, timeout_ms,
			     &nlh);
	return ret < 0 ? ret : parse_msg(nlh, msg);
}

COHORT_API int cohort_msg_fd(struct cohort *c)
{
	int ret = begin(c);

	return ret < 0 ? ret : c->nlfd;
}

COHORT_API int cohort_msg_set_rcvbuf(struct cohort *c, int bytes)
{
	int ret = begin(c);

	if (ret < 0)
		return ret;
	if (bytes <= 0)
		return -EINVAL;
	if (setsockopt(c->nlfd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes,
		       sizeof(bytes)) < 0 &&
	    setsockopt(c->nlfd, SOL_SOCKET, SO_RCVBUF, &bytes,
		       sizeof(bytes)) < 0)
		return -errno;
	c->rcvbuf_set = 1;
	return 0;
}
