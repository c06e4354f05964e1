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
 *                    PING, PONG: cohort_wire_ping)
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

#define COHORT_WIRE_MAGIC	0xC047
#define COHORT_WIRE_VERSION	1
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

struct cohort_wire_msg {
	__be32 port;
	__be32 src_port;
};

/* The pinger keeps the rest: a PONG only matches a ping it sent. */
struct cohort_wire_ping {
	__be64 cookie;
	__be64 reserved[2];	/* 0 */
};

static_assert(sizeof(struct cohort_wire_hdr) == 24);
static_assert(sizeof(struct cohort_wire_hello) == 32);
static_assert(sizeof(struct cohort_wire_lsa) == 88);
static_assert(sizeof(struct cohort_wire_routed) == 24);
static_assert(sizeof(struct cohort_wire_ping) == 24);

/* The largest frame: a routed message with a full vector and payload. */
#define COHORT_WIRE_MAX_FRAME						\
	(sizeof(struct cohort_wire_hdr) + sizeof(struct cohort_wire_routed) + \
	 COHORT_VC_MAX_ENTRIES * sizeof(struct cohort_wire_vc) +	\
	 sizeof(struct cohort_wire_msg) + COHORT_MSG_MAX)

#endif /* _COHORT_WIRE_H */
