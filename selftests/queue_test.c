// SPDX-License-Identifier: GPL-2.0
/*
 * Queues and topics on one node, through raw ioctls on /dev/cohort and on
 * the queue descriptors it hands out, so that no library can paper over
 * anything. The management side (QUEUE_GET for counters, QUEUE_DEL,
 * QUEUE_ADD) goes over generic netlink with libnl directly.
 *
 * The runner gives the root namespace node id 1. Every queue a test makes
 * is named "qt<pid>-..." after the test's process, and the teardown deletes
 * whatever still carries that prefix, so one failed test does not eat the
 * node's queue count or root's byte budget for the next.
 *
 * Transient queues drop what is sent while no consumer is attached: tests
 * that send first and receive later either open the consumer first or make
 * the queue persistent.
 *
 * Children that drop privileges, and threads, never use ASSERT_*: they
 * report through exit status or a result field that the test checks.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "kselftest_harness.h"
#include <linux/cohort.h>

#include "lib_queue.h"

/* ---- open, create, names ---- */

TEST_F(q, open_create_excl)
{
	const char *name = qname(self, "open");
	struct cohort_queue_open o;
	struct qinfo *qi;
	char link[64], path[64];
	int fd, fd2, fl;

	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));

	/* Created with defaults, reported back as the queue has them. */
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE | COHORT_QO_EXCL,
		COHORT_QR_PRODUCE);
	o.mode = 0640;
	ASSERT_FD(fd, qo_open(self->dev, &o));
	ASSERT_EQ(1U, o.home);
	ASSERT_EQ(0U, o.attr.flags);
	ASSERT_EQ(COHORT_QDEF_MAX_MSGS, o.attr.max_msgs);
	ASSERT_EQ(COHORT_QDEF_MAX_BYTES, o.attr.max_bytes);
	ASSERT_EQ(COHORT_QMSG_MAX, o.attr.max_msg_size);
	ASSERT_EQ(COHORT_QDEF_ACK_TIMEOUT, o.attr.ack_timeout_ms);
	ASSERT_EQ(0U, o.attr.max_deliveries);
	ASSERT_EQ(COHORT_OVERFLOW_BLOCK, o.attr.overflow);
	ASSERT_EQ(0, o.attr.dlq[0]);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	memset(link, 0, sizeof(link));
	ASSERT_LT(0, readlink(path, link, sizeof(link) - 1));
	ASSERT_STREQ("anon_inode:[cohort-queue]", link);
	fl = fcntl(fd, F_GETFD);
	ASSERT_EQ(0, fl & FD_CLOEXEC);
	ASSERT_EQ(0, fcntl(fd, F_GETFL) & O_NONBLOCK);

	qi = info(_metadata, self, name);
	ASSERT_EQ(COHORT_QUEUE, qi->a[COHORT_A_QUEUE_KIND]);
	ASSERT_EQ(1U, qi->a[COHORT_A_QUEUE_HOME]);
	ASSERT_EQ(0640U, qi->a[COHORT_A_QUEUE_MODE]);
	ASSERT_EQ((uint64_t)geteuid(), qi->a[COHORT_A_QUEUE_UID]);
	ASSERT_EQ((uint64_t)getegid(), qi->a[COHORT_A_QUEUE_GID]);
	ASSERT_EQ(1U, qi->st.v[COHORT_A_QSTATS_PRODUCERS]);
	ASSERT_EQ(0U, qi->st.v[COHORT_A_QSTATS_CONSUMERS]);

	/* EXCL on an existing one; plain CREATE just opens it. */
	ASSERT_RET(-EEXIST, qo_open(self->dev, &o));
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE | COHORT_QO_CLOEXEC |
		COHORT_QO_NONBLOCK, COHORT_QR_CONSUME);
	o.attr.max_msgs = 7;		/* ignored: the queue exists */
	ASSERT_FD(fd2, qo_open(self->dev2, &o));
	ASSERT_EQ(COHORT_QDEF_MAX_MSGS, o.attr.max_msgs);
	ASSERT_NE(0, fcntl(fd2, F_GETFD) & FD_CLOEXEC);
	ASSERT_NE(0, fcntl(fd2, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(1U, QSTAT(name, CONSUMERS));
	close(fd2);
	ASSERT_EQ(0U, QSTAT(name, CONSUMERS));

	/* A topic of the same name is a different kind. */
	qo_init(&o, name, COHORT_TOPIC, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-EEXIST, qo_open(self->dev, &o));
	o.flags = COHORT_QO_CREATE;
	ASSERT_RET(-EEXIST, qo_open(self->dev, &o));

	/* "name@1" is the same queue on this node. */
	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	snprintf(o.name, sizeof(o.name), "%s@1", name);
	ASSERT_FD(fd2, qo_open(self->dev, &o));
	ASSERT_EQ(1U, o.home);
	ASSERT_EQ(2U, QSTAT(name, PRODUCERS));
	close(fd2);
	close(fd);
	ASSERT_EQ(0U, QSTAT(name, PRODUCERS));
}

TEST_F(q, topic_defaults)
{
	const char *name = qname(self, "tdef");
	struct cohort_queue_open o;
	int fd;

	qo_init(&o, name, COHORT_TOPIC, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	ASSERT_FD(fd, qo_open(self->dev, &o));
	ASSERT_EQ(COHORT_OVERFLOW_DROP_OLD, o.attr.overflow);
	ASSERT_EQ(COHORT_TOPIC, info(_metadata, self, name)->a[COHORT_A_QUEUE_KIND]);
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	ASSERT_RET(-EEXIST, qo_open(self->dev, &o));
	close(fd);
}

/* Nothing of that name anywhere: no peers, so no one else to ask. */
TEST_F(q, unknown_names)
{
	struct cohort_queue_open o;

	qo_init(&o, qname(self, "nothere"), COHORT_QUEUE, 0, COHORT_QR_CONSUME);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));
	snprintf(o.name, sizeof(o.name), "%s@1", qname(self, "nothere"));
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));
	/* A node this one has never heard of. */
	snprintf(o.name, sizeof(o.name), "%s@4000000", qname(self, "x"));
	ASSERT_RET(-EHOSTUNREACH, qo_open(self->dev, &o));
}

TEST_F(q, bad_names)
{
	static const char *const bad[] = { "", "a b", "a/b", "a:b", "q@", "q@x", "q@0",
			      "q@1@1", "@1", "q@-1", "q@99999999999", "\xc3\xa9" };
	struct cohort_queue_open o;
	char long_ok[COHORT_NAME_MAX];
	unsigned int i;
	int fd, ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		qo_init(&o, bad[i], COHORT_QUEUE, COHORT_QO_CREATE,
			COHORT_QR_PRODUCE);
		ret = qo_open(self->dev, &o);
		ASSERT_EQ(-EINVAL, ret) {
			TH_LOG("name \"%s\": %s", bad[i], err_name(ret));
		}
	}

	/* COHORT_NAME_MAX - 1 characters fit; one more does not. */
	memset(long_ok, 'n', sizeof(long_ok));
	memcpy(long_ok, self->pfx, strlen(self->pfx));
	long_ok[sizeof(long_ok) - 1] = 0;
	qo_init(&o, long_ok, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	ASSERT_FD(fd, qo_open(self->dev, &o));
	close(fd);
	memset(o.name, 'n', COHORT_NAME_MAX);
	memcpy(o.name, self->pfx, strlen(self->pfx));
	o.name[COHORT_NAME_MAX] = 0;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	/* No terminating NUL at all. */
	memset(o.name, 'n', sizeof(o.name));
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));

	/* The dead-letter queue's name is checked as well. */
	qo_init(&o, qname(self, "dlqname"), COHORT_QUEUE, COHORT_QO_CREATE,
		COHORT_QR_PRODUCE);
	snprintf(o.attr.dlq, sizeof(o.attr.dlq), "bad name");
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	memset(o.attr.dlq, 'd', sizeof(o.attr.dlq));
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));

	/* A subscription belongs to a topic's consumers only. */
	qo_init(&o, qname(self, "subq"), COHORT_QUEUE, COHORT_QO_CREATE,
		COHORT_QR_CONSUME);
	snprintf(o.sub, sizeof(o.sub), "s1");
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	qo_init(&o, qname(self, "subp"), COHORT_TOPIC, COHORT_QO_CREATE,
		COHORT_QR_PRODUCE);
	snprintf(o.sub, sizeof(o.sub), "s1");
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	ASSERT_RET(-ENOENT, queue_get(self->nl, self->family, qname(self, "subq"),
				      &(struct qinfo){ 0 }));

	/* A subscription name is checked like a queue name. */
	qo_init(&o, qname(self, "subname"), COHORT_TOPIC, COHORT_QO_CREATE,
		COHORT_QR_CONSUME);
	snprintf(o.sub, sizeof(o.sub), "bad/sub");
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	memset(o.sub, 's', sizeof(o.sub));
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
}

/* ---- bad input ---- */

TEST_F(q, open_bad_fields)
{
	const char *name = qname(self, "badf");
	struct cohort_queue_open o;
	uint32_t v[] = { 0, 3, 0x100, UINT32_MAX };
	unsigned int i;
	int ret;

#define OPEN_FAILS(err, field, val) do {				\
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE,		\
		COHORT_QR_PRODUCE | COHORT_QR_CONSUME);			\
	o.field = (val);						\
	ret = qo_open(self->dev, &o);					\
	ASSERT_EQ(err, ret) {						\
		TH_LOG("%s = %#x: %s", #field, (unsigned int)(val),	\
		       err_name(ret));					\
	}								\
} while (0)

	OPEN_FAILS(-EINVAL, flags, COHORT_QO_ALL + 1);
	OPEN_FAILS(-EINVAL, flags, 1U << 31);
	OPEN_FAILS(-EINVAL, role, 0);
	OPEN_FAILS(-EINVAL, role, 4);
	OPEN_FAILS(-EINVAL, role, COHORT_QR_CONSUME | 8);
	for (i = 0; i < ARRAY_SIZE(v); i++)
		OPEN_FAILS(-EINVAL, kind, v[i]);
	OPEN_FAILS(-EINVAL, ack, 3);
	OPEN_FAILS(-EINVAL, ack, UINT32_MAX);
	OPEN_FAILS(-EINVAL, mode, 01000);
	OPEN_FAILS(-EINVAL, mode, 04755);
	OPEN_FAILS(-EINVAL, attr.flags, COHORT_QA_SYSTEM);
	OPEN_FAILS(-EINVAL, attr.flags, 1U << 7);
	OPEN_FAILS(-EINVAL, attr.overflow, 4);
	OPEN_FAILS(-EINVAL, attr.__reserved, 1);
	/* Queues block; topics drop or reject. */
	OPEN_FAILS(-EINVAL, attr.overflow, COHORT_OVERFLOW_DROP_OLD);
	OPEN_FAILS(-EINVAL, attr.overflow, COHORT_OVERFLOW_REJECT);
	qo_init(&o, name, COHORT_TOPIC, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	o.attr.overflow = COHORT_OVERFLOW_BLOCK;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	/* A queue cannot be its own dead-letter queue. */
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	snprintf(o.attr.dlq, sizeof(o.attr.dlq), "%s", name);
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	/* None of those may have made the queue. */
	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));
#undef OPEN_FAILS
}

/* Every queue ioctl: too small a size, or a non-zero tail beyond ours. */
struct big_open {
	struct cohort_queue_open o;
	uint64_t tail[2];
};

struct big_send {
	struct cohort_qsend s;
	uint64_t tail[2];
};

TEST_F(q, sizes)
{
	const char *name = qname(self, "size");
	struct big_open bo;
	struct big_send bs;
	struct cohort_qsend s = { 0 };
	struct cohort_qrecv r = { 0 };
	struct cohort_qack a = { 0 };
	struct cohort_queue_open o;
	struct cohort_qmsg_out m;
	struct pl p = { 1, 2 };
	uint32_t small[] = { 0, 4, 8 };
	unsigned int i;
	int fd;

	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE,
		COHORT_QR_PRODUCE | COHORT_QR_CONSUME);
	ASSERT_FD(fd, qo_open(self->dev, &o));

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		o.size = s.size = r.size = a.size = small[i];
		ASSERT_RET(-EINVAL, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, &o));
		ASSERT_RET(-EINVAL, xioctl(fd, COHORT_IOC_QSEND, &s));
		ASSERT_RET(-EINVAL, xioctl(fd, COHORT_IOC_QRECV, &r));
		ASSERT_RET(-EINVAL, xioctl(fd, COHORT_IOC_QACK, &a));
	}
	o.size = COHORT_QUEUE_OPEN_SIZE_VER0 - 4;
	ASSERT_RET(-EINVAL, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, &o));
	s.size = sizeof(s) - 8;
	ASSERT_RET(-EINVAL, xioctl(fd, COHORT_IOC_QSEND, &s));

	/* A newer caller's struct: zero tail fine, non-zero tail E2BIG. */
	memset(&bo, 0, sizeof(bo));
	qo_init(&bo.o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	bo.o.size = sizeof(bo);
	bo.tail[1] = 1;
	ASSERT_RET(-E2BIG, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, &bo));
	bo.tail[1] = 0;
	ASSERT_RET(0, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, &bo));
	close(bo.o.fd);

	m = (struct cohort_qmsg_out){ .data = (uintptr_t)&p, .len = sizeof(p) };
	memset(&bs, 0, sizeof(bs));
	bs.s.size = sizeof(bs);
	bs.s.count = 1;
	bs.s.msgs = (uintptr_t)&m;
	bs.tail[0] = 1;
	ASSERT_RET(-E2BIG, xioctl(fd, COHORT_IOC_QSEND, &bs));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	bs.tail[0] = 0;
	ASSERT_RET(0, xioctl(fd, COHORT_IOC_QSEND, &bs));
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	close(fd);
}

TEST_F(q, wrong_fd_or_command)
{
	struct cohort_queue_open o;
	struct cohort_qsend s = { .size = sizeof(s), .count = 1 };
	struct cohort_lamport l = { .size = sizeof(l) };
	int fd;

	ASSERT_FD(fd, q_open(self->dev, qname(self, "cmd"), COHORT_QUEUE,
			     COHORT_QR_PRODUCE, 0, NULL));
	/* Queue commands belong to queue descriptors and the other way. */
	ASSERT_RET(-ENOTTY, xioctl(self->dev, COHORT_IOC_QSEND, &s));
	ASSERT_RET(-ENOTTY, xioctl(fd, COHORT_IOC_LAMPORT, &l));
	qo_init(&o, qname(self, "cmd2"), COHORT_QUEUE, COHORT_QO_CREATE,
		COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOTTY, xioctl(fd, COHORT_IOC_QUEUE_OPEN, &o));
	ASSERT_RET(-ENOTTY, xioctl(fd, _IO(COHORT_IOC_TYPE, COHORT_IOC_QFILL_NR + 1), &s));
	ASSERT_RET(-ENOTTY, xioctl(fd, _IOWR(COHORT_IOC_TYPE, COHORT_IOC_QSEND_NR,
					     struct cohort_qsend), &s));
	close(fd);
}

