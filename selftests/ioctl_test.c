// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input on every /dev/cohort ioctl, through raw ioctl(2) so that the
 * library cannot paper over anything. Each failure must give the errno
 * documented in uapi/linux/cohort.h, and after each one both clocks of the
 * handle must read exactly as before: "a failed ioctl never changes any
 * clock".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include <linux/cohort.h>

#define DEV		"/dev/cohort"
#define VC_MAX		COHORT_VC_MAX_ENTRIES
#define NOBODY		65534

/* Two ids around any real actor id, so that ours sorts in the middle. */
#define LOW_ID		1ULL
#define HIGH_ID		UINT64_MAX

FIXTURE(dev) {
	int fd;
	long page;
	/* rw page, then a PROT_NONE page, then a read-only page */
	char *map;
	uint64_t actor;
	/* the clocks as they must stay across failures */
	uint64_t lamport;
	uint32_t vlen;
	struct cohort_vc_entry vec[VC_MAX];
};

static char *rw_end(FIXTURE_DATA(dev) *self)
{
	return self->map + self->page;		/* first byte not readable */
}

static char *ro_page(FIXTURE_DATA(dev) *self)
{
	return self->map + 2 * self->page;
}

/* @time is sent for RECV only: other ops have no input but the op. */
static int lamport(int fd, uint32_t op, uint64_t *time)
{
	struct cohort_lamport a = {
		.size = sizeof(a),
		.op = op,
		.time = op == COHORT_CLOCK_RECV ? *time : 0,
	};
	int ret = ioctl(fd, COHORT_IOC_LAMPORT, &a);

	*time = a.time;
	return ret;
}

/* A vclock op with an out buffer of @cap entries; returns ioctl()'s value. */
static int vclock(int fd, uint32_t op, const struct cohort_vc_entry *in,
		  uint32_t in_len, struct cohort_vc_entry *out, uint32_t cap,
		  uint32_t *out_len)
{
	struct cohort_vclock a = {
		.size = sizeof(a),
		.op = op,
		.in_len = in_len,
		.in_ptr = (uintptr_t)in,
		.out_ptr = (uintptr_t)out,
		.out_cap = cap,
	};
	int ret = ioctl(fd, COHORT_IOC_VCLOCK, &a);

	if (out_len)
		*out_len = a.out_len;
	return ret;
}

static void snapshot(struct __test_metadata *_metadata,
		     FIXTURE_DATA(dev) *self)
{
	self->lamport = 0;
	ASSERT_EQ(0, lamport(self->fd, COHORT_CLOCK_READ, &self->lamport));
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_READ, NULL, 0, self->vec,
			    VC_MAX, &self->vlen));
}

static void state_unchanged(struct __test_metadata *_metadata,
			    FIXTURE_DATA(dev) *self, const char *after)
{
	struct cohort_vc_entry v[VC_MAX];
	uint64_t t = 0;
	uint32_t n = 0;

	ASSERT_EQ(0, lamport(self->fd, COHORT_CLOCK_READ, &t));
	ASSERT_EQ(self->lamport, t) {
		TH_LOG("Lamport clock moved after: %s", after);
	}
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_READ, NULL, 0, v, VC_MAX, &n));
	ASSERT_EQ(self->vlen, n) {
		TH_LOG("vector length changed after: %s", after);
	}
	ASSERT_EQ(0, memcmp(self->vec, v, n * sizeof(v[0]))) {
		TH_LOG("vector changed after: %s", after);
	}
}

/* The call must fail with @err and leave both clocks alone. */
static void expect_fail(struct __test_metadata *_metadata,
			FIXTURE_DATA(dev) *self, int err, unsigned long cmd,
			void *arg, const char *what)
{
	int ret, e;

	errno = 0;
	ret = ioctl(self->fd, cmd, arg);
	e = errno;
	ASSERT_EQ(-1, ret) {
		TH_LOG("%s: succeeded, expected %s", what, strerror(err));
	}
	ASSERT_EQ(err, e) {
		TH_LOG("%s: %s, expected %s", what, strerror(e), strerror(err));
	}
	state_unchanged(_metadata, self, what);
}

