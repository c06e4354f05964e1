/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_CLOCK_H
#define _COHORT_CLOCK_H

#include <linux/types.h>
#include <linux/cohort.h>

/* A vector clock: entries sorted by increasing non-zero id, no zero counter. */
struct cohort_vector {
	u32 len;
	struct cohort_vc_entry *entry;
};

/* The Lamport and vector clock of one actor or one node. */
struct cohort_clocks {
	u64 lamport;
	struct cohort_vector vc;
};

int cohort_lamport_event(u64 clock, u32 op, u64 received, u64 *result);
int cohort_vector_validate(const struct cohort_vc_entry *e, u32 n);
int cohort_vector_event(const struct cohort_vector *v,
			const struct cohort_vc_entry *in, u32 in_len,
			u32 op, u64 self, struct cohort_vector *res);
void cohort_vector_replace(struct cohort_vector *v, struct cohort_vector *res);
void cohort_vector_free(struct cohort_vector *v);

long cohort_clock_lamport_ioctl(struct cohort_clocks *c, void __user *arg);
long cohort_clock_vclock_ioctl(struct cohort_clocks *c, u64 self,
			       void __user *arg);

#endif /* _COHORT_CLOCK_H */
