// SPDX-License-Identifier: GPL-2.0
/*
 * cohort-netbench: one side of one benchmark, run by tools/bench.sh in two
 * network namespaces. Every receiver/server prints "ready" once it can be
 * reached, every mode ends by itself (a deadline, a count, an idle timeout
 * or an end marker) and prints one result line of key=value pairs:
 *
 *   cohort-netbench MODE [-a ADDR] [-p PORT] [-N NODE] [-t SECS] [-n COUNT]
 *                        [-b BATCH] [-s SIZE] [-w WARMUP] [-r RCVBUF]
 *
 * one-way throughput (receiver counts messages; sender runs -t SECS or -n):
 *   tcp-recv / tcp-send -a ADDR [-b BATCH]   TCP_NODELAY, each message a
 *       4-byte length + SIZE bytes; one write() per message, or BATCH
 *       messages per write()
 *   tipc-recv / tipc-send                    AF_TIPC SOCK_SEQPACKET
 *   cohort-recv / cohort-send -N NODE        cohort_msg_send/_recv
 * round trips (client measures; -n round trips after -w warm-up ones):
 *   udp-echo / udp-rtt -a ADDR               UDP ping-pong
 *   tipc-echo / tipc-rtt                     AF_TIPC SOCK_SEQPACKET
 *   cohort-echo / cohort-rtt -N NODE         cohort messages, user to user
 *   cohort-ping -N NODE                      cohort_ping (as cohortctl
 *       ping): kernel-measured RTT and the wall time of the call
 *
 * Exit status: 0 done, 1 error, 2 the contender is unavailable (the line
 * "tipc: unavailable (reason)" says why).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/tipc.h>

#include "libcohort.h"

#define DEF_PORT	7400		/* TCP and UDP */
#define DEF_CPORT	7400		/* cohort message port */
#define TIPC_TYPE	18888		/* TIPC service type */
#define MAX_SIZE	4096
#define MAX_BATCH	1024
#define END_MARK	UINT64_MAX	/* seq of a cohort end-of-test message */
#define IDLE_MS		2000		/* a receiver that started stops after */

struct opts {
	const char *addr;
	uint16_t port;
	uint32_t node;
	double secs;
	uint64_t count;
	unsigned int batch, size, warmup;
	int rcvbuf;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

static int ms_left(double deadline)
{
	double left = deadline - now_s();

	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cohort-netbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted @v (as cohortctl ping). */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * n + 0.999999);

	return n ? v[k ? k - 1 : 0] : 0;
}

/* "p50_us=.. p99_us=.. min_us=.. mean_us=.. max_us=.." of @v (µs), sorted. */
static void print_lat(const char *prefix, double *v, size_t n)
{
	double sum = 0;
	size_t i;

	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf(" %sp50_us=%.1f %sp99_us=%.1f %smin_us=%.1f %smean_us=%.1f %smax_us=%.1f",
	       prefix, pct(v, n, 50), prefix, pct(v, n, 99), prefix,
	       n ? v[0] : 0, prefix, n ? sum / n : 0, prefix,
	       n ? v[n - 1] : 0);
}

static void print_rate(const char *mode, uint64_t msgs, double secs)
{
	printf("%s msgs=%" PRIu64 " secs=%.3f rate=%.0f", mode, msgs, secs,
	       secs > 0 ? msgs / secs : 0);
}

/* ---- sockets ---- */

static void inet_sa(const struct opts *o, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(o->port);
	if (!o->addr)
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, o->addr, &sa->sin_addr) != 1)
		die("bad address %s", o->addr);
}

