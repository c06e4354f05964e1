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

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
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
 * -EINVAL otherwise; -ENAMETOOLONG for a name without its NUL within
 * COHORT_NAME_MAX). Needs CAP_NET_ADMIN; the kernel validates values.
 */
int cohort_node_set(struct cohort *c, const struct cohort_node *node);

/*
 * A handle that speaks netlink only (no actor): for administration tools
 * that must work before anything opens /dev/cohort. cohort_close() frees it.
 */
int cohort_open_netlink(struct cohort **out);

/* ---- Transport: node link settings, peers, members, ping, messages ---- */

/* Counters of a link or a node (enum cohort_stats_attr, indexed by attr). */
struct cohort_stats {
	uint64_t v[COHORT_A_STATS_MAX + 1];
};

struct cohort_link_config {
	uint32_t fields;	/* COHORT_LINK_F_*: which are set */
	uint32_t listen_addr;	/* IPv4, network byte order */
	uint16_t port;
	uint32_t hb_interval_ms;
	uint32_t hb_tolerance_ms;
};

enum cohort_link_field {
	COHORT_LINK_F_ADDR	= 1U << 0,
	COHORT_LINK_F_PORT	= 1U << 1,
	COHORT_LINK_F_INTERVAL	= 1U << 2,
	COHORT_LINK_F_TOLERANCE	= 1U << 3,
};

/* Read (all fields) and set (fields named) the node's transport settings. */
int cohort_link_config_get(struct cohort *c, struct cohort_link_config *cfg,
			   struct cohort_stats *node_stats);
int cohort_link_config_set(struct cohort *c,
			   const struct cohort_link_config *cfg);

struct cohort_peer {
	uint32_t id;
	uint32_t addr;		/* IPv4, network byte order */
	uint16_t port;		/* 0 on add: the default port */
	uint8_t state;		/* enum cohort_link_state */
	int64_t last_heard_ms;	/* -1: never */
	struct cohort_stats stats;
};

int cohort_peer_add(struct cohort *c, uint32_t id, uint32_t addr,
		    uint16_t port);
int cohort_peer_del(struct cohort *c, uint32_t id);
int cohort_peer_get(struct cohort *c, uint32_t id, struct cohort_peer *peer);
/* All peers: *peers is malloc'ed (free() it), *n set. */
int cohort_peer_list(struct cohort *c, struct cohort_peer **peers, size_t *n);

struct cohort_member {
	uint32_t id;
	char name[COHORT_NAME_MAX];	/* "" if unknown */
	uint8_t state;			/* enum cohort_member_state */
	uint32_t next_hop;		/* 0: none */
	uint32_t hops;
};

/* Every node known, self included: *members is malloc'ed, *n set. */
int cohort_member_list(struct cohort *c, struct cohort_member **members,
		       size_t *n);

/*
 * Round trip to node @dst through the overlay, in ns; waits at most
 * @timeout_ms (-ETIMEDOUT; -EINTR if a signal cut the wait short). *hops
 * (may be NULL) gets the reply's hop count.
 */
int cohort_ping(struct cohort *c, uint32_t dst, int timeout_ms,
		uint64_t *rtt_ns, uint32_t *hops);

/* Datagrams: bind a port on this node, send to (node, port), receive. */
int cohort_msg_bind(struct cohort *c, uint32_t port);
int cohort_msg_unbind(struct cohort *c, uint32_t port);
int cohort_msg_send(struct cohort *c, uint32_t dst, uint32_t port,
		    uint32_t src_port, const void *buf, size_t len);
/*
 * Up to COHORT_MSG_BATCH_MAX messages to one (node, port) in one system
 * call, in order. Returns 0 with *sent = how many were queued (all, or
 * those before the first that could not be: retry from there), or the
 * error of the first when none was.
 */
#define COHORT_MSG_BATCH_MAX	256
int cohort_msg_send_batch(struct cohort *c, uint32_t dst, uint32_t port,
			  uint32_t src_port, const struct iovec *msgs,
			  size_t n, size_t *sent);

struct cohort_msg {
	uint32_t src;			/* origin node */
	uint32_t src_port;
	uint32_t port;
	uint32_t hops;
	uint64_t lamport;		/* stamp of the last hop */
	struct cohort_vector vclock;
	size_t len;
	uint8_t payload[COHORT_MSG_MAX];
};

