/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the queue selftests share: the ioctls on /dev/cohort and queue
 * descriptors (each returning 0, an fd, or -errno), payloads with sequence
 * numbers, actor clocks, QUEUE_GET/DEL/ADD over generic netlink with libnl
 * directly, assertions, and the fixture "q" (two actors, a netlink socket,
 * a name prefix the teardown cleans up after). Include it after
 * kselftest_harness.h and <linux/cohort.h>; the helpers are static inline,
 * so that a test that does not use one is not warned about it.
 */
#ifndef COHORT_SELFTEST_LIB_QUEUE_H
#define COHORT_SELFTEST_LIB_QUEUE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define DEV		"/dev/cohort"
#define NOBODY		65534
#define RXSZ		64		/* payload buffer per received message */
#define VCSZ		8		/* vector stamp entries per message */
#define SLACK_NS	(20ULL * 1000000)	/* coarse clocks in enqueue_ns */
#define AT_ONCE_MS	1000		/* "immediately", under TCG */

/* ---- time ---- */

static inline uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void sleep_ms(unsigned int ms)
{
	usleep(ms * 1000);
}

/* ---- the ioctls, each returning 0 (or an fd) or -errno ---- */

static inline int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline void qo_init(struct cohort_queue_open *o, const char *name,
			   uint32_t kind, uint32_t flags, uint32_t role)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->kind = kind;
	o->flags = flags;
	o->role = role;
	o->mode = 0600;
	snprintf(o->name, sizeof(o->name), "%s", name);
}

static inline int qo_open(int dev, struct cohort_queue_open *o)
{
	int ret = xioctl(dev, COHORT_IOC_QUEUE_OPEN, o);

	return ret ? ret : o->fd;
}

/* Open @name with @role; create it (with @attr, if given) when missing. */
static inline int q_open(int dev, const char *name, uint32_t kind,
			 uint32_t role, uint32_t ack,
			 const struct cohort_queue_attr *attr)
{
	struct cohort_queue_open o;

	qo_init(&o, name, kind, COHORT_QO_CREATE, role);
	o.ack = ack;
	if (attr)
		o.attr = *attr;
	return qo_open(dev, &o);
}

static inline int t_sub(int dev, const char *name, const char *sub,
			uint32_t ack)
{
	struct cohort_queue_open o;

	qo_init(&o, name, COHORT_TOPIC, COHORT_QO_CREATE, COHORT_QR_CONSUME);
	o.ack = ack;
	snprintf(o.sub, sizeof(o.sub), "%s", sub);
	return qo_open(dev, &o);
}

/* A subscription to @name keeping the keys with (key & @mask) == @value. */
static inline int t_sub_filter(int dev, const char *name, const char *sub,
			       uint32_t ack, uint32_t mask, uint32_t value)
{
	struct cohort_queue_open o;

	qo_init(&o, name, COHORT_TOPIC, COHORT_QO_CREATE, COHORT_QR_CONSUME);
	o.ack = ack;
	o.filter_mask = mask;
	o.filter_value = value;
	snprintf(o.sub, sizeof(o.sub), "%s", sub);
	return qo_open(dev, &o);
}

static inline int q_send(int fd, struct cohort_qmsg_out *m, uint32_t n,
			 int timeout, uint32_t *sent)
{
	struct cohort_qsend s = {
		.size = sizeof(s),
		.count = n,
		.timeout_ms = timeout,
		.msgs = (uintptr_t)m,
	};
	int ret = xioctl(fd, COHORT_IOC_QSEND, &s);

	if (sent)
		*sent = s.count;
	return ret;
}

static inline int q_recv(int fd, struct cohort_qmsg_in *m, uint32_t n,
			 int timeout, uint32_t *got)
{
	struct cohort_qrecv r = {
		.size = sizeof(r),
		.count = n,
		.timeout_ms = timeout,
		.msgs = (uintptr_t)m,
	};
	int ret = xioctl(fd, COHORT_IOC_QRECV, &r);

	if (got)
		*got = ret ? 0 : r.count;
	return ret;
}

static inline int q_ack(int fd, uint32_t op, const uint64_t *ids, uint32_t n,
			uint32_t *applied)
{
	struct cohort_qack a = {
		.size = sizeof(a),
		.op = op,
		.count = n,
		.ids = (uintptr_t)ids,
	};
	int ret = xioctl(fd, COHORT_IOC_QACK, &a);

	if (applied)
		*applied = a.count;
	return ret;
}

