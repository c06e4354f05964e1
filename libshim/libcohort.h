/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libcohort: a thin C API over the cohort kernel module.
 *
 * Every function returns 0 or a negative errno. Objects are opaque. The
 * last kernel error message (netlink extack) of a handle is available with
 * cohort_errmsg().
 *
 * A handle is not locked: use one per thread (or serialize calls on it).
 * Its netlink socket is opened on the first netlink call; a missing cohort
 * generic netlink family (module not loaded) is reported as -ENOENT.
 */
#ifndef LIBCOHORT_H
#define LIBCOHORT_H

#include <stdint.h>
#include <linux/cohort.h>

#ifdef __cplusplus
extern "C" {
#endif

struct cohort;

/* A vector clock: entries sorted by strictly increasing non-zero id. */
struct cohort_vector {
	uint32_t len;
	struct cohort_vc_entry entry[COHORT_VC_MAX_ENTRIES];
};

/* Open /dev/cohort (one actor) for the caller's node; close it again. */
int cohort_open(struct cohort **out);
void cohort_close(struct cohort *c);
/* The character device fd; -EBADF for a cohort_open_netlink() handle. */
int cohort_fd(const struct cohort *c);
/*
 * The message of the last failed call on @c: the kernel's extack text, or
 * one from the library (e.g. family not found); "" if there is none.
 */
const char *cohort_errmsg(const struct cohort *c);

/* This actor's cluster-unique id (binds it on first use). */
int cohort_actor_id(struct cohort *c, uint64_t *actor_id, uint32_t *node_id);

/*
 * Lamport clock of this actor: each returns the clock after the event in
 * *now (may be NULL). -ENXIO while the node has no id.
 */
int cohort_lamport_read(struct cohort *c, uint64_t *now);
int cohort_lamport_tick(struct cohort *c, uint64_t *now);
int cohort_lamport_send(struct cohort *c, uint64_t *stamp);
int cohort_lamport_recv(struct cohort *c, uint64_t stamp, uint64_t *now);

/*
 * Vector clock of this actor: each stores the vector after the event in
 * *out (may be NULL). recv merges @stamp (len 0 is an empty vector).
 */
int cohort_vclock_read(struct cohort *c, struct cohort_vector *out);
int cohort_vclock_tick(struct cohort *c, struct cohort_vector *out);
int cohort_vclock_send(struct cohort *c, struct cohort_vector *stamp);
int cohort_vclock_recv(struct cohort *c, const struct cohort_vector *stamp,
		       struct cohort_vector *out);

enum cohort_order {
	COHORT_ORDER_EQUAL,
	COHORT_ORDER_BEFORE,		/* a happened before b */
	COHORT_ORDER_AFTER,		/* b happened before a */
	COHORT_ORDER_CONCURRENT,
};

/* Causal order of two well-formed vectors (pure; no kernel call). */
enum cohort_order cohort_vector_compare(const struct cohort_vector *a,
					const struct cohort_vector *b);
/* Counter of @id in @v, 0 if absent (pure). */
uint64_t cohort_vector_get(const struct cohort_vector *v, uint64_t id);
/*
 * Lamport total order: by time, ties broken by actor id. Returns <0, 0 or
 * >0 like strcmp (pure).
 */
int cohort_lamport_cmp(uint64_t time_a, uint64_t actor_a,
		       uint64_t time_b, uint64_t actor_b);

/* Node state over generic netlink. */
enum cohort_node_field {
	COHORT_NODE_F_ID	= 1U << 0,
	COHORT_NODE_F_NAME	= 1U << 1,
	COHORT_NODE_F_ACTORS	= 1U << 2,
	COHORT_NODE_F_LAMPORT	= 1U << 3,
	COHORT_NODE_F_VCLOCK	= 1U << 4,
};

/*
 * From cohort_node_get() and events: @fields says which members the kernel
 * reported (ID only when the node has an id; @id is 0 otherwise).
 */
struct cohort_node {
	uint32_t fields;	/* enum cohort_node_field: which are set */
	uint32_t id;
	char name[COHORT_NAME_MAX];
	uint32_t actors;
	uint64_t lamport;
	struct cohort_vector vclock;
};

/* Read the node; cohort_node_get() needs no /dev/cohort handle. */
int cohort_node_get(struct cohort *c, struct cohort_node *node);
/*
 * Set the fields named in node->fields (ID and NAME only, at least one;
 * -EINVAL otherwise). Needs CAP_NET_ADMIN; the kernel validates values.
 */
int cohort_node_set(struct cohort *c, const struct cohort_node *node);

/*
 * A handle that speaks netlink only (no actor): for administration tools
 * that must work before anything opens /dev/cohort. cohort_close() frees it.
 */
int cohort_open_netlink(struct cohort **out);

/*
 * Events: cohort_events_subscribe() joins the "events" multicast group and
 * returns a pollable fd (the same one if called again; it stays owned by
 * the handle); cohort_event_next() reads one event without blocking
 * (-EAGAIN when none is queued) into *cmd (enum cohort_cmd) and, for
 * COHORT_CMD_NODE_NTF, *node (may be NULL; zeroed for other commands).
 * -ENOBUFS: events were lost to a receive buffer overrun, re-read the
 * state; -ENOTCONN: not subscribed.
 */
int cohort_events_subscribe(struct cohort *c, int *fd);
int cohort_event_next(struct cohort *c, uint8_t *cmd, struct cohort_node *node);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHORT_H */