TEST_F(q, send_bad_input)
{
	const char *name = qname(self, "sbad");
	struct cohort_qmsg_out m[COHORT_QBATCH_MAX + 1];
	struct cohort_qsend s;
	static char big[COHORT_QMSG_MAX + 1];
	uint32_t i, sent = 0;
	int fd, fd2;

	ASSERT_FD(fd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			     &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT,
							  .max_msg_size = 100 }));
	memset(m, 0, sizeof(m));
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		m[i].data = (uintptr_t)big;
		m[i].len = 8;
	}

	ASSERT_RET(-EINVAL, q_send(fd, m, 0, 0, NULL));
	ASSERT_RET(-EINVAL, q_send(fd, m, COHORT_QBATCH_MAX + 1, 0, NULL));
	ASSERT_RET(-EINVAL, q_send(fd, m, UINT32_MAX, 0, NULL));

	s = (struct cohort_qsend){ .size = sizeof(s), .count = 1,
				   .msgs = (uintptr_t)m, .flags = 1 };
	ASSERT_RET(-EINVAL, xioctl(fd, COHORT_IOC_QSEND, &s));

	m[0].prio = COHORT_QPRIO_MAX + 1;
	ASSERT_RET(-EINVAL, q_send(fd, m, 1, 0, NULL));
	m[0].prio = UINT32_MAX;
	ASSERT_RET(-EINVAL, q_send(fd, m, 1, 0, NULL));
	m[0].prio = 0;

	/* Above the queue's limit, and above any limit. */
	m[0].len = 101;
	ASSERT_RET(-EMSGSIZE, q_send(fd, m, 1, 0, NULL));
	m[0].len = 100;
	ASSERT_RET(0, q_send(fd, m, 1, 0, NULL));
	ASSERT_RET(-EMSGSIZE, write(fd, big, 101) < 0 ? -errno : 0);
	ASSERT_FD(fd2, q_open(self->dev, qname(self, "sbig"), COHORT_QUEUE,
			      COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	m[0].len = COHORT_QMSG_MAX + 1;
	ASSERT_RET(-EMSGSIZE, q_send(fd2, m, 1, 0, NULL));
	m[0].len = UINT32_MAX;
	ASSERT_RET(-EMSGSIZE, q_send(fd2, m, 1, 0, NULL));
	m[0].len = COHORT_QMSG_MAX;
	ASSERT_RET(0, q_send(fd2, m, 1, 0, NULL));

	/* A batch is checked whole first: one bad message, nothing sent. */
	for (i = 0; i < 4; i++)
		m[i].len = 8;
	m[3].prio = COHORT_QPRIO_MAX + 1;
	ASSERT_RET(-EINVAL, q_send(fd, m, 4, 0, NULL));
	m[3].prio = 0;
	m[3].len = 101;
	ASSERT_RET(-EMSGSIZE, q_send(fd, m, 4, 0, NULL));
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	m[3].len = 100;
	ASSERT_RET(0, q_send(fd, m, 4, 0, &sent));
	ASSERT_EQ(4U, sent);
	ASSERT_EQ(5U, QSTAT(name, DEPTH));
	close(fd2);
	close(fd);
}

TEST_F(q, recv_bad_input)
{
	const char *name = qname(self, "rbad");
	struct cohort_qmsg_in in[COHORT_QBATCH_MAX + 1];
	struct cohort_vc_entry vc[VCSZ];
	struct cohort_qrecv r;
	struct cohort_qack a;
	char buf[RXSZ];
	uint64_t id = 1;
	struct rx *rx = rx_new();
	int p, c;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(c, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			    COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(p, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			    0, NULL));
	memset(in, 0, sizeof(in));
	ASSERT_RET(-EINVAL, q_recv(c, in, 0, 0, NULL));
	ASSERT_RET(-EINVAL, q_recv(c, in, COHORT_QBATCH_MAX + 1, 0, NULL));
	r = (struct cohort_qrecv){ .size = sizeof(r), .count = 1,
				   .msgs = (uintptr_t)in, .flags = 1 };
	ASSERT_RET(-EINVAL, xioctl(c, COHORT_IOC_QRECV, &r));

	ASSERT_RET(-EINVAL, q_ack(c, 0, &id, 1, NULL));
	ASSERT_RET(-EINVAL, q_ack(c, COHORT_QACK_NACK + 1, &id, 1, NULL));
	ASSERT_RET(-EINVAL, q_ack(c, COHORT_QACK_ACK, &id, 0, NULL));
	ASSERT_RET(-EINVAL, q_ack(c, COHORT_QACK_ACK, &id, COHORT_QBATCH_MAX + 1,
				  NULL));
	a = (struct cohort_qack){ .size = sizeof(a), .op = COHORT_QACK_ACK,
				  .count = 1, .ids = (uintptr_t)&id,
				  .__reserved = 1 };
	ASSERT_RET(-EINVAL, xioctl(c, COHORT_IOC_QACK, &a));

	/* A message to look at; each failure below must leave it queued. */
	ASSERT_RET(0, send1(p, 42, 0, 0));

	/* Payload buffer too short: EMSGSIZE, len says what is needed. */
	in[0] = (struct cohort_qmsg_in){ .data = (uintptr_t)buf,
					 .cap = sizeof(struct pl) - 1 };
	ASSERT_RET(-EMSGSIZE, q_recv(c, in, 1, 0, NULL));
	ASSERT_EQ(sizeof(struct pl), in[0].len);
	/* Room for fewer vector entries than the stamp has: vc_len says. */
	in[0] = (struct cohort_qmsg_in){ .data = (uintptr_t)buf, .cap = RXSZ,
					 .vc_ptr = (uintptr_t)vc, .vc_cap = 0 };
	ASSERT_RET(-EMSGSIZE, q_recv(c, in, 1, 0, NULL));
	ASSERT_EQ(1U, in[0].vc_len);
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	ASSERT_EQ(0U, QSTAT(name, INFLIGHT));

	/* vc_ptr 0: no vector wanted, the message comes. */
	rx_prep(rx, 1);
	rx->m[0].vc_ptr = 0;
	ASSERT_RET(0, q_recv(c, rx->m, 1, 0, NULL));
	ASSERT_EQ(42U, seq_of(&rx->m[0]));
	ASSERT_EQ(1U, rx->m[0].deliveries);
	ASSERT_RET(0, ack1(c, rx->m[0].delivery_id));
	free(rx);
	close(p);
	close(c);
}

TEST_F(q, bad_pointers)
{
	const char *name = qname(self, "ptr");
	void *kernel = (void *)(uintptr_t)0xffffffff81000000ULL;
	struct cohort_queue_open *ro_open = (void *)ro_page(self);
	struct cohort_qmsg_out m[2];
	struct cohort_qmsg_in in;
	struct cohort_qsend s;
	struct pl p = { 7, 0 };
	uint32_t sent = 0, got, applied = 99;
	uint64_t *edge_id = (uint64_t *)rw_end(self) - 1;
	uint64_t ids[2];
	struct rx *rx = rx_new();
	int fd, c, lowest;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(fd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			     &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	ASSERT_FD(c, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			    COHORT_ACK_EXPLICIT, NULL));

	/* The argument itself. */
	ASSERT_RET(-EFAULT, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, NULL));
	ASSERT_RET(-EFAULT, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, kernel));
	ASSERT_RET(-EFAULT, xioctl(fd, COHORT_IOC_QSEND, NULL));
	ASSERT_RET(-EFAULT, xioctl(c, COHORT_IOC_QRECV, (void *)1));
	ASSERT_RET(-EFAULT, xioctl(c, COHORT_IOC_QACK, kernel));
	*(uint32_t *)(rw_end(self) - 4) = sizeof(struct cohort_queue_open);
	ASSERT_RET(-EFAULT, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN,
				   rw_end(self) - 4));

	/*
	 * Readable but not writable: the fd cannot be reported, so none may
	 * be installed (the lowest free descriptor stays free).
	 */
	ASSERT_EQ(0, mprotect(ro_open, self->page, PROT_READ | PROT_WRITE));
	qo_init(ro_open, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_EQ(0, mprotect(ro_open, self->page, PROT_READ));
	lowest = dup(0);
	ASSERT_LE(0, lowest);
	close(lowest);
	ASSERT_RET(-EFAULT, xioctl(self->dev, COHORT_IOC_QUEUE_OPEN, ro_open));
	ASSERT_EQ(lowest, dup(0));
	close(lowest);
	ASSERT_EQ(1U, QSTAT(name, PRODUCERS));

	/* The message array (one, a few, many) and the payloads. */
	ASSERT_RET(-EFAULT, q_send(fd, NULL, 1, 0, NULL));
	ASSERT_RET(-EFAULT, q_send(fd, (void *)kernel, 1, 0, NULL));
	ASSERT_RET(-EFAULT, q_send(fd, (void *)kernel, 3, 0, NULL));
	ASSERT_RET(-EFAULT, q_send(fd, (void *)kernel, 64, 0, NULL));
	m[0] = (struct cohort_qmsg_out){ .data = (uintptr_t)kernel, .len = 8 };
	ASSERT_RET(-EFAULT, q_send(fd, m, 1, 0, NULL));
	m[0].data = (uintptr_t)(rw_end(self) - 4);
	ASSERT_RET(-EFAULT, q_send(fd, m, 1, 0, NULL));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));

	/* A batch whose second message faults: the first one is sent. */
	m[0] = (struct cohort_qmsg_out){ .data = (uintptr_t)&p, .len = sizeof(p) };
	m[1] = (struct cohort_qmsg_out){ .data = 1, .len = 8 };
	s = (struct cohort_qsend){ .size = sizeof(s), .count = 2,
				   .msgs = (uintptr_t)m };
	ASSERT_RET(0, xioctl(fd, COHORT_IOC_QSEND, &s));
	sent = s.count;
	ASSERT_EQ(1U, sent);
	ASSERT_EQ(1U, QSTAT(name, DEPTH));

	/* Receiving into bad memory fails and loses nothing. */
	ASSERT_RET(-EFAULT, q_recv(c, NULL, 1, 0, NULL));
	ASSERT_RET(-EFAULT, q_recv(c, (void *)kernel, 1, 0, NULL));
	in = (struct cohort_qmsg_in){ .data = (uintptr_t)kernel, .cap = RXSZ };
	ASSERT_RET(-EFAULT, q_recv(c, &in, 1, 0, NULL));
	in = (struct cohort_qmsg_in){ .data = (uintptr_t)ro_page(self),
				      .cap = RXSZ };
	ASSERT_RET(-EFAULT, q_recv(c, &in, 1, 0, NULL));
	in = (struct cohort_qmsg_in){ .data = (uintptr_t)rx->data[0],
				      .cap = RXSZ, .vc_ptr = 1, .vc_cap = VCSZ };
	ASSERT_RET(-EFAULT, q_recv(c, &in, 1, 0, NULL));
	/* The message array itself read-only: results cannot be written. */
	ASSERT_EQ(0, mprotect(ro_page(self), self->page, PROT_READ | PROT_WRITE));
	memcpy(ro_page(self), &(struct cohort_qmsg_in){
			.data = (uintptr_t)rx->data[0], .cap = RXSZ },
	       sizeof(struct cohort_qmsg_in));
	ASSERT_EQ(0, mprotect(ro_page(self), self->page, PROT_READ));
	ASSERT_RET(-EFAULT, q_recv(c, (void *)ro_page(self), 1, 0, NULL));
	ASSERT_EQ(0U, QSTAT(name, INFLIGHT));
	ASSERT_RET(0, recvn(c, rx, 1, 0, &got));
	ASSERT_EQ(1U, got);
	ASSERT_EQ(7U, seq_of(&rx->m[0]));

	/* Ids to ack: NULL, or the second one past the end of the page. */
	ASSERT_RET(-EFAULT, q_ack(c, COHORT_QACK_ACK, NULL, 1, NULL));
	/*
	 * The first id is good: whether it was applied before the fault,
	 * count says, and the ack state must agree with it.
	 */
	*edge_id = rx->m[0].delivery_id;
	ASSERT_RET(-EFAULT, q_ack(c, COHORT_QACK_ACK, edge_id, 2, &applied));
	ASSERT_GE(1U, applied);
	ids[0] = rx->m[0].delivery_id;
	ASSERT_RET(applied ? -ESTALE : 0, q_ack(c, COHORT_QACK_ACK, ids, 1, NULL));
	ASSERT_EQ(0U, QSTAT(name, INFLIGHT));
	free(rx);
	close(c);
	close(fd);
}

/* ---- the data path ---- */

/*
 * Every field of a received message, and both actors' clocks: a send is a
 * send event of the producer's actor and the stamp travels with the
 * message; a receive is a receive event of the consumer's actor.
 */
TEST_F(q, round_trip_metadata)
{
	const char *name = qname(self, "meta");
	struct cohort_vc_entry va[VCSZ], vb[VCSZ], vb2[VCSZ], va2[VCSZ];
	struct cohort_qmsg_out m[2];
	struct pl p[2] = { { 1, 0xabcd }, { 2, 0xbcde } };
	uint64_t la0, lb0, lb, t0, t1;
	uint32_t sent = 0, got = 0, i;
	int na, nb, na2, nb2;
	struct rx *rx = rx_new();
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));

	la0 = lamport_read(self->dev);
	lb0 = lamport_read(self->dev2);
	na = vclock_read(self->dev, va, VCSZ);
	nb = vclock_read(self->dev2, vb, VCSZ);
	ASSERT_LE(0, na);
	ASSERT_LE(0, nb);

	m[0] = (struct cohort_qmsg_out){ .data = (uintptr_t)&p[0],
					 .len = sizeof(p[0]), .prio = 5,
					 .key = 0x1234 };
	m[1] = (struct cohort_qmsg_out){ .data = (uintptr_t)&p[1],
					 .len = sizeof(p[1]) - 2, .prio = 5,
					 .key = UINT32_MAX };
	t0 = real_ns();
	ASSERT_RET(0, q_send(pfd, m, 2, 0, &sent));
	t1 = real_ns();
	ASSERT_EQ(2U, sent);

	/* Two send events on A. */
	ASSERT_EQ(la0 + 2, lamport_read(self->dev));
	na2 = vclock_read(self->dev, va2, VCSZ);
	ASSERT_LT(0, na2);
	ASSERT_EQ(vc_get(va, na, self->actor) + 2,
		  vc_get(va2, na2, self->actor));

	ASSERT_RET(0, recvn(cfd, rx, 4, 1000, &got));
	ASSERT_EQ(2U, got);
	lb = lb0;
	for (i = 0; i < 2; i++) {
		struct cohort_qmsg_in *in = &rx->m[i];

		ASSERT_EQ(m[i].len, in->len);
		ASSERT_EQ(0, memcmp(&p[i], rx->data[i], in->len));
		ASSERT_EQ(self->actor, in->sender);
		ASSERT_EQ(1ULL, in->sender >> 32);
		ASSERT_EQ(la0 + 1 + i, in->lamport);
		ASSERT_EQ(5U, in->prio);
		ASSERT_EQ(m[i].key, in->key);
		ASSERT_EQ(1U, in->deliveries);
		ASSERT_EQ(0U, in->flags);
		ASSERT_LE(t0 - SLACK_NS, in->enqueue_ns);
		ASSERT_GE(t1 + SLACK_NS, in->enqueue_ns);
		/* The stamp has A's own counter as of that send. */
		ASSERT_LT(0U, in->vc_len);
		ASSERT_GE(VCSZ, in->vc_len);
		ASSERT_EQ(vc_get(va, na, self->actor) + 1 + i,
			  vc_get(rx->vc[i], in->vc_len, self->actor));
		lb = (lb > in->lamport ? lb : in->lamport) + 1;
	}
	ASSERT_LT(rx->m[0].msg_id, rx->m[1].msg_id);
	ASSERT_LE(rx->m[0].enqueue_ns, rx->m[1].enqueue_ns);

	/* Two receive events on B. */
	ASSERT_EQ(lb, lamport_read(self->dev2));
	ASSERT_LT(rx->m[1].lamport, lamport_read(self->dev2));
	nb2 = vclock_read(self->dev2, vb2, VCSZ);
	ASSERT_LT(0, nb2);
	ASSERT_EQ(vc_get(vb, nb, self->actor2) + 2,
		  vc_get(vb2, nb2, self->actor2));
	ASSERT_EQ(vc_get(rx->vc[1], rx->m[1].vc_len, self->actor),
		  vc_get(vb2, nb2, self->actor));
	/* Receiving changes nothing on the sender's side. */
	ASSERT_EQ(la0 + 2, lamport_read(self->dev));

	/* The next message gets a later id; write(2) sends at priority 0. */
	ASSERT_EQ((ssize_t)sizeof(p[0]), write(pfd, &p[0], sizeof(p[0])));
	ASSERT_RET(0, recv1(cfd, rx, 1000));
	ASSERT_EQ(0U, rx->m[0].prio);
	ASSERT_EQ(0U, rx->m[0].key);
	ASSERT_EQ(la0 + 3, rx->m[0].lamport);
	ASSERT_LT(rx->m[1].msg_id, rx->m[0].msg_id);
	/* B knew both ids: its counter and A's moved, nothing was added. */
	ASSERT_EQ(nb2, vclock_read(self->dev2, vb, VCSZ));
	ASSERT_EQ(vc_get(vb2, nb2, self->actor2) + 1,
		  vc_get(vb, nb2, self->actor2));
	ASSERT_EQ(vc_get(va, na, self->actor) + 3,
		  vc_get(vb, nb2, self->actor));
	free(rx);
	close(pfd);
	close(cfd);
}

/* @v (sorted, @n entries) after a receive of @in by @self: the new length. */
static uint32_t vc_fold(struct cohort_vc_entry *v, uint32_t n,
			const struct cohort_vc_entry *in, uint32_t in_n,
			uint64_t self)
{
	uint32_t i, j;

	for (j = 0; j <= in_n; j++) {
		uint64_t id = j < in_n ? in[j].id : self;

		if (j < in_n && !in[j].counter)
			continue;
		for (i = 0; i < n && v[i].id < id; i++)
			;
		if (i == n || v[i].id != id) {
			memmove(&v[i + 1], &v[i], (n - i) * sizeof(*v));
			v[i].id = id;
			v[i].counter = 0;
			n++;
		}
		if (j == in_n)
			v[i].counter++;
		else if (in[j].counter > v[i].counter)
			v[i].counter = in[j].counter;
	}
	return n;
}

/*
 * A batch receive leaves the consumer's clocks as one receive per message
 * would; the kernel merges a run of one sender's stamps once. Runs of two
 * senders with stamps of different ids, priorities that hand out a
 * sender's later stamps first, and a sender that claims a higher counter
 * of the consumer than the consumer's own.
 */
