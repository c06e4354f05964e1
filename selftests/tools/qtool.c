// SPDX-License-Identifier: GPL-2.0
/*
 * qtool: sequenced messages through a cohort queue or topic, for the shell
 * scenarios (queue_*.sh). Raw ioctls on /dev/cohort and the queue
 * descriptor; QUEUE_GET over generic netlink (libnl) for "stat".
 *
 *	qtool produce NAME COUNT [-s SIZE] [-b BATCH] [-p PRIO] [-i ID]
 *		[--create persistent|transient [-m MAX_MSGS] [-B MAX_BYTES]]
 *		[--topic] [-P PAUSE_MS] [-w OPEN_MS] [-W GIVEUP_MS] [-F SEQ]
 *		send messages 1..COUNT. Each payload is SIZE bytes (at least
 *		16, default 64): the producer id (ID, default this actor's
 *		id) and the sequence number, both big-endian u64, then a
 *		pattern derived from them. -s mixed: sizes from 16 to
 *		COHORT_QMSG_MAX (tiny, odd and full-size ones mixed) that
 *		follow from the sequence number. BATCH messages per QSEND (default
 *		1), pausing PAUSE_MS after each batch (default 0). A full
 *		queue, an unreachable home or a timeout is retried
 *		until no message was accepted for GIVEUP_MS (default 60000).
 *		--create makes the queue (mode 0666) when missing, with
 *		MAX_MSGS and MAX_BYTES if given. -F: message SEQ points
 *		at an unreadable page (bad input: the send fails there).
 *		-V WIDE: the actor's vector first takes WIDE entries of
 *		ids no actor has, so that its stamps are WIDE + 1 entries
 *		wide (at COHORT_VC_MAX_ENTRIES, no other actor can take
 *		one).
 *	qtool consume NAME COUNT [-a ack|none] [-t IDLE_MS] [--topic]
 *		[--sub SUB] [--create persistent|transient] [-b BATCH]
 *		[--hold N] [-w OPEN_MS] [-q] [-s mixed] [-r RING_BYTES]
 *		[-H HDR] [-f PREFETCH] receive until COUNT distinct (producer, sequence) pairs came
 *		or nothing came for IDLE_MS (default 10000). One line per
 *		message on stdout, "SEQ PRODUCER MSG_ID DELIVERIES", printed
 *		before the message is acked (-a ack, the default, acks each
 *		batch; -a none is at-most-once); -q prints the summary only.
 *		--hold N: take N messages, never ack them, say "# holding N"
 *		on stderr and wait to be killed. -f: the open's prefetch
 *		(struct cohort_queue_open). -s mixed: a message whose
 *		length is not the one its sequence number implies counts
 *		as bad. -r: receive through a ring of RING_BYTES
 *		(COHORT_IOC_QRING), each record copied out and given back at
 *		once; -H HDR asks for records with HDR-byte headers (0: the
 *		first layout, without the key), and a record whose stamp
 *		lacks its sender's entry counts as bad. The summary says
 *		how many records QFILL moved from the store (filled N), and
 *		how many stamps were received without their vector
 *		(unmerged N). A message the actor's clocks cannot take
 *		(EOVERFLOW) is counted as refused and the next one taken;
 *		a descriptor that fails otherwise (other than for lack of
 *		messages) is opened again.
 *	qtool stat NAME
 *		the queue's QUEUE_GET counters, "KEY VALUE" per line (depth,
 *		bytes, inflight, consumers, producers, enqueued, delivered,
 *		acked, redelivered, dropped, expired, dead_lettered,
 *		rejected), then "subs N".
 *	qtool count
 *		"queues N subs N" on this node (QUEUE_GET dump).
 *	qtool del NAME [SUB]
 *		QUEUE_DEL of the queue, or of its durable subscription SUB.
 *
 * The queue is opened with retries while the name is not found or the home
 * is unreachable, for OPEN_MS (default 10000); once open, "# open NAME home
 * H" goes to stderr. produce and consume end with a summary line starting
 * "# qtool" on stdout. Exit status: 0 ok, 1 failed, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include <linux/cohort.h>

#define HDR_LEN		16
#define MAX_SIZE	COHORT_QMSG_MAX

struct opts {
	const char *name;
	uint64_t count;
	uint32_t size;
	uint32_t batch;
	uint32_t prio;
	uint64_t id;
	bool have_id;
	bool create;
	bool persistent;
	bool topic;
	const char *sub;
	bool ack;
	uint64_t idle_ms;
	uint64_t open_ms;
	uint64_t giveup_ms;
	uint64_t hold;
	bool quiet;
	bool mixed;
	uint32_t max_msgs;
	uint32_t max_bytes;
	uint64_t pause_ms;
	uint32_t ring;
	bool rec_v0;		/* -H 0: rec_size 0 asked for */
	uint32_t rec_size;	/* -H: else sizeof(struct cohort_qrec) */
	uint64_t fault_seq;
	uint32_t wide;
	uint32_t prefetch;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: qtool produce NAME COUNT [-s SIZE|mixed] [-b BATCH] [-p PRIO] [-i ID]\n"
		"                     [--create persistent|transient [-m MAX_MSGS] [-B MAX_BYTES]]\n"
		"                     [--topic] [-P PAUSE_MS] [-w OPEN_MS] [-W GIVEUP_MS] [-F SEQ]\n"
		"                     [-V WIDE]\n"
		"       qtool consume NAME COUNT [-a ack|none] [-t IDLE_MS] [--topic] [--sub SUB]\n"
		"                     [--create persistent|transient] [-b BATCH] [--hold N] [-w OPEN_MS] [-q]\n"
		"                     [-s mixed] [-r RING_BYTES] [-H HDR] [-f PREFETCH]\n"
		"       qtool stat NAME\n"
		"       qtool count\n"
		"       qtool del NAME [SUB]\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* One option at argv[*i] (its value, if any, after it); -1 if bad. */
