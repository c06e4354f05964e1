// SPDX-License-Identifier: GPL-2.0
/*
 * Routed frames and the datagram service on top of them: messages to a
 * (node, port) bound by a netlink socket, and ping.
 *
 * Every routed frame is stamped with the node clocks of the hop that sends
 * it. Each hop that receives one applies the receive rule to its own node
 * clocks; a hop that relays it then applies the send rule and stamps it
 * anew, so stamps follow the seeds' rules hop by hop. Control frames
 * (heartbeats, HELLO, ACK, LSA) are not events.
 *
 * Runs under tp->lock, which also guards the bindings.
 */
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>

#include "compat.h"
#include "dgram.h"
#include "genl.h"
#include "node.h"
#include "queue_remote.h"
#include "transport.h"

#define ROUTED_LEN (sizeof(struct cohort_wire_hdr) + \
		    sizeof(struct cohort_wire_routed))

/* Node clock event @op (SEND or RECV of @in); the result stays in *c. */
static int node_clock_event(struct cohort_transport *tp, u32 op, u64 lamport,
			    const struct cohort_vc_entry *in, u32 in_len)
{
	struct cohort_node *node = tp->node;
	int err;

	spin_lock_bh(&node->clock_lock);
	err = cohort_clocks_event(&node->clocks, op, lamport, in, in_len,
				  tp->self);
	spin_unlock_bh(&node->clock_lock);
	return err;
}

/* A send event, stamped into @r and the vector after it (at @vc). */
static int stamp(struct cohort_transport *tp, struct cohort_wire_routed *r,
		 struct cohort_wire_vc *vc)
{
	struct cohort_node *node = tp->node;
	struct cohort_clocks *c = &node->clocks;
	int err;

	err = node_clock_event(tp, COHORT_CLOCK_SEND, 0, NULL, 0);
	if (err)
		return err;
	spin_lock_bh(&node->clock_lock);
	r->lamport = cpu_to_be64(c->lamport);
	r->vc_len = cpu_to_be16(c->vc.len);
	cohort_wire_vc_put(vc, c->vc.entry, c->vc.len);
	spin_unlock_bh(&node->clock_lock);
	return 0;
}

/*
 * Entries the next stamp can have. Node clocks change only here, under
 * tp->lock, and a send event adds at most the own entry.
 */
static u32 vc_room(struct cohort_transport *tp)
{
	u32 n;

	spin_lock_bh(&tp->node->clock_lock);
	n = tp->node->clocks.vc.len;
	spin_unlock_bh(&tp->node->clock_lock);
	return min_t(u32, n + 1, COHORT_VC_MAX_ENTRIES);
}

/*
 * A routed frame: header, routed header and stamps, with room for
 * @body_len bytes of body at *@body. Frames a user originates are charged
 * to it (@gfp).
 */
static struct cohort_frame *routed_alloc(struct cohort_transport *tp, u32 src,
					 u32 dst, u8 hops, u8 kind,
					 u32 body_len, gfp_t gfp, u8 **body)
{
	struct cohort_wire_routed *r;
	struct cohort_wire_vc *vc;
	struct cohort_frame *f;
	u32 vc_len;
	int err;

	f = cohort_frame_alloc(ROUTED_LEN + vc_room(tp) * sizeof(*vc) +
			       body_len, gfp);
	if (!f)
		return ERR_PTR(-ENOMEM);
	r = (void *)(f->data + sizeof(struct cohort_wire_hdr));
	vc = (void *)(r + 1);
	r->src = cpu_to_be32(src);
	r->dst = cpu_to_be32(dst);
	r->hops = hops;
	r->kind = kind;
	r->reserved = 0;
	err = stamp(tp, r, vc);
	if (err) {
		cohort_frame_free(f);
		return ERR_PTR(err);
	}
	vc_len = get_unaligned_be16(&r->vc_len);
	*body = (u8 *)(vc + vc_len);
	f->len = ROUTED_LEN + vc_len * sizeof(*vc) + body_len;
	cohort_frame_hdr(tp, f, COHORT_WIRE_ROUTED, 0);
	return f;
}

/* A routed frame carrying @body, then @payload. */
static struct cohort_frame *routed_build(struct cohort_transport *tp, u32 src,
					 u32 dst, u8 hops, u8 kind,
					 const void *body, u32 body_len,
					 const void *payload, u32 plen,
					 gfp_t gfp)
{
	struct cohort_frame *f;
	u8 *p;

	f = routed_alloc(tp, src, dst, hops, kind, body_len + plen, gfp, &p);
	if (IS_ERR(f))
		return f;
	memcpy(p, body, body_len);
	if (plen)
		memcpy(p + body_len, payload, plen);
	return f;
}