/*
 * Fd that is readable when messages for the bound ports are waiting (the
 * socket that bound them), for the caller's own poll loop. Messages that
 * arrived during other calls on @c are queued in the handle: call
 * cohort_msg_recv(c, m, 0) until -EAGAIN before polling.
 */
int cohort_msg_fd(struct cohort *c);
/*
 * Next message; waits at most @timeout_ms (0: don't wait, -1: forever):
 * -EAGAIN (0) or -ETIMEDOUT when none came, -EINTR if a signal cut the
 * wait short; -ENOBUFS once after messages were lost to a full receive
 * buffer (call again for the next one).
 */
int cohort_msg_recv(struct cohort *c, struct cohort_msg *msg, int timeout_ms);
/* Ask the kernel for a larger receive buffer (root: beyond rmem_max). */
int cohort_msg_set_rcvbuf(struct cohort *c, int bytes);

/* ---- Queues and topics ---- */

/*
 * Open queue or topic @name ("q", or "q@7" for q on node 7) as the
 * handle's actor and store the new descriptor in *fd: @kind is enum
 * cohort_queue_kind, @role COHORT_QR_*, @flags COHORT_QO_*, @ack enum
 * cohort_ack_mode (0: none), @sub a durable subscription (topic consumers;
 * NULL or "": one that lives as long as the descriptor). @mode and @attr
 * (NULL: defaults) apply when COHORT_QO_CREATE creates it. *home (may be
 * NULL) gets the queue's node. The descriptor is the caller's: poll it in
 * any loop, close(2) it to detach. -EBADF on a cohort_open_netlink() handle.
 */
int cohort_queue_open(struct cohort *c, const char *name, uint32_t kind,
		      uint32_t role, uint32_t flags,
		      const struct cohort_queue_attr *attr, uint32_t mode,
		      uint32_t ack, const char *sub, int *fd, uint32_t *home);
/*
 * Shorthands for cohort_queue_open(); their descriptors are close-on-exec
 * and what they create has default attributes and mode 0600 unless said.
 * cohort_queue_create(): queue @name, created with @mode and @attr if
 * missing, opened for @role with @ack. cohort_topic_publisher(): topic
 * @name for publishing; cohort_topic_subscribe(): a subscription to it,
 * durable when @sub is a name. @flags: COHORT_QO_* (e.g. CREATE, NONBLOCK).
 */
int cohort_queue_create(struct cohort *c, const char *name, uint32_t mode,
			const struct cohort_queue_attr *attr, uint32_t role,
			uint32_t ack, int *fd);
int cohort_topic_publisher(struct cohort *c, const char *name,
			   uint32_t flags, int *fd);
int cohort_topic_subscribe(struct cohort *c, const char *name,
			   const char *sub, uint32_t ack, uint32_t flags,
			   int *fd);
/*
 * cohort_topic_subscribe() for the messages whose key (see
 * cohort_queue_send_key()) has (key & @mask) == @value only: the others
 * are not kept for it. A durable subscription keeps the filter it was
 * made with (another, or none, is -EEXIST). *home (may be NULL): the
 * topic's node.
 */
int cohort_topic_subscribe_filter(struct cohort *c, const char *name,
				  const char *sub, uint32_t mask,
				  uint32_t value, uint32_t ack, uint32_t flags,
				  int *fd, uint32_t *home);

/*
 * Consumers that @c opens from now on, of queues and topics whose home is
 * another node, hold at most @n messages the home sends ahead of their
 * receives (with explicit acks: until acked or nacked). 0 restores the
 * default, COHORT_QPREFETCH_MAX, which is also the largest (-EINVAL
 * above). With 1 and explicit acks each message goes to a consumer that
 * is ready for it, so that slow consumers share the load evenly; a larger
 * window moves more per round trip. Consumers of this node's own queues
 * take from the store itself. A module from before the prefetch refuses
 * opens with a nonzero one (-E2BIG).
 */
int cohort_queue_set_prefetch(struct cohort *c, uint32_t n);