static inline int ack1(int fd, uint64_t id)
{
	return q_ack(fd, COHORT_QACK_ACK, &id, 1, NULL);
}

static inline int nack1(int fd, uint64_t id)
{
	return q_ack(fd, COHORT_QACK_NACK, &id, 1, NULL);
}

/* ---- payloads: a sequence number and a tag ---- */

struct pl {
	uint32_t seq;
	uint32_t tag;
};

static inline uint32_t seq_of(const struct cohort_qmsg_in *m)
{
	return ((const struct pl *)(uintptr_t)m->data)->seq;
}

/*
 * Send @n messages with sequence numbers @first.. at @prio, living @ttl ms
 * (0: for ever), in one call.
 */
static inline int send_seqs_ttl(int fd, uint32_t first, uint32_t n,
				uint32_t prio, uint32_t ttl, int timeout,
				uint32_t *sent)
{
	struct cohort_qmsg_out *m = calloc(n, sizeof(*m));
	struct pl *p = calloc(n, sizeof(*p));
	uint32_t i;
	int ret = -ENOMEM;

	if (m && p) {
		for (i = 0; i < n; i++) {
			p[i].seq = first + i;
			p[i].tag = 0x5eed;
			m[i].data = (uintptr_t)&p[i];
			m[i].len = sizeof(p[i]);
			m[i].prio = prio;
			m[i].ttl_ms = ttl;
		}
		ret = q_send(fd, m, n, timeout, sent);
	}
	free(m);
	free(p);
	return ret;
}

/* Messages @first.. in one call, message i with key @keys[i]. */
static inline int send_keys(int fd, uint32_t first, const uint32_t *keys,
			    uint32_t n)
{
	struct cohort_qmsg_out *m = calloc(n, sizeof(*m));
	struct pl *p = calloc(n, sizeof(*p));
	uint32_t i, sent = 0;
	int ret = -ENOMEM;

	if (m && p) {
		for (i = 0; i < n; i++) {
			p[i].seq = first + i;
			m[i].data = (uintptr_t)&p[i];
			m[i].len = sizeof(p[i]);
			m[i].key = keys[i];
		}
		ret = q_send(fd, m, n, 0, &sent);
		if (!ret && sent != n)
			ret = -EPROTO;
	}
	free(m);
	free(p);
	return ret;
}

static inline int send_seqs(int fd, uint32_t first, uint32_t n, uint32_t prio,
			    int timeout, uint32_t *sent)
{
	return send_seqs_ttl(fd, first, n, prio, 0, timeout, sent);
}

static inline int send1(int fd, uint32_t seq, uint32_t prio, int timeout)
{
	return send_seqs(fd, seq, 1, prio, timeout, NULL);
}

/* Receive buffers for up to COHORT_QBATCH_MAX messages. */
struct rx {
	struct cohort_qmsg_in m[COHORT_QBATCH_MAX];
	char data[COHORT_QBATCH_MAX][RXSZ];
	struct cohort_vc_entry vc[COHORT_QBATCH_MAX][VCSZ];
};

static inline struct rx *rx_new(void)
{
	return calloc(1, sizeof(struct rx));
}

static inline void rx_prep(struct rx *r, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		memset(&r->m[i], 0, sizeof(r->m[i]));
		r->m[i].data = (uintptr_t)r->data[i];
		r->m[i].cap = RXSZ;
		r->m[i].vc_ptr = (uintptr_t)r->vc[i];
		r->m[i].vc_cap = VCSZ;
	}
}

static inline int recvn(int fd, struct rx *r, uint32_t n, int timeout,
			uint32_t *got)
{
	rx_prep(r, n);
	return q_recv(fd, r->m, n, timeout, got);
}

/* One message; 0 when exactly one came. */
static inline int recv1(int fd, struct rx *r, int timeout)
{
	uint32_t got = 0;
	int ret = recvn(fd, r, 1, timeout, &got);

	return ret ? ret : got == 1 ? 0 : -EPROTO;
}

/* ---- clocks of a /dev/cohort handle ---- */

static inline uint64_t lamport_read(int dev)
{
	struct cohort_lamport l = { .size = sizeof(l), .op = COHORT_CLOCK_READ };

	return ioctl(dev, COHORT_IOC_LAMPORT, &l) ? 0 : l.time;
}

