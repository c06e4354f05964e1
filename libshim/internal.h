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

struct nl_sock;
struct nlmsghdr;

/*
 * One handle. @fd is /dev/cohort or -1 for a netlink-only handle. The
 * request socket @nl and the family id are set up on the first netlink
 * call; the event socket @ev on cohort_events_subscribe(). Events that
 * arrived in one datagram are kept in @ev_buf and handed out one per call.
 */
struct cohort {
	int fd;
	struct nl_sock *nl;
	int family;
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

/* netlink.c */
int cohort_nl_ensure(struct cohort *c);
int cohort_nl_parse_node(struct nlmsghdr *nlh, struct cohort_node *node);
void cohort_nl_close(struct cohort *c);

/* events.c */
void cohort_events_close(struct cohort *c);

#endif /* LIBCOHORT_INTERNAL_H */
