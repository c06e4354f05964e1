// SPDX-License-Identifier: GPL-2.0
/*
 * Links between nodes: a UDP socket per node for heartbeats, and a TCP
 * connection per neighbour for reliable frames (the lower node id
 * connects). TCP does the retransmission; our per-link sequence numbers
 * and cumulative acks only cover what a broken connection loses, as DLM's
 * midcomms do: after a reconnect the HELLO exchange tells each side what
 * arrived, and the rest is sent again, exactly once. Sequence state is
 * tied to random per-link incarnations (see wire.h), so a restarted or
 * reconfigured peer starts afresh instead of being taken for a duplicate.
 *
 * Trust: a peer is recognised by its node id and source address; there is
 * no authentication yet, so the overlay must run on a trusted network.
 *
 * Socket callbacks (softirq) only queue work on cohort_wq. Everything else
 * runs in process context under tp->lock; see transport.h for the lock
 * order. Nothing from the wire is trusted: every length and field is
 * checked before use, and frames from unknown senders are dropped and
 * counted.
 */
#include <linux/inet.h>
#include <linux/random.h>
#include <linux/jiffies.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/timekeeping.h>
#include <net/inet_sock.h>
#include <net/tcp.h>

#include "buf.h"
#include "compat.h"
#include "dgram.h"
#include "genl.h"
#include "node.h"
#include "transport.h"

/*
 * A peer's queue: enough for bursts, bounded so a slow link pushes back;
 * and all of a node's queues together, so many peers cannot add up.
 */
#define TXQ_MAX_FRAMES	8192
#define TXQ_MAX_BYTES	(8 << 20)
#define NODE_MAX_BYTES	(32 << 20)
/*
 * Received bytes are parsed where they landed. Reads fill the buffer up to
 * RX_FILL; a frame begun before it ends inside the buffer, and is read
 * exactly to its end: nothing needs moving but a header cut short.
 */
#define RXBUF_SIZE	(4 * COHORT_WIRE_MAX_FRAME)
#define RX_FILL		(RXBUF_SIZE - COHORT_WIRE_MAX_FRAME)
#define MAX_PENDING	(2 * COHORT_MAX_PEERS)
/* Frames received between acks, at most; the heartbeat sends the rest. */
#define ACK_EVERY		64
/* Heartbeat periods between refreshes of our own LSA. */
#define LSA_REFRESH_TICKS	40
/* Socket reads per work run before the lock is given up for others. */
#define RX_BUDGET	64

static struct workqueue_struct *cohort_wq;

#define HDR_LEN sizeof(struct cohort_wire_hdr)

static void conn_close(struct cohort_conn *conn);
static void conn_work(struct work_struct *work);
static void conn_free_work(struct work_struct *work);
static void link_set_state(struct cohort_peer *peer, u8 state);
static void peer_kick(struct cohort_peer *peer, u32 len);

/* ---- frames ---- */

struct cohort_frame *cohort_frame_alloc(u32 len, gfp_t gfp)
{
	size_t size = struct_size_t(struct cohort_frame, data, len);
	struct cohort_frame *f;

	f = cohort_buf_alloc(size, gfp);
	if (!f)
		return NULL;
	f->size = size;
	f->len = len;
	f->seq = 0;
	f->sent = false;
	INIT_LIST_HEAD(&f->list);
	return f;
}

/* May TCP take the pages of @f rather than copy them (peer_tx())? */
static bool frame_splice(const struct cohort_frame *f)
{
	return COHORT_MSG_SPLICE && cohort_buf_pages(f, f->size);
}

void cohort_frame_free(struct cohort_frame *f)
{
	cohort_buf_free(f, f->size);
}

void cohort_frame_hdr(struct cohort_transport *tp, struct cohort_frame *f,
		      u8 type, u32 receiver)
{
	struct cohort_wire_hdr *h = (struct cohort_wire_hdr *)f->data;

	h->magic = cpu_to_be16(COHORT_WIRE_MAGIC);
	h->version = COHORT_WIRE_VERSION;
	h->type = type;
	h->len = cpu_to_be32(f->len);
	h->sender = cpu_to_be32(tp->self);
	h->receiver = cpu_to_be32(receiver);
	h->seq = 0;
}

static void frame_free_list(struct list_head *q)
{
	struct cohort_frame *f, *tmp;

	list_for_each_entry_safe(f, tmp, q, list) {
		list_del(&f->list);
		cohort_frame_free(f);
	}
}

/* Would a frame of @len fit? Counted as refused if not. */
bool cohort_link_room(struct cohort_peer *peer, u32 len)
{
	if (peer->txq_frames < TXQ_MAX_FRAMES &&
	    peer->txq_bytes + len <= TXQ_MAX_BYTES &&
	    peer->tp->txq_bytes + len <= NODE_MAX_BYTES)
		return true;
	peer->stats[COHORT_A_STATS_QUEUE_FULL]++;
	return false;
}

/*
 * Queue a sequenced frame on @peer (takes ownership). A full queue refuses
 * with -EAGAIN, or, for frames relayed for others (@may_drop), drops.
 */
int cohort_link_send(struct cohort_peer *peer, struct cohort_frame *f,
		     bool may_drop)
{
	struct cohort_wire_hdr *h = (struct cohort_wire_hdr *)f->data;

	lockdep_assert_held(&peer->tp->lock);

	if (!cohort_link_room(peer, f->len)) {
		cohort_frame_free(f);
		return may_drop ? 0 : -EAGAIN;
	}
	f->seq = ++peer->tx_seq;
	h->seq = cpu_to_be64(f->seq);
	h->receiver = cpu_to_be32(peer->id);
	list_add_tail(&f->list, &peer->txq);
	peer->txq_frames++;
	peer->txq_bytes += f->len;
	peer->tp->txq_bytes += f->len;
	if (!peer->next_tx)
		peer->next_tx = f;
	peer_kick(peer, f->len);
	return 0;
}