/*
 * Data path on an opened descriptor (no handle: errors are the -errno of
 * the ioctl, listed in linux/cohort.h). @timeout_ms: how long to wait for
 * room (send) or for the first message (recv): 0 or O_NONBLOCK -EAGAIN at
 * once, COHORT_WAIT_FOREVER, else -ETIMEDOUT when it passes.
 * cohort_queue_send(): one message, priority @prio (0..COHORT_QPRIO_MAX),
 * dropped if not delivered within @ttl_ms (0: never).
 * cohort_queue_send_batch(): @n messages in order; 0 with *sent = how many
 * went (all, or those before the queue stayed full: send the rest again),
 * or the error when none did. @timeout_ms bounds the whole call.
 */
int cohort_queue_send(int fd, const void *buf, size_t len, uint32_t prio,
		      uint32_t ttl_ms, int timeout_ms);
/* cohort_queue_send() with @key, what subscription filters look at. */
int cohort_queue_send_key(int fd, const void *buf, size_t len, uint32_t prio,
			  uint32_t ttl_ms, uint32_t key, int timeout_ms);
int cohort_queue_send_batch(int fd, const struct iovec *msgs, size_t n,
			    uint32_t prio, int timeout_ms, size_t *sent);
/*
 * Receive up to @n (at most COHORT_QBATCH_MAX) messages into @msgs, whose
 * data/cap and optional vc_ptr/vc_cap the caller sets; returns how many.
 */
int cohort_queue_recv(int fd, struct cohort_qmsg_in *msgs, size_t n,
		      int timeout_ms);
/*
 * Settle deliveries of a COHORT_ACK_EXPLICIT consumer: ack (done) or nack
 * (redeliver first). -ESTALE: that attempt is not in flight any more.
 * cohort_queue_ack_batch(): @op enum cohort_ack_op for @n ids in order;
 * *done = how many were applied, before the first error (returned).
 */
int cohort_queue_ack(int fd, uint64_t delivery_id);
int cohort_queue_nack(int fd, uint64_t delivery_id);
int cohort_queue_ack_batch(int fd, uint32_t op, const uint64_t *ids,
			   size_t n, size_t *done);

/*
 * Receive rings (see linux/cohort.h): messages of consumer descriptor @fd
 * arrive in memory shared with the kernel and are read in place.
 * cohort_ring_open(): a ring of @bytes (a power of two, COHORT_QRING_MIN..
 * COHORT_QRING_MAX), mapped; from then on QRECV and read(2) on @fd get
 * -EBUSY. cohort_ring_close() unmaps it; the ring goes, and the records
 * no one took go back to the queue, once @fd is closed too.
 * cohort_ring_open() asks for records with the struct cohort_qrec of the
 * header the program is built with, which cohort_qrec_vc() reads (through
 * cohort_ring_open_size(), @rec_size being that struct's size): -EPROTO
 * if the kernel writes another (the ring is set up on @fd all the same).
 * So it is when the mapping fails (-ENOMEM): a descriptor has one ring
 * for good, and one whose ring could not be mapped receives no more.
 * cohort_ring_open() is inline: bindings that look symbols up by name
 * (dlsym()) call cohort_ring_open_size().
 */
struct cohort_ring;
int cohort_ring_open_size(int fd, uint32_t bytes, uint32_t rec_size,
			  struct cohort_ring **r);
static inline int cohort_ring_open(int fd, uint32_t bytes,
				   struct cohort_ring **r)
{
	return cohort_ring_open_size(fd, bytes, sizeof(struct cohort_qrec), r);
}
void cohort_ring_close(struct cohort_ring *r);
/*
 * The next complete record, in place, or NULL (then cohort_ring_wait()).
 * It stays valid, as do later ones handed out, until
 * cohort_ring_release() of it or of a later one: records are given back
 * in order, and the kernel reuses their room.
 */
const struct cohort_qrec *cohort_ring_next(struct cohort_ring *r);
void cohort_ring_release(struct cohort_ring *r, const struct cohort_qrec *rec);
/*
 * Move waiting messages into the ring and wait up to @timeout_ms (as for
 * cohort_queue_recv()) until cohort_ring_next() has a record: 0, or the
 * -errno of COHORT_IOC_QFILL.
 */
