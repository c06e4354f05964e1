// SPDX-License-Identifier: GPL-2.0
/*
 * Receive rings of queue descriptors (COHORT_IOC_QRING, COHORT_IOC_QFILL,
 * mmap), through raw ioctls and the mappings themselves, as a process
 * that does not use libcohort would: setup and bad input, records written
 * straight by senders or filled from the store, wrap-around, acks, what
 * happens to records no one took, poll, clocks, budgets, and senders the
 * ring must not trust.
 *
 * The runner gives the root namespace node id 1; the fixture (lib_queue.h)
 * names every queue after the test's process and deletes them afterwards.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include <linux/cohort.h>

#include "lib_queue.h"

#define SMALL		COHORT_QRING_MIN
#define BIG		(1U << 20)

/* ---- the ring, as a process maps it ---- */

struct ring {
	int fd;
	uint32_t bytes;
	long page;
	struct cohort_qring_ctl *ctl;
	uint8_t *ro;
	size_t ro_len;
	const struct cohort_qring_status *st;
	const uint8_t *data;
	uint64_t head;
	uint32_t hdr;		/* record header bytes */
};

/*
 * A ring of @bytes whose records have headers of @rec_size bytes as
 * asked for (0: the first layout), which must come back as @hdr.
 */
static int ring_setup_hdr(int fd, uint32_t bytes, uint32_t rec_size,
			  uint32_t hdr, struct ring *r)
{
	struct cohort_qring_setup s = {
		.size = sizeof(s),
		.bytes = bytes,
		.rec_size = rec_size,
	};
	int ret = xioctl(fd, COHORT_IOC_QRING, &s);

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	if (ret)
		return ret;
	r->bytes = bytes;
	r->hdr = s.rec_size;
	r->page = sysconf(_SC_PAGESIZE);
	if (s.ro_offset != (uint64_t)r->page || s.data_offset != s.ro_offset ||
	    s.ro_len != r->page + 2ULL * bytes || s.rec_size != hdr)
		return -EPROTO;
	r->ctl = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->ctl == MAP_FAILED)
		return -errno;
	r->ro = mmap(NULL, s.ro_len, PROT_READ, MAP_SHARED, fd, s.ro_offset);
	if (r->ro == MAP_FAILED) {
		ret = -errno;
		munmap(r->ctl, r->page);
		r->ctl = NULL;
		return ret;
	}
	r->ro_len = s.ro_len;
	r->st = (const void *)r->ro;
	r->data = r->ro + s.data_offset;
	r->head = r->ctl->head;
	return 0;
}

static int ring_setup(int fd, uint32_t bytes, struct ring *r)
{
	return ring_setup_hdr(fd, bytes, sizeof(struct cohort_qrec),
			      sizeof(struct cohort_qrec), r);
}

static void ring_unmap(struct ring *r)
{
	if (r->ctl)
		munmap(r->ctl, r->page);
	if (r->ro)
		munmap(r->ro, r->ro_len);
	r->ctl = NULL;
	r->ro = NULL;
}

static uint64_t ring_tail(const struct ring *r)
{
	return __atomic_load_n(&r->st->tail, __ATOMIC_ACQUIRE);
}

static const struct cohort_qrec *rec_at(const struct ring *r, uint64_t pos)
{
	return (const void *)(r->data + (pos & (r->bytes - 1)));
}

static void ring_set_head(struct ring *r, uint64_t head)
{
	r->head = head;
	__atomic_store_n(&r->ctl->head, head, __ATOMIC_RELEASE);
}

static void ring_take(struct ring *r, const struct cohort_qrec *rec)
{
	ring_set_head(r, r->head + rec->len);
}

/* The complete record at head, or NULL. */
static const struct cohort_qrec *ring_peek(struct ring *r)
{
	const struct cohort_qrec *rec;

	if (r->head == ring_tail(r))
		return NULL;
	rec = rec_at(r, r->head);
	return rec;
}

static int ring_fill_at(int fd, int timeout, uint32_t flags, uint64_t next,
			uint32_t *count)
{
	struct cohort_qfill f = {
		.size = sizeof(f),
		.flags = flags,
		.timeout_ms = timeout,
		.next = next,
	};
	int ret = xioctl(fd, COHORT_IOC_QFILL, &f);

	if (count)
		*count = f.count;
	return ret;
}

static int ring_fill(int fd, int timeout, uint32_t *count)
{
	return ring_fill_at(fd, timeout, 0, 0, count);
}

/* The next record, filling the ring and waiting up to @timeout for one. */
static const struct cohort_qrec *ring_get(struct ring *r, int timeout)
{
	const struct cohort_qrec *rec = ring_peek(r);

	if (rec || ring_fill(r->fd, timeout, NULL))
		return rec;
	return ring_peek(r);
}

static const struct cohort_vc_entry *rec_vc(const struct cohort_qrec *rec)
{
	return (const void *)(rec + 1);
}

static const void *rec_data(const struct cohort_qrec *rec)
{
	return rec_vc(rec) + rec->vc_len;
}

static uint32_t rec_seq(const struct cohort_qrec *rec)
{
	return ((const struct pl *)rec_data(rec))->seq;
}

/* Take the next @n records, which must carry seq @first.. in order. */
static int take_seqs(struct ring *r, uint32_t first, uint32_t n, int timeout)
{
	const struct cohort_qrec *rec;
	uint32_t i;

	for (i = 0; i < n; i++) {
		rec = ring_get(r, timeout);
		if (!rec)
			return -ENODATA;
		if (rec_seq(rec) != first + i)
			return -EPROTO;
		ring_take(r, rec);
	}
	return 0;
}

/* A persistent queue (no acks unless @ack) with a ring consumer on dev2. */
static int ring_queue(FIXTURE_DATA(q) *self, const char *name, uint32_t ack,
		      uint32_t bytes, int *prod, struct ring *r)
{
	struct cohort_queue_attr a = { .flags = COHORT_QA_PERSISTENT };
	int cons;

	*prod = q_open(self->dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0, &a);
	if (*prod < 0)
		return *prod;
	cons = q_open(self->dev2, name, COHORT_QUEUE, COHORT_QR_CONSUME, ack,
		      NULL);
	if (cons < 0)
		return cons;
	return ring_setup(cons, bytes, r);
}

/* ---- setup and bad input ---- */