/* Frames up to @seq arrived: forget them. */
static void link_acked(struct cohort_peer *peer, u64 seq)
{
	struct cohort_frame *f, *tmp;

	list_for_each_entry_safe(f, tmp, &peer->txq, list) {
		if (f->seq > seq)
			break;
		if (peer->next_tx == f) {
			/* Only a fresh HELLO may ack what is being sent. */
			if (peer->conn && peer->conn->tx_off)
				break;
			peer->next_tx = list_is_last(&f->list, &peer->txq) ?
					NULL : list_next_entry(f, list);
		}
		list_del(&f->list);
		peer->txq_frames--;
		peer->txq_bytes -= f->len;
		peer->tp->txq_bytes -= f->len;
		cohort_frame_free(f);
	}
}

/* ---- sending on a connection ---- */

static void ctl_build(struct cohort_conn *conn, u8 type)
{
	struct cohort_transport *tp = conn->tp;
	struct cohort_peer *peer = conn->peer;
	struct cohort_wire_hdr *h = (struct cohort_wire_hdr *)conn->ctl;
	struct cohort_frame *first;

	h->magic = cpu_to_be16(COHORT_WIRE_MAGIC);
	h->version = COHORT_WIRE_VERSION;
	h->type = type;
	h->sender = cpu_to_be32(tp->self);
	h->receiver = cpu_to_be32(peer->id);
	h->seq = 0;
	if (type == COHORT_WIRE_HELLO) {
		struct cohort_wire_hello *hello = (void *)(h + 1);

		first = list_first_entry_or_null(&peer->txq,
						 struct cohort_frame, list);
		hello->my_inc = cpu_to_be64(peer->link_inc);
		hello->your_inc = cpu_to_be64(peer->peer_inc);
		hello->rx_seq = cpu_to_be64(peer->rx_seq);
		hello->tx_base = cpu_to_be64(first ? first->seq :
					     peer->tx_seq + 1);
		conn->ctl_len = HDR_LEN + sizeof(*hello);
		conn->hello_sent = true;
		peer->ack_pending = false;	/* HELLO carries rx_seq */
		peer->acked_seq = peer->rx_seq;
	} else {
		struct cohort_wire_ack *ack = (void *)(h + 1);

		ack->rx_seq = cpu_to_be64(peer->rx_seq);
		conn->ctl_len = HDR_LEN + sizeof(*ack);
		peer->ack_pending = false;
		peer->acked_seq = peer->rx_seq;
	}
	h->len = cpu_to_be32(conn->ctl_len);
	conn->ctl_off = 0;
}

/*
 * Fill @vec from the control frame and the data frames not yet sent, all
 * to be copied or all to be spliced (*@splice).
 */
static int tx_gather(struct cohort_peer *peer, struct kvec *vec, size_t *total,
		     bool *splice)
{
	struct cohort_conn *conn = peer->conn;
	struct cohort_frame *f = peer->next_tx;
	int n = 0;

	*total = 0;
	*splice = false;
	if (!conn->tx_off) {
		if (!conn->ctl_len && !conn->hello_sent)
			ctl_build(conn, COHORT_WIRE_HELLO);
		else if (!conn->ctl_len && peer->ack_pending)
			ctl_build(conn, COHORT_WIRE_ACK);
		if (conn->ctl_len) {
			vec[n].iov_base = conn->ctl + conn->ctl_off;
			vec[n].iov_len = conn->ctl_len - conn->ctl_off;
			*total += vec[n++].iov_len;
		}
	}
	if (!conn->hello_rx)
		return n;
	/*
	 * A control frame only starts between data frames (tx_off == 0):
	 * with an ACK waiting, send just the rest of the current frame.
	 */
	while (f && n < COHORT_TX_BATCH &&
	       !(n && conn->tx_off && peer->ack_pending)) {
		u32 off = f == peer->next_tx ? conn->tx_off : 0;

		if (!n)
			*splice = frame_splice(f);
		else if (frame_splice(f) != *splice)
			break;
		vec[n].iov_base = f->data + off;
		vec[n].iov_len = f->len - off;
		*total += vec[n++].iov_len;
		f = list_is_last(&f->list, &peer->txq) ? NULL :
		    list_next_entry(f, list);
	}
	return n;
}

/* Account @sent bytes: finish the control frame, then data frames. */
static void tx_advance(struct cohort_peer *peer, size_t sent)
{
	struct cohort_conn *conn = peer->conn;

	if (conn->ctl_len) {
		u32 left = conn->ctl_len - conn->ctl_off;

		if (sent < left) {
			conn->ctl_off += sent;
			return;
		}
		sent -= left;
		conn->ctl_len = 0;
		conn->ctl_off = 0;
	}
	while (sent && peer->next_tx) {
		struct cohort_frame *f = peer->next_tx;
		u32 left = f->len - conn->tx_off;

		if (sent < left) {
			conn->tx_off += sent;
			return;
		}
		sent -= left;
		conn->tx_off = 0;
		if (f->sent)
			peer->stats[COHORT_A_STATS_RESENDS]++;
		f->sent = true;
		peer->stats[COHORT_A_STATS_TX_FRAMES]++;
		peer->stats[COHORT_A_STATS_TX_BYTES] += f->len;
		peer->next_tx = list_is_last(&f->list, &peer->txq) ? NULL :
				list_next_entry(f, list);
	}
}

/*
 * Send what the link has, in batches, until done or the socket is full.
 * Where it can (compat.h), TCP takes the pages of frames that have pages
 * of their own (buf.c) rather than copy them: a queued frame is never
 * written again, and its buffer is not reused while TCP holds them.
 */
