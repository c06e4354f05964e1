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
 * Queues and topics
 * -----------------
 *
 * A queue (point-to-point: each message goes to one consumer) or a topic
 * (publish/subscribe: each subscription gets a copy) lives on a home node,
 * its queue manager, and is named by COHORT_NAME_MAX-1 bytes of [A-Za-z0-9._-]
 * there. A name "q" is looked up on this node first and then asked of the
 * reachable members; "q@7" names queue q on node 7.
 *
 * COHORT_IOC_QUEUE_OPEN: struct cohort_queue_open, on /dev/cohort
 *	in:  name, kind, flags (COHORT_QO_*), role (COHORT_QR_*), ack,
 *	     sub (topic consumers: durable subscription name, "" for one that
 *	     lives as long as the descriptor), filter_mask and filter_value
 *	     (topic consumers: which keys the subscription keeps), mode and
 *	     attr (on create)
 *	out: fd, a new descriptor (anon inode "[cohort-queue]") of the actor,
 *	     home (node id), and attr as the queue has it.
 *	Creating needs a node id; the queue is owned by the caller's fsuid
 *	and fsgid, and its capacity (attr.max_bytes) is reserved from the
 *	owner's budget on the home node (COHORT_USER_MAX_BYTES, ENOSPC).
 *	Opening checks mode like a file: produce needs write, consume read.
 *
 * The descriptor (ioctls take the same size-first structures):
 *	COHORT_IOC_QSEND: struct cohort_qsend, a batch of struct
 *		cohort_qmsg_out; each is a send event of the actor's clocks
 *		whose stamps travel with the message.
 *	COHORT_IOC_QRECV: struct cohort_qrecv, a batch of struct
 *		cohort_qmsg_in; waits for the first (timeout, O_NONBLOCK),
 *		then takes what is ready. Each is a receive event of the
 *		actor's clocks. A stamp whose ids would take the actor's
 *		vector past COHORT_VC_MAX_ENTRIES is received without its
 *		vector (COHORT_QM_UNMERGED): the Lamport clock and the
 *		actor's own entry move, and the vector keeps what it had,
 *		so it does not claim to follow the message. The message is
 *		not refused for that: a consumer that has heard from many
 *		actors goes on receiving.
 *	COHORT_IOC_QACK: struct cohort_qack: ack or nack deliveries by
 *		delivery id (COHORT_ACK_EXPLICIT consumers).
 *	write(2): one message of priority 0; read(2): one message's payload
 *	(COHORT_ACK_NONE consumers; a short buffer gets EMSGSIZE and the
 *	message stays); poll(2): EPOLLIN when a message is ready, EPOLLOUT
 *	when a send would not block, EPOLLHUP|EPOLLERR once the queue is
 *	deleted.
 *	COHORT_IOC_QRING: struct cohort_qring_setup: a receive ring, below.
 *	COHORT_IOC_QFILL: struct cohort_qfill: fill the ring, or wait.
 *
 * Receive rings. COHORT_IOC_QRING gives a consumer descriptor a ring of
 * @bytes (a power of two, COHORT_QRING_MIN..COHORT_QRING_MAX), once. Its
 * pages count against the caller's budget on this node (ENOSPC) and its
 * memory cgroup. From then on the descriptor's messages arrive in the ring
 * as records that the process reads in place, with no system call per
 * message; QRECV and read(2) get EBUSY. It is mapped with two MAP_SHARED
 * mmap(2) calls:
 *	offset 0, one page, readable and writable: struct cohort_qring_ctl,
 *	    where the process publishes how far it has taken records (head);
 *	offset ro_offset, ro_len bytes, read-only (a writable or executable
 *	    mapping gets EPERM, and mprotect(2) cannot add write):
 *	    struct cohort_qring_status at its start and the records from
 *	    data_offset on, the data mapped twice in a row so that a record
 *	    that wraps around the end reads as one piece.
 * Positions count bytes and only grow. A record starts at data + (pos &
 * (bytes - 1)), 8-byte aligned: the record header, then vc_len struct
 * cohort_vc_entry (the sender's vector stamp), then data_len bytes of
 * payload, padded to len. The header is the first rec_size bytes of struct
 * cohort_qrec, as many as the caller asked for at setup and the kernel
 * knows: a program built against an older header gets records it reads.
 * (A record with the first layout's header ends with 8 bytes, counted in
 * len, where the kernel keeps the key that header has no room for.)
 * To read: load status->tail (acquire); every record before it is
 * complete; once done with one, store head + len to
 * ctl->head (release). The tail moves only past complete records, and
 * only forward. The kernel reuses only what head has
 * passed, and never relies on what the process writes: a head that is not
 * 8-byte aligned or lies beyond tail makes QFILL fail with EINVAL and poll
 * report EPOLLERR until it is mended (so does a head inside a record, or
 * behind one given back, for QFILL, and a @next that is not at the end of
 * a record; a QFILL with nothing to fill while a sender writes into the
 * ring leaves these to a later call, and may return at once as if a record
 * were there).
 * COHORT_IOC_QFILL moves what waits for the descriptor into the ring, as
 * much as fits, and then waits (timeout_ms; O_NONBLOCK) until a complete
 * record is at head (or at @next, for a process that holds records); it
 * fails with ENOSPC at once when the next message does not fit, as only
 * the process can make room. poll(2) reports EPOLLIN when a record is at
 * head, or when messages wait to be filled in.
 * A sender on this node writes straight into the ring of a queue's
 * COHORT_ACK_NONE consumer while nothing waits in the store: one copy from
 * sender to receiver, and no store. (A payload not in memory at the time,
 * and what follows it, goes through the store.) When every consumer of the
 * queue reads through such a ring and the rings it could take are full,
 * or messages wait in the store, a sender that may wait waits for room,
 * or for QFILLs to empty the store (for at most 10 ms of its timeout per
 * call), before it adds to the store, as a pipe's writer waits for its
 * reader: a QFILL that finds records given back, or empties the store,
 * says so. Once a sender waited in vain and added to the store, no sender
 * waits again until the store is empty.
 * A ring is a prefetch window: what is in it has been delivered, so
 * priorities order only what still waits in the store, a consumer with
 * room in its ring takes new messages before consumers without a ring,
 * and the ack timeout of a record runs from its delivery into the ring.
 * The delivery of a record is the receive event of the actor's clocks.
 * When the descriptor goes (with its last mapping), records past head are
 * unread: they go back first in line, uncounted, except those of a
 * COHORT_ACK_NONE descriptor of a queue on another node, which are lost as
 * the deliveries it had not read, and those (without acks) the store has
 * no room for, which are dropped and counted.
 *
 * Delivery. A message is enqueued at its home with a message id (the same
 * in every subscription of a topic) and goes out higher priority first,
 * FIFO within a priority, hence FIFO per producer. COHORT_ACK_NONE is
 * at-most-once: a message is gone once handed out. COHORT_ACK_EXPLICIT is
 * at-least-once: the message is in flight until acked; a nack, the
 * descriptor's close (the process's death) or attr.ack_timeout_ms puts it
 * back first in line. Every delivery attempt has its own delivery id, so an
 * ack of an older attempt gets ESTALE. A message that was delivered
 * attr.max_deliveries times and comes back goes to the dead-letter queue
 * attr.dlq on the home node (dropped and counted without one), moved by
 * a work item shortly after. A message
 * past its TTL is dropped (counted) instead of delivered.
 * A transient queue (no COHORT_QA_PERSISTENT) drops, and counts, messages
 * sent while no consumer is attached; a persistent one keeps them until
 * consumed or deleted, whatever happens to producers, consumers and
 * links. max_msgs and max_bytes count queued and in-flight messages; bytes
 * are the payload and 16 per vector-stamp entry.
 * A topic copies each message into every subscription whose filter keeps
 * its key (all, without filters), a store with the topic's attributes. A
 * named (durable) subscription outlives its consumers and may be shared by
 * several (they compete, as on a queue); an unnamed one belongs to its
 * descriptor. In a persistent topic a subscription keeps messages while it
 * has no consumer; in a transient one it drops them.
 * A full queue blocks its producers (EAGAIN when non-blocking, ETIMEDOUT
 * after the timeout); a full subscription either drops its oldest message
 * of the lowest priority (COHORT_OVERFLOW_DROP_OLD) or refuses the publish
 * to all subscriptions with EAGAIN (COHORT_OVERFLOW_REJECT), as the topic
 * says.
 * A QSEND batch is checked whole first (EINVAL, EMSGSIZE: nothing sent).
 * A batch that stops early succeeds with the count of what was done; the
 * error of the first message that failed is returned only when none
 * succeeded (QACK returns it with the count applied before it).
 *
 * Across nodes: a descriptor of a queue on another node sends and receives
 * through the home. Deliveries are pushed to it, at most 128 ahead of what
 * it has received (acked, with COHORT_ACK_EXPLICIT); up to 256 publishes
 * are on their way to the home at a time, and a producer out of that
 * credit waits as on a full queue. The home checks permissions against the
 * uid and gid the opener's node sends. Opening waits at most 5 s for the
 * home (ETIMEDOUT). Link failures only delay traffic; a node's restart
 * ends the descriptors across it: the home closes the handles of the old
 * life's descriptors, as if they had closed, and descriptors of the old
 * home's queues get EIDRM.
 *
 * Errors of the queue ioctls, besides those above:
 *	EINVAL	unknown flags, kind, role, ack or op; mode above 0777; a bad
 *		name, subscription name (or one given to a queue or a
 *		producer) or dead-letter queue name; a filter given to a
 *		queue or a producer, or one whose value has bits outside
 *		its mask; an overflow policy of the other kind; count 0 or
 *		above COHORT_QBATCH_MAX; prio above COHORT_QPRIO_MAX;
 *		non-zero reserved fields; read(2) with COHORT_ACK_EXPLICIT;
 *		QRING with bytes not a power of two in range, or a record
 *		header size (rec_size) not a multiple of 8 or below
 *		COHORT_QREC_SIZE_VER0; QFILL without a ring, or with a bad
 *		head; mmap(2) of a descriptor without a ring, not
 *		MAP_SHARED, or beyond it
 *	EPERM	mmap(2) writable beyond the first page, or executable
 *	EBUSY	QRING on a descriptor that has a ring; QRECV or read(2) on
 *		one (its messages go to the ring)
 *	ERANGE	a limit in attr above its maximum
 *	ENOENT	no such queue (open without COHORT_QO_CREATE), subscription
 *	EEXIST	COHORT_QO_EXCL and the queue exists, or kind differs; a
 *		durable subscription made with another filter
 *	EACCES	mode refuses the role
 *	EBADF	role not opened for (send on a consumer-only descriptor)
 *	EMSGSIZE message above attr.max_msg_size, or with its stamps above
 *		attr.max_bytes (no store could hold it: not waited for);
 *		read(2) buffer too short
 *	ESTALE	ack or nack of an attempt this descriptor does not hold
 *		(acked already, or taken back after the ack timeout)
 *	EIDRM	the queue was deleted; across nodes, also when the home node
 *		restarted (a new life, which has no descriptors of the old)
 *	EHOSTUNREACH the home node is not reachable
 *	EPROTO	the home already has the handle of this open (a protocol
 *		error of this node)
 *	ENOSPC	too many queues, or the owner's budget is spent; QFILL: the
 *		next message does not fit in the ring
 *	ETIMEDOUT nothing within timeout_ms
 *	EOVERFLOW QSEND: the actor's Lamport clock is at U64_MAX - 1, so the
 *		message would carry U64_MAX, which no receive can follow;
 *		QRECV, QFILL, read(2): a counter of the receiver's clocks
 *		cannot take the stamp (the message stays for others)
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
 *	calling netlink socket until it closes or sends MSG_UNBIND (once,
 *	however often it was bound). EADDRINUSE if another socket holds the
 *	port, ENOSPC past COHORT_MSG_MAX_BINDS ports on the node.
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
 * COHORT_CMD_QUEUE_ADD: doit, CAP_NET_ADMIN: a system queue or topic on
 *	this node, owned by QUEUE_UID/GID (default 0).
 *	    COHORT_A_QUEUE_NAME (required), KIND (enum cohort_queue_kind),
 *	    MODE, UID, GID, FLAGS (COHORT_QA_*), MAX_MSGS, MAX_BYTES,
 *	    MAX_MSG_SIZE, ACK_TIMEOUT (ms), MAX_DELIVERIES, OVERFLOW, DLQ.
 *	EEXIST when the name is taken; ERANGE for a limit out of range.
 * COHORT_CMD_QUEUE_DEL: doit: NAME, and SUB_NAME to delete a durable
 *	subscription only (EINVAL if empty, or if NAME is not a topic).
 *	System queues need CAP_NET_ADMIN, others their owner or
 *	CAP_NET_ADMIN (EPERM), the owner through a socket it opened, or
 *	one opened with CAP_NET_ADMIN. Open descriptors get EIDRM.
 * COHORT_CMD_QUEUE_GET: doit with NAME, or dump: the attributes above and
 *	HOME, OWNER flags (COHORT_QA_SYSTEM), STATS (nested
 *	COHORT_A_QSTATS_*) and, for topics, repeated SUB (nested
 *	COHORT_A_SUB_*), as many as fit in a message of 32 KiB. A dump
 *	across a queue's add or delete is flagged NLM_F_DUMP_INTR.
 * COHORT_CMD_QUEUE_NTF (events group): NAME, KIND, EVENT
 *	(enum cohort_queue_event), and SUB_NAME for SUB_ADD and SUB_DEL (a
 *	durable subscription made or deleted).
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

