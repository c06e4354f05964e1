/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libcohort private definitions: the handle and helpers shared between the
 * library's files. Nothing here is part of the ABI; every non-static symbol
 * is hidden by -fvisibility=hidden and not listed in libcohort.map.
 */
#ifndef LIBCOHORT_INTERNAL_H
#define LIBCOHORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "libcohort.h"

#define COHORT_API		__attribute__((visibility("default")))

/* Longest error text kept in a handle (kernel extack messages are short). */
#define COHORT_ERRMSG_MAX	256

/* Receive buffer for multicast events: a full node notification is ~8 KiB. */
#define COHORT_EV_BUFSZ		(64 * 1024)

/*
 * The request socket also receives unicasts nobody asked for in that
 * moment (MSG_RECV, PING answers). Each datagram read from it goes into a
 * slot of this ring (the kernel never makes a netlink datagram larger than
 * 32 KiB, see netlink_recvmsg()); datagrams holding such messages stay
 * queued until cohort_msg_recv()/cohort_ping() take them. Slot buffers are
 * allocated on first use and kept. One extra slot is scratch space for
 * when the ring is full: unsolicited messages read into it are dropped.
 */
#define COHORT_RX_SLOTS		256
#define COHORT_RX_SLOTSZ	32768
#define COHORT_RX_BATCH		16
#define COHORT_RX_SCRATCH	COHORT_RX_SLOTS

struct nl_sock;
struct nl_msg;
struct nlmsghdr;
struct nlattr;
struct iovec;

/*
 * One handle. @fd is /dev/cohort or -1 for a netlink-only handle. The
 * request socket @nl and the family id are set up on the first netlink
 * call; the event socket @ev on cohort_events_subscribe(). Events that
 * arrived in one datagram are kept in @ev_buf and handed out one per call.
 */
struct cohort {
	int fd;
	struct nl_sock *nl;
	int nlfd;
	int family;
	uint32_t seq;
	uint64_t cookie;
	/* unsolicited messages lost since the last report (-ENOBUFS) */
	int rx_lost;
	int rcvbuf_set;
	uint32_t prefetch;	/* of the consumers it opens; 0: default */
	char *rx_slot[COHORT_RX_SLOTS + 1];
	uint32_t rx_len[COHORT_RX_SLOTS + 1];
	unsigned int rx_head;
	unsigned int rx_count;
	uint32_t rx_off;
	struct nl_sock *ev;
	char *ev_buf;
	size_t ev_len;
	size_t ev_off;
	char errmsg[COHORT_ERRMSG_MAX];
};

/* core.c */
void cohort_set_errmsg(struct cohort *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cohort_clear_errmsg(struct cohort *c);
int cohort_nle_to_errno(int nle);

/* nlio.c: the request socket, its requests and its queue of unicasts. */
typedef int (*cohort_reply_fn)(struct nlmsghdr *nlh, void *arg);

int cohort_nl_ensure(struct cohort *c);
void cohort_nl_close(struct cohort *c);
struct nl_msg *cohort_nl_new(struct cohort *c, uint8_t cmd);
/* Send @msg (freed here) and wait for its ack or error; replies to @fn. */
int cohort_nl_do(struct cohort *c, struct nl_msg *msg, cohort_reply_fn fn,
		 void *arg);
/* The same as a dump: @fn sees every entry; restarts when interrupted. */
int cohort_nl_dump(struct cohort *c, uint8_t cmd, cohort_reply_fn fn,
		   void (*reset)(void *arg), void *arg);
/* Send a prepared request in @iov (header first) and wait for the ack. */
int cohort_nl_do_iov(struct cohort *c, struct iovec *iov, int niov,
		     cohort_reply_fn fn, void *arg);
/*
 * Take the first queued unicast of @cmd accepted by @match (NULL: any);
 * reads what the socket holds, waiting at most @timeout_ms (-1: forever).
 * Returns 0 with *out set (valid until the next call on @c), -EAGAIN when
 * @timeout_ms is 0 and nothing is there, -ETIMEDOUT, -ENOBUFS when
 * messages were lost since the last call, or another -errno.
 */
int cohort_rx_next(struct cohort *c, uint8_t cmd,
		   int (*match)(struct nlmsghdr *nlh, void *arg), void *arg,
		   int timeout_ms, struct nlmsghdr **out);

/* netlink.c: parsing shared by replies and events. */
int cohort_nl_parse_node(struct nlmsghdr *nlh, struct cohort_node *node);
int cohort_parse_vclock(struct nlattr *nest, struct cohort_vector *v);
int cohort_parse_stats(struct nlattr *nest, struct cohort_stats *st);
int cohort_attr_uint(const struct nlattr *a, uint64_t *v);
int cohort_attr_u32(const struct nlattr *a, uint32_t *v);
int cohort_attr_name(const struct nlattr *a, char *name);

/* peer.c, member.c: used by events. */
int cohort_parse_peer(struct nlmsghdr *nlh, struct cohort_peer *p);
int cohort_parse_member(struct nlmsghdr *nlh, struct cohort_member *m);

/* queue.c: used by events. */
int cohort_parse_qevent(struct nlmsghdr *nlh, struct cohort_qevent *e);

/* events.c */
void cohort_events_close(struct cohort *c);

#endif /* LIBCOHORT_INTERNAL_H */