static int parse_opt(struct opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
	uint64_t n;

	if (!strcmp(a, "--topic")) {
		o->topic = true;
		return 0;
	}
	if (!strcmp(a, "-q")) {
		o->quiet = true;
		return 0;
	}
	if (!v)
		return -1;
	(*i)++;
	if (!strcmp(a, "--create")) {
		o->create = true;
		if (!strcmp(v, "persistent"))
			o->persistent = true;
		else if (strcmp(v, "transient"))
			return -1;
	} else if (!strcmp(a, "--sub")) {
		o->sub = v;
	} else if (!strcmp(a, "-a")) {
		if (!strcmp(v, "none"))
			o->ack = false;
		else if (strcmp(v, "ack"))
			return -1;
	} else if (!strcmp(a, "-s") && !strcmp(v, "mixed")) {
		o->mixed = true;
	} else if (!strcmp(a, "-i")) {
		if (parse_u64(v, UINT64_MAX, &o->id))
			return -1;
		o->have_id = true;
	} else if (parse_u64(v, UINT32_MAX, &n)) {
		return -1;
	} else if (!strcmp(a, "-s")) {
		if (n < HDR_LEN || n > MAX_SIZE)
			return -1;
		o->size = n;
	} else if (!strcmp(a, "-b")) {
		if (!n || n > COHORT_QBATCH_MAX)
			return -1;
		o->batch = n;
	} else if (!strcmp(a, "-p")) {
		if (n > COHORT_QPRIO_MAX)
			return -1;
		o->prio = n;
	} else if (!strcmp(a, "-t")) {
		o->idle_ms = n;
	} else if (!strcmp(a, "-w")) {
		o->open_ms = n;
	} else if (!strcmp(a, "-W")) {
		o->giveup_ms = n;
	} else if (!strcmp(a, "-P")) {
		o->pause_ms = n;
	} else if (!strcmp(a, "-F")) {
		o->fault_seq = n;
	} else if (!strcmp(a, "-V")) {
		if (n >= COHORT_VC_MAX_ENTRIES)
			return -1;
		o->wide = n;
	} else if (!strcmp(a, "-m")) {
		o->max_msgs = n;
	} else if (!strcmp(a, "-B")) {
		o->max_bytes = n;
	} else if (!strcmp(a, "-r")) {
		if (n < COHORT_QRING_MIN || n > COHORT_QRING_MAX || n & (n - 1))
			return -1;
		o->ring = n;
	} else if (!strcmp(a, "-H")) {
		o->rec_v0 = !n;
		o->rec_size = n;
	} else if (!strcmp(a, "-f")) {
		o->prefetch = n;	/* the kernel checks it */
	} else if (!strcmp(a, "--hold")) {
		if (!n || n > COHORT_QBATCH_MAX)
			return -1;
		o->hold = n;
	} else {
		return -1;
	}
	return 0;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
	int i;

	o->size = 64;
	o->batch = 1;
	o->ack = true;
	o->idle_ms = 10000;
	o->open_ms = 10000;
	o->giveup_ms = 60000;
	if (argc < 2 || parse_u64(argv[1], UINT32_MAX, &o->count))
		return -1;
	o->name = argv[0];
	for (i = 2; i < argc; i++)
		if (parse_opt(o, argc, argv, &i))
			return -1;
	if ((o->sub && !o->topic) ||
	    ((o->max_msgs || o->max_bytes) && !o->create))
		return -1;
	return 0;
}