/* Queues and topics. */
#define COHORT_QUEUES_MAX		1024	/* per node, with subscriptions */
#define COHORT_QMSG_MAX			COHORT_MSG_MAX
#define COHORT_QPRIO_MAX		7	/* priorities 0 (default) .. 7 */
#define COHORT_QBATCH_MAX		1024	/* messages per QSEND/QRECV/QACK */
#define COHORT_QPREFETCH_MAX		128	/* see struct cohort_queue_open */
#define COHORT_QDEF_MAX_MSGS		1024
#define COHORT_QDEF_MAX_BYTES		0x100000U
#define COHORT_QDEF_ACK_TIMEOUT		30000	/* ms */
#define COHORT_QMAX_MAX_MSGS		0x100000U
#define COHORT_QMAX_MAX_BYTES		(256U << 20)
#define COHORT_USER_MAX_BYTES		(512ULL << 20)	/* per uid and node */
#define COHORT_WAIT_FOREVER		(-1)

enum cohort_queue_kind {
	COHORT_QUEUE = 1,		/* point-to-point, competing consumers */
	COHORT_TOPIC,			/* publish/subscribe */
};

enum cohort_overflow {
	COHORT_OVERFLOW_BLOCK = 1,	/* queues: wait for room (or EAGAIN) */
	COHORT_OVERFLOW_DROP_OLD,	/* topics: the oldest message gives way */
	COHORT_OVERFLOW_REJECT,		/* topics: the publish fails, EAGAIN */
};