static int inet_server(const struct opts *o, int type)
{
	struct sockaddr_in sa;
	int one = 1, fd;

	fd = socket(AF_INET, type, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_sa(o, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind port %u: %s", o->port, strerror(errno));
	if (type == SOCK_STREAM && listen(fd, 4) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

/* Wait until @fd is readable or @deadline passed: 1, or 0 on timeout. */
static int wait_in(int fd, double deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, ms_left(deadline));
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		die("poll: %s", strerror(errno));
	return ret;
}

static int accept_by(int lfd, double deadline)
{
	int fd;

	if (!wait_in(lfd, deadline))
		die("nobody connected before the deadline");
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		die("accept: %s", strerror(errno));
	close(lfd);
	return fd;
}

/* Connect, retrying while the server is not there yet (until @deadline). */
static int connect_retry(int family, int type, const struct sockaddr *sa,
			 socklen_t len, double deadline, const char *what)
{
	int fd, err;

	for (;;) {
		fd = socket(family, type, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, sa, len))
			return fd;
		err = errno;
		close(fd);
		if (now_s() > deadline)
			die("connect %s: %s", what, strerror(err));
		sleep_us(20000);
	}
}

static void write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", n < 0 ? strerror(errno) : "short");
		p += n;
		len -= n;
	}
}

/* ---- raw TCP, length-framed ---- */

static int tcp_recv(const struct opts *o)
{
	static char buf[1 << 18];
	double deadline = now_s() + o->secs, t0 = 0, t1 = 0;
	uint64_t msgs = 0, bytes = 0;
	size_t have = 0, off;
	int lfd, fd;
	ssize_t n;

	lfd = inet_server(o, SOCK_STREAM);
	ready();
	fd = accept_by(lfd, deadline);
	for (;;) {
		if (!wait_in(fd, deadline))
			break;
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read: %s", strerror(errno));
		if (!n)
			break;
		if (!t0)
			t0 = now_s();
		bytes += n;
		have += n;
		for (off = 0; have - off >= 4;) {
			uint32_t len;

			memcpy(&len, buf + off, 4);
			len = ntohl(len);
			if (len > MAX_SIZE)
				die("bad frame length %u", len);
			if (have - off < 4 + len)
				break;
			off += 4 + len;
			msgs++;
			t1 = now_s();
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
	print_rate("tcp-recv", msgs, t1 - t0);
	printf(" bytes=%" PRIu64 "\n", bytes);
	return 0;
}

static int tcp_send(const struct opts *o)
{
	static char buf[MAX_BATCH * (4 + MAX_SIZE)];
	double start = now_s(), deadline, t;
	uint64_t msgs = 0, writes = 0;
	size_t fl = 4 + o->size, i;
	struct sockaddr_in sa;
	uint32_t len = htonl(o->size);
	int one = 1, fd;

	inet_sa(o, &sa);
	fd = connect_retry(AF_INET, SOCK_STREAM, (struct sockaddr *)&sa,
			   sizeof(sa), start + 5, o->addr);
	if (fd < 0)
		die("socket: %s", strerror(-fd));
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY: %s", strerror(errno));
	for (i = 0; i < o->batch; i++) {
		memcpy(buf + i * fl, &len, 4);
		memset(buf + i * fl + 4, 'x', o->size);
	}
	start = now_s();
	deadline = start + o->secs;
	for (t = start; t < deadline && msgs < o->count; writes++) {
		write_all(fd, buf, fl * o->batch);
		msgs += o->batch;
		if (o->batch > 1 || !(writes & 15))
			t = now_s();
	}
	t = now_s();
	close(fd);
	print_rate("tcp-send", msgs, t - start);
	printf(" writes=%" PRIu64 " batch=%u\n", writes, o->batch);
	return 0;
}

/* ---- raw UDP ping-pong ---- */

static int udp_echo(const struct opts *o)
{
	double deadline = now_s() + o->secs;
	char buf[MAX_SIZE];
	struct sockaddr_in peer;
	socklen_t pl;
	uint64_t n = 0;
	ssize_t len;
	int fd = inet_server(o, SOCK_DGRAM);

	ready();
	while (wait_in(fd, deadline)) {
		pl = sizeof(peer);
		len = recvfrom(fd, buf, sizeof(buf), 0,
			       (struct sockaddr *)&peer, &pl);
		if (len < 0)
			continue;
		if (len == 3 && !memcmp(buf, "bye", 3))
			break;
		sendto(fd, buf, len, 0, (struct sockaddr *)&peer, pl);
		n++;
	}
	printf("udp-echo echoed=%" PRIu64 "\n", n);
	return 0;
}

static int udp_rtt(const struct opts *o)
{
	double deadline = now_s() + o->secs, *v, t0;
	uint64_t i, total = o->count + o->warmup, seq;
	size_t n = 0, lost = 0;
	char buf[MAX_SIZE];
	struct sockaddr_in sa;
	ssize_t len;
	int fd;

	v = calloc(o->count ? o->count : 1, sizeof(*v));
	inet_sa(o, &sa);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!v || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("udp socket: %s", strerror(errno));
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < total && now_s() < deadline; i++) {
		memcpy(buf, &i, sizeof(i));
		t0 = now_s();
		if (send(fd, buf, o->size, 0) < 0)
			die("send: %s", strerror(errno));
		for (;;) {
			if (!wait_in(fd, t0 + 1.0)) {
				lost++;
				break;
			}
			len = recv(fd, buf, sizeof(buf), 0);
			if (len < 0) {		/* e.g. ECONNREFUSED: no server */
				sleep_us(1000);
				continue;
			}
			memcpy(&seq, buf, sizeof(seq));
			if (len == (ssize_t)o->size && seq == i) {
				if (i >= o->warmup)
					v[n++] = (now_s() - t0) * 1e6;
				break;
			}
		}
	}
	for (i = 0; i < 3; i++)
		send(fd, "bye", 3, 0);
	printf("udp-rtt n=%zu lost=%zu", n, lost);
	print_lat("", v, n);
	putchar('\n');
	return !n;
}

/* ---- TIPC, SOCK_SEQPACKET ---- */

static void tipc_unavailable(const char *what, int err)
{
	printf("tipc: unavailable (%s: %s)\n", what, strerror(err));
	exit(2);
}

/* Instance 1: throughput, 2: round trips. */
static int tipc_server(unsigned int instance, double deadline)
{
	struct sockaddr_tipc a = {
		.family = AF_TIPC,
		.addrtype = TIPC_ADDR_NAMESEQ,
		.scope = TIPC_CLUSTER_SCOPE,
		.addr.nameseq = { TIPC_TYPE, instance, instance },
	};
	int lfd = socket(AF_TIPC, SOCK_SEQPACKET, 0);

	if (lfd < 0)
		tipc_unavailable("socket", errno);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0)
		tipc_unavailable("bind", errno);
	if (listen(lfd, 4) < 0)
		tipc_unavailable("listen", errno);
	ready();
	return accept_by(lfd, deadline);
}