/* ---- the queue descriptor ---- */

/* A receive of @wide entries whose ids no actor has (top bit set). */
static int widen_vector(int dev, uint32_t wide)
{
	struct cohort_vc_entry in[COHORT_VC_MAX_ENTRIES];
	struct cohort_vclock v = {
		.size = sizeof(v),
		.op = COHORT_CLOCK_RECV,
		.in_ptr = (uintptr_t)in,
		.in_len = wide,
	};
	uint32_t i;

	for (i = 0; i < wide; i++) {
		in[i].id = (1ULL << 63) + i + 1;
		in[i].counter = 1;
	}
	if (ioctl(dev, COHORT_IOC_VCLOCK, &v)) {
		perror("qtool: VCLOCK");
		return -errno;
	}
	return 0;
}

static uint64_t actor_id(int dev)
{
	struct cohort_actor a = { .size = sizeof(a) };

	return ioctl(dev, COHORT_IOC_ACTOR, &a) ? 0 : a.actor_id;
}

static bool retry_open(int err)
{
	return err == -ENOENT || err == -EHOSTUNREACH || err == -ETIMEDOUT ||
	       err == -EAGAIN || err == -EINTR;
}

/* Open with @role, retrying for open_ms; the fd or -errno. */
static int open_queue(int dev, const struct opts *o, uint32_t role)
{
	uint64_t start = now_ms();
	struct cohort_queue_open q;
	int ret;

	for (;;) {
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.kind = o->topic ? COHORT_TOPIC : COHORT_QUEUE;
		q.role = role;
		q.mode = 0666;
		q.ack = o->ack ? COHORT_ACK_EXPLICIT : COHORT_ACK_NONE;
		q.flags = COHORT_QO_CLOEXEC | (o->create ? COHORT_QO_CREATE : 0);
		q.attr.flags = o->persistent ? COHORT_QA_PERSISTENT : 0;
		q.attr.max_msgs = o->max_msgs;
		q.attr.max_bytes = o->max_bytes;
		q.prefetch = role & COHORT_QR_CONSUME ? o->prefetch : 0;
		snprintf(q.name, sizeof(q.name), "%s", o->name);
		if (o->sub)
			snprintf(q.sub, sizeof(q.sub), "%s", o->sub);
		ret = ioctl(dev, COHORT_IOC_QUEUE_OPEN, &q) ? -errno : q.fd;
		if (ret >= 0) {
			fprintf(stderr, "# open %s home %u\n", o->name, q.home);
			return ret;
		}
		if (!retry_open(ret) || now_ms() - start >= o->open_ms)
			break;
		usleep(100000);
	}
	fprintf(stderr, "qtool: open %s: %s\n", o->name, strerror(-ret));
	return ret;
}

/* ---- payloads ---- */

/* -s mixed: what frames must pack around, in an order no batch repeats. */
static const uint32_t mixed_sizes[] = {
	16, MAX_SIZE, 17, 64, 1000, MAX_SIZE, 4096, 100, 8191, 24,
	MAX_SIZE - 1, 200, 16, 16, 33,
};

#define N_MIXED	(sizeof(mixed_sizes) / sizeof(mixed_sizes[0]))

static uint32_t msg_size(const struct opts *o, uint64_t seq)
{
	return o->mixed ? mixed_sizes[seq % N_MIXED] : o->size;
}