enum cohort_ack_mode {
	COHORT_ACK_NONE = 1,		/* at-most-once */
	COHORT_ACK_EXPLICIT,		/* at-least-once: ack or nack each */
};

enum cohort_queue_event {
	COHORT_QEVENT_ADD = 1,
	COHORT_QEVENT_DEL,
	COHORT_QEVENT_SUB_ADD,
	COHORT_QEVENT_SUB_DEL,
};

/* struct cohort_queue_open flags */
#define COHORT_QO_CREATE	0x1U	/* create if missing */
#define COHORT_QO_EXCL		0x2U	/* with CREATE: must be new */
#define COHORT_QO_NONBLOCK	0x4U	/* O_NONBLOCK on the new fd */
#define COHORT_QO_CLOEXEC	0x8U	/* O_CLOEXEC on the new fd */
#define COHORT_QO_ALL		0xfU

/* struct cohort_queue_open role */
#define COHORT_QR_PRODUCE	0x1U
#define COHORT_QR_CONSUME	0x2U

/* struct cohort_queue_attr flags */
#define COHORT_QA_PERSISTENT	0x1U	/* keep messages with no consumer */
#define COHORT_QA_SYSTEM	0x2U	/* out only: made by QUEUE_ADD */
#define COHORT_QA_SETTABLE	COHORT_QA_PERSISTENT

