/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_DGRAM_H
#define _COHORT_DGRAM_H

#include <linux/types.h>
#include <linux/cohort.h>

struct cohort_transport;
struct cohort_peer;
struct cohort_frame;

/* A message for a bound port, as the netlink layer delivers it. */
struct cohort_msg_info {
	u32 src, src_port, port, hops;
	u64 lamport;
	const struct cohort_vc_entry *vc;
	u32 vc_len;
	const void *payload;
	u32 len;
};

int cohort_dgram_rx(struct cohort_transport *tp, struct cohort_peer *from,
		    const void *data, u32 len);
int cohort_dgram_send(struct cohort_transport *tp, u32 dst, u32 port,
		      u32 src_port, const void *payload, u32 plen);
int cohort_dgram_send_kind(struct cohort_transport *tp, u32 dst, u8 kind,
			   const void *body, u32 body_len, const void *payload,
			   u32 plen, gfp_t gfp);
int cohort_dgram_ready(struct cohort_transport *tp, u32 dst, u32 body_len);
struct cohort_frame *cohort_dgram_frame_new(struct cohort_transport *tp,
					    u32 dst, u8 kind, u32 body_len,
					    gfp_t gfp, void **body);
void cohort_dgram_frame_drop(struct cohort_transport *tp,
			     struct cohort_frame *f);
int cohort_dgram_frame_send(struct cohort_transport *tp, u32 dst,
			    struct cohort_frame *f);
int cohort_dgram_ping(struct cohort_transport *tp, u32 dst, u64 cookie,
		      u32 nl_portid);
int cohort_dgram_bind(struct cohort_transport *tp, u32 port, u32 portid);
int cohort_dgram_unbind(struct cohort_transport *tp, u32 port, u32 portid);
void cohort_dgram_release(struct cohort_transport *tp, u32 portid);
void cohort_dgram_release_locked(struct cohort_transport *tp, u32 portid);

#endif /* _COHORT_DGRAM_H */