/* Bytes a message takes in the producer's batch buffer. */
static uint32_t slot_size(const struct opts *o)
{
	return o->mixed ? MAX_SIZE : o->size;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (56 - 8 * i);
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t pattern(uint64_t id, uint64_t seq, uint32_t i)
{
	return (uint8_t)(id * 13 + seq * 7 + i);
}

static void fill(uint8_t *p, uint32_t len, uint64_t id, uint64_t seq)
{
	uint32_t i;

	put_be64(p, id);
	put_be64(p + 8, seq);
	for (i = HDR_LEN; i < len; i++)
		p[i] = pattern(id, seq, i);
}

static bool intact(const uint8_t *p, uint32_t len)
{
	uint64_t id, seq;
	uint32_t i;

	if (len < HDR_LEN)
		return false;
	id = get_be64(p);
	seq = get_be64(p + 8);
	for (i = HDR_LEN; i < len; i++)
		if (p[i] != pattern(id, seq, i))
			return false;
	return true;
}

/* ---- produce ---- */

static bool retry_send(int err)
{
	return err == -EAGAIN || err == -ETIMEDOUT || err == -EHOSTUNREACH ||
	       err == -EINTR;
}

static int send_batch(int fd, const struct opts *o, uint64_t id, uint64_t seq,
		      uint32_t n, uint8_t *buf, struct cohort_qmsg_out *m,
		      const void *bad, uint32_t *sent)
{
	struct cohort_qsend s = {
		.size = sizeof(s),
		.count = n,
		.timeout_ms = 1000,
		.msgs = (uintptr_t)m,
	};
	uint8_t *p;
	uint32_t i;

	for (i = 0; i < n; i++) {
		p = buf + (size_t)i * slot_size(o);
		fill(p, msg_size(o, seq + i), id, seq + i);
		m[i] = (struct cohort_qmsg_out){
			.data = (uintptr_t)p,
			.len = msg_size(o, seq + i),
			.prio = o->prio,
		};
		if (seq + i == o->fault_seq)
			m[i].data = (uintptr_t)bad;
	}
	if (ioctl(fd, COHORT_IOC_QSEND, &s))
		return -errno;
	*sent = s.count;
	return 0;
}

static int do_produce(int argc, char **argv)
{
	uint64_t seq = 1, retries = 0, start, last_ok, id;
	struct cohort_qmsg_out *m;
	struct opts o = { 0 };
	uint8_t *buf;
	uint32_t n, sent;
	void *bad = MAP_FAILED;
	int dev, fd, ret = 0;

	if (parse_args(&o, argc, argv) || o.sub || o.hold)
		return usage();
	dev = open("/dev/cohort", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("qtool: /dev/cohort");
		return 1;
	}
	id = o.have_id ? o.id : actor_id(dev);
	if (o.wide && widen_vector(dev, o.wide)) {
		close(dev);
		return 1;
	}
	buf = malloc((size_t)o.batch * slot_size(&o));
	m = calloc(o.batch, sizeof(*m));
	if (o.fault_seq)
		bad = mmap(NULL, MAX_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	fd = open_queue(dev, &o, COHORT_QR_PRODUCE);
	if (fd < 0 || !buf || !m || (o.fault_seq && bad == MAP_FAILED)) {
		ret = fd < 0 ? fd : -ENOMEM;
		goto out;
	}
	start = last_ok = now_ms();
	while (seq <= o.count) {
		n = o.count - seq + 1 < o.batch ? o.count - seq + 1 : o.batch;
		sent = 0;
		ret = send_batch(fd, &o, id, seq, n, buf, m, bad, &sent);
		if (!ret) {
			seq += sent;
			last_ok = now_ms();
			if (o.pause_ms)
				usleep(o.pause_ms * 1000);
			continue;
		}
		if (!retry_send(ret) || now_ms() - last_ok >= o.giveup_ms) {
			fprintf(stderr, "qtool: send %" PRIu64 ": %s\n", seq,
				strerror(-ret));
			break;
		}
		retries++;
		if (ret == -EHOSTUNREACH)
			usleep(20000);
	}
	printf("# qtool produce: %s id %" PRIu64 " sent %" PRIu64 " of %"
	       PRIu64 " retries %" PRIu64 " in %" PRIu64 " ms: %s\n", o.name,
	       id, seq - 1, o.count, retries, now_ms() - start,
	       ret ? "FAILED" : "ok");
	close(fd);
out:
	if (bad != MAP_FAILED)
		munmap(bad, MAX_SIZE);
	free(buf);
	free(m);
	close(dev);
	return ret ? 1 : 0;
}

/* ---- consume ---- */

/*
 * Which (producer, sequence) pairs were seen: open addressing, at most
 * half full, doubled as it fills (COUNT may be "forever").
 */
struct seen {
	uint64_t cap;
	uint64_t n;
	uint64_t *id;
	uint64_t *seq;		/* 0: empty slot (sequences start at 1) */
};

static int seen_alloc(struct seen *s, uint64_t cap)
{
	s->cap = cap;
	s->n = 0;
	s->id = calloc(cap, sizeof(*s->id));
	s->seq = calloc(cap, sizeof(*s->seq));
	return s->id && s->seq ? 0 : -ENOMEM;
}

static uint64_t *seen_slot(const struct seen *s, uint64_t id, uint64_t seq)
{
	uint64_t h = (id * 0x9e3779b97f4a7c15ULL) ^ (seq * 0xc2b2ae3d27d4eb4fULL);
	uint64_t i = h & (s->cap - 1);

	while (s->seq[i] && (s->seq[i] != seq || s->id[i] != id))
		i = (i + 1) & (s->cap - 1);
	return &s->seq[i];
}

static void seen_put(struct seen *s, uint64_t id, uint64_t seq)
{
	uint64_t *slot = seen_slot(s, id, seq);

	s->id[slot - s->seq] = id;
	*slot = seq;
	s->n++;
}

static int seen_grow(struct seen *s)
{
	struct seen old = *s;
	uint64_t i;

	if (seen_alloc(s, 2 * old.cap)) {
		free(s->id);
		free(s->seq);
		*s = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.seq[i])
			seen_put(s, old.id[i], old.seq[i]);
	free(old.id);
	free(old.seq);
	return 0;
}

/* 1 if the pair is new (and now remembered), 0 if seen, or -ENOMEM. */
static int seen_add(struct seen *s, uint64_t id, uint64_t seq)
{
	if (*seen_slot(s, id, seq))
		return 0;
	if (2 * (s->n + 1) > s->cap && seen_grow(s))
		return -ENOMEM;
	seen_put(s, id, seq);
	return 1;
}

struct tally {
	uint64_t got, distinct, dups, bad, redelivered, refused, unmerged;
	bool nomem;
};

/* A receive ring, as mapped; unused (NULL ctl) without -r. */
struct ring {
	struct cohort_qring_ctl *ctl;
	void *ro;
	size_t ro_len;
	const struct cohort_qring_status *st;
	const uint8_t *data;
	uint64_t mask, head;
	uint32_t hdr;		/* record header bytes */
};

struct rxbuf {
	struct ring ring;
	uint64_t filled;	/* records QFILL moved from the store */
	struct cohort_qmsg_in m[COHORT_QBATCH_MAX];
	uint64_t ids[COHORT_QBATCH_MAX];
	uint8_t data[];		/* batch * MAX_SIZE */
};

static void ring_unmap(struct ring *rg)
{
	if (rg->ctl)
		munmap(rg->ctl, sysconf(_SC_PAGESIZE));
	if (rg->ro)
		munmap(rg->ro, rg->ro_len);
	memset(rg, 0, sizeof(*rg));
}

/*
 * The descriptor @fd receives through a ring of o->ring bytes from now on,
 * with the record header -H asked for.
 */
static int ring_map(int fd, const struct opts *o, struct ring *rg)
{
	uint32_t ask = o->rec_v0 ? 0 : o->rec_size ?: sizeof(struct cohort_qrec);
	uint32_t want = o->rec_v0 ? COHORT_QREC_SIZE_VER0 :
			ask < sizeof(struct cohort_qrec) ? ask :
			sizeof(struct cohort_qrec);
	struct cohort_qring_setup s = {
		.size = sizeof(s),
		.bytes = o->ring,
		.rec_size = ask,
	};
	long page = sysconf(_SC_PAGESIZE);

	ring_unmap(rg);
	if (ioctl(fd, COHORT_IOC_QRING, &s))
		return -errno;
	if (s.rec_size != want)
		return -EPROTO;
	rg->ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rg->ro = mmap(NULL, s.ro_len, PROT_READ, MAP_SHARED, fd, s.ro_offset);
	if (rg->ctl == MAP_FAILED || rg->ro == MAP_FAILED) {
		if (rg->ctl == MAP_FAILED)
			rg->ctl = NULL;
		if (rg->ro == MAP_FAILED)
			rg->ro = NULL;
		ring_unmap(rg);
		return -ENOMEM;
	}
	rg->ro_len = s.ro_len;
	rg->st = rg->ro;
	rg->data = (const uint8_t *)rg->ro + s.data_offset;
	rg->mask = o->ring - 1;
	rg->hdr = s.rec_size;
	rg->head = rg->ctl->head;
	return 0;
}

/* Does the stamp of @rec hold its sender's entry, as every stamp does? */
static bool rec_stamped(const struct ring *rg, const struct cohort_qrec *rec)
{
	const struct cohort_vc_entry *vc = (const void *)((const uint8_t *)rec +
							  rg->hdr);
	uint32_t i;

	for (i = 0; i < rec->vc_len; i++)
		if (vc[i].id == rec->sender)
			return vc[i].counter != 0;
	return false;
}

/* Up to @n records copied into @r as QRECV would have filled them in. */
static uint32_t ring_take(struct ring *rg, struct rxbuf *r, uint32_t n)
{
	uint64_t tail = __atomic_load_n(&rg->st->tail, __ATOMIC_ACQUIRE);
	const struct cohort_qrec *rec;
	uint32_t got = 0;
	uint8_t *dst;

	while (got < n && rg->head != tail) {
		rec = (const void *)(rg->data + (rg->head & rg->mask));
		dst = r->data + (size_t)got * MAX_SIZE;
		memcpy(dst, (const uint8_t *)rec + rg->hdr +
		       rec->vc_len * sizeof(struct cohort_vc_entry),
		       rec->data_len);
		r->m[got++] = (struct cohort_qmsg_in){
			.data = (uintptr_t)dst,
			/* Length 0 makes it count as bad. */
			.len = rec_stamped(rg, rec) ? rec->data_len : 0,
			.msg_id = rec->msg_id,
			.delivery_id = rec->delivery_id,
			.deliveries = rec->deliveries,
			.flags = rec->flags,
		};
		rg->head += rec->len;
	}
	__atomic_store_n(&rg->ctl->head, rg->head, __ATOMIC_RELEASE);
	return got;
}

static int ring_batch(int fd, struct rxbuf *r, uint32_t n, int timeout,
		      uint32_t *got)
{
	struct cohort_qfill f = { .size = sizeof(f), .timeout_ms = timeout };

	for (;;) {
		*got = ring_take(&r->ring, r, n);
		if (*got)
			return 0;
		if (ioctl(fd, COHORT_IOC_QFILL, &f))
			return -errno;
		r->filled += f.count;
	}
}

static int recv_batch(int fd, struct rxbuf *r, uint32_t n, int timeout,
		      uint32_t *got)
{
	struct cohort_qrecv q = {
		.size = sizeof(q),
		.count = n,
		.timeout_ms = timeout,
		.msgs = (uintptr_t)r->m,
	};
	uint32_t i;

	if (r->ring.ctl)
		return ring_batch(fd, r, n, timeout, got);
	for (i = 0; i < n; i++)
		r->m[i] = (struct cohort_qmsg_in){
			.data = (uintptr_t)(r->data + (size_t)i * MAX_SIZE),
			.cap = MAX_SIZE,
		};
	if (ioctl(fd, COHORT_IOC_QRECV, &q))
		return -errno;
	*got = q.count;
	return 0;
}

static void account(const struct opts *o, struct seen *s, struct tally *t,
		    const struct cohort_qmsg_in *m)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)m->data;
	uint64_t id, seq;

	t->got++;
	if (m->flags & COHORT_QM_REDELIVERED)
		t->redelivered++;
	if (m->flags & COHORT_QM_UNMERGED)
		t->unmerged++;
	if (!intact(p, m->len) || !get_be64(p + 8) ||
	    (o->mixed && m->len != msg_size(o, get_be64(p + 8)))) {
		t->bad++;
		return;
	}
	id = get_be64(p);
	seq = get_be64(p + 8);
	switch (seen_add(s, id, seq)) {
	case 1:
		t->distinct++;
		break;
	case 0:
		t->dups++;
		break;
	default:
		t->nomem = true;
	}
	if (!o->quiet)
		printf("%" PRIu64 " %" PRIu64 " %llu %u\n", seq, id,
		       (unsigned long long)m->msg_id, m->deliveries);
}

