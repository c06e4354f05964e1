// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: the request socket of a handle.
 *
 * One generic netlink socket per handle carries requests and their acks,
 * dumps, and the unicasts the kernel sends it on its own: COHORT_CMD_MSG_RECV
 * for ports it bound and COHORT_CMD_PING answers. These arrive at any time,
 * also between a request and its ack, so the socket is read here rather
 * than with nl_recvmsgs() (whose sequence check would refuse them): every
 * datagram goes into a slot of the handle's ring (see internal.h); replies
 * to the request in flight (matched by sequence number) are handed to its
 * callback, MSG_RECV and PING messages stay queued for cohort_rx_next(),
 * anything else is dropped. libnl still opens the socket, resolves the
 * family and builds and parses attributes.
 *
 * A generic netlink doit runs inside our sendmsg(), so its ack is queued
 * before sendmsg() returns; the reader therefore first drains without
 * blocking and only polls when nothing is there. The kernel drops an ack
 * (like any unicast) when the receive buffer is full and says so with
 * ENOBUFS: a request that saw that and then finds the socket empty gives
 * up after LOST_REPLY_MS with -ENOBUFS rather than waiting forever.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "internal.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK	10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK	11
#endif

#define LOST_REPLY_MS	500
#define DUMP_TRIES	4

/* The request in flight and what its replies said. */
struct req {
	struct cohort *c;
	uint32_t seq;
	int dump;
	cohort_reply_fn fn;
	void *arg;
	int done;
	int err;		/* kernel errno, negative */
	int intr;		/* dump was inconsistent */
	int parse_err;
};

void cohort_nl_close(struct cohort *c)
{
	unsigned int i;

	nl_socket_free(c->nl);
	c->nl = NULL;
	c->nlfd = -1;
	c->family = 0;
	for (i = 0; i <= COHORT_RX_SLOTS; i++) {
		free(c->rx_slot[i]);
		c->rx_slot[i] = NULL;
	}
	c->rx_head = 0;
	c->rx_count = 0;
	c->rx_off = 0;
	c->rx_lost = 0;
	c->rcvbuf_set = 0;
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
	c->nlfd = nl_socket_get_fd(c->nl);
	/* Old kernels without extended acks still work, only less verbosely. */
	setsockopt(c->nlfd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* Errors need not echo a 16 KiB message back. */
	setsockopt(c->nlfd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
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
	c->seq = (uint32_t)time(NULL);
	if (getrandom(&c->cookie, sizeof(c->cookie), GRND_NONBLOCK) !=
	    sizeof(c->cookie))
		c->cookie = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
			    (uintptr_t)c;
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

struct nl_msg *cohort_nl_new(struct cohort *c, uint8_t cmd)
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

/* ---- extended acks ---- */

static void save_msg(struct cohort *c, struct nlattr *attrs, int len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	char *msg;

	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, len, NULL) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return;
	msg = nla_data(tb[NLMSGERR_ATTR_MSG]);
	cohort_set_errmsg(c, "%.*s",
			  (int)strnlen(msg, nla_len(tb[NLMSGERR_ATTR_MSG])),
			  msg);
}

/*
 * The extended ack TLVs follow the echoed request, which is cut down to its
 * header when the kernel sets NLM_F_CAPPED.
 */
static void save_extack(struct cohort *c, struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = nlmsg_data(nlh);
	size_t hlen = sizeof(*e), total;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		hlen += e->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	hlen = NLMSG_ALIGN(hlen);
	total = nlh->nlmsg_len - NLMSG_HDRLEN;
	if (hlen < total)
		save_msg(c, (struct nlattr *)((char *)e + hlen), total - hlen);
}

/* ---- the receive ring ---- */

static char *slot_buf(struct cohort *c, unsigned int idx)
{
	if (!c->rx_slot[idx])
		c->rx_slot[idx] = malloc(COHORT_RX_SLOTSZ);
	return c->rx_slot[idx];
}

static uint8_t genl_cmd(const struct nlmsghdr *nlh)
{
	return ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
}

/* A unicast that is not a reply: kept for cohort_rx_next(). */
static int unsolicited(struct cohort *c, const struct nlmsghdr *nlh)
{
	uint8_t cmd;

	if (nlh->nlmsg_type != c->family ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return 0;
	cmd = genl_cmd(nlh);
	return cmd == COHORT_CMD_MSG_RECV || cmd == COHORT_CMD_PING;
}

static void handle_reply(struct req *r, struct nlmsghdr *nlh)
{
	int ret;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			r->err = -EPROTO;
		} else {
			struct nlmsgerr *e = nlmsg_data(nlh);

			r->err = e->error > 0 ? -e->error : e->error;
			if (r->err)
				save_extack(r->c, nlh);
		}
		r->done = 1;
		return;
	case NLMSG_DONE:
		if (!r->dump)
			return;
		if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
			int err = *(int *)nlmsg_data(nlh);

			r->err = err > 0 ? -err : err;
			if (r->err && (nlh->nlmsg_flags & NLM_F_ACK_TLVS))
				save_msg(r->c, (struct nlattr *)((char *)
					 nlmsg_data(nlh) + NLMSG_ALIGN(sizeof(int))),
					 nlh->nlmsg_len - NLMSG_LENGTH(
					 NLMSG_ALIGN(sizeof(int))));
		}
		/* A change after the last part is only flagged here. */
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			r->intr = 1;
		r->done = 1;
		return;
	case NLMSG_NOOP:
	case NLMSG_OVERRUN:
		return;
	}
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->intr = 1;
	if (r->fn && nlh->nlmsg_type == r->c->family &&
	    nlh->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN) {
		ret = r->fn(nlh, r->arg);
		if (ret < 0 && !r->parse_err)
			r->parse_err = ret;
	}
}

