// SPDX-License-Identifier: GPL-2.0
/*
 * The overlay: membership and routes from link-state flooding.
 *
 * Each node originates an LSA listing its neighbours whose links are up,
 * ordered by (incarnation, seq), and floods it over the reliable links;
 * a link that comes up first receives the whole database. We chose this
 * over gossip because one flood per change converges in one network
 * diameter, deterministically, and the same database gives the shortest
 * paths the router needs; gossip would still need a routing protocol and
 * converges only with high probability.
 *
 * A link counts only if both ends list each other, so a node that died
 * without saying so drops out as soon as one neighbour notices. Routes are
 * a breadth-first search from this node; a node is a member while it is
 * reachable. Everything here runs under tp->lock.
 */
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "genl.h"
#include "node.h"
#include "queue_remote.h"
#include "route.h"
#include "transport.h"

void cohort_route_init(struct cohort_route *rt)
{
	xa_init(&rt->lsdb);
}

void cohort_route_exit(struct cohort_route *rt)
{
	struct cohort_lsa *lsa;
	unsigned long id;

	xa_for_each(&rt->lsdb, id, lsa)
		kfree(lsa);
	xa_destroy(&rt->lsdb);
	rt->n_lsa = 0;
	rt->gen++;		/* a member dump across this is cut short */
}

static bool lists(const struct cohort_lsa *lsa, u32 id)
{
	u32 i;

	for (i = 0; i < lsa->n_neigh; i++)
		if (lsa->neigh[i] == id)
			return true;
	return false;
}

/* Breadth-first from self over two-way links; notify reachability flips. */
static void route_compute(struct cohort_transport *tp)
{
	struct cohort_route *rt = &tp->route;
	u32 *queue = rt->bfs_queue;
	u8 *old = rt->old_state;
	struct cohort_lsa *lsa, *u, *v;
	unsigned long id;
	u32 head = 0, tail = 0, i, k = 0;
	bool came = false;

	xa_for_each(&rt->lsdb, id, lsa) {
		old[k++] = lsa->state;
		lsa->state = COHORT_MEMBER_UNREACHABLE;
		lsa->next_hop = 0;
		lsa->hops = 0;
	}
	u = xa_load(&rt->lsdb, tp->self);
	if (u) {
		u->state = COHORT_MEMBER_SELF;
		queue[tail++] = tp->self;
	}
	while (head < tail) {
		u = xa_load(&rt->lsdb, queue[head++]);
		for (i = 0; i < u->n_neigh; i++) {
			v = xa_load(&rt->lsdb, u->neigh[i]);
			if (!v || v->state != COHORT_MEMBER_UNREACHABLE ||
			    !lists(v, u->origin))
				continue;
			v->state = COHORT_MEMBER_REACHABLE;
			v->hops = u->hops + 1;
			v->next_hop = u->origin == tp->self ? v->origin :
				      u->next_hop;
			queue[tail++] = v->origin;
		}
	}
	rt->gen++;
	k = 0;
	xa_for_each(&rt->lsdb, id, lsa) {
		if (old[k++] == lsa->state)
			continue;
		cohort_genl_member_notify(tp, lsa);
		came |= lsa->state == COHORT_MEMBER_REACHABLE;
	}
	/*
	 * Queue frames that found no route went back where they came from
	 * (the store, a PUBACK count): nothing else tells the push work
	 * that they can go now.
	 */
	if (came)
		cohort_qremote_kick(&tp->node->qm);
}

static void lsa_send(struct cohort_transport *tp, struct cohort_peer *peer,
		     const struct cohort_lsa *lsa)
{
	u32 len = sizeof(struct cohort_wire_hdr) +
		  sizeof(struct cohort_wire_lsa) + lsa->n_neigh * sizeof(__be32);
	struct cohort_wire_lsa *w;
	struct cohort_frame *f;
	__be32 *neigh;
	u32 i;

	f = cohort_frame_alloc(len, GFP_KERNEL);
	if (!f)
		return;
	cohort_frame_hdr(tp, f, COHORT_WIRE_LSA, peer->id);
	w = (void *)(f->data + sizeof(struct cohort_wire_hdr));
	w->origin = cpu_to_be32(lsa->origin);
	w->n_neigh = cpu_to_be32(lsa->n_neigh);
	w->incarnation = cpu_to_be64(lsa->incarnation);
	w->lsa_seq = cpu_to_be64(lsa->seq);
	memcpy(w->name, lsa->name, sizeof(w->name));
	neigh = (__be32 *)(w + 1);
	for (i = 0; i < lsa->n_neigh; i++)
		neigh[i] = cpu_to_be32(lsa->neigh[i]);
	cohort_link_send(peer, f, true);
}

/*
 * The LSA of @origin to every neighbour but @except. Looked up for each:
 * a send that fails closes its link, which originates ours anew and frees
 * the one before (then the newer goes to the rest).
 */
static void flood(struct cohort_transport *tp, u32 origin,
		  const struct cohort_peer *except)
{
	struct cohort_peer *peer;
	struct cohort_lsa *lsa;

	list_for_each_entry(peer, &tp->peers, list) {
		if (peer == except || peer->state != COHORT_LINK_UP)
			continue;
		lsa = xa_load(&tp->route.lsdb, origin);
		if (!lsa)
			return;
		lsa_send(tp, peer, lsa);
	}
}