static int ack_batch(int fd, struct rxbuf *r, uint32_t n)
{
	struct cohort_qack a = {
		.size = sizeof(a),
		.op = COHORT_QACK_ACK,
		.count = n,
		.ids = (uintptr_t)r->ids,
	};
	uint32_t i;

	for (i = 0; i < n; i++)
		r->ids[i] = r->m[i].delivery_id;
	return ioctl(fd, COHORT_IOC_QACK, &a) ? -errno : 0;
}

/* Take --hold N messages and keep them in flight until killed. */
static int hold(int fd, const struct opts *o, struct rxbuf *r,
		struct seen *s, struct tally *t)
{
	uint64_t start = now_ms();
	uint32_t n = 0, got, i;
	int ret;

	while (n < o->hold) {
		ret = recv_batch(fd, r, o->hold - n, 1000, &got);
		if (ret == -ETIMEDOUT || ret == -EAGAIN || ret == -EINTR) {
			if (now_ms() - start >= o->idle_ms)
				return ret;
			continue;
		}
		if (ret)
			return ret;
		for (i = 0; i < got; i++)
			account(o, s, t, &r->m[i]);
		n += got;
	}
	fflush(stdout);
	fprintf(stderr, "# holding %u\n", n);
	for (;;)
		pause();
}