static void peer_tx(struct cohort_peer *peer)
{
	struct kvec *vec = peer->tx_vec;
	struct msghdr msg = {};
	size_t total;
	bool splice;
	int n, ret;

	lockdep_assert_held(&peer->tp->lock);

	while (!peer->dead && peer->conn && !peer->conn->dead &&
	       peer->conn->sock->sk->sk_state == TCP_ESTABLISHED) {
		n = tx_gather(peer, vec, &total, &splice);
		if (!n)
			break;
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL |
				(splice ? COHORT_MSG_SPLICE : 0);
		ret = kernel_sendmsg(peer->conn->sock, &msg, vec, n, total);
		if (ret == -EAGAIN || !ret)
			break;		/* write_space queues us again */
		if (ret < 0) {
			conn_close(peer->conn);
			break;
		}
		tx_advance(peer, ret);
	}
}

static void peer_tx_work(struct work_struct *work)
{
	struct cohort_peer *peer = container_of(work, struct cohort_peer,
						tx_work);

	mutex_lock(&peer->tp->lock);
	peer_tx(peer);
	mutex_unlock(&peer->tp->lock);
}

/*
 * Send now or from tx_work? An idle link (nothing unacknowledged in TCP)
 * sends at once, saving a context switch on every round trip; a busy one
 * leaves it to the work item, which then sends many frames per call.
 * A frame just queued of @len, a page or more, always goes from the work
 * item: where TCP copies it, the copy costs more than the switch; and the
 * sender, who holds tp->lock, builds the next frame meanwhile rather than
 * sending this one frame by frame. Control frames pass 0.
 */
static void peer_kick(struct cohort_peer *peer, u32 len)
{
	struct cohort_conn *conn = peer->conn;

	if (!conn || !conn->hello_rx)
		return;
	if (!conn->tx_off && len < PAGE_SIZE &&
	    !READ_ONCE(conn->sock->sk->sk_wmem_queued))
		peer_tx(peer);
	else
		queue_work(cohort_wq, &peer->tx_work);
}

/* ---- socket callbacks: softirq, they only queue work ---- */