/*
 * Sort the messages of one datagram: replies go to @r, unsolicited ones
 * stay, the rest is marked NOOP. Returns how many stayed.
 */
static int rx_process(struct cohort *c, char *buf, size_t len, struct req *r)
{
	struct nlmsghdr *nlh = (void *)buf;
	int rem = len, kept = 0;

	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		if (unsolicited(c, nlh)) {
			kept++;
			continue;
		}
		if (r && !r->done && nlh->nlmsg_seq == r->seq)
			handle_reply(r, nlh);
		nlh->nlmsg_type = NLMSG_NOOP;
	}
	return kept;
}

/* Append slot @idx (read into) to the ring, or count its messages lost. */
static void rx_commit(struct cohort *c, unsigned int idx, uint32_t len,
		      int kept)
{
	unsigned int pos;
	char *tmp;

	if (!kept)
		return;
	if (idx == COHORT_RX_SCRATCH || c->rx_count == COHORT_RX_SLOTS) {
		c->rx_lost += kept;
		return;
	}
	pos = (c->rx_head + c->rx_count) % COHORT_RX_SLOTS;
	if (pos != idx) {
		tmp = c->rx_slot[pos];
		c->rx_slot[pos] = c->rx_slot[idx];
		c->rx_slot[idx] = tmp;
	}
	c->rx_len[pos] = len;
	c->rx_count++;
}

/* Drop fully consumed datagrams at the head of the ring. */
static void rx_gc(struct cohort *c)
{
	while (c->rx_count) {
		char *buf = c->rx_slot[c->rx_head];
		struct nlmsghdr *nlh = (void *)(buf + c->rx_off);
		int rem = c->rx_len[c->rx_head] - c->rx_off;

		for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type != NLMSG_NOOP) {
				c->rx_off = (char *)nlh - buf;
				return;
			}
		}
		c->rx_head = (c->rx_head + 1) % COHORT_RX_SLOTS;
		c->rx_count--;
		c->rx_off = 0;
	}
	c->rx_off = 0;
}