static int consume_loop(int dev, int *fd, const struct opts *o,
			struct rxbuf *r, struct seen *s, struct tally *t,
			uint64_t *reopens)
{
	uint64_t last = now_ms();
	uint32_t got, i;
	int ret = 0;

	while (t->distinct < o->count) {
		ret = recv_batch(*fd, r, o->batch, 1000, &got);
		if (!ret) {
			for (i = 0; i < got; i++)
				account(o, s, t, &r->m[i]);
			/* Printed before acked: a crash repeats, never loses. */
			fflush(stdout);
			if (o->ack)
				ret = ack_batch(*fd, r, got);
			if (!ret) {
				last = now_ms();
				continue;
			}
			fprintf(stderr, "qtool: ack: %s\n", strerror(-ret));
		}
		if (now_ms() - last >= o->idle_ms)
			return ret;
		if (ret == -ETIMEDOUT || ret == -EAGAIN || ret == -EINTR)
			continue;
		/* One message's stamp, not the descriptor's fault. */
		if (ret == -EOVERFLOW) {
			fprintf(stderr, "qtool: recv: %s, refused\n",
				strerror(-ret));
			t->refused++;
			continue;
		}
		/* Anything else: this descriptor is done; open another. */
		fprintf(stderr, "qtool: recv: %s, opening again\n",
			strerror(-ret));
		ring_unmap(&r->ring);
		close(*fd);
		(*reopens)++;
		*fd = open_queue(dev, o, COHORT_QR_CONSUME);
		if (*fd < 0)
			return *fd;
		if (o->ring && (ret = ring_map(*fd, o, &r->ring)))
			return ret;
	}
	return 0;
}