/* struct cohort_qmsg_in and struct cohort_qrec flags, out */
#define COHORT_QM_REDELIVERED	0x1U	/* delivered before */
#define COHORT_QM_UNMERGED	0x2U	/* vector stamp not merged (too wide) */

/* Receive rings: data bytes, a power of two. */
#define COHORT_QRING_MIN	(64U << 10)
#define COHORT_QRING_MAX	(64U << 20)

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
	COHORT_IOC_QUEUE_OPEN_NR,
	COHORT_IOC_QSEND_NR,
	COHORT_IOC_QRECV_NR,
	COHORT_IOC_QACK_NR,
	COHORT_IOC_QRING_NR,
	COHORT_IOC_QFILL_NR,
};

#define COHORT_IOC_ACTOR	_IO(COHORT_IOC_TYPE, COHORT_IOC_ACTOR_NR)
#define COHORT_IOC_LAMPORT	_IO(COHORT_IOC_TYPE, COHORT_IOC_LAMPORT_NR)
#define COHORT_IOC_VCLOCK	_IO(COHORT_IOC_TYPE, COHORT_IOC_VCLOCK_NR)
#define COHORT_IOC_QUEUE_OPEN	_IO(COHORT_IOC_TYPE, COHORT_IOC_QUEUE_OPEN_NR)
#define COHORT_IOC_QSEND	_IO(COHORT_IOC_TYPE, COHORT_IOC_QSEND_NR)
#define COHORT_IOC_QRECV	_IO(COHORT_IOC_TYPE, COHORT_IOC_QRECV_NR)
#define COHORT_IOC_QACK		_IO(COHORT_IOC_TYPE, COHORT_IOC_QACK_NR)
#define COHORT_IOC_QRING	_IO(COHORT_IOC_TYPE, COHORT_IOC_QRING_NR)
#define COHORT_IOC_QFILL	_IO(COHORT_IOC_TYPE, COHORT_IOC_QFILL_NR)

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