#define FAILS(err, cmd, arg)	expect_fail(_metadata, self, (err), (cmd), (arg), #arg " " #err)

FIXTURE_SETUP(dev)
{
	struct cohort_actor act = { .size = sizeof(act) };
	struct cohort_vc_entry in[2] = { { LOW_ID, 4 }, { HIGH_ID, 9 } };
	uint64_t t = 0;
	int i;

	self->page = sysconf(_SC_PAGESIZE);
	self->map = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, mprotect(self->map + self->page, self->page, PROT_NONE));
	ASSERT_EQ(0, mprotect(ro_page(self), self->page, PROT_READ));

	self->fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, DEV " missing: module not loaded");
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioctl(self->fd, COHORT_IOC_ACTOR, &act)) {
		TH_LOG("ACTOR: %s (node id not set?)", strerror(errno));
	}
	self->actor = act.actor_id;

	/* Non-trivial clocks, so that a reset to zero would show too. */
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, lamport(self->fd, COHORT_CLOCK_TICK, &t));
	ASSERT_EQ(3ULL, t);
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_RECV, in, 2, NULL, 0, NULL));
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_TICK, NULL, 0, NULL, 0, NULL));
	snapshot(_metadata, self);
	ASSERT_EQ(3U, self->vlen);
	ASSERT_EQ(self->actor, self->vec[1].id);
	ASSERT_EQ(2ULL, self->vec[1].counter);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, 3 * self->page);
}

/* ---- command and size ---- */

TEST_F(dev, unknown_command)
{
	struct cohort_lamport l = { .size = sizeof(l), .op = COHORT_CLOCK_TICK };

	FAILS(ENOTTY, _IO(COHORT_IOC_TYPE, COHORT_IOC_QFILL_NR + 1), &l);
	FAILS(ENOTTY, _IO(COHORT_IOC_TYPE, COHORT_IOC_BASE - 1), &l);
	FAILS(ENOTTY, _IO(COHORT_IOC_TYPE, 0), &l);
	FAILS(ENOTTY, _IO(COHORT_IOC_TYPE + 1, COHORT_IOC_LAMPORT_NR), &l);
	/* Same number, but direction and size bits: a different command. */
	FAILS(ENOTTY, _IOWR(COHORT_IOC_TYPE, COHORT_IOC_LAMPORT_NR,
			    struct cohort_lamport), &l);
	FAILS(ENOTTY, TCGETS, &l);
}

TEST_F(dev, size_too_small)
{
	struct cohort_actor a = { 0 };
	struct cohort_lamport l = { .op = COHORT_CLOCK_TICK };
	struct cohort_vclock v = { .op = COHORT_CLOCK_TICK };
	uint32_t small[] = { 0, 1, 4 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(small); i++) {
		a.size = l.size = v.size = small[i];
		FAILS(EINVAL, COHORT_IOC_ACTOR, &a);
		FAILS(EINVAL, COHORT_IOC_LAMPORT, &l);
		FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
	}
	/* One field short of the first version. */
	a.size = sizeof(a) - 4;
	FAILS(EINVAL, COHORT_IOC_ACTOR, &a);
	l.size = sizeof(l) - 8;
	FAILS(EINVAL, COHORT_IOC_LAMPORT, &l);
	v.size = sizeof(v) - 4;
	FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
}

/* A struct from a newer caller: 16 extra bytes after the known ones. */
struct big_lamport {
	struct cohort_lamport l;
	uint64_t tail[2];
};

struct big_vclock {
	struct cohort_vclock v;
	uint64_t tail[2];
};

struct big_actor {
	struct cohort_actor a;
	uint64_t tail[2];
};

