// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: queues and topics. The data path is ioctls on the descriptor
 * COHORT_IOC_QUEUE_OPEN returns, which stays the caller's (so it can sit in
 * their own poll loop); management is QUEUE_ADD, QUEUE_DEL and QUEUE_GET
 * over generic netlink, and QUEUE_NTF events are parsed here for events.c.
 *
 * A batch send converts iovecs into struct cohort_qmsg_out on the stack,
 * SEND_CHUNK at a time: payloads are never copied in user space. The
 * kernel answers a batch that stopped half way with the count and keeps
 * the error for the next call, so a short chunk ends the batch.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

#define SEND_CHUNK	256
#define DEFAULT_MODE	0600

/* ---- opening ---- */

static int copy_name(struct cohort *c, char *dst, size_t cap,
		     const char *src, const char *what)
{
	size_t len = strlen(src);

	if (len >= cap) {
		cohort_set_errmsg(c, "%s longer than %zu bytes", what, cap - 1);
		return -ENAMETOOLONG;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

/* cohort_queue_open() with a subscription filter (0 and 0: none). */
static int queue_open(struct cohort *c, const char *name, uint32_t kind,
		      uint32_t role, uint32_t flags,
		      const struct cohort_queue_attr *attr, uint32_t mode,
		      uint32_t ack, const char *sub, uint32_t filter_mask,
		      uint32_t filter_value, int *fd, uint32_t *home)
{
	struct cohort_queue_open o = {
		.size = sizeof(o),
		.flags = flags,
		.kind = kind,
		.role = role,
		.ack = ack,
		.mode = mode,
		.filter_mask = filter_mask,
		.filter_value = filter_value,
	};
	int ret;

	if (!c || !name || !fd)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (c->fd < 0)
		return -EBADF;
	ret = copy_name(c, o.name, sizeof(o.name), name, "queue name");
	if (!ret && sub)
		ret = copy_name(c, o.sub, sizeof(o.sub), sub,
				"subscription name");
	if (ret < 0)
		return ret;
	if (attr)
		o.attr = *attr;
	if (role & COHORT_QR_CONSUME)
		o.prefetch = c->prefetch;
	if (ioctl(c->fd, COHORT_IOC_QUEUE_OPEN, &o) < 0)
		return -errno;
	*fd = o.fd;
	if (home)
		*home = o.home;
	return 0;
}

COHORT_API int cohort_queue_open(struct cohort *c, const char *name,
				 uint32_t kind, uint32_t role, uint32_t flags,
				 const struct cohort_queue_attr *attr,
				 uint32_t mode, uint32_t ack, const char *sub,
				 int *fd, uint32_t *home)
{
	return queue_open(c, name, kind, role, flags, attr, mode, ack, sub,
			  0, 0, fd, home);
}

COHORT_API int cohort_queue_set_prefetch(struct cohort *c, uint32_t n)
{
	if (!c || n > COHORT_QPREFETCH_MAX)
		return -EINVAL;
	c->prefetch = n;
	return 0;
}

COHORT_API int cohort_queue_create(struct cohort *c, const char *name,
				   uint32_t mode,
				   const struct cohort_queue_attr *attr,
				   uint32_t role, uint32_t ack, int *fd)
{
	return cohort_queue_open(c, name, COHORT_QUEUE, role,
				 COHORT_QO_CREATE | COHORT_QO_CLOEXEC, attr,
				 mode, ack, NULL, fd, NULL);
}

COHORT_API int cohort_topic_publisher(struct cohort *c, const char *name,
				      uint32_t flags, int *fd)
{
	return cohort_queue_open(c, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
				 flags | COHORT_QO_CLOEXEC, NULL, DEFAULT_MODE,
				 0, NULL, fd, NULL);
}

COHORT_API int cohort_topic_subscribe(struct cohort *c, const char *name,
				      const char *sub, uint32_t ack,
				      uint32_t flags, int *fd)
{
	return cohort_queue_open(c, name, COHORT_TOPIC, COHORT_QR_CONSUME,
				 flags | COHORT_QO_CLOEXEC, NULL, DEFAULT_MODE,
				 ack, sub, fd, NULL);
}

COHORT_API int cohort_topic_subscribe_filter(struct cohort *c,
					     const char *name, const char *sub,
					     uint32_t mask, uint32_t value,
					     uint32_t ack, uint32_t flags,
					     int *fd, uint32_t *home)
{
	return queue_open(c, name, COHORT_TOPIC, COHORT_QR_CONSUME,
			  flags | COHORT_QO_CLOEXEC, NULL, DEFAULT_MODE, ack,
			  sub, mask, value, fd, home);
}

/* ---- data path ---- */

/* Returns how many were sent, or -errno when none was. */
static int qsend(int fd, struct cohort_qmsg_out *m, size_t n, int timeout_ms)
{
	struct cohort_qsend s = {
		.size = sizeof(s),
		.count = n,
		.timeout_ms = timeout_ms,
		.msgs = (uintptr_t)m,
	};

	if (ioctl(fd, COHORT_IOC_QSEND, &s) < 0)
		return -errno;
	return s.count;
}

COHORT_API int cohort_queue_send(int fd, const void *buf, size_t len,
				 uint32_t prio, uint32_t ttl_ms, int timeout_ms)
{
	return cohort_queue_send_key(fd, buf, len, prio, ttl_ms, 0,
				     timeout_ms);
}

COHORT_API int cohort_queue_send_key(int fd, const void *buf, size_t len,
				     uint32_t prio, uint32_t ttl_ms,
				     uint32_t key, int timeout_ms)
{
	struct cohort_qmsg_out m = {
		.data = (uintptr_t)buf,
		.len = len,
		.prio = prio,
		.ttl_ms = ttl_ms,
		.key = key,
	};
	int ret;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	ret = qsend(fd, &m, 1, timeout_ms);
	return ret < 0 ? ret : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What is left of @timeout_ms (0 or forever stay as they are). */
static int time_left(int timeout_ms, int64_t deadline)
{
	int64_t left;

	if (timeout_ms <= 0)
		return timeout_ms;
	left = deadline - now_ms();
	return left > 0 ? (int)left : 0;
}

/*
 * As one kernel batch would, the chunks share @timeout_ms: each waits for
 * room at most what is left of it.
 */
COHORT_API int cohort_queue_send_batch(int fd, const struct iovec *msgs,
				       size_t n, uint32_t prio, int timeout_ms,
				       size_t *sent)
{
	struct cohort_qmsg_out m[SEND_CHUNK];
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t done = 0, k, i;
	int ret;

	if (!msgs || !n || !sent)
		return -EINVAL;
	*sent = 0;
	while (done < n) {
		k = n - done < SEND_CHUNK ? n - done : SEND_CHUNK;
		/* A length the ABI cannot carry ends the batch there. */
		for (i = 0; i < k && msgs[done + i].iov_len <= UINT32_MAX; i++)
			m[i] = (struct cohort_qmsg_out) {
				.data = (uintptr_t)msgs[done + i].iov_base,
				.len = msgs[done + i].iov_len,
				.prio = prio,
			};
		if (!i)
			return done ? 0 : -EMSGSIZE;
		k = i;
		ret = qsend(fd, m, k, time_left(timeout_ms, deadline));
		if (ret < 0)
			return done ? 0 : ret;
		done += ret;
		*sent = done;
		if ((size_t)ret < k)
			break;
	}
	return 0;
}

COHORT_API int cohort_queue_recv(int fd, struct cohort_qmsg_in *msgs, size_t n,
				 int timeout_ms)
{
	struct cohort_qrecv r = {
		.size = sizeof(r),
		.timeout_ms = timeout_ms,
		.msgs = (uintptr_t)msgs,
	};

	if (!msgs || !n)
		return -EINVAL;
	r.count = n < COHORT_QBATCH_MAX ? n : COHORT_QBATCH_MAX;
	if (ioctl(fd, COHORT_IOC_QRECV, &r) < 0)
		return -errno;
	return r.count;
}

COHORT_API int cohort_queue_ack_batch(int fd, uint32_t op, const uint64_t *ids,
				      size_t n, size_t *done)
{
	struct cohort_qack a = { .size = sizeof(a), .op = op };
	size_t k;

	if (!ids || !n || !done)
		return -EINVAL;
	for (*done = 0; *done < n; *done += k) {
		k = n - *done < COHORT_QBATCH_MAX ? n - *done : COHORT_QBATCH_MAX;
		a.count = k;
		a.ids = (uintptr_t)(ids + *done);
		if (ioctl(fd, COHORT_IOC_QACK, &a) < 0) {
			/* The kernel says how many went before the failure. */
			if (a.count < k)
				*done += a.count;
			return -errno;
		}
	}
	return 0;
}

COHORT_API int cohort_queue_ack(int fd, uint64_t delivery_id)
{
	size_t done;

	return cohort_queue_ack_batch(fd, COHORT_QACK_ACK, &delivery_id, 1,
				      &done);
}

COHORT_API int cohort_queue_nack(int fd, uint64_t delivery_id)
{
	size_t done;

	return cohort_queue_ack_batch(fd, COHORT_QACK_NACK, &delivery_id, 1,
				      &done);
}

/* ---- management ---- */

static int begin(struct cohort *c)
{
	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	return cohort_nl_ensure(c);
}

/* A request naming the queue; the rest is added by the caller. */
static struct nl_msg *queue_msg(struct cohort *c, uint8_t cmd,
				const char *name)
{
	struct nl_msg *msg = cohort_nl_new(c, cmd);

	if (msg && nla_put_string(msg, COHORT_A_QUEUE_NAME, name) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

/* Limits that are 0 mean the kernel's default and are left out. */
static int put_attr(struct nl_msg *msg, const struct cohort_queue_attr *a)
{
	const struct {
		int type;
		uint32_t v;
	} u32s[] = {
		{ COHORT_A_QUEUE_FLAGS,		 a->flags },
		{ COHORT_A_QUEUE_MAX_MSGS,	 a->max_msgs },
		{ COHORT_A_QUEUE_MAX_BYTES,	 a->max_bytes },
		{ COHORT_A_QUEUE_MAX_MSG_SIZE,	 a->max_msg_size },
		{ COHORT_A_QUEUE_ACK_TIMEOUT,	 a->ack_timeout_ms },
		{ COHORT_A_QUEUE_MAX_DELIVERIES, a->max_deliveries },
		{ COHORT_A_QUEUE_OVERFLOW,	 a->overflow },
	};
	size_t i;

	for (i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		if (u32s[i].v && nla_put_u32(msg, u32s[i].type, u32s[i].v) < 0)
			return -EMSGSIZE;
	if (a->dlq[0] && nla_put_string(msg, COHORT_A_QUEUE_DLQ, a->dlq) < 0)
		return -EMSGSIZE;
	return 0;
}

COHORT_API int cohort_queue_add(struct cohort *c, const char *name,
				uint32_t kind, uint32_t mode, uint32_t uid,
				uint32_t gid,
				const struct cohort_queue_attr *attr)
{
	struct nl_msg *msg;
	int ret;

	ret = begin(c);
	if (ret < 0)
		return ret;
	if (!name)
		return -EINVAL;
	if (attr && strnlen(attr->dlq, COHORT_NAME_MAX) == COHORT_NAME_MAX) {
		cohort_set_errmsg(c, "dead-letter queue name not terminated");
		return -EINVAL;
	}
	msg = queue_msg(c, COHORT_CMD_QUEUE_ADD, name);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, COHORT_A_QUEUE_KIND, kind) < 0 ||
	    nla_put_u32(msg, COHORT_A_QUEUE_MODE, mode) < 0 ||
	    nla_put_u32(msg, COHORT_A_QUEUE_UID, uid) < 0 ||
	    nla_put_u32(msg, COHORT_A_QUEUE_GID, gid) < 0 ||
	    (attr && put_attr(msg, attr) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return cohort_nl_do(c, msg, NULL, NULL);
}

COHORT_API int cohort_queue_del(struct cohort *c, const char *name,
				const char *sub)
{
	struct nl_msg *msg;
	int ret;

	if (!name)
		return -EINVAL;
	ret = begin(c);
	if (ret < 0)
		return ret;
	msg = queue_msg(c, COHORT_CMD_QUEUE_DEL, name);
	if (!msg)
		return -ENOMEM;
	if (sub && *sub &&
	    nla_put_string(msg, COHORT_A_QUEUE_SUB_NAME, sub) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return cohort_nl_do(c, msg, NULL, NULL);
}

/* Counters by attribute type; unknown (newer) counters are skipped. */
_Static_assert(COHORT_A_QSTATS_MAX < COHORT_QSTATS_ROOM,
	       "struct cohort_qstats has no room for every counter");

static int parse_qstats(struct nlattr *nest, struct cohort_qstats *st)
{
	struct nlattr *pos;
	int rem, type;

	memset(st, 0, sizeof(*st));
	nla_for_each_nested(pos, nest, rem) {
		type = nla_type(pos);
		if (type <= COHORT_A_QSTATS_PAD || type > COHORT_A_QSTATS_MAX)
			continue;
		if (cohort_attr_uint(pos, &st->v[type]) < 0)
			return -EPROTO;
	}
	return 0;
}

static int parse_sub(struct nlattr *nest, struct cohort_queue_sub *s)
{
	struct nlattr *tb[COHORT_A_SUB_MAX + 1];
	int ret;

	memset(s, 0, sizeof(*s));
	if (nla_parse_nested(tb, COHORT_A_SUB_MAX, nest, NULL) < 0)
		return -EPROTO;
	if (tb[COHORT_A_SUB_NAME]) {
		ret = cohort_attr_name(tb[COHORT_A_SUB_NAME], s->name);
		if (ret < 0)
			return ret;
	}
	if (tb[COHORT_A_SUB_FILTER_MASK] && tb[COHORT_A_SUB_FILTER_VALUE]) {
		uint64_t mask, value;

		if (cohort_attr_uint(tb[COHORT_A_SUB_FILTER_MASK], &mask) < 0 ||
		    cohort_attr_uint(tb[COHORT_A_SUB_FILTER_VALUE], &value) < 0 ||
		    mask > UINT32_MAX || value > UINT32_MAX)
			return -EPROTO;
		s->filter_mask = mask;
		s->filter_value = value;
	}
	if (tb[COHORT_A_SUB_STATS])
		return parse_qstats(tb[COHORT_A_SUB_STATS], &s->stats);
	return 0;
}

/* The repeated COHORT_A_QUEUE_SUB attributes, into a new array. */
static int parse_subs(struct nlmsghdr *nlh, struct cohort_queue_info *q)
{
	struct nlattr *head = genlmsg_attrdata(nlmsg_data(nlh), 0);
	int len = genlmsg_attrlen(nlmsg_data(nlh), 0);
	struct nlattr *pos;
	size_t n = 0;
	int rem, ret;

	nla_for_each_attr(pos, head, len, rem)
		n += nla_type(pos) == COHORT_A_QUEUE_SUB;
	if (!n)
		return 0;
	q->subs = calloc(n, sizeof(*q->subs));
	if (!q->subs)
		return -ENOMEM;
	nla_for_each_attr(pos, head, len, rem) {
		if (nla_type(pos) != COHORT_A_QUEUE_SUB)
			continue;
		ret = parse_sub(pos, &q->subs[q->nsubs]);
		if (ret < 0)
			return ret;
		q->nsubs++;
	}
	return 0;
}

/* The u32 attributes of a reply and where they go. */
static int parse_u32s(struct nlattr **tb, struct cohort_queue_info *q)
{
	struct cohort_queue_attr *a = &q->attr;
	uint32_t *dst[COHORT_A_QUEUE_MAX + 1] = {
		[COHORT_A_QUEUE_KIND]		= &q->kind,
		[COHORT_A_QUEUE_HOME]		= &q->home,
		[COHORT_A_QUEUE_MODE]		= &q->mode,
		[COHORT_A_QUEUE_UID]		= &q->uid,
		[COHORT_A_QUEUE_GID]		= &q->gid,
		[COHORT_A_QUEUE_FLAGS]		= &a->flags,
		[COHORT_A_QUEUE_MAX_MSGS]	= &a->max_msgs,
		[COHORT_A_QUEUE_MAX_BYTES]	= &a->max_bytes,
		[COHORT_A_QUEUE_MAX_MSG_SIZE]	= &a->max_msg_size,
		[COHORT_A_QUEUE_ACK_TIMEOUT]	= &a->ack_timeout_ms,
		[COHORT_A_QUEUE_MAX_DELIVERIES]	= &a->max_deliveries,
		[COHORT_A_QUEUE_OVERFLOW]	= &a->overflow,
	};
	int i;

	for (i = 0; i <= COHORT_A_QUEUE_MAX; i++)
		if (dst[i] && tb[i] && cohort_attr_u32(tb[i], dst[i]) < 0)
			return -EPROTO;
	return 0;
}

/* Fill @q from one QUEUE_GET reply; q->subs is freed by the caller. */
static int parse_queue(struct nlmsghdr *nlh, struct cohort_queue_info *q)
{
	struct nlattr *tb[COHORT_A_QUEUE_MAX + 1];
	int ret;

	memset(q, 0, sizeof(*q));
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_QUEUE_MAX, NULL) < 0 ||
	    !tb[COHORT_A_QUEUE_NAME])
		return -EPROTO;
	ret = cohort_attr_name(tb[COHORT_A_QUEUE_NAME], q->name);
	if (!ret && tb[COHORT_A_QUEUE_DLQ])
		ret = cohort_attr_name(tb[COHORT_A_QUEUE_DLQ], q->attr.dlq);
	if (!ret)
		ret = parse_u32s(tb, q);
	if (!ret && tb[COHORT_A_QUEUE_STATS])
		ret = parse_qstats(tb[COHORT_A_QUEUE_STATS], &q->stats);
	if (!ret)
		ret = parse_subs(nlh, q);
	return ret;
}

COHORT_API void cohort_queue_info_release(struct cohort_queue_info *info)
{
	if (!info)
		return;
	free(info->subs);
	info->subs = NULL;
	info->nsubs = 0;
}

COHORT_API void cohort_queue_list_free(struct cohort_queue_info *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i].subs);
	free(v);
}

static int queue_reply(struct nlmsghdr *nlh, void *arg)
{
	struct cohort_queue_info *q = arg;

	/* One reply is expected; a second must not leak the first's subs. */
	cohort_queue_info_release(q);
	return parse_queue(nlh, q);
}

COHORT_API int cohort_queue_get(struct cohort *c, const char *name,
				struct cohort_queue_info *info)
{
	struct nl_msg *msg;
	int ret;

	if (!name || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	ret = begin(c);
	if (ret < 0)
		return ret;
	msg = queue_msg(c, COHORT_CMD_QUEUE_GET, name);
	if (!msg)
		return -ENOMEM;
	ret = cohort_nl_do(c, msg, queue_reply, info);
	if (ret < 0)
		cohort_queue_info_release(info);
	return ret;
}

/* A growing array filled by a dump; entries own their subs. */
struct queue_list {
	struct cohort_queue_info *v;
	size_t n, cap;
};

static int queue_entry(struct nlmsghdr *nlh, void *arg)
{
	struct queue_list *l = arg;
	int ret;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	ret = parse_queue(nlh, &l->v[l->n]);
	if (ret < 0) {
		cohort_queue_info_release(&l->v[l->n]);
		return ret;
	}
	l->n++;
	return 0;
}

static void queue_reset(void *arg)
{
	struct queue_list *l = arg;

	while (l->n)
		cohort_queue_info_release(&l->v[--l->n]);
}

COHORT_API int cohort_queue_list(struct cohort *c,
				 struct cohort_queue_info **v, size_t *n)
{
	struct queue_list l = { 0 };
	int ret;

	if (!v || !n)
		return -EINVAL;
	*v = NULL;
	*n = 0;
	ret = begin(c);
	if (ret < 0)
		return ret;
	ret = cohort_nl_dump(c, COHORT_CMD_QUEUE_GET, queue_entry, queue_reset,
			     &l);
	if (ret < 0) {
		cohort_queue_list_free(l.v, l.n);
		return ret;
	}
	*v = l.v;
	*n = l.n;
	return 0;
}

/* ---- events ---- */

int cohort_parse_qevent(struct nlmsghdr *nlh, struct cohort_qevent *e)
{
	struct nlattr *tb[COHORT_A_QUEUE_MAX + 1];
	int ret;

	memset(e, 0, sizeof(*e));
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_QUEUE_MAX, NULL) < 0 ||
	    !tb[COHORT_A_QUEUE_NAME] || !tb[COHORT_A_QUEUE_KIND] ||
	    !tb[COHORT_A_QUEUE_EVENT])
		return -EPROTO;
	if (cohort_attr_u32(tb[COHORT_A_QUEUE_KIND], &e->kind) < 0 ||
	    cohort_attr_u32(tb[COHORT_A_QUEUE_EVENT], &e->event) < 0)
		return -EPROTO;
	ret = cohort_attr_name(tb[COHORT_A_QUEUE_NAME], e->name);
	if (!ret && tb[COHORT_A_QUEUE_SUB_NAME])
		ret = cohort_attr_name(tb[COHORT_A_QUEUE_SUB_NAME], e->sub);
	return ret;
}
