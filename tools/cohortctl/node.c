// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl node: show and set the identity of this node.
 *
 *   cohortctl node show [ -s ]
 *   cohortctl node set [ id ID ] [ name NAME ] [ listen ADDR ] [ port PORT ]
 *                      [ hb-interval MS ] [ tolerance MS ]
 *
 * Id and name, and the transport settings, are two requests: the first
 * applies even when the kernel refuses the second.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cohortctl.h"

static int node_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl node show [ -s[tatistics] ]\n"
		"       cohortctl node set [ id ID ] [ name NAME ] [ listen ADDR ] [ port PORT ]\n"
		"                          [ hb-interval MS ] [ tolerance MS ]\n"
		"where  ID := 1..4294967295\n"
		"       NAME := 1..%d characters of [A-Za-z0-9._-]\n"
		"       ADDR := IPv4 address the node's sockets bind (0.0.0.0: any)\n"
		"       PORT := 1..65535 UDP and TCP port (default %d)\n"
		"       hb-interval: heartbeat period, %d..%d ms (default 250)\n"
		"       tolerance: ms without heartbeat before a link is down,\n"
		"                  at least two intervals (default 1000)\n",
		COHORT_NAME_MAX - 1, COHORT_DEFAULT_PORT, COHORT_HB_INTERVAL_MIN,
		COHORT_HB_INTERVAL_MAX);
	return ret;
}

static int node_arg_error(const char *arg)
{
	return usage_error("unknown argument \"%s\". Try \"cohortctl node help\".",
			   arg);
}

static void node_fields_json(const struct cohort_node *n)
{
	uint32_t i;

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
}

void node_print_json(const struct cohort_node *n, const char *event)
{
	json_obj_open(NULL);
	if (event)
		json_str("event", event);
	node_fields_json(n);
	json_obj_close();
}

static void show_json(const struct cohort_node *n,
		      const struct cohort_link_config *cfg,
		      const struct cohort_stats *st)
{
	char buf[INET_ADDRSTRLEN];

	json_obj_open(NULL);
	node_fields_json(n);
	if (cfg->fields & COHORT_LINK_F_ADDR)
		json_str("listen", fmt_ipv4(cfg->listen_addr, buf));
	if (cfg->fields & COHORT_LINK_F_PORT)
		json_u64("port", cfg->port);
	if (cfg->fields & COHORT_LINK_F_INTERVAL)
		json_u64("hb_interval", cfg->hb_interval_ms);
	if (cfg->fields & COHORT_LINK_F_TOLERANCE)
		json_u64("hb_tolerance", cfg->hb_tolerance_ms);
	if (st)
		stats_print_json(st, STATS_NODE_LAST);
	json_obj_close();
}

/*
 * node 1 name a actors 0 lamport 0 vclock [1:0 2:5] listen 0.0.0.0
 * port 6230 hb-interval 250 tolerance 1000 (one line)
 */
static void show_text(const struct cohort_node *n,
		      const struct cohort_link_config *cfg,
		      const struct cohort_stats *st)
{
	char buf[INET_ADDRSTRLEN];
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
	if (cfg->fields & COHORT_LINK_F_ADDR)
		printf(" listen %s", fmt_ipv4(cfg->listen_addr, buf));
	if (cfg->fields & COHORT_LINK_F_PORT)
		printf(" port %u", cfg->port);
	if (cfg->fields & COHORT_LINK_F_INTERVAL)
		printf(" hb-interval %u", cfg->hb_interval_ms);
	if (cfg->fields & COHORT_LINK_F_TOLERANCE)
		printf(" tolerance %u", cfg->hb_tolerance_ms);
	putchar('\n');
	if (st)
		stats_print_text(st, STATS_NODE_LAST);
}