TEST_F(q, batch_recv_clocks)
{
	static const uint32_t prio[] = { 0, 0, 0, 7, 7, 0 };
	const char *name = qname(self, "bclk");
	struct cohort_vc_entry x = { (9ULL << 32) | 1, 1 };
	struct cohort_vc_entry want[VCSZ], have[VCSZ], b;
	uint32_t got = 0, i, nw;
	struct rx *rx = rx_new();
	int pfd, pfd3, cfd, dev3;
	uint64_t lw;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(dev3, open(DEV, O_RDWR | O_CLOEXEC));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_FD(pfd3, q_open(dev3, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			       NULL));
	/* The third handle knows an id no one else does; A overrates B. */
	ASSERT_RET(0, vclock_recv(dev3, &x, 1));
	nw = vclock_read(self->dev2, have, VCSZ);
	b = (struct cohort_vc_entry){ self->actor2,
				      vc_get(have, nw, self->actor2) + 50 };
	ASSERT_RET(0, vclock_recv(self->dev, &b, 1));
	for (i = 0; i < ARRAY_SIZE(prio); i++)
		ASSERT_RET(0, send1(pfd, i, prio[i], 0));
	/*
	 * The third handle's two, then A's last three: stamps of other ids
	 * than the run before them, a run to end the batch.
	 */
	ASSERT_RET(0, send1(pfd3, i++, 0, 0));
	ASSERT_RET(0, send1(pfd3, i++, 0, 0));
	while (i < ARRAY_SIZE(prio) + 5)
		ASSERT_RET(0, send1(pfd, i++, 0, 0));

	lw = lamport_read(self->dev2);
	nw = vclock_read(self->dev2, want, VCSZ);
	ASSERT_LE(0, (int)nw);
	ASSERT_RET(0, recvn(cfd, rx, 16, 1000, &got));
	ASSERT_EQ(i, got);
	/* Priority 7 first: A's later stamps come before its earlier ones. */
	ASSERT_EQ(3U, seq_of(&rx->m[0]));
	for (i = 0; i < got; i++) {
		lw = (lw > rx->m[i].lamport ? lw : rx->m[i].lamport) + 1;
		nw = vc_fold(want, nw, rx->vc[i], rx->m[i].vc_len,
			     self->actor2);
		ASSERT_GE(VCSZ, nw);
	}
	ASSERT_EQ(lw, lamport_read(self->dev2));
	ASSERT_EQ((int)nw, vclock_read(self->dev2, have, VCSZ));
	for (i = 0; i < nw; i++) {
		ASSERT_EQ(want[i].id, have[i].id);
		ASSERT_EQ(want[i].counter, have[i].counter) {
			TH_LOG("entry %u: id %llx", i,
			       (unsigned long long)want[i].id);
		}
	}
	ASSERT_EQ(1ULL, vc_get(have, nw, x.id));
	free(rx);
	close(pfd);
	close(pfd3);
	close(cfd);
	close(dev3);
}

/*
 * A receive that would overflow the consumer's own counter fails and
 * leaves both its clocks as they were, whether the stamp holds only ids
 * the consumer knows or brings a new one; the message stays queued for
 * another consumer, and the refusal is no attempt: the consumer's clocks
 * are at fault, not the message.
 */
TEST_F(q, stamp_overflow)
{
	struct cohort_vc_entry full = { self->actor2, UINT64_MAX - 1 };
	struct cohort_vc_entry vb[VCSZ], vb2[VCSZ];
	const char *names[2] = { qname(self, "ovf"), qname(self, "ovf2") };
	int pfd[2], cfd[2], dev3, other, nb, i, v = 7;
	struct rx *rx = rx_new();
	uint64_t lb;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(dev3, open(DEV, O_RDWR | O_CLOEXEC));
	for (i = 0; i < 2; i++) {
		ASSERT_FD(cfd[i], q_open(self->dev2, names[i], COHORT_QUEUE,
					 COHORT_QR_CONSUME, COHORT_ACK_NONE,
					 NULL));
		/* A sends on the first queue, a third handle on the second. */
		ASSERT_FD(pfd[i], q_open(i ? dev3 : self->dev, names[i],
					 COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
					 NULL));
	}
	/* B learns A's id, then its own counter reaches the limit. */
	ASSERT_EQ((ssize_t)sizeof(v), write(pfd[0], &v, sizeof(v)));
	ASSERT_RET(0, recv1(cfd[0], rx, 1000));
	ASSERT_RET(0, vclock_recv(self->dev2, &full, 1));
	lb = lamport_read(self->dev2);
	nb = vclock_read(self->dev2, vb, VCSZ);
	ASSERT_EQ(UINT64_MAX, vc_get(vb, nb, self->actor2));
	ASSERT_NE(0ULL, vc_get(vb, nb, self->actor));

	for (i = 0; i < 2; i++) {
		ASSERT_EQ((ssize_t)sizeof(i), write(pfd[i], &i, sizeof(i)));
		ASSERT_RET(-EOVERFLOW, recv1(cfd[i], rx, 1000));
		ASSERT_EQ(lb, lamport_read(self->dev2));
		ASSERT_EQ(nb, vclock_read(self->dev2, vb2, VCSZ));
		ASSERT_EQ(0, memcmp(vb, vb2, nb * sizeof(*vb)));
		/* Still there: a consumer with room in its clock takes it. */
		ASSERT_FD(other, q_open(self->dev, names[i], COHORT_QUEUE,
					COHORT_QR_CONSUME, COHORT_ACK_NONE,
					NULL));
		ASSERT_RET(0, recv1(other, rx, 1000));
		ASSERT_EQ(sizeof(i), rx->m[0].len);
		ASSERT_EQ(0, memcmp(&i, rx->data[0], sizeof(i)));
		ASSERT_EQ(1U, rx->m[0].deliveries);
		ASSERT_EQ(0U, rx->m[0].flags);
		close(other);
	}
	free(rx);
	for (i = 0; i < 2; i++) {
		close(pfd[i]);
		close(cfd[i]);
	}
	close(dev3);
}

/* Is @after @before, but for @self's entry? (Nothing merged into it.) */
static bool vc_same_but(const struct cohort_vc_entry *before, int n,
			const struct cohort_vc_entry *after, int na,
			uint64_t self_id)
{
	int i;

	for (i = 0; i < na; i++)
		if (after[i].id != self_id &&
		    vc_get(before, n, after[i].id) != after[i].counter)
			return false;
	return na >= n;
}

/*
 * @wide sends 7 and @from 8 to @name; @dev receives both, by QRECV with
 * acks or by read() without (@ack). Each stamp would take @dev's vector
 * past COHORT_VC_MAX_ENTRIES ids: each is received without its vector,
 * which keeps its ids and counters but for @dev's own, one more; the
 * Lamport clock goes past the stamp. Returns 0, or the step that failed.
 */
static int recv_unmerged(int dev, int wide, int from, const char *name,
			 int ack)
{
	struct cohort_vc_entry *vc = calloc(3 * COHORT_VC_MAX_ENTRIES,
					    sizeof(*vc));
	struct cohort_vc_entry *va = vc + COHORT_VC_MAX_ENTRIES;
	struct cohort_vc_entry *st = va + COHORT_VC_MAX_ENTRIES;
	uint64_t self_id = bind_actor(dev), lamport = 0;
	int pfd[2], cfd, i, v, n, na, ret = 0;
	struct cohort_qmsg_in m;
	char buf[RXSZ];

	cfd = q_open(dev, name, COHORT_QUEUE, COHORT_QR_CONSUME,
		     ack ? COHORT_ACK_EXPLICIT : COHORT_ACK_NONE, NULL);
	pfd[0] = q_open(wide, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0, NULL);
	pfd[1] = q_open(from, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0, NULL);
	if (!vc || cfd < 0 || pfd[0] < 0 || pfd[1] < 0)
		ret = 1;
	for (i = 0; i < 2 && !ret; i++) {
		v = 7 + i;
		if (write(pfd[i], &v, sizeof(v)) != sizeof(v))
			ret = 10 + i;
	}
	for (i = 0; i < 2 && !ret; i++) {
		n = vclock_read(dev, vc, COHORT_VC_MAX_ENTRIES);
		m = (struct cohort_qmsg_in){ .data = (uintptr_t)buf,
			.cap = sizeof(buf), .vc_ptr = (uintptr_t)st,
			.vc_cap = COHORT_VC_MAX_ENTRIES };
		if (ack) {
			if (q_recv(cfd, &m, 1, 0, NULL) || m.len != sizeof(v) ||
			    m.flags != COHORT_QM_UNMERGED || m.deliveries != 1 ||
			    ack1(cfd, m.delivery_id))
				ret = 20 + i;
			lamport = m.lamport;
		} else if (read(cfd, buf, sizeof(buf)) != sizeof(v)) {
			ret = 20 + i;
		}
		if (!ret && *(int *)buf != 7 + i)
			ret = 30 + i;
		na = vclock_read(dev, va, COHORT_VC_MAX_ENTRIES);
		if (!ret && (!vc_same_but(vc, n, va, na, self_id) ||
			     vc_get(va, na, self_id) != vc_get(vc, n, self_id) + 1))
			ret = 40 + i;
		if (!ret && lamport_read(dev) <= lamport)
			ret = 50 + i;
	}
	if (!ret && q_recv(cfd, &m, 1, 0, NULL) != -EAGAIN)
		ret = 60;
	close(pfd[0]);
	close(pfd[1]);
	close(cfd);
	free(vc);
	return ret;
}

/*
 * A receiver's vector holds COHORT_VC_MAX_ENTRIES ids at most. A stamp
 * that would take it past that is received without its vector
 * (COHORT_QM_UNMERGED), not refused: neither one that alone has that many
 * ids, nor any stamp at all once the receiver has heard from that many
 * actors (a consumer of many short-lived producers). Refused, the message
 * would stay first in line, and such a consumer would receive nothing
 * more. Nothing is redelivered or dead-lettered.
 */
TEST_F(q, vector_full_unmerged)
{
	struct cohort_vc_entry in[COHORT_VC_MAX_ENTRIES - 1];
	int wide, full, ack, i;
	const char *name;

	for (i = 0; i < (int)ARRAY_SIZE(in); i++) {
		in[i].id = (1ULL << 63) + i + 1;
		in[i].counter = 1;
	}
	/* Stamps of every id there is room for... */
	ASSERT_FD(wide, open(DEV, O_RDWR | O_CLOEXEC));
	ASSERT_RET(0, vclock_recv(wide, in, ARRAY_SIZE(in)));
	/* ...and a receiver as full, with other ids. */
	for (i = 0; i < (int)ARRAY_SIZE(in); i++)
		in[i].id += 1000;
	ASSERT_FD(full, open(DEV, O_RDWR | O_CLOEXEC));
	ASSERT_RET(0, vclock_recv(full, in, ARRAY_SIZE(in)));
	for (ack = 0; ack < 2; ack++) {
		name = qname(self, ack ? "unm-ack" : "unm");
		ASSERT_EQ(0, recv_unmerged(self->dev2, wide, wide, name, ack));
		ASSERT_EQ(0, recv_unmerged(full, wide, self->dev, name, ack));
		ASSERT_EQ(0U, QSTAT(name, REDELIVERED));
		ASSERT_EQ(0U, QSTAT(name, DEPTH));
		ASSERT_EQ(0U, QSTAT(name, INFLIGHT));
	}
	close(wide);
	close(full);
}

/*
 * A producer whose Lamport clock is one short of the limit would stamp
 * U64_MAX, which no receiver could follow: the send is refused, and the
 * queue is not blocked behind it.
 */
TEST_F(q, stamp_unsendable)
{
	struct cohort_lamport l = { .size = sizeof(l), .op = COHORT_CLOCK_RECV,
				    .time = UINT64_MAX - 2 };
	const char *name = qname(self, "unsend");
	struct rx *rx = rx_new();
	int pfd, cfd, dev3, v = 1;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(dev3, open(DEV, O_RDWR | O_CLOEXEC));
	ASSERT_FD(pfd, q_open(dev3, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_EQ(0, ioctl(dev3, COHORT_IOC_LAMPORT, &l));
	ASSERT_EQ(UINT64_MAX - 1, lamport_read(dev3));
	ASSERT_RET(-EOVERFLOW, send1(pfd, 0, 0, 0));
	ASSERT_EQ(-1, write(pfd, &v, sizeof(v)));
	ASSERT_EQ(EOVERFLOW, errno);
	ASSERT_EQ(UINT64_MAX - 1, lamport_read(dev3));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));

	/* Others' messages still flow. */
	close(pfd);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      NULL));
	ASSERT_RET(0, send1(pfd, 5, 0, 0));
	ASSERT_RET(0, recv1(cfd, rx, 1000));
	ASSERT_EQ(5U, seq_of(&rx->m[0]));
	free(rx);
	close(pfd);
	close(cfd);
	close(dev3);
}

/* Priorities 0..7 mixed: higher first, FIFO within one. */
TEST_F(q, priority_order)
{
	static const uint32_t prio[] = { 0, 3, 7, 3, 0, 7, 1, 0, 3, 5, 7, 1 };
	const char *name = qname(self, "prio");
	uint32_t n = ARRAY_SIZE(prio), i, got = 0, last_p = UINT32_MAX,
		 last_seq = 0;
	struct rx *rx = rx_new();
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	for (i = 0; i < n; i++)
		ASSERT_RET(0, send1(pfd, i, prio[i], 0));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));

	/* Half one by one, half in a batch: the order is the same. */
	for (i = 0; i < n; i++) {
		struct cohort_qmsg_in *in;

		if (i < n / 2) {
			ASSERT_RET(0, recv1(cfd, rx, 0));
			in = &rx->m[0];
		} else {
			if (i == n / 2) {
				ASSERT_RET(0, recvn(cfd, rx, n, 0, &got));
				ASSERT_EQ(n - n / 2, got);
			}
			in = &rx->m[i - n / 2];
		}
		ASSERT_EQ(prio[seq_of(in)], in->prio);
		ASSERT_GE(last_p, in->prio) {
			TH_LOG("message %u: prio %u after %u", i, in->prio, last_p);
		}
		if (in->prio == last_p) {
			ASSERT_LT(last_seq, seq_of(in));
		}
		last_p = in->prio;
		last_seq = seq_of(in);
	}
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * A priority that emptied comes back first: by a send, and by a nack that
 * puts its message back ahead of older default-priority ones.
 */
TEST_F(q, priority_after_drain)
{
	const char *name = qname(self, "prio2");
	struct rx *rx = rx_new();
	uint64_t d;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send1(pfd, 0, 7, 0));
	ASSERT_RET(0, send1(pfd, 1, 0, 0));
	ASSERT_RET(0, send1(pfd, 2, 0, 0));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	d = rx->m[0].delivery_id;
	/* Priority 7 is empty now, and this receive finds it so. */
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(1U, seq_of(&rx->m[0]));
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(0, nack1(cfd, d));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_EQ(7U, rx->m[0].prio);
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	/* A send at a priority between the two also goes ahead. */
	ASSERT_RET(0, send1(pfd, 3, 4, 0));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(3U, seq_of(&rx->m[0]));
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(2U, seq_of(&rx->m[0]));
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));
	free(rx);
	close(pfd);
	close(cfd);
}

/* COHORT_QBATCH_MAX messages in one call each way. */
TEST_F(q, batch)
{
	const char *name = qname(self, "batch");
	uint32_t n = COHORT_QBATCH_MAX, sent = 0, got = 0, i;
	struct rx *rx = rx_new();
	uint64_t t0;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE,
			      &(struct cohort_queue_attr){ .max_msgs = 2 * n }));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, n, 0, 0, &sent));
	ASSERT_EQ(n, sent);
	ASSERT_EQ(n, QSTAT(name, DEPTH));
	ASSERT_RET(0, recvn(cfd, rx, n, 0, &got));
	ASSERT_EQ(n, got);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(i, seq_of(&rx->m[i]));
		if (i) {
			ASSERT_LT(rx->m[i - 1].msg_id, rx->m[i].msg_id);
		}
	}

	/* A batch receive waits for the first only, then takes what is there. */
	ASSERT_RET(0, send_seqs(pfd, n, 5, 0, 0, &sent));
	t0 = mono_ms();
	ASSERT_RET(0, recvn(cfd, rx, 100, 5000, &got));
	ASSERT_GT(2000, mono_ms() - t0);
	ASSERT_EQ(5U, got);
	ASSERT_EQ(n + 4, seq_of(&rx->m[4]));
	ASSERT_EQ(n + 5, QSTAT(name, DELIVERED));
	ASSERT_EQ(n + 5, QSTAT(name, ENQUEUED));
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * A batch larger than the kernel's chunk of 64, of mixed priorities, into
 * a queue that fills part way: what fits goes in order, the call says how
 * many, the rest is refused; the consumer gets them best first, FIFO
 * within a priority. Then a full queue whose messages outlived their TTL
 * takes a whole batch in their place.
 */
