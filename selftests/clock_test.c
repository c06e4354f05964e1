// SPDX-License-Identifier: GPL-2.0
/*
 * Logical clocks through /dev/cohort: Lamport and vector clock rules checked
 * by value, a randomized history checked against a reference written here,
 * and the limits on vector length.
 *
 * Every handle is one actor. All handles of this test live on the same node
 * (the runner gives the root namespace node id 1), which does not matter:
 * actor ids are unique per handle.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "libcohort.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define NACT		5	/* handles opened by the fixture */
#define VC_MAX		COHORT_VC_MAX_ENTRIES

/* ---- helpers: vectors ---- */

/*
 * Build a vector from (id, counter) pairs in any order. Zero counters are
 * dropped because the kernel never returns them, and the result is sorted
 * because that is the only form the kernel accepts and produces.
 */
static void vec_build(struct cohort_vector *v, const struct cohort_vc_entry *e,
		      unsigned int n)
{
	unsigned int i, j;

	v->len = 0;
	for (i = 0; i < n; i++) {
		struct cohort_vc_entry x = e[i];

		if (!x.counter)
			continue;
		for (j = v->len; j > 0 && v->entry[j - 1].id > x.id; j--)
			v->entry[j] = v->entry[j - 1];
		v->entry[j] = x;
		v->len++;
	}
}

static bool vec_equal(const struct cohort_vector *a,
		      const struct cohort_vector *b)
{
	return a->len == b->len &&
	       !memcmp(a->entry, b->entry, a->len * sizeof(a->entry[0]));
}

static void vec_print(const char *what, const struct cohort_vector *v)
{
	unsigned int i;

	fprintf(stderr, "#   %s (%u):", what, v->len);
	for (i = 0; i < v->len && i < 16; i++)
		fprintf(stderr, " %#llx:%llu",
			(unsigned long long)v->entry[i].id,
			(unsigned long long)v->entry[i].counter);
	fprintf(stderr, "%s\n", v->len > 16 ? " ..." : "");
}

static void assert_vec_eq(struct __test_metadata *_metadata,
			  const struct cohort_vector *want,
			  const struct cohort_vector *seen, int line)
{
	if (vec_equal(want, seen))
		return;
	vec_print("expected", want);
	vec_print("seen", seen);
	ASSERT_TRUE(vec_equal(want, seen)) {
		TH_LOG("vector mismatch (checked at line %d)", line);
	}
}

/* ASSERT_VEC(seen, { id, counter }, ...): seen must be exactly that. */
#define ASSERT_VEC(seen, ...) do {					\
	const struct cohort_vc_entry __e[] = { __VA_ARGS__ };		\
	struct cohort_vector __want;					\
	vec_build(&__want, __e, ARRAY_SIZE(__e));			\
	assert_vec_eq(_metadata, &__want, (seen), __LINE__);		\
} while (0)

/* ---- helpers: one clock operation each, failing the test on error ---- */

static uint64_t l_op(struct __test_metadata *_metadata, struct cohort *c,
		     int op, uint64_t in)
{
	uint64_t t = 0;
	int ret = -1;

	switch (op) {
	case COHORT_CLOCK_READ:
		ret = cohort_lamport_read(c, &t);
		break;
	case COHORT_CLOCK_TICK:
		ret = cohort_lamport_tick(c, &t);
		break;
	case COHORT_CLOCK_SEND:
		ret = cohort_lamport_send(c, &t);
		break;
	case COHORT_CLOCK_RECV:
		ret = cohort_lamport_recv(c, in, &t);
		break;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("lamport op %d: %s", op, strerror(-ret));
	}
	return t;
}

#define L_READ(c)	l_op(_metadata, (c), COHORT_CLOCK_READ, 0)
#define L_TICK(c)	l_op(_metadata, (c), COHORT_CLOCK_TICK, 0)
#define L_SEND(c)	l_op(_metadata, (c), COHORT_CLOCK_SEND, 0)
#define L_RECV(c, t)	l_op(_metadata, (c), COHORT_CLOCK_RECV, (t))

static void v_op(struct __test_metadata *_metadata, struct cohort *c, int op,
		 const struct cohort_vector *in, struct cohort_vector *out)
{
	int ret = -1;

	switch (op) {
	case COHORT_CLOCK_READ:
		ret = cohort_vclock_read(c, out);
		break;
	case COHORT_CLOCK_TICK:
		ret = cohort_vclock_tick(c, out);
		break;
	case COHORT_CLOCK_SEND:
		ret = cohort_vclock_send(c, out);
		break;
	case COHORT_CLOCK_RECV:
		ret = cohort_vclock_recv(c, in, out);
		break;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("vclock op %d: %s", op, strerror(-ret));
	}
}

