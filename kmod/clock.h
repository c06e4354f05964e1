/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CLOCK_H
#define _COHORT_CLOCK_H

#include <linux/types.h>
#include <linux/cohort.h>

/*
 * A vector clock: entries sorted by increasing non-zero id, no zero
 * counter. @entry, once allocated, holds COHORT_VC_MAX_ENTRIES so that an
 * event can be computed into a spare vector without allocating.
 */
struct cohort_vector {
	u32 len;
	u32 self_pos;		/* where the owner's entry was last seen */
	struct cohort_vc_entry *entry;
};

/* The Lamport and vector clock of one actor or one node. */
struct cohort_clocks {
	u64 lamport;
	struct cohort_vector vc;
	struct cohort_vector spare;	/* the next @vc, swapped in on commit */
};

int cohort_clocks_init(struct cohort_clocks *c, gfp_t gfp);
void cohort_clocks_free(struct cohort_clocks *c);

int cohort_lamport_event(u64 clock, u32 op, u64 received, u64 *result);
int cohort_vector_validate(const struct cohort_vc_entry *e, u32 n);
int cohort_vector_event(struct cohort_clocks *c,
			const struct cohort_vc_entry *in, u32 in_len,
			u32 op, u64 self);
void cohort_vector_commit(struct cohort_clocks *c);
int cohort_clocks_event(struct cohort_clocks *c, u32 op, u64 lamport,
			const struct cohort_vc_entry *in, u32 in_len, u64 self);
bool cohort_clocks_roomy(const struct cohort_clocks *c);
u32 cohort_clocks_send_len(struct cohort_clocks *c, u64 self);

/*
 * A SEND of @self, as cohort_clocks_event() makes it. Most count one more
 * where the last event found @self, with neither counter at its limit:
 * that much is inline, as a stamped message costs little else.
 */
static inline int cohort_clocks_send(struct cohort_clocks *c, u64 self)
{
	struct cohort_vector *v = &c->vc;
	struct cohort_vc_entry *e;

	if (likely(v->self_pos < v->len && c->lamport != U64_MAX)) {
		e = &v->entry[v->self_pos];
		if (likely(e->id == self && e->counter != U64_MAX)) {
			e->counter++;
			c->lamport++;
			return 0;
		}
	}
	return cohort_clocks_event(c, COHORT_CLOCK_SEND, 0, NULL, 0, self);
}

/*
 * The receives of one call, in order (cohort_clocks_recv_run()): the last
 * stamp, whose merge may wait, and the position of the receiver's own
 * entry in it (-1: none; -2: not looked for yet). Zeroed before the first.
 */
struct cohort_clocks_run {
	const struct cohort_vc_entry *vc;
	u32 len;
	int self_at;
	bool waits;		/* @vc is not merged yet */
};

int __cohort_clocks_recv_run(struct cohort_clocks *c,
			     struct cohort_clocks_run *run, u64 lamport,
			     const struct cohort_vc_entry *in, u32 in_len,
			     u64 self);
void cohort_clocks_run_end(struct cohort_clocks *c,
			   struct cohort_clocks_run *run);

/* The first receive of a run is a plain event: no call more for one. */
static inline int cohort_clocks_recv_run(struct cohort_clocks *c,
					 struct cohort_clocks_run *run,
					 u64 lamport,
					 const struct cohort_vc_entry *in,
					 u32 in_len, u64 self)
{
	int err;

	if (run->vc)
		return __cohort_clocks_recv_run(c, run, lamport, in, in_len,
						self);
	err = cohort_clocks_event(c, COHORT_CLOCK_RECV, lamport, in, in_len,
				  self);
	if (!err) {
		run->vc = in;
		run->len = in_len;
		run->self_at = -2;
	}
	return err;
}

#endif /* _COHORT_CLOCK_H */