TEST_F(q, batch_runs)
{
	const char *name = qname(self, "runs");
	const char *name2 = qname(self, "runttl");
	uint32_t n = 150, cap = 100, sent = 0, got = 0, i, p, k = 0;
	struct cohort_qmsg_out *m = calloc(n, sizeof(*m));
	struct pl *pl = calloc(n, sizeof(*pl));
	struct rx *rx = rx_new();
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_NE(NULL, m);
	ASSERT_NE(NULL, pl);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
				      .flags = COHORT_QA_PERSISTENT,
				      .max_msgs = cap }));
	/* Runs of one priority: 0 x 10, 5 x 70 (across the chunk), 2 x 70. */
	for (i = 0; i < n; i++) {
		pl[i].seq = i;
		m[i] = (struct cohort_qmsg_out){ .data = (uintptr_t)&pl[i],
						 .len = sizeof(pl[i]),
						 .prio = i < 10 ? 0 : i < 80 ? 5 : 2 };
	}
	ASSERT_RET(0, q_send(pfd, m, n, 0, &sent));
	ASSERT_EQ(cap, sent);
	ASSERT_RET(-EAGAIN, q_send(pfd, m + sent, n - sent, 0, NULL));
	ASSERT_EQ(cap, QSTAT(name, DEPTH));
	ASSERT_LE(1U, QSTAT(name, REJECTED));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_RET(0, recvn(cfd, rx, n, 0, &got));
	ASSERT_EQ(cap, got);
	/* Expected: 5 (seq 10..79), then 2 (seq 80..99), then 0 (seq 0..9). */
	for (p = 0; p < 3; p++) {
		uint32_t lo = p == 0 ? 10 : p == 1 ? 80 : 0;
		uint32_t hi = p == 0 ? 80 : p == 1 ? cap : 10;

		for (i = lo; i < hi; i++, k++) {
			ASSERT_EQ(i, seq_of(&rx->m[k])) {
				TH_LOG("message %u: seq %u, prio %u", k,
				       seq_of(&rx->m[k]), rx->m[k].prio);
			}
			ASSERT_EQ(m[i].prio, rx->m[k].prio);
		}
	}
	ASSERT_EQ(cap, k);
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	close(pfd);
	close(cfd);

	/* Full of messages past their TTL: a new batch takes their place. */
	ASSERT_FD(pfd, q_open(self->dev, name2, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
				      .flags = COHORT_QA_PERSISTENT,
				      .max_msgs = 10 }));
	for (i = 0; i < 10; i++)
		m[i].ttl_ms = 500;
	ASSERT_RET(0, q_send(pfd, m, 10, 0, &sent));
	ASSERT_EQ(10U, sent);
	ASSERT_RET(-EAGAIN, send1(pfd, 999, 0, 0));
	sleep_ms(800);
	for (i = 0; i < 10; i++) {
		m[i].ttl_ms = 0;
		pl[i].seq = 1000 + i;
	}
	ASSERT_RET(0, q_send(pfd, m, 10, 0, &sent));
	ASSERT_EQ(10U, sent);
	ASSERT_EQ(10U, QSTAT(name2, EXPIRED));
	ASSERT_FD(cfd, q_open(self->dev2, name2, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_RET(0, recvn(cfd, rx, n, 0, &got));
	ASSERT_EQ(10U, got);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(1000 + i, seq_of(&rx->m[i]));
	free(rx);
	free(m);
	free(pl);
	close(pfd);
	close(cfd);
}

/*
 * Competing consumers: three processes, each with its own descriptor and
 * actor, take messages one at a time (with a pause so that all of them
 * get to run). Each message goes to exactly one; together they get all.
 */
#define CC_N		300
#define CC_CONSUMERS	3

static int cc_child(const char *name, int idx, uint8_t *owner, int ready)
{
	struct rx *rx = rx_new();
	int dev, fd, ret, n = 0;

	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0 || !rx)
		return 10;
	fd = q_open(dev, name, COHORT_QUEUE, COHORT_QR_CONSUME,
		    COHORT_ACK_EXPLICIT, NULL);
	if (fd < 0)
		return 11;
	if (write(ready, "r", 1) != 1)
		return 12;
	for (;;) {
		ret = recv1(fd, rx, 2000);
		if (ret == -ETIMEDOUT)
			break;
		if (ret)
			return 13;
		if (seq_of(&rx->m[0]) >= CC_N || ack1(fd, rx->m[0].delivery_id))
			return 14;
		__atomic_fetch_add(&owner[seq_of(&rx->m[0])], 1 << (2 * idx),
				   __ATOMIC_SEQ_CST);
		n++;
		usleep(2000);
	}
	return n ? 0 : 15;
}

TEST_F_TIMEOUT(q, competing_consumers, 60)
{
	const char *name = qname(self, "compete");
	uint8_t *owner;
	pid_t pid[CC_CONSUMERS];
	int per[CC_CONSUMERS] = { 0 };
	int pfd, i, status, pipefd[2];
	uint32_t sent = 0, s;
	char c;

	owner = mmap(NULL, CC_N, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, owner);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	ASSERT_EQ(0, pipe(pipefd));
	for (i = 0; i < CC_CONSUMERS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			_exit(cc_child(name, i, owner, pipefd[1]));
	}
	for (i = 0; i < CC_CONSUMERS; i++)
		ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ(CC_CONSUMERS, QSTAT(name, CONSUMERS));
	ASSERT_RET(0, send_seqs(pfd, 0, CC_N, 0, 5000, &sent));
	ASSERT_EQ(CC_N, sent);
	for (i = 0; i < CC_CONSUMERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		/* 10 open, 11 queue open, 12 pipe, 13 recv, 14 seq/ack, 15 none */
		ASSERT_EQ(0, WEXITSTATUS(status)) {
			TH_LOG("consumer %d", i);
		}
	}
	/* owner[s]: two bits per consumer, how often it got message s. */
	for (s = 0; s < CC_N; s++) {
		int total = 0;

		for (i = 0; i < CC_CONSUMERS; i++) {
			per[i] += (owner[s] >> (2 * i)) & 3;
			total += (owner[s] >> (2 * i)) & 3;
		}
		ASSERT_EQ(1, total) {
			TH_LOG("message %u received %d times (bits %#x)", s,
			       total, owner[s]);
		}
	}
	TH_LOG("shares: %d %d %d", per[0], per[1], per[2]);
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	ASSERT_EQ(CC_N, QSTAT(name, ACKED));
	munmap(owner, CC_N);
	close(pfd);
}

/* Topic: every subscriber gets every message once, in order, same ids. */
TEST_F(q, topic_fanout)
{
	const char *name = qname(self, "fan");
	struct rx *rx[3], *spare = rx_new();
	uint32_t n = 50, got, i, k;
	uint64_t t0, t1;
	struct qinfo *qi;
	int pfd, sub[3];

	ASSERT_NE(NULL, spare);

	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, NULL));
	for (k = 0; k < 3; k++) {
		rx[k] = rx_new();
		ASSERT_NE(NULL, rx[k]);
		ASSERT_FD(sub[k], t_sub(k == 2 ? self->dev : self->dev2, name, "",
					k == 1 ? COHORT_ACK_EXPLICIT : COHORT_ACK_NONE));
	}
	qi = info(_metadata, self, name);
	ASSERT_EQ(3U, qi->nsub);
	for (k = 0; k < 3; k++)
		ASSERT_EQ(0, qi->sub[k].name[0]);
	t0 = real_ns();
	for (i = 0; i < n; i += 10)
		ASSERT_RET(0, send_seqs(pfd, i, 10, 0, 0, NULL));
	t1 = real_ns();
	for (k = 0; k < 3; k++) {
		ASSERT_RET(0, recvn(sub[k], rx[k], n + 1, 1000, &got));
		ASSERT_EQ(n, got) {
			TH_LOG("subscriber %u", k);
		}
		for (i = 0; i < n; i++) {
			ASSERT_EQ(i, seq_of(&rx[k]->m[i]));
			ASSERT_EQ(1U, rx[k]->m[i].deliveries);
			ASSERT_EQ(self->actor, rx[k]->m[i].sender);
			ASSERT_EQ(rx[0]->m[i].msg_id, rx[k]->m[i].msg_id);
			ASSERT_EQ(rx[0]->m[i].lamport, rx[k]->m[i].lamport);
			/* Every copy carries the enqueue time. */
			ASSERT_LE(t0 - SLACK_NS, rx[k]->m[i].enqueue_ns) {
				TH_LOG("subscriber %u message %u", k, i);
			}
			ASSERT_GE(t1 + SLACK_NS, rx[k]->m[i].enqueue_ns);
			ASSERT_EQ(rx[0]->m[i].enqueue_ns, rx[k]->m[i].enqueue_ns);
		}
		ASSERT_RET(-EAGAIN, recv1(sub[k], spare, 0));
	}
	for (k = 0; k < 3; k++)
		close(sub[k]);
	/* A subscriber that comes later sees only what comes later. */
	ASSERT_FD(sub[0], t_sub(self->dev2, name, "", COHORT_ACK_NONE));
	ASSERT_RET(-EAGAIN, recv1(sub[0], rx[0], 0));
	ASSERT_RET(0, send1(pfd, 99, 0, 0));
	ASSERT_RET(0, recv1(sub[0], rx[0], 1000));
	ASSERT_EQ(99U, seq_of(&rx[0]->m[0]));
	close(sub[0]);
	for (k = 0; k < 3; k++)
		free(rx[k]);
	free(spare);
	close(pfd);
}

/* A durable subscription keeps collecting while no one is attached. */
TEST_F(q, durable_subscription)
{
	const char *name = qname(self, "dur");
	struct cohort_queue_open o;
	struct qinfo *qi;
	struct rx *rx = rx_new();
	uint32_t got = 0, i;
	int pfd, s;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	ASSERT_FD(s, t_sub(self->dev2, name, "d1", COHORT_ACK_EXPLICIT));
	ASSERT_RET(0, send1(pfd, 0, 0, 0));
	ASSERT_RET(0, recv1(s, rx, 1000));
	ASSERT_RET(0, ack1(s, rx->m[0].delivery_id));
	close(s);

	ASSERT_RET(0, send_seqs(pfd, 1, 10, 0, 0, NULL));
	qi = info(_metadata, self, name);
	ASSERT_EQ(1U, qi->nsub);
	ASSERT_STREQ("d1", qi->sub[0].name);
	ASSERT_EQ(10U, qi->sub[0].st.v[COHORT_A_QSTATS_DEPTH]);
	ASSERT_EQ(0U, qi->sub[0].st.v[COHORT_A_QSTATS_CONSUMERS]);

	/* Without CREATE: the topic and the subscription exist. */
	qo_init(&o, name, COHORT_TOPIC, 0, COHORT_QR_CONSUME);
	snprintf(o.sub, sizeof(o.sub), "d1");
	o.ack = COHORT_ACK_NONE;
	ASSERT_FD(s, qo_open(self->dev, &o));
	ASSERT_RET(0, recvn(s, rx, 20, 1000, &got));
	ASSERT_EQ(10U, got);
	for (i = 0; i < got; i++)
		ASSERT_EQ(i + 1, seq_of(&rx->m[i]));
	close(s);

	/* A new durable subscription starts empty. */
	ASSERT_FD(s, t_sub(self->dev2, name, "d2", COHORT_ACK_NONE));
	ASSERT_RET(-EAGAIN, recv1(s, rx, 0));
	close(s);

	/* A subscription in use cannot be deleted. */
	ASSERT_FD(s, t_sub(self->dev2, name, "d1", COHORT_ACK_NONE));
	ASSERT_RET(-EBUSY, queue_del(self->nl, self->family, name, "d1"));
	close(s);

	/* Deleting one subscription leaves the topic and the other. */
	ASSERT_RET(0, send1(pfd, 50, 0, 0));
	ASSERT_RET(0, queue_del(self->nl, self->family, name, "d1"));
	ASSERT_RET(-ENOENT, queue_del(self->nl, self->family, name, "d1"));
	/* An empty subscription name is refused: it is not the topic. */
	ASSERT_RET(-EINVAL, queue_del(self->nl, self->family, name, ""));
	qi = info(_metadata, self, name);
	ASSERT_EQ(1U, qi->nsub);
	ASSERT_STREQ("d2", qi->sub[0].name);
	ASSERT_EQ(1U, qi->sub[0].st.v[COHORT_A_QSTATS_DEPTH]);
	ASSERT_FD(s, t_sub(self->dev2, name, "d1", COHORT_ACK_NONE));
	ASSERT_RET(-EAGAIN, recv1(s, rx, 0));
	close(s);
	free(rx);
	close(pfd);
}

/*
 * Subscription filters: each subscription keeps the keys its filter
 * matches and counts the others as filtered; a publish no subscription
 * keeps counts as filtered for the topic, not as dropped. Keys travel
 * with the message, copies included.
 */
TEST_F(q, topic_filter)
{
	const char *name = qname(self, "filt");
	uint32_t keys[32], want[3] = { 0 }, got, i, k;
	struct rx *rx[3], *spare = rx_new();
	struct qinfo *qi;
	int pfd, sub[3];

	ASSERT_NE(NULL, spare);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, NULL));
	/* Low nibble 1; bit 8 set; everything. */
	ASSERT_FD(sub[0], t_sub_filter(self->dev2, name, "", COHORT_ACK_NONE,
				       0xf, 1));
	ASSERT_FD(sub[1], t_sub_filter(self->dev2, name, "nine",
				       COHORT_ACK_EXPLICIT, 0x100, 0x100));
	ASSERT_FD(sub[2], t_sub(self->dev, name, "", COHORT_ACK_NONE));
	for (i = 0; i < 32; i++) {
		keys[i] = i | (i % 2 ? 0 : 0x100);
		want[0] += (keys[i] & 0xf) == 1;
		want[1] += !!(keys[i] & 0x100);
	}
	want[2] = 32;
	ASSERT_EQ(2U, want[0]);
	ASSERT_EQ(16U, want[1]);
	ASSERT_RET(0, send_keys(pfd, 0, keys, 32));
	for (k = 0; k < 3; k++) {
		rx[k] = rx_new();
		ASSERT_NE(NULL, rx[k]);
		ASSERT_RET(0, recvn(sub[k], rx[k], 64, 1000, &got));
		ASSERT_EQ(want[k], got) {
			TH_LOG("subscriber %u", k);
		}
		ASSERT_RET(-EAGAIN, recv1(sub[k], spare, 0));
	}
	/* The catch-all has them in order; the others, the keys they match. */
	for (k = 0; k < 3; k++) {
		for (i = 0; i < want[k]; i++) {
			struct cohort_qmsg_in *m = &rx[k]->m[i];
			uint32_t seq = seq_of(m);

			ASSERT_GT(32U, seq);
			ASSERT_EQ(keys[seq], m->key);
			/* A copy is the message: same id and stamp. */
			ASSERT_EQ(rx[2]->m[seq].msg_id, m->msg_id);
			ASSERT_EQ(rx[2]->m[seq].lamport, m->lamport);
			ASSERT_TRUE(k != 0 || (m->key & 0xf) == 1);
			ASSERT_TRUE(k != 1 || (m->key & 0x100));
			ASSERT_TRUE(k != 2 || i == seq);
		}
	}
	ASSERT_RET(0, ack1(sub[1], rx[1]->m[0].delivery_id));

	qi = info(_metadata, self, name);
	ASSERT_EQ(3U, qi->nsub);
	for (k = 0; k < 3; k++) {
		ASSERT_EQ(32 - want[k],
			  qi->sub[k].st.v[COHORT_A_QSTATS_FILTERED]) {
			TH_LOG("subscriber %u", k);
		}
		ASSERT_EQ(want[k], qi->sub[k].st.v[COHORT_A_QSTATS_ENQUEUED]);
	}
	ASSERT_TRUE(qi->sub[0].filtered);
	ASSERT_EQ(0xfU, qi->sub[0].mask);
	ASSERT_EQ(1U, qi->sub[0].value);
	ASSERT_STREQ("nine", qi->sub[1].name);
	ASSERT_TRUE(qi->sub[1].filtered);
	ASSERT_EQ(0x100U, qi->sub[1].mask);
	ASSERT_EQ(0x100U, qi->sub[1].value);
	ASSERT_FALSE(qi->sub[2].filtered);
	ASSERT_EQ(0U, qi->st.v[COHORT_A_QSTATS_FILTERED]);
	ASSERT_EQ(32U, qi->st.v[COHORT_A_QSTATS_ENQUEUED]);

	/* Without the catch-all: a key nobody keeps is filtered, not lost. */
	close(sub[2]);
	keys[0] = 2;
	keys[1] = 0x101;
	ASSERT_RET(0, send_keys(pfd, 100, keys, 2));
	qi = info(_metadata, self, name);
	ASSERT_EQ(2U, qi->nsub);
	ASSERT_EQ(1U, qi->st.v[COHORT_A_QSTATS_FILTERED]);
	ASSERT_EQ(0U, qi->st.v[COHORT_A_QSTATS_DROPPED]);
	ASSERT_EQ(34U, qi->st.v[COHORT_A_QSTATS_ENQUEUED]);
	for (k = 0; k < 2; k++) {
		ASSERT_RET(0, recv1(sub[k], rx[k], 1000));
		ASSERT_EQ(101U, seq_of(&rx[k]->m[0]));
		ASSERT_EQ(0x101U, rx[k]->m[0].key);
		ASSERT_RET(-EAGAIN, recv1(sub[k], spare, 0));
	}
	/*
	 * The topic is transient: with "nine" away, a key only it matches
	 * is dropped (by "nine", and for the topic), not filtered.
	 */
	close(sub[1]);
	keys[0] = 0x100;
	ASSERT_RET(0, send_keys(pfd, 200, keys, 1));
	qi = info(_metadata, self, name);
	ASSERT_EQ(2U, qi->nsub);
	ASSERT_STREQ("nine", qi->sub[1].name);
	ASSERT_EQ(1U, qi->sub[1].st.v[COHORT_A_QSTATS_DROPPED]);
	ASSERT_EQ(1U, qi->st.v[COHORT_A_QSTATS_FILTERED]);
	ASSERT_EQ(1U, qi->st.v[COHORT_A_QSTATS_DROPPED] -
		      qi->sub[1].st.v[COHORT_A_QSTATS_DROPPED]);
	for (k = 0; k < 3; k++)
		free(rx[k]);
	free(spare);
	close(sub[0]);
	close(pfd);
}

/*
 * With OVERFLOW_REJECT, only a subscription that would keep a publish can
 * refuse it: a full one whose filter does not match lets it through.
 */