/* The handle's vector clock; entries in @v, their number returned. */
static inline int vclock_read(int dev, struct cohort_vc_entry *v, uint32_t cap)
{
	struct cohort_vclock a = {
		.size = sizeof(a),
		.op = COHORT_CLOCK_READ,
		.out_ptr = (uintptr_t)v,
		.out_cap = cap,
	};

	return ioctl(dev, COHORT_IOC_VCLOCK, &a) ? -errno : (int)a.out_len;
}

/* A receive event on the handle of the vector @in (sorted by id). */
static inline int vclock_recv(int dev, const struct cohort_vc_entry *in,
			      uint32_t n)
{
	struct cohort_vclock a = {
		.size = sizeof(a),
		.op = COHORT_CLOCK_RECV,
		.in_ptr = (uintptr_t)in,
		.in_len = n,
	};

	return ioctl(dev, COHORT_IOC_VCLOCK, &a) ? -errno : 0;
}

static inline uint64_t vc_get(const struct cohort_vc_entry *v, uint32_t n,
			      uint64_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return v[i].counter;
	return 0;
}

/* ---- generic netlink: QUEUE_GET, QUEUE_DEL, QUEUE_ADD ---- */

#define MAX_SUBS	8

struct qstats {
	uint64_t v[COHORT_A_QSTATS_MAX + 1];
};

struct qinfo {
	uint64_t a[COHORT_A_QUEUE_MAX + 1];	/* the scalar attributes */
	bool has[COHORT_A_QUEUE_MAX + 1];
	char dlq[COHORT_NAME_MAX];
	struct qstats st;
	uint32_t len;				/* of the reply message */
	unsigned int nsub;			/* at most MAX_SUBS are kept */
	struct {
		char name[COHORT_NAME_MAX];	/* "" when not durable */
		bool filtered;			/* FILTER_MASK and _VALUE came */
		uint32_t mask, value;
		struct qstats st;
	} sub[MAX_SUBS];
};

/* A dump: how many queues, subscriptions, and names with a prefix. */
struct qdump {
	const char *prefix;
	unsigned int queues;
	unsigned int subs;
	unsigned int nmatch;
	char match[COHORT_QUEUES_MAX][COHORT_NAME_MAX];
};

struct nlreq {
	int err;		/* 1 while waiting, then 0 or -errno */
	struct qinfo *qi;
	struct qdump *qd;
};

static inline uint64_t nl_uint(const struct nlattr *a)
{
	if (nla_len(a) == 8)
		return nla_get_u64((struct nlattr *)a);
	if (nla_len(a) == 4)
		return nla_get_u32((struct nlattr *)a);
	return UINT64_MAX;
}

static inline void parse_stats(struct qstats *st, struct nlattr *nest)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) <= COHORT_A_QSTATS_MAX)
			st->v[nla_type(a)] = nl_uint(a);
}

static inline void parse_sub(struct qinfo *qi, struct nlattr *nest)
{
	struct nlattr *a;
	int rem;

	if (qi->nsub >= MAX_SUBS)
		return;
	nla_for_each_nested(a, nest, rem) {
		switch (nla_type(a)) {
		case COHORT_A_SUB_NAME:
			snprintf(qi->sub[qi->nsub].name, COHORT_NAME_MAX, "%s",
				 nla_get_string(a));
			break;
		case COHORT_A_SUB_STATS:
			parse_stats(&qi->sub[qi->nsub].st, a);
			break;
		case COHORT_A_SUB_FILTER_MASK:
			qi->sub[qi->nsub].mask = nla_get_u32(a);
			break;
		case COHORT_A_SUB_FILTER_VALUE:
			qi->sub[qi->nsub].value = nla_get_u32(a);
			qi->sub[qi->nsub].filtered = true;
			break;
		}
	}
	qi->nsub++;
}

static inline void parse_queue(struct qinfo *qi, struct nlmsghdr *nlh)
{
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		int t = nla_type(a);

		if (t == COHORT_A_QUEUE_STATS) {
			parse_stats(&qi->st, a);
		} else if (t == COHORT_A_QUEUE_SUB) {
			parse_sub(qi, a);
		} else if (t == COHORT_A_QUEUE_DLQ) {
			snprintf(qi->dlq, sizeof(qi->dlq), "%s",
				 nla_get_string(a));
		} else if (t <= COHORT_A_QUEUE_MAX && t != COHORT_A_QUEUE_NAME) {
			qi->a[t] = nl_uint(a);
			qi->has[t] = true;
		}
	}
}