#define V_READ(c, out)		v_op(_metadata, (c), COHORT_CLOCK_READ, NULL, (out))
#define V_TICK(c, out)		v_op(_metadata, (c), COHORT_CLOCK_TICK, NULL, (out))
#define V_SEND(c, out)		v_op(_metadata, (c), COHORT_CLOCK_SEND, NULL, (out))
#define V_RECV(c, in, out)	v_op(_metadata, (c), COHORT_CLOCK_RECV, (in), (out))

/* Sign of an int, so that cmp results can be compared exactly. */
static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Small deterministic PRNG (splitmix64), so a seed replays everywhere. */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t test_seed(void)
{
	const char *env = getenv("COHORT_SEED");

	if (env && *env)
		return strtoull(env, NULL, 0);
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

/* ---- fixture: NACT fresh actors ---- */

FIXTURE(clock) {
	struct cohort *c[NACT];
	uint64_t id[NACT];
	uint32_t node;
};

FIXTURE_SETUP(clock)
{
	int i, ret;

	for (i = 0; i < NACT; i++) {
		ret = cohort_open(&self->c[i]);
		if (ret == -ENOENT)
			SKIP(return, "/dev/cohort missing: module not loaded");
		ASSERT_EQ(0, ret) {
			TH_LOG("cohort_open: %s", strerror(-ret));
		}
		ret = cohort_actor_id(self->c[i], &self->id[i], &self->node);
		ASSERT_EQ(0, ret) {
			TH_LOG("cohort_actor_id: %s (node id not set?)",
			       strerror(-ret));
		}
	}
}

FIXTURE_TEARDOWN(clock)
{
	int i;

	for (i = 0; i < NACT; i++)
		if (self->c[i])
			cohort_close(self->c[i]);
}

/* Actor ids are distinct and carry the node id in their high half. */
TEST_F(clock, actor_ids)
{
	int i, j;

	ASSERT_NE(0U, self->node);
	for (i = 0; i < NACT; i++) {
		ASSERT_EQ((uint64_t)self->node, self->id[i] >> 32);
		for (j = 0; j < i; j++)
			ASSERT_NE(self->id[j], self->id[i]);
	}
}

/* A new actor has seen nothing: both clocks start at zero. */
TEST_F(clock, fresh_clocks_are_zero)
{
	struct cohort_vector v;

	ASSERT_EQ(0ULL, L_READ(self->c[0]));
	V_READ(self->c[0], &v);
	ASSERT_EQ(0U, v.len);
}

/* ---- Lamport: each rule on its own ---- */

TEST_F(clock, lamport_read_changes_nothing)
{
	struct cohort *a = self->c[0];

	ASSERT_EQ(1ULL, L_TICK(a));
	ASSERT_EQ(2ULL, L_TICK(a));
	ASSERT_EQ(2ULL, L_READ(a));
	ASSERT_EQ(2ULL, L_READ(a));
	/* Had a read counted as an event, this would be 5. */
	ASSERT_EQ(3ULL, L_TICK(a));
}

TEST_F(clock, lamport_tick_adds_one)
{
	uint64_t i;

	for (i = 1; i <= 100; i++)
		ASSERT_EQ(i, L_TICK(self->c[0]));
	ASSERT_EQ(100ULL, L_READ(self->c[0]));
}

TEST_F(clock, lamport_send_adds_one_and_returns_stamp)
{
	struct cohort *a = self->c[0];

	ASSERT_EQ(1ULL, L_SEND(a));
	ASSERT_EQ(1ULL, L_READ(a));
	ASSERT_EQ(2ULL, L_TICK(a));
	ASSERT_EQ(3ULL, L_SEND(a));
	ASSERT_EQ(3ULL, L_READ(a));
}

TEST_F(clock, lamport_recv_is_max_plus_one)
{
	struct cohort *a = self->c[0];
	int i;

	for (i = 0; i < 5; i++)
		L_TICK(a);
	ASSERT_EQ(5ULL, L_READ(a));
	/* Older stamp: the local clock wins. max(5, 2) + 1 */
	ASSERT_EQ(6ULL, L_RECV(a, 2));
	/* Same stamp as the local clock. max(6, 6) + 1 */
	ASSERT_EQ(7ULL, L_RECV(a, 6));
	/* Newer stamp: jump past it. max(7, 100) + 1 */
	ASSERT_EQ(101ULL, L_RECV(a, 100));
	/* A zero stamp is still an event. max(101, 0) + 1 */
	ASSERT_EQ(102ULL, L_RECV(a, 0));
	ASSERT_EQ(102ULL, L_READ(a));
}

/* Each handle has its own clock: events on one never move another. */
TEST_F(clock, lamport_clocks_are_per_actor)
{
	ASSERT_EQ(1ULL, L_TICK(self->c[0]));
	ASSERT_EQ(2ULL, L_TICK(self->c[0]));
	ASSERT_EQ(0ULL, L_READ(self->c[1]));
	ASSERT_EQ(1ULL, L_SEND(self->c[1]));
	ASSERT_EQ(2ULL, L_READ(self->c[0]));
}

/* ---- Lamport: textbook runs ---- */

/*
 *   P1 (c0)                 P2 (c1)
 *   tick          1
 *   send m1       2 -----+
 *                        +-> recv m1     max(0, 2) + 1 = 3
 *                            tick        4
 *                        +-- send m2     5
 *   tick          3      |
 *   recv m2  max(3,5)+1=6 <-+
 *   send m3       7 -----+
 *                        |   tick        6, 7, 8
 *                        +-> recv m3     max(8, 7) + 1 = 9
 */
TEST_F(clock, lamport_textbook_two_actors)
{
	struct cohort *p1 = self->c[0], *p2 = self->c[1];
	uint64_t m1, m2, m3;

	ASSERT_EQ(1ULL, L_TICK(p1));
	m1 = L_SEND(p1);
	ASSERT_EQ(2ULL, m1);
	ASSERT_EQ(3ULL, L_RECV(p2, m1));
	ASSERT_EQ(4ULL, L_TICK(p2));
	m2 = L_SEND(p2);
	ASSERT_EQ(5ULL, m2);
	ASSERT_EQ(3ULL, L_TICK(p1));
	ASSERT_EQ(6ULL, L_RECV(p1, m2));
	m3 = L_SEND(p1);
	ASSERT_EQ(7ULL, m3);
	ASSERT_EQ(6ULL, L_TICK(p2));
	ASSERT_EQ(7ULL, L_TICK(p2));
	ASSERT_EQ(8ULL, L_TICK(p2));
	ASSERT_EQ(9ULL, L_RECV(p2, m3));
	ASSERT_EQ(7ULL, L_READ(p1));
	ASSERT_EQ(9ULL, L_READ(p2));
}

/*
 * The three receive cases (sender ahead, equal, behind) in one run:
 *
 *   P1 (c0)            P2 (c1)               P3 (c2)
 *   a tick     1
 *   b send m1  2 --+
 *                  |  c tick        1       (a and c: concurrent, both 1)
 *                  +> d recv m1  max(1,2)+1 = 3
 *                                            e tick x4  1, 2, 3, 4
 *                     f send m2     4 --+
 *                                       +--> g recv m2 max(4,4)+1 = 5
 *                                        +-- h send m3  6
 *   i recv m3  max(2,6)+1 = 7 <----------+
 *   j send m4  8 --+
 *                  |  k tick x5     5..9
 *                  +> l recv m4  max(9,8)+1 = 10
 */
TEST_F(clock, lamport_textbook_three_actors)
{
	struct cohort *p1 = self->c[0], *p2 = self->c[1], *p3 = self->c[2];
	uint64_t a, c, m1, m2, m3, m4, i;

	a = L_TICK(p1);
	ASSERT_EQ(1ULL, a);
	m1 = L_SEND(p1);
	ASSERT_EQ(2ULL, m1);
	c = L_TICK(p2);
	ASSERT_EQ(1ULL, c);
	ASSERT_EQ(a, c);
	ASSERT_EQ(3ULL, L_RECV(p2, m1));
	for (i = 1; i <= 4; i++)
		ASSERT_EQ(i, L_TICK(p3));
	m2 = L_SEND(p2);
	ASSERT_EQ(4ULL, m2);
	ASSERT_EQ(5ULL, L_RECV(p3, m2));
	m3 = L_SEND(p3);
	ASSERT_EQ(6ULL, m3);
	ASSERT_EQ(7ULL, L_RECV(p1, m3));
	m4 = L_SEND(p1);
	ASSERT_EQ(8ULL, m4);
	for (i = 5; i <= 9; i++)
		ASSERT_EQ(i, L_TICK(p2));
	ASSERT_EQ(10ULL, L_RECV(p2, m4));

	ASSERT_EQ(8ULL, L_READ(p1));
	ASSERT_EQ(10ULL, L_READ(p2));
	ASSERT_EQ(6ULL, L_READ(p3));
}

/*
 * Happened-before implies a smaller timestamp: a token travels 60 hops
 * around three actors; every event on its path (local ticks, the send, the
 * receive) must be stamped strictly higher than the one before, whatever
 * unrelated (concurrent) events the bystander does meanwhile.
 */
TEST_F(clock, lamport_happened_before_chain)
{
	uint64_t prev = 0, t;
	int hop, k, from, to, by;

	for (hop = 0; hop < 60; hop++) {
		from = hop % 3;
		to = (hop + 1) % 3;
		by = (hop + 2) % 3;
		for (k = 0; k < hop % 4; k++) {
			t = L_TICK(self->c[from]);
			ASSERT_LT(prev, t);
			prev = t;
		}
		for (k = 0; k < (hop * 7) % 5; k++)
			L_TICK(self->c[by]);
		t = L_SEND(self->c[from]);
		ASSERT_LT(prev, t);
		prev = t;
		t = L_RECV(self->c[to], t);
		ASSERT_LT(prev, t);
		prev = t;
	}
}

/* Concurrent events can carry the same stamp; the total order splits them. */
TEST_F(clock, lamport_concurrent_events_share_stamp)
{
	uint64_t ta, tb;
	int want;

	ta = L_TICK(self->c[0]);
	tb = L_TICK(self->c[1]);
	ASSERT_EQ(ta, tb);
	want = self->id[0] < self->id[1] ? -1 : 1;
	ASSERT_EQ(want, sign(cohort_lamport_cmp(ta, self->id[0],
						tb, self->id[1])));
	ASSERT_EQ(-want, sign(cohort_lamport_cmp(tb, self->id[1],
						 ta, self->id[0])));
}

/* Time first, actor id only on ties; no overflow tricks on big values. */
TEST(lamport_cmp_total_order)
{
	const uint64_t top = 1ULL << 63;

	ASSERT_EQ(-1, sign(cohort_lamport_cmp(1, 5, 2, 3)));
	ASSERT_EQ(1, sign(cohort_lamport_cmp(2, 3, 1, 5)));
	ASSERT_EQ(-1, sign(cohort_lamport_cmp(4, 7, 4, 9)));
	ASSERT_EQ(1, sign(cohort_lamport_cmp(4, 9, 4, 7)));
	ASSERT_EQ(0, sign(cohort_lamport_cmp(4, 7, 4, 7)));
	/* A subtraction squeezed into an int would get these wrong. */
	ASSERT_EQ(1, sign(cohort_lamport_cmp(UINT64_MAX, 1, 0, 2)));
	ASSERT_EQ(-1, sign(cohort_lamport_cmp(0, 2, UINT64_MAX, 1)));
	ASSERT_EQ(1, sign(cohort_lamport_cmp(1ULL << 32, 1, 0, 1)));
	ASSERT_EQ(1, sign(cohort_lamport_cmp(5, top | 1, 5, 1)));
	ASSERT_EQ(-1, sign(cohort_lamport_cmp(5, 1, 5, top | 1)));
	ASSERT_EQ(-1, sign(cohort_lamport_cmp(5, 1ULL << 32, 5, 3ULL << 32)));
}

/* ---- vector clocks: each rule on its own ---- */

TEST_F(clock, vclock_rules)
{
	struct cohort *a = self->c[0];
	uint64_t A = self->id[0], B = self->id[1], C = self->id[2];
	struct cohort_vector v, in, empty = { .len = 0 };

	V_TICK(a, &v);
	ASSERT_VEC(&v, { A, 1 });
	/* Read is no event. */
	V_READ(a, &v);
	ASSERT_VEC(&v, { A, 1 });
	V_READ(a, &v);
	ASSERT_VEC(&v, { A, 1 });
	/* Send counts, and the stamp is the whole vector after the event. */
	V_SEND(a, &v);
	ASSERT_VEC(&v, { A, 2 });
	/* Receive: merge, then count the receive itself. */
	vec_build(&in, (struct cohort_vc_entry[]){ { B, 5 } }, 1);
	V_RECV(a, &in, &v);
	ASSERT_VEC(&v, { A, 3 }, { B, 5 });
	/* Component-wise max keeps the larger B and adds the new C. */
	vec_build(&in, (struct cohort_vc_entry[]){ { B, 3 }, { C, 7 } }, 2);
	V_RECV(a, &in, &v);
	ASSERT_VEC(&v, { A, 4 }, { B, 5 }, { C, 7 });
	/* Our own entry is merged like any other before the increment. */
	vec_build(&in, (struct cohort_vc_entry[]){ { A, 10 } }, 1);
	V_RECV(a, &in, &v);
	ASSERT_VEC(&v, { A, 11 }, { B, 5 }, { C, 7 });
	/* An empty stamp still makes the receive an event. */
	V_RECV(a, &empty, &v);
	ASSERT_VEC(&v, { A, 12 }, { B, 5 }, { C, 7 });
	V_READ(a, &v);
	ASSERT_VEC(&v, { A, 12 }, { B, 5 }, { C, 7 });
	/* And nobody else's vector moved. */
	V_READ(self->c[1], &v);
	ASSERT_EQ(0U, v.len);
}

/* The out pointer is optional: NULL still applies the event. */
TEST_F(clock, vclock_without_output)
{
	struct cohort_vector v;

	ASSERT_EQ(0, cohort_vclock_tick(self->c[0], NULL));
	ASSERT_EQ(0, cohort_vclock_tick(self->c[0], NULL));
	V_READ(self->c[0], &v);
	ASSERT_VEC(&v, { self->id[0], 2 });
}

/*
 *   A (c0)                 B (c1)                    C (c2)
 *   1 tick     {A1}
 *   2 send m1  {A2} --+
 *                     +> 3 recv m1 {A2 B1}
 *                        4 send m2 {A2 B2} --+
 *                                            |  5 tick   {C1}
 *                                            +> 6 recv m2 {A2 B2 C2}
 *                                          +--- 7 send m3 {A2 B2 C3}
 *   8 tick     {A3}                        |
 *   9 recv m3  {A4 B2 C3} <----------------+
 *                       10 tick    {A2 B3}
 */
TEST_F(clock, vclock_three_actors)
{
	struct cohort *a = self->c[0], *b = self->c[1], *c = self->c[2];
	uint64_t A = self->id[0], B = self->id[1], C = self->id[2];
	struct cohort_vector m1, m2, m3, v, e5, e9, e10;

	V_TICK(a, &v);
	ASSERT_VEC(&v, { A, 1 });
	V_SEND(a, &m1);
	ASSERT_VEC(&m1, { A, 2 });
	V_RECV(b, &m1, &v);
	ASSERT_VEC(&v, { A, 2 }, { B, 1 });
	V_SEND(b, &m2);
	ASSERT_VEC(&m2, { A, 2 }, { B, 2 });
	V_TICK(c, &e5);
	ASSERT_VEC(&e5, { C, 1 });
	V_RECV(c, &m2, &v);
	ASSERT_VEC(&v, { A, 2 }, { B, 2 }, { C, 2 });
	V_SEND(c, &m3);
	ASSERT_VEC(&m3, { A, 2 }, { B, 2 }, { C, 3 });
	V_TICK(a, &v);
	ASSERT_VEC(&v, { A, 3 });
	V_RECV(a, &m3, &e9);
	ASSERT_VEC(&e9, { A, 4 }, { B, 2 }, { C, 3 });
	V_TICK(b, &e10);
	ASSERT_VEC(&e10, { A, 2 }, { B, 3 });

	/* The library's comparison on what the kernel produced. */
	ASSERT_EQ(COHORT_ORDER_BEFORE, cohort_vector_compare(&m1, &m3));
	ASSERT_EQ(COHORT_ORDER_AFTER, cohort_vector_compare(&e9, &m1));
	ASSERT_EQ(COHORT_ORDER_CONCURRENT, cohort_vector_compare(&e9, &e10));
	ASSERT_EQ(COHORT_ORDER_CONCURRENT, cohort_vector_compare(&e5, &m2));
	ASSERT_EQ(COHORT_ORDER_BEFORE, cohort_vector_compare(&e5, &e9));
	ASSERT_EQ(COHORT_ORDER_EQUAL, cohort_vector_compare(&m3, &m3));
	ASSERT_EQ(3ULL, cohort_vector_get(&e9, C));
	ASSERT_EQ(0ULL, cohort_vector_get(&e10, C));
}

/* ---- vector comparison on crafted vectors ---- */

struct cmp_case {
	struct cohort_vc_entry a[4];
	unsigned int na;
	struct cohort_vc_entry b[4];
	unsigned int nb;
	enum cohort_order want;
};

static const struct cmp_case cmp_cases[] = {
	{ {}, 0, {}, 0, COHORT_ORDER_EQUAL },
	{ { { 1, 1 } }, 1, { { 1, 1 } }, 1, COHORT_ORDER_EQUAL },
	{ { { 1, 3 }, { 9, 2 } }, 2, { { 1, 3 }, { 9, 2 } }, 2,
	  COHORT_ORDER_EQUAL },
	{ {}, 0, { { 1, 1 } }, 1, COHORT_ORDER_BEFORE },
	{ { { 1, 1 } }, 1, { { 1, 2 } }, 1, COHORT_ORDER_BEFORE },
	/* Absent ids count as zero. */
	{ { { 1, 1 } }, 1, { { 1, 1 }, { 2, 1 } }, 2, COHORT_ORDER_BEFORE },
	{ { { 2, 1 } }, 1, { { 1, 1 }, { 2, 1 } }, 2, COHORT_ORDER_BEFORE },
	{ { { 1, 2 }, { 3, 1 } }, 2, { { 1, 2 }, { 2, 5 }, { 3, 1 } }, 3,
	  COHORT_ORDER_BEFORE },
	{ { { 1, 2 }, { 3, 1 } }, 2, { { 1, 2 }, { 2, 5 }, { 3, 4 } }, 3,
	  COHORT_ORDER_BEFORE },
	{ { { 1, 2 } }, 1, { { 2, 1 } }, 1, COHORT_ORDER_CONCURRENT },
	{ { { 1, 2 }, { 2, 1 } }, 2, { { 1, 1 }, { 2, 2 } }, 2,
	  COHORT_ORDER_CONCURRENT },
	/* Each side has an id the other lacks; shared ids equal. */
	{ { { 1, 1 }, { 3, 1 } }, 2, { { 1, 1 }, { 2, 1 } }, 2,
	  COHORT_ORDER_CONCURRENT },
	/* Larger on one id, missing another: still concurrent. */
	{ { { 1, 5 } }, 1, { { 1, 4 }, { 7, 1 } }, 2,
	  COHORT_ORDER_CONCURRENT },
	/* Extreme ids and counters must not confuse the comparison. */
	{ { { UINT64_MAX, 1 } }, 1, { { 1, 1 }, { UINT64_MAX, 1 } }, 2,
	  COHORT_ORDER_BEFORE },
	{ { { 1, UINT64_MAX } }, 1, { { 1, UINT64_MAX - 1 } }, 1,
	  COHORT_ORDER_AFTER },
	{ { { 1ULL << 63, 1 } }, 1, { { 1, 1 } }, 1,
	  COHORT_ORDER_CONCURRENT },
};

static enum cohort_order mirror(enum cohort_order o)
{
	if (o == COHORT_ORDER_BEFORE)
		return COHORT_ORDER_AFTER;
	if (o == COHORT_ORDER_AFTER)
		return COHORT_ORDER_BEFORE;
	return o;
}

TEST(vector_compare_crafted)
{
	struct cohort_vector a, b;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmp_cases); i++) {
		const struct cmp_case *t = &cmp_cases[i];

		/* Not vec_build: the cases are written sorted, keep them. */
		a.len = t->na;
		memcpy(a.entry, t->a, sizeof(t->a));
		b.len = t->nb;
		memcpy(b.entry, t->b, sizeof(t->b));
		ASSERT_EQ(t->want, cohort_vector_compare(&a, &b)) {
			TH_LOG("case %u", i);
		}
		ASSERT_EQ(mirror(t->want), cohort_vector_compare(&b, &a)) {
			TH_LOG("case %u mirrored", i);
		}
	}
}

