// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: Lamport and vector clocks of a /dev/cohort handle, and the
 * pure functions that order their stamps.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "internal.h"

static int lamport_op(struct cohort *c, enum cohort_clock_op op,
		      uint64_t in, uint64_t *now)
{
	struct cohort_lamport arg = {
		.size = sizeof(arg),
		.op = op,
		.time = in,
	};

	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (c->fd < 0)
		return -EBADF;
	if (ioctl(c->fd, COHORT_IOC_LAMPORT, &arg) < 0)
		return -errno;
	if (now)
		*now = arg.time;
	return 0;
}

COHORT_API int cohort_lamport_read(struct cohort *c, uint64_t *now)
{
	return lamport_op(c, COHORT_CLOCK_READ, 0, now);
}

COHORT_API int cohort_lamport_tick(struct cohort *c, uint64_t *now)
{
	return lamport_op(c, COHORT_CLOCK_TICK, 0, now);
}

COHORT_API int cohort_lamport_send(struct cohort *c, uint64_t *stamp)
{
	return lamport_op(c, COHORT_CLOCK_SEND, 0, stamp);
}

COHORT_API int cohort_lamport_recv(struct cohort *c, uint64_t stamp,
				   uint64_t *now)
{
	return lamport_op(c, COHORT_CLOCK_RECV, stamp, now);
}

/*
 * One COHORT_IOC_VCLOCK call. @in is only passed for RECV (an empty received
 * vector goes as in_ptr 0, which the kernel accepts); @out, when given,
 * receives the vector after the operation and always has room for the
 * largest vector the kernel produces.
 */
static int vclock_op(struct cohort *c, enum cohort_clock_op op,
		     const struct cohort_vector *in, struct cohort_vector *out)
{
	struct cohort_vclock arg = {
		.size = sizeof(arg),
		.op = op,
	};

	if (!c)
		return -EINVAL;
	cohort_clear_errmsg(c);
	if (c->fd < 0)
		return -EBADF;
	if (in) {
		if (in->len > COHORT_VC_MAX_ENTRIES)
			return -E2BIG;
		if (in->len) {
			arg.in_len = in->len;
			arg.in_ptr = (uintptr_t)in->entry;
		}
	}
	if (out) {
		arg.out_ptr = (uintptr_t)out->entry;
		arg.out_cap = COHORT_VC_MAX_ENTRIES;
	}
	if (ioctl(c->fd, COHORT_IOC_VCLOCK, &arg) < 0)
		return -errno;
	if (out) {
		if (arg.out_len > COHORT_VC_MAX_ENTRIES)
			return -EPROTO;
		out->len = arg.out_len;
	}
	return 0;
}

COHORT_API int cohort_vclock_read(struct cohort *c, struct cohort_vector *out)
{
	return vclock_op(c, COHORT_CLOCK_READ, NULL, out);
}

COHORT_API int cohort_vclock_tick(struct cohort *c, struct cohort_vector *out)
{
	return vclock_op(c, COHORT_CLOCK_TICK, NULL, out);
}

COHORT_API int cohort_vclock_send(struct cohort *c,
				  struct cohort_vector *stamp)
{
	return vclock_op(c, COHORT_CLOCK_SEND, NULL, stamp);
}

COHORT_API int cohort_vclock_recv(struct cohort *c,
				  const struct cohort_vector *stamp,
				  struct cohort_vector *out)
{
	if (!stamp)
		return -EINVAL;
	return vclock_op(c, COHORT_CLOCK_RECV, stamp, out);
}

static uint32_t vec_len(const struct cohort_vector *v)
{
	if (!v)
		return 0;
	return v->len > COHORT_VC_MAX_ENTRIES ? COHORT_VC_MAX_ENTRIES : v->len;
}

/*
 * Walk both sorted vectors at once; an id missing from one side counts as
 * a zero counter there. a <= b everywhere and a != b means a happened
 * before b; neither a <= b nor b <= a means the events are concurrent.
 */
COHORT_API enum cohort_order
cohort_vector_compare(const struct cohort_vector *a,
		      const struct cohort_vector *b)
{
	uint32_t na = vec_len(a), nb = vec_len(b), i = 0, j = 0;
	bool less = false, greater = false;

	while ((i < na || j < nb) && !(less && greater)) {
		uint64_t ca = 0, cb = 0;

		if (j >= nb || (i < na && a->entry[i].id < b->entry[j].id)) {
			ca = a->entry[i++].counter;
		} else if (i >= na || b->entry[j].id < a->entry[i].id) {
			cb = b->entry[j++].counter;
		} else {
			ca = a->entry[i++].counter;
			cb = b->entry[j++].counter;
		}
		if (ca < cb)
			less = true;
		else if (ca > cb)
			greater = true;
	}
	if (less && greater)
		return COHORT_ORDER_CONCURRENT;
	if (less)
		return COHORT_ORDER_BEFORE;
	if (greater)
		return COHORT_ORDER_AFTER;
	return COHORT_ORDER_EQUAL;
}

COHORT_API uint64_t cohort_vector_get(const struct cohort_vector *v,
				      uint64_t id)
{
	uint32_t lo = 0, hi = vec_len(v);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->entry[mid].id == id)
			return v->entry[mid].counter;
		if (v->entry[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

COHORT_API int cohort_lamport_cmp(uint64_t time_a, uint64_t actor_a,
				  uint64_t time_b, uint64_t actor_b)
{
	if (time_a != time_b)
		return time_a < time_b ? -1 : 1;
	if (actor_a != actor_b)
		return actor_a < actor_b ? -1 : 1;
	return 0;
}