static inline void count_queue(struct qdump *qd, struct nlmsghdr *nlh)
{
	struct nlattr *a;
	int rem;

	qd->queues++;
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) == COHORT_A_QUEUE_SUB)
			qd->subs++;
		if (nla_type(a) == COHORT_A_QUEUE_NAME && qd->prefix &&
		    !strncmp(nla_get_string(a), qd->prefix, strlen(qd->prefix)) &&
		    qd->nmatch < COHORT_QUEUES_MAX)
			snprintf(qd->match[qd->nmatch++], COHORT_NAME_MAX, "%s",
				 nla_get_string(a));
	}
}

static inline int nl_valid(struct nl_msg *msg, void *arg)
{
	struct nlreq *r = arg;

	if (r->qi) {
		parse_queue(r->qi, nlmsg_hdr(msg));
		r->qi->len = nlmsg_hdr(msg)->nlmsg_len;
	}
	if (r->qd)
		count_queue(r->qd, nlmsg_hdr(msg));
	return NL_OK;
}

static inline int nl_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
			   void *arg)
{
	struct nlreq *r = arg;

	r->err = e->error;
	return NL_STOP;
}

static inline int nl_done(struct nl_msg *msg, void *arg)
{
	struct nlreq *r = arg;

	r->err = 0;
	return NL_STOP;
}

static inline struct nl_sock *nlq_connect(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return NULL;
	if (genl_connect(sk) < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	*family = genl_ctrl_resolve(sk, COHORT_GENL_NAME);
	if (*family < 0) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static inline struct nl_msg *nl_new(int family, uint8_t cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m && !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags,
			      cmd, COHORT_GENL_VERSION)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/* Send @m (consumed) and wait for its ack; 0 or the kernel's -errno. */
static inline int nl_run(struct nl_sock *sk, struct nl_msg *m, struct qinfo *qi,
			 struct qdump *qd)
{
	struct nlreq r = { .err = 1, .qi = qi, .qd = qd };
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, nl_valid, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, nl_done, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, nl_done, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, nl_error, &r);
	ret = nl_send_auto(sk, m);
	nlmsg_free(m);
	while (ret >= 0 && r.err > 0)
		ret = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (ret < 0 && r.err > 0)
		return -EIO;
	return r.err;
}

static inline int queue_get(struct nl_sock *sk, int family, const char *name,
			    struct qinfo *qi)
{
	struct nl_msg *m = nl_new(family, COHORT_CMD_QUEUE_GET, 0);

	memset(qi, 0, sizeof(*qi));
	if (!m || nla_put_string(m, COHORT_A_QUEUE_NAME, name)) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	return nl_run(sk, m, qi, NULL);
}

static inline int queue_dump(struct nl_sock *sk, int family, struct qdump *qd)
{
	struct nl_msg *m = nl_new(family, COHORT_CMD_QUEUE_GET, NLM_F_DUMP);

	qd->queues = qd->subs = qd->nmatch = 0;
	if (!m)
		return -ENOMEM;
	return nl_run(sk, m, NULL, qd);
}

static inline int queue_del(struct nl_sock *sk, int family, const char *name,
			    const char *sub)
{
	struct nl_msg *m = nl_new(family, COHORT_CMD_QUEUE_DEL, 0);

	if (!m || nla_put_string(m, COHORT_A_QUEUE_NAME, name) ||
	    (sub && nla_put_string(m, COHORT_A_QUEUE_SUB_NAME, sub))) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	return nl_run(sk, m, NULL, NULL);
}

/* QUEUE_ADD with the u32 attributes in @kv: pairs of (type, value). */
static inline int queue_add(struct nl_sock *sk, int family, const char *name,
			    const uint32_t (*kv)[2], unsigned int n)
{
	struct nl_msg *m = nl_new(family, COHORT_CMD_QUEUE_ADD, 0);
	unsigned int i;

	if (!m || nla_put_string(m, COHORT_A_QUEUE_NAME, name))
		goto nomem;
	for (i = 0; i < n; i++)
		if (nla_put_u32(m, kv[i][0], kv[i][1]))
			goto nomem;
	return nl_run(sk, m, NULL, NULL);
nomem:
	nlmsg_free(m);
	return -ENOMEM;
}

/* ---- assertions ---- */

static inline const char *err_name(int ret)
{
	return ret < 0 ? strerror(-ret) : "success";
}

/* @call returns 0 or -errno; it must return @want. */
#define ASSERT_RET(want, call) do {					\
	int __want = (want), __got = (call);				\
	ASSERT_EQ(__want, __got) {					\
		TH_LOG("%s: %s, expected %s", #call, err_name(__got),	\
		       err_name(__want));				\
	}								\
} while (0)

