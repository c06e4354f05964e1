// SPDX-License-Identifier: GPL-2.0
/*
 * cohort-qbench: one measurement of a message queue between two processes,
 * run by tools/bench.sh: cohort queues (raw ioctls on /dev/cohort) against
 * POSIX mqueue and a Unix SOCK_SEQPACKET socket pair.
 *
 *   cohort-qbench tput|rtt -k KIND [-s SIZE] [-b BATCH] [-t SECS] [-W SECS]
 *                 [-n COUNT] [-w WARMUP] [-d DEPTH] [-P NETNS] [-C NETNS]
 *                 [-H prod|cons] [-R BYTES [-Z]] [-c PCPU,CCPU]
 *
 * This process is the producer (round trips: the client); it forks the
 * consumer (the echo server). Before opening anything each may enter a
 * network namespace (-P for the producer, -C for the consumer, paths such
 * as /run/netns/NAME), so that a cohort queue homed on one node is used from
 * another. The side -H names (default the consumer) creates the queues by
 * bare name; the other opens them as "name@home", home being the node the
 * creator was told, which the result lines show (home=). With -c each
 * side first binds itself to one CPU, the producer to PCPU and the
 * consumer to CCPU.
 *
 * KIND:
 *   mq          mq_send/mq_receive, one message per call
 *   seqpacket   socketpair(AF_UNIX, SOCK_SEQPACKET): send/recv, or with
 *               -b N sendmmsg/recvmmsg (MSG_WAITFORONE) N per call
 *   cohort      COHORT_IOC_QSEND/QRECV, -b N messages per call
 *   cohort-rw   write(2)/read(2) on the queue descriptor
 * With -R BYTES a cohort consumer (and in rtt the echo side and the
 * client's return queue) receives through a ring of BYTES instead
 * (COHORT_IOC_QRING): up to -b records at a time, copied out of the ring
 * as a receive call would, or with -Z read where they are.
 * Queues hold -d DEPTH messages of -s SIZE bytes (mq_maxmsg; cohort
 * max_msgs, with max_bytes room for DEPTH messages and their vector
 * stamps; persistent, no acks); every send and receive blocks, and an
 * alarm bounds the whole run.
 *
 * tput: the producer sends for -W warm-up seconds plus -t seconds, then an
 *   end marker; the consumer times what arrives after the warm-up and
 *   checks order. Lines "consumer ..." and "producer ...".
 * rtt: -w untimed and then -n timed round trips of one message each way
 *   (at most -t seconds). Line "rtt ..." with p50_us and p99_us.
 *
 * copy: no queue; the floor of the copies in and out (see copy_floor()).
 *   Line "copy ..." with in_ns and out_ns per message and rate, the
 *   messages per second of the slower side.
 *
 * Exit status: 0 done, 1 error, 2 the contender is unavailable (a line
 * "KIND: unavailable (reason)" says why).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <mqueue.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/cohort.h>

#define DEV		"/dev/cohort"
#define MAX_SIZE	COHORT_QMSG_MAX
#define END_MARK	UINT64_MAX	/* seq of the end-of-test message */
#define SLACK_S		60		/* the alarm: run time plus this */
#define PEER_FAILED	(-1)		/* the other side exited early */
/* Queue bytes a message's vector stamp takes (16 per entry; a few here). */
#define STAMP_ROOM	(4 * sizeof(struct cohort_vc_entry))

enum kind { K_MQ, K_SEQPACKET, K_COHORT, K_COHORT_RW };

static const char *const kind_names[] = {
	[K_MQ] = "mq",
	[K_SEQPACKET] = "seqpacket",
	[K_COHORT] = "cohort",
	[K_COHORT_RW] = "cohort-rw",
};

struct opts {
	bool rtt;
	enum kind kind;
	unsigned int size, batch, depth, warm_n;
	unsigned int ring;		/* -R: ring bytes, 0: none */
	bool in_place;			/* -Z */
	uint64_t count;
	double secs, warm_s;
	const char *ns[2];		/* producer, consumer */
	int cpu[2];			/* -c: CPU of each side, -1: any */
	int creator;			/* SIDE_PROD or SIDE_CONS */
	char name[2][48];		/* queue to the consumer, and back */
};

enum { SIDE_PROD, SIDE_CONS };

/* A cohort receive ring, as mapped (see linux/cohort.h). */
struct ring {
	struct cohort_qring_ctl *ctl;
	const struct cohort_qring_status *st;
	const uint8_t *data;
	uint64_t mask, head, next;
	bool in_place;
};