/**
 * struct cohort_queue_attr - properties of a queue or topic
 * @flags: COHORT_QA_*
 * @max_msgs: messages held at most (per subscription for a topic);
 *	0: COHORT_QDEF_MAX_MSGS; at most COHORT_QMAX_MAX_MSGS
 * @max_msg_size: largest payload; 0: COHORT_QMSG_MAX (also the maximum)
 * @max_bytes: payload bytes held at most (per subscription);
 *	0: COHORT_QDEF_MAX_BYTES; at most COHORT_QMAX_MAX_BYTES
 * @ack_timeout_ms: in-flight time before redelivery; 0: default
 * @max_deliveries: attempts before dead-lettering; 0: unlimited
 * @overflow: enum cohort_overflow; 0: BLOCK for queues, DROP_OLD for topics
 * @__reserved: must be 0
 * @dlq: dead-letter queue on the home node, "" for none
 */
struct cohort_queue_attr {
	__u32 flags;
	__u32 max_msgs;
	__u32 max_msg_size;
	__u32 max_bytes;
	__u32 ack_timeout_ms;
	__u32 max_deliveries;
	__u32 overflow;
	__u32 __reserved;
	char dlq[COHORT_NAME_MAX];
};

/**
 * struct cohort_queue_open - COHORT_IOC_QUEUE_OPEN
 * @size: sizeof(struct cohort_queue_open)
 * @flags: COHORT_QO_*
 * @kind: enum cohort_queue_kind
 * @role: COHORT_QR_* (at least one)
 * @ack: enum cohort_ack_mode of a consumer; 0: COHORT_ACK_NONE
 * @mode: permission bits (0..0777) when created
 * @fd: out: the new descriptor
 * @home: out: node id of the queue manager
 * @name: "queue" or "queue@node", NUL-terminated
 * @sub: topic consumers: durable subscription name, "" for none
 * @attr: in: when created; out: as the queue has it
 * @filter_mask: topic consumers: the subscription keeps only messages
 *	whose key (struct cohort_qmsg_out) has (key & @filter_mask) ==
 *	@filter_value; 0 and 0 (the default) keep all. A durable one keeps
 *	the filter it was made with: opening it with another (or none) is
 *	EEXIST. A filter for anything but a topic consumer, or a
 *	@filter_value with bits outside @filter_mask, is EINVAL.
 * @filter_value: see @filter_mask
 * @prefetch: consumers of a queue or topic whose home is another node:
 *	how many messages the home sends ahead of the receives. Without
 *	acks it counts those no receive (or ring fill) took yet, which
 *	were handed out: the descriptor's close loses them (at most
 *	once). With explicit acks it counts those not yet acked or
 *	nacked. 0 means the default, COHORT_QPREFETCH_MAX, which is also
 *	the largest. With 1 and acks, each message goes to a consumer that
 *	is ready for it: load levelling among slow consumers. A consumer
 *	of this node's own queue takes from the store: nothing is sent
 *	ahead. Above the largest, or nonzero for a descriptor that does
 *	not consume: EINVAL. A home from before @prefetch sends up to the
 *	largest.
 *
 * A caller built before the filter passes @size
 * COHORT_QUEUE_OPEN_SIZE_VER0: it subscribes to everything; one built
 * before @prefetch passes COHORT_QUEUE_OPEN_SIZE_VER1.
 */