TEST_F(q, topic_filter_reject)
{
	const char *name = qname(self, "frej");
	struct cohort_queue_attr a = {
		.overflow = COHORT_OVERFLOW_REJECT,
		.max_msgs = 1,
	};
	uint32_t keys[1];
	struct rx *rx = rx_new();
	int pfd, odd, even;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, &a));
	ASSERT_FD(odd, t_sub_filter(self->dev2, name, "", COHORT_ACK_NONE, 1,
				    1));
	ASSERT_FD(even, t_sub_filter(self->dev2, name, "", COHORT_ACK_NONE, 1,
				     0));
	keys[0] = 1;
	ASSERT_RET(0, send_keys(pfd, 0, keys, 1));
	keys[0] = 2;
	ASSERT_RET(0, send_keys(pfd, 1, keys, 1));	/* odd is full */
	keys[0] = 3;
	ASSERT_RET(-EAGAIN, send_keys(pfd, 2, keys, 1));
	ASSERT_RET(0, recv1(odd, rx, 1000));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_RET(0, recv1(even, rx, 1000));
	ASSERT_EQ(1U, seq_of(&rx->m[0]));
	ASSERT_EQ(2U, rx->m[0].key);
	ASSERT_RET(0, send_keys(pfd, 2, keys, 1));
	ASSERT_RET(0, recv1(odd, rx, 1000));
	ASSERT_EQ(2U, seq_of(&rx->m[0]));
	ASSERT_EQ(1U, QSTAT(name, REJECTED));
	free(rx);
	close(even);
	close(odd);
	close(pfd);
}

/*
 * Who may have a filter, and a durable subscription's filter is for good;
 * a caller that predates filters (the first size of the structure) gets
 * everything.
 */
TEST_F(q, filter_open)
{
	const char *name = qname(self, "fopen");
	const char *qn = qname(self, "fopenq");
	uint32_t keys[2] = { 7, 8 };
	struct cohort_queue_open o;
	struct rx *rx = rx_new();
	uint32_t got;
	int pfd, s;

	ASSERT_NE(NULL, rx);
	/* Only a topic's consumers filter, and only with a matchable one. */
	qo_init(&o, qn, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_CONSUME);
	o.filter_mask = 1;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	qo_init(&o, name, COHORT_TOPIC, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	o.filter_mask = 1;
	o.filter_value = 1;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	ASSERT_RET(-EINVAL, t_sub_filter(self->dev, name, "", COHORT_ACK_NONE,
					 0xf0, 0x01));
	ASSERT_RET(-EINVAL, t_sub_filter(self->dev, name, "", COHORT_ACK_NONE,
					 0, 1));
	/* None of those made anything. */
	qo_init(&o, qn, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));
	qo_init(&o, name, COHORT_TOPIC, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));

	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, &(struct cohort_queue_attr){
				      .flags = COHORT_QA_PERSISTENT }));
	ASSERT_FD(s, t_sub_filter(self->dev2, name, "odd", COHORT_ACK_NONE, 1,
				  1));
	close(s);
	/*
	 * The durable one keeps its filter: another, or none, finds it there
	 * but not as asked for. A filter that could never match is still
	 * just invalid.
	 */
	ASSERT_RET(-EEXIST, t_sub_filter(self->dev2, name, "odd",
					 COHORT_ACK_NONE, 1, 0));
	ASSERT_RET(-EEXIST, t_sub_filter(self->dev2, name, "odd",
					 COHORT_ACK_NONE, 3, 1));
	ASSERT_RET(-EEXIST, t_sub(self->dev2, name, "odd", COHORT_ACK_NONE));
	ASSERT_RET(-EINVAL, t_sub_filter(self->dev2, name, "odd",
					 COHORT_ACK_NONE, 1, 2));
	/* It kept collecting odd keys meanwhile. */
	ASSERT_RET(0, send_keys(pfd, 0, keys, 2));
	ASSERT_FD(s, t_sub_filter(self->dev2, name, "odd", COHORT_ACK_NONE, 1,
				  1));
	ASSERT_RET(0, recvn(s, rx, 4, 1000, &got));
	ASSERT_EQ(1U, got);
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_EQ(7U, rx->m[0].key);
	close(s);

	/* The first layout: no filter fields, every key kept. */
	qo_init(&o, name, COHORT_TOPIC, 0, COHORT_QR_CONSUME);
	o.size = COHORT_QUEUE_OPEN_SIZE_VER0;
	o.filter_mask = 1;	/* beyond the size: not read */
	o.filter_value = 1;
	ASSERT_FD(s, qo_open(self->dev2, &o));
	ASSERT_EQ(1U, o.home);
	ASSERT_EQ(1U, o.filter_value);	/* nor written */
	ASSERT_RET(0, send_keys(pfd, 10, keys, 2));
	ASSERT_RET(0, recvn(s, rx, 4, 1000, &got));
	ASSERT_EQ(2U, got);
	ASSERT_EQ(8U, rx->m[1].key);
	close(s);
	free(rx);
	close(pfd);
}

/*
 * A prefetch is for consumers, up to COHORT_QPREFETCH_MAX; one of this
 * node's queues takes it (nothing is sent ahead here). A caller from
 * before the field (its size) passes none.
 */
TEST_F(q, prefetch_open)
{
	const char *name = qname(self, "pfopen");
	struct cohort_queue_open o;
	int fd;

	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_CONSUME);
	o.prefetch = COHORT_QPREFETCH_MAX + 1;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_PRODUCE);
	o.prefetch = 1;
	ASSERT_RET(-EINVAL, qo_open(self->dev, &o));
	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));	/* none made it */

	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE,
		COHORT_QR_CONSUME | COHORT_QR_PRODUCE);
	o.prefetch = COHORT_QPREFETCH_MAX;
	ASSERT_FD(fd, qo_open(self->dev, &o));
	close(fd);
	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	o.size = COHORT_QUEUE_OPEN_SIZE_VER1;
	o.prefetch = COHORT_QPREFETCH_MAX + 1;	/* beyond the size: not read */
	ASSERT_FD(fd, qo_open(self->dev, &o));
	close(fd);
}

/* Transient: nobody attached means dropped and counted. */
TEST_F(q, transient_drops)
{
	const char *name = qname(self, "trans");
	struct rx *rx = rx_new();
	uint32_t sent = 0;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 5, 0, 0, &sent));
	ASSERT_EQ(5U, sent);
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	ASSERT_EQ(5U, QSTAT(name, DROPPED));

	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));
	ASSERT_RET(0, send1(pfd, 10, 0, 0));
	ASSERT_RET(0, recv1(cfd, rx, 1000));
	ASSERT_EQ(10U, seq_of(&rx->m[0]));
	close(cfd);
	ASSERT_RET(0, send1(pfd, 11, 0, 0));
	ASSERT_EQ(6U, QSTAT(name, DROPPED));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));

	/* A transient topic without subscribers drops as well. */
	ASSERT_FD(cfd, q_open(self->dev, qname(self, "ttrans"), COHORT_TOPIC,
			      COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_RET(0, send1(cfd, 1, 0, 0));
	ASSERT_EQ(1U, QSTAT(qname(self, "ttrans"), DROPPED));
	free(rx);
	close(cfd);
	close(pfd);
}

/* Persistent: kept across the producer's exit for a consumer to come. */
TEST_F(q, persistent_keeps)
{
	const char *name = qname(self, "pers");
	struct rx *rx = rx_new();
	uint32_t got = 0, i;
	int cfd, status;
	pid_t pid;

	ASSERT_NE(NULL, rx);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dev = open(DEV, O_RDWR | O_CLOEXEC), fd;

		fd = q_open(dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			    &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT });
		_exit(fd < 0 ? 1 : send_seqs(fd, 0, 5, 0, 0, NULL) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(5U, QSTAT(name, DEPTH));
	ASSERT_EQ(0U, QSTAT(name, DROPPED));
	ASSERT_EQ(0U, QSTAT(name, PRODUCERS));

	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_EQ(COHORT_QA_PERSISTENT, info(_metadata, self, name)->a[COHORT_A_QUEUE_FLAGS]);
	ASSERT_RET(0, recvn(cfd, rx, 10, 0, &got));
	ASSERT_EQ(5U, got);
	for (i = 0; i < got; i++)
		ASSERT_EQ(i, seq_of(&rx->m[i]));
	free(rx);
	close(cfd);
}

/* ---- at-least-once ---- */

TEST_F(q, ack_nack_stale)
{
	const char *name = qname(self, "ack");
	struct rx *rx = rx_new();
	uint64_t d0, d0b, d1, ids[3];
	uint32_t applied = 99;
	struct qinfo *qi;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 4, 0, 0, NULL));

	/* Take 0: in flight until acked. */
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_EQ(1U, rx->m[0].deliveries);
	ASSERT_EQ(0U, rx->m[0].flags);
	d0 = rx->m[0].delivery_id;
	ASSERT_EQ(1U, QSTAT(name, INFLIGHT));
	ASSERT_EQ(3U, QSTAT(name, DEPTH));

	/* Nack: back first in line, a new attempt with a new id. */
	ASSERT_RET(0, nack1(cfd, d0));
	ASSERT_EQ(0U, QSTAT(name, INFLIGHT));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_EQ(2U, rx->m[0].deliveries);
	ASSERT_EQ(COHORT_QM_REDELIVERED, rx->m[0].flags);
	d0b = rx->m[0].delivery_id;
	ASSERT_NE(d0, d0b);

	/* The old attempt is stale for ack and nack alike. */
	ASSERT_RET(-ESTALE, ack1(cfd, d0));
	ASSERT_RET(-ESTALE, nack1(cfd, d0));
	ASSERT_RET(0, ack1(cfd, d0b));
	ASSERT_RET(-ESTALE, ack1(cfd, d0b));
	ASSERT_RET(-ESTALE, ack1(cfd, 0));
	ASSERT_RET(-ESTALE, ack1(cfd, 0xdeadbeefULL));
	ASSERT_RET(-ESTALE, ack1(cfd, UINT64_MAX));

	/* A batch stops at the first bad id; count says how far it got. */
	ASSERT_RET(0, recv1(cfd, rx, 0));
	d1 = rx->m[0].delivery_id;
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ids[0] = d1;
	ids[1] = 0xdeadbeefULL;
	ids[2] = rx->m[0].delivery_id;
	ASSERT_RET(-ESTALE, q_ack(cfd, COHORT_QACK_ACK, ids, 3, &applied));
	ASSERT_EQ(1U, applied);
	ASSERT_RET(-ESTALE, ack1(cfd, d1));
	ASSERT_EQ(1U, QSTAT(name, INFLIGHT));
	ASSERT_RET(0, ack1(cfd, ids[2]));

	/* The last one is untouched by all that. */
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(3U, seq_of(&rx->m[0]));
	ASSERT_EQ(1U, rx->m[0].deliveries);
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));

	qi = info(_metadata, self, name);
	ASSERT_EQ(4U, qi->st.v[COHORT_A_QSTATS_ACKED]);
	ASSERT_EQ(1U, qi->st.v[COHORT_A_QSTATS_REDELIVERED]);
	ASSERT_EQ(5U, qi->st.v[COHORT_A_QSTATS_DELIVERED]);
	ASSERT_EQ(0U, qi->st.v[COHORT_A_QSTATS_INFLIGHT]);
	ASSERT_EQ(0U, qi->st.v[COHORT_A_QSTATS_DEPTH]);
	free(rx);
	close(pfd);
	close(cfd);
}

/* An attempt in flight on one descriptor is stale for any other. */
TEST_F(q, ack_other_descriptor)
{
	const char *name = qname(self, "ackoth");
	struct rx *rx = rx_new();
	int pfd, c1, c2;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(c1, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(c2, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send1(pfd, 0, 0, 0));
	ASSERT_RET(0, recv1(c1, rx, 0));
	ASSERT_RET(-ESTALE, ack1(c2, rx->m[0].delivery_id));
	ASSERT_RET(-ESTALE, nack1(c2, rx->m[0].delivery_id));
	ASSERT_EQ(1U, QSTAT(name, INFLIGHT));
	ASSERT_RET(0, ack1(c1, rx->m[0].delivery_id));
	free(rx);
	close(pfd);
	close(c1);
	close(c2);
}

struct blocked {
	int fd;
	int send;		/* 1: QSEND one message, 0: QRECV */
	int timeout;
	int ret;
	uint32_t count;
	uint64_t t_end;		/* mono_ms() when the call returned */
	int done;
	struct rx *rx;
};

static void *blocked_call(void *arg)
{
	struct blocked *b = arg;

	if (b->send)
		b->ret = send1(b->fd, 1000, 0, b->timeout);
	else
		b->ret = recvn(b->fd, b->rx, 8, b->timeout, &b->count);
	b->t_end = mono_ms();
	__atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static int blocked_start(pthread_t *t, struct blocked *b, int fd, int send,
			 int timeout)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->send = send;
	b->timeout = timeout;
	b->rx = rx_new();
	if (!b->rx)
		return -ENOMEM;
	return -pthread_create(t, NULL, blocked_call, b);
}

static bool blocked_done(struct blocked *b)
{
	return __atomic_load_n(&b->done, __ATOMIC_SEQ_CST);
}

/* Closing a consumer with messages in flight hands them on at once. */
TEST_F(q, close_redelivers_at_once)
{
	const char *name = qname(self, "close");
	struct rx *rx = rx_new();
	struct blocked b;
	pthread_t t;
	uint64_t t0;
	uint32_t got = 0, i;
	int pfd, c1, c2;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(c1, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(c2, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 3, 0, 0, NULL));
	ASSERT_RET(0, recvn(c1, rx, 3, 0, &got));
	ASSERT_EQ(3U, got);

	/* c2 waits (default ack timeout 30 s: far away); c1 goes. */
	ASSERT_RET(0, blocked_start(&t, &b, c2, 0, 10000));
	sleep_ms(200);
	ASSERT_FALSE(blocked_done(&b));
	t0 = mono_ms();
	close(c1);
	pthread_join(t, NULL);
	ASSERT_RET(0, b.ret);
	ASSERT_GT(AT_ONCE_MS, b.t_end - t0) {
		TH_LOG("redelivered after %llu ms",
		       (unsigned long long)(b.t_end - t0));
	}
	/* The first may come alone; collect the rest. */
	got = b.count;
	if (got < 3) {
		uint32_t more = 0;

		ASSERT_RET(0, recvn(c2, rx, 3 - got, 1000, &more));
		for (i = 0; i < more; i++)
			b.rx->m[got + i] = rx->m[i];
		got += more;
	}
	ASSERT_EQ(3U, got);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(i, seq_of(&b.rx->m[i]));
		ASSERT_EQ(2U, b.rx->m[i].deliveries);
		ASSERT_EQ(COHORT_QM_REDELIVERED, b.rx->m[i].flags);
	}
	ASSERT_EQ(3U, QSTAT(name, REDELIVERED));
	free(b.rx);
	free(rx);
	close(pfd);
	close(c2);
}

/*
 * Were @n messages received in sequence order 0..n-1, the first @back of
 * them a second time and the rest once? -1 if so, else the first that was
 * not.
 */
static int out_of_line(const struct rx *rx, uint32_t n, uint32_t back)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		if (seq_of(&rx->m[i]) != i ||
		    rx->m[i].deliveries != (i < back ? 2U : 1U))
			return i;
	}
	return -1;
}

/* Messages put back by a close go before those never delivered. */
TEST_F(q, redelivered_first_in_line)
{
	const char *name = qname(self, "line");
	struct rx *rx = rx_new();
	uint32_t got = 0;
	int pfd, c1, c2;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(c1, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(c2, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 5, 0, 0, NULL));
	ASSERT_RET(0, recvn(c1, rx, 3, 0, &got));
	ASSERT_EQ(3U, got);
	close(c1);
	ASSERT_RET(0, recvn(c2, rx, 10, 1000, &got));
	ASSERT_EQ(5U, got);
	ASSERT_EQ(-1, out_of_line(rx, 5, 3));
	free(rx);
	close(pfd);
	close(c2);
}

/* A consumer process killed with messages in flight: the same, at once. */
TEST_F(q, killed_consumer_redelivers)
{
	const char *name = qname(self, "kill");
	struct rx *rx = rx_new();
	int pfd, cfd, status, pipefd[2];
	uint32_t got = 0;
	uint64_t t0;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 2, 0, 0, NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dev = open(DEV, O_RDWR | O_CLOEXEC), fd;

		fd = q_open(dev, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			    COHORT_ACK_EXPLICIT, NULL);
		if (fd < 0 || recvn(fd, rx, 2, 1000, &got) || got != 2)
			_exit(1);
		if (write(pipefd[1], "h", 1) != 1)
			_exit(2);
		pause();
		_exit(3);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) {
		waitpid(pid, &status, 0);
		TH_LOG("child exit %d", WEXITSTATUS(status));
	}
	ASSERT_EQ(2U, QSTAT(name, INFLIGHT));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));
	t0 = mono_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_RET(0, recvn(cfd, rx, 2, 5000, &got));
	if (got == 1) {
		ASSERT_RET(0, recvn(cfd, rx, 1, 1000, &got));
		ASSERT_EQ(1U, seq_of(&rx->m[0]));
	} else {
		ASSERT_EQ(2U, got);
		ASSERT_EQ(1U, seq_of(&rx->m[1]));
	}
	ASSERT_GT(AT_ONCE_MS, mono_ms() - t0);
	ASSERT_EQ(2U, rx->m[0].deliveries);
	ASSERT_EQ(COHORT_QM_REDELIVERED, rx->m[0].flags);
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * A consumer of @name on dev2 with acks and a 200 ms ack timeout, and a
 * producer on dev: 0, or why the first of them did not open.
 */
static int acktmo_pair(FIXTURE_DATA(q) *self, const char *name, int *cfd,
		       int *pfd)
{
	*pfd = -1;
	*cfd = q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
		      COHORT_ACK_EXPLICIT,
		      &(struct cohort_queue_attr){ .ack_timeout_ms = 200 });
	if (*cfd < 0)
		return *cfd;
	*pfd = q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
		      NULL);
	return *pfd < 0 ? *pfd : 0;
}