/* ---- randomized history against a reference ---- */

#define HIST_EVENTS	2000
#define POOL_MAX	64
#define HB_WORDS	((HIST_EVENTS + 63) / 64)

struct hist_msg {
	struct cohort_vector v;		/* the kernel's stamp */
	uint64_t ref[NACT];		/* reference vector at the send */
	uint64_t lamport;		/* Lamport stamp sent alongside */
	int ev;				/* the send event */
};

struct history {
	struct cohort_vector *vec;	/* per event: kernel's vector */
	uint64_t *lamport;		/* per event: kernel's Lamport time */
	uint64_t (*hb)[HB_WORDS];	/* per event: set of events before it */
	struct hist_msg *pool;		/* messages sent, not yet received */
	int npool;
	uint64_t ref[NACT][NACT];	/* reference vector of each actor */
	uint64_t lref[NACT];		/* reference Lamport clock */
	int last[NACT];			/* last event of each actor, or -1 */
};

static void ref_to_vec(const uint64_t *ref, const uint64_t *ids,
		       struct cohort_vector *v)
{
	struct cohort_vc_entry e[NACT];
	int k;

	for (k = 0; k < NACT; k++) {
		e[k].id = ids[k];
		e[k].counter = ref[k];
	}
	vec_build(v, e, NACT);
}

