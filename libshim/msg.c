// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: datagrams through the overlay (MSG_BIND, MSG_UNBIND,
 * MSG_SEND, and the MSG_RECV unicasts to the socket that bound a port).
 *
 * cohort_msg_send() and cohort_msg_send_batch() are on the hot path of every
 * benchmark: the request is built on the stack and sent with the payloads
 * as iovecs, so a call costs one sendmsg() and one recvmsg() for the ack,
 * however many messages it carries, with no allocation or copy.
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

/* The request header: DST, PORT and SRC_PORT (if set) as attributes. */
struct send_hdr {
	struct nlmsghdr nlh;
	struct genlmsghdr g;
	char attrs[3 * (NLA_HDRLEN + sizeof(uint32_t))];
} __attribute__((aligned(NLMSG_ALIGNTO)));

static size_t send_hdr_init(struct cohort *c, struct send_hdr *h,
			    uint32_t dst, uint32_t port, uint32_t src_port)
{
	size_t off = 0;

	off += put_u32(h->attrs + off, COHORT_A_MSG_DST, dst);
	off += put_u32(h->attrs + off, COHORT_A_MSG_PORT, port);
	if (src_port)
		off += put_u32(h->attrs + off, COHORT_A_MSG_SRC_PORT, src_port);
	memset(&h->g, 0, sizeof(h->g));
	h->g.cmd = COHORT_CMD_MSG_SEND;
	h->g.version = COHORT_GENL_VERSION;
	h->nlh.nlmsg_type = c->family;
	return NLMSG_HDRLEN + GENL_HDRLEN + off;
}

static int send_count(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[COHORT_A_MSG_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, COHORT_A_MSG_MAX, NULL) < 0 ||
	    !tb[COHORT_A_MSG_COUNT] ||
	    cohort_attr_u32(tb[COHORT_A_MSG_COUNT], arg))
		return -EPROTO;
	return 0;
}

COHORT_API int cohort_msg_send_batch(struct cohort *c, uint32_t dst,
				     uint32_t port, uint32_t src_port,
				     const struct iovec *msgs, size_t n,
				     size_t *sent)
{
	static const char zero[NLA_ALIGNTO];
	struct nlattr pl[COHORT_MSG_BATCH_MAX];
	struct iovec iov[1 + 3 * COHORT_MSG_BATCH_MAX];
	uint32_t count = n;
	struct send_hdr h;
	size_t i, len;
	int ret, k = 1;

	if (!c || !n || n > COHORT_MSG_BATCH_MAX || !msgs || !sent)
		return -EINVAL;
	cohort_clear_errmsg(c);
	*sent = 0;
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	len = send_hdr_init(c, &h, dst, port, src_port);
	iov[0].iov_base = &h;
	iov[0].iov_len = len;
	for (i = 0; i < n; i++) {
		size_t plen = msgs[i].iov_len;

		if (plen > COHORT_MSG_MAX || (plen && !msgs[i].iov_base)) {
			cohort_set_errmsg(c, "message %zu: payload longer than %d bytes",
					  i, COHORT_MSG_MAX);
			return plen ? -EMSGSIZE : -EINVAL;
		}
		pl[i].nla_len = NLA_HDRLEN + plen;
		pl[i].nla_type = COHORT_A_MSG_PAYLOAD;
		iov[k].iov_base = &pl[i];
		iov[k++].iov_len = NLA_HDRLEN;
		iov[k].iov_base = msgs[i].iov_base;
		iov[k++].iov_len = plen;
		iov[k].iov_base = (void *)zero;
		iov[k++].iov_len = NLA_ALIGN(plen) - plen;
		len += NLA_HDRLEN + NLA_ALIGN(plen);
	}
	h.nlh.nlmsg_len = len;
	ret = cohort_nl_do_iov(c, iov, k, send_count, &count);
	if (ret < 0)
		return ret;
	*sent = count;
	return 0;
}

COHORT_API int cohort_msg_send(struct cohort *c, uint32_t dst, uint32_t port,
			       uint32_t src_port, const void *buf, size_t len)
{
	struct iovec one = { .iov_base = (void *)buf, .iov_len = len };
	size_t sent;

	return cohort_msg_send_batch(c, dst, port, src_port, &one, 1, &sent);
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