/* The per-queue ack timeout puts an unacked message back. */
TEST_F(q, ack_timeout)
{
	const char *name = qname(self, "acktmo");
	struct rx *rx = rx_new();
	uint64_t t0, d1, el;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_RET(0, acktmo_pair(self, name, &cfd, &pfd));
	ASSERT_RET(0, send1(pfd, 5, 0, 0));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	t0 = mono_ms();
	d1 = rx->m[0].delivery_id;
	ASSERT_RET(0, recv1(cfd, rx, 3000));
	el = mono_ms() - t0;
	ASSERT_LE(150U, el);
	ASSERT_GT(2000U, el);
	ASSERT_EQ(5U, seq_of(&rx->m[0]));
	ASSERT_EQ(2U, rx->m[0].deliveries);
	ASSERT_EQ(COHORT_QM_REDELIVERED, rx->m[0].flags);
	ASSERT_RET(-ESTALE, ack1(cfd, d1));
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	/* Acked in time: it does not come back. */
	ASSERT_RET(-ETIMEDOUT, recv1(cfd, rx, 500));
	ASSERT_EQ(1U, QSTAT(name, REDELIVERED));
	ASSERT_EQ(1U, QSTAT(name, ACKED));
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * Attempts that time out together go back first in line in the order they
 * were delivered, as a closed consumer's do: FIFO holds across the retry.
 */
TEST_F(q, ack_timeout_order)
{
	const char *name = qname(self, "acktmo_order");
	struct rx *rx = rx_new();
	uint32_t got = 0, i;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_RET(0, acktmo_pair(self, name, &cfd, &pfd));
	ASSERT_RET(0, send_seqs(pfd, 0, 4, 0, 0, NULL));
	ASSERT_RET(0, recvn(cfd, rx, 4, 0, &got));
	ASSERT_EQ(4U, got);
	/* The fifth, sent meanwhile, stays behind the four that come back. */
	ASSERT_RET(0, send1(pfd, 4, 0, 0));
	for (i = 0; i < 100 && QSTAT(name, REDELIVERED) < 4; i++)
		sleep_ms(50);
	ASSERT_RET(0, recvn(cfd, rx, 5, 0, &got));
	ASSERT_EQ(5U, got);
	ASSERT_EQ(-1, out_of_line(rx, 5, 4));
	free(rx);
	close(pfd);
	close(cfd);
}

/* A message delivered max_deliveries times that comes back: to the DLQ. */
TEST_F(q, dead_letter)
{
	const char *dlq = qname(self, "dlq");
	const char *name = qname(self, "poison");
	struct cohort_queue_attr attr = { .max_deliveries = 2 };
	struct rx *rx = rx_new();
	int pfd, cfd, dfd, i;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(dfd, q_open(self->dev2, dlq, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	snprintf(attr.dlq, sizeof(attr.dlq), "%s", dlq);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, &attr));
	ASSERT_STREQ(dlq, info(_metadata, self, name)->dlq);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 2, 0, 0, NULL));

	for (i = 1; i <= 2; i++) {
		ASSERT_RET(0, recv1(cfd, rx, 0));
		ASSERT_EQ(0U, seq_of(&rx->m[0]));
		ASSERT_EQ((uint32_t)i, rx->m[0].deliveries);
		ASSERT_RET(0, nack1(cfd, rx->m[0].delivery_id));
	}
	/* Message 0 is gone from here; 1 is next. */
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(1U, seq_of(&rx->m[0]));
	ASSERT_EQ(1U, rx->m[0].deliveries);
	ASSERT_RET(0, ack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));

	/* It arrives there soon after (it may be moved in the background). */
	ASSERT_RET(0, recv1(dfd, rx, 2000));
	ASSERT_EQ(0U, seq_of(&rx->m[0]));
	ASSERT_EQ(sizeof(struct pl), rx->m[0].len);
	ASSERT_EQ(self->actor, rx->m[0].sender);
	ASSERT_RET(-EAGAIN, recv1(dfd, rx, 0));
	ASSERT_EQ(1U, QSTAT(name, DEAD_LETTERED));

	/* Without a dead-letter queue such a message is just gone. */
	close(cfd);
	attr.dlq[0] = 0;
	attr.max_deliveries = 1;
	ASSERT_FD(cfd, q_open(self->dev2, qname(self, "poison2"), COHORT_QUEUE,
			      COHORT_QR_CONSUME | COHORT_QR_PRODUCE,
			      COHORT_ACK_EXPLICIT, &attr));
	ASSERT_RET(0, send1(cfd, 9, 0, 0));
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_RET(0, nack1(cfd, rx->m[0].delivery_id));
	ASSERT_RET(-EAGAIN, recv1(cfd, rx, 0));
	ASSERT_EQ(0U, QSTAT(qname(self, "poison2"), DEPTH));
	free(rx);
	close(pfd);
	close(cfd);
	close(dfd);
}

/* A message past its TTL is dropped instead of delivered. */
TEST_F(q, ttl_expiry)
{
	const char *name = qname(self, "ttl");
	struct cohort_qmsg_out m[3];
	struct pl p[3] = { { 0, 0 }, { 1, 0 }, { 2, 0 } };
	uint32_t ttl[3] = { 100, 0, 60000 }, got = 0, i, sent = 0;
	struct rx *rx = rx_new();
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT }));
	for (i = 0; i < 3; i++)
		m[i] = (struct cohort_qmsg_out){ .data = (uintptr_t)&p[i],
						 .len = sizeof(p[i]),
						 .ttl_ms = ttl[i] };
	ASSERT_RET(0, q_send(pfd, m, 3, 0, &sent));
	ASSERT_EQ(3U, sent);
	sleep_ms(300);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_RET(0, recvn(cfd, rx, 3, 0, &got));
	ASSERT_EQ(2U, got);
	ASSERT_EQ(1U, seq_of(&rx->m[0]));
	ASSERT_EQ(2U, seq_of(&rx->m[1]));
	ASSERT_EQ(1U, QSTAT(name, EXPIRED));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * A persistent queue @name of two messages, both sent with a 400 ms TTL,
 * and its producer *@pfd: 0, or why not.
 */
static int ttl_full(FIXTURE_DATA(q) *self, const char *name, int *pfd)
{
	uint32_t sent = 0;
	int err;

	*pfd = q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
		      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT,
						   .max_msgs = 2 });
	if (*pfd < 0)
		return *pfd;
	err = send_seqs_ttl(*pfd, 0, 2, 0, 400, 0, &sent);
	return err ?: sent == 2 ? 0 : -EAGAIN;
}

/*
 * A store full of messages with a TTL has room when they expire, with
 * nobody reading: a blocked sender goes on and poll says EPOLLOUT then,
 * not at the next unrelated event.
 */
TEST_F(q, ttl_makes_room)
{
	const char *name = qname(self, "ttlroom"), *tn = qname(self, "tttlroom");
	struct pollfd pf = { .events = POLLOUT };
	struct blocked b;
	pthread_t t;
	uint64_t t0;
	int pfd, tfd, s;

	ASSERT_RET(0, ttl_full(self, name, &pfd));
	t0 = mono_ms();
	ASSERT_RET(0, blocked_start(&t, &b, pfd, 1, 10000));
	pthread_join(t, NULL);
	ASSERT_RET(0, b.ret);
	ASSERT_LE(390U, b.t_end - t0);
	ASSERT_GT(400U + AT_ONCE_MS, b.t_end - t0) {
		TH_LOG("sender went on after %llu ms",
		       (unsigned long long)(b.t_end - t0));
	}
	ASSERT_EQ(2U, QSTAT(name, EXPIRED));
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	free(b.rx);

	/* Full again, and a poller waits for the one with a TTL to go. */
	ASSERT_RET(0, send_seqs_ttl(pfd, 2, 1, 0, 400, 0, NULL));
	pf.fd = pfd;
	t0 = mono_ms();
	ASSERT_EQ(1, poll(&pf, 1, 10000));
	ASSERT_EQ(POLLOUT, pf.revents);
	ASSERT_GT(400U + AT_ONCE_MS, mono_ms() - t0);
	ASSERT_EQ(3U, QSTAT(name, EXPIRED));

	/* A topic that rejects: its subscriber's store, the same way. */
	ASSERT_FD(tfd, q_open(self->dev, tn, COHORT_TOPIC, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
					.max_msgs = 1,
					.overflow = COHORT_OVERFLOW_REJECT }));
	ASSERT_FD(s, t_sub(self->dev2, tn, "", COHORT_ACK_NONE));
	ASSERT_RET(0, send_seqs_ttl(tfd, 0, 1, 0, 400, 0, NULL));
	ASSERT_RET(-EAGAIN, send1(tfd, 1, 0, 0));
	pf.fd = tfd;
	t0 = mono_ms();
	ASSERT_EQ(1, poll(&pf, 1, 10000));
	ASSERT_EQ(POLLOUT, pf.revents);
	ASSERT_GT(400U + AT_ONCE_MS, mono_ms() - t0);
	ASSERT_RET(0, send1(tfd, 1, 0, 0));
	close(s);
	close(tfd);
	close(pfd);
}

/*
 * Room that another sender's expiry makes is a waiting sender's too: a
 * non-blocking sender that finds the TTLs over takes one slot, and the
 * blocked one goes on at once with the other (the alarm it armed finds
 * nothing left to expire).
 */
TEST_F(q, ttl_room_shared)
{
	const char *name = qname(self, "ttlshare");
	struct blocked b;
	pthread_t t;
	uint64_t t0;
	int pfd, ret;

	ASSERT_RET(0, ttl_full(self, name, &pfd));
	t0 = mono_ms();
	ASSERT_RET(0, blocked_start(&t, &b, pfd, 1, 10000));
	/*
	 * Tries far more often than the alarm's jiffy, so it sees them go
	 * first; not so often that it sees one of the two go alone.
	 */
	do {
		usleep(200);
		ret = send1(pfd, 10, 0, 0);
	} while (ret == -EAGAIN && mono_ms() - t0 < 5000);
	ASSERT_RET(0, ret);
	pthread_join(t, NULL);
	ASSERT_RET(0, b.ret);
	ASSERT_GT(400U + AT_ONCE_MS, b.t_end - t0) {
		TH_LOG("the blocked sender went on after %llu ms",
		       (unsigned long long)(b.t_end - t0));
	}
	ASSERT_EQ(2U, QSTAT(name, EXPIRED));
	ASSERT_EQ(2U, QSTAT(name, DEPTH));
	free(b.rx);
	close(pfd);
}

/* ---- limits and backpressure ---- */

TEST_F(q, queue_full)
{
	const char *name = qname(self, "full");
	struct rx *rx = rx_new();
	struct blocked b;
	pthread_t t;
	uint32_t sent = 0;
	uint64_t t0, el;
	int pfd, cfd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT,
							   .max_msgs = 4 }));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	/* Room for 3 of 6: the call succeeds with the count. */
	ASSERT_RET(0, send_seqs(pfd, 0, 1, 0, 0, &sent));
	ASSERT_RET(0, send_seqs(pfd, 1, 6, 0, 0, &sent));
	ASSERT_EQ(3U, sent);
	ASSERT_EQ(4U, QSTAT(name, DEPTH));

	ASSERT_RET(-EAGAIN, send1(pfd, 9, 0, 0));
	t0 = mono_ms();
	ASSERT_RET(-ETIMEDOUT, send1(pfd, 9, 0, 200));
	el = mono_ms() - t0;
	ASSERT_LE(180U, el);
	ASSERT_GT(3000U, el);
	ASSERT_LE(2U, QSTAT(name, REJECTED));

	/* A blocked sender goes on once a consumer makes room. */
	ASSERT_RET(0, blocked_start(&t, &b, pfd, 1, 10000));
	sleep_ms(300);
	ASSERT_FALSE(blocked_done(&b));
	t0 = mono_ms();
	ASSERT_RET(0, recv1(cfd, rx, 0));
	pthread_join(t, NULL);
	ASSERT_RET(0, b.ret);
	ASSERT_GT(AT_ONCE_MS, b.t_end - t0);
	ASSERT_EQ(4U, QSTAT(name, DEPTH));
	free(b.rx);
	free(rx);
	close(pfd);
	close(cfd);
}

/*
 * max_bytes counts what a message holds: its payload and its vector stamp
 * (16 bytes an entry; a producer that only ever sent has one entry).
 */
#define STAMP1	((uint32_t)sizeof(struct cohort_vc_entry))

TEST_F(q, queue_full_bytes)
{
	const char *name = qname(self, "fullb");
	struct cohort_qmsg_out m = { 0 };
	char buf[100] = { 0 };
	int pfd;

	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
					.flags = COHORT_QA_PERSISTENT,
					.max_msg_size = 100,
					.max_bytes = 300 }));
	m.data = (uintptr_t)buf;
	m.len = 100;
	ASSERT_RET(0, q_send(pfd, &m, 1, 0, NULL));
	ASSERT_EQ(1, vclock_read(self->dev, NULL, 0));
	ASSERT_RET(0, q_send(pfd, &m, 1, 0, NULL));
	ASSERT_EQ(2 * (100 + STAMP1), QSTAT(name, BYTES));
	ASSERT_RET(-EAGAIN, q_send(pfd, &m, 1, 0, NULL));
	/* Exactly to the limit. */
	m.len = 300 - 3 * STAMP1 - 200;
	ASSERT_RET(0, q_send(pfd, &m, 1, 0, NULL));
	m.len = 0;
	ASSERT_RET(-EAGAIN, q_send(pfd, &m, 1, 0, NULL));
	ASSERT_EQ(300U, QSTAT(name, BYTES));
	ASSERT_EQ(3U, QSTAT(name, DEPTH));
	close(pfd);
}

/* A message larger than max_bytes could never fit: EMSGSIZE, no wait. */
TEST_F(q, larger_than_max_bytes)
{
	const char *qn = qname(self, "toobig"), *tn = qname(self, "ttoobig");
	struct cohort_qmsg_out m = { 0 };
	static char buf[2000];
	struct rx *rx = rx_new();
	int pfd, tfd, s;
	uint64_t t0;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, qn, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
					.flags = COHORT_QA_PERSISTENT,
					.max_bytes = 1000 }));
	m.data = (uintptr_t)buf;
	m.len = sizeof(buf);
	t0 = mono_ms();
	ASSERT_RET(-EMSGSIZE, q_send(pfd, &m, 1, 5000, NULL));
	ASSERT_GT(AT_ONCE_MS, mono_ms() - t0);
	ASSERT_EQ(-1, write(pfd, buf, sizeof(buf)));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(2U, QSTAT(qn, REJECTED));
	m.len = 1000 - STAMP1;
	ASSERT_RET(0, q_send(pfd, &m, 1, 0, NULL));
	ASSERT_EQ(1U, QSTAT(qn, DEPTH));
	/* Too large with its stamp: no wait for room in the full store. */
	m.len = 1000;
	t0 = mono_ms();
	ASSERT_RET(-EMSGSIZE, q_send(pfd, &m, 1, 5000, NULL));
	ASSERT_GT(AT_ONCE_MS, mono_ms() - t0);
	ASSERT_EQ(3U, QSTAT(qn, REJECTED));
	ASSERT_EQ(1U, QSTAT(qn, DEPTH));

	/* A topic refuses it too, and drops nothing to make room. */
	ASSERT_FD(tfd, q_open(self->dev, tn, COHORT_TOPIC, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .max_bytes = 1000 }));
	ASSERT_FD(s, t_sub(self->dev2, tn, "", COHORT_ACK_NONE));
	ASSERT_RET(0, send1(tfd, 7, 0, 0));
	m.len = sizeof(buf);
	ASSERT_RET(-EMSGSIZE, q_send(tfd, &m, 1, 0, NULL));
	ASSERT_EQ(1U, QSTAT(tn, REJECTED));
	ASSERT_RET(0, recv1(s, rx, 0));
	ASSERT_EQ(7U, seq_of(&rx->m[0]));
	free(rx);
	close(s);
	close(tfd);
	close(pfd);
}

/* The last consumer of a transient queue leaves: a blocked sender drops. */
TEST_F(q, transient_sender_woken)
{
	const char *name = qname(self, "twake");
	struct blocked b;
	pthread_t t;
	uint64_t t0;
	int pfd, cfd;

	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .max_msgs = 2 }));
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_RET(0, send_seqs(pfd, 0, 2, 0, 0, NULL));
	ASSERT_RET(0, blocked_start(&t, &b, pfd, 1, 10000));
	sleep_ms(300);
	ASSERT_FALSE(blocked_done(&b));
	t0 = mono_ms();
	close(cfd);
	pthread_join(t, NULL);
	ASSERT_RET(0, b.ret);
	ASSERT_GT(AT_ONCE_MS, b.t_end - t0) {
		TH_LOG("sender woken after %llu ms",
		       (unsigned long long)(b.t_end - t0));
	}
	ASSERT_EQ(1U, QSTAT(name, DROPPED));
	ASSERT_EQ(2U, QSTAT(name, DEPTH));
	free(b.rx);
	close(pfd);
}

/* Unreclaimable slab memory in KiB (/proc/meminfo), or -1. */
static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SUnreclaim: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

#define BIG_BATCH	64
#define BIG_ROUNDS	200		/* 50 MiB of 4 KiB payloads */