TEST_F(q, ring_bad_setup)
{
	const char *name = qname(self, "rbad");
	struct cohort_qring_setup s;
	struct rx *rx = rx_new();
	struct cohort_qfill f;
	struct ring r;
	int prod, cons;
	char buf[64];

	ASSERT_NE(NULL, rx);

	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(-EBADF, ring_setup(prod, SMALL, &r));
	ASSERT_RET(-ENOTTY, ring_setup(self->dev2, SMALL, &r));
	ASSERT_RET(-EINVAL, ring_setup(cons, SMALL + 4096, &r));
	ASSERT_RET(-EINVAL, ring_setup(cons, SMALL / 2, &r));
	ASSERT_RET(-EINVAL, ring_setup(cons, COHORT_QRING_MAX * 2U, &r));
	ASSERT_RET(-EINVAL, ring_setup(cons, 0, &r));
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.bytes = SMALL;
	s.flags = 1;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QRING, &s));
	s.flags = 0;
	/* A record header is a multiple of 8, and no shorter than the first. */
	s.rec_size = COHORT_QREC_SIZE_VER0 + 4;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QRING, &s));
	s.rec_size = COHORT_QREC_SIZE_VER0 - 8;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QRING, &s));
	s.rec_size = 1;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QRING, &s));
	s.rec_size = 0;
	s.size = 8;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QRING, &s));
	/* The structure runs into an unmapped page. */
	*(uint32_t *)(rw_end(self) - 4) = sizeof(s);
	ASSERT_RET(-EFAULT, xioctl(cons, COHORT_IOC_QRING, rw_end(self) - 4));

	/* Nothing to fill or map yet. */
	ASSERT_RET(-EINVAL, ring_fill(cons, 0, NULL));
	ASSERT_EQ(MAP_FAILED, mmap(NULL, self->page, PROT_READ, MAP_SHARED,
				   cons, 0));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	ASSERT_RET(-EBUSY, ring_setup(cons, SMALL, &r));
	/* Its messages go to the ring only. */
	ASSERT_RET(-EBUSY, recv1(cons, rx, 0));
	ASSERT_EQ(-1, read(cons, buf, sizeof(buf)));
	ASSERT_EQ(EBUSY, errno);

	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	f.flags = 2;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QFILL, &f));
	f.flags = 0;
	f.size = 8;
	ASSERT_RET(-EINVAL, xioctl(cons, COHORT_IOC_QFILL, &f));
	ring_unmap(&r);
	close(cons);
	close(prod);
	free(rx);
}

TEST_F(q, ring_mappings)
{
	const char *name = qname(self, "rmap");
	struct ring r;
	long pg = self->page;
	uint8_t *p;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	/* Private, writable beyond the first page, executable: refused. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_PRIVATE, r.fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_WRITE,
				   MAP_SHARED, r.fd, pg));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
				   MAP_SHARED, r.fd, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_EXEC,
				   MAP_SHARED, r.fd, 0));
	ASSERT_EQ(EPERM, errno);
	/* Beyond the ring. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_SHARED, r.fd,
				   pg * 2 + 2 * (long)SMALL));
	/* A read-only mapping cannot be made writable. */
	p = mmap(NULL, r.ro_len, PROT_READ, MAP_SHARED, r.fd, pg);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, pg, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	munmap(p, r.ro_len);
	/* The whole ring read-only in one piece is fine. */
	p = mmap(NULL, pg + r.ro_len, PROT_READ, MAP_SHARED, r.fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* The data pages appear twice: a wrapping record reads straight. */
	ASSERT_EQ(0, send1(prod, 7, 0, 0));
	ASSERT_EQ(0, memcmp(p + 2 * pg, p + 2 * pg + SMALL, SMALL));
	munmap(p, pg + r.ro_len);
	ASSERT_RET(0, take_seqs(&r, 7, 1, 0));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/* ---- delivery ---- */

TEST_F(q, ring_direct_delivery)
{
	const char *name = qname(self, "rdirect");
	struct cohort_vc_entry vc[VCSZ];
	const struct cohort_qrec *rec;
	uint64_t tail0, lam0, last_id = 0, stamp = 0;
	uint32_t i, sent;
	struct pl p;
	struct ring r;
	int prod, n;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	tail0 = ring_tail(&r);
	lam0 = lamport_read(self->dev2);
	/* One by write(2), then a batch, at priorities 3 and 5. */
	p.seq = 0;
	p.tag = 0x5eed;
	ASSERT_EQ((ssize_t)sizeof(p), write(prod, &p, sizeof(p)));
	ASSERT_RET(0, send_seqs(prod, 1, 9, 5, 0, &sent));
	ASSERT_EQ(9U, sent);
	/* In the ring already, with no call by the consumer. */
	ASSERT_LT(tail0, ring_tail(&r));
	for (i = 0; i < 10; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ(i, rec_seq(rec));
		EXPECT_EQ(sizeof(p), rec->data_len);
		EXPECT_EQ(0U, rec->flags);
		EXPECT_EQ(i ? 5U : 0U, rec->prio);
		EXPECT_EQ(1U, rec->deliveries);
		EXPECT_EQ(0ULL, rec->delivery_id);
		EXPECT_EQ(0ULL, rec->expire_ns);
		EXPECT_EQ(self->actor, rec->sender);
		EXPECT_LT(last_id, rec->msg_id);
		EXPECT_LT(stamp, rec->lamport);
		EXPECT_EQ(rec->lamport, vc_get(rec_vc(rec), rec->vc_len,
					       self->actor));
		EXPECT_EQ(0, rec->len % 8);
		EXPECT_LE(sizeof(*rec) + rec->vc_len * 16 + rec->data_len,
			  rec->len);
		last_id = rec->msg_id;
		stamp = rec->lamport;
		ring_take(&r, rec);
	}
	ASSERT_EQ(NULL, ring_peek(&r));
	/* Each delivery was a receive event of the consumer's actor. */
	EXPECT_LE((lam0 > stamp ? lam0 : stamp) + 1, lamport_read(self->dev2));
	n = vclock_read(self->dev2, vc, VCSZ);
	ASSERT_LT(0, n);
	EXPECT_EQ(stamp, vc_get(vc, n, self->actor));
	EXPECT_EQ(10ULL, vc_get(vc, n, self->actor2));
	EXPECT_EQ(10ULL, QSTAT(name, ENQUEUED));
	EXPECT_EQ(10ULL, QSTAT(name, DELIVERED));
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * Keys reach a ring through each way in: a sender's direct write, a fill
 * from the store; and survive records that go back to the store unread.
 */
TEST_F(q, ring_keys)
{
	const char *name = qname(self, "rkeys");
	uint32_t keys[3] = { 0xa0, 0xa1, UINT32_MAX }, count, i;
	const struct cohort_qrec *rec;
	struct ring r, r2;
	int prod, other;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ASSERT_RET(0, send_keys(prod, 0, keys, 3));
	for (i = 0; i < 3; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ(i, rec_seq(rec));
		EXPECT_EQ(keys[i], rec->key);
		EXPECT_EQ(0U, rec->__reserved);
		if (i)
			break;
		ring_take(&r, rec);
	}
	/* Two unread go back to the store, keys and all. */
	close(r.fd);
	ring_unmap(&r);
	ASSERT_FD(other, q_open(self->dev, name, COHORT_QUEUE,
				COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(other, SMALL, &r2));
	ASSERT_RET(0, ring_fill(other, 1000, &count));
	ASSERT_EQ(2U, count);
	for (i = 1; i < 3; i++) {
		rec = ring_peek(&r2);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ(i, rec_seq(rec));
		EXPECT_EQ(keys[i], rec->key);
		EXPECT_EQ(0U, rec->__reserved);
		ring_take(&r2, rec);
	}
	ASSERT_EQ(NULL, ring_peek(&r2));
	ring_unmap(&r2);
	close(other);
	close(prod);
}

/*
 * Record @rec of a ring whose headers are @hdr bytes: its seq, or -1 if it
 * is not laid out as such a record of one struct pl is. The first layout
 * ends with 8 more bytes, the kernel's copy of the key.
 */
static int64_t rec_hdr_seq(const struct cohort_qrec *rec, uint32_t hdr)
{
	const struct cohort_vc_entry *vc = (const void *)((const uint8_t *)rec +
							  hdr);
	const struct pl *p = (const void *)(vc + rec->vc_len);
	uint32_t len = hdr + rec->vc_len * sizeof(*vc) + sizeof(*p), i;
	bool self = false;

	len = (len + 7) & ~7U;
	if (hdr < sizeof(struct cohort_qrec))
		len += 8;
	/* Ids rise, and the sender's own entry counts its sends. */
	for (i = 0; i < rec->vc_len; i++) {
		if (!vc[i].id || (i && vc[i].id <= vc[i - 1].id))
			return -1;
		self |= vc[i].id == rec->sender && vc[i].counter;
	}
	if (rec->data_len != sizeof(*p) || rec->len != len || !self)
		return -1;
	return p->seq;
}

/*
 * A caller that predates the key asks for no header size (0) and gets the
 * first layout, 72 bytes with the vector right after; one that knows a
 * longer header than the kernel gets the kernel's. Through every writer:
 * a direct send, a fill from the store, and records that go back unread,
 * which keep their keys (the kernel's copy at the end of the record).
 */
TEST_F(q, ring_rec_sizes)
{
	const char *name = qname(self, "rsizes");
	uint32_t keys[3] = { 0xa0, 0xa1, 0xa2 }, count, i;
	const uint32_t cur = sizeof(struct cohort_qrec);
	const struct cohort_qrec *rec;
	struct ring r;
	int prod, cons;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ring_unmap(&r);
	close(r.fd);
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup_hdr(cons, SMALL, 0, COHORT_QREC_SIZE_VER0, &r));
	ASSERT_RET(0, send_keys(prod, 0, keys, 3));
	EXPECT_EQ(3ULL, QSTAT(name, DELIVERED));	/* straight in */
	for (i = 0; i < 3; i++) {
		ASSERT_NE(r.head, ring_tail(&r));
		rec = rec_at(&r, r.head);
		EXPECT_EQ(i, rec_hdr_seq(rec, COHORT_QREC_SIZE_VER0));
		EXPECT_EQ(1U, rec->deliveries);
		if (i == 2)
			break;
		ring_take(&r, rec);
	}
	/* The third goes back, key and all; any size from ours on is ours. */
	ring_unmap(&r);
	close(cons);
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup_hdr(cons, SMALL, 0xfffffff8U, cur, &r));
	ASSERT_RET(0, ring_fill(cons, 1000, &count));
	ASSERT_EQ(1U, count);
	rec = ring_peek(&r);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(2, rec_hdr_seq(rec, cur));
	EXPECT_EQ(keys[2], rec->key);
	EXPECT_EQ(0U, rec->__reserved);
	ring_take(&r, rec);
	ring_unmap(&r);
	close(cons);

	/* Keyed messages in the store, filled into a first-layout ring... */
	ASSERT_RET(0, send_keys(prod, 10, keys, 3));
	ASSERT_EQ(3ULL, QSTAT(name, DEPTH));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup_hdr(cons, SMALL, COHORT_QREC_SIZE_VER0,
				     COHORT_QREC_SIZE_VER0, &r));
	ASSERT_RET(0, ring_fill(cons, 1000, &count));
	ASSERT_EQ(3U, count);
	ASSERT_NE(r.head, ring_tail(&r));
	rec = rec_at(&r, r.head);
	EXPECT_EQ(10, rec_hdr_seq(rec, COHORT_QREC_SIZE_VER0));
	ring_take(&r, rec);
	ring_unmap(&r);
	close(cons);
	/* ...and the two not taken back out of it, keys kept. */
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	ASSERT_RET(0, ring_fill(cons, 1000, &count));
	ASSERT_EQ(2U, count);
	for (i = 1; i < 3; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ(10 + i, rec_hdr_seq(rec, cur));
		EXPECT_EQ(keys[i], rec->key);
		ring_take(&r, rec);
	}
	ASSERT_EQ(NULL, ring_peek(&r));
	ring_unmap(&r);
	close(cons);
	close(prod);
}

TEST_F(q, ring_fill_from_store)
{
	const char *name = qname(self, "rfill");
	struct cohort_queue_attr a = { .flags = COHORT_QA_PERSISTENT };
	const struct cohort_qrec *rec;
	uint32_t count;
	struct ring r;
	int prod, cons;

	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, &a));
	/* Sent before anyone consumes: they wait in the store. */
	ASSERT_RET(0, send_seqs(prod, 0, 5, 0, 0, NULL));
	ASSERT_RET(0, send_seqs(prod, 100, 2, 7, 0, NULL));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	ASSERT_EQ(NULL, ring_peek(&r));
	ASSERT_EQ(7ULL, QSTAT(name, DEPTH));
	ASSERT_RET(0, ring_fill(cons, 0, &count));
	ASSERT_EQ(7U, count);
	ASSERT_EQ(0ULL, QSTAT(name, DEPTH));
	/* Higher priority first, FIFO within one. */
	ASSERT_RET(0, take_seqs(&r, 100, 2, 0));
	rec = ring_peek(&r);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(0U, rec->prio);
	ASSERT_RET(0, take_seqs(&r, 0, 5, 0));
	/* Nothing left: non-blocking, then a timeout. */
	ASSERT_RET(-EAGAIN, ring_fill(cons, 0, &count));
	ASSERT_EQ(0U, count);
	ASSERT_RET(-ETIMEDOUT, ring_fill(cons, 100, NULL));
	ring_unmap(&r);
	close(cons);
	close(prod);
}

