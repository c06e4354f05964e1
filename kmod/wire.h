/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The cohort wire format, version 1. Big-endian, fixed-size headers; every
 * field is validated on receipt (see transport.c) before it is used.
 *
 * Every frame starts with struct cohort_wire_hdr; @len covers the whole
 * frame. Heartbeats travel over UDP, everything else over the TCP link
 * to a neighbour:
 *
 *   HEARTBEAT  UDP   hdr + cohort_wire_heartbeat
 *   HELLO      TCP   hdr + cohort_wire_hello      first frame each way
 *   ACK        TCP   hdr + cohort_wire_ack        cumulative, unsequenced
 *   LSA        TCP   hdr + cohort_wire_lsa + n * __be32 neighbour ids
 *   ROUTED     TCP   hdr + cohort_wire_routed + vc_len * cohort_wire_vc
 *                    + body of @kind (MSG: cohort_wire_msg + payload;
 *                    PING, PONG: cohort_wire_ping; QUEUE: cohort_wire_q
 *                    + what its op carries, see queue_remote.c)
 *
 * A PUB or DELIVER body carries @arg >= 1 messages back to back, each a
 * cohort_wire_qmsg, @vc_len * cohort_wire_vc, then @len payload bytes; the
 * messages fill the body exactly. A body never exceeds
 * COHORT_WIRE_MAX_QBODY, which one message of the largest size fits.
 *
 * LSA and ROUTED frames carry a per-link sequence number (@seq, from 1);
 * the receiver delivers seq == last + 1, drops seq <= last as a duplicate,
 * and acknowledges cumulatively. HELLO tells the other side what arrived,
 * so frames in flight when a connection broke are sent again, once.
 * Sequence state belongs to a link incarnation, a random number each side
 * draws when it configures the peer: a HELLO whose incarnations do not
 * match what the receiver knows starts the sequence space afresh.
 *
 * Frames are not padded, so a frame in a receive buffer may start at any
 * offset: every field of a received frame is read with get_unaligned*().
 */
#ifndef _COHORT_WIRE_H
#define _COHORT_WIRE_H

#include <linux/types.h>
#include <linux/cohort.h>

#include "compat.h"

#define COHORT_WIRE_MAGIC	0xC047
#define COHORT_WIRE_VERSION	2	/* 2: message keys, filters */
#define COHORT_WIRE_MAX_HOPS	32

enum cohort_wire_type {
	COHORT_WIRE_HEARTBEAT = 1,
	COHORT_WIRE_HELLO,
	COHORT_WIRE_ACK,
	COHORT_WIRE_LSA,
	COHORT_WIRE_ROUTED,
};

enum cohort_wire_kind {
	COHORT_WIRE_MSG = 1,
	COHORT_WIRE_PING,
	COHORT_WIRE_PONG,
	COHORT_WIRE_QUEUE,
};

struct cohort_wire_hdr {
	__be16 magic;
	__u8 version;
	__u8 type;		/* enum cohort_wire_type */
	__be32 len;		/* whole frame */
	__be32 sender;		/* node id of the hop that sent it */
	__be32 receiver;	/* node id of the hop it is for */
	__be64 seq;		/* LSA, ROUTED: per-link sequence; else 0 */
};

struct cohort_wire_heartbeat {
	__be64 incarnation;	/* sender's link incarnation for the receiver */
};

struct cohort_wire_hello {
	__be64 my_inc;		/* my link incarnation for you */
	__be64 your_inc;	/* yours, as I last heard it (0: never) */
	__be64 rx_seq;		/* last frame received in order from you */
	__be64 tx_base;		/* oldest frame I still hold for you */
};

struct cohort_wire_ack {
	__be64 rx_seq;
};

struct cohort_wire_lsa {
	__be32 origin;
	__be32 n_neigh;		/* <= COHORT_MAX_PEERS neighbour ids follow */
	__be64 incarnation;	/* (incarnation, seq) orders LSAs of a node */
	__be64 lsa_seq;
	char name[COHORT_NAME_MAX];	/* NUL-terminated, may be empty */
};

struct cohort_wire_routed {
	__be32 src;		/* origin node */
	__be32 dst;		/* final node */
	__u8 hops;		/* hops travelled before this one */
	__u8 kind;		/* enum cohort_wire_kind */
	__be16 vc_len;		/* <= COHORT_VC_MAX_ENTRIES */
	__be32 reserved;	/* 0 */
	__be64 lamport;		/* stamps of the hop that sent the frame */
};

struct cohort_wire_vc {
	__be64 id;
	__be64 counter;
};

/* @n vector entries onto the wire, which may be unaligned. */
static inline void cohort_wire_vc_put(struct cohort_wire_vc *w,
				      const struct cohort_vc_entry *vc, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		put_unaligned_be64(vc[i].id, &w[i].id);
		put_unaligned_be64(vc[i].counter, &w[i].counter);
	}
}