static int do_consume(int argc, char **argv)
{
	uint64_t start, reopens = 0;
	struct opts o = { 0 };
	struct seen s = { 0 };
	struct tally t = { 0 };
	struct rxbuf *r = NULL;
	int dev, fd = -1, ret;
	bool ok;

	if (parse_args(&o, argc, argv) || o.prio || o.have_id || o.pause_ms ||
	    o.wide)
		return usage();
	dev = open("/dev/cohort", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("qtool: /dev/cohort");
		return 1;
	}
	ret = seen_alloc(&s, 1024);
	if (!ret) {
		/* room for a batch, or for all that --hold takes at once */
		r = calloc(1, sizeof(*r) + (size_t)(o.hold > o.batch ? o.hold :
						    o.batch) * MAX_SIZE);
		ret = r ? 0 : -ENOMEM;
	}
	if (!ret) {
		fd = open_queue(dev, &o, COHORT_QR_CONSUME);
		ret = fd < 0 ? fd : 0;
	}
	if (!ret && o.ring)
		ret = ring_map(fd, &o, &r->ring);
	start = now_ms();
	if (!ret && o.hold)
		ret = hold(fd, &o, r, &s, &t);
	else if (!ret)
		ret = consume_loop(dev, &fd, &o, r, &s, &t, &reopens);
	ok = !ret && t.distinct == o.count && !t.bad && !t.nomem;
	fflush(stdout);
	printf("# qtool consume: %s got %" PRIu64 " distinct %" PRIu64
	       " dups %" PRIu64 " redelivered %" PRIu64 " bad %" PRIu64
	       " refused %" PRIu64 " reopens %" PRIu64 " filled %" PRIu64
	       " unmerged %" PRIu64 " in %" PRIu64 " ms: %s\n", o.name, t.got,
	       t.distinct, t.dups, t.redelivered, t.bad, t.refused, reopens,
	       r ? r->filled : 0, t.unmerged, now_ms() - start,
	       ok ? "ok" : "FAILED");
	if (r)
		ring_unmap(&r->ring);
	if (fd >= 0)
		close(fd);
	free(r);
	free(s.id);
	free(s.seq);
	close(dev);
	return ok ? 0 : 1;
}

/* ---- stat, count: QUEUE_GET ---- */

static const char *const stat_names[COHORT_A_QSTATS_MAX + 1] = {
	[COHORT_A_QSTATS_DEPTH] = "depth",
	[COHORT_A_QSTATS_BYTES] = "bytes",
	[COHORT_A_QSTATS_INFLIGHT] = "inflight",
	[COHORT_A_QSTATS_CONSUMERS] = "consumers",
	[COHORT_A_QSTATS_PRODUCERS] = "producers",
	[COHORT_A_QSTATS_ENQUEUED] = "enqueued",
	[COHORT_A_QSTATS_DELIVERED] = "delivered",
	[COHORT_A_QSTATS_ACKED] = "acked",
	[COHORT_A_QSTATS_REDELIVERED] = "redelivered",
	[COHORT_A_QSTATS_DROPPED] = "dropped",
	[COHORT_A_QSTATS_EXPIRED] = "expired",
	[COHORT_A_QSTATS_DEAD_LETTERED] = "dead_lettered",
	[COHORT_A_QSTATS_REJECTED] = "rejected",
};

