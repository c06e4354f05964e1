// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: ping through the overlay. The PING doit only queues the
 * probe; the answer, with the round trip the kernel measured, comes later
 * as a unicast COHORT_CMD_PING to the same socket and is told apart from
 * late answers to earlier pings by its cookie.
 */
#include <errno.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

struct answer {
	uint64_t cookie;
	uint64_t rtt;
	uint32_t hops;
};

static int is_answer(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[COHORT_A_MSG_MAX + 1];
	struct answer *a = arg;
	uint64_t v;

	if (genlmsg_parse(nlh, 0, tb, COHORT_A_MSG_MAX, NULL) < 0 ||
	    !tb[COHORT_A_MSG_COOKIE] || !tb[COHORT_A_MSG_RTT] ||
	    cohort_attr_uint(tb[COHORT_A_MSG_COOKIE], &v) || v != a->cookie ||
	    cohort_attr_uint(tb[COHORT_A_MSG_RTT], &a->rtt))
		return 0;
	a->hops = 0;
	if (tb[COHORT_A_MSG_HOPS])
		cohort_attr_u32(tb[COHORT_A_MSG_HOPS], &a->hops);
	return 1;
}

COHORT_API int cohort_ping(struct cohort *c, uint32_t dst, int timeout_ms,
			   uint64_t *rtt_ns, uint32_t *hops)
{
	struct answer a = { 0 };
	struct nlmsghdr *nlh;
	struct nl_msg *msg;
	int ret;

	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	msg = cohort_nl_new(c, COHORT_CMD_PING);
	if (!msg)
		return -ENOMEM;
	a.cookie = ++c->cookie;
	if (nla_put_u32(msg, COHORT_A_MSG_DST, dst) < 0 ||
	    nla_put_u64(msg, COHORT_A_MSG_COOKIE, a.cookie) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = cohort_nl_do(c, msg, NULL, NULL);
	if (ret < 0)
		return ret;
	ret = cohort_rx_next(c, COHORT_CMD_PING, is_answer, &a, timeout_ms, &nlh);
	if (ret == -EAGAIN)
		ret = -ETIMEDOUT;
	if (ret < 0)
		return ret;
	if (rtt_ns)
		*rtt_ns = a.rtt;
	if (hops)
		*hops = a.hops;
	return 0;
}
