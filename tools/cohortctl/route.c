// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl route: the overlay routes of this node, from the member table.
 *
 *   cohortctl route show
 *
 *   4 via 2 hops 3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

/* Reachable members other than this node. */
static int route_show(int argc, char **argv)
{
	struct cohort_member *v;
	size_t n, i;
	int ret;

	if (argc > 0)
		return usage_error("unknown argument \"%s\". Try \"cohortctl route help\".",
				   argv[0]);
	ret = member_fetch(&v, &n);
	if (ret)
		return ret;
	if (json_out)
		json_arr_open(NULL);
	for (i = 0; i < n; i++) {
		if (v[i].state != COHORT_MEMBER_REACHABLE)
			continue;
		if (json_out) {
			json_obj_open(NULL);
			json_u64("dst", v[i].id);
			json_u64("via", v[i].next_hop);
			json_u64("hops", v[i].hops);
			json_obj_close();
		} else {
			printf("%u via %u hops %u\n", v[i].id, v[i].next_hop,
			       v[i].hops);
		}
	}
	if (json_out)
		json_arr_close();
	free(v);
	return 0;
}

int do_route(int argc, char **argv)
{
	if (argc > 0 && (matches(argv[0], "help") ||
			 (argc > 1 && !strcmp(argv[1], "help")))) {
		printf("Usage: cohortctl route show\n"
		       "       one line per reachable node: DST via NEXT-HOP hops N\n");
		return 0;
	}
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return route_show(argc ? argc - 1 : 0, argv + 1);
	return usage_error("unknown command \"%s\". Try \"cohortctl route help\".",
			   argv[0]);
}
