/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * cohort: distributed-computing primitives as kernel services.
 *
 * This is the one ABI header shared by the kernel module and user space.
 *
 * A node is a network namespace. Everything below resolves the caller's
 * network namespace: a process talks to the node it lives in.
 *
 * Character device /dev/cohort
 * ----------------------------
 *
 * Each open file description is an actor of the node of the process that
 * opened it (a descriptor passed to another namespace keeps that node). Its
 * id, (node id << 32 | local number), is bound by the first ioctl whose
 * arguments are valid and never changes; binding fails with ENXIO while the
 * node has no id. Local numbers are never shared by two live actors and
 * are reused only after 2^32 others.
 *
 * Every ioctl argument begins with __u32 size, the size of the structure the
 * caller knows: a larger size (at most one page) is accepted when the extra
 * bytes are zero (E2BIG otherwise), a smaller one than the first version
 * gets EINVAL.
 *
 * COHORT_IOC_ACTOR:    struct cohort_actor
 *	out: actor_id, node_id
 * COHORT_IOC_LAMPORT:  struct cohort_lamport
 *	in:  op (enum cohort_clock_op), time (the received stamp, RECV only)
 *	out: time = the clock after the operation (the stamp to attach, SEND)
 *	     READ: C; TICK and SEND: C = C + 1; RECV: C = max(C, time) + 1.
 * COHORT_IOC_VCLOCK:   struct cohort_vclock
 *	in:  op, in_ptr/in_len (RECV only: the received vector),
 *	     out_ptr/out_cap (optional: where to copy the vector after the op)
 *	out: out_len = entries in the vector after the op (also when out_ptr
 *	     is 0, so a caller can size its buffer)
 *	     READ: V; TICK and SEND: V[self] += 1;
 *	     RECV: V = max(V, in) component-wise, then V[self] += 1.
 *	A vector is a list of struct cohort_vc_entry sorted by strictly
 *	increasing non-zero id; absent ids count as zero and zero counters are
 *	never returned.
 *
 * Errors (ioctl returns -1 with errno):
 *	ENOTTY	unknown ioctl command
 *	EFAULT	a pointer (the argument, in_ptr or out_ptr) is not readable or
 *		writable for the length given
 *	EINVAL	size too small, non-zero reserved field or flags, unknown op,
 *		malformed vector (unsorted, duplicate or zero id), in_ptr with
 *		in_len 0 for RECV
 *	E2BIG	size larger than known with non-zero tail or above one
 *		page, in_len above
 *		COHORT_VC_MAX_ENTRIES, or a RECV whose result would exceed it
 *	ENOSPC	out_cap smaller than the result; out_len says how many are
 *		needed. The operation is not applied.
 *	ENXIO	the node has no id yet (set one over netlink first)
 *	EOVERFLOW a counter would wrap
 * A failed ioctl never changes any clock.
 *
 * Generic netlink family "cohort" (COHORT_GENL_NAME, netnsok)
 * -----------------------------------------------------------
 *
 * COHORT_CMD_NODE_GET: doit, no privilege needed.
 *	reply: COHORT_CMD_NODE_GET
 *	    COHORT_A_NODE_ID:		NLA_U32 (0: not set)
 *	    COHORT_A_NODE_NAME:		NLA_NUL_STRING (absent: not set)
 *	    COHORT_A_NODE_ACTORS:	NLA_U32, actors bound on this node
 *	    COHORT_A_NODE_LAMPORT:	NLA_U64, node-level Lamport clock
 *	    COHORT_A_NODE_VCLOCK:	NLA_NESTED, node-level vector clock
 *		COHORT_A_VCLOCK_ENTRY:	NLA_NESTED, repeated, sorted by id
 *		    COHORT_A_VC_ID:		NLA_U64 (a node id here)
 *		    COHORT_A_VC_COUNTER:	NLA_U64
 * COHORT_CMD_NODE_SET: doit, CAP_NET_ADMIN in the namespace's user ns.
 *	request (at least one of):
 *	    COHORT_A_NODE_ID:		NLA_U32, 1..U32_MAX; EBUSY while
 *					actors are bound to the old id
 *	    COHORT_A_NODE_NAME:		NLA_NUL_STRING, 1..COHORT_NAME_MAX-1
 *					bytes of ASCII [A-Za-z0-9._-] and
 *					the NUL, nothing after it
 *	    COHORT_A_NODE_LISTEN_ADDR:	NLA_BE32, IPv4 address the node's
 *					UDP and TCP sockets bind (default
 *					0.0.0.0)
 *	    COHORT_A_NODE_PORT:		NLA_U16, UDP and TCP port (default
 *					COHORT_DEFAULT_PORT)
 *	    COHORT_A_NODE_HB_INTERVAL:	NLA_U32, heartbeat period in ms,
 *					COHORT_HB_INTERVAL_MIN..MAX (250)
 *	    COHORT_A_NODE_HB_TOLERANCE:	NLA_U32, ms without a heartbeat
 *					before a link is down, at least
 *					2 intervals (1000)
 *	The id, address and port cannot change while peers are configured
 *	(EBUSY). An id change leaves the node clocks as they are.
 *	On success the new state is multicast as COHORT_CMD_NODE_NTF (same
 *	attributes as the NODE_GET reply) on the "events" group.
 *	NODE_GET also returns LISTEN_ADDR, PORT, HB_INTERVAL, HB_TOLERANCE
 *	and COHORT_A_NODE_STATS (nested COHORT_A_STATS_*: node-wide counters).
 *
 * COHORT_CMD_PEER_ADD: doit, admin. A peer is a neighbour in the overlay.
 *	    COHORT_A_PEER_ID:		NLA_U32, required, not the node's own
 *	    COHORT_A_PEER_ADDR:		NLA_BE32, required
 *	    COHORT_A_PEER_PORT:		NLA_U16 (default COHORT_DEFAULT_PORT)
 *	The node needs an id first (EINVAL). EEXIST if the id is a peer
 *	already, ENOSPC past COHORT_MAX_PEERS. The first peer starts the
 *	node's transport (sockets, heartbeats).
 * COHORT_CMD_PEER_DEL: doit, admin. COHORT_A_PEER_ID; ENOENT if unknown.
 *	Frames queued to the peer are dropped (counted as the node's
 *	QUEUE_FULL). The last peer's removal stops the transport and clears
 *	what the node learnt of the cluster.
 * COHORT_CMD_PEER_GET: doit with COHORT_A_PEER_ID, or dump (resumable).
 *	reply: ID, ADDR, PORT, STATE (enum cohort_link_state),
 *	       LAST_HEARD (ms since the last heartbeat, absent if never),
 *	       STATS (nested COHORT_A_STATS_*: this link's counters)
 * COHORT_CMD_MEMBER_GET: dump (resumable): every node this node knows of,
 *	itself included, from the link-state database.
 *	reply: COHORT_A_MEMBER_ID, NAME, STATE (enum cohort_member_state),
 *	       NEXT_HOP (absent when unreachable or self), HOPS
 * COHORT_CMD_PING: doit, no privilege. COHORT_A_MSG_DST (node id),
 *	COHORT_A_MSG_COOKIE (NLA_U64, echoed). Returns at once: 0 when the
 *	ping is on its way, EHOSTUNREACH without a route (the node itself has
 *	none), EAGAIN when the first hop's queue is full. The answer comes
 *	later as a unicast COHORT_CMD_PING to the caller's port: DST, COOKIE,
 *	RTT (NLA_U64, ns), HOPS (NLA_U32, hops the reply travelled). The
 *	node remembers its last 64 pings; answers to older ones are dropped.
 * COHORT_CMD_MSG_BIND: doit, no privilege. COHORT_A_MSG_PORT (NLA_U32,
 *	1..U32_MAX): messages to this node and port are unicast to the
 *	calling netlink socket until it closes or sends MSG_UNBIND.
 *	EADDRINUSE if another socket holds the port, ENOSPC past
 *	COHORT_MSG_MAX_BINDS ports on the node.
 * COHORT_CMD_MSG_UNBIND: doit. COHORT_A_MSG_PORT; ENOENT if not bound by
 *	this socket.
 * COHORT_CMD_MSG_SEND: doit, no privilege. A datagram through the
 *	overlay, delivered at most once, in order per (source, destination).
 *	    COHORT_A_MSG_DST:		NLA_U32, required (own id: local)
 *	    COHORT_A_MSG_PORT:		NLA_U32, required
 *	    COHORT_A_MSG_SRC_PORT:	NLA_U32, optional, for replies
 *	    COHORT_A_MSG_PAYLOAD:	NLA_BINARY, 0..COHORT_MSG_MAX bytes;
 *					repeated: one message each, in order
 *	Returns 0 once all are queued, EHOSTUNREACH without a route, EAGAIN
 *	when the first hop's queue is full (backpressure: retry later). When
 *	only some of a batch were queued, the reply COHORT_CMD_MSG_SEND
 *	carries COHORT_A_MSG_COUNT (NLA_U32): how many, from the first.
 *	Each message is a send event of the node clocks.
 * COHORT_CMD_MSG_RECV: unicast to the bound socket (not a request).
 *	SRC (NLA_U32, origin node), SRC_PORT, PORT, PAYLOAD, HOPS,
 *	LAMPORT (NLA_U64) and VCLOCK (as in NODE_GET): the stamps the last
 *	hop put on the frame, after which this node applied the receive rule.
 *	A message for an unbound port, or one the socket has no room for,
 *	is dropped and counted (COHORT_A_STATS_MSG_DROPPED).
 * COHORT_CMD_LINK_NTF (events group): PEER ID, STATE of a link that
 *	changed state.
 * COHORT_CMD_MEMBER_NTF (events group): MEMBER ID, NAME, STATE, NEXT_HOP,
 *	HOPS of a node that became reachable or unreachable.
 *
 * Errors carry an extack message naming the offending attribute.
 */
#ifndef _UAPI_LINUX_COHORT_H
#define _UAPI_LINUX_COHORT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define COHORT_DEVICE_NAME		"cohort"

#define COHORT_GENL_NAME		"cohort"
#define COHORT_GENL_VERSION		1
#define COHORT_GENL_MCGRP_EVENTS	"events"

/* Node and other object names include the terminating NUL. */
#define COHORT_NAME_MAX			64

/* Longest vector clock accepted or produced, in entries. */
#define COHORT_VC_MAX_ENTRIES		256

/* Transport. */
#define COHORT_DEFAULT_PORT		6230
#define COHORT_MAX_PEERS		64
#define COHORT_MAX_NODES		COHORT_VC_MAX_ENTRIES
#define COHORT_MSG_MAX			16384
#define COHORT_MSG_MAX_BINDS		1024
#define COHORT_HB_INTERVAL_MIN		10
#define COHORT_HB_INTERVAL_MAX		60000

enum cohort_link_state {
	COHORT_LINK_DOWN = 1,		/* no heartbeat within the tolerance */
	COHORT_LINK_CONNECTING,		/* heartbeats, reliable channel not yet */
	COHORT_LINK_UP,			/* heartbeats and reliable channel */
};

enum cohort_member_state {
	COHORT_MEMBER_UNREACHABLE = 1,
	COHORT_MEMBER_REACHABLE,
	COHORT_MEMBER_SELF,
};

/* ---- ioctls ---- */

#define COHORT_IOC_TYPE			0xC0
#define COHORT_IOC_BASE			0x80

enum {
	COHORT_IOC_ACTOR_NR = COHORT_IOC_BASE,
	COHORT_IOC_LAMPORT_NR,
	COHORT_IOC_VCLOCK_NR,
};

#define COHORT_IOC_ACTOR	_IO(COHORT_IOC_TYPE, COHORT_IOC_ACTOR_NR)
#define COHORT_IOC_LAMPORT	_IO(COHORT_IOC_TYPE, COHORT_IOC_LAMPORT_NR)
#define COHORT_IOC_VCLOCK	_IO(COHORT_IOC_TYPE, COHORT_IOC_VCLOCK_NR)

enum cohort_clock_op {
	COHORT_CLOCK_READ,	/* observe only */
	COHORT_CLOCK_TICK,	/* internal event */
	COHORT_CLOCK_SEND,	/* send event: returns the stamp to attach */
	COHORT_CLOCK_RECV,	/* receive event with the sender's stamp */
	__COHORT_CLOCK_OP_MAX
};

/**
 * struct cohort_actor - COHORT_IOC_ACTOR: identity of this handle
 * @size: sizeof(struct cohort_actor)
 * @flags: must be 0
 * @actor_id: out: cluster-unique actor id (node id << 32 | local number)
 * @node_id: out: the node the actor lives on
 * @__reserved: must be 0
 */
struct cohort_actor {
	__u32 size;
	__u32 flags;
	__u64 actor_id;
	__u32 node_id;
	__u32 __reserved;
};

/**
 * struct cohort_lamport - COHORT_IOC_LAMPORT
 * @size: sizeof(struct cohort_lamport)
 * @op: enum cohort_clock_op
 * @time: in: received stamp (RECV); out: clock value after the operation
 */
struct cohort_lamport {
	__u32 size;
	__u32 op;
	__u64 time;
};

/**
 * struct cohort_vc_entry - one component of a vector clock
 * @id: actor id (per-handle clocks) or node id (node clocks); never 0
 * @counter: events counted for @id
 */
struct cohort_vc_entry {
	__u64 id;
	__u64 counter;
};

/**
 * struct cohort_vclock - COHORT_IOC_VCLOCK
 * @size: sizeof(struct cohort_vclock)
 * @op: enum cohort_clock_op
 * @in_len: RECV: entries at @in_ptr; must be 0 for other ops
 * @out_cap: entries that fit at @out_ptr
 * @in_ptr: RECV: user pointer to the received struct cohort_vc_entry array
 * @out_ptr: optional user pointer receiving the vector after the op
 * @out_len: out: entries in the vector after the op (or needed, on ENOSPC)
 * @__reserved: must be 0
 */
struct cohort_vclock {
	__u32 size;
	__u32 op;
	__u32 in_len;
	__u32 out_cap;
	__u64 in_ptr;
	__u64 out_ptr;
	__u32 out_len;
	__u32 __reserved;
};

/* ---- generic netlink ---- */

enum cohort_cmd {
	COHORT_CMD_UNSPEC,
	COHORT_CMD_NODE_GET,
	COHORT_CMD_NODE_SET,
	COHORT_CMD_NODE_NTF,
	COHORT_CMD_PEER_ADD,
	COHORT_CMD_PEER_DEL,
	COHORT_CMD_PEER_GET,
	COHORT_CMD_MEMBER_GET,
	COHORT_CMD_PING,
	COHORT_CMD_MSG_BIND,
	COHORT_CMD_MSG_UNBIND,
	COHORT_CMD_MSG_SEND,
	COHORT_CMD_MSG_RECV,
	COHORT_CMD_LINK_NTF,
	COHORT_CMD_MEMBER_NTF,
	__COHORT_CMD_MAX
};

#define COHORT_CMD_MAX (__COHORT_CMD_MAX - 1)

enum cohort_node_attr {
	COHORT_A_NODE_UNSPEC,
	COHORT_A_NODE_PAD,
	COHORT_A_NODE_ID,
	COHORT_A_NODE_NAME,
	COHORT_A_NODE_ACTORS,
	COHORT_A_NODE_LAMPORT,
	COHORT_A_NODE_VCLOCK,
	COHORT_A_NODE_LISTEN_ADDR,
	COHORT_A_NODE_PORT,
	COHORT_A_NODE_HB_INTERVAL,
	COHORT_A_NODE_HB_TOLERANCE,
	COHORT_A_NODE_STATS,
	__COHORT_A_NODE_MAX
};

#define COHORT_A_NODE_MAX (__COHORT_A_NODE_MAX - 1)

enum cohort_peer_attr {
	COHORT_A_PEER_UNSPEC,
	COHORT_A_PEER_PAD,
	COHORT_A_PEER_ID,
	COHORT_A_PEER_ADDR,
	COHORT_A_PEER_PORT,
	COHORT_A_PEER_STATE,
	COHORT_A_PEER_LAST_HEARD,
	COHORT_A_PEER_STATS,
	__COHORT_A_PEER_MAX
};

#define COHORT_A_PEER_MAX (__COHORT_A_PEER_MAX - 1)

/* Counters, all NLA_U64; a link has the first group, a node all of them. */
enum cohort_stats_attr {
	COHORT_A_STATS_UNSPEC,
	COHORT_A_STATS_PAD,
	COHORT_A_STATS_TX_FRAMES,	/* frames sent on the link */
	COHORT_A_STATS_RX_FRAMES,	/* frames accepted from the link */
	COHORT_A_STATS_TX_BYTES,
	COHORT_A_STATS_RX_BYTES,
	COHORT_A_STATS_RESENDS,		/* frames sent again after reconnect */
	COHORT_A_STATS_DUPLICATES,	/* frames received twice, dropped */
	COHORT_A_STATS_BAD_FRAMES,	/* malformed frames, dropped */
	COHORT_A_STATS_RECONNECTS,	/* reliable channels (re)established */
	COHORT_A_STATS_QUEUED,		/* frames waiting or unacked now */
	COHORT_A_STATS_QUEUE_FULL,	/* sends refused or dropped: queue full */
	COHORT_A_STATS_HEARTBEATS_RX,
	/* node-wide only */
	COHORT_A_STATS_UNKNOWN_PEER,	/* frames from unconfigured senders */
	COHORT_A_STATS_NO_ROUTE,	/* frames with no route, dropped */
	COHORT_A_STATS_TTL_EXPIRED,	/* frames past the hop limit */
	COHORT_A_STATS_FORWARDED,	/* frames relayed to another node */
	COHORT_A_STATS_MSG_DELIVERED,
	COHORT_A_STATS_MSG_DROPPED,	/* no bound socket, or no room in it */
	__COHORT_A_STATS_MAX
};

#define COHORT_A_STATS_MAX (__COHORT_A_STATS_MAX - 1)

enum cohort_member_attr {
	COHORT_A_MEMBER_UNSPEC,
	COHORT_A_MEMBER_ID,
	COHORT_A_MEMBER_NAME,
	COHORT_A_MEMBER_STATE,
	COHORT_A_MEMBER_NEXT_HOP,
	COHORT_A_MEMBER_HOPS,
	__COHORT_A_MEMBER_MAX
};

#define COHORT_A_MEMBER_MAX (__COHORT_A_MEMBER_MAX - 1)

enum cohort_msg_attr {
	COHORT_A_MSG_UNSPEC,
	COHORT_A_MSG_PAD,
	COHORT_A_MSG_DST,
	COHORT_A_MSG_PORT,
	COHORT_A_MSG_SRC,
	COHORT_A_MSG_SRC_PORT,
	COHORT_A_MSG_PAYLOAD,
	COHORT_A_MSG_HOPS,
	COHORT_A_MSG_LAMPORT,
	COHORT_A_MSG_VCLOCK,
	COHORT_A_MSG_COOKIE,
	COHORT_A_MSG_RTT,
	COHORT_A_MSG_COUNT,
	__COHORT_A_MSG_MAX
};

#define COHORT_A_MSG_MAX (__COHORT_A_MSG_MAX - 1)

enum cohort_vclock_attr {
	COHORT_A_VCLOCK_UNSPEC,
	COHORT_A_VCLOCK_ENTRY,
	__COHORT_A_VCLOCK_MAX
};

#define COHORT_A_VCLOCK_MAX (__COHORT_A_VCLOCK_MAX - 1)

enum cohort_vc_entry_attr {
	COHORT_A_VC_UNSPEC,
	COHORT_A_VC_PAD,
	COHORT_A_VC_ID,
	COHORT_A_VC_COUNTER,
	__COHORT_A_VC_MAX
};

#define COHORT_A_VC_MAX (__COHORT_A_VC_MAX - 1)

#endif /* _UAPI_LINUX_COHORT_H */
