/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_TRANSPORT_H
#define _COHORT_TRANSPORT_H

#include <linux/list.h>
#include <linux/uio.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "route.h"
#include "wire.h"

struct cohort_node;
struct netlink_ext_ack;

/* A ping on its way: the PONG must match it. */
#define COHORT_PINGS_MAX	64
struct cohort_ping_out {
	u64 cookie;
	u64 sent_ns;
	u32 dst;
	u32 portid;			/* 0: free */
};

/* Frames handed to one kernel_sendmsg(). */
#define COHORT_TX_BATCH	64

/* A kernel socket's own callbacks, put back when we let go of it. */
struct cohort_sk_cb {
	void (*data_ready)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*write_space)(struct sock *sk);
};

/* A frame queued on a link; sequenced ones stay until acknowledged. */
struct cohort_frame {
	struct list_head list;
	u64 seq;
	u32 size;			/* allocated */
	u32 len;
	bool sent;			/* went out on some connection */
	u8 data[] __aligned(8);
};

#define COHORT_HELLO_FRAME						\
	(sizeof(struct cohort_wire_hdr) + sizeof(struct cohort_wire_hello))

/* One TCP connection; before its HELLO arrives, @peer is NULL. */
struct cohort_conn {
	struct list_head list;		/* tp->pending until adopted */
	struct cohort_transport *tp;
	struct cohort_peer *peer;
	struct socket *sock;
	struct cohort_sk_cb cb;
	struct work_struct work;	/* state changes and receive */
	struct work_struct free_work;
	unsigned long started;		/* jiffies */
	bool hello_sent;
	bool hello_rx;
	bool dead;
	u32 rx_off, rx_have;		/* unparsed bytes received */
	u8 *rxbuf;			/* RXBUF_SIZE, from the HELLO on */
	u8 hello[COHORT_HELLO_FRAME];	/* until then */
	u8 ctl[COHORT_HELLO_FRAME];
	u32 ctl_len, ctl_off;		/* HELLO or ACK being sent */
	u32 tx_off;			/* bytes of peer->next_tx already sent */
};

struct cohort_peer {
	struct list_head list;		/* tp->peers */
	struct cohort_transport *tp;
	u32 id;
	__be32 addr;
	u16 port;
	u8 state;			/* enum cohort_link_state */
	bool dead;
	bool heard;			/* ever; then last_heard is valid */
	unsigned long last_heard;	/* jiffies */
	unsigned long next_connect;	/* jiffies */
	u64 link_inc;			/* ours for this link, random */
	u64 peer_inc;			/* the other side's, 0 until known */
	struct cohort_conn *conn;	/* the reliable channel, if any */
	struct work_struct tx_work;
	struct kvec tx_vec[COHORT_TX_BATCH + 1];	/* of tx_work */

	struct list_head txq;		/* sequenced frames, by seq */
	struct cohort_frame *next_tx;	/* first not sent on @conn, or NULL */
	u32 txq_frames, txq_bytes;
	u64 tx_seq;			/* last seq assigned */
	u64 rx_seq;			/* last seq received in order */
	u64 acked_seq;			/* last rx_seq we told the peer */
	bool ack_pending;
	u64 stats[COHORT_A_STATS_MAX + 1];
};

/*
 * Per-node transport. Lock order: node lock, then @lock, then the node's
 * clock_lock. Socket callbacks run in softirq and only queue work; all
 * state below changes in process context under @lock.
 */
struct cohort_transport {
	struct mutex lock;		/* everything below */
	struct net *net;		/* not counted: lives as long as net */
	struct cohort_node *node;
	bool running;
	bool stopping;
	u32 self;			/* node id, fixed while peers exist */
	char name[COHORT_NAME_MAX];
	__be32 listen_addr;
	u16 port;
	u32 hb_interval_ms;
	u32 hb_tolerance_ms;
	u64 incarnation;

	struct socket *udp;
	struct socket *listener;
	struct cohort_sk_cb udp_cb, listener_cb;
	struct work_struct udp_work;
	struct work_struct accept_work;
	struct delayed_work hb_work;
	u32 hb_ticks;

	struct list_head peers;
	u32 n_peers;
	u32 peers_gen;			/* for dump consistency checks */
	struct list_head pending;	/* accepted conns awaiting HELLO */
	u32 n_pending;
	atomic_t n_conns;		/* allocated, not yet freed */

	struct cohort_route route;
	u32 txq_bytes;			/* queued on all peers */
	struct xarray binds;		/* msg port -> netlink portid */
	u32 n_binds;
	struct cohort_vc_entry *vc_in;	/* scratch: COHORT_VC_MAX_ENTRIES */
	u64 stats[COHORT_A_STATS_MAX + 1];
	struct sk_buff *dlv_skb;	/* messages gathered for dlv_portid */
	u32 dlv_portid, dlv_count;
	struct cohort_ping_out pings[COHORT_PINGS_MAX];
	u32 ping_next;
};

int cohort_transport_init(struct cohort_transport *tp, struct net *net,
			  struct cohort_node *node);
void cohort_transport_exit(struct cohort_transport *tp);
int cohort_transport_module_init(void);
void cohort_transport_module_exit(void);

int cohort_peer_add(struct cohort_transport *tp, u32 id, __be32 addr,
		    u16 port, struct netlink_ext_ack *extack);
int cohort_peer_del(struct cohort_transport *tp, u32 id);
struct cohort_peer *cohort_peer_find(struct cohort_transport *tp, u32 id);

bool cohort_link_room(struct cohort_peer *peer, u32 len);
int cohort_link_send(struct cohort_peer *peer, struct cohort_frame *f,
		     bool may_drop);
struct cohort_frame *cohort_frame_alloc(u32 len, gfp_t gfp);
void cohort_frame_free(struct cohort_frame *f);
void cohort_frame_hdr(struct cohort_transport *tp, struct cohort_frame *f,
		      u8 type, u32 receiver);

#endif /* _COHORT_TRANSPORT_H */