int cohort_ring_wait(struct cohort_ring *r, int timeout_ms);

/* A record's vector stamp (rec->vc_len entries) and payload (data_len). */
static inline const struct cohort_vc_entry *
cohort_qrec_vc(const struct cohort_qrec *rec)
{
	return (const struct cohort_vc_entry *)(rec + 1);
}

static inline const void *cohort_qrec_data(const struct cohort_qrec *rec)
{
	return cohort_qrec_vc(rec) + rec->vc_len;
}

/*
 * Counters of a queue or subscription, indexed by enum cohort_qstats_attr;
 * room for counters to come, so that the structures keep their size.
 */
#define COHORT_QSTATS_ROOM	32
struct cohort_qstats {
	uint64_t v[COHORT_QSTATS_ROOM];
};

struct cohort_queue_sub {
	char name[COHORT_NAME_MAX];	/* "": not durable */
	struct cohort_qstats stats;
	uint32_t filter_mask;		/* keys it keeps; 0 and 0: all */
	uint32_t filter_value;
};

/*
 * A queue or topic as QUEUE_GET reports it. attr.flags has COHORT_QA_SYSTEM
 * for queues made by cohort_queue_add(). @subs (topics) is malloc'ed: free
 * it with cohort_queue_info_release() or cohort_queue_list_free().
 */
struct cohort_queue_info {
	char name[COHORT_NAME_MAX];
	uint32_t kind;			/* enum cohort_queue_kind */
	uint32_t home;			/* node id of the queue manager */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	struct cohort_queue_attr attr;
	struct cohort_qstats stats;
	size_t nsubs;
	struct cohort_queue_sub *subs;
};

/*
 * Management over netlink. cohort_queue_add(): a system queue or topic on
 * this node owned by @uid/@gid (CAP_NET_ADMIN); @attr NULL or 0 fields:
 * defaults. cohort_queue_del(): the queue, or only the durable
 * subscription @sub (NULL or "": the whole queue). cohort_queue_list():
 * all queues and topics of this node, *v malloc'ed.
 */
int cohort_queue_add(struct cohort *c, const char *name, uint32_t kind,
		     uint32_t mode, uint32_t uid, uint32_t gid,
		     const struct cohort_queue_attr *attr);
int cohort_queue_del(struct cohort *c, const char *name, const char *sub);
int cohort_queue_get(struct cohort *c, const char *name,
		     struct cohort_queue_info *info);
int cohort_queue_list(struct cohort *c, struct cohort_queue_info **v,
		      size_t *n);
/* Free info->subs (not @info itself); free a list and its subscriptions. */
void cohort_queue_info_release(struct cohort_queue_info *info);
void cohort_queue_list_free(struct cohort_queue_info *v, size_t n);

/* A COHORT_CMD_QUEUE_NTF event. */
struct cohort_qevent {
	char name[COHORT_NAME_MAX];
	uint32_t kind;			/* enum cohort_queue_kind */
	uint32_t event;			/* enum cohort_queue_event */
	char sub[COHORT_NAME_MAX];	/* SUB_ADD, SUB_DEL: durable name */
};

/*
 * Events: cohort_events_subscribe() joins the "events" multicast group and
 * returns a pollable fd (the same one if called again; it stays owned by
 * the handle); cohort_event_next() reads one event without blocking
 * (-EAGAIN when none is queued). ev->cmd says which member is filled:
 * COHORT_CMD_NODE_NTF: node; COHORT_CMD_LINK_NTF: link (id and state);
 * COHORT_CMD_MEMBER_NTF: member; COHORT_CMD_QUEUE_NTF: queue. Other
 * commands: only cmd is set.
 * -ENOBUFS: events were lost to a receive buffer overrun, re-read the
 * state; -ENOTCONN: not subscribed.
 */
struct cohort_event {
	uint8_t cmd;		/* enum cohort_cmd */
	union {
		struct cohort_node node;
		struct cohort_peer link;
		struct cohort_member member;
		struct cohort_qevent queue;
	};
};

int cohort_events_subscribe(struct cohort *c, int *fd);
int cohort_event_next(struct cohort *c, struct cohort_event *ev);

#ifdef __cplusplus
}
#endif

#endif /* LIBCOHORT_H */