/* One direction of one side: where it sends or receives. */
struct chan {
	enum kind kind;
	int fd;				/* socket or cohort queue descriptor */
	mqd_t mq;
	unsigned int size;
	struct ring *ring;		/* receiving through a ring */
};

/* A side's two directions (tput uses one) and its handshake pipe ends. */
struct side {
	int who;
	struct chan tx, rx;
	int in, out;
	uint32_t home;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cohort-qbench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void unavailable(const struct opts *o, const char *what, int err)
{
	printf("%s: unavailable (%s: %s)\n", kind_names[o->kind], what,
	       strerror(err));
	exit(2);
}

static bool is_cohort(enum kind k)
{
	return k == K_COHORT || k == K_COHORT_RW;
}

static void put_seq(char *buf, uint64_t seq)
{
	memcpy(buf, &seq, sizeof(seq));
}

static uint64_t get_seq(const char *buf)
{
	uint64_t seq;

	memcpy(&seq, buf, sizeof(seq));
	return seq;
}

/* ---- set-up ---- */

static void enter_ns(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		die("enter network namespace %s: %s", path, strerror(errno));
	close(fd);
}

static void put_u32(int fd, uint32_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		die("handshake write: %s", strerror(errno));
}

/* The peer's word, or 0 when it went away. */
static uint32_t get_u32(int fd)
{
	uint32_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? v : 0;
}

/* mq_maxmsg DEPTH needs RLIMIT_MSGQUEUE room for DEPTH * SIZE bytes. */
static void mq_rlimit(void)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	if (setrlimit(RLIMIT_MSGQUEUE, &rl) < 0 &&
	    !getrlimit(RLIMIT_MSGQUEUE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MSGQUEUE, &rl);
	}
}

static void mq_chan(const struct opts *o, struct chan *c, int dir,
		    bool create)
{
	struct mq_attr attr = { .mq_maxmsg = o->depth, .mq_msgsize = o->size };
	char name[64];

	snprintf(name, sizeof(name), "/%s", o->name[dir]);
	c->mq = create ? mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr) :
			 mq_open(name, O_RDWR);
	if (c->mq == (mqd_t)-1) {
		if (errno == ENOSYS)
			unavailable(o, "mq_open", errno);
		die("mq_open %s (maxmsg %u, msgsize %u): %s", name, o->depth,
		    o->size, strerror(errno));
	}
}

/* The consumer @c receives through a ring of o->ring bytes from now on. */
static void ring_chan(const struct opts *o, struct chan *c)
{
	struct cohort_qring_setup rs = {
		.size = sizeof(rs),
		.bytes = o->ring,
		.rec_size = sizeof(struct cohort_qrec),
	};
	long page = sysconf(_SC_PAGESIZE);
	struct ring *r = calloc(1, sizeof(*r));
	void *ro;

	if (!r)
		die("out of memory");
	if (ioctl(c->fd, COHORT_IOC_QRING, &rs) < 0) {
		if (errno == ENOTTY)
			unavailable(o, "COHORT_IOC_QRING", errno);
		die("COHORT_IOC_QRING %u: %s", o->ring, strerror(errno));
	}
	if (rs.rec_size != sizeof(struct cohort_qrec))
		die("COHORT_IOC_QRING: records with %u-byte headers", rs.rec_size);
	r->ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	ro = mmap(NULL, rs.ro_len, PROT_READ, MAP_SHARED, c->fd, rs.ro_offset);
	if (r->ctl == MAP_FAILED || ro == MAP_FAILED)
		die("mmap the ring: %s", strerror(errno));
	r->st = ro;
	r->data = (const uint8_t *)ro + rs.data_offset;
	r->mask = o->ring - 1;
	r->in_place = o->in_place;
	c->ring = r;
}

/*
 * Open o->name[dir] for @role; the creator makes it and learns its home,
 * the other side opens it there.
 */
static void cohort_chan(const struct opts *o, struct side *s,
			struct chan *c, int dir, uint32_t role)
{
	struct cohort_queue_open qo = {
		.size = sizeof(qo),
		.kind = COHORT_QUEUE,
		.role = role,
		.ack = COHORT_ACK_NONE,
	};
	int dev;