/* Event @ev happened after event @pred (and all that preceded it). */
static void hb_inherit(struct history *h, int ev, int pred)
{
	int w;

	if (pred < 0)
		return;
	for (w = 0; w < HB_WORDS; w++)
		h->hb[ev][w] |= h->hb[pred][w];
	h->hb[ev][pred / 64] |= 1ULL << (pred % 64);
}

static bool hb(const struct history *h, int before, int after)
{
	return h->hb[after][before / 64] & (1ULL << (before % 64));
}

/* One random event on actor @a; returns the operation done. */
static int hist_step(struct __test_metadata *_metadata, struct history *h,
		     FIXTURE_DATA(clock) *self, int ev, int a, uint64_t *seed)
{
	int op = rnd_next(seed) % 3 + COHORT_CLOCK_TICK;
	struct hist_msg *m = NULL, got;
	struct cohort_vector want;
	int k, pick;

	if (op == COHORT_CLOCK_SEND && h->npool == POOL_MAX)
		op = COHORT_CLOCK_RECV;
	if (op == COHORT_CLOCK_RECV && !h->npool)
		op = COHORT_CLOCK_SEND;

	hb_inherit(h, ev, h->last[a]);
	h->last[a] = ev;

	if (op == COHORT_CLOCK_RECV) {
		/* Deliver a random pending message: any order is legal. */
		pick = rnd_next(seed) % h->npool;
		got = h->pool[pick];
		h->pool[pick] = h->pool[--h->npool];
		hb_inherit(h, ev, got.ev);
		for (k = 0; k < NACT; k++)
			if (got.ref[k] > h->ref[a][k])
				h->ref[a][k] = got.ref[k];
		if (got.lamport > h->lref[a])
			h->lref[a] = got.lamport;
		V_RECV(self->c[a], &got.v, &h->vec[ev]);
		h->lamport[ev] = L_RECV(self->c[a], got.lamport);
	} else if (op == COHORT_CLOCK_SEND) {
		m = &h->pool[h->npool++];
		V_SEND(self->c[a], &h->vec[ev]);
		h->lamport[ev] = L_SEND(self->c[a]);
	} else {
		V_TICK(self->c[a], &h->vec[ev]);
		h->lamport[ev] = L_TICK(self->c[a]);
	}
	h->ref[a][a]++;
	h->lref[a]++;

	ref_to_vec(h->ref[a], self->id, &want);
	assert_vec_eq(_metadata, &want, &h->vec[ev], __LINE__);
	ASSERT_EQ(h->lref[a], h->lamport[ev]);

	if (m) {
		m->v = h->vec[ev];
		memcpy(m->ref, h->ref[a], sizeof(m->ref));
		m->lamport = h->lamport[ev];
		m->ev = ev;
	}
	return op;
}