TEST_F(dev, size_larger_nonzero_tail)
{
	struct big_actor a = { .a.size = sizeof(a), .tail[1] = 1 };
	struct big_lamport l = {
		.l = { .size = sizeof(l), .op = COHORT_CLOCK_TICK },
		.tail[1] = 1ULL << 63,
	};
	struct big_vclock v = {
		.v = { .size = sizeof(v), .op = COHORT_CLOCK_TICK },
		.tail[0] = 1,
	};

	FAILS(E2BIG, COHORT_IOC_ACTOR, &a);
	FAILS(E2BIG, COHORT_IOC_LAMPORT, &l);
	FAILS(E2BIG, COHORT_IOC_VCLOCK, &v);
}

TEST_F(dev, size_larger_zero_tail)
{
	struct big_actor a = { .a.size = sizeof(a) };
	struct big_lamport l = {
		.l = { .size = sizeof(l), .op = COHORT_CLOCK_TICK },
	};
	struct big_vclock v = {
		.v = { .size = sizeof(v), .op = COHORT_CLOCK_READ },
	};
	struct cohort_lamport *page = (void *)self->map;

	ASSERT_EQ(0, ioctl(self->fd, COHORT_IOC_ACTOR, &a));
	ASSERT_EQ(self->actor, a.a.actor_id);
	ASSERT_EQ(0, ioctl(self->fd, COHORT_IOC_LAMPORT, &l));
	ASSERT_EQ(self->lamport + 1, l.l.time);
	ASSERT_EQ(0, ioctl(self->fd, COHORT_IOC_VCLOCK, &v));
	ASSERT_EQ(self->vlen, v.v.out_len);
	ASSERT_EQ(0ULL, l.tail[0] | l.tail[1] | v.tail[0] | v.tail[1]);

	/* A whole page of zeroes after the struct is fine too. */
	memset(self->map, 0, self->page);
	page->size = self->page;
	page->op = COHORT_CLOCK_READ;
	ASSERT_EQ(0, ioctl(self->fd, COHORT_IOC_LAMPORT, page));
	ASSERT_EQ(self->lamport + 1, page->time);
}

/* ---- pointers ---- */

/* Only the size field is readable: the rest of the struct faults. */
static void *straddle(FIXTURE_DATA(dev) *self, uint32_t size)
{
	uint32_t *p = (uint32_t *)(rw_end(self) - sizeof(uint32_t));

	*p = size;
	return p;
}

TEST_F(dev, bad_argument_pointer)
{
	void *kernel = (void *)(uintptr_t)0xffffffff81000000ULL;
	unsigned long cmds[] = {
		COHORT_IOC_ACTOR, COHORT_IOC_LAMPORT, COHORT_IOC_VCLOCK,
	};
	uint32_t sizes[] = {
		sizeof(struct cohort_actor), sizeof(struct cohort_lamport),
		sizeof(struct cohort_vclock),
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		FAILS(EFAULT, cmds[i], NULL);
		FAILS(EFAULT, cmds[i], (void *)1);
		FAILS(EFAULT, cmds[i], kernel);
		FAILS(EFAULT, cmds[i], rw_end(self));
		FAILS(EFAULT, cmds[i], straddle(self, sizes[i]));
	}
}

/*
 * Readable but not writable: the result cannot be returned, so the event
 * must not have happened either.
 */
TEST_F(dev, readonly_argument)
{
	struct cohort_actor a = { .size = sizeof(a) };
	struct cohort_lamport l = { .size = sizeof(l), .op = COHORT_CLOCK_TICK };
	struct cohort_vclock v = { .size = sizeof(v), .op = COHORT_CLOCK_TICK };
	char *ro = ro_page(self);

	ASSERT_EQ(0, mprotect(ro, self->page, PROT_READ | PROT_WRITE));
	memcpy(ro, &a, sizeof(a));
	memcpy(ro + 64, &l, sizeof(l));
	memcpy(ro + 128, &v, sizeof(v));
	ASSERT_EQ(0, mprotect(ro, self->page, PROT_READ));

	FAILS(EFAULT, COHORT_IOC_ACTOR, ro);
	FAILS(EFAULT, COHORT_IOC_LAMPORT, ro + 64);
	FAILS(EFAULT, COHORT_IOC_VCLOCK, ro + 128);
}