	dev = open(DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		unavailable(o, "open " DEV, errno);
	if (s->who == o->creator) {
		qo.flags = COHORT_QO_CREATE | COHORT_QO_EXCL;
		qo.mode = 0600;
		qo.attr.flags = COHORT_QA_PERSISTENT;
		qo.attr.max_msgs = o->depth;
		qo.attr.max_msg_size = o->size;
		qo.attr.max_bytes = o->depth * (o->size + STAMP_ROOM);
		snprintf(qo.name, sizeof(qo.name), "%s", o->name[dir]);
	} else {
		snprintf(qo.name, sizeof(qo.name), "%s@%u", o->name[dir],
			 s->home);
	}
	qo.flags |= COHORT_QO_CLOEXEC;
	if (ioctl(dev, COHORT_IOC_QUEUE_OPEN, &qo) < 0) {
		if (errno == ENOTTY)
			unavailable(o, "COHORT_IOC_QUEUE_OPEN", errno);
		die("open queue %s as %s: %s", qo.name,
		    role == COHORT_QR_PRODUCE ? "producer" : "consumer",
		    strerror(errno));
	}
	close(dev);
	c->fd = qo.fd;
	s->home = qo.home;
	if (role == COHORT_QR_CONSUME && o->ring)
		ring_chan(o, c);
}

static void open_chan(const struct opts *o, struct side *s, struct chan *c,
		      int dir, uint32_t role)
{
	c->kind = o->kind;
	c->size = o->size;
	if (o->kind == K_MQ)
		mq_chan(o, c, dir, s->who == o->creator);
	else if (is_cohort(o->kind))
		cohort_chan(o, s, c, dir, role);
}

/*
 * Direction 0 goes producer to consumer, direction 1 (round trips) back.
 * The producer sends on 0 and receives on 1, the consumer the other way.
 */
static void open_side(const struct opts *o, struct side *s)
{
	bool prod = s->who == SIDE_PROD;

	open_chan(o, s, prod ? &s->tx : &s->rx, 0,
		  prod ? COHORT_QR_PRODUCE : COHORT_QR_CONSUME);
	if (o->rtt)
		open_chan(o, s, prod ? &s->rx : &s->tx, 1,
			  prod ? COHORT_QR_CONSUME : COHORT_QR_PRODUCE);
}

/*
 * The creator opens first and passes the home node id (1 for the
 * baselines), the other opens and answers 1: both are attached before the
 * first message. A side that failed has exited and the other reads 0:
 * PEER_FAILED, the failed side's exit status says why.
 */
static int handshake(const struct opts *o, struct side *s)
{
	if (s->who == o->creator) {
		open_side(o, s);
		put_u32(s->out, is_cohort(o->kind) ? s->home : 1);
		if (!get_u32(s->in))
			return PEER_FAILED;
		if (o->kind == K_MQ) {
			char name[64];
			int dir;

			for (dir = 0; dir < (o->rtt ? 2 : 1); dir++) {
				snprintf(name, sizeof(name), "/%s", o->name[dir]);
				mq_unlink(name);
			}
		}
		return 0;
	}
	s->home = get_u32(s->in);
	if (!s->home)
		return PEER_FAILED;
	open_side(o, s);
	put_u32(s->out, 1);
	return 0;
}

/* ---- send and receive, blocking ---- */

struct msgbuf {
	char *data;			/* n * size bytes */
	const char **at;		/* where received message i is */
	unsigned int *len;		/* received lengths */
	struct cohort_qmsg_out *qout;
	struct cohort_qmsg_in *qin;
	struct mmsghdr *mm;
	struct iovec *iov;
};

static void msgbuf_init(struct msgbuf *b, unsigned int n, unsigned int size)
{
	unsigned int i;

	b->data = calloc(n, size);
	b->at = calloc(n, sizeof(*b->at));
	b->len = calloc(n, sizeof(*b->len));
	b->qout = calloc(n, sizeof(*b->qout));
	b->qin = calloc(n, sizeof(*b->qin));
	b->mm = calloc(n, sizeof(*b->mm));
	b->iov = calloc(n, sizeof(*b->iov));
	if (!b->data || !b->at || !b->len || !b->qout || !b->qin || !b->mm ||
	    !b->iov)
		die("out of memory");
	memset(b->data, 'x', (size_t)n * size);
	for (i = 0; i < n; i++) {
		char *p = b->data + (size_t)i * size;

		b->at[i] = p;
		b->qout[i].data = (uintptr_t)p;
		b->qout[i].len = size;
		b->qin[i].data = (uintptr_t)p;
		b->qin[i].cap = size;
		b->iov[i].iov_base = p;
		b->iov[i].iov_len = size;
		b->mm[i].msg_hdr.msg_iov = &b->iov[i];
		b->mm[i].msg_hdr.msg_iovlen = 1;
	}
}

static char *msg_at(const struct msgbuf *b, const struct chan *c,
		    unsigned int i)
{
	return b->data + (size_t)i * c->size;
}

/*
 * Up to @n records, waiting (COHORT_IOC_QFILL) for the first: copied into
 * @b, and given back at once, or (-Z) pointed at in place and given back
 * by recv_done().
 */
static unsigned int ring_recv(const struct chan *c, struct msgbuf *b,
			      unsigned int n)
{
	struct cohort_qfill f = {
		.size = sizeof(f),
		.timeout_ms = COHORT_WAIT_FOREVER,
	};
	struct ring *r = c->ring;
	const struct cohort_qrec *rec;
	unsigned int got = 0;
	uint64_t tail;

	for (;;) {
		tail = __atomic_load_n(&r->st->tail, __ATOMIC_ACQUIRE);
		while (got < n && r->next != tail) {
			rec = (const void *)(r->data + (r->next & r->mask));
			r->next += rec->len;
			b->at[got] = (const char *)(rec + 1) +
				     rec->vc_len * sizeof(struct cohort_vc_entry);
			b->len[got] = rec->data_len;
			if (!r->in_place) {
				memcpy(msg_at(b, c, got), b->at[got],
				       rec->data_len);
				b->at[got] = msg_at(b, c, got);
			}
			got++;
		}
		if (!r->in_place && r->next != r->head) {
			r->head = r->next;
			__atomic_store_n(&r->ctl->head, r->head,
					 __ATOMIC_RELEASE);
		}
		if (got)
			return got;
		f.flags = r->next != r->head ? COHORT_QFILL_NEXT : 0;
		f.next = r->next;
		while (ioctl(c->fd, COHORT_IOC_QFILL, &f) < 0)
			if (errno != EINTR)
				die("COHORT_IOC_QFILL: %s", strerror(errno));
	}
}

/* Records read in place go back once the caller is done with them. */
static void recv_done(const struct chan *c)
{
	struct ring *r = c->ring;

	if (r && r->next != r->head) {
		r->head = r->next;
		__atomic_store_n(&r->ctl->head, r->head, __ATOMIC_RELEASE);
	}
}

static unsigned int cohort_send(const struct chan *c, struct msgbuf *b,
				unsigned int n)
{
	struct cohort_qsend qs = {
		.size = sizeof(qs),
		.count = n,
		.timeout_ms = COHORT_WAIT_FOREVER,
		.msgs = (uintptr_t)b->qout,
	};

	while (ioctl(c->fd, COHORT_IOC_QSEND, &qs) < 0) {
		if (errno != EINTR)
			die("COHORT_IOC_QSEND: %s", strerror(errno));
	}
	if (!qs.count || qs.count > n)
		die("COHORT_IOC_QSEND: count %u out of %u", qs.count, n);
	return qs.count;
}

static unsigned int cohort_recv(const struct chan *c, struct msgbuf *b,
				unsigned int n)
{
	struct cohort_qrecv qr = {
		.size = sizeof(qr),
		.count = n,
		.timeout_ms = COHORT_WAIT_FOREVER,
		.msgs = (uintptr_t)b->qin,
	};
	unsigned int i;

	while (ioctl(c->fd, COHORT_IOC_QRECV, &qr) < 0) {
		if (errno != EINTR)
			die("COHORT_IOC_QRECV: %s", strerror(errno));
	}
	if (!qr.count || qr.count > n)
		die("COHORT_IOC_QRECV: count %u out of %u", qr.count, n);
	for (i = 0; i < qr.count; i++)
		b->len[i] = b->qin[i].len;
	return qr.count;
}

/* Send the first @n messages of @b; returns how many went (at least 1). */
static unsigned int send_msgs(const struct chan *c, struct msgbuf *b,
			      unsigned int n)
{
	ssize_t ret;

	switch (c->kind) {
	case K_MQ:
		while (mq_send(c->mq, b->data, c->size, 0) < 0)
			if (errno != EINTR)
				die("mq_send: %s", strerror(errno));
		return 1;
	case K_SEQPACKET:
		do {
			ret = n == 1 ? send(c->fd, b->data, c->size, 0) :
				       sendmmsg(c->fd, b->mm, n, 0);
		} while (ret < 0 && errno == EINTR);
		if (ret <= 0)
			die("send: %s", ret ? strerror(errno) : "nothing sent");
		return n == 1 ? 1 : ret;
	case K_COHORT:
		return cohort_send(c, b, n);
	case K_COHORT_RW:
		do {
			ret = write(c->fd, b->data, c->size);
		} while (ret < 0 && errno == EINTR);
		if (ret != (ssize_t)c->size)
			die("write: %s", ret < 0 ? strerror(errno) : "short");
		return 1;
	}
	return 0;
}

/* Receive up to @n messages into @b, waiting for the first; 0: peer gone. */
static unsigned int recv_msgs(const struct chan *c, struct msgbuf *b,
			      unsigned int n)
{
	ssize_t ret;
	int i;

	if (c->ring)
		return ring_recv(c, b, n);
	switch (c->kind) {
	case K_MQ:
		do {
			ret = mq_receive(c->mq, b->data, c->size, NULL);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0)
			die("mq_receive: %s", strerror(errno));
		b->len[0] = ret;
		return 1;
	case K_SEQPACKET:
		do {
			ret = n == 1 ? recv(c->fd, b->data, c->size, 0) :
				       recvmmsg(c->fd, b->mm, n, MSG_WAITFORONE, NULL);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0)
			die("recv: %s", strerror(errno));
		if (n == 1) {
			b->len[0] = ret;
			return ret ? 1 : 0;
		}
		for (i = 0; i < ret; i++)
			b->len[i] = b->mm[i].msg_len;
		/* A zero-length datagram is the peer's shutdown. */
		return ret && b->mm[0].msg_len ? ret : 0;
	case K_COHORT:
		return cohort_recv(c, b, n);
	case K_COHORT_RW:
		do {
			ret = read(c->fd, b->data, c->size);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0)
			die("read: %s", strerror(errno));
		b->len[0] = ret;
		return 1;
	}
	return 0;
}

static void send_end(const struct chan *c, struct msgbuf *b)
{
	put_seq(b->data, END_MARK);
	send_msgs(c, b, 1);
}

/* A result line ends with the node a cohort queue lives on, as opened. */
static void end_line(const struct opts *o, const struct side *s)
{
	if (is_cohort(o->kind))
		printf(" home=%u", s->home);
	putchar('\n');
}

/* ---- one-way throughput ---- */

struct tally {
	uint64_t msgs, calls, lost, reordered, badlen, next;
	double t0, t1;
};

/* Account one received batch; true once the end marker was seen. */
static bool tally_batch(struct tally *t, const struct chan *c,
			const struct msgbuf *b, unsigned int got, bool timed)
{
	unsigned int i;
	uint64_t seq;

	for (i = 0; i < got; i++) {
		seq = get_seq(b->at[i]);
		if (seq == END_MARK)
			return true;
		if (b->len[i] != c->size)
			t->badlen++;
		if (seq > t->next)
			t->lost += seq - t->next;
		else if (seq < t->next)
			t->reordered++;
		t->next = seq + 1;
		if (timed)
			t->msgs++;
	}
	return false;
}

static int consume(const struct opts *o, const struct side *s)
{
	struct tally t = { 0 };
	struct msgbuf b;
	double first = 0, now;
	unsigned int got;
	bool end = false, timed;

	msgbuf_init(&b, o->batch, o->size);
	while (!end) {
		got = recv_msgs(&s->rx, &b, o->batch);
		if (!got)
			break;
		now = now_s();
		if (!first)
			first = now;
		/* Timing starts with the first batch after the warm-up. */
		timed = t.t0 > 0;
		if (!timed && now >= first + o->warm_s)
			t.t0 = now;
		end = tally_batch(&t, &s->rx, &b, got, timed);
		recv_done(&s->rx);
		if (timed) {
			t.calls++;
			t.t1 = now;
		}
	}
	now = t.t1 - t.t0;
	printf("consumer kind=%s size=%u batch=%u ring=%u%s msgs=%" PRIu64
	       " secs=%.3f rate=%.0f mb_s=%.2f calls=%" PRIu64
	       " per_call=%.2f lost=%" PRIu64 " reordered=%" PRIu64
	       " badlen=%" PRIu64 " end=%d",
	       kind_names[o->kind], o->size, o->batch, o->ring,
	       o->in_place ? "/in-place" : "", t.msgs, now,
	       now > 0 ? t.msgs / now : 0,
	       now > 0 ? t.msgs * o->size / now / 1e6 : 0, t.calls,
	       t.calls ? (double)t.msgs / t.calls : 0, t.lost, t.reordered,
	       t.badlen, end);
	end_line(o, s);
	return !end || !t.msgs || t.lost || t.reordered || t.badlen;
}

static int produce(const struct opts *o, const struct side *s)
{
	double start = now_s(), end, t;
	uint64_t seq = 0, calls = 0;
	struct msgbuf b;
	unsigned int i;

	msgbuf_init(&b, o->batch, o->size);
	end = start + o->warm_s + o->secs;
	for (t = start; t < end; calls++) {
		for (i = 0; i < o->batch; i++)
			put_seq(msg_at(&b, &s->tx, i), seq + i);
		seq += send_msgs(&s->tx, &b, o->batch);
		if (o->batch > 1 || !(calls & 15))
			t = now_s();
	}
	t = now_s() - start;
	send_end(&s->tx, &b);
	printf("producer kind=%s size=%u batch=%u msgs=%" PRIu64
	       " secs=%.3f rate=%.0f calls=%" PRIu64 " per_call=%.2f\n",
	       kind_names[o->kind], o->size, o->batch, seq, t, seq / t, calls,
	       calls ? (double)seq / calls : 0);
	return 0;
}

/* ---- round trips ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted @v. */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * n + 0.999999);

	return n ? v[k ? k - 1 : 0] : 0;
}