static enum cohort_order ref_order(const struct history *h, int i, int j)
{
	if (i == j)
		return COHORT_ORDER_EQUAL;
	if (hb(h, i, j))
		return COHORT_ORDER_BEFORE;
	if (hb(h, j, i))
		return COHORT_ORDER_AFTER;
	return COHORT_ORDER_CONCURRENT;
}

/*
 * Check every pair: the library's vector comparison must agree with the
 * happened-before relation built from the event graph (program order plus
 * send-to-receive edges, closed transitively), and Lamport stamps must be
 * consistent with it.
 */
static void hist_check_pairs(struct __test_metadata *_metadata,
			     const struct history *h)
{
	long before = 0, concurrent = 0;
	enum cohort_order want, seen;
	int i, j;

	for (i = 0; i < HIST_EVENTS; i++) {
		for (j = 0; j < HIST_EVENTS; j++) {
			want = ref_order(h, i, j);
			seen = cohort_vector_compare(&h->vec[i], &h->vec[j]);
			ASSERT_EQ(want, seen) {
				TH_LOG("events %d and %d", i, j);
			}
			if (want == COHORT_ORDER_BEFORE) {
				ASSERT_LT(h->lamport[i], h->lamport[j]);
				before++;
			} else if (want == COHORT_ORDER_CONCURRENT) {
				concurrent++;
			}
		}
	}
	TH_LOG("%ld ordered and %ld concurrent pairs", before, concurrent);
	/* A history with only one kind of pair would prove little. */
	ASSERT_GT(before, 1000L);
	ASSERT_GT(concurrent, 1000L);
}