TEST_F(dev, bad_in_ptr)
{
	struct cohort_vc_entry *edge;
	struct cohort_vclock v = {
		.size = sizeof(v),
		.op = COHORT_CLOCK_RECV,
		.in_len = 2,
	};

	v.in_ptr = 0;
	FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
	v.in_ptr = 1;
	FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
	v.in_ptr = 0xffffffff81000000ULL;
	FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
	/* First entry readable and valid, second one faults. */
	edge = (struct cohort_vc_entry *)rw_end(self) - 1;
	edge->id = 5;
	edge->counter = 1;
	v.in_ptr = (uintptr_t)edge;
	FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
}

TEST_F(dev, bad_out_ptr)
{
	struct cohort_vc_entry *edge = (struct cohort_vc_entry *)rw_end(self) - 1;
	struct cohort_vclock v = {
		.size = sizeof(v),
		.out_cap = VC_MAX,
	};
	uint32_t ops[] = { COHORT_CLOCK_READ, COHORT_CLOCK_TICK,
			   COHORT_CLOCK_SEND };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		v.op = ops[i];
		v.out_ptr = 1;
		FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
		v.out_ptr = 0xffffffff81000000ULL;
		FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
		v.out_ptr = (uintptr_t)ro_page(self);
		FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
		/* Room for one of the three entries before the hole. */
		v.out_ptr = (uintptr_t)edge;
		FAILS(EFAULT, COHORT_IOC_VCLOCK, &v);
	}
}

/* ---- field values ---- */

TEST_F(dev, unknown_op)
{
	struct cohort_lamport l = { .size = sizeof(l) };
	struct cohort_vclock v = { .size = sizeof(v) };
	uint32_t bad[] = { __COHORT_CLOCK_OP_MAX, 0x100, UINT32_MAX };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		l.op = v.op = bad[i];
		FAILS(EINVAL, COHORT_IOC_LAMPORT, &l);
		FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
	}
}

TEST_F(dev, nonzero_flags_or_reserved)
{
	struct cohort_actor a = { .size = sizeof(a) };
	struct cohort_vclock v = { .size = sizeof(v), .op = COHORT_CLOCK_TICK };

	a.flags = 1;
	FAILS(EINVAL, COHORT_IOC_ACTOR, &a);
	a.flags = 1U << 31;
	FAILS(EINVAL, COHORT_IOC_ACTOR, &a);
	a.flags = 0;
	a.__reserved = 1;
	FAILS(EINVAL, COHORT_IOC_ACTOR, &a);
	v.__reserved = 1;
	FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
	v.__reserved = 1U << 31;
	FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
}

static void recv_fails(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dev) *self, int err,
		       const struct cohort_vc_entry *in, uint32_t n,
		       const char *what)
{
	struct cohort_vclock v = {
		.size = sizeof(v),
		.op = COHORT_CLOCK_RECV,
		.in_len = n,
		.in_ptr = (uintptr_t)in,
	};

	expect_fail(_metadata, self, err, COHORT_IOC_VCLOCK, &v, what);
}

TEST_F(dev, malformed_vectors)
{
	uint64_t me = self->actor;
	struct cohort_vc_entry unsorted[] = { { 7, 1 }, { 5, 1 } };
	struct cohort_vc_entry dup[] = { { 5, 1 }, { 5, 2 } };
	struct cohort_vc_entry dup_self[] = { { me, 1 }, { me, 1 } };
	struct cohort_vc_entry zero[] = { { 0, 1 } };
	struct cohort_vc_entry zero_first[] = { { 0, 1 }, { 5, 1 } };
	struct cohort_vc_entry *late = calloc(100, sizeof(*late));
	unsigned int i;

	ASSERT_NE(NULL, late);
	recv_fails(_metadata, self, EINVAL, unsorted, 2, "unsorted");
	recv_fails(_metadata, self, EINVAL, dup, 2, "duplicate id");
	recv_fails(_metadata, self, EINVAL, dup_self, 2, "duplicate own id");
	recv_fails(_metadata, self, EINVAL, zero, 1, "zero id");
	recv_fails(_metadata, self, EINVAL, zero_first, 2, "zero id first");

	/* Only the last pair is out of order: the whole input is checked. */
	for (i = 0; i < 100; i++) {
		late[i].id = 1000 + i;
		late[i].counter = 1;
	}
	late[99].id = 1000;
	recv_fails(_metadata, self, EINVAL, late, 100, "late duplicate");
	late[99].id = 999;
	recv_fails(_metadata, self, EINVAL, late, 100, "late unsorted");
	free(late);
}

