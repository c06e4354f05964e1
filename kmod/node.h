/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_NODE_H
#define _COHORT_NODE_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>

#include "clock.h"
#include "queue.h"
#include "transport.h"

/*
 * One node per network namespace.
 *
 * Lock order: lock, then tp.lock, then clock_lock.
 */
struct cohort_node {
	struct mutex lock;		/* id, name, actors */
	u32 id;				/* 0: not set */
	char name[COHORT_NAME_MAX];	/* "": not set */
	u32 actors;			/* actors bound to @id */
	struct xarray actor_nums;	/* local numbers of bound actors */
	u32 next_num;			/* cyclic cursor for actor_nums */

	spinlock_t clock_lock;		/* clocks; also read by NODE_GET */
	struct cohort_clocks clocks;	/* vector indexed by node id */

	struct cohort_transport tp;
	struct cohort_qmgr qm;
};

extern struct pernet_operations cohort_node_net_ops;

struct cohort_node *cohort_node_get(const struct net *net);
bool cohort_node_name_valid(const char *name);
int cohort_node_bind_actor(struct cohort_node *node, u64 *actor_id);
void cohort_node_unbind_actor(struct cohort_node *node, u64 actor_id);
int cohort_node_set_locked(struct cohort_node *node, const u32 *id,
			   const char *name);

#endif /* _COHORT_NODE_H */