/* @n vector entries off the wire: still to be validated. */
static inline void cohort_wire_vc_get(struct cohort_vc_entry *vc,
				      const struct cohort_wire_vc *w, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		vc[i].id = get_unaligned_be64(&w[i].id);
		vc[i].counter = get_unaligned_be64(&w[i].counter);
	}
}

struct cohort_wire_msg {
	__be32 port;
	__be32 src_port;
};

/* The pinger keeps the rest: a PONG only matches a ping it sent. */
struct cohort_wire_ping {
	__be64 cookie;
	__be64 reserved[2];	/* 0 */
};

/* Queue protocol between a descriptor's node and the queue's home. */
enum cohort_wire_qop {
	COHORT_WQ_OPEN = 1,	/* -> home: cohort_wire_qopen */
	COHORT_WQ_OPENED,	/* <- status, cohort_wire_qattr when 0 */
	COHORT_WQ_CLOSE,	/* -> arg: first attempt no user got, or 0 */
	COHORT_WQ_PUB,		/* -> arg: count, then count messages */
	COHORT_WQ_PUBACK,	/* <- arg: publishes taken */
	COHORT_WQ_DELIVER,	/* <- as PUB */
	COHORT_WQ_CREDIT,	/* -> arg: deliveries consumed (no acks) */
	COHORT_WQ_ACK,		/* -> arg: count, then count * __be64 tags */
	COHORT_WQ_NACK,		/* -> as ACK */
	COHORT_WQ_REVOKE,	/* <- as ACK: attempts taken back (timeout) */
	COHORT_WQ_GONE,		/* <- the queue was deleted */
	__COHORT_WQ_MAX
};

struct cohort_wire_q {
	__u8 op;		/* enum cohort_wire_qop */
	__u8 reserved[3];	/* 0 */
	__be32 status;		/* OPENED: 0 or a positive errno */
	__be64 handle;		/* descriptor id at the non-home node */
	__be64 arg;
};

struct cohort_wire_qattr {
	__be32 flags;
	__be32 max_msgs;
	__be32 max_msg_size;
	__be32 max_bytes;
	__be32 ack_timeout_ms;
	__be32 max_deliveries;
	__be32 overflow;
	__be32 reserved;	/* 0 */
	char dlq[COHORT_NAME_MAX];
};

struct cohort_wire_qopen {
	__be32 kind;
	__be32 flags;		/* COHORT_QO_CREATE, COHORT_QO_EXCL */
	__be32 role;
	__be32 ack;
	__be32 mode;
	__be32 uid;		/* the opener's, as its node maps them */
	__be32 gid;
	__be32 window;		/* deliveries the opener can hold */
	char name[COHORT_NAME_MAX];
	char sub[COHORT_NAME_MAX];
	struct cohort_wire_qattr attr;
	__be32 filter_mask;	/* the subscription's filter */
	__be32 filter_value;
};

struct cohort_wire_qmsg {
	__be64 id;		/* DELIVER */
	__be64 tag;		/* DELIVER: the attempt; 0 without acks */
	__be64 sender;		/* actor id */
	__be64 enqueue_ns;	/* DELIVER */
	__be64 lamport;
	__be32 ttl_ms;		/* PUB: 0 none; DELIVER: deliveries */
	__be32 len;		/* payload bytes, <= COHORT_QMSG_MAX */
	__be16 vc_len;		/* <= COHORT_VC_MAX_ENTRIES */
	__u8 prio;
	__u8 reserved;		/* 0 */
	__be32 key;		/* for subscription filters */
};

static_assert(sizeof(struct cohort_wire_hdr) == 24);
static_assert(sizeof(struct cohort_wire_hello) == 32);
static_assert(sizeof(struct cohort_wire_lsa) == 88);
static_assert(sizeof(struct cohort_wire_routed) == 24);
static_assert(sizeof(struct cohort_wire_ping) == 24);
static_assert(sizeof(struct cohort_wire_q) == 24);
static_assert(sizeof(struct cohort_wire_qattr) == 96);
static_assert(sizeof(struct cohort_wire_qopen) == 264);
static_assert(sizeof(struct cohort_wire_qmsg) == 56);

/*
 * The largest routed body: a queue frame with one message of the largest
 * size and stamp; a PUB or DELIVER packs as many smaller ones as fit.
 */
#define COHORT_WIRE_MAX_QBODY						\
	(sizeof(struct cohort_wire_q) + sizeof(struct cohort_wire_qmsg) + \
	 COHORT_VC_MAX_ENTRIES * sizeof(struct cohort_wire_vc) + COHORT_QMSG_MAX)

/* The largest frame: a routed queue message with two full vectors. */
#define COHORT_WIRE_MAX_FRAME						\
	(sizeof(struct cohort_wire_hdr) + sizeof(struct cohort_wire_routed) + \
	 COHORT_VC_MAX_ENTRIES * sizeof(struct cohort_wire_vc) +	\
	 COHORT_WIRE_MAX_QBODY)

#endif /* _COHORT_WIRE_H */