struct cohort_queue_open {
	__u32 size;
	__u32 flags;
	__u32 kind;
	__u32 role;
	__u32 ack;
	__u32 mode;
	__s32 fd;
	__u32 home;
	char name[COHORT_NAME_MAX + 12];
	char sub[COHORT_NAME_MAX];
	struct cohort_queue_attr attr;
	__u32 filter_mask;
	__u32 filter_value;
	__u32 prefetch;
};

#define COHORT_QUEUE_OPEN_SIZE_VER0	268	/* without the filter */
#define COHORT_QUEUE_OPEN_SIZE_VER1	276	/* without @prefetch */

/**
 * struct cohort_qmsg_out - one message to send
 * @data: user pointer to the payload
 * @len: payload bytes
 * @prio: 0..COHORT_QPRIO_MAX, higher first
 * @ttl_ms: dropped if not delivered within; 0: no limit
 * @key: what subscription filters look at (see struct cohort_queue_open);
 *	consumers get it with the message
 */
struct cohort_qmsg_out {
	__u64 data;
	__u32 len;
	__u32 prio;
	__u32 ttl_ms;
	__u32 key;
};

/**
 * struct cohort_qmsg_in - one message received
 * @data: user pointer for the payload
 * @cap: bytes at @data (a longer message: EMSGSIZE, it stays queued
 *	and @len and @vc_len say what it needs)
 * @len: out: payload bytes
 * @msg_id: out: id given at enqueue, per queue (per topic)
 * @delivery_id: out: this attempt's id, for COHORT_IOC_QACK
 * @sender: out: sender's actor id (node id << 32 | number)
 * @enqueue_ns: out: CLOCK_REALTIME_COARSE at the home when enqueued (to
 *	the tick)
 * @lamport: out: the sender's Lamport stamp
 * @vc_ptr: user pointer for the sender's vector stamp, or 0
 * @vc_cap: entries at @vc_ptr (fewer than the stamp has: EMSGSIZE)
 * @vc_len: out: entries in the stamp
 * @prio: out
 * @deliveries: out: attempts so far, this one included
 * @flags: out: COHORT_QM_*
 * @key: out: the key it was sent with
 */
struct cohort_qmsg_in {
	__u64 data;
	__u32 cap;
	__u32 len;
	__u64 msg_id;
	__u64 delivery_id;
	__u64 sender;
	__u64 enqueue_ns;
	__u64 lamport;
	__u64 vc_ptr;
	__u32 vc_cap;
	__u32 vc_len;
	__u32 prio;
	__u32 deliveries;
	__u32 flags;
	__u32 key;
};

/**
 * struct cohort_qsend - COHORT_IOC_QSEND
 * @size: sizeof(struct cohort_qsend)
 * @flags: must be 0
 * @count: in: entries at @msgs, 1..COHORT_QBATCH_MAX; out: messages sent
 *	(when some were, the call succeeds with the count)
 * @timeout_ms: wait for room at most this long; COHORT_WAIT_FOREVER;
 *	0 (or O_NONBLOCK): EAGAIN at once
 * @msgs: user pointer to struct cohort_qmsg_out[count]
 */
struct cohort_qsend {
	__u32 size;
	__u32 flags;
	__u32 count;
	__s32 timeout_ms;
	__u64 msgs;
};

/**
 * struct cohort_qrecv - COHORT_IOC_QRECV
 * @size: sizeof(struct cohort_qrecv)
 * @flags: must be 0
 * @count: in: entries at @msgs, 1..COHORT_QBATCH_MAX; out: received
 * @timeout_ms: as in struct cohort_qsend, for the first message
 * @msgs: user pointer to struct cohort_qmsg_in[count]
 */
struct cohort_qrecv {
	__u32 size;
	__u32 flags;
	__u32 count;
	__s32 timeout_ms;
	__u64 msgs;
};

enum cohort_ack_op {
	COHORT_QACK_ACK = 1,		/* done: the message is gone */
	COHORT_QACK_NACK,		/* put it back, first in line */
};