/* Send @f toward @dst; @relay frames are dropped when a queue is full. */
static int routed_send(struct cohort_transport *tp, u32 dst,
		       struct cohort_frame *f, bool relay)
{
	struct cohort_peer *hop = cohort_route_next_hop(tp, dst);

	if (!hop) {
		tp->stats[COHORT_A_STATS_NO_ROUTE]++;
		cohort_frame_free(f);
		return -EHOSTUNREACH;
	}
	return cohort_link_send(hop, f, relay);
}

/* Stamps of the frame: r->lamport and tp->vc_in[0..vc_len). */
static void msg_deliver(struct cohort_transport *tp, u32 src, u32 hops,
			const struct cohort_wire_routed *r, u32 vc_len,
			const struct cohort_wire_msg *m, const void *payload,
			u32 plen)
{
	void *portid = xa_load(&tp->binds, get_unaligned_be32(&m->port));
	struct cohort_msg_info info = {
		.src = src,
		.src_port = get_unaligned_be32(&m->src_port),
		.port = get_unaligned_be32(&m->port),
		.hops = hops,
		.lamport = get_unaligned_be64(&r->lamport),
		.vc = tp->vc_in,
		.vc_len = vc_len,
		.payload = payload,
		.len = plen,
	};

	if (!portid) {
		tp->stats[COHORT_A_STATS_MSG_DROPPED]++;
		return;
	}
	cohort_genl_msg_deliver(tp, xa_to_value(portid), &info);
}