/* Read one datagram without waiting, sorting it with rx_process(). */
static int rx_read_one(struct cohort *c, struct req *r, unsigned int *slot)
{
	unsigned int idx = c->rx_count < COHORT_RX_SLOTS ?
		(c->rx_head + c->rx_count) % COHORT_RX_SLOTS : COHORT_RX_SCRATCH;
	struct sockaddr_nl sa;
	struct iovec iov;
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	ssize_t n;
	int kept;

	iov.iov_base = slot_buf(c, idx);
	iov.iov_len = COHORT_RX_SLOTSZ;
	if (!iov.iov_base)
		return -ENOMEM;
	do {
		n = recvmsg(c->nlfd, &mh, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (slot)
		*slot = idx;
	/* Only the kernel sends to this socket; nothing is ever truncated. */
	if (sa.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC))
		return 0;
	kept = rx_process(c, iov.iov_base, n, r);
	if (slot && idx == COHORT_RX_SCRATCH) {
		c->rx_len[idx] = n;
		return kept;
	}
	rx_commit(c, idx, n, kept);
	return 0;
}

/* ---- requests ---- */

static int req_send(struct cohort *c, struct req *r, struct iovec *iov,
		    int niov)
{
	struct nlmsghdr *nlh = iov[0].iov_base;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = niov };
	ssize_t n;

	if (!++c->seq)
		c->seq = 1;
	nlh->nlmsg_seq = c->seq;
	nlh->nlmsg_pid = 0;
	r->c = c;
	r->seq = c->seq;
	do {
		n = sendmsg(c->nlfd, &mh, 0);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

static int req_wait(struct cohort *c, struct req *r)
{
	struct pollfd p = { .fd = c->nlfd, .events = POLLIN };
	int overrun = 0, ret;

	while (!r->done) {
		ret = rx_read_one(c, r, NULL);
		if (!ret)
			continue;
		if (ret == -ENOBUFS) {
			/* Unicasts (and maybe our reply) were dropped. */
			overrun = 1;
			c->rx_lost++;
			continue;
		}
		if (ret != -EAGAIN)
			return ret;
		ret = poll(&p, 1, overrun ? LOST_REPLY_MS : -1);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (!ret) {
			cohort_set_errmsg(c, "reply lost: netlink receive buffer overrun");
			return -ENOBUFS;
		}
	}
	if (r->err)
		return r->err;
	if (r->intr) {
		cohort_set_errmsg(c, "dump interrupted by a concurrent change");
		return -EINTR;
	}
	return r->parse_err;
}

int cohort_nl_do_iov(struct cohort *c, struct iovec *iov, int niov,
		     cohort_reply_fn fn, void *arg)
{
	struct nlmsghdr *nlh = iov[0].iov_base;
	struct req r = { .fn = fn, .arg = arg };
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ret = req_send(c, &r, iov, niov);
	return ret < 0 ? ret : req_wait(c, &r);
}

int cohort_nl_do(struct cohort *c, struct nl_msg *msg, cohort_reply_fn fn,
		 void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct iovec iov = { .iov_base = nlh, .iov_len = nlh->nlmsg_len };
	struct req r = { .fn = fn, .arg = arg };
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	ret = req_send(c, &r, &iov, 1);
	if (!ret)
		ret = req_wait(c, &r);
	nlmsg_free(msg);
	return ret;
}

int cohort_nl_dump(struct cohort *c, uint8_t cmd, cohort_reply_fn fn,
		   void (*reset)(void *arg), void *arg)
{
	struct {
		struct nlmsghdr nlh;
		struct genlmsghdr g;
	} hdr;
	struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof(hdr) };
	int tries, ret = -EINTR;

	for (tries = 0; tries < DUMP_TRIES && ret == -EINTR; tries++) {
		struct req r = { .fn = fn, .arg = arg, .dump = 1 };

		memset(&hdr, 0, sizeof(hdr));
		hdr.nlh.nlmsg_len = sizeof(hdr);
		hdr.nlh.nlmsg_type = c->family;
		hdr.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		hdr.g.cmd = cmd;
		hdr.g.version = COHORT_GENL_VERSION;
		reset(arg);
		ret = req_send(c, &r, &iov, 1);
		if (!ret)
			ret = req_wait(c, &r);
		if (ret == -EINTR && !r.intr)
			break;
	}
	return ret;
}

/* ---- unsolicited messages ---- */

/* Mark the first queued match taken; PING answers nobody took are stale. */
static struct nlmsghdr *rx_take(struct cohort *c, uint8_t cmd,
				int (*match)(struct nlmsghdr *, void *),
				void *arg)
{
	unsigned int i;

	for (i = 0; i < c->rx_count; i++) {
		unsigned int s = (c->rx_head + i) % COHORT_RX_SLOTS;
		uint32_t off = i ? 0 : c->rx_off;
		struct nlmsghdr *nlh = (void *)(c->rx_slot[s] + off);
		int rem = c->rx_len[s] - off;

		for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type == NLMSG_NOOP)
				continue;
			if (genl_cmd(nlh) == cmd && (!match || match(nlh, arg))) {
				nlh->nlmsg_type = NLMSG_NOOP;
				rx_gc(c);
				return nlh;
			}
			if (genl_cmd(nlh) == COHORT_CMD_PING)
				nlh->nlmsg_type = NLMSG_NOOP;
		}
	}
	rx_gc(c);
	return NULL;
}

