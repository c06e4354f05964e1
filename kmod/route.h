/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_ROUTE_H
#define _COHORT_ROUTE_H

#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/cohort.h>

struct cohort_transport;
struct cohort_peer;

/* What a node last said about its links, and our route to it. */
struct cohort_lsa {
	u32 origin;
	u32 n_neigh;
	u64 incarnation;
	u64 seq;
	char name[COHORT_NAME_MAX];
	u32 neigh[COHORT_MAX_PEERS];
	/* computed */
	u8 state;			/* enum cohort_member_state */
	u32 next_hop;
	u32 hops;
};

struct cohort_route {
	struct xarray lsdb;		/* origin id -> struct cohort_lsa */
	u32 n_lsa;
	u64 seq;			/* of our own LSA */
	u32 gen;			/* for dump consistency checks */
	u32 bfs_queue[COHORT_MAX_NODES];	/* scratch for route_compute */
	u8 old_state[COHORT_MAX_NODES];
};

void cohort_route_init(struct cohort_route *rt);
void cohort_route_exit(struct cohort_route *rt);
void cohort_route_originate(struct cohort_transport *tp);
int cohort_route_rx_lsa(struct cohort_transport *tp, struct cohort_peer *from,
			const void *body, u32 len);
void cohort_route_sync(struct cohort_transport *tp, struct cohort_peer *peer);
struct cohort_peer *cohort_route_next_hop(struct cohort_transport *tp, u32 dst);

#endif /* _COHORT_ROUTE_H */
