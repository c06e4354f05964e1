// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl link: the state of the link to each peer.
 *
 *   cohortctl link show [ -s ] [ id ID ]
 *
 *   link 2 addr 198.18.0.2 port 6230 state up last-heard 120ms
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

const char *link_state_name(uint8_t state)
{
	switch (state) {
	case COHORT_LINK_DOWN:
		return "down";
	case COHORT_LINK_CONNECTING:
		return "connecting";
	case COHORT_LINK_UP:
		return "up";
	}
	return "unknown";
}

static int link_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl link show [ -s[tatistics] ] [ id ID ]\n"
		"where  ID := a peer's node id; -s adds the link's counters\n");
	return ret;
}

static void link_print(const struct cohort_peer *p, bool stats)
{
	char buf[INET_ADDRSTRLEN];

	fmt_ipv4(p->addr, buf);
	if (json_out) {
		json_obj_open(NULL);
		json_u64("id", p->id);
		json_str("addr", buf);
		json_u64("port", p->port);
		json_str("state", link_state_name(p->state));
		if (p->last_heard_ms < 0)
			json_null("last_heard_ms");
		else
			json_u64("last_heard_ms", p->last_heard_ms);
		if (stats)
			stats_print_json(&p->stats, STATS_LINK_LAST);
		json_obj_close();
		return;
	}
	printf("link %u addr %s port %u state %s", p->id, buf, p->port,
	       link_state_name(p->state));
	if (p->last_heard_ms < 0)
		fputs(" last-heard never\n", stdout);
	else
		printf(" last-heard %" PRId64 "ms\n", p->last_heard_ms);
	if (stats)
		stats_print_text(&p->stats, STATS_LINK_LAST);
}

/* monitor: "link 2 state up" */
void link_event_print(const struct cohort_peer *p)
{
	if (json_out) {
		json_obj_open(NULL);
		json_str("event", "link");
		json_u64("id", p->id);
		json_str("state", link_state_name(p->state));
		json_obj_close();
	} else {
		printf("link %u state %s\n", p->id, link_state_name(p->state));
	}
}

static int link_show(int argc, char **argv)
{
	bool stats = stats_out, has_id = false;
	uint32_t id = 0;

	for (; argc > 0; argc--, argv++) {
		if (is_stats_opt(argv[0])) {
			stats = true;
		} else if (matches(argv[0], "id") && argc > 1) {
			argc--, argv++;
			if (parse_u32(argv[0], 1, UINT32_MAX, &id))
				return usage_error("invalid id \"%s\" (expected 1..%u).",
						   argv[0], UINT32_MAX);
			has_id = true;
		} else {
			return usage_error("unknown argument \"%s\". Try \"cohortctl link help\".",
					   argv[0]);
		}
	}
	return peers_print(has_id, id, link_print, stats);
}

int do_link(int argc, char **argv)
{
	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return link_usage(stdout, 0);
	if (argc < 1 || is_stats_opt(argv[0]))
		return link_show(argc, argv);
	if (matches(argv[0], "show") || matches(argv[0], "list"))
		return link_show(argc - 1, argv + 1);
	if (matches(argv[0], "help"))
		return link_usage(stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl link help\".",
			   argv[0]);
}