static int tipc_client(unsigned int instance, double deadline)
{
	struct sockaddr_tipc a = {
		.family = AF_TIPC,
		.addrtype = TIPC_ADDR_NAME,
		.addr.name.name = { TIPC_TYPE, instance },
	};
	int fd;

	fd = connect_retry(AF_TIPC, SOCK_SEQPACKET, (struct sockaddr *)&a,
			   sizeof(a), deadline, "tipc service");
	if (fd < 0)
		tipc_unavailable("socket", -fd);
	return fd;
}

static int tipc_recv(const struct opts *o)
{
	double deadline = now_s() + o->secs, t0 = 0, t1 = 0;
	char buf[MAX_SIZE];
	uint64_t msgs = 0;
	ssize_t n;
	int fd = tipc_server(1, deadline);

	while (wait_in(fd, deadline)) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!t0)
			t0 = now_s();
		t1 = now_s();
		msgs++;
	}
	print_rate("tipc-recv", msgs, t1 - t0);
	putchar('\n');
	return 0;
}

static int tipc_send(const struct opts *o)
{
	double start = now_s(), deadline;
	char buf[MAX_SIZE];
	uint64_t msgs = 0;
	int fd = tipc_client(1, start + 10);

	memset(buf, 'x', o->size);
	start = now_s();
	deadline = start + o->secs;
	while (msgs < o->count && ((msgs & 15) || now_s() < deadline)) {
		if (send(fd, buf, o->size, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("tipc send: %s", strerror(errno));
		}
		msgs++;
	}
	deadline = now_s();
	close(fd);
	print_rate("tipc-send", msgs, deadline - start);
	putchar('\n');
	return 0;
}

static int tipc_echo(const struct opts *o)
{
	double deadline = now_s() + o->secs;
	char buf[MAX_SIZE];
	uint64_t n = 0;
	ssize_t len;
	int fd = tipc_server(2, deadline);

	while (wait_in(fd, deadline)) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len <= 0)
			break;
		if (send(fd, buf, len, 0) < 0)
			break;
		n++;
	}
	printf("tipc-echo echoed=%" PRIu64 "\n", n);
	return 0;
}