static void conn_data_ready(struct sock *sk)
{
	struct cohort_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn)
		queue_work(cohort_wq, &conn->work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/* As TCP's own: wake the sender only once a third of the buffer is free. */
static void conn_write_space(struct sock *sk)
{
	struct cohort_conn *conn;

	read_lock_bh(&sk->sk_callback_lock);
	conn = sk->sk_user_data;
	if (conn && conn->peer && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		queue_work(cohort_wq, &conn->peer->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Children of the listener are clones of it, callbacks included, until
 * conn_start() hooks them: only the listener itself may queue accepts.
 */
static void listen_data_ready(struct sock *sk)
{
	struct cohort_transport *tp;

	if (sk->sk_state != TCP_LISTEN)
		return;
	read_lock_bh(&sk->sk_callback_lock);
	tp = sk->sk_user_data;
	if (tp)
		queue_work(cohort_wq, &tp->accept_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void udp_data_ready(struct sock *sk)
{
	struct cohort_transport *tp;

	read_lock_bh(&sk->sk_callback_lock);
	tp = sk->sk_user_data;
	if (tp)
		queue_work(cohort_wq, &tp->udp_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

/*
 * Our callbacks on a kernel socket. The socket's own are kept so that
 * sock_unhook() can put them back: a socket may outlive its release (and
 * the module) for a moment.
 */
static void sock_hook(struct socket *sock, struct cohort_sk_cb *saved,
		      void *data, void (*data_ready)(struct sock *sk),
		      void (*write_space)(struct sock *sk))
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	saved->data_ready = sk->sk_data_ready;
	saved->state_change = sk->sk_state_change;
	saved->write_space = sk->sk_write_space;
	sk->sk_user_data = data;
	sk->sk_data_ready = data_ready;
	sk->sk_state_change = data_ready;
	if (write_space)
		sk->sk_write_space = write_space;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* After this no callback can queue work for the socket's owner. */
static void sock_unhook(struct socket *sock, const struct cohort_sk_cb *saved)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		sk->sk_user_data = NULL;
		sk->sk_data_ready = saved->data_ready;
		sk->sk_state_change = saved->state_change;
		sk->sk_write_space = saved->write_space;
	}
	write_unlock_bh(&sk->sk_callback_lock);
}

/* A child of the listener starts as its clone: give it TCP's callbacks. */
static void sock_reset_child(struct socket *sock,
			     const struct cohort_sk_cb *orig)
{
	struct sock *sk = sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = orig->data_ready;
	sk->sk_state_change = orig->state_change;
	sk->sk_write_space = orig->write_space;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Abortive close: no TIME_WAIT socket outlives the namespace. */
static void sock_close(struct socket *sock, const struct cohort_sk_cb *saved)
{
	sock_unhook(sock, saved);
	sock_no_linger(sock->sk);
	sock_release(sock);
}

/* ---- connections ---- */

static struct cohort_conn *conn_alloc(struct cohort_transport *tp,
				      struct socket *sock)
{
	struct cohort_conn *conn;

	conn = kzalloc(sizeof(*conn), GFP_KERNEL);
	if (!conn)
		return NULL;
	conn->tp = tp;
	conn->sock = sock;
	conn->started = jiffies;
	atomic_inc(&tp->n_conns);
	INIT_LIST_HEAD(&conn->list);
	INIT_WORK(&conn->work, conn_work);
	INIT_WORK(&conn->free_work, conn_free_work);
	return conn;
}

/* Runs once, after conn_close(): no callback can queue conn->work now. */
static void conn_free_work(struct work_struct *work)
{
	struct cohort_conn *conn = container_of(work, struct cohort_conn,
						free_work);

	struct cohort_transport *tp = conn->tp;

	cancel_work_sync(&conn->work);
	sock_close(conn->sock, &conn->cb);
	kvfree(conn->rxbuf);
	kfree(conn);
	if (atomic_dec_and_test(&tp->n_conns))
		wake_up_var(&tp->n_conns);
}

/*
 * Detach @conn from its peer or the pending list; its socket is closed
 * and the memory freed from a work item, since the work that receives on
 * it may be the caller.
 */
static void conn_close(struct cohort_conn *conn)
{
	struct cohort_peer *peer = conn->peer;

	if (conn->dead)
		return;
	conn->dead = true;
	sock_unhook(conn->sock, &conn->cb);
	if (peer && peer->conn == conn) {
		peer->conn = NULL;
		/* Unacked frames go out again on the next connection. */
		peer->next_tx = list_first_entry_or_null(&peer->txq,
							 struct cohort_frame,
							 list);
		if (peer->state == COHORT_LINK_UP)
			link_set_state(peer, COHORT_LINK_CONNECTING);
		peer->next_connect = jiffies +
			msecs_to_jiffies(conn->tp->hb_interval_ms);
	}
	if (!list_empty(&conn->list)) {
		list_del_init(&conn->list);
		conn->tp->n_pending--;
	}
	queue_work(cohort_wq, &conn->free_work);
}

static void link_set_state(struct cohort_peer *peer, u8 state)
{
	struct cohort_transport *tp = peer->tp;
	bool was_up = peer->state == COHORT_LINK_UP;
	bool up = state == COHORT_LINK_UP;

	if (peer->state == state)
		return;
	peer->state = state;
	cohort_genl_link_notify(tp, peer);
	if (was_up != up) {
		cohort_route_originate(tp);
		if (state == COHORT_LINK_UP)
			cohort_route_sync(tp, peer);
	}
}

static void peer_heard_now(struct cohort_peer *peer)
{
	peer->heard = true;
	peer->last_heard = jiffies;
}

static bool peer_heard(struct cohort_peer *peer)
{
	return peer->heard &&
	       time_before(jiffies, peer->last_heard +
			   msecs_to_jiffies(peer->tp->hb_tolerance_ms));
}

static void link_bad_frame(struct cohort_conn *conn)
{
	u64 *stats = conn->peer ? conn->peer->stats : conn->tp->stats;

	stats[COHORT_A_STATS_BAD_FRAMES]++;
	conn_close(conn);
}

static bool conn_from(struct cohort_conn *conn, __be32 addr)
{
	struct sockaddr_in sin;

	return kernel_getpeername(conn->sock, (struct sockaddr *)&sin) >= 0 &&
	       sin.sin_addr.s_addr == addr;
}

/*
 * Check a HELLO against what we know of the link before anything changes:
 * an acked sequence beyond what we sent, in the same incarnations, is a lie.
 */
static bool hello_valid(const struct cohort_peer *peer,
			const struct cohort_wire_hello *hello)
{
	if (!hello->my_inc || !hello->tx_base)
		return false;
	return get_unaligned_be64(&hello->your_inc) != peer->link_inc ||
	       get_unaligned_be64(&hello->rx_seq) <= peer->tx_seq;
}

/* The other side's HELLO: adopt the connection and resume the stream. */
static void rx_hello(struct cohort_conn *conn, const struct cohort_wire_hdr *h)
{
	const struct cohort_wire_hello *hello = (const void *)(h + 1);
	struct cohort_transport *tp = conn->tp;
	u32 sender = get_unaligned_be32(&h->sender);
	struct cohort_peer *peer = conn->peer;
	u64 my_inc = get_unaligned_be64(&hello->my_inc);
	u64 tx_base = get_unaligned_be64(&hello->tx_base);

	if (!peer) {
		/* Accepted: only a lower id connects, from its address. */
		peer = cohort_peer_find(tp, sender);
		if (!peer || sender >= tp->self ||
		    !conn_from(conn, peer->addr)) {
			tp->stats[COHORT_A_STATS_UNKNOWN_PEER]++;
			conn_close(conn);
			return;
		}
	}
	if (conn->hello_rx || !hello_valid(peer, hello)) {
		peer->stats[COHORT_A_STATS_BAD_FRAMES]++;
		conn_close(conn);
		return;
	}
	/* A connection gets its receive buffer once it is a peer's. */
	conn->rxbuf = kvmalloc(RXBUF_SIZE, GFP_KERNEL);
	if (!conn->rxbuf) {
		conn_close(conn);
		return;
	}
	if (!conn->peer) {
		list_del_init(&conn->list);
		tp->n_pending--;
		if (peer->conn)
			conn_close(peer->conn);
		conn->peer = peer;
		peer->conn = conn;
		peer->next_tx = list_first_entry_or_null(&peer->txq,
							 struct cohort_frame,
							 list);
	}
	/*
	 * A new life of the other side holds nothing before tx_base; in the
	 * same life a gap cannot happen, but if it did, waiting would not
	 * fill it.
	 */
	if (my_inc != peer->peer_inc || tx_base > peer->rx_seq + 1) {
		peer->peer_inc = my_inc;
		peer->rx_seq = tx_base - 1;
	}
	/* What it acks counts only if it knows this life of ours. */
	if (get_unaligned_be64(&hello->your_inc) == peer->link_inc)
		link_acked(peer, get_unaligned_be64(&hello->rx_seq));
	conn->hello_rx = true;
	peer_heard_now(peer);
	peer->stats[COHORT_A_STATS_RECONNECTS]++;
	link_set_state(peer, COHORT_LINK_UP);
	peer_kick(peer, 0);
}

static void rx_sequenced(struct cohort_conn *conn,
			 const struct cohort_wire_hdr *h, u32 len)
{
	struct cohort_peer *peer = conn->peer;
	u64 seq = get_unaligned_be64(&h->seq);
	int err;

	if (seq <= peer->rx_seq) {
		peer->stats[COHORT_A_STATS_DUPLICATES]++;
		return;
	}
	if (seq != peer->rx_seq + 1) {
		link_bad_frame(conn);
		return;
	}
	peer->rx_seq = seq;
	peer->ack_pending = true;
	peer->stats[COHORT_A_STATS_RX_FRAMES]++;
	peer->stats[COHORT_A_STATS_RX_BYTES] += len;
	if (h->type == COHORT_WIRE_LSA)
		err = cohort_route_rx_lsa(conn->tp, peer, h + 1, len - HDR_LEN);
	else
		err = cohort_dgram_rx(conn->tp, peer, h + 1, len - HDR_LEN);
	if (err)
		peer->stats[COHORT_A_STATS_BAD_FRAMES]++;
}

/* One whole frame off the stream; its header passed hdr_check(). */
static void rx_frame(struct cohort_conn *conn, const struct cohort_wire_hdr *h,
		     u32 len)
{
	struct cohort_transport *tp = conn->tp;

	if (get_unaligned_be32(&h->receiver) != tp->self ||
	    (conn->peer && get_unaligned_be32(&h->sender) != conn->peer->id)) {
		link_bad_frame(conn);
		return;
	}
	if (h->type == COHORT_WIRE_HELLO) {
		if (len != COHORT_HELLO_FRAME)
			link_bad_frame(conn);
		else
			rx_hello(conn, h);
		return;
	}
	if (!conn->peer || !conn->hello_rx) {
		link_bad_frame(conn);
		return;
	}
	switch (h->type) {
	case COHORT_WIRE_ACK: {
		const struct cohort_wire_ack *ack = (const void *)(h + 1);
		u64 seq = get_unaligned_be64(&ack->rx_seq);

		if (len != HDR_LEN + sizeof(*ack) || seq > conn->peer->tx_seq)
			link_bad_frame(conn);
		else
			link_acked(conn->peer, seq);
		break;
	}
	case COHORT_WIRE_LSA:
	case COHORT_WIRE_ROUTED:
		rx_sequenced(conn, h, len);
		break;
	default:
		link_bad_frame(conn);
	}
}

/* Magic, version and a length we can hold; the body is checked later. */
static bool hdr_check(const struct cohort_wire_hdr *h, u32 len)
{
	return get_unaligned_be16(&h->magic) == COHORT_WIRE_MAGIC &&
	       h->version == COHORT_WIRE_VERSION &&
	       len >= HDR_LEN && len <= COHORT_WIRE_MAX_FRAME;
}

/* Where received bytes are: in conn->hello until the HELLO came. */
static u8 *conn_rx_buf(struct cohort_conn *conn)
{
	return conn->rxbuf ?: conn->hello;
}

/*
 * Where the next read goes, and how much it may take. Bytes all parsed are
 * dropped; at RX_FILL, the frame begun is read exactly to its end, and
 * only a header cut short is moved to the front. Before the HELLO nothing
 * else may come, and nothing more is read.
 */
static void conn_rx_space(struct cohort_conn *conn, struct kvec *vec)
{
	u32 left = conn->rx_have - conn->rx_off;
	const struct cohort_wire_hdr *h;

	if (!conn->rxbuf) {
		vec->iov_base = conn->hello + conn->rx_have;
		vec->iov_len = sizeof(conn->hello) - conn->rx_have;
		return;
	}
	if (!left) {
		conn->rx_off = 0;
		conn->rx_have = 0;
	} else if (conn->rx_have >= RX_FILL && left < HDR_LEN) {
		memmove(conn->rxbuf, conn->rxbuf + conn->rx_off, left);
		conn->rx_off = 0;
		conn->rx_have = left;
	}
	vec->iov_base = conn->rxbuf + conn->rx_have;
	if (conn->rx_have < RX_FILL) {
		vec->iov_len = RX_FILL - conn->rx_have;
		return;
	}
	/* The parse loop checked this header: the frame ends by RXBUF_SIZE. */
	h = (const void *)(conn->rxbuf + conn->rx_off);
	vec->iov_len = conn->rx_off + get_unaligned_be32(&h->len) -
		       conn->rx_have;
}

static void conn_rx(struct cohort_conn *conn)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	int ret, budget = RX_BUDGET;
	struct kvec vec;
	u32 off;

	while (budget--) {
		conn_rx_space(conn, &vec);
		ret = kernel_recvmsg(conn->sock, &msg, &vec, 1, vec.iov_len,
				     MSG_DONTWAIT);
		if (ret == -EAGAIN)
			break;
		if (ret <= 0) {
			conn_close(conn);
			return;
		}
		conn->rx_have += ret;
		off = conn->rx_off;
		while (!conn->dead && conn->rx_have - off >= HDR_LEN) {
			const struct cohort_wire_hdr *h =
				(const void *)(conn_rx_buf(conn) + off);
			u32 len = get_unaligned_be32(&h->len);

			if (!hdr_check(h, len) ||
			    (!conn->rxbuf && len > sizeof(conn->hello))) {
				link_bad_frame(conn);
				return;
			}
			if (conn->rx_have - off < len)
				break;
			rx_frame(conn, h, len);
			off += len;
		}
		if (conn->dead)
			return;
		conn->rx_off = off;
	}
	if (budget < 0)
		queue_work(cohort_wq, &conn->work);	/* more may be waiting */
	if (conn->peer && conn->hello_rx) {
		/* Frames prove liveness as well as heartbeats do. */
		peer_heard_now(conn->peer);
		/*
		 * Acks only free the sender's copies (TCP has delivered):
		 * one per ACK_EVERY frames, the rest with the next heartbeat.
		 */
		if (conn->peer->rx_seq - conn->peer->acked_seq >= ACK_EVERY)
			peer_kick(conn->peer, 0);
	}
}

static void conn_work(struct work_struct *work)
{
	struct cohort_conn *conn = container_of(work, struct cohort_conn,
						work);
	struct cohort_transport *tp = conn->tp;
	int state;

	mutex_lock(&tp->lock);
	if (conn->dead) {
		mutex_unlock(&tp->lock);
		return;
	}
	state = conn->sock->sk->sk_state;
	if (state == TCP_ESTABLISHED) {
		if (conn->peer && !conn->hello_sent)
			peer_tx(conn->peer);	/* our HELLO goes first */
		conn_rx(conn);
	} else if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		conn_rx(conn);		/* drain, then see EOF or the error */
		if (!conn->dead)
			conn_close(conn);
	}
	cohort_genl_msg_flush(tp);	/* what this run delivered */
	mutex_unlock(&tp->lock);
}

static void conn_start(struct cohort_conn *conn)
{
	tcp_sock_set_nodelay(conn->sock->sk);
	sock_hook(conn->sock, &conn->cb, conn, conn_data_ready,
		  conn_write_space);
}

/* We are the lower id: connect, without waiting for it to finish. */
static void link_connect(struct cohort_peer *peer)
{
	struct cohort_transport *tp = peer->tp;
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = peer->addr,
		.sin_port = htons(peer->port),
	};
	struct cohort_conn *conn;
	struct socket *sock;
	int err;

	peer->next_connect = jiffies + msecs_to_jiffies(tp->hb_interval_ms);
	err = sock_create_kern(tp->net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err)
		return;
	if (tp->listen_addr) {
		/* The acceptor checks our source address: use the node's. */
		struct sockaddr_in src = {
			.sin_family = AF_INET,
			.sin_addr.s_addr = tp->listen_addr,
		};

		if (kernel_bind(sock, (struct sockaddr *)&src, sizeof(src))) {
			sock_release(sock);
			return;
		}
	}
	conn = conn_alloc(tp, sock);
	if (!conn) {
		sock_release(sock);
		return;
	}
	conn->peer = peer;
	conn_start(conn);
	peer->conn = conn;
	peer->next_tx = list_first_entry_or_null(&peer->txq,
						 struct cohort_frame, list);
	err = kernel_connect(sock, (struct sockaddr *)&sin, sizeof(sin),
			     O_NONBLOCK);
	if (err && err != -EINPROGRESS)
		conn_close(conn);
}

/* Only a configured peer with a lower id connects to us. */
static bool accept_from_peer(struct cohort_transport *tp, struct socket *sock)
{
	struct cohort_peer *peer;
	struct sockaddr_in sin;

	if (kernel_getpeername(sock, (struct sockaddr *)&sin) < 0)
		return false;
	list_for_each_entry(peer, &tp->peers, list)
		if (peer->addr == sin.sin_addr.s_addr && peer->id < tp->self)
			return true;
	return false;
}

static void accept_work(struct work_struct *work)
{
	struct cohort_transport *tp = container_of(work,
						   struct cohort_transport,
						   accept_work);
	struct cohort_conn *conn;
	struct socket *sock;
	int budget = RX_BUDGET;

	mutex_lock(&tp->lock);
	while (!tp->stopping &&
	       !kernel_accept(tp->listener, &sock, O_NONBLOCK)) {
		sock_reset_child(sock, &tp->listener_cb);
		conn = NULL;
		if (!accept_from_peer(tp, sock) || tp->n_pending >= MAX_PENDING)
			tp->stats[COHORT_A_STATS_UNKNOWN_PEER]++;
		else
			conn = conn_alloc(tp, sock);
		if (!conn) {
			sock_no_linger(sock->sk);
			sock_release(sock);
		} else {
			conn_start(conn);
			list_add_tail(&conn->list, &tp->pending);
			tp->n_pending++;
			queue_work(cohort_wq, &conn->work);
		}
		if (!--budget) {
			queue_work(cohort_wq, &tp->accept_work);
			break;
		}
	}
	mutex_unlock(&tp->lock);
}

/* ---- heartbeats over UDP ---- */

static void hb_send(struct cohort_transport *tp, struct cohort_peer *peer)
{
	struct {
		struct cohort_wire_hdr h;
		struct cohort_wire_heartbeat hb;
	} __packed pkt = {};
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = peer->addr,
		.sin_port = htons(peer->port),
	};
	struct msghdr msg = {
		.msg_name = &sin,
		.msg_namelen = sizeof(sin),
		.msg_flags = MSG_DONTWAIT,
	};
	struct kvec vec = { .iov_base = &pkt, .iov_len = sizeof(pkt) };

	pkt.h.magic = cpu_to_be16(COHORT_WIRE_MAGIC);
	pkt.h.version = COHORT_WIRE_VERSION;
	pkt.h.type = COHORT_WIRE_HEARTBEAT;
	pkt.h.len = cpu_to_be32(sizeof(pkt));
	pkt.h.sender = cpu_to_be32(tp->self);
	pkt.h.receiver = cpu_to_be32(peer->id);
	pkt.hb.incarnation = cpu_to_be64(peer->link_inc);
	kernel_sendmsg(tp->udp, &msg, &vec, 1, sizeof(pkt));
}

static void hb_rx(struct cohort_transport *tp, const void *buf, int len,
		  const struct sockaddr_in *from)
{
	const struct cohort_wire_hdr *h = buf;
	const struct cohort_wire_heartbeat *hb = (const void *)(h + 1);
	struct cohort_peer *peer;

	if (len != sizeof(*h) + sizeof(*hb) || !hdr_check(h, len) ||
	    get_unaligned_be32(&h->len) != len || h->type != COHORT_WIRE_HEARTBEAT ||
	    get_unaligned_be32(&h->receiver) != tp->self) {
		tp->stats[COHORT_A_STATS_BAD_FRAMES]++;
		return;
	}
	peer = cohort_peer_find(tp, get_unaligned_be32(&h->sender));
	if (!peer || peer->addr != from->sin_addr.s_addr ||
	    (peer->conn && peer->conn->hello_rx &&
	     get_unaligned_be64(&hb->incarnation) != peer->peer_inc)) {
		/* Unknown, or not from the life we have a session with. */
		tp->stats[COHORT_A_STATS_UNKNOWN_PEER]++;
		return;
	}
	peer->stats[COHORT_A_STATS_HEARTBEATS_RX]++;
	peer_heard_now(peer);
	if (peer->state == COHORT_LINK_DOWN)
		link_set_state(peer, COHORT_LINK_CONNECTING);
	if (peer->conn && peer->conn->hello_rx)
		link_set_state(peer, COHORT_LINK_UP);
	else if (!peer->conn && tp->self < peer->id &&
		 time_after_eq(jiffies, peer->next_connect))
		link_connect(peer);
}

static void udp_work(struct work_struct *work)
{
	struct cohort_transport *tp = container_of(work,
						   struct cohort_transport,
						   udp_work);
	u8 buf[128];
	struct sockaddr_in from;
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
	};
	struct kvec vec = { .iov_base = buf, .iov_len = sizeof(buf) };
	int len, budget = RX_BUDGET;

	mutex_lock(&tp->lock);
	while (!tp->stopping) {
		msg.msg_namelen = sizeof(from);
		len = kernel_recvmsg(tp->udp, &msg, &vec, 1, sizeof(buf),
				     MSG_DONTWAIT | MSG_TRUNC);
		if (len < 0)
			break;
		hb_rx(tp, buf, len, &from);
		if (!--budget) {
			/* Let others have the lock; come back for the rest. */
			queue_work(cohort_wq, &tp->udp_work);
			break;
		}
	}
	mutex_unlock(&tp->lock);
}

/* Every interval: heartbeats out, silent links down, stale conns closed. */
static void hb_work(struct work_struct *work)
{
	struct cohort_transport *tp = container_of(to_delayed_work(work),
						   struct cohort_transport,
						   hb_work);
	unsigned long tol = msecs_to_jiffies(tp->hb_tolerance_ms);
	struct cohort_conn *conn, *tmp;
	struct cohort_peer *peer;

	mutex_lock(&tp->lock);
	if (tp->stopping) {
		mutex_unlock(&tp->lock);
		return;
	}
	list_for_each_entry(peer, &tp->peers, list) {
		hb_send(tp, peer);
		if (peer->ack_pending)
			peer_kick(peer, 0);
		if (!peer_heard(peer)) {
			if (peer->conn)
				conn_close(peer->conn);
			link_set_state(peer, COHORT_LINK_DOWN);
		} else if (peer->conn && !peer->conn->hello_rx &&
			   time_after(jiffies, peer->conn->started + tol)) {
			conn_close(peer->conn);	/* connect that never finished */
		} else if (!peer->conn && tp->self < peer->id &&
			   time_after_eq(jiffies, peer->next_connect)) {
			link_connect(peer);
		}
	}
	list_for_each_entry_safe(conn, tmp, &tp->pending, list) {
		if (time_after(jiffies, conn->started + tol))
			conn_close(conn);
	}
	/* Refresh our LSA now and then: one lost to a full queue heals. */
	if (++tp->hb_ticks % LSA_REFRESH_TICKS == 0)
		cohort_route_originate(tp);
	queue_delayed_work(cohort_wq, &tp->hb_work,
			   msecs_to_jiffies(tp->hb_interval_ms));
	mutex_unlock(&tp->lock);
}

/* ---- start, stop, peers ---- */

static int sock_bind_port(struct cohort_transport *tp, int type, int proto,
			  struct socket **out)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = tp->listen_addr,
		.sin_port = htons(tp->port),
	};
	struct socket *sock;
	int err;

	err = sock_create_kern(tp->net, AF_INET, type, proto, &sock);
	if (err)
		return err;
	/* TCP only: a reused UDP port would let others take our heartbeats. */
	if (type == SOCK_STREAM)
		sock_set_reuseaddr(sock->sk);
	err = kernel_bind(sock, (struct sockaddr *)&sin, sizeof(sin));
	if (!err && type == SOCK_STREAM)
		err = kernel_listen(sock, 2 * COHORT_MAX_PEERS);
	if (err) {
		sock_release(sock);
		return err;
	}
	*out = sock;
	return 0;
}

