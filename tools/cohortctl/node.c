// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl node: show and set the identity of this node.
 *
 *   cohortctl node show
 *   cohortctl node set [ id ID ] [ name NAME ]
 */
#include <stdio.h>
#include <string.h>

#include "cohortctl.h"

static int node_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl node show\n"
		"       cohortctl node set [ id ID ] [ name NAME ]\n"
		"where  ID := 1..4294967295\n"
		"       NAME := 1..%d characters of [A-Za-z0-9._-]\n",
		COHORT_NAME_MAX - 1);
	return ret;
}

static int node_arg_error(const char *arg)
{
	return usage_error("unknown argument \"%s\". Try \"cohortctl node help\".",
			   arg);
}

void node_print_json(const struct cohort_node *n, const char *event)
{
	uint32_t i;

	json_obj_open(NULL);
	if (event)
		json_str("event", event);
	json_u64("id", n->id);
	if (n->fields & COHORT_NODE_F_NAME)
		json_str("name", n->name);
	if (n->fields & COHORT_NODE_F_ACTORS)
		json_u64("actors", n->actors);
	if (n->fields & COHORT_NODE_F_LAMPORT)
		json_u64("lamport", n->lamport);
	if (n->fields & COHORT_NODE_F_VCLOCK) {
		json_arr_open("vclock");
		for (i = 0; i < n->vclock.len; i++) {
			json_obj_open(NULL);
			json_u64("id", n->vclock.entry[i].id);
			json_u64("counter", n->vclock.entry[i].counter);
			json_obj_close();
		}
		json_arr_close();
	}
	json_obj_close();
}

/* node 1 name a actors 0 lamport 0 vclock [1:0 2:5] */
static void node_print_text(const struct cohort_node *n)
{
	uint32_t i;

	printf("node %u", n->id);
	if (n->fields & COHORT_NODE_F_NAME)
		printf(" name %s", n->name);
	if (n->fields & COHORT_NODE_F_ACTORS)
		printf(" actors %u", n->actors);
	if (n->fields & COHORT_NODE_F_LAMPORT)
		printf(" lamport %llu", (unsigned long long)n->lamport);
	if (n->fields & COHORT_NODE_F_VCLOCK) {
		fputs(" vclock [", stdout);
		for (i = 0; i < n->vclock.len; i++)
			printf("%s%llu:%llu", i ? " " : "",
			       (unsigned long long)n->vclock.entry[i].id,
			       (unsigned long long)n->vclock.entry[i].counter);
		putchar(']');
	}
	putchar('\n');
}

static int node_show(int argc, char **argv)
{
	struct cohort_node node;
	struct cohort *c;
	int ret;

	if (argc > 0)
		return node_arg_error(argv[0]);
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_node_get(c, &node);
	if (ret < 0) {
		ret = kernel_error(c, ret);
	} else {
		if (json_out)
			node_print_json(&node, NULL);
		else
			node_print_text(&node);
	}
	cohort_close(c);
	return ret;
}

static int parse_set_arg(const char *kw, const char *val,
			 struct cohort_node *node)
{
	if (matches(kw, "id")) {
		if (node->fields & COHORT_NODE_F_ID)
			return usage_error("duplicate argument \"id\".");
		if (parse_u32(val, 1, UINT32_MAX, &node->id))
			return usage_error("invalid id \"%s\" (expected 1..%u).",
					   val, UINT32_MAX);
		node->fields |= COHORT_NODE_F_ID;
	} else if (matches(kw, "name")) {
		if (node->fields & COHORT_NODE_F_NAME)
			return usage_error("duplicate argument \"name\".");
		if (!*val || strlen(val) >= COHORT_NAME_MAX)
			return usage_error("invalid name \"%s\" (1..%d characters).",
					   val, COHORT_NAME_MAX - 1);
		strcpy(node->name, val);
		node->fields |= COHORT_NODE_F_NAME;
	} else {
		return node_arg_error(kw);
	}
	return 0;
}

static int node_set(int argc, char **argv)
{
	struct cohort_node node = { 0 };
	struct cohort *c;
	int ret;

	for (; argc > 0; argc -= 2, argv += 2) {
		if (!matches(argv[0], "id") && !matches(argv[0], "name"))
			return node_arg_error(argv[0]);
		if (argc < 2)
			return usage_error("argument \"%s\" needs a value. Try \"cohortctl node help\".",
					   argv[0]);
		ret = parse_set_arg(argv[0], argv[1], &node);
		if (ret)
			return ret;
	}
	if (!node.fields)
		return usage_error("nothing to set. Try \"cohortctl node help\".");
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_node_set(c, &node);
	if (ret < 0)
		ret = kernel_error(c, ret);
	cohort_close(c);
	return ret;
}

int do_node(int argc, char **argv)
{
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return node_show(argc ? argc - 1 : 0, argv + 1);
	if (matches(argv[0], "set"))
		return node_set(argc - 1, argv + 1);
	if (matches(argv[0], "help"))
		return node_usage(stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl node help\".",
			   argv[0]);
}
