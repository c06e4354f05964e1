// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl: transport counters of a link or of the node, by the names of
 * enum cohort_stats_attr in lower case.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cohortctl.h"

#define PER_LINE	4

static const char *const names[COHORT_A_STATS_MAX + 1] = {
	[COHORT_A_STATS_TX_FRAMES]	= "tx_frames",
	[COHORT_A_STATS_RX_FRAMES]	= "rx_frames",
	[COHORT_A_STATS_TX_BYTES]	= "tx_bytes",
	[COHORT_A_STATS_RX_BYTES]	= "rx_bytes",
	[COHORT_A_STATS_RESENDS]	= "resends",
	[COHORT_A_STATS_DUPLICATES]	= "duplicates",
	[COHORT_A_STATS_BAD_FRAMES]	= "bad_frames",
	[COHORT_A_STATS_RECONNECTS]	= "reconnects",
	[COHORT_A_STATS_QUEUED]		= "queued",
	[COHORT_A_STATS_QUEUE_FULL]	= "queue_full",
	[COHORT_A_STATS_HEARTBEATS_RX]	= "heartbeats_rx",
	[COHORT_A_STATS_UNKNOWN_PEER]	= "unknown_peer",
	[COHORT_A_STATS_NO_ROUTE]	= "no_route",
	[COHORT_A_STATS_TTL_EXPIRED]	= "ttl_expired",
	[COHORT_A_STATS_FORWARDED]	= "forwarded",
	[COHORT_A_STATS_MSG_DELIVERED]	= "msg_delivered",
	[COHORT_A_STATS_MSG_DROPPED]	= "msg_dropped",
};

/* "    tx_frames 1 rx_frames 2 ..." lines, PER_LINE counters each. */
void stats_print_text(const struct cohort_stats *st, int last)
{
	int i, n = 0;

	for (i = COHORT_A_STATS_PAD + 1; i <= last; i++) {
		if (!names[i])
			continue;
		fputs(n % PER_LINE ? " " : "    ", stdout);
		printf("%s %" PRIu64, names[i], st->v[i]);
		if (++n % PER_LINE == 0)
			putchar('\n');
	}
	if (n % PER_LINE)
		putchar('\n');
}

/* "stats": { "tx_frames": 1, ... } inside the current object. */
void stats_print_json(const struct cohort_stats *st, int last)
{
	int i;

	json_obj_open("stats");
	for (i = COHORT_A_STATS_PAD + 1; i <= last; i++)
		if (names[i])
			json_u64(names[i], st->v[i]);
	json_obj_close();
}