static int transport_start(struct cohort_transport *tp)
{
	int err;

	err = sock_bind_port(tp, SOCK_DGRAM, IPPROTO_UDP, &tp->udp);
	if (err)
		return err;
	err = sock_bind_port(tp, SOCK_STREAM, IPPROTO_TCP, &tp->listener);
	if (err) {
		sock_release(tp->udp);
		tp->udp = NULL;
		return err;
	}
	sock_hook(tp->udp, &tp->udp_cb, tp, udp_data_ready, NULL);
	sock_hook(tp->listener, &tp->listener_cb, tp, listen_data_ready, NULL);
	tp->running = true;
	cohort_route_originate(tp);
	queue_delayed_work(cohort_wq, &tp->hb_work, 0);
	return 0;
}

struct cohort_peer *cohort_peer_find(struct cohort_transport *tp, u32 id)
{
	struct cohort_peer *peer;

	list_for_each_entry(peer, &tp->peers, list)
		if (peer->id == id)
			return peer;
	return NULL;
}

int cohort_peer_add(struct cohort_transport *tp, u32 id, __be32 addr,
		    u16 port, struct netlink_ext_ack *extack)
{
	struct cohort_peer *peer;
	int err;

	lockdep_assert_held(&tp->lock);

	if (cohort_peer_find(tp, id)) {
		NL_SET_ERR_MSG_MOD(extack, "peer id is configured already");
		return -EEXIST;
	}
	if (tp->n_peers >= COHORT_MAX_PEERS) {
		NL_SET_ERR_MSG_MOD(extack, "too many peers");
		return -ENOSPC;
	}
	if (ipv4_is_zeronet(addr) || ipv4_is_multicast(addr) ||
	    ipv4_is_lbcast(addr)) {
		NL_SET_ERR_MSG_MOD(extack, "peer address must be a unicast address");
		return -EINVAL;
	}
	peer = kzalloc(sizeof(*peer), GFP_KERNEL_ACCOUNT);
	if (!peer)
		return -ENOMEM;
	if (!tp->running) {
		err = transport_start(tp);
		if (err) {
			kfree(peer);
			NL_SET_ERR_MSG_MOD(extack,
					   "cannot bind the node's listen address and port");
			return err;
		}
	}
	peer->tp = tp;
	peer->id = id;
	peer->addr = addr;
	peer->port = port;
	peer->state = COHORT_LINK_DOWN;
	peer->next_connect = jiffies;
	do {
		peer->link_inc = get_random_u64();
	} while (!peer->link_inc);
	INIT_LIST_HEAD(&peer->txq);
	INIT_WORK(&peer->tx_work, peer_tx_work);
	list_add_tail(&peer->list, &tp->peers);
	tp->n_peers++;
	tp->peers_gen++;
	hb_send(tp, peer);
	return 0;
}

