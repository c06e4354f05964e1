// SPDX-License-Identifier: GPL-2.0
/*
 * Lamport and vector clocks ("Logical Clock Synchronization").
 *
 * The same code serves the clocks of an actor (an open /dev/cohort handle,
 * serialised by the handle's mutex) and of a node (serialised by the node's
 * clock spinlock), so nothing here takes a lock or sleeps except the ioctl
 * entry points, which run under the actor's mutex.
 *
 * Every operation computes its result beside the current state and the
 * caller commits it only when everything else, including the copy back to
 * user space, has succeeded: a failed call never changes a clock.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/overflow.h>

#include "clock.h"
#include "chardev.h"

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
		if (!e[i].id)
			return -EINVAL;
		if (i && e[i].id <= e[i - 1].id)
			return -EINVAL;
	}
	return 0;
}

/* Length of max(@v, @in) with @self present, zero counters dropped. */
static u32 merged_len(const struct cohort_vector *v,
		      const struct cohort_vc_entry *in, u32 in_len, u64 self)
{
	u32 i = 0, j = 0, n = 0;
	bool have_self = false;

	while (i < v->len || j < in_len) {
		u64 id;

		if (j == in_len || (i < v->len && v->entry[i].id < in[j].id)) {
			id = v->entry[i++].id;
		} else if (i == v->len || in[j].id < v->entry[i].id) {
			if (!in[j].counter && in[j].id != self) {
				j++;
				continue;
			}
			id = in[j++].id;
		} else {
			id = v->entry[i].id;
			i++;
			j++;
		}
		have_self |= id == self;
		n++;
	}
	return n + !have_self;
}

/*
 * Result of an event on @v into @res (allocated here): TICK and SEND bump
 * the own entry, RECV first takes the component-wise max with @in. READ
 * copies. @in must have passed cohort_vector_validate().
 */
int cohort_vector_event(const struct cohort_vector *v,
			const struct cohort_vc_entry *in, u32 in_len,
			u32 op, u64 self, struct cohort_vector *res)
{
	u32 i = 0, j = 0, k = 0, n;
	struct cohort_vc_entry *out;

	if (op != COHORT_CLOCK_RECV)
		in_len = 0;
	n = op == COHORT_CLOCK_READ ? v->len : merged_len(v, in, in_len, self);
	if (n > COHORT_VC_MAX_ENTRIES)
		return -E2BIG;
	res->len = n;
	res->entry = NULL;
	if (!n)
		return 0;
	out = kmalloc_array(n, sizeof(*out), GFP_KERNEL_ACCOUNT);
	if (!out)
		return -ENOMEM;

	while (i < v->len || j < in_len) {
		if (j == in_len || (i < v->len && v->entry[i].id < in[j].id)) {
			out[k++] = v->entry[i++];
		} else if (i == v->len || in[j].id < v->entry[i].id) {
			if (in[j].counter)
				out[k++] = in[j];
			j++;
		} else {
			out[k].id = v->entry[i].id;
			out[k++].counter = max(v->entry[i].counter,
					       in[j].counter);
			i++;
			j++;
		}
	}
	if (op == COHORT_CLOCK_READ) {
		res->entry = out;
		return 0;
	}

	/* Bump (or insert, keeping the order) the own entry. */
	for (i = 0; i < k && out[i].id < self; i++)
		;
	if (i == k || out[i].id != self) {
		memmove(&out[i + 1], &out[i], (k - i) * sizeof(*out));
		out[i].id = self;
		out[i].counter = 0;
		k++;
	}
	if (out[i].counter == U64_MAX) {
		kfree(out);
		return -EOVERFLOW;
	}
	out[i].counter++;
	res->entry = out;
	return 0;
}

void cohort_vector_replace(struct cohort_vector *v, struct cohort_vector *res)
{
	kfree(v->entry);
	*v = *res;
	res->entry = NULL;
	res->len = 0;
}

void cohort_vector_free(struct cohort_vector *v)
{
	kfree(v->entry);
	v->entry = NULL;
	v->len = 0;
}

long cohort_clock_lamport_ioctl(struct cohort_clocks *c, void __user *arg)
{
	struct cohort_lamport a;
	u32 usize;
	u64 now;
	int err;

	err = cohort_ioctl_get_arg(&a, sizeof(a), sizeof(a), arg, &usize);
	if (err)
		return err;
	if (a.op >= __COHORT_CLOCK_OP_MAX)
		return -EINVAL;
	err = cohort_lamport_event(c->lamport, a.op, a.time, &now);
	if (err)
		return err;
	a.time = now;
	err = cohort_ioctl_put_arg(arg, usize, &a, sizeof(a));
	if (err)
		return err;
	c->lamport = now;
	return 0;
}

static int vclock_copy_in(const struct cohort_vclock *a,
			  struct cohort_vc_entry **in)
{
	int err;

	*in = NULL;
	if (a->op != COHORT_CLOCK_RECV)
		return a->in_len || a->in_ptr ? -EINVAL : 0;
	if (!a->in_len)
		return a->in_ptr ? -EINVAL : 0;
	if (a->in_len > COHORT_VC_MAX_ENTRIES)
		return -E2BIG;
	*in = memdup_user(u64_to_user_ptr(a->in_ptr),
			  array_size(a->in_len, sizeof(**in)));
	if (IS_ERR(*in)) {
		err = PTR_ERR(*in);
		*in = NULL;
		return err;
	}
	err = cohort_vector_validate(*in, a->in_len);
	if (err) {
		kfree(*in);
		*in = NULL;
	}
	return err;
}

static int vclock_copy_out(struct cohort_vclock *a,
			   const struct cohort_vector *res)
{
	a->out_len = res->len;
	if (!a->out_ptr)
		return 0;
	if (a->out_cap < res->len)
		return -ENOSPC;
	if (copy_to_user(u64_to_user_ptr(a->out_ptr), res->entry,
			 array_size(res->len, sizeof(*res->entry))))
		return -EFAULT;
	return 0;
}

long cohort_clock_vclock_ioctl(struct cohort_clocks *c, u64 self,
			       void __user *arg)
{
	struct cohort_vector res = {};
	struct cohort_vc_entry *in;
	struct cohort_vclock a;
	u32 usize;
	int err;

	err = cohort_ioctl_get_arg(&a, sizeof(a), sizeof(a), arg, &usize);
	if (err)
		return err;
	if (a.op >= __COHORT_CLOCK_OP_MAX || a.__reserved)
		return -EINVAL;
	err = vclock_copy_in(&a, &in);
	if (err)
		return err;
	err = cohort_vector_event(&c->vc, in, a.in_len, a.op, self, &res);
	kfree(in);
	if (err)
		return err;

	err = vclock_copy_out(&a, &res);
	if (!err || err == -ENOSPC) {
		int perr = cohort_ioctl_put_arg(arg, usize, &a, sizeof(a));

		err = err ?: perr;
	}
	if (!err && a.op != COHORT_CLOCK_READ)
		cohort_vector_replace(&c->vc, &res);
	cohort_vector_free(&res);
	return err;
}
