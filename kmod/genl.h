/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_GENL_H
#define _COHORT_GENL_H

#include <linux/types.h>
#include <linux/cohort.h>

#include <net/genetlink.h>

enum cohort_mcgrp {
	COHORT_MCGRP_EVENTS,
};

extern struct genl_family cohort_genl_family;

int cohort_genl_init(void);
void cohort_genl_exit(void);

struct cohort_transport;
struct cohort_peer;
struct cohort_lsa;
struct cohort_msg_info;

void cohort_genl_msg_deliver(struct cohort_transport *tp, u32 portid,
			     const struct cohort_msg_info *m);
void cohort_genl_msg_flush(struct cohort_transport *tp);
void cohort_genl_ping_reply(struct cohort_transport *tp, u32 portid, u32 dst,
			    u64 cookie, u64 rtt_ns, u32 hops);
void cohort_genl_link_notify(struct cohort_transport *tp,
			     struct cohort_peer *peer);
void cohort_genl_member_notify(struct cohort_transport *tp,
			       const struct cohort_lsa *lsa);

struct cohort_node;

/* queue_genl.c */
extern const struct nla_policy cohort_queue_policy[COHORT_A_QUEUE_MAX + 1];
int cohort_queue_add_doit(struct sk_buff *skb, struct genl_info *info);
int cohort_queue_del_doit(struct sk_buff *skb, struct genl_info *info);
int cohort_queue_get_doit(struct sk_buff *skb, struct genl_info *info);
int cohort_queue_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb);
void cohort_genl_queue_notify(struct cohort_node *node, const char *name,
			      u32 kind, u32 event, const char *sub);

#endif /* _COHORT_GENL_H */
