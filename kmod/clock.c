// SPDX-License-Identifier: GPL-2.0
/*
 * Lamport and vector clocks ("Logical Clock Synchronization").
 *
 * The same code serves the clocks of an actor (an open /dev/cohort handle,
 * serialised by its mutex) and of a node (serialised by the node's clock
 * spinlock, and stamped from softirq once frames cross the wire), so
 * nothing here locks, sleeps or allocates after cohort_clocks_init().
 *
 * An event is computed into the spare vector and becomes the clock only on
 * cohort_vector_commit(): callers commit once everything else, such as the
 * copy back to user space, has succeeded, so a failed call changes nothing.
 * Events whose result need not be seen first (the stamps of messages) go
 * through cohort_clocks_event(), which changes counters in place when it
 * can: copying the vector twice was most of the cost of a small message.
 * A call that receives many messages merges each run of one sender's
 * stamps once (cohort_clocks_recv_run()).
 */
#include <linux/bits.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "clock.h"

#define VC_BYTES (COHORT_VC_MAX_ENTRIES * sizeof(struct cohort_vc_entry))

int cohort_clocks_init(struct cohort_clocks *c, gfp_t gfp)
{
	if (c->vc.entry)
		return 0;
	c->vc.entry = kmalloc(VC_BYTES, gfp);
	c->spare.entry = kmalloc(VC_BYTES, gfp);
	if (c->vc.entry && c->spare.entry)
		return 0;
	cohort_clocks_free(c);
	return -ENOMEM;
}

void cohort_clocks_free(struct cohort_clocks *c)
{
	kfree(c->vc.entry);
	kfree(c->spare.entry);
	c->vc.entry = NULL;
	c->spare.entry = NULL;
	c->vc.len = 0;
	c->spare.len = 0;
}

int cohort_lamport_event(u64 clock, u32 op, u64 received, u64 *result)
{
	switch (op) {
	case COHORT_CLOCK_READ:
		*result = clock;
		return 0;
	case COHORT_CLOCK_RECV:
		clock = max(clock, received);
		fallthrough;
	case COHORT_CLOCK_TICK:
	case COHORT_CLOCK_SEND:
		if (clock == U64_MAX)
			return -EOVERFLOW;
		*result = clock + 1;
		return 0;
	}
	return -EINVAL;
}

/* Strictly increasing non-zero ids; zero counters are allowed (= absent). */
int cohort_vector_validate(const struct cohort_vc_entry *e, u32 n)
{
	u32 i;

	if (n > COHORT_VC_MAX_ENTRIES)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		if (!e[i].id || (i && e[i].id <= e[i - 1].id))
			return -EINVAL;
	}
	return 0;
}

/* Component-wise max of @v and @in into @out; -E2BIG past the limit. */
static int vector_merge(const struct cohort_vector *v,
			const struct cohort_vc_entry *in, u32 in_len,
			struct cohort_vector *out)
{
	struct cohort_vc_entry *o = out->entry;
	u32 i = 0, j = 0, k = 0;

	while (i < v->len || j < in_len) {
		if (j < in_len && !in[j].counter) {
			j++;
			continue;
		}
		if (k == COHORT_VC_MAX_ENTRIES)
			return -E2BIG;
		if (j == in_len || (i < v->len && v->entry[i].id < in[j].id)) {
			o[k++] = v->entry[i++];
		} else if (i == v->len || in[j].id < v->entry[i].id) {
			o[k++] = in[j++];
		} else {
			o[k].id = v->entry[i].id;
			o[k++].counter = max(v->entry[i++].counter,
					     in[j++].counter);
		}
	}
	out->len = k;
	return 0;
}