static int tipc_rtt(const struct opts *o)
{
	double deadline = now_s() + 10, *v, t0;
	uint64_t i, total = o->count + o->warmup;
	char buf[MAX_SIZE];
	size_t n = 0, lost = 0;
	int fd = tipc_client(2, deadline);

	deadline = now_s() + o->secs;
	v = calloc(o->count ? o->count : 1, sizeof(*v));
	if (!v)
		die("out of memory");
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < total && now_s() < deadline; i++) {
		t0 = now_s();
		if (send(fd, buf, o->size, 0) < 0)
			die("tipc send: %s", strerror(errno));
		if (!wait_in(fd, t0 + 1.0)) {
			lost++;
			break;		/* a reliable connection: it is gone */
		}
		if (recv(fd, buf, sizeof(buf), 0) <= 0)
			die("tipc recv: %s", strerror(errno));
		if (i >= o->warmup)
			v[n++] = (now_s() - t0) * 1e6;
	}
	close(fd);
	printf("tipc-rtt n=%zu lost=%zu", n, lost);
	print_lat("", v, n);
	putchar('\n');
	return !n;
}

/* ---- cohort ---- */

static struct cohort *cohort_nl(void)
{
	struct cohort *c;
	int ret = cohort_open_netlink(&c);

	if (ret < 0)
		die("cohort_open_netlink: %s", strerror(-ret));
	return c;
}

static void cohort_bind(struct cohort *c, const struct opts *o, uint32_t port)
{
	int ret = cohort_msg_bind(c, port);

	if (ret < 0)
		die("cohort_msg_bind %u: %s (%s)", port, strerror(-ret),
		    cohort_errmsg(c));
	if (o->rcvbuf) {
		ret = cohort_msg_set_rcvbuf(c, o->rcvbuf);
		if (ret < 0)
			die("cohort_msg_set_rcvbuf: %s", strerror(-ret));
	}
}

/* Send, waiting out backpressure (-EAGAIN) until @deadline; eagain counted. */
static int cohort_send_bp(struct cohort *c, uint32_t dst, uint32_t port,
			  uint32_t src_port, const void *buf, size_t len, double deadline,
			  uint64_t *eagain)
{
	int ret;

	for (;;) {
		ret = cohort_msg_send(c, dst, port, src_port, buf, len);
		if (ret != -EAGAIN)
			break;
		(*eagain)++;
		if (now_s() > deadline)
			break;
		sleep_us(20);
	}
	if (ret < 0 && ret != -EAGAIN)
		die("cohort_msg_send to %u: %s (%s)", dst, strerror(-ret),
		    cohort_errmsg(c));
	return ret;
}

