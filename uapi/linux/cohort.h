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
 *	An id change leaves the node clocks as they are.
 *	On success the new state is multicast as COHORT_CMD_NODE_NTF (same
 *	attributes as the NODE_GET reply) on the "events" group.
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
	__COHORT_A_NODE_MAX
};

#define COHORT_A_NODE_MAX (__COHORT_A_NODE_MAX - 1)

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
