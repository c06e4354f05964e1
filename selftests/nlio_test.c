// SPDX-License-Identifier: GPL-2.0
/*
 * libcohort's netlink reader (libshim/nlio.c) on the host, no module: a
 * datagram socket pair stands in for the generic netlink socket, and the
 * recvmsg() and recvmmsg() below, which the library's calls resolve to,
 * say that every datagram came from the kernel (port 0).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include <linux/cohort.h>
#include "internal.h"

#define FAMILY	30

ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ssize_t n = syscall(SYS_recvmsg, fd, m, flags);
	struct sockaddr_nl *sa = m->msg_name;

	if (n >= 0 && sa) {
		memset(sa, 0, sizeof(*sa));
		sa->nl_family = AF_NETLINK;
		m->msg_namelen = sizeof(*sa);
	}
	return n;
}

int recvmmsg(int fd, struct mmsghdr *mm, unsigned int vlen, int flags,
	     struct timespec *timeout)
{
	unsigned int i;
	ssize_t n;

	(void)timeout;
	for (i = 0; i < vlen; i++) {
		n = recvmsg(fd, &mm[i].msg_hdr, flags | (i ? MSG_DONTWAIT : 0));
		if (n < 0)
			return i ? (int)i : -1;
		mm[i].msg_len = n;
	}
	return vlen;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct gmsg {
	struct nlmsghdr h;
	struct genlmsghdr g;
};

struct done {
	struct nlmsghdr h;
	int err;
};

FIXTURE(nlio) {
	struct cohort c;
	int peer;		/* the "kernel" end */
};

FIXTURE_SETUP(nlio)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	memset(&self->c, 0, sizeof(self->c));
	self->c.fd = -1;
	self->c.nlfd = sv[0];
	self->c.family = FAMILY;
	self->c.seq = 100;
	self->peer = sv[1];
}

FIXTURE_TEARDOWN(nlio)
{
	close(self->c.nlfd);
	close(self->peer);
	cohort_nl_close(&self->c);
}

/* One part of a dump: an entry and, if @done, the end with @flags. */
static void dump_part(int fd, uint32_t seq, uint16_t done_flags)
{
	struct gmsg m = {
		.h = { .nlmsg_len = sizeof(m), .nlmsg_type = FAMILY,
		       .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = seq },
		.g = { .cmd = COHORT_CMD_PEER_GET },
	};
	struct done d = {
		.h = { .nlmsg_len = sizeof(d), .nlmsg_type = NLMSG_DONE,
		       .nlmsg_flags = NLM_F_MULTI | done_flags,
		       .nlmsg_seq = seq },
	};

	if (write(fd, &m, sizeof(m)) != sizeof(m) ||
	    write(fd, &d, sizeof(d)) != sizeof(d))
		abort();
}

static int entries, resets;

static int count_entry(struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	entries++;
	return 0;
}

static void reset_entries(void *arg)
{
	(void)arg;
	entries = 0;
	resets++;
}

/*
 * The kernel flags a change after a dump's last entry on NLMSG_DONE only:
 * that dump is started again, as one flagged on an entry is.
 */
TEST_F(nlio, dump_interrupted_at_done)
{
	dump_part(self->peer, 101, NLM_F_DUMP_INTR);
	dump_part(self->peer, 102, 0);
	entries = resets = 0;
	ASSERT_EQ(0, cohort_nl_dump(&self->c, COHORT_CMD_PEER_GET,
				    count_entry, reset_entries, NULL));
	ASSERT_EQ(2, resets);
	ASSERT_EQ(1, entries);
}

struct flood {
	int fd;
	int64_t until;		/* atomic: 0 stops */
};

/*
 * Datagrams of many MSG_RECV each, none of which a PING wait takes, as
 * fast as the reader takes them: it never finds the socket empty.
 */
static void *flood_fn(void *arg)
{
	static char buf[32000];
	struct flood *f = arg;
	struct gmsg *m;
	size_t off;

	for (off = 0; off + sizeof(*m) <= sizeof(buf); off += sizeof(*m)) {
		m = (struct gmsg *)(buf + off);
		m->h.nlmsg_len = sizeof(*m);
		m->h.nlmsg_type = FAMILY;
		m->g.cmd = COHORT_CMD_MSG_RECV;
	}
	while (mono_ms() < __atomic_load_n(&f->until, __ATOMIC_RELAXED)) {
		if (send(f->fd, buf, off, MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

/*
 * A wait for one kind of message ends at its timeout, also while others
 * keep coming (cohort_ping() under a stream of MSG_RECV to the handle).
 */
TEST_F(nlio, wait_ends_under_traffic)
{
	struct flood f = { .fd = self->peer, .until = mono_ms() + 5000 };
	int sndbuf = 4 << 20;
	struct nlmsghdr *out;
	int64_t t0, took;
	pthread_t t;
	int ret;

	ASSERT_EQ(0, setsockopt(self->peer, SOL_SOCKET, SO_SNDBUF, &sndbuf,
				sizeof(sndbuf)));
	ASSERT_EQ(0, pthread_create(&t, NULL, flood_fn, &f));
	usleep(100 * 1000);
	t0 = mono_ms();
	ret = cohort_rx_next(&self->c, COHORT_CMD_PING, NULL, NULL, 100, &out);
	took = mono_ms() - t0;
	__atomic_store_n(&f.until, 0, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ASSERT_EQ(-ETIMEDOUT, ret);
	ASSERT_GE(took, 100);
	ASSERT_LT(took, 1500) {
		TH_LOG("a 100 ms wait took %lld ms", (long long)took);
	}
}

TEST_HARNESS_MAIN