/* Send, receive and ack one batch of 4 KiB messages; 0 or an error. */
static int big_round(int pfd, int cfd, char (*buf)[4096])
{
	struct cohort_qmsg_out out[BIG_BATCH];
	struct cohort_qmsg_in in[BIG_BATCH];
	uint64_t ids[BIG_BATCH];
	uint32_t i, n = 0, got = 0;
	int ret;

	for (i = 0; i < BIG_BATCH; i++)
		out[i] = (struct cohort_qmsg_out){ .data = (uintptr_t)buf[i],
						   .len = 4096 };
	ret = q_send(pfd, out, BIG_BATCH, 0, &n);
	if (ret || n != BIG_BATCH)
		return ret ?: -EAGAIN;
	memset(in, 0, sizeof(in));
	for (i = 0; i < BIG_BATCH; i++) {
		in[i].data = (uintptr_t)buf[i];
		in[i].cap = 4096;
	}
	while (n) {
		ret = q_recv(cfd, in, n, 1000, &got);
		if (ret)
			return ret;
		for (i = 0; i < got; i++)
			ids[i] = in[i].delivery_id;
		ret = q_ack(cfd, COHORT_QACK_ACK, ids, got, NULL);
		if (ret)
			return ret;
		n -= got;
	}
	return 0;
}

/* Acked messages are freed whole, payloads of their own included. */
TEST_F_TIMEOUT(q, ack_frees_payloads, 120)
{
	const char *name = qname(self, "ackfree");
	static char buf[BIG_BATCH][4096];
	long before, after;
	int pfd, cfd, i;

	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, big_round(pfd, cfd, buf));
	before = slab_kb();
	ASSERT_LT(0, before);
	for (i = 0; i < BIG_ROUNDS; i++)
		ASSERT_RET(0, big_round(pfd, cfd, buf));
	after = slab_kb();
	TH_LOG("unreclaimable slab %ld -> %ld KiB after %d acked 4 KiB messages",
	       before, after, BIG_ROUNDS * BIG_BATCH);
	ASSERT_GT(16384, after - before);
	ASSERT_EQ(0U, QSTAT(name, DEPTH));
	ASSERT_EQ(0U, QSTAT(name, INFLIGHT));
	close(pfd);
	close(cfd);
}

/* A full topic subscription: the oldest gives way (the default). */
TEST_F(q, topic_drop_old)
{
	const char *name = qname(self, "dropold");
	struct rx *rx = rx_new();
	struct qinfo *qi;
	uint32_t got = 0, i;
	int pfd, s;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .max_msgs = 3 }));
	ASSERT_FD(s, t_sub(self->dev2, name, "", COHORT_ACK_NONE));
	for (i = 0; i < 5; i++)
		ASSERT_RET(0, send1(pfd, i, 0, 0));
	qi = info(_metadata, self, name);
	ASSERT_EQ(1U, qi->nsub);
	ASSERT_EQ(3U, qi->sub[0].st.v[COHORT_A_QSTATS_DEPTH]);
	ASSERT_EQ(2U, qi->sub[0].st.v[COHORT_A_QSTATS_DROPPED]);
	ASSERT_RET(0, recvn(s, rx, 10, 0, &got));
	ASSERT_EQ(3U, got);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(i + 2, seq_of(&rx->m[i]));
	free(rx);
	close(pfd);
	close(s);
}

/* REJECT: one full subscription refuses the publish for all of them. */
TEST_F(q, topic_reject)
{
	const char *name = qname(self, "reject");
	struct rx *rx = rx_new();
	uint32_t got = 0, i;
	int pfd, s1, s2;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){
					.max_msgs = 3,
					.overflow = COHORT_OVERFLOW_REJECT }));
	ASSERT_FD(s1, t_sub(self->dev2, name, "", COHORT_ACK_NONE));
	ASSERT_FD(s2, t_sub(self->dev2, name, "", COHORT_ACK_NONE));
	for (i = 0; i < 3; i++)
		ASSERT_RET(0, send1(pfd, i, 0, 0));
	ASSERT_RET(0, recvn(s1, rx, 10, 0, &got));
	ASSERT_EQ(3U, got);

	ASSERT_RET(-EAGAIN, send1(pfd, 3, 0, 0));
	/* Not even a timeout makes a topic wait. */
	ASSERT_RET(-EAGAIN, send1(pfd, 3, 0, 1000));
	ASSERT_RET(-EAGAIN, recv1(s1, rx, 0));
	ASSERT_RET(0, recvn(s2, rx, 10, 0, &got));
	ASSERT_EQ(3U, got);
	ASSERT_EQ(2U, seq_of(&rx->m[2]));
	ASSERT_LE(2U, QSTAT(name, REJECTED));

	ASSERT_RET(0, send1(pfd, 4, 0, 0));
	ASSERT_RET(0, recv1(s1, rx, 0));
	ASSERT_EQ(4U, seq_of(&rx->m[0]));
	ASSERT_RET(0, recv1(s2, rx, 0));
	ASSERT_EQ(4U, seq_of(&rx->m[0]));
	free(rx);
	close(pfd);
	close(s1);
	close(s2);
}

/* Readiness: EPOLLIN only with a message, EPOLLOUT only with room. */
static short poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

struct delayed_send {
	int fd;
	int ret;
};

static void *send_later(void *arg)
{
	struct delayed_send *d = arg;

	sleep_ms(200);
	d->ret = send1(d->fd, 77, 0, 0);
	return NULL;
}

TEST_F(q, poll_epoll)
{
	const char *name = qname(self, "poll");
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	struct delayed_send d;
	struct rx *rx = rx_new();
	pthread_t t;
	uint64_t t0;
	int pfd, cfd, ep, tp, ts;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE,
			      &(struct cohort_queue_attr){ .max_msgs = 2 }));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_EQ(0, poll_now(cfd) & POLLIN);
	ASSERT_EQ(POLLOUT, poll_now(pfd) & (POLLIN | POLLOUT));

	ASSERT_RET(0, send1(pfd, 0, 0, 0));
	ASSERT_EQ(POLLIN, poll_now(cfd) & (POLLIN | POLLHUP | POLLERR));
	ASSERT_EQ(POLLOUT, poll_now(pfd) & POLLOUT);
	ASSERT_RET(0, send1(pfd, 1, 0, 0));
	ASSERT_EQ(0, poll_now(pfd) & POLLOUT);
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(POLLOUT, poll_now(pfd) & POLLOUT);
	ASSERT_EQ(POLLIN, poll_now(cfd) & POLLIN);
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0, poll_now(cfd) & POLLIN);

	/* epoll: nothing now; woken by a send from another thread. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, out, 2, 0));
	d.fd = pfd;
	d.ret = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, send_later, &d));
	t0 = mono_ms();
	ASSERT_EQ(1, epoll_wait(ep, out, 2, 5000));
	ASSERT_GT(3000U, mono_ms() - t0);
	ASSERT_NE(0, out[0].events & EPOLLIN);
	pthread_join(t, NULL);
	ASSERT_RET(0, d.ret);
	ASSERT_RET(0, recv1(cfd, rx, 0));
	ASSERT_EQ(0, epoll_wait(ep, out, 2, 0));

	/* A topic subscription polls the same way. */
	ASSERT_FD(tp, q_open(self->dev, qname(self, "tpoll"), COHORT_TOPIC,
			     COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_FD(ts, t_sub(self->dev2, qname(self, "tpoll"), "", COHORT_ACK_NONE));
	ASSERT_EQ(0, poll_now(ts) & POLLIN);
	ASSERT_RET(0, send1(tp, 0, 0, 0));
	ASSERT_EQ(POLLIN, poll_now(ts) & POLLIN);
	close(ts);
	close(tp);
	close(ep);
	free(rx);
	close(pfd);
	close(cfd);
}

TEST_F(q, nonblocking)
{
	const char *name = qname(self, "nb");
	struct cohort_queue_open o;
	struct rx *rx = rx_new();
	char buf[RXSZ];
	uint64_t t0;
	int pfd, c1, c2;

	ASSERT_NE(NULL, rx);
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE | COHORT_QO_NONBLOCK,
		COHORT_QR_CONSUME);
	o.attr.max_msgs = 1;
	ASSERT_FD(c1, qo_open(self->dev2, &o));
	ASSERT_FD(c2, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			     COHORT_ACK_NONE, NULL));
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_NONBLOCK, COHORT_QR_PRODUCE);
	ASSERT_FD(pfd, qo_open(self->dev, &o));

	/* O_NONBLOCK wins over any timeout. */
	t0 = mono_ms();
	ASSERT_RET(-EAGAIN, recv1(c1, rx, COHORT_WAIT_FOREVER));
	ASSERT_RET(-EAGAIN, recv1(c1, rx, 5000));
	ASSERT_RET(-EAGAIN, read(c1, buf, sizeof(buf)) < 0 ? -errno : 0);
	ASSERT_RET(0, send1(pfd, 0, 0, 0));
	ASSERT_RET(-EAGAIN, send1(pfd, 1, 0, COHORT_WAIT_FOREVER));
	ASSERT_RET(-EAGAIN, write(pfd, buf, 8) < 0 ? -errno : 0);
	ASSERT_GT(2000U, mono_ms() - t0);

	/* Switched with fcntl, both ways. */
	ASSERT_RET(0, recv1(c2, rx, 0));
	ASSERT_EQ(0, fcntl(c2, F_SETFL, fcntl(c2, F_GETFL) | O_NONBLOCK));
	t0 = mono_ms();
	ASSERT_RET(-EAGAIN, recv1(c2, rx, 5000));
	ASSERT_GT(2000U, mono_ms() - t0);
	ASSERT_EQ(0, fcntl(c2, F_SETFL, fcntl(c2, F_GETFL) & ~O_NONBLOCK));
	t0 = mono_ms();
	ASSERT_RET(-ETIMEDOUT, recv1(c2, rx, 200));
	ASSERT_LE(180U, mono_ms() - t0);
	ASSERT_RET(-EAGAIN, recv1(c2, rx, 0));
	free(rx);
	close(pfd);
	close(c1);
	close(c2);
}