static int echo(const struct opts *o, const struct side *s)
{
	struct msgbuf b;
	uint64_t n = 0;

	msgbuf_init(&b, 1, o->size);
	while (recv_msgs(&s->rx, &b, 1) && get_seq(b.at[0]) != END_MARK) {
		if (b.at[0] != b.data)
			memcpy(b.data, b.at[0], o->size);
		recv_done(&s->rx);
		send_msgs(&s->tx, &b, 1);
		n++;
	}
	printf("echo kind=%s echoed=%" PRIu64 "\n", kind_names[o->kind], n);
	return 0;
}

static int ping(const struct opts *o, const struct side *s)
{
	double deadline = now_s() + o->secs, sum = 0, *v, t0;
	uint64_t i, total = o->count + o->warm_n, stray = 0;
	struct msgbuf b;
	size_t n = 0;

	msgbuf_init(&b, 1, o->size);
	v = calloc(o->count, sizeof(*v));
	if (!v)
		die("out of memory");
	for (i = 0; i < total && now_s() < deadline; i++) {
		put_seq(b.data, i);
		t0 = now_s();
		send_msgs(&s->tx, &b, 1);
		for (;;) {
			if (!recv_msgs(&s->rx, &b, 1))
				die("the echo side went away");
			recv_done(&s->rx);
			if (get_seq(b.at[0]) == i && b.len[0] == o->size)
				break;
			stray++;
		}
		if (i >= o->warm_n)
			v[n++] = (now_s() - t0) * 1e6;
	}
	send_end(&s->tx, &b);
	qsort(v, n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("rtt kind=%s size=%u n=%zu stray=%" PRIu64
	       " p50_us=%.1f p99_us=%.1f min_us=%.1f mean_us=%.1f max_us=%.1f",
	       kind_names[o->kind], o->size, n, stray, pct(v, n, 50),
	       pct(v, n, 99), n ? v[0] : 0, n ? sum / n : 0,
	       n ? v[n - 1] : 0);
	end_line(o, s);
	return !n || stray;
}

/* ---- main ---- */

/* Keep this side on @cpu (-1: wherever the scheduler puts it). */
static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity %d: %s", cpu, strerror(errno));
}

