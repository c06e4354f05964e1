// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl member: every node this node knows of, itself included.
 *
 *   cohortctl member show
 *
 *   member 4 name d state reachable next-hop 2 hops 3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

const char *member_state_name(uint8_t state)
{
	switch (state) {
	case COHORT_MEMBER_UNREACHABLE:
		return "unreachable";
	case COHORT_MEMBER_REACHABLE:
		return "reachable";
	case COHORT_MEMBER_SELF:
		return "self";
	}
	return "unknown";
}

static int member_usage(FILE *f, int ret)
{
	fprintf(f, "Usage: cohortctl member show\n"
		   "       one line per node known, this one included\n");
	return ret;
}

static void member_json(const struct cohort_member *m, const char *event)
{
	json_obj_open(NULL);
	if (event)
		json_str("event", event);
	json_u64("id", m->id);
	json_str("name", m->name);
	json_str("state", member_state_name(m->state));
	if (m->next_hop)
		json_u64("next_hop", m->next_hop);
	else
		json_null("next_hop");
	json_u64("hops", m->hops);
	json_obj_close();
}

/* Route details only for reachable members. */
static void member_text(const struct cohort_member *m, bool with_name)
{
	printf("member %u", m->id);
	if (with_name && m->name[0])
		printf(" name %s", m->name);
	printf(" state %s", member_state_name(m->state));
	if (m->state == COHORT_MEMBER_REACHABLE) {
		if (m->next_hop)
			printf(" next-hop %u", m->next_hop);
		printf(" hops %u", m->hops);
	}
	putchar('\n');
}

/* monitor: "member 4 state reachable next-hop 2 hops 2" */
void member_event_print(const struct cohort_member *m)
{
	if (json_out)
		member_json(m, "member");
	else
		member_text(m, false);
}

/* Fetch the members; prints the error and returns the exit code. */
int member_fetch(struct cohort_member **v, size_t *n)
{
	struct cohort *c;
	int ret;

	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_member_list(c, v, n);
	if (ret < 0)
		ret = kernel_error(c, ret);
	cohort_close(c);
	return ret;
}

static int member_show(int argc, char **argv)
{
	struct cohort_member *v;
	size_t n, i;
	int ret;

	if (argc > 0)
		return usage_error("unknown argument \"%s\". Try \"cohortctl member help\".",
				   argv[0]);
	ret = member_fetch(&v, &n);
	if (ret)
		return ret;
	if (json_out)
		json_arr_open(NULL);
	for (i = 0; i < n; i++) {
		if (json_out)
			member_json(&v[i], NULL);
		else
			member_text(&v[i], true);
	}
	if (json_out)
		json_arr_close();
	free(v);
	return 0;
}

int do_member(int argc, char **argv)
{
	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return member_usage(stdout, 0);
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return member_show(argc ? argc - 1 : 0, argv + 1);
	if (matches(argv[0], "help"))
		return member_usage(stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl member help\".",
			   argv[0]);
}