TEST_F_TIMEOUT(clock, vclock_random_history, 120)
{
	uint64_t seed = test_seed(), s;
	struct history h = { .npool = 0 };
	int ev, sends = 0, recvs = 0, op;

	TH_LOG("seed %#" PRIx64 " (set COHORT_SEED to replay)", seed);
	s = seed;
	h.vec = calloc(HIST_EVENTS, sizeof(*h.vec));
	h.lamport = calloc(HIST_EVENTS, sizeof(*h.lamport));
	h.hb = calloc(HIST_EVENTS, sizeof(*h.hb));
	h.pool = calloc(POOL_MAX, sizeof(*h.pool));
	ASSERT_TRUE(h.vec && h.lamport && h.hb && h.pool);
	memset(h.last, 0xff, sizeof(h.last));

	for (ev = 0; ev < HIST_EVENTS; ev++) {
		op = hist_step(_metadata, &h, self, ev,
			       rnd_next(&s) % NACT, &s);
		sends += op == COHORT_CLOCK_SEND;
		recvs += op == COHORT_CLOCK_RECV;
	}
	TH_LOG("%d sends, %d receives", sends, recvs);
	hist_check_pairs(_metadata, &h);

	free(h.vec);
	free(h.lamport);
	free(h.hb);
	free(h.pool);
}