struct getreq {
	int err;		/* 1 while waiting */
	bool dump;
	uint64_t queues, subs;
};

static void print_stats(struct nlattr *nest)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		int t = nla_type(a);

		if (t > COHORT_A_QSTATS_MAX || !stat_names[t])
			continue;
		printf("%s %" PRIu64 "\n", stat_names[t],
		       nla_len(a) == 8 ? nla_get_u64(a) :
		       (uint64_t)nla_get_u32(a));
	}
}

static int on_queue(struct nl_msg *msg, void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct getreq *r = arg;
	struct nlattr *a;
	uint64_t subs = 0;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem) {
		if (nla_type(a) == COHORT_A_QUEUE_SUB)
			subs++;
		else if (nla_type(a) == COHORT_A_QUEUE_STATS && !r->dump)
			print_stats(a);
	}
	r->queues++;
	r->subs += subs;
	if (!r->dump)
		printf("subs %" PRIu64 "\n", subs);
	return NL_OK;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	((struct getreq *)arg)->err = e->error;
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	((struct getreq *)arg)->err = 0;
	return NL_STOP;
}

/* One request: QUEUE_GET (dump or of @name) or QUEUE_DEL of @name/@sub. */
static int queue_req(uint8_t cmd, const char *name, const char *sub,
		     struct getreq *r)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *m = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int family, ret = -ENOMEM;

	r->err = 1;
	if (!sk || !m || !cb)
		goto out;
	ret = -ENOENT;
	if (genl_connect(sk) < 0)
		goto out;
	family = genl_ctrl_resolve(sk, COHORT_GENL_NAME);
	if (family < 0)
		goto out;
	ret = -ENOMEM;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 r->dump ? NLM_F_DUMP : 0, cmd, COHORT_GENL_VERSION) ||
	    (name && nla_put_string(m, COHORT_A_QUEUE_NAME, name)) ||
	    (sub && nla_put_string(m, COHORT_A_QUEUE_SUB_NAME, sub)))
		goto out;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_queue, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	ret = nl_send_auto(sk, m);
	while (ret >= 0 && r->err > 0)
		ret = nl_recvmsgs(sk, cb);
	ret = r->err > 0 ? -EIO : r->err;
out:
	nl_cb_put(cb);
	nlmsg_free(m);
	nl_socket_free(sk);
	return ret;
}

static int do_stat(int argc, char **argv)
{
	struct getreq r = { 0 };
	int ret;

	if (argc != 1)
		return usage();
	ret = queue_req(COHORT_CMD_QUEUE_GET, argv[0], NULL, &r);
	if (ret)
		fprintf(stderr, "qtool: QUEUE_GET %s: %s\n", argv[0],
			strerror(-ret));
	return ret ? 1 : 0;
}

static int do_count(int argc, char **argv)
{
	struct getreq r = { .dump = true };
	int ret;

	if (argc)
		return usage();
	ret = queue_req(COHORT_CMD_QUEUE_GET, NULL, NULL, &r);
	if (ret) {
		fprintf(stderr, "qtool: QUEUE_GET dump: %s\n", strerror(-ret));
		return 1;
	}
	printf("queues %" PRIu64 " subs %" PRIu64 "\n", r.queues, r.subs);
	return 0;
}

static int do_del(int argc, char **argv)
{
	struct getreq r = { 0 };
	int ret;

	if (argc < 1 || argc > 2)
		return usage();
	ret = queue_req(COHORT_CMD_QUEUE_DEL, argv[0], argc > 1 ? argv[1] : NULL,
			&r);
	if (ret)
		fprintf(stderr, "qtool: QUEUE_DEL %s: %s\n", argv[0],
			strerror(-ret));
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "produce"))
		return do_produce(argc - 2, argv + 2);
	if (!strcmp(argv[1], "consume"))
		return do_consume(argc - 2, argv + 2);
	if (!strcmp(argv[1], "stat"))
		return do_stat(argc - 2, argv + 2);
	if (!strcmp(argv[1], "count"))
		return do_count(argc - 2, argv + 2);
	if (!strcmp(argv[1], "del"))
		return do_del(argc - 2, argv + 2);
	return usage();
}