/* Count one event of @self in @v, inserting its entry in order if new. */
static int vector_bump(struct cohort_vector *v, u64 self)
{
	struct cohort_vc_entry *e = v->entry;
	u32 i;

	for (i = 0; i < v->len && e[i].id < self; i++)
		;
	if (i == v->len || e[i].id != self) {
		if (v->len == COHORT_VC_MAX_ENTRIES)
			return -E2BIG;
		memmove(&e[i + 1], &e[i], (v->len - i) * sizeof(*e));
		e[i].id = self;
		e[i].counter = 0;
		v->len++;
	}
	if (e[i].counter == U64_MAX)
		return -EOVERFLOW;
	e[i].counter++;
	return 0;
}

/*
 * The vector after event @op of actor (or node) @self, in c->spare: TICK
 * and SEND count one event, RECV first takes the component-wise max with
 * @in (which passed cohort_vector_validate()), READ copies.
 */
int cohort_vector_event(struct cohort_clocks *c,
			const struct cohort_vc_entry *in, u32 in_len,
			u32 op, u64 self)
{
	int err;

	if (op != COHORT_CLOCK_RECV)
		in_len = 0;
	err = vector_merge(&c->vc, in, in_len, &c->spare);
	if (err || op == COHORT_CLOCK_READ)
		return err;
	return vector_bump(&c->spare, self);
}

void cohort_vector_commit(struct cohort_clocks *c)
{
	swap(c->vc, c->spare);
}

/*
 * Where @self is in @v, or -1. Entries move only when a new id comes in,
 * so the last position found is checked first: a vector with many ids
 * costs one compare per event instead of a scan.
 */
static int vector_self(struct cohort_vector *v, u64 self)
{
	const struct cohort_vc_entry *e = v->entry;
	u32 i = v->self_pos;

	if (i < v->len && e[i].id == self)
		return i;
	for (i = 0; i < v->len; i++) {
		if (e[i].id == self) {
			v->self_pos = i;
			return i;
		}
	}
	return -1;
}

/*
 * Does every id @in counts already have its entry in @v, with no counter
 * of @self at its limit? Then the event changes counters only, and cannot
 * fail half way.
 */
static bool vector_covers(const struct cohort_vector *v,
			  const struct cohort_vc_entry *in, u32 in_len,
			  u64 self)
{
	const struct cohort_vc_entry *e = v->entry;
	u32 i = 0, j;

	for (j = 0; j < in_len; j++) {
		if (!in[j].counter)
			continue;
		while (i < v->len && e[i].id < in[j].id)
			i++;
		if (i == v->len || e[i].id != in[j].id)
			return false;
		if (in[j].id == self && in[j].counter == U64_MAX)
			return false;
	}
	return true;
}

/* The max of @in into @v, whose ids cover it (vector_covers()). */
static void vector_max_in_place(struct cohort_vector *v,
				const struct cohort_vc_entry *in, u32 in_len)
{
	struct cohort_vc_entry *e = v->entry;
	u32 i = 0, j;

	for (j = 0; j < in_len; j++) {
		if (!in[j].counter)
			continue;
		while (e[i].id < in[j].id)
			i++;
		e[i].counter = max(e[i].counter, in[j].counter);
	}
}

/*
 * One TICK, SEND or RECV (of @lamport and @in) of @self on both clocks,
 * now: for events whose result nobody copies out first. Most change
 * counters in place; new ids take the spare vector. On error nothing
 * changed.
 */
int cohort_clocks_event(struct cohort_clocks *c, u32 op, u64 lamport,
			const struct cohort_vc_entry *in, u32 in_len, u64 self)
{
	u64 now;
	int err, pos;

	if (op == COHORT_CLOCK_READ)
		return -EINVAL;
	err = cohort_lamport_event(c->lamport, op, lamport, &now);
	if (err)
		return err;
	if (op != COHORT_CLOCK_RECV)
		in_len = 0;
	pos = vector_self(&c->vc, self);
	if (pos >= 0 && c->vc.entry[pos].counter != U64_MAX &&
	    vector_covers(&c->vc, in, in_len, self)) {
		vector_max_in_place(&c->vc, in, in_len);
		c->vc.entry[pos].counter++;
	} else {
		err = cohort_vector_event(c, in, in_len, op, self);
		if (!err)
			cohort_vector_commit(c);
	}
	if (!err)
		c->lamport = now;
	return err;
}