/* ---- vector length limits ---- */

/* Ids that are not any real actor: node 0xfffffff0 is never assigned here. */
static uint64_t fake_id(uint32_t k)
{
	return (0xfffffff0ULL << 32) | (k + 1);
}

/* @n fake entries numbered from @first, plus @self_counter for @self. */
static void vec_fake(struct cohort_vector *v, uint32_t first, uint32_t n,
		     uint64_t self_id, uint64_t self_counter)
{
	struct cohort_vc_entry *e = calloc(n + 1, sizeof(*e));
	uint32_t k;

	for (k = 0; k < n; k++) {
		e[k].id = fake_id(first + k);
		e[k].counter = k + 1;
	}
	e[n].id = self_id;
	e[n].counter = self_counter;
	vec_build(v, e, n + 1);
	free(e);
}

static void assert_unchanged(struct __test_metadata *_metadata,
			     struct cohort *c, const struct cohort_vector *v0,
			     uint64_t l0)
{
	struct cohort_vector v;

	V_READ(c, &v);
	assert_vec_eq(_metadata, v0, &v, __LINE__);
	ASSERT_EQ(l0, L_READ(c));
}

/* A full-size vector that includes us merges into exactly MAX entries. */
TEST_F(clock, vclock_recv_max_entries)
{
	struct cohort_vector *in = malloc(sizeof(*in));
	struct cohort_vector *out = malloc(sizeof(*out));
	uint64_t self_id = self->id[0];
	uint32_t k;

	ASSERT_TRUE(in && out);
	vec_fake(in, 0, VC_MAX - 1, self_id, 1);
	ASSERT_EQ((uint32_t)VC_MAX, in->len);
	V_RECV(self->c[0], in, out);
	ASSERT_EQ((uint32_t)VC_MAX, out->len);
	for (k = 0; k < VC_MAX - 1; k++)
		ASSERT_EQ((uint64_t)k + 1, cohort_vector_get(out, fake_id(k)));
	/* max(0, 1) + 1 */
	ASSERT_EQ(2ULL, cohort_vector_get(out, self_id));
	free(in);
	free(out);
}