static void fill_bytes(uint8_t *p, uint32_t len, uint32_t seed)
{
	uint32_t j;

	for (j = 0; j < len; j++)
		p[j] = (uint8_t)(seed + j);
}

/* Sizes from 0 to 3000 bytes through a small ring, round and round. */
TEST_F(q, ring_wraps)
{
	const char *name = qname(self, "rwrap");
	static uint8_t buf[4096];
	const struct cohort_qrec *rec;
	struct cohort_qmsg_out o;
	uint32_t i, len;
	struct ring r;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	for (i = 0; i < 600; i++) {
		len = (i * 997) % 3001;
		fill_bytes(buf, len, i);
		memset(&o, 0, sizeof(o));
		o.data = (uintptr_t)buf;
		o.len = len;
		ASSERT_RET(0, q_send(prod, &o, 1, 0, NULL));
		/* Take every other one late, so that records straddle. */
		if (i % 2 == 0)
			continue;
		for (int k = 0; k < 2; k++) {
			uint32_t seq = i - 1 + k, l = (seq * 997) % 3001;
			static uint8_t want[4096];

			rec = ring_get(&r, 1000);
			ASSERT_NE(NULL, rec);
			ASSERT_EQ(l, rec->data_len);
			fill_bytes(want, l, seq);
			ASSERT_EQ(0, memcmp(want, rec_data(rec), l));
			ring_take(&r, rec);
		}
	}
	EXPECT_LT((uint64_t)SMALL * 10, r.head);
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/* A full ring leaves the rest in the store, in order, for the next fill. */
TEST_F(q, ring_full_spills)
{
	const char *name = qname(self, "rfull");
	static uint8_t buf[4000];
	struct cohort_qmsg_out o[40];
	uint32_t i, sent, got = 0, count;
	const struct cohort_qrec *rec;
	struct ring r;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	memset(o, 0, sizeof(o));
	for (i = 0; i < 40; i++) {
		o[i].data = (uintptr_t)buf;
		o[i].len = sizeof(buf);
	}
	ASSERT_RET(0, q_send(prod, o, 40, 0, &sent));
	ASSERT_EQ(40U, sent);
	/* What the ring does not hold waits, stamped with one entry. */
	EXPECT_EQ(40ULL - SMALL / ((sizeof(struct cohort_qrec) + 16 +
				    sizeof(buf) + 7) & ~7UL),
		  QSTAT(name, DEPTH));
	while (got < 40) {
		rec = ring_peek(&r);
		if (!rec) {
			ASSERT_RET(0, ring_fill(r.fd, 0, &count));
			ASSERT_LT(0U, count);
			continue;
		}
		EXPECT_EQ(got + 1, rec->msg_id);
		ring_take(&r, rec);
		got++;
	}
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/* A bad pointer stops the batch there, and nothing is counted for it. */
TEST_F(q, ring_bad_pointer)
{
	const char *name = qname(self, "rfault");
	struct cohort_qmsg_out o[3];
	struct pl p = { .seq = 1 };
	uint32_t sent;
	struct ring r;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	memset(o, 0, sizeof(o));
	o[0].data = (uintptr_t)&p;
	o[0].len = sizeof(p);
	o[1].data = (uintptr_t)rw_end(self);	/* unreadable */
	o[1].len = 16;
	o[2] = o[0];
	ASSERT_RET(0, q_send(prod, o, 3, 0, &sent));
	ASSERT_EQ(1U, sent);
	ASSERT_RET(-EFAULT, q_send(prod, &o[1], 1, 0, NULL));
	ASSERT_RET(0, take_seqs(&r, 1, 1, 0));
	ASSERT_EQ(NULL, ring_peek(&r));
	EXPECT_EQ(r.head, ring_tail(&r));
	/* Not the store either: the message after it was not sent. */
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	EXPECT_EQ(1ULL, QSTAT(name, ENQUEUED));
	EXPECT_EQ(1ULL, QSTAT(name, DELIVERED));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * A message whose payload and stamps exceed the queue's max_bytes is
 * refused with EMSGSIZE, as the store would: a ring with room does not
 * take it either. The one before it in the batch went.
 */
TEST_F(q, ring_too_big_for_queue)
{
	const char *name = qname(self, "rbig");
	struct cohort_queue_attr a = {
		.flags = COHORT_QA_PERSISTENT,
		.max_bytes = 1024,
	};
	static uint8_t buf[1024];
	struct cohort_qmsg_out o[2];
	uint32_t sent;
	struct ring r;
	int prod, cons;

	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, &a));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	memset(o, 0, sizeof(o));
	o[0].data = (uintptr_t)buf;
	o[0].len = 512;
	o[1].data = (uintptr_t)buf;
	o[1].len = sizeof(buf);		/* with its stamp, over 1024 */
	ASSERT_RET(0, q_send(prod, o, 2, 0, &sent));
	ASSERT_EQ(1U, sent);
	ASSERT_RET(-EMSGSIZE, q_send(prod, &o[1], 1, 0, NULL));
	ASSERT_RET(-EMSGSIZE, q_send(prod, &o[1], 1, 1000, NULL));
	ASSERT_EQ(-1, write(prod, buf, sizeof(buf)));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_NE(NULL, ring_peek(&r));
	EXPECT_EQ(512U, ring_peek(&r)->data_len);
	ring_take(&r, ring_peek(&r));
	EXPECT_EQ(NULL, ring_peek(&r));
	EXPECT_EQ(r.head, ring_tail(&r));
	EXPECT_EQ(1ULL, QSTAT(name, ENQUEUED));
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	/* Each refusal counts, the one at the end of the batch too. */
	EXPECT_EQ(4ULL, QSTAT(name, REJECTED));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * Sizes that fill a 64 KiB ring but for @room bytes: @n records of
 * payload @len (stamps of one entry).
 */
static uint32_t rec_len_of(uint32_t len)
{
	return (sizeof(struct cohort_qrec) + 16 + len + 7) & ~7U;
}

/*
 * A process that holds every record of a full ring and waits for more
 * hears ENOSPC at once: only it can make room. A message too big for the
 * room left is not overtaken by smaller ones of lower priority.
 */
TEST_F(q, ring_full_held)
{
	const char *name = qname(self, "rheld");
	static uint8_t big[16000], small[4000];
	struct cohort_qmsg_out o = { 0 };
	const struct cohort_qrec *rec;
	uint64_t t0, next;
	struct ring r;
	int prod, i;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	/* 14 records of 4088 bytes leave 8304 of 65536. */
	o.data = (uintptr_t)small;
	o.len = sizeof(small);
	for (i = 0; i < 14; i++)
		ASSERT_RET(0, q_send(prod, &o, 1, 0, NULL));
	ASSERT_EQ(14ULL * rec_len_of(sizeof(small)), ring_tail(&r) - r.head);
	o.data = (uintptr_t)big;
	o.len = sizeof(big);
	o.prio = 7;
	ASSERT_RET(0, q_send(prod, &o, 1, 0, NULL));
	ASSERT_RET(0, send_seqs(prod, 100, 3, 0, 0, NULL));
	EXPECT_EQ(4ULL, QSTAT(name, DEPTH));
	/* Holding all 14: no wait, ENOSPC. */
	next = ring_tail(&r);
	t0 = mono_ms();
	ASSERT_RET(-ENOSPC, ring_fill_at(r.fd, 5000, COHORT_QFILL_NEXT, next,
					 NULL));
	EXPECT_GT(AT_ONCE_MS, (int)(mono_ms() - t0));
	EXPECT_EQ(next, ring_tail(&r));		/* nothing small slipped in */
	/* Given back, the big one comes first, then the others. */
	for (i = 0; i < 14; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		ring_take(&r, rec);
	}
	rec = ring_get(&r, 1000);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(sizeof(big), rec->data_len);
	EXPECT_EQ(7U, rec->prio);
	ring_take(&r, rec);
	ASSERT_RET(0, take_seqs(&r, 100, 3, 1000));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * The consumer's clock cannot take the stamp: the fill fails with
 * EOVERFLOW, the record it reserved is taken back, and another consumer
 * gets the message.
 */
TEST_F(q, ring_stamp_overflow)
{
	const char *name = qname(self, "rovf");
	struct cohort_lamport l = {
		.size = sizeof(l),
		.op = COHORT_CLOCK_RECV,
		.time = UINT64_MAX - 1,
	};
	struct rx *rx = rx_new();
	uint64_t tail;
	struct ring r;
	int prod, other;

	ASSERT_NE(NULL, rx);
	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ASSERT_RET(0, xioctl(self->dev2, COHORT_IOC_LAMPORT, &l));
	ASSERT_EQ(UINT64_MAX, lamport_read(self->dev2));
	/* Not written straight in: the consumer's clock is not roomy. */
	tail = ring_tail(&r);
	ASSERT_RET(0, send1(prod, 5, 0, 0));
	EXPECT_EQ(tail, ring_tail(&r));
	ASSERT_RET(-EOVERFLOW, ring_fill(r.fd, 0, NULL));
	ASSERT_RET(-EOVERFLOW, ring_fill(r.fd, 0, NULL));
	EXPECT_EQ(tail, ring_tail(&r));
	EXPECT_EQ(NULL, ring_peek(&r));
	EXPECT_EQ(UINT64_MAX, lamport_read(self->dev2));
	ASSERT_FD(other, q_open(self->dev, name, COHORT_QUEUE,
				COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, recv1(other, rx, 1000));
	EXPECT_EQ(5U, seq_of(&rx->m[0]));
	EXPECT_EQ(1U, rx->m[0].deliveries);
	close(other);
	ring_unmap(&r);
	close(r.fd);
	close(prod);
	free(rx);
}

/*
 * A stamp too wide for any receiver outside it, first in line for a ring
 * consumer: the fill delivers it, flagged COHORT_QM_UNMERGED (its vector
 * not merged into the receiver's), and the message behind it as usual.
 */
TEST_F(q, ring_stamp_too_wide)
{
	struct cohort_vc_entry in[COHORT_VC_MAX_ENTRIES - 1];
	const char *name = qname(self, "rwide");
	const struct cohort_qrec *rec;
	int wide, prod, cons, dev3, i;
	struct ring r;

	for (i = 0; i < (int)ARRAY_SIZE(in); i++) {
		in[i].id = (1ULL << 63) + i + 1;
		in[i].counter = 1;
	}
	ASSERT_FD(dev3, open(DEV, O_RDWR | O_CLOEXEC));
	ASSERT_RET(0, vclock_recv(dev3, in, ARRAY_SIZE(in)));
	ASSERT_FD(wide, q_open(dev3, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			       &(struct cohort_queue_attr){
					.flags = COHORT_QA_PERSISTENT }));
	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	ASSERT_RET(0, send1(wide, 4, 0, 0));
	ASSERT_RET(0, send1(prod, 5, 0, 0));
	rec = ring_get(&r, 1000);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(4U, rec_seq(rec));
	EXPECT_EQ(COHORT_QM_UNMERGED, rec->flags);
	EXPECT_EQ(COHORT_VC_MAX_ENTRIES, rec->vc_len);
	ring_take(&r, rec);
	rec = ring_get(&r, 1000);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(5U, rec_seq(rec));
	EXPECT_EQ(0U, rec->flags);
	ring_take(&r, rec);
	EXPECT_EQ(0U, QSTAT(name, DEPTH));
	EXPECT_EQ(0U, QSTAT(name, REDELIVERED));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
	close(wide);
	close(dev3);
}

/* ---- acknowledgments and records no one took ---- */

TEST_F(q, ring_explicit_ack)
{
	const char *name = qname(self, "rack");
	struct cohort_queue_attr a = {
		.flags = COHORT_QA_PERSISTENT,
		.ack_timeout_ms = 2000,
	};
	const struct cohort_qrec *rec;
	uint64_t id[3], stale;
	struct ring r;
	int prod, cons, i;

	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, &a));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, COHORT_ACK_EXPLICIT, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	ASSERT_RET(0, send_seqs(prod, 0, 3, 0, 0, NULL));
	/* With acks, senders go through the store: nothing until a fill. */
	ASSERT_EQ(NULL, ring_peek(&r));
	for (i = 0; i < 3; i++) {
		rec = ring_get(&r, 1000);
		ASSERT_NE(NULL, rec);
		EXPECT_EQ((uint32_t)i, rec_seq(rec));
		EXPECT_NE(0ULL, rec->delivery_id);
		id[i] = rec->delivery_id;
		ring_take(&r, rec);
	}
	EXPECT_EQ(3ULL, QSTAT(name, INFLIGHT));
	ASSERT_RET(0, ack1(cons, id[0]));
	ASSERT_RET(-ESTALE, ack1(cons, id[0]));
	ASSERT_RET(0, nack1(cons, id[1]));
	rec = ring_get(&r, 1000);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(1U, rec_seq(rec));
	EXPECT_EQ(2U, rec->deliveries);
	EXPECT_EQ(COHORT_QM_REDELIVERED, rec->flags);
	ASSERT_RET(0, ack1(cons, rec->delivery_id));
	ring_take(&r, rec);
	/* seq 2 times out, comes back, and its old attempt is stale. */
	stale = id[2];
	rec = ring_get(&r, 10000);
	ASSERT_NE(NULL, rec);
	EXPECT_EQ(2U, rec_seq(rec));
	EXPECT_EQ(2U, rec->deliveries);
	ASSERT_RET(-ESTALE, ack1(cons, stale));
	ASSERT_RET(0, ack1(cons, rec->delivery_id));
	ring_take(&r, rec);
	EXPECT_EQ(3ULL, QSTAT(name, ACKED));
	EXPECT_EQ(0ULL, QSTAT(name, INFLIGHT));
	ring_unmap(&r);
	close(cons);
	close(prod);
}

/*
 * Records past head go back first in line, uncounted, when the
 * descriptor goes with its mappings: without acks, rebuilt from the ring.
 */
static void unread_go_back(struct __test_metadata *_metadata,
			   FIXTURE_DATA(q) *self, uint32_t ack)
{
	const char *name = qname(self, ack == COHORT_ACK_EXPLICIT ? "rback2" :
				 "rback");
	struct rx *rx = rx_new();
	struct ring r;
	uint32_t got, i;
	int prod, other;

	ASSERT_NE(NULL, rx);
	ASSERT_RET(0, ring_queue(self, name, ack, SMALL, &prod, &r));
	ASSERT_RET(0, send_seqs_ttl(prod, 0, 6, 0, 60000, 0, NULL));
	ASSERT_RET(0, take_seqs(&r, 0, 2, 1000));
	if (ack == COHORT_ACK_EXPLICIT)
		ASSERT_RET(0, ring_fill(r.fd, 0, NULL));	/* all 6 out */
	close(r.fd);
	/* Still mapped: the ring and its records stay. */
	EXPECT_EQ(ack == COHORT_ACK_EXPLICIT ? 6ULL : 0ULL,
		  QSTAT(name, INFLIGHT));
	ring_unmap(&r);
	ASSERT_FD(other, q_open(self->dev, name, COHORT_QUEUE,
				COHORT_QR_CONSUME, 0, NULL));
	if (ack == COHORT_ACK_EXPLICIT) {
		/* The two taken, unacked, come back first; counted. */
		ASSERT_RET(0, recvn(other, rx, 2, 1000, &got));
		ASSERT_EQ(2U, got);
		for (i = 0; i < 2; i++) {
			EXPECT_EQ(i, seq_of(&rx->m[i]));
			EXPECT_EQ(2U, rx->m[i].deliveries);
		}
	}
	ASSERT_RET(0, recvn(other, rx, 8, 1000, &got));
	ASSERT_EQ(4U, got);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(i + 2, seq_of(&rx->m[i]));
		EXPECT_EQ(1U, rx->m[i].deliveries);
	}
	EXPECT_EQ(0ULL, QSTAT(name, REDELIVERED) -
		  (ack == COHORT_ACK_EXPLICIT ? 2 : 0));
	close(other);
	close(prod);
	free(rx);
}

TEST_F(q, ring_unread_back)
{
	unread_go_back(_metadata, self, COHORT_ACK_NONE);
}

TEST_F(q, ring_unread_back_acks)
{
	unread_go_back(_metadata, self, COHORT_ACK_EXPLICIT);
}

/* Unread records go back only as far as the store has room. */
TEST_F(q, ring_unread_store_full)
{
	const char *name = qname(self, "rback3");
	struct cohort_queue_attr a = {
		.flags = COHORT_QA_PERSISTENT,
		.max_msgs = 4,
	};
	struct rx *rx = rx_new();
	uint32_t got, i;
	struct ring r;
	int prod, cons;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, &a));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	/* The ring takes 10 although the store holds at most 4. */
	ASSERT_RET(0, send_seqs(prod, 0, 10, 0, 0, NULL));
	ring_unmap(&r);
	close(cons);
	EXPECT_EQ(4ULL, QSTAT(name, DEPTH));
	EXPECT_EQ(6ULL, QSTAT(name, DROPPED));
	ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
			       COHORT_QR_CONSUME, 0, NULL));
	ASSERT_RET(0, recvn(cons, rx, 8, 1000, &got));
	ASSERT_EQ(4U, got);
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i, seq_of(&rx->m[i]));
	close(cons);
	close(prod);
	free(rx);
}