/**
 * struct cohort_qack - COHORT_IOC_QACK
 * @size: sizeof(struct cohort_qack)
 * @op: enum cohort_ack_op
 * @count: in: ids at @ids, 1..COHORT_QBATCH_MAX; out: ids applied, in
 *	order, before the first that failed
 * @__reserved: must be 0
 * @ids: user pointer to __u64 delivery ids
 */
struct cohort_qack {
	__u32 size;
	__u32 op;
	__u32 count;
	__u32 __reserved;
	__u64 ids;
};

/**
 * struct cohort_qring_setup - COHORT_IOC_QRING
 * @size: sizeof(struct cohort_qring_setup)
 * @flags: must be 0
 * @bytes: data bytes of the ring, a power of two,
 *	COHORT_QRING_MIN..COHORT_QRING_MAX
 * @rec_size: in: sizeof(struct cohort_qrec) as the caller knows it, a
 *	multiple of 8 from COHORT_QREC_SIZE_VER0 (0 means that size, as
 *	callers that predate the field pass); out: the size of the record
 *	header the kernel writes, the smaller of the two
 * @ro_offset: out: mmap offset of the read-only part (offset 0 is the one
 *	writable page, struct cohort_qring_ctl)
 * @ro_len: out: length of the read-only part
 * @data_offset: out: where the records start in the read-only part
 */
struct cohort_qring_setup {
	__u32 size;
	__u32 flags;
	__u32 bytes;
	__u32 rec_size;
	__u64 ro_offset;
	__u64 ro_len;
	__u64 data_offset;
};

/**
 * struct cohort_qring_ctl - the writable page of a ring
 * @head: position up to which the process has taken records
 */
struct cohort_qring_ctl {
	__u64 head;
};

/**
 * struct cohort_qring_status - start of the read-only part of a ring
 * @tail: position up to which records are complete
 */
struct cohort_qring_status {
	__u64 tail;
};

/**
 * struct cohort_qrec - a record of a ring, followed by the vector stamp and
 *	the payload; the fields are those of struct cohort_qmsg_in
 * @len: bytes of the whole record, a multiple of 8
 * @flags: COHORT_QM_*
 * @data_len: payload bytes
 * @vc_len: entries of the vector stamp
 * @msg_id: message id
 * @delivery_id: this attempt's id (COHORT_ACK_EXPLICIT), for QACK
 * @sender: sender's actor id
 * @enqueue_ns: CLOCK_REALTIME_COARSE at the home when enqueued
 * @lamport: the sender's Lamport stamp
 * @expire_ns: CLOCK_MONOTONIC at which the message expires if it goes back
 *	to the queue, 0 for no TTL (local queues only)
 * @prio: priority
 * @deliveries: attempts so far, this one included
 * @key: the key it was sent with (in headers of rec_size 80 and more)
 * @__reserved: 0 (likewise)
 */
struct cohort_qrec {
	__u32 len;
	__u32 flags;
	__u32 data_len;
	__u32 vc_len;
	__u64 msg_id;
	__u64 delivery_id;
	__u64 sender;
	__u64 enqueue_ns;
	__u64 lamport;
	__u64 expire_ns;
	__u32 prio;
	__u32 deliveries;
	__u32 key;
	__u32 __reserved;
};

#define COHORT_QREC_SIZE_VER0	72	/* without @key and @__reserved */

/* struct cohort_qfill flags */
#define COHORT_QFILL_NEXT	0x1U	/* wait at @next, not at head */

/**
 * struct cohort_qfill - COHORT_IOC_QFILL
 * @size: sizeof(struct cohort_qfill)
 * @flags: COHORT_QFILL_*
 * @timeout_ms: wait at most this long for a complete record at head (at
 *	@next); COHORT_WAIT_FOREVER; 0 (or O_NONBLOCK): EAGAIN at once
 * @count: out: records this call added to the ring
 * @next: with COHORT_QFILL_NEXT, the record the process reads next: one
 *	that starts between head and the tail, or the tail (EINVAL else),
 *	for a process that holds records it has not given back yet
 */
