// SPDX-License-Identifier: GPL-2.0
/*
 * msgseq: sequenced 64-byte datagrams through the cohort overlay, for the
 * reliability and teardown scenarios.
 *
 *	msgseq recv PORT COUNT [TIMEOUT_MS] [-l LINGER_MS] [-s SRC]
 *		bind PORT (with a 32 MiB receive buffer), print "# bound port
 *		PORT" on stderr, then receive until messages 1..COUNT arrived
 *		or TIMEOUT_MS (default 120000) passed; after the last one, wait
 *		LINGER_MS more (default 500) for anything extra. Each message
 *		must be 64 bytes: a big-endian sequence number and a pattern
 *		derived from it (and come from node SRC, if given). Exit 0 when
 *		exactly 1..COUNT arrived, each once, in order, intact.
 *	msgseq send NODE PORT COUNT [-p PAUSE_MS] [-u] [-W TIMEOUT_MS]
 *		send messages 1..COUNT to (NODE, PORT); retry on EAGAIN (queue
 *		full), and with -u also on EHOSTUNREACH (link flaps); pause
 *		PAUSE_MS after every 100 messages; give up when no message was
 *		accepted for TIMEOUT_MS (default 60000). Exit 0 when all were
 *		accepted.
 *
 * Both print a one-line summary on stdout. Exit status: 0 ok, 1 failed,
 * 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcohort.h"

#define MSG_LEN		64
#define RCVBUF		(32 << 20)

static struct cohort_msg msg;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill(uint8_t *buf, uint64_t seq)
{
	int i;

	for (i = 0; i < 8; i++)
		buf[i] = seq >> (56 - 8 * i);
	for (i = 8; i < MSG_LEN; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
}

static uint64_t get_seq(const uint8_t *buf)
{
	uint64_t seq = 0;
	int i;

	for (i = 0; i < 8; i++)
		seq = seq << 8 | buf[i];
	return seq;
}

static int intact(const uint8_t *buf, uint64_t seq)
{
	int i;

	for (i = 8; i < MSG_LEN; i++)
		if (buf[i] != (uint8_t)(seq * 7 + i))
			return 0;
	return 1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: msgseq recv PORT COUNT [TIMEOUT_MS] [-l LINGER_MS] [-s SRC]\n"
		"       msgseq send NODE PORT COUNT [-b BATCH] [-p PAUSE_MS] [-u] [-W TIMEOUT_MS]\n");
	return 2;
}

struct recv_state {
	uint64_t next;		/* sequence number expected next */
	uint64_t received;
	uint64_t dups;		/* at or below one already seen */
	uint64_t gaps;		/* numbers skipped */
	uint64_t bad;		/* wrong length, payload or source */
	uint64_t extra;		/* beyond COUNT */
	char first_error[160];
};

static void __attribute__((format(printf, 2, 3)))
note(struct recv_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(st->first_error, sizeof(st->first_error), fmt, ap);
	va_end(ap);
}

static void check(struct recv_state *st, uint64_t count, int64_t src)
{
	uint64_t seq;

	st->received++;
	if (msg.len != MSG_LEN) {
		st->bad++;
		note(st, "message %" PRIu64 " has %zu bytes", st->received,
		     msg.len);
		return;
	}
	seq = get_seq(msg.payload);
	if (!intact(msg.payload, seq)) {
		st->bad++;
		note(st, "message %" PRIu64 " (seq %" PRIu64 ") corrupt",
		     st->received, seq);
		return;
	}
	if (src >= 0 && msg.src != (uint64_t)src) {
		st->bad++;
		note(st, "seq %" PRIu64 " from node %" PRIu32, seq, msg.src);
		return;
	}
	if (seq == 0 || seq > count) {
		st->extra++;
		note(st, "seq %" PRIu64 " out of range 1..%" PRIu64, seq, count);
	} else if (seq < st->next) {
		st->dups++;
		note(st, "seq %" PRIu64 " again (expected %" PRIu64 ")", seq,
		     st->next);
	} else if (seq > st->next) {
		st->gaps += seq - st->next;
		note(st, "seq %" PRIu64 " while %" PRIu64 " was expected", seq,
		     st->next);
		st->next = seq + 1;
	} else {
		st->next++;
	}
}