/* Unlink under the lock; the caller frees with peer_free() after it. */
static void peer_unlink(struct cohort_peer *peer)
{
	struct cohort_transport *tp = peer->tp;

	if (peer->conn)
		conn_close(peer->conn);
	peer->dead = true;
	list_del(&peer->list);
	tp->n_peers--;
	tp->peers_gen++;
	tp->stats[COHORT_A_STATS_QUEUE_FULL] += peer->txq_frames;
	tp->txq_bytes -= peer->txq_bytes;
	link_set_state(peer, COHORT_LINK_DOWN);
}

static void peer_free(struct cohort_peer *peer)
{
	cancel_work_sync(&peer->tx_work);
	frame_free_list(&peer->txq);
	kfree(peer);
}

int cohort_transport_init(struct cohort_transport *tp, struct net *net,
			  struct cohort_node *node)
{
	mutex_init(&tp->lock);
	tp->net = net;
	tp->node = node;
	tp->port = COHORT_DEFAULT_PORT;
	tp->hb_interval_ms = 250;
	tp->hb_tolerance_ms = 1000;
	INIT_LIST_HEAD(&tp->peers);
	INIT_LIST_HEAD(&tp->pending);
	INIT_WORK(&tp->udp_work, udp_work);
	INIT_WORK(&tp->accept_work, accept_work);
	INIT_DELAYED_WORK(&tp->hb_work, hb_work);
	xa_init(&tp->binds);
	cohort_route_init(&tp->route);
	/*
	 * One per life of the node, not per start of the transport: a new
	 * one tells the cluster that descriptors across the node are over
	 * (cohort_qremote_reborn()), which a transport restart does not end.
	 */
	tp->incarnation = ktime_get_real_ns();
	tp->vc_in = kmalloc_array(COHORT_VC_MAX_ENTRIES, sizeof(*tp->vc_in),
				  GFP_KERNEL);
	return tp->vc_in ? 0 : -ENOMEM;
}

