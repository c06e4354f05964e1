// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: notifications from the "events" multicast group.
 *
 * Events use their own libnl socket, so that they never interleave with the
 * replies of the request socket. It is non-blocking, has sequence checks
 * disabled (notifications carry no sequence of ours) and is read directly:
 * one received datagram may hold several messages, which are handed out one
 * per cohort_event_next() call, and a receive buffer overrun is reported as
 * -ENOBUFS instead of being folded into a libnl error code.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "internal.h"

/* Room for bursts of events between two reads. */
#define EV_RCVBUF	(1024 * 1024)

void cohort_events_close(struct cohort *c)
{
	nl_socket_free(c->ev);
	c->ev = NULL;
	free(c->ev_buf);
	c->ev_buf = NULL;
	c->ev_len = 0;
	c->ev_off = 0;
}

/*
 * The group is resolved on the new socket itself: the request socket may
 * hold unicasts that libnl's sequence check would trip over.
 */
static int ev_open(struct cohort *c)
{
	int ret;

	c->ev_buf = malloc(COHORT_EV_BUFSZ);
	c->ev = nl_socket_alloc();
	if (!c->ev_buf || !c->ev)
		return -ENOMEM;
	ret = genl_connect(c->ev);
	if (ret < 0)
		return -cohort_nle_to_errno(ret);
	ret = genl_ctrl_resolve_grp(c->ev, COHORT_GENL_NAME,
				    COHORT_GENL_MCGRP_EVENTS);
	if (ret < 0) {
		ret = -cohort_nle_to_errno(ret);
		if (ret == -ENOENT)
			cohort_set_errmsg(c, "multicast group \"%s\" not found",
					  COHORT_GENL_MCGRP_EVENTS);
		return ret;
	}
	nl_socket_disable_seq_check(c->ev);
	ret = nl_socket_add_membership(c->ev, ret);
	if (ret >= 0)
		ret = nl_socket_set_buffer_size(c->ev, EV_RCVBUF, 0);
	if (ret >= 0)
		ret = nl_socket_set_nonblocking(c->ev);
	return ret < 0 ? -cohort_nle_to_errno(ret) : 0;
}

COHORT_API int cohort_events_subscribe(struct cohort *c, int *fd)
{
	int ret;

	if (!c || !fd)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (!c->ev) {
		ret = cohort_nl_ensure(c);
		if (ret < 0)
			return ret;
		ret = ev_open(c);
		if (ret < 0) {
			cohort_events_close(c);
			return ret;
		}
	}
	*fd = nl_socket_get_fd(c->ev);
	return 0;
}

/* Read the next datagram from the kernel into the event buffer. */
static int ev_fill(struct cohort *c)
{
	struct sockaddr_nl from;
	socklen_t alen;
	ssize_t n;

	c->ev_len = 0;
	c->ev_off = 0;
	for (;;) {
		alen = sizeof(from);
		n = recvfrom(nl_socket_get_fd(c->ev), c->ev_buf,
			     COHORT_EV_BUFSZ, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &alen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EAGAIN;
		if ((size_t)n > COHORT_EV_BUFSZ)
			return -EMSGSIZE;
		/* Only the kernel speaks on this group. */
		if (from.nl_pid != 0)
			continue;
		c->ev_len = n;
		return 0;
	}
}

/*
 * The next message of this family from the buffer, or NULL once the buffer
 * is used up. Anything else (NOOP, errors, other families) is skipped.
 */
static struct nlmsghdr *ev_take(struct cohort *c)
{
	while (c->ev_off < c->ev_len) {
		struct nlmsghdr *nlh = (void *)(c->ev_buf + c->ev_off);
		int rem = c->ev_len - c->ev_off;

		if (!nlmsg_ok(nlh, rem)) {
			c->ev_off = c->ev_len;
			break;
		}
		c->ev_off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (nlh->nlmsg_type == c->family &&
		    genlmsg_valid_hdr(nlh, 0))
			return nlh;
	}
	return NULL;
}

COHORT_API int cohort_event_next(struct cohort *c, struct cohort_event *ev)
{
	struct nlmsghdr *nlh;
	int ret;

	if (!c || !ev)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (!c->ev)
		return -ENOTCONN;
	while (!(nlh = ev_take(c))) {
		ret = ev_fill(c);
		if (ret < 0)
			return ret;
	}
	ev->cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	switch (ev->cmd) {
	case COHORT_CMD_NODE_NTF:
		return cohort_nl_parse_node(nlh, &ev->node);
	case COHORT_CMD_LINK_NTF:
		return cohort_parse_peer(nlh, &ev->link);
	case COHORT_CMD_MEMBER_NTF:
		return cohort_parse_member(nlh, &ev->member);
	case COHORT_CMD_QUEUE_NTF:
		return cohort_parse_qevent(nlh, &ev->queue);
	}
	return 0;
}