static int do_recv(int argc, char **argv)
{
	uint64_t port, count, timeout = 120000, linger = 500, v, start,
		 deadline, now;
	struct recv_state st = { .next = 1 };
	struct cohort *c;
	int64_t src = -1;
	int i, ret, done = 0, in_order;

	if (argc < 2 || parse_u64(argv[0], UINT32_MAX, &port) || !port ||
	    parse_u64(argv[1], UINT32_MAX, &count))
		return usage();
	i = 2;
	if (i < argc && argv[i][0] != '-') {
		if (parse_u64(argv[i], INT32_MAX, &timeout))
			return usage();
		i++;
	}
	for (; i < argc; i += 2) {
		if (i + 1 >= argc || parse_u64(argv[i + 1], UINT32_MAX, &v))
			return usage();
		if (!strcmp(argv[i], "-l"))
			linger = v;
		else if (!strcmp(argv[i], "-s"))
			src = v;
		else
			return usage();
	}

	ret = cohort_open_netlink(&c);
	if (ret < 0) {
		fprintf(stderr, "msgseq: open: %s\n", strerror(-ret));
		return 1;
	}
	ret = cohort_msg_set_rcvbuf(c, RCVBUF);
	if (ret < 0) {
		fprintf(stderr, "msgseq: rcvbuf: %s %s\n", strerror(-ret),
			cohort_errmsg(c));
		goto out;
	}
	ret = cohort_msg_bind(c, port);
	if (ret < 0) {
		fprintf(stderr, "msgseq: bind %" PRIu64 ": %s %s\n", port,
			strerror(-ret), cohort_errmsg(c));
		goto out;
	}
	fprintf(stderr, "# bound port %" PRIu64 "\n", port);
	fflush(stderr);

	start = now_ms();
	deadline = start + timeout;
	for (;;) {
		now = now_ms();
		if (!done && st.next > count) {
			/* All in: anything that still comes is one too many. */
			done = 1;
			deadline = now + linger;
		}
		if (now >= deadline)
			break;
		ret = cohort_msg_recv(c, &msg, (int)(deadline - now));
		if (ret == -EINTR)
			continue;
		if (ret == -ETIMEDOUT || ret == -EAGAIN)
			continue;	/* the deadline check ends the loop */
		if (ret < 0) {
			fprintf(stderr, "msgseq: recv: %s %s\n", strerror(-ret),
				cohort_errmsg(c));
			if (ret == -ENOBUFS)
				note(&st, "receive buffer overrun after %" PRIu64
				     " messages", st.received);
			st.bad++;
			break;
		}
		if (done) {
			st.extra++;
			note(&st, "message after the last one (seq %" PRIu64 ")",
			     msg.len >= 8 ? get_seq(msg.payload) : 0);
			continue;
		}
		check(&st, count, src);
	}
	in_order = st.next > count && !st.dups && !st.gaps && !st.bad &&
		   !st.extra;
	printf("msgseq recv: port %" PRIu64 " received %" PRIu64 " of %" PRIu64
	       " next %" PRIu64 " dups %" PRIu64 " gaps %" PRIu64 " bad %"
	       PRIu64 " extra %" PRIu64 " in %" PRIu64 " ms: %s%s%s\n",
	       port, st.received, count, st.next, st.dups, st.gaps, st.bad,
	       st.extra, now_ms() - start, in_order ? "ok" : "FAILED",
	       st.first_error[0] ? ", first problem: " : "", st.first_error);
	ret = in_order ? 0 : -EPROTO;
out:
	cohort_close(c);
	return ret < 0 ? 1 : 0;
}

static int do_send(int argc, char **argv)
{
	uint64_t node, port, count, pause = 0, timeout = 60000, seq, eagain = 0,
		 unreach = 0, start, last_ok, batch = 1;
	uint8_t buf[COHORT_MSG_BATCH_MAX][MSG_LEN];
	struct iovec iov[COHORT_MSG_BATCH_MAX];
	struct cohort *c;
	int i, retry_unreach = 0, ret = 0;
	size_t n, sent;

	if (argc < 3 || parse_u64(argv[0], UINT32_MAX, &node) ||
	    parse_u64(argv[1], UINT32_MAX, &port) ||
	    parse_u64(argv[2], UINT64_MAX >> 1, &count))
		return usage();
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-u")) {
			retry_unreach = 1;
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			if (parse_u64(argv[++i], 60000, &pause))
				return usage();
		} else if (!strcmp(argv[i], "-W") && i + 1 < argc) {
			if (parse_u64(argv[++i], UINT32_MAX, &timeout))
				return usage();
		} else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
			if (parse_u64(argv[++i], COHORT_MSG_BATCH_MAX, &batch) ||
			    !batch)
				return usage();
		} else {
			return usage();
		}
	}

	ret = cohort_open_netlink(&c);
	if (ret < 0) {
		fprintf(stderr, "msgseq: open: %s\n", strerror(-ret));
		return 1;
	}
	start = last_ok = now_ms();
	for (seq = 1; seq <= count; seq += sent) {
		/* Up to -b messages per call; a partial batch resumes. */
		n = count - seq + 1 < batch ? count - seq + 1 : batch;
		for (i = 0; i < (int)n; i++) {
			fill(buf[i], seq + i);
			iov[i].iov_base = buf[i];
			iov[i].iov_len = MSG_LEN;
		}
		sent = 0;
		for (;;) {
			ret = cohort_msg_send_batch(c, node, port, 0, iov, n,
						    &sent);
			if (!ret)
				break;
			if (ret == -EAGAIN)
				eagain++;
			else if (ret == -EHOSTUNREACH && retry_unreach)
				unreach++;
			else
				break;
			if (now_ms() - last_ok >= timeout) {
				fprintf(stderr, "msgseq: nothing accepted for %"
					PRIu64 " ms\n", timeout);
				break;
			}
			usleep(ret == -EAGAIN ? 1000 : 10000);
		}
		if (ret) {
			fprintf(stderr, "msgseq: send %" PRIu64 ": %s %s\n", seq,
				strerror(-ret), cohort_errmsg(c));
			break;
		}
		last_ok = now_ms();
		if (pause && (seq + sent - 1) / 100 != (seq - 1) / 100)
			usleep(pause * 1000);
	}
	printf("msgseq send: node %" PRIu64 " port %" PRIu64 " sent %" PRIu64
	       " of %" PRIu64 " eagain %" PRIu64 " unreach %" PRIu64 " in %"
	       PRIu64 " ms: %s\n", node, port, seq - 1, count, eagain, unreach,
	       now_ms() - start, ret ? "FAILED" : "ok");
	cohort_close(c);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return do_recv(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return do_send(argc - 2, argv + 2);
	return usage();
}