static int cohort_recv(const struct opts *o)
{
	double deadline = now_s() + o->secs, t0 = 0, t1 = 0;
	uint64_t msgs = 0, maxseq = 0, seq, enobufs = 0;
	struct cohort *c = cohort_nl();
	struct cohort_msg *m = malloc(sizeof(*m));
	bool end = false;
	int ret, tmo;

	if (!m)
		die("out of memory");
	cohort_bind(c, o, o->port);
	ready();
	while (!end) {
		tmo = ms_left(deadline);
		if (t0 && tmo > IDLE_MS)
			tmo = IDLE_MS;
		if (!tmo)
			break;
		ret = cohort_msg_recv(c, m, tmo);
		if (ret == -ENOBUFS) {
			enobufs++;
			continue;
		}
		if (ret == -ETIMEDOUT || ret == -EAGAIN)
			break;
		if (ret < 0)
			die("cohort_msg_recv: %s", strerror(-ret));
		if (m->len < sizeof(seq))
			continue;
		memcpy(&seq, m->payload, sizeof(seq));
		if (seq == END_MARK) {
			end = true;
			continue;
		}
		if (!t0)
			t0 = now_s();
		t1 = now_s();
		msgs++;
		if (seq + 1 > maxseq)
			maxseq = seq + 1;
	}
	print_rate("cohort-recv", msgs, t1 - t0);
	printf(" sent_seen=%" PRIu64 " lost=%" PRIu64 " enobufs=%" PRIu64
	       " end=%d\n", maxseq, maxseq - msgs, enobufs, end);
	free(m);
	cohort_close(c);
	return 0;
}

/*
 * -b N: N messages per cohort_msg_send_batch() call (one system call), the
 * counterpart of tcp-send -b N; a partial batch resends only the rest.
 */
static uint64_t cohort_send_batches(struct cohort *c, const struct opts *o,
				    double deadline, uint64_t *eagain)
{
	static char bufs[COHORT_MSG_BATCH_MAX][MAX_SIZE];
	struct iovec iov[COHORT_MSG_BATCH_MAX];
	uint64_t msgs = 0;
	size_t i, sent;
	int ret;

	for (i = 0; i < o->batch; i++) {
		memset(bufs[i], 'x', o->size);
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = o->size;
	}
	while (now_s() < deadline && msgs < o->count) {
		for (i = 0; i < o->batch; i++) {
			uint64_t seq = msgs + i;

			memcpy(bufs[i], &seq, sizeof(seq));
		}
		ret = cohort_msg_send_batch(c, o->node, o->port, 0, iov,
					    o->batch, &sent);
		if (ret == -EAGAIN) {
			(*eagain)++;
			sleep_us(20);
			continue;
		}
		if (ret < 0)
			die("cohort_msg_send_batch to %u: %s (%s)", o->node,
			    strerror(-ret), cohort_errmsg(c));
		/* A partial batch: the rest goes again, renumbered above. */
		msgs += sent;
		if (sent < o->batch)
			(*eagain)++;
	}
	return msgs;
}

static int cohort_send(const struct opts *o)
{
	double start, deadline, t;
	uint64_t msgs = 0, eagain = 0, end = END_MARK;
	struct cohort *c = cohort_nl();
	char buf[MAX_SIZE];
	int i;

	memset(buf, 'x', o->size);
	start = now_s();
	deadline = start + o->secs;
	if (o->batch > COHORT_MSG_BATCH_MAX)
		die("cohort-send: at most %d messages per batch",
		    COHORT_MSG_BATCH_MAX);
	if (o->batch > 1)
		msgs = cohort_send_batches(c, o, deadline, &eagain);
	for (t = start; o->batch == 1 && t < deadline && msgs < o->count;) {
		memcpy(buf, &msgs, sizeof(msgs));
		if (!cohort_send_bp(c, o->node, o->port, 0, buf, o->size,
				    deadline, &eagain))
			msgs++;
		if (!(msgs & 15))
			t = now_s();
	}
	t = now_s();
	/* The end marker, a few times: the receiver may drop one. */
	memcpy(buf, &end, sizeof(end));
	for (i = 0; i < 3; i++)
		cohort_send_bp(c, o->node, o->port, 0, buf, o->size,
			       now_s() + 1, &eagain);
	print_rate("cohort-send", msgs, t - start);
	printf(" eagain=%" PRIu64 "\n", eagain);
	cohort_close(c);
	return 0;
}