struct cohort_qfill {
	__u32 size;
	__u32 flags;
	__s32 timeout_ms;
	__u32 count;
	__u64 next;
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
	COHORT_CMD_QUEUE_ADD,
	COHORT_CMD_QUEUE_DEL,
	COHORT_CMD_QUEUE_GET,
	COHORT_CMD_QUEUE_NTF,
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

enum cohort_queue_attr_nl {
	COHORT_A_QUEUE_UNSPEC,
	COHORT_A_QUEUE_PAD,
	COHORT_A_QUEUE_NAME,		/* NLA_NUL_STRING */
	COHORT_A_QUEUE_KIND,		/* NLA_U32, enum cohort_queue_kind */
	COHORT_A_QUEUE_HOME,		/* NLA_U32 */
	COHORT_A_QUEUE_MODE,		/* NLA_U32, 0..0777 */
	COHORT_A_QUEUE_UID,		/* NLA_U32 */
	COHORT_A_QUEUE_GID,		/* NLA_U32 */
	COHORT_A_QUEUE_FLAGS,		/* NLA_U32, COHORT_QA_* */
	COHORT_A_QUEUE_MAX_MSGS,	/* NLA_U32 */
	COHORT_A_QUEUE_MAX_BYTES,	/* NLA_U32 */
	COHORT_A_QUEUE_MAX_MSG_SIZE,	/* NLA_U32 */
	COHORT_A_QUEUE_ACK_TIMEOUT,	/* NLA_U32, ms */
	COHORT_A_QUEUE_MAX_DELIVERIES,	/* NLA_U32 */
	COHORT_A_QUEUE_OVERFLOW,	/* NLA_U32, enum cohort_overflow */
	COHORT_A_QUEUE_DLQ,		/* NLA_NUL_STRING */
	COHORT_A_QUEUE_STATS,		/* NLA_NESTED, COHORT_A_QSTATS_* */
	COHORT_A_QUEUE_SUB,		/* NLA_NESTED, COHORT_A_SUB_*; repeated */
	COHORT_A_QUEUE_EVENT,		/* NLA_U32, enum cohort_queue_event */
	COHORT_A_QUEUE_SUB_NAME,	/* NLA_NUL_STRING, QUEUE_DEL and NTF */
	__COHORT_A_QUEUE_MAX
};

#define COHORT_A_QUEUE_MAX (__COHORT_A_QUEUE_MAX - 1)

/* Queue and subscription counters: NLA_U32 for levels, NLA_U64 totals. */
enum cohort_qstats_attr {
	COHORT_A_QSTATS_UNSPEC,
	COHORT_A_QSTATS_PAD,
	COHORT_A_QSTATS_DEPTH,		/* u32: messages waiting */
	COHORT_A_QSTATS_BYTES,		/* u32: bytes held (payload, stamps) */
	COHORT_A_QSTATS_INFLIGHT,	/* u32: delivered, not acked */
	COHORT_A_QSTATS_CONSUMERS,	/* u32: attached consumers */
	COHORT_A_QSTATS_PRODUCERS,	/* u32: attached producers */
	COHORT_A_QSTATS_ENQUEUED,	/* u64 totals from here */
	COHORT_A_QSTATS_DELIVERED,
	COHORT_A_QSTATS_ACKED,
	COHORT_A_QSTATS_REDELIVERED,
	COHORT_A_QSTATS_DROPPED,	/* transient with no consumer, overflow */
	COHORT_A_QSTATS_EXPIRED,	/* past TTL */
	COHORT_A_QSTATS_DEAD_LETTERED,
	COHORT_A_QSTATS_REJECTED,	/* sends refused: full */
	COHORT_A_QSTATS_FILTERED,	/* publishes a subscription's filter
					 * did not keep; a topic's: those no
					 * subscription kept for that reason
					 */
	__COHORT_A_QSTATS_MAX
};

#define COHORT_A_QSTATS_MAX (__COHORT_A_QSTATS_MAX - 1)

enum cohort_sub_attr {
	COHORT_A_SUB_UNSPEC,
	COHORT_A_SUB_NAME,		/* NLA_NUL_STRING, absent: not durable */
	COHORT_A_SUB_STATS,		/* NLA_NESTED, COHORT_A_QSTATS_* */
	COHORT_A_SUB_FILTER_MASK,	/* u32, with FILTER_VALUE: present
					 * when the subscription filters
					 */
	COHORT_A_SUB_FILTER_VALUE,	/* u32 */
	__COHORT_A_SUB_MAX
};

#define COHORT_A_SUB_MAX (__COHORT_A_SUB_MAX - 1)

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