static int run_side(const struct opts *o, struct side *s)
{
	int ret;

	/* A blocked side whose peer died ends here at the latest. */
	alarm((unsigned int)(o->warm_s + o->secs) + SLACK_S);
	pin(o->cpu[s->who]);
	enter_ns(o->ns[s->who]);
	ret = handshake(o, s);
	if (ret)
		return ret;
	if (s->who == SIDE_PROD)
		return o->rtt ? ping(o, s) : produce(o, s);
	return o->rtt ? echo(o, s) : consume(o, s);
}

/* Exit status of the child, as its own exit status says (2: unavailable). */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	fprintf(stderr, "cohort-qbench: the consumer died of signal %d\n",
		WTERMSIG(st));
	return 1;
}

/* One copy of @len bytes, into the kernel (@in) or out of it, or dies. */
static void copy_once(int fd, char *buf, size_t len, bool in)
{
	ssize_t n = in ? pwrite(fd, buf, len, 0) : pread(fd, buf, len, 0);

	if (n != (ssize_t)len)
		die("copy: %s: %s", in ? "pwrite" : "pread",
		    n < 0 ? strerror(errno) : "short");
}

/* Nanoseconds per message of one side, after the warm-up. */
static double copy_side(const struct opts *o, bool in)
{
	size_t len = (size_t)o->size * o->batch;
	double t0, end, t;
	uint64_t calls = 0;
	char *buf;
	int fd;

	fd = memfd_create("qbench-copy", MFD_CLOEXEC);
	buf = malloc(len);
	if (fd < 0 || !buf)
		die("copy: %s", strerror(errno));
	memset(buf, 'c', len);
	copy_once(fd, buf, len, true);
	end = now_s() + o->warm_s;
	do
		copy_once(fd, buf, len, in);
	while (now_s() < end);
	t0 = now_s();
	end = t0 + o->secs;
	do {
		copy_once(fd, buf, len, in);
		calls++;
		t = now_s();
	} while (t < end);
	free(buf);
	close(fd);
	return (t - t0) * 1e9 / ((double)calls * o->batch);
}