static int node_show(int argc, char **argv)
{
	struct cohort_link_config cfg;
	struct cohort_stats st;
	struct cohort_node node;
	struct cohort *c;
	bool stats = stats_out;
	int ret;

	for (; argc > 0; argc--, argv++) {
		if (!is_stats_opt(argv[0]))
			return node_arg_error(argv[0]);
		stats = true;
	}
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_node_get(c, &node);
	if (!ret)
		ret = cohort_link_config_get(c, &cfg, stats ? &st : NULL);
	if (ret < 0) {
		ret = kernel_error(c, ret);
	} else if (json_out) {
		show_json(&node, &cfg, stats ? &st : NULL);
	} else {
		show_text(&node, &cfg, stats ? &st : NULL);
	}
	cohort_close(c);
	return ret;
}

/* listen, port, hb-interval, tolerance; 1 if @kw is none of them. */
static int parse_link_arg(const char *kw, const char *val,
			  struct cohort_link_config *cfg)
{
	uint32_t v;

	if (matches(kw, "listen")) {
		if (parse_ipv4(val, &cfg->listen_addr))
			return usage_error("invalid listen address \"%s\" (expected an IPv4 address).",
					   val);
		cfg->fields |= COHORT_LINK_F_ADDR;
	} else if (matches(kw, "port")) {
		if (parse_u32(val, 1, UINT16_MAX, &v))
			return usage_error("invalid port \"%s\" (expected 1..%u).",
					   val, UINT16_MAX);
		cfg->port = v;
		cfg->fields |= COHORT_LINK_F_PORT;
	} else if (matches(kw, "hb-interval")) {
		if (parse_u32(val, COHORT_HB_INTERVAL_MIN, COHORT_HB_INTERVAL_MAX,
			      &cfg->hb_interval_ms))
			return usage_error("invalid hb-interval \"%s\" (expected %d..%d ms).",
					   val, COHORT_HB_INTERVAL_MIN,
					   COHORT_HB_INTERVAL_MAX);
		cfg->fields |= COHORT_LINK_F_INTERVAL;
	} else if (matches(kw, "tolerance")) {
		if (parse_u32(val, 1, UINT32_MAX, &cfg->hb_tolerance_ms))
			return usage_error("invalid tolerance \"%s\" (expected ms, 1..%u).",
					   val, UINT32_MAX);
		cfg->fields |= COHORT_LINK_F_TOLERANCE;
	} else {
		return -1;
	}
	return 0;
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

static bool is_set_keyword(const char *kw)
{
	static const char *const kws[] = {
		"id", "name", "listen", "port", "hb-interval", "tolerance",
	};
	size_t i;

	for (i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (matches(kw, kws[i]))
			return true;
	return false;
}

static int node_set(int argc, char **argv)
{
	struct cohort_link_config cfg = { 0 };
	struct cohort_node node = { 0 };
	struct cohort *c;
	int ret;

	for (; argc > 0; argc -= 2, argv += 2) {
		if (!is_set_keyword(argv[0]))
			return node_arg_error(argv[0]);
		if (argc < 2)
			return usage_error("argument \"%s\" needs a value. Try \"cohortctl node help\".",
					   argv[0]);
		ret = parse_link_arg(argv[0], argv[1], &cfg);
		if (ret < 0)
			ret = parse_set_arg(argv[0], argv[1], &node);
		if (ret)
			return ret;
	}
	if (!node.fields && !cfg.fields)
		return usage_error("nothing to set. Try \"cohortctl node help\".");
	ret = open_netlink(&c);
	if (ret)
		return ret;
	if (node.fields)
		ret = cohort_node_set(c, &node);
	if (!ret && cfg.fields)
		ret = cohort_link_config_set(c, &cfg);
	if (ret < 0)
		ret = kernel_error(c, ret);
	cohort_close(c);
	return ret;
}

int do_node(int argc, char **argv)
{
	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return node_usage(stdout, 0);
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return node_show(argc ? argc - 1 : 0, argv + 1);
	if (matches(argv[0], "set"))
		return node_set(argc - 1, argv + 1);
	if (matches(argv[0], "help"))
		return node_usage(stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl node help\".",
			   argv[0]);
}