/* Make room for a new origin: forget an unreachable node, if any. */
static int lsdb_reserve(struct cohort_route *rt)
{
	struct cohort_lsa *lsa;
	unsigned long id;

	if (rt->n_lsa < COHORT_MAX_NODES)
		return 0;
	xa_for_each(&rt->lsdb, id, lsa) {
		if (lsa->state == COHORT_MEMBER_UNREACHABLE) {
			xa_erase(&rt->lsdb, id);
			kfree(lsa);
			rt->n_lsa--;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Store @new (taking it) if it is newer; true if it was. */
static bool lsdb_update(struct cohort_route *rt, struct cohort_lsa *new)
{
	struct cohort_lsa *old = xa_load(&rt->lsdb, new->origin);

	if (old && (old->incarnation > new->incarnation ||
		    (old->incarnation == new->incarnation &&
		     old->seq >= new->seq))) {
		kfree(new);
		return false;
	}
	if (old) {
		new->state = old->state;
		new->next_hop = old->next_hop;
		new->hops = old->hops;
		xa_store(&rt->lsdb, new->origin, new, GFP_KERNEL);
		kfree(old);
		return true;
	}
	if (lsdb_reserve(rt) ||
	    xa_err(xa_store(&rt->lsdb, new->origin, new, GFP_KERNEL))) {
		kfree(new);
		return false;
	}
	new->state = COHORT_MEMBER_UNREACHABLE;
	rt->n_lsa++;
	return true;
}

/* Our own LSA, after a link went up or down or the transport started. */
void cohort_route_originate(struct cohort_transport *tp)
{
	struct cohort_peer *peer;
	struct cohort_lsa *lsa;

	if (tp->stopping)
		return;
	lsa = kzalloc(sizeof(*lsa), GFP_KERNEL);
	if (!lsa)
		return;
	lsa->origin = tp->self;
	lsa->incarnation = tp->incarnation;
	lsa->seq = ++tp->route.seq;
	strscpy(lsa->name, tp->name, sizeof(lsa->name));
	list_for_each_entry(peer, &tp->peers, list)
		if (peer->state == COHORT_LINK_UP)
			lsa->neigh[lsa->n_neigh++] = peer->id;
	if (!lsdb_update(&tp->route, lsa))
		return;
	flood(tp, tp->self, NULL);
	route_compute(tp);
}

/*
 * Our own LSA came back. Normally ours is newer; if the cluster holds a
 * newer one (the transport restarted, which starts our sequence again, or
 * our clock stepped back across a restart), outbid it.
 */
static void own_echo(struct cohort_transport *tp, u64 inc, u64 seq)
{
	if (inc < tp->incarnation ||
	    (inc == tp->incarnation && seq <= tp->route.seq))
		return;
	tp->incarnation = inc;
	tp->route.seq = seq;
	cohort_route_originate(tp);
}

int cohort_route_rx_lsa(struct cohort_transport *tp, struct cohort_peer *from,
			const void *body, u32 len)
{
	const struct cohort_wire_lsa *w = body;
	const __be32 *neigh = (const __be32 *)(w + 1);
	struct cohort_lsa *lsa, *old;
	u32 n, i, origin;
	bool reborn;

	if (len < sizeof(*w))
		return -EINVAL;
	n = get_unaligned_be32(&w->n_neigh);
	if (n > COHORT_MAX_PEERS || len != sizeof(*w) + n * sizeof(__be32) ||
	    !get_unaligned(&w->origin) ||
	    !memchr(w->name, 0, sizeof(w->name)) ||
	    (w->name[0] && !cohort_node_name_valid(w->name)))
		return -EINVAL;
	if (get_unaligned_be32(&w->origin) == tp->self) {
		own_echo(tp, get_unaligned_be64(&w->incarnation),
			 get_unaligned_be64(&w->lsa_seq));
		return 0;
	}
	lsa = kzalloc(sizeof(*lsa), GFP_KERNEL);
	if (!lsa)
		return -ENOMEM;
	lsa->origin = get_unaligned_be32(&w->origin);
	lsa->n_neigh = n;
	lsa->incarnation = get_unaligned_be64(&w->incarnation);
	lsa->seq = get_unaligned_be64(&w->lsa_seq);
	memcpy(lsa->name, w->name, sizeof(lsa->name));
	for (i = 0; i < n; i++)
		lsa->neigh[i] = get_unaligned_be32(&neigh[i]);
	origin = lsa->origin;
	old = xa_load(&tp->route.lsdb, origin);
	reborn = old && old->incarnation < lsa->incarnation;
	if (lsdb_update(&tp->route, lsa)) {
		flood(tp, origin, from);
		route_compute(tp);
		if (reborn)
			cohort_qremote_reborn(&tp->node->qm, origin);
	}
	return 0;
}

/* A link just came up: tell the neighbour everything we know. */
void cohort_route_sync(struct cohort_transport *tp, struct cohort_peer *peer)
{
	struct cohort_lsa *lsa;
	unsigned long id;

	xa_for_each(&tp->route.lsdb, id, lsa)
		lsa_send(tp, peer, lsa);
}

struct cohort_peer *cohort_route_next_hop(struct cohort_transport *tp, u32 dst)
{
	struct cohort_lsa *lsa = xa_load(&tp->route.lsdb, dst);
	struct cohort_peer *peer;

	if (!lsa || lsa->state != COHORT_MEMBER_REACHABLE)
		return NULL;
	peer = cohort_peer_find(tp, lsa->next_hop);
	return peer && peer->state == COHORT_LINK_UP ? peer : NULL;
}