/* RECV with a pointer but no entries is a caller bug, not an empty stamp. */
TEST_F(dev, recv_in_ptr_without_len)
{
	struct cohort_vc_entry one = { 5, 1 };

	recv_fails(_metadata, self, EINVAL, &one, 0, "in_ptr, in_len 0");
}

TEST_F(dev, in_len_too_big)
{
	struct cohort_vc_entry *in = calloc(VC_MAX + 1, sizeof(*in));
	struct cohort_vc_entry one = { 5, 1 };
	unsigned int i;

	ASSERT_NE(NULL, in);
	for (i = 0; i <= VC_MAX; i++) {
		in[i].id = 1000 + i;
		in[i].counter = 1;
	}
	recv_fails(_metadata, self, E2BIG, in, VC_MAX + 1, "MAX + 1 entries");
	/* The length is judged before anything is read. */
	recv_fails(_metadata, self, E2BIG, &one, UINT32_MAX, "in_len U32_MAX");
	recv_fails(_metadata, self, E2BIG, &one, VC_MAX + 1, "short buffer");
	free(in);
}

TEST_F(dev, in_len_for_other_ops)
{
	struct cohort_vc_entry one = { 5, 1 };
	struct cohort_vclock v = {
		.size = sizeof(v),
		.in_len = 1,
		.in_ptr = (uintptr_t)&one,
	};
	uint32_t ops[] = { COHORT_CLOCK_READ, COHORT_CLOCK_TICK,
			   COHORT_CLOCK_SEND };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		v.op = ops[i];
		FAILS(EINVAL, COHORT_IOC_VCLOCK, &v);
	}
}

/* ---- output sizing ---- */

static void expect_nospc(struct __test_metadata *_metadata,
			 FIXTURE_DATA(dev) *self, uint32_t op,
			 const struct cohort_vc_entry *in, uint32_t in_len,
			 uint32_t cap, uint32_t need)
{
	struct cohort_vc_entry out[8];
	struct cohort_vclock v = {
		.size = sizeof(v),
		.op = op,
		.in_len = in_len,
		.in_ptr = (uintptr_t)in,
		.out_cap = cap,
		.out_ptr = (uintptr_t)out,
	};

	expect_fail(_metadata, self, ENOSPC, COHORT_IOC_VCLOCK, &v, "ENOSPC");
	ASSERT_EQ(need, v.out_len) {
		TH_LOG("op %u cap %u", op, cap);
	}
}

TEST_F(dev, out_cap_too_small)
{
	struct cohort_vc_entry fresh = { 7, 1 };
	struct cohort_vc_entry out[4];
	uint32_t n = 0;

	expect_nospc(_metadata, self, COHORT_CLOCK_READ, NULL, 0, 0, 3);
	expect_nospc(_metadata, self, COHORT_CLOCK_READ, NULL, 0, 2, 3);
	expect_nospc(_metadata, self, COHORT_CLOCK_TICK, NULL, 0, 2, 3);
	expect_nospc(_metadata, self, COHORT_CLOCK_SEND, NULL, 0, 1, 3);
	/* A receive that adds an id needs one more than we have now. */
	expect_nospc(_metadata, self, COHORT_CLOCK_RECV, &fresh, 1, 3, 4);

	/* Without out_ptr there is no ENOSPC, only the count. */
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_READ, NULL, 0, NULL, 0, &n));
	ASSERT_EQ(3U, n);
	/* An exact fit works. */
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_RECV, &fresh, 1, out, 4, &n));
	ASSERT_EQ(4U, n);
}