static int cohort_echo(const struct opts *o)
{
	double deadline = now_s() + o->secs;
	struct cohort *c = cohort_nl();
	struct cohort_msg *m = malloc(sizeof(*m));
	uint64_t n = 0, eagain = 0, seq;
	int ret;

	if (!m)
		die("out of memory");
	cohort_bind(c, o, o->port);
	ready();
	while (ms_left(deadline)) {
		ret = cohort_msg_recv(c, m, ms_left(deadline));
		if (ret == -ENOBUFS)
			continue;
		if (ret == -ETIMEDOUT || ret == -EAGAIN)
			break;
		if (ret < 0)
			die("cohort_msg_recv: %s", strerror(-ret));
		if (m->len >= sizeof(seq)) {
			memcpy(&seq, m->payload, sizeof(seq));
			if (seq == END_MARK)
				break;
		}
		cohort_send_bp(c, m->src, m->src_port, o->port, m->payload,
			       m->len, now_s() + 1, &eagain);
		n++;
	}
	printf("cohort-echo echoed=%" PRIu64 " eagain=%" PRIu64 "\n", n,
	       eagain);
	free(m);
	cohort_close(c);
	return 0;
}

static int cohort_rtt(const struct opts *o)
{
	double deadline = now_s() + o->secs, *v, t0;
	uint64_t i, total = o->count + o->warmup, seq, eagain = 0;
	uint32_t me = o->port + 1;
	struct cohort *c = cohort_nl();
	struct cohort_msg *m = malloc(sizeof(*m));
	size_t n = 0, lost = 0;
	char buf[MAX_SIZE];
	int ret;

	v = calloc(o->count ? o->count : 1, sizeof(*v));
	if (!m || !v)
		die("out of memory");
	cohort_bind(c, o, me);
	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < total && now_s() < deadline; i++) {
		memcpy(buf, &i, sizeof(i));
		t0 = now_s();
		cohort_send_bp(c, o->node, o->port, me, buf, o->size,
			       t0 + 1, &eagain);
		for (;;) {
			ret = cohort_msg_recv(c, m, ms_left(t0 + 1.0));
			if (ret == -ENOBUFS)
				continue;
			if (ret == -ETIMEDOUT || ret == -EAGAIN) {
				lost++;
				break;
			}
			if (ret < 0)
				die("cohort_msg_recv: %s", strerror(-ret));
			memcpy(&seq, m->payload, sizeof(seq));
			if (m->len == o->size && seq == i) {
				if (i >= o->warmup)
					v[n++] = (now_s() - t0) * 1e6;
				break;
			}
		}
	}
	seq = END_MARK;
	memcpy(buf, &seq, sizeof(seq));
	cohort_send_bp(c, o->node, o->port, me, buf, o->size, now_s() + 1,
		       &eagain);
	printf("cohort-rtt n=%zu lost=%zu eagain=%" PRIu64, n, lost, eagain);
	print_lat("", v, n);
	putchar('\n');
	free(m);
	cohort_close(c);
	return !n;
}

static int cohort_pings(const struct opts *o)
{
	double deadline = now_s() + o->secs, *k, *w, t0;
	uint64_t i, total = o->count + o->warmup, rtt;
	struct cohort *c = cohort_nl();
	size_t n = 0, lost = 0;
	uint32_t hops = 0;
	int ret;

	k = calloc(o->count ? o->count : 1, sizeof(*k));
	w = calloc(o->count ? o->count : 1, sizeof(*w));
	if (!k || !w)
		die("out of memory");
	for (i = 0; i < total && now_s() < deadline; i++) {
		t0 = now_s();
		ret = cohort_ping(c, o->node, 1000, &rtt, &hops);
		if (ret == -ETIMEDOUT || ret == -EAGAIN) {
			if (ret == -EAGAIN)	/* first hop's queue full */
				sleep_us(1000);
			lost++;
			continue;
		}
		if (ret < 0)
			die("cohort_ping %u: %s (%s)", o->node, strerror(-ret),
			    cohort_errmsg(c));
		if (i >= o->warmup) {
			w[n] = (now_s() - t0) * 1e6;
			k[n++] = rtt / 1e3;
		}
	}
	printf("cohort-ping n=%zu lost=%zu hops=%u", n, lost, hops);
	print_lat("", k, n);
	print_lat("wall_", w, n);
	putchar('\n');
	cohort_close(c);
	return !n;
}