/* Answer a PING; match a PONG with the ping we sent, or refuse it. */
static int ping_answer(struct cohort_transport *tp, u32 src,
		       const struct cohort_wire_routed *r,
		       const struct cohort_wire_ping *p)
{
	u64 cookie = get_unaligned_be64(&p->cookie);
	struct cohort_frame *f;
	int i;

	if (get_unaligned(&p->reserved[0]) || get_unaligned(&p->reserved[1]))
		return -EINVAL;
	if (r->kind == COHORT_WIRE_PING) {
		f = routed_build(tp, tp->self, src, 0, COHORT_WIRE_PONG, p,
				 sizeof(*p), NULL, 0, GFP_KERNEL);
		if (!IS_ERR(f))
			routed_send(tp, src, f, true);
		return 0;
	}
	for (i = 0; i < COHORT_PINGS_MAX; i++) {
		struct cohort_ping_out *out = &tp->pings[i];

		if (out->portid && out->cookie == cookie && out->dst == src) {
			cohort_genl_ping_reply(tp, out->portid, src, cookie,
					       ktime_get_ns() - out->sent_ns,
					       r->hops + 1);
			out->portid = 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* The body after the stamps must be exactly what @kind carries. */
static int body_check(u8 kind, u32 len)
{
	switch (kind) {
	case COHORT_WIRE_MSG:
		if (len < sizeof(struct cohort_wire_msg) ||
		    len - sizeof(struct cohort_wire_msg) > COHORT_MSG_MAX)
			return -EINVAL;
		return 0;
	case COHORT_WIRE_PING:
	case COHORT_WIRE_PONG:
		return len == sizeof(struct cohort_wire_ping) ? 0 : -EINVAL;
	case COHORT_WIRE_QUEUE:
		return len >= sizeof(struct cohort_wire_q) &&
		       len <= COHORT_WIRE_MAX_QBODY ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Stamps from the wire into tp->vc_in, validated like user input. */
static int vc_from_wire(struct cohort_transport *tp,
			const struct cohort_wire_vc *vc, u32 n)
{
	cohort_wire_vc_get(tp->vc_in, vc, n);
	return cohort_vector_validate(tp->vc_in, n);
}

static void relay(struct cohort_transport *tp, const struct cohort_wire_routed *r,
		  u32 src, u32 dst, const void *body, u32 body_len)
{
	struct cohort_frame *f;

	if (r->hops + 1 >= COHORT_WIRE_MAX_HOPS) {
		tp->stats[COHORT_A_STATS_TTL_EXPIRED]++;
		return;
	}
	f = routed_build(tp, src, dst, r->hops + 1, r->kind, body, body_len,
			 NULL, 0, GFP_KERNEL);
	if (!IS_ERR(f) && !routed_send(tp, dst, f, true))
		tp->stats[COHORT_A_STATS_FORWARDED]++;
}

int cohort_dgram_rx(struct cohort_transport *tp, struct cohort_peer *from,
		    const void *data, u32 len)
{
	const struct cohort_wire_routed *r = data;
	const struct cohort_wire_vc *vc = (const void *)(r + 1);
	u32 src, dst, n, body_len;
	const u8 *body;
	int err;

	if (len < sizeof(*r) || get_unaligned(&r->reserved))
		return -EINVAL;
	n = get_unaligned_be16(&r->vc_len);
	if (n > COHORT_VC_MAX_ENTRIES || len < sizeof(*r) + n * sizeof(*vc))
		return -EINVAL;
	body = (const u8 *)(vc + n);
	body_len = len - sizeof(*r) - n * sizeof(*vc);
	src = get_unaligned_be32(&r->src);
	dst = get_unaligned_be32(&r->dst);
	if (!src || !dst || body_check(r->kind, body_len) ||
	    vc_from_wire(tp, vc, n))
		return -EINVAL;
	err = node_clock_event(tp, COHORT_CLOCK_RECV, get_unaligned_be64(&r->lamport),
			       tp->vc_in, n);
	if (err)
		return err;

	if (dst != tp->self) {
		relay(tp, r, src, dst, body, body_len);
		return 0;
	}
	if (r->kind == COHORT_WIRE_QUEUE)
		return cohort_qremote_rx(tp, src, body, body_len);
	if (r->kind != COHORT_WIRE_MSG)
		return ping_answer(tp, src, r, (const void *)body);
	msg_deliver(tp, src, r->hops + 1, r, n, (const void *)body,
		    body + sizeof(struct cohort_wire_msg),
		    body_len - sizeof(struct cohort_wire_msg));
	return 0;
}

/*
 * Could a frame of @body_len from this node leave for @dst now: a route,
 * and room on the first hop (for @body_len plus the largest stamp)? A
 * message we originate is a send event only once it can leave.
 */
int cohort_dgram_ready(struct cohort_transport *tp, u32 dst, u32 body_len)
{
	struct cohort_peer *hop = cohort_route_next_hop(tp, dst);

	if (!hop) {
		tp->stats[COHORT_A_STATS_NO_ROUTE]++;
		return -EHOSTUNREACH;
	}
	if (!cohort_link_room(hop, ROUTED_LEN + body_len +
			      vc_room(tp) * sizeof(struct cohort_wire_vc)))
		return -EAGAIN;
	return 0;
}

/* A message to this node: a send event, then its receive event. */
static int local_send(struct cohort_transport *tp,
		      const struct cohort_wire_msg *m, const void *payload,
		      u32 plen)
{
	struct cohort_clocks *c = &tp->node->clocks;
	struct cohort_wire_routed r = {};
	u32 n;

	if (node_clock_event(tp, COHORT_CLOCK_SEND, 0, NULL, 0))
		return -EOVERFLOW;
	spin_lock_bh(&tp->node->clock_lock);
	r.lamport = cpu_to_be64(c->lamport);
	n = c->vc.len;
	memcpy(tp->vc_in, c->vc.entry, n * sizeof(*tp->vc_in));
	spin_unlock_bh(&tp->node->clock_lock);
	if (node_clock_event(tp, COHORT_CLOCK_RECV, be64_to_cpu(r.lamport),
			     tp->vc_in, n))
		return -EOVERFLOW;
	msg_deliver(tp, tp->self, 0, &r, n, m, payload, plen);
	return 0;
}

int cohort_dgram_send(struct cohort_transport *tp, u32 dst, u32 port,
		      u32 src_port, const void *payload, u32 plen)
{
	struct cohort_wire_msg m = {
		.port = cpu_to_be32(port),
		.src_port = cpu_to_be32(src_port),
	};
	struct cohort_frame *f;
	int err;

	lockdep_assert_held(&tp->lock);

	if (dst == tp->self)
		return local_send(tp, &m, payload, plen);
	err = cohort_dgram_ready(tp, dst, sizeof(m) + plen);
	if (err)
		return err;
	f = routed_build(tp, tp->self, dst, 0, COHORT_WIRE_MSG, &m, sizeof(m),
			 payload, plen, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return routed_send(tp, dst, f, false);
}

/*
 * A frame of @kind (@body, then @payload) from this node to @dst, another
 * node: -EHOSTUNREACH without a route, -EAGAIN when the first hop is full.
 */
int cohort_dgram_send_kind(struct cohort_transport *tp, u32 dst, u8 kind,
			   const void *body, u32 body_len, const void *payload,
			   u32 plen, gfp_t gfp)
{
	struct cohort_frame *f;
	int err;

	lockdep_assert_held(&tp->lock);

	err = cohort_dgram_ready(tp, dst, body_len + plen);
	if (err)
		return err;
	f = routed_build(tp, tp->self, dst, 0, kind, body, body_len, payload,
			 plen, gfp);
	if (IS_ERR(f))
		return PTR_ERR(f);
	return routed_send(tp, dst, f, false);
}

/*
 * The same, for a caller that writes the body in place: a frame with room
 * for exactly @body_len bytes at *@body. The caller fills them and passes
 * the frame to cohort_dgram_frame_send() (or, if it cannot be filled,
 * cohort_dgram_frame_drop()) without dropping tp->lock in between: the
 * frame is stamped already (a send event), and the route and the first
 * hop's room checked here stay valid only under that lock.
 */
struct cohort_frame *cohort_dgram_frame_new(struct cohort_transport *tp,
					    u32 dst, u8 kind, u32 body_len,
					    gfp_t gfp, void **body)
{
	struct cohort_frame *f;
	u8 *p;
	int err;

	lockdep_assert_held(&tp->lock);

	err = cohort_dgram_ready(tp, dst, body_len);
	if (err)
		return ERR_PTR(err);
	f = routed_alloc(tp, tp->self, dst, 0, kind, body_len, gfp, &p);
	if (!IS_ERR(f))
		*body = p;
	return f;
}

/*
 * A frame from cohort_dgram_frame_new() that will not be sent after all.
 * Its send event stays, an event with no message: a peer sees the clocks
 * move on by more than one, as after any event it did not hear of.
 */
void cohort_dgram_frame_drop(struct cohort_transport *tp,
			     struct cohort_frame *f)
{
	lockdep_assert_held(&tp->lock);

	cohort_frame_free(f);
}

/* Send a frame from cohort_dgram_frame_new() (which it takes). */
int cohort_dgram_frame_send(struct cohort_transport *tp, u32 dst,
			    struct cohort_frame *f)
{
	lockdep_assert_held(&tp->lock);

	return routed_send(tp, dst, f, false);
}

int cohort_dgram_ping(struct cohort_transport *tp, u32 dst, u64 cookie,
		      u32 nl_portid)
{
	struct cohort_wire_ping p = { .cookie = cpu_to_be64(cookie) };
	struct cohort_ping_out *out;
	struct cohort_frame *f;
	int err;

	lockdep_assert_held(&tp->lock);

	err = cohort_dgram_ready(tp, dst, sizeof(p));
	if (err)
		return err;
	f = routed_build(tp, tp->self, dst, 0, COHORT_WIRE_PING, &p, sizeof(p),
			 NULL, 0, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(f))
		return PTR_ERR(f);
	/* Outstanding pings live in a ring: the oldest gives way. */
	out = &tp->pings[tp->ping_next++ % COHORT_PINGS_MAX];
	out->cookie = cookie;
	out->dst = dst;
	out->portid = nl_portid;
	out->sent_ns = ktime_get_ns();
	return routed_send(tp, dst, f, false);
}

int cohort_dgram_bind(struct cohort_transport *tp, u32 port, u32 portid)
{
	void *cur;
	int err;

	lockdep_assert_held(&tp->lock);

	cur = xa_load(&tp->binds, port);
	if (cur)	/* a second bind by its holder changes nothing */
		return xa_to_value(cur) == portid ? 0 : -EBUSY;
	if (tp->n_binds >= COHORT_MSG_MAX_BINDS)
		return -ENOSPC;
	err = xa_insert(&tp->binds, port, xa_mk_value(portid),
			GFP_KERNEL_ACCOUNT);
	if (!err)
		tp->n_binds++;
	return err;
}

int cohort_dgram_unbind(struct cohort_transport *tp, u32 port, u32 portid)
{
	void *cur;

	lockdep_assert_held(&tp->lock);

	cur = xa_load(&tp->binds, port);
	if (!cur || xa_to_value(cur) != portid)
		return -ENOENT;
	xa_erase(&tp->binds, port);
	tp->n_binds--;
	return 0;
}

/* A netlink socket is gone: drop the ports it held. */
void cohort_dgram_release_locked(struct cohort_transport *tp, u32 portid)
{
	unsigned long port;
	void *cur;

	lockdep_assert_held(&tp->lock);

	xa_for_each(&tp->binds, port, cur) {
		if (xa_to_value(cur) == portid) {
			xa_erase(&tp->binds, port);
			tp->n_binds--;
		}
	}
}

void cohort_dgram_release(struct cohort_transport *tp, u32 portid)
{
	if (!READ_ONCE(tp->n_binds))
		return;		/* most sockets closing never bound a port */
	mutex_lock(&tp->lock);
	cohort_dgram_release_locked(tp, portid);
	mutex_unlock(&tp->lock);
}