/*
 * Is @in the same ids as @p, with no counter smaller, and none set where
 * @p has none? The next send of @p's sender stamps that, for one; and
 * since @p's set counters have their entries in a vector that merged it,
 * so do @in's.
 */
static bool stamp_within(const struct cohort_vc_entry *p,
			 const struct cohort_vc_entry *in, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++) {
		if (in[i].id != p[i].id || in[i].counter < p[i].counter ||
		    (in[i].counter && !p[i].counter))
			return false;
	}
	return true;
}

static int stamp_find(const struct cohort_vc_entry *in, u32 len, u64 id)
{
	u32 i;

	for (i = 0; i < len; i++) {
		if (in[i].id == id)
			return i;
	}
	return -1;
}

/*
 * The RECV of @lamport and @in by @self, one of a run of receives in
 * order, under the same lock. A stamp within the one whose merge waits
 * (stamp_within()), as a sender's next messages are, is not merged now:
 * the Lamport clock and the receiver's own entry move as the event moves
 * them, and @in waits in its place. Another stamp first has the waiting
 * one merged, then the event. Either way each receive fails as, and only
 * when, cohort_clocks_event() would fail it: a waiting stamp's ids are
 * all in the vector, so its merge cannot. cohort_clocks_run_end() merges
 * the last one before the lock goes.
 */
int __cohort_clocks_recv_run(struct cohort_clocks *c,
			     struct cohort_clocks_run *run, u64 lamport,
			     const struct cohort_vc_entry *in, u32 in_len,
			     u64 self)
{
	struct cohort_vector *v = &c->vc;
	struct cohort_vc_entry *e;
	u64 own, now;
	int pos;

	pos = in_len == run->len && stamp_within(run->vc, in, in_len) ?
	      vector_self(v, self) : -1;
	if (pos >= 0) {
		if (run->self_at == -2)
			run->self_at = stamp_find(in, in_len, self);
		e = &v->entry[pos];
		own = e->counter;
		if (run->self_at >= 0)
			own = max(own, in[run->self_at].counter);
		now = max(c->lamport, lamport);
		if (own != U64_MAX && now != U64_MAX) {
			e->counter = own + 1;
			c->lamport = now + 1;
			run->vc = in;
			run->waits = true;
			return 0;
		}
	}
	/* With nothing waiting, the event as the first of a run has it. */
	cohort_clocks_run_end(c, run);
	return cohort_clocks_recv_run(c, run, lamport, in, in_len, self);
}

/* Merge the stamp that waits: before the lock goes, or another event. */
void cohort_clocks_run_end(struct cohort_clocks *c,
			   struct cohort_clocks_run *run)
{
	if (run->waits)
		vector_max_in_place(&c->vc, run->vc, run->len);
	run->vc = NULL;
	run->waits = false;
}

/*
 * Far from every limit: the Lamport clock and every counter below 2^63,
 * fewer than half the entries. Between two such clocks, a run of up to
 * 2 * COHORT_QBATCH_MAX sends and receives cannot fail, so a caller may
 * commit to the whole run before making it.
 */
bool cohort_clocks_roomy(const struct cohort_clocks *c)
{
	u32 i;

	if (c->lamport >= BIT_ULL(63) ||
	    c->vc.len >= COHORT_VC_MAX_ENTRIES / 2)
		return false;
	for (i = 0; i < c->vc.len; i++) {
		if (c->vc.entry[i].counter >= BIT_ULL(63))
			return false;
	}
	return true;
}

/* Entries of the stamp a send of @self would give: one more if it is new. */
u32 cohort_clocks_send_len(struct cohort_clocks *c, u64 self)
{
	return c->vc.len + (vector_self(&c->vc, self) < 0);
}