/* MAX + 1 entries cannot even be expressed in a cohort_vector: raw ioctl. */
TEST_F(clock, vclock_recv_too_long)
{
	struct cohort_vc_entry *e = calloc(VC_MAX + 1, sizeof(*e));
	struct cohort_vector v0;
	struct cohort_vclock arg = {
		.size = sizeof(arg),
		.op = COHORT_CLOCK_RECV,
		.in_len = VC_MAX + 1,
		.in_ptr = (uintptr_t)e,
	};
	uint64_t l0;
	uint32_t k;

	ASSERT_NE(NULL, e);
	for (k = 0; k <= VC_MAX; k++) {
		e[k].id = fake_id(k);
		e[k].counter = 1;
	}
	L_TICK(self->c[0]);
	V_TICK(self->c[0], &v0);
	l0 = L_READ(self->c[0]);
	errno = 0;
	ASSERT_EQ(-1, ioctl(cohort_fd(self->c[0]), COHORT_IOC_VCLOCK, &arg));
	ASSERT_EQ(E2BIG, errno);
	assert_unchanged(_metadata, self->c[0], &v0, l0);
	free(e);
}

/*
 * Local vector: 10 fake ids + self = 11 entries. A stamp of MAX - 10 other
 * ids would make MAX + 1: refused as a whole. MAX - 11 makes exactly MAX.
 */
TEST_F(clock, vclock_recv_merge_limit)
{
	struct cohort_vector *in = malloc(sizeof(*in));
	struct cohort_vector *v0 = malloc(sizeof(*v0));
	struct cohort_vector *out = malloc(sizeof(*out));
	struct cohort *a = self->c[0];
	uint64_t l0;
	int ret;

	ASSERT_TRUE(in && v0 && out);
	vec_fake(in, 0, 10, self->id[1], 0);
	V_RECV(a, in, v0);
	ASSERT_EQ(11U, v0->len);
	l0 = L_READ(a);

	vec_fake(in, 1000, VC_MAX - 10, self->id[1], 0);
	ASSERT_EQ((uint32_t)VC_MAX - 10, in->len);
	ret = cohort_vclock_recv(a, in, NULL);
	ASSERT_EQ(-E2BIG, ret);
	assert_unchanged(_metadata, a, v0, l0);

	/* The same with an output buffer: still refused, still untouched. */
	ret = cohort_vclock_recv(a, in, out);
	ASSERT_EQ(-E2BIG, ret);
	assert_unchanged(_metadata, a, v0, l0);

	vec_fake(in, 1000, VC_MAX - 11, self->id[1], 0);
	V_RECV(a, in, v0);
	ASSERT_EQ((uint32_t)VC_MAX, v0->len);
	/* Full now: a tick still fits, a new id does not. */
	V_TICK(a, v0);
	ASSERT_EQ((uint32_t)VC_MAX, v0->len);
	vec_fake(in, 5000, 1, self->id[1], 0);
	ASSERT_EQ(-E2BIG, cohort_vclock_recv(a, in, NULL));
	assert_unchanged(_metadata, a, v0, l0);
	free(in);
	free(v0);
	free(out);
}

TEST_HARNESS_MAIN