TEST_F(q, read_write)
{
	const char *name = qname(self, "rw");
	char msg[] = "payload of 23 bytes ok", buf[64] = { 0 };
	struct rx *rx = rx_new();
	int pfd, cfd, efd;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE,
			      &(struct cohort_queue_attr){ .max_msg_size = 32 }));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_EQ((ssize_t)sizeof(msg), write(pfd, msg, sizeof(msg)));
	ASSERT_EQ(-1, write(pfd, buf, 33));
	ASSERT_EQ(EMSGSIZE, errno);

	/* Too short a buffer: EMSGSIZE, and the message stays. */
	ASSERT_EQ(-1, read(cfd, buf, sizeof(msg) - 1));
	ASSERT_EQ(EMSGSIZE, errno);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(msg), read(cfd, buf, sizeof(buf)));
	ASSERT_STREQ(msg, buf);

	/* Roles: no reading from a producer, no writing to a consumer. */
	ASSERT_EQ(-1, read(pfd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(-1, write(cfd, msg, sizeof(msg)));
	ASSERT_EQ(EBADF, errno);

	/* Empty messages are messages. */
	ASSERT_EQ(0, write(pfd, msg, 0));
	ASSERT_RET(0, recv1(cfd, rx, 1000));
	ASSERT_EQ(0U, rx->m[0].len);

	/* An explicit-ack consumer reads with QRECV, to get delivery ids. */
	ASSERT_FD(efd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_EQ((ssize_t)sizeof(msg), write(pfd, msg, sizeof(msg)));
	ASSERT_EQ(-1, read(efd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	close(efd);
	free(rx);
	close(pfd);
	close(cfd);
}

TEST_F(q, wrong_role_ebadf)
{
	const char *name = qname(self, "role");
	struct rx *rx = rx_new();
	uint64_t id = 1;
	int pfd, cfd, both;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(-EBADF, send1(cfd, 0, 0, 0));
	ASSERT_RET(-EBADF, recv1(pfd, rx, 0));
	ASSERT_RET(-EBADF, ack1(pfd, id));
	ASSERT_EQ(0U, QSTAT(name, DEPTH));

	/* Both roles on one descriptor. */
	ASSERT_FD(both, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE | COHORT_QR_CONSUME,
			       COHORT_ACK_EXPLICIT, NULL));
	ASSERT_RET(0, send1(both, 3, 0, 0));
	ASSERT_RET(0, recv1(both, rx, 0));
	ASSERT_RET(0, ack1(both, rx->m[0].delivery_id));
	free(rx);
	close(both);
	close(pfd);
	close(cfd);
}

/* ---- permissions ---- */

static int drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return geteuid() == NOBODY ? 0 : -1;
}

/* Mode bits against "other": 1 open allowed, 0 EACCES; else a code. */
static int perm_check(int dev, const char *name, uint32_t role)
{
	struct cohort_queue_open o;
	int fd;

	qo_init(&o, name, COHORT_QUEUE, 0, role);
	fd = qo_open(dev, &o);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -EACCES ? 0 : 100 - fd;
}

struct perm_case {
	const char *tag;
	uint32_t mode;
	int produce, consume;	/* allowed for "other"? */
};

static const struct perm_case perm_cases[] = {
	{ "p600", 0600, 0, 0 },
	{ "p666", 0666, 1, 1 },
	{ "p644", 0644, 0, 1 },
	{ "p622", 0622, 1, 0 },
	{ "p660", 0660, 0, 0 },
};

/* Child side, as nobody; exit status says which step failed. */
static int perm_child(FIXTURE_DATA(q) *self, const char *admin_q)
{
	const uint32_t kv[][2] = { { COHORT_A_QUEUE_KIND, COHORT_QUEUE } };
	struct nl_sock *sk;
	unsigned int i;
	int dev, family, r, fd;

	if (drop_to_nobody())
		return 2;
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 3;
	for (i = 0; i < ARRAY_SIZE(perm_cases); i++) {
		const struct perm_case *c = &perm_cases[i];
		const char *n = qname(self, c->tag);

		r = perm_check(dev, n, COHORT_QR_PRODUCE);
		if (r != c->produce)
			return r > 1 ? r : 10 + i;
		r = perm_check(dev, n, COHORT_QR_CONSUME);
		if (r != c->consume)
			return r > 1 ? r : 20 + i;
		r = perm_check(dev, n, COHORT_QR_PRODUCE | COHORT_QR_CONSUME);
		if (r != (c->produce && c->consume))
			return r > 1 ? r : 30 + i;
	}
	/* Its own queue: owned by nobody, and it may delete that one only. */
	fd = q_open(dev, qname(self, "own"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
		    NULL);
	if (fd < 0)
		return 40;
	close(fd);
	sk = nlq_connect(&family);
	if (!sk)
		return 41;
	if (queue_del(sk, family, qname(self, "p666"), NULL) != -EPERM)
		return 42;
	if (queue_add(sk, family, admin_q, kv, 1) != -EPERM)
		return 43;
	if (queue_del(sk, family, qname(self, "own"), NULL))
		return 44;
	nl_socket_free(sk);
	return 0;
}

TEST_F(q, permissions)
{
	struct cohort_queue_open o;
	struct qinfo *qi;
	unsigned int i;
	int fd, status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to switch to uid %d", NOBODY);
	for (i = 0; i < ARRAY_SIZE(perm_cases); i++) {
		qo_init(&o, qname(self, perm_cases[i].tag), COHORT_QUEUE,
			COHORT_QO_CREATE | COHORT_QO_EXCL, COHORT_QR_PRODUCE);
		o.mode = perm_cases[i].mode;
		ASSERT_FD(fd, qo_open(self->dev, &o));
		close(fd);
	}
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(perm_child(self, qname(self, "admin")));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/*
	 * 2 drop, 3 open, 1x/2x/3x produce/consume/both of case x wrongly
	 * allowed or refused, 100+ an errno other than EACCES, 40 create,
	 * 41 netlink, 42 deleted root's queue, 43 QUEUE_ADD allowed, 44 own
	 * delete refused
	 */
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_RET(-ENOENT, queue_get(self->nl, self->family,
				      qname(self, "own"), &(struct qinfo){ 0 }));
	ASSERT_RET(-ENOENT, queue_get(self->nl, self->family,
				      qname(self, "admin"), &(struct qinfo){ 0 }));
	qi = info(_metadata, self, qname(self, "p666"));
	ASSERT_EQ(0666U, qi->a[COHORT_A_QUEUE_MODE]);
}

/*
 * A generic netlink socket that nobody opened, for this process (passed
 * over a socket pair from a child that dropped to nobody): its fd, or
 * -errno.
 */
static int nobody_socket(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, c = 0;
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int sv[2], fd = -EPROTO, status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	pid = fork();
	if (!pid) {
		if (drop_to_nobody())
			_exit(2);
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		if (fd < 0)
			_exit(3);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		_exit(sendmsg(sv[1], &mh, 0) == 1 ? 0 : 4);
	}
	/* The child has sent it, or failed: no waiting for it either way. */
	if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    !WEXITSTATUS(status) && recvmsg(sv[0], &mh, MSG_DONTWAIT) == 1 &&
	    (cm = CMSG_FIRSTHDR(&mh)) && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	close(sv[0]);
	close(sv[1]);
	return fd;
}

/* QUEUE_DEL of @name written to the netlink socket @fd: the ack's error. */
static int raw_queue_del(int fd, int family, const char *name)
{
	struct {
		struct nlmsghdr n;
		struct genlmsghdr g;
		struct nlattr a;
		char name[COHORT_NAME_MAX];
	} req = {
		.n = { .nlmsg_type = family, .nlmsg_seq = 1,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK },
		.g = { .cmd = COHORT_CMD_QUEUE_DEL,
		       .version = COHORT_GENL_VERSION },
		.a = { .nla_type = COHORT_A_QUEUE_NAME,
		       .nla_len = NLA_HDRLEN + strlen(name) + 1 },
	};
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096];
	struct nlmsghdr *h = (void *)buf;
	ssize_t len;

	snprintf(req.name, sizeof(req.name), "%s", name);
	req.n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(req.a.nla_len);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    send(fd, &req, req.n.nlmsg_len, 0) < 0)
		return -errno;
	len = recv(fd, buf, sizeof(buf), 0);
	if (len < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
	    h->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

/*
 * Child: open a netlink socket as root, drop to nobody, make a queue and
 * delete it through that socket. 0, or the step that failed.
 */
static int opener_root_child(const char *name)
{
	struct nl_sock *sk;
	int family, dev, fd;

	sk = nlq_connect(&family);
	if (!sk || drop_to_nobody())
		return 2;
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return 3;
	fd = q_open(dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0, NULL);
	if (fd < 0)
		return 4;
	close(fd);
	if (queue_del(sk, family, name, NULL))
		return 5;
	nl_socket_free(sk);
	return 0;
}

/*
 * Deleting a queue as its owner takes the socket's opener to let it, as
 * netlink_ns_capable() wants CAP_NET_ADMIN of the opener as well as of the
 * sender: the opener owns the queue too, or holds CAP_NET_ADMIN. Root
 * writing to a socket nobody opened may not delete root's queue through
 * it; nobody may delete its own through a socket root opened (a daemon
 * that dropped privileges after opening its socket).
 */
TEST_F(q, delete_owner_opened_socket)
{
	const char *name = qname(self, "opened");
	int fd, nl, status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to switch to uid %d", NOBODY);
	ASSERT_FD(fd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			     0, NULL));
	close(fd);
	ASSERT_FD(nl, nobody_socket());
	ASSERT_RET(-EPERM, raw_queue_del(nl, self->family, name));
	close(nl);
	ASSERT_RET(0, queue_get(self->nl, self->family, name,
				&(struct qinfo){ 0 }));
	ASSERT_RET(0, queue_del(self->nl, self->family, name, NULL));

	name = qname(self, "dropped");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(opener_root_child(name));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_RET(-ENOENT, queue_get(self->nl, self->family, name,
				      &(struct qinfo){ 0 }));
}

/* The owner's byte budget: capacity is reserved when a queue is made. */
static int budget_child(FIXTURE_DATA(q) *self)
{
	uint32_t mib = 1U << 20;
	struct cohort_queue_attr a = { .max_bytes = 200 * mib };
	struct nl_sock *sk;
	int dev, family;

	if (drop_to_nobody())
		return 2;
	dev = open(DEV, O_RDWR | O_CLOEXEC);
	sk = nlq_connect(&family);
	if (dev < 0 || !sk)
		return 3;
	if (q_open(dev, qname(self, "b1"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a) < 0)
		return 10;
	if (q_open(dev, qname(self, "b2"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a) < 0)
		return 11;
	/* 600 MiB would be more than COHORT_USER_MAX_BYTES. */
	if (q_open(dev, qname(self, "b3"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a) != -ENOSPC)
		return 12;
	a.max_bytes = 100 * mib;
	if (q_open(dev, qname(self, "b4"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a) < 0)
		return 13;
	/* Deleting one gives its share back. */
	if (queue_del(sk, family, qname(self, "b1"), NULL))
		return 14;
	a.max_bytes = 200 * mib;
	if (q_open(dev, qname(self, "b3"), COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a) < 0)
		return 15;
	nl_socket_free(sk);
	return 0;
}

TEST_F(q, user_budget)
{
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "needs root to switch to uid %d", NOBODY);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(budget_child(self));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 1x: step x of budget_child refused or allowed wrongly */
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ((uint64_t)NOBODY,
		  info(_metadata, self, qname(self, "b3"))->a[COHORT_A_QUEUE_UID]);
}

/* ---- management ---- */

/*
 * Delete a queue under @b, a thread blocked on @fd (receiving when @send
 * is 0, sending otherwise): it must return EIDRM at once.
 */
static int delete_under(FIXTURE_DATA(q) *self, const char *name, int fd,
			int send, struct blocked *b, uint64_t *ms)
{
	pthread_t t;
	uint64_t t0;
	int ret;

	ret = blocked_start(&t, b, fd, send, 10000);
	if (ret)
		return ret;
	sleep_ms(300);
	if (blocked_done(b)) {
		pthread_join(t, NULL);
		return -EPROTO;		/* it should have been waiting */
	}
	t0 = mono_ms();
	ret = queue_del(self->nl, self->family, name, NULL);
	pthread_join(t, NULL);
	*ms = b->t_end - t0;
	return ret;
}

/* Deleting a queue: blocked callers and later calls get EIDRM. */
TEST_F(q, delete_eidrm)
{
	const char *name = qname(self, "del");
	const char *full = qname(self, "delfull");
	struct cohort_queue_open o;
	struct rx *rx = rx_new();
	struct blocked b;
	int pfd, cfd, cfd2, ffd;
	uint64_t ms = 0;

	ASSERT_NE(NULL, rx);
	/* A receiver waiting on an empty queue. */
	ASSERT_FD(cfd, q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME,
			      COHORT_ACK_NONE, NULL));
	ASSERT_FD(cfd2, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, COHORT_ACK_EXPLICIT, NULL));
	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send1(pfd, 0, 0, 0));
	ASSERT_RET(0, recv1(cfd2, rx, 0));	/* in flight when deleted */
	ASSERT_RET(0, delete_under(self, name, cfd, 0, &b, &ms));
	ASSERT_RET(-EIDRM, b.ret);
	ASSERT_GT(AT_ONCE_MS, ms);
	free(b.rx);

	ASSERT_EQ(POLLHUP | POLLERR, poll_now(cfd) & (POLLHUP | POLLERR));
	ASSERT_EQ(POLLHUP | POLLERR, poll_now(pfd) & (POLLHUP | POLLERR));
	ASSERT_RET(-EIDRM, send1(pfd, 2, 0, 0));
	ASSERT_RET(-EIDRM, recv1(cfd2, rx, 0));
	ASSERT_RET(-EIDRM, recv1(cfd2, rx, 1000));
	ASSERT_RET(-EIDRM, ack1(cfd2, rx->m[0].delivery_id));
	ASSERT_EQ(-1, write(pfd, "x", 1));
	ASSERT_EQ(EIDRM, errno);

	qo_init(&o, name, COHORT_QUEUE, 0, COHORT_QR_PRODUCE);
	ASSERT_RET(-ENOENT, qo_open(self->dev, &o));
	ASSERT_RET(-ENOENT, queue_del(self->nl, self->family, name, NULL));
	/* A new queue of that name is a new queue. */
	ASSERT_FD(o.fd, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE | COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(-EIDRM, send1(pfd, 3, 0, 0));
	ASSERT_RET(0, send1(o.fd, 3, 0, 0));
	ASSERT_EQ(1U, QSTAT(name, DEPTH));
	close(o.fd);

	/* A sender waiting for room in a full queue. */
	ASSERT_FD(ffd, q_open(self->dev, full, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      &(struct cohort_queue_attr){ .flags = COHORT_QA_PERSISTENT,
							   .max_msgs = 1 }));
	ASSERT_RET(0, send1(ffd, 0, 0, 0));
	ASSERT_RET(0, delete_under(self, full, ffd, 1, &b, &ms));
	ASSERT_RET(-EIDRM, b.ret);
	ASSERT_GT(AT_ONCE_MS, ms);
	free(b.rx);
	free(rx);
	close(ffd);
	close(pfd);
	close(cfd);
	close(cfd2);
}

/* QUEUE_ADD: a system queue with owner and mode given by the admin. */
TEST_F(q, system_queue)
{
	const char *name = qname(self, "sys");
	const uint32_t kv[][2] = {
		{ COHORT_A_QUEUE_KIND, COHORT_TOPIC },
		{ COHORT_A_QUEUE_MODE, 0604 },
		{ COHORT_A_QUEUE_UID, 123 },
		{ COHORT_A_QUEUE_GID, 456 },
		{ COHORT_A_QUEUE_FLAGS, COHORT_QA_PERSISTENT },
		{ COHORT_A_QUEUE_MAX_MSGS, 77 },
		{ COHORT_A_QUEUE_OVERFLOW, COHORT_OVERFLOW_REJECT },
	};
	struct cohort_queue_open o;
	struct qinfo *qi;
	int fd;

	if (geteuid())
		SKIP(return, "needs CAP_NET_ADMIN");
	ASSERT_RET(0, queue_add(self->nl, self->family, name, kv, ARRAY_SIZE(kv)));
	ASSERT_RET(-EEXIST, queue_add(self->nl, self->family, name, kv, 1));
	qi = info(_metadata, self, name);
	ASSERT_EQ(COHORT_TOPIC, qi->a[COHORT_A_QUEUE_KIND]);
	ASSERT_EQ(0604U, qi->a[COHORT_A_QUEUE_MODE]);
	ASSERT_EQ(123U, qi->a[COHORT_A_QUEUE_UID]);
	ASSERT_EQ(456U, qi->a[COHORT_A_QUEUE_GID]);
	ASSERT_EQ(77U, qi->a[COHORT_A_QUEUE_MAX_MSGS]);
	ASSERT_EQ(COHORT_OVERFLOW_REJECT, qi->a[COHORT_A_QUEUE_OVERFLOW]);
	ASSERT_EQ(COHORT_QA_PERSISTENT | COHORT_QA_SYSTEM,
		  qi->a[COHORT_A_QUEUE_FLAGS]);
	ASSERT_EQ(1U, qi->a[COHORT_A_QUEUE_HOME]);

	qo_init(&o, name, COHORT_TOPIC, 0, COHORT_QR_PRODUCE);
	ASSERT_FD(fd, qo_open(self->dev, &o));
	ASSERT_EQ(COHORT_QA_PERSISTENT | COHORT_QA_SYSTEM, o.attr.flags);
	ASSERT_EQ(77U, o.attr.max_msgs);
	close(fd);
	ASSERT_RET(0, queue_del(self->nl, self->family, name, NULL));
}

/* Limits out of range: ERANGE, over netlink and in the ioctl alike. */
TEST_F(q, limits)
{
	const char *name = qname(self, "lim");
	const uint32_t too_many[][2] = {
		{ COHORT_A_QUEUE_MAX_MSGS, COHORT_QMAX_MAX_MSGS + 1 } };
	const uint32_t too_big[][2] = {
		{ COHORT_A_QUEUE_MAX_BYTES, COHORT_QMAX_MAX_BYTES + 1 } };
	const uint32_t msg_big[][2] = {
		{ COHORT_A_QUEUE_MAX_MSG_SIZE, COHORT_QMSG_MAX + 1 } };
	const uint32_t bad_mode[][2] = { { COHORT_A_QUEUE_MODE, 01000 } };
	struct cohort_queue_open o;
	int fd, ret;

#define ATTR_FAILS(field, val) do {					\
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_PRODUCE); \
	o.attr.field = (val);						\
	ret = qo_open(self->dev, &o);					\
	ASSERT_EQ(-ERANGE, ret) {					\
		TH_LOG("attr.%s = %#x: %s", #field, (unsigned int)(val),	\
		       err_name(ret));					\
	}								\
} while (0)

	ATTR_FAILS(max_msgs, COHORT_QMAX_MAX_MSGS + 1);
	ATTR_FAILS(max_msgs, UINT32_MAX);
	ATTR_FAILS(max_bytes, COHORT_QMAX_MAX_BYTES + 1);
	ATTR_FAILS(max_bytes, UINT32_MAX);
	ATTR_FAILS(max_msg_size, COHORT_QMSG_MAX + 1);
	ATTR_FAILS(max_msg_size, UINT32_MAX);
#undef ATTR_FAILS

	/* The largest allowed values are allowed. */
	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE | COHORT_QO_EXCL,
		COHORT_QR_PRODUCE);
	o.attr.max_msgs = COHORT_QMAX_MAX_MSGS;
	o.attr.max_bytes = COHORT_QMAX_MAX_BYTES;
	o.attr.max_msg_size = COHORT_QMSG_MAX;
	ASSERT_FD(fd, qo_open(self->dev, &o));
	ASSERT_EQ(COHORT_QMAX_MAX_MSGS, o.attr.max_msgs);
	ASSERT_EQ(COHORT_QMAX_MAX_BYTES, o.attr.max_bytes);
	close(fd);

	if (geteuid())
		SKIP(return, "QUEUE_ADD needs CAP_NET_ADMIN");
	ASSERT_RET(-ERANGE, queue_add(self->nl, self->family,
				      qname(self, "lim2"), too_many, 1));
	ASSERT_RET(-ERANGE, queue_add(self->nl, self->family,
				      qname(self, "lim2"), too_big, 1));
	ASSERT_RET(-ERANGE, queue_add(self->nl, self->family,
				      qname(self, "lim2"), msg_big, 1));
	ASSERT_RET(-ERANGE, queue_add(self->nl, self->family,
				      qname(self, "lim2"), bad_mode, 1));
	ASSERT_RET(-ENOENT, queue_get(self->nl, self->family,
				      qname(self, "lim2"), &(struct qinfo){ 0 }));
}

/*
 * However many subscriptions a topic has, QUEUE_GET answers in at most
 * 32 KiB, as a dump's part does: what libcohort reads in one go, and what
 * a libnl socket's receive buffer takes. Those that do not fit (here,
 * about half of 400) are left out.
 */
TEST_F(q, get_reply_bounded)
{
	struct cohort_queue_attr a = { .max_bytes = 4096 };
	const char *name = qname(self, "subs");
	int pfd, fd[400], i;
	struct qinfo *qi;

	ASSERT_FD(pfd, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, &a));
	for (i = 0; i < (int)ARRAY_SIZE(fd); i++)
		ASSERT_FD(fd[i], t_sub(self->dev, name, "", COHORT_ACK_NONE));
	qi = info(_metadata, self, name);
	ASSERT_EQ(ARRAY_SIZE(fd), qi->st.v[COHORT_A_QSTATS_CONSUMERS]);
	ASSERT_EQ(MAX_SUBS, qi->nsub);
	ASSERT_GE(32768U, qi->len);
	ASSERT_LT(30000U, qi->len);	/* filled up, not cut short */
	for (i = 0; i < (int)ARRAY_SIZE(fd); i++)
		close(fd[i]);
	close(pfd);
}

/*
 * Dump all queues on a socket of its own, deleting @del (if not NULL)
 * once the first part is read: 1 if a part says the dump was interrupted
 * (NLM_F_DUMP_INTR), 0 if none does, or -errno.
 */
static int dump_flagged(FIXTURE_DATA(q) *self, const char *del)
{
	int family, n, parts = 0, flagged = 0, done = 0, ret = 0;
	struct sockaddr_nl peer;
	struct nl_sock *sk;
	unsigned char *buf;
	struct nlmsghdr *h;
	struct nl_msg *m;

	sk = nlq_connect(&family);
	if (!sk)
		return -ENOTCONN;
	m = nl_new(family, COHORT_CMD_QUEUE_GET, NLM_F_DUMP);
	if (!m || nl_send_auto(sk, m) < 0)
		ret = -EIO;
	nlmsg_free(m);
	while (!ret && !done) {
		n = nl_recv(sk, &peer, &buf, NULL);
		if (n <= 0) {
			ret = -EIO;
			break;
		}
		for (h = (void *)buf; nlmsg_ok(h, n); h = nlmsg_next(h, &n)) {
			done |= h->nlmsg_type == NLMSG_DONE ||
				h->nlmsg_type == NLMSG_ERROR;
			flagged |= !!(h->nlmsg_flags & NLM_F_DUMP_INTR);
		}
		free(buf);
		if (!parts++ && del)
			ret = queue_del(self->nl, self->family, del, NULL);
	}
	nl_socket_free(sk);
	if (!ret && parts < 2)
		ret = -EMSGSIZE;	/* one part: nothing came between */
	return ret ?: flagged;
}

/* At most COHORT_QUEUES_MAX queues (with subscriptions) per node. */
TEST_F_TIMEOUT(q, too_many_queues, 300)
{
	struct cohort_queue_attr a = { .max_bytes = 4096, .max_msg_size = 64 };
	struct qdump *qd = calloc(1, sizeof(*qd));
	unsigned int before, made = 0;
	char tag[32];
	int fd;

	ASSERT_NE(NULL, qd);
	ASSERT_RET(0, queue_dump(self->nl, self->family, qd));
	before = qd->queues + qd->subs;
	ASSERT_GT(COHORT_QUEUES_MAX, before);
	for (;;) {
		snprintf(tag, sizeof(tag), "m%u", made);
		fd = q_open(self->dev, qname(self, tag), COHORT_QUEUE,
			    COHORT_QR_PRODUCE, 0, &a);
		if (fd < 0)
			break;
		close(fd);
		made++;
		ASSERT_GE(COHORT_QUEUES_MAX, made);
	}
	ASSERT_RET(-ENOSPC, fd);
	ASSERT_EQ(COHORT_QUEUES_MAX - before, made);
	ASSERT_RET(0, queue_dump(self->nl, self->family, qd));
	ASSERT_EQ(COHORT_QUEUES_MAX, qd->queues + qd->subs);
	/* A dump says when a queue went between its parts, only then. */
	ASSERT_RET(0, dump_flagged(self, NULL));
	ASSERT_RET(1, dump_flagged(self, qname(self, "m0")));
	/* One gone, one more fits. */
	ASSERT_FD(fd, q_open(self->dev, qname(self, "m0"), COHORT_QUEUE,
			     COHORT_QR_PRODUCE, 0, &a));
	close(fd);
	free(qd);
}

TEST_HARNESS_MAIN