/* ---- main ---- */

static const struct mode {
	const char *name;
	int (*fn)(const struct opts *o);
	bool server;
} modes[] = {
	{ "tcp-recv", tcp_recv, true },
	{ "tcp-send", tcp_send, false },
	{ "udp-echo", udp_echo, true },
	{ "udp-rtt", udp_rtt, false },
	{ "tipc-recv", tipc_recv, true },
	{ "tipc-send", tipc_send, false },
	{ "tipc-echo", tipc_echo, true },
	{ "tipc-rtt", tipc_rtt, false },
	{ "cohort-recv", cohort_recv, true },
	{ "cohort-send", cohort_send, false },
	{ "cohort-echo", cohort_echo, true },
	{ "cohort-rtt", cohort_rtt, false },
	{ "cohort-ping", cohort_pings, false },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: cohort-netbench MODE [-a ADDR] [-p PORT] [-N NODE] [-t SECS] [-n COUNT]\n"
		"                       [-b BATCH] [-s SIZE] [-w WARMUP] [-r RCVBUF]\n"
		"  -t  senders: duration; servers and round-trip clients: deadline\n"
		"  -n  messages to send or round trips to time (after -w warm-up ones)\n"
		"MODE :=");
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		fprintf(f, " %s", modes[i].name);
	fputc('\n', f);
}

static unsigned long num(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		die("bad number \"%s\" (expected %lu..%lu)", s, min, max);
	return v;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.secs = 0, .count = 0, .batch = 1, .size = 64, .warmup = 50,
	};
	const struct mode *m = NULL;
	bool port_set = false;
	char *end;
	size_t i;
	int ch;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			m = &modes[i];
	if (!m) {
		usage(stderr);
		return 1;
	}
	while ((ch = getopt(argc - 1, argv + 1, "a:p:N:t:n:b:s:w:r:")) != -1) {
		switch (ch) {
		case 'a':
			o.addr = optarg;
			break;
		case 'p':
			o.port = num(optarg, 1, 65535);
			port_set = true;
			break;
		case 'N':
			o.node = num(optarg, 1, UINT32_MAX);
			break;
		case 't':
			o.secs = strtod(optarg, &end);
			if (*end || o.secs <= 0 || o.secs > 3600)
				die("bad duration \"%s\"", optarg);
			break;
		case 'n':
			o.count = num(optarg, 1, UINT64_MAX >> 1);
			break;
		case 'b':
			o.batch = num(optarg, 1, MAX_BATCH);
			break;
		case 's':
			o.size = num(optarg, 8, MAX_SIZE);
			break;
		case 'w':
			o.warmup = num(optarg, 0, 1000000);
			break;
		case 'r':
			o.rcvbuf = num(optarg, 4096, 1 << 30);
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1)
		die("unexpected argument \"%s\"", argv[optind + 1]);
	if (!port_set)
		o.port = strncmp(m->name, "cohort", 6) ? DEF_PORT : DEF_CPORT;
	/* Every mode is bounded: by default 3 s of sending, 30 s to wait. */
	if (!o.secs)
		o.secs = m->server || !strcmp(m->name + strlen(m->name) - 3, "rtt") ||
			 !strcmp(m->name, "cohort-ping") ? 30 : 3;
	if (!o.count)
		o.count = strstr(m->name, "rtt") || strstr(m->name, "ping") ?
			  1000 : UINT64_MAX >> 1;
	if ((!strcmp(m->name, "tcp-send") || !strcmp(m->name, "udp-rtt")) && !o.addr)
		die("%s needs -a ADDR", m->name);
	if (!strncmp(m->name, "cohort-", 7) && !m->server && !o.node)
		die("%s needs -N NODE", m->name);
	setvbuf(stdout, NULL, _IOLBF, 0);
	return m->fn(&o);
}