/* A consumer killed with records in its ring: another gets them at once. */
TEST_F(q, ring_killed_consumer)
{
	const char *name = qname(self, "rkill");
	struct rx *rx = rx_new();
	int prod, other, pipefd[2];
	uint64_t t0;
	uint32_t got;
	pid_t pid;
	char c;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct ring r;
		int cons = q_open(self->dev2, name, COHORT_QUEUE,
				  COHORT_QR_CONSUME, 0, NULL);

		if (cons < 0 || ring_setup(cons, SMALL, &r))
			_exit(1);
		c = 'r';
		if (write(pipefd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	/* A transient queue with its ring consumer: they go to the ring. */
	ASSERT_RET(0, send_seqs(prod, 0, 5, 0, 0, NULL));
	EXPECT_EQ(5ULL, QSTAT(name, DELIVERED));
	ASSERT_FD(other, q_open(self->dev, name, COHORT_QUEUE,
				COHORT_QR_CONSUME, 0, NULL));
	t0 = mono_ms();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ASSERT_RET(0, recvn(other, rx, 8, 5000, &got));
	EXPECT_GT(AT_ONCE_MS, (int)(mono_ms() - t0));
	ASSERT_EQ(5U, got);
	EXPECT_EQ(0U, seq_of(&rx->m[0]));
	EXPECT_EQ(4U, seq_of(&rx->m[4]));
	close(other);
	close(prod);
	close(pipefd[0]);
	close(pipefd[1]);
	free(rx);
}

/* A TTL rides along in the ring, and applies again once it is back. */
TEST_F(q, ring_ttl_kept)
{
	const char *name = qname(self, "rttl");
	struct ring r;
	int prod, other;

	const struct cohort_qrec *rec;
	struct rx *rx = rx_new();

	ASSERT_NE(NULL, rx);
	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ASSERT_RET(0, send_seqs_ttl(prod, 0, 2, 0, 300, 0, NULL));
	rec = ring_peek(&r);
	ASSERT_NE(NULL, rec);
	EXPECT_NE(0ULL, rec->expire_ns);
	ring_unmap(&r);
	close(r.fd);
	ASSERT_FD(other, q_open(self->dev, name, COHORT_QUEUE,
				COHORT_QR_CONSUME, 0, NULL));
	EXPECT_EQ(2ULL, QSTAT(name, DEPTH));
	sleep_ms(600);
	ASSERT_RET(-EAGAIN, recv1(other, rx, 0));
	EXPECT_EQ(2ULL, QSTAT(name, EXPIRED));
	close(other);
	close(prod);
	free(rx);
}

/* ---- waiting ---- */

TEST_F(q, ring_poll)
{
	const char *name = qname(self, "rpoll");
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct pollfd pfd;
	struct ring r;
	int prod, ep;
	uint64_t head;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, r.fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(0, send1(prod, 1, 0, 0));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	ASSERT_EQ(EPOLLIN, out.events);
	ASSERT_RET(0, take_seqs(&r, 1, 1, 0));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	/* A head past the tail. */
	ring_set_head(&r, r.head + 8);
	pfd.fd = r.fd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_EQ(POLLERR, pfd.revents);
	ASSERT_RET(-EINVAL, ring_fill(r.fd, 0, NULL));
	ring_set_head(&r, r.head - 8);
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	/* A head inside a record, or behind the last one given back. */
	ASSERT_EQ(0, send_seqs(prod, 2, 2, 0, 0, NULL));
	head = r.head;
	ring_set_head(&r, head + 8);
	ASSERT_RET(-EINVAL, ring_fill(r.fd, 0, NULL));
	ring_set_head(&r, head);
	ASSERT_RET(0, take_seqs(&r, 2, 1, 0));
	ASSERT_RET(0, ring_fill(r.fd, 0, NULL));	/* gives it back */
	ring_set_head(&r, head);
	ASSERT_RET(-EINVAL, ring_fill(r.fd, 0, NULL));
	ring_set_head(&r, head + rec_at(&r, head)->len);
	ASSERT_RET(0, take_seqs(&r, 3, 1, 0));
	close(ep);
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

struct later {
	int fd;
	uint32_t seq;
	unsigned int ms;
};

static void *send_later(void *arg)
{
	struct later *l = arg;

	sleep_ms(l->ms);
	send1(l->fd, l->seq, 0, 0);
	return NULL;
}

TEST_F(q, ring_fill_waits)
{
	const char *name = qname(self, "rwait");
	struct later l;
	struct ring r;
	pthread_t t;
	uint64_t t0;
	int prod, fl;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	t0 = mono_ms();
	ASSERT_RET(-ETIMEDOUT, ring_fill(r.fd, 200, NULL));
	/* Jiffies: the first tick of the wait may come at once. */
	EXPECT_LE(180, (int)(mono_ms() - t0));
	fl = fcntl(r.fd, F_GETFL);
	ASSERT_EQ(0, fcntl(r.fd, F_SETFL, fl | O_NONBLOCK));
	ASSERT_RET(-EAGAIN, ring_fill(r.fd, COHORT_WAIT_FOREVER, NULL));
	ASSERT_EQ(0, fcntl(r.fd, F_SETFL, fl));
	/* A sender wakes the waiter. */
	l.fd = prod;
	l.seq = 42;
	l.ms = 200;
	ASSERT_EQ(0, pthread_create(&t, NULL, send_later, &l));
	t0 = mono_ms();
	ASSERT_RET(0, ring_fill(r.fd, COHORT_WAIT_FOREVER, NULL));
	EXPECT_GT(AT_ONCE_MS + 200, (int)(mono_ms() - t0));
	pthread_join(t, NULL);
	ASSERT_RET(0, take_seqs(&r, 42, 1, 0));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/* A process that holds records waits for the one after them. */
TEST_F(q, ring_fill_next)
{
	const char *name = qname(self, "rnext");
	const struct cohort_qrec *rec;
	uint64_t next;
	struct ring r;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ASSERT_RET(0, send_seqs(prod, 0, 2, 0, 0, NULL));
	rec = ring_peek(&r);
	ASSERT_NE(NULL, rec);
	next = r.head + rec->len;
	/* Held at head: head has a record, next too. */
	ASSERT_RET(0, ring_fill_at(r.fd, 0, COHORT_QFILL_NEXT, next, NULL));
	next += rec_at(&r, next)->len;
	ASSERT_RET(-EAGAIN, ring_fill_at(r.fd, 0, COHORT_QFILL_NEXT, next,
					 NULL));
	ASSERT_RET(-EINVAL, ring_fill_at(r.fd, 0, COHORT_QFILL_NEXT, next + 8,
					 NULL));
	ASSERT_RET(-EINVAL, ring_fill_at(r.fd, 0, COHORT_QFILL_NEXT,
					 r.head + 8, NULL));
	ASSERT_RET(0, send1(prod, 2, 0, 0));
	ASSERT_RET(0, ring_fill_at(r.fd, 0, COHORT_QFILL_NEXT, next, NULL));
	ASSERT_RET(0, take_seqs(&r, 0, 3, 0));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * Flow control: a sender that may wait, finding the only consumer's ring
 * full and the store empty, waits for the consumer to make room rather
 * than starting the store; after a short while it starts it all the same.
 */
struct flow {
	int fd;
	volatile int started;
	int err;
	uint64_t ms;
};

/* A message of 4000 bytes with sequence number @seq, as send1() sends. */
static int send_big(int fd, uint32_t seq, int timeout)
{
	static uint8_t big[4000];
	struct cohort_qmsg_out o = { .data = (uintptr_t)big, .len = sizeof(big) };
	struct pl p = { .seq = seq, .tag = 0x5eed };

	memcpy(big, &p, sizeof(p));
	return q_send(fd, &o, 1, timeout, NULL);
}

static void *flow_send(void *arg)
{
	struct flow *f = arg;
	uint64_t t0;

	f->started = 1;
	t0 = mono_ms();
	f->err = send_big(f->fd, 99, 5000);
	f->ms = mono_ms() - t0;
	return NULL;
}

/*
 * A queue whose one consumer's ring is full with 16 records of 4088 bytes
 * (0 to 15), and a message @seq in the store: all sent without waiting.
 */
static int ring_full_stored(FIXTURE_DATA(q) *self, const char *name,
			    uint32_t seq, int *prod, struct ring *r)
{
	int ret = ring_queue(self, name, 0, SMALL, prod, r);
	uint32_t i;

	for (i = 0; !ret && i < 16; i++)
		ret = send_big(*prod, i, 0);
	return ret ?: send_big(*prod, seq, 0);
}

TEST_F(q, ring_flow_control)
{
	const char *name = qname(self, "rflow");
	const struct cohort_qrec *rec;
	struct flow f = { 0 };
	struct ring r;
	pthread_t t;
	int prod, i;

	ASSERT_RET(0, ring_full_stored(self, name, 98, &prod, &r));
	EXPECT_EQ(1ULL, QSTAT(name, DEPTH));	/* did not wait: the store */
	for (i = 0; i < 16; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		ring_take(&r, rec);
	}
	ASSERT_RET(0, take_seqs(&r, 98, 1, 1000));
	for (i = 0; i < 16; i++)
		ASSERT_RET(0, send_big(prod, i, 0));
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));

	/* A blocking sender waits, and goes straight in once there is room. */
	f.fd = prod;
	ASSERT_EQ(0, pthread_create(&t, NULL, flow_send, &f));
	while (!f.started)
		sleep_ms(1);
	sleep_ms(3);
	for (i = 0; i < 16; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		ring_take(&r, rec);
	}
	for (i = 0; i < 1000 && !f.ms; i++) {
		ring_fill(r.fd, 0, NULL);	/* says the ring has room */
		sleep_ms(1);
	}
	pthread_join(t, NULL);
	ASSERT_EQ(0, f.err);
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	ASSERT_RET(0, take_seqs(&r, 99, 1, 0));

	/* With nobody making room, it starts the store after a while. */
	for (i = 0; i < 16; i++)
		ASSERT_RET(0, send_big(prod, i, 0));
	memset(&f, 0, sizeof(f));
	f.fd = prod;
	ASSERT_EQ(0, pthread_create(&t, NULL, flow_send, &f));
	pthread_join(t, NULL);
	ASSERT_EQ(0, f.err);
	EXPECT_LE(5ULL, f.ms);
	EXPECT_EQ(1ULL, QSTAT(name, DEPTH));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/*
 * Flow control, continued: a sender that may wait, finding messages in the
 * store, waits for a fill to empty it and then writes straight into the
 * ring; once a sender waited in vain and started the store, later ones do
 * not wait again until a fill has emptied it.
 */
TEST_F(q, ring_flow_drain)
{
	const char *name = qname(self, "rdrain");
	const struct cohort_qrec *rec;
	struct flow f = { 0 };
	uint64_t t0, ms, depth;
	uint32_t moved;
	struct ring r;
	pthread_t t;
	int prod, i;

	ASSERT_RET(0, ring_full_stored(self, name, 16, &prod, &r));
	ASSERT_EQ(1ULL, QSTAT(name, DEPTH));

	/*
	 * 99 waits behind 16 (not in the store), and one fill, which moves 16
	 * on, lets it go straight in after it: had it given up, it would be
	 * in the store now. A guest too slow to fill within the sender's
	 * 10 ms sees it give up (after 5 ms at least), not go in at once.
	 */
	for (i = 0; i < 16; i++) {
		rec = ring_peek(&r);
		ASSERT_NE(NULL, rec);
		ring_take(&r, rec);
	}
	f.fd = prod;
	ASSERT_EQ(0, pthread_create(&t, NULL, flow_send, &f));
	while (!f.started)
		sleep_ms(1);
	sleep_ms(3);
	depth = QSTAT(name, DEPTH);
	if (depth == 2) {
		pthread_join(t, NULL);
		TH_LOG("the sender went into the store after %llu ms",
		       (unsigned long long)f.ms);
		ASSERT_EQ(0, f.err);
		EXPECT_LE(5ULL, f.ms);
		ASSERT_RET(0, take_seqs(&r, 16, 1, 1000));
		ASSERT_RET(0, take_seqs(&r, 99, 1, 1000));
	} else {
		EXPECT_EQ(1ULL, depth);
		ASSERT_RET(0, ring_fill(r.fd, 0, &moved));
		EXPECT_EQ(1U, moved);
		pthread_join(t, NULL);
		ASSERT_EQ(0, f.err);
		EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
		for (i = 0; i < 2; i++) {
			rec = ring_peek(&r);
			ASSERT_NE(NULL, rec);
			EXPECT_EQ(i ? 99U : 16U, rec_seq(rec));
			ring_take(&r, rec);
		}
	}

	/* Nobody makes room: the first waits and starts the store... */
	for (i = 0; i < 16; i++)
		ASSERT_RET(0, send_big(prod, i, 0));
	t0 = mono_ms();
	ASSERT_RET(0, send_big(prod, 99, 5000));
	EXPECT_LE(5ULL, mono_ms() - t0);
	/* ...and 20 more do not wait (10 ms each would be 200). */
	t0 = mono_ms();
	for (i = 0; i < 20; i++)
		ASSERT_RET(0, send_big(prod, 100 + i, 5000));
	ms = mono_ms() - t0;
	EXPECT_GT(100ULL, ms);
	EXPECT_EQ(21ULL, QSTAT(name, DEPTH));

	/* Fills empty the store; then a sender waits behind it again. */
	ASSERT_RET(0, take_seqs(&r, 0, 16, 1000));
	ASSERT_RET(0, take_seqs(&r, 99, 1, 1000));
	ASSERT_RET(0, take_seqs(&r, 100, 20, 1000));
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	for (i = 0; i < 17; i++)
		ASSERT_RET(0, send_big(prod, i, 0));
	t0 = mono_ms();
	ASSERT_RET(0, send_big(prod, 99, 5000));
	EXPECT_LE(5ULL, mono_ms() - t0);
	EXPECT_EQ(2ULL, QSTAT(name, DEPTH));
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

/* ---- who writes where ---- */

/* Consumers with rings take turns; none gets a message twice. */
TEST_F(q, ring_competing)
{
	const char *name = qname(self, "rcomp");
	struct cohort_queue_attr a = { .flags = COHORT_QA_PERSISTENT };
	const struct cohort_qrec *rec;
	static uint8_t seen[400];
	uint32_t count[2] = { 0 }, i;
	struct ring r[2];
	int prod, cons;

	ASSERT_FD(prod, q_open(self->dev, name, COHORT_QUEUE,
			       COHORT_QR_PRODUCE, 0, &a));
	for (i = 0; i < 2; i++) {
		ASSERT_FD(cons, q_open(self->dev2, name, COHORT_QUEUE,
				       COHORT_QR_CONSUME, 0, NULL));
		ASSERT_RET(0, ring_setup(cons, SMALL, &r[i]));
	}
	for (i = 0; i < 400; i += 4)
		ASSERT_RET(0, send_seqs(prod, i, 4, 0, 0, NULL));
	for (i = 0; i < 2; i++) {
		while ((rec = ring_get(&r[i], 0))) {
			ASSERT_GT(400U, rec_seq(rec));
			ASSERT_EQ(0, seen[rec_seq(rec)]);
			seen[rec_seq(rec)] = 1;
			count[i]++;
			ring_take(&r[i], rec);
		}
	}
	EXPECT_EQ(400U, count[0] + count[1]);
	EXPECT_LE(100U, count[0]);
	EXPECT_LE(100U, count[1]);
	for (i = 0; i < 2; i++) {
		ring_unmap(&r[i]);
		close(r[i].fd);
	}
	close(prod);
}

/* A sender of another user writes into the ring as well. */
TEST_F(q, ring_other_user)
{
	const char *name = qname(self, "ruser");
	struct cohort_queue_open o;
	struct ring r;
	uint64_t tail;
	int cons, status;
	pid_t pid;

	qo_init(&o, name, COHORT_QUEUE, COHORT_QO_CREATE, COHORT_QR_CONSUME);
	o.mode = 0666;
	o.attr.flags = COHORT_QA_PERSISTENT;
	ASSERT_FD(cons, qo_open(self->dev2, &o));
	ASSERT_RET(0, ring_setup(cons, SMALL, &r));
	tail = ring_tail(&r);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int dev, prod;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(1);
		dev = open(DEV, O_RDWR);
		prod = q_open(dev, name, COHORT_QUEUE, COHORT_QR_PRODUCE, 0,
			      NULL);
		_exit(prod < 0 || send1(prod, 9, 0, 0) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_LT(tail, ring_tail(&r));
	EXPECT_EQ(0ULL, QSTAT(name, DEPTH));
	ASSERT_RET(0, take_seqs(&r, 9, 1, 0));
	ring_unmap(&r);
	close(cons);
}

/* One actor sending to its own ring, and two sending to each other's. */
struct cross {
	int prod;
	struct ring *r;
	uint32_t first;
	int err;
};

static void *cross_send(void *arg)
{
	struct cross *x = arg;
	uint32_t i;

	for (i = 0; i < 2000 && !x->err; i++)
		x->err = send1(x->prod, x->first + i, 0, 5000);
	return NULL;
}

TEST_F(q, ring_actors_cross)
{
	const char *n1 = qname(self, "rx1"), *n2 = qname(self, "rx2");
	struct cohort_queue_attr a = {
		.flags = COHORT_QA_PERSISTENT,
		.max_msgs = 4096,
	};
	struct cross x[2];
	struct ring r[2];
	pthread_t t[2];
	int i, cons;

	/* Actor A consumes n1 and produces to n2; B the other way round. */
	ASSERT_FD(cons, q_open(self->dev, n1, COHORT_QUEUE, COHORT_QR_CONSUME,
			       0, &a));
	ASSERT_RET(0, ring_setup(cons, BIG, &r[0]));
	ASSERT_FD(cons, q_open(self->dev2, n2, COHORT_QUEUE, COHORT_QR_CONSUME,
			       0, &a));
	ASSERT_RET(0, ring_setup(cons, BIG, &r[1]));
	ASSERT_FD(x[0].prod, q_open(self->dev, n2, COHORT_QUEUE,
				    COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_FD(x[1].prod, q_open(self->dev2, n1, COHORT_QUEUE,
				    COHORT_QR_PRODUCE, 0, NULL));
	for (i = 0; i < 2; i++) {
		x[i].first = 0;
		x[i].err = 0;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, cross_send, &x[i]));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, x[i].err);
	}
	ASSERT_RET(0, take_seqs(&r[0], 0, 2000, 1000));
	ASSERT_RET(0, take_seqs(&r[1], 0, 2000, 1000));
	/* And one actor into its own ring. */
	close(x[0].prod);
	ASSERT_FD(x[0].prod, q_open(self->dev, n1, COHORT_QUEUE,
				    COHORT_QR_PRODUCE, 0, NULL));
	ASSERT_RET(0, send_seqs(x[0].prod, 5, 3, 0, 0, NULL));
	ASSERT_NE(NULL, ring_peek(&r[0]));	/* straight in */
	ASSERT_RET(0, take_seqs(&r[0], 5, 3, 0));
	for (i = 0; i < 2; i++) {
		ring_unmap(&r[i]);
		close(r[i].fd);
		close(x[i].prod);
	}
}

/* Topic subscriptions fill their rings from their own store. */
TEST_F(q, ring_topic)
{
	const char *name = qname(self, "rtopic");
	struct rx *rx = rx_new();
	struct ring r;
	int pub, sub1, sub2;

	ASSERT_NE(NULL, rx);
	ASSERT_FD(sub1, t_sub(self->dev2, name, "", 0));
	ASSERT_FD(sub2, t_sub(self->dev2, name, "", 0));
	ASSERT_RET(0, ring_setup(sub1, SMALL, &r));
	ASSERT_FD(pub, q_open(self->dev, name, COHORT_TOPIC, COHORT_QR_PRODUCE,
			      0, NULL));
	ASSERT_RET(0, send_seqs(pub, 0, 3, 0, 0, NULL));
	ASSERT_RET(0, take_seqs(&r, 0, 3, 1000));
	ASSERT_RET(0, recv1(sub2, rx, 0));
	EXPECT_EQ(0U, seq_of(&rx->m[0]));
	ring_unmap(&r);
	close(sub1);
	close(sub2);
	close(pub);
	free(rx);
}

/* Rings count against the budget of their owner on this node. */
TEST_F(q, ring_budget)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct cohort_queue_attr a = {
			.max_bytes = COHORT_QMAX_MAX_BYTES,
		};
		struct ring r;
		char n[COHORT_NAME_MAX];
		int dev, q1, q2;

		if (setgid(NOBODY) || setuid(NOBODY))
			_exit(1);
		dev = open(DEV, O_RDWR);
		/* Two of the largest queues spend all 512 MiB. */
		snprintf(n, sizeof(n), "%s-rbud1", self->pfx);
		q1 = q_open(dev, n, COHORT_QUEUE, COHORT_QR_CONSUME, 0, &a);
		snprintf(n, sizeof(n), "%s-rbud2", self->pfx);
		q2 = q_open(dev, n, COHORT_QUEUE, COHORT_QR_CONSUME, 0, &a);
		if (q1 < 0 || q2 < 0)
			_exit(2);
		if (ring_setup(q1, SMALL, &r) != -ENOSPC)
			_exit(3);
		close(q2);
		if (queue_del(self->nl, self->family, n, NULL))
			_exit(4);
		if (ring_setup(q1, SMALL, &r))
			_exit(5);
		ring_unmap(&r);
		close(q1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_F(q, ring_queue_deleted)
{
	const char *name = qname(self, "rdel");
	struct pollfd pfd;
	struct ring r;
	int prod;

	ASSERT_RET(0, ring_queue(self, name, 0, SMALL, &prod, &r));
	ASSERT_RET(0, send1(prod, 1, 0, 0));
	ASSERT_EQ(0, queue_del(self->nl, self->family, name, NULL));
	/* Delivered is delivered; then the queue is gone. */
	ASSERT_RET(0, take_seqs(&r, 1, 1, 0));
	ASSERT_RET(-EIDRM, ring_fill(r.fd, 1000, NULL));
	pfd.fd = r.fd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, 0));
	ASSERT_TRUE(pfd.revents & POLLHUP);
	ring_unmap(&r);
	close(r.fd);
	close(prod);
}

TEST_HARNESS_MAIN