/*
 * copy: no queue, only the copies every receive call that copies out must
 * make. The producer side pwrite()s -b messages of -s bytes into a memfd
 * per call (user to kernel), the consumer side pread()s them from another
 * (kernel to user), each on its CPU and both at once, as a queue's two
 * sides run. A queue that copies each payload in and out cannot move
 * messages faster than the slower of the two. Page cache upkeep adds a
 * little to each page, so the floor is a shade high.
 */
static int copy_floor(const struct opts *o)
{
	int go[2], res[2];
	double in_ns, out_ns;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		alarm((unsigned int)(o->warm_s + o->secs) + SLACK_S);
		pin(o->cpu[SIDE_CONS]);
		get_u32(go[0]);
		out_ns = copy_side(o, false);
		if (write(res[1], &out_ns, sizeof(out_ns)) != sizeof(out_ns))
			exit(1);
		exit(0);
	}
	close(go[0]);
	close(res[1]);
	alarm((unsigned int)(o->warm_s + o->secs) + SLACK_S);
	pin(o->cpu[SIDE_PROD]);
	put_u32(go[1], 1);
	in_ns = copy_side(o, true);
	if (read(res[0], &out_ns, sizeof(out_ns)) != sizeof(out_ns) ||
	    reap(pid))
		die("copy: the copy-out side failed");
	printf("copy size=%u batch=%u in_ns=%.0f out_ns=%.0f rate=%.0f\n",
	       o->size, o->batch, in_ns, out_ns,
	       1e9 / (in_ns > out_ns ? in_ns : out_ns));
	return 0;
}