/* @call returns an fd or -errno; it must give an fd. */
#define ASSERT_FD(var, call) do {					\
	(var) = (call);							\
	ASSERT_LE(0, (var)) {						\
		TH_LOG("%s: %s", #call, err_name(var));			\
	}								\
} while (0)

/* ---- fixture ---- */

FIXTURE(q) {
	int dev;			/* actor A: producers, mostly */
	int dev2;			/* actor B: consumers, mostly */
	uint64_t actor, actor2;
	struct nl_sock *nl;
	int family;
	char pfx[16];
	unsigned int nnames;
	char names[8][COHORT_NAME_MAX];	/* ring for qname() */
	long page;
	char *map;			/* rw page, PROT_NONE page, ro page */
};

/* A name of this test's own: prefix, "-", @tag. */
static inline const char *qname(FIXTURE_DATA(q) *self, const char *tag)
{
	char *n = self->names[self->nnames++ % ARRAY_SIZE(self->names)];

	snprintf(n, COHORT_NAME_MAX, "%s-%s", self->pfx, tag);
	return n;
}

static inline uint64_t bind_actor(int dev)
{
	struct cohort_actor a = { .size = sizeof(a) };

	return ioctl(dev, COHORT_IOC_ACTOR, &a) ? 0 : a.actor_id;
}

FIXTURE_SETUP(q)
{
	self->dev = self->dev2 = -1;
	if (access(DEV, F_OK))
		SKIP(return, DEV " missing: module not loaded");
	self->dev = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev);
	self->dev2 = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->dev2);
	self->actor = bind_actor(self->dev);
	self->actor2 = bind_actor(self->dev2);
	ASSERT_NE(0ULL, self->actor) {
		TH_LOG("ACTOR: %s (node id not set?)", strerror(errno));
	}
	ASSERT_NE(0ULL, self->actor2);
	self->nl = nlq_connect(&self->family);
	ASSERT_NE(NULL, self->nl) {
		TH_LOG("generic netlink family " COHORT_GENL_NAME " not found");
	}
	snprintf(self->pfx, sizeof(self->pfx), "qt%d", (int)getpid());

	self->page = sysconf(_SC_PAGESIZE);
	self->map = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, mprotect(self->map + self->page, self->page, PROT_NONE));
	ASSERT_EQ(0, mprotect(self->map + 2 * self->page, self->page,
			      PROT_READ));
}

FIXTURE_TEARDOWN(q)
{
	struct qdump *qd;
	unsigned int i;

	if (self->nl) {
		qd = calloc(1, sizeof(*qd));
		if (qd) {
			qd->prefix = self->pfx;
			if (!queue_dump(self->nl, self->family, qd))
				for (i = 0; i < qd->nmatch; i++)
					queue_del(self->nl, self->family,
						  qd->match[i], NULL);
			free(qd);
		}
		nl_socket_free(self->nl);
	}
	if (self->dev >= 0)
		close(self->dev);
	if (self->dev2 >= 0)
		close(self->dev2);
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, 3 * self->page);
}

static inline char *rw_end(FIXTURE_DATA(q) *self)
{
	return self->map + self->page;
}

static inline char *ro_page(FIXTURE_DATA(q) *self)
{
	return self->map + 2 * self->page;
}

static inline struct qinfo *info(struct __test_metadata *_metadata,
				 FIXTURE_DATA(q) *self, const char *name)
{
	static struct qinfo qi;
	int ret = queue_get(self->nl, self->family, name, &qi);

	EXPECT_EQ(0, ret) {
		TH_LOG("QUEUE_GET %s: %s", name, err_name(ret));
	}
	return &qi;
}

#define QSTAT(name, key)	(info(_metadata, self, (name))->st.v[COHORT_A_QSTATS_##key])

#endif /* COHORT_SELFTEST_LIB_QUEUE_H */