/* The ring is full: read one datagram into scratch and look there. */
static int rx_fill_scratch(struct cohort *c, uint8_t cmd,
			   int (*match)(struct nlmsghdr *, void *), void *arg,
			   struct nlmsghdr **out)
{
	unsigned int idx = 0;
	struct nlmsghdr *nlh;
	int kept, rem;

	kept = rx_read_one(c, NULL, &idx);
	if (kept <= 0)
		return kept;
	nlh = (void *)c->rx_slot[COHORT_RX_SCRATCH];
	rem = c->rx_len[COHORT_RX_SCRATCH];
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem)) {
		if (nlh->nlmsg_type != NLMSG_NOOP && !*out &&
		    genl_cmd(nlh) == cmd && (!match || match(nlh, arg))) {
			*out = nlh;
			kept--;
		}
	}
	c->rx_lost += kept;
	return 0;
}

/* Read what the socket holds (up to a batch) without waiting. */
static int rx_fill(struct cohort *c)
{
	struct mmsghdr mm[COHORT_RX_BATCH];
	struct iovec iov[COHORT_RX_BATCH];
	struct sockaddr_nl sa[COHORT_RX_BATCH];
	unsigned int idx[COHORT_RX_BATCH];
	unsigned int n = COHORT_RX_SLOTS - c->rx_count, i;
	int got, kept;

	if (n > COHORT_RX_BATCH)
		n = COHORT_RX_BATCH;
	memset(mm, 0, sizeof(mm[0]) * n);
	for (i = 0; i < n; i++) {
		idx[i] = (c->rx_head + c->rx_count + i) % COHORT_RX_SLOTS;
		iov[i].iov_base = slot_buf(c, idx[i]);
		iov[i].iov_len = COHORT_RX_SLOTSZ;
		if (!iov[i].iov_base)
			return -ENOMEM;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_name = &sa[i];
		mm[i].msg_hdr.msg_namelen = sizeof(sa[i]);
	}
	do {
		got = recvmmsg(c->nlfd, mm, n, MSG_DONTWAIT, NULL);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	for (i = 0; i < (unsigned int)got; i++) {
		if (sa[i].nl_pid != 0 || (mm[i].msg_hdr.msg_flags & MSG_TRUNC))
			continue;
		kept = rx_process(c, iov[i].iov_base, mm[i].msg_len, NULL);
		rx_commit(c, idx[i], mm[i].msg_len, kept);
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cohort_rx_next(struct cohort *c, uint8_t cmd,
		   int (*match)(struct nlmsghdr *nlh, void *arg), void *arg,
		   int timeout_ms, struct nlmsghdr **out)
{
	struct pollfd p = { .fd = c->nlfd, .events = POLLIN };
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int ret, wait;

	*out = NULL;
	for (;;) {
		/* Lost PING answers only show as a timeout of that ping. */
		if (cmd == COHORT_CMD_MSG_RECV && c->rx_lost) {
			c->rx_lost = 0;
			cohort_set_errmsg(c, "messages lost: receive buffer overrun");
			return -ENOBUFS;
		}
		*out = rx_take(c, cmd, match, arg);
		if (*out)
			return 0;
		if (c->rx_count == COHORT_RX_SLOTS)
			ret = rx_fill_scratch(c, cmd, match, arg, out);
		else
			ret = rx_fill(c);
		if (*out)
			return 0;
		if (!ret || ret == -ENOBUFS) {
			c->rx_lost += ret == -ENOBUFS;
			/*
			 * A stream of other messages must not outlast the
			 * wait; what the last read brought is looked at.
			 */
			if (timeout_ms > 0 && now_ms() >= deadline) {
				*out = rx_take(c, cmd, match, arg);
				return *out ? 0 : -ETIMEDOUT;
			}
			continue;
		}
		if (ret != -EAGAIN)
			return ret;
		if (timeout_ms < 0) {
			wait = -1;
		} else if (timeout_ms == 0) {
			return -EAGAIN;
		} else {
			int64_t left = deadline - now_ms();

			if (left <= 0)
				return -ETIMEDOUT;
			wait = left;
		}
		if (poll(&p, 1, wait) < 0)
			return -errno;
	}
}