/* ---- overflow ---- */

TEST_F(dev, lamport_overflow)
{
	struct cohort_lamport l = { .size = sizeof(l), .op = COHORT_CLOCK_RECV };
	uint64_t t;

	l.time = UINT64_MAX;
	FAILS(EOVERFLOW, COHORT_IOC_LAMPORT, &l);

	/* Reaching the last value is fine; going past it is not. */
	t = UINT64_MAX - 1;
	ASSERT_EQ(0, lamport(self->fd, COHORT_CLOCK_RECV, &t));
	ASSERT_EQ(UINT64_MAX, t);
	snapshot(_metadata, self);
	l.op = COHORT_CLOCK_TICK;
	l.time = 0;
	FAILS(EOVERFLOW, COHORT_IOC_LAMPORT, &l);
	l.op = COHORT_CLOCK_SEND;
	FAILS(EOVERFLOW, COHORT_IOC_LAMPORT, &l);
	l.op = COHORT_CLOCK_RECV;
	l.time = 0;
	FAILS(EOVERFLOW, COHORT_IOC_LAMPORT, &l);
}

TEST_F(dev, vclock_overflow)
{
	struct cohort_vc_entry mine = { self->actor, UINT64_MAX };
	struct cohort_vc_entry other = { 5, UINT64_MAX };
	struct cohort_vclock v = { .size = sizeof(v), .op = COHORT_CLOCK_TICK };

	recv_fails(_metadata, self, EOVERFLOW, &mine, 1, "own counter at max");

	/* Someone else's counter at the maximum is just a number. */
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_RECV, &other, 1, NULL, 0, NULL));
	mine.counter = UINT64_MAX - 1;
	ASSERT_EQ(0, vclock(self->fd, COHORT_CLOCK_RECV, &mine, 1, NULL, 0, NULL));
	snapshot(_metadata, self);
	/* sorted: LOW_ID, 5, us, HIGH_ID */
	ASSERT_EQ(4U, self->vlen);
	ASSERT_EQ(self->actor, self->vec[2].id);
	ASSERT_EQ(UINT64_MAX, self->vec[2].counter);
	FAILS(EOVERFLOW, COHORT_IOC_VCLOCK, &v);
	v.op = COHORT_CLOCK_SEND;
	FAILS(EOVERFLOW, COHORT_IOC_VCLOCK, &v);
}

/* ---- who may use the device ---- */

TEST(device_mode)
{
	struct stat st;

	if (stat(DEV, &st) && errno == ENOENT)
		SKIP(return, DEV " missing: module not loaded");
	ASSERT_EQ(0, stat(DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(0666U, st.st_mode & 0777);
}

/* Child side: exit status says which step failed (0 = all good). */
static int unprivileged_child(void)
{
	struct cohort_actor a = { .size = sizeof(a) };
	uint64_t t = 0;
	int fd;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	if (geteuid() != NOBODY)
		return 11;
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 12;
	if (ioctl(fd, COHORT_IOC_ACTOR, &a) || !a.actor_id)
		return 13;
	if (lamport(fd, COHORT_CLOCK_TICK, &t) || t != 1)
		return 14;
	if (vclock(fd, COHORT_CLOCK_TICK, NULL, 0, NULL, 0, NULL))
		return 15;
	close(fd);
	return 0;
}

TEST(unprivileged_user)
{
	int status = 0;
	pid_t pid;

	if (access(DEV, F_OK))
		SKIP(return, DEV " missing: module not loaded");
	if (geteuid())
		SKIP(return, "needs root to switch to uid %d", NOBODY);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unprivileged_child());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 10 drop, 11 still root, 12 open, 13 ACTOR, 14 LAMPORT, 15 VCLOCK */
	ASSERT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