/*
 * Stop the timer and every work item, close every socket: on namespace
 * exit and when the last peer goes. The node's sockets close first, so
 * nothing can queue their work again; connections free themselves from
 * cohort_wq and are waited for by count. Called without tp->lock.
 */
static void transport_stop(struct cohort_transport *tp)
{
	struct cohort_peer *peer, *ptmp;
	struct cohort_conn *conn, *ctmp;
	LIST_HEAD(dead);

	mutex_lock(&tp->lock);
	if (!tp->running) {
		mutex_unlock(&tp->lock);
		return;
	}
	tp->stopping = true;
	cohort_genl_msg_flush(tp);
	sock_unhook(tp->udp, &tp->udp_cb);
	sock_release(tp->udp);
	sock_close(tp->listener, &tp->listener_cb);
	tp->udp = NULL;
	tp->listener = NULL;
	list_for_each_entry_safe(conn, ctmp, &tp->pending, list)
		conn_close(conn);
	list_for_each_entry_safe(peer, ptmp, &tp->peers, list) {
		peer_unlink(peer);
		list_add(&peer->list, &dead);
	}
	mutex_unlock(&tp->lock);

	cancel_delayed_work_sync(&tp->hb_work);
	cancel_work_sync(&tp->udp_work);
	cancel_work_sync(&tp->accept_work);
	list_for_each_entry_safe(peer, ptmp, &dead, list)
		peer_free(peer);
	wait_var_event(&tp->n_conns, !atomic_read(&tp->n_conns));

	mutex_lock(&tp->lock);
	/* What we knew of the cluster came over links that are gone. */
	cohort_route_exit(&tp->route);
	cohort_route_init(&tp->route);
	tp->running = false;
	tp->stopping = false;
	mutex_unlock(&tp->lock);
}

int cohort_peer_del(struct cohort_transport *tp, u32 id)
{
	struct cohort_peer *peer;
	bool last;

	mutex_lock(&tp->lock);
	peer = cohort_peer_find(tp, id);
	if (peer)
		peer_unlink(peer);
	last = !tp->n_peers;
	mutex_unlock(&tp->lock);
	if (!peer)
		return -ENOENT;
	peer_free(peer);
	if (last)
		transport_stop(tp);
	return 0;
}

void cohort_transport_exit(struct cohort_transport *tp)
{
	transport_stop(tp);
	cohort_route_exit(&tp->route);
	xa_destroy(&tp->binds);
	kfree(tp->vc_in);
	mutex_destroy(&tp->lock);
}

int cohort_transport_module_init(void)
{
	cohort_wq = alloc_workqueue("cohort", WQ_UNBOUND, 0);
	return cohort_wq ? 0 : -ENOMEM;
}

void cohort_transport_module_exit(void)
{
	destroy_workqueue(cohort_wq);
}