static int run(struct opts *o)
{
	struct side prod = { .who = SIDE_PROD }, cons = { .who = SIDE_CONS };
	int p2c[2], c2p[2], sp[2] = { -1, -1 }, ret, cret;
	pid_t pid;

	snprintf(o->name[0], sizeof(o->name[0]), "qbench-%d-0", (int)getpid());
	snprintf(o->name[1], sizeof(o->name[1]), "qbench-%d-1", (int)getpid());
	if (o->kind == K_MQ)
		mq_rlimit();
	if (o->kind == K_SEQPACKET &&
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		die("socketpair: %s", strerror(errno));
	/* A socket pair is both directions of each side. */
	prod.tx = (struct chan){ .kind = o->kind, .fd = sp[0], .size = o->size };
	prod.rx = prod.tx;
	cons.tx = (struct chan){ .kind = o->kind, .fd = sp[1], .size = o->size };
	cons.rx = cons.tx;
	if (pipe2(p2c, O_CLOEXEC) < 0 || pipe2(c2p, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	prod.in = c2p[0];
	prod.out = p2c[1];
	cons.in = p2c[0];
	cons.out = c2p[1];
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(sp[0]);
		close(p2c[1]);
		close(c2p[0]);
		ret = run_side(o, &cons);
		exit(ret == PEER_FAILED ? 1 : ret);
	}
	close(sp[1]);
	close(p2c[0]);
	close(c2p[1]);
	ret = run_side(o, &prod);
	/* The consumer's status decides, unless the producer failed. */
	cret = reap(pid);
	return ret && ret != PEER_FAILED ? ret : cret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cohort-qbench tput|rtt -k mq|seqpacket|cohort|cohort-rw\n"
		"         [-s SIZE] [-b BATCH] [-t SECS] [-W WARMUP_SECS] [-n COUNT]\n"
		"         [-w WARMUP_ROUNDS] [-d DEPTH] [-P NETNS] [-C NETNS] [-H prod|cons]\n"
		"         [-R RING_BYTES [-Z]] [-c PROD_CPU,CONS_CPU]\n"
		"       cohort-qbench copy [-s SIZE] [-b BATCH] [-t SECS] [-W WARMUP_SECS]\n"
		"         [-c PROD_CPU,CONS_CPU]\n"
		"  -t  tput: timed sending; rtt: deadline    -d  queue depth (messages)\n"
		"  -P, -C  network namespace (path) of the producer, the consumer\n"
		"  -H  which side creates and homes the queues (default cons)\n"
		"  -R  cohort consumers receive through a ring; -Z read it in place\n"
		"  -c  pin the producer and the consumer each to one CPU\n");
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

static double secs(const char *s, double min)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < min || v > 3600)
		die("bad duration \"%s\"", s);
	return v;
}

static enum kind parse_kind(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(s, kind_names[i]))
			return i;
	die("unknown kind \"%s\"", s);
	return 0;
}

static void check_opts(const struct opts *o, bool kind_set)
{
	if (!kind_set)
		die("-k KIND is required");
	if (o->rtt && o->batch != 1)
		die("round trips are one message each way: no -b");
	if (o->batch > 1 && (o->kind == K_MQ || o->kind == K_COHORT_RW))
		die("%s sends one message per call: no -b", kind_names[o->kind]);
	if ((o->ns[0] || o->ns[1]) && !is_cohort(o->kind))
		die("-P and -C are for cohort queues");
	if (o->ring && !is_cohort(o->kind))
		die("-R is for cohort queues");
	if (o->in_place && !o->ring)
		die("-Z reads a ring in place: it needs -R");
	if (o->depth * (o->size + STAMP_ROOM) > COHORT_QMAX_MAX_BYTES)
		die("-d %u x -s %u is above COHORT_QMAX_MAX_BYTES", o->depth,
		    o->size);
}

/* -c P,C: a CPU number for each side. */
static void parse_cpus(const char *arg, int *cpu)
{
	unsigned int p, c;
	int end = 0;

	if (sscanf(arg, "%u,%u%n", &p, &c, &end) != 2 || arg[end] ||
	    p >= CPU_SETSIZE || c >= CPU_SETSIZE)
		die("-c takes two CPU numbers: PROD,CONS");
	cpu[SIDE_PROD] = (int)p;
	cpu[SIDE_CONS] = (int)c;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.size = 64, .batch = 1, .depth = 1024, .warm_n = 100,
		.count = 2000, .secs = 3, .warm_s = 0.5, .creator = SIDE_CONS,
		.cpu = { -1, -1 },
	};
	bool kind_set = false, copy;
	int ch;

	if (argc < 2 || (strcmp(argv[1], "tput") && strcmp(argv[1], "rtt") &&
			 strcmp(argv[1], "copy"))) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 || strcmp(argv[1], "-h");
	}
	o.rtt = !strcmp(argv[1], "rtt");
	copy = !strcmp(argv[1], "copy");
	if (o.rtt)
		o.secs = 60;
	while ((ch = getopt(argc - 1, argv + 1, "k:s:b:t:W:n:w:d:P:C:H:R:Zc:")) != -1) {
		switch (ch) {
		case 'k':
			o.kind = parse_kind(optarg);
			kind_set = true;
			break;
		case 's':
			o.size = num(optarg, sizeof(uint64_t), MAX_SIZE);
			break;
		case 'b':
			o.batch = num(optarg, 1, COHORT_QBATCH_MAX);
			break;
		case 't':
			o.secs = secs(optarg, 0.1);
			break;
		case 'W':
			o.warm_s = secs(optarg, 0);
			break;
		case 'n':
			o.count = num(optarg, 1, 10000000);
			break;
		case 'w':
			o.warm_n = num(optarg, 0, 1000000);
			break;
		case 'd':
			o.depth = num(optarg, 1, COHORT_QMAX_MAX_MSGS);
			break;
		case 'P':
			o.ns[SIDE_PROD] = optarg;
			break;
		case 'C':
			o.ns[SIDE_CONS] = optarg;
			break;
		case 'R':
			o.ring = num(optarg, COHORT_QRING_MIN, COHORT_QRING_MAX);
			if (o.ring & (o.ring - 1))
				die("-R takes a power of two");
			break;
		case 'Z':
			o.in_place = true;
			break;
		case 'c':
			parse_cpus(optarg, o.cpu);
			break;
		case 'H':
			if (strcmp(optarg, "prod") && strcmp(optarg, "cons"))
				die("-H prod or -H cons");
			o.creator = strcmp(optarg, "prod") ? SIDE_CONS : SIDE_PROD;
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1)
		die("unexpected argument \"%s\"", argv[optind + 1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (copy) {
		if (kind_set || o.ring || o.in_place || o.ns[SIDE_PROD] ||
		    o.ns[SIDE_CONS])
			die("copy takes -s, -b, -t, -W and -c only");
		return copy_floor(&o);
	}
	check_opts(&o, kind_set);
	return run(&o);
}
